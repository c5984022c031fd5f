//! The `leafnodes { }` block (nats-server's `LeafNodeOpts` and
//! `parseLeafNodes` in `opts.go`): where this server accepts leaf nodes (as a
//! hub), and the remote hubs it connects to as a leaf.
//!
//! `parse` reads the block (top-level key `leafnodes` or `leaf`) with
//! nats-server's error texts, in the manner of the `cluster { }` block;
//! `validate` runs the checks nats-server makes when the server starts
//! (accounts named by the block exist) at load time instead, so `-t`
//! catches them. Keys nats-server knows that Gannet does not act on
//! (`min_version`, `isolate_leafnode_interest`, a remote's `nkey`, ...) are
//! checked for type and accepted with a "not supported yet" warning.
//!
//! Differences from nats-server: a remote URL must use one of
//! [`LEAF_URL_SCHEMES`] and have a host (nats-server accepts any scheme and
//! an empty host, then fails every dial); a `port` outside -1..=65535 is
//! refused; compression modes and the websocket/non-websocket URL mix are
//! checked at load; a remote without a URL is dropped with a warning, and a
//! `disabled: true` remote is dropped silently (nats-server keeps both and
//! never dials them); `tls { }` of the listener needs `cert_file` and
//! `key_file` (a remote's does not).
use std::path::PathBuf;
use std::time::Duration;

use super::accounts::GLOBAL_ACCOUNT;
use super::auth::warn_high_timeout;
use super::cluster::{self, host_or_default, int, non_empty, set_bool, string, url, wrong_type};
use super::convert::{go_value, Report};
use super::nkey::is_valid_public_user_key;
use super::permissions;
use super::security::TlsOptions;
use super::tls::{self, TlsContext, TlsMarks};
use super::Options;
use crate::conf::{Entry, Kind, Map, Pos};

/// Default leaf node port.
pub const DEFAULT_LEAFNODE_PORT: i32 = 7422;
/// Default pause before a leaf reconnects to its hub.
pub const DEFAULT_LEAF_RECONNECT: Duration = Duration::from_secs(1);
/// Default time a leaf has to authenticate (without listener TLS; with it,
/// the TLS timeout + 1 s, as for clients and routes).
pub const DEFAULT_LEAF_AUTH_TIMEOUT: Duration = Duration::from_secs(2);
/// The URL schemes a remote may use (lower case; any case is accepted).
/// `ws` and `wss` cannot be mixed with the others within one remote.
pub const LEAF_URL_SCHEMES: &[&str] = &["nats-leaf", "nats", "tls", "ws", "wss"];

/// A user leaf nodes may log in as (`leafnodes { authorization { users } }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafUser {
    pub user: String,
    pub password: String,
    /// The account the leaf's connection is bound to on this hub.
    pub account: Option<String>,
}

/// One hub to connect to (`remotes: [ { ... } ]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafRemote {
    /// `url` or `urls`: tried in turn (`nats-leaf://`, `nats://`, `tls://`,
    /// `ws://`, `wss://`), user and password in the URL. Each has been
    /// checked by [`LeafUrl::parse`] and is kept as written (trimmed), with
    /// `:7422` added when it had no port.
    pub urls: Vec<String>,
    /// `account`: the local account the connection is bound to (default `$G`).
    pub account: Option<String>,
    /// `credentials` (also `creds`): a JWT + seed file, with `$VAR`s and a
    /// leading `~` expanded as nats-server does.
    pub credentials: Option<PathBuf>,
    /// `tls { }` for this remote (also implied by a `tls://` URL). Its
    /// certificate is optional: empty `cert_file` and `key_file` = no client
    /// certificate.
    pub tls: Option<TlsOptions>,
    /// `hub: true`: this side acts as the hub of that link.
    pub hub: bool,
    /// `deny_imports` / `deny_exports`: subjects not to take from, or send
    /// to, the hub.
    pub deny_imports: Vec<String>,
    pub deny_exports: Vec<String>,
    /// `compression` as written (Gannet declines compression); `true` is
    /// `s2_auto` and `false` is `off`, as nats-server reads them; the `mode`
    /// of a `{ mode, rtt_thresholds }` map.
    pub compression: Option<String>,
}

