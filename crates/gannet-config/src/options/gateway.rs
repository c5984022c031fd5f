//! The `gateway { }` block (nats-server's `GatewayOpts` and `parseGateway` /
//! `parseGateways` in `opts.go`): this cluster's gateway name, where the
//! gateway listener is, how inbound gateways authenticate and encrypt, and
//! the remote gateways (other clusters) to dial.
//!
//! `parse` reads the block with nats-server's error texts, in the manner of
//! the `cluster { }` block, and runs the checks nats-server makes when the
//! server starts (`validateGatewayOptions`) at load time instead, so `-t`
//! catches them: a block with neither `name` nor `port` is no gateway
//! (`None`), otherwise both are required, and every remote needs a name and
//! a URL. `validate` makes nats-server's cross-block check
//! (`validateCluster`): a named cluster must have the gateway's name, and an
//! unnamed one takes it.
//!
//! Differences from nats-server: every problem is reported, not the first
//! only; a remote URL must have a host (nats-server accepts any URL and
//! fails every dial), and one without a port gets [`DEFAULT_GATEWAY_PORT`]
//! (nats-server keeps it and fails every dial); a `port` outside
//! -1..=65535 is refused; `tls { }` (the block's and a remote's) needs
//! `cert_file` and `key_file`; `authorization { permissions }` (which
//! nats-server ignores) warns, and the BOSH fork's `certificate_clients` is
//! refused there as in the cluster block; `write_timeout` and
//! `tls { verify_cert_and_check_known_urls }` are checked, then warned about
//! as not supported yet. The cluster's name is set from the gateway's only
//! when a `cluster { }` block is configured (nats-server sets it on its
//! always-present cluster options).
use std::time::Duration;

use super::cluster::{host_or_default, int, non_empty, set_bool, string, url, wrong_type};
use super::convert::{go_value, Report};
use super::leafnodes::with_default_port;
use super::security::TlsOptions;
use super::tls::{self, TlsContext, TlsMarks};
use super::{auth, Options};
use crate::conf::{Entry, Map, Pos, Value};

/// The conventional gateway port: added to a remote gateway URL that has
/// none. The listener does not default to it: a gateway needs a `port`.
pub const DEFAULT_GATEWAY_PORT: i32 = 7222;

/// The `gateway { }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayOptions {
    /// `name`: this cluster's name as other clusters know it (never empty
    /// once loaded; no spaces).
    pub name: String,
    /// `host`/`net` (or the host of `listen`): where the gateway listener
    /// binds; an empty host is `0.0.0.0`.
    pub host: String,
    /// `port` (or the port of `listen`); `-1` = any free port. Never 0 once
    /// loaded.
    pub port: i32,
    /// `authorization { user }`: the user inbound gateways must present.
    pub username: Option<String>,
    /// `authorization { password }`: its password (plain or bcrypt).
    pub password: Option<String>,
    /// `authorization { timeout }`: how long an inbound gateway has to
    /// authenticate; `None` (also for 0) = the server's default (2 s, or the
    /// gateway TLS timeout + 1 s with gateway TLS).
    pub auth_timeout: Option<Duration>,
    /// `tls { }`: gateway connections start with the TLS handshake, both the
    /// ones accepted and the ones dialed (a remote without its own `tls`
    /// uses this one), as the cluster's `tls` does for routes.
    pub tls: Option<TlsOptions>,
    /// `advertise`: `host:port` given to other gateways instead of the
    /// listen address.
    pub advertise: Option<String>,
    /// `connect_retries`: how many times an implicit (gossiped) gateway is
    /// redialed before it is given up; as written.
    pub connect_retries: i64,
    /// `connect_backoff`: space those redials out exponentially.
    pub connect_backoff: bool,
    /// `reject_unknown` / `reject_unknown_cluster`: refuse inbound gateways
    /// whose name is not in [`GatewayOptions::gateways`].
    pub reject_unknown_cluster: bool,
    /// `write_deadline` of the block (`None`, also for 0, = the server's).
    pub write_deadline: Option<Duration>,
    /// `gateways`: the remote gateways to dial, in the order written. An
    /// entry with this gateway's own name is kept here, and not dialed by the
    /// server.
    pub gateways: Vec<RemoteGateway>,
}

impl Default for GatewayOptions {
    /// What an empty block reads as before the load-time checks (which turn
    /// it into no gateway).
    fn default() -> Self {
        GatewayOptions {
            name: String::new(),
            host: super::DEFAULT_HOST.to_string(),
            port: 0,
            username: None,
            password: None,
            auth_timeout: None,
            tls: None,
            advertise: None,
            connect_retries: 0,
            connect_backoff: false,
            reject_unknown_cluster: false,
            write_deadline: None,
            gateways: Vec::new(),
        }
    }
}

