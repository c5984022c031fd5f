//! The server (nats-server's `server.go`): its identity, options, accounts
//! and clients, and the tasks it runs. The parts live in their own files:
//!
//! - `start`: binding the listeners and wiring the tasks at start-up;
//! - `registry`: the clients, the closed-connection ring, the accounts and
//!   the internal subscriptions;
//! - `reload`: putting a new configuration in force;
//! - `shutdown`: stopping (and lame duck mode), waiting for every task.
mod limits;
mod registry;
mod reload;
mod shutdown;
mod start;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use gannet_auth::Authenticator;
use gannet_config::Options;
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

pub(crate) use limits::ACCOUNT_CONNS_EXCEEDED;
pub use start::{host_port, RunningServer, StartError};
pub(crate) use start::{interface_urls, new_cluster_name, new_nonce};

use crate::accounts::Account;
use crate::client::{ClientShared, ClientSnapshot};
use crate::info::ServerInfo;
use crate::internal::Internal;
use crate::monitor::HttpStats;
use crate::stats::ServerStats;
use crate::subscription::Subscription;

/// How long a server heard from once counts as active without a new STATSZ
/// (STATSZ comes at least every 10 s).
const REMOTE_SERVER_TTL: std::time::Duration = std::time::Duration::from_secs(45);
/// Shared state of a running server.
pub struct Server {
    /// The options in force (replaced on reload).
    opts: std::sync::RwLock<Arc<Options>>,
    /// Who may connect and what they may do (replaced on reload).
    auth: std::sync::RwLock<Arc<Authenticator>>,
    /// Bumped on every reload, so that client tasks re-check their clients.
    reloads: watch::Sender<u64>,
    id: String,
    name: String,
    info: ServerInfo,
    global: Arc<Account>,
    /// Every account by name (`$G`, the configured ones, the system account).
    accounts: std::sync::RwLock<HashMap<String, Arc<Account>>>,
    /// The account events and `$SYS` services live in; `None` with `no_system_account`.
    system: Option<Arc<Account>>,
    /// Sequence number of internal messages (the `seq` of the `server` object).
    event_seq: AtomicU64,
    stats: ServerStats,
    clients: Mutex<HashMap<u64, Arc<ClientShared>>>,
    /// The last `max_closed_clients` closed connections, oldest first, for
    /// `/connz?state=closed`.
    closed: Mutex<VecDeque<ClientSnapshot>>,
    next_cid: AtomicU64,
    shutdown: watch::Sender<bool>,
    start: SystemTime,
    config_load_time: SystemTime,
    http_stats: HttpStats,
    http_port: std::sync::atomic::AtomicI32,
    /// `sha256:<hex>` of the config file (empty without one).
    config_digest: String,
    /// The TLS configuration for client connections (replaced on reload).
    tls: std::sync::RwLock<Option<Arc<rustls::ServerConfig>>>,
    /// The queue into the internal loop (internal subscriptions, the server's
    /// own messages).
    internal: Internal,
    /// Every internal subscription, for monitoring.
    internal_subs: Mutex<Vec<Arc<Subscription>>>,
    /// The stand-ins of the imports in their exporting accounts (stream
    /// imports, and service replies to this server's requesters), by import
    /// (see `install_import_shadows`).
    import_shadows: Mutex<std::collections::HashMap<String, Arc<Subscription>>>,
    /// Every task the server started that ends with it: connections, HTTP
    /// connections, background loops. Shutdown waits for them.
    tasks: TaskTracker,
    /// The cluster this server routes to, when `cluster { }` is configured.
    cluster: Option<Arc<crate::route::Cluster>>,
    /// The links to other clusters, when `gateway { }` is configured.
    gateways: Option<Arc<crate::gateway::Gateways>>,
    /// Other servers heard from on the system account (their STATSZ), by
    /// id, with when: what STATSZ `active_servers` counts, across routes and
    /// gateways.
    remote_servers: Mutex<HashMap<String, std::time::Instant>>,
    /// The leaf node connections (either side of them).
    leafs: Arc<crate::leaf::Leafs>,
    /// The leaf node listener's port (0 = none).
    leaf_port: std::sync::atomic::AtomicI32,
    /// JetStream, while it runs (`-js` or `jetstream { }`; a reload may
    /// turn it on or off).
    jetstream: std::sync::RwLock<Option<Arc<crate::jetstream::JetStream>>>,
    /// Reads the configuration again and puts it in force: what a signal
    /// and the system account's `RELOAD` request run (see [`Reloader`]).
    reloader: std::sync::OnceLock<Reloader>,
}

/// Reads the configuration file again (with the command line's flags over
/// it) and puts it in force: the program that started the server knows
/// the file and the flags, so it installs this.
pub type Reloader = Box<dyn Fn() -> Result<(), String> + Send + Sync>;

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("id", &self.id).finish()
    }
}

