//! The `cluster { }` block and the cluster flags (nats-server's `ClusterOpts`
//! and `parseCluster` in `opts.go`): where the route listener is, which routes
//! to dial, how routes authenticate and encrypt, and how they are pooled.
//!
//! `parse` reads the block with nats-server's error texts; `validate`
//! runs the checks nats-server makes when the server starts (compression
//! mode, pinned accounts) at load time instead, so `-t` catches them.
//! [`RouteUrl::parse`] and [`ListenUrl::parse`] are shared with the
//! `--routes` and `--cluster` flags.
//!
//! Differences from nats-server: a route URL must have a host and a port
//! (nats-server accepts `nats://host` and then fails every dial), and a
//! `port` outside -1..=65535 is refused.
use std::time::Duration;

use super::convert::Report;
use super::permissions::{self, check_subject};
use super::security::TlsOptions;
use super::tls::{self, TlsContext, TlsMarks};
use super::{auth, Options, SubjectPermission, WriteTimeoutPolicy, DEFAULT_HOST};
use crate::conf::{self, format_go_duration, Entry, Kind, Map};

pub(super) mod url;

/// The conventional cluster port. Nothing defaults to it: a cluster without
/// a port (or with port 0) does not listen, as in nats-server.
pub const DEFAULT_CLUSTER_PORT: i32 = 6222;
/// Default route pool size (nats-server 2.15's): 3 connections per peer plus
/// one pinned to the system account.
pub const DEFAULT_ROUTE_POOL_SIZE: i32 = 3;
/// Default time a route has to authenticate (without cluster TLS; with it,
/// the cluster TLS timeout + 1 s, as for clients).
pub const DEFAULT_ROUTE_AUTH_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest ping interval routes use: a longer `ping_interval` is cut to this.
pub const MAX_ROUTE_PING_INTERVAL: Duration = Duration::from_secs(30);

/// One route to dial: `nats-route://[user:pass@]host:port` (also `nats://`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteUrl {
    /// As written (spaces around it trimmed), for logs (secrets included:
    /// callers mask them).
    pub url: String,
    /// Without the brackets of an IPv6 address.
    pub host: String,
    pub port: u16,
    /// Percent-decoded.
    pub user: Option<String>,
    /// Percent-decoded; `None` when the URL has a user without `:`.
    pub password: Option<String>,
}

impl RouteUrl {
    /// Parses a route URL as nats-server does (Go's `url.Parse`, any
    /// scheme), then requires a host and a port to dial. The error is the
    /// whole message: `error parsing route url ["<text>"]`, nats-server's
    /// text, plus `: <reason>` for the host and port checks it does not make.
    pub fn parse(text: &str) -> Result<RouteUrl, String> {
        let text = text.trim();
        let fail = |reason: Option<&str>| {
            let base = format!("error parsing route url [{text:?}]");
            Err(match reason {
                Some(reason) => format!("{base}: {reason}"),
                None => base,
            })
        };
        let Ok(parsed) = url::parse(text) else {
            return fail(None);
        };
        if parsed.host.is_empty() {
            return fail(Some("missing host"));
        }
        let Ok((host, port)) = url::split_host_port(&parsed.host) else {
            return fail(Some("missing port"));
        };
        if host.is_empty() {
            return fail(Some("missing host"));
        }
        let port = match port.parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => return fail(Some("invalid port")),
        };
        Ok(RouteUrl {
            url: text.to_string(),
            host: host.to_string(),
            port,
            user: parsed.user,
            password: parsed.password,
        })
    }
}

/// The value of `--cluster` / `--cluster_listen`: `nats://[user:pass@]host:port`
/// (nats-server's `overrideCluster`). Port `-1` picks a free port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenUrl {
    /// As written; empty for `nats://:port` (= every interface).
    pub host: String,
    pub port: i32,
    /// The route authorization the URL carries (both or neither).
    pub user: Option<String>,
    pub password: Option<String>,
}

