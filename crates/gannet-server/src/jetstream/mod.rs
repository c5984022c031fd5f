//! JetStream on one server: the accounts that have it, their streams, and
//! the API they are managed through.
//!
//! * [`JetStream`] is the server's: its store folder and limits, how durable
//!   a batch of writes is made before it is acknowledged, and each enabled
//!   account's [`JsAccount`] (its streams and limits).
//! * Each enabled account has internal subscriptions on the API's subjects
//!   ([`api::SUBJECTS`]), served on the internal loop by [`api`]: account info, stream and
//!   consumer management. What concerns one stream is passed to that
//!   stream's thread ([`stream`]), which owns its store and consumers.
//! * Streams are fed by inline internal subscriptions ([`capture`]).
//! * File streams are found again at start ([`persist`]), each store
//!   recovering its blocks and saying what it cut.
//!
//! The message store itself is the `gannet-store` crate.
pub(crate) mod advisory;
pub(crate) mod api;
pub(crate) mod capture;
pub(crate) mod consumer;
pub mod errors;
pub(crate) mod feeds;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub(crate) mod headers;
pub(crate) mod outlet;
pub(crate) mod persist;
pub(crate) mod stream;
pub mod types;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gannet_store::{FileStore, FileStoreConfig, MemStore, Store};

use crate::accounts::Account;
use crate::internal;
use crate::server::Server;
use stream::{Durability, StreamHandle};
use types::{AccountLimits, StreamConfig};

/// Whether `subject` has subscribers in `account`, here or on peers.
pub(crate) fn has_interest(account: &Account, subject: &[u8]) -> bool {
    !account.sublist.matches(subject).is_empty() || account.remote_matches(subject).is_some()
}

/// The server's JetStream.
pub struct JetStream {
    pub(crate) store_dir: PathBuf,
    pub(crate) domain: Option<String>,
    /// Memory and file storage the server offers (bytes).
    /// (Raised by a reload, never lowered.)
    max_memory: std::sync::atomic::AtomicI64,
    max_store: std::sync::atomic::AtomicI64,
    pub(crate) durability: Durability,
    /// Caps on what consumers may ask for (`jetstream { limits { } }`;
    /// a reload may change them).
    limits: Mutex<ServerLimits>,
    /// The internal client JetStream's subscriptions belong to.
    pub(crate) cid: u64,
    pub(crate) server: std::sync::Weak<Server>,
    accounts: Mutex<HashMap<String, Arc<JsAccount>>>,
    /// The "not enabled" answers of accounts without JetStream, ended when
    /// an account gets it (a claim update in operator mode).
    not_enabled: Mutex<HashMap<String, Arc<crate::subscription::Subscription>>>,
    pub(crate) api_total: AtomicU64,
    pub(crate) api_errors: AtomicU64,
}

/// An account with JetStream.
pub struct JsAccount {
    pub(crate) account: Arc<Account>,
    /// Deliver subjects of push consumers waiting for a subscriber, with
    /// their stream: a subscription arriving on one wakes the stream.
    pub(crate) push_waiting: Mutex<Vec<(String, std::sync::Weak<StreamHandle>)>>,
    pub(crate) api_total: AtomicU64,
    pub(crate) api_errors: AtomicU64,
    /// Its limits: from the config, or from its JWT (changed by a claim
    /// update).
    limits: Mutex<AccountLimits>,
    pub(crate) streams: Mutex<BTreeMap<String, Arc<StreamHandle>>>,
}

impl JsAccount {
    pub(crate) fn limits(&self) -> AccountLimits {
        *lock(&self.limits)
    }

    pub(crate) fn streams(&self) -> Vec<Arc<StreamHandle>> {
        lock(&self.streams).values().cloned().collect()
    }

    pub(crate) fn stream(&self, name: &str) -> Option<Arc<StreamHandle>> {
        lock(&self.streams).get(name).cloned()
    }

