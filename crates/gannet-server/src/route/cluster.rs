//! The cluster a server belongs to: its name (configured, or generated and
//! then adopted from the first named peer), its routes by peer server id
//! with duplicate resolution, gossip of new peers to the others, local
//! interest sent to every route, and the client URLs of the whole cluster
//! that clients are told in INFO (nats-server's `addRoute`,
//! `forwardNewRouteInfoToKnownServers` and `addConnectURLsAndSendINFOToClients`).
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use bytes::BytesMut;
use gannet_config::options::ClusterOptions;
use tokio::sync::watch;

use super::info::{RouteInfo, RoutePermission};
use super::pool::{PeerLinks, Slot};
use super::{Peer, Route};
use crate::accounts::InterestChange;
use crate::tls::{LinkTls, SwappableTls};

/// A route as `/routez` reports it.
#[derive(Debug, Clone)]
pub struct RouteSnapshot {
    pub rid: u64,
    /// The account of a pinned connection.
    pub account: Option<String>,
    pub peer: Peer,
    pub addr: SocketAddr,
    pub did_solicit: bool,
    pub configured: bool,
    pub start: SystemTime,
    pub last_activity_ns: u64,
    pub rtt_ns: u64,
    pub pending_bytes: usize,
    pub in_msgs: u64,
    pub in_bytes: u64,
    pub out_msgs: u64,
    pub out_bytes: u64,
    pub num_subs: usize,
    /// (account, subject, queue, weight) of each, when asked for.
    pub subscriptions: Vec<(String, String, Option<String>, u32)>,
}

/// The cluster state of a server.
#[derive(Debug)]
pub struct Cluster {
    name: RwLock<String>,
    /// The name was generated, not configured: the first named peer's wins.
    dynamic_name: std::sync::atomic::AtomicBool,
    /// The registered connections to each peer server, by its server id.
    routes: Mutex<HashMap<String, PeerLinks>>,
    /// What a reload may change: pooling, pinned accounts, permissions and
    /// what peers and clients are told.
    settings: RwLock<Arc<RouteSettings>>,
    /// `permissions { import }` is set: messages from peers are checked
    /// (read per message, without the settings lock).
    imports_restricted: std::sync::atomic::AtomicBool,
    /// Bumped whenever a route is registered or removed.
    changes: watch::Sender<u64>,
    /// Where the route listener is bound.
    pub listen: SocketAddr,
    /// Our own client URLs, as clients are told them.
    own_client_urls: Vec<String>,
    /// Route URLs being dialed because gossip named them.
    dialing: Mutex<HashSet<String>>,
    /// Client TLS for dialed routes, server TLS for accepted ones (a
    /// reload may replace them, for the connections made from then on).
    tls: SwappableTls,
}

/// The part of the `cluster { }` block a reload may change while the
/// routes run.
#[derive(Debug)]
pub(crate) struct RouteSettings {
    /// Connections per peer that pools too (0 = no pooling: `pool_size: -1`).
    pub(crate) pool_size: usize,
    /// Accounts with their own connection to pooling peers: the system
    /// account, and `cluster { accounts }`.
    pub(crate) pinned_accounts: Vec<String>,
    /// `permissions { import, export }`, compiled: import as a publish
    /// permission (what peers may send us), export as a subscribe permission
    /// (what peers may have from us).
    perms: Option<gannet_auth::Permissions>,
    /// The same, as our route INFO tells peers.
    import: Option<RoutePermission>,
    export: Option<RoutePermission>,
    /// Host and port peers are told to dial (the advertised ones, if any).
    advertise_host: String,
    advertise_port: u16,
    /// `no_advertise`: clients are not told the cluster's URLs.
    no_advertise: bool,
}

impl RouteSettings {
    /// `permissions { import }`: whether peers may send us `subject`.
    fn may_import(&self, subject: &[u8]) -> bool {
        self.perms.as_ref().is_none_or(|p| p.can_publish(subject))
    }

