//! Client connections (nats-server's `client.go`): what other tasks may see of a
//! client ([`ClientShared`]), why connections close ([`CloseReason`]), and the
//! connection task itself ([`serve`]), which reads and acts on the client's
//! operations while a second task writes its outbound queue.
mod auth;
pub mod cache;
pub mod connect;
mod connection;
mod idle;
pub mod outbound;
pub(crate) mod publish;
mod reader;
mod sids;
mod trace;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use gannet_auth::Permissions;

pub use connection::{serve, Setup};
pub(crate) use idle::IDLE_RELEASE;
use outbound::Outbound;
pub use reader::ClientReader;

use crate::subscription::Subscription;

/// Why a connection ended, named as the reference names it in monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    ClientClosed,
    ReadError,
    WriteError,
    SlowConsumerPendingBytes,
    SlowConsumerWriteDeadline,
    StaleConnection,
    ParseError,
    ProtocolViolation,
    MaxConnectionsExceeded,
    MaxPayloadExceeded,
    MaxControlLineExceeded,
    AuthenticationTimeout,
    AuthenticationViolation,
    ServerShutdown,
    /// A second route to a peer already routed to.
    DuplicateRoute,
    /// A configured route a reload removed.
    RouteRemoved,
    /// A route to a server of another cluster.
    ClusterNameConflict,
    /// Not a gateway on the gateway port, or not a gateway port.
    WrongPort,
    /// A gateway connection to or from the wrong gateway, or a second one.
    WrongGateway,
    /// The client's credentials (a user JWT) expired while it was connected.
    AuthenticationExpired,
    /// A JWT user allowed no subscription at all.
    MaxSubscriptionsExceeded,
    /// The account's JWT allows no more client (or leaf node) connections.
    MaxAccountConnectionsExceeded,
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CloseReason::ClientClosed => "Client Closed",
            CloseReason::ReadError => "Read Error",
            CloseReason::WriteError => "Write Error",
            CloseReason::SlowConsumerPendingBytes => "Slow Consumer (Pending Bytes)",
            CloseReason::SlowConsumerWriteDeadline => "Slow Consumer (Write Deadline)",
            CloseReason::StaleConnection => "Stale Connection",
            CloseReason::ParseError => "Parse Error",
            CloseReason::ProtocolViolation => "Protocol Violation",
            CloseReason::MaxConnectionsExceeded => "Maximum Connections Exceeded",
            CloseReason::MaxPayloadExceeded => "Maximum Message Payload Exceeded",
            CloseReason::MaxControlLineExceeded => "Maximum Control Line Exceeded",
            CloseReason::AuthenticationTimeout => "Authentication Timeout",
            CloseReason::AuthenticationViolation => "Authentication Failure",
            CloseReason::ServerShutdown => "Server Shutdown",
            CloseReason::DuplicateRoute => "Duplicate Route",
            CloseReason::RouteRemoved => "Route Removed",
            CloseReason::ClusterNameConflict => "Cluster Name Conflict",
            CloseReason::WrongPort => "Wrong Port",
            CloseReason::WrongGateway => "Wrong Gateway",
            CloseReason::AuthenticationExpired => "Authentication Expired",
            CloseReason::MaxSubscriptionsExceeded => "Maximum Subscriptions Exceeded",
            CloseReason::MaxAccountConnectionsExceeded => "Maximum Account Connections Exceeded",
        })
    }
}

impl CloseReason {
    /// Whether this reason counts as a slow consumer.
    pub fn is_slow_consumer(self) -> bool {
        matches!(
            self,
            CloseReason::SlowConsumerPendingBytes | CloseReason::SlowConsumerWriteDeadline
        )
    }
}

/// Permission to publish to one reply subject (`allow_responses`).
#[derive(Debug, Clone, Copy)]
struct ResponseGrant {
    left: usize,
    expires: Option<Instant>,
}

/// Descriptive facts of a client, for logs and monitoring.
#[derive(Debug, Clone)]
pub struct ClientMeta {
    pub addr: SocketAddr,
    /// The authorized user, once authenticated.
    pub user: Option<String>,
    /// The account the client joined (`$G` until it authenticates).
    pub account: String,
    pub start: SystemTime,
    pub name: String,
    pub lang: String,
    pub version: String,
    /// A JWT user (operator mode): its JWT and what events tell of it.
    pub jwt: Option<Arc<(String, gannet_auth::JwtUser)>>,
}