impl ListenUrl {
    /// Parses the flag's value; the errors are nats-server's
    /// (`address h: missing port in address`, `expected cluster password to be set`).
    pub fn parse(text: &str) -> Result<ListenUrl, String> {
        // `:-1` is not a valid URL port: parse with 0, then put -1 back.
        let (text, random) = match text.strip_suffix(":-1") {
            Some(head) => (format!("{head}:0"), true),
            None => (text.to_string(), false),
        };
        let parsed = url::parse(&text)?;
        let (host, port) = url::split_host_port(&parsed.host)?;
        let port = if random {
            -1
        } else {
            match port.parse::<i32>() {
                Ok(p) if (0..=65535).contains(&p) => p,
                _ => return Err(format!("invalid cluster port {port:?}")),
            }
        };
        let (user, password) = match parsed.user {
            None => (None, None),
            Some(user) => match parsed.password {
                Some(password) => (Some(user), Some(password)),
                None => return Err("expected cluster password to be set".to_string()),
            },
        };
        Ok(ListenUrl {
            host: host.to_string(),
            port,
            user,
            password,
        })
    }
}

/// Route compression (`compression`): Gannet speaks plain text on routes and
/// answers every negotiation with `off`; the mode is kept to report it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RouteCompression {
    /// `off` (also `false`, `disabled`, `not_supported`).
    Off,
    /// `accept` (the default) and every `s2_*` mode: not offered, so peers
    /// fall back to plain text.
    #[default]
    Accept,
    /// Another mode, normalised to `s2_fast`, `s2_better`, `s2_best` or
    /// `s2_auto` (`true`, `on`, `enabled` and `fast` are `s2_fast`).
    S2(String),
}

impl RouteCompression {
    /// A mode as nats-server reads it (any case); the error is its text.
    pub fn from_mode(text: &str) -> Result<RouteCompression, String> {
        let s2 = |m: &str| Ok(RouteCompression::S2(m.to_string()));
        match text.to_ascii_lowercase().as_str() {
            "" | "accept" => Ok(RouteCompression::Accept),
            "off" | "false" | "disabled" | "not supported" | "not_supported" => {
                Ok(RouteCompression::Off)
            }
            "on" | "true" | "enabled" | "fast" | "s2_fast" => s2("s2_fast"),
            "better" | "s2_better" => s2("s2_better"),
            "best" | "s2_best" => s2("s2_best"),
            "auto" | "s2_auto" => s2("s2_auto"),
            _ => Err(format!("unsupported compression mode {text:?}")),
        }
    }
}

/// The `cluster { }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterOptions {
    /// `name`: the cluster's name (`None` = generated at start, and adopted
    /// from the first peer that has one). An empty name is `None`, as in
    /// nats-server.
    pub name: Option<String>,
    /// `host`/`net` (or the host of `listen`): where the route listener binds.
    pub host: String,
    /// `port` (or the port of `listen`); `-1` = any free port. `0` (also
    /// when no port is written) = no route listener and no routes dialed:
    /// clustering is off, as in nats-server. See [`ClusterOptions::is_enabled`].
    pub port: i32,
    /// `advertise` / `cluster_advertise`: `host:port` given to peers in gossip
    /// instead of the listen address.
    pub advertise: Option<String>,
    /// `no_advertise`: do not tell clients the cluster's client URLs.
    pub no_advertise: bool,
    /// `routes`: the routes to dial (and redial forever).
    pub routes: Vec<RouteUrl>,
    /// `authorization { user, password, timeout }`: what dialing peers must present.
    pub user: Option<String>,
    pub password: Option<String>,
    /// `authorization { timeout }`; when not given, [`DEFAULT_ROUTE_AUTH_TIMEOUT`],
    /// or the cluster TLS timeout + 1 s with cluster TLS.
    pub auth_timeout: Duration,
    /// `tls { }`: routes start with the TLS handshake (both directions).
    pub tls: Option<TlsOptions>,
    /// `tls { verify_cert_and_check_known_urls }`: a peer's certificate must
    /// also name the host of a configured route URL.
    pub tls_check_known_urls: bool,
    /// `connect_retries`: how many times an implicit (gossiped) route is
    /// redialed before it is given up (0 = once, as the reference; a
    /// negative value is 0).
    pub connect_retries: u32,
    /// `connect_backoff`: space those redials out exponentially.
    pub connect_backoff: bool,
    /// `pool_size` (default 3, also for 0; negative = no pooling and no
    /// pinned accounts).
    pub pool_size: i32,
    /// `accounts`: accounts with a dedicated route connection, as written
    /// (the system account is not added here).
    pub pinned_accounts: Vec<String>,
    /// `compression`.
    pub compression: RouteCompression,
    /// `permissions { import, export }`: what may come in from routes
    /// (import, which the peer is told as our subscribe permission) and go
    /// out to them (export). Also taken from the deprecated
    /// `authorization { permissions }` when the block has none.
    pub import: Option<SubjectPermission>,
    pub export: Option<SubjectPermission>,
    /// `write_deadline` of the cluster block (`None` = the server's).
    pub write_deadline: Option<Duration>,
    /// `write_timeout` of the cluster block.
    pub write_timeout: WriteTimeoutPolicy,
    /// `ping_interval` of the cluster block (`None` = the server's, capped at
    /// [`MAX_ROUTE_PING_INTERVAL`]).
    pub ping_interval: Option<Duration>,
    /// `ping_max` of the cluster block (`None` = the server's).
    pub ping_max: Option<u32>,
}