    fn new(
        opts: &ClusterOptions,
        system_account: Option<&str>,
        listen: SocketAddr,
    ) -> Result<RouteSettings, String> {
        let perms = if opts.import.is_some() || opts.export.is_some() {
            let config = gannet_config::options::Permissions {
                publish: opts.import.clone(),
                subscribe: opts.export.clone(),
                allow_responses: None,
            };
            Some(gannet_auth::Permissions::compile(&config, None, false)?)
        } else {
            None
        };
        let (advertise_host, advertise_port) =
            match opts.advertise.as_deref().and_then(split_host_port) {
                Some((host, port)) => (host, port),
                None => (opts.host.clone(), listen.port()),
            };
        let pool_size = usize::try_from(opts.pool_size).unwrap_or(0);
        let mut pinned_accounts: Vec<String> = Vec::new();
        if pool_size > 0 {
            pinned_accounts.extend(system_account.map(str::to_string));
            for account in &opts.pinned_accounts {
                if !pinned_accounts.contains(account) {
                    pinned_accounts.push(account.clone());
                }
            }
        }
        Ok(RouteSettings {
            pool_size,
            pinned_accounts,
            perms,
            import: opts.import.as_ref().map(RoutePermission::of),
            export: opts.export.as_ref().map(RoutePermission::of),
            advertise_host,
            advertise_port,
            no_advertise: opts.no_advertise,
        })
    }
}

impl Cluster {
    /// The TLS a dialed route starts with, if routes use TLS.
    pub(crate) fn tls_client(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.tls.client()
    }

    /// The TLS an accepted route starts with, if routes use TLS.
    pub(crate) fn tls_server(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.tls.server()
    }

    /// New route TLS (a reload), for connections made from now on.
    pub(crate) fn set_tls(&self, tls: LinkTls) {
        self.tls.set(tls);
    }

    pub(crate) fn new(
        opts: &ClusterOptions,
        system_account: Option<&str>,
        listen: SocketAddr,
        own_client_urls: Vec<String>,
        tls: LinkTls,
    ) -> Result<Cluster, String> {
        let (name, dynamic) = match &opts.name {
            Some(name) => (name.clone(), false),
            None => (super::super::server::new_cluster_name(), true),
        };
        let settings = RouteSettings::new(opts, system_account, listen)?;
        Ok(Cluster {
            imports_restricted: std::sync::atomic::AtomicBool::new(settings.import.is_some()),
            settings: RwLock::new(Arc::new(settings)),
            name: RwLock::new(name),
            dynamic_name: std::sync::atomic::AtomicBool::new(dynamic),
            routes: Mutex::new(HashMap::new()),
            changes: watch::channel(0).0,
            listen,
            own_client_urls,
            dialing: Mutex::new(HashSet::new()),
            tls: SwappableTls::new(tls),
        })
    }

    /// Whether peers may send us messages on `subject` (and so whether our
    /// interest in it is told to them): `permissions { import }`.
    #[inline]
    pub(crate) fn may_import(&self, subject: &[u8]) -> bool {
        self.settings_lock().may_import(subject)
    }

    /// Whether a message a peer sent on `subject` may come in: one relaxed
    /// load while `permissions { import }` is unset.
    #[inline]
    pub(crate) fn admits(&self, subject: &[u8]) -> bool {
        !self
            .imports_restricted
            .load(std::sync::atomic::Ordering::Relaxed)
            || self.may_import(subject)
    }

    /// Whether a peer may have our messages on `subject`: `permissions {
    /// export }`, checked against its `RS+`.
    pub(crate) fn may_export(&self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        self.settings_lock()
            .perms
            .as_ref()
            .is_none_or(|p| p.can_subscribe(subject, queue))
    }

    fn settings_lock(&self) -> std::sync::RwLockReadGuard<'_, Arc<RouteSettings>> {
        self.settings.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The settings in force now.
    pub(crate) fn settings(&self) -> Arc<RouteSettings> {
        self.settings_lock().clone()
    }

    /// Connections per pooling peer (0 = no pooling).
    pub fn pool_size(&self) -> usize {
        self.settings_lock().pool_size
    }

    /// The settings of a reloaded `cluster { }` block, checked before
    /// anything of the reload is put in force.
    pub(crate) fn settings_for(
        &self,
        new: &ClusterOptions,
        system_account: Option<&str>,
    ) -> Result<RouteSettings, String> {
        RouteSettings::new(new, system_account, self.listen)
    }