/// The part of a client that other tasks reach: its outbound queue, whether it
/// understands headers, and its subscriptions (which a publisher may end when an
/// auto-unsubscribe limit is reached).
#[derive(Debug)]
pub struct ClientShared {
    pub cid: u64,
    pub outbound: Outbound,
    headers: AtomicBool,
    /// Whether deliveries to this client need a permission step (a subscribe
    /// deny list, or `allow_responses`): one load on the hot path decides.
    delivery_checks: AtomicBool,
    /// The permissions deliveries are checked against, when `delivery_checks`.
    delivery_perms: std::sync::RwLock<Option<Arc<Permissions>>>,
    /// Reply subjects this client may publish to once (`allow_responses`).
    responses: Mutex<HashMap<Box<[u8]>, ResponseGrant>>,
    subs: Mutex<sids::SubsBySid>,
    meta: Mutex<ClientMeta>,
    /// Counters for `/connz`, added once per read batch by the client's own task
    /// (never per message), so they cost the hot path nothing measurable.
    pub(crate) activity: Activity,
}

/// A client's inbound counters and timings, as `/connz` reports them. Outbound
/// counters live in [`outbound::Pending`], under the lock deliveries take anyway.
#[derive(Debug, Default)]
pub struct Activity {
    /// Messages this client published.
    pub in_msgs: AtomicU64,
    /// Payload (and header) bytes this client published.
    pub in_bytes: AtomicU64,
    /// When the client last sent or was sent something, as nanoseconds since the
    /// Unix epoch (0 = never: `start` stands in).
    pub last_activity_ns: AtomicU64,
    /// Round trip of the first server PING, in nanoseconds (0 = not measured yet).
    pub rtt_ns: AtomicU64,
}

/// Nanoseconds since the Unix epoch (0 for clocks before it).
pub(crate) fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A client as `/connz` sees it at one moment.
#[derive(Debug, Clone)]
pub struct ClientSnapshot {
    pub cid: u64,
    pub meta: ClientMeta,
    pub last_activity: SystemTime,
    pub rtt_ns: u64,
    pub pending_bytes: usize,
    pub in_msgs: u64,
    pub in_bytes: u64,
    pub out_msgs: u64,
    pub out_bytes: u64,
    /// (subject, queue, sid, delivered, max) of each subscription, by sid.
    pub subs: Vec<SubSnapshot>,
    /// Set for closed connections.
    pub stop: Option<SystemTime>,
    pub reason: Option<CloseReason>,
}

/// One subscription of a [`ClientSnapshot`].
#[derive(Debug, Clone)]
pub struct SubSnapshot {
    pub subject: String,
    pub queue: Option<String>,
    pub sid: String,
    pub msgs: u64,
    pub max: u64,
}

impl ClientShared {
    pub fn new(cid: u64, addr: SocketAddr, max_pending: usize) -> ClientShared {
        ClientShared {
            cid,
            outbound: Outbound::new(max_pending),
            headers: AtomicBool::new(false),
            delivery_checks: AtomicBool::new(false),
            delivery_perms: std::sync::RwLock::new(None),
            responses: Mutex::new(HashMap::new()),
            subs: Mutex::new(sids::SubsBySid::default()),
            meta: Mutex::new(ClientMeta {
                addr,
                user: None,
                account: crate::accounts::GLOBAL_ACCOUNT.to_string(),
                start: SystemTime::now(),
                name: String::new(),
                lang: String::new(),
                version: String::new(),
                jwt: None,
            }),
            activity: Activity::default(),
        }
    }

    /// What `/connz` reports of this client now.
    pub fn snapshot(&self) -> ClientSnapshot {
        let meta = self.meta();
        let (pending_bytes, out_msgs, out_bytes) = {
            let p = self.outbound.lock();
            (p.bytes(), p.out_msgs, p.out_bytes)
        };
        let a = &self.activity;
        let last_ns = a.last_activity_ns.load(Ordering::Relaxed);
        let last_activity = if last_ns == 0 {
            meta.start
        } else {
            SystemTime::UNIX_EPOCH + std::time::Duration::from_nanos(last_ns)
        };
        let mut subs: Vec<SubSnapshot> = self
            .subs_lock()
            .values()
            .map(|s| SubSnapshot {
                subject: String::from_utf8_lossy(s.subject()).into_owned(),
                queue: s
                    .queue
                    .as_deref()
                    .map(|q| String::from_utf8_lossy(q).into_owned()),
                sid: String::from_utf8_lossy(s.sid()).into_owned(),
                msgs: s.delivered(),
                max: s.max(),
            })
            .collect();
        subs.sort_by(|a, b| (a.sid.len(), &a.sid).cmp(&(b.sid.len(), &b.sid)));
        ClientSnapshot {
            cid: self.cid,
            meta,
            last_activity,
            rtt_ns: a.rtt_ns.load(Ordering::Relaxed),
            pending_bytes,
            in_msgs: a.in_msgs.load(Ordering::Relaxed),
            in_bytes: a.in_bytes.load(Ordering::Relaxed),
            out_msgs,
            out_bytes,
            subs,
            stop: None,
            reason: None,
        }
    }