/// The `leafnodes { }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafNodeOptions {
    /// `host` (or the host of `listen`).
    pub host: String,
    /// `port` (or the port of `listen`); 0 = no listener (only remotes),
    /// `-1` = any free port.
    pub port: i32,
    /// `advertise`: `host:port` given out instead of the listen address.
    pub advertise: Option<String>,
    /// `no_advertise`: do not tell leafs the hub cluster's leaf URLs.
    pub no_advertise: bool,
    /// `authorization { user, password, account, timeout }`: a single user.
    pub user: Option<String>,
    pub password: Option<String>,
    /// The account a leaf logging in as `user` is bound to.
    pub account: Option<String>,
    /// `authorization { users: [ { user, password, account } ] }`.
    pub users: Vec<LeafUser>,
    /// `authorization { timeout }`; when not given (or 0),
    /// [`DEFAULT_LEAF_AUTH_TIMEOUT`], or the listener TLS timeout + 1 s with
    /// listener TLS.
    pub auth_timeout: Duration,
    /// `tls { }` of the listener.
    pub tls: Option<TlsOptions>,
    /// `remotes`.
    pub remotes: Vec<LeafRemote>,
    /// `reconnect` (also `reconnect_delay`, `reconnect_interval`): pause
    /// between tries to a hub; 0 = the default [`DEFAULT_LEAF_RECONNECT`].
    pub reconnect: Duration,
    /// `compression` as written (Gannet declines compression), read as a
    /// remote's [`LeafRemote::compression`] is.
    pub compression: Option<String>,
}

impl Default for LeafNodeOptions {
    fn default() -> Self {
        LeafNodeOptions {
            host: super::DEFAULT_HOST.to_string(),
            port: 0,
            advertise: None,
            no_advertise: false,
            user: None,
            password: None,
            account: None,
            users: Vec::new(),
            auth_timeout: DEFAULT_LEAF_AUTH_TIMEOUT,
            tls: None,
            remotes: Vec::new(),
            reconnect: DEFAULT_LEAF_RECONNECT,
            compression: None,
        }
    }
}

/// A remote's URL, checked (nats-server's `parseURL` for `leafnode`, plus
/// the scheme and host checks it does not make).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafUrl {
    /// As written (spaces around it trimmed), with `:7422` added when it
    /// has no port; secrets included (callers mask them).
    pub url: String,
    /// Lower-cased: one of [`LEAF_URL_SCHEMES`].
    pub scheme: String,
    /// Without the brackets of an IPv6 address.
    pub host: String,
    /// [`DEFAULT_LEAFNODE_PORT`] when the URL has none.
    pub port: u16,
    /// Percent-decoded.
    pub user: Option<String>,
    /// Percent-decoded; `None` when the URL has a user without `:`.
    pub password: Option<String>,
}

impl LeafUrl {
    /// Parses a remote URL as nats-server does (Go's `url.Parse`), then
    /// requires a known scheme and a host; a missing port is
    /// [`DEFAULT_LEAFNODE_PORT`]. The error is the whole message:
    /// `error parsing leafnode url ["<text>"]`, nats-server's text, plus
    /// `: <reason>` for the checks it does not make.
    pub fn parse(text: &str) -> Result<LeafUrl, String> {
        let text = text.trim();
        let fail = |reason: Option<String>| {
            let base = format!("error parsing leafnode url [{text:?}]");
            Err(match reason {
                Some(reason) => format!("{base}: {reason}"),
                None => base,
            })
        };
        let Ok(parsed) = url::parse(text) else {
            return fail(None);
        };
        if !LEAF_URL_SCHEMES.contains(&parsed.scheme.as_str()) {
            let expected = "expected nats-leaf, nats, tls, ws or wss";
            return fail(Some(if parsed.scheme.is_empty() {
                format!("missing scheme, {expected}")
            } else {
                format!("unsupported scheme {:?}, {expected}", parsed.scheme)
            }));
        }
        if parsed.host.is_empty() {
            return fail(Some("missing host".to_string()));
        }
        let has_port = match parsed.host.strip_prefix('[') {
            Some(rest) => rest
                .split_once(']')
                .is_some_and(|(_, after)| !after.is_empty()),
            None => parsed.host.contains(':'),
        };
        let (host, port) = if has_port {
            match url::split_host_port(&parsed.host) {
                Ok(hp) => hp,
                Err(reason) => return fail(Some(reason)),
            }
        } else {
            let host = parsed.host.as_str();
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            (host, "")
        };
        if host.is_empty() {
            return fail(Some("missing host".to_string()));
        }
        let (port, url) = if port.is_empty() {
            (
                DEFAULT_LEAFNODE_PORT as u16,
                with_default_port(text, DEFAULT_LEAFNODE_PORT),
            )
        } else {
            match port.parse::<u16>() {
                Ok(p) if p != 0 => (p, text.to_string()),
                _ => return fail(Some("invalid port".to_string())),
            }
        };
        Ok(LeafUrl {
            url,
            scheme: parsed.scheme,
            host: host.to_string(),
            port,
            user: parsed.user,
            password: parsed.password,
        })
    }

