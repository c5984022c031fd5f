//! The command line, spelled as nats-server spells it: Go-style flags (`-port`
//! and `--port` alike, `-DV`, `-js`, `-T=false`) normalised for clap, and how the
//! flags override the config file.
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use gannet_config::conf::parse_go_duration;
use gannet_config::options::{
    idle_spin_from_nanos, ClusterOptions, ListenUrl, RouteUrl, TlsOptions, DEFAULT_HOST,
};
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
    /// Use port for HTTP monitoring (0 turns monitoring off)
    #[arg(short = 'm', long = "http_port", value_name = "PORT")]
    pub http_port: Option<i32>,
    /// Use port for HTTPS monitoring (0 turns it off)
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
    /// Log line format: text (nats-server's lines) or json (one object per line)
    #[arg(long = "log_format", value_name = "FORMAT", value_parser = parse_log_format)]
    pub log_format: Option<gannet_config::LogFormat>,
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
    /// Enable JetStream
    #[arg(long = "jetstream")]
    pub jetstream: bool,
    /// JetStream storage folder
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
    /// Routes to actively solicit a connection, comma separated
    /// (nats-route://[user:pass@]host:port); replaces the file's routes
    #[arg(long = "routes", value_name = "URLS", value_parser = parse_routes)]
    pub routes: Option<RouteList>,
    /// Cluster URL from which members can solicit routes
    /// (nats://[user:pass@]host:port, port -1 for a random one; "" turns clustering off)
    #[arg(long = "cluster", visible_aliases = ["cluster_listen"], value_name = "URL",
          value_parser = parse_cluster_listen)]
    pub cluster: Option<ClusterListen>,
    /// Cluster name (default: generated at start)
    #[arg(long = "cluster_name", value_name = "NAME", value_parser = parse_cluster_name)]
    pub cluster_name: Option<String>,
    /// Do not advertise known cluster information to clients
    /// (--no_advertise=false overrides the file's no_advertise: true)
    #[arg(long = "no_advertise", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", value_parser = parse_go_bool)]
    pub no_advertise: Option<bool>,
    /// Cluster URL to advertise to other servers
    #[arg(long = "cluster_advertise", value_name = "HOST:PORT")]
    pub cluster_advertise: Option<String>,
    /// For implicit routes, number of connect retries
    #[arg(long = "connect_retries", value_name = "N")]
    pub connect_retries: Option<i64>,
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
    "log_format",
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

/// The value of `--routes`: the URLs it lists (none for `--routes ""`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteList(pub Vec<RouteUrl>);

/// The value of `--cluster` / `--cluster_listen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterListen {
    /// `--cluster ""`: no route listener (nats-server sets the cluster port to 0).
    Off,
    /// Listen here; the URL's user and password (or none) become the
    /// cluster authorization.
    Listen(ListenUrl),
}

/// `--routes`: comma separated route URLs, each checked as the config
/// file's `routes` are (nats-server does not check them and crashes later).
fn parse_routes(text: &str) -> Result<RouteList, String> {
    if text.trim().is_empty() {
        return Ok(RouteList(Vec::new()));
    }
    text.split(',')
        .map(RouteUrl::parse)
        .collect::<Result<_, _>>()
        .map(RouteList)
}

/// `--cluster`: nats-server's `overrideCluster` checks.
fn parse_cluster_listen(text: &str) -> Result<ClusterListen, String> {
    if text.is_empty() {
        return Ok(ClusterListen::Off);
    }
    ListenUrl::parse(text).map(ClusterListen::Listen)
}

/// `--cluster_name`: no spaces, as nats-server checks when it starts.
fn parse_cluster_name(text: &str) -> Result<String, String> {
    if text.contains(' ') {
        return Err("cluster name cannot contain spaces".to_string());
    }
    Ok(text.to_string())
}

/// A Go boolean flag value (`strconv.ParseBool`).
fn parse_go_bool(text: &str) -> Result<bool, String> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("parse error: {text:?} is not a boolean")),
    }
}

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

