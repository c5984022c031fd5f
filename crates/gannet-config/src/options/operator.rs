//! Decentralized authentication keys (nats-server's `operator`, `resolver`,
//! `resolver_preload` and `trusted` in `opts.go`): the operators whose JWTs
//! this server trusts, where account JWTs come from, and trusted operator
//! keys given without a JWT.
//!
//! This layer reads the config only: operator JWT files are read and their
//! text kept (a decorated file, with `-----BEGIN ...` lines, gives the JWT
//! inside its first block), and resolver settings are checked as nats-server
//! checks them. The JWTs are decoded and their signatures checked when the
//! server starts (`gannet-auth`), which reports a bad one as
//! `error parsing operator JWT: <reason>`.
//!
//! Differences from nats-server: `resolver: URL(...)` is accepted (so
//! configs load) but warned about, as Gannet does not fetch accounts over
//! HTTP; `resolver_preload` values are checked to be JWT-shaped here and
//! fully at start-up.
use std::time::Duration;

use super::convert::Report;
use super::Options;
use crate::conf::{self, Entry, Kind};

/// Where account JWTs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolver {
    /// `MEMORY` (or `MEM`): the preloaded accounts, and updates pushed over
    /// the system account, kept in memory.
    Memory,
    /// `URL("...")`: an account server over HTTP (not acted on).
    Url(String),
    /// `{ type: full | cache, dir, ... }`: the NATS-based resolver storing
    /// account JWTs in `dir` as `<public key>.jwt`.
    Dir(DirResolver),
}

/// The settings of a directory resolver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirResolver {
    /// `type: full` (every account, synchronised across servers) or `cache`.
    pub full: bool,
    pub dir: String,
    /// `allow_delete` (full only): `$SYS.REQ.CLAIMS.DELETE` may remove accounts.
    pub allow_delete: bool,
    /// `hard_delete`: deleted JWTs are removed, not renamed `.deleted`.
    pub hard_delete: bool,
    /// `limit`: the most accounts kept (0 = the reference's default).
    pub limit: i64,
    /// `interval` (full only): how often servers compare their accounts.
    pub interval: Option<Duration>,
    /// `ttl` (cache only).
    pub ttl: Option<Duration>,
    /// `timeout`: how long a lookup over the system account may take.
    pub timeout: Option<Duration>,
}

/// `operator` (aliases `operators`, `root`, `roots`, `root_operator`,
/// `root_operators`): file paths or inline JWTs, one or a list.
pub(crate) fn parse_operators(o: &mut Options, entry: &Entry, r: &mut Report) {
    let items: Vec<(&str, &conf::Pos)> = match &entry.value.kind {
        Kind::String(s) => vec![(s.as_str(), &entry.key_pos)],
        Kind::Array(list) => {
            let mut out = Vec::new();
            for item in list {
                match item.as_str() {
                    Some(s) => out.push((s, &item.pos)),
                    None => r.error_at(
                        &item.pos,
                        format!(
                            "error parsing operators: unsupported type {} where string is expected",
                            item.kind.go_type_name()
                        ),
                    ),
                }
            }
            out
        }
        other => {
            r.error(
                entry,
                format!(
                    "error parsing operators: unsupported type {}",
                    other.go_type_name()
                ),
            );
            return;
        }
    };
    o.operators.clear();
    for (source, pos) in items {
        match read_operator_jwt(source) {
            Ok(jwt) => o.operators.push(jwt),
            Err(e) => r.error_at(pos, format!("error parsing operator JWT: {e}")),
        }
    }
}

/// The JWT of an operator: the file's (undecorated) content, or `source`
/// itself when it is no file and looks like a JWT.
fn read_operator_jwt(source: &str) -> Result<String, String> {
    match std::fs::read_to_string(source) {
        Ok(text) => Ok(undecorate(&text)),
        Err(_) if source.starts_with("eyJ") => Ok(undecorate(source)),
        Err(e) => Err(format!("open {source}: {}", go_io_error(&e))),
    }
}

/// Go's wording of the usual file errors.
fn go_io_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// A JWT out of a decorated file (the first `-----BEGIN ...` block), or the
/// trimmed text when there is no decoration.
pub fn undecorate(text: &str) -> String {
    let mut lines = text.lines().map(str::trim);
    if !text.contains("-----BEGIN") {
        return text.trim().to_string();
    }
    for line in lines.by_ref() {
        if line.starts_with("-----BEGIN") {
            break;
        }
    }
    let mut out = String::new();
    for line in lines {
        if line.starts_with("---") {
            break;
        }
        out.push_str(line);
    }
    out
}