    /// A websocket URL (`ws://`, `wss://`).
    pub fn is_websocket(&self) -> bool {
        is_websocket_scheme(&self.scheme)
    }
}

fn is_websocket_scheme(scheme: &str) -> bool {
    scheme == "ws" || scheme == "wss"
}

/// `text` (a URL with a host and no port, or an empty one after `:`) with
/// `port` (the default of its kind) put at the end of its authority.
/// Shared with gateway URLs.
pub(super) fn with_default_port(text: &str, port: i32) -> String {
    let Some(start) = text.find("//").map(|i| i + 2) else {
        return text.to_string();
    };
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    let colon = if text[..end].ends_with(':') { "" } else { ":" };
    format!("{}{colon}{port}{}", &text[..end], &text[end..])
}

/// A URL with its password replaced by `xxxxx`, for messages (Go's
/// `redactURLList`).
fn redact(text: &str) -> String {
    let Some(start) = text.find("//").map(|i| i + 2) else {
        return text.to_string();
    };
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    let Some(at) = text[start..end].rfind('@').map(|i| start + i) else {
        return text.to_string();
    };
    match text[start..at].find(':') {
        Some(colon) => format!("{}:xxxxx{}", &text[..start + colon], &text[at..]),
        None => text.to_string(),
    }
}

impl LeafRemote {
    /// How nats-server names a remote in messages: its URLs (passwords
    /// masked), its account and its credentials file.
    pub fn safe_name(&self) -> String {
        let account = self.account.as_deref().unwrap_or(GLOBAL_ACCOUNT);
        let credentials = self
            .credentials
            .as_ref()
            .map(|c| format!(", credentials={:?}", c.display().to_string()))
            .unwrap_or_default();
        format!(
            "urls={}, account={account:?}{credentials}",
            quoted_list(&self.urls)
        )
    }
}

/// Go's `%q` of a list of URLs, passwords redacted: `["a" "b"]`.
fn quoted_list(urls: &[String]) -> String {
    let items: Vec<String> = urls.iter().map(|u| format!("{:?}", redact(u))).collect();
    format!("[{}]", items.join(" "))
}

/// A warning for a key nats-server knows that Gannet does not act on yet.
/// `block` is where the key is (`leafnodes`, `leafnodes.remotes`, ...).
fn not_supported(e: &Entry, block: &str, r: &mut Report) {
    r.warn(e, format!("{block}.{} is not supported yet", e.key));
}

/// A boolean Gannet does not act on yet: checked, and warned about when true.
fn unsupported_flag(e: &Entry, block: &str, r: &mut Report) {
    let mut on = false;
    set_bool(&mut on, e, r);
    if on {
        not_supported(e, block, r);
    }
}

/// A duration Gannet does not act on yet: checked like nats-server's
/// `parseDuration` (`name` in its messages), then warned about.
fn unsupported_duration(e: &Entry, name: &str, block: &str, r: &mut Report) {
    if r.duration_or_seconds_as(e, name).is_some() {
        not_supported(e, block, r);
    }
}

