//! A subscription: interest in a subject by one subscriber, held in its
//! account's subject index (nats-server's `subscription` in `client.go`). The
//! subscriber is a client connection, a handler inside the server, a route
//! (interest of a peer server, held in the account's remote index), or a leaf
//! node connection; gateways are the kind to come. Every kind is delivered to by
//! the same fan-out (`crate::fanout`).
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use gannet_proto::msg_line::LineStart;

use crate::accounts::Account;
use crate::client::ClientShared;
use crate::internal::InternalSubscriber;
use crate::leaf::Leaf;
use crate::route::Route;

/// Who receives what a subscription matches.
#[derive(Debug, Clone)]
pub enum Subscriber {
    /// A client connection: messages go into its outbound queue.
    Client(Arc<ClientShared>),
    /// A handler inside the server (`$SYS` services, event listeners): messages
    /// go to the internal loop, which runs it off the publisher's task.
    Internal(Arc<InternalSubscriber>),
    /// A peer server of the cluster: messages go out on its route, once per
    /// route whatever number of its subscriptions match.
    Route(Arc<Route>),
    /// The other side of a leaf node connection: messages go out on it,
    /// once per leaf whatever number of its subscriptions match.
    Leaf(Arc<Leaf>),
    /// A stand-in of an import in the exporting account (nats-server's
    /// shadow subscription): it makes the imported subjects (or the replies
    /// of the account's services to this server's requesters) the account's
    /// interest, so peer servers send them here, and it delivers what a peer
    /// sent where it belongs.
    Shadow(Arc<crate::imports::Shadow>),
}

impl Subscriber {
    /// The connection id: a client's, or the internal client's the handler
    /// belongs to (as the reference lists its internal subscriptions).
    #[inline]
    pub fn cid(&self) -> u64 {
        match self {
            Subscriber::Client(c) => c.cid,
            Subscriber::Internal(i) => i.cid(),
            Subscriber::Route(r) => r.rid,
            Subscriber::Leaf(l) => l.lid,
            Subscriber::Shadow(_) => 0,
        }
    }
}

/// One subscription: a client's SUB, or an internal one.
#[derive(Debug)]
pub struct Subscription {
    pub subscriber: Subscriber,
    /// The account whose subject index holds it: where it is removed from
    /// when it ends, whoever delivered its last message.
    account: Weak<Account>,
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
    /// How many members of its queue group this subscription stands for: 1,
    /// or a peer's member count for a route's queue subscription.
    weight: AtomicU32,
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
        subscriber: Subscriber,
        account: &Arc<Account>,
        subject: &[u8],
        queue: Option<&[u8]>,
        sid: &[u8],
    ) -> Subscription {
        Subscription {
            subscriber,
            account: Arc::downgrade(account),
            line_start: LineStart::new(subject, sid),
            literal: gannet_proto::subject::is_literal(subject),
            queue: queue.map(Into::into),
            max: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            weight: AtomicU32::new(1),
        }
    }

    /// The client this subscription delivers to, if a client's.
    #[inline]
    pub fn client(&self) -> Option<&Arc<ClientShared>> {
        match &self.subscriber {
            Subscriber::Client(c) => Some(c),
            Subscriber::Internal(_)
            | Subscriber::Route(_)
            | Subscriber::Leaf(_)
            | Subscriber::Shadow(_) => None,
        }
    }

    /// How many queue members this subscription stands for (at least 1).
    #[inline]
    pub fn weight(&self) -> u32 {
        self.weight.load(Ordering::Relaxed).max(1)
    }

    pub(crate) fn set_weight(&self, weight: u32) {
        self.weight.store(weight.max(1), Ordering::Relaxed);
    }

    /// The subscriber's connection id.
    #[inline]
    pub fn cid(&self) -> u64 {
        self.subscriber.cid()
    }

    /// The account whose index holds this subscription (`None` once the
    /// account is gone).
    pub fn account(&self) -> Option<Arc<Account>> {
        self.account.upgrade()
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
        self.admitted(n)
    }

    /// [`Subscription::admit`] for a client's subscription, called with its
    /// client's outbound queue locked: every delivery to the subscription
    /// takes that lock, so the count needs no locked instruction (the one
    /// that cost most per delivery in fan-out's profile).
    #[inline]
    pub(crate) fn admit_serialized(&self) -> Admit {
        let n = self.delivered.load(Ordering::Relaxed) + 1;
        self.delivered.store(n, Ordering::Relaxed);
        self.admitted(n)
    }

    /// What the `n`th delivery is against the auto-unsubscribe limit.
    #[inline]
    fn admitted(&self, n: u64) -> Admit {
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

/// Ends a subscription: its subscriber forgets it and its account's index
/// drops it. The one way out for UNSUB, an auto-unsubscribe limit reached
/// (wherever the last message came from), and permissions lost on reload.
pub(crate) fn end(sub: &Arc<Subscription>) {
    if let Some(client) = sub.client() {
        if client.forget_subscription(sub.sid()).is_none() {
            return;
        }
    }
    if let Some(account) = sub.account() {
        if matches!(sub.subscriber, Subscriber::Route(_)) {
            account.unsubscribe_remote(sub);
        } else {
            account.unsubscribe(sub);
        }
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
