//! Leaf node connections (nats-server's `leafnode.go`), in nats-server's
//! leaf protocol, so that Gannet works as a hub for nats-server leafs and as
//! a leaf of a nats-server hub.
//!
//! - `connection`: one leaf connection, whichever side dialed: the
//!   handshake (the hub's INFO, the leaf's CONNECT with its credentials, the
//!   hub's second INFO naming the account it bound), then the other side's
//!   interest (`LS+`/`LS-`) and messages (`LMSG`/`HMSG`), PINGs;
//! - `dial`: the leaf node listener (hub side) and the dialing of `remotes`
//!   (leaf side), again and again while the server runs.
//!
//! A leaf connection is bound to one account on each side. What the other
//! side is interested in enters that account's subject index as
//! subscriptions whose subscriber is the [`Leaf`], like a client's: local
//! publishers, routed messages and other leafs reach it through the one
//! fan-out (one `LMSG` per leaf, naming the queue groups it is to serve), and
//! the account's interest listeners tell the routes about it. The account's
//! local interest goes to the leaf as `LS+`/`LS-`. A message from the leaf is
//! never sent back to it.
mod connection;
mod dial;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use bytes::BytesMut;

pub(crate) use dial::{accept_loop, connect_added, is_configured, start_remotes};

use crate::accounts::{Account, InterestChange};
use crate::client::outbound::Outbound;
use crate::subscription::Subscription;

/// A leaf connection's queue bound: like a route's, well above a client's,
/// since a leaf carries a whole site's traffic.
const LEAF_MAX_PENDING: usize = 256 * 1024 * 1024;
/// Pending bytes on a leaf connection from which publishers wait for it.
const LEAF_STALL_MARK: usize = 8 * 1024 * 1024;

/// The key of one interest of the other side: subject and queue.
pub(crate) type InterestKey = (Box<[u8]>, Option<Box<[u8]>>);

/// What the other side said of itself.
#[derive(Debug, Clone, Default)]
pub struct LeafPeer {
    pub id: String,
    pub name: String,
    pub cluster: String,
    pub headers: bool,
    /// The other side's server-to-server protocol version (`proto` in its
    /// INFO, `protocol` in its CONNECT).
    pub proto: u32,
}

/// One leaf node connection, as other tasks reach it.
#[derive(Debug)]
pub struct Leaf {
    /// The connection id (from the clients' counter, as the reference).
    pub lid: u64,
    pub outbound: Outbound,
    pub addr: SocketAddr,
    /// This server is the leaf (spoke) of the link: it dialed it, unless its
    /// remote says `hub: true`, or the other side dialed and said `is_hub`.
    spoke: std::sync::atomic::AtomicBool,
    pub start: SystemTime,
    /// The local account the connection is bound to, once known.
    account: OnceLock<Arc<Account>>,
    peer: Mutex<LeafPeer>,
    /// `peer.headers`, readable without the lock.
    headers: std::sync::atomic::AtomicBool,
    /// The peer understands message traces (its INFO's `proto`).
    traces: std::sync::atomic::AtomicBool,
    subs: Mutex<HashMap<InterestKey, Arc<Subscription>>>,
    /// What this side told the other it is interested in, with the weight
    /// told (1 for a plain subject).
    announced: Mutex<HashMap<InterestKey, u32>>,
    /// What may cross the link, as permissions: subscribe rules for what
    /// comes in, publish rules for what goes out. On a leaf, its remote's
    /// `deny_imports` and `deny_exports`; on a hub, the leaf user's
    /// permissions, swapped (it may send what it may publish, and be sent
    /// what it may subscribe to).
    denies: OnceLock<gannet_auth::Permissions>,
    /// The other side's cluster (its server name when it has none), once known.
    cluster: OnceLock<String>,
    pub in_msgs: AtomicU64,
    pub in_bytes: AtomicU64,
    /// Round trip of the latest answered PING, in nanoseconds.
    pub rtt_ns: AtomicU64,
}