/// Reads the `leafnodes` (or `leaf`) entry. `None` when it is not a map
/// (error recorded); otherwise the block with every usable key applied.
pub(crate) fn parse(entry: &Entry, r: &mut Report) -> Option<LeafNodeOptions> {
    const BLOCK: &str = "leafnodes";
    let Some(map) = entry.value.as_map() else {
        r.error(
            entry,
            format!(
                "Expected map to define a leafnode, got {}",
                entry.value.kind.go_type_name()
            ),
        );
        return None;
    };
    let mut l = LeafNodeOptions::default();
    let mut auth_timeout = None;
    for e in map {
        match e.key.to_ascii_lowercase().as_str() {
            "listen" => {
                if let Some((host, port)) = r.host_port(e) {
                    if let Some(host) = host {
                        l.host = host_or_default(&host);
                    }
                    l.port = port;
                }
            }
            "port" => {
                if let Some(n) = int(e, r) {
                    match i32::try_from(n) {
                        Ok(p) if (-1..=65535).contains(&p) => l.port = p,
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
                    l.host = host_or_default(host);
                }
            }
            "advertise" | "leafnode_advertise" => {
                if let Some(a) = string(e, r) {
                    l.advertise = non_empty(a);
                }
            }
            "no_advertise" => set_bool(&mut l.no_advertise, e, r),
            "authorization" => {
                if let Some(a) = authorization(e, r) {
                    l.user = a.user;
                    l.password = a.password;
                    l.account = a.account;
                    l.users = a.users;
                    auth_timeout = a.timeout;
                }
            }
            "remotes" => l.remotes = remotes(e, r),
            "reconnect" | "reconnect_delay" | "reconnect_interval" => {
                if let Some(d) = r.duration_or_seconds_as(e, "reconnect") {
                    l.reconnect = if d.is_zero() {
                        DEFAULT_LEAF_RECONNECT
                    } else {
                        d
                    };
                }
            }
            "tls" => {
                let mut marks = TlsMarks::default();
                if let Some((t, _)) = tls::parse_in(e, r, &mut marks, TlsContext::Leaf) {
                    l.tls = Some(t);
                }
            }
            "compression" => l.compression = compression(e, r),
            "min_version" | "minimum_version" => {
                if let Some(v) = string(e, r) {
                    match check_min_version(v) {
                        Ok(()) => not_supported(e, BLOCK, r),
                        Err(message) => r.error(e, message),
                    }
                }
            }
            "dial_timeout" => unsupported_duration(e, "dial_timeout", BLOCK, r),
            "write_deadline" => unsupported_duration(e, "write_deadline", BLOCK, r),
            "write_timeout" => {
                if let Some(s) = string(e, r) {
                    if matches!(s, "default" | "close" | "retry") {
                        not_supported(e, BLOCK, r);
                    } else {
                        r.error(e, "write_timeout must be 'default', 'close' or 'retry'");
                    }
                }
            }
            "isolate_leafnode_interest" | "isolate" => unsupported_flag(e, BLOCK, r),
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("unknown field {:?}", e.key)),
        }
    }
    l.auth_timeout = auth_timeout.unwrap_or_else(|| match &l.tls {
        Some(t) => t.timeout + Duration::from_secs(1),
        None => DEFAULT_LEAF_AUTH_TIMEOUT,
    });
    Some(l)
}

/// The checks nats-server makes on the block when the server starts
/// (`validateLeafNode`) that need the whole file: the accounts that
/// `authorization` (and its users) and the remotes bind to must exist
/// (`$G` always does; `$SYS` does unless another system account is named
/// or there is none). Skipped in operator mode, where accounts are nkeys.
pub(crate) fn validate(o: &Options, map: &Map, r: &mut Report) {
    if o.leafnodes.is_none() {
        return;
    }
    let operator_mode = [
        "operator",
        "operators",
        "roots",
        "root",
        "root_operators",
        "root_operator",
    ]
    .iter()
    .any(|k| map.get_ignore_case(k).is_some());
    if operator_mode {
        return;
    }
    let Some(block) = map
        .iter()
        .rev()
        .find(|e| matches!(e.key.to_ascii_lowercase().as_str(), "leaf" | "leafnodes"))
        .and_then(|e| e.value.as_map())
    else {
        return;
    };
    let mut known: Vec<&str> = o.accounts.iter().map(|a| a.name.as_str()).collect();
    known.extend(["", GLOBAL_ACCOUNT]);
    if o.system_account.is_none() && !o.no_system_account {
        known.push("$SYS");
    }
    let check = |e: &Entry, what: &str, r: &mut Report| {
        if let Some(name) = e.value.as_str() {
            if !known.contains(&name) {
                r.error(
                    e,
                    format!("cannot find local account {name:?} specified in leafnode {what}"),
                );
            }
        }
    };
    if let Some(auth) = block
        .get_ignore_case("authorization")
        .and_then(|e| e.value.as_map())
    {
        if let Some(e) = auth.get_ignore_case("account") {
            check(e, "authorization", r);
        }
        let users = auth
            .get_ignore_case("users")
            .and_then(|e| e.value.as_array());
        for user in users.into_iter().flatten().filter_map(|u| u.as_map()) {
            if let Some(e) = user.get_ignore_case("account") {
                check(e, "authorization", r);
            }
        }
    }
    let remotes = block
        .get_ignore_case("remotes")
        .and_then(|e| e.value.as_array());
    for remote in remotes.into_iter().flatten().filter_map(|v| v.as_map()) {
        let account = remote
            .iter()
            .rev()
            .find(|e| matches!(e.key.to_ascii_lowercase().as_str(), "account" | "local"));
        if let Some(e) = account {
            check(e, "remote", r);
        }
    }
}

