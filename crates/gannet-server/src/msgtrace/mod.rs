//! Message tracing, as nats-server 2.11 and later do it: a message whose
//! headers hold `Nats-Trace-Dest: <subject>` makes every server it crosses
//! publish, on that subject and in the message's account, one JSON event
//! saying what it did with it: where it came in (`in`), the subject mapping
//! applied (`sm`), the stream exports (`se`) and service imports (`si`) it
//! crossed, the stream that stored it (`js`), and every subscriber, route,
//! gateway and leaf it went out to (`eg`), each with the reason when it was
//! not delivered. With `Nats-Trace-Only: true` nothing is delivered to
//! clients or stored, but the message still crosses routes, gateways and
//! leafs, so each server on its way reports what it would have done. Each
//! copy sent to another server carries `Nats-Trace-Hop` (`1`, `2`, … from the
//! first server, `1.1`, `1.2`, … from the server that got hop `1`), so the
//! events can be put back into a tree (`gannet trace` does). An event is
//! compressed as the traced message's `Accept-Encoding` asks
//! ([`crate::encoding`]).
//!
//! A [`Trace`] is made where a message comes in ([`start`]), rides with the
//! publisher's fan-out ([`crate::fanout::Fanout`]) while it is delivered, and
//! is sent when the fan-out is done ([`Trace::finish`]) — or, when a stream
//! captured the message, when the stream's thread has stored it too
//! ([`StreamTrace`]). A message without the header pays one field test per
//! delivery; one with headers, one substring search.
pub(crate) mod headers;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::Serialize;

use crate::accounts::Account;
use crate::encoding::{Encoding, ACCEPT_ENCODING};
use crate::events::{go_time, ServerObject};
use crate::server::Server;
use headers::HeaderMap;

/// The header that asks for a trace, naming where its events go.
pub(crate) const TRACE_DEST: &str = "Nats-Trace-Dest";
/// The value of [`TRACE_DEST`] that stops tracing further on (not a valid subject).
pub(crate) const TRACE_DISABLED: &str = "trace disabled";
/// The hop id of a copy sent to another server.
pub(crate) const TRACE_HOP: &str = "Nats-Trace-Hop";
/// A header of old servers' traces: a message carrying it is not traced.
pub(crate) const TRACE_ORIGIN_ACCOUNT: &str = "Nats-Trace-Origin-Account";
/// Trace without delivering (`1`, `true` or `on`).
pub(crate) const TRACE_ONLY: &str = "Nats-Trace-Only";

/// The lowest server-to-server protocol version (the `proto` of a route's,
/// gateway's or leaf's INFO) that understands traces.
pub(crate) const TRACE_PROTO: u32 = 3;

/// Why an egress did not deliver, in the reference's words.
pub(crate) mod reason {
    pub(crate) const ONLY_NO_SUPPORT: &str =
        "Not delivered because remote does not support message tracing";
    pub(crate) const NO_SUPPORT: &str = "Message delivered but remote does not support message tracing so no trace event generated from there";
    pub(crate) const NO_ECHO: &str = "Not delivered because of no echo";
    pub(crate) const PUB_VIOLATION: &str = "Not delivered because publish denied for this subject";
    pub(crate) const SUB_DENY: &str = "Not delivered because subscription denies this subject";
    pub(crate) const CLIENT_CLOSED: &str = "Not delivered because client is closed";
    pub(crate) const AUTO_UNSUB_EXCEEDED: &str = "Not delivered because auto-unsubscribe exceeded";
    /// An ingress refused for its size.
    pub(crate) const MAX_PAYLOAD: &str = "maximum payload exceeded";
}

/// The kinds of connection events name, numbered as nats-server numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Client = 0,
    Router = 1,
    Gateway = 2,
    Leaf = 4,
}

/// Where a message came in.
pub(crate) struct Ingress<'a> {
    pub(crate) kind: Kind,
    pub(crate) cid: u64,
    /// The client's name, or the other server's (the cluster's, for a gateway).
    pub(crate) name: &'a str,
    pub(crate) account: &'a Arc<Account>,
    /// The subject as it came in, before any mapping.
    pub(crate) subject: &'a [u8],
    /// Headers and payload, in bytes.
    pub(crate) size: usize,
    /// The connection's log prefix.
    pub(crate) log: &'a str,
}

