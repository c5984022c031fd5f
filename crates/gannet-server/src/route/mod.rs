//! Routes: the connections between the servers of one cluster (nats-server's
//! `route.go`), spoken in nats-server's own route protocol so that Gannet and
//! nats-server nodes form one full mesh.
//!
//! - `cluster`: the cluster a server belongs to: its name, its routes by
//!   peer, gossip of new peers, the client URLs of the whole cluster;
//! - `connection`: one route connection: the handshake, the peer's interest
//!   (`RS+`/`RS-`) and messages (`RMSG`/`HMSG`), keep-alive;
//! - `dial`: the route listener, and the dialing of configured routes
//!   (forever) and of routes learned from gossip;
//! - `info`: the INFO and CONNECT JSON of routes;
//! - `perms`: route permissions changed while the routes run, by a reload
//!   or by a peer's INFO.
//!
//! What a peer is interested in lives in each account's remote index
//! (`Account::remote`), as subscriptions whose subscriber is the [`Route`];
//! the fan-out (`crate::fanout`) sends a message once per route with the
//! queue groups that route is to serve, and never passes a message that came
//! from a route on to another route. Local interest goes out to every route
//! through the accounts' interest listeners ([`Cluster::interest_changed`]).
mod cluster;
mod connection;
mod dial;
pub mod info;
mod perms;
pub mod pool;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use bytes::BytesMut;

pub use cluster::{Cluster, RouteSnapshot};
pub(crate) use dial::{accept_loop, dial_added, is_configured, start_dialing};

use crate::client::outbound::Outbound;
use crate::client::CloseReason;
use crate::subscription::Subscription;

/// Pending bytes on a route from which publishers wait for it to drain (a
/// little at a time, as for clients): enough to keep the link busy, small
/// enough that a slow peer slows its publishers long before its queue bound.
const ROUTE_STALL_MARK: usize = 8 * 1024 * 1024;

/// The key of one interest of a peer: account, subject, queue group.
type InterestKey = (String, Box<[u8]>, Option<Box<[u8]>>);

/// What the peer told about itself in its INFO.
#[derive(Debug, Clone, Default)]
pub struct Peer {
    pub id: String,
    pub name: String,
    pub cluster: String,
    /// Where the peer accepts routes (`nats-route://host:port/`), for gossip.
    pub route_url: String,
    /// The peer's client URLs.
    pub connect_urls: Vec<String>,
    pub headers: bool,
    pub lame_duck: bool,
    /// The peer wants route credentials (gossip passes it on, so that others
    /// dial it with theirs).
    pub auth_required: bool,
    /// The peer's gateway URL (`host:port`), when it has gateways.
    pub gateway_url: String,
    /// The peer's server-to-server protocol version (its INFO's `proto`).
    pub proto: u32,
    /// What the peer sends us (`permissions { export }` of its INFO).
    pub export: Option<info::RoutePermission>,
}

/// One route connection, as other tasks reach it: its outbound queue, its
/// peer, and the peer's subscriptions in our accounts.
#[derive(Debug)]
pub struct Route {
    /// The connection id (from the same counter as clients', as the reference).
    pub rid: u64,
    pub outbound: Outbound,
    pub addr: SocketAddr,
    /// This server dialed the connection.
    pub did_solicit: bool,
    /// The dialed URL was configured (`routes`), not learned from gossip.
    pub configured: bool,
    pub start: SystemTime,
    /// Which connection to the peer this is, once known.
    slot: OnceLock<pool::Slot>,
    peer: Mutex<Peer>,
    /// `peer.headers`, readable without the lock.
    headers: std::sync::atomic::AtomicBool,
    /// The peer understands message traces (its INFO's `proto`).
    traces: std::sync::atomic::AtomicBool,
    /// The peer's interest, by account, subject and queue.
    subs: Mutex<HashMap<InterestKey, Arc<Subscription>>>,
    /// Messages and bytes received from the peer.
    pub in_msgs: AtomicU64,
    pub in_bytes: AtomicU64,
    /// Nanoseconds since the Unix epoch of the last traffic in.
    pub last_activity_ns: AtomicU64,
    /// Round trip of the latest answered PING, in nanoseconds.
    pub rtt_ns: AtomicU64,
}

impl Route {
    pub(crate) fn new(
        rid: u64,
        addr: SocketAddr,
        did_solicit: bool,
        configured: bool,
        max_pending: usize,
    ) -> Route {
        Route {
            rid,
            outbound: Outbound::with_stall_mark(max_pending, ROUTE_STALL_MARK),
            addr,
            did_solicit,
            configured,
            start: SystemTime::now(),
            slot: OnceLock::new(),
            peer: Mutex::new(Peer::default()),
            headers: std::sync::atomic::AtomicBool::new(false),
            traces: std::sync::atomic::AtomicBool::new(false),
            subs: Mutex::new(HashMap::new()),
            in_msgs: AtomicU64::new(0),
            in_bytes: AtomicU64::new(0),
            last_activity_ns: AtomicU64::new(0),
            rtt_ns: AtomicU64::new(0),
        }
    }

