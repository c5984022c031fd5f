//! One stream: its thread, which owns the store and the consumers, and the
//! handle the rest of the server holds.
//!
//! Everything that touches a stream's messages goes through its thread, in
//! order: captured publishes, acknowledgements, pull requests, direct gets
//! and the API calls about it. The thread takes what is queued in batches:
//! it stores every publish of a batch, makes the batch durable with one
//! sync (group commit), and only then sends the batch's acknowledgements;
//! then it lets the consumers deliver and runs their timers. So an
//! acknowledged publish is on disk, and one fsync serves many publishers.
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use gannet_store::{Filter, Limits, Purge, Store, StoredMsg};
use serde::Deserialize;
use serde_json::{json, Value};

use gannet_proto::transform::SubjectTransform;

use super::consumer::{self, Consumer, Out};
use super::errors::{self, ApiError};
use super::headers;
use super::outlet::Outlet;
use super::types::{
    self, now_nanos, rfc3339, ConsumerConfig, StreamConfig, StreamInfo, StreamState,
};
use crate::accounts::Account;
use crate::server::Server;
use crate::subscription::Subscription;

/// Most queued items taken in one batch before the batch is synced and
/// acknowledged.
const BATCH_MAX: usize = 1024;

/// Most subjects one stream info answer lists (nats-server's
/// `JSMaxSubjectDetails`); clients ask for the rest by offset.
const SUBJECT_DETAILS_LIMIT: usize = 100_000;

/// How long a stream that just worked looks for more before it sleeps.
const SPIN: Duration = Duration::from_micros(40);

/// Waits up to [`SPIN`] for work without sleeping.
fn spin_recv(rx: &Receiver<Cmd>) -> Option<Cmd> {
    let start = std::time::Instant::now();
    loop {
        if let Ok(cmd) = rx.try_recv() {
            return Some(cmd);
        }
        if start.elapsed() >= SPIN {
            return None;
        }
        std::hint::spin_loop();
    }
}

/// How often consumers' places are written to disk at most.
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// How often a stream looks at its timers when nothing else wakes it.
const IDLE_TICK: Duration = Duration::from_millis(250);

/// How durable each batch is made before its acknowledgements go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// Sync every batch before acknowledging it (Gannet's default).
    Batch,
    /// Sync at most every interval; acknowledge at once.
    Interval(Duration),
}

/// A message a stream captured.
#[derive(Debug)]
pub(crate) struct Inbound {
    /// Made by the stream itself (a delete marker): its rollup needs no
    /// `allow_rollup_hdrs`.
    pub(crate) internal: bool,
    pub(crate) subject: Bytes,
    pub(crate) reply: Option<Bytes>,
    pub(crate) headers: Bytes,
    pub(crate) payload: Bytes,
    /// The message's trace, when it is traced ([`crate::msgtrace`]).
    pub(crate) trace: Option<crate::msgtrace::StreamTrace>,
}

/// Work for a stream's thread.
pub(crate) enum Cmd {
    Publish(Inbound),
    /// A message on `$JS.ACK.<stream>.>`.
    Ack {
        subject: Bytes,
        reply: Option<Bytes>,
        payload: Bytes,
    },
    /// `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`.
    Next {
        consumer: String,
        reply: Bytes,
        payload: Bytes,
    },
    /// `$JS.API.DIRECT.GET.<stream>[.<subject>]`.
    DirectGet {
        subject: Bytes,
        reply: Bytes,
        payload: Bytes,
    },
    /// A message on a mirror's or source's inbox (feed `index`).
    Feed {
        index: usize,
        subject: Bytes,
        shown: Option<Bytes>,
        reply: Option<Bytes>,
        headers: Bytes,
        payload: Bytes,
    },
    /// An API call about this stream, answered on `reply`.
    Api {
        call: Call,
        reply: String,
        audit: Option<Box<super::advisory::Audit>>,
    },
    /// An answer to a push consumer's flow control request
    /// (`$JS.FC.<stream>.<consumer>.<n>`).
    FlowControl {
        subject: Bytes,
    },
    /// Something the stream waits for happened (a push consumer's deliver
    /// subject got a subscriber): look again.
    Wake,
    /// Stop (the server is shutting down); the sender hears when it did.
    Stop(std::sync::mpsc::Sender<()>),
}

/// The API calls a stream's thread answers.
pub(crate) enum Call {
    Info(Value),
    Update(Box<StreamConfig>),
    Delete,
    Purge(Value),
    MsgGet(Value),
    MsgDelete(Value),
    ConsumerCreate {
        config: Box<ConsumerConfig>,
        action: String,
    },
    ConsumerInfo(String),
    ConsumerDelete(String),
    ConsumerNames(Value),
    ConsumerList(Value),
    ConsumerPause {
        name: String,
        body: Value,
    },
    ConsumerUnpin {
        name: String,
        group: String,
    },
    /// Back to stream sequence `seq` (0: just past the ack floor).
    ConsumerReset {
        name: String,
        seq: u64,
    },
}

/// What the rest of the server keeps of a stream.
pub(crate) struct StreamHandle {
    pub(crate) name: String,
    pub(crate) account: Arc<Account>,
    pub(crate) created: i64,
    config: Mutex<StreamConfig>,
    tx: Mutex<Sender<Cmd>>,
    /// The internal subscriptions feeding the thread.
    pub(crate) subs: Mutex<Vec<Arc<Subscription>>>,
    /// Counters the thread refreshes after each batch (for account info
    /// and stream lists).
    pub(crate) msgs: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) consumers: AtomicU64,
    pub(crate) first_seq: AtomicU64,
    pub(crate) last_seq: AtomicU64,
    pub(crate) first_ts: std::sync::atomic::AtomicI64,
    pub(crate) last_ts: std::sync::atomic::AtomicI64,
    pub(crate) num_subjects: AtomicU64,
    pub(crate) num_deleted: AtomicU64,
}

impl StreamHandle {
    pub(crate) fn config(&self) -> StreamConfig {
        self.config
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_config(&self, config: StreamConfig) {
        *self
            .config
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = config;
    }

    /// Queues work for the thread; false once it has stopped.
    pub(crate) fn send(&self, cmd: Cmd) -> bool {
        self.tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .send(cmd)
            .is_ok()
    }

    pub(crate) fn is_file(&self) -> bool {
        self.config().storage != "memory"
    }
}

/// What a stream's configuration compiles to, once per configuration
/// rather than per message: its subject transform, its republish transform,
/// and the start of its publish acknowledgements.
struct Compiled {
    subject: Option<SubjectTransform>,
    republish: Option<(SubjectTransform, bool)>,
    /// `{"stream":"NAME",` (and `"domain":"D",`), the ack up to `"seq"`.
    ack_prefix: String,
}

impl Compiled {
    fn new(config: &StreamConfig, domain: Option<&str>) -> Compiled {
        let quoted = |t: &str| serde_json::to_string(t).unwrap_or_default();
        let mut ack_prefix = format!("{{\"stream\":{},", quoted(&config.name));
        if let Some(d) = domain {
            ack_prefix.push_str(&format!("\"domain\":{},", quoted(d)));
        }
        Compiled {
            subject: config
                .subject_transform
                .as_ref()
                .and_then(|t| SubjectTransform::new(&t.src, &t.dest).ok()),
            republish: config.republish.as_ref().and_then(|r| {
                SubjectTransform::new(&r.src, &r.dest)
                    .ok()
                    .map(|t| (t, r.headers_only))
            }),
            ack_prefix,
        }
    }
}

/// What a new stream thread starts with.
pub(crate) struct Start {
    pub(crate) server: Weak<Server>,
    pub(crate) js: Weak<super::JetStream>,
    pub(crate) account: Arc<Account>,
    pub(crate) config: StreamConfig,
    pub(crate) created: i64,
    pub(crate) store: Box<dyn Store>,
    pub(crate) dir: Option<PathBuf>,
    pub(crate) durability: Durability,
    /// Consumers recovered from disk.
    pub(crate) consumers: Vec<(ConsumerConfig, i64, Option<consumer::SavedState>)>,
    /// The internal client the stream's subscriptions belong to.
    pub(crate) cid: u64,
    /// The account's `max_ack_pending` limit (-1 = none).
    pub(crate) account_max_ack_pending: i64,
    /// The account's JetStream, whose API counters the stream's answers count in.
    pub(crate) jsa: Weak<super::JsAccount>,
}

/// Starts a stream's thread; returns its handle.
pub(crate) fn spawn(start: Start) -> std::io::Result<Arc<StreamHandle>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let state = start.store.state();
    let handle = Arc::new(StreamHandle {
        name: start.config.name.clone(),
        account: start.account.clone(),
        created: start.created,
        config: Mutex::new(start.config.clone()),
        tx: Mutex::new(tx),
        subs: Mutex::new(Vec::new()),
        msgs: AtomicU64::new(state.msgs),
        bytes: AtomicU64::new(state.bytes),
        consumers: AtomicU64::new(start.consumers.len() as u64),
        first_seq: AtomicU64::new(state.first_seq),
        last_seq: AtomicU64::new(state.last_seq),
        first_ts: std::sync::atomic::AtomicI64::new(state.first_ts),
        last_ts: std::sync::atomic::AtomicI64::new(state.last_ts),
        num_subjects: AtomicU64::new(state.num_subjects),
        num_deleted: AtomicU64::new(state.num_deleted),
    });
    let mut consumers = BTreeMap::new();
    for (config, created, saved) in start.consumers {
        let name = config
            .name
            .clone()
            .or_else(|| config.durable_name.clone())
            .unwrap_or_default();
        let mut c = Consumer::new(
            &start.config.name,
            name.clone(),
            config,
            created,
            &*start.store,
        );
        if let Some(saved) = saved {
            c.restore(saved);
        }
        c.dirty = false;
        consumers.insert(name, c);
    }
    let next_subs = consumers
        .values()
        .filter_map(|c| {
            super::capture::subscribe_next(&handle, &c.name, start.cid).map(|s| (c.name.clone(), s))
        })
        .collect();
    let mut feeds = super::feeds::from_config(&start.config);
    for (i, feed) in feeds.iter_mut().enumerate() {
        feed.subscribe(&handle, i, start.cid);
    }
    let domain = start.js.upgrade().and_then(|js| js.domain.clone());
    let actor = Actor {
        compiled: Compiled::new(&start.config, domain.as_deref()),
        last_save: std::time::Instant::now(),
        advisories: Vec::new(),
        audit: None,
        jsa: start.jsa,
        push_waiting: Vec::new(),
        feeds,
        account_max_ack_pending: start.account_max_ack_pending,
        next_subs,
        cid: start.cid,
        server: start.server,
        js: start.js,
        handle: handle.clone(),
        account: start.account,
        config: start.config,
        store: start.store,
        consumers,
        ttls: std::collections::BTreeSet::new(),
        dedup: HashMap::new(),
        dedup_order: VecDeque::new(),
        last_msg_id: String::new(),
        outlet: Outlet::new(),
        acks: Vec::new(),
        out: Vec::new(),
        durability: start.durability,
        unsynced: false,
        last_sync: std::time::Instant::now(),
        dir: start.dir,
        deleted: false,
    };
    std::thread::Builder::new()
        .name(format!("js-{}", handle.name))
        .spawn(move || actor.run(rx))?;
    Ok(handle)
}

