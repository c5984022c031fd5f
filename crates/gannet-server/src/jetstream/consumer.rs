//! One consumer of a stream: where it is in the stream, what it delivered
//! and is waiting to hear acknowledged, the pull requests waiting for
//! messages, and what it sends (messages, redeliveries, status messages,
//! heartbeats). It lives inside its stream's thread, which hands it the
//! store and sends what it returns; it knows nothing of the network.
//!
//! Delivery: a message goes to a pull request's reply subject, or to a push
//! consumer's deliver subject, with the reply
//! `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>`
//! on which the client acknowledges (`+ACK`, `-NAK`, `+WPI`, `+TERM`,
//! `+NXT`), as nats-server builds it.
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

use bytes::Bytes;
use gannet_store::{Filter, Store, StoredMsg};
use serde::{Deserialize, Serialize};

use super::errors::{self, ApiError};
use super::headers;
use super::types::{
    now_nanos, parse_rfc3339, rfc3339, ConsumerConfig, ConsumerInfo, SequenceInfo,
    DEFAULT_ACK_WAIT, DEFAULT_INACTIVE_THRESHOLD, DEFAULT_MAX_ACK_PENDING, DEFAULT_MAX_WAITING,
};

/// Flow control of push consumers (`flow_control: true`): a request is
/// sent once this many bytes went out since the last answered one, and
/// delivery stops at twice as many until the client answers.
const FLOW_CONTROL_BYTES: u64 = 1 << 20;

/// Most messages one consumer sends per turn of its stream's loop, so one
/// busy consumer does not hold up the others nor the stream's publishers.
const DELIVER_BUDGET: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckPolicy {
    None,
    All,
    Explicit,
}

/// Something a consumer sends.
#[derive(Debug)]
pub(crate) enum Out {
    /// A stored message, to `to`, acknowledged on `ack`.
    Msg {
        to: Bytes,
        ack: Option<String>,
        msg: StoredMsg,
        headers_only: bool,
        /// The pinned client's id, sent as `Nats-Pin-Id`.
        pin: Option<String>,
    },
    /// A status message (`NATS/1.0 408 ...`) or heartbeat, with an
    /// optional reply (flow control).
    Status {
        to: Bytes,
        headers: Vec<u8>,
        reply: Option<String>,
    },
    /// An empty answer to an acknowledgement that asked for one.
    Reply { to: Bytes },
}

/// A pull request waiting for messages (`$JS.API.CONSUMER.MSG.NEXT`).
#[derive(Debug)]
struct PullRequest {
    reply: Bytes,
    /// Messages still wanted.
    batch: i64,
    /// Bytes still allowed (0 = no limit).
    max_bytes: i64,
    /// When it ends (ns; 0 = never).
    expires: i64,
    no_wait: bool,
    /// Heartbeat interval (ns; 0 = none) and when the next is due.
    heartbeat: i64,
    next_heartbeat: i64,
    delivered: i64,
    /// Priority groups: the group asked for, the pin id the client holds,
    /// overflow thresholds and the priority.
    group: Option<String>,
    pin_id: Option<String>,
    min_pending: i64,
    min_ack_pending: i64,
    priority: i64,
}

/// The body of a pull request.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NextRequest {
    #[serde(default)]
    batch: i64,
    #[serde(default)]
    max_bytes: i64,
    #[serde(default)]
    expires: i64,
    #[serde(default)]
    no_wait: bool,
    #[serde(default)]
    idle_heartbeat: i64,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    min_pending: i64,
    #[serde(default)]
    min_ack_pending: i64,
    #[serde(default)]
    priority: i64,
}

/// The client a pinned-client consumer delivers to.
#[derive(Debug, Clone)]
struct Pin {
    id: String,
    /// The priority group the pin is of.
    group: String,
    /// When it was pinned (ns).
    since: i64,
    /// When the pin lapses unless the client pulls again (ns).
    until: i64,
}

/// Two minutes: how long a pinned client keeps its pin without pulling.
const DEFAULT_PINNED_TTL: i64 = 120_000_000_000;

/// A new pin id: 22 random letters and digits, like a NUID.
fn new_pin_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..22)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Where [`Consumer::next_message`] took a message from.
#[derive(Debug, Clone, Copy)]
enum Taken {
    Redelivery,
    LastPerSubject,
    Stream,
}

/// A message delivered and not yet acknowledged.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Pending {
    dseq: u64,
    /// When it was (last) delivered, ns.
    ts: i64,
    /// When it is due to go out again (the ack wait, a backoff step, a
    /// nak's delay, or a fresh wait after "in progress").
    #[serde(default)]
    due: i64,
}

/// What a consumer keeps across restarts (file streams).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct SavedState {
    delivered_consumer: u64,
    delivered_stream: u64,
    ack_floor_consumer: u64,
    ack_floor_stream: u64,
    pending: BTreeMap<u64, (u64, i64)>,
    redelivered: BTreeMap<u64, u64>,
}

/// What an acknowledgement did, for the stream's retention.
#[derive(Debug, Default)]
pub(crate) struct AckOutcome {
    /// Stream sequences now acknowledged by this consumer.
    pub(crate) acked: Vec<u64>,
    /// A nak or a termination, for the advisories: (kind, (stream seq,
    /// consumer seq), deliveries, reason).
    pub(crate) event: Option<(super::advisory::Delivery, (u64, u64), u64, String)>,
}

/// What a consumer did that its account hears of as an advisory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    Pinned {
        group: String,
        id: String,
    },
    Unpinned {
        group: String,
        reason: &'static str,
    },
    /// Paused until `until` (ns), resumed (`until` 0), or the pause ran out.
    Paused {
        paused: bool,
        until: i64,
    },
}

pub(crate) struct Consumer {
    pub(crate) name: String,
    pub(crate) config: ConsumerConfig,
    pub(crate) created: i64,
    stream: String,
    filter: Filter,
    ack: AckPolicy,
    /// The next stream sequence to look at.
    next_seq: u64,
    /// The last consumer sequence given out.
    dseq: u64,
    /// The last stream sequence delivered (for info).
    last_sseq: u64,
    ack_floor: (u64, u64),
    pending: BTreeMap<u64, Pending>,
    /// (deadline, stream seq) of pending messages, soonest first (stale
    /// entries are skipped when popped).
    deadlines: BinaryHeap<std::cmp::Reverse<(i64, u64)>>,
    /// Stream sequences to send again, in order.
    redeliver: VecDeque<u64>,
    /// How many times each pending stream sequence went out.
    deliveries: HashMap<u64, u64>,
    waiting: VecDeque<PullRequest>,
    last_active: i64,
    /// When an ephemeral consumer (or one with `inactive_threshold`) was
    /// last wanted; it is deleted after the threshold.
    last_interest: i64,
    next_push_heartbeat: i64,
    /// The push consumer's deliver subject had no interest at the last try.
    push_idle: bool,
    /// Until when delivery is paused (ns); 0 once the pause ran out.
    paused_until: i64,
    pin: Option<Pin>,
    /// Advisories to send, taken by the stream ([`Consumer::take_events`]).
    events: Vec<Event>,
    /// When the last acknowledgement came (ns; 0 = none yet).
    last_ack: i64,
    /// Flow control: bytes sent since the last answered request, and the
    /// request waiting for its answer (its number).
    fc_bytes: u64,
    fc_waiting: Option<u64>,
    fc_next: u64,
    /// Replay `original`: (when the first message went, its stored time),
    /// and when the next one is due.
    replay: Option<(i64, i64)>,
    replay_due: i64,
    /// Stream messages at or after `next_seq` this consumer wants, kept as
    /// messages are stored and sent (counting them again on every delivery
    /// would cost a scan each); `None` = to be counted.
    npc: std::cell::Cell<Option<u64>>,
    /// `last_per_subject`: each subject's last message when the consumer
    /// was made, sent first, in order.
    last_per_subject: VecDeque<u64>,
    pub(crate) dirty: bool,
}

