//! The `accounts { }` block into [`AccountConfig`]s: each account's `users`
//! (the same entries as `authorization.users`), `default_permissions`,
//! `exports` and `imports`, plus the checks that only need the block itself
//! (imports and exports naming defined accounts, imports matching an
//! export). Mirrors nats-server's `parseAccounts`, `parseExportStreamOrService`
//! and `parseImportStreamOrService` in `opts.go`; error texts are the
//! reference's. An account's `jetstream` is read by `options::jetstream`.
use std::collections::HashSet;

use gannet_proto::subject::{is_valid_subscribe_subject, tokens};

use super::{AccountConfig, ExportConfig, ExportKind, ImportConfig};
use crate::conf::{Entry, Kind, Map, Pos, Value};
use crate::options::convert::{go_value, Report};
use crate::options::permissions::{self, warn_empty_allow};
use crate::options::{auth, jetstream};

/// The global account: users of `authorization` live there; it cannot be
/// declared.
pub const GLOBAL_ACCOUNT: &str = "$G";

/// Where things of one account were written, index-aligned with
/// [`crate::Options::accounts`].
#[derive(Debug, Clone, Default)]
pub(crate) struct AccountPos {
    /// Its `users` key.
    pub users: Option<Pos>,
}

/// Positions the cross-block checks report at.
#[derive(Debug, Clone, Default)]
pub(crate) struct AccountMarks {
    /// The `accounts` key itself.
    pub block: Option<Pos>,
    pub accounts: Vec<AccountPos>,
    /// False when the block had errors (cross-block checks then stay quiet).
    pub clean: bool,
}

/// Account keys nats-server knows that Gannet does not implement yet.
const UNSUPPORTED_ACCOUNT_KEYS: &[&str] = &[
    "nkey",
    "limits",
    "max_connections",
    "max_conn",
    "max_subscriptions",
    "max_subs",
    "max_payload",
    "max_leafnodes",
    "cluster_traffic",
];

/// Export keys nats-server knows that Gannet does not implement yet.
const UNSUPPORTED_EXPORT_KEYS: &[&str] = &[
    "response_threshold",
    "threshold",
    "latency",
    "account_token_position",
    "advertise",
];

/// Reads the `accounts` entry: a map of account name to account, or a list
/// of names (accounts without users). Anything else is ignored with a
/// warning, as nats-server ignores it.
pub(crate) fn parse(entry: &Entry, r: &mut Report, marks: &mut AccountMarks) -> Vec<AccountConfig> {
    *marks = AccountMarks {
        block: Some(entry.key_pos.clone()),
        ..AccountMarks::default()
    };
    let errors_before = r.errors.len();
    let mut accounts: Vec<AccountConfig> = Vec::new();
    let mut import_pos: Vec<Vec<Pos>> = Vec::new();
    let mut positions: Vec<AccountPos> = Vec::new();
    if let Some(map) = entry.value.as_map() {
        for e in map {
            if e.used_as_variable && e.value.as_map().is_none() {
                continue;
            }
            if e.key == GLOBAL_ACCOUNT {
                r.error(e, format!("{:?} is a Reserved Account", e.key));
                continue;
            }
            let Some(body) = e.value.as_map() else {
                r.error_at(&e.value.pos, "Expected map entries for accounts");
                continue;
            };
            let (account, pos, imports) = account(&e.key, body, r);
            // As with a Go map, a later account of the same name replaces it.
            if let Some(i) = accounts.iter().position(|a| a.name == account.name) {
                accounts.remove(i);
                positions.remove(i);
                import_pos.remove(i);
            }
            accounts.push(account);
            positions.push(pos);
            import_pos.push(imports);
        }
    } else if let Some(items) = entry.value.as_array() {
        for item in items {
            match item.as_str() {
                Some(GLOBAL_ACCOUNT) => {
                    r.error_at(
                        &item.pos,
                        format!("{GLOBAL_ACCOUNT:?} is a Reserved Account"),
                    );
                }
                Some(name) if !accounts.iter().any(|a| a.name == name) => {
                    accounts.push(AccountConfig {
                        name: name.to_string(),
                        ..AccountConfig::default()
                    });
                    positions.push(AccountPos::default());
                    import_pos.push(Vec::new());
                }
                Some(_) => {}
                None => r.error_at(
                    &item.pos,
                    format!("Expected an account name, got {}", go_value(item)),
                ),
            }
        }
    } else {
        r.warn(
            entry,
            format!(
                "accounts should be a map or an array, got {}; ignored",
                go_value(&entry.value)
            ),
        );
    }
    check_references(&accounts, &import_pos, entry, r);
    marks.accounts = positions;
    marks.clean = r.errors.len() == errors_before;
    accounts
}