/// nats-server's `checkLeafMinVersionConfig`: a semantic version of at
/// least 2.8.0.
fn check_min_version(v: &str) -> Result<(), String> {
    let (major, minor, patch) =
        semver(v).map_err(|e| format!("invalid leafnode's minimum version: {e}"))?;
    if (major, minor, patch) >= (2, 8, 0) {
        Ok(())
    } else {
        Err("the minimum version should be at least 2.8.0".to_string())
    }
}

/// The major, minor and patch of a semantic version (nats-server's
/// `semVerRe` and `versionComponents`); the error is its reason.
fn semver(v: &str) -> Result<(u64, u64, u64), String> {
    let invalid = || "invalid semver".to_string();
    let (v, build) = match v.split_once('+') {
        Some((v, b)) => (v, Some(b)),
        None => (v, None),
    };
    if let Some(build) = build {
        let ok = build
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        if !ok {
            return Err(invalid());
        }
    }
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    if let Some(pre) = pre {
        let ok = pre.split('.').all(|p| {
            let chars_ok =
                !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            let numeric = p.bytes().all(|b| b.is_ascii_digit());
            chars_ok && (!numeric || p == "0" || !p.starts_with('0'))
        });
        if !ok {
            return Err(invalid());
        }
    }
    let parts: Vec<&str> = core.split('.').collect();
    let [major, minor, patch] = parts.as_slice() else {
        return Err(invalid());
    };
    let number = |p: &str| -> Result<u64, String> {
        if p.is_empty()
            || !p.bytes().all(|b| b.is_ascii_digit())
            || (p.len() > 1 && p.starts_with('0'))
        {
            return Err(invalid());
        }
        match p.parse::<i64>() {
            Ok(n) => Ok(n as u64),
            Err(_) => Err(format!("strconv.Atoi: parsing {p:?}: value out of range")),
        }
    };
    Ok((number(major)?, number(minor)?, number(patch)?))
}

/// What the block takes from its `authorization` block.
#[derive(Default)]
struct LeafAuth {
    user: Option<String>,
    password: Option<String>,
    account: Option<String>,
    users: Vec<LeafUser>,
    timeout: Option<Duration>,
}

/// `authorization { user, password, account, timeout, users }`
/// (nats-server's `parseLeafAuthorization` and
/// `validateLeafNodeAuthOptions`). `nkey` and `proxy_required` are checked,
/// then warned about.
fn authorization(e: &Entry, r: &mut Report) -> Option<LeafAuth> {
    const BLOCK: &str = "leafnodes.authorization";
    let Some(map) = e.value.as_map() else {
        wrong_type(e, "map[string]interface {}", r);
        return None;
    };
    let mut a = LeafAuth::default();
    let mut nkey = false;
    for m in map {
        match m.key.to_ascii_lowercase().as_str() {
            "user" | "username" => a.user = string(m, r).and_then(non_empty),
            "pass" | "password" => a.password = string(m, r).and_then(non_empty),
            "account" => a.account = string(m, r).and_then(non_empty),
            "timeout" => {
                if let Some(t) = tls::timeout(m, "leafnode authorization", r) {
                    warn_high_timeout(m, t, r);
                    a.timeout = t;
                }
            }
            "users" => {
                if let Some(users) = users(m, r) {
                    a.users = users;
                }
            }
            "nkey" => {
                if let Some(key) = string(m, r) {
                    if is_valid_public_user_key(key) {
                        nkey = true;
                        not_supported(m, BLOCK, r);
                    } else {
                        r.error(m, "Not a valid public nkey for leafnode authorization");
                    }
                }
            }
            "proxy_required" => unsupported_flag(m, BLOCK, r),
            _ if m.used_as_variable => {}
            _ => r.error(m, format!("unknown field {:?}", m.key)),
        }
    }
    if a.users.is_empty() {
        return Some(a);
    }
    let refused = if a.user.is_some() {
        Some("can not have a single user/pass and a users array".to_string())
    } else if nkey {
        Some("can not have a single nkey and a users array".to_string())
    } else {
        a.users.iter().enumerate().find_map(|(i, u)| {
            a.users[..i].iter().any(|v| v.user == u.user).then(|| {
                format!(
                    "duplicate user {:?} detected in leafnode authorization",
                    u.user
                )
            })
        })
    };
    match refused {
        Some(message) => {
            r.error(e, message);
            None
        }
        None => Some(a),
    }
}