impl Consumer {
    /// A consumer starting where its deliver policy says.
    pub(crate) fn new(
        stream: &str,
        name: String,
        config: ConsumerConfig,
        created: i64,
        store: &dyn Store,
    ) -> Consumer {
        let filter = filter_of(&config);
        let ack = ack_policy(&config.ack_policy);
        let state = store.state();
        let next_seq = match config.deliver_policy.as_str() {
            "new" => state.last_seq + 1,
            "last" => last_seq_for(store, &filter).unwrap_or(state.last_seq + 1),
            "last_per_subject" => state.last_seq + 1,
            "by_start_sequence" => config.opt_start_seq.unwrap_or(1).max(1),
            "by_start_time" => config
                .opt_start_time
                .as_deref()
                .and_then(parse_rfc3339)
                .map_or(state.first_seq, |t| store.seq_for_time(t)),
            _ => state.first_seq.max(1),
        };
        let now = now_nanos();
        let paused_until = config
            .pause_until
            .as_deref()
            .and_then(parse_rfc3339)
            .unwrap_or(0);
        let last_per_subject = if config.deliver_policy == "last_per_subject" {
            last_per_subject(store, &filter)
        } else {
            VecDeque::new()
        };
        Consumer {
            last_per_subject,
            name,
            stream: stream.to_string(),
            filter,
            ack,
            next_seq,
            dseq: 0,
            last_sseq: next_seq.saturating_sub(1),
            ack_floor: (0, next_seq.saturating_sub(1)),
            pending: BTreeMap::new(),
            deadlines: BinaryHeap::new(),
            redeliver: VecDeque::new(),
            deliveries: HashMap::new(),
            waiting: VecDeque::new(),
            last_active: 0,
            last_interest: now,
            next_push_heartbeat: 0,
            push_idle: false,
            // A pause that already ran out is no pause (nor an advisory).
            paused_until: if paused_until > now { paused_until } else { 0 },
            pin: None,
            events: Vec::new(),
            last_ack: 0,
            fc_bytes: 0,
            fc_waiting: None,
            fc_next: 0,
            replay: None,
            replay_due: 0,
            npc: std::cell::Cell::new(None),
            config,
            created,
            dirty: true,
        }
    }

    pub(crate) fn is_pull(&self) -> bool {
        self.config.deliver_subject.is_none()
    }

    /// A push consumer whose deliver subject had no subscriber at the last try.
    pub(crate) fn is_push_idle(&self) -> bool {
        self.push_idle
    }

    pub(crate) fn is_durable(&self) -> bool {
        self.config.durable_name.is_some()
    }

    /// Whether `subject` is one this consumer takes.
    pub(crate) fn wants(&self, subject: &[u8]) -> bool {
        self.filter.matches(subject)
    }

    fn max_ack_pending(&self) -> usize {
        match self.config.max_ack_pending {
            n if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
            _ if self.ack == AckPolicy::None => usize::MAX,
            0 => DEFAULT_MAX_ACK_PENDING as usize,
            _ => usize::MAX,
        }
    }

    fn ack_wait(&self) -> i64 {
        if self.config.ack_wait > 0 {
            self.config.ack_wait
        } else {
            DEFAULT_ACK_WAIT
        }
    }

    /// The ack wait before delivery number `n` + 1 is due (backoff first).
    fn wait_after(&self, deliveries: u64) -> i64 {
        if self.config.backoff.is_empty() {
            return self.ack_wait();
        }
        let i = usize::try_from(deliveries.saturating_sub(1)).unwrap_or(usize::MAX);
        *self
            .config
            .backoff
            .get(i)
            .or(self.config.backoff.last())
            .unwrap_or(&self.ack_wait())
    }

    /// Saved state for a restart.
    pub(crate) fn saved(&self) -> SavedState {
        SavedState {
            delivered_consumer: self.dseq,
            delivered_stream: self.last_sseq,
            ack_floor_consumer: self.ack_floor.0,
            ack_floor_stream: self.ack_floor.1,
            pending: self
                .pending
                .iter()
                .map(|(s, p)| (*s, (p.dseq, p.ts)))
                .collect(),
            redelivered: self
                .deliveries
                .iter()
                .filter(|(_, n)| **n > 1)
                .map(|(s, n)| (*s, *n))
                .collect(),
        }
    }

    /// Puts back what [`Consumer::saved`] kept: messages pending then are
    /// sent again once their ack wait has passed.
    pub(crate) fn restore(&mut self, saved: SavedState) {
        self.npc.set(None);
        self.dseq = saved.delivered_consumer;
        self.last_sseq = saved.delivered_stream;
        self.next_seq = saved.delivered_stream + 1;
        self.ack_floor = (saved.ack_floor_consumer, saved.ack_floor_stream);
        let wait = self.ack_wait();
        for (sseq, (dseq, ts)) in saved.pending {
            let due = ts + wait;
            self.pending.insert(sseq, Pending { dseq, ts, due });
            self.deadlines.push(std::cmp::Reverse((due, sseq)));
            self.deliveries.insert(sseq, 1);
        }
        for (sseq, n) in saved.redelivered {
            self.deliveries.insert(sseq, n);
        }
    }

    /// The info document.
    pub(crate) fn info(&self, store: &dyn Store) -> ConsumerInfo {
        let mut config = self.config.clone();
        super::types::with_version_metadata(&mut config.metadata);
        let now = now_nanos();
        ConsumerInfo {
            stream_name: self.stream.clone(),
            name: self.name.clone(),
            created: rfc3339(self.created),
            config,
            delivered: SequenceInfo {
                consumer_seq: self.dseq,
                stream_seq: self.last_sseq,
                last_active: (self.last_active != 0).then(|| rfc3339(self.last_active)),
            },
            ack_floor: SequenceInfo {
                consumer_seq: self.ack_floor.0,
                stream_seq: self.ack_floor.1,
                last_active: (self.last_ack != 0).then(|| rfc3339(self.last_ack)),
            },
            num_ack_pending: self.pending.len() as u64,
            num_redelivered: self.deliveries.values().filter(|n| **n > 1).count() as u64,
            num_waiting: self.waiting.len() as u64,
            num_pending: self.num_pending(store),
            push_bound: (!self.is_pull() && !self.push_idle).then_some(true),
            paused: (self.paused_until > now).then_some(true),
            pause_remaining: (self.paused_until > now).then_some(self.paused_until - now),
            priority_groups: self.config.priority_groups.first().map(|group| {
                let pin = self.pin.as_ref();
                serde_json::json!([{
                    "group": group,
                    "pinned_client_id": pin.map(|p| p.id.clone()),
                    "pinned_ts": rfc3339(pin.map_or(0, |p| p.since)),
                }])
            }),
            ts: rfc3339(now),
        }
    }

    /// Messages in the stream this consumer has yet to deliver.
    pub(crate) fn num_pending(&self, store: &dyn Store) -> u64 {
        let stream = match self.npc.get() {
            Some(n) => n,
            None => {
                let n = store.num_pending(self.next_seq, &self.filter);
                self.npc.set(Some(n));
                n
            }
        };
        self.last_per_subject.len() as u64 + stream
    }

    /// A message was stored: one more pending if this consumer wants it.
    pub(crate) fn stored(&mut self, subject: &[u8]) {
        if let Some(n) = self.npc.get() {
            if self.filter.matches(subject) {
                self.npc.set(Some(n + 1));
            }
        }
    }