/// One remote gateway (`gateways: [ { name, url, urls, tls } ]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteGateway {
    /// `name`: the remote cluster's gateway name (never empty once loaded).
    pub name: String,
    /// `url` (one, added to the list) or `urls` (a list, replacing it): at
    /// least one once loaded. Any scheme, as for routes (`nats://`,
    /// `tls://`, ...), user and password allowed; each kept as written
    /// (trimmed), with `:7222` ([`DEFAULT_GATEWAY_PORT`]) added when it had
    /// no port.
    pub urls: Vec<String>,
    /// `tls { }` for this remote; `None` = the block's
    /// [`GatewayOptions::tls`].
    pub tls: Option<TlsOptions>,
}

/// Reads the `gateway` entry and runs nats-server's start-up checks on it.
/// `None` when it is not a map (error recorded) or names neither a gateway
/// nor a port (nats-server's "no gateway"); otherwise the block with every
/// usable key applied.
pub(crate) fn parse(entry: &Entry, r: &mut Report) -> Option<GatewayOptions> {
    let Some(map) = entry.value.as_map() else {
        r.error(
            entry,
            format!(
                "Expected gateway to be a map, got {}",
                entry.value.kind.go_type_name()
            ),
        );
        return None;
    };
    let mut g = GatewayOptions::default();
    // A refused `name` or port is not reported again as missing.
    let mut name_refused = false;
    let mut port_refused = false;
    let mut remotes: Vec<ParsedRemote> = Vec::new();
    for e in map {
        match e.key.to_ascii_lowercase().as_str() {
            "name" => match string(e, r) {
                Some(name) if name.contains(' ') => {
                    r.error(e, "gateway name cannot contain spaces");
                    name_refused = true;
                }
                Some(name) => g.name = name.to_string(),
                None => name_refused = true,
            },
            "listen" => match r.host_port(e) {
                Some((host, port)) => {
                    if let Some(host) = host {
                        g.host = host_or_default(&host);
                    }
                    g.port = port;
                }
                None => port_refused = true,
            },
            "port" => match int(e, r) {
                Some(n) => match i32::try_from(n) {
                    Ok(p) if (-1..=65535).contains(&p) => g.port = p,
                    _ => {
                        r.error(
                            e,
                            format!(
                                "invalid port {n} for \"{}\", must be -1 (random) to 65535",
                                e.key
                            ),
                        );
                        port_refused = true;
                    }
                },
                None => port_refused = true,
            },
            "host" | "net" => {
                if let Some(host) = string(e, r) {
                    g.host = host_or_default(host);
                }
            }
            "authorization" => {
                if let Some(a) = authorization(e, r) {
                    g.username = a.user;
                    g.password = a.password;
                    g.auth_timeout = a.timeout;
                }
            }
            "tls" => {
                if let Some(t) = gateway_tls(e, r) {
                    g.tls = Some(t);
                }
            }
            "advertise" => {
                if let Some(a) = string(e, r) {
                    g.advertise = non_empty(a);
                }
            }
            "connect_retries" => {
                if let Some(n) = int(e, r) {
                    g.connect_retries = n;
                }
            }
            "connect_backoff" => set_bool(&mut g.connect_backoff, e, r),
            "gateways" => remotes = parse_remotes(e, r),
            "reject_unknown" | "reject_unknown_cluster" => {
                set_bool(&mut g.reject_unknown_cluster, e, r)
            }
            "write_deadline" => {
                if let Some(d) = r.duration_or_seconds(e) {
                    g.write_deadline = (!d.is_zero()).then_some(d);
                }
            }
            "write_timeout" => {
                if let Some(s) = string(e, r) {
                    if matches!(s, "default" | "close" | "retry") {
                        r.warn(e, format!("gateway.{} is not supported yet", e.key));
                    } else {
                        r.error(e, "write_timeout must be 'default', 'close' or 'retry'");
                    }
                }
            }
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("unknown field {:?}", e.key)),
        }
    }
    // nats-server's `validateGatewayOptions`.
    if g.name.is_empty() && g.port == 0 {
        return None;
    }
    if g.name.is_empty() {
        if !name_refused {
            r.error(entry, "gateway has no name");
        }
    } else if g.port == 0 && !port_refused {
        r.error(
            entry,
            format!(
                "gateway {:?} has no port specified (select -1 for random port)",
                g.name
            ),
        );
    }
    for (i, p) in remotes.iter().enumerate() {
        if p.remote.name.is_empty() {
            if !p.name_refused {
                r.error_at(&p.at, format!("gateway in the list {i} has no name"));
            }
        } else if p.remote.urls.is_empty() && !p.url_refused {
            r.error_at(&p.at, format!("gateway {:?} has no URL", p.remote.name));
        }
    }
    g.gateways = remotes.into_iter().map(|p| p.remote).collect();
    Some(g)
}

