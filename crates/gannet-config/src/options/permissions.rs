//! `permissions { }` maps: publish and subscribe allow/deny lists, queue
//! qualified subscribe entries (`"subject queue"`) and `allow_responses`
//! (nats-server's `parseUserPermissions`, `parseVariablePermissions`,
//! `parseAllowResponses` and `checkPermSubjectArray` in `opts.go`).
//!
//! One deliberate difference: an empty list stays `Some(vec![])` instead of
//! collapsing into "not given", because BOSH certificate clients read it as
//! "nothing allowed" (see [`SubjectPermission`]).
use std::time::Duration;

use gannet_proto::subject::is_valid_subscribe_subject;

use super::convert::{go_value, Report};
use super::{Permissions, ResponsePermission, SubjectPermission};
use crate::conf::{self, Entry, Kind, Pos, Value};

/// A parsed `permissions` map, plus where an empty allow list was written
/// (for the warning that it does not deny anything).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parsed {
    pub permissions: Permissions,
    pub empty_publish_allow: Option<Pos>,
    pub empty_subscribe_allow: Option<Pos>,
}

/// Reads the value of a `permissions` entry. Errors are recorded; `None`
/// when the value is not a map at all.
pub(crate) fn parse(entry: &Entry, r: &mut Report) -> Option<Parsed> {
    let Some(map) = entry.value.as_map() else {
        r.error(
            entry,
            format!(
                "Expected permissions to be a map/struct, got {}",
                go_value(&entry.value)
            ),
        );
        return None;
    };
    let mut parsed = Parsed {
        permissions: Permissions::default(),
        empty_publish_allow: None,
        empty_subscribe_allow: None,
    };
    for e in map {
        match e.key.to_ascii_lowercase().as_str() {
            "pub" | "publish" | "import" => {
                let (perm, empty) = subject_permission(e, false, r);
                parsed.permissions.publish = perm;
                parsed.empty_publish_allow = empty;
            }
            "sub" | "subscribe" | "export" => {
                let (perm, empty) = subject_permission(e, true, r);
                parsed.permissions.subscribe = perm;
                parsed.empty_subscribe_allow = empty;
            }
            "allow_responses" | "publish_allow_responses" => {
                parsed.permissions.allow_responses = allow_responses(e, r);
            }
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("Unknown field {:?} parsing permissions", e.key)),
        }
    }
    Some(parsed)
}

/// Warns about empty allow lists of an ordinary user (`who` names it):
/// upstream reads them as "no restriction", the BOSH fork as "deny all".
/// With `allow_responses` an empty publish list does deny other publishes,
/// so there is nothing to warn about.
pub(crate) fn warn_empty_allow(parsed: &Parsed, who: &str, r: &mut Report) {
    let lists = [
        ("publish", &parsed.empty_publish_allow),
        ("subscribe", &parsed.empty_subscribe_allow),
    ];
    for (what, at) in lists {
        let Some(pos) = at else { continue };
        if what == "publish" && parsed.permissions.allow_responses.is_some() {
            continue;
        }
        r.warn_at(
            pos,
            format!("{who}: empty {what} allow list means no restriction (not deny-all)"),
        );
    }
}

/// `publish`/`subscribe`: a subject, a list (= allow list), or
/// `{ allow, deny }`. An empty map means "not given", as in nats-server.
fn subject_permission(
    entry: &Entry,
    allow_queue: bool,
    r: &mut Report,
) -> (Option<SubjectPermission>, Option<Pos>) {
    let Some(map) = entry.value.as_map() else {
        let allow = subjects(&entry.value, allow_queue, r);
        let empty = written_empty(&entry.value).then(|| entry.key_pos.clone());
        let perm = SubjectPermission { allow, deny: None };
        return (Some(perm), empty);
    };
    if map.is_empty() {
        return (None, None);
    }
    let mut perm = SubjectPermission::default();
    let mut empty = None;
    for e in map {
        match e.key.to_ascii_lowercase().as_str() {
            "allow" => {
                perm.allow = subjects(&e.value, allow_queue, r);
                empty = written_empty(&e.value).then(|| e.key_pos.clone());
            }
            "deny" => perm.deny = subjects(&e.value, allow_queue, r),
            _ if e.used_as_variable => {}
            _ => r.error(
                e,
                format!(
                    "Unknown field name {:?} parsing subject permissions, only 'allow' or \
                     'deny' are permitted",
                    e.key
                ),
            ),
        }
    }
    (Some(perm), empty)
}