    /// Messages were removed from the stream: count pending again when
    /// next needed.
    pub(crate) fn recount(&mut self) {
        self.npc.set(None);
    }

    /// A pull request: queued, refused, or answered at once.
    pub(crate) fn on_next_request(
        &mut self,
        reply: Bytes,
        payload: &[u8],
        store: &dyn Store,
        out: &mut Vec<Out>,
    ) {
        let status = |out: &mut Vec<Out>, code: u16, text: &str| {
            out.push(Out::Status {
                to: reply.clone(),
                headers: headers::status(code, text, &[]),
                reply: None,
            });
        };
        if !self.is_pull() {
            return status(out, 409, "Consumer is push based");
        }
        let req = parse_next_request(payload);
        let req = match req {
            Ok(r) => r,
            Err(e) => return status(out, 400, &format!("Bad Request - {e}")),
        };
        if self.config.max_batch > 0 && req.batch > self.config.max_batch {
            return status(
                out,
                409,
                &format!("Exceeded MaxRequestBatch of {}", self.config.max_batch),
            );
        }
        if self.config.max_expires > 0 && req.expires > self.config.max_expires {
            return status(
                out,
                409,
                &format!(
                    "Exceeded MaxRequestExpires of {}",
                    go_duration(self.config.max_expires)
                ),
            );
        }
        if req.max_bytes > 0 && self.config.max_bytes > 0 && req.max_bytes > self.config.max_bytes {
            return status(
                out,
                409,
                &format!("Exceeded MaxRequestMaxBytes of {}", self.config.max_bytes),
            );
        }
        let now = now_nanos();
        if let Err(text) = self.check_priority(&req, now) {
            let code = if text.starts_with("Nats-Pin-Id") {
                423
            } else {
                400
            };
            return status(out, code, &text);
        }
        self.last_interest = now;
        if req.no_wait {
            let available = self.num_pending(store) + self.redeliver.len() as u64;
            if available == 0 && req.expires == 0 {
                return status(out, 404, "No Messages");
            }
        }
        let max_waiting = match self.config.max_waiting {
            n if n > 0 => n as usize,
            _ => DEFAULT_MAX_WAITING as usize,
        };
        if self.waiting.len() >= max_waiting {
            self.expire_requests(now, false, out);
            if self.waiting.len() >= max_waiting {
                return status(out, 409, "Exceeded MaxWaiting");
            }
        }
        self.waiting.push_back(PullRequest {
            reply,
            batch: req.batch.max(1),
            max_bytes: req.max_bytes,
            expires: if req.expires > 0 {
                now + req.expires
            } else {
                0
            },
            no_wait: req.no_wait,
            heartbeat: req.idle_heartbeat,
            next_heartbeat: if req.idle_heartbeat > 0 {
                now + req.idle_heartbeat
            } else {
                0
            },
            delivered: 0,
            group: req.group,
            pin_id: req.id,
            min_pending: req.min_pending,
            min_ack_pending: req.min_ack_pending,
            priority: req.priority,
        });
    }

    /// nats-server's checks of a pull request's priority fields; a request
    /// from the pinned client renews its pin.
    fn check_priority(&mut self, req: &NextRequest, now: i64) -> Result<(), String> {
        let policy = self.config.priority_policy.as_deref().unwrap_or("none");
        let asks = req.group.is_some()
            || req.id.is_some()
            || req.min_pending != 0
            || req.min_ack_pending != 0
            || req.priority != 0;
        if !asks {
            return Ok(());
        }
        if (req.min_pending != 0 || req.min_ack_pending != 0) && policy != "overflow" {
            return Err("Bad Request - Not a Overflow Priority consumer".to_string());
        }
        if req.id.as_deref().is_some_and(|i| !i.is_empty()) && policy != "pinned_client" {
            return Err("Bad Request - Not a Pinned Client Priority consumer".to_string());
        }
        if !(0..=9).contains(&req.priority) {
            return Err("Bad Request - Priority must be between 0 and 9".to_string());
        }
        if policy == "none" {
            return Ok(());
        }
        let Some(group) = req.group.as_deref().filter(|g| !g.is_empty()) else {
            return Err("Bad Request - Priority Group missing".to_string());
        };
        if !self.config.priority_groups.iter().any(|g| g == group) {
            return Err("Bad Request - Invalid Priority Group".to_string());
        }
        let ttl = self.pinned_ttl();
        if let (Some(pin), Some(id)) = (self.pin.as_mut(), req.id.as_deref()) {
            if !id.is_empty() {
                if pin.id == id {
                    pin.until = now + ttl;
                } else {
                    return Err("Nats-Pin-Id mismatch".to_string());
                }
            }
        }
        Ok(())
    }

    /// Sends what can be sent now. `has_interest` tells whether anyone
    /// listens on a subject (a push consumer waits for its deliver subject's).
    /// Returns whether more could be sent at once.
    pub(crate) fn deliver(
        &mut self,
        store: &dyn Store,
        has_interest: &dyn Fn(&[u8]) -> bool,
        out: &mut Vec<Out>,
    ) -> bool {
        let now = now_nanos();
        if self.paused_until > now {
            return false;
        }
        if !self.is_pull() {
            let Some(to) = self.config.deliver_subject.clone() else {
                return false;
            };
            if !has_interest(to.as_bytes()) {
                self.push_idle = true;
                return false;
            }
            self.push_idle = false;
            self.last_interest = now;
        }
        if self.replay_due <= now {
            self.replay_due = 0;
        }
        if self.is_pull() {
            // A request whose requester went away is dropped, as nats-server
            // drops it, rather than served into the void.
            self.waiting.retain(|r| has_interest(&r.reply));
        }
        let mut sent = 0;
        while sent < DELIVER_BUDGET {
            if self.pending.len() >= self.max_ack_pending() && self.redeliver.is_empty() {
                break;
            }
            let pull = self.is_pull();
            if pull && self.waiting.is_empty() {
                break;
            }
            if !pull && self.flow_control_stalled(out) {
                break;
            }
            let Some((msg, taken)) = self.next_message(store) else {
                break;
            };
            // Replay `original`: each message waits for its own time after
            // the first, as it was stored.
            if self.config.replay_policy == "original" && !matches!(taken, Taken::Redelivery) {
                let (wall, first_ts) = *self.replay.get_or_insert((now, msg.ts));
                let due = wall + (msg.ts - first_ts).max(0);
                if due > now {
                    self.unsend(msg.seq, taken);
                    self.replay_due = due;
                    break;
                }
            }
            // A request is picked (and a client pinned) only for a message.
            let (target, picked) = if pull {
                let Some(i) = self.pick_request(store, now, out) else {
                    self.unsend(msg.seq, taken);
                    break;
                };
                (self.waiting[i].reply.clone(), Some(i))
            } else {
                match &self.config.deliver_subject {
                    Some(s) => (Bytes::copy_from_slice(s.as_bytes()), None),
                    None => break,
                }
            };
            let size = self.delivered_size(&msg);
            if let Some(i) = picked {
                let req = &self.waiting[i];
                if req.max_bytes > 0 && size > req.max_bytes {
                    let pending = pending_headers(req.batch, req.max_bytes);
                    // Not sent: put it back for the next request.
                    self.unsend(msg.seq, taken);
                    out.push(Out::Status {
                        to: target,
                        headers: headers::status(409, "Message Size Exceeds MaxBytes", &pending),
                        reply: None,
                    });
                    self.waiting.remove(i);
                    continue;
                }
            }
            self.send(msg, target, now, store, out);
            sent += 1;
            if let Some(i) = picked {
                let req = &mut self.waiting[i];
                req.batch -= 1;
                req.delivered += 1;
                if req.max_bytes > 0 {
                    req.max_bytes -= size;
                    if req.max_bytes <= 0 {
                        req.batch = 0;
                    }
                }
                if req.heartbeat > 0 {
                    req.next_heartbeat = now + req.heartbeat;
                }
                if req.batch <= 0 {
                    self.waiting.remove(i);
                }
            } else {
                if self.config.idle_heartbeat > 0 {
                    self.next_push_heartbeat = now + self.config.idle_heartbeat;
                }
                if self.config.flow_control {
                    self.fc_bytes += size.max(0) as u64;
                }
            }
        }
        // No-wait requests end when the stream has nothing more for them.
        if self.is_pull() && sent < DELIVER_BUDGET {
            self.end_no_wait(store, out);
        }
        sent >= DELIVER_BUDGET
    }