    /// Memory and file bytes the account's streams hold.
    pub(crate) fn usage(&self) -> (u64, u64) {
        let mut memory = 0;
        let mut store = 0;
        for s in self.streams() {
            let bytes = s.bytes.load(Ordering::Relaxed);
            if s.is_file() {
                store += bytes;
            } else {
                memory += bytes;
            }
        }
        (memory, store)
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `jetstream { limits { } }`: caps on consumers (0 = none).
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerLimits {
    pub max_ack_pending: i64,
    pub max_request_batch: i64,
}

impl ServerLimits {
    pub(crate) fn of(limits: &gannet_config::options::JetStreamLimits) -> ServerLimits {
        ServerLimits {
            max_ack_pending: limits.max_ack_pending.unwrap_or(0),
            max_request_batch: limits.max_request_batch.unwrap_or(0),
        }
    }
}

/// JetStream's settings, from the options.
#[derive(Debug, Clone)]
pub struct Settings {
    pub store_dir: PathBuf,
    pub max_memory: i64,
    pub max_store: i64,
    pub domain: Option<String>,
    /// `None`: every batch is synced before it is acknowledged.
    pub sync_interval: Option<Duration>,
    pub limits: ServerLimits,
}

impl JetStream {
    pub(crate) fn new(settings: Settings, cid: u64, server: std::sync::Weak<Server>) -> JetStream {
        JetStream {
            store_dir: settings.store_dir,
            domain: settings.domain,
            max_memory: std::sync::atomic::AtomicI64::new(settings.max_memory),
            max_store: std::sync::atomic::AtomicI64::new(settings.max_store),
            durability: settings
                .sync_interval
                .map_or(Durability::Batch, Durability::Interval),
            limits: Mutex::new(settings.limits),
            cid,
            server,
            accounts: Mutex::new(HashMap::new()),
            not_enabled: Mutex::new(HashMap::new()),
            api_total: AtomicU64::new(0),
            api_errors: AtomicU64::new(0),
        }
    }

    /// Memory storage the server offers, in bytes.
    pub(crate) fn max_memory(&self) -> i64 {
        self.max_memory.load(Ordering::Relaxed)
    }

    /// File storage the server offers, in bytes.
    pub(crate) fn max_store(&self) -> i64 {
        self.max_store.load(Ordering::Relaxed)
    }

    /// Caps on what consumers may ask for.
    pub(crate) fn server_limits(&self) -> ServerLimits {
        *lock(&self.limits)
    }

    /// New caps (a reload), for consumers made from now on.
    pub(crate) fn set_server_limits(&self, limits: ServerLimits) {
        *lock(&self.limits) = limits;
        tracing::info!("Reloaded: JetStream limits");
    }

    /// Raises the storage the server offers (a reload: nats-server lets
    /// these grow, not shrink).
    pub(crate) fn raise_limits(&self, max_memory: i64, max_store: i64) {
        self.max_memory.fetch_max(max_memory, Ordering::Relaxed);
        self.max_store.fetch_max(max_store, Ordering::Relaxed);
        tracing::info!(
            "JetStream limits now: memory {}, storage {}",
            friendly_bytes(self.max_memory()),
            friendly_bytes(self.max_store())
        );
    }

    pub(crate) fn accounts(&self) -> Vec<Arc<JsAccount>> {
        lock(&self.accounts).values().cloned().collect()
    }

    /// Turns JetStream on for `account`: its API, and its streams stored
    /// on disk.
    pub(crate) fn enable(
        self: &Arc<Self>,
        server: &Server,
        account: &Arc<Account>,
        limits: AccountLimits,
    ) {
        if let Some(jsa) = lock(&self.accounts).get(&account.name) {
            // Enabled already: new limits (a claim update) apply to what is
            // asked from now on; running streams keep theirs.
            let mut current = lock(&jsa.limits);
            if *current != limits {
                tracing::info!("JetStream limits of account '{}' updated", account.name);
                *current = limits;
            }
            return;
        }
        if let Some(sub) = lock(&self.not_enabled).remove(&account.name) {
            crate::subscription::end(&sub);
        }
        let jsa = Arc::new(JsAccount {
            account: account.clone(),
            push_waiting: Mutex::new(Vec::new()),
            api_total: AtomicU64::new(0),
            api_errors: AtomicU64::new(0),
            limits: Mutex::new(limits),
            streams: Mutex::new(BTreeMap::new()),
        });
        lock(&self.accounts).insert(account.name.clone(), jsa.clone());
        let waiting = Arc::downgrade(&jsa);
        account.add_interest_listener(Arc::new(move |change| {
            if !change.added || change.remote {
                return;
            }
            let Some(jsa) = waiting.upgrade() else {
                return;
            };
            let woken: Vec<Arc<StreamHandle>> = lock(&jsa.push_waiting)
                .iter()
                .filter(|(subject, _)| {
                    gannet_proto::subject::pattern_matches(change.subject, subject.as_bytes())
                })
                .filter_map(|(_, stream)| stream.upgrade())
                .collect();
            for stream in woken {
                stream.send(stream::Cmd::Wake);
            }
        }));
        let js = Arc::downgrade(self);
        let jsa_weak = Arc::downgrade(&jsa);
        let handler: internal::Handler = Arc::new(move |server, msg| {
            if let (Some(js), Some(jsa)) = (js.upgrade(), jsa_weak.upgrade()) {
                api::handle(server, &js, &jsa, msg);
            }
        });
        for (sid, subject) in api::SUBJECTS.iter().enumerate() {
            if let Some(sub) =
                internal::subscribe(account, self.cid, subject, sid as u64 + 1, handler.clone())
            {
                server.register_internal(sub);
            }
        }
        self.recover(&jsa);
    }

    /// Opens the streams of `jsa` found on disk.
    fn recover(self: &Arc<Self>, jsa: &Arc<JsAccount>) {
        let dir = persist::streams_dir(&self.store_dir, &jsa.account.name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !persist::is_stream_dir(&path) {
                if path.join("meta.inf").exists() {
                    tracing::warn!(
                        "JetStream skipped {}: a stream stored by another server",
                        path.display()
                    );
                }
                continue;
            }
            let (config, created) = match persist::read_stream_meta(&path) {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!("JetStream could not read stream {}: {e}", path.display());
                    continue;
                }
            };
            let started = std::time::Instant::now();
            match self.open_stream(jsa, config.clone(), created, true) {
                Ok(handle) => tracing::info!(
                    "  Restored {} messages for stream '{} > {}' in {:?}",
                    handle.msgs.load(Ordering::Relaxed),
                    jsa.account.name,
                    config.name,
                    started.elapsed()
                ),
                Err(e) => tracing::error!(
                    "JetStream could not restore stream '{} > {}': {e}",
                    jsa.account.name,
                    config.name
                ),
            }
        }
    }

    /// Opens (or creates) the store of a stream and starts its thread.
    pub(crate) fn open_stream(
        self: &Arc<Self>,
        jsa: &Arc<JsAccount>,
        config: StreamConfig,
        created: i64,
        recovering: bool,
    ) -> Result<Arc<StreamHandle>, String> {
        let limits = stream::limits_of(&config);
        let (store, dir): (Box<dyn Store>, Option<PathBuf>) = if config.storage == "memory" {
            (Box::new(MemStore::new(limits)), None)
        } else {
            let dir = persist::stream_dir(&self.store_dir, &jsa.account.name, &config.name);
            if !recovering {
                persist::write_stream_meta(&dir, &config, created).map_err(|e| e.to_string())?;
            }
            let (store, recovery) =
                FileStore::open(FileStoreConfig::new(persist::blocks_dir(&dir)), limits)
                    .map_err(|e| e.to_string())?;
            report_recovery(&jsa.account.name, &config.name, &recovery);
            (Box::new(store), Some(dir))
        };
        let consumers = dir
            .as_deref()
            .map(persist::read_consumers)
            .unwrap_or_default();
        let handle = stream::spawn(stream::Start {
            server: self.server.clone(),
            js: Arc::downgrade(self),
            account: jsa.account.clone(),
            config: config.clone(),
            created,
            store,
            dir,
            durability: self.durability,
            consumers,
            cid: self.cid,
            account_max_ack_pending: jsa.limits().max_ack_pending,
            jsa: Arc::downgrade(jsa),
        })
        .map_err(|e| e.to_string())?;
        capture::subscribe(&handle, &config, self.cid);
        lock(&jsa.streams).insert(config.name.clone(), handle.clone());
        Ok(handle)
    }

    /// Turns JetStream off while the server runs (a reload): every stream
    /// stops, its store synced and closed (its files stay for the next
    /// start), and the API stops answering in every account.
    pub(crate) fn disable(&self, server: &Server) {
        tracing::info!("Initiating JetStream Shutdown...");
        self.shutdown();
        server.forget_internal_of(self.cid);
        for (_, sub) in lock(&self.not_enabled).drain() {
            crate::subscription::end(&sub);
        }
        lock(&self.accounts).clear();
        tracing::info!("JetStream Shutdown");
    }

    /// Stops every stream's thread, each syncing its store first.
    pub(crate) fn shutdown(&self) {
        let mut waits = Vec::new();
        for jsa in self.accounts() {
            for s in jsa.streams() {
                capture::unsubscribe(&s);
                let (done, wait) = std::sync::mpsc::channel();
                if s.send(stream::Cmd::Stop(done)) {
                    waits.push(wait);
                }
            }
        }
        for wait in waits {
            let _ = wait.recv_timeout(Duration::from_secs(10));
        }
    }

    /// The configuration as JSZ and VARZ report it.
    pub(crate) fn config_json(&self) -> serde_json::Value {
        let mut config = serde_json::json!({
            "max_memory": self.max_memory(),
            "max_storage": self.max_store(),
            "store_dir": self.store_dir.join("jetstream").display().to_string(),
        });
        match self.durability {
            Durability::Batch => config["sync_always"] = serde_json::json!(true),
            Durability::Interval(d) => {
                config["sync_interval"] = serde_json::json!(d.as_nanos() as u64)
            }
        }
        if let Some(domain) = &self.domain {
            config["domain"] = serde_json::json!(domain);
        }
        config["strict"] = serde_json::json!(true);
        config
    }

    /// Totals over every account, for JSZ and VARZ.
    pub(crate) fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for jsa in self.accounts() {
            t.accounts += 1;
            for s in jsa.streams() {
                t.streams += 1;
                t.messages += s.msgs.load(Ordering::Relaxed);
                t.bytes += s.bytes.load(Ordering::Relaxed);
                t.consumers += s.consumers.load(Ordering::Relaxed);
                if s.is_file() {
                    t.store += s.bytes.load(Ordering::Relaxed);
                } else {
                    t.memory += s.bytes.load(Ordering::Relaxed);
                }
            }
        }
        t
    }
}

