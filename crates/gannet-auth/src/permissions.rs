//! Compiled publish/subscribe permissions of one user, and the checks the
//! server runs on every PUB, SUB and delivery (nats-server's `permissions`,
//! `setPermissions`, `pubAllowed`, `canSubscribe` and the delivery-time deny
//! filter in `client.go`).
//!
//! Semantics (docs/PROTOCOL.md §7, docs/BOSH.md §2):
//! - An absent allow list allows everything. An empty one does too, except
//!   when `empty_denies` (BOSH certificate clients, where an absent list also
//!   allows nothing) or, for publish, when `allow_responses` is set.
//! - Deny always wins over allow.
//! - PUB: allowed when some allow pattern matches the subject and no deny
//!   pattern does.
//! - SUB: the subscription subject must be *covered* by an allow entry (every
//!   subject it could receive is matched by the entry), and must not be
//!   covered by a deny entry. A SUB that only *overlaps* a deny entry
//!   (`SUB a.>` with deny `a.b`) is accepted, and [`Permissions::can_receive`]
//!   keeps the denied messages from it.
//! - Subscribe entries may carry a queue group, `"foo q1"`: it applies only to
//!   a SUB in a matching queue group (equal name, or a queue pattern with
//!   wildcards that covers it). A plain entry applies to any queue and to no
//!   queue.

use std::sync::atomic::{AtomicU64, Ordering};

use gannet_config::options::{
    Permissions as ConfigPermissions, ResponsePermission, SubjectPermission,
};
use gannet_proto::subject::is_valid_subscribe_subject;

use crate::bosh::substitute_client_id;
use crate::pattern::Pattern;

/// Gives every compiled [`Permissions`] its own id, so a
/// [`crate::PublishCache`] notices when it is handed different permissions
/// (after a reload).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A queue group named in a subscribe entry.
#[derive(Debug, Clone)]
struct QueueRule {
    name: Box<[u8]>,
    /// Set when the name has `*`/`>` tokens: it then also admits every queue
    /// name it covers (`v1.*` admits `v1.a`).
    pattern: Option<Pattern>,
}

impl QueueRule {
    fn admits(&self, queue: &[u8]) -> bool {
        if *self.name == *queue {
            return true;
        }
        match &self.pattern {
            Some(p) => is_valid_subscribe_subject(queue) && p.covers(queue),
            None => false,
        }
    }
}

/// One subscribe allow or deny entry: a subject, optionally a queue group.
#[derive(Debug, Clone)]
struct SubRule {
    subject: Pattern,
    queue: Option<QueueRule>,
}

impl SubRule {
    /// Whether this entry speaks for a SUB in `queue` (`None` = no queue).
    fn applies_to_queue(&self, queue: Option<&[u8]>) -> bool {
        match (&self.queue, queue) {
            (None, _) => true,
            (Some(rule), Some(q)) => rule.admits(q),
            (Some(_), None) => false,
        }
    }

    /// Whether the entry covers the whole SUB (subject and queue).
    fn covers(&self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        self.applies_to_queue(queue) && self.subject.covers(subject)
    }
}

/// What one user may publish and subscribe to, ready for checking.
#[derive(Debug, Clone)]
pub struct Permissions {
    id: u64,
    /// `None` = any subject may be published (subject to `pub_deny`).
    pub_allow: Option<Box<[Pattern]>>,
    pub_deny: Box<[Pattern]>,
    /// `None` = any subject may be subscribed to (subject to `sub_deny`).
    sub_allow: Option<Box<[SubRule]>>,
    sub_deny: Box<[SubRule]>,
    allow_responses: Option<ResponsePermission>,
    /// The rules these were compiled from (after `_CLIENT_ID` substitution),
    /// for monitoring (`$SYS.REQ.USER.INFO`, connz `auth`).
    source: ConfigPermissions,
}

