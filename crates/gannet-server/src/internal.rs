//! Subscribers inside the server and the loop that serves them (nats-server's
//! internal clients, `sysSubscribe`, `internalReceiveLoop` and
//! `internalSendLoop`).
//!
//! An internal subscription sits in an account's subject index like a client's
//! and is found by the same fan-out. Delivering to it copies the message into
//! an [`InternalMsg`] and queues it; one thread of the blocking pool, the
//! internal loop, takes the queue in order and runs each handler. So a handler
//! that takes long (a CONNZ over many thousands of connections) never holds up
//! the publisher's task, nor the runtime worker other clients share with it.
//! The server's own messages (events, service replies) are queued the same way
//! ([`Internal::send`]) and published from the loop through the one fan-out.
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Weak};

use gannet_auth::Permissions;

use crate::accounts::Account;
use crate::client::ClientShared;
use crate::encoding::Encoding;
use crate::fanout::{Fanout, Message};
use crate::msgtrace::Trace;
use crate::server::Server;
use crate::subscription::{SubRef, Subscriber, Subscription};

/// Most messages waiting for the internal loop; past this, new ones are
/// dropped (and counted) rather than letting a flood of requests grow memory.
pub const QUEUE_MAX: usize = 65_536;

/// What an internal subscription runs for each message it gets.
pub type Handler = Arc<dyn Fn(&Server, &InternalMsg) + Send + Sync>;

/// What an inline internal subscription runs for each message, on the
/// publisher's own task: it must only hand the message on (JetStream's
/// streams take what they capture this way, into their own queue, with no
/// trip through the internal loop). Returns whether it took the message.
pub type InlineHandler = Arc<dyn Fn(&Delivered<'_>) -> bool + Send + Sync>;

/// A message as an inline handler sees it: borrowed from the publisher.
#[derive(Debug, Clone, Copy)]
pub struct Delivered<'a> {
    /// The subject the message was routed by.
    pub subject: &'a [u8],
    /// The subject it is shown under, when JetStream delivers a stored
    /// message to an inbox (see [`crate::fanout`]).
    pub shown: Option<&'a [u8]>,
    pub reply: Option<&'a [u8]>,
    pub headers: Option<&'a [u8]>,
    pub payload: &'a [u8],
    /// The message's trace, when it is traced.
    pub(crate) trace: Option<&'a Trace>,
}

/// How an internal subscription runs: on the internal loop, or inline.
enum HandlerKind {
    Queued(Handler),
    Inline(InlineHandler),
}

/// The subscriber of an internal subscription: the internal client it belongs
/// to (its connection id, as monitoring lists it) and its handler.
pub struct InternalSubscriber {
    cid: u64,
    handler: HandlerKind,
}

impl std::fmt::Debug for InternalSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InternalSubscriber")
            .field("cid", &self.cid)
            .finish_non_exhaustive()
    }
}

impl InternalSubscriber {
    pub fn new(cid: u64, handler: Handler) -> InternalSubscriber {
        InternalSubscriber {
            cid,
            handler: HandlerKind::Queued(handler),
        }
    }

    pub fn inline(cid: u64, handler: InlineHandler) -> InternalSubscriber {
        InternalSubscriber {
            cid,
            handler: HandlerKind::Inline(handler),
        }
    }

    pub fn cid(&self) -> u64 {
        self.cid
    }
}

/// Who published a message: what internal handlers answer for (the identity
/// of `$SYS.REQ.USER.INFO`) and what a service import tells the service.
#[derive(Debug, Clone)]
pub struct Origin {
    pub account: Arc<Account>,
    pub user: Option<String>,
    pub perms: Option<Arc<Permissions>>,
    /// The publishing client, when a client published.
    pub client: Option<Arc<ClientShared>>,
}

/// An [`Origin`] borrowed from the publisher for the time of one publish:
/// made owned only when the message reaches an internal handler.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OriginRef<'a> {
    pub(crate) account: &'a Arc<Account>,
    pub(crate) user: Option<&'a str>,
    pub(crate) perms: Option<&'a Arc<Permissions>>,
    pub(crate) client: Option<&'a Arc<ClientShared>>,
}

impl OriginRef<'_> {
    fn to_origin(self) -> Origin {
        Origin {
            account: self.account.clone(),
            user: self.user.map(str::to_string),
            perms: self.perms.cloned(),
            client: self.client.cloned(),
        }
    }
}

/// A message delivered to an internal subscription, owned by the loop.
#[derive(Debug)]
pub struct InternalMsg {
    /// The subscription that matched (its account is where it lives).
    pub sub: Arc<Subscription>,
    pub subject: Vec<u8>,
    pub reply: Option<Vec<u8>>,
    pub headers: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub origin: Option<Origin>,
}

impl InternalMsg {
    /// The subject as text (`$SYS` subjects are ASCII; anything else is not
    /// a subject a handler serves).
    pub fn subject_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.subject).ok()
    }

    pub fn reply_str(&self) -> Option<&str> {
        self.reply
            .as_deref()
            .and_then(|r| std::str::from_utf8(r).ok())
    }
}