    /// Flow control: asks the client to answer once enough went out, and
    /// says whether delivery must wait for that answer.
    fn flow_control_stalled(&mut self, out: &mut Vec<Out>) -> bool {
        if !self.config.flow_control {
            return false;
        }
        if self.fc_waiting.is_none() && self.fc_bytes >= FLOW_CONTROL_BYTES {
            self.fc_next += 1;
            self.fc_waiting = Some(self.fc_next);
            if let Some(to) = &self.config.deliver_subject {
                out.push(Out::Status {
                    to: Bytes::copy_from_slice(to.as_bytes()),
                    headers: headers::status(100, "FlowControl Request", &[]),
                    reply: Some(self.fc_subject(self.fc_next)),
                });
            }
        }
        self.fc_waiting.is_some() && self.fc_bytes >= 2 * FLOW_CONTROL_BYTES
    }

    /// The subject a flow control request is answered on.
    fn fc_subject(&self, n: u64) -> String {
        format!("$JS.FC.{}.{}.{n}", self.stream, self.name)
    }

    /// The client answered flow control request `n`.
    pub(crate) fn on_flow_control(&mut self, n: u64) {
        if self.fc_waiting == Some(n) {
            self.fc_waiting = None;
            self.fc_bytes = 0;
        }
    }

    /// The size a pull request's `max_bytes` counts for `msg`, as
    /// nats-server counts it: subject, ack reply, headers and payload.
    fn delivered_size(&self, msg: &StoredMsg) -> i64 {
        // The ack reply: `$JS.ACK.` + names + five numbers and dots.
        let ack = 8 + self.stream.len() + self.name.len() + 2 + 5 * 4 + 19;
        (msg.subject.len() + ack + msg.headers.len() + msg.payload.len()) as i64
    }

    /// The waiting request the next message goes to, by the consumer's
    /// priority policy: the oldest one; the pinned client's (pinning a new
    /// one when none is); one whose overflow thresholds are met; or the one
    /// of lowest priority number. Requests a pin no longer holds for are
    /// told so (423) and dropped.
    fn pick_request(&mut self, store: &dyn Store, now: i64, out: &mut Vec<Out>) -> Option<usize> {
        match self.config.priority_policy.as_deref() {
            Some("pinned_client") => {
                if self.pin.is_none() {
                    // Requests naming an old pin are turned away.
                    while let Some(i) = self.waiting.iter().position(|r| r.pin_id.is_some()) {
                        let req = self.waiting.remove(i)?;
                        out.push(Out::Status {
                            to: req.reply,
                            headers: headers::status(
                                423,
                                "Nats-Wrong-Pin-Id",
                                &pending_headers(req.batch, req.max_bytes),
                            ),
                            reply: None,
                        });
                    }
                    let ttl = self.pinned_ttl();
                    let front = self.waiting.front_mut()?;
                    if front.group.is_some() {
                        // The request that takes the pin holds it from now on.
                        let id = new_pin_id();
                        front.pin_id = Some(id.clone());
                        let group = front.group.clone().unwrap_or_default();
                        self.events.push(Event::Pinned {
                            group: group.clone(),
                            id: id.clone(),
                        });
                        self.pin = Some(Pin {
                            id,
                            group,
                            since: now,
                            until: now + ttl,
                        });
                        self.dirty = true;
                    }
                    return Some(0);
                }
                let id = self.pin.as_ref().map(|p| p.id.clone());
                self.waiting
                    .iter()
                    .position(|r| r.pin_id.is_some() && r.pin_id == id)
            }
            Some("overflow") => {
                let pending = self.num_pending(store) as i64;
                let acks = self.pending.len() as i64;
                self.waiting.iter().position(|r| {
                    (r.min_pending == 0 && r.min_ack_pending == 0)
                        || (r.min_pending > 0 && pending >= r.min_pending)
                        || (r.min_ack_pending > 0 && acks >= r.min_ack_pending)
                })
            }
            Some("prioritized") => self
                .waiting
                .iter()
                .enumerate()
                .min_by_key(|(i, r)| (r.priority, *i))
                .map(|(i, _)| i),
            _ => (!self.waiting.is_empty()).then_some(0),
        }
    }

    fn pinned_ttl(&self) -> i64 {
        if self.config.priority_timeout > 0 {
            self.config.priority_timeout
        } else {
            DEFAULT_PINNED_TTL
        }
    }

    /// Starts again from stream sequence `seq` (`$JS.API.CONSUMER.RESET`;
    /// 0 = just past the ack floor), forgetting what was pending. Not below
    /// where the deliver policy starts; returns the sequence.
    pub(crate) fn reset(&mut self, seq: u64, store: &dyn Store) -> Result<u64, String> {
        let seq = if seq == 0 {
            self.ack_floor.1 + 1
        } else {
            match self.config.deliver_policy.as_str() {
                "all" => seq,
                "by_start_sequence" if seq < self.config.opt_start_seq.unwrap_or(0) => {
                    return Err("below start seq".to_string())
                }
                "by_start_sequence" => seq,
                "by_start_time" => {
                    let start = self
                        .config
                        .opt_start_time
                        .as_deref()
                        .and_then(parse_rfc3339)
                        .map_or(0, |t| store.seq_for_time(t));
                    if seq < start {
                        return Err("below start time".to_string());
                    }
                    seq
                }
                _ => return Err("not allowed".to_string()),
            }
        }
        .max(1);
        self.pending.clear();
        self.deadlines.clear();
        self.redeliver.clear();
        self.deliveries.clear();
        self.last_per_subject.clear();
        self.npc.set(None);
        self.replay = None;
        self.fc_waiting = None;
        self.fc_bytes = 0;
        self.next_seq = seq;
        self.dseq = 0;
        self.last_sseq = seq - 1;
        self.ack_floor = (0, seq - 1);
        self.dirty = true;
        Ok(seq)
    }

    /// Releases the pinned client of the group (`$JS.API.CONSUMER.UNPIN`);
    /// the advisory goes out whether a client was pinned or not, as with
    /// nats-server.
    pub(crate) fn unpin(&mut self, group: &str) {
        self.pin = None;
        self.events.push(Event::Unpinned {
            group: group.to_string(),
            reason: "admin",
        });
        self.dirty = true;
    }

    /// The advisories this consumer has to send.
    pub(crate) fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Takes the next message to send: a redelivery first, then the stream.
    fn next_message(&mut self, store: &dyn Store) -> Option<(StoredMsg, Taken)> {
        while let Some(seq) = self.redeliver.pop_front() {
            if !self.pending.contains_key(&seq) {
                continue;
            }
            match store.get(seq) {
                Ok(Some(m)) => return Some((m, Taken::Redelivery)),
                _ => {
                    // Gone from the stream (limits, purge): nothing to redeliver.
                    self.pending.remove(&seq);
                    self.deliveries.remove(&seq);
                    self.dirty = true;
                }
            }
        }
        if self.pending.len() >= self.max_ack_pending() {
            return None;
        }
        while let Some(seq) = self.last_per_subject.pop_front() {
            if let Ok(Some(m)) = store.get(seq) {
                return Some((m, Taken::LastPerSubject));
            }
        }
        let msg = store.next_match(self.next_seq, &self.filter).ok()??;
        self.next_seq = msg.seq + 1;
        if let Some(n) = self.npc.get() {
            self.npc.set(Some(n.saturating_sub(1)));
        }
        Some((msg, Taken::Stream))
    }