impl Default for ClusterOptions {
    /// What an empty `cluster { }` block gives: not listening (port 0).
    fn default() -> Self {
        ClusterOptions {
            name: None,
            host: DEFAULT_HOST.to_string(),
            port: 0,
            advertise: None,
            no_advertise: false,
            routes: Vec::new(),
            user: None,
            password: None,
            auth_timeout: DEFAULT_ROUTE_AUTH_TIMEOUT,
            tls: None,
            tls_check_known_urls: false,
            connect_retries: 0,
            connect_backoff: false,
            pool_size: DEFAULT_ROUTE_POOL_SIZE,
            pinned_accounts: Vec::new(),
            compression: RouteCompression::default(),
            import: None,
            export: None,
            write_deadline: None,
            write_timeout: WriteTimeoutPolicy::Default,
            ping_interval: None,
            ping_max: None,
        }
    }
}

impl ClusterOptions {
    /// True when the server clusters: a non-zero `port` (nats-server starts
    /// the route listener and dials `routes` only then).
    pub fn is_enabled(&self) -> bool {
        self.port != 0
    }
}

/// Reads the `cluster` entry. `None` when it is not a map (error recorded);
/// otherwise the block with every usable key applied.
pub(crate) fn parse(entry: &Entry, r: &mut Report) -> Option<ClusterOptions> {
    let Some(map) = entry.value.as_map() else {
        r.error(
            entry,
            format!(
                "Expected map to define cluster, got {}",
                entry.value.kind.go_type_name()
            ),
        );
        return None;
    };
    let mut c = ClusterOptions::default();
    let mut auth_timeout = None;
    let mut auth_permissions = None;
    let mut block_permissions = false;
    for e in map {
        match e.key.to_ascii_lowercase().as_str() {
            "name" => {
                if let Some(name) = string(e, r) {
                    if name.contains(' ') {
                        r.error(e, "cluster name cannot contain spaces");
                    } else {
                        c.name = non_empty(name);
                    }
                }
            }
            "listen" => {
                if let Some((host, port)) = r.host_port(e) {
                    if let Some(host) = host {
                        c.host = host_or_default(&host);
                    }
                    c.port = port;
                }
            }
            "port" => {
                if let Some(n) = int(e, r) {
                    match i32::try_from(n) {
                        Ok(p) if (-1..=65535).contains(&p) => c.port = p,
                        _ => r.error(
                            e,
                            format!(
                                "invalid port {n} for \"{}\", must be -1 (random) to 65535",
                                e.key
                            ),
                        ),
                    }
                }
            }
            "host" | "net" => {
                if let Some(host) = string(e, r) {
                    c.host = host_or_default(host);
                }
            }
            "advertise" | "cluster_advertise" => {
                if let Some(a) = string(e, r) {
                    c.advertise = non_empty(a);
                }
            }
            "no_advertise" => set_bool(&mut c.no_advertise, e, r),
            "routes" => c.routes = routes(e, r),
            "authorization" => {
                if let Some(a) = authorization(e, r) {
                    c.user = a.user;
                    c.password = a.password;
                    auth_timeout = a.timeout;
                    auth_permissions = a.permissions;
                }
            }
            "tls" => {
                let mut marks = TlsMarks::default();
                if let Some((t, known)) = tls::parse_in(e, r, &mut marks, TlsContext::Route) {
                    c.tls = Some(t);
                    c.tls_check_known_urls = known;
                    if known {
                        r.warn(
                            e,
                            "cluster tls verify_cert_and_check_known_urls is not supported yet: \
                             peers' certificates are verified, but not matched against the route URLs"
                                .to_string(),
                        );
                    }
                }
            }
            "connect_retries" => {
                if let Some(n) = int(e, r) {
                    c.connect_retries = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
                }
            }
            "connect_backoff" => set_bool(&mut c.connect_backoff, e, r),
            "permissions" => {
                block_permissions = true;
                if let Some((import, export)) = route_permissions(e, r) {
                    c.import = import;
                    c.export = export;
                }
            }
            "pool_size" => {
                if let Some(n) = int(e, r) {
                    match i32::try_from(n) {
                        Ok(0) => c.pool_size = DEFAULT_ROUTE_POOL_SIZE,
                        Ok(n) => c.pool_size = n,
                        Err(_) => r.error(e, format!("{} value is too big", e.key)),
                    }
                }
            }
            "accounts" => c.pinned_accounts = string_array(e, r),
            "compression" => {
                if let Some(mode) = compression(e, r) {
                    c.compression = mode;
                }
            }
            "ping_interval" => {
                if let Some(d) = r.duration_or_seconds(e) {
                    if d > MAX_ROUTE_PING_INTERVAL {
                        r.warn(
                            e,
                            format!(
                                "Cluster 'ping_interval' will reset to {} which is the max for routes",
                                format_go_duration(MAX_ROUTE_PING_INTERVAL)
                            ),
                        );
                    }
                    c.ping_interval = (!d.is_zero()).then_some(d);
                }
            }
            "ping_max" => {
                if let Some(n) = int(e, r) {
                    match u32::try_from(n) {
                        Ok(0) => c.ping_max = None,
                        Ok(n) => c.ping_max = Some(n),
                        Err(_) if n < 0 => {
                            r.error(e, format!("{} value can not be negative", e.key));
                        }
                        Err(_) => r.error(e, format!("{} value is too big", e.key)),
                    }
                }
            }
            "write_deadline" => {
                if let Some(d) = r.duration_or_seconds(e) {
                    c.write_deadline = (!d.is_zero()).then_some(d);
                }
            }
            "write_timeout" => {
                if let Some(s) = string(e, r) {
                    match s {
                        "default" => c.write_timeout = WriteTimeoutPolicy::Default,
                        "close" => c.write_timeout = WriteTimeoutPolicy::Close,
                        "retry" => c.write_timeout = WriteTimeoutPolicy::Retry,
                        _ => r.error(e, "write_timeout must be 'default', 'close' or 'retry'"),
                    }
                }
            }
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("unknown field {:?}", e.key)),
        }
    }
    if !block_permissions {
        if let Some((import, export)) = auth_permissions {
            c.import = import;
            c.export = export;
        }
    }
    c.auth_timeout = auth_timeout.unwrap_or_else(|| match &c.tls {
        Some(t) => t.timeout + Duration::from_secs(1),
        None => DEFAULT_ROUTE_AUTH_TIMEOUT,
    });
    Some(c)
}

