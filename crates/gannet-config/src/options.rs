//! Typed server options and their defaults (mirrors nats-server's `opts.go`).
use std::path::PathBuf;
use std::time::Duration;

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
/// Default time a client has to send CONNECT when authentication is required.
pub const DEFAULT_AUTH_TIMEOUT: Duration = Duration::from_secs(2);

/// Everything the server needs to start, after the file and the flags are merged.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The file these options came from, if any.
    pub config_file: Option<PathBuf>,
    pub host: String,
    /// Client port; `-1` picks a random free port (RANDOM_PORT), `0` means the default.
    pub port: i32,
    pub server_name: Option<String>,
    pub max_payload: usize,
    pub max_control_line: usize,
    pub max_pending: usize,
    pub max_connections: usize,
    /// Subscriptions per connection; 0 = unlimited.
    pub max_subscriptions: usize,
    pub ping_interval: Duration,
    pub ping_max: u32,
    pub write_deadline: Duration,
    pub auth_timeout: Duration,
    pub debug: bool,
    pub trace: bool,
    pub logtime: bool,
    pub logtime_utc: bool,
    pub log_file: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub ports_file_dir: Option<PathBuf>,
    /// Monitoring listener host (defaults to `host`).
    pub http_host: Option<String>,
    /// Monitoring port; `None` = no monitoring listener, `-1` = random.
    pub http_port: Option<i32>,
    /// HTTPS monitoring port (parsed; served once TLS lands).
    pub https_port: Option<i32>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config_file: None,
            host: DEFAULT_HOST.to_string(),
            port: DEFAULT_PORT,
            server_name: None,
            max_payload: DEFAULT_MAX_PAYLOAD,
            max_control_line: DEFAULT_MAX_CONTROL_LINE,
            max_pending: DEFAULT_MAX_PENDING,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_subscriptions: 0,
            ping_interval: DEFAULT_PING_INTERVAL,
            ping_max: DEFAULT_PING_MAX,
            write_deadline: DEFAULT_WRITE_DEADLINE,
            auth_timeout: DEFAULT_AUTH_TIMEOUT,
            debug: false,
            trace: false,
            logtime: true,
            logtime_utc: false,
            log_file: None,
            pid_file: None,
            ports_file_dir: None,
            http_host: None,
            http_port: None,
            https_port: None,
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

/// Every problem found in a config file (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors(pub Vec<ConfigError>);
