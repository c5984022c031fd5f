//! The command line, spelled as nats-server spells it: Go-style flags (`-port`
//! and `--port` alike, `-DV`, `-js`, `-T=false`) normalised for clap, and how the
//! flags override the config file.
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use gannet_config::conf::parse_go_duration;
use gannet_config::options::{idle_spin_from_nanos, TlsOptions};
use gannet_config::Options;

/// Gannet: a NATS-compatible message server.
#[derive(Debug, Parser)]
#[command(
    name = "gannet-server",
    disable_version_flag = true,
    allow_negative_numbers = true
)]
pub struct Flags {
    /// Bind to host address (default: 0.0.0.0)
    #[arg(short = 'a', long = "addr", visible_aliases = ["net"], value_name = "HOST")]
    pub addr: Option<String>,
    /// Use port for clients (default: 4222; -1 for a random port)
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Option<i32>,
    /// Server name (default: the server id)
    #[arg(short = 'n', long = "name", visible_aliases = ["server_name"], value_name = "NAME")]
    pub name: Option<String>,
    /// File to store the process id
    #[arg(short = 'P', long = "pid", value_name = "FILE")]
    pub pid: Option<PathBuf>,
    /// Use port for HTTP monitoring
    #[arg(short = 'm', long = "http_port", value_name = "PORT")]
    pub http_port: Option<i32>,
    /// Use port for HTTPS monitoring
    #[arg(long = "https_port", value_name = "PORT")]
    pub https_port: Option<i32>,
    /// Configuration file
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Test the configuration and exit
    #[arg(short = 't')]
    pub test_config: bool,
    /// Send a signal to a running server: ldm, stop, quit, term, reopen, reload;
    /// `SIGNAL=<pid or pid file>` picks the server
    #[arg(long = "signal", value_name = "SIGNAL")]
    pub signal: Option<String>,
    /// Client URL to advertise to other servers
    #[arg(long = "client_advertise", value_name = "HOST:PORT")]
    pub client_advertise: Option<String>,
    /// Write the ports file into this folder
    #[arg(long = "ports_file_dir", value_name = "DIR")]
    pub ports_file_dir: Option<PathBuf>,
    /// File to redirect log output to
    #[arg(short = 'l', long = "log", value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Timestamp log entries (default: true; -T=false turns them off)
    #[arg(short = 'T', long = "logtime", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    pub logtime: Option<String>,
    /// Timestamps in UTC instead of local time
    #[arg(long = "logtime_utc")]
    pub logtime_utc: bool,
    /// Log to syslog (not supported yet)
    #[arg(short = 's', long = "syslog")]
    pub syslog: bool,
    /// Syslog server address (not supported yet)
    #[arg(short = 'r', long = "remote_syslog", value_name = "ADDR")]
    pub remote_syslog: Option<String>,
    /// Enable debugging output
    #[arg(short = 'D', long = "debug")]
    pub debug: bool,
    /// Trace the raw protocol
    #[arg(short = 'V', long = "trace")]
    pub trace: bool,
    /// Trace the raw protocol, system account included
    #[arg(long = "trace_verbose", hide = true)]
    pub trace_verbose: bool,
    /// Log file size limit (not supported yet)
    #[arg(long = "log_size_limit", value_name = "SIZE")]
    pub log_size_limit: Option<String>,
    /// Longest traced message (not supported yet)
    #[arg(long = "max_traced_msg_len", value_name = "LEN")]
    pub max_traced_msg_len: Option<String>,
    /// Enable JetStream (not supported yet)
    #[arg(long = "jetstream")]
    pub jetstream: bool,
    /// JetStream storage folder (not supported yet)
    #[arg(long = "store_dir", value_name = "DIR")]
    pub store_dir: Option<PathBuf>,
    /// User required for connections
    #[arg(long = "user", value_name = "USER")]
    pub user: Option<String>,
    /// Password required for connections
    #[arg(long = "pass", value_name = "PASSWORD")]
    pub pass: Option<String>,
    /// Authorization token required for connections
    #[arg(long = "auth", value_name = "TOKEN")]
    pub auth: Option<String>,
    /// Enable TLS
    #[arg(long = "tls")]
    pub tls: bool,
    /// Server certificate file
    #[arg(long = "tlscert", value_name = "FILE")]
    pub tlscert: Option<PathBuf>,
    /// Private key for the server certificate
    #[arg(long = "tlskey", value_name = "FILE")]
    pub tlskey: Option<PathBuf>,
    /// Verify client certificates
    #[arg(long = "tlsverify")]
    pub tlsverify: bool,
    /// Client certificate CA
    #[arg(long = "tlscacert", value_name = "FILE")]
    pub tlscacert: Option<PathBuf>,
    /// Route solicitations (not supported yet)
    #[arg(long = "routes", value_name = "URLS")]
    pub routes: Option<String>,
    /// Cluster URL for solicited routes (not supported yet)
    #[arg(long = "cluster", visible_aliases = ["cluster_listen"], value_name = "URL")]
    pub cluster: Option<String>,
    /// Cluster name (not supported yet)
    #[arg(long = "cluster_name", value_name = "NAME")]
    pub cluster_name: Option<String>,
    /// Do not advertise known cluster information (not supported yet)
    #[arg(long = "no_advertise")]
    pub no_advertise: bool,
    /// Cluster URL to advertise (not supported yet)
    #[arg(long = "cluster_advertise", value_name = "URL")]
    pub cluster_advertise: Option<String>,
    /// Route connect retries (not supported yet)
    #[arg(long = "connect_retries", value_name = "N")]
    pub connect_retries: Option<String>,
    /// Profiling HTTP port (not supported)
    #[arg(long = "profile", value_name = "PORT")]
    pub profile: Option<String>,
    /// Longest busy-wait of an idle worker before it sleeps, such as 100us;
    /// 0 turns it off (Gannet only)
    #[arg(long = "idle_spin", value_name = "DURATION", value_parser = parse_idle_spin)]
    pub idle_spin: Option<Duration>,
    /// Show the TLS help (not supported yet)
    #[arg(long = "help_tls")]
    pub help_tls: bool,
    /// Show the version and exit
    #[arg(short = 'v', long = "version")]
    pub version: bool,
}

