//! Accounts: each has its own subject space (nats-server's `accounts.go`).
//! Clients land in the global account `$G` unless their user belongs to an
//! account of the `accounts { }` block; server events live in the system account.
//!
//! An account owns its interest: every subscription of every kind enters and
//! leaves its subject index through [`Account::subscribe`] and
//! [`Account::unsubscribe`], which tell the account's interest listeners
//! (the cluster's routes) when a subject gains its first or loses its last
//! subscriber, and when a queue group's weight changes. What peer servers are
//! interested in is kept apart, in the remote index ([`Account::remote`]), so
//! that it is never counted as local interest nor sent back out on a route.
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use gannet_proto::mapping::Mappings;
use gannet_sublist::{Sublist, SublistError};

use crate::events::DataStats;
use crate::imports::{AccountRoutes, ReplyMap};
use crate::subscription::{SubRef, Subscription};

/// A change of interest in one subject of an account: what a route turns into
/// `RS+`/`RS-` (nats-server's `updateRouteSubscriptionMap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterestChange<'a> {
    pub account: &'a str,
    pub subject: &'a [u8],
    pub queue: Option<&'a [u8]>,
    /// Subscriptions on exactly this subject (and queue) now: 1 after the
    /// first one came, 0 after the last one left; for a queue group, its weight.
    pub count: usize,
    /// A subscription came (else one left).
    pub added: bool,
    /// The connection id of the subscription's subscriber.
    pub subscriber: u64,
    /// A peer server's interest (the remote index) changed, not local
    /// interest: told only to listeners of every change (leafs), never to
    /// routes.
    pub remote: bool,
}

impl InterestChange<'_> {
    /// Whether a plain subject just gained its first or lost its last
    /// subscription, or a queue group's weight changed: what routes are told.
    pub fn is_first_or_last(&self) -> bool {
        self.queue.is_some()
            || if self.added {
                self.count == 1
            } else {
                self.count == 0
            }
    }
}