/// One account's map.
fn account(name: &str, map: &Map, r: &mut Report) -> (AccountConfig, AccountPos, Vec<Pos>) {
    let mut account = AccountConfig {
        name: name.to_string(),
        ..AccountConfig::default()
    };
    let mut pos = AccountPos::default();
    let mut imports_at = Vec::new();
    let mut default = None;
    for e in map {
        match e.key.to_ascii_lowercase().as_str() {
            "users" => {
                pos.users = Some(e.key_pos.clone());
                if let Some((users, nkeys)) = auth::users(e, r) {
                    account.users = users;
                    account.nkeys = nkeys;
                }
            }
            "default_permission" | "default_permissions" | "permissions" => {
                if let Some(p) = permissions::parse(e, r) {
                    warn_empty_allow(&p, &format!("account {name:?} default_permissions"), r);
                    default = Some(p.permissions);
                }
            }
            "exports" => {
                for item in list(e, "Exports", r) {
                    if let Some(export) = export(item, r) {
                        account.exports.push(export);
                    }
                }
            }
            "imports" => {
                for item in list(e, "Imports", r) {
                    if let Some(import) = import(item, r) {
                        account.imports.push(import);
                        imports_at.push(item.pos.clone());
                    }
                }
            }
            "mappings" | "maps" => account.mappings = crate::options::mappings::parse(e, r),
            "jetstream" => account.jetstream = jetstream::parse_account(e, name, r),
            "msg_trace" | "trace_dest" => account.msg_trace = msg_trace(e, r),
            k if UNSUPPORTED_ACCOUNT_KEYS.contains(&k) => {
                r.warn(
                    e,
                    format!("accounts.{}.{} is not supported yet", name, e.key),
                );
            }
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("unknown field {:?}", e.key)),
        }
    }
    if let Some(default) = default {
        let slots = account
            .users
            .iter_mut()
            .map(|u| &mut u.permissions)
            .chain(account.nkeys.iter_mut().map(|n| &mut n.permissions));
        for slot in slots {
            if slot.is_none() {
                *slot = Some(default.clone());
            }
        }
    }
    (account, pos, imports_at)
}

/// The items of an `exports`/`imports` array (`what` names it in errors).
/// An `allow_trace` as written (`None`: not given), where it `fits` (a
/// service export, a stream import); anywhere else it is the reference's
/// error `misplaced`.
fn allowed_trace(
    allow_trace: Option<(bool, &Entry)>,
    fits: bool,
    misplaced: &str,
    r: &mut Report,
) -> bool {
    match allow_trace {
        Some((_, e)) if !fits => {
            r.error(e, misplaced);
            false
        }
        Some((allow, _)) => allow,
        None => false,
    }
}

fn list<'e>(e: &'e Entry, what: &str, r: &mut Report) -> &'e [Value] {
    match e.value.as_array() {
        Some(items) => items,
        None => {
            r.error(
                e,
                format!(
                    "{what} should be an array, got {}",
                    e.value.kind.go_type_name()
                ),
            );
            &[]
        }
    }
}