/// Counts over every stream of the server.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    pub accounts: u64,
    pub streams: u64,
    pub consumers: u64,
    pub messages: u64,
    pub bytes: u64,
    pub memory: u64,
    pub store: u64,
}

/// Says what opening a stream's store found wrong and mended.
fn report_recovery(account: &str, stream: &str, recovery: &gannet_store::Recovery) {
    if recovery.from_snapshot {
        tracing::debug!("JetStream stream '{account} > {stream}': index loaded from its snapshot");
    } else if let Some(why) = &recovery.snapshot_rejected {
        tracing::warn!(
            "JetStream stream '{account} > {stream}': index snapshot not used ({why}); every block read"
        );
    }
    if let Some(cut) = &recovery.truncated {
        tracing::warn!(
            "JetStream stream '{account} > {stream}': torn tail of {} cut at byte {} ({} bytes, {}); every record before it is kept",
            cut.path.display(),
            cut.offset,
            cut.bytes,
            cut.reason
        );
    }
    for cut in &recovery.corrupt {
        tracing::error!(
            "JetStream stream '{account} > {stream}': corrupt record in {} at byte {} ({}); the {} bytes after it were skipped",
            cut.path.display(),
            cut.offset,
            cut.reason,
            cut.bytes
        );
    }
    if recovery.skipped_records > 0 {
        tracing::warn!(
            "JetStream stream '{account} > {stream}': {} records out of sequence ignored",
            recovery.skipped_records
        );
    }
}