impl Leaf {
    pub(crate) fn new(lid: u64, addr: SocketAddr, spoke: bool, max_pending: usize) -> Leaf {
        Leaf {
            lid,
            outbound: Outbound::with_stall_mark(max_pending.max(LEAF_MAX_PENDING), LEAF_STALL_MARK),
            addr,
            spoke: std::sync::atomic::AtomicBool::new(spoke),
            start: SystemTime::now(),
            account: OnceLock::new(),
            peer: Mutex::new(LeafPeer::default()),
            headers: std::sync::atomic::AtomicBool::new(false),
            traces: std::sync::atomic::AtomicBool::new(false),
            subs: Mutex::new(HashMap::new()),
            announced: Mutex::new(HashMap::new()),
            denies: OnceLock::new(),
            cluster: OnceLock::new(),
            in_msgs: AtomicU64::new(0),
            in_bytes: AtomicU64::new(0),
            rtt_ns: AtomicU64::new(0),
        }
    }

    /// Whether this server is the leaf (spoke) of the link, not its hub.
    #[inline]
    pub fn is_spoke(&self) -> bool {
        self.spoke.load(Ordering::Relaxed)
    }

    /// The other side dialed and declared itself the hub (`is_hub`).
    pub(crate) fn become_spoke(&self) {
        self.spoke.store(true, Ordering::Relaxed);
    }

    /// The bound local account, once the handshake named it.
    pub fn account(&self) -> Option<&Arc<Account>> {
        self.account.get()
    }