struct Actor {
    compiled: Compiled,
    /// When consumers' places were last written.
    last_save: std::time::Instant,
    /// Advisories to publish with the next batch of output.
    advisories: Vec<super::advisory::Advisory>,
    /// The audit of the API call being answered, when the account wants it.
    audit: Option<Box<super::advisory::Audit>>,
    jsa: Weak<super::JsAccount>,
    /// Deliver subjects this stream told the account it waits on.
    push_waiting: Vec<String>,
    /// The streams this one mirrors or sources.
    feeds: Vec<super::feeds::Feed>,
    /// The account's `max_ack_pending` limit (-1 = none).
    account_max_ack_pending: i64,
    /// Each pull consumer's subscription to its pull requests.
    next_subs: HashMap<String, Arc<Subscription>>,
    cid: u64,
    server: Weak<Server>,
    js: Weak<super::JetStream>,
    /// Held strongly: the thread outlives every other holder until it
    /// stops, so a deleted stream can still end its subscriptions.
    handle: Arc<StreamHandle>,
    account: Arc<Account>,
    config: StreamConfig,
    store: Box<dyn Store>,
    consumers: BTreeMap<String, Consumer>,
    /// (when it expires, sequence) of messages with a `Nats-TTL`.
    ttls: std::collections::BTreeSet<(i64, u64)>,
    /// `Nats-Msg-Id` → (sequence, time stored), within the duplicate window.
    dedup: HashMap<String, (u64, i64)>,
    dedup_order: VecDeque<(i64, String)>,
    last_msg_id: String,
    outlet: Outlet,
    /// Acknowledgements waiting for the batch's sync: (reply, body).
    acks: Vec<(Bytes, Vec<u8>)>,
    out: Vec<Out>,
    durability: Durability,
    unsynced: bool,
    last_sync: std::time::Instant,
    dir: Option<PathBuf>,
    deleted: bool,
}

impl Actor {
    fn run(mut self, rx: Receiver<Cmd>) {
        self.load_ttls();
        self.resume_feeds();
        let mut busy = false;
        let mut worked = false;
        loop {
            let wait = if busy {
                Duration::ZERO
            } else {
                self.next_wait()
            };
            // A stream that just answered is likely to hear again at once (a
            // publisher waiting on each acknowledgement): it looks briefly
            // before it sleeps, which saves a thread wake-up per message.
            let spun = if worked && !busy {
                spin_recv(&rx)
            } else {
                None
            };
            let first = match spun {
                Some(cmd) => Some(cmd),
                None => match rx.recv_timeout(wait) {
                    Ok(cmd) => Some(cmd),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                },
            };
            worked = first.is_some();
            let Some(server) = self.server.upgrade() else {
                break;
            };
            let mut stop = None;
            if let Some(cmd) = first {
                let mut next = Some(cmd);
                let mut taken = 0;
                while let Some(cmd) = next.take() {
                    if let Cmd::Stop(done) = cmd {
                        stop = Some(done);
                        break;
                    }
                    self.handle(&server, cmd);
                    if self.deleted {
                        break;
                    }
                    taken += 1;
                    if taken < BATCH_MAX {
                        next = rx.try_recv().ok();
                    }
                }
            }
            if self.deleted {
                self.outlet.flush(&server);
                return;
            }
            self.commit(&server);
            busy = self.work(&server);
            self.outlet.flush(&server);
            self.refresh_counters();
            if let Some(done) = stop {
                self.close();
                let _ = done.send(());
                return;
            }
        }
        self.close();
    }

    /// The stream's store, taken to close or destroy it (an empty memory
    /// store stands in for it).
    fn take_store(&mut self) -> Box<dyn Store> {
        std::mem::replace(
            &mut self.store,
            Box::new(gannet_store::MemStore::new(Limits::default())),
        )
    }

    /// A clean stop: consumers' places saved, the store closed (synced, with
    /// an index snapshot so the next start need not read every block).
    fn close(&mut self) {
        self.save_consumers();
        if let Err(e) = self.take_store().close() {
            tracing::error!(
                "JetStream could not close stream '{} > {}': {e}",
                self.account.name,
                self.config.name
            );
        }
    }

    /// How long the thread may sleep: until the nearest timer.
    fn next_wait(&self) -> Duration {
        let now = now_nanos();
        let mut wait = IDLE_TICK;
        if let Some(&(due, _)) = self.ttls.first() {
            wait = wait.min(Duration::from_nanos(u64::try_from(due - now).unwrap_or(0)));
        }
        for c in self.consumers.values() {
            if let Some(t) = c.next_deadline() {
                let d = Duration::from_nanos(u64::try_from(t - now).unwrap_or(0));
                wait = wait.min(d);
            }
        }
        wait
    }

    fn handle(&mut self, server: &Server, cmd: Cmd) {
        match cmd {
            Cmd::Publish(msg) => self.ingest(server, msg),
            Cmd::Ack {
                subject,
                reply,
                payload,
            } => self.ack(&subject, reply, &payload),
            Cmd::Next {
                consumer,
                reply,
                payload,
            } => match self.consumers.get_mut(&consumer) {
                Some(c) => c.on_next_request(reply, &payload, &*self.store, &mut self.out),
                None => self.out.push(Out::Status {
                    to: reply,
                    headers: headers::status(404, "No Such Consumer", &[]),
                    reply: None,
                }),
            },
            Cmd::DirectGet {
                subject,
                reply,
                payload,
            } => self.direct_get(server, &subject, &reply, &payload),
            Cmd::Api { call, reply, audit } => {
                self.audit = audit;
                self.api(server, call, &reply);
                self.audit = None;
            }
            Cmd::Feed {
                index,
                subject,
                shown,
                reply,
                headers,
                payload,
            } => self.copy_in(
                index,
                &subject,
                shown.as_deref(),
                reply.as_deref(),
                &headers,
                &payload,
            ),
            Cmd::FlowControl { subject } => {
                let text = String::from_utf8_lossy(&subject);
                let tokens: Vec<&str> = text.split('.').collect();
                if let (Some(c), Some(n)) = (
                    tokens.get(3).and_then(|name| self.consumers.get_mut(*name)),
                    tokens.get(4).and_then(|n| n.parse::<u64>().ok()),
                ) {
                    if tokens.len() == 5 {
                        c.on_flow_control(n);
                    }
                }
            }
            Cmd::Stop(_) | Cmd::Wake => {}
        }
    }

    // ----- publishing into the stream -----

    /// Stores a captured message (or refuses it), queueing its answer.
    fn ingest(&mut self, server: &Server, mut msg: Inbound) {
        if let Some(trace) = msg.trace.take() {
            if trace.only() {
                // Checked as if stored, then neither stored nor answered.
                let result = self.check_message(&msg);
                let subject = self.transformed_subject(&msg.subject);
                let no_interest = self.no_interest(&subject);
                trace.done(
                    server,
                    &subject,
                    no_interest,
                    result.err().map(|e| trace_error(&e)),
                );
                return;
            }
            let subject = self.transformed_subject(&msg.subject);
            let no_interest = self.no_interest(&subject);
            let result = self.store_message(&msg);
            let error = result.as_ref().err().map(trace_error);
            trace.done(server, &subject, no_interest, error);
            return self.answer(msg.reply, result);
        }
        let result = self.store_message(&msg);
        self.answer(msg.reply, result);
    }