/// The checks nats-server makes on the cluster when the server starts
/// (`validateCluster`) that need the whole file: pinned accounts against
/// `pool_size`, and duplicates among them (the system account, which
/// nats-server pins too, included).
pub(crate) fn validate(o: &Options, map: &Map, r: &mut Report) {
    let Some(c) = &o.cluster else { return };
    if c.pinned_accounts.is_empty() {
        return;
    }
    let Some(block) = map.get_ignore_case("cluster") else {
        return;
    };
    let at = block
        .value
        .as_map()
        .and_then(|m| m.get_ignore_case("accounts"))
        .unwrap_or(block);
    if c.pool_size < 0 {
        r.error(
            at,
            "pool_size cannot be negative if pinned accounts are specified",
        );
        return;
    }
    let mut pinned = c.pinned_accounts.clone();
    let system = match &o.system_account {
        Some(name) => Some(name.as_str()),
        None if o.no_system_account => None,
        None => Some("$SYS"),
    };
    if let Some(system) = system {
        if !pinned.iter().any(|a| a == system) {
            pinned.push(system.to_string());
        }
    }
    for (i, name) in pinned.iter().enumerate() {
        if pinned[..i].contains(name) {
            let list: Vec<String> = pinned.iter().map(|a| format!("{a:?}")).collect();
            r.error(
                at,
                format!(
                    "found duplicate account name {name:?} in pinned accounts list [{}]",
                    list.join(" ")
                ),
            );
            return;
        }
    }
}