/// `users: [ { user, password, account } ]` (nats-server's `parseLeafUsers`).
fn users(e: &Entry, r: &mut Report) -> Option<Vec<LeafUser>> {
    let Some(items) = e.value.as_array() else {
        r.error(
            e,
            format!(
                "Expected users field to be an array, got {}",
                go_value(&e.value)
            ),
        );
        return None;
    };
    let mut users = Vec::with_capacity(items.len());
    for item in items {
        let Some(map) = item.as_map() else {
            r.error_at(
                &item.pos,
                format!(
                    "Expected user entry to be a map/struct, got {}",
                    go_value(item)
                ),
            );
            continue;
        };
        let mut user = LeafUser {
            user: String::new(),
            password: String::new(),
            account: None,
        };
        for m in map {
            match m.key.to_ascii_lowercase().as_str() {
                "user" | "username" => {
                    if let Some(s) = string(m, r) {
                        user.user = s.to_string();
                    }
                }
                "pass" | "password" => {
                    if let Some(s) = string(m, r) {
                        user.password = s.to_string();
                    }
                }
                "account" => user.account = string(m, r).and_then(non_empty),
                "proxy_required" => unsupported_flag(m, "leafnodes.authorization.users", r),
                _ if m.used_as_variable => {}
                _ => r.error(m, format!("unknown field {:?}", m.key)),
            }
        }
        users.push(user);
    }
    Some(users)
}

/// `remotes: [ { url, account, credentials, tls, hub, ... } ]` (nats-server's
/// `parseRemoteLeafNodes`). A repeated remote (same URLs, account and
/// credentials) is an error, as in nats-server.
fn remotes(e: &Entry, r: &mut Report) -> Vec<LeafRemote> {
    let Some(items) = e.value.as_array() else {
        r.error(
            e,
            format!(
                "Expected remotes field to be an array, got {}",
                e.value.kind.go_type_name()
            ),
        );
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(map) = item.as_map() else {
            r.error_at(
                &item.pos,
                format!(
                    "Expected remote leafnode entry to be a map/struct, got {}",
                    go_value(item)
                ),
            );
            continue;
        };
        let Some(parsed) = remote(map, r) else {
            continue;
        };
        let at = parsed.urls_at.as_ref().unwrap_or(&item.pos);
        let name = parsed.name();
        if names.contains(&name) {
            r.error_at(at, format!("duplicate remote {}", parsed.safe_name()));
            continue;
        }
        names.push(name);
        if parsed.disabled {
            continue;
        }
        if parsed.remote.urls.is_empty() {
            r.warn_at(at, "remote leafnode entry has no url: it is ignored");
            continue;
        }
        out.push(parsed.remote);
    }
    out
}

/// One remote as read, with what the checks across remotes need.
struct ParsedRemote {
    remote: LeafRemote,
    /// Where `url`/`urls` is (the last one), to report the remote at.
    urls_at: Option<Pos>,
    /// A `nkey`/`seed` was given (it only takes part in the name).
    nkey: bool,
    disabled: bool,
}

impl ParsedRemote {
    /// nats-server's `RemoteLeafOpts.name()`: what makes two remotes the same.
    fn name(&self) -> String {
        self.describe(false)
    }

    /// [`ParsedRemote::name`] with passwords and the nkey masked.
    fn safe_name(&self) -> String {
        self.describe(true)
    }

    fn describe(&self, redacted: bool) -> String {
        let r = &self.remote;
        let account = r.account.as_deref().unwrap_or(GLOBAL_ACCOUNT);
        let optional = match (&r.credentials, self.nkey) {
            (Some(c), _) => format!(", credentials={:?}", c.display().to_string()),
            (None, true) if redacted => ", nkey=\"[REDACTED]\"".to_string(),
            (None, true) => ", nkey".to_string(),
            (None, false) => String::new(),
        };
        let urls = if redacted {
            quoted_list(&r.urls)
        } else {
            let items: Vec<String> = r.urls.iter().map(|u| format!("{u:?}")).collect();
            format!("[{}]", items.join(" "))
        };
        format!("urls={urls}, account={account:?}{optional}")
    }
}