/// Long names nats-server also accepts with one dash (`-port 4222`).
const LONG_NAMES: &[&str] = &[
    "addr",
    "net",
    "port",
    "name",
    "server_name",
    "pid",
    "http_port",
    "https_port",
    "config",
    "signal",
    "client_advertise",
    "ports_file_dir",
    "log",
    "logtime",
    "logtime_utc",
    "syslog",
    "remote_syslog",
    "debug",
    "trace",
    "log_size_limit",
    "max_traced_msg_len",
    "jetstream",
    "store_dir",
    "user",
    "pass",
    "auth",
    "tls",
    "tlscert",
    "tlskey",
    "tlsverify",
    "tlscacert",
    "routes",
    "cluster",
    "cluster_listen",
    "cluster_name",
    "no_advertise",
    "cluster_advertise",
    "connect_retries",
    "profile",
    "help_tls",
    "idle_spin",
    "version",
    "help",
];

/// `--idle_spin`: a Go duration, in the range the config file accepts.
fn parse_idle_spin(text: &str) -> Result<Duration, String> {
    idle_spin_from_nanos(parse_go_duration(text).map_err(|e| e.to_string())?)
}

/// Rewrites nats-server's spellings into the ones clap understands.
pub fn normalize_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    for arg in args {
        let (flag, value) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let with_value = |name: &str| match &value {
            Some(v) => format!("{name}={v}"),
            None => name.to_string(),
        };
        match flag.as_str() {
            "-DV" => out.extend(["-D".to_string(), "-V".to_string()]),
            "-DVV" => out.extend(["-D".into(), "-V".into(), "--trace_verbose".into()]),
            "-VV" => out.extend(["-V".into(), "--trace_verbose".into()]),
            "-js" => out.push(with_value("--jetstream")),
            "-sd" => out.push(with_value("--store_dir")),
            "-ms" => out.push(with_value("--https_port")),
            "-sl" => out.push(with_value("--signal")),
            "-T" | "--logtime" | "-logtime" => out.push(with_value("--logtime")),
            f if f.starts_with('-') && !f.starts_with("--") && LONG_NAMES.contains(&&f[1..]) => {
                out.push(with_value(&format!("-{f}")))
            }
            _ => out.push(arg),
        }
    }
    // Go's boolean flags take `=true`/`=false`; clap's switches take no value.
    out.into_iter().filter_map(|a| bool_switch(&a)).collect()
}