/// Told of interest changes, synchronously, by the task that made them.
pub type InterestListener = Arc<dyn Fn(&InterestChange<'_>) + Send + Sync>;

/// The name of the account clients land in when no account is configured.
pub const GLOBAL_ACCOUNT: &str = "$G";

/// The name of the system account when none is configured.
pub const DEFAULT_SYSTEM_ACCOUNT: &str = "$SYS";

/// An isolated subject space.
pub struct Account {
    pub name: String,
    pub sublist: Sublist<SubRef>,
    /// The interest of the cluster's other servers (route subscriptions).
    pub remote: Sublist<SubRef>,
    /// Connected clients.
    clients: AtomicUsize,
    /// Leaf node connections bound to this account.
    leafs: AtomicUsize,
    /// Client and leaf connections the cluster's other servers report for
    /// this account (their CONNS events), by server id.
    remote_conns: std::sync::Mutex<std::collections::HashMap<String, (usize, usize)>>,
    /// Messages and bytes its clients published (added per read batch).
    in_msgs: AtomicU64,
    in_bytes: AtomicU64,
    /// Messages and bytes delivered to its clients (added on close).
    out_msgs: AtomicU64,
    out_bytes: AtomicU64,
    slow_consumers: AtomicU64,
    /// Traffic to and from other accounts (exports and imports), replaced on
    /// reload; `has_routes` tells the publish path without a lock that there
    /// are none.
    routes: RwLock<Option<Arc<AccountRoutes>>>,
    has_routes: AtomicBool,
    /// Subject mappings (the config's or the account JWT's `mappings`),
    /// replaced on reload and claim updates; `has_mappings` tells the
    /// publish path without a lock that there are none.
    mappings: RwLock<Option<Arc<Mappings>>>,
    has_mappings: AtomicBool,
    /// Where the traces of messages carrying a sampled `traceparent` go
    /// (the config's `msg_trace`), replaced on reload; `has_trace_dest` tells
    /// the publish path without a lock that there is none.
    trace_dest: RwLock<Option<gannet_config::options::MsgTrace>>,
    has_trace_dest: AtomicBool,
    /// Where replies to requests this account's services got go back to.
    pub(crate) replies: ReplyMap,
    /// Who hears of first and last interest (`listening` = how many, so that
    /// subscribing costs no lock while nobody listens).
    listeners: RwLock<Vec<InterestListener>>,
    listening: AtomicUsize,
    /// Held, while anyone listens, across each change of the subject index
    /// and the telling of it, so that listeners hear changes in the order
    /// they happened (and a full listing is never overtaken by a change).
    interest_order: std::sync::Mutex<()>,
    /// A listener wants every change, not only first and last (leafs do:
    /// they must not hear of their own interest).
    every_change: AtomicBool,
}

impl Account {
    /// Installs this account's cross-account routes, replacing any before.
    pub(crate) fn set_routes(&self, routes: AccountRoutes) {
        let routes = (!routes.is_empty()).then(|| Arc::new(routes));
        let mut slot = self.routes.write().unwrap_or_else(|e| e.into_inner());
        self.has_routes.store(routes.is_some(), Ordering::Release);
        *slot = routes;
    }

    /// Installs this account's subject mappings, replacing any before.
    /// Puts the account's `msg_trace` in force.
    pub(crate) fn set_trace_dest(&self, dest: Option<gannet_config::options::MsgTrace>) {
        let mut slot = self.trace_dest.write().unwrap_or_else(|e| e.into_inner());
        self.has_trace_dest.store(dest.is_some(), Ordering::Release);
        *slot = dest;
    }

    /// Whether the account traces messages with a sampled `traceparent`:
    /// one load.
    #[inline]
    pub(crate) fn has_trace_dest(&self) -> bool {
        self.has_trace_dest.load(Ordering::Acquire)
    }

    /// The account's `msg_trace`: destination and sampling percentage.
    pub(crate) fn trace_dest(&self) -> Option<(String, u8)> {
        self.trace_dest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|t| (t.dest.clone(), t.sampling))
    }

    pub(crate) fn set_mappings(&self, mappings: Mappings) {
        let mappings = (!mappings.is_empty()).then(|| Arc::new(mappings));
        let mut slot = self.mappings.write().unwrap_or_else(|e| e.into_inner());
        self.has_mappings
            .store(mappings.is_some(), Ordering::Release);
        *slot = mappings;
    }

    /// The sources of the account's subject mappings: subjects whose
    /// messages this server wants from its leafs even with no subscriber
    /// on them (a mapping may send them where there is one).
    pub(crate) fn mapping_sources(&self) -> Vec<String> {
        self.mappings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|m| m.sources().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Whether one of the account's mappings has exactly `pattern` as its
    /// source.
    pub(crate) fn maps_source(&self, pattern: &[u8]) -> bool {
        self.has_mappings()
            && self
                .mappings
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .is_some_and(|m| m.sources().any(|s| s.as_bytes() == pattern))
    }

    /// Whether the account maps any subject.
    #[inline]
    pub(crate) fn has_mappings(&self) -> bool {
        self.has_mappings.load(Ordering::Acquire)
    }

    /// Where a message published to `subject` by a client (or arriving over
    /// a leaf link, or requested through a service import) goes under the
    /// account's mappings: the subject itself when none applies (one atomic
    /// load when the account has none), the mapped subject (a weighted
    /// destination drawn at random), or `None` when it falls in a share the
    /// mapping drops. `cluster` gives this server's cluster name, asked for
    /// cluster-scoped mappings only.
    #[inline]
    pub(crate) fn mapped_subject<'a>(
        &self,
        subject: &'a [u8],
        cluster: impl FnOnce() -> String,
    ) -> Option<Cow<'a, [u8]>> {
        if !self.has_mappings() {
            return Some(Cow::Borrowed(subject));
        }
        let Some(mappings) = self
            .mappings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        else {
            return Some(Cow::Borrowed(subject));
        };
        let Some(mapping) = mappings.find(subject) else {
            return Some(Cow::Borrowed(subject));
        };
        let cluster = if mapping.is_cluster_scoped() {
            cluster()
        } else {
            String::new()
        };
        let roll = rand::random_range(0..100u8);
        match mapping.map(subject, &cluster, roll)? {
            to if to == subject => Some(Cow::Borrowed(subject)),
            to => Some(Cow::Owned(to)),
        }
    }

    /// The cross-account routes, when there are any.
    #[inline]
    pub fn routes(&self) -> Option<Arc<AccountRoutes>> {
        if !self.has_routes.load(Ordering::Acquire) {
            return None;
        }
        self.routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A new account; `cache` turns the subject index's match cache on.
    pub fn new(name: &str, cache: bool) -> Account {
        Account {
            name: name.to_string(),
            sublist: Sublist::new(cache),
            remote: Sublist::new(cache),
            clients: AtomicUsize::new(0),
            leafs: AtomicUsize::new(0),
            remote_conns: std::sync::Mutex::new(std::collections::HashMap::new()),
            in_msgs: AtomicU64::new(0),
            in_bytes: AtomicU64::new(0),
            out_msgs: AtomicU64::new(0),
            out_bytes: AtomicU64::new(0),
            slow_consumers: AtomicU64::new(0),
            routes: RwLock::new(None),
            has_routes: AtomicBool::new(false),
            mappings: RwLock::new(None),
            has_mappings: AtomicBool::new(false),
            trace_dest: RwLock::new(None),
            has_trace_dest: AtomicBool::new(false),
            replies: ReplyMap::default(),
            listeners: RwLock::new(Vec::new()),
            listening: AtomicUsize::new(0),
            interest_order: std::sync::Mutex::new(()),
            every_change: AtomicBool::new(false),
        }
    }

    /// Adds `sub` to this account's subject index. Adding one that is already
    /// there changes nothing.
    pub fn subscribe(&self, sub: &Arc<Subscription>) -> Result<(), SublistError> {
        let _order = self.order_interest();
        let queue = sub.queue.as_deref();
        let count = self
            .sublist
            .insert_counted(sub.subject(), queue, SubRef(sub.clone()))?;
        if let Some(count) = count {
            self.interest_changed(sub, count, true, false);
        }
        Ok(())
    }

    /// Takes `sub` out of this account's subject index; false if it was not there.
    pub fn unsubscribe(&self, sub: &Arc<Subscription>) -> bool {
        let _order = self.order_interest();
        let queue = sub.queue.as_deref();
        match self
            .sublist
            .remove_counted(sub.subject(), queue, &SubRef(sub.clone()))
        {
            Ok(count) => {
                self.interest_changed(sub, count, false, false);
                true
            }
            Err(_) => false,
        }
    }

    /// Adds a peer server's subscription to the remote index (telling the
    /// listeners of every change: leafs relay the cluster's interest).
    pub fn subscribe_remote(&self, sub: &Arc<Subscription>) -> Result<(), SublistError> {
        let _order = self.order_interest();
        let count =
            self.remote
                .insert_counted(sub.subject(), sub.queue.as_deref(), SubRef(sub.clone()))?;
        if let Some(count) = count {
            self.interest_changed(sub, count, true, true);
        }
        Ok(())
    }

    /// Takes a peer server's subscription out of the remote index.
    pub fn unsubscribe_remote(&self, sub: &Arc<Subscription>) -> bool {
        let _order = self.order_interest();
        match self
            .remote
            .remove_counted(sub.subject(), sub.queue.as_deref(), &SubRef(sub.clone()))
        {
            Ok(count) => {
                self.interest_changed(sub, count, false, true);
                true
            }
            Err(_) => false,
        }
    }

    /// The peers interested in `subject`, when any peer is interested in
    /// anything in this account (one load while none is).
    #[inline]
    pub fn remote_matches(
        &self,
        subject: &[u8],
    ) -> Option<Arc<gannet_sublist::MatchResult<SubRef>>> {
        if self.remote.is_empty() {
            return None;
        }
        let result = self.remote.matches(subject);
        (!result.is_empty()).then_some(result)
    }

    /// The ordering lock, while anyone listens.
    fn order_interest(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        (self.listening.load(Ordering::Acquire) > 0).then(|| {
            self.interest_order
                .lock()
                .unwrap_or_else(|e| e.into_inner())
        })
    }

    /// Runs `f` on every local interest of the account while no change can come between the listing and what `f`
    /// does with it.
    pub(crate) fn with_interest<R>(&self, f: impl FnOnce(Vec<gannet_sublist::Interest>) -> R) -> R {
        let _order = self
            .interest_order
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        f(self.sublist.interest())
    }

    /// Registers a listener for every interest change from now on (not only
    /// a subject's first and last subscription).
    pub fn add_every_change_listener(&self, listener: InterestListener) {
        self.every_change.store(true, Ordering::Release);
        self.add_interest_listener(listener);
    }

    /// Registers a listener for interest changes from now on.
    pub fn add_interest_listener(&self, listener: InterestListener) {
        let mut listeners = self.listeners.write().unwrap_or_else(|e| e.into_inner());
        listeners.push(listener);
        self.listening.store(listeners.len(), Ordering::Release);
    }

    /// Tells the listeners of a change: a plain subject's first arrival or last
    /// departure, or any change of a queue group's weight.
    fn interest_changed(&self, sub: &Subscription, count: usize, added: bool, remote: bool) {
        if self.listening.load(Ordering::Acquire) == 0 {
            return;
        }
        let change = InterestChange {
            account: &self.name,
            subject: sub.subject(),
            queue: sub.queue.as_deref(),
            count,
            added,
            subscriber: sub.cid(),
            remote,
        };
        let every = self.every_change.load(Ordering::Acquire);
        if (remote || !change.is_first_or_last()) && !every {
            return;
        }
        let listeners = self.listeners.read().unwrap_or_else(|e| e.into_inner());
        for listener in listeners.iter() {
            listener(&change);
        }
    }

    /// Leaf node connections bound to this account.
    pub fn num_leafs(&self) -> usize {
        self.leafs.load(Ordering::Relaxed)
    }

    pub(crate) fn leaf_joined(&self) {
        self.leafs.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn leaf_left(&self) {
        let _ = self
            .leafs
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// Notes the client and leaf connections server `id` reports for this
    /// account.
    pub(crate) fn set_remote_conns(&self, id: &str, clients: usize, leafs: usize) {
        let mut remote = self.remote_conns.lock().unwrap_or_else(|e| e.into_inner());
        if clients == 0 && leafs == 0 {
            remote.remove(id);
        } else {
            remote.insert(id.to_string(), (clients, leafs));
        }
    }

    /// Forgets what server `id` reported (it shut down).
    pub(crate) fn forget_remote_server(&self, id: &str) {
        self.remote_conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// Client and leaf connections the other servers report, summed.
    pub(crate) fn remote_conns(&self) -> (usize, usize) {
        self.remote_conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .fold((0, 0), |(c, l), (rc, rl)| (c + rc, l + rl))
    }

    pub fn num_clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    pub(crate) fn client_joined(&self) {
        self.clients.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn client_left(&self, delivered: DataStats, slow_consumer: bool) {
        let _ = self
            .clients
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        self.out_msgs.fetch_add(delivered.msgs, Ordering::Relaxed);
        self.out_bytes.fetch_add(delivered.bytes, Ordering::Relaxed);
        if slow_consumer {
            self.slow_consumers.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts what a client of this account published in one read batch.
    pub(crate) fn add_received(&self, msgs: u64, bytes: u64) {
        if msgs > 0 {
            self.in_msgs.fetch_add(msgs, Ordering::Relaxed);
            self.in_bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// What the account's clients published.
    pub fn received(&self) -> DataStats {
        DataStats {
            msgs: self.in_msgs.load(Ordering::Relaxed),
            bytes: self.in_bytes.load(Ordering::Relaxed),
        }
    }

    /// What was delivered to the account's clients that have left.
    pub fn sent(&self) -> DataStats {
        DataStats {
            msgs: self.out_msgs.load(Ordering::Relaxed),
            bytes: self.out_bytes.load(Ordering::Relaxed),
        }
    }

    pub fn slow_consumers(&self) -> u64 {
        self.slow_consumers.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").field("name", &self.name).finish()
    }
}