/// nats-server's cluster-name check against the gateway (in its
/// `validateCluster`): a cluster with a name must have the gateway's; a
/// cluster without one takes the gateway's name. The error is reported at
/// the cluster's `name`.
pub(crate) fn validate(o: &mut Options, map: &Map, r: &mut Report) {
    let Some(g) = &o.gateway else { return };
    if g.name.is_empty() {
        return;
    }
    let Some(c) = o.cluster.as_mut() else { return };
    match &c.name {
        None => c.name = Some(g.name.clone()),
        Some(name) if *name != g.name => {
            let cluster = map.get_ignore_case("cluster");
            let at = cluster
                .and_then(|e| e.value.as_map())
                .and_then(|m| m.get_ignore_case("name"))
                .or(cluster)
                .or_else(|| map.get_ignore_case("gateway"));
            if let Some(at) = at {
                r.error(
                    at,
                    "cluster name conflicts between cluster and gateway definitions",
                );
            }
        }
        Some(_) => {}
    }
}

/// A `tls { }` of the block or of a remote, as the cluster's is read.
fn gateway_tls(e: &Entry, r: &mut Report) -> Option<TlsOptions> {
    let mut marks = TlsMarks::default();
    let (t, check_known_urls) = tls::parse_in(e, r, &mut marks, TlsContext::Gateway)?;
    if check_known_urls {
        r.warn(
            e,
            "gateway tls verify_cert_and_check_known_urls is not supported yet",
        );
    }
    Some(t)
}

/// What the block takes from its `authorization` block.
struct GatewayAuth {
    user: Option<String>,
    password: Option<String>,
    timeout: Option<Duration>,
}

/// `authorization { user, password, timeout }`, read by the client block's
/// parser; what gateways cannot use is refused with nats-server's texts.
fn authorization(e: &Entry, r: &mut Report) -> Option<GatewayAuth> {
    let mut marks = auth::AuthMarks::default();
    let a = auth::parse(e, r, &mut marks)?;
    let callout = e
        .value
        .as_map()
        .and_then(|m| m.get_ignore_case("auth_callout"))
        .is_some();
    let refused = if marks.users.is_some() {
        Some("Gateway authorization does not allow multiple users")
    } else if a.token.is_some() {
        Some("Gateway authorization does not support tokens")
    } else if callout {
        Some("Gateway authorization does not support callouts")
    } else if marks.certificate_clients.is_some() {
        Some("Gateway authorization does not support certificate_clients")
    } else {
        None
    };
    if let Some(message) = refused {
        r.error(e, message);
        return None;
    }
    if a.default_permissions.is_some() {
        r.warn(
            e,
            format!(
                "invalid use of field {:?}: permissions are ignored in gateway authorization",
                e.key
            ),
        );
    }
    Some(GatewayAuth {
        user: a.user,
        password: a.password,
        timeout: a.timeout,
    })
}

/// One remote as read, with what the load-time checks need.
struct ParsedRemote {
    remote: RemoteGateway,
    /// Where the entry (its `{`) is: the checks on it are reported there.
    at: Pos,
    /// `name` was given but refused (already reported).
    name_refused: bool,
    /// A URL was given but refused (already reported).
    url_refused: bool,
}

