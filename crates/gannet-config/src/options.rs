//! Typed server options and their defaults, and loading them from a config
//! file (mirrors nats-server's `opts.go`). [`load_file`] / [`load_str`] parse
//! the file with [`crate::conf`], map every top-level key onto [`Options`]
//! and validate the result, reporting every error at once; keys of features
//! Gannet does not have yet come back as warnings. The security blocks have
//! their own modules: `tls`, `auth` (with `permissions` and `nkey`),
//! `accounts` (the `accounts { }` block, `system_account`), `cluster` (the
//! `cluster { }` block and the route URLs the flags share), `leafnodes` (the
//! `leafnodes { }` block), `gateway` (the `gateway { }` block), and
//! `security_checks` for the rules that span them (the BOSH fork's,
//! `no_auth_user`, the auth timeout). `jetstream` owns the JetStream keys
//! (`jetstream`, `store_dir`, `default_js_domain`, an account's `jetstream`).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::conf;

pub mod accounts;
mod auth;
pub mod cluster;
mod convert;
pub mod gateway;
pub mod jetstream;
mod keys;
pub mod leafnodes;
pub mod mappings;
mod nkey;
pub mod operator;
mod permissions;
pub mod security;
mod security_checks;
mod tls;
mod unsupported;

pub use accounts::{AccountConfig, ExportConfig, ExportKind, ImportConfig, MsgTrace};

/// How the server writes its log (`log_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// nats-server's lines: `[pid] time [INF] text`.
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `message`, `target`
    /// and the event's fields), for log shippers.
    Json,
}

impl LogFormat {
    /// `text` or `json`.
    pub fn parse(text: &str) -> Option<LogFormat> {
        match text.to_ascii_lowercase().as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}
pub use cluster::{ClusterOptions, ListenUrl, RouteCompression, RouteUrl};
pub use gateway::{GatewayOptions, RemoteGateway};
pub use jetstream::{
    AccountJetStream, AccountJsLimits, JetStreamLimits, JetStreamOptions, SyncPolicy,
};
pub use leafnodes::{LeafNodeOptions, LeafRemote, LeafUrl, LeafUser};
pub use mappings::SubjectMapping;
pub use nkey::is_valid_public_user_key;
pub use operator::{DirResolver, Resolver};
pub use security::{
    Authorization, CertificateClient, NkeyUser, Permissions, ResponsePermission, SubjectPermission,
    TlsOptions, User,
};
pub use security_checks::default_auth_timeout;

pub use unsupported::{NotImplemented, UNSUPPORTED_KEYS};

/// Default client port.
pub const DEFAULT_PORT: i32 = 4222;
/// Default bind address.
pub const DEFAULT_HOST: &str = "0.0.0.0";
/// Default largest message payload (1 MiB).
pub const DEFAULT_MAX_PAYLOAD: usize = 1024 * 1024;
/// Default largest control line argument part.
pub const DEFAULT_MAX_CONTROL_LINE: usize = 4096;
/// Default outbound bytes a client may have pending before it is a slow consumer (64 MiB).
pub const DEFAULT_MAX_PENDING: usize = 64 * 1024 * 1024;
/// Default most client connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64 * 1024;
/// Default server PING interval.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(120);
/// Default unanswered PINGs before a connection is stale.
pub const DEFAULT_PING_MAX: u32 = 2;
/// Default time a write may block before the client is cut as a slow consumer.
pub const DEFAULT_WRITE_DEADLINE: Duration = Duration::from_secs(10);
/// Default longest busy-wait of an idle runtime worker before it sleeps
/// (`idle_spin`, a Gannet extension): off. Spinning buys request/reply latency
/// with CPU: at a steady few thousand round trips a second, a 100 µs spin cost
/// more CPU than nats-server for the same traffic (README, "Idle spinning").
pub const DEFAULT_IDLE_SPIN: Duration = Duration::ZERO;
/// Longest `idle_spin` accepted.
pub const MAX_IDLE_SPIN: Duration = Duration::from_millis(10);

/// An `idle_spin` of `nanos` (from the config file or the flag) checked against
/// its range; the error is the reason alone, for the caller to put its context on.
pub fn idle_spin_from_nanos(nanos: i64) -> Result<Duration, String> {
    match crate::conf::nanos_to_duration(nanos) {
        None => Err("can not be negative".to_string()),
        Some(d) if d > MAX_IDLE_SPIN => Err(format!(
            "can be at most {}",
            crate::conf::format_go_duration(MAX_IDLE_SPIN)
        )),
        Some(d) => Ok(d),
    }
}
/// Default time a client has to send CONNECT when authentication is required
/// (without TLS; with TLS it is the TLS timeout + 1 s, see [`default_auth_timeout`]).
pub const DEFAULT_AUTH_TIMEOUT: Duration = Duration::from_secs(2);
/// Default time lame duck mode spreads client disconnects over.
pub const DEFAULT_LAME_DUCK_DURATION: Duration = Duration::from_secs(120);
/// Default wait after entering lame duck mode before the first client is closed.
pub const DEFAULT_LAME_DUCK_GRACE_PERIOD: Duration = Duration::from_secs(10);
/// Shortest lame duck duration the config accepts.
pub const MIN_LAME_DUCK_DURATION: Duration = Duration::from_secs(30);
/// Default number of closed connections remembered for monitoring.
pub const DEFAULT_MAX_CLOSED_CLIENTS: usize = 10_000;
/// Default URL prefix of the monitoring endpoints.
pub const DEFAULT_HTTP_BASE_PATH: &str = "/";

/// What to do with a client whose writes hit `write_deadline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteTimeoutPolicy {
    /// The server's default for the connection kind (clients are closed).
    #[default]
    Default,
    Close,
    Retry,
}

