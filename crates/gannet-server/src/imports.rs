//! Traffic between accounts (nats-server's stream and service imports in
//! `accounts.go`): which messages published in one account are also delivered in
//! another, under which subject, and how a service's reply finds its way back to
//! the requester's account. Built from the `accounts { }` exports and imports at
//! start and again on every reload; the publish path asks [`AccountRoutes`] only
//! when an account has any. The reply subjects made up for requests in flight
//! ([`ReplyMap`]) belong to the account, so they outlive a reload.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gannet_config::options::{AccountConfig, ExportKind};
use gannet_proto::transform::{identity_destination, wildcard_pattern, SubjectTransform};
use rand::{Rng, SeedableRng};

use crate::accounts::Account;

/// How long a service reply subject stays mapped back to its requester.
pub const REPLY_TTL: Duration = Duration::from_secs(120);
/// Most reply mappings one account keeps; the oldest go first past this.
pub const REPLY_MAX: usize = 100_000;
/// Prefix of the reply subjects a service import makes up.
pub const REPLY_PREFIX: &str = "_R_.";

/// Messages an account publishes that importers receive too.
#[derive(Debug, Clone)]
pub struct StreamRoute {
    pub importer: Arc<Account>,
    /// The imported subject (a pattern) in the exporting account.
    pub subject: String,
    pub prefix: Option<String>,
    pub to: Option<String>,
    /// For a wildcard import under another name (`to` / `local_subject`
    /// such as `mine.$2.$1` or `mine.*`): the exporter's subjects to the
    /// importer's.
    pub transform: Option<SubjectTransform>,
    /// The import's `allow_trace`: a traced message is traced on in the
    /// importing account.
    pub allow_trace: bool,
}

/// What a stand-in subscription in an exporting account does with a message
/// a peer server sent (nats-server's shadow subscriptions): its interest
/// makes peers and other clusters send such messages here.
#[derive(Debug, Clone)]
pub enum Shadow {
    /// A stream import: delivered to the importer's subscribers here.
    Stream(StreamRoute),
    /// Replies to requests this server's importers made of the account's
    /// services (`_R_.<node>.>`): back to each requester.
    Replies,
}

/// Requests an account makes that go to another account's service.
#[derive(Debug, Clone)]
pub struct ServiceRoute {
    pub exporter: Arc<Account>,
    /// The subject (pattern) requests are made on in the importing account.
    pub local: String,
    /// The service's subject in the exporting account.
    pub remote: String,
    /// For a wildcard service imported under another name: the importer's
    /// subjects to the exporter's.
    pub transform: Option<SubjectTransform>,
    /// The export's `allow_trace`: a traced request is traced on in the
    /// exporting account.
    pub allow_trace: bool,
}

impl ServiceRoute {
    /// The exporter's subject for a request made on `subject` here.
    pub fn remote_subject<'a>(&'a self, subject: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        match &self.transform {
            Some(t) => std::borrow::Cow::Owned(t.transform_matched(subject)),
            None if self.local == self.remote => std::borrow::Cow::Borrowed(subject),
            None => std::borrow::Cow::Borrowed(self.remote.as_bytes()),
        }
    }
}

/// The transform of a stream import from `from` (the exporter's pattern) to
/// `to` (the importer's name for it, whose `*`s stand for `from`'s in
/// order), as nats-server makes it: none when `from` has no wildcards or the
/// names are the same.
fn stream_transform(from: &str, to: &str) -> Result<Option<SubjectTransform>, String> {
    if gannet_proto::subject::is_literal(from.as_bytes()) || to == from {
        return Ok(None);
    }
    SubjectTransform::new_strict(from, &identity_destination(to))
        .map(Some)
        .map_err(|e| {
            format!("failed to create mapping transform for stream import subject from {from:?} to {to:?}: {e}")
        })
}

/// The transform of a service import of `remote` (the exporter's pattern)
/// requested on `local` here: the importer's subjects to the exporter's,
/// none when `remote` has no wildcards or the names are the same.
fn service_transform(local: &str, remote: &str) -> Result<Option<SubjectTransform>, String> {
    if gannet_proto::subject::is_literal(remote.as_bytes()) || local == remote {
        return Ok(None);
    }
    let forward = SubjectTransform::new_strict(remote, &identity_destination(local)).map_err(|e| {
        format!("failed to create mapping transform for service import subject from {local:?} to {remote:?}: {e}")
    })?;
    forward
        .reverse()
        .map(Some)
        .ok_or_else(|| format!("service import subject {local:?} does not map back to {remote:?}"))
}