    /// Whether the stream keeps messages only for its consumers and none
    /// of them wants `subject` (what a trace reports as no interest).
    fn no_interest(&self, subject: &[u8]) -> bool {
        self.config.retention == "interest" && !self.consumers.values().any(|c| c.wants(subject))
    }

    /// Queues the answer to a publish on `reply`.
    fn answer(&mut self, reply: Option<Bytes>, result: Result<(u64, bool), ApiError>) {
        let Some(reply) = reply else {
            return;
        };
        if self.config.no_ack {
            return;
        }
        let body = match result {
            Ok((seq, duplicate)) => {
                let mut body = Vec::with_capacity(self.compiled.ack_prefix.len() + 40);
                body.extend_from_slice(self.compiled.ack_prefix.as_bytes());
                body.extend_from_slice(b"\"seq\":");
                body.extend_from_slice(seq.to_string().as_bytes());
                if duplicate {
                    body.extend_from_slice(b",\"duplicate\": true");
                }
                body.push(b'}');
                body
            }
            Err(e) => serde_json::to_vec(&json!({
                "error": e,
                "stream": self.config.name,
                "seq": 0,
            }))
            .unwrap_or_default(),
        };
        self.acks.push((reply, body));
    }

    /// The checks of nats-server's `processJetStreamMsg`, then the append.
    /// Returns the sequence and whether it was a duplicate.
    fn store_message(&mut self, msg: &Inbound) -> Result<(u64, bool), ApiError> {
        self.check_and_store(msg, true)
    }

    /// The checks of [`Self::store_message`] alone (a trace-only message).
    fn check_message(&mut self, msg: &Inbound) -> Result<(u64, bool), ApiError> {
        self.check_and_store(msg, false)
    }

    fn check_and_store(&mut self, msg: &Inbound, store: bool) -> Result<(u64, bool), ApiError> {
        let hdr = msg.headers.as_ref();
        if self.config.sealed {
            return Err(errors::STREAM_SEALED.err());
        }
        let state = self.store.state();
        if let Some(expected) = headers::get(hdr, "Nats-Expected-Stream") {
            if expected != self.config.name {
                return Err(errors::STREAM_NOT_MATCH.err());
            }
        }
        if let Some(ttl) = headers::get(hdr, "Nats-TTL") {
            if !self.config.allow_msg_ttl {
                return Err(errors::MESSAGE_TTL_DISABLED.err());
            }
            if parse_ttl(ttl).is_none() {
                return Err(errors::MESSAGE_TTL_INVALID.err());
            }
        }
        if let Some(expected) = headers::get(hdr, "Nats-Expected-Last-Sequence") {
            let want: u64 = expected.parse().unwrap_or(u64::MAX);
            if want != state.last_seq {
                return Err(errors::STREAM_WRONG_LAST_SEQUENCE.with(&[("seq", &state.last_seq)]));
            }
        }
        if let Some(expected) = headers::get(hdr, "Nats-Expected-Last-Subject-Sequence") {
            let want: u64 = expected.parse().unwrap_or(u64::MAX);
            let subject = headers::get(hdr, "Nats-Expected-Last-Subject-Sequence-Subject")
                .map_or(msg.subject.to_vec(), |s| s.as_bytes().to_vec());
            let last = self
                .store
                .last_match(&subject, None)
                .ok()
                .flatten()
                .map_or(0, |m| m.seq);
            if want != last {
                return Err(errors::STREAM_WRONG_LAST_SEQUENCE.with(&[("seq", &last)]));
            }
        }
        let msg_id = headers::get(hdr, "Nats-Msg-Id").map(str::to_string);
        if let Some(id) = &msg_id {
            self.expire_dedup(now_nanos());
            if let Some((seq, _)) = self.dedup.get(id) {
                return Ok((*seq, true));
            }
        }
        if let Some(expected) = headers::get(hdr, "Nats-Expected-Last-Msg-Id") {
            if expected != self.last_msg_id {
                return Err(errors::STREAM_WRONG_LAST_MSG_ID.with(&[("id", &self.last_msg_id)]));
            }
        }
        let rollup = headers::get(hdr, "Nats-Rollup").map(str::to_string);
        if let Some(r) = &rollup {
            if !self.config.allow_rollup_hdrs && !msg.internal {
                return Err(
                    errors::STREAM_ROLLUP_FAILED_F.with(&[("err", &"rollup not permitted")])
                );
            }
            if r != "sub" && r != "all" {
                return Err(errors::STREAM_ROLLUP_FAILED_F
                    .with(&[("err", &format!("rollup value invalid: {r:?}"))]));
            }
        }
        let max_size = self.config.max_msg_size;
        let size = msg.headers.len() + msg.payload.len();
        if max_size >= 0 && size as i64 > max_size {
            return Err(errors::STREAM_MESSAGE_EXCEEDS_MAXIMUM.err());
        }
        let subject = self.transformed_subject(&msg.subject);
        if self.config.discard == "new" {
            self.check_discard_new(&subject, &msg.headers, &msg.payload, &state)?;
        }
        if !store {
            return Ok((0, false));
        }
        let ts = now_nanos();
        // A TTL is stored in seconds, however it was written.
        let ttl = headers::get(hdr, "Nats-TTL").and_then(parse_ttl);
        let normalized;
        let stored_headers: &[u8] = match ttl {
            Some(secs) => {
                normalized = headers::set(hdr, "Nats-TTL", &secs.to_string());
                &normalized
            }
            None => hdr,
        };
        let held_before = self.store.state().msgs;
        let seq = self
            .store
            .append(&subject, stored_headers, &msg.payload, ts)
            .map_err(|e| {
                tracing::error!(
                    "JetStream failed to store a msg on stream '{} > {}': {e}",
                    self.account.name,
                    self.config.name
                );
                errors::STREAM_STORE_FAILED_F.with(&[("err", &e)])
            })?;
        self.unsynced = true;
        if self.store.state().msgs == held_before + 1 {
            for c in self.consumers.values_mut() {
                c.stored(&subject);
            }
        } else {
            // The limits removed older messages too.
            self.recount_consumers();
        }
        if let Some(secs) = ttl.filter(|s| *s > 0) {
            self.ttls.insert((ts + secs * 1_000_000_000, seq));
        }
        if let Some(id) = msg_id {
            self.dedup.insert(id.clone(), (seq, ts));
            self.dedup_order.push_back((ts, id.clone()));
            self.last_msg_id = id;
        } else {
            self.last_msg_id.clear();
        }
        if rollup.is_some() {
            self.recount_consumers();
        }
        match rollup.as_deref() {
            Some("sub") => {
                let _ = self.store.purge(&Purge {
                    filter: Some(Bytes::from(subject.clone())),
                    up_to_seq: Some(seq),
                    keep: None,
                });
            }
            Some("all") => {
                let _ = self.store.purge(&Purge {
                    filter: None,
                    up_to_seq: Some(seq),
                    keep: None,
                });
            }
            _ => {}
        }
        if self.compiled.republish.is_some() {
            self.republish(
                seq,
                ts,
                &subject,
                &msg.headers,
                &msg.payload,
                state.last_seq,
            );
        }
        Ok((seq, false))
    }

    fn check_discard_new(
        &self,
        subject: &[u8],
        hdr: &[u8],
        payload: &[u8],
        state: &gannet_store::State,
    ) -> Result<(), ApiError> {
        let fail = |text: &str| errors::STREAM_STORE_FAILED_F.with(&[("err", &text)]);
        if self.config.max_msgs > 0 && state.msgs >= self.config.max_msgs as u64 {
            return Err(fail("maximum messages exceeded"));
        }
        if self.config.max_bytes > 0 {
            let size = self.msg_size(subject, hdr, payload);
            if state.bytes + size > self.config.max_bytes as u64 {
                return Err(fail("maximum bytes exceeded"));
            }
        }
        if self.config.discard_new_per_subject && self.config.max_msgs_per_subject > 0 {
            let held = self.store.subject_state(subject).map_or(0, |s| s.0);
            if held >= self.config.max_msgs_per_subject as u64 {
                return Err(fail("maximum messages per subject exceeded"));
            }
        }
        Ok(())
    }

    fn msg_size(&self, subject: &[u8], hdr: &[u8], payload: &[u8]) -> u64 {
        if self.config.storage == "memory" {
            gannet_store::memory_msg_size(subject.len(), hdr.len(), payload.len())
        } else {
            gannet_store::file_msg_size(subject.len(), hdr.len(), payload.len())
        }
    }

    /// The subject as stored: through the stream's subject transform.
    fn transformed_subject(&self, subject: &[u8]) -> Vec<u8> {
        let Some(transform) = &self.compiled.subject else {
            return subject.to_vec();
        };
        match std::str::from_utf8(subject)
            .ok()
            .and_then(|s| transform.apply(s))
        {
            Some(s) => s.into_bytes(),
            None => subject.to_vec(),
        }
    }