    /// Puts a reloaded `cluster { }` block in force, with its `settings`
    /// ([`Cluster::settings_for`]). A configured name replaces ours;
    /// advertising changes for the INFOs sent from now on. New permissions
    /// go to the running routes ([`super::perms::reloaded`]). A change of
    /// pooling or pinned accounts closes every route, as nats-server does:
    /// the routes come back (dialed again by whichever end dialed them)
    /// under the new settings. Returns whether it closed them.
    pub(crate) fn reconfigure(
        &self,
        server: &crate::server::Server,
        old: &ClusterOptions,
        new: &ClusterOptions,
        settings: RouteSettings,
    ) -> bool {
        if let Some(name) = new.name.as_ref().filter(|n| **n != self.name()) {
            *self.name.write().unwrap_or_else(|e| e.into_inner()) = name.clone();
            self.dynamic_name
                .store(false, std::sync::atomic::Ordering::Relaxed);
            tracing::info!("Cluster name updated to {name}");
        }
        let remake = settings.pool_size != self.pool_size()
            || settings.pinned_accounts != self.settings().pinned_accounts;
        let perms_changed = old.import != new.import || old.export != new.export;
        self.imports_restricted.store(
            settings.import.is_some(),
            std::sync::atomic::Ordering::Relaxed,
        );
        let before = std::mem::replace(
            &mut *self.settings.write().unwrap_or_else(|e| e.into_inner()),
            Arc::new(settings),
        );
        if remake {
            for route in self.routes() {
                route
                    .outbound
                    .close(crate::client::CloseReason::RouteRemoved);
            }
        } else if perms_changed {
            super::perms::reloaded(server, self, before.perms.as_ref());
        }
        remake
    }