    /// Gives back a message taken by [`Consumer::next_message`] and not sent.
    fn unsend(&mut self, seq: u64, from: Taken) {
        match from {
            Taken::Redelivery => self.redeliver.push_front(seq),
            Taken::LastPerSubject => self.last_per_subject.push_front(seq),
            Taken::Stream => {
                self.next_seq = self.next_seq.min(seq);
                self.npc.set(None);
            }
        }
    }

    fn send(&mut self, msg: StoredMsg, to: Bytes, now: i64, store: &dyn Store, out: &mut Vec<Out>) {
        let redelivery = self.pending.contains_key(&msg.seq);
        let count = {
            let n = self.deliveries.entry(msg.seq).or_insert(0);
            *n += 1;
            *n
        };
        // nats-server numbers every delivery, redeliveries included.
        self.dseq += 1;
        if !redelivery {
            self.last_sseq = msg.seq;
        }
        let dseq = self.dseq;
        self.last_active = now;
        let pending_after = self.num_pending(store);
        let ack = ack_subject(
            &self.stream,
            &self.name,
            [count, msg.seq, dseq],
            msg.ts,
            pending_after,
        );
        match self.ack {
            AckPolicy::None => {
                self.ack_floor = (dseq, msg.seq);
                self.deliveries.remove(&msg.seq);
            }
            AckPolicy::All | AckPolicy::Explicit => {
                let due = now + self.wait_after(count);
                self.pending.insert(msg.seq, Pending { dseq, ts: now, due });
                self.deadlines.push(std::cmp::Reverse((due, msg.seq)));
            }
        }
        self.dirty = true;
        out.push(Out::Msg {
            to,
            ack: Some(ack),
            msg,
            headers_only: self.config.headers_only,
            pin: self.pin.as_ref().map(|p| p.id.clone()),
        });
    }

    /// Ends the no-wait requests at the front that the stream cannot serve
    /// any more (nats-server's end-of-stream rule).
    fn end_no_wait(&mut self, store: &dyn Store, out: &mut Vec<Out>) {
        let available = self.num_pending(store) > 0 && self.pending.len() < self.max_ack_pending();
        if available || !self.redeliver.is_empty() {
            return;
        }
        let mut kept = VecDeque::new();
        while let Some(req) = self.waiting.pop_front() {
            if !req.no_wait {
                kept.push_back(req);
                continue;
            }
            if req.expires != 0 && req.delivered == 0 {
                kept.push_back(req);
                continue;
            }
            out.push(Out::Status {
                to: req.reply,
                headers: headers::status(404, "No Messages", &[]),
                reply: None,
            });
        }
        self.waiting = kept;
    }

    /// An acknowledgement on `$JS.ACK...`: `tokens` are the ack subject's
    /// numbers (delivered count, stream seq, consumer seq).
    pub(crate) fn on_ack(
        &mut self,
        sseq: u64,
        dseq: u64,
        payload: &[u8],
        reply: Option<Bytes>,
        out: &mut Vec<Out>,
    ) -> AckOutcome {
        let mut outcome = AckOutcome::default();
        let (kind, rest) = split_ack(payload);
        let now = now_nanos();
        self.last_interest = now;
        if matches!(kind, "+ACK" | "" | "+NXT" | "+TERM") {
            self.last_ack = now;
        }
        match kind {
            "+ACK" | "" | "+NXT" => self.ack_one(sseq, dseq, &mut outcome),
            "-NAK" if self.pending.contains_key(&sseq) => {
                let count = self.deliveries.get(&sseq).copied().unwrap_or(1);
                outcome.event = Some((
                    super::advisory::Delivery::Naked,
                    (sseq, dseq),
                    count,
                    String::new(),
                ));
                let delay = nak_delay(rest);
                if delay > 0 {
                    if let Some(p) = self.pending.get_mut(&sseq) {
                        p.due = now + delay;
                    }
                    self.deadlines.push(std::cmp::Reverse((now + delay, sseq)));
                } else if !self.redeliver.contains(&sseq) {
                    self.redeliver.push_back(sseq);
                }
            }
            "+WPI" => {
                let wait = self.ack_wait();
                if let Some(p) = self.pending.get_mut(&sseq) {
                    p.due = now + wait;
                    self.deadlines.push(std::cmp::Reverse((now + wait, sseq)));
                }
            }
            "+TERM" if self.pending.remove(&sseq).is_some() => {
                let count = self.deliveries.remove(&sseq).unwrap_or(1);
                outcome.event = Some((
                    super::advisory::Delivery::Terminated,
                    (sseq, dseq),
                    count,
                    rest.trim().to_string(),
                ));
                outcome.acked.push(sseq);
                self.advance_floor();
            }
            _ => {}
        }
        if kind == "+NXT" {
            if let Some(to) = reply.clone() {
                self.waiting.push_back(PullRequest {
                    reply: to,
                    batch: rest.trim().parse().unwrap_or(1).max(1),
                    max_bytes: 0,
                    expires: 0,
                    no_wait: false,
                    heartbeat: 0,
                    next_heartbeat: 0,
                    delivered: 0,
                    group: None,
                    pin_id: None,
                    min_pending: 0,
                    min_ack_pending: 0,
                    priority: 0,
                });
            }
        } else if let Some(to) = reply {
            out.push(Out::Reply { to });
        }
        self.dirty = true;
        outcome
    }

    fn ack_one(&mut self, sseq: u64, dseq: u64, outcome: &mut AckOutcome) {
        match self.ack {
            AckPolicy::None => {}
            AckPolicy::Explicit => {
                if self.pending.remove(&sseq).is_some() {
                    self.deliveries.remove(&sseq);
                    outcome.acked.push(sseq);
                }
            }
            AckPolicy::All => {
                let done: Vec<u64> = self.pending.range(..=sseq).map(|(s, _)| *s).collect();
                for s in done {
                    self.pending.remove(&s);
                    self.deliveries.remove(&s);
                    outcome.acked.push(s);
                }
                if dseq > self.ack_floor.0 {
                    self.ack_floor = (dseq, sseq);
                }
            }
        }
        self.advance_floor();
    }

    /// Moves the ack floor up to just below the oldest pending message.
    fn advance_floor(&mut self) {
        match self.pending.first_key_value() {
            Some((sseq, p)) => {
                let floor = (p.dseq.saturating_sub(1), sseq.saturating_sub(1));
                if floor.0 >= self.ack_floor.0 {
                    self.ack_floor = floor;
                }
            }
            None => self.ack_floor = (self.dseq, self.last_sseq),
        }
    }

