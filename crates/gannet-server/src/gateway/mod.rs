//! Gateways: the links between clusters of a super-cluster (nats-server's
//! `gateway.go`), in nats-server's gateway protocol, so that a Gannet cluster
//! and a nats-server cluster form one super-cluster.
//!
//! - `connection`: one gateway connection, whichever side dialed: the
//!   handshake, then on an outbound connection the other side's interest
//!   and commands, on an inbound one its messages;
//! - `dial`: the gateway listener, and the dialing of configured gateways
//!   (forever) and of gateways learned from others (gossip);
//! - `info`: the INFO and CONNECT JSON of gateways;
//! - `interest`: what the other side of an outbound connection wants.
//!
//! Connections are one-way: a server sends messages to another cluster on
//! its one outbound connection to that cluster, and receives that cluster's
//! messages on inbound connections (one from each of its servers). On an
//! inbound connection this server tells the other side its cluster's whole
//! interest (local subscriptions, its cluster peers' and its leafs'), every
//! account in interest-only mode, so that only wanted messages cross. A
//! message from a client, a leaf or the server itself goes to every other
//! cluster that wants it, once; a message that came from a route or a
//! gateway never goes to a gateway (but for a reply unwrapped here, which
//! goes on to the clusters that want its original subject). A queue group
//! with a member in this cluster is served here; otherwise by one other
//! cluster.
//!
//! Replies of requests that cross are rewritten `_GR_.<cluster hash>.<server
//! hash>.<reply>`, so that the answer comes straight back to the cluster and
//! server of the requester, whatever interest has spread by then.
mod connection;
mod dial;
pub mod info;
pub mod interest;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::SystemTime;

use bytes::BytesMut;
use gannet_config::options::GatewayOptions;
use sha2::{Digest, Sha256};

pub(crate) use dial::{accept_loop, learn_and_dial, start_dialing};

use crate::accounts::{Account, InterestChange};
use crate::client::outbound::Outbound;
use crate::tls::{LinkTls, SwappableTls};
use interest::RemoteInterest;

/// Pending bytes on a gateway from which publishers wait for it to drain.
const GATEWAY_STALL_MARK: usize = 8 * 1024 * 1024;
/// A gateway connection's queue bound: like a route's.
const GATEWAY_MAX_PENDING: usize = 256 * 1024 * 1024;
/// The prefix of replies routed back across gateways.
pub const REPLY_PREFIX: &[u8] = b"_GR_.";
/// Length of a cluster or server hash in a routed reply.
const HASH_LEN: usize = 6;
/// The interest-only threshold GATEWAYZ reports (nats-server's number of
/// `RS-` before switching; Gannet switches every account at once).
pub const INTEREST_ONLY_THRESHOLD: u32 = 1000;

/// The 6-character hash nats-server derives from a name for routed replies:
/// the first bytes of its SHA-256, each reduced to one of 62 digits.
pub fn name_hash(name: &str) -> [u8; HASH_LEN] {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let sum = Sha256::digest(name.as_bytes());
    let mut hash = [0u8; HASH_LEN];
    for (h, b) in hash.iter_mut().zip(sum.iter()) {
        *h = DIGITS[usize::from(*b % 62)];
    }
    hash
}

/// A routed reply split: (cluster hash, server hash, the original reply).
pub fn split_routed_reply(subject: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let rest = subject.strip_prefix(REPLY_PREFIX)?;
    if rest.len() <= 2 * HASH_LEN + 2 || rest[HASH_LEN] != b'.' || rest[2 * HASH_LEN + 1] != b'.' {
        return None;
    }
    Some((
        &rest[..HASH_LEN],
        &rest[HASH_LEN + 1..2 * HASH_LEN + 1],
        &rest[2 * HASH_LEN + 2..],
    ))
}

/// What the other side of a gateway connection said of itself.
#[derive(Debug, Clone, Default)]
pub struct GatewayPeer {
    pub id: String,
    pub name: String,
    /// Its gateway (cluster) name.
    pub gateway: String,
    /// Its server-to-server protocol version (its INFO's `proto`).
    pub proto: u32,
}