/// Everything the server needs to start, after the file and the flags are merged.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The file these options came from, if any.
    pub config_file: Option<PathBuf>,
    /// Bind address (`host`, `net`, or the host part of `listen`).
    pub host: String,
    /// Client port; `-1` picks a random free port (RANDOM_PORT), `0` means the default.
    pub port: i32,
    /// `None` = use the server id.
    pub server_name: Option<String>,
    /// Client URL advertised to other servers and in INFO `connect_urls` (`client_advertise`).
    pub client_advertise: Option<String>,
    pub max_payload: usize,
    pub max_control_line: usize,
    pub max_pending: usize,
    /// Most client connections. A config value of 0 or less gives 0, which
    /// (as in nats-server) refuses every client.
    pub max_connections: usize,
    /// Subscriptions per connection; 0 = unlimited.
    pub max_subscriptions: usize,
    /// Most tokens in a subscription subject; 0 = unlimited (`max_sub_tokens`, 1..=255).
    pub max_subscription_tokens: u8,
    pub ping_interval: Duration,
    pub ping_max: u32,
    pub write_deadline: Duration,
    /// `write_timeout`: `default`, `close` or `retry`.
    pub write_timeout: WriteTimeoutPolicy,
    /// `idle_spin` (Gannet only): how long an idle runtime worker may keep
    /// checking its sockets before it sleeps; zero turns it off.
    pub idle_spin: Duration,
    /// Time a client has to authenticate: `authorization.timeout` when given,
    /// else [`default_auth_timeout`] (2 s, or `tls.timeout` + 1 s with TLS).
    pub auth_timeout: Duration,
    pub debug: bool,
    pub trace: bool,
    /// Trace also system-account traffic (`trace_verbose`; implies `trace`).
    pub trace_verbose: bool,
    /// Trace message headers (`trace_headers`; implies `trace`).
    pub trace_headers: bool,
    pub logtime: bool,
    /// How log lines are written (`log_format`, a Gannet setting).
    pub log_format: LogFormat,
    pub logtime_utc: bool,
    /// As written; relative paths are relative to the working directory.
    pub log_file: Option<PathBuf>,
    /// Rotate the log file at this many bytes; 0 = never (`logfile_size_limit`).
    pub log_size_limit: u64,
    /// Rotated log files to keep; 0 = all (`logfile_max_num`).
    pub log_max_files: u64,
    /// Log to the local syslog (`syslog`).
    pub syslog: bool,
    /// Remote syslog address such as `udp://host:514` (`remote_syslog`).
    pub remote_syslog: Option<String>,
    /// Longest message payload shown in traces; 0 = all (`max_traced_msg_len`).
    pub max_traced_msg_len: usize,
    /// As written; relative paths are relative to the working directory.
    pub pid_file: Option<PathBuf>,
    /// As written; relative paths are relative to the working directory.
    pub ports_file_dir: Option<PathBuf>,
    /// Monitoring listener host (defaults to `host`).
    pub http_host: Option<String>,
    /// Monitoring port; `None` = no monitoring listener, `-1` = random.
    pub http_port: Option<i32>,
    /// HTTPS monitoring port (parsed; served once TLS lands).
    pub https_port: Option<i32>,
    /// URL prefix of the monitoring endpoints (`http_base_path`).
    pub http_base_path: String,
    /// Time lame duck mode spreads client disconnects over.
    pub lame_duck_duration: Duration,
    /// Wait after entering lame duck mode before closing clients.
    pub lame_duck_grace_period: Duration,
    /// Do not offer message headers to clients (`no_header_support`).
    pub no_header_support: bool,
    /// Closed connections remembered for `/connz?state=closed`.
    pub max_closed_clients: usize,
    /// Turn off the subscription match cache (`disable_sublist_cache`).
    pub disable_sublist_cache: bool,
    /// Never stall fast producers in front of slow consumers (`no_fast_producer_stall`).
    pub no_fast_producer_stall: bool,
    /// `tls { }`: `None` = plain TCP.
    pub tls: Option<TlsOptions>,
    /// `authorization { }`: `None` = no authentication.
    pub authorization: Option<Authorization>,
    /// Connections without credentials act as this user (`no_auth_user`).
    pub no_auth_user: Option<String>,
    /// With TLS configured, accept plain-text clients too (`allow_non_tls`).
    pub allow_non_tls: bool,
    /// `accounts { }`: empty = everybody in the global account `$G`.
    pub accounts: Vec<AccountConfig>,
    /// Top-level `mappings`: subject mappings of the global account `$G`.
    pub mappings: Vec<SubjectMapping>,
    /// `system_account`: the account server events and `$SYS` services live in.
    /// `None` = the default system account `$SYS` (unless `no_system_account`).
    pub system_account: Option<String>,
    /// `no_system_account: true`: no system account at all.
    pub no_system_account: bool,
    /// `operator`: the JWTs of the trusted operators (operator mode when
    /// any): accounts and users are then JWTs they issued.
    pub operators: Vec<String>,
    /// `trusted`: operator public keys trusted without a JWT.
    pub trusted_keys: Vec<String>,
    /// `resolver`: where account JWTs come from in operator mode.
    pub resolver: Option<Resolver>,
    /// `resolver_preload`: (account public key, account JWT) known from the start.
    pub resolver_preload: Vec<(String, String)>,
    /// `default_sentinel`: the bearer user JWT of clients that bring no
    /// credentials, for auth callout (which Gannet does not run): checked as
    /// nats-server checks it, and otherwise unused.
    pub default_sentinel: Option<String>,
    /// The keys of [`UNSUPPORTED_KEYS`] a config sets, as written, for a
    /// reload to compare.
    pub not_implemented: NotImplemented,
    /// `cluster { }` (or the cluster flags): `None` = not clustered.
    pub cluster: Option<ClusterOptions>,
    /// `leafnodes { }`: `None` = no leaf node listener and no remotes.
    pub leafnodes: Option<LeafNodeOptions>,
    /// `gateway { }`: `None` = no gateway (also for a block with neither
    /// `name` nor `port`, as in nats-server).
    pub gateway: Option<GatewayOptions>,
    /// `jetstream`: `None` = JetStream off (no key, `false`, `disabled`, or a
    /// block with `enabled: false`). Its `store_dir` includes the top-level
    /// one.
    pub jetstream: Option<JetStreamOptions>,
    /// The top-level `store_dir` (`storedir`) as written, also when
    /// JetStream is off (it does not turn JetStream on, as in nats-server).
    pub store_dir: Option<PathBuf>,
    /// `default_js_domain`: account (its name, or its public key in operator
    /// mode) to the JetStream domain its clients use when they name none.
    pub default_js_domain: BTreeMap<String, String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config_file: None,
            host: DEFAULT_HOST.to_string(),
            port: DEFAULT_PORT,
            server_name: None,
            client_advertise: None,
            max_payload: DEFAULT_MAX_PAYLOAD,
            max_control_line: DEFAULT_MAX_CONTROL_LINE,
            max_pending: DEFAULT_MAX_PENDING,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_subscriptions: 0,
            max_subscription_tokens: 0,
            ping_interval: DEFAULT_PING_INTERVAL,
            ping_max: DEFAULT_PING_MAX,
            write_deadline: DEFAULT_WRITE_DEADLINE,
            write_timeout: WriteTimeoutPolicy::Default,
            idle_spin: DEFAULT_IDLE_SPIN,
            auth_timeout: DEFAULT_AUTH_TIMEOUT,
            debug: false,
            trace: false,
            trace_verbose: false,
            trace_headers: false,
            logtime: true,
            log_format: LogFormat::Text,
            logtime_utc: false,
            log_file: None,
            log_size_limit: 0,
            log_max_files: 0,
            syslog: false,
            remote_syslog: None,
            max_traced_msg_len: 0,
            pid_file: None,
            ports_file_dir: None,
            http_host: None,
            http_port: None,
            https_port: None,
            http_base_path: DEFAULT_HTTP_BASE_PATH.to_string(),
            lame_duck_duration: DEFAULT_LAME_DUCK_DURATION,
            lame_duck_grace_period: DEFAULT_LAME_DUCK_GRACE_PERIOD,
            no_header_support: false,
            max_closed_clients: DEFAULT_MAX_CLOSED_CLIENTS,
            disable_sublist_cache: false,
            no_fast_producer_stall: false,
            tls: None,
            authorization: None,
            no_auth_user: None,
            allow_non_tls: false,
            accounts: Vec::new(),
            mappings: Vec::new(),
            system_account: None,
            no_system_account: false,
            cluster: None,
            leafnodes: None,
            gateway: None,
            jetstream: None,
            store_dir: None,
            default_js_domain: BTreeMap::new(),
            operators: Vec::new(),
            trusted_keys: Vec::new(),
            resolver: None,
            resolver_preload: Vec::new(),
            default_sentinel: None,
            not_implemented: NotImplemented::default(),
        }
    }
}