    pub fn peer(&self) -> LeafPeer {
        self.peer.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether the other side reads headers: one load, read per message.
    #[inline]
    pub fn supports_headers(&self) -> bool {
        self.headers.load(Ordering::Relaxed)
    }

    pub(crate) fn set_peer(&self, peer: LeafPeer) {
        self.headers.store(peer.headers, Ordering::Relaxed);
        self.traces.store(
            peer.proto >= crate::msgtrace::TRACE_PROTO,
            Ordering::Relaxed,
        );
        *self.peer.lock().unwrap_or_else(|e| e.into_inner()) = peer;
    }

    /// Whether the other side understands message traces.
    pub(crate) fn supports_traces(&self) -> bool {
        self.traces.load(Ordering::Relaxed)
    }

    fn subs_lock(&self) -> std::sync::MutexGuard<'_, HashMap<InterestKey, Arc<Subscription>>> {
        self.subs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn subscription_count(&self) -> usize {
        self.subs_lock().len()
    }

    /// The other side's subscriptions, for monitoring: (subject, queue).
    pub fn subscriptions(&self) -> Vec<(String, Option<String>)> {
        let mut all: Vec<_> = self
            .subs_lock()
            .keys()
            .map(|(subject, queue)| {
                (
                    String::from_utf8_lossy(subject).into_owned(),
                    queue
                        .as_deref()
                        .map(|q| String::from_utf8_lossy(q).into_owned()),
                )
            })
            .collect();
        all.sort();
        all
    }

    pub(crate) fn send_line(&self, line: &[u8]) {
        self.outbound.send_now(line);
    }

    /// What events say about this connection (on the hub, as a
    /// `Leafnode` client of its account).
    pub(crate) fn event_facts(&self, user: Option<String>) -> crate::events::ClientFacts {
        use crate::events::DataStats;
        let (out_msgs, out_bytes) = {
            let p = self.outbound.lock();
            (p.out_msgs, p.out_bytes)
        };
        let peer = self.peer();
        crate::events::ClientFacts {
            cid: self.lid,
            meta: crate::client::ClientMeta {
                addr: self.addr,
                user,
                account: self.account().map_or_else(String::new, |a| a.name.clone()),
                start: self.start,
                name: peer.name,
                lang: String::new(),
                version: String::new(),
                jwt: None,
            },
            account: self.account().map_or_else(String::new, |a| a.name.clone()),
            rtt_ns: self.rtt_ns.load(Ordering::Relaxed),
            sent: DataStats {
                msgs: self.in_msgs.load(Ordering::Relaxed),
                bytes: self.in_bytes.load(Ordering::Relaxed),
            },
            received: DataStats {
                msgs: out_msgs,
                bytes: out_bytes,
            },
            leaf: true,
        }
    }

    pub(crate) fn count_in(&self, bytes: usize) {
        self.in_msgs.fetch_add(1, Ordering::Relaxed);
        self.in_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// The leaf connections of a server, by connection id.
#[derive(Debug, Default)]
pub struct Leafs {
    leafs: Mutex<HashMap<u64, Arc<Leaf>>>,
    /// TLS of the leaf node listener (`leafnodes { tls }`); a reload may
    /// replace it, or turn it on or off.
    tls_server: std::sync::RwLock<Option<Arc<rustls::ServerConfig>>>,
    /// This server's loop detection subject, `$LDS.<random>`: announced to
    /// its hubs; coming back on any leaf connection means the leafs form a loop.
    lds: OnceLock<String>,
    /// Leaf subscriptions by the leaf's cluster: (cluster, account, subject,
    /// queue) → how many, so that a cluster is not told its own interest.
    by_cluster: Mutex<HashMap<(String, String, InterestKey), usize>>,
}

impl Leafs {
    pub(crate) fn set_tls_server(&self, tls: Option<Arc<rustls::ServerConfig>>) {
        *self.tls_server.write().unwrap_or_else(|e| e.into_inner()) = tls;
    }

    pub(crate) fn tls_server(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.tls_server
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Leaf subscriptions of leafs of `cluster` on (`subject`, `queue`) in `account`.
    fn cluster_count(
        &self,
        cluster: &str,
        account: &str,
        subject: &[u8],
        queue: Option<&[u8]>,
    ) -> usize {
        let key = (
            cluster.to_string(),
            account.to_string(),
            (Box::<[u8]>::from(subject), queue.map(Box::<[u8]>::from)),
        );
        self.by_cluster
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .copied()
            .unwrap_or(0)
    }

    /// Counts one more (`delta` 1) or one less (-1) leaf subscription of
    /// `cluster` on `key` in `account`.
    pub(crate) fn count_cluster_sub(
        &self,
        cluster: &str,
        account: &str,
        key: &InterestKey,
        delta: isize,
    ) {
        let mut counts = self.by_cluster.lock().unwrap_or_else(|e| e.into_inner());
        let entry = (cluster.to_string(), account.to_string(), key.clone());
        let n = counts.get(&entry).copied().unwrap_or(0);
        let n = n.saturating_add_signed(delta);
        if n == 0 {
            counts.remove(&entry);
        } else {
            counts.insert(entry, n);
        }
    }

    /// This server's loop detection subject.
    pub fn loop_subject(&self) -> &str {
        self.lds
            .get_or_init(|| format!("$LDS.{}", crate::server::new_cluster_name()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Leaf>>> {
        self.leafs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn add(&self, leaf: &Arc<Leaf>) {
        self.lock().insert(leaf.lid, leaf.clone());
    }

    pub(crate) fn remove(&self, leaf: &Leaf) {
        self.lock().remove(&leaf.lid);
    }

    /// Every leaf connection that finished its handshake.
    pub fn all(&self) -> Vec<Arc<Leaf>> {
        let mut all: Vec<_> = self.lock().values().cloned().collect();
        all.sort_by_key(|l| l.lid);
        all
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tells every leaf bound to `account` what it must now know of
    /// `subjects` (after the account's mappings changed: their sources
    /// count as interest).
    pub(crate) fn tell_subjects(&self, account: &str, subjects: &[String]) {
        let leafs: Vec<Arc<Leaf>> = self
            .lock()
            .values()
            .filter(|l| l.account().is_some_and(|a| a.name == account))
            .cloned()
            .collect();
        for leaf in leafs {
            for subject in subjects {
                leaf.tell_interest(self, subject.as_bytes(), None);
            }
        }
    }

    /// Tells every leaf bound to the changed account what it must now know
    /// of the subject: the interest of this server and of its cluster's
    /// other servers, without the leaf's own.
    pub(crate) fn interest_changed(&self, change: &InterestChange<'_>) {
        let leafs: Vec<Arc<Leaf>> = self
            .lock()
            .values()
            .filter(|l| l.account().is_some_and(|a| a.name == change.account))
            .cloned()
            .collect();
        for leaf in leafs {
            leaf.tell_interest(self, change.subject, change.queue);
        }
    }
}

impl Leaf {
    /// How much interest, other than its own, the other side must know of on
    /// (`subject`, `queue`): local subscriptions plus the cluster peers'.
    ///
    /// The interest of every leaf of the same cluster as this one (itself
    /// included) is left out: that cluster hears of it by its own routes.
    /// On a spoke (this server dialed the hub), only this server's own
    /// interest is told, not its cluster peers': the peers that want the
    /// hub's messages have links of their own, and messages from the hub are
    /// never passed on to routes here.
    fn others_interest(&self, leafs: &Leafs, subject: &[u8], queue: Option<&[u8]>) -> u32 {
        let Some(account) = self.account() else {
            return 0;
        };
        // Loop detection subjects must travel on, back to where they came
        // from if that is a loop: only the leaf's own is left out.
        let same_cluster = if subject.starts_with(b"$LDS.") {
            let key = (Box::<[u8]>::from(subject), queue.map(Box::<[u8]>::from));
            usize::from(self.subs_lock().contains_key(&key))
        } else {
            self.cluster()
                .map_or(0, |c| leafs.cluster_count(c, &account.name, subject, queue))
        };
        let local = account.sublist.count_exact(subject, queue);
        let remote = if self.is_spoke() {
            0
        } else {
            account.remote.count_exact(subject, queue)
        };
        // A mapping's source counts as interest: what is published to it
        // may be mapped to a subject someone here wants (as nats-server
        // tells its leafs).
        let mapped = usize::from(queue.is_none() && account.maps_source(subject));
        let others = local.saturating_sub(same_cluster) + remote + mapped;
        u32::try_from(others).unwrap_or(u32::MAX)
    }

    /// The other side's cluster, once its CONNECT or INFO named it.
    pub fn cluster(&self) -> Option<&str> {
        self.cluster.get().map(String::as_str)
    }

    pub(crate) fn set_cluster(&self, cluster: &str) {
        let _ = self.cluster.set(cluster.to_string());
    }

    /// Installs a remote's `deny_imports` and `deny_exports`.
    pub(crate) fn set_denies(&self, imports: &[String], exports: &[String]) -> Result<(), String> {
        if imports.is_empty() && exports.is_empty() {
            return Ok(());
        }
        let deny = |list: &[String]| {
            Some(gannet_config::options::SubjectPermission {
                allow: None,
                deny: Some(list.to_vec()),
            })
        };
        let config = gannet_config::options::Permissions {
            publish: deny(exports),
            subscribe: deny(imports),
            allow_responses: None,
        };
        let _ = self
            .denies
            .set(gannet_auth::Permissions::compile(&config, None, false)?);
        Ok(())
    }

    /// Installs the rules of the link as compiled permissions: subscribe
    /// rules say what may come in, publish rules what may go out.
    pub(crate) fn set_rules(&self, rules: gannet_auth::Permissions) {
        let _ = self.denies.set(rules);
    }

    /// Whether messages on `subject` may come in from the other side.
    pub(crate) fn may_import(&self, subject: &[u8]) -> bool {
        self.denies
            .get()
            .is_none_or(|d| d.can_subscribe(subject, None))
    }

    /// Whether messages on `subject` may go out to the other side.
    pub(crate) fn may_export(&self, subject: &[u8]) -> bool {
        self.denies.get().is_none_or(|d| d.can_publish(subject))
    }

    /// Sends `LS+`/`LS-` for (`subject`, `queue`) if what the other side
    /// was told no longer holds.
    pub(crate) fn tell_interest(&self, leafs: &Leafs, subject: &[u8], queue: Option<&[u8]>) {
        if !self.may_import(subject) {
            return;
        }
        let others = self.others_interest(leafs, subject, queue);
        let want = if queue.is_some() {
            others
        } else {
            others.min(1)
        };
        let key = (Box::<[u8]>::from(subject), queue.map(Box::<[u8]>::from));
        let mut announced = self.announced.lock().unwrap_or_else(|e| e.into_inner());
        let told = announced.get(&key).copied().unwrap_or(0);
        if told == want {
            return;
        }
        if want == 0 {
            announced.remove(&key);
        } else {
            announced.insert(key, want);
        }
        let mut line = BytesMut::with_capacity(16 + subject.len());
        write_interest(&mut line, subject, queue, want as usize);
        self.send_line(&line);
    }
}

/// Appends the `LS+`/`LS-` line for `count` subscriptions on (`subject`, `queue`).
pub(crate) fn write_interest(
    out: &mut BytesMut,
    subject: &[u8],
    queue: Option<&[u8]>,
    count: usize,
) {
    use gannet_proto::route::{write_leaf_sub, write_leaf_unsub};
    if count == 0 {
        write_leaf_unsub(out, subject, queue);
    } else {
        let weight = u32::try_from(count).unwrap_or(u32::MAX);
        write_leaf_sub(out, subject, queue.map(|q| (q, weight)));
    }
}