    fn republish(
        &mut self,
        seq: u64,
        ts: i64,
        subject: &[u8],
        hdr: &[u8],
        payload: &[u8],
        last_seq: u64,
    ) {
        let Some(server) = self.server.upgrade() else {
            return;
        };
        let Ok(subject_text) = std::str::from_utf8(subject) else {
            return;
        };
        let Some((transform, headers_only)) = &self.compiled.republish else {
            return;
        };
        let headers_only = *headers_only;
        let Some(to) = transform.apply(subject_text) else {
            return;
        };
        let seq_text = seq.to_string();
        let last_text = last_seq.to_string();
        let time = rfc3339(ts);
        let size_text = payload.len().to_string();
        let mut extra = vec![
            ("Nats-Stream", self.config.name.as_str()),
            ("Nats-Subject", subject_text),
            ("Nats-Sequence", seq_text.as_str()),
            ("Nats-Time-Stamp", time.as_str()),
            ("Nats-Last-Sequence", last_text.as_str()),
        ];
        if headers_only {
            extra.push(("Nats-Msg-Size", size_text.as_str()));
        }
        let out_headers = headers::with(hdr, &extra);
        let body: &[u8] = if headers_only { b"" } else { payload };
        self.outlet.publish(
            &server,
            &self.account,
            to.as_bytes(),
            None,
            Some(&out_headers),
            body,
        );
    }

    fn expire_dedup(&mut self, now: i64) {
        let window = self.config.duplicate_window;
        while let Some((ts, _)) = self.dedup_order.front() {
            if window > 0 && now - ts < window {
                break;
            }
            if let Some((_, id)) = self.dedup_order.pop_front() {
                if self.dedup.get(&id).is_some_and(|(_, t)| now - t >= window) {
                    self.dedup.remove(&id);
                }
            }
        }
    }

    /// Makes the batch durable, then lets its acknowledgements go.
    fn commit(&mut self, server: &Server) {
        if self.unsynced {
            let due = match self.durability {
                Durability::Batch => true,
                Durability::Interval(every) => self.last_sync.elapsed() >= every,
            };
            if due {
                if let Err(e) = self.store.sync() {
                    tracing::error!(
                        "JetStream failed to sync stream '{} > {}': {e}",
                        self.account.name,
                        self.config.name
                    );
                    // Nothing is acknowledged that may not be on disk.
                    self.acks.clear();
                    return;
                }
                self.unsynced = false;
                self.last_sync = std::time::Instant::now();
            }
        }
        // What a client may ask right after its acknowledgement (JSZ, stream
        // lists) counts the messages acknowledged.
        if !self.acks.is_empty() {
            self.refresh_counters();
        }
        for (reply, body) in std::mem::take(&mut self.acks) {
            self.outlet
                .publish(server, &self.account, &reply, None, None, &body);
        }
    }

    // ----- mirrors and sources -----

    /// Stores what a mirror or source delivered.
    fn copy_in(
        &mut self,
        index: usize,
        subject: &[u8],
        shown: Option<&[u8]>,
        reply: Option<&[u8]>,
        headers: &Bytes,
        payload: &Bytes,
    ) {
        let Some(feed) = self.feeds.get_mut(index) else {
            return;
        };
        let Some(copied) = feed.receive(subject, shown, reply, headers, payload) else {
            return;
        };
        if copied.mirror {
            // A mirror keeps the origin's sequences.
            if copied.origin_seq <= self.store.state().last_seq {
                return;
            }
            let ts = now_nanos();
            match self.store.append_at(
                copied.origin_seq,
                &copied.subject,
                &copied.headers,
                &copied.payload,
                ts,
            ) {
                Ok(_) => {
                    self.unsynced = true;
                    // A mirror's limits may remove older messages too.
                    self.recount_consumers();
                }
                Err(e) => tracing::error!(
                    "JetStream mirror '{} > {}' could not store a message: {e}",
                    self.account.name,
                    self.config.name
                ),
            }
            return;
        }
        let seq = copied.origin_seq.to_string();
        let source = format!("{} {seq}", copied.origin);
        let hdr = headers::with(&copied.headers, &[("Nats-Stream-Source", &source)]);
        let inbound = Inbound {
            internal: false,
            subject: Bytes::from(copied.subject),
            reply: None,
            headers: Bytes::from(hdr),
            payload: copied.payload,
            trace: None,
        };
        let _ = self.store_message(&inbound);
    }

    /// Where each mirror or source resumes after a restart: after the
    /// mirror's last sequence, after the last message a source copied.
    fn resume_feeds(&mut self) {
        let last = self.store.state().last_seq;
        for feed in &mut self.feeds {
            if feed.mirror {
                if last > 0 {
                    feed.next = last + 1;
                }
                continue;
            }
            let mut up_to = last;
            while up_to > 0 {
                let Ok(Some(m)) = self.store.last_match(b">", Some(up_to)) else {
                    break;
                };
                up_to = m.seq - 1;
                let Some(source) = headers::get(&m.headers, "Nats-Stream-Source") else {
                    continue;
                };
                let mut parts = source.split(' ');
                if parts.next() == Some(feed.origin.as_str()) {
                    if let Some(seq) = parts.next().and_then(|s| s.parse::<u64>().ok()) {
                        feed.next = seq + 1;
                    }
                    break;
                }
            }
        }
    }

    /// Stops copying: the inboxes go, and the origins' consumers are deleted.
    fn stop_feeds(&mut self, server: &Server) {
        for mut feed in std::mem::take(&mut self.feeds) {
            feed.unsubscribe();
            if let Some(subject) = feed.farewell() {
                self.outlet
                    .publish(server, &self.account, subject.as_bytes(), None, None, b"");
            }
        }
    }

    // ----- per-message TTLs and subject delete markers -----

    /// Removes the messages whose `Nats-TTL` ran out.
    fn expire_ttls(&mut self, now: i64) {
        while let Some(&(due, seq)) = self.ttls.first() {
            if due > now {
                break;
            }
            self.ttls.pop_first();
            let Ok(Some(msg)) = self.store.get(seq) else {
                continue;
            };
            if !self.replace_with_marker(&msg) {
                let _ = self.store.delete(seq);
                self.recount_consumers();
            }
            self.unsynced = true;
        }
    }

    /// With `subject_delete_marker_ttl`, a subject's last message aging
    /// out leaves a marker (`Nats-Marker-Reason: MaxAge`) in its place.
    fn mark_aged_out(&mut self, now: i64) {
        let from = self.store.state().first_seq;
        let mut seq = from;
        while let Ok(Some(msg)) = self.store.next_match(seq, &Filter::all()) {
            if msg.ts + self.config.max_age > now {
                break;
            }
            seq = msg.seq + 1;
            self.replace_with_marker(&msg);
        }
    }

    /// Stores a delete marker for `msg`'s subject when `msg` is its last
    /// message, is not a marker itself, and the stream leaves markers: the
    /// marker's rollup removes `msg`. Whether it did.
    fn replace_with_marker(&mut self, msg: &StoredMsg) -> bool {
        let ttl = self.config.subject_delete_marker_ttl;
        if ttl <= 0 || is_marker(&msg.headers) {
            return false;
        }
        let last = self
            .store
            .subject_state(&msg.subject)
            .is_some_and(|(_, _, last)| last == msg.seq);
        if !last {
            return false;
        }
        let hdr = format!(
            "NATS/1.0\r\nNats-Marker-Reason: MaxAge\r\nNats-TTL: {}s\r\nNats-Rollup: sub\r\n\r\n",
            ttl / 1_000_000_000
        );
        let marker = Inbound {
            internal: true,
            subject: msg.subject.clone(),
            reply: None,
            headers: Bytes::from(hdr),
            payload: Bytes::new(),
            trace: None,
        };
        self.store_message(&marker).is_ok()
    }

    /// Rebuilds the TTL index from the stored messages (at start).
    fn load_ttls(&mut self) {
        if !self.config.allow_msg_ttl {
            return;
        }
        let mut seq = self.store.state().first_seq;
        while let Ok(Some(msg)) = self.store.next_match(seq, &Filter::all()) {
            seq = msg.seq + 1;
            if let Some(secs) = headers::get(&msg.headers, "Nats-TTL").and_then(parse_ttl) {
                if secs > 0 {
                    self.ttls.insert((msg.ts + secs * 1_000_000_000, msg.seq));
                }
            }
        }
    }

    // ----- consumers -----

    /// Messages left the stream other than by delivery: consumers count
    /// what they have pending again.
    fn recount_consumers(&mut self) {
        for c in self.consumers.values_mut() {
            c.recount();
        }
    }

    fn ack(&mut self, subject: &[u8], reply: Option<Bytes>, payload: &[u8]) {
        // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>
        let Ok(text) = std::str::from_utf8(subject) else {
            return;
        };
        let mut parts = text.split('.');
        let mut tokens = [""; 9];
        for token in &mut tokens {
            let Some(t) = parts.next() else {
                return;
            };
            *token = t;
        }
        if parts.next().is_some() {
            return;
        }
        let (Ok(sseq), Ok(dseq)) = (tokens[5].parse::<u64>(), tokens[6].parse::<u64>()) else {
            return;
        };
        let Some(c) = self.consumers.get_mut(tokens[3]) else {
            return;
        };
        let outcome = c.on_ack(sseq, dseq, payload, reply, &mut self.out);
        if let Some((kind, seqs, deliveries, reason)) = &outcome.event {
            let domain = self.js.upgrade().and_then(|js| js.domain.clone());
            self.advisories.push(super::advisory::delivery(
                *kind,
                &self.config.name,
                tokens[3],
                *seqs,
                *deliveries,
                reason,
                domain.as_deref(),
            ));
        }
        if !outcome.acked.is_empty() {
            self.apply_retention(&outcome.acked);
        }
    }