/// `{stream: s}` or `{service: s, accounts: [..], response_type: ..}`.
/// `None` on errors, or when neither `stream` nor `service` is given (the
/// reference ignores such an entry).
fn export(item: &Value, r: &mut Report) -> Option<ExportConfig> {
    let Some(map) = item.as_map() else {
        r.error_at(
            &item.pos,
            format!("Export entry should be a map, got {}", go_value(item)),
        );
        return None;
    };
    let errors_before = r.errors.len();
    let mut kind_subject: Option<(ExportKind, String)> = None;
    let mut accounts = None;
    let mut response: Option<(String, &Entry)> = None;
    let mut allow_trace: Option<(bool, &Entry)> = None;
    for e in map {
        match e.key.to_ascii_lowercase().as_str() {
            k @ ("stream" | "service") => {
                let kind = if k == "stream" {
                    ExportKind::Stream
                } else {
                    ExportKind::Service
                };
                let Some(subject) = r.string(e) else { continue };
                match &kind_subject {
                    Some((seen, _)) => r.error(
                        e,
                        format!(
                            "Detected {} {subject:?} but already saw a {}",
                            kind_name(kind),
                            kind_name(*seen)
                        ),
                    ),
                    None => {
                        warn_invalid_subject(e, subject, r);
                        kind_subject = Some((kind, subject.to_string()));
                    }
                }
            }
            "accounts" => accounts = names(e, r),
            "response" | "response_type" => {
                if let Some(t) = r.string(e) {
                    response = Some((t.to_ascii_lowercase(), e));
                }
            }
            "allow_trace" => allow_trace = r.bool(e).map(|b| (b, e)),
            k if UNSUPPORTED_EXPORT_KEYS.contains(&k) => {
                r.warn(e, format!("exports.{} is not supported yet", e.key));
            }
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("unknown field {:?}", e.key)),
        }
    }
    let (kind, subject) = kind_subject?;
    let response_type = match response {
        Some((_, e)) if kind != ExportKind::Service => {
            r.error(e, "Detected response directive on non-service");
            None
        }
        Some((t, e)) => match t.as_str() {
            "singleton" | "single" | "stream" | "chunked" | "chunk" => Some(t),
            _ => {
                r.error(e, format!("Unknown response type: {t:?}"));
                None
            }
        },
        None => None,
    };
    let allow_trace = allowed_trace(
        allow_trace,
        kind == ExportKind::Service,
        "Detected allow_trace directive on non-service",
        r,
    );
    (r.errors.len() == errors_before).then_some(ExportConfig {
        kind,
        subject,
        accounts,
        response_type,
        allow_trace,
    })
}

/// `{stream: {account, subject}, prefix}` or `{service: {account, subject}, to}`.
fn import(item: &Value, r: &mut Report) -> Option<ImportConfig> {
    let Some(map) = item.as_map() else {
        r.error_at(
            &item.pos,
            format!("Import entry should be a map, got {}", go_value(item)),
        );
        return None;
    };
    let errors_before = r.errors.len();
    let mut source: Option<(ExportKind, String, String)> = None;
    let mut prefix = None;
    let mut to = None;
    let mut allow_trace: Option<(bool, &Entry)> = None;
    for e in map {
        match e.key.to_ascii_lowercase().as_str() {
            k @ ("stream" | "service") => {
                let kind = if k == "stream" {
                    ExportKind::Stream
                } else {
                    ExportKind::Service
                };
                if let Some((seen, _, _)) = &source {
                    r.error(
                        e,
                        format!(
                            "Detected {} but already saw a {}",
                            kind_name(kind),
                            kind_name(*seen)
                        ),
                    );
                    continue;
                }
                let Some(m) = e.value.as_map() else {
                    let what = if kind == ExportKind::Stream {
                        "Stream"
                    } else {
                        "Service"
                    };
                    r.error(
                        e,
                        format!(
                            "{what} entry should be an account map, got {}",
                            e.value.kind.go_type_name()
                        ),
                    );
                    continue;
                };
                let field = |name: &str| {
                    m.get_ignore_case(name)
                        .and_then(|f| f.value.as_str())
                        .filter(|s| !s.is_empty())
                };
                match (field("account"), field("subject")) {
                    (Some(account), Some(subject)) => {
                        source = Some((kind, account.to_string(), subject.to_string()));
                    }
                    _ => r.error(e, "Expect an account name and a subject"),
                }
            }
            "prefix" => prefix = r.string(e).map(str::to_string),
            "to" => to = r.string(e).map(str::to_string),
            "share" => {
                r.warn(e, format!("imports.{} is not supported yet", e.key));
            }
            "allow_trace" => allow_trace = r.bool(e).map(|b| (b, e)),
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("unknown field {:?}", e.key)),
        }
    }
    let (kind, account, subject) = source?;
    let allow_trace = allowed_trace(
        allow_trace,
        kind == ExportKind::Stream,
        "Detected allow_trace directive on a non-stream",
        r,
    );
    (r.errors.len() == errors_before).then_some(ImportConfig {
        kind,
        account,
        subject,
        prefix: prefix.filter(|p| !p.is_empty()),
        to: to.filter(|t| !t.is_empty()),
        allow_trace,
    })
}