    /// Timers: ack waits that ran out (messages to send again, or given up
    /// past `max_deliver`), pull requests that expired, heartbeats.
    /// Returns the (stream sequence, deliveries) of messages given up at
    /// `max_deliver`.
    pub(crate) fn tick(&mut self, now: i64, out: &mut Vec<Out>) -> Vec<(u64, u64)> {
        let mut dropped = Vec::new();
        while let Some(std::cmp::Reverse((deadline, sseq))) = self.deadlines.peek().copied() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            let Some(p) = self.pending.get(&sseq) else {
                continue;
            };
            // A stale deadline: the message was sent again or touched since.
            if p.due != deadline {
                continue;
            }
            let count = self.deliveries.get(&sseq).copied().unwrap_or(1);
            if self.config.max_deliver > 0 && count >= self.config.max_deliver as u64 {
                // Given up: nats-server drops it from pending and counts it
                // delivered.
                self.pending.remove(&sseq);
                self.deliveries.remove(&sseq);
                dropped.push((sseq, count));
                self.advance_floor();
                continue;
            }
            if !self.redeliver.contains(&sseq) {
                self.redeliver.push_back(sseq);
            }
        }
        if self.pin.as_ref().is_some_and(|p| now >= p.until) {
            if let Some(pin) = self.pin.take() {
                self.events.push(Event::Unpinned {
                    group: pin.group,
                    reason: "timeout",
                });
            }
        }
        if self.paused_until > 0 && now >= self.paused_until {
            self.events.push(Event::Paused {
                paused: false,
                until: self.paused_until,
            });
            self.paused_until = 0;
        }
        self.expire_requests(now, true, out);
        if !self.is_pull() && self.config.idle_heartbeat > 0 && !self.push_idle {
            if self.next_push_heartbeat == 0 {
                self.next_push_heartbeat = now + self.config.idle_heartbeat;
            } else if now >= self.next_push_heartbeat {
                if let Some(to) = &self.config.deliver_subject {
                    out.push(Out::Status {
                        to: Bytes::copy_from_slice(to.as_bytes()),
                        headers: headers::status(100, "Idle Heartbeat", &self.heartbeat_headers()),
                        reply: None,
                    });
                }
                self.next_push_heartbeat = now + self.config.idle_heartbeat;
            }
        }
        dropped
    }

    fn expire_requests(&mut self, now: i64, heartbeats: bool, out: &mut Vec<Out>) {
        let mut kept = VecDeque::with_capacity(self.waiting.len());
        while let Some(mut req) = self.waiting.pop_front() {
            if req.expires != 0 && now >= req.expires {
                out.push(Out::Status {
                    to: req.reply,
                    headers: headers::status(
                        408,
                        "Request Timeout",
                        &pending_headers(req.batch, req.max_bytes.max(0)),
                    ),
                    reply: None,
                });
                continue;
            }
            if heartbeats && req.heartbeat > 0 && now >= req.next_heartbeat {
                out.push(Out::Status {
                    to: req.reply.clone(),
                    headers: headers::status(100, "Idle Heartbeat", &[]),
                    reply: None,
                });
                req.next_heartbeat = now + req.heartbeat;
            }
            kept.push_back(req);
        }
        self.waiting = kept;
    }

    /// A push heartbeat's headers: where the consumer is, and the flow
    /// control request it waits on, if any, so a client that missed it can
    /// answer.
    fn heartbeat_headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("Nats-Last-Consumer", self.dseq.to_string()),
            ("Nats-Last-Stream", self.last_sseq.to_string()),
        ];
        if let Some(n) = self.fc_waiting {
            h.push(("Nats-Consumer-Stalled", self.fc_subject(n)));
        }
        h
    }

    /// When the consumer next needs a [`Consumer::tick`] (ns), if ever.
    pub(crate) fn next_deadline(&self) -> Option<i64> {
        let mut next = self.deadlines.peek().map(|r| r.0 .0);
        let mut take = |t: i64| {
            if t > 0 {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        for r in &self.waiting {
            take(r.expires);
            take(r.next_heartbeat);
        }
        if !self.is_pull() && self.config.idle_heartbeat > 0 {
            take(if self.next_push_heartbeat == 0 {
                now_nanos()
            } else {
                self.next_push_heartbeat
            });
        }
        if self.paused_until > 0 {
            take(self.paused_until);
        }
        if let Some(pin) = &self.pin {
            take(pin.until);
        }
        if self.replay_due > 0 {
            take(self.replay_due);
        }
        if let Some(t) = self.inactive_deadline() {
            take(t);
        }
        next
    }

    /// When this consumer is to be deleted for lack of interest, if it can be.
    fn inactive_deadline(&self) -> Option<i64> {
        let threshold = if self.config.inactive_threshold > 0 {
            self.config.inactive_threshold
        } else if !self.is_durable() {
            DEFAULT_INACTIVE_THRESHOLD
        } else {
            return None;
        };
        Some(self.last_interest + threshold)
    }

    /// Whether the consumer has been unwanted past its inactive threshold
    /// (`push_interest`: whether its deliver subject has listeners now).
    pub(crate) fn is_inactive(&mut self, now: i64, push_interest: bool) -> bool {
        if push_interest || !self.waiting.is_empty() {
            self.last_interest = now;
            return false;
        }
        self.inactive_deadline().is_some_and(|t| now >= t)
    }

    /// Status messages for the pull requests still waiting when the consumer
    /// goes away.
    pub(crate) fn farewell(&mut self, out: &mut Vec<Out>) {
        for req in self.waiting.drain(..) {
            out.push(Out::Status {
                to: req.reply,
                headers: headers::status(409, "Consumer Deleted", &[]),
                reply: None,
            });
        }
    }

    /// Pauses until `until` (ns; 0 resumes). A change of the pause time is
    /// announced.
    pub(crate) fn pause(&mut self, until: i64) {
        let old = self
            .config
            .pause_until
            .as_deref()
            .and_then(parse_rfc3339)
            .unwrap_or(0);
        let now = now_nanos();
        if old != until {
            self.events.push(Event::Paused {
                paused: until > now,
                until,
            });
        }
        self.paused_until = if until > now { until } else { 0 };
        self.config.pause_until = (until > 0).then(|| rfc3339(until));
        self.dirty = true;
    }

    /// Forgets pending messages the stream no longer holds.
    pub(crate) fn forget_below(&mut self, first_seq: u64) {
        let gone: Vec<u64> = self.pending.range(..first_seq).map(|(s, _)| *s).collect();
        for s in gone {
            self.pending.remove(&s);
            self.deliveries.remove(&s);
        }
        if self.next_seq < first_seq {
            self.next_seq = first_seq;
        }
        self.npc.set(None);
        self.advance_floor();
    }

    /// Whether every message up to `seq` is acknowledged here (interest
    /// retention: a message goes when all consumers that want it have it).
    pub(crate) fn has_acked(&self, seq: u64) -> bool {
        seq < self.next_seq && !self.pending.contains_key(&seq)
    }
}

/// `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>`,
/// the reply subject of every delivered message (built for each one).
fn ack_subject(stream: &str, consumer: &str, counts: [u64; 3], ts: i64, pending: u64) -> String {
    let mut ack = String::with_capacity(8 + stream.len() + consumer.len() + 64);
    ack.push_str("$JS.ACK.");
    ack.push_str(stream);
    ack.push('.');
    ack.push_str(consumer);
    let mut num = itoa::Buffer::new();
    for n in counts {
        ack.push('.');
        ack.push_str(num.format(n));
    }
    ack.push('.');
    ack.push_str(num.format(ts));
    ack.push('.');
    ack.push_str(num.format(pending));
    ack
}

fn pending_headers(msgs: i64, bytes: i64) -> Vec<(&'static str, String)> {
    vec![
        ("Nats-Pending-Messages", msgs.to_string()),
        ("Nats-Pending-Bytes", bytes.to_string()),
    ]
}

/// A pull request's body: JSON, a bare batch number, or empty (one message).
pub(crate) fn parse_next_request(payload: &[u8]) -> Result<NextRequest, String> {
    let text = std::str::from_utf8(payload).unwrap_or("").trim();
    if text.is_empty() {
        return Ok(NextRequest {
            batch: 1,
            ..NextRequest::default()
        });
    }
    if let Ok(n) = text.parse::<i64>() {
        return Ok(NextRequest {
            batch: n,
            ..NextRequest::default()
        });
    }
    let mut value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    super::types::drop_nulls(&mut value);
    let req: NextRequest = serde_json::from_value(value).map_err(|e| e.to_string())?;
    if req.expires < 0 {
        return Err("expires must be positive".to_string());
    }
    if req.idle_heartbeat > 0 {
        if req.expires == 0 {
            return Err("heartbeat requires request expiration".to_string());
        }
        if req.idle_heartbeat * 2 > req.expires {
            return Err("heartbeat value too large".to_string());
        }
    }
    Ok(req)
}

/// `-NAK {"delay": ns}` → the delay.
pub(crate) fn nak_delay(rest: &str) -> i64 {
    #[derive(Deserialize)]
    struct Delay {
        #[serde(default)]
        delay: i64,
    }
    serde_json::from_str::<Delay>(rest.trim())
        .map(|d| d.delay)
        .unwrap_or(0)
}

/// The ack kind and what follows it.
pub(crate) fn split_ack(payload: &[u8]) -> (&str, &str) {
    let text = std::str::from_utf8(payload).unwrap_or("").trim_start();
    match text.find([' ', '\n', '\t', '{']) {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, ""),
    }
}

