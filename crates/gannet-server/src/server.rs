//! The server: its identity, options, accounts and clients, the client listener's
//! accept loop, and shutdown (nats-server's `server.go`).
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use gannet_auth::Authenticator;
use gannet_config::Options;
use rand::{Rng, SeedableRng};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::accounts::{Account, DEFAULT_SYSTEM_ACCOUNT, GLOBAL_ACCOUNT};
use crate::client::{ClientShared, ClientSnapshot};
use crate::info::{ServerInfo, COMPAT_VERSION, PROTO_VERSION};
use crate::internal::Internal;
use crate::listener;
use crate::monitor::{self, HttpStats};
use crate::stats::ServerStats;
use crate::subscription::Subscription;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("Error listening on port: {addr}, \"{source}\"")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("{0}")]
    Auth(String),
    #[error("Error listening on monitoring port: {addr}, \"{source}\"")]
    Monitor {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

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
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("id", &self.id).finish()
    }
}

/// A started server: its addresses, and the handle to stop it.
pub struct RunningServer {
    pub server: Arc<Server>,
    /// Where clients connect.
    pub client_addr: SocketAddr,
    /// Where the monitoring HTTP listener is, if enabled.
    pub http_addr: Option<SocketAddr>,
    /// The client accept loop.
    accept: JoinHandle<()>,
    /// Other listeners (monitoring).
    tasks: Vec<JoinHandle<()>>,
    /// The internal loop (a thread of the blocking pool).
    internal_loop: std::sync::Mutex<Option<JoinHandle<()>>>,
    /// Set by the first shutdown; later calls do nothing.
    stopped: std::sync::atomic::AtomicBool,
}

/// A new server id: 56 characters of base32, starting with `N` like the reference's.
fn new_server_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut id = String::with_capacity(56);
    id.push('N');
    for _ in 1..56 {
        id.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
    }
    id
}

/// A nonce for nkey clients to sign: random bytes in URL-safe base64.
fn new_nonce() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rngs::StdRng::from_os_rng();
    (0..22)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The port to bind: `-1` asks the system for any free port, `0` means the default.
fn bind_port(port: i32, default: u16) -> u16 {
    match port {
        p if p < 0 => 0,
        0 => default,
        p => u16::try_from(p).unwrap_or(default),
    }
}