/// Switches written `--flag=true` become `--flag`; `--flag=false` disappear.
fn bool_switch(arg: &str) -> Option<String> {
    const SWITCHES: &[&str] = &[
        "--debug",
        "--trace",
        "--logtime_utc",
        "--syslog",
        "--jetstream",
        "--tls",
        "--tlsverify",
        "--no_advertise",
        "-D",
        "-V",
        "-s",
    ];
    if let Some((flag, value)) = arg.split_once('=') {
        if SWITCHES.contains(&flag) {
            return match value.to_ascii_lowercase().as_str() {
                "false" | "0" | "f" => None,
                _ => Some(flag.to_string()),
            };
        }
    }
    Some(arg.to_string())
}

impl Flags {
    /// Puts every flag given over the options from the config file; returns a
    /// warning for each flag whose feature Gannet does not have yet.
    pub fn apply(&self, opts: &mut Options) -> Vec<String> {
        if let Some(a) = &self.addr {
            opts.host.clone_from(a);
        }
        if let Some(p) = self.port {
            opts.port = p;
        }
        if let Some(n) = &self.name {
            opts.server_name = Some(n.clone());
        }
        if let Some(p) = &self.pid {
            opts.pid_file = Some(p.clone());
        }
        if let Some(p) = self.http_port {
            opts.http_port = Some(p);
        }
        if let Some(p) = self.https_port {
            opts.https_port = Some(p);
        }
        if let Some(a) = &self.client_advertise {
            opts.client_advertise = Some(a.clone());
        }
        if let Some(d) = &self.ports_file_dir {
            opts.ports_file_dir = Some(d.clone());
        }
        if let Some(l) = &self.log {
            opts.log_file = Some(l.clone());
        }
        if let Some(t) = &self.logtime {
            opts.logtime = !matches!(t.to_ascii_lowercase().as_str(), "false" | "0" | "f");
        }
        if self.logtime_utc {
            opts.logtime_utc = true;
        }
        if self.debug {
            opts.debug = true;
        }
        if self.trace || self.trace_verbose {
            opts.trace = true;
        }
        if let Some(spin) = self.idle_spin {
            opts.idle_spin = spin;
        }
        let mut warnings = self.apply_security(opts);
        let mut unsupported = |given: bool, flag: &str| {
            if given {
                warnings.push(format!("the {flag} flag is not supported yet; ignored"));
            }
        };
        unsupported(self.syslog, "--syslog");
        unsupported(self.remote_syslog.is_some(), "--remote_syslog");
        unsupported(self.log_size_limit.is_some(), "--log_size_limit");
        unsupported(self.max_traced_msg_len.is_some(), "--max_traced_msg_len");
        unsupported(self.jetstream, "--jetstream");
        unsupported(self.store_dir.is_some(), "--store_dir");
        unsupported(self.routes.is_some(), "--routes");
        unsupported(self.cluster.is_some(), "--cluster");
        unsupported(self.cluster_name.is_some(), "--cluster_name");
        unsupported(self.no_advertise, "--no_advertise");
        unsupported(self.cluster_advertise.is_some(), "--cluster_advertise");
        unsupported(self.connect_retries.is_some(), "--connect_retries");
        unsupported(self.profile.is_some(), "--profile");
        warnings
    }
}