/// The keys of one remote. `None` when a check on the whole remote failed
/// (error recorded).
fn remote(map: &Map, r: &mut Report) -> Option<ParsedRemote> {
    const BLOCK: &str = "leafnodes.remotes";
    let mut p = ParsedRemote {
        remote: LeafRemote {
            urls: Vec::new(),
            account: None,
            credentials: None,
            tls: None,
            hub: false,
            deny_imports: Vec::new(),
            deny_exports: Vec::new(),
            compression: None,
        },
        urls_at: None,
        nkey: false,
        disabled: false,
    };
    let mut websocket: Vec<bool> = Vec::new();
    for e in map {
        let key = e.key.to_ascii_lowercase();
        match key.as_str() {
            "url" | "urls" => {
                p.urls_at = Some(e.key_pos.clone());
                let parsed = remote_urls(e, r);
                if matches!(e.value.kind, Kind::Array(_)) {
                    p.remote.urls.clear();
                    websocket.clear();
                }
                for u in parsed {
                    websocket.push(u.is_websocket());
                    p.remote.urls.push(u.url);
                }
            }
            "account" | "local" => p.remote.account = string(e, r).and_then(non_empty),
            "creds" | "credentials" => {
                if let Some(s) = string(e, r) {
                    if p.nkey {
                        r.error(
                            e,
                            "Remote leafnode can not have both creds and nkey defined",
                        );
                    } else {
                        match expand_path(s) {
                            Ok(path) => p.remote.credentials = non_empty(&path).map(PathBuf::from),
                            Err(message) => r.error(e, message),
                        }
                    }
                }
            }
            "nkey" | "seed" => {
                if string(e, r).is_some() {
                    if p.remote.credentials.is_some() {
                        r.error(
                            e,
                            "Remote leafnode can not have both creds and nkey defined",
                        );
                    } else {
                        p.nkey = true;
                        not_supported(e, BLOCK, r);
                    }
                }
            }
            "tls" => {
                let mut marks = TlsMarks::default();
                if let Some((t, _)) = tls::parse_in(e, r, &mut marks, TlsContext::LeafRemote) {
                    p.remote.tls = Some(t);
                }
            }
            "hub" => set_bool(&mut p.remote.hub, e, r),
            "deny_imports" | "deny_import" => {
                if let Some(list) = permissions::subjects(&e.value, false, r) {
                    p.remote.deny_imports = list;
                }
            }
            "deny_exports" | "deny_export" => {
                if let Some(list) = permissions::subjects(&e.value, false, r) {
                    p.remote.deny_exports = list;
                }
            }
            "compression" => p.remote.compression = compression(e, r),
            "disabled" => set_bool(&mut p.disabled, e, r),
            "no_randomize"
            | "dont_randomize"
            | "ws_compress"
            | "ws_compression"
            | "websocket_compress"
            | "websocket_compression"
            | "ws_no_masking"
            | "websocket_no_masking"
            | "isolate_leafnode_interest"
            | "isolate"
            | "request_isolation"
            | "ignore_discovered_servers" => unsupported_flag(e, BLOCK, r),
            "first_info_timeout" | "dial_timeout" => unsupported_duration(e, &key, BLOCK, r),
            "jetstream_cluster_migrate" | "js_cluster_migrate" => cluster_migrate(e, r),
            "proxy" => proxy(e, r),
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("unknown field {:?}", e.key)),
        }
    }
    let mixed = websocket
        .first()
        .is_some_and(|first| websocket.iter().any(|w| w != first));
    if let (true, Some(at)) = (mixed, &p.urls_at) {
        r.error_at(
            at,
            format!(
                "remote leaf node configuration cannot have a mix of websocket and non-websocket urls: {}",
                quoted_list(&p.remote.urls)
            ),
        );
        return None;
    }
    Some(p)
}

/// `url`/`urls`: a string or a list of strings, each checked with
/// [`LeafUrl::parse`]. A repeated URL in a list warns and is dropped, as in
/// nats-server.
fn remote_urls(e: &Entry, r: &mut Report) -> Vec<LeafUrl> {
    let items: Vec<&crate::conf::Value> = match &e.value.kind {
        Kind::Array(items) => items.iter().collect(),
        Kind::String(_) | Kind::Duration { .. } => vec![&e.value],
        _ => {
            r.error(
                e,
                format!(
                    "Expected remote leafnode url to be an array or string, got {}",
                    go_value(&e.value)
                ),
            );
            return Vec::new();
        }
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
                format!("invalid use of field {text:?}: Duplicate leafnode entry detected"),
            );
            continue;
        }
        seen.push(text);
        match LeafUrl::parse(text) {
            Ok(u) => out.push(u),
            Err(message) => r.error_at(&item.pos, message),
        }
    }
    out
}