/// `host:port` in the form bind and URLs want (IPv6 in brackets).
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl Server {
    /// Binds the listeners and starts serving. Returns once clients can connect.
    pub async fn start(opts: Options) -> Result<RunningServer, StartError> {
        let auth = Authenticator::new(&opts).map_err(|e| StartError::Auth(e.join("; ")))?;
        crate::idle_spin::set_limit(opts.idle_spin);
        if auth.has_plaintext_passwords() {
            tracing::warn!("Plaintext passwords detected, use nkeys or bcrypt");
        }
        let tls = match &opts.tls {
            Some(t) => Some(crate::tls::server_config(t)?),
            None => None,
        };
        let tls_required = opts.tls.is_some()
            && !opts.allow_non_tls
            && !opts.tls.as_ref().is_some_and(|t| t.allow_legacy_clients);
        let tls_verify = opts
            .tls
            .as_ref()
            .is_some_and(crate::tls::requires_client_certs);
        let tls_available = opts.tls.is_some() && !tls_required;
        let bind = host_port(&opts.host, bind_port(opts.port, 4222));
        let listener = TcpListener::bind(&bind)
            .await
            .map_err(|source| StartError::Listen {
                addr: bind.clone(),
                source,
            })?;
        let client_addr = listener.local_addr().map_err(|source| StartError::Listen {
            addr: bind.clone(),
            source,
        })?;

        let id = new_server_id();
        let name = opts.server_name.clone().unwrap_or_else(|| id.clone());
        let info = ServerInfo {
            server_id: id.clone(),
            server_name: name.clone(),
            version: COMPAT_VERSION,
            proto: PROTO_VERSION,
            git_commit: crate::info::GIT_COMMIT,
            go: crate::info::GO_VERSION,
            host: opts.host.clone(),
            port: client_addr.port(),
            headers: !opts.no_header_support,
            auth_required: auth.info_auth_required(),
            tls_required,
            tls_verify,
            tls_available,
            max_payload: opts.max_payload,
            client_id: 0,
            client_ip: String::new(),
            nonce: None,
            connect_urls: Vec::new(),
            ldm: false,
            connect_info: false,
            remote_account: None,
            api_lvl: crate::info::JS_API_LEVEL,
            xkey: crate::info::new_xkey(),
        };
        let config_digest = opts
            .config_file
            .as_deref()
            .and_then(|p| std::fs::read(p).ok())
            .map(|bytes| {
                use sha2::Digest;
                let hex: String = sha2::Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                format!("sha256:{hex}")
            })
            .unwrap_or_default();
        let server_opts_cache_off = opts.disable_sublist_cache;
        let cache = !server_opts_cache_off;
        let global = Arc::new(Account::new(GLOBAL_ACCOUNT, cache));
        let mut accounts: HashMap<String, Arc<Account>> = HashMap::new();
        accounts.insert(GLOBAL_ACCOUNT.to_string(), global.clone());
        for a in &opts.accounts {
            accounts.insert(a.name.clone(), Arc::new(Account::new(&a.name, cache)));
        }
        let system = if opts.no_system_account {
            None
        } else {
            let name = opts
                .system_account
                .clone()
                .unwrap_or_else(|| DEFAULT_SYSTEM_ACCOUNT.to_string());
            Some(
                accounts
                    .entry(name.clone())
                    .or_insert_with(|| Arc::new(Account::new(&name, cache)))
                    .clone(),
            )
        };
        let (shutdown, _) = watch::channel(false);
        let (internal, internal_input) = Internal::new();
        let now = SystemTime::now();
        let server = Arc::new(Server {
            opts: std::sync::RwLock::new(Arc::new(opts)),
            auth: std::sync::RwLock::new(Arc::new(auth)),
            reloads: watch::channel(0).0,
            id,
            name,
            info,
            global: global.clone(),
            accounts: std::sync::RwLock::new(accounts),
            system,
            event_seq: AtomicU64::new(0),
            stats: ServerStats::default(),
            clients: Mutex::new(HashMap::new()),
            closed: Mutex::new(VecDeque::new()),
            next_cid: AtomicU64::new(1),
            shutdown,
            start: now,
            config_load_time: now,
            http_stats: HttpStats::default(),
            config_digest,
            http_port: std::sync::atomic::AtomicI32::new(0),
            tls: std::sync::RwLock::new(tls),
            internal,
            internal_subs: Mutex::new(Vec::new()),
        });
        let weak = Arc::downgrade(&server);
        let internal_loop =
            tokio::task::spawn_blocking(move || crate::internal::run(weak, internal_input));
        server.subscribe_system_services();

        let mut tasks = Vec::new();
        let opts = server.options();
        let http_addr = match opts.http_port {
            Some(port) => {
                let host = opts.http_host.clone().unwrap_or_else(|| opts.host.clone());
                let bind = host_port(&host, bind_port(port, 8222));
                let (addr, task) = monitor::start(server.clone(), &bind)
                    .await
                    .map_err(|source| StartError::Monitor { addr: bind, source })?;
                server
                    .http_port
                    .store(i32::from(addr.port()), Ordering::Relaxed);
                tracing::info!("Starting http monitor on {}", host_port(&host, addr.port()));
                tasks.push(task);
                Some(addr)
            }
            None => None,
        };

        tracing::info!(
            "Listening for client connections on {}",
            host_port(&opts.host, client_addr.port())
        );
        server.install_accounts(None, &opts);
        let accept = tokio::spawn(listener::accept_loop(server.clone(), listener));
        tasks.push(tokio::spawn(crate::events::statsz_loop(server.clone())));
        tasks.push(tokio::spawn(crate::events::conns_loop(server.clone())));
        tasks.push(tokio::spawn(crate::heap::trim_loop()));
        Ok(RunningServer {
            server,
            client_addr,
            http_addr,
            accept,
            tasks,
            internal_loop: std::sync::Mutex::new(Some(internal_loop)),
            stopped: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Subscribes the system services (when there is a system account) and
    /// every account's imports of them, each internal client with its own id
    /// as the reference numbers them: the system's, then the system
    /// account's, `$G`'s and the configured accounts'.
    fn subscribe_system_services(&self) {
        let Some(system) = self.system.clone() else {
            return;
        };
        let system_cid = self.next_client_id();
        crate::sysreq::subscribe_services(self, &system, system_cid);
        let opts = self.options();
        let mut names = vec![system.name.clone(), GLOBAL_ACCOUNT.to_string()];
        names.extend(opts.accounts.iter().map(|a| a.name.clone()));
        let mut done = std::collections::HashSet::new();
        for name in names {
            if done.insert(name.clone()) {
                if let Some(account) = self.find_account(&name) {
                    self.account_imports(&account);
                }
            }
        }
    }

    /// Puts the configured accounts in force: creates the new ones (with
    /// their imports of the system services), rebuilds every account's
    /// imports and exports, and forgets the accounts `old` had and `new` has
    /// not. Their clients fail re-authorization (their users are gone) and
    /// are closed; everyone else's connections stay.
    fn install_accounts(&self, old: Option<&Options>, new: &Options) {
        for account in &new.accounts {
            self.account(Some(&account.name));
        }
        let mut routes = crate::imports::build(&new.accounts, |n| self.account(Some(n)));
        for account in self.accounts() {
            account.set_routes(routes.remove(&account.name).unwrap_or_default());
        }
        let Some(old) = old else {
            return;
        };
        let system = self.system.as_ref().map(|s| s.name.as_str());
        for gone in &old.accounts {
            let name = gone.name.as_str();
            if new.accounts.iter().any(|a| a.name == name)
                || name == GLOBAL_ACCOUNT
                || Some(name) == system
            {
                continue;
            }
            let removed = self
                .accounts
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(name);
            if let Some(account) = removed {
                self.forget_internal(&account);
                tracing::info!("Account {name} removed by the reload");
            }
        }
    }

    /// Ends the internal subscriptions in `account`.
    fn forget_internal(&self, account: &Arc<Account>) {
        let mut subs = self.internal_subs.lock().unwrap_or_else(|e| e.into_inner());
        subs.retain(|sub| {
            let here = sub.account().is_some_and(|a| Arc::ptr_eq(&a, account));
            if here {
                account.unsubscribe(sub);
            }
            !here
        });
    }

    /// Subscribes the system services `account` imports.
    fn account_imports(&self, account: &Arc<Account>) {
        let Some(system) = &self.system else {
            return;
        };
        let cid = self.next_client_id();
        let is_system = Arc::ptr_eq(system, account);
        crate::sysreq::subscribe_account_imports(self, account, cid, is_system);
    }

    /// The queue into the internal loop.
    pub fn internal(&self) -> &Internal {
        &self.internal
    }

    /// Remembers an internal subscription, for monitoring.
    pub(crate) fn register_internal(&self, sub: Arc<Subscription>) {
        self.internal_subs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(sub);
    }

    /// Every internal subscription.
    pub fn internal_subscriptions(&self) -> Vec<Arc<Subscription>> {
        self.internal_subs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn options(&self) -> Arc<Options> {
        self.opts.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Who may connect and what they may do.
    pub fn authenticator(&self) -> Arc<Authenticator> {
        self.auth.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Changes after every reload.
    pub(crate) fn reload_signal(&self) -> watch::Receiver<u64> {
        self.reloads.subscribe()
    }

    /// Puts a newly loaded configuration in force: accounts with their imports
    /// and exports, authorization (users, permissions, certificate clients) and
    /// TLS files. Connected clients are checked again against it; nothing
    /// changes when it is refused. Returns the settings that changed but need a
    /// restart to take effect.
    pub fn reload(&self, new: Options) -> Result<Vec<String>, String> {
        let auth = Authenticator::new(&new).map_err(|e| e.join("; "))?;
        let tls = match &new.tls {
            Some(t) => Some(crate::tls::server_config(t).map_err(|e| e.to_string())?),
            None => None,
        };
        let old = self.options();
        if old.tls.is_some() != new.tls.is_some() {
            return Err("turning TLS on or off needs a restart".to_string());
        }
        let mut restart_needed = Vec::new();
        if old.host != new.host || old.port != new.port {
            restart_needed.push("listen address".to_string());
        }
        if old.http_port != new.http_port || old.http_host != new.http_host {
            restart_needed.push("monitoring listener".to_string());
        }
        let old_system = old
            .system_account
            .as_deref()
            .unwrap_or(DEFAULT_SYSTEM_ACCOUNT);
        let new_system = new
            .system_account
            .as_deref()
            .unwrap_or(DEFAULT_SYSTEM_ACCOUNT);
        if old_system != new_system || old.no_system_account != new.no_system_account {
            restart_needed.push("system account".to_string());
        }
        crate::idle_spin::set_limit(new.idle_spin);
        self.install_accounts(Some(&old), &new);
        *self.tls.write().unwrap_or_else(|e| e.into_inner()) = tls;
        *self.auth.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(auth);
        *self.opts.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(new);
        self.reloads.send_modify(|n| *n += 1);
        Ok(restart_needed)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn info(&self) -> &ServerInfo {
        &self.info
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
        let mut info = self.info.for_client(cid, addr.ip().to_string());
        let auth = self.authenticator();
        info.auth_required = auth.info_auth_required();
        if auth.needs_nonce() {
            info.nonce = Some(new_nonce());
        }
        info
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

    /// The account named `name`; `None` = the global account. Accounts are
    /// created on first use (for example after a reload added one).
    pub fn account(&self, name: Option<&str>) -> Arc<Account> {
        let Some(name) = name else {
            return self.global.clone();
        };
        if let Some(a) = self.accounts_lock().get(name) {
            return a.clone();
        }
        let cache = !self.options().disable_sublist_cache;
        let mut created = None;
        let account = self
            .accounts
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name.to_string())
            .or_insert_with(|| {
                let account = Arc::new(Account::new(name, cache));
                created = Some(account.clone());
                account
            })
            .clone();
        if let Some(new) = created {
            self.account_imports(&new);
        }
        account
    }

    /// The account named `name`, if it exists (never creates one).
    pub fn find_account(&self, name: &str) -> Option<Arc<Account>> {
        self.accounts_lock().get(name).cloned()
    }

    /// Every account.
    pub fn accounts(&self) -> Vec<Arc<Account>> {
        self.accounts_lock().values().cloned().collect()
    }

    /// Accounts with at least one client.
    pub fn active_accounts(&self) -> usize {
        self.accounts_lock()
            .values()
            .filter(|a| a.num_clients() > 0)
            .count()
    }

    fn accounts_lock(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Account>>> {
        self.accounts.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The system account, unless there is none.
    pub fn system_account(&self) -> Option<Arc<Account>> {
        self.system.clone()
    }

    pub(crate) fn next_event_seq(&self) -> u64 {
        crate::events::next_seq(&self.event_seq)
    }

    pub fn global_account(&self) -> Arc<Account> {
        self.global.clone()
    }

    pub(crate) fn next_client_id(&self) -> u64 {
        self.next_cid.fetch_add(1, Ordering::Relaxed)
    }

    /// Adds a client; returns how many are connected now.
    pub(crate) fn register(&self, client: Arc<ClientShared>) -> usize {
        self.stats.total_connections.fetch_add(1, Ordering::Relaxed);
        let mut clients = self.clients_lock();
        clients.insert(client.cid, client);
        clients.len()
    }

    pub(crate) fn unregister(&self, cid: u64) {
        self.clients_lock().remove(&cid);
    }

    /// Remembers a closed connection, forgetting the oldest past `max_closed_clients`.
    pub(crate) fn record_closed(&self, snapshot: ClientSnapshot) {
        let max = self.options().max_closed_clients;
        if max == 0 {
            return;
        }
        let mut closed = self.closed.lock().unwrap_or_else(|e| e.into_inner());
        while closed.len() >= max {
            closed.pop_front();
        }
        closed.push_back(snapshot);
    }

    /// The remembered closed connections, oldest first.
    pub fn closed_clients(&self) -> Vec<ClientSnapshot> {
        self.closed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// The connected clients.
    pub fn clients(&self) -> Vec<Arc<ClientShared>> {
        self.clients_lock().values().cloned().collect()
    }

    pub fn num_clients(&self) -> usize {
        self.clients_lock().len()
    }

    /// Subscriptions in every account.
    pub fn num_subscriptions(&self) -> usize {
        self.accounts_lock()
            .values()
            .map(|a| a.sublist.count())
            .sum()
    }

    fn clients_lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ClientShared>>> {
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
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
}

impl RunningServer {
    /// Stops accepting, closes every client after flushing what it was sent, and
    /// waits (briefly) for them to finish.
    pub async fn shutdown(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::info!("Initiating Shutdown...");
        self.server.shutdown_event();
        self.accept.abort();
        for task in &self.tasks {
            task.abort();
        }
        // The loop publishes what is queued (the SHUTDOWN event) before it stops.
        self.server.internal.stop();
        let internal_loop = self
            .internal_loop
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(handle) = internal_loop {
            let _ = tokio::time::timeout(Duration::from_secs(2), handle).await;
        }
        self.server.shutdown.send_replace(true);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while self.server.num_clients() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tracing::info!("Server Exiting..");
    }
}

impl RunningServer {
    /// Lame duck mode: stop accepting clients, tell the connected ones (INFO with
    /// `ldm`), wait `lame_duck_grace_period`, then close them spread over the rest of
    /// `lame_duck_duration` so they reconnect elsewhere gradually, then shut down.
    pub async fn lame_duck(&self) {
        tracing::info!("Entering lame duck mode, stop accepting new clients");
        self.accept.abort();
        let clients = self.server.clients();
        if !clients.is_empty() {
            let opts = self.server.options();
            let mut info = self.server.info.clone();
            info.ldm = true;
            let mut line = bytes::BytesMut::new();
            gannet_proto::encode::write_info(&mut line, &info.to_json());
            for client in &clients {
                client.outbound.send_now(&line);
            }
            let grace = opts.lame_duck_grace_period;
            tracing::info!("Waiting {grace:?} before closing clients");
            tokio::time::sleep(grace).await;
            let spread = opts.lame_duck_duration.saturating_sub(grace);
            let pause = spread / u32::try_from(clients.len()).unwrap_or(u32::MAX).max(1);
            tracing::info!("Closing {} existing clients over {spread:?}", clients.len());
            for client in &clients {
                client
                    .outbound
                    .close(crate::client::CloseReason::ServerShutdown);
                let next = tokio::time::Instant::now() + pause;
                while self.server.num_clients() > 0 && tokio::time::Instant::now() < next {
                    tokio::time::sleep(Duration::from_millis(10).min(pause)).await;
                }
                if self.server.num_clients() == 0 {
                    break;
                }
            }
        }
        self.shutdown().await;
    }
}