/// `accounts: [A, B]` of an export.
fn names(e: &Entry, r: &mut Report) -> Option<Vec<String>> {
    let Some(items) = e.value.as_array() else {
        r.error(
            e,
            format!(
                "interface conversion: interface {{}} is {}, not []interface {{}}",
                e.value.kind.go_type_name()
            ),
        );
        return None;
    };
    let mut out = Vec::new();
    for item in items {
        match item.as_str() {
            Some(name) => out.push(name.to_string()),
            None => r.error_at(
                &item.pos,
                format!("Expected an account name, got {}", go_value(item)),
            ),
        }
    }
    Some(out)
}

/// nats-server accepts any text as an export subject; one that is not a
/// valid subject can never match, so Gannet says so.
fn warn_invalid_subject(e: &Entry, subject: &str, r: &mut Report) {
    if !is_valid_subscribe_subject(subject.as_bytes()) {
        r.warn(
            e,
            format!("{subject:?} is not a valid subject and will never match"),
        );
    }
}

fn kind_name(kind: ExportKind) -> &'static str {
    match kind {
        ExportKind::Stream => "stream",
        ExportKind::Service => "service",
    }
}

/// Exports and imports must name defined accounts, and each import must be
/// allowed by an export of its account.
fn check_references(
    accounts: &[AccountConfig],
    import_pos: &[Vec<Pos>],
    block: &Entry,
    r: &mut Report,
) {
    let defined: HashSet<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    for a in accounts {
        for x in &a.exports {
            for name in x.accounts.iter().flatten() {
                if !defined.contains(name.as_str()) {
                    r.error(
                        block,
                        format!(
                            "{name:?} account not defined for {} export",
                            kind_name(x.kind)
                        ),
                    );
                }
            }
        }
    }
    for (a, positions) in accounts.iter().zip(import_pos) {
        for (i, at) in a.imports.iter().zip(positions) {
            let Some(exporter) = accounts.iter().find(|x| x.name == i.account) else {
                r.error_at(
                    at,
                    format!(
                        "{:?} account not defined for {} import",
                        i.account,
                        kind_name(i.kind)
                    ),
                );
                continue;
            };
            if !import_authorized(exporter, &a.name, i) {
                let kind = kind_name(i.kind);
                r.error_at(
                    at,
                    format!(
                        "Error adding {kind} import {:?}: {kind} import not authorized",
                        i.subject
                    ),
                );
            }
        }
    }
}

/// An export of the same kind covers the imported subject and lets
/// `importer` in (public, or listed).
fn import_authorized(exporter: &AccountConfig, importer: &str, i: &ImportConfig) -> bool {
    exporter.exports.iter().any(|x| {
        x.kind == i.kind
            && x.accounts
                .as_ref()
                .is_none_or(|list| list.iter().any(|n| n == importer))
            && covers(&x.subject, &i.subject)
    })
}