/// What a message's headers make of it.
pub(crate) enum Start {
    /// Not traced: delivered as usual.
    No,
    /// Traced.
    Traced(Box<Trace>),
    /// Not traced, and the trace header must be replaced by
    /// [`TRACE_DISABLED`] before it goes on (an old server's trace).
    Disable,
    /// Not delivered at all: a trace-only message that cannot be traced.
    Skip,
    /// The publisher may not publish on the trace destination: not
    /// delivered; a client or leaf is told `Permissions Violation for
    /// Publish to "<dest>"`.
    Denied(String),
}

/// Looks at a message's headers and starts its trace if they ask for one.
/// `may_publish` says whether the publisher may publish on a subject.
pub(crate) fn start(
    server: &Server,
    headers: &[u8],
    from: &Ingress<'_>,
    may_publish: impl FnOnce(&[u8]) -> bool,
) -> Start {
    let Some(headers::Asked {
        headers: map,
        external,
    }) = headers::parse(headers)
    else {
        return Start::No;
    };
    let only = !external
        && headers::first(&map, TRACE_ONLY)
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "on"));
    let dest = if external {
        // A `traceparent` alone: the account's destination, sampled where
        // the message entered the system.
        let Some((dest, sampling)) = from.account.trace_dest() else {
            return Start::No;
        };
        if from.kind == Kind::Client && !sample(sampling) {
            return Start::Disable;
        }
        dest
    } else {
        headers::first(&map, TRACE_DEST)
            .unwrap_or_default()
            .to_string()
    };
    let not_traced = if only { Start::Skip } else { Start::No };
    if let Some(v) = headers::first(&map, TRACE_ORIGIN_ACCOUNT) {
        tracing::error!(
            "{} - Message tracing disabled because of header \"{TRACE_ORIGIN_ACCOUNT}\" with value={v:?}",
            from.log
        );
        return if only { Start::Skip } else { Start::Disable };
    }
    if !gannet_proto::subject::is_valid_publish_subject(dest.as_bytes()) {
        tracing::error!(
            "{} - Destination {dest:?} is not valid, won't be able to trace events",
            from.log
        );
        return not_traced;
    }
    let reserved = dest.as_bytes().starts_with(crate::gateway::REPLY_PREFIX)
        || (dest.starts_with("$NRG.")
            && !server
                .system_account()
                .is_some_and(|s| Arc::ptr_eq(&s, from.account)));
    if reserved || !may_publish(dest.as_bytes()) {
        return Start::Denied(dest);
    }
    let hop = if from.kind == Kind::Client {
        String::new()
    } else {
        headers::first(&map, TRACE_HOP)
            .unwrap_or_default()
            .to_string()
    };
    let encoding = Encoding::asked(headers::first(&map, ACCEPT_ENCODING));
    let ingress = Event::Ingress {
        ts: now(),
        kind: from.kind as u8,
        cid: from.cid,
        name: from.name.to_string(),
        acc: from.account.name.clone(),
        subj: String::from_utf8_lossy(from.subject).into_owned(),
        error: None,
    };
    Start::Traced(Box::new(Trace {
        shared: Arc::new(Shared {
            account: from.account.clone(),
            dest,
            encoding,
            state: Mutex::new(State {
                request: Request {
                    header: map,
                    msgsize: from.size,
                },
                hops: 0,
                events: vec![ingress],
            }),
            waiting: AtomicU32::new(1),
        }),
        only,
        hop,
        ingress_account: from.account.name.clone(),
        imported_as: None,
    }))
}

/// How a message come from another server goes on, its trace started.
pub(crate) enum LinkStart {
    /// As it is, not traced.
    AsIs,
    /// As it is, traced: the trace is in the fan-out.
    Traced,
    /// With these headers (its trace disabled), not traced.
    Disabled(Vec<u8>),
    /// Not at all.
    Drop,
    /// Not at all: the sender may not publish on the trace destination
    /// (a leaf is told so, as a client would be).
    Denied(String),
}

impl LinkStart {
    /// The headers the message goes on with, or `None` when it goes no
    /// further; `original` are those it came with.
    pub(crate) fn headers<'a>(&'a self, original: &'a [u8]) -> Option<&'a [u8]> {
        match self {
            LinkStart::AsIs | LinkStart::Traced => Some(original),
            LinkStart::Disabled(headers) => Some(headers),
            LinkStart::Drop | LinkStart::Denied(_) => None,
        }
    }