/// A wrong type inside the block: nats-server's panic text, without the
/// `invalid type for field` the top-level keys get.
pub(super) fn wrong_type(e: &Entry, want: &str, r: &mut Report) {
    r.error(
        e,
        format!(
            "interface conversion: interface {{}} is {}, not {want}",
            e.value.kind.go_type_name()
        ),
    );
}

pub(super) fn int(e: &Entry, r: &mut Report) -> Option<i64> {
    let v = e.value.as_i64();
    if v.is_none() {
        wrong_type(e, "int64", r);
    }
    v
}

pub(super) fn string<'e>(e: &'e Entry, r: &mut Report) -> Option<&'e str> {
    let v = e.value.as_str();
    if v.is_none() {
        wrong_type(e, "string", r);
    }
    v
}

pub(super) fn set_bool(field: &mut bool, e: &Entry, r: &mut Report) {
    match e.value.as_bool() {
        Some(b) => *field = b,
        None => wrong_type(e, "bool", r),
    }
}

pub(super) fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// An empty host binds every interface, as nats-server's defaults make it.
pub(super) fn host_or_default(host: &str) -> String {
    if host.is_empty() {
        DEFAULT_HOST.to_string()
    } else {
        host.to_string()
    }
}

/// `routes`: a list of URL strings. A repeated URL warns and is dropped; a
/// bad one is an error where it is written.
fn routes(e: &Entry, r: &mut Report) -> Vec<RouteUrl> {
    let Some(items) = e.value.as_array() else {
        wrong_type(e, "[]interface {}", r);
        return Vec::new();
    };
    let mut seen: Vec<&str> = Vec::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(text) = item.as_str() else {
            r.error_at(
                &item.pos,
                format!(
                    "interface conversion: interface {{}} is {}, not string",
                    item.kind.go_type_name()
                ),
            );
            continue;
        };
        if seen.contains(&text) {
            r.warn_at(
                &item.pos,
                format!("invalid use of field {text:?}: Duplicate route entry detected"),
            );
            continue;
        }
        seen.push(text);
        match RouteUrl::parse(text) {
            Ok(url) => out.push(url),
            Err(message) => r.error_at(&item.pos, message),
        }
    }
    out
}

/// What the cluster takes from its `authorization` block.
struct RouteAuth {
    user: Option<String>,
    password: Option<String>,
    timeout: Option<Duration>,
    permissions: Option<(Option<SubjectPermission>, Option<SubjectPermission>)>,
}

