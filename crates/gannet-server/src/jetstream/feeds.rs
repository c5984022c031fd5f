//! A stream's mirror or sources: the streams it copies messages from.
//!
//! Each origin is read through a consumer made on it through the API, as
//! any client would (`$JS.API.CONSUMER.CREATE.<origin>`, or the `api` prefix
//! of an `external` origin): push, no acknowledgements, from the sequence
//! after the last one copied, with idle heartbeats. Its messages arrive on
//! an inbox of the stream's own, through an inline subscription, and the
//! stream's thread stores them: a mirror at the origin's own sequences, a
//! source at its next sequence with a `Nats-Stream-Source` header saying
//! where it came from (which is how a restart finds where to resume). An
//! origin that is missing, or that falls silent, is asked again every few
//! seconds.
use std::sync::{Arc, Weak};

use bytes::Bytes;
use gannet_proto::transform::SubjectTransform;
use serde_json::{json, Value};

use super::stream::{Cmd, StreamHandle};
use super::types::{now_nanos, StreamConfig};
use crate::internal::{self, Delivered, InlineHandler};
use crate::subscription::Subscription;

/// How often a feed without a working consumer asks again, and how long
/// without a message or heartbeat counts as silent (ns).
const RETRY: i64 = 2_000_000_000;
const SILENT: i64 = 5_000_000_000;
/// The heartbeat asked of the origin's consumer (ns).
const HEARTBEAT: i64 = 1_000_000_000;

/// One origin being copied.
pub(crate) struct Feed {
    pub(crate) mirror: bool,
    pub(crate) origin: String,
    api: String,
    filters: Vec<String>,
    transforms: Vec<SubjectTransform>,
    start_seq: Option<u64>,
    start_time: Option<String>,
    /// The next origin sequence wanted (0 = from where the config says).
    pub(crate) next: u64,
    inbox: String,
    /// When the consumer was last asked for, and when it was last heard.
    asked: i64,
    heard: i64,
    /// The origin's consumer, once made.
    consumer: Option<String>,
    subs: Vec<Arc<Subscription>>,
}

/// What a feed delivered, for the stream to store.
pub(crate) struct Copied {
    pub(crate) mirror: bool,
    pub(crate) origin: String,
    pub(crate) origin_seq: u64,
    pub(crate) subject: Vec<u8>,
    pub(crate) headers: Bytes,
    pub(crate) payload: Bytes,
}

/// The feeds a configuration asks for.
pub(crate) fn from_config(config: &StreamConfig) -> Vec<Feed> {
    let mut feeds = Vec::new();
    if let Some(m) = &config.mirror {
        feeds.extend(feed(m, true));
    }
    for s in config.sources.iter().flatten() {
        feeds.extend(feed(s, false));
    }
    feeds
}

fn feed(v: &Value, mirror: bool) -> Option<Feed> {
    let origin = v.get("name")?.as_str()?.to_string();
    let api = v
        .get("external")
        .and_then(|e| e.get("api"))
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .unwrap_or("$JS.API")
        .to_string();
    let mut filters = Vec::new();
    let mut transforms = Vec::new();
    if let Some(f) = v.get("filter_subject").and_then(Value::as_str) {
        if !f.is_empty() {
            filters.push(f.to_string());
        }
    }
    for t in v
        .get("subject_transforms")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let src = t.get("src").and_then(Value::as_str).unwrap_or(">");
        let dest = t.get("dest").and_then(Value::as_str).unwrap_or("");
        filters.push(src.to_string());
        if !dest.is_empty() {
            if let Ok(tr) = SubjectTransform::new(src, dest) {
                transforms.push(tr);
            }
        }
    }
    Some(Feed {
        mirror,
        origin,
        api,
        filters,
        transforms,
        start_seq: v.get("opt_start_seq").and_then(Value::as_u64),
        start_time: v
            .get("opt_start_time")
            .and_then(Value::as_str)
            .map(str::to_string),
        next: 0,
        inbox: format!("$JS.S.{}", super::api::random_name()),
        asked: 0,
        heard: 0,
        consumer: None,
        subs: Vec::new(),
    })
}

impl Feed {
    /// Subscribes the feed's inbox (messages and API answers), inline into
    /// the stream's queue as feed `index`.
    pub(crate) fn subscribe(&mut self, handle: &Arc<StreamHandle>, index: usize, cid: u64) {
        let weak = Arc::downgrade(handle);
        let subject = format!("{}.>", self.inbox);
        if let Some(sub) =
            internal::subscribe_inline(&handle.account, cid, &subject, None, 0, inbox(weak, index))
        {
            self.subs.push(sub);
        }
    }