    /// Whether the fan-out holds the message's trace.
    pub(crate) fn traced(&self) -> bool {
        matches!(self, LinkStart::Traced)
    }
}

/// [`start`] for a message come over a route, gateway or leaf connection:
/// a started trace is handed to `fanout`, whose [`Fanout::end_trace`]
/// sends it once the message is delivered.
///
/// [`Fanout::end_trace`]: crate::fanout::Fanout::end_trace
pub(crate) fn start_from_link(
    server: &Server,
    fanout: &mut crate::fanout::Fanout,
    headers: &[u8],
    from: &Ingress<'_>,
    may_publish: impl FnOnce(&[u8]) -> bool,
) -> LinkStart {
    match start(server, headers, from, may_publish) {
        Start::No => LinkStart::AsIs,
        Start::Traced(trace) => {
            fanout.begin_trace(trace);
            LinkStart::Traced
        }
        Start::Disable => LinkStart::Disabled(headers::disabled(Some(headers))),
        Start::Skip => LinkStart::Drop,
        Start::Denied(dest) => {
            tracing::error!("{} - Publish Violation - Subject {dest:?}", from.log);
            LinkStart::Denied(dest)
        }
    }
}

/// Whether a message is in the `sampling` percent traced.
fn sample(sampling: u8) -> bool {
    sampling >= 100 || rand::random_range(0..100u8) < sampling
}

/// Whether a message's headers may ask for a trace in `account` (one
/// substring search; two when the account traces `traceparent`).
#[inline]
pub(crate) fn may_ask(headers: &[u8], account: &Account) -> bool {
    headers::may_ask(headers, account.has_trace_dest())
}

fn now() -> String {
    go_time(SystemTime::now())
}

/// One traced message on this server.
#[derive(Debug)]
pub(crate) struct Trace {
    shared: Arc<Shared>,
    /// Trace only: nothing delivered to clients nor stored.
    only: bool,
    /// The hop id this server got the message with (empty at the origin).
    hop: String,
    ingress_account: String,
    /// While a stream import's copy is delivered in the importing account:
    /// how its subscriptions are named in events.
    imported_as: Option<ImportNames>,
}

/// How events name a subscription in a stream import's importing account:
/// by its subject in the exporting account, as nats-server names the
/// stand-in subscription it keeps there.
#[derive(Debug, Clone)]
pub(crate) enum ImportNames {
    /// The import adds this prefix: it is taken off again.
    Prefix(String),
    /// The import gives the exported subject another name: the exported
    /// subject it was imported as.
    Renamed(String),
}

impl ImportNames {
    /// How `route` names the subscriptions of its importer.
    pub(crate) fn of(route: &crate::imports::StreamRoute) -> Option<ImportNames> {
        if let Some(prefix) = route.prefix.as_ref().filter(|p| !p.is_empty()) {
            return Some(ImportNames::Prefix(format!("{prefix}.")));
        }
        route
            .to
            .as_ref()
            .filter(|to| !to.is_empty() && **to != route.subject)
            .map(|_| ImportNames::Renamed(route.subject.clone()))
    }
}

/// What the fan-out and a capturing stream fill in together.
#[derive(Debug)]
struct Shared {
    account: Arc<Account>,
    dest: String,
    /// How the event's body goes: the traced message's `Accept-Encoding`.
    encoding: Encoding,
    state: Mutex<State>,
    /// Parties still to finish before the event is sent: the fan-out, and
    /// each stream that captured the message.
    waiting: AtomicU32,
}

#[derive(Debug)]
struct State {
    request: Request,
    hops: u32,
    events: Vec<Event>,
}

/// The event as sent.
#[derive(Serialize)]
struct Report<'a> {
    server: ServerObject,
    request: &'a Request,
    #[serde(skip_serializing_if = "is_zero")]
    hops: u32,
    events: &'a [Event],
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Serialize)]
struct Request {
    #[serde(skip_serializing_if = "HeaderMap::is_empty")]
    header: HeaderMap,
    #[serde(skip_serializing_if = "is_zero_usize")]
    msgsize: usize,
}

fn is_zero_usize(n: &usize) -> bool {
    *n == 0
}