/// A message the server publishes itself.
#[derive(Debug)]
struct Outgoing {
    account: Arc<Account>,
    subject: String,
    reply: Option<String>,
    headers: Option<Vec<u8>>,
    payload: Vec<u8>,
}

/// The internal loop's work, in order.
enum Work {
    Deliver(InternalMsg),
    Publish(Outgoing),
    /// Tells the sender that all work queued before it is done.
    Barrier(tokio::sync::oneshot::Sender<()>),
    Stop,
}

/// The server's side of the internal loop: the queue into it. The channel
/// allocates as it fills (a bounded one would reserve room for all of
/// [`QUEUE_MAX`] up front); `depth` keeps it bounded.
pub struct Internal {
    queue: Sender<Work>,
    /// Work queued and not yet taken by the loop.
    depth: Arc<AtomicUsize>,
    /// Messages dropped because the queue was full.
    dropped: AtomicU64,
}

impl std::fmt::Debug for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Internal").finish_non_exhaustive()
    }
}

/// The receiving end, handed to [`run`] once the server exists.
pub struct LoopInput {
    input: Receiver<Work>,
    depth: Arc<AtomicUsize>,
}

impl Internal {
    pub fn new() -> (Internal, LoopInput) {
        let (queue, input) = mpsc::channel();
        let depth = Arc::new(AtomicUsize::new(0));
        (
            Internal {
                queue,
                depth: depth.clone(),
                dropped: AtomicU64::new(0),
            },
            LoopInput { input, depth },
        )
    }

