//! The internal subscriptions that feed a stream's thread: its subjects
//! (what it stores), `$JS.ACK.<stream>.>` (its consumers' acknowledgements),
//! `$JS.FC.<stream>.>` (answers to push consumers' flow control requests),
//! `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>` for each pull consumer
//! ([`subscribe_next`]) and, with `allow_direct`,
//! `$JS.API.DIRECT.GET.<stream>` and `...<stream>.>`. Each
//! is inline: the publisher's own task copies the message into the stream's
//! queue, with no stop on the internal loop.
use std::sync::{Arc, Weak};

use bytes::Bytes;

use super::stream::{Cmd, Inbound, StreamHandle};
use super::types::StreamConfig;
use crate::internal::{self, Delivered, InlineHandler};
use crate::msgtrace;
use crate::subscription;

/// The subjects a stream stores: its own, or its name when it lists none.
pub(crate) fn stored_subjects(config: &StreamConfig) -> Vec<String> {
    if config.subjects.is_empty() && config.mirror.is_none() && config.sources.is_none() {
        vec![config.name.clone()]
    } else {
        config.subjects.clone()
    }
}

/// Subscribes everything a stream listens on.
pub(crate) fn subscribe(handle: &Arc<StreamHandle>, config: &StreamConfig, cid: u64) {
    let weak = Arc::downgrade(handle);
    let name = &handle.name;
    let mut subs = Vec::new();
    let mut sid = 1u64;
    let mut add = |subject: &str, queue: Option<&str>, handler: InlineHandler| {
        if let Some(sub) =
            internal::subscribe_inline(&handle.account, cid, subject, queue, sid, handler)
        {
            subs.push(sub);
        }
        sid += 1;
    };
    for subject in stored_subjects(config) {
        add(&subject, None, capture(weak.clone()));
    }
    add(&format!("$JS.ACK.{name}.>"), None, acks(weak.clone()));
    add(
        &format!("$JS.FC.{name}.>"),
        None,
        flow_control(weak.clone()),
    );
    if config.allow_direct {
        add(
            &format!("$JS.API.DIRECT.GET.{name}"),
            Some("_sys_"),
            direct_gets(weak.clone()),
        );
        add(
            &format!("$JS.API.DIRECT.GET.{name}.>"),
            Some("_sys_"),
            direct_gets(weak),
        );
    }
    let mut held = handle
        .subs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    held.extend(subs);
}

/// Ends every subscription of the stream.
pub(crate) fn unsubscribe(handle: &StreamHandle) {
    let subs = std::mem::take(
        &mut *handle
            .subs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for sub in subs {
        subscription::end(&sub);
    }
}

/// Subscribes again after a configuration change (subjects, direct gets).
pub(crate) fn resubscribe(handle: &Arc<StreamHandle>, config: &StreamConfig) {
    let cid = handle
        .subs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .first()
        .map_or(0, |s| s.subscriber.cid());
    unsubscribe(handle);
    subscribe(handle, config, cid);
}

fn bytes(b: &[u8]) -> Bytes {
    Bytes::copy_from_slice(b)
}

fn capture(stream: Weak<StreamHandle>) -> InlineHandler {
    Arc::new(move |m: &Delivered<'_>| {
        let Some(s) = stream.upgrade() else {
            return false;
        };
        let trace = m.trace.map(|t| t.for_stream(&s.name));
        // A stored message is not traced again when a consumer delivers it.
        let headers = match (&trace, m.headers) {
            (Some(t), Some(h)) if !t.only() => Bytes::from(msgtrace::headers::disabled(Some(h))),
            _ => m.headers.map(bytes).unwrap_or_default(),
        };
        s.send(Cmd::Publish(Inbound {
            internal: false,
            subject: bytes(m.subject),
            reply: m.reply.map(bytes),
            headers,
            payload: bytes(m.payload),
            trace,
        }))
    })
}

fn flow_control(stream: Weak<StreamHandle>) -> InlineHandler {
    Arc::new(move |m: &Delivered<'_>| {
        let Some(s) = stream.upgrade() else {
            return false;
        };
        s.send(Cmd::FlowControl {
            subject: bytes(m.subject),
        })
    })
}

fn acks(stream: Weak<StreamHandle>) -> InlineHandler {
    Arc::new(move |m: &Delivered<'_>| {
        let Some(s) = stream.upgrade() else {
            return false;
        };
        s.send(Cmd::Ack {
            subject: bytes(m.subject),
            reply: m.reply.map(bytes),
            payload: bytes(m.payload),
        })
    })
}

/// Subscribes the pull requests of consumer `consumer`; the subscription
/// ends with the consumer.
pub(crate) fn subscribe_next(
    handle: &Arc<StreamHandle>,
    consumer: &str,
    cid: u64,
) -> Option<Arc<crate::subscription::Subscription>> {
    let subject = format!("$JS.API.CONSUMER.MSG.NEXT.{}.{consumer}", handle.name);
    internal::subscribe_inline(
        &handle.account,
        cid,
        &subject,
        None,
        0,
        next_requests(Arc::downgrade(handle)),
    )
}

fn next_requests(stream: Weak<StreamHandle>) -> InlineHandler {
    Arc::new(move |m: &Delivered<'_>| {
        let (Some(s), Some(reply)) = (stream.upgrade(), m.reply) else {
            return false;
        };
        let consumer = m
            .subject
            .rsplit(|b| *b == b'.')
            .next()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .unwrap_or_default();
        s.send(Cmd::Next {
            consumer,
            reply: bytes(reply),
            payload: bytes(m.payload),
        })
    })
}

fn direct_gets(stream: Weak<StreamHandle>) -> InlineHandler {
    Arc::new(move |m: &Delivered<'_>| {
        let (Some(s), Some(reply)) = (stream.upgrade(), m.reply) else {
            return false;
        };
        s.send(Cmd::DirectGet {
            subject: bytes(m.subject),
            reply: bytes(reply),
            payload: bytes(m.payload),
        })
    })
}