/// One entry of the event's `events`.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
enum Event {
    #[serde(rename = "in")]
    Ingress {
        ts: String,
        kind: u8,
        cid: u64,
        #[serde(skip_serializing_if = "String::is_empty")]
        name: String,
        acc: String,
        subj: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    #[serde(rename = "sm")]
    SubjectMapping { ts: String, to: String },
    #[serde(rename = "se")]
    StreamExport { ts: String, acc: String, to: String },
    #[serde(rename = "si")]
    ServiceImport {
        ts: String,
        acc: String,
        from: String,
        to: String,
    },
    #[serde(rename = "js")]
    JetStream {
        ts: String,
        stream: String,
        #[serde(skip_serializing_if = "String::is_empty")]
        subject: String,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        nointerest: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    #[serde(rename = "eg")]
    Egress {
        ts: String,
        kind: u8,
        cid: u64,
        #[serde(skip_serializing_if = "String::is_empty")]
        name: String,
        #[serde(skip_serializing_if = "String::is_empty")]
        hop: String,
        #[serde(skip_serializing_if = "String::is_empty")]
        acc: String,
        #[serde(skip_serializing_if = "String::is_empty")]
        sub: String,
        #[serde(skip_serializing_if = "String::is_empty")]
        queue: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'static str>,
    },
}

/// A subscriber or link a traced message went out to (or was kept from).
pub(crate) struct Egress<'a> {
    pub(crate) kind: Kind,
    pub(crate) cid: u64,
    pub(crate) name: &'a str,
    /// The subscription's account, when a client's.
    pub(crate) account: Option<&'a str>,
    pub(crate) subject: &'a [u8],
    pub(crate) queue: Option<&'a [u8]>,
}

impl Trace {
    /// Deliveries from now on are made in a stream import's importing
    /// account named so (`None`: back in the message's own).
    pub(crate) fn set_imported_as(&mut self, names: Option<ImportNames>) {
        self.imported_as = names;
    }

    /// How an event names a client subscription on `subject`.
    pub(crate) fn subscription_subject<'a>(&'a self, subject: &'a [u8]) -> &'a [u8] {
        match &self.imported_as {
            None => subject,
            Some(ImportNames::Prefix(prefix)) => {
                subject.strip_prefix(prefix.as_bytes()).unwrap_or(subject)
            }
            Some(ImportNames::Renamed(exported)) => exported.as_bytes(),
        }
    }

    /// Trace only: nothing is delivered to clients or stored.
    /// The subject the events go to, in the account the message came in.
    pub(crate) fn dest(&self) -> &str {
        &self.shared.dest
    }