    fn enqueue(&self, work: Work) -> bool {
        if self.depth.fetch_add(1, Ordering::AcqRel) >= QUEUE_MAX {
            self.depth.fetch_sub(1, Ordering::AcqRel);
            if self
                .dropped
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(1000)
            {
                tracing::warn!("Internal message queue is full, dropping messages");
            }
            return false;
        }
        if self.queue.send(work).is_err() {
            self.depth.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Queues a copy of `msg` for the handler of `sub`. Returns whether it was
    /// queued (a delivery, for no-responders and queue groups).
    pub(crate) fn deliver(&self, sub: &SubRef, msg: &Message<'_>) -> bool {
        self.deliver_with(sub, msg, None)
    }

    /// [`Internal::deliver`] of a traced message: an inline handler (a
    /// stream's capture) sees the trace and may join it.
    pub(crate) fn deliver_traced(&self, sub: &SubRef, msg: &Message<'_>, trace: &Trace) -> bool {
        self.deliver_with(sub, msg, Some(trace))
    }

    fn deliver_with(&self, sub: &SubRef, msg: &Message<'_>, trace: Option<&Trace>) -> bool {
        // Counted like a client's deliveries (SUBSZ `msgs`); internal
        // subscriptions have no limit.
        let _ = sub.admit();
        if let Subscriber::Internal(internal) = &sub.subscriber {
            if let HandlerKind::Inline(handler) = &internal.handler {
                return handler(&Delivered {
                    subject: msg.subject,
                    shown: msg.shown(),
                    reply: msg.reply,
                    headers: msg.headers,
                    payload: msg.payload,
                    trace,
                });
            }
        }
        let copy = InternalMsg {
            sub: sub.0.clone(),
            subject: msg.subject.to_vec(),
            reply: msg.reply.map(<[u8]>::to_vec),
            headers: msg.headers.map(<[u8]>::to_vec),
            payload: msg.payload.to_vec(),
            origin: msg.origin.map(OriginRef::to_origin),
        };
        self.enqueue(Work::Deliver(copy))
    }

    /// Publishes `payload` on `subject` in `account` as the server, from the
    /// internal loop (events and service replies).
    pub fn send(&self, account: &Arc<Account>, subject: &str, payload: Vec<u8>) {
        self.enqueue(Work::Publish(Outgoing {
            account: account.clone(),
            subject: subject.to_string(),
            reply: None,
            headers: None,
            payload,
        }));
    }

    /// [`Internal::send`] with the body encoded as the receiver asked
    /// (`Accept-Encoding`), named by a `Content-Encoding` header.
    pub(crate) fn send_encoded(
        &self,
        account: &Arc<Account>,
        subject: &str,
        payload: Vec<u8>,
        encoding: Encoding,
    ) {
        let (headers, payload) = encoding.apply(payload);
        self.enqueue(Work::Publish(Outgoing {
            account: account.clone(),
            subject: subject.to_string(),
            reply: None,
            headers,
            payload,
        }));
    }

    /// Publishes a request of the server's: `payload` on `subject` with
    /// `reply`, in `account`.
    pub(crate) fn send_request(
        &self,
        account: &Arc<Account>,
        subject: &str,
        reply: &str,
        payload: Vec<u8>,
    ) {
        self.enqueue(Work::Publish(Outgoing {
            account: account.clone(),
            subject: subject.to_string(),
            reply: Some(reply.to_string()),
            headers: None,
            payload,
        }));
    }

    /// Waits (at most `limit`) until everything queued so far is done.
    pub async fn flush(&self, limit: std::time::Duration) {
        let (done, wait) = tokio::sync::oneshot::channel();
        if self.enqueue(Work::Barrier(done)) {
            let _ = tokio::time::timeout(limit, wait).await;
        }
    }

    /// Asks the loop to finish what is queued and stop.
    pub(crate) fn stop(&self) {
        // Past the bound: the stop must not be lost to a full queue.
        self.depth.fetch_add(1, Ordering::AcqRel);
        if self.queue.send(Work::Stop).is_err() {
            self.depth.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Subscribes `handler` to `subject` in `account`, as internal client `cid`.
pub fn subscribe(
    account: &Arc<Account>,
    cid: u64,
    subject: &str,
    sid: u64,
    handler: Handler,
) -> Option<Arc<Subscription>> {
    let subscriber = Subscriber::Internal(Arc::new(InternalSubscriber::new(cid, handler)));
    let sub = Arc::new(Subscription::new(
        subscriber,
        account,
        subject.as_bytes(),
        None,
        sid.to_string().as_bytes(),
    ));
    match account.subscribe(&sub) {
        Ok(()) => Some(sub),
        Err(e) => {
            tracing::error!("Internal subscription to {subject} failed: {e}");
            None
        }
    }
}

/// Subscribes the inline `handler` to `subject` (with `queue`, if any) in
/// `account`, as internal client `cid`.
pub fn subscribe_inline(
    account: &Arc<Account>,
    cid: u64,
    subject: &str,
    queue: Option<&str>,
    sid: u64,
    handler: InlineHandler,
) -> Option<Arc<Subscription>> {
    let subscriber = Subscriber::Internal(Arc::new(InternalSubscriber::inline(cid, handler)));
    let sub = Arc::new(Subscription::new(
        subscriber,
        account,
        subject.as_bytes(),
        queue.map(str::as_bytes),
        sid.to_string().as_bytes(),
    ));
    match account.subscribe(&sub) {
        Ok(()) => Some(sub),
        Err(e) => {
            tracing::error!("Internal subscription to {subject} failed: {e}");
            None
        }
    }
}

/// The internal loop: runs handlers and publishes the server's messages, in
/// the order they were queued, until stopped or the server is gone.
pub(crate) fn run(server: Weak<Server>, LoopInput { input, depth }: LoopInput) {
    let mut fanout = Fanout::new(0x5EED);
    while let Ok(work) = input.recv() {
        depth.fetch_sub(1, Ordering::AcqRel);
        let Some(server) = server.upgrade() else {
            break;
        };
        match work {
            Work::Stop => break,
            Work::Barrier(done) => {
                fanout.wake_all();
                let _ = done.send(());
            }
            Work::Deliver(msg) => {
                let Subscriber::Internal(subscriber) = &msg.sub.subscriber else {
                    continue;
                };
                let HandlerKind::Queued(handler) = &subscriber.handler else {
                    continue;
                };
                // A handler's bug must not end every other service.
                let run = AssertUnwindSafe(|| handler(&server, &msg));
                if std::panic::catch_unwind(run).is_err() {
                    tracing::error!(
                        "Internal handler for {} failed",
                        String::from_utf8_lossy(&msg.subject)
                    );
                }
            }
            Work::Publish(out) => {
                let mut msg = Message::new(
                    out.subject.as_bytes(),
                    out.reply.as_deref().map(str::as_bytes),
                    out.headers.as_deref(),
                    &out.payload,
                );
                fanout.publish(&server, &out.account, &mut msg);
                server.stats().add_out(fanout.out_msgs, fanout.out_bytes);
                server
                    .stats()
                    .add_routed(fanout.routed_msgs, fanout.routed_bytes);
                fanout.routed_msgs = 0;
                fanout.routed_bytes = 0;
                // The server's own messages never wait for slow receivers.
                fanout.take_stalled();
                fanout.take_stalled_links();
                fanout.out_msgs = 0;
                fanout.out_bytes = 0;
            }
        }
        fanout.wake_all();
    }
}

/// The headers of a request crossing a service import: the request's own,
/// plus `Nats-Request-Info` naming the requester's account and round trip,
/// as the reference adds them.
pub(crate) fn request_info_headers(
    requester: &Account,
    msg: &Message<'_>,
    headers: Option<&[u8]>,
) -> Vec<u8> {
    let rtt = msg
        .origin
        .and_then(|o| o.client)
        .map_or(0, |c| c.activity.rtt_ns.load(Ordering::Relaxed));
    let info = serde_json::json!({ "acc": requester.name, "rtt": rtt });
    let line = format!("Nats-Request-Info: {info}\r\n");
    const EMPTY: &[u8] = b"NATS/1.0\r\n\r\n";
    let base = headers.unwrap_or(EMPTY);
    // Headers end with an empty line: the new one goes before it.
    let body = base.strip_suffix(b"\r\n").unwrap_or(base);
    let mut out = Vec::with_capacity(base.len() + line.len());
    out.extend_from_slice(body);
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}