    /// Interest and work-queue retention: a message every consumer that
    /// wants it has acknowledged is removed.
    fn apply_retention(&mut self, acked: &[u64]) {
        if self.config.retention == "limits" {
            return;
        }
        for &seq in acked {
            let Ok(Some(msg)) = self.store.get(seq) else {
                continue;
            };
            let done = self
                .consumers
                .values()
                .filter(|c| c.wants(&msg.subject))
                .all(|c| c.has_acked(seq));
            if done {
                let _ = self.store.delete(seq);
                self.unsynced = true;
            }
        }
    }

    /// Runs consumers' timers and deliveries; whether more is ready at once.
    fn work(&mut self, server: &Server) -> bool {
        let now = now_nanos();
        for feed in &mut self.feeds {
            if let Some((subject, reply, body)) = feed.due_request(now) {
                self.outlet.publish(
                    server,
                    &self.account,
                    subject.as_bytes(),
                    Some(reply.as_bytes()),
                    None,
                    &body,
                );
            }
        }
        let mut more = false;
        let mut inactive = Vec::new();
        let mut dropped = Vec::new();
        let account = self.account.clone();
        let interest = |subject: &[u8]| super::has_interest(&account, subject);
        for (name, c) in self.consumers.iter_mut() {
            dropped.extend(
                c.tick(now, &mut self.out)
                    .into_iter()
                    .map(|(seq, n)| (name.clone(), seq, n)),
            );
            more |= c.deliver(&*self.store, &interest, &mut self.out);
            let push_interest = c
                .config
                .deliver_subject
                .as_deref()
                .is_some_and(|s| interest(s.as_bytes()));
            if c.is_inactive(now, push_interest) {
                inactive.push(name.clone());
            }
        }
        self.expire_ttls(now);
        if self.config.max_age > 0 && self.config.subject_delete_marker_ttl > 0 {
            self.mark_aged_out(now);
        }
        if self.config.max_age > 0 {
            if let Ok(n) = self.store.expire(now) {
                if n > 0 {
                    self.unsynced = true;
                    self.recount_consumers();
                    let first = self.store.state().first_seq;
                    for c in self.consumers.values_mut() {
                        c.forget_below(first);
                    }
                }
            }
        }
        self.tell_push_waiting();
        for name in inactive {
            if let Some(mut c) = self.consumers.remove(&name) {
                c.farewell(&mut self.out);
                self.drop_consumer(&name);
                let domain = self.domain();
                self.advisories.push(super::advisory::consumer_action(
                    &self.config.name,
                    &name,
                    "delete",
                    domain.as_deref(),
                ));
            }
        }
        let domain = self.domain();
        for (consumer, seq, deliveries) in dropped {
            self.advisories.push(super::advisory::max_deliveries(
                &self.config.name,
                &consumer,
                seq,
                deliveries,
                domain.as_deref(),
            ));
        }
        self.send_out(server);
        more
    }

    /// Tells the account which deliver subjects this stream's push consumers
    /// wait on, when that changed.
    fn tell_push_waiting(&mut self) {
        let waiting: Vec<String> = self
            .consumers
            .values()
            .filter(|c| c.is_push_idle())
            .filter_map(|c| c.config.deliver_subject.clone())
            .collect();
        if waiting == self.push_waiting {
            return;
        }
        if let Some(jsa) = self.jsa.upgrade() {
            let mut list = super::lock(&jsa.push_waiting);
            let me = Arc::downgrade(&self.handle);
            list.retain(|(_, s)| !s.ptr_eq(&me));
            list.extend(waiting.iter().map(|w| (w.clone(), me.clone())));
        }
        self.push_waiting = waiting;
    }

    /// Sends what the consumers produced.
    fn send_out(&mut self, server: &Server) {
        self.consumer_advisories();
        for a in std::mem::take(&mut self.advisories) {
            self.outlet.publish(
                server,
                &self.account,
                a.subject.as_bytes(),
                None,
                None,
                &a.body,
            );
        }
        for out in std::mem::take(&mut self.out) {
            match out {
                Out::Msg {
                    to,
                    ack,
                    msg,
                    headers_only,
                    pin,
                } => {
                    let hdr;
                    let (headers, payload): (Option<&[u8]>, &[u8]) =
                        if headers_only || pin.is_some() {
                            let size = msg.payload.len().to_string();
                            let mut extra = Vec::new();
                            if headers_only {
                                extra.push(("Nats-Msg-Size", size.as_str()));
                            }
                            if let Some(id) = &pin {
                                extra.push(("Nats-Pin-Id", id.as_str()));
                            }
                            hdr = headers::with(&msg.headers, &extra);
                            let body: &[u8] = if headers_only { b"" } else { &msg.payload };
                            (Some(&hdr), body)
                        } else {
                            (
                                (!msg.headers.is_empty()).then_some(msg.headers.as_ref()),
                                msg.payload.as_ref(),
                            )
                        };
                    // The message goes out under its own subject, to the
                    // requester's (or deliver) subject's subscribers.
                    self.outlet.deliver(
                        server,
                        &self.account,
                        &to,
                        &msg.subject,
                        ack.as_deref().map(str::as_bytes),
                        headers,
                        payload,
                    );
                }
                Out::Status { to, headers, reply } => {
                    self.outlet.publish(
                        server,
                        &self.account,
                        &to,
                        reply.as_deref().map(str::as_bytes),
                        Some(&headers),
                        b"",
                    );
                }
                Out::Reply { to } => {
                    self.outlet
                        .publish(server, &self.account, &to, None, None, b"");
                }
            }
        }
    }

    /// Turns what consumers did (pins, pauses) into advisories.
    fn consumer_advisories(&mut self) {
        let mut domain = None;
        for (name, c) in self.consumers.iter_mut() {
            let events = c.take_events();
            if events.is_empty() {
                continue;
            }
            let domain =
                domain.get_or_insert_with(|| self.js.upgrade().and_then(|js| js.domain.clone()));
            let about = super::advisory::ConsumerAdvisories {
                account: &self.account.name,
                stream: &self.config.name,
                consumer: name,
                domain: domain.as_deref(),
            };
            for event in events {
                self.advisories.push(match event {
                    consumer::Event::Pinned { group, id } => about.pinned(&group, &id),
                    consumer::Event::Unpinned { group, reason } => about.unpinned(&group, reason),
                    consumer::Event::Paused { paused, until } => about.pause(paused, until),
                });
            }
        }
    }

    fn refresh_counters(&mut self) {
        let handle = &self.handle;
        let state = self.store.state();
        handle.msgs.store(state.msgs, Ordering::Relaxed);
        handle.bytes.store(state.bytes, Ordering::Relaxed);
        handle.first_seq.store(state.first_seq, Ordering::Relaxed);
        handle.last_seq.store(state.last_seq, Ordering::Relaxed);
        handle.first_ts.store(state.first_ts, Ordering::Relaxed);
        handle.last_ts.store(state.last_ts, Ordering::Relaxed);
        handle
            .num_subjects
            .store(state.num_subjects, Ordering::Relaxed);
        handle
            .num_deleted
            .store(state.num_deleted, Ordering::Relaxed);
        handle
            .consumers
            .store(self.consumers.len() as u64, Ordering::Relaxed);
        // Consumers' places are saved about once a second (and at stop).
        if self.last_save.elapsed() >= SAVE_EVERY && self.consumers.values().any(|c| c.dirty) {
            self.save_consumers();
            self.last_save = std::time::Instant::now();
        }
    }

    // ----- direct get -----

    fn direct_get(&mut self, server: &Server, subject: &[u8], reply: &[u8], payload: &[u8]) {
        let prefix = format!("$JS.API.DIRECT.GET.{}.", self.config.name);
        let last_for = subject.strip_prefix(prefix.as_bytes()).map(<[u8]>::to_vec);
        let req: MsgGetRequest = if payload.is_empty() {
            MsgGetRequest::default()
        } else {
            match serde_json::from_slice(payload) {
                Ok(r) => r,
                Err(_) => {
                    let hdr = headers::status(408, "Bad Request", &[]);
                    self.outlet
                        .publish(server, &self.account, reply, None, Some(&hdr), b"");
                    return;
                }
            }
        };
        if last_for.is_none() && req.batch > 0 {
            return self.direct_batch(server, reply, &req);
        }
        let found = match &last_for {
            Some(s) => self.store.last_match(s, None).ok().flatten(),
            None => self.find(&req),
        };
        match found {
            Some(m) => {
                let hdr = if req.no_hdr {
                    Vec::new()
                } else {
                    direct_headers(&self.config.name, &m, &[])
                };
                let hdr = (!hdr.is_empty()).then_some(hdr.as_slice());
                self.outlet
                    .publish(server, &self.account, reply, None, hdr, &m.payload);
            }
            None => {
                let hdr = headers::status(404, "Message Not Found", &[]);
                self.outlet
                    .publish(server, &self.account, reply, None, Some(&hdr), b"");
            }
        }
    }