    /// Whether the client declared `headers: true` in CONNECT.
    #[inline]
    pub fn supports_headers(&self) -> bool {
        self.headers.load(Ordering::Relaxed)
    }

    pub fn meta(&self) -> ClientMeta {
        self.meta.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Installs the permissions deliveries to this client are checked against.
    pub(crate) fn set_delivery_perms(&self, perms: Option<Arc<Permissions>>) {
        let needed = perms
            .as_ref()
            .is_some_and(|p| p.has_subscribe_deny() || p.allow_responses().is_some());
        *self
            .delivery_perms
            .write()
            .unwrap_or_else(|e| e.into_inner()) = if needed { perms } else { None };
        self.delivery_checks.store(needed, Ordering::Release);
        if !needed {
            self.responses_lock().clear();
        }
    }

    /// Whether the client's subscribe permissions keep `subject` (in
    /// `queue`) from it, without anything else [`Self::admit_delivery`]
    /// does: what a message trace reports.
    pub(crate) fn denies_delivery(&self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        if !self.delivery_checks.load(Ordering::Acquire) {
            return false;
        }
        let perms = self
            .delivery_perms
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        perms.is_some_and(|p| p.has_subscribe_deny() && !p.can_receive_in_queue(subject, queue))
    }

    /// Whether a message on `subject` with `reply` may be delivered to this client;
    /// records the reply subject as one it may answer (`allow_responses`).
    #[inline]
    pub(crate) fn admit_delivery(
        &self,
        subject: &[u8],
        queue: Option<&[u8]>,
        reply: Option<&[u8]>,
    ) -> bool {
        if !self.delivery_checks.load(Ordering::Acquire) {
            return true;
        }
        let perms = self
            .delivery_perms
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(perms) = perms else {
            return true;
        };
        if perms.has_subscribe_deny() && !perms.can_receive_in_queue(subject, queue) {
            return false;
        }
        if let (Some(reply), Some(grant)) = (reply, perms.allow_responses()) {
            let expires = (!grant.expires.is_zero()).then(|| Instant::now() + grant.expires);
            self.responses_lock().insert(
                reply.into(),
                ResponseGrant {
                    left: grant.max.max(1),
                    expires,
                },
            );
        }
        true
    }

    /// Uses up one permission to publish to `subject` as a response, if there is one.
    pub(crate) fn take_response(&self, subject: &[u8]) -> bool {
        let mut responses = self.responses_lock();
        let Some(grant) = responses.get_mut(subject) else {
            return false;
        };
        if grant.expires.is_some_and(|e| Instant::now() > e) {
            responses.remove(subject);
            return false;
        }
        grant.left -= 1;
        if grant.left == 0 {
            responses.remove(subject);
        }
        true
    }

    fn responses_lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<[u8]>, ResponseGrant>> {
        self.responses.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What events say about this client, as a client of `account`.
    pub(crate) fn event_facts(&self, account: &str) -> crate::events::ClientFacts {
        use crate::events::DataStats;
        let (out_msgs, out_bytes) = {
            let p = self.outbound.lock();
            (p.out_msgs, p.out_bytes)
        };
        let a = &self.activity;
        crate::events::ClientFacts {
            cid: self.cid,
            meta: self.meta(),
            account: account.to_string(),
            rtt_ns: a.rtt_ns.load(Ordering::Relaxed),
            sent: DataStats {
                msgs: a.in_msgs.load(Ordering::Relaxed),
                bytes: a.in_bytes.load(Ordering::Relaxed),
            },
            received: DataStats {
                msgs: out_msgs,
                bytes: out_bytes,
            },
            leaf: false,
        }
    }

    /// Forgets the subscription `sid` (it is ending); `None` if it already had.
    pub(crate) fn forget_subscription(&self, sid: &[u8]) -> Option<Arc<Subscription>> {
        self.subs_lock().remove(sid)
    }

    /// How many subscriptions the client has.
    pub fn subscription_count(&self) -> usize {
        self.subs_lock().len()
    }

    fn subs_lock(&self) -> std::sync::MutexGuard<'_, sids::SubsBySid> {
        self.subs.lock().unwrap_or_else(|e| e.into_inner())
    }
}