/// Whether every subject matching `inner` also matches `outer` (both may
/// have wildcards).
pub(crate) fn covers(outer: &str, inner: &str) -> bool {
    let mut o = tokens(outer.as_bytes());
    let mut i = tokens(inner.as_bytes());
    loop {
        match (o.next(), i.next()) {
            (Some(b">"), Some(_)) => return true,
            (Some(b"*"), Some(t)) if t != b">" => {}
            (Some(a), Some(b)) if a == b && a != b"*" && a != b">" => {}
            (Some(b"*"), Some(b"*")) => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// An account's `msg_trace`, checked as nats-server checks it.
fn msg_trace(e: &Entry, r: &mut Report) -> Option<super::MsgTrace> {
    let dest_of = |v: &Value, key: &str, at: &Pos, r: &mut Report| -> Option<String> {
        let Some(dest) = v.as_str() else {
            r.error_at(
                at,
                format!(
                    "Field {key:?} should be a string, got {}",
                    v.kind.go_type_name()
                ),
            );
            return None;
        };
        if !gannet_proto::subject::is_valid_publish_subject(dest.as_bytes()) {
            r.error_at(at, format!("Trace destination {dest:?} is not valid"));
            return None;
        }
        Some(dest.to_string())
    };
    let (dest, sampling) = match &e.value.kind {
        Kind::String(_) => (dest_of(&e.value, &e.key, &e.key_pos, r)?, None),
        Kind::Map(map) => {
            let mut dest = None;
            let mut sampling = None;
            for f in map.iter() {
                match f.key.to_ascii_lowercase().as_str() {
                    "dest" => dest = Some(dest_of(&f.value, &f.key, &f.key_pos, r)?),
                    "sampling" => {
                        let n = match &f.value.kind {
                            Kind::Integer(n) => *n,
                            Kind::String(s) => match s.trim_end_matches('%').parse::<i64>() {
                                Ok(n) => n,
                                Err(_) => {
                                    r.error(
                                        f,
                                        format!("Invalid trace destination sampling value {s:?}"),
                                    );
                                    return None;
                                }
                            },
                            other => {
                                r.error(
                                    f,
                                    format!(
                                        "Trace destination sampling field {:?} should be an integer or a percentage, got {}",
                                        f.key,
                                        other.go_type_name()
                                    ),
                                );
                                return None;
                            }
                        };
                        if !(1..=100).contains(&n) {
                            r.error(
                                f,
                                format!("Ttrace destination sampling value {n} is invalid, needs to be [1..100]"),
                            );
                            return None;
                        }
                        sampling = u8::try_from(n).ok();
                    }
                    _ if f.used_as_variable => {}
                    _ => {
                        r.error(
                            f,
                            format!(
                                "Unknown field {:?} parsing account message trace map/struct {:?}",
                                f.key, e.key
                            ),
                        );
                        return None;
                    }
                }
            }
            match dest {
                Some(dest) => (dest, sampling),
                None => {
                    if sampling.is_some() {
                        r.warn(
                            e,
                            "Trace destination sampling ignored since no destination was set",
                        );
                    }
                    return None;
                }
            }
        }
        other => {
            r.error(
                e,
                format!(
                    "Expected account message trace {:?} to be a string or a map/struct, got {}",
                    e.key,
                    other.go_type_name()
                ),
            );
            return None;
        }
    };
    Some(super::MsgTrace {
        dest,
        sampling: sampling.unwrap_or(100),
    })
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn covers_follows_wildcards() {
        assert!(covers("foo.>", "foo.bar"));
        assert!(covers("foo.>", "foo.*"));
        assert!(covers("foo.>", "foo.>"));
        assert!(!covers("foo.>", "foo"));
        assert!(covers("foo.*", "foo.bar"));
        assert!(covers("foo.*", "foo.*"));
        assert!(!covers("foo.*", "foo.>"));
        assert!(!covers("foo.bar", "foo.*"));
        assert!(covers("foo", "foo"));
        assert!(!covers("foo", "foo.bar"));
        assert!(!covers("foo.bar", "foo"));
    }
}