    pub(crate) fn only(&self) -> bool {
        self.only
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The message was refused as it came in (`error` as its publisher was told).
    pub(crate) fn ingress_error(&self, error: &str) {
        if let Some(Event::Ingress { error: e, .. }) = self.state().events.first_mut() {
            *e = Some(error.to_string());
        }
    }

    /// The account's subject mapping sent the message on to `to`.
    pub(crate) fn mapped(&self, to: &[u8]) {
        self.state().events.push(Event::SubjectMapping {
            ts: now(),
            to: String::from_utf8_lossy(to).into_owned(),
        });
    }

    /// A stream export took the message into `account` as `to`.
    pub(crate) fn stream_export(&self, account: &str, to: &[u8]) {
        self.state().events.push(Event::StreamExport {
            ts: now(),
            acc: account.to_string(),
            to: String::from_utf8_lossy(to).into_owned(),
        });
    }

    /// A service import took the request from `from` into `account` as `to`.
    pub(crate) fn service_import(&self, account: &str, from: &[u8], to: &[u8]) {
        self.state().events.push(Event::ServiceImport {
            ts: now(),
            acc: account.to_string(),
            from: String::from_utf8_lossy(from).into_owned(),
            to: String::from_utf8_lossy(to).into_owned(),
        });
    }

    /// The message went out to `to` (or not, for `error`).
    pub(crate) fn egress(&self, to: &Egress<'_>, error: Option<&'static str>) {
        self.egress_with_hop(to, String::new(), error);
    }

    fn egress_with_hop(&self, to: &Egress<'_>, hop: String, error: Option<&'static str>) {
        let acc = match to.account {
            Some(a) if a != self.ingress_account => a.to_string(),
            _ => String::new(),
        };
        self.state().events.push(Event::Egress {
            ts: now(),
            kind: to.kind as u8,
            cid: to.cid,
            name: to.name.to_string(),
            hop,
            acc,
            sub: String::from_utf8_lossy(to.subject).into_owned(),
            queue: to
                .queue
                .map_or_else(String::new, |q| String::from_utf8_lossy(q).into_owned()),
            error,
        });
    }

    /// A copy goes to another server over `to` (a route, gateway or leaf):
    /// notes the egress with the copy's hop id and returns the copy's
    /// headers, `Nats-Trace-Hop` set to it. `supports` = the other server
    /// understands traces; when it does not, a trace-only message is not
    /// sent there (`None`), and a delivered one is noted as untraceable there.
    pub(crate) fn hop_to(
        &self,
        to: &Egress<'_>,
        supports: bool,
        headers: &[u8],
    ) -> Option<Vec<u8>> {
        if !supports && self.only {
            self.egress(to, Some(reason::ONLY_NO_SUPPORT));
            return None;
        }
        let hop = {
            let mut state = self.state();
            state.hops += 1;
            if self.hop.is_empty() {
                state.hops.to_string()
            } else {
                format!("{}.{}", self.hop, state.hops)
            }
        };
        let copy = crate::jetstream::headers::set(headers, TRACE_HOP, &hop);
        let error = (!supports).then_some(reason::NO_SUPPORT);
        self.egress_with_hop(to, hop, error);
        Some(copy)
    }

    /// A stream captured the message: its `js` event is filled in by the
    /// stream's thread, and the event waits for it.
    pub(crate) fn for_stream(&self, stream: &str) -> StreamTrace {
        let index = {
            let mut state = self.state();
            state.events.push(Event::JetStream {
                ts: now(),
                stream: stream.to_string(),
                subject: String::new(),
                nointerest: false,
                error: None,
            });
            state.events.len() - 1
        };
        self.shared.waiting.fetch_add(1, Ordering::AcqRel);
        StreamTrace {
            shared: Some(self.shared.clone()),
            index,
            only: self.only,
        }
    }

    /// The fan-out is done: the event is sent now, or by the last stream
    /// that captured the message.
    pub(crate) fn finish(self, server: &Server) {
        self.shared.done(server);
    }
}

impl Shared {
    /// One party is done; the last one sends the event.
    fn done(&self, server: &Server) {
        if self.waiting.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let json = {
            let state = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            serde_json::to_vec(&Report {
                server: server.server_object(),
                request: &state.request,
                hops: state.hops,
                events: &state.events,
            })
        };
        match json {
            Ok(json) => {
                server
                    .internal()
                    .send_encoded(&self.account, &self.dest, json, self.encoding);
            }
            Err(e) => tracing::error!("Could not encode a message trace event: {e}"),
        }
    }
}

/// A traced message's part in a stream: the stream's thread says what it
/// did with it, then the event can go.
#[derive(Debug)]
pub(crate) struct StreamTrace {
    /// Taken when the stream is done with it.
    shared: Option<Arc<Shared>>,
    index: usize,
    only: bool,
}

impl StreamTrace {
    /// Trace only: the stream checks the message but does not store it.
    pub(crate) fn only(&self) -> bool {
        self.only
    }

    /// The stream stored the message as `subject` (or would have), skipped
    /// it for `no_interest`, or refused it with `error`; the event goes once
    /// everyone else is done too.
    pub(crate) fn done(
        mut self,
        server: &Server,
        subject: &[u8],
        no_interest: bool,
        error: Option<String>,
    ) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        {
            let mut state = shared
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(Event::JetStream {
                ts,
                subject: s,
                nointerest,
                error: e,
                ..
            }) = state.events.get_mut(self.index)
            {
                *ts = now();
                *s = String::from_utf8_lossy(subject).into_owned();
                *nointerest = no_interest;
                *e = error;
            }
        }
        shared.done(server);
    }
}

impl Drop for StreamTrace {
    /// A stream that never got the message (its queue full, or deleted)
    /// does not hold the event back.
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            if shared.waiting.fetch_sub(1, Ordering::AcqRel) == 1 {
                tracing::debug!("A message trace event was lost with its stream");
            }
        }
    }
}