/// One problem in a config file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ConfigError {
    pub(crate) fn at(pos: &conf::Pos, message: impl Into<String>) -> Self {
        ConfigError {
            file: pos.file.to_string(),
            line: pos.line,
            column: pos.column,
            message: message.into(),
        }
    }
}

impl From<conf::ParseError> for ConfigError {
    fn from(e: conf::ParseError) -> Self {
        ConfigError::at(&e.pos, e.message)
    }
}

/// Every problem found in a config file (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors(pub Vec<ConfigError>);

/// Options read from a file, and what was accepted but deserves a mention
/// (deprecated forms, keys of features Gannet does not have yet).
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub options: Options,
    pub warnings: Vec<ConfigError>,
}

/// Reads, parses and validates a config file. `$VARIABLES` fall back to the
/// process environment; includes resolve against the file's folder.
pub fn load_file(path: &Path) -> Result<Loaded, ConfigErrors> {
    let map = conf::parse_file(path).map_err(parse_errors)?;
    from_map(&map, path)
}

/// [`load_file`] for text already read: `origin` is the file name errors
/// report and the folder includes resolve against.
pub fn load_str(text: &str, origin: &Path) -> Result<Loaded, ConfigErrors> {
    let map = conf::parse_str(text, origin).map_err(parse_errors)?;
    from_map(&map, origin)
}

/// Turns a parsed file into options: every top-level key is applied in the
/// order written, then the combination is validated.
pub fn from_map(map: &conf::Map, origin: &Path) -> Result<Loaded, ConfigErrors> {
    let mut options = Options {
        config_file: Some(origin.to_path_buf()),
        ..Options::default()
    };
    let mut report = convert::Report::default();
    let mut marks = security_checks::SecurityMarks::default();
    for entry in map {
        keys::apply(&mut options, entry, &mut report, &mut marks);
    }
    keys::validate(&options, map, &mut report);
    gateway::validate(&mut options, map, &mut report);
    jetstream::validate(&mut options, map, &mut report);
    security_checks::check(&mut options, &marks, &mut report);
    if report.errors.is_empty() {
        Ok(Loaded {
            options,
            warnings: report.warnings,
        })
    } else {
        Err(ConfigErrors(report.errors))
    }
}

fn parse_errors(errors: Vec<conf::ParseError>) -> ConfigErrors {
    ConfigErrors(errors.into_iter().map(ConfigError::from).collect())
}

#[cfg(test)]
mod tests;