    /// A direct get of `batch` messages from `seq` (or `start_time`), those
    /// on `next_by_subj` when given, at most `max_bytes` of them: each with
    /// the pending count and the sequence sent before it, then an end of
    /// batch (`204 EOB`) with what is left. Nothing to send is a 404.
    fn direct_batch(&mut self, server: &Server, reply: &[u8], req: &MsgGetRequest) {
        let filter = match &req.next_by_subj {
            Some(subject) => Filter::one(Bytes::from(subject.clone())),
            None => Filter::all(),
        };
        let mut seq = match req.start_time.as_deref().and_then(types::parse_rfc3339) {
            Some(t) => self.store.seq_for_time(t),
            None => req.seq.unwrap_or(0),
        }
        .max(1);
        let max_bytes = if req.max_bytes > 0 {
            req.max_bytes
        } else {
            DIRECT_BATCH_MAX_BYTES
        };
        let mut pending = self.store.num_pending(seq, &filter);
        let (mut last, mut sent_bytes, mut sent) = (0u64, 0usize, 0usize);
        while sent < req.batch && sent_bytes < max_bytes {
            let Ok(Some(m)) = self.store.next_match(seq, &filter) else {
                break;
            };
            seq = m.seq + 1;
            pending = pending.saturating_sub(1);
            let counts = [
                ("Nats-Num-Pending", pending.to_string()),
                ("Nats-Last-Sequence", last.to_string()),
            ];
            let hdr = if req.no_hdr {
                Vec::new()
            } else {
                direct_headers(&self.config.name, &m, &counts)
            };
            let hdr = (!hdr.is_empty()).then_some(hdr.as_slice());
            self.outlet
                .publish(server, &self.account, reply, None, hdr, &m.payload);
            last = m.seq;
            sent += 1;
            sent_bytes += m.subject.len() + m.headers.len() + m.payload.len();
        }
        let hdr = if sent == 0 {
            headers::status(404, "Message Not Found", &[])
        } else {
            let left = self.store.num_pending(seq, &filter);
            let counts = [
                ("Nats-Num-Pending", left.to_string()),
                ("Nats-Last-Sequence", last.to_string()),
            ];
            headers::status(204, "EOB", &counts)
        };
        self.outlet
            .publish(server, &self.account, reply, None, Some(&hdr), b"");
    }

    /// The message a `MSG.GET` or direct get asks for.
    fn find(&self, req: &MsgGetRequest) -> Option<StoredMsg> {
        if let Some(subject) = &req.last_by_subj {
            return self
                .store
                .last_match(subject.as_bytes(), None)
                .ok()
                .flatten();
        }
        if let Some(subject) = &req.next_by_subj {
            let from = req.seq.unwrap_or(0).max(1);
            return self
                .store
                .next_match(from, &Filter::one(Bytes::from(subject.clone())))
                .ok()
                .flatten();
        }
        let seq = req.seq?;
        self.store.get(seq).ok().flatten()
    }

    // ----- API -----