/// Where a made-up reply subject leads back to.
#[derive(Debug, Clone)]
pub struct PendingReply {
    pub requester: Arc<Account>,
    pub reply: Vec<u8>,
    made: Instant,
    /// Used by every message that comes until it expires, not once: the
    /// trace events of a traced request, one from each server it crossed.
    lasting: bool,
}

/// The cross-account routes of one account.
#[derive(Debug, Default)]
pub struct AccountRoutes {
    pub streams_out: Vec<StreamRoute>,
    pub services_in: Vec<ServiceRoute>,
    /// The account exports a service that some account imports: replies to
    /// made-up reply subjects must be routed back.
    pub serves: bool,
}

impl AccountRoutes {
    /// Whether any route could apply.
    pub fn is_empty(&self) -> bool {
        self.streams_out.is_empty() && self.services_in.is_empty() && !self.serves
    }
}

/// Reply subjects of requests an account's services received, and where each
/// leads back to.
#[derive(Debug, Default)]
pub struct ReplyMap {
    replies: Mutex<HashMap<Vec<u8>, PendingReply>>,
}

impl ReplyMap {
    /// Makes up a reply subject for a request crossing into this account:
    /// `_R_.<node>.<random>`, where `node` names this server, so that a
    /// reply given on another server of the cluster finds its way here (see
    /// [`Shadow::Replies`]).
    pub fn map_reply(&self, node: &str, requester: Arc<Account>, reply: &[u8]) -> String {
        self.make_up(node, requester, reply, false)
    }

    /// Makes up the trace destination a traced request carries into this
    /// account's service (its export allows tracing): the events of the
    /// servers it goes on to are published here, in the service's account,
    /// and this subject leads each of them back to `dest` in the
    /// requester's, until it expires.
    pub fn map_trace_dest(&self, node: &str, requester: Arc<Account>, dest: &[u8]) -> String {
        self.make_up(node, requester, dest, true)
    }

    fn make_up(&self, node: &str, requester: Arc<Account>, reply: &[u8], lasting: bool) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut rng = rand::rngs::StdRng::from_os_rng();
        let token: String = (0..10)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        let subject = format!("{REPLY_PREFIX}{node}.{token}");
        let mut replies = self.replies.lock().unwrap_or_else(|e| e.into_inner());
        if replies.len() >= REPLY_MAX {
            let now = Instant::now();
            replies.retain(|_, r| now.duration_since(r.made) < REPLY_TTL);
            if replies.len() >= REPLY_MAX {
                replies.clear();
            }
        }
        replies.insert(
            subject.clone().into_bytes(),
            PendingReply {
                requester,
                reply: reply.to_vec(),
                made: Instant::now(),
                lasting,
            },
        );
        subject
    }

    /// The requester a reply published on `subject` in this account goes back
    /// to (used once, unless made by [`ReplyMap::map_trace_dest`]).
    pub fn take_reply(&self, subject: &[u8]) -> Option<PendingReply> {
        if !subject.starts_with(REPLY_PREFIX.as_bytes()) {
            return None;
        }
        let mut replies = self.replies.lock().unwrap_or_else(|e| e.into_inner());
        let pending = replies.get(subject)?;
        if pending.lasting && pending.made.elapsed() < REPLY_TTL {
            return Some(pending.clone());
        }
        let pending = replies.remove(subject)?;
        (pending.made.elapsed() < REPLY_TTL).then_some(pending)
    }
}

/// The subject a stream import delivers `subject` on in the importing account.
pub fn stream_subject(route: &StreamRoute, subject: &[u8]) -> Vec<u8> {
    match (&route.prefix, &route.to) {
        (Some(prefix), _) => {
            let mut s = Vec::with_capacity(prefix.len() + 1 + subject.len());
            s.extend_from_slice(prefix.trim_end_matches('.').as_bytes());
            s.push(b'.');
            s.extend_from_slice(subject);
            s
        }
        (None, Some(_)) if route.transform.is_some() => route
            .transform
            .as_ref()
            .map_or_else(|| subject.to_vec(), |t| t.transform_matched(subject)),
        (None, Some(to)) if !to.is_empty() && *to != route.subject => to.as_bytes().to_vec(),
        _ => subject.to_vec(),
    }
}