/// `gateways: [ { name, url, urls, tls } ]` (nats-server's `parseGateways`).
/// An entry that is not a map is reported and skipped (so it does not count
/// in the index of "gateway in the list N", as in nats-server).
fn parse_remotes(e: &Entry, r: &mut Report) -> Vec<ParsedRemote> {
    let Some(items) = e.value.as_array() else {
        r.error(
            e,
            format!(
                "Expected gateways field to be an array, got {}",
                e.value.kind.go_type_name()
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(map) = item.as_map() else {
            r.error_at(
                &item.pos,
                format!(
                    "Expected gateway entry to be a map/struct, got {}",
                    go_value(item)
                ),
            );
            continue;
        };
        out.push(parse_remote(map, &item.pos, r));
    }
    out
}

/// The keys of one remote gateway.
fn parse_remote(map: &Map, at: &Pos, r: &mut Report) -> ParsedRemote {
    let mut p = ParsedRemote {
        remote: RemoteGateway {
            name: String::new(),
            urls: Vec::new(),
            tls: None,
        },
        at: at.clone(),
        name_refused: false,
        url_refused: false,
    };
    for e in map {
        match e.key.to_ascii_lowercase().as_str() {
            "name" => match string(e, r) {
                Some(name) => p.remote.name = name.to_string(),
                None => p.name_refused = true,
            },
            "tls" => {
                if let Some(t) = gateway_tls(e, r) {
                    p.remote.tls = Some(t);
                }
            }
            "url" => match string(e, r) {
                Some(text) => match gateway_url(text) {
                    Ok(u) => p.remote.urls.push(u),
                    Err(message) => {
                        r.error(e, message);
                        p.url_refused = true;
                    }
                },
                None => p.url_refused = true,
            },
            "urls" => match gateway_urls(e, r) {
                Some(urls) => p.remote.urls = urls,
                None => p.url_refused = true,
            },
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("unknown field {:?}", e.key)),
        }
    }
    p
}

/// `urls`: a list of URL strings (nats-server's `parseURLs`). A repeated URL
/// warns and is dropped; a bad one is an error where it is written. `None`
/// when anything was refused.
fn gateway_urls(e: &Entry, r: &mut Report) -> Option<Vec<String>> {
    let Some(items) = e.value.as_array() else {
        wrong_type(e, "[]interface {}", r);
        return None;
    };
    let mut seen: Vec<&str> = Vec::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    let mut refused = false;
    for item in items {
        let Some(text) = item_str(item, r) else {
            refused = true;
            continue;
        };
        if seen.contains(&text) {
            r.warn_at(
                &item.pos,
                format!("invalid use of field {text:?}: Duplicate gateway entry detected"),
            );
            continue;
        }
        seen.push(text);
        match gateway_url(text) {
            Ok(u) => out.push(u),
            Err(message) => {
                r.error_at(&item.pos, message);
                refused = true;
            }
        }
    }
    (!refused).then_some(out)
}

/// A list item that must be a string (nats-server's panic text otherwise).
fn item_str<'v>(item: &'v Value, r: &mut Report) -> Option<&'v str> {
    let text = item.as_str();
    if text.is_none() {
        r.error_at(
            &item.pos,
            format!(
                "interface conversion: interface {{}} is {}, not string",
                item.kind.go_type_name()
            ),
        );
    }
    text
}