    fn respond(&mut self, server: &Server, reply: &str, body: Vec<u8>) {
        // API errors count in the account's and the server's totals.
        if body.windows(9).any(|w| w == b"\"error\":{") {
            if let Some(jsa) = self.jsa.upgrade() {
                jsa.api_errors.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(js) = self.js.upgrade() {
                js.api_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        // The audit goes out after the answer (advisories are sent last)
        // and after what the call made a consumer announce.
        if let Some(audit) = self.audit.take() {
            self.consumer_advisories();
            self.advisories.push(audit.answered(&body));
        }
        if reply.is_empty() {
            return;
        }
        self.outlet
            .publish(server, &self.account, reply.as_bytes(), None, None, &body);
    }

    fn domain(&self) -> Option<String> {
        self.js.upgrade().and_then(|js| js.domain.clone())
    }

    fn server_name(&self) -> String {
        self.server
            .upgrade()
            .map(|s| s.name().to_string())
            .unwrap_or_default()
    }

    /// The stream's info, without subject or deleted details.
    pub(crate) fn info(&self) -> StreamInfo {
        let s = self.store.state();
        let mut config = self.config.clone();
        types::with_version_metadata(&mut config.metadata);
        StreamInfo {
            config,
            created: rfc3339(self.handle.created),
            state: StreamState {
                messages: s.msgs,
                bytes: s.bytes,
                // A stream that never held a message reports 0, as nats-server does.
                first_seq: if s.last_seq == 0 { 0 } else { s.first_seq },
                first_ts: rfc3339(s.first_ts),
                last_seq: s.last_seq,
                last_ts: rfc3339(s.last_ts),
                subjects: None,
                deleted: None,
                num_deleted: s.num_deleted,
                num_subjects: s.num_subjects,
                consumer_count: self.consumers.len() as u64,
            },
            cluster: Some(json!({"leader": self.server_name()})),
            mirror: self.feeds.iter().find(|f| f.mirror).map(|f| f.info()),
            sources: (self.feeds.iter().any(|f| !f.mirror)).then(|| {
                self.feeds
                    .iter()
                    .filter(|f| !f.mirror)
                    .map(|f| f.info())
                    .collect()
            }),
            ts: rfc3339(now_nanos()),
        }
    }

    fn api(&mut self, server: &Server, call: Call, reply: &str) {
        match call {
            Call::Info(body) => {
                let mut info = self.info();
                // Subject details come a page at a time, as nats-server
                // sends them: sorted, from `offset`, at most 100,000.
                let (mut total, mut offset, mut limit) = (0, 0, 0);
                if let Some(filter) = body.get("subjects_filter").and_then(Value::as_str) {
                    let all = self.store.subjects(filter.as_bytes());
                    if !all.is_empty() {
                        total = all.len();
                        limit = SUBJECT_DETAILS_LIMIT;
                        offset = body
                            .get("offset")
                            .and_then(Value::as_u64)
                            .map_or(0, |o| usize::try_from(o).unwrap_or(usize::MAX))
                            .min(total);
                        info.state.subjects = Some(
                            all.into_iter()
                                .skip(offset)
                                .take(limit)
                                .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v))
                                .collect(),
                        );
                    }
                }
                if body.get("deleted_details").and_then(Value::as_bool) == Some(true) {
                    info.state.deleted = Some(self.store.deleted(usize::MAX));
                }
                let mut fields = serde_json::to_value(&info).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut fields {
                    map.insert("total".into(), json!(total));
                    map.insert("offset".into(), json!(offset));
                    map.insert("limit".into(), json!(limit));
                }
                let body = types::response("stream_info_response", None, fields);
                self.respond(server, reply, body);
            }
            Call::Update(config) => self.update(server, *config, reply),
            Call::Delete => {
                self.delete_stream(server);
                let body =
                    types::response("stream_delete_response", None, json!({"success": true}));
                self.respond(server, reply, body);
            }
            Call::Purge(body) => self.purge(server, &body, reply),
            Call::MsgGet(body) => self.msg_get(server, &body, reply),
            Call::MsgDelete(body) => self.msg_delete(server, &body, reply),
            Call::ConsumerCreate { config, action } => {
                self.consumer_create(server, *config, &action, reply)
            }
            Call::ConsumerInfo(name) => {
                let body = match self.consumers.get(&name) {
                    Some(c) => types::response(
                        "consumer_info_response",
                        None,
                        serde_json::to_value(c.info(&*self.store)).unwrap_or(Value::Null),
                    ),
                    None => types::error_response(
                        "consumer_info_response",
                        &errors::CONSUMER_NOT_FOUND.err(),
                    ),
                };
                self.respond(server, reply, body);
            }
            Call::ConsumerDelete(name) => {
                let body = match self.consumers.remove(&name) {
                    Some(mut c) => {
                        c.farewell(&mut self.out);
                        let domain = self.domain();
                        self.advisories.push(super::advisory::consumer_action(
                            &self.config.name,
                            &name,
                            "delete",
                            domain.as_deref(),
                        ));
                        self.send_out(server);
                        self.drop_consumer(&name);
                        self.refresh_counters();
                        types::response("consumer_delete_response", None, json!({"success": true}))
                    }
                    None => types::error_response(
                        "consumer_delete_response",
                        &errors::CONSUMER_NOT_FOUND.err(),
                    ),
                };
                self.respond(server, reply, body);
            }
            Call::ConsumerNames(body) => {
                let offset = offset_of(&body);
                let names: Vec<&String> = self.consumers.keys().skip(offset).collect();
                let body = types::response(
                    "consumer_names_response",
                    None,
                    json!({"total": self.consumers.len(), "offset": offset, "limit": 1024, "consumers": names}),
                );
                self.respond(server, reply, body);
            }
            Call::ConsumerList(body) => {
                let offset = offset_of(&body);
                let infos: Vec<_> = self
                    .consumers
                    .values()
                    .skip(offset)
                    .take(256)
                    .map(|c| c.info(&*self.store))
                    .collect();
                let body = types::response(
                    "consumer_list_response",
                    None,
                    json!({"total": self.consumers.len(), "offset": offset, "limit": 256, "consumers": infos}),
                );
                self.respond(server, reply, body);
            }
            Call::ConsumerReset { name, seq } => {
                let kind = "consumer_reset_response";
                let body = match self.consumers.get_mut(&name) {
                    None => types::error_response(kind, &errors::CONSUMER_NOT_FOUND.err()),
                    Some(c) => match c.reset(seq, &*self.store) {
                        Err(why) => types::error_response(
                            kind,
                            &errors::CONSUMER_INVALID_RESET.with(&[("err", &why)]),
                        ),
                        Ok(at) => {
                            let mut fields =
                                serde_json::to_value(c.info(&*self.store)).unwrap_or(Value::Null);
                            fields["reset_seq"] = json!(at);
                            types::response(kind, None, fields)
                        }
                    },
                };
                self.respond(server, reply, body);
            }
            Call::ConsumerUnpin { name, group } => {
                let kind = "consumer_unpin_response";
                let body = match self.consumers.get_mut(&name) {
                    None => types::error_response(kind, &errors::CONSUMER_NOT_FOUND.err()),
                    Some(c) if !c.config.priority_groups.contains(&group) => {
                        types::error_response(kind, &errors::CONSUMER_INVALID_PRIORITY_GROUP.err())
                    }
                    Some(c) => {
                        c.unpin(&group);
                        types::response(kind, None, json!({}))
                    }
                };
                self.respond(server, reply, body);
            }
            Call::ConsumerPause { name, body } => {
                let until = body
                    .get("pause_until")
                    .and_then(Value::as_str)
                    .and_then(types::parse_rfc3339)
                    .unwrap_or(0);
                let body = match self.consumers.get_mut(&name) {
                    Some(c) => {
                        c.pause(until);
                        let now = now_nanos();
                        let paused = until > now;
                        let mut fields = json!({"paused": paused, "pause_until": rfc3339(until)});
                        if paused {
                            fields["pause_remaining"] = json!(until - now);
                        }
                        types::response("consumer_pause_response", None, fields)
                    }
                    None => types::error_response(
                        "consumer_pause_response",
                        &errors::CONSUMER_NOT_FOUND.err(),
                    ),
                };
                self.respond(server, reply, body);
            }
        }
    }

    fn update(&mut self, server: &Server, config: StreamConfig, reply: &str) {
        let kind = "stream_update_response";
        if let Err(e) = super::api::check_update(&self.config, &config) {
            let body = types::error_response(kind, &e);
            return self.respond(server, reply, body);
        }
        // Tighter consumer limits may not leave existing consumers above them.
        let (threshold, ack_pending) = (
            config.consumer_limits.inactive_threshold,
            config.consumer_limits.max_ack_pending,
        );
        let changed = (threshold > 0
            && threshold != self.config.consumer_limits.inactive_threshold)
            || (ack_pending > 0 && ack_pending != self.config.consumer_limits.max_ack_pending);
        if changed {
            let violating: Vec<&str> = self
                .consumers
                .values()
                .filter(|c| {
                    (threshold > 0 && c.config.inactive_threshold > threshold)
                        || (ack_pending > 0 && c.config.max_ack_pending > ack_pending)
                })
                .map(|c| c.name.as_str())
                .collect();
            if !violating.is_empty() {
                let e = errors::STREAM_UPDATE.with(&[(
                    "err",
                    &format!(
                        "change to limits violates consumers: {}",
                        violating.join(", ")
                    ),
                )]);
                let body = types::error_response(kind, &e);
                return self.respond(server, reply, body);
            }
        }
        let subjects_changed = config.subjects != self.config.subjects
            || config.allow_direct != self.config.allow_direct;
        let feeds_changed =
            config.mirror != self.config.mirror || config.sources != self.config.sources;
        self.config = config.clone();
        let domain = self.domain();
        self.compiled = Compiled::new(&self.config, domain.as_deref());
        {
            let handle = self.handle.clone();
            handle.set_config(config.clone());
            if subjects_changed {
                super::capture::resubscribe(&handle, &self.config);
            }
            if feeds_changed {
                // Origins kept resume where they were.
                let old: Vec<(String, u64)> = self
                    .feeds
                    .iter()
                    .map(|f| (f.origin.clone(), f.next))
                    .collect();
                self.stop_feeds(server);
                let mut feeds = super::feeds::from_config(&self.config);
                for (i, feed) in feeds.iter_mut().enumerate() {
                    if let Some((_, next)) = old.iter().find(|(o, _)| *o == feed.origin) {
                        feed.next = *next;
                    }
                    feed.subscribe(&handle, i, self.cid);
                }
                self.feeds = feeds;
            }
        }
        let _ = self.store.set_limits(limits_of(&self.config));
        self.recount_consumers();
        if let Some(dir) = &self.dir {
            let created = self.handle.created;
            if let Err(e) = super::persist::write_stream_meta(dir, &self.config, created) {
                tracing::error!(
                    "JetStream could not save stream '{}': {e}",
                    self.config.name
                );
            }
        }
        let domain = self.domain();
        self.advisories.push(super::advisory::stream_action(
            &self.config.name,
            "modify",
            domain.as_deref(),
        ));
        let info = self.info();
        let body = types::response(
            kind,
            None,
            serde_json::to_value(info).unwrap_or(Value::Null),
        );
        self.respond(server, reply, body);
    }

    fn delete_stream(&mut self, server: &Server) {
        for (_, mut c) in std::mem::take(&mut self.consumers) {
            c.farewell(&mut self.out);
        }
        let domain = self.domain();
        self.advisories.push(super::advisory::stream_action(
            &self.config.name,
            "delete",
            domain.as_deref(),
        ));
        for (_, sub) in std::mem::take(&mut self.next_subs) {
            crate::subscription::end(&sub);
        }
        self.tell_push_waiting();
        self.send_out(server);
        {
            let handle = self.handle.clone();
            super::capture::unsubscribe(&handle);
        }
        self.stop_feeds(server);
        if let Err(e) = self.take_store().destroy() {
            tracing::error!(
                "JetStream could not remove stream '{}': {e}",
                self.config.name
            );
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        self.deleted = true;
    }

    fn purge(&mut self, server: &Server, body: &Value, reply: &str) {
        let kind = "stream_purge_response";
        if self.config.sealed {
            let b = types::error_response(kind, &errors::STREAM_SEALED.err());
            return self.respond(server, reply, b);
        }
        if self.config.deny_purge {
            let b = types::error_response(
                kind,
                &errors::STREAM_PURGE_FAILED_F.with(&[("err", &"stream purge not permitted")]),
            );
            return self.respond(server, reply, b);
        }
        let filter = body
            .get("filter")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| Bytes::copy_from_slice(s.as_bytes()));
        let seq = body.get("seq").and_then(Value::as_u64).filter(|s| *s > 0);
        let keep = body.get("keep").and_then(Value::as_u64).filter(|k| *k > 0);
        if seq.is_some() && keep.is_some() {
            let b = types::error_response(kind, &errors::BAD_REQUEST.err());
            return self.respond(server, reply, b);
        }
        self.recount_consumers();
        let result = self.store.purge(&Purge {
            filter,
            up_to_seq: seq,
            keep,
        });
        self.unsynced = true;
        let _ = self.store.sync();
        self.unsynced = false;
        let first = self.store.state().first_seq;
        for c in self.consumers.values_mut() {
            c.forget_below(first);
        }
        let b = match result {
            Ok(purged) => types::response(kind, None, json!({"success": true, "purged": purged})),
            Err(e) => {
                types::error_response(kind, &errors::STREAM_PURGE_FAILED_F.with(&[("err", &e)]))
            }
        };
        self.respond(server, reply, b);
    }

    fn msg_get(&mut self, server: &Server, body: &Value, reply: &str) {
        let kind = "stream_msg_get_response";
        let req: MsgGetRequest = serde_json::from_value(body.clone()).unwrap_or_default();
        let b = match self.find(&req) {
            Some(m) => {
                use base64::Engine;
                let b64 = base64::engine::general_purpose::STANDARD;
                let mut message = json!({
                    "subject": String::from_utf8_lossy(&m.subject),
                    "seq": m.seq,
                });
                if !m.headers.is_empty() {
                    message["hdrs"] = json!(b64.encode(&m.headers));
                }
                if !m.payload.is_empty() {
                    message["data"] = json!(b64.encode(&m.payload));
                }
                message["time"] = json!(rfc3339(m.ts));
                types::response(kind, None, json!({ "message": message }))
            }
            None => types::error_response(kind, &errors::NO_MESSAGE_FOUND.err()),
        };
        self.respond(server, reply, b);
    }

    fn msg_delete(&mut self, server: &Server, body: &Value, reply: &str) {
        let kind = "stream_msg_delete_response";
        if self.config.sealed {
            let b = types::error_response(kind, &errors::STREAM_SEALED.err());
            return self.respond(server, reply, b);
        }
        if self.config.deny_delete {
            let b = types::error_response(
                kind,
                &errors::STREAM_MSG_DELETE_FAILED_F
                    .with(&[("err", &"message delete not permitted")]),
            );
            return self.respond(server, reply, b);
        }
        let seq = body.get("seq").and_then(Value::as_u64).unwrap_or(0);
        let b = match self.store.delete(seq) {
            Ok(true) => {
                self.recount_consumers();
                let _ = self.store.sync();
                types::response(kind, None, json!({"success": true}))
            }
            Ok(false) => types::error_response(
                kind,
                &errors::STREAM_MSG_DELETE_FAILED_F.with(&[("err", &"no message found")]),
            ),
            Err(e) => types::error_response(
                kind,
                &errors::STREAM_MSG_DELETE_FAILED_F.with(&[("err", &e)]),
            ),
        };
        self.respond(server, reply, b);
    }

    fn consumer_create(
        &mut self,
        server: &Server,
        mut config: ConsumerConfig,
        action: &str,
        reply: &str,
    ) {
        let kind = "consumer_create_response";
        let work_queue = self.config.retention == "workqueue";
        let (server_max_ack_pending, server_max_request_batch) =
            self.js.upgrade().map_or((0, 0), |js| {
                let limits = js.server_limits();
                (limits.max_ack_pending, limits.max_request_batch)
            });
        let caps = consumer::Caps {
            work_queue,
            stream_max_ack_pending: self.config.consumer_limits.max_ack_pending,
            stream_inactive_threshold: self.config.consumer_limits.inactive_threshold,
            server_max_ack_pending,
            server_max_request_batch,
            account_max_ack_pending: self.account_max_ack_pending,
        };
        if let Err(e) = consumer::check_config(&mut config, caps) {
            let b = types::error_response(kind, &e);
            return self.respond(server, reply, b);
        }
        if config.durable_name.is_none() && config.inactive_threshold == 0 {
            config.inactive_threshold = types::DEFAULT_INACTIVE_THRESHOLD;
        }
        let name = match config.name.clone().or_else(|| config.durable_name.clone()) {
            Some(n) => n,
            None => {
                let n = super::api::random_name();
                config.name = Some(n.clone());
                n
            }
        };
        if config.name.is_none() {
            config.name = Some(name.clone());
        }
        if work_queue {
            let unfiltered = config.filter_subject.is_empty() && config.filter_subjects.is_empty();
            for (other, c) in &self.consumers {
                if *other == name {
                    continue;
                }
                let other_unfiltered =
                    c.config.filter_subject.is_empty() && c.config.filter_subjects.is_empty();
                if unfiltered || other_unfiltered {
                    let e = if unfiltered && other_unfiltered {
                        errors::CONSUMER_WQ_MULTIPLE_UNFILTERED.err()
                    } else {
                        errors::CONSUMER_WQ_CONSUMER_NOT_UNIQUE.err()
                    };
                    let b = types::error_response(kind, &e);
                    return self.respond(server, reply, b);
                }
            }
        }
        if let Some(existing) = self.consumers.get_mut(&name) {
            if action == "create" && !same_consumer(&existing.config, &config) {
                let b = types::error_response(kind, &errors::CONSUMER_ALREADY_EXISTS.err());
                return self.respond(server, reply, b);
            }
            if let Err(why) = consumer::check_update(&existing.config, &config) {
                let b =
                    types::error_response(kind, &errors::CONSUMER_CREATE.with(&[("err", &why)]));
                return self.respond(server, reply, b);
            }
            // An update keeps the consumer's place; a new pause time applies
            // (and is announced) at once.
            let metadata = config.metadata.clone();
            let until = config
                .pause_until
                .as_deref()
                .and_then(types::parse_rfc3339)
                .unwrap_or(0);
            existing.pause(until);
            existing.config = config;
            existing.config.metadata = metadata;
            existing.dirty = true;
            let info = existing.info(&*self.store);
            if let Some(c) = self.consumers.get(&name) {
                self.save_consumer_config(c);
            }
            let b = types::response(
                kind,
                None,
                serde_json::to_value(info).unwrap_or(Value::Null),
            );
            return self.respond(server, reply, b);
        }
        if action == "update" {
            let b = types::error_response(kind, &errors::CONSUMER_DOES_NOT_EXIST.err());
            return self.respond(server, reply, b);
        }
        if self.config.max_consumers > 0 && self.consumers.len() as i64 >= self.config.max_consumers
        {
            let b = types::error_response(kind, &errors::MAXIMUM_CONSUMERS_LIMIT.err());
            return self.respond(server, reply, b);
        }
        config.metadata.retain(|k, _| !k.starts_with("_nats."));
        config
            .metadata
            .insert("_nats.req.level".to_string(), "0".to_string());
        let c = Consumer::new(
            &self.config.name,
            name.clone(),
            config,
            now_nanos(),
            &*self.store,
        );
        // Push consumers answer pull requests too (409, push based).
        if let Some(sub) = super::capture::subscribe_next(&self.handle, &name, self.cid) {
            self.next_subs.insert(name.clone(), sub);
        }
        let info = c.info(&*self.store);
        self.save_consumer_config(&c);
        let domain = self.domain();
        self.advisories.push(super::advisory::consumer_action(
            &self.config.name,
            &name,
            "create",
            domain.as_deref(),
        ));
        self.consumers.insert(name, c);
        self.refresh_counters();
        let b = types::response(
            kind,
            None,
            serde_json::to_value(info).unwrap_or(Value::Null),
        );
        self.respond(server, reply, b);
    }

    // ----- persistence of consumers -----

    fn save_consumers(&mut self) {
        let Some(dir) = self.dir.clone() else {
            for c in self.consumers.values_mut() {
                c.dirty = false;
            }
            return;
        };
        for c in self.consumers.values_mut() {
            if !c.dirty {
                continue;
            }
            c.dirty = false;
            if c.config.mem_storage {
                continue;
            }
            if let Err(e) = super::persist::write_consumer_state(&dir, c) {
                tracing::error!(
                    "JetStream could not save consumer '{} > {}': {e}",
                    self.config.name,
                    c.name
                );
            }
        }
    }

    /// Writes a consumer's configuration (file streams, durable storage).
    fn save_consumer_config(&self, c: &Consumer) {
        let Some(dir) = &self.dir else {
            return;
        };
        if c.config.mem_storage {
            return;
        }
        if let Err(e) = super::persist::write_consumer_config(dir, c) {
            tracing::error!(
                "JetStream could not save consumer '{} > {}': {e}",
                self.config.name,
                c.name
            );
        }
    }

    /// Forgets consumer `name`: its pull requests' subscription and files.
    fn drop_consumer(&mut self, name: &str) {
        if let Some(sub) = self.next_subs.remove(name) {
            crate::subscription::end(&sub);
        }
        self.remove_consumer_files(name);
    }

    fn remove_consumer_files(&self, name: &str) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(super::persist::consumer_dir(dir, name));
        }
    }
}