impl Flags {
    /// `--user/--pass/--auth` and `--tls*` over the file's `authorization` and `tls`.
    fn apply_security(&self, opts: &mut Options) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.user.is_some() || self.pass.is_some() || self.auth.is_some() {
            let auth = opts.authorization.get_or_insert_with(Default::default);
            if let Some(u) = &self.user {
                auth.user = Some(u.clone());
            }
            if let Some(p) = &self.pass {
                auth.password = Some(p.clone());
            }
            if let Some(t) = &self.auth {
                auth.token = Some(t.clone());
            }
        }
        let tls_flags = self.tls
            || self.tlscert.is_some()
            || self.tlskey.is_some()
            || self.tlsverify
            || self.tlscacert.is_some();
        if !tls_flags {
            return warnings;
        }
        let existing = opts.tls.clone();
        match (&self.tlscert, &self.tlskey, existing) {
            (Some(cert), Some(key), existing) => {
                let mut tls =
                    existing.unwrap_or_else(|| TlsOptions::new(cert.clone(), key.clone()));
                tls.cert_file.clone_from(cert);
                tls.key_file.clone_from(key);
                opts.tls = Some(tls);
            }
            (_, _, Some(_)) => {}
            _ => {
                warnings
                    .push("TLS flags need both --tlscert and --tlskey; TLS stays off".to_string());
                return warnings;
            }
        }
        if let Some(tls) = opts.tls.as_mut() {
            if self.tlsverify {
                tls.verify = true;
            }
            if let Some(ca) = &self.tlscacert {
                tls.ca_file = Some(ca.clone());
            }
        }
        let explicit_timeout = opts.authorization.as_ref().and_then(|a| a.timeout);
        if explicit_timeout.is_none() {
            opts.auth_timeout = gannet_config::options::default_auth_timeout(opts.tls.as_ref());
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Flags {
        let argv = std::iter::once("gannet-server")
            .chain(args.iter().copied())
            .map(String::from);
        Flags::try_parse_from(normalize_args(argv)).unwrap()
    }

    #[test]
    fn go_style_single_dash_long_flags() {
        let f = parse(&["-port", "4333", "-addr", "::1", "--store_dir", "/tmp/x"]);
        assert_eq!(f.port, Some(4333));
        assert_eq!(f.addr.as_deref(), Some("::1"));
        assert!(f.store_dir.is_some());
    }

    #[test]
    fn random_port_is_minus_one() {
        assert_eq!(parse(&["-p", "-1"]).port, Some(-1));
        assert_eq!(parse(&["--port=-1"]).port, Some(-1));
    }

    #[test]
    fn idle_spin_flag_takes_the_config_file_range() {
        assert_eq!(
            parse(&["--idle_spin", "250us"]).idle_spin,
            Some(Duration::from_micros(250))
        );
        assert_eq!(parse(&["--idle_spin=0"]).idle_spin, Some(Duration::ZERO));
        assert_eq!(parse_idle_spin("-1us"), Err("can not be negative".into()));
        assert_eq!(parse_idle_spin("11ms"), Err("can be at most 10ms".into()));
        assert!(parse_idle_spin("fast").is_err());
    }

    #[test]
    fn combined_debug_trace_and_two_letter_flags() {
        let f = parse(&["-DV", "-js", "-sd", "dir", "-ms", "8443"]);
        assert!(f.debug && f.trace && f.jetstream);
        assert_eq!(f.https_port, Some(8443));
    }

    #[test]
    fn logtime_takes_an_optional_bool() {
        let mut o = Options::default();
        parse(&["-T=false"]).apply(&mut o);
        assert!(!o.logtime);
        parse(&["-T"]).apply(&mut o);
        assert!(o.logtime);
    }

    #[test]
    fn flags_override_the_file_and_warn_for_missing_features() {
        let mut o = Options {
            port: 4567,
            ..Options::default()
        };
        let warnings = parse(&["--port", "-1", "--routes", "x", "-m", "8222"]).apply(&mut o);
        assert_eq!(o.port, -1);
        assert_eq!(o.http_port, Some(8222));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("--routes"));
    }

    #[test]
    fn security_flags_fill_authorization_and_tls() {
        let mut o = Options::default();
        let w = parse(&[
            "--user",
            "u",
            "--pass",
            "p",
            "--tls",
            "--tlscert",
            "c.pem",
            "--tlskey",
            "k.pem",
            "--tlsverify",
            "--tlscacert",
            "ca.pem",
        ])
        .apply(&mut o);
        assert!(w.is_empty(), "{w:?}");
        let auth = o.authorization.unwrap();
        assert_eq!(auth.user.as_deref(), Some("u"));
        assert_eq!(auth.password.as_deref(), Some("p"));
        let tls = o.tls.unwrap();
        assert!(tls.verify);
        assert_eq!(tls.ca_file.unwrap().to_str(), Some("ca.pem"));
        let mut o = Options::default();
        let w = parse(&["--tls"]).apply(&mut o);
        assert!(o.tls.is_none() && w.len() == 1);
    }

    #[test]
    fn bool_flags_accept_go_values() {
        assert!(!parse(&["--debug=false"]).debug);
        assert!(parse(&["-D=true"]).debug);
    }
}
