//! Start-up: binding the client and monitoring listeners, building the
//! server's state, and starting its tasks (the accept loop, the internal loop,
//! the event loops), then the system services' internal subscriptions.
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use gannet_auth::Authenticator;
use gannet_config::Options;
use rand::{Rng, SeedableRng};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;

use super::Server;
use crate::accounts::{Account, DEFAULT_SYSTEM_ACCOUNT, GLOBAL_ACCOUNT};
use crate::info::{ServerInfo, COMPAT_VERSION, PROTO_VERSION};
use crate::internal::Internal;
use crate::listener;
use crate::monitor::{self, HttpStats};
use crate::stats::ServerStats;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("Can't start JetStream: {0}")]
    JetStream(String),
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
    #[error("Error listening on router port: {addr}, \"{source}\"")]
    Cluster {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Error listening on gateway port: {addr}, \"{source}\"")]
    Gateway {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Error listening on leafnode port: {addr}, \"{source}\"")]
    Leaf {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Error listening on monitoring port: {addr}, \"{source}\"")]
    Monitor {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// A started server: its addresses, and the handle to stop it.
pub struct RunningServer {
    pub server: Arc<Server>,
    /// Where clients connect.
    pub client_addr: SocketAddr,
    /// Where the monitoring HTTP listener is, if enabled.
    pub http_addr: Option<SocketAddr>,
    /// Stops the client accept loop (first thing on shutdown, and in lame
    /// duck mode).
    pub(super) accept: tokio::task::AbortHandle,
    /// The internal loop (a thread of the blocking pool), stopped last.
    pub(super) internal_loop: Mutex<Option<JoinHandle<()>>>,
    /// Set by the first shutdown; later calls do nothing.
    pub(super) stopped: std::sync::atomic::AtomicBool,
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

/// A generated cluster name, for a cluster block without `name` (22
/// characters, as the reference's generated names).
pub(crate) fn new_cluster_name() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::StdRng::from_os_rng();
    (0..22)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The client URLs this server advertises to clients of the cluster:
/// `client_advertise`, or the listen host, or, for a host that is any
/// address, every address of the machine's interfaces that is not loopback.
fn own_client_urls(opts: &Options, port: u16) -> Vec<String> {
    if let Some(advertise) = &opts.client_advertise {
        return vec![if advertise.contains(':') && !advertise.ends_with(']') {
            advertise.clone()
        } else {
            host_port(advertise, port)
        }];
    }
    let any = match opts.host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_unspecified(),
        Err(_) => opts.host.is_empty(),
    };
    if !any {
        return vec![host_port(&opts.host, port)];
    }
    interface_urls(port)
}

/// `host:port` for every address of the machine's interfaces that is not
/// loopback nor link-local (`127.0.0.1:port` when there is none).
pub(crate) fn interface_urls(port: u16) -> Vec<String> {
    let mut urls = Vec::new();
    if let Ok(addrs) = nix::ifaddrs::getifaddrs() {
        for ifaddr in addrs {
            let Some(addr) = ifaddr.address else { continue };
            let ip: std::net::IpAddr = if let Some(v4) = addr.as_sockaddr_in() {
                std::net::IpAddr::V4(v4.ip())
            } else if let Some(v6) = addr.as_sockaddr_in6() {
                std::net::IpAddr::V6(v6.ip())
            } else {
                continue;
            };
            let link_local = match ip {
                std::net::IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
                std::net::IpAddr::V4(v4) => v4.is_link_local(),
            };
            if ip.is_loopback() || link_local {
                continue;
            }
            let url = host_port(&ip.to_string(), port);
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
    }
    if urls.is_empty() {
        urls.push(host_port("127.0.0.1", port));
    }
    urls
}

/// Binds the gateway listener and builds the gateway state, when a
/// `gateway { }` is configured.
async fn start_gateway(
    opts: &Options,
    server_id: &str,
) -> Result<Option<(Arc<crate::gateway::Gateways>, TcpListener)>, StartError> {
    let Some(gw_opts) = opts.gateway.as_ref() else {
        return Ok(None);
    };
    let tls = crate::tls::LinkTls::of(gw_opts.tls.as_ref())?;
    let bind = host_port(&gw_opts.host, bind_port(gw_opts.port, 7222));
    let listener = TcpListener::bind(&bind)
        .await
        .map_err(|source| StartError::Gateway {
            addr: bind.clone(),
            source,
        })?;
    let listen = listener
        .local_addr()
        .map_err(|source| StartError::Gateway { addr: bind, source })?;
    let gateways = crate::gateway::Gateways::new(gw_opts, server_id, listen, tls)?;
    Ok(Some((Arc::new(gateways), listener)))
}

/// Binds the route listener and builds the cluster state, when clustered.
async fn start_cluster(
    opts: &Options,
    client_port: u16,
) -> Result<Option<(Arc<crate::route::Cluster>, TcpListener)>, StartError> {
    let Some(cluster_opts) = opts.cluster.as_ref().filter(|c| c.is_enabled()) else {
        return Ok(None);
    };
    let tls = crate::tls::LinkTls::of(cluster_opts.tls.as_ref())?;
    let bind = host_port(&cluster_opts.host, bind_port(cluster_opts.port, 6222));
    let listener = TcpListener::bind(&bind)
        .await
        .map_err(|source| StartError::Cluster {
            addr: bind.clone(),
            source,
        })?;
    let listen = listener
        .local_addr()
        .map_err(|source| StartError::Cluster {
            addr: bind.clone(),
            source,
        })?;
    let system_account = routed_system_account(opts);
    let cluster = crate::route::Cluster::new(
        cluster_opts,
        system_account.as_deref(),
        listen,
        own_client_urls(opts, client_port),
        tls,
    )
    .map_err(|e| StartError::Auth(format!("cluster permissions: {e}")))?;
    Ok(Some((Arc::new(cluster), listener)))
}

/// The system account, which gets a route connection of its own, unless
/// there is none.
pub(crate) fn routed_system_account(opts: &Options) -> Option<String> {
    (!opts.no_system_account).then(|| {
        opts.system_account
            .clone()
            .unwrap_or_else(|| DEFAULT_SYSTEM_ACCOUNT.to_string())
    })
}

/// A nonce for nkey clients to sign: random bytes in URL-safe base64.
pub(crate) fn new_nonce() -> String {
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

/// The host the route listener is bound to, for its log line.
fn cluster_listen_host(opts: &Options) -> String {
    opts.cluster
        .as_ref()
        .map_or_else(String::new, |c| c.host.clone())
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
    pub async fn start(mut opts: Options) -> Result<RunningServer, StartError> {
        let auth = Authenticator::new(&opts).map_err(|e| StartError::Auth(e.join("; ")))?;
        // In operator mode the operator's JWT names the system account,
        // unless `system_account` does.
        if opts.system_account.is_none() {
            if let Some(key) = auth
                .operator()
                .and_then(|o| o.operator_system_account.clone())
            {
                opts.system_account = Some(key);
            }
        }
        if let Some(gannet_config::options::Resolver::Url(url)) = &opts.resolver {
            tracing::warn!("Account resolver URL({url}) is not supported: accounts come from resolver_preload and claim updates");
        }
        if let Some(operator) = auth.operator() {
            tracing::info!(
                "Trusted Operators: {} (accounts preloaded: {})",
                operator.operator_names.join(", "),
                operator.account_keys().len()
            );
        }
        crate::idle_spin::set_limit(opts.idle_spin);
        if auth.has_plaintext_passwords() {
            tracing::warn!("Plaintext passwords detected, use nkeys or bcrypt");
        }
        let tls = match &opts.tls {
            Some(t) => Some(crate::tls::server_config(t)?),
            None => None,
        };
        let TlsFlags {
            required: tls_required,
            verify: tls_verify,
            available: tls_available,
        } = TlsFlags::of(&opts);
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
        // The configured accounts come with `install_accounts`, below.
        let mut accounts: HashMap<String, Arc<Account>> = HashMap::new();
        accounts.insert(GLOBAL_ACCOUNT.to_string(), global.clone());
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
        let (gateways, gateway_listener) = match start_gateway(&opts, &id).await? {
            Some((g, l)) => (Some(g), Some(l)),
            None => (None, None),
        };
        let cluster = start_cluster(&opts, client_addr.port()).await?;
        let (cluster, route_listener) = match cluster {
            Some((c, l)) => (Some(c), Some(l)),
            None => (None, None),
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
            import_shadows: Mutex::new(std::collections::HashMap::new()),
            tasks: TaskTracker::new(),
            cluster,
            gateways,
            remote_servers: Mutex::new(HashMap::new()),
            leafs: Arc::default(),
            leaf_port: std::sync::atomic::AtomicI32::new(0),
            jetstream: std::sync::RwLock::new(None),
            reloader: std::sync::OnceLock::new(),
        });
        for account in server.accounts() {
            server.watch_interest(&account);
        }
        let weak = Arc::downgrade(&server);
        let internal_loop =
            tokio::task::spawn_blocking(move || crate::internal::run(weak, internal_input));
        match crate::resolver::load(&server) {
            Ok(0) => {}
            Ok(n) => tracing::info!("DirResolver - loaded {n} account JWTs"),
            Err(e) => return Err(StartError::Auth(format!("account resolver directory: {e}"))),
        }
        server.subscribe_system_services();

        let opts = server.options();
        let http_addr = match opts.http_port {
            Some(port) => {
                let host = opts.http_host.clone().unwrap_or_else(|| opts.host.clone());
                let bind = host_port(&host, bind_port(port, 8222));
                let addr = monitor::start(server.clone(), &bind)
                    .await
                    .map_err(|source| StartError::Monitor { addr: bind, source })?;
                server
                    .http_port
                    .store(i32::from(addr.port()), Ordering::Relaxed);
                tracing::info!("Starting http monitor on {}", host_port(&host, addr.port()));
                Some(addr)
            }
            None => None,
        };

        tracing::info!(
            "Listening for client connections on {}",
            host_port(&opts.host, client_addr.port())
        );
        server.install_accounts(None, &opts);
        server.install_operator_links();
        if let Some(js) = opts.jetstream.as_ref() {
            let js = crate::jetstream::start(&server, js).map_err(StartError::JetStream)?;
            server.set_jetstream(Some(js));
        }
        let accept = server
            .spawn(listener::accept_loop(server.clone(), listener))
            .abort_handle();
        if let (Some(cluster), Some(listener)) = (server.cluster(), route_listener) {
            tracing::info!("Cluster name is {}", cluster.name());
            if cluster.is_name_dynamic() {
                tracing::warn!("Cluster name was dynamically generated, consider setting one");
            }
            tracing::info!(
                "Listening for route connections on {}",
                host_port(&cluster_listen_host(&opts), cluster.listen.port())
            );
            server.spawn_background(crate::route::accept_loop(server.clone(), listener));
            crate::route::start_dialing(&server);
        }
        if let (Some(gateways), Some(listener)) = (server.gateways(), gateway_listener) {
            tracing::info!(
                "Gateway name is {}; listening for gateway connections on {}",
                gateways.name,
                gateways.listen
            );
            tracing::info!(
                "Address for gateway {:?} is {}",
                gateways.name,
                gateways.own_url()
            );
            server.spawn_background(crate::gateway::accept_loop(server.clone(), listener));
            crate::gateway::start_dialing(&server);
        }
        if let Some(leaf_opts) = opts.leafnodes.as_ref() {
            if let Some(tls) = &leaf_opts.tls {
                server
                    .leafs()
                    .set_tls_server(Some(crate::tls::server_config(tls)?));
            }
            if leaf_opts.port != 0 {
                let bind = host_port(&leaf_opts.host, bind_port(leaf_opts.port, 7422));
                let listener =
                    TcpListener::bind(&bind)
                        .await
                        .map_err(|source| StartError::Leaf {
                            addr: bind.clone(),
                            source,
                        })?;
                let port = listener.local_addr().map_or(0, |a| a.port());
                server.leaf_port.store(i32::from(port), Ordering::Relaxed);
                tracing::info!(
                    "Listening for leafnode connections on {}",
                    host_port(&leaf_opts.host, port)
                );
                server.spawn_background(crate::leaf::accept_loop(server.clone(), listener));
            }
            crate::leaf::start_remotes(&server);
        }
        server.spawn_background(crate::events::statsz_loop(server.clone()));
        server.spawn_background(crate::resolver::sync_loop(server.clone()));
        server.spawn_background(crate::events::conns_loop(server.clone()));
        server.spawn_background(crate::heap::trim_loop());
        Ok(RunningServer {
            server,
            client_addr,
            http_addr,
            accept,
            internal_loop: Mutex::new(Some(internal_loop)),
            stopped: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Subscribes the system services (when there is a system account) and
    /// the system account's and `$G`'s imports of them, each internal client
    /// with its own id as the reference numbers them: the system's, then the
    /// system account's, then `$G`'s. The configured accounts follow as
    /// `install_accounts` creates them.
    pub(super) fn subscribe_system_services(&self) {
        let Some(system) = self.system.clone() else {
            return;
        };
        let system_cid = self.next_client_id();
        crate::sysreq::subscribe_services(self, &system, system_cid);
        self.account_imports(&system);
        if !Arc::ptr_eq(&system, &self.global) {
            self.account_imports(&self.global);
        }
    }
}

/// What a client's INFO says of TLS, from the configuration in force (a
/// reload may turn TLS on or off).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TlsFlags {
    /// Clients must speak TLS.
    pub(crate) required: bool,
    /// Clients must show a certificate.
    pub(crate) verify: bool,
    /// Clients may speak TLS, or not.
    pub(crate) available: bool,
}

impl TlsFlags {
    pub(crate) fn of(opts: &Options) -> TlsFlags {
        let required = opts.tls.is_some()
            && !opts.allow_non_tls
            && !opts.tls.as_ref().is_some_and(|t| t.allow_legacy_clients);
        TlsFlags {
            required,
            verify: opts
                .tls
                .as_ref()
                .is_some_and(crate::tls::requires_client_certs),
            available: opts.tls.is_some() && !required,
        }
    }
}