/// The headers of a direct get's answer.
fn direct_headers(stream: &str, m: &StoredMsg, more: &[(&str, String)]) -> Vec<u8> {
    let seq = m.seq.to_string();
    let time = rfc3339(m.ts);
    let subject = String::from_utf8_lossy(&m.subject).into_owned();
    let mut all = vec![
        ("Nats-Stream", stream),
        ("Nats-Subject", subject.as_str()),
        ("Nats-Sequence", seq.as_str()),
        ("Nats-Time-Stamp", time.as_str()),
    ];
    all.extend(more.iter().map(|(k, v)| (*k, v.as_str())));
    headers::with(&m.headers, &all)
}

/// What one batch of a direct get sends at most when the request names no
/// `max_bytes` (nats-server's default for a client's pending bytes, 64 MiB).
const DIRECT_BATCH_MAX_BYTES: usize = 64 * 1024 * 1024;

/// The body of `MSG.GET` and direct gets.
#[derive(Debug, Default, Deserialize)]
struct MsgGetRequest {
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    last_by_subj: Option<String>,
    #[serde(default)]
    next_by_subj: Option<String>,
    /// Direct gets only: how many messages, at most how many bytes, from
    /// when, and whether without headers.
    #[serde(default)]
    batch: usize,
    #[serde(default)]
    max_bytes: usize,
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    no_hdr: bool,
}

fn offset_of(body: &Value) -> usize {
    body.get("offset")
        .and_then(Value::as_u64)
        .map_or(0, |o| usize::try_from(o).unwrap_or(0))
}

/// Whether two consumer configurations are the same (a create that repeats
/// an existing consumer is answered with it).
fn same_consumer(a: &ConsumerConfig, b: &ConsumerConfig) -> bool {
    let strip = |c: &ConsumerConfig| {
        let mut c = c.clone();
        c.metadata.retain(|k, _| !k.starts_with("_nats."));
        c
    };
    strip(a) == strip(b)
}

/// A `Nats-TTL` value: seconds, a Go duration, or `never`.
/// Whether a message is a delete marker (a limit marker, or a key-value purge).
fn is_marker(hdr: &[u8]) -> bool {
    headers::get(hdr, "Nats-Marker-Reason").is_some()
        || headers::get(hdr, "KV-Operation") == Some("PURGE")
}

pub(crate) fn parse_ttl(text: &str) -> Option<i64> {
    if text == "never" {
        return Some(-1);
    }
    if let Ok(secs) = text.parse::<i64>() {
        return (secs >= 1 || secs == -1).then_some(secs);
    }
    gannet_config::conf::parse_go_duration(text)
        .ok()
        .map(|d| d / 1_000_000_000)
        .filter(|s| *s >= 1)
}

/// The store limits a stream configuration asks for.
pub(crate) fn limits_of(config: &StreamConfig) -> Limits {
    let positive = |n: i64| u64::try_from(n).unwrap_or(0);
    Limits {
        max_msgs: if config.discard == "new" {
            0
        } else {
            positive(config.max_msgs)
        },
        max_bytes: if config.discard == "new" {
            0
        } else {
            positive(config.max_bytes)
        },
        max_age: positive(config.max_age),
        max_msgs_per_subject: if config.discard_new_per_subject {
            0
        } else {
            positive(config.max_msgs_per_subject)
        },
    }
}

/// A refusal as a trace event reports it (the reference's `ApiError.Error()`).
fn trace_error(e: &ApiError) -> String {
    format!("{} ({})", e.description, e.err_code)
}