/// One gateway connection, as other tasks reach it.
#[derive(Debug)]
pub struct Gateway {
    /// The connection id (from the clients' counter, as the reference).
    pub gid: u64,
    pub outbound: Outbound,
    pub addr: SocketAddr,
    /// This server dialed it: messages go out on it, interest comes in.
    pub is_outbound: bool,
    /// The remote gateway was configured, not learned.
    pub configured: bool,
    pub start: SystemTime,
    peer: Mutex<GatewayPeer>,
    /// The other cluster's reply hash (outbound connections).
    hash: OnceLock<[u8; HASH_LEN]>,
    /// Whether the other side reads headers: one load, read per message.
    headers: AtomicBool,
    /// The peer understands message traces (its INFO's `proto`).
    traces: AtomicBool,
    /// Outbound: what the other side wants.
    pub interest: RemoteInterest,
    /// Inbound: the accounts switched to interest-only on this connection,
    /// with the interest told in each.
    announced: Mutex<HashMap<String, HashSet<InterestKey>>>,
    /// Inbound: accounts told `A-` (unknown here).
    refused_accounts: Mutex<HashSet<String>>,
    pub in_msgs: AtomicU64,
    pub in_bytes: AtomicU64,
    /// Nanoseconds since the Unix epoch of the last traffic in.
    pub last_activity_ns: AtomicU64,
    /// Round trip of the latest answered PING, in nanoseconds.
    pub rtt_ns: AtomicU64,
}

/// A subject and queue group of interest.
type InterestKey = (Box<[u8]>, Option<Box<[u8]>>);

impl Gateway {
    pub(crate) fn new(
        gid: u64,
        addr: SocketAddr,
        is_outbound: bool,
        configured: bool,
        max_pending: usize,
    ) -> Gateway {
        Gateway {
            gid,
            outbound: Outbound::with_stall_mark(
                max_pending.max(GATEWAY_MAX_PENDING),
                GATEWAY_STALL_MARK,
            ),
            addr,
            is_outbound,
            configured,
            start: SystemTime::now(),
            peer: Mutex::new(GatewayPeer::default()),
            hash: OnceLock::new(),
            headers: AtomicBool::new(false),
            traces: AtomicBool::new(false),
            interest: RemoteInterest::default(),
            announced: Mutex::new(HashMap::new()),
            refused_accounts: Mutex::new(HashSet::new()),
            in_msgs: AtomicU64::new(0),
            in_bytes: AtomicU64::new(0),
            last_activity_ns: AtomicU64::new(0),
            rtt_ns: AtomicU64::new(0),
        }
    }