    pub fn name(&self) -> String {
        self.name.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn is_name_dynamic(&self) -> bool {
        self.dynamic_name.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a peer of cluster `remote` (`remote_dynamic`: its name was
    /// generated) may be routed to, as the reference decides: the same name;
    /// or ours was generated and theirs is configured or sorts higher, in
    /// which case ours becomes theirs and our other routes are closed (their
    /// peers come back under the new name). `peer_id` is the peer's server id.
    pub(crate) fn accept_name(&self, remote: &str, remote_dynamic: bool, peer_id: &str) -> bool {
        let ours = self.name();
        if remote.is_empty() || remote == ours {
            return true;
        }
        if !self.is_name_dynamic() || (remote_dynamic && ours.as_str() >= remote) {
            return false;
        }
        *self.name.write().unwrap_or_else(|e| e.into_inner()) = remote.to_string();
        if !remote_dynamic {
            self.dynamic_name
                .store(false, std::sync::atomic::Ordering::Relaxed);
        }
        tracing::info!("Cluster name updated to {remote}");
        for (id, links) in self.routes_lock().iter() {
            if id != peer_id {
                for route in links.all() {
                    route
                        .outbound
                        .close(crate::client::CloseReason::ClusterNameConflict);
                }
            }
        }
        true
    }

    /// The INFO this server sends on its routes.
    pub(crate) fn info(&self, server: &crate::server::Server) -> RouteInfo {
        let opts = server.options();
        let settings = self.settings();
        let auth_required = opts.cluster.as_ref().is_some_and(|c| c.user.is_some());
        RouteInfo {
            server_id: server.id().to_string(),
            server_name: server.name().to_string(),
            version: crate::info::COMPAT_VERSION.to_string(),
            // 3: accounts on interest and message lines, and message traces.
            proto: crate::msgtrace::TRACE_PROTO,
            go: crate::info::GO_VERSION.to_string(),
            host: settings.advertise_host.clone(),
            port: settings.advertise_port,
            headers: !opts.no_header_support,
            auth_required,
            tls_required: self.tls_server().is_some(),
            tls_verify: opts
                .cluster
                .as_ref()
                .and_then(|c| c.tls.as_ref())
                .is_some_and(crate::tls::requires_client_certs),
            max_payload: opts.max_payload,
            cluster: self.name(),
            cluster_dynamic: self.is_name_dynamic(),
            connect_urls: if settings.no_advertise {
                Vec::new()
            } else {
                self.own_client_urls.clone()
            },
            route_pool_size: i64::try_from(settings.pool_size).unwrap_or(0),
            import: settings.import.clone(),
            export: settings.export.clone(),
            gateway_url: server
                .gateways()
                .map_or_else(String::new, |g| g.own_url().to_string()),
            ..RouteInfo::default()
        }
    }

    fn routes_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PeerLinks>> {
        self.routes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `route` as the connection in `slot` to its peer (`no_pool`:
    /// the pair does not pool). `Ok(true)` when it is the first connection to
    /// that peer; `Err` with the connection already in the slot.
    pub(crate) fn register(
        &self,
        route: &Arc<Route>,
        peer_id: &str,
        slot: &Slot,
        no_pool: bool,
    ) -> Result<bool, Arc<Route>> {
        let mut routes = self.routes_lock();
        let first = !routes.contains_key(peer_id);
        let links = routes
            .entry(peer_id.to_string())
            .or_insert_with(|| PeerLinks::new(self.pool_size(), no_pool));
        let stored = links.put(slot, route);
        if stored.is_err() && first {
            routes.remove(peer_id);
        }
        drop(routes);
        stored?;
        self.changes.send_modify(|n| *n += 1);
        Ok(first)
    }

    /// Forgets `route` if it is registered; returns (whether it was, whether
    /// the peer has no connection left).
    pub(crate) fn remove(&self, route: &Route, peer_id: &str) -> (bool, bool) {
        let mut routes = self.routes_lock();
        let Some(links) = routes.get_mut(peer_id) else {
            return (false, false);
        };
        let registered = links.take(route);
        let gone = links.is_empty();
        if gone {
            routes.remove(peer_id);
        }
        drop(routes);
        if registered {
            self.changes.send_modify(|n| *n += 1);
        }
        (registered, gone)
    }

    /// Every registered connection.
    pub fn routes(&self) -> Vec<Arc<Route>> {
        let mut all: Vec<_> = self
            .routes_lock()
            .values()
            .flat_map(|l| l.all().cloned().collect::<Vec<_>>())
            .collect();
        all.sort_by_key(|r| r.rid);
        all
    }

    /// One connection per peer, to speak to it as a whole.
    fn peer_routes(&self) -> Vec<Arc<Route>> {
        self.routes_lock()
            .values()
            .filter_map(|l| l.main().cloned())
            .collect()
    }

    /// Route connections (a pooling peer has several).
    pub fn num_routes(&self) -> usize {
        self.routes_lock().values().map(|l| l.all().count()).sum()
    }

    /// Peer servers with at least one connection.
    pub fn num_peers(&self) -> usize {
        self.routes_lock().len()
    }

    /// A connection to server `id`, if there is one.
    pub fn route_to(&self, id: &str) -> Option<Arc<Route>> {
        self.routes_lock().get(id).and_then(|l| l.main().cloned())
    }

    /// The connection that carries `account` to the peer whose gateway reply
    /// hash is `hash` (replies across gateways name their server so).
    pub(crate) fn route_by_hash(&self, hash: &[u8], account: &str) -> Option<Arc<Route>> {
        let settings = self.settings();
        self.routes_lock()
            .iter()
            .find(|(id, _)| crate::gateway::name_hash(id)[..] == *hash)
            .and_then(|(_, links)| {
                links
                    .for_account(account, &settings.pinned_accounts)
                    .cloned()
            })
    }

    /// Changes what is known of peer `peer_id`, on every connection to it.
    pub(crate) fn update_peer(&self, peer_id: &str, change: impl Fn(&mut Peer)) {
        if let Some(links) = self.routes_lock().get(peer_id) {
            for route in links.all() {
                route.update_peer(&change);
            }
        }
    }

    /// Whether the connection in `slot` to `peer_id` is up.
    pub(crate) fn has_connection(&self, peer_id: &str, slot: &Slot) -> bool {
        self.routes_lock().get(peer_id).is_some_and(|l| l.has(slot))
    }

    /// Whether the connection in `slot` to `peer_id` carries `account`.
    pub(crate) fn carries(&self, peer_id: &str, slot: &Slot, account: &str) -> bool {
        let settings = self.settings();
        self.routes_lock()
            .get(peer_id)
            .is_some_and(|l| l.carries(slot, account, &settings.pinned_accounts))
    }

    /// Changes whenever a route comes or goes.
    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Sends a change of local interest to every route.
    pub(crate) fn interest_changed(&self, change: &InterestChange<'_>) {
        if change.remote || !change.is_first_or_last() {
            return;
        }
        let settings = self.settings();
        if !settings.may_import(change.subject) {
            return;
        }
        let routes: Vec<Arc<Route>> = self
            .routes_lock()
            .values()
            .filter_map(|l| {
                l.for_account(change.account, &settings.pinned_accounts)
                    .cloned()
            })
            .collect();
        for route in routes {
            let mut line =
                BytesMut::with_capacity(16 + change.account.len() + change.subject.len());
            super::write_interest(
                &mut line,
                route.line_account(change.account),
                change.subject,
                change.queue,
                change.count,
            );
            route.send_line(&line);
        }
    }

    /// Tells every route but `newcomer`'s about the newcomer, so that they
    /// dial it (gossip).
    ///
    /// A pooling newcomer's pinned connections are told of too, one INFO
    /// each with `route_account` (`account`), as the reference expects them:
    /// that is how its servers learn to dial those.
    pub(crate) fn gossip(
        &self,
        newcomer: &Route,
        peer: &Peer,
        account: Option<&str>,
        server: &crate::server::Server,
    ) {
        let info = RouteInfo {
            route_account: account.unwrap_or_default().to_string(),
            server_id: peer.id.clone(),
            server_name: peer.name.clone(),
            version: crate::info::COMPAT_VERSION.to_string(),
            proto: crate::msgtrace::TRACE_PROTO,
            headers: peer.headers,
            auth_required: peer.auth_required,
            max_payload: server.options().max_payload,
            ip: peer.route_url.clone(),
            cluster: self.name(),
            connect_urls: peer.connect_urls.clone(),
            ..RouteInfo::default()
        };
        let mut line = BytesMut::new();
        gannet_proto::encode::write_info(&mut line, &info.to_json());
        for route in self.peer_routes() {
            if route.peer().id != newcomer.peer().id {
                route.send_line(&line);
            }
        }
    }

    /// Tells every peer that this server is in lame duck mode, so that they
    /// stop advertising its client URLs.
    pub(crate) fn announce_lame_duck(&self, server: &crate::server::Server) {
        let mut info = self.info(server);
        info.ldm = true;
        let mut line = BytesMut::new();
        gannet_proto::encode::write_info(&mut line, &info.to_json());
        for route in self.peer_routes() {
            route.send_line(&line);
        }
    }

    /// Starts dialing `url` unless it is already being dialed; returns false
    /// when it is.
    pub(crate) fn start_implicit(&self, url: &str) -> bool {
        self.dialing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(url.to_string())
    }

    pub(crate) fn end_implicit(&self, url: &str) {
        self.dialing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(url);
    }

    /// The client URLs of the whole cluster (ours first), as INFO's
    /// `connect_urls` lists them; empty with `no_advertise`.
    pub fn client_urls(&self) -> Vec<String> {
        if self.settings_lock().no_advertise {
            return Vec::new();
        }
        let mut urls = self.own_client_urls.clone();
        self.add_peer_urls(&mut urls);
        urls
    }

    /// The client URLs of the other servers of the cluster, whatever
    /// `no_advertise` says: where this server's clients go when it leaves.
    pub fn other_client_urls(&self) -> Vec<String> {
        let mut urls = Vec::new();
        self.add_peer_urls(&mut urls);
        urls.retain(|u| !self.own_client_urls.contains(u));
        urls
    }

    /// Appends the client URLs of every peer not in lame duck mode, once each.
    fn add_peer_urls(&self, urls: &mut Vec<String>) {
        for route in self.peer_routes() {
            let peer = route.peer();
            if peer.lame_duck {
                continue;
            }
            for url in peer.connect_urls {
                if !urls.contains(&url) {
                    urls.push(url);
                }
            }
        }
    }

    /// What `/routez` reports of every route; `subs` lists their
    /// subscriptions too.
    pub fn snapshots(&self, subs: bool) -> Vec<RouteSnapshot> {
        use std::sync::atomic::Ordering;
        self.routes()
            .into_iter()
            .map(|r| {
                let (pending_bytes, out_msgs, out_bytes) = {
                    let p = r.outbound.lock();
                    (p.bytes(), p.out_msgs, p.out_bytes)
                };
                RouteSnapshot {
                    account: r.pinned_account().map(str::to_string),
                    rid: r.rid,
                    peer: r.peer(),
                    addr: r.addr,
                    did_solicit: r.did_solicit,
                    configured: r.configured,
                    start: r.start,
                    last_activity_ns: r.last_activity_ns.load(Ordering::Relaxed),
                    rtt_ns: r.rtt_ns.load(Ordering::Relaxed),
                    pending_bytes,
                    in_msgs: r.in_msgs.load(Ordering::Relaxed),
                    in_bytes: r.in_bytes.load(Ordering::Relaxed),
                    out_msgs,
                    out_bytes,
                    num_subs: r.subscription_count(),
                    subscriptions: if subs { r.subscriptions() } else { Vec::new() },
                }
            })
            .collect()
    }
}

/// `host:port` (IPv6 hosts in brackets) split in two.
pub(crate) fn split_host_port(s: &str) -> Option<(String, u16)> {
    let (host, port) = s.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host.to_string(), port))
}