/// `compression` of the block or of a remote: a bool, a mode, or
/// `{ mode, rtt_thresholds }`, checked as the cluster's is (nats-server
/// checks it when the server starts), and kept as written.
fn compression(e: &Entry, r: &mut Report) -> Option<String> {
    cluster::compression(e, r)?;
    match &e.value.kind {
        Kind::Bool(true) => Some("s2_auto".to_string()),
        Kind::Bool(false) => Some("off".to_string()),
        Kind::String(s) | Kind::Duration { text: s, .. } => non_empty(s),
        Kind::Map(map) => map
            .get_ignore_case("mode")
            .and_then(|m| m.value.as_str())
            .and_then(non_empty),
        _ => None,
    }
}

/// A remote's `jetstream_cluster_migrate`: a bool or
/// `{ leader_migrate_delay }`; warned about when on.
fn cluster_migrate(e: &Entry, r: &mut Report) {
    match &e.value.kind {
        Kind::Bool(false) => {}
        Kind::Bool(true) => not_supported(e, "leafnodes.remotes", r),
        Kind::Map(map) => {
            if let Some(d) = map.get("leader_migrate_delay") {
                r.duration_or_seconds_as(d, "leader_migrate_delay");
            }
            not_supported(e, "leafnodes.remotes", r);
        }
        other => r.error(
            e,
            format!(
                "Expected boolean or map for jetstream_cluster_migrate, got {}",
                other.go_type_name()
            ),
        ),
    }
}

/// A remote's `proxy { url, username, password, timeout }`: keys checked,
/// then warned about (Gannet dials hubs directly).
fn proxy(e: &Entry, r: &mut Report) {
    let Some(map) = e.value.as_map() else {
        r.error(
            e,
            format!(
                "Expected proxy to be a map, got {}",
                e.value.kind.go_type_name()
            ),
        );
        return;
    };
    for m in map {
        match m.key.to_ascii_lowercase().as_str() {
            "url" | "username" | "password" => {
                string(m, r);
            }
            "timeout" => {
                r.duration_or_seconds_as(m, "proxy timeout");
            }
            _ if m.used_as_variable => {}
            _ => r.error(m, format!("unknown field {:?}", m.key)),
        }
    }
    not_supported(e, "leafnodes.remotes", r);
}

/// nats-server's `expandPath`: `$VAR` and `${VAR}` from the environment
/// (Go's `os.ExpandEnv`), then a leading `~` is the home directory.
fn expand_path(p: &str) -> Result<String, String> {
    let p = expand_env(p, |name| std::env::var(name).unwrap_or_default());
    let Some(rest) = p.strip_prefix('~') else {
        return Ok(p);
    };
    match std::env::var("HOME") {
        Ok(home) if !home.is_empty() => {
            let rest = rest.trim_start_matches('/');
            Ok(PathBuf::from(home).join(rest).display().to_string())
        }
        _ => Err("$HOME is not defined".to_string()),
    }
}

/// Go's `os.Expand`: `$name` (letters, digits, `_`), `${name}`, and the
/// one-character shell names (`$1`, `$*`, ...); `${}` and an unclosed
/// `${` are dropped; a `$` before anything else is kept.
fn expand_env(s: &str, lookup: impl Fn(&str) -> String) -> String {
    fn special(b: u8) -> bool {
        b"*#$@!?-".contains(&b) || b.is_ascii_digit()
    }
    fn name_byte(b: u8) -> bool {
        b == b'_' || b.is_ascii_alphanumeric()
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut j = 0;
    while j < bytes.len() {
        if bytes[j] == b'$' && j + 1 < bytes.len() {
            out.push_str(&s[i..j]);
            let rest = &s[j + 1..];
            let rb = rest.as_bytes();
            let (name, width): (&str, usize) = if rb[0] == b'{' {
                if rb.len() > 2 && special(rb[1]) && rb[2] == b'}' {
                    (&rest[1..2], 3)
                } else {
                    match rest[1..].find('}') {
                        Some(0) => ("", 2),
                        Some(k) => (&rest[1..k + 1], k + 2),
                        None => ("", 1),
                    }
                }
            } else if special(rb[0]) {
                (&rest[..1], 1)
            } else {
                let k = rb.iter().take_while(|b| name_byte(**b)).count();
                (&rest[..k], k)
            };
            if !name.is_empty() {
                out.push_str(&lookup(name));
            } else if width == 0 {
                out.push('$');
            }
            j += width;
            i = j + 1;
        }
        j += 1;
    }
    out.push_str(&s[i.min(s.len())..]);
    out
}

#[cfg(test)]
mod tests;