/// True for a list written empty (`[]`), not one emptied by invalid entries.
fn written_empty(value: &Value) -> bool {
    value.as_array().is_some_and(<[Value]>::is_empty)
}

/// A single subject or a list of them, each checked. Invalid entries are
/// reported where they are written and left out.
pub(super) fn subjects(value: &Value, allow_queue: bool, r: &mut Report) -> Option<Vec<String>> {
    let items: Vec<&Value> = match &value.kind {
        Kind::Array(items) => items.iter().collect(),
        Kind::String(_) | Kind::Duration { .. } => vec![value],
        other => {
            r.error_at(
                &value.pos,
                format!(
                    "Expected subject permissions to be a subject, or array of subjects, got {}",
                    other.go_type_name()
                ),
            );
            return None;
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(s) = item.as_str() else {
            r.error_at(
                &item.pos,
                "Subject in permissions array cannot be cast to string",
            );
            continue;
        };
        match check_subject(s, allow_queue) {
            Ok(()) => out.push(s.to_string()),
            Err(message) => r.error_at(&item.pos, message),
        }
    }
    Some(out)
}

/// A permission subject: any valid subject (wildcards allowed) or, for
/// subscribe, `"subject queue"`. The texts are nats-server's.
pub(crate) fn check_subject(s: &str, allow_queue: bool) -> Result<(), String> {
    if is_valid_subscribe_subject(s.as_bytes()) {
        return Ok(());
    }
    let invalid = |s: &str| Err(format!("subject {s:?} is not a valid subject"));
    if !allow_queue {
        return invalid(s);
    }
    let parts: Vec<&str> = s.split_whitespace().collect();
    match parts.as_slice() {
        [subject, _] if !is_valid_subscribe_subject(subject.as_bytes()) => invalid(subject),
        [_, queue] if !is_valid_subscribe_subject(queue.as_bytes()) => {
            Err(format!("queue {queue:?} is not a valid queue"))
        }
        [_, _] => Ok(()),
        _ => invalid(s),
    }
}

/// `allow_responses`: `true` (defaults), `false` (off), or
/// `{ max, expires }`. A zero leaves the default; a negative `max` means
/// unlimited and a negative `expires` means no expiry, as in nats-server.
fn allow_responses(entry: &Entry, r: &mut Report) -> Option<ResponsePermission> {
    let map = match &entry.value.kind {
        Kind::Bool(true) => return Some(ResponsePermission::default()),
        Kind::Bool(false) => return None,
        Kind::Map(map) => map,
        _ => {
            r.error(
                entry,
                "error parsing response permissions, expected a boolean or a map",
            );
            return None;
        }
    };
    let mut rp = ResponsePermission::default();
    let mut ok = true;
    for e in map {
        match e.key.to_ascii_lowercase().as_str() {
            "max" | "max_msgs" | "max_messages" | "max_responses" => match r.int(e) {
                Some(0) => {}
                Some(n) if n < 0 => rp.max = usize::MAX,
                Some(n) => rp.max = usize::try_from(n).unwrap_or(usize::MAX),
                None => ok = false,
            },
            "expires" | "expiration" | "ttl" => {
                let Some(text) = e.value.as_str() else {
                    r.error(e, "error parsing expires, not a duration string");
                    ok = false;
                    continue;
                };
                match conf::parse_go_duration(text) {
                    Ok(0) => {}
                    Ok(nanos) => {
                        rp.expires = conf::nanos_to_duration(nanos).unwrap_or(Duration::ZERO);
                    }
                    Err(err) => {
                        r.error(e, format!("error parsing expires: {err}"));
                        ok = false;
                    }
                }
            }
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("Unknown field {:?} parsing permissions", e.key)),
        }
    }
    ok.then_some(rp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::parse_str;
    use crate::options::security::DEFAULT_RESPONSE_EXPIRES;
    use std::path::Path;

    /// Parses `permissions: <text>` and returns the result with every
    /// error and warning text (without positions).
    fn perms(text: &str) -> (Option<Permissions>, Vec<String>) {
        let map = parse_str(&format!("permissions: {text}"), Path::new("t.conf"))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let entry = map.get("permissions").cloned();
        let entry = entry.unwrap_or_else(|| panic!("no entry"));
        let mut r = Report::default();
        let parsed = parse(&entry, &mut r);
        if let Some(p) = &parsed {
            warn_empty_allow(p, "user \"u\"", &mut r);
        }
        let mut messages: Vec<String> = r.errors.iter().map(|e| e.message.clone()).collect();
        messages.extend(r.warnings.iter().map(|w| format!("warning: {}", w.message)));
        (parsed.map(|p| p.permissions), messages)
    }

    fn ok(text: &str) -> Permissions {
        match perms(text) {
            (Some(p), m) if m.iter().all(|m| m.starts_with("warning: ")) => p,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn errors(text: &str) -> Vec<String> {
        perms(text).1
    }

    fn list(items: &[&str]) -> Option<Vec<String>> {
        Some(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn lists_and_single_strings_are_allow_lists() {
        let p = ok(r#"{ publish: ["a.>", "b"], subscribe: "x.*" }"#);
        assert_eq!(
            p.publish,
            Some(SubjectPermission {
                allow: list(&["a.>", "b"]),
                deny: None
            })
        );
        assert_eq!(p.subscribe.and_then(|s| s.allow), list(&["x.*"]));
        assert_eq!(p.allow_responses, None);
    }

    #[test]
    fn aliases() {
        let p = ok(r#"{ pub: a, sub: b, publish_allow_responses: true }"#);
        assert_eq!(p.publish.and_then(|s| s.allow), list(&["a"]));
        assert_eq!(p.subscribe.and_then(|s| s.allow), list(&["b"]));
        assert!(p.allow_responses.is_some());
        let p = ok(r#"{ import: a, export: b }"#);
        assert_eq!(p.publish.and_then(|s| s.allow), list(&["a"]));
        assert_eq!(p.subscribe.and_then(|s| s.allow), list(&["b"]));
        let p = ok(r#"{ PUBLISH: { ALLOW: a, Deny: b } }"#);
        assert_eq!(
            p.publish,
            Some(SubjectPermission {
                allow: list(&["a"]),
                deny: list(&["b"])
            })
        );
    }

    #[test]
    fn allow_deny_map() {
        let p = ok(r#"{ subscribe: { allow: ["x.*", "q.* myqueue"], deny: ["x.secret"] } }"#);
        assert_eq!(
            p.subscribe,
            Some(SubjectPermission {
                allow: list(&["x.*", "q.* myqueue"]),
                deny: list(&["x.secret"])
            })
        );
        let p = ok(r#"{ publish: { deny: "x" } }"#);
        assert_eq!(
            p.publish,
            Some(SubjectPermission {
                allow: None,
                deny: list(&["x"])
            })
        );
    }

    #[test]
    fn empty_list_is_kept_apart_from_absent() {
        let p = ok(r#"{ publish: [], subscribe: ["a"] }"#);
        assert_eq!(
            p.publish,
            Some(SubjectPermission {
                allow: Some(vec![]),
                deny: None
            })
        );
        let p = ok(r#"{ subscribe: ["a"] }"#);
        assert_eq!(p.publish, None);
        let p = ok(r#"{ publish: { allow: [] } }"#);
        assert_eq!(p.publish.and_then(|s| s.allow), Some(vec![]));
        // An empty map is "not given" (nats-server drops it too).
        assert_eq!(ok(r#"{ publish: {} }"#).publish, None);
    }

    #[test]
    fn empty_allow_lists_warn() {
        assert_eq!(
            errors(r#"{ publish: [], subscribe: { allow: [] } }"#),
            [
                "warning: user \"u\": empty publish allow list means no restriction (not deny-all)",
                "warning: user \"u\": empty subscribe allow list means no restriction (not deny-all)",
            ]
        );
        // With allow_responses the empty publish list does deny.
        assert!(errors(r#"{ publish: [], allow_responses: true }"#).is_empty());
        assert!(errors(r#"{ publish: { deny: [] } }"#).is_empty());
    }

    #[test]
    fn unknown_keys_are_errors_like_the_reference() {
        assert_eq!(
            errors("{ bogus: 1, publish: a }"),
            ["Unknown field \"bogus\" parsing permissions"]
        );
        assert_eq!(
            errors("{ publish: { bogus: [a] } }"),
            [
                "Unknown field name \"bogus\" parsing subject permissions, only 'allow' or \
                 'deny' are permitted"
            ]
        );
        // Variables defined inside and used are not unknown.
        let p = ok("{ P = [a], publish: $P }");
        assert_eq!(p.publish.and_then(|s| s.allow), list(&["a"]));
    }

    #[test]
    fn invalid_subjects_are_named() {
        assert_eq!(
            errors(r#"{ publish: { allow: "a..b" } }"#),
            ["subject \"a..b\" is not a valid subject"]
        );
        assert_eq!(
            errors(r#"{ publish: ["ok", "a b", "c."] }"#),
            [
                "subject \"a b\" is not a valid subject",
                "subject \"c.\" is not a valid subject"
            ]
        );
        assert_eq!(
            errors(r#"{ subscribe: ["a b c"] }"#),
            ["subject \"a b c\" is not a valid subject"]
        );
        assert_eq!(
            errors(r#"{ subscribe: ["a.. q"] }"#),
            ["subject \"a..\" is not a valid subject"]
        );
        assert_eq!(
            errors(r#"{ subscribe: ["a q..x"] }"#),
            ["queue \"q..x\" is not a valid queue"]
        );
        assert_eq!(
            errors(r#"{ publish: { deny: ["a q"] } }"#),
            ["subject \"a q\" is not a valid subject"]
        );
        assert_eq!(
            errors("{ publish: 1 }"),
            ["Expected subject permissions to be a subject, or array of subjects, got int64"]
        );
        assert_eq!(
            errors("{ publish: [a, true] }"),
            ["Subject in permissions array cannot be cast to string"]
        );
    }

    #[test]
    fn queue_entries_on_subscribe() {
        let p = ok(r#"{ subscribe: ["a q", "b.> q.>", "c  \t q2"] }"#);
        assert_eq!(
            p.subscribe.and_then(|s| s.allow),
            list(&["a q", "b.> q.>", "c  \t q2"])
        );
    }

    #[test]
    fn bosh_client_id_subjects_are_kept_verbatim() {
        let p = ok(r#"{ publish: ["hm.agent.heartbeat._CLIENT_ID", "director.*._CLIENT_ID.*"] }"#);
        assert_eq!(
            p.publish.and_then(|s| s.allow),
            list(&["hm.agent.heartbeat._CLIENT_ID", "director.*._CLIENT_ID.*"])
        );
    }

    #[test]
    fn allow_responses_forms() {
        let default = ResponsePermission {
            max: 1,
            expires: DEFAULT_RESPONSE_EXPIRES,
        };
        assert_eq!(
            ok("{ allow_responses: true }").allow_responses,
            Some(default)
        );
        assert_eq!(ok("{ allow_responses: false }").allow_responses, None);
        assert_eq!(
            ok(r#"{ allow_responses: { max: 5, expires: "1s" } }"#).allow_responses,
            Some(ResponsePermission {
                max: 5,
                expires: Duration::from_secs(1)
            })
        );
        assert_eq!(
            ok("{ allow_responses: { max_msgs: 0, ttl: 0s } }").allow_responses,
            Some(default)
        );
        assert_eq!(
            ok(r#"{ allow_responses: { max_responses: -1, expiration: "-1s" } }"#).allow_responses,
            Some(ResponsePermission {
                max: usize::MAX,
                expires: Duration::ZERO
            })
        );
        assert_eq!(ok("{ allow_responses: {} }").allow_responses, Some(default));
    }

    #[test]
    fn allow_responses_errors() {
        for (text, want) in [
            (
                "{ allow_responses: 1 }",
                "error parsing response permissions, expected a boolean or a map",
            ),
            (
                "{ allow_responses: { expires: 1 } }",
                "error parsing expires, not a duration string",
            ),
            (
                r#"{ allow_responses: { expires: "zz" } }"#,
                "error parsing expires: time: invalid duration \"zz\"",
            ),
            (
                "{ allow_responses: { bogus: 1 } }",
                "Unknown field \"bogus\" parsing permissions",
            ),
            (
                r#"{ allow_responses: { max: "x" } }"#,
                "invalid type for field \"max\": interface conversion: interface {} is \
                 string, not int64",
            ),
        ] {
            assert_eq!(errors(text), [want], "{text}");
        }
    }

    #[test]
    fn not_a_map() {
        assert_eq!(
            errors("5"),
            ["Expected permissions to be a map/struct, got 5"]
        );
        assert_eq!(perms("[a]").0, None);
    }
}