/// Starts JetStream as `options` say: the store folder, the limits, and the
/// accounts that have it (`$G` alone when no accounts are configured,
/// otherwise those with `jetstream` enabled). Accounts without it answer
/// `$JS.API.INFO` with "JetStream not enabled for account".
pub(crate) fn start(
    server: &Arc<Server>,
    options: &gannet_config::options::JetStreamOptions,
) -> Result<Arc<JetStream>, String> {
    use gannet_config::options::SyncPolicy;
    let started = std::time::Instant::now();
    tracing::info!("Starting JetStream");
    // Streams live under `<store_dir>/jetstream/`, as with nats-server.
    let base = match &options.store_dir {
        Some(dir) => dir.clone(),
        None => {
            tracing::warn!("Temporary storage directory used, data could be lost on system reboot");
            std::env::temp_dir().join("nats")
        }
    };
    let store_dir = base.join("jetstream");
    std::fs::create_dir_all(&store_dir).map_err(|e| {
        format!(
            "could not create storage directory {}: {e}",
            store_dir.display()
        )
    })?;
    let settings = Settings {
        store_dir: base,
        // Unset: three quarters of the machine's memory and the disk space
        // free where the store is, as nats-server picks them.
        max_memory: options.max_memory.unwrap_or_else(default_max_memory),
        max_store: options
            .max_file
            .unwrap_or_else(|| available_disk(&store_dir)),
        domain: options.domain.clone(),
        sync_interval: match options.sync {
            SyncPolicy::Batch | SyncPolicy::Always => None,
            SyncPolicy::Interval(d) => Some(d),
        },
        limits: ServerLimits::of(&options.limits),
    };
    tracing::info!("  Max Memory:      {}", friendly_bytes(settings.max_memory));
    tracing::info!("  Max Storage:     {}", friendly_bytes(settings.max_store));
    tracing::info!("  Store Directory: \"{}\"", store_dir.display());
    match settings.sync_interval {
        None => tracing::info!("  Durability:      each batch synced before it is acknowledged"),
        Some(d) => tracing::warn!(
            "  Durability:      synced every {d:?}: acknowledged messages can be lost in a crash"
        ),
    }
    if let Some(domain) = &settings.domain {
        tracing::info!("  Domain:          {domain}");
    }
    warn_unused(options);
    let cid = server.next_client_id();
    let js = Arc::new(JetStream::new(settings, cid, Arc::downgrade(server)));
    // Operator mode: the accounts whose JWT gives them JetStream first.
    enable_jwt_accounts(server, &js);
    let opts = server.options();
    let system = server.system_account();
    let configured: Vec<_> = opts.accounts.iter().collect();
    for account in server.accounts() {
        if system.as_ref().is_some_and(|s| Arc::ptr_eq(s, &account))
            || lock(&js.accounts).contains_key(&account.name)
        {
            continue;
        }
        let config = configured.iter().find(|a| a.name == account.name);
        let enabled = if configured.is_empty() {
            account.name == crate::accounts::GLOBAL_ACCOUNT
        } else {
            config
                .and_then(|a| a.jetstream.as_ref())
                .is_some_and(|j| j.enabled)
        };
        if enabled {
            let limits = config
                .and_then(|a| a.jetstream.as_ref())
                .map(|j| account_limits(&j.limits))
                .unwrap_or_default();
            js.enable(server, &account, limits);
        } else {
            not_enabled(&js, &account, cid);
        }
    }
    tracing::info!("Took {:?} to start JetStream", started.elapsed());
    Ok(js)
}