/// Whether the route's `pattern` covers the published `subject`.
#[inline]
pub fn matches(pattern: &str, subject: &[u8]) -> bool {
    gannet_proto::subject::pattern_matches(pattern.as_bytes(), subject)
}

/// Whether `account` exports a service covering `subject` with
/// `allow_trace`.
fn exports_traced_service(configs: &[AccountConfig], account: &str, subject: &str) -> bool {
    configs
        .iter()
        .filter(|c| c.name == account)
        .flat_map(|c| &c.exports)
        .any(|e| {
            e.kind == ExportKind::Service
                && e.allow_trace
                && gannet_proto::subject::pattern_matches(e.subject.as_bytes(), subject.as_bytes())
        })
}

/// Builds every account's routes from the config. `lookup` finds an account by name.
pub fn build(
    configs: &[AccountConfig],
    lookup: impl Fn(&str) -> Arc<Account>,
) -> HashMap<String, AccountRoutes> {
    let mut routes: HashMap<String, AccountRoutes> = HashMap::new();
    for importer in configs {
        let importer_account = lookup(&importer.name);
        for import in &importer.imports {
            let exporter = lookup(&import.account);
            match import.kind {
                ExportKind::Stream => {
                    let to = import.to.as_deref().filter(|t| !t.is_empty());
                    let transform = match to.map(|to| stream_transform(&import.subject, to)) {
                        Some(Err(e)) => {
                            tracing::warn!(
                                "Stream import of account {} not installed: {e}",
                                importer.name
                            );
                            continue;
                        }
                        Some(Ok(t)) => t,
                        None => None,
                    };
                    routes
                        .entry(import.account.clone())
                        .or_default()
                        .streams_out
                        .push(StreamRoute {
                            importer: importer_account.clone(),
                            subject: import.subject.clone(),
                            prefix: import.prefix.clone(),
                            to: import.to.clone(),
                            transform,
                            allow_trace: import.allow_trace,
                        });
                }
                ExportKind::Service => {
                    let local = import.to.clone().unwrap_or_else(|| import.subject.clone());
                    let transform = match service_transform(&local, &import.subject) {
                        Ok(t) => t,
                        Err(e) => {
                            tracing::warn!(
                                "Service import of account {} not installed: {e}",
                                importer.name
                            );
                            continue;
                        }
                    };
                    routes.entry(import.account.clone()).or_default().serves = true;
                    routes
                        .entry(importer.name.clone())
                        .or_default()
                        .services_in
                        .push(ServiceRoute {
                            exporter,
                            local: wildcard_pattern(&local),
                            remote: import.subject.clone(),
                            transform,
                            allow_trace: import.allow_trace
                                || exports_traced_service(
                                    configs,
                                    &import.account,
                                    &import.subject,
                                ),
                        });
                }
            }
        }
    }
    routes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matching() {
        assert!(matches("events.>", b"events.x"));
        assert!(matches("events.>", b"events.x.y"));
        assert!(!matches("events.>", b"events"));
        assert!(matches("svc.*", b"svc.echo"));
        assert!(!matches("svc.*", b"svc.echo.x"));
        assert!(matches("svc.echo", b"svc.echo"));
    }

    #[test]
    fn stream_subjects_take_the_prefix_or_the_new_name() {
        let account = Arc::new(Account::new("B", true));
        let mut route = StreamRoute {
            importer: account,
            subject: "events.>".into(),
            prefix: Some("imported".into()),
            to: None,
            transform: None,
            allow_trace: false,
        };
        assert_eq!(stream_subject(&route, b"events.x"), b"imported.events.x");
        route.prefix = None;
        route.to = None;
        assert_eq!(stream_subject(&route, b"events.x"), b"events.x");
        // A literal import under a new name.
        route.subject = "events.x".into();
        route.to = Some("local".into());
        assert_eq!(stream_subject(&route, b"events.x"), b"local");
        // Wildcard imports under new names go through a transform.
        route.subject = "events.*.*".into();
        route.to = Some("mine.$2.$1".into());
        route.transform = stream_transform("events.*.*", "mine.$2.$1").unwrap();
        assert_eq!(stream_subject(&route, b"events.a.b"), b"mine.b.a");
        route.to = Some("mine.*.*".into());
        route.transform = stream_transform("events.*.*", "mine.*.*").unwrap();
        assert_eq!(stream_subject(&route, b"events.a.b"), b"mine.a.b");
        // The same name keeps the published subject.
        route.to = Some("events.*.*".into());
        route.transform = stream_transform("events.*.*", "events.*.*").unwrap();
        assert_eq!(stream_subject(&route, b"events.a.b"), b"events.a.b");
        // A full wildcard cannot become a literal.
        assert!(stream_transform("events.>", "local").is_err());
    }

    #[test]
    fn wildcard_services_map_requests_back_to_the_exporters_subjects() {
        let exporter = Arc::new(Account::new("A", true));
        let route = |local: &str, remote: &str| ServiceRoute {
            exporter: exporter.clone(),
            local: wildcard_pattern(local),
            remote: remote.into(),
            transform: service_transform(local, remote).unwrap(),
            allow_trace: false,
        };
        let r = route("ask.$2.$1", "svc.*.*");
        assert_eq!(r.local, "ask.*.*");
        assert_eq!(r.remote_subject(b"ask.x.y").as_ref(), b"svc.y.x");
        let r = route("ask.*", "svc.*");
        assert_eq!(r.remote_subject(b"ask.q").as_ref(), b"svc.q");
        let r = route("svc.*", "svc.*");
        assert_eq!(r.remote_subject(b"svc.q").as_ref(), b"svc.q");
        let r = route("ask", "svc.echo");
        assert_eq!(r.remote_subject(b"ask").as_ref(), b"svc.echo");
    }

    #[test]
    fn reply_mappings_are_used_once() {
        let routes = ReplyMap::default();
        let requester = Arc::new(Account::new("B", true));
        let made = routes.map_reply("NODE", requester, b"_INBOX.abc");
        assert!(made.starts_with("_R_.NODE."));
        let back = routes.take_reply(made.as_bytes()).unwrap();
        assert_eq!(back.reply, b"_INBOX.abc");
        assert!(routes.take_reply(made.as_bytes()).is_none());
        assert!(routes.take_reply(b"other").is_none());
    }

    #[test]
    fn trace_destinations_lead_back_every_event() {
        let routes = ReplyMap::default();
        let requester = Arc::new(Account::new("B", true));
        let made = routes.map_trace_dest("NODE", requester, b"trace.b");
        assert!(made.starts_with("_R_.NODE."));
        for _ in 0..3 {
            let back = routes.take_reply(made.as_bytes()).expect("still there");
            assert_eq!(back.reply, b"trace.b");
            assert_eq!(back.requester.name, "B");
        }
    }
}

#[cfg(test)]
mod build_tests {
    use super::*;

    #[test]
    fn imports_become_routes_on_both_sides() {
        let conf = r#"
accounts {
  A: { users: [ {user: ua, password: pa} ], exports: [ {stream: "events.>"}, {service: "svc.echo"} ] }
  B: { users: [ {user: ub, password: pb} ]
       imports: [ {stream: {account: A, subject: "events.>"}, prefix: "imported"}
                  {service: {account: A, subject: "svc.echo"}, to: "echo"} ] }
}
"#;
        let loaded = gannet_config::load_str(conf, std::path::Path::new("t.conf")).unwrap();
        let routes = build(&loaded.options.accounts, |n| {
            Arc::new(Account::new(n, true))
        });
        let a = &routes["A"];
        assert_eq!(a.streams_out.len(), 1, "{a:?}");
        assert_eq!(a.streams_out[0].importer.name, "B");
        assert!(a.serves);
        let b = &routes["B"];
        assert_eq!(b.services_in.len(), 1);
        assert_eq!(b.services_in[0].local, "echo");
        assert_eq!(b.services_in[0].remote, "svc.echo");
    }
}