    pub fn peer(&self) -> GatewayPeer {
        self.peer.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn set_peer(&self, peer: GatewayPeer, headers: bool) {
        if self.is_outbound {
            let _ = self.hash.set(name_hash(&peer.gateway));
        }
        self.headers.store(headers, Ordering::Relaxed);
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

    /// The other cluster's gateway name (empty until known).
    pub fn remote_name(&self) -> String {
        self.peer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .gateway
            .clone()
    }

    /// Whether the other side reads headers (`HMSG`).
    #[inline]
    pub fn supports_headers(&self) -> bool {
        self.headers.load(Ordering::Relaxed)
    }

    pub(crate) fn send_line(&self, line: &[u8]) {
        self.outbound.send_now(line);
    }

    pub(crate) fn count_in(&self, bytes: usize) {
        self.in_msgs.fetch_add(1, Ordering::Relaxed);
        self.in_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn announced_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashSet<InterestKey>>> {
        self.announced.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Inbound: the accounts switched to interest-only, with how many
    /// subjects were told in each.
    pub fn announced_accounts(&self) -> Vec<(String, usize)> {
        let mut all: Vec<_> = self
            .announced_lock()
            .iter()
            .map(|(a, told)| (a.clone(), told.len()))
            .collect();
        all.sort();
        all
    }

    /// Inbound: switches `account` to interest-only mode on this connection
    /// (INFO `gateway_cmd` 2, its whole interest, INFO `gateway_cmd` 3),
    /// unless it already is. The caller holds the account's interest order
    /// (so no change can come between the listing and what follows it).
    fn switch_locked(
        &self,
        gateway_name: &str,
        account: &Account,
        local: &[gannet_sublist::Interest],
    ) {
        let mut announced = self.announced_lock();
        if announced.contains_key(&account.name) {
            return;
        }
        self.refused_accounts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&account.name);
        let mut told: HashSet<InterestKey> = HashSet::new();
        for i in local.iter().chain(account.remote.interest().iter()) {
            if i.count > 0 {
                told.insert((Box::from(&i.pattern[..]), i.queue.clone()));
            }
        }
        let mut lines = BytesMut::new();
        let start =
            info::GatewayInfo::command(gateway_name, info::CMD_ALL_SUBS_START, &account.name);
        gannet_proto::encode::write_info(&mut lines, &start.to_json());
        let mut sorted: Vec<&InterestKey> = told.iter().collect();
        sorted.sort();
        for (subject, queue) in sorted {
            write_interest(&mut lines, &account.name, subject, queue.as_deref(), true);
        }
        let done =
            info::GatewayInfo::command(gateway_name, info::CMD_ALL_SUBS_COMPLETE, &account.name);
        gannet_proto::encode::write_info(&mut lines, &done.to_json());
        announced.insert(account.name.clone(), told);
        drop(announced);
        self.send_line(&lines);
    }

    /// Inbound: tells the other side whether this cluster is still
    /// interested in (`subject`, `queue`) of `account`, if that changed.
    fn tell_interest(
        &self,
        gateway_name: &str,
        account: &Account,
        subject: &[u8],
        queue: Option<&[u8]>,
    ) {
        let mut announced = self.announced_lock();
        let Some(told) = announced.get_mut(&account.name) else {
            drop(announced);
            // An account the other side has not heard of yet (created after
            // the connection): switch it now, with this change in it.
            let local = account.sublist.interest();
            self.switch_locked(gateway_name, account, &local);
            return;
        };
        let want = account.sublist.count_exact(subject, queue)
            + account.remote.count_exact(subject, queue)
            > 0;
        let key = (Box::<[u8]>::from(subject), queue.map(Box::<[u8]>::from));
        let had = told.contains(&key);
        if want == had {
            return;
        }
        if want {
            told.insert(key);
        } else {
            told.remove(&key);
        }
        drop(announced);
        let mut line = BytesMut::with_capacity(16 + account.name.len() + subject.len());
        write_interest(&mut line, &account.name, subject, queue, want);
        self.send_line(&line);
    }

    /// Inbound: a message came for an account this server does not have:
    /// tells the other side (`A-`), once.
    pub(crate) fn refuse_account(&self, account: &[u8]) {
        let name = String::from_utf8_lossy(account).into_owned();
        if self
            .refused_accounts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name)
        {
            let mut line = BytesMut::new();
            gannet_proto::route::write_account_unsub(&mut line, account);
            self.send_line(&line);
        }
    }
}

/// Appends `RS+ <account> <subject> [<queue> 1]` or `RS- <account> <subject> [<queue>]`.
fn write_interest(
    out: &mut BytesMut,
    account: &str,
    subject: &[u8],
    queue: Option<&[u8]>,
    on: bool,
) {
    use gannet_proto::route::{write_sub, write_unsub};
    if on {
        write_sub(
            out,
            Some(account.as_bytes()),
            subject,
            queue.map(|q| (q, 1)),
        );
    } else {
        write_unsub(out, Some(account.as_bytes()), subject, queue);
    }
}

/// A gateway this server connects to: configured, or learned from another.
#[derive(Debug)]
pub(crate) struct RemoteGateway {
    pub(crate) name: String,
    /// `host:port` of its servers (configured and told), with user and
    /// password when configured in the URL.
    urls: Mutex<Vec<String>>,
    pub(crate) implicit: bool,
    /// The TLS connections to it start with (a reload may replace it).
    tls: RwLock<Option<Arc<rustls::ClientConfig>>>,
}

impl RemoteGateway {
    /// The TLS a connection to it starts with, if any.
    pub(crate) fn tls(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.tls.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn urls(&self) -> Vec<String> {
        self.urls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Adds URLs the other cluster told of (`host:port`).
    pub(crate) fn add_urls(&self, urls: &[String]) {
        let mut known = self.urls.lock().unwrap_or_else(|e| e.into_inner());
        for url in urls {
            let bare = url_host_port(url);
            if !known.iter().any(|k| url_host_port(k) == bare) {
                known.push(url.clone());
            }
        }
    }
}

/// The `host:port` of a URL (scheme and credentials dropped).
pub(crate) fn url_host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    rest.trim_end_matches('/')
}

/// Each configured remote gateway's TLS, by name.
pub(crate) type RemoteTls = HashMap<String, Option<Arc<rustls::ClientConfig>>>;

/// The TLS of each remote of a `gateway { }` block (`block` is the block's
/// own): the remote's own, or the block's.
pub(crate) fn remote_tls(
    block: &LinkTls,
    opts: &GatewayOptions,
) -> Result<RemoteTls, crate::tls::TlsError> {
    let mut out = HashMap::new();
    for remote in opts.gateways.iter().filter(|r| r.name != opts.name) {
        // A remote's own TLS that does not load stops the start (or the
        // reload), rather than falling back to the block's.
        let tls = match remote.tls.as_ref() {
            Some(t) => Some(crate::tls::route_client_config(t)?),
            None => block.client.clone(),
        };
        out.insert(remote.name.clone(), tls);
    }
    Ok(out)
}

/// The gateway state of a server.
#[derive(Debug)]
pub struct Gateways {
    /// This cluster's gateway name.
    pub name: String,
    cluster_hash: [u8; HASH_LEN],
    server_hash: [u8; HASH_LEN],
    /// `_GR_.<cluster hash>.<server hash>.`
    reply_prefix: Vec<u8>,
    /// Where the listener is bound.
    pub listen: SocketAddr,
    /// This server's gateway URL, as others are told it (`host:port`).
    own_url: String,
    /// Every gateway URL of this cluster (this server's and its peers').
    urls: Mutex<BTreeSet<String>>,
    /// Other clusters to connect to, by name.
    remotes: Mutex<HashMap<String, Arc<RemoteGateway>>>,
    /// The outbound connections, as a list read per message.
    outbound: RwLock<Arc<Vec<Arc<Gateway>>>>,
    has_outbound: AtomicBool,
    inbound: Mutex<HashMap<u64, Arc<Gateway>>>,
    /// The block's TLS: for dialing (remotes without their own) and for
    /// accepting. A reload may replace both, for the connections made
    /// from then on.
    tls: SwappableTls,
    pub(crate) reject_unknown: bool,
}

impl Gateways {
    pub(crate) fn new(
        opts: &GatewayOptions,
        server_id: &str,
        listen: SocketAddr,
        tls: LinkTls,
    ) -> Result<Gateways, crate::tls::TlsError> {
        let cluster_hash = name_hash(&opts.name);
        let server_hash = name_hash(server_id);
        let mut reply_prefix = REPLY_PREFIX.to_vec();
        reply_prefix.extend_from_slice(&cluster_hash);
        reply_prefix.push(b'.');
        reply_prefix.extend_from_slice(&server_hash);
        reply_prefix.push(b'.');
        let own_url = match opts.advertise.as_deref() {
            Some(advertise) if !advertise.is_empty() => advertise.to_string(),
            _ => {
                let any = match opts.host.parse::<std::net::IpAddr>() {
                    Ok(ip) => ip.is_unspecified(),
                    Err(_) => opts.host.is_empty(),
                };
                if any {
                    crate::server::interface_urls(listen.port())
                        .into_iter()
                        .next()
                        .unwrap_or_default()
                } else {
                    crate::server::host_port(&opts.host, listen.port())
                }
            }
        };
        let mut remote_tls = remote_tls(&tls, opts)?;
        let mut remotes = HashMap::new();
        for remote in opts.gateways.iter().filter(|r| r.name != opts.name) {
            remotes.insert(
                remote.name.clone(),
                Arc::new(RemoteGateway {
                    name: remote.name.clone(),
                    urls: Mutex::new(remote.urls.clone()),
                    implicit: false,
                    tls: RwLock::new(remote_tls.remove(&remote.name).flatten()),
                }),
            );
        }
        Ok(Gateways {
            name: opts.name.clone(),
            cluster_hash,
            server_hash,
            reply_prefix,
            listen,
            urls: Mutex::new(BTreeSet::from([own_url.clone()])),
            own_url,
            remotes: Mutex::new(remotes),
            outbound: RwLock::new(Arc::new(Vec::new())),
            has_outbound: AtomicBool::new(false),
            inbound: Mutex::new(HashMap::new()),
            tls: SwappableTls::new(tls),
            reject_unknown: opts.reject_unknown_cluster,
        })
    }

    /// The TLS an accepted gateway connection starts with, if any.
    pub(crate) fn tls_server(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.tls.server()
    }

    fn tls_client(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.tls.client()
    }

    /// New TLS from a reloaded `gateway { }` block, for the connections
    /// made from then on: the block's, each configured remote's, and the
    /// block's for the remotes learned from other clusters.
    /// `remote_tls` is [`remote_tls`] of the new block.
    pub(crate) fn set_tls(&self, tls: LinkTls, mut remote_tls: RemoteTls) {
        for remote in self
            .remotes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            let new = if remote.implicit {
                tls.client.clone()
            } else {
                remote_tls.remove(&remote.name).flatten()
            };
            *remote.tls.write().unwrap_or_else(|e| e.into_inner()) = new;
        }
        self.tls.set(tls);
    }

    /// This server's gateway URL (`host:port`).
    pub fn own_url(&self) -> &str {
        &self.own_url
    }

    /// `_GR_.<cluster hash>.<server hash>.`: what replies sent across are prefixed with.
    pub(crate) fn reply_prefix(&self) -> &[u8] {
        &self.reply_prefix
    }

    pub(crate) fn is_own_cluster(&self, hash: &[u8]) -> bool {
        hash == self.cluster_hash
    }

    pub(crate) fn is_own_server(&self, hash: &[u8]) -> bool {
        hash == self.server_hash
    }

    /// Every gateway URL of this cluster.
    pub fn cluster_urls(&self) -> Vec<String> {
        self.urls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// A cluster peer's gateway URL, told on its route: true if new.
    pub(crate) fn add_cluster_url(&self, url: &str) -> bool {
        self.urls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(url.to_string())
    }

    pub(crate) fn remove_cluster_url(&self, url: &str) -> bool {
        url != self.own_url
            && self
                .urls
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(url)
    }

    /// The outbound connections, when there are any (one load while none).
    #[inline]
    pub(crate) fn outbound_list(&self) -> Option<Arc<Vec<Arc<Gateway>>>> {
        if !self.has_outbound.load(Ordering::Acquire) {
            return None;
        }
        Some(
            self.outbound
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }

    /// Every outbound connection.
    pub fn outbound(&self) -> Vec<Arc<Gateway>> {
        self.outbound_list().map_or_else(Vec::new, |l| l.to_vec())
    }

    /// Every inbound connection, in connection order.
    pub fn inbound(&self) -> Vec<Arc<Gateway>> {
        let mut all: Vec<_> = self
            .inbound
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        all.sort_by_key(|g| g.gid);
        all
    }

    /// The outbound connection to the cluster whose reply hash is `hash`.
    pub(crate) fn outbound_by_hash(&self, hash: &[u8]) -> Option<Arc<Gateway>> {
        self.outbound_list()?
            .iter()
            .find(|g| g.hash.get().is_some_and(|h| h[..] == *hash))
            .cloned()
    }

    /// Changes the outbound list, the whole read-modify-write under its lock
    /// (so that two connections coming or going at once lose nothing).
    fn update_outbound<R>(&self, change: impl FnOnce(&mut Vec<Arc<Gateway>>) -> R) -> R {
        let mut slot = self.outbound.write().unwrap_or_else(|e| e.into_inner());
        let mut list = slot.to_vec();
        let result = change(&mut list);
        self.has_outbound.store(!list.is_empty(), Ordering::Release);
        *slot = Arc::new(list);
        result
    }

    /// Registers `gw` as the outbound connection to its cluster; false if
    /// there is one already.
    pub(crate) fn register_outbound(&self, gw: &Arc<Gateway>) -> bool {
        let name = gw.remote_name();
        self.update_outbound(|list| {
            if list.iter().any(|g| g.remote_name() == name) {
                return false;
            }
            list.push(gw.clone());
            // The order of first registration, for queue groups served by
            // one cluster: the same cluster each time.
            list.sort_by_key(|g| g.gid);
            true
        })
    }

    pub(crate) fn remove(&self, gw: &Gateway) {
        if gw.is_outbound {
            self.update_outbound(|list| list.retain(|g| g.gid != gw.gid));
        } else {
            self.inbound
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&gw.gid);
        }
    }

    pub(crate) fn add_inbound(&self, gw: &Arc<Gateway>) {
        self.inbound
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(gw.gid, gw.clone());
    }

    /// Whether an inbound connection from cluster `name` is up.
    pub(crate) fn has_inbound_from(&self, name: &str) -> bool {
        self.inbound
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .any(|g| g.remote_name() == name)
    }

    pub(crate) fn remote(&self, name: &str) -> Option<Arc<RemoteGateway>> {
        self.remotes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    pub(crate) fn remotes(&self) -> Vec<Arc<RemoteGateway>> {
        let mut all: Vec<_> = self
            .remotes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// Learns of gateway `name` at `urls` (from a gateway or a route): adds
    /// the URLs to a known one, or returns the new remote to dial.
    pub(crate) fn learn(&self, name: &str, urls: &[String]) -> Option<Arc<RemoteGateway>> {
        if name == self.name || name.is_empty() {
            return None;
        }
        let mut remotes = self.remotes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = remotes.get(name) {
            known.add_urls(urls);
            return None;
        }
        if urls.is_empty() {
            return None;
        }
        let remote = Arc::new(RemoteGateway {
            name: name.to_string(),
            urls: Mutex::new(Vec::new()),
            implicit: true,
            tls: RwLock::new(self.tls_client()),
        });
        remote.add_urls(urls);
        remotes.insert(name.to_string(), remote.clone());
        Some(remote)
    }

    /// Forgets an implicit remote that could not be reached.
    pub(crate) fn forget(&self, name: &str) {
        let mut remotes = self.remotes.lock().unwrap_or_else(|e| e.into_inner());
        if remotes.get(name).is_some_and(|r| r.implicit) {
            remotes.remove(name);
        }
    }

    /// Switches every account to interest-only mode on a new inbound
    /// connection, each while its interest cannot change.
    pub(crate) fn switch_all(&self, server: &crate::server::Server, gw: &Gateway) {
        for account in server.accounts() {
            account.with_interest(|local| gw.switch_locked(&self.name, &account, &local));
        }
    }

    /// Tells every inbound connection of a change of this cluster's interest
    /// (local, a cluster peer's or a leaf's).
    pub(crate) fn interest_changed(&self, account: &Account, change: &InterestChange<'_>) {
        for gw in self.inbound() {
            gw.tell_interest(&self.name, account, change.subject, change.queue);
        }
    }

    /// Sends every inbound connection this server's current INFO (its
    /// cluster's gateway URLs changed).
    pub(crate) fn send_info_to_inbound(&self, server: &crate::server::Server) {
        let mut line = BytesMut::new();
        gannet_proto::encode::write_info(&mut line, &self.info(server).to_json());
        for gw in self.inbound() {
            gw.send_line(&line);
        }
    }

    /// The INFO this server sends on its gateway connections.
    pub(crate) fn info(&self, server: &crate::server::Server) -> info::GatewayInfo {
        let opts = server.options();
        let gw_opts = opts.gateway.as_ref();
        let (host, port) = match self.own_url.rsplit_once(':') {
            Some((h, p)) => (
                h.trim_start_matches('[').trim_end_matches(']').to_string(),
                p.parse().unwrap_or(self.listen.port()),
            ),
            None => (self.own_url.clone(), self.listen.port()),
        };
        info::GatewayInfo {
            server_id: server.id().to_string(),
            server_name: server.name().to_string(),
            version: crate::info::COMPAT_VERSION.to_string(),
            proto: crate::msgtrace::TRACE_PROTO,
            go: crate::info::GO_VERSION.to_string(),
            host,
            port,
            headers: !opts.no_header_support,
            auth_required: gw_opts.is_some_and(|g| g.username.is_some()),
            tls_required: self.tls_server().is_some(),
            tls_verify: gw_opts
                .and_then(|g| g.tls.as_ref())
                .is_some_and(crate::tls::requires_client_certs),
            max_payload: opts.max_payload,
            gateway: self.name.clone(),
            gateway_urls: self.cluster_urls(),
            gateway_url: self.own_url.clone(),
            gateway_nrp: true,
            gateway_iom: true,
            ..info::GatewayInfo::default()
        }
    }

    /// The INFO that tells of another gateway (`gateway_cmd` 1), to a
    /// gateway or a route.
    pub(crate) fn gossip_info(server_id: &str, name: &str, urls: Vec<String>) -> Vec<u8> {
        let info = info::GatewayInfo {
            server_id: server_id.to_string(),
            gateway: name.to_string(),
            gateway_urls: urls,
            gateway_cmd: info::CMD_GOSSIP,
            ..info::GatewayInfo::default()
        };
        let mut line = BytesMut::new();
        gannet_proto::encode::write_info(&mut line, &info.to_json());
        line.to_vec()
    }

    /// Tells a new route of every cluster this server has an outbound
    /// connection to, so that the peer connects to them too.
    pub(crate) fn tell_route(&self, server: &crate::server::Server, route: &crate::route::Route) {
        for gw in self.outbound() {
            let name = gw.remote_name();
            let Some(remote) = self.remote(&name) else {
                continue;
            };
            let urls: Vec<String> = remote
                .urls()
                .iter()
                .map(|u| url_host_port(u).to_string())
                .collect();
            if urls.is_empty() {
                continue;
            }
            route.send_line(&Self::gossip_info(
                &format!("GW{}", server.id()),
                &name,
                urls,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_nats_servers() {
        // As captured from nats-server 2.15: cluster C1 and a server id.
        assert_eq!(&name_hash("C1"), b"lAT7oY");
        assert_eq!(
            &name_hash("NCNZVYFS5QTJF4K5HUZPWJ4GR3OEJ6D6UGEBSX2J7FXO7JPT6R7K6QLP"),
            b"vgl2oG"
        );
    }

    #[test]
    fn routed_replies_split() {
        let (c, s, r) = split_routed_reply(b"_GR_.lAT7oY.vgl2oG._INBOX.abc").unwrap();
        assert_eq!(
            (c, s, r),
            (&b"lAT7oY"[..], &b"vgl2oG"[..], &b"_INBOX.abc"[..])
        );
        assert!(split_routed_reply(b"_GR_.lAT7oY.vgl2oG.").is_none());
        assert!(split_routed_reply(b"_GR_.short").is_none());
        assert!(split_routed_reply(b"_INBOX.lAT7oY.vgl2oG.x").is_none());
        assert!(split_routed_reply(b"_GR_.lAT7oYxvgl2oG.x").is_none());
    }

    #[test]
    fn urls_compare_by_host_and_port() {
        assert_eq!(url_host_port("nats://u:p@10.0.0.1:7222/"), "10.0.0.1:7222");
        assert_eq!(url_host_port("10.0.0.1:7222"), "10.0.0.1:7222");
    }
}