/// Checks a remote gateway URL (nats-server's `parseURL` for `gateway`, plus
/// the host and port checks it does not make) and returns it as kept: as
/// written (trimmed), with `:7222` added when it has no port. The error is
/// the whole message: `error parsing gateway url ["<text>"]`, nats-server's
/// text, plus `: <reason>` for the checks it does not make.
fn gateway_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    let fail = |reason: Option<String>| {
        let base = format!("error parsing gateway url [{text:?}]");
        Err(match reason {
            Some(reason) => format!("{base}: {reason}"),
            None => base,
        })
    };
    let Ok(parsed) = url::parse(text) else {
        return fail(None);
    };
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
    if port.is_empty() {
        return Ok(with_default_port(text, DEFAULT_GATEWAY_PORT));
    }
    match port.parse::<u16>() {
        Ok(p) if p != 0 => Ok(text.to_string()),
        _ => fail(Some("invalid port".to_string())),
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use super::*;
    use crate::options::{load_str, ConfigErrors, Loaded};

    fn load(text: &str) -> Result<Loaded, ConfigErrors> {
        load_str(text, Path::new("t.conf"))
    }

    /// The gateway of a file that must load.
    fn gateway_of(text: &str) -> GatewayOptions {
        match load(text) {
            Ok(l) => l
                .options
                .gateway
                .unwrap_or_else(|| panic!("{text:?}: no gateway")),
            Err(e) => panic!("{text:?} failed:\n{e}"),
        }
    }

    /// `gateway { name: A, port: 7222, <body> }` on one line.
    fn gateway(body: &str) -> GatewayOptions {
        gateway_of(&format!("gateway {{ name: A, port: 7222, {body} }}"))
    }

    /// The one remote of `gateways: [ { <body> } ]`.
    fn remote(body: &str) -> RemoteGateway {
        let mut g = gateway(&format!("gateways: [ {{ {body} }} ]")).gateways;
        assert_eq!(g.len(), 1, "{body}");
        g.remove(0)
    }

    /// Every error as `file:line:col: message`.
    fn errors(text: &str) -> Vec<String> {
        match load(text) {
            Ok(l) => panic!("{text:?} loaded: {:?}", l.options.gateway),
            Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    /// The errors of `gateway {\n  name: A, port: 7222\n  <line>\n}` (the
    /// key on line 3, column 3).
    fn error(line: &str) -> Vec<String> {
        errors(&format!("gateway {{\n  name: A, port: 7222\n  {line}\n}}"))
    }

    fn warnings(text: &str) -> Vec<String> {
        match load(text) {
            Ok(l) => l.warnings.iter().map(ToString::to_string).collect(),
            Err(e) => panic!("{text:?} failed:\n{e}"),
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn no_block_or_no_name_and_no_port_is_no_gateway() {
        assert_eq!(load("port: 4222").map(|l| l.options.gateway), Ok(None));
        assert_eq!(load("gateway {}").map(|l| l.options.gateway), Ok(None));
        // Other keys do not make a gateway without a name and a port.
        let text = "gateway { host: 10.0.0.1, gateways: [ {url: \"nats://h:1\"} ] }";
        assert_eq!(load(text).map(|l| l.options.gateway), Ok(None));
        assert!(warnings("gateway {}").is_empty());
    }

    #[test]
    fn host_and_port_form() {
        let g = gateway_of("gateway { name: east, host: 10.0.0.5, port: 7522 }");
        assert_eq!(g.name, "east");
        assert_eq!((g.host.as_str(), g.port), ("10.0.0.5", 7522));
        assert_eq!(g.username, None);
        assert_eq!(g.auth_timeout, None);
        assert_eq!(g.tls, None);
        assert!(g.gateways.is_empty());
        assert!(!g.connect_backoff && !g.reject_unknown_cluster);
        assert_eq!(g.connect_retries, 0);
        assert_eq!(g.write_deadline, None);
        let g = gateway_of("gateway { name: east, port: 7522 }");
        assert_eq!(g.host, "0.0.0.0");
        assert_eq!(gateway_of("gateway { name: x, net: h, port: -1 }").port, -1);
        assert_eq!(
            gateway_of("gateway { name: x, net: h, port: -1 }").host,
            "h"
        );
        assert_eq!(gateway("host: \"\"").host, "0.0.0.0");
        assert_eq!(
            gateway_of("gateway { NAME: x, Port: 1 }").name,
            "x",
            "keys ignore case"
        );
    }

    #[test]
    fn listen_form() {
        let g = gateway_of("gateway { name: A, listen: \"127.0.0.1:7222\" }");
        assert_eq!((g.host.as_str(), g.port), ("127.0.0.1", 7222));
        let g = gateway_of("gateway { name: A, host: 10.0.0.5, listen: 7333 }");
        assert_eq!((g.host.as_str(), g.port), ("10.0.0.5", 7333));
        let g = gateway_of("gateway { name: A, host: 10.0.0.5, listen: \":7333\" }");
        assert_eq!((g.host.as_str(), g.port), ("0.0.0.0", 7333));
        let g = gateway_of("gateway { name: A, listen: \"[::1]:-1\" }");
        assert_eq!((g.host.as_str(), g.port), ("::1", -1));
    }

    #[test]
    fn other_keys() {
        let g = gateway(
            "advertise: \"gw.example.com:7222\", connect_retries: 5, connect_backoff: true, \
             reject_unknown: true, write_deadline: \"3s\"",
        );
        assert_eq!(g.advertise.as_deref(), Some("gw.example.com:7222"));
        assert_eq!(g.connect_retries, 5);
        assert!(g.connect_backoff);
        assert!(g.reject_unknown_cluster);
        assert_eq!(g.write_deadline, Some(Duration::from_secs(3)));
        assert!(gateway("reject_unknown_cluster: true").reject_unknown_cluster);
        assert!(!gateway("reject_unknown_cluster: false").reject_unknown_cluster);
        assert_eq!(gateway("advertise: \"\"").advertise, None);
        assert_eq!(gateway("write_deadline: \"0s\"").write_deadline, None);
        assert_eq!(
            warnings("gateway {\n  name: A, port: 1\n  write_timeout: close\n}"),
            ["t.conf:3:3: gateway.write_timeout is not supported yet"]
        );
        assert_eq!(
            error("write_timeout: never"),
            ["t.conf:3:3: write_timeout must be 'default', 'close' or 'retry'"]
        );
    }

    #[test]
    fn authorization() {
        let g = gateway("authorization { user: gu, password: gp, timeout: 0.5 }");
        assert_eq!(g.username.as_deref(), Some("gu"));
        assert_eq!(g.password.as_deref(), Some("gp"));
        assert_eq!(g.auth_timeout, Some(Duration::from_millis(500)));
        let g = gateway("authorization { username: gu, pass: gp }");
        assert_eq!(
            (g.username.as_deref(), g.password.as_deref()),
            (Some("gu"), Some("gp"))
        );
        assert_eq!(g.auth_timeout, None);
        assert_eq!(
            gateway("authorization { user: a, password: b, timeout: 0 }").auth_timeout,
            None
        );
        assert_eq!(
            error("authorization { timeout: \"abc\" }"),
            ["t.conf:3:19: error parsing authorization config, 'timeout' time: invalid duration \"abc\""]
        );
        assert_eq!(
            warnings(
                "gateway {\n  name: A, port: 1\n  \
                 authorization { user: a, password: b, permissions: { publish: x } }\n}"
            ),
            [
                "t.conf:3:3: invalid use of field \"authorization\": permissions are ignored \
                 in gateway authorization"
            ]
        );
    }

    #[test]
    fn authorization_refuses_what_gateways_cannot_use() {
        assert_eq!(
            error("authorization { users: [{user: a, password: b}] }"),
            ["t.conf:3:3: Gateway authorization does not allow multiple users"]
        );
        assert_eq!(
            error("authorization { token: abc }"),
            ["t.conf:3:3: Gateway authorization does not support tokens"]
        );
        assert_eq!(
            error("authorization { auth_callout { issuer: x } }"),
            ["t.conf:3:3: Gateway authorization does not support callouts"]
        );
        assert_eq!(
            error("authorization { certificate_clients: [] }"),
            ["t.conf:3:3: Gateway authorization does not support certificate_clients"]
        );
    }

    #[test]
    fn tls() {
        let g = gateway("tls { cert_file: c.pem, key_file: k.pem, ca_file: ca.pem, timeout: 3 }");
        let t = g.tls.unwrap_or_else(|| panic!("no tls"));
        assert_eq!(t.cert_file, PathBuf::from("c.pem"));
        assert_eq!(t.key_file, PathBuf::from("k.pem"));
        assert_eq!(t.ca_file, Some(PathBuf::from("ca.pem")));
        assert_eq!(t.timeout, Duration::from_secs(3));
        assert_eq!(
            error("tls { key_file: k }"),
            ["t.conf:3:3: missing 'cert_file' in TLS configuration"]
        );
        assert_eq!(
            error("tls { cert_file: c, key_file: k, bogus: 1 }"),
            ["t.conf:3:36: error parsing tls config, unknown field \"bogus\""]
        );
        // Allowed (as for routes), but not acted on yet.
        let text = "gateway {\n  name: A, port: 1\n  \
                    tls { cert_file: c, key_file: k, verify_cert_and_check_known_urls: true }\n}";
        assert!(gateway_of(text).tls.is_some());
        assert_eq!(
            warnings(text),
            ["t.conf:3:3: gateway tls verify_cert_and_check_known_urls is not supported yet"]
        );
        assert_eq!(
            warnings("gateway {\n  name: A, port: 1\n  tls { cert_file: c, key_file: k, insecure: true }\n}"),
            ["t.conf:3:36: tls.insecure is not supported yet"]
        );
    }

    #[test]
    fn gateways_with_url_and_urls() {
        let g = gateway(
            "gateways: [\
               { name: B, url: \"nats://gu:gp@b1.example.com:7222\" },\
               { name: C, urls: [\"nats://c1:7223\", \" tls://c2 \", \"nats://[::1]\"] },\
               { name: D, url: \"nats://d1:1\", tls { cert_file: c, key_file: k } }\
             ]",
        );
        assert_eq!(
            g.gateways,
            [
                RemoteGateway {
                    name: "B".into(),
                    urls: strings(&["nats://gu:gp@b1.example.com:7222"]),
                    tls: None,
                },
                RemoteGateway {
                    name: "C".into(),
                    urls: strings(&["nats://c1:7223", "tls://c2:7222", "nats://[::1]:7222"]),
                    tls: None,
                },
                RemoteGateway {
                    name: "D".into(),
                    urls: strings(&["nats://d1:1"]),
                    tls: Some(TlsOptions::new("c", "k")),
                },
            ]
        );
        // Any scheme, as for routes; a path keeps its place after the port.
        assert_eq!(
            remote("name: B, url: \"nats-route://h/x\"").urls,
            ["nats-route://h:7222/x"]
        );
        assert_eq!(
            remote("name: B, url: \"nats://h:\"").urls,
            ["nats://h:7222"]
        );
        // `url` adds to the list, `urls` replaces it.
        assert_eq!(
            remote("name: B, urls: [\"nats://a:1\"], url: \"nats://b:2\"").urls,
            ["nats://a:1", "nats://b:2"]
        );
        assert_eq!(
            remote("name: B, url: \"nats://b:2\", urls: [\"nats://a:1\"]").urls,
            ["nats://a:1"]
        );
        assert!(gateway("gateways: []").gateways.is_empty());
    }

    #[test]
    fn duplicate_urls_warn_and_are_dropped() {
        let text = "gateway {\n  name: A, port: 1\n  gateways: [ { name: B, urls: [\n    \
                    nats://a:1\n    nats://a:1\n  ] } ]\n}";
        assert_eq!(gateway_of(text).gateways[0].urls, ["nats://a:1"]);
        assert_eq!(
            warnings(text),
            ["t.conf:5:5: invalid use of field \"nats://a:1\": Duplicate gateway entry detected"]
        );
    }

    #[test]
    fn url_errors_name_the_url_where_it_is_written() {
        let text = "gateway {\n  name: A, port: 1\n  gateways: [ { name: B, urls: [\n    \
                    \"nats://ok:1\"\n    \"nats://%zz\"\n    \"h:1\"\n    \"nats://h:0\"\n    \
                    \"nats://h:99999\"\n    5\n  ] } ]\n}";
        assert_eq!(
            errors(text),
            [
                "t.conf:5:5: error parsing gateway url [\"nats://%zz\"]",
                "t.conf:6:5: error parsing gateway url [\"h:1\"]: missing host",
                "t.conf:7:5: error parsing gateway url [\"nats://h:0\"]: invalid port",
                "t.conf:8:5: error parsing gateway url [\"nats://h:99999\"]: invalid port",
                "t.conf:9:5: interface conversion: interface {} is int64, not string",
            ]
        );
        let text = "gateway {\n  name: A, port: 1\n  gateways: [ {\n    name: B\n    \
                    url: \"nats://:1\"\n  } ]\n}";
        assert_eq!(
            errors(text),
            ["t.conf:5:5: error parsing gateway url [\"nats://:1\"]: missing host"]
        );
        let text = "gateway {\n  name: A, port: 1\n  gateways: [ {\n    name: B\n    \
                    urls: \"nats://h:1\"\n  } ]\n}";
        assert_eq!(
            errors(text),
            ["t.conf:5:5: interface conversion: interface {} is string, not []interface {}"]
        );
        let text = "gateway {\n  name: A, port: 1\n  gateways: [ {\n    name: B\n    \
                    url: 5\n  } ]\n}";
        assert_eq!(
            errors(text),
            ["t.conf:5:5: interface conversion: interface {} is int64, not string"]
        );
    }

    #[test]
    fn not_a_map_not_an_array_and_unknown_keys() {
        assert_eq!(
            errors("gateway: 5"),
            ["t.conf:1:1: Expected gateway to be a map, got int64"]
        );
        assert_eq!(
            errors("gateway: [1]"),
            ["t.conf:1:1: Expected gateway to be a map, got []interface {}"]
        );
        assert_eq!(
            error("gateways: { name: B }"),
            ["t.conf:3:3: Expected gateways field to be an array, got map[string]interface {}"]
        );
        assert_eq!(
            error("gateways: [ 5, \"x\" ]"),
            [
                "t.conf:3:15: Expected gateway entry to be a map/struct, got 5",
                "t.conf:3:18: Expected gateway entry to be a map/struct, got x",
            ]
        );
        assert_eq!(error("foo: 1"), ["t.conf:3:3: unknown field \"foo\""]);
        assert_eq!(
            errors("gateway {\n  name: A, port: 1\n  gateways: [ { name: B, url: \"nats://h:1\", foo: 1 } ]\n}"),
            ["t.conf:3:45: unknown field \"foo\""]
        );
        // A key used as a variable is not unknown, as elsewhere.
        assert_eq!(
            gateway_of("gateway { P = 7333, name: A, port: $P }").port,
            7333
        );
    }

    #[test]
    fn type_and_range_errors() {
        assert_eq!(
            error("port: 70000"),
            ["t.conf:3:3: invalid port 70000 for \"port\", must be -1 (random) to 65535"]
        );
        assert_eq!(
            error("connect_retries: \"x\""),
            ["t.conf:3:3: interface conversion: interface {} is string, not int64"]
        );
        assert_eq!(
            error("reject_unknown: \"yes\""),
            ["t.conf:3:3: interface conversion: interface {} is string, not bool"]
        );
        assert_eq!(
            error("listen: \"h:x\""),
            ["t.conf:3:3: could not parse port \"x\""]
        );
    }

    #[test]
    fn names() {
        assert_eq!(
            errors("gateway {\n  name: \"a b\"\n  port: 1\n}"),
            ["t.conf:2:3: gateway name cannot contain spaces"]
        );
        assert_eq!(
            errors("gateway {\n  name: 5\n  port: 1\n}"),
            ["t.conf:2:3: interface conversion: interface {} is int64, not string"]
        );
        // nats-server's start-up checks, at load.
        assert_eq!(
            errors("port: 4222\ngateway {\n  port: 7222\n}"),
            ["t.conf:2:1: gateway has no name"]
        );
        assert_eq!(
            errors("gateway {\n  name: A\n}"),
            ["t.conf:1:1: gateway \"A\" has no port specified (select -1 for random port)"]
        );
        assert_eq!(
            errors("gateway {\n  name: A, port: 0\n}"),
            ["t.conf:1:1: gateway \"A\" has no port specified (select -1 for random port)"]
        );
        // A refused port is not reported again as missing.
        assert_eq!(
            errors("gateway {\n  name: A\n  port: 70000\n}"),
            ["t.conf:3:3: invalid port 70000 for \"port\", must be -1 (random) to 65535"]
        );
    }

    #[test]
    fn remotes_need_a_name_and_a_url() {
        let text = "gateway {\n  name: A, port: 1\n  gateways: [\n    \
                    { url: \"nats://h:1\" }\n    5\n    { name: C }\n    \
                    { name: D, urls: [] }\n    { name: E, url: \"nats://e:1\" }\n  ]\n}";
        assert_eq!(
            errors(text),
            [
                "t.conf:5:5: Expected gateway entry to be a map/struct, got 5",
                "t.conf:4:5: gateway in the list 0 has no name",
                // The index counts entries that are maps only, as nats-server's.
                "t.conf:6:5: gateway \"C\" has no URL",
                "t.conf:7:5: gateway \"D\" has no URL",
            ]
        );
        // A refused URL is not reported again as missing.
        assert_eq!(
            errors("gateway {\n  name: A, port: 1\n  gateways: [ { name: B, url: \"h:1\" } ]\n}"),
            ["t.conf:3:26: error parsing gateway url [\"h:1\"]: missing host"]
        );
        let text = "gateway {\n  name: A, port: 1\n  gateways: [\n    { name: B }\n    \
                    { url: \"nats://h:1\" }\n  ]\n}";
        assert_eq!(
            errors(text),
            [
                "t.conf:4:5: gateway \"B\" has no URL",
                "t.conf:5:5: gateway in the list 1 has no name",
            ]
        );
    }

    #[test]
    fn cluster_takes_the_gateway_name_or_must_match_it() {
        let o = match load("cluster { port: 6222 }\ngateway { name: A, port: 7222 }") {
            Ok(l) => l.options,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(o.cluster.and_then(|c| c.name).as_deref(), Some("A"));
        let o = match load("gateway { name: A, port: 7222 }\ncluster { name: A, port: 6222 }") {
            Ok(l) => l.options,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(o.cluster.and_then(|c| c.name).as_deref(), Some("A"));
        // No cluster block: none is made up.
        let o = match load("gateway { name: A, port: 7222 }") {
            Ok(l) => l.options,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(o.cluster, None);
        assert_eq!(
            errors("gateway { name: A, port: 7222 }\ncluster {\n  port: 6222\n  name: B\n}"),
            ["t.conf:4:3: cluster name conflicts between cluster and gateway definitions"]
        );
    }

    #[test]
    fn gateway_url_parse() {
        assert_eq!(gateway_url("nats://h:1"), Ok("nats://h:1".into()));
        assert_eq!(
            gateway_url(" nats://u:p@h "),
            Ok("nats://u:p@h:7222".into())
        );
        assert_eq!(gateway_url("tls://[::1]"), Ok("tls://[::1]:7222".into()));
        assert_eq!(
            gateway_url("nats-gateway://h?x=1"),
            Ok("nats-gateway://h:7222?x=1".into())
        );
        assert_eq!(
            gateway_url("nats://h:abc"),
            Err("error parsing gateway url [\"nats://h:abc\"]".into())
        );
        assert_eq!(
            gateway_url("h"),
            Err("error parsing gateway url [\"h\"]: missing host".into())
        );
    }
}