fn ack_policy(text: &str) -> AckPolicy {
    match text {
        "all" => AckPolicy::All,
        "explicit" => AckPolicy::Explicit,
        _ => AckPolicy::None,
    }
}

fn filter_of(config: &ConsumerConfig) -> Filter {
    let mut subjects: Vec<Bytes> = config
        .filter_subjects
        .iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect();
    if !config.filter_subject.is_empty() {
        subjects.push(Bytes::copy_from_slice(config.filter_subject.as_bytes()));
    }
    Filter(subjects)
}

fn last_seq_for(store: &dyn Store, filter: &Filter) -> Option<u64> {
    if filter.0.is_empty() {
        return store.last_match(b">", None).ok().flatten().map(|m| m.seq);
    }
    filter
        .0
        .iter()
        .filter_map(|f| store.last_match(f, None).ok().flatten().map(|m| m.seq))
        .max()
}

/// `last_per_subject`: the last sequence of each subject matching
/// `filter`, in order.
fn last_per_subject(store: &dyn Store, filter: &Filter) -> VecDeque<u64> {
    let patterns: Vec<&[u8]> = if filter.0.is_empty() {
        vec![b">".as_slice()]
    } else {
        filter.0.iter().map(|b| b.as_ref()).collect()
    };
    let mut seqs: Vec<u64> = patterns
        .into_iter()
        .flat_map(|p| store.subjects(p))
        .filter_map(|(subject, _)| store.subject_state(&subject).map(|(_, _, last)| last))
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    seqs.into()
}

/// A duration as Go prints it (`5s`, `1m30s`, `500ms`).
fn go_duration(nanos: i64) -> String {
    if nanos % 1_000_000_000 == 0 {
        let s = nanos / 1_000_000_000;
        if s >= 60 {
            return format!("{}m{}s", s / 60, s % 60);
        }
        return format!("{s}s");
    }
    if nanos % 1_000_000 == 0 {
        return format!("{}ms", nanos / 1_000_000);
    }
    format!("{}µs", nanos / 1000)
}

/// Checks a consumer configuration against its stream and fills nats-server's
/// defaults.
/// What a consumer's defaults and caps come from besides its own config.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Caps {
    /// The stream's retention is `workqueue`.
    pub(crate) work_queue: bool,
    /// The stream's `consumer_limits.max_ack_pending`.
    pub(crate) stream_max_ack_pending: i64,
    /// The stream's `consumer_limits.inactive_threshold`.
    pub(crate) stream_inactive_threshold: i64,
    /// The server's `jetstream { limits { max_ack_pending, max_request_batch } }`
    /// (0 = none).
    pub(crate) server_max_ack_pending: i64,
    pub(crate) server_max_request_batch: i64,
    /// The account's `max_ack_pending` (-1 or 0 = none).
    pub(crate) account_max_ack_pending: i64,
}

pub(crate) fn check_config(config: &mut ConsumerConfig, caps: Caps) -> Result<(), ApiError> {
    let work_queue = caps.work_queue;
    let stream_max_ack_pending = caps.stream_max_ack_pending;
    if config.deliver_policy.is_empty() {
        config.deliver_policy = "all".to_string();
    }
    if !matches!(config.replay_policy.as_str(), "instant" | "original") {
        return Err(errors::CONSUMER_REPLAY_POLICY_INVALID.err());
    }
    if !matches!(config.ack_policy.as_str(), "none" | "all" | "explicit") {
        return Err(errors::CONSUMER_INVALID_POLICY.with(&[(
            "err",
            &format!("ack policy {:?} is not valid", config.ack_policy),
        )]));
    }
    if config.deliver_subject.is_some() {
        if config.max_waiting != 0 {
            return Err(errors::CONSUMER_PUSH_MAX_WAITING.err());
        }
        if !gannet_proto::subject::is_valid_publish_subject(
            config.deliver_subject.as_deref().unwrap_or("").as_bytes(),
        ) {
            return Err(errors::CONSUMER_DELIVER_TO_WILDCARDS.err());
        }
    } else {
        if config.flow_control {
            return Err(errors::CONSUMER_FC_REQUIRES_PUSH.err());
        }
        if config.idle_heartbeat != 0 {
            return Err(errors::CONSUMER_HB_REQUIRES_PUSH.err());
        }
        if config.max_waiting == 0 {
            config.max_waiting = DEFAULT_MAX_WAITING;
        }
    }
    match config.priority_policy.as_deref().unwrap_or("none") {
        "none" => {
            if !config.priority_groups.is_empty() {
                return Err(errors::CONSUMER_PRIORITY_GROUP_WITH_POLICY_NONE.err());
            }
            if config.priority_timeout > 0 {
                return Err(errors::CONSUMER_PINNED_TTL_WITHOUT_PRIORITY_POLICY_NONE.err());
            }
        }
        "overflow" | "pinned_client" | "prioritized" => {
            if config.deliver_subject.is_some() {
                return Err(errors::CONSUMER_PUSH_WITH_PRIORITY_GROUP.err());
            }
            if config.priority_groups.is_empty() {
                return Err(errors::CONSUMER_PRIORITY_POLICY_WITHOUT_GROUP.err());
            }
            for g in &config.priority_groups {
                if g.is_empty() {
                    return Err(errors::CONSUMER_EMPTY_GROUP_NAME.err());
                }
                if !is_valid_group_name(g) {
                    return Err(errors::CONSUMER_INVALID_GROUP_NAME.err());
                }
            }
            if config.priority_policy.as_deref() == Some("pinned_client")
                && config.priority_timeout == 0
            {
                config.priority_timeout = DEFAULT_PINNED_TTL;
            }
        }
        _ => {
            return Err(
                errors::CONSUMER_INVALID_POLICY.with(&[("err", &"priority policy is not valid")])
            )
        }
    }
    if config.flow_control && config.idle_heartbeat == 0 {
        return Err(errors::CONSUMER_WITH_FLOW_CONTROL_NEEDS_HEARTBEATS.err());
    }
    if config.max_batch < 0 {
        config.max_batch = 0;
    }
    if config.max_ack_pending < -1 {
        config.max_ack_pending = -1;
    }
    if config.ack_policy != "none" && config.ack_wait == 0 {
        config.ack_wait = DEFAULT_ACK_WAIT;
    }
    if config.max_ack_pending == 0 {
        config.max_ack_pending = stream_max_ack_pending.max(0);
    }
    if config.inactive_threshold == 0 {
        config.inactive_threshold = caps.stream_inactive_threshold.max(0);
    }
    if config.max_ack_pending == 0 && config.ack_policy != "none" {
        let mut pending = DEFAULT_MAX_ACK_PENDING;
        for cap in [caps.server_max_ack_pending, caps.account_max_ack_pending] {
            if cap > 0 && cap < pending {
                pending = cap;
            }
        }
        config.max_ack_pending = pending;
    }
    if config.deliver_subject.is_none()
        && config.max_batch == 0
        && caps.server_max_request_batch > 0
    {
        config.max_batch = caps.server_max_request_batch;
    }
    if caps.server_max_request_batch > 0 && config.max_batch > caps.server_max_request_batch {
        return Err(errors::CONSUMER_MAX_REQUEST_BATCH_EXCEEDED_F
            .with(&[("limit", &caps.server_max_request_batch)]));
    }
    if caps.server_max_ack_pending > 0 && config.max_ack_pending > caps.server_max_ack_pending {
        return Err(errors::CONSUMER_MAX_PENDING_ACK_EXCESS
            .with(&[("limit", &caps.server_max_ack_pending)]));
    }
    if config.max_deliver == 0 {
        config.max_deliver = -1;
    }
    if !config.backoff.is_empty() {
        if config.max_deliver != -1 && (config.backoff.len() as i64) > config.max_deliver {
            return Err(errors::CONSUMER_MAX_DELIVER_BACKOFF.err());
        }
        config.ack_wait = config.backoff[0];
    }
    if config.deliver_policy == "by_start_sequence" && config.opt_start_seq.is_none() {
        return Err(errors::CONSUMER_INVALID_POLICY.with(&[(
            "err",
            &"consumer delivery policy is deliver by start sequence, but optional start sequence is not set",
        )]));
    }
    if config.deliver_policy != "by_start_sequence" && config.opt_start_seq.is_some() {
        return Err(errors::CONSUMER_INVALID_POLICY.with(&[(
            "err",
            &format!(
                "consumer delivery policy is deliver {}, but optional start sequence is also set",
                config.deliver_policy.replace('_', " ")
            ),
        )]));
    }
    if config.deliver_policy == "by_start_time" && config.opt_start_time.is_none() {
        return Err(errors::CONSUMER_INVALID_POLICY.with(&[(
            "err",
            &"consumer delivery policy is deliver by start time, but optional start time is not set",
        )]));
    }
    if !config.filter_subject.is_empty() && !config.filter_subjects.is_empty() {
        return Err(errors::CONSUMER_DUPLICATE_FILTER_SUBJECTS.err());
    }
    if config.filter_subjects.iter().any(String::is_empty) {
        return Err(errors::CONSUMER_EMPTY_FILTER.err());
    }
    let filters: Vec<&String> = config
        .filter_subjects
        .iter()
        .chain(std::iter::once(&config.filter_subject).filter(|s| !s.is_empty()))
        .collect();
    for (i, f) in filters.iter().enumerate() {
        if !gannet_proto::subject::is_valid_subscribe_subject(f.as_bytes()) {
            return Err(errors::STREAM_INVALID_CONFIG_F.with(&[("err", &"invalid subject")]));
        }
        for (j, g) in filters.iter().enumerate() {
            if i != j && gannet_proto::subject::pattern_matches(g.as_bytes(), f.as_bytes()) {
                return Err(errors::CONSUMER_OVERLAPPING_SUBJECT_FILTERS.err());
            }
        }
    }
    if work_queue && config.ack_policy != "explicit" {
        return Err(errors::CONSUMER_WQ_REQUIRES_EXPLICIT_ACK.err());
    }
    if config.num_replicas < 0 {
        return Err(errors::REPLICAS_COUNT_CANNOT_BE_NEGATIVE.err());
    }
    if config.num_replicas > 1 {
        return Err(errors::STREAM_REPLICAS_NOT_SUPPORTED.err());
    }
    Ok(())
}

