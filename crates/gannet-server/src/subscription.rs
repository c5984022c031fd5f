//! A subscription: what a SUB created, shared between its client and the subject
//! index (nats-server's `subscription` in `client.go`).
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use gannet_proto::msg_line::LineStart;

use crate::client::ClientShared;

/// One SUB of one client.
#[derive(Debug)]
pub struct Subscription {
    pub client: Arc<ClientShared>,
    /// `HMSG <subject> <sid>`: holds the subject and the sid, and starts every
    /// message line of a literal subscription.
    line_start: LineStart,
    /// The subject has no wildcard token, so every message it gets is on the
    /// subject itself and [`Subscription::line_start`] applies.
    literal: bool,
    pub queue: Option<Box<[u8]>>,
    /// Messages after which the subscription ends (UNSUB with max); 0 = no limit.
    max: AtomicU64,
    /// Messages delivered so far.
    delivered: AtomicU64,
}

/// What a delivery attempt decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Deliver; the subscription goes on.
    Deliver,
    /// Deliver, and this was the last message: remove the subscription.
    DeliverLast,
    /// The subscription has already had its last message.
    Expired,
}

impl Subscription {
    pub fn new(
        client: Arc<ClientShared>,
        subject: &[u8],
        queue: Option<&[u8]>,
        sid: &[u8],
    ) -> Subscription {
        Subscription {
            client,
            line_start: LineStart::new(subject, sid),
            literal: gannet_proto::subject::is_literal(subject),
            queue: queue.map(Into::into),
            max: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
        }
    }

    pub fn subject(&self) -> &[u8] {
        self.line_start.subject()
    }

    pub fn sid(&self) -> &[u8] {
        self.line_start.sid()
    }

    /// The ready-made start of this subscription's message lines (`MSG <subject>
    /// <sid>` and its `HMSG` form), when its subject is literal.
    #[inline]
    pub fn line_start(&self) -> Option<&LineStart> {
        self.literal.then_some(&self.line_start)
    }

    /// Counts one delivery against the auto-unsubscribe limit.
    #[inline]
    pub fn admit(&self) -> Admit {
        let n = self.delivered.fetch_add(1, Ordering::Relaxed) + 1;
        let max = self.max.load(Ordering::Relaxed);
        if max == 0 || n < max {
            Admit::Deliver
        } else if n == max {
            Admit::DeliverLast
        } else {
            Admit::Expired
        }
    }

    /// Sets the auto-unsubscribe limit; returns true when it is already reached.
    pub fn set_max(&self, max: u64) -> bool {
        self.max.store(max, Ordering::Relaxed);
        max == 0 || self.delivered.load(Ordering::Relaxed) >= max
    }

    /// The auto-unsubscribe limit (0 = none).
    pub fn max(&self) -> u64 {
        self.max.load(Ordering::Relaxed)
    }

    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }
}

/// A subscription as the subject index holds it: equal only to itself.
#[derive(Debug, Clone)]
pub struct SubRef(pub Arc<Subscription>);

impl PartialEq for SubRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SubRef {}

impl Hash for SubRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.0) as usize).hash(state);
    }
}

impl std::ops::Deref for SubRef {
    type Target = Subscription;
    fn deref(&self) -> &Subscription {
        &self.0
    }
}