    pub(crate) fn unsubscribe(&mut self) {
        for sub in self.subs.drain(..) {
            crate::subscription::end(&sub);
        }
    }

    /// The consumer create request to send now, if one is due: (subject,
    /// reply, body).
    pub(crate) fn due_request(&mut self, now: i64) -> Option<(String, String, Vec<u8>)> {
        let working = self.consumer.is_some() && now - self.heard < SILENT;
        if working || now - self.asked < RETRY {
            return None;
        }
        self.asked = now;
        self.consumer = None;
        let mut config = json!({
            "deliver_subject": format!("{}.m", self.inbox),
            "ack_policy": "none",
            "max_deliver": 1,
            "idle_heartbeat": HEARTBEAT,
            "inactive_threshold": SILENT,
            "num_replicas": 1,
            "mem_storage": true,
        });
        if self.next > 0 {
            config["deliver_policy"] = json!("by_start_sequence");
            config["opt_start_seq"] = json!(self.next);
        } else if let Some(seq) = self.start_seq.filter(|s| *s > 0) {
            config["deliver_policy"] = json!("by_start_sequence");
            config["opt_start_seq"] = json!(seq);
        } else if let Some(t) = &self.start_time {
            config["deliver_policy"] = json!("by_start_time");
            config["opt_start_time"] = json!(t);
        } else {
            config["deliver_policy"] = json!("all");
        }
        match self.filters.len() {
            0 => {}
            1 => config["filter_subject"] = json!(self.filters[0]),
            _ => config["filter_subjects"] = json!(self.filters),
        }
        let body = json!({"stream_name": self.origin, "config": config});
        Some((
            format!("{}.CONSUMER.CREATE.{}", self.api, self.origin),
            format!("{}.r.{}", self.inbox, now),
            serde_json::to_vec(&body).unwrap_or_default(),
        ))
    }

    /// The request deleting the origin's consumer, when there is one.
    pub(crate) fn farewell(&self) -> Option<String> {
        self.consumer
            .as_ref()
            .map(|c| format!("{}.CONSUMER.DELETE.{}.{c}", self.api, self.origin))
    }

    /// Takes what arrived on the inbox: an API answer, a heartbeat, or a
    /// message to store.
    pub(crate) fn receive(
        &mut self,
        subject: &[u8],
        shown: Option<&[u8]>,
        reply: Option<&[u8]>,
        headers: &Bytes,
        payload: &Bytes,
    ) -> Option<Copied> {
        let now = now_nanos();
        let inbox = self.inbox.as_bytes();
        let rest = subject.strip_prefix(inbox)?;
        if rest.starts_with(b".r.") {
            let answer: Value = serde_json::from_slice(payload).ok()?;
            if answer.get("error").is_none() {
                self.consumer = answer
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                self.heard = now;
            }
            return None;
        }
        self.heard = now;
        // Heartbeats and other status messages carry no reply.
        let ack = std::str::from_utf8(reply?).ok()?;
        let tokens: Vec<&str> = ack.split('.').collect();
        let origin_seq: u64 = tokens.get(5)?.parse().ok()?;
        if origin_seq < self.next {
            return None;
        }
        self.next = origin_seq + 1;
        // The origin's consumer shows each message under its own subject.
        let original = std::str::from_utf8(shown.unwrap_or(subject)).unwrap_or("");
        let subject = self
            .transforms
            .iter()
            .find_map(|t| t.apply(original))
            .unwrap_or_else(|| original.to_string());
        Some(Copied {
            mirror: self.mirror,
            origin: self.origin.clone(),
            origin_seq,
            subject: subject.into_bytes(),
            headers: headers.clone(),
            payload: payload.clone(),
        })
    }

    /// Mirror info / source info as stream info reports them.
    pub(crate) fn info(&self) -> Value {
        let now = now_nanos();
        json!({
            "name": self.origin,
            "lag": 0,
            "active": if self.heard == 0 { -1 } else { now - self.heard },
        })
    }
}

fn inbox(stream: Weak<StreamHandle>, index: usize) -> InlineHandler {
    Arc::new(move |m: &Delivered<'_>| {
        let Some(s) = stream.upgrade() else {
            return false;
        };
        s.send(Cmd::Feed {
            index,
            subject: Bytes::copy_from_slice(m.subject),
            shown: m.shown.map(Bytes::copy_from_slice),
            reply: m.reply.map(Bytes::copy_from_slice),
            headers: m.headers.map(Bytes::copy_from_slice).unwrap_or_default(),
            payload: Bytes::copy_from_slice(m.payload),
        })
    })
}