    /// Which connection to the peer this is (the first one until known).
    pub fn slot(&self) -> pool::Slot {
        self.slot.get().cloned().unwrap_or(pool::Slot::Pool(0))
    }

    pub(crate) fn set_slot(&self, slot: pool::Slot) {
        let _ = self.slot.set(slot);
    }

    /// The account this connection is dedicated to, if pinned.
    #[inline]
    pub fn pinned_account(&self) -> Option<&str> {
        match self.slot.get() {
            Some(pool::Slot::Pinned(account)) => Some(account),
            _ => None,
        }
    }

    /// The account name as lines on this connection carry it: none on a
    /// pinned connection.
    #[inline]
    pub(crate) fn line_account<'a>(&self, account: &'a str) -> Option<&'a str> {
        self.pinned_account().is_none().then_some(account)
    }

    /// What the peer said of itself (empty until its INFO came).
    pub fn peer(&self) -> Peer {
        self.peer.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn set_peer(&self, peer: Peer) {
        self.headers.store(peer.headers, Ordering::Relaxed);
        self.traces.store(
            peer.proto >= crate::msgtrace::TRACE_PROTO,
            Ordering::Relaxed,
        );
        *self.peer.lock().unwrap_or_else(|e| e.into_inner()) = peer;
    }

    pub(crate) fn update_peer(&self, change: impl FnOnce(&mut Peer)) {
        change(&mut self.peer.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Whether the peer understands message traces.
    pub(crate) fn supports_traces(&self) -> bool {
        self.traces.load(Ordering::Relaxed)
    }

    /// Whether the peer reads headers (`HMSG`): one load, read per message.
    #[inline]
    pub fn supports_headers(&self) -> bool {
        self.headers.load(Ordering::Relaxed)
    }

    pub(crate) fn subs_lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<InterestKey, Arc<Subscription>>> {
        self.subs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The peer's subscriptions, for monitoring: (account, subject, queue, weight).
    pub fn subscriptions(&self) -> Vec<(String, String, Option<String>, u32)> {
        let mut all: Vec<_> = self
            .subs_lock()
            .iter()
            .map(|((account, subject, queue), sub)| {
                (
                    account.clone(),
                    String::from_utf8_lossy(subject).into_owned(),
                    queue
                        .as_deref()
                        .map(|q| String::from_utf8_lossy(q).into_owned()),
                    sub.weight(),
                )
            })
            .collect();
        all.sort();
        all
    }

    pub fn subscription_count(&self) -> usize {
        self.subs_lock().len()
    }

    /// Queues one protocol line (interest, PING, INFO) and wakes the writer.
    pub(crate) fn send_line(&self, line: &[u8]) {
        self.outbound.send_now(line);
    }
}

/// Appends the `RS+`/`RS-` line for `count` local subscriptions on
/// (`subject`, `queue`) in `account` (`None` on a pinned connection).
pub(crate) fn write_interest(
    out: &mut BytesMut,
    account: Option<&str>,
    subject: &[u8],
    queue: Option<&[u8]>,
    count: usize,
) {
    use gannet_proto::route::{write_sub, write_unsub};
    let account = account.map(str::as_bytes);
    if count == 0 {
        write_unsub(out, account, subject, queue);
    } else {
        let weight = u32::try_from(count).unwrap_or(u32::MAX);
        write_sub(out, account, subject, queue.map(|q| (q, weight)));
    }
}

/// What a server-to-server link (route, gateway) answers a stream it cannot
/// parse: the `-ERR` text, and why it closes.
pub(crate) fn parse_error_reply(
    e: &gannet_proto::route::RouteParseError,
) -> (&'static str, CloseReason) {
    use gannet_proto::route::RouteParseError;
    match e {
        RouteParseError::MaxPayload => {
            ("Maximum Payload Violation", CloseReason::MaxPayloadExceeded)
        }
        RouteParseError::MaxControlLine => (
            "maximum control line exceeded",
            CloseReason::MaxControlLineExceeded,
        ),
        _ => ("Unknown Protocol Operation", CloseReason::ParseError),
    }
}

/// Nanoseconds since the Unix epoch, now.
pub(crate) fn now_nanos() -> u64 {
    crate::client::unix_nanos(SystemTime::now())
}

/// Counts one message received from a route.
pub(crate) fn count_in(route: &Route, bytes: usize) {
    route.in_msgs.fetch_add(1, Ordering::Relaxed);
    route.in_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
}

/// Tells every client the cluster's client URLs now (an async INFO with
/// `connect_urls`), unless the cluster is not advertised.
pub(crate) fn tell_clients(server: &crate::server::Server) {
    let Some(cluster) = server.cluster() else {
        return;
    };
    let urls = cluster.client_urls();
    if urls.is_empty() {
        return;
    }
    let mut info = server.info();
    info.connect_urls = urls;
    let mut line = BytesMut::new();
    gannet_proto::encode::write_info(&mut line, &info.to_json());
    for client in server.clients() {
        client.outbound.send_now(&line);
    }
}

/// The host part of a `host:port` address (IPv6 without brackets).
pub(crate) fn split_host(addr: &str) -> String {
    cluster::split_host_port(addr).map_or_else(|| addr.to_string(), |(host, _)| host)
}