/// `resolver` (aliases `account_resolver`, `accounts_resolver`).
pub(crate) fn parse_resolver(o: &mut Options, entry: &Entry, r: &mut Report) {
    const WRONG: &str = "error parsing account resolver, should be MEM or  URL(\"url\") or a map containing dir and type state=[FULL|CACHE])";
    match &entry.value.kind {
        Kind::String(text) => {
            let upper = text.trim().to_ascii_uppercase();
            if upper.starts_with("MEM") {
                o.resolver = Some(Resolver::Memory);
            } else if upper.starts_with("URL") {
                let inner = text.trim()[3..]
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .trim()
                    .trim_matches('"')
                    .to_string();
                if inner.is_empty() {
                    r.error(entry, WRONG);
                    return;
                }
                r.warn(
                    entry,
                    "resolver URL(...) is not supported yet: accounts are not fetched over HTTP",
                );
                o.resolver = Some(Resolver::Url(inner));
            } else {
                r.error(entry, WRONG);
            }
        }
        Kind::Map(map) => {
            let mut dir = DirResolver {
                full: false,
                dir: String::new(),
                allow_delete: false,
                hard_delete: false,
                limit: 0,
                interval: None,
                ttl: None,
                timeout: None,
            };
            let mut kind = String::new();
            let mut hard_delete_set = false;
            for e in map.iter() {
                match e.key.to_ascii_lowercase().as_str() {
                    "dir" => {
                        if let Some(s) = r.string(e) {
                            dir.dir = s.to_string();
                        }
                    }
                    "type" => {
                        if let Some(s) = r.string(e) {
                            kind = s.to_ascii_uppercase();
                        }
                    }
                    "allow_delete" => {
                        if let Some(b) = r.bool(e) {
                            dir.allow_delete = b;
                        }
                    }
                    "hard_delete" => {
                        if let Some(b) = r.bool(e) {
                            dir.hard_delete = b;
                            hard_delete_set = true;
                        }
                    }
                    "limit" => {
                        if let Some(n) = r.int(e) {
                            dir.limit = n;
                        }
                    }
                    "ttl" => dir.ttl = duration(e, r),
                    "interval" => dir.interval = duration(e, r),
                    "timeout" => dir.timeout = duration(e, r),
                    _ => r.warn(e, format!("unknown field \"{}\" in resolver", e.key)),
                }
            }
            let check_dir = |r: &mut Report, dir: &DirResolver| {
                if dir.dir.is_empty() {
                    r.error(entry, "dir has no value and needs to point to a directory");
                } else if std::fs::metadata(&dir.dir).is_ok_and(|m| !m.is_dir()) {
                    r.error(entry, "dir needs to point to an accessible directory");
                }
            };
            match kind.as_str() {
                "CACHE" => {
                    check_dir(r, &dir);
                    if dir.interval.is_some() {
                        r.error(entry, "CACHE does not accept sync");
                    }
                    if dir.allow_delete {
                        r.error(entry, "CACHE does not accept allow_delete");
                    }
                    if hard_delete_set {
                        r.error(entry, "CACHE does not accept hard_delete");
                    }
                    o.resolver = Some(Resolver::Dir(dir));
                }
                "FULL" => {
                    check_dir(r, &dir);
                    if dir.ttl.is_some() {
                        r.error(entry, "FULL does not accept ttl");
                    }
                    if hard_delete_set && !dir.allow_delete {
                        r.error(entry, "hard_delete has no effect without delete");
                    }
                    dir.full = true;
                    o.resolver = Some(Resolver::Dir(dir));
                }
                "MEM" | "MEMORY" => o.resolver = Some(Resolver::Memory),
                _ => r.error(entry, WRONG),
            }
        }
        other => r.error(
            entry,
            format!(
                "error parsing operator resolver, wrong type {}",
                other.go_type_name()
            ),
        ),
    }
}

fn duration(e: &Entry, r: &mut Report) -> Option<Duration> {
    let nanos = r.duration_string(e)?;
    Some(Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)))
}

/// `resolver_preload`: account public key → account JWT.
pub(crate) fn parse_preload(o: &mut Options, entry: &Entry, r: &mut Report) {
    let Some(map) = entry.value.as_map() else {
        r.error(
            entry,
            "preload should be a map of account_public_key:account_jwt",
        );
        return;
    };
    o.resolver_preload.clear();
    for e in map.iter() {
        match e.value.as_str() {
            Some(jwt) if jwt.split('.').count() == 3 => {
                o.resolver_preload
                    .push((e.key.clone(), jwt.trim().to_string()));
            }
            Some(_) => r.error(e, "invalid account JWT"),
            None => r.error(e, "preload map value should be a string JWT"),
        }
    }
}

/// `trusted` (alias `trusted_keys`): operator public keys, one or a list.
pub(crate) fn parse_trusted(o: &mut Options, entry: &Entry, r: &mut Report) {
    match &entry.value.kind {
        Kind::String(s) => o.trusted_keys = vec![s.clone()],
        Kind::Array(list) => {
            o.trusted_keys.clear();
            for item in list {
                match item.as_str() {
                    Some(s) => o.trusted_keys.push(s.to_string()),
                    None => r.error_at(
                        &item.pos,
                        format!(
                            "error parsing trusted: unsupported type in array {}",
                            item.kind.go_type_name()
                        ),
                    ),
                }
            }
        }
        other => r.error(
            entry,
            format!(
                "error parsing trusted: unsupported type {}",
                other.go_type_name()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decorated_files_give_their_first_block() {
        let text = "// operator\n-----BEGIN NATS OPERATOR JWT-----\neyJ0eXAi.eyJqdGki.c2ln\n------END NATS OPERATOR JWT------\n\nmore\n";
        assert_eq!(undecorate(text), "eyJ0eXAi.eyJqdGki.c2ln");
        assert_eq!(undecorate("  eyJa.b.c \n"), "eyJa.b.c");
    }
}