/// In operator mode, turns JetStream on for every account whose JWT gives it
/// storage (`mem_storage` or `disk_storage`, untiered or the `R1` tier),
/// with the JWT's limits. Run at start and after claim updates, which also
/// change the limits of accounts already enabled.
pub(crate) fn enable_jwt_accounts(server: &Server, js: &Arc<JetStream>) {
    let auth = server.authenticator();
    let Some(operator) = auth.operator() else {
        return;
    };
    for key in operator.account_keys() {
        let Some(resolved) = operator.account(&key) else {
            continue;
        };
        let limits = &resolved.claims.nats.limits;
        let tier = limits.tiered_limits.get("R1").unwrap_or(&limits.jetstream);
        if tier.mem_storage == 0 && tier.disk_storage == 0 {
            continue;
        }
        let account = server.account(Some(&key));
        js.enable(
            server,
            &account,
            AccountLimits {
                max_memory: tier.mem_storage,
                max_storage: tier.disk_storage,
                max_streams: tier.streams,
                max_consumers: tier.consumer,
                max_ack_pending: tier.max_ack_pending,
                memory_max_stream_bytes: tier.mem_max_stream_bytes,
                storage_max_stream_bytes: tier.disk_max_stream_bytes,
                max_bytes_required: tier.max_bytes_required,
            },
        );
    }
}