fn parse_log_format(text: &str) -> Result<gannet_config::LogFormat, String> {
    gannet_config::LogFormat::parse(text).ok_or_else(|| "expected text or json".to_string())
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
        // Port 0 is no listener, as in nats-server (and over the file's port).
        if let Some(p) = self.http_port {
            opts.http_port = (p != 0).then_some(p);
        }
        if let Some(p) = self.https_port {
            opts.https_port = (p != 0).then_some(p);
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
        if let Some(format) = self.log_format {
            opts.log_format = format;
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
        if self.jetstream && opts.jetstream.is_none() {
            // A top-level `store_dir` in the file is where it goes.
            opts.jetstream = Some(gannet_config::options::JetStreamOptions {
                store_dir: opts.store_dir.clone(),
                ..Default::default()
            });
        }
        if let (Some(dir), Some(js)) = (&self.store_dir, opts.jetstream.as_mut()) {
            js.store_dir = Some(dir.clone());
        }
        let mut warnings = self.apply_security(opts);
        warnings.extend(self.apply_cluster(opts));
        let mut unsupported = |given: bool, flag: &str| {
            if given {
                warnings.push(format!("the {flag} flag is not supported yet; ignored"));
            }
        };
        unsupported(self.syslog, "--syslog");
        unsupported(self.remote_syslog.is_some(), "--remote_syslog");
        unsupported(self.log_size_limit.is_some(), "--log_size_limit");
        unsupported(self.max_traced_msg_len.is_some(), "--max_traced_msg_len");
        unsupported(self.profile.is_some(), "--profile");
        warnings
    }
}

impl Flags {
    /// The cluster flags over the file's `cluster { }`. nats-server parses
    /// its flags again after the file, so each flag given replaces the
    /// file's value: `--cluster` the host, port and authorization (cleared
    /// when the URL has no user), `--routes` the whole route list. Any
    /// cluster flag creates the cluster when the file has none; it listens
    /// only with a port (`--cluster`), as in nats-server. Routes without a
    /// listening cluster are nats-server's error; here a warning, and they
    /// are not dialed.
    fn apply_cluster(&self, opts: &mut Options) -> Vec<String> {
        let given = self.cluster.is_some()
            || self.routes.is_some()
            || self.cluster_name.is_some()
            || self.no_advertise.is_some()
            || self.cluster_advertise.is_some()
            || self.connect_retries.is_some();
        if !given {
            return Vec::new();
        }
        let c = opts.cluster.get_or_insert_with(ClusterOptions::default);
        if let Some(name) = &self.cluster_name {
            c.name = (!name.is_empty()).then(|| name.clone());
        }
        if let Some(advertise) = &self.cluster_advertise {
            c.advertise = (!advertise.is_empty()).then(|| advertise.clone());
        }
        if let Some(b) = self.no_advertise {
            c.no_advertise = b;
        }
        if let Some(n) = self.connect_retries {
            c.connect_retries = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        }
        match &self.cluster {
            Some(ClusterListen::Off) => c.port = 0,
            Some(ClusterListen::Listen(url)) => {
                c.host = if url.host.is_empty() {
                    DEFAULT_HOST.to_string()
                } else {
                    url.host.clone()
                };
                c.port = url.port;
                c.user.clone_from(&url.user);
                c.password.clone_from(&url.password);
            }
            None => {}
        }
        if let Some(RouteList(routes)) = &self.routes {
            c.routes.clone_from(routes);
        }
        if !c.routes.is_empty() && self.routes.is_some() && !c.is_enabled() {
            return vec![
                "solicited routes require cluster capabilities, e.g. --cluster; \
                 the --routes are not dialed"
                    .to_string(),
            ];
        }
        Vec::new()
    }

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
        let warnings = parse(&["--port", "-1", "--profile", "6060", "-m", "8222"]).apply(&mut o);
        assert_eq!(o.port, -1);
        assert_eq!(o.http_port, Some(8222));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("--profile"));
        // Port 0 turns monitoring off, over the file's port too.
        parse(&["-m", "0", "--https_port", "0"]).apply(&mut o);
        assert_eq!((o.http_port, o.https_port), (None, None));
    }

    fn try_parse(args: &[&str]) -> Result<Flags, String> {
        let argv = std::iter::once("gannet-server")
            .chain(args.iter().copied())
            .map(String::from);
        Flags::try_parse_from(normalize_args(argv)).map_err(|e| e.to_string())
    }

    fn file_cluster() -> ClusterOptions {
        let text = "cluster {\n  name: file, host: 10.0.0.5, port: 4248, no_advertise: true\n  \
                    advertise: \"a:1\", connect_retries: 2\n  \
                    authorization { user: fu, password: fp }\n  \
                    routes: [nats://fu:fp@10.0.0.6:4248]\n}";
        let loaded = gannet_config::load_str(text, std::path::Path::new("t.conf")).unwrap();
        loaded.options.cluster.unwrap()
    }

    #[test]
    fn cluster_flags_create_the_cluster() {
        let mut o = Options::default();
        let w = parse(&[
            "--cluster",
            "nats://ru:rp@127.0.0.1:-1",
            "--routes",
            "nats-route://ru:rp@127.0.0.1:4249, nats://127.0.0.1:4250",
            "--cluster_name",
            "east",
            "--no_advertise",
            "--cluster_advertise",
            "10.1.1.1:4248",
            "--connect_retries",
            "5",
        ])
        .apply(&mut o);
        assert!(w.is_empty(), "{w:?}");
        let c = o.cluster.unwrap();
        assert!(c.is_enabled());
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", -1));
        assert_eq!(
            (c.user.as_deref(), c.password.as_deref()),
            (Some("ru"), Some("rp"))
        );
        let routes: Vec<(&str, u16)> = c.routes.iter().map(|r| (r.host.as_str(), r.port)).collect();
        assert_eq!(routes, [("127.0.0.1", 4249), ("127.0.0.1", 4250)]);
        assert_eq!(c.routes[0].user.as_deref(), Some("ru"));
        assert_eq!(c.name.as_deref(), Some("east"));
        assert!(c.no_advertise);
        assert_eq!(c.advertise.as_deref(), Some("10.1.1.1:4248"));
        assert_eq!(c.connect_retries, 5);
        let mut o = Options::default();
        parse(&["-cluster_listen", "nats://:4248"]).apply(&mut o);
        let c = o.cluster.unwrap();
        assert_eq!((c.host.as_str(), c.port), ("0.0.0.0", 4248));
        // A flag other than --cluster creates a cluster that does not listen.
        let mut o = Options::default();
        parse(&["--cluster_name", "east"]).apply(&mut o);
        assert!(!o.cluster.unwrap().is_enabled());
        let mut o = Options::default();
        assert!(parse(&["-D"]).apply(&mut o).is_empty());
        assert_eq!(o.cluster, None);
    }

    #[test]
    fn cluster_flags_override_the_file() {
        let mut o = Options {
            cluster: Some(file_cluster()),
            ..Options::default()
        };
        let w = parse(&[
            "--cluster",
            "nats://127.0.0.1:5248",
            "--routes",
            "nats://127.0.0.1:5249",
            "--cluster_name",
            "flag",
            "-no_advertise=false",
            "--cluster_advertise",
            "b:2",
            "--connect_retries=-1",
        ])
        .apply(&mut o);
        assert!(w.is_empty(), "{w:?}");
        let c = o.cluster.unwrap();
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 5248));
        // A --cluster URL without a user clears the file's authorization.
        assert_eq!((c.user, c.password), (None, None));
        assert_eq!(c.routes.len(), 1);
        assert_eq!(c.routes[0].port, 5249);
        assert_eq!(c.name.as_deref(), Some("flag"));
        assert!(!c.no_advertise);
        assert_eq!(c.advertise.as_deref(), Some("b:2"));
        assert_eq!(c.connect_retries, 0);
        // Flags not given leave the file alone.
        let mut o = Options {
            cluster: Some(file_cluster()),
            ..Options::default()
        };
        parse(&["--no_advertise=true"]).apply(&mut o);
        assert_eq!(o.cluster, Some(file_cluster()));
    }

    #[test]
    fn empty_cluster_and_routes_flags_turn_them_off() {
        let mut o = Options {
            cluster: Some(file_cluster()),
            ..Options::default()
        };
        parse(&["--cluster=", "--routes="]).apply(&mut o);
        let c = o.cluster.unwrap();
        assert!(!c.is_enabled());
        assert!(c.routes.is_empty());
        assert_eq!(
            c.user.as_deref(),
            Some("fu"),
            "kept, as nats-server keeps it"
        );
    }

    #[test]
    fn routes_need_a_listening_cluster() {
        let mut o = Options::default();
        let w = parse(&["--routes", "nats://127.0.0.1:4249"]).apply(&mut o);
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("solicited routes require cluster capabilities, e.g. --cluster"));
        let mut o = Options {
            cluster: Some(file_cluster()),
            ..Options::default()
        };
        assert!(parse(&["--routes", "nats://127.0.0.1:4249"])
            .apply(&mut o)
            .is_empty());
    }

    #[test]
    fn bad_cluster_flag_values_are_refused() {
        for (args, want) in [
            (
                &["--cluster", "nats://u@127.0.0.1:-1"][..],
                "expected cluster password to be set",
            ),
            (
                &["--cluster", "nats://127.0.0.1"],
                "address 127.0.0.1: missing port in address",
            ),
            (
                &["--cluster", "127.0.0.1:5000"],
                "first path segment in URL cannot contain colon",
            ),
            (
                &["--routes", "nats://127.0.0.1:4249,nats://%zz"],
                "error parsing route url [\"nats://%zz\"]",
            ),
            (
                &["--cluster_name", "a b"],
                "cluster name cannot contain spaces",
            ),
            (&["--connect_retries", "x"], "invalid digit"),
            (&["--no_advertise=maybe"], "is not a boolean"),
        ] {
            match try_parse(args) {
                Ok(f) => panic!("{args:?} parsed: {f:?}"),
                Err(e) => assert!(e.contains(want), "{args:?}: {e}"),
            }
        }
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
        assert_eq!(parse(&["--no_advertise"]).no_advertise, Some(true));
        assert_eq!(parse(&["-no_advertise=T"]).no_advertise, Some(true));
        assert_eq!(parse(&["--no_advertise=0"]).no_advertise, Some(false));
        assert_eq!(parse(&[]).no_advertise, None);
    }
}