/// What an update of a consumer may not change (nats-server's
/// `checkNewConsumerConfig`).
pub(crate) fn check_update(old: &ConsumerConfig, new: &ConsumerConfig) -> Result<(), String> {
    let unchanged = [
        (
            old.deliver_policy != new.deliver_policy,
            "deliver policy can not be updated",
        ),
        (
            old.mem_storage != new.mem_storage,
            "storage type can not be updated",
        ),
        (
            old.opt_start_seq != new.opt_start_seq,
            "start sequence can not be updated",
        ),
        (
            old.opt_start_time != new.opt_start_time,
            "start time can not be updated",
        ),
        (
            old.ack_policy != new.ack_policy,
            "ack policy can not be updated",
        ),
        (
            old.replay_policy != new.replay_policy,
            "replay policy can not be updated",
        ),
        (
            old.idle_heartbeat != new.idle_heartbeat,
            "heart beats can not be updated",
        ),
        (
            old.flow_control != new.flow_control,
            "flow control can not be updated",
        ),
    ];
    if let Some((_, why)) = unchanged.iter().find(|(changed, _)| *changed) {
        return Err((*why).to_string());
    }
    match (&old.deliver_subject, &new.deliver_subject) {
        (None, Some(_)) => return Err("can not update pull consumer to push based".to_string()),
        (Some(_), None) => return Err("can not update push consumer to pull based".to_string()),
        _ => {}
    }
    if old.max_waiting != new.max_waiting {
        return Err("max waiting can not be updated".to_string());
    }
    Ok(())
}

/// A priority group name: 1 to 16 of A-Z, a-z, 0-9, `-_/=)+`.
fn is_valid_group_name(name: &str) -> bool {
    (1..=16).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_/=)+".contains(c))
}

/// Whether two subject patterns can match a common subject.
pub(crate) fn subjects_overlap(a: &str, b: &str) -> bool {
    let mut ta = a.split('.');
    let mut tb = b.split('.');
    loop {
        match (ta.next(), tb.next()) {
            (None, None) => return true,
            (Some(">"), _) | (_, Some(">")) => return true,
            (Some(x), Some(y)) => {
                if x != y && x != "*" && y != "*" {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_request_bodies() {
        assert_eq!(parse_next_request(b"").unwrap().batch, 1);
        assert_eq!(parse_next_request(b"5").unwrap().batch, 5);
        let r = parse_next_request(br#"{"batch":3,"expires":1000,"no_wait":true}"#).unwrap();
        assert_eq!((r.batch, r.expires, r.no_wait), (3, 1000, true));
        assert!(parse_next_request(b"{bad").is_err());
    }

    #[test]
    fn ack_subjects() {
        assert_eq!(
            ack_subject("S", "C", [1, 22, 333], -4, 0),
            "$JS.ACK.S.C.1.22.333.-4.0"
        );
        assert_eq!(
            ack_subject(
                "ORDERS",
                "d",
                [2, u64::MAX, 7],
                1_700_000_000_000_000_000,
                9
            ),
            format!("$JS.ACK.ORDERS.d.2.{}.7.1700000000000000000.9", u64::MAX)
        );
    }

    #[test]
    fn ack_kinds() {
        assert_eq!(split_ack(b"+ACK"), ("+ACK", ""));
        assert_eq!(split_ack(b"-NAK {\"delay\":5}").0, "-NAK");
        assert_eq!(nak_delay(split_ack(b"-NAK {\"delay\":5}").1), 5);
        assert_eq!(split_ack(b""), ("", ""));
    }

    #[test]
    fn overlap() {
        assert!(subjects_overlap("a.*", "a.b"));
        assert!(subjects_overlap("a.>", "a.b.c"));
        assert!(!subjects_overlap("a.b", "a.c"));
        assert!(!subjects_overlap("a.b", "a.b.c"));
        assert!(subjects_overlap("*.b", "a.*"));
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(5_000_000_000), "5s");
        assert_eq!(go_duration(90_000_000_000), "1m30s");
        assert_eq!(go_duration(500_000_000), "500ms");
    }
}