impl Server {
    /// JetStream, when enabled.
    pub fn jetstream(&self) -> Option<Arc<crate::jetstream::JetStream>> {
        self.jetstream
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Puts JetStream in (`Some`) or takes it out; returns what was there.
    pub(crate) fn set_jetstream(
        &self,
        js: Option<Arc<crate::jetstream::JetStream>>,
    ) -> Option<Arc<crate::jetstream::JetStream>> {
        std::mem::replace(
            &mut *self.jetstream.write().unwrap_or_else(|e| e.into_inner()),
            js,
        )
    }

    /// The queue into the internal loop.
    pub fn internal(&self) -> &Internal {
        &self.internal
    }

    pub fn options(&self) -> Arc<Options> {
        self.opts.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Who may connect and what they may do.
    pub fn authenticator(&self) -> Arc<Authenticator> {
        self.auth.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The INFO every client starts from, with the `max_payload` in force.
    pub fn info(&self) -> ServerInfo {
        let mut info = self.info.clone();
        let opts = self.options();
        info.max_payload = opts.max_payload;
        // A reload may have turned TLS on or off, or changed its settings.
        let tls = start::TlsFlags::of(&opts);
        info.tls_required = tls.required;
        info.tls_verify = tls.verify;
        info.tls_available = tls.available;
        info
    }

    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }

    pub fn start_time(&self) -> SystemTime {
        self.start
    }

    pub fn config_load_time(&self) -> SystemTime {
        self.config_load_time
    }

    /// The INFO a new client is sent (with a fresh nonce when nkey users need one).
    pub fn client_info(&self, cid: u64, addr: SocketAddr) -> ServerInfo {
        let mut info = self.info().for_client(cid, addr.ip().to_string());
        let auth = self.authenticator();
        info.auth_required = auth.info_auth_required();
        if auth.needs_nonce() {
            info.nonce = Some(new_nonce());
        }
        if let Some(cluster) = &self.cluster {
            info.connect_urls = cluster.client_urls();
        }
        info
    }

    /// The leaf node connections.
    pub fn leafs(&self) -> &crate::leaf::Leafs {
        &self.leafs
    }

    /// The leaf node listener's port (0 = no listener).
    pub fn leaf_port(&self) -> u16 {
        u16::try_from(self.leaf_port.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// The cluster, when this server is part of one.
    pub fn cluster(&self) -> Option<Arc<crate::route::Cluster>> {
        self.cluster.clone()
    }

    /// The name of this server's cluster: the cluster's, or the gateway's
    /// for a server alone in its cluster (empty when neither is configured).
    pub fn cluster_name(&self) -> String {
        match (&self.cluster, &self.gateways) {
            (Some(cluster), _) => cluster.name(),
            (None, Some(gateways)) => gateways.name.clone(),
            (None, None) => String::new(),
        }
    }

    /// This server's token in the reply subjects its service imports make
    /// up (`_R_.<node>.<random>`): part of its id, so that a reply given on
    /// another server of the cluster is routed back here.
    pub(crate) fn reply_node(&self) -> &str {
        self.id.get(1..11).unwrap_or(&self.id)
    }

    /// Notes that server `id` was heard from (its STATSZ came).
    pub(crate) fn note_remote_server(&self, id: &str) {
        if id != self.id {
            self.remote_servers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.to_string(), std::time::Instant::now());
        }
    }

    /// Forgets server `id` (it shut down).
    pub(crate) fn forget_remote_server(&self, id: &str) {
        self.remote_servers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// Servers heard from in the last [`REMOTE_SERVER_TTL`], this one not
    /// counted.
    pub(crate) fn known_remote_servers(&self) -> usize {
        let mut known = self
            .remote_servers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        known.retain(|_, seen| seen.elapsed() < REMOTE_SERVER_TTL);
        known.len()
    }

    /// The gateways, when this server links its cluster to others.
    #[inline]
    pub fn gateways(&self) -> Option<&Arc<crate::gateway::Gateways>> {
        self.gateways.as_ref()
    }

    /// Counts and logs a route cut for exceeding `max_pending`.
    pub(crate) fn slow_route(&self, route: &crate::route::Route) {
        self.stats.slow_consumers.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            "{} - rid:{} - Slow Consumer Detected: MaxPending of {} Exceeded",
            route.addr,
            route.rid,
            route.outbound.max_pending()
        );
    }

    /// The TLS configuration clients handshake with, if TLS is on.
    pub fn tls_config(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.tls.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// `sha256:<hex>` of the config file the server started with.
    pub fn config_digest(&self) -> &str {
        &self.config_digest
    }

    pub fn http_stats(&self) -> &HttpStats {
        &self.http_stats
    }

    /// The monitoring port in use (0 when monitoring is off).
    pub fn http_port(&self) -> i32 {
        self.http_port.load(Ordering::Relaxed)
    }

    pub(crate) fn next_event_seq(&self) -> u64 {
        crate::events::next_seq(&self.event_seq)
    }

    /// Changes to true when the server shuts down.
    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Counts and logs a client cut for exceeding `max_pending`.
    pub(crate) fn slow_consumer(&self, client: &ClientShared) {
        self.stats.slow_consumers.fetch_add(1, Ordering::Relaxed);
        let meta = client.meta();
        tracing::warn!(
            "{} - cid:{} - Slow Consumer Detected: MaxPending of {} Exceeded",
            meta.addr,
            client.cid,
            self.options().max_pending
        );
    }

    /// Runs `task` as one of the server's tasks: shutdown waits for it.
    pub(crate) fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(task)
    }

    /// Runs a loop that has no end of its own until the server shuts down.
    pub(crate) fn spawn_background<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = self.shutdown_signal();
        self.tasks.spawn(async move {
            tokio::select! {
                () = task => {}
                () = until_shutdown(stop) => {}
            }
        });
    }

    /// How many of the server's tasks are still running.
    pub fn running_tasks(&self) -> usize {
        self.tasks.len()
    }
}

/// Returns once `signal` (from [`Server::shutdown_signal`]) says the server is
/// shutting down.
pub(crate) async fn until_shutdown(mut signal: watch::Receiver<bool>) {
    let _ = signal.wait_for(|stopping| *stopping).await;
}