/// Settings read from the config that this server does not act on yet.
fn warn_unused(o: &gannet_config::options::JetStreamOptions) {
    let unused = [
        ("limits { max_ha_assets }", o.limits.max_ha_assets.is_some()),
        (
            "limits { duplicate_window }",
            o.limits.duplicate_window.is_some(),
        ),
        ("unique_tag", o.unique_tag.is_some()),
        ("strict: false", !o.strict),
        (
            "max_outstanding_catchup",
            o.max_outstanding_catchup.is_some(),
        ),
        ("max_buffered_msgs", o.max_buffered_msgs.is_some()),
        ("max_buffered_size", o.max_buffered_size.is_some()),
        ("request_queue_limit", o.request_queue_limit.is_some()),
        ("info_queue_limit", o.info_queue_limit.is_some()),
    ];
    for (key, given) in unused {
        if given {
            tracing::warn!("jetstream {key} is not supported yet; ignored");
        }
    }
}

fn account_limits(l: &gannet_config::options::AccountJsLimits) -> AccountLimits {
    AccountLimits {
        max_memory: l.max_memory,
        max_storage: l.max_store,
        max_streams: l.max_streams,
        max_consumers: l.max_consumers,
        max_ack_pending: l.max_ack_pending,
        memory_max_stream_bytes: l.memory_max_stream_bytes,
        storage_max_stream_bytes: l.store_max_stream_bytes,
        max_bytes_required: l.max_bytes_required,
    }
}

/// `$JS.API.INFO` in an account without JetStream.
fn not_enabled(js: &JetStream, account: &Arc<Account>, cid: u64) {
    let handler: internal::Handler = Arc::new(|server, msg| {
        let (Some(reply), Some(account)) = (msg.reply_str(), msg.sub.account()) else {
            return;
        };
        let body = types::error_response(
            "account_info_response",
            &errors::NOT_ENABLED_FOR_ACCOUNT.err(),
        );
        server.internal().send(&account, reply, body);
    });
    if let Some(sub) = internal::subscribe(account, cid, "$JS.API.INFO", 1, handler) {
        lock(&js.not_enabled).insert(account.name.clone(), sub);
    }
}

fn default_max_memory() -> i64 {
    const FALLBACK: i64 = 256 * 1024 * 1024;
    let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") else {
        return FALLBACK;
    };
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        .map_or(FALLBACK, |kb| kb * 1024 / 4 * 3)
}

fn available_disk(dir: &std::path::Path) -> i64 {
    match nix::sys::statvfs::statvfs(dir) {
        Ok(s) => i64::try_from(s.blocks_available() as u128 * s.fragment_size() as u128)
            .unwrap_or(i64::MAX),
        Err(_) => -1,
    }
}

/// Bytes as nats-server prints them in its start-up lines.
fn friendly_bytes(bytes: i64) -> String {
    if bytes < 0 {
        return "unlimited".to_string();
    }
    let units = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.2} {}", units[unit])
    }
}