impl Permissions {
    /// Compiles config permissions. `client_id`: replace every `_CLIENT_ID`
    /// text in every subject (BOSH). `empty_denies`: an empty or absent allow
    /// list denies everything (BOSH certificate clients) instead of meaning no
    /// restriction (upstream).
    ///
    /// Fails on an invalid subject or a subscribe entry with more than one
    /// space-separated queue; the message lists every bad entry.
    pub fn compile(
        p: &ConfigPermissions,
        client_id: Option<&str>,
        empty_denies: bool,
    ) -> Result<Permissions, String> {
        let source = match client_id {
            Some(id) => substitute_client_id(p, id),
            None => p.clone(),
        };
        let mut errors = Vec::new();
        let empty = SubjectPermission::default();
        let publish = source.publish.as_ref().unwrap_or(&empty);
        let subscribe = source.subscribe.as_ref().unwrap_or(&empty);

        // With allow_responses, only an explicit non-empty allow list lets
        // other publishes through (as nats-server turns off the blanket allow).
        let pub_empty_denies = empty_denies || source.allow_responses.is_some();
        let pub_allow = allow_list(publish, pub_empty_denies)
            .map(|list| compile_publish(list, "publish allow", &mut errors));
        let pub_deny = compile_publish(deny_list(publish), "publish deny", &mut errors);
        let sub_allow = allow_list(subscribe, empty_denies)
            .map(|list| compile_subscribe(list, "subscribe allow", &mut errors));
        let sub_deny = compile_subscribe(deny_list(subscribe), "subscribe deny", &mut errors);

        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
        Ok(Permissions {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            pub_allow,
            pub_deny,
            sub_allow,
            sub_deny,
            allow_responses: source.allow_responses,
            source,
        })
    }

    /// Whether this client may publish to `subject` (the reply-subject
    /// exception of `allow_responses` is the server's to apply).
    pub fn can_publish(&self, subject: &[u8]) -> bool {
        if let Some(allow) = &self.pub_allow {
            if !allow.iter().any(|p| p.matches(subject)) {
                return false;
            }
        }
        !self.pub_deny.iter().any(|p| p.matches(subject))
    }

    /// Whether every publish is allowed, so callers can skip the check.
    pub fn publish_unrestricted(&self) -> bool {
        self.pub_allow.is_none() && self.pub_deny.is_empty()
    }

    /// Whether this client may subscribe to `subject` (which may have
    /// wildcards), in queue group `queue`. An invalid subject is refused.
    pub fn can_subscribe(&self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        if !is_valid_subscribe_subject(subject) {
            return false;
        }
        let queue = queue.filter(|q| !q.is_empty());
        if let Some(allow) = &self.sub_allow {
            if !allow.iter().any(|r| r.covers(subject, queue)) {
                return false;
            }
        }
        !self.sub_deny.iter().any(|r| r.covers(subject, queue))
    }

    /// Whether a message on `subject` may be delivered to a subscription of
    /// this client (a SUB `a.>` is allowed even with subscribe deny `a.b`,
    /// but `a.b` messages are not delivered to it). Only deny entries without
    /// a queue group count; see [`Permissions::can_receive_in_queue`].
    pub fn can_receive(&self, subject: &[u8]) -> bool {
        self.can_receive_in_queue(subject, None)
    }

    /// [`Permissions::can_receive`] for a subscription in queue group
    /// `queue`: deny entries naming a matching queue group count as well.
    pub fn can_receive_in_queue(&self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        let queue = queue.filter(|q| !q.is_empty());
        !self
            .sub_deny
            .iter()
            .any(|r| r.applies_to_queue(queue) && r.subject.matches(subject))
    }

    /// Whether there are subscribe deny entries at all, so the server can
    /// skip [`Permissions::can_receive`] when there are none.
    pub fn has_subscribe_deny(&self) -> bool {
        !self.sub_deny.is_empty()
    }

    /// Whether an (accepted) subscription to `subject` in `queue` could see
    /// messages that [`Permissions::can_receive_in_queue`] refuses, i.e. it
    /// overlaps a deny entry. The server may remember this per subscription
    /// and filter only those.
    pub fn subscription_needs_filter(&self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        let queue = queue.filter(|q| !q.is_empty());
        is_valid_subscribe_subject(subject)
            && self
                .sub_deny
                .iter()
                .any(|r| r.applies_to_queue(queue) && r.subject.intersects(subject))
    }

    /// `allow_responses`, if granted.
    pub fn allow_responses(&self) -> Option<ResponsePermission> {
        self.allow_responses
    }

    /// The rules as configured, after `_CLIENT_ID` substitution (what
    /// monitoring reports).
    pub fn source(&self) -> &ConfigPermissions {
        &self.source
    }