/// `authorization { user, password, timeout }`, read by the client block's
/// parser; what routes cannot use is refused with nats-server's texts.
fn authorization(e: &Entry, r: &mut Report) -> Option<RouteAuth> {
    let mut marks = auth::AuthMarks::default();
    let a = auth::parse(e, r, &mut marks)?;
    let callout = e
        .value
        .as_map()
        .and_then(|m| m.get_ignore_case("auth_callout"))
        .is_some();
    let refused = if marks.users.is_some() {
        Some("Cluster authorization does not allow multiple users")
    } else if a.token.is_some() {
        Some("Cluster authorization does not support tokens")
    } else if callout {
        Some("Cluster authorization does not support callouts")
    } else if marks.certificate_clients.is_some() {
        Some("Cluster authorization does not support certificate_clients")
    } else {
        None
    };
    if let Some(message) = refused {
        r.error(e, message);
        return None;
    }
    let mut permissions = None;
    if let Some(p) = a.default_permissions {
        let (import, export) = (p.publish, p.subscribe);
        match check_route_subjects(import.as_ref(), export.as_ref()) {
            Err(message) => {
                r.error(e, message);
                return None;
            }
            Ok(()) => {
                r.warn(
                    e,
                    format!(
                        "invalid use of field {:?}: setting \"permissions\" within cluster \
                         authorization block is deprecated",
                        e.key
                    ),
                );
                permissions = Some((import, export));
            }
        }
    }
    Some(RouteAuth {
        user: a.user,
        password: a.password,
        timeout: a.timeout,
        permissions,
    })
}

/// `permissions { import, export }` (also `publish`/`subscribe`): subjects
/// only, no queue groups and no `allow_responses`.
fn route_permissions(
    e: &Entry,
    r: &mut Report,
) -> Option<(Option<SubjectPermission>, Option<SubjectPermission>)> {
    let parsed = permissions::parse(e, r)?;
    let p = parsed.permissions;
    if p.allow_responses.is_some() {
        r.error(e, "Cluster permissions do not support dynamic responses");
        return None;
    }
    if let Err(message) = check_route_subjects(p.publish.as_ref(), p.subscribe.as_ref()) {
        r.error(e, message);
        return None;
    }
    Some((p.publish, p.subscribe))
}

/// nats-server's `checkClusterPermissionSubjects`: the first subject that
/// is not a plain subject (queue entries included), named with its list.
fn check_route_subjects(
    import: Option<&SubjectPermission>,
    export: Option<&SubjectPermission>,
) -> Result<(), String> {
    let lists = [
        ("import allow", import.and_then(|p| p.allow.as_ref())),
        ("import deny", import.and_then(|p| p.deny.as_ref())),
        ("export allow", export.and_then(|p| p.allow.as_ref())),
        ("export deny", export.and_then(|p| p.deny.as_ref())),
    ];
    for (what, list) in lists {
        for subject in list.into_iter().flatten() {
            check_subject(subject, false).map_err(|m| format!("cluster {what}: {m}"))?;
        }
    }
    Ok(())
}

/// `accounts`: a string or a list of strings (nats-server's `parseStringArray`).
fn string_array(e: &Entry, r: &mut Report) -> Vec<String> {
    match &e.value.kind {
        Kind::String(s) | Kind::Duration { text: s, .. } => vec![s.clone()],
        Kind::Array(items) => items
            .iter()
            .filter_map(|item| match item.as_str() {
                Some(s) => Some(s.to_string()),
                None => {
                    r.error_at(
                        &item.pos,
                        format!(
                            "error parsing {}: unsupported type in array {}",
                            e.key,
                            item.kind.go_type_name()
                        ),
                    );
                    None
                }
            })
            .collect(),
        other => {
            r.error(
                e,
                format!(
                    "error parsing {}: unsupported type {}",
                    e.key,
                    other.go_type_name()
                ),
            );
            Vec::new()
        }
    }
}