    /// Unique per compilation; see [`crate::PublishCache`].
    pub(crate) fn id(&self) -> u64 {
        self.id
    }
}

/// The allow list to install: `None` = no restriction.
fn allow_list(sp: &SubjectPermission, empty_denies: bool) -> Option<&[String]> {
    match sp.allow.as_deref() {
        Some(list) if !list.is_empty() => Some(list),
        _ if empty_denies => Some(&[]),
        _ => None,
    }
}

fn deny_list(sp: &SubjectPermission) -> &[String] {
    sp.deny.as_deref().unwrap_or(&[])
}

fn compile_publish(list: &[String], what: &str, errors: &mut Vec<String>) -> Box<[Pattern]> {
    list.iter()
        .filter_map(|s| {
            let p = Pattern::parse(s.as_bytes());
            if p.is_none() {
                errors.push(format!("invalid {what} subject {s:?}"));
            }
            p
        })
        .collect()
}

fn compile_subscribe(list: &[String], what: &str, errors: &mut Vec<String>) -> Box<[SubRule]> {
    list.iter()
        .filter_map(|s| {
            let r = parse_sub_rule(s);
            if r.is_none() {
                errors.push(format!("invalid {what} entry {s:?}"));
            }
            r
        })
        .collect()
}

/// `"subject"` or `"subject queue"` (separated by white space).
fn parse_sub_rule(entry: &str) -> Option<SubRule> {
    let mut parts = entry.split_ascii_whitespace();
    let subject = Pattern::parse(parts.next()?.as_bytes())?;
    let queue = parts.next().map(|q| QueueRule {
        name: q.as_bytes().into(),
        pattern: Pattern::parse(q.as_bytes()).filter(Pattern::has_wildcard),
    });
    if parts.next().is_some() {
        return None;
    }
    Some(SubRule { subject, queue })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    fn sp(allow: Option<&[&str]>, deny: Option<&[&str]>) -> Option<SubjectPermission> {
        Some(SubjectPermission {
            allow: allow.and_then(list),
            deny: deny.and_then(list),
        })
    }

    fn perms(
        publish: Option<SubjectPermission>,
        subscribe: Option<SubjectPermission>,
    ) -> Permissions {
        Permissions::compile(
            &ConfigPermissions {
                publish,
                subscribe,
                allow_responses: None,
            },
            None,
            false,
        )
        .unwrap()
    }

    #[test]
    fn absent_or_empty_allow_list_allows_everything() {
        let p = perms(None, None);
        assert!(p.can_publish(b"any.thing"));
        assert!(p.can_subscribe(b">", None));
        assert!(p.publish_unrestricted());
        assert!(!p.has_subscribe_deny());

        let p = perms(sp(Some(&[]), None), sp(Some(&[]), None));
        assert!(p.can_publish(b"agent.x"));
        assert!(p.can_subscribe(b"a.>", Some(b"q")));
        assert!(p.publish_unrestricted());
    }

    #[test]
    fn empty_denies_makes_empty_and_absent_lists_deny_everything() {
        let cfg = ConfigPermissions {
            publish: sp(Some(&[]), None),
            subscribe: None,
            allow_responses: None,
        };
        let p = Permissions::compile(&cfg, None, true).unwrap();
        assert!(!p.can_publish(b"agent.x"));
        assert!(!p.can_subscribe(b"agent.x", None));
        assert!(!p.publish_unrestricted());
        let p = Permissions::compile(&ConfigPermissions::default(), None, true).unwrap();
        assert!(!p.can_publish(b"a"));
        assert!(!p.can_subscribe(b"a", None));
    }

    #[test]
    fn publish_allow_and_deny_with_wildcards() {
        let p = perms(sp(Some(&["a.>", "b"]), Some(&["a.secret", "a.*.x"])), None);
        assert!(p.can_publish(b"a.b"));
        assert!(p.can_publish(b"a.b.c"));
        assert!(p.can_publish(b"b"));
        assert!(!p.can_publish(b"b.c"));
        assert!(!p.can_publish(b"a"));
        assert!(!p.can_publish(b"a.secret"), "deny wins");
        assert!(!p.can_publish(b"a.q.x"), "deny with a wildcard");
        assert!(p.can_publish(b"a.q.y"));
        assert!(!p.can_publish(b"c"));

        // Deny only.
        let p = perms(sp(None, Some(&["x.>"])), None);
        assert!(p.can_publish(b"y"));
        assert!(!p.can_publish(b"x.y"));
        assert!(!p.publish_unrestricted());
    }

    #[test]
    fn subscribe_must_be_covered_by_an_allow_entry() {
        let p = perms(None, sp(Some(&["a.>", "b.*", "c"]), None));
        assert!(!p.can_subscribe(b">", None), "SUB > with allow a.>");
        assert!(p.can_subscribe(b"a.b", None));
        assert!(p.can_subscribe(b"a.*", None), "SUB a.* with allow a.>");
        assert!(p.can_subscribe(b"a.>", None));
        assert!(p.can_subscribe(b"b.x", None), "SUB b.x with allow b.*");
        assert!(p.can_subscribe(b"b.*", None));
        assert!(!p.can_subscribe(b"b.>", None), "b.> reaches b.x.y");
        assert!(p.can_subscribe(b"c", None));
        assert!(!p.can_subscribe(b"c.d", None));
        assert!(!p.can_subscribe(b"*", None));
        assert!(!p.can_subscribe(b"a..b", None), "invalid subject");
        assert!(!p.can_subscribe(b"", None));
    }

    #[test]
    fn subscribe_inside_a_deny_entry_is_refused_overlap_is_filtered() {
        let p = perms(None, sp(None, Some(&["a.b", "y.>", "z.*"])));
        assert!(p.has_subscribe_deny());
        // Equal to or inside a deny entry: refused.
        assert!(!p.can_subscribe(b"a.b", None));
        assert!(!p.can_subscribe(b"y.q", None));
        assert!(!p.can_subscribe(b"y.>", None));
        assert!(!p.can_subscribe(b"y.*.z", None));
        assert!(!p.can_subscribe(b"z.*", None));
        assert!(
            !p.can_subscribe(b"z.q", Some(b"grp")),
            "plain deny covers queues"
        );
        // Wider than a deny entry: accepted, filtered on delivery.
        assert!(p.can_subscribe(b"a.>", None));
        assert!(p.can_subscribe(b">", None));
        assert!(p.can_subscribe(b"z.>", None), "z.> is not inside z.*");
        assert!(p.subscription_needs_filter(b"a.>", None));
        assert!(p.subscription_needs_filter(b">", None));
        assert!(!p.subscription_needs_filter(b"a.c", None));
        assert!(!p.subscription_needs_filter(b"q.>", None));
        assert!(!p.can_receive(b"a.b"));
        assert!(!p.can_receive(b"y.anything.deep"));
        assert!(!p.can_receive(b"z.q"));
        assert!(p.can_receive(b"a.c"));
        assert!(p.can_receive(b"z.q.r"));
        // Unrelated subjects are fine.
        assert!(p.can_subscribe(b"a.c", None));
    }

    #[test]
    fn allow_and_deny_together() {
        let p = perms(None, sp(Some(&["_INBOX.>"]), Some(&["_INBOX.no"])));
        assert!(p.can_subscribe(b"_INBOX.abc", None));
        assert!(p.can_subscribe(b"_INBOX.>", None));
        assert!(!p.can_subscribe(b"_INBOX.no", None));
        assert!(!p.can_subscribe(b"other", None));
        assert!(!p.can_receive(b"_INBOX.no"));
        assert!(p.can_receive(b"_INBOX.yes"));
    }

    #[test]
    fn queue_entries_allow_only_that_queue() {
        let p = perms(None, sp(Some(&["foo q1", "bar.*", "v.> v1.*"]), None));
        assert!(p.can_subscribe(b"foo", Some(b"q1")));
        assert!(!p.can_subscribe(b"foo", None), "plain SUB foo refused");
        assert!(!p.can_subscribe(b"foo", Some(b"q2")), "SUB foo q2 refused");
        assert!(p.can_subscribe(b"bar.x", None));
        assert!(
            p.can_subscribe(b"bar.x", Some(b"anyq")),
            "plain entry allows any queue"
        );
        // Queue names with wildcards admit the queues they cover.
        assert!(p.can_subscribe(b"v.a", Some(b"v1.x")));
        assert!(p.can_subscribe(b"v.a", Some(b"v1.*")));
        assert!(!p.can_subscribe(b"v.a", Some(b"v2.x")));
        assert!(!p.can_subscribe(b"v.a", Some(b"v1.x.y")));
        assert!(!p.can_subscribe(b"v.a", None));
        // An empty queue is no queue.
        assert!(!p.can_subscribe(b"foo", Some(b"")));
    }

    #[test]
    fn queue_deny_entries_refuse_only_that_queue() {
        let p = perms(None, sp(None, Some(&["foo q1"])));
        assert!(!p.can_subscribe(b"foo", Some(b"q1")));
        assert!(p.can_subscribe(b"foo", Some(b"q2")));
        assert!(p.can_subscribe(b"foo", None));
        assert!(p.can_receive(b"foo"));
        assert!(!p.can_receive_in_queue(b"foo", Some(b"q1")));
        assert!(p.can_receive_in_queue(b"foo", Some(b"q2")));
        assert!(p.subscription_needs_filter(b">", Some(b"q1")));
        assert!(!p.subscription_needs_filter(b">", None));
    }

    #[test]
    fn allow_responses_turns_off_the_blanket_publish_allow() {
        let cfg = ConfigPermissions {
            publish: None,
            subscribe: None,
            allow_responses: Some(ResponsePermission::default()),
        };
        let p = Permissions::compile(&cfg, None, false).unwrap();
        assert!(!p.can_publish(b"anything"));
        assert!(p.can_subscribe(b"anything", None));
        assert_eq!(p.allow_responses(), Some(ResponsePermission::default()));

        let cfg = ConfigPermissions {
            publish: sp(
                Some(&["$SYS.REQ.USER.INFO", "probe.>"]),
                Some(&["probe.secret"]),
            ),
            subscribe: None,
            allow_responses: Some(ResponsePermission {
                max: 1,
                expires: std::time::Duration::from_secs(5),
            }),
        };
        let p = Permissions::compile(&cfg, None, false).unwrap();
        assert!(p.can_publish(b"probe.x"));
        assert!(p.can_publish(b"$SYS.REQ.USER.INFO"));
        assert!(!p.can_publish(b"probe.secret"));
        assert!(!p.can_publish(b"other"));
    }

    #[test]
    fn client_id_is_substituted_everywhere() {
        let cfg = ConfigPermissions {
            publish: sp(
                Some(&["hm.agent.heartbeat._CLIENT_ID", "director.*._CLIENT_ID.*"]),
                Some(&["x._CLIENT_ID._CLIENT_ID"]),
            ),
            subscribe: sp(
                Some(&["agent._CLIENT_ID"]),
                Some(&["agent._CLIENT_ID.secret q"]),
            ),
            allow_responses: None,
        };
        let p = Permissions::compile(&cfg, Some("abc"), true).unwrap();
        assert!(p.can_publish(b"hm.agent.heartbeat.abc"));
        assert!(p.can_publish(b"director.d.abc.r"));
        assert!(!p.can_publish(b"hm.agent.heartbeat._CLIENT_ID"));
        assert!(p.can_subscribe(b"agent.abc", None));
        let src = p.source();
        assert_eq!(
            src.publish.as_ref().unwrap().deny,
            list(&["x.abc.abc"]),
            "every occurrence"
        );
        assert_eq!(
            src.subscribe.as_ref().unwrap().deny,
            list(&["agent.abc.secret q"])
        );
    }

    #[test]
    fn invalid_entries_are_reported_together() {
        let cfg = ConfigPermissions {
            publish: sp(Some(&["a..b", "ok", "x y"]), Some(&[""])),
            subscribe: sp(Some(&["a b c", "fine q"]), Some(&["foo.>.bar"])),
            allow_responses: None,
        };
        let err = Permissions::compile(&cfg, None, false).unwrap_err();
        for bad in [
            r#"publish allow subject "a..b""#,
            r#"publish allow subject "x y""#,
            r#"publish deny subject """#,
            r#"subscribe allow entry "a b c""#,
            r#"subscribe deny entry "foo.>.bar""#,
        ] {
            assert!(err.contains(bad), "{err} lacks {bad}");
        }
        assert!(!err.contains("\"ok\""));
    }

    #[test]
    fn each_compilation_has_its_own_id() {
        let a = perms(None, None);
        let b = perms(None, None);
        assert_ne!(a.id(), b.id());
    }
}