/// `compression`: a bool, a mode, or `{ mode, rtt_thresholds }`. The mode
/// is checked here (nats-server checks it when the server starts).
pub(super) fn compression(e: &Entry, r: &mut Report) -> Option<RouteCompression> {
    let mode = match &e.value.kind {
        Kind::Bool(true) => return Some(RouteCompression::S2("s2_fast".to_string())),
        Kind::Bool(false) => return Some(RouteCompression::Off),
        Kind::String(s) | Kind::Duration { text: s, .. } => s.clone(),
        Kind::Map(map) => return compression_map(e, map, r),
        other => {
            r.error(
                e,
                format!(
                    "field {:?} should be a boolean or a structure, got {}",
                    e.key,
                    other.go_type_name()
                ),
            );
            return None;
        }
    };
    match RouteCompression::from_mode(&mode) {
        Ok(c) => Some(c),
        Err(message) => {
            r.error(e, message);
            None
        }
    }
}

/// `compression { mode, rtt_thresholds }`. The thresholds only matter to
/// `s2_auto`, and are checked as nats-server checks them, then dropped
/// (Gannet does not compress).
fn compression_map(e: &Entry, map: &Map, r: &mut Report) -> Option<RouteCompression> {
    let mut mode = String::new();
    let mut thresholds: Option<Vec<i64>> = None;
    for m in map {
        match m.key.to_ascii_lowercase().as_str() {
            "mode" => mode = string(m, r)?.to_string(),
            "rtt_thresholds" | "thresholds" | "rtts" | "rtt" => {
                let Some(items) = m.value.as_array() else {
                    wrong_type(m, "[]interface {}", r);
                    return None;
                };
                let mut list = Vec::with_capacity(items.len());
                for item in items {
                    let Some(text) = item.as_str() else {
                        r.error_at(
                            &item.pos,
                            format!(
                                "interface conversion: interface {{}} is {}, not string",
                                item.kind.go_type_name()
                            ),
                        );
                        return None;
                    };
                    match conf::parse_go_duration(text) {
                        Ok(nanos) => list.push(nanos),
                        Err(err) => {
                            r.error(m, err.to_string());
                            return None;
                        }
                    }
                }
                thresholds = Some(list);
            }
            _ if m.used_as_variable => {}
            _ => {
                r.error(m, format!("unknown field {:?}", m.key));
                return None;
            }
        }
    }
    let c = match RouteCompression::from_mode(&mode) {
        Ok(c) => c,
        Err(message) => {
            r.error(e, message);
            return None;
        }
    };
    if c == RouteCompression::S2("s2_auto".to_string()) {
        if let Some(list) = thresholds.filter(|l| !l.is_empty()) {
            if let Err(message) = check_rtt_thresholds(&mode, &list) {
                r.error(e, message);
                return None;
            }
        }
    }
    Some(c)
}

/// nats-server's checks on `s2_auto` thresholds: ascending (zeros aside),
/// at most 4 once trailing zeros are dropped, and at least one.
fn check_rtt_thresholds(mode: &str, list: &[i64]) -> Result<(), String> {
    let shown = || {
        let items: Vec<String> = list.iter().map(|n| go_nanos(*n)).collect();
        format!("[{}]", items.join(" "))
    };
    let mut rtts: Vec<i64> = Vec::with_capacity(list.len());
    for &n in list {
        let n = n.max(0);
        if !rtts.is_empty() && n != 0 && rtts.iter().any(|&v| n < v) {
            return Err(format!(
                "RTT threshold values {} should be in ascending order",
                shown()
            ));
        }
        rtts.push(n);
    }
    while rtts.last() == Some(&0) {
        rtts.pop();
    }
    if rtts.len() > 4 {
        Err(format!(
            "compression mode {mode:?} should have no more than 4 RTT thresholds: {}",
            shown()
        ))
    } else if rtts.is_empty() {
        Err(format!(
            "compression mode {mode:?} requires at least one RTT threshold"
        ))
    } else {
        Ok(())
    }
}

/// A signed nanosecond count as Go's `time.Duration` prints it.
fn go_nanos(n: i64) -> String {
    let d = format_go_duration(Duration::from_nanos(n.unsigned_abs()));
    if n < 0 {
        format!("-{d}")
    } else {
        d
    }
}

#[cfg(test)]
mod tests;
