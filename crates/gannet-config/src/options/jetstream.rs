//! JetStream settings (nats-server's `parseJetStream`,
//! `parseJetStreamLimits`, `parseJetStreamForAccount` and
//! `validateJetStreamOptions`): the top-level `jetstream` key (a bool,
//! `enabled`/`disabled`, or a block), the top-level `store_dir`, the
//! `default_js_domain` map, and an account's `jetstream` (its limits).
//!
//! Sizes are numbers (size suffixes such as `1G` or `512MB` already applied
//! by the config lexer) or strings ending in `K`, `M`, `G` or `T` (powers of
//! 1024), as nats-server reads them; the error texts are its texts. The
//! checks nats-server makes when the server starts (the domain names,
//! `default_js_domain`, `server_name` and `cluster.name` for clustered
//! JetStream) are made at load time instead, so `-t` catches them.
//!
//! Differences from nats-server:
//! * Every problem is reported, each where it is written (nats-server stops
//!   at the first one of a block, and reports type errors at `jetstream`).
//! * The default sync policy is [`SyncPolicy::Batch`]: writes are fsynced
//!   before they are acknowledged (nats-server fsyncs every two minutes in
//!   the background). `sync_interval: always` or a duration still choose.
//! * A block with `enabled: false` is no JetStream ([`None`]); its settings
//!   are checked, then dropped.
//! * Encryption at rest (`key`, `prev_key` and their aliases, `tpm`) is
//!   refused: Gannet would store the data unencrypted. A `cipher` without a
//!   key (which changes nothing) warns.
//! * Keys of clustered JetStream's and nats-server's internals that Gannet
//!   does not act on (`extension_hint`, `meta_compact`, `meta_compact_size`,
//!   `meta_compact_sync`, `max_concurrent_io`, `limits { batch }`, an
//!   account's `cluster_traffic`) are checked as nats-server checks them,
//!   then warned about as not supported yet. `extension_hint` and a negative
//!   `max_outstanding_catchup` are checked also without a cluster.
//! * Negative `max_buffered_msgs`, `max_buffered_size` and
//!   `limits { duplicate_window }` are refused.
//! * `store_dir` given twice (at the top level and in the block, or twice
//!   in the block) is reported at the later one in file order (nats-server
//!   walks the keys in random order).
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use gannet_proto::subject::is_valid_subscribe_subject;

use super::cluster::{int, set_bool, string, wrong_type};
use super::convert::{go_value, Report};
use super::nkey::is_valid_public_account_key;
use super::Options;
use crate::conf::{self, Entry, Kind, Map};

/// The server's JetStream settings: the `jetstream { }` block (or
/// `jetstream: enabled`) and the top-level `store_dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JetStreamOptions {
    /// `store_dir` (aliases `storedir`, and `store` in the block), from the
    /// block or the top level, as written (nats-server keeps its data in
    /// the `jetstream` folder inside). `None` = the server's default
    /// (`<temp dir>/nats/jetstream`).
    pub store_dir: Option<PathBuf>,
    /// `max_memory_store` (`max_mem_store`, `max_mem`): bytes of memory
    /// storage. `None` (not given, or negative) = the server picks (75% of
    /// the machine's memory); `Some(0)` = no memory storage.
    pub max_memory: Option<i64>,
    /// `max_file_store` (`max_file`): bytes of file storage. `None` (not
    /// given, or negative) = the server picks (the disk's free space).
    pub max_file: Option<i64>,
    /// `sync_interval` (`sync`): when stored messages are fsynced.
    pub sync: SyncPolicy,
    /// `strict` (default true): the JetStream API refuses requests with
    /// unknown or invalid fields.
    pub strict: bool,
    /// `domain`: this server's JetStream domain (`$JS.<domain>.API`). A valid
    /// name once loaded: no whitespace, `.`, `*` or `>`.
    pub domain: Option<String>,
    /// `unique_tag`: the server-tag prefix no two replicas may share
    /// (trimmed and lower-cased, as nats-server keeps it).
    pub unique_tag: Option<String>,
    /// `max_outstanding_catchup`: bytes in flight while catching up a
    /// replica. `None` (not given, or 0) = the server's default.
    pub max_outstanding_catchup: Option<i64>,
    /// `max_buffered_msgs`: messages a stream may have queued for storing.
    /// `None` (not given, or 0) = the server's default.
    pub max_buffered_msgs: Option<i64>,
    /// `max_buffered_size`: bytes a stream may have queued for storing.
    /// `None` (not given, or 0) = the server's default.
    pub max_buffered_size: Option<i64>,
    /// `request_queue_limit`: JetStream API requests queued before new ones
    /// are dropped. `None` (not given, or 0 or less) = the server's default
    /// (10 000).
    pub request_queue_limit: Option<i64>,
    /// `info_queue_limit`: the same for info requests. `None` (not given,
    /// or 0 or less) = `request_queue_limit`.
    pub info_queue_limit: Option<i64>,
    /// `limits { }`: caps on what streams and consumers may ask for.
    pub limits: JetStreamLimits,
}

impl Default for JetStreamOptions {
    /// `jetstream: enabled`: every setting the server's default.
    fn default() -> Self {
        JetStreamOptions {
            store_dir: None,
            max_memory: None,
            max_file: None,
            sync: SyncPolicy::Batch,
            strict: true,
            domain: None,
            unique_tag: None,
            max_outstanding_catchup: None,
            max_buffered_msgs: None,
            max_buffered_size: None,
            request_queue_limit: None,
            info_queue_limit: None,
            limits: JetStreamLimits::default(),
        }
    }
}

/// When stored messages reach the disk (`sync_interval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// Gannet's default (also for `sync_interval: 0`): every batch of writes
    /// is flushed and fsynced before its acknowledgements go out (group
    /// commit).
    #[default]
    Batch,
    /// `sync_interval: always`: each write is synced (the same guarantee as
    /// `Batch` for Gannet).
    Always,
    /// `sync_interval: <duration>`: fsync every interval; acknowledgements go
    /// out before the data is on disk.
    Interval(Duration),
}

/// The block's `limits { }`: server-wide caps. `None` = no cap (not given,
/// or 0 or less, as nats-server reads them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JetStreamLimits {
    /// `max_ack_pending`: the most a consumer's `max_ack_pending` may be.
    pub max_ack_pending: Option<i64>,
    /// `max_ha_assets`: the most replicated streams and consumers per server.
    pub max_ha_assets: Option<i64>,
    /// `max_request_batch`: the most a pull consumer's batch may be.
    pub max_request_batch: Option<i64>,
    /// `duplicate_window`: the longest a stream's duplicate window may be.
    pub duplicate_window: Option<Duration>,
}

/// An account's `jetstream` (in `accounts { A: { jetstream: ... } }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountJetStream {
    /// False for `jetstream: false` / `disabled` (the account has no
    /// JetStream, as when the key is absent); true for `true`, `enabled`
    /// and a block.
    pub enabled: bool,
    /// The block's limits; all unlimited for the other forms.
    pub limits: AccountJsLimits,
}

/// An account's JetStream limits; -1 = unlimited (the default of each).
/// Values are kept as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountJsLimits {
    /// `max_memory` (`max_mem`, `mem`, `memory`): bytes of memory storage.
    pub max_memory: i64,
    /// `max_store` (`max_file`, `max_disk`, `store`, `disk`): bytes of file
    /// storage.
    pub max_store: i64,
    /// `max_streams` (`streams`).
    pub max_streams: i64,
    /// `max_consumers` (`consumers`).
    pub max_consumers: i64,
    /// `max_ack_pending`: the most a consumer's `max_ack_pending` may be.
    pub max_ack_pending: i64,
    /// `mem_max_stream_bytes` (`memory_max_stream_bytes`): the most a memory
    /// stream's `max_bytes` may be.
    pub memory_max_stream_bytes: i64,
    /// `disk_max_stream_bytes` (`store_max_stream_bytes`): the same for file
    /// streams.
    pub store_max_stream_bytes: i64,
    /// `max_bytes_required` (`max_stream_bytes`, `max_bytes`): streams must
    /// set `max_bytes`.
    pub max_bytes_required: bool,
}

impl Default for AccountJsLimits {
    /// Everything unlimited, `max_bytes` not required.
    fn default() -> Self {
        AccountJsLimits {
            max_memory: -1,
            max_store: -1,
            max_streams: -1,
            max_consumers: -1,
            max_ack_pending: -1,
            memory_max_stream_bytes: -1,
            store_max_stream_bytes: -1,
            max_bytes_required: false,
        }
    }
}

/// What a `jetstream` value says: on, off, or a block to read.
enum Switch<'e> {
    On,
    Off,
    Block(&'e Map),
}

/// A `jetstream` value: a bool, `enabled`/`enable`/`disabled`/`disable` in
/// any case, or a map. `None` (error recorded) for anything else.
fn switch<'e>(entry: &'e Entry, r: &mut Report) -> Option<Switch<'e>> {
    match &entry.value.kind {
        Kind::Bool(true) => Some(Switch::On),
        Kind::Bool(false) => Some(Switch::Off),
        Kind::Map(map) => Some(Switch::Block(map)),
        Kind::String(s) | Kind::Duration { text: s, .. } => match s.to_ascii_lowercase().as_str() {
            "enabled" | "enable" => Some(Switch::On),
            "disabled" | "disable" => Some(Switch::Off),
            _ => {
                r.error(
                    entry,
                    format!("Expected 'enabled' or 'disabled' for string value, got '{s}'"),
                );
                None
            }
        },
        other => {
            r.error(
                entry,
                format!(
                    "Expected map, bool or string to define JetStream, got {}",
                    other.go_type_name()
                ),
            );
            None
        }
    }
}

/// Reads the top-level `jetstream` entry. `None` = JetStream off (also when
/// the value was refused).
pub(crate) fn parse(entry: &Entry, r: &mut Report) -> Option<JetStreamOptions> {
    match switch(entry, r)? {
        Switch::On => Some(JetStreamOptions::default()),
        Switch::Off => None,
        Switch::Block(map) => {
            let (js, enabled) = block(map, r);
            enabled.then_some(js)
        }
    }
}

/// The keys of the `jetstream { }` block, and whether it enables JetStream.
fn block(map: &Map, r: &mut Report) -> (JetStreamOptions, bool) {
    let mut js = JetStreamOptions::default();
    let mut enabled = true;
    let mut key_given = false;
    let mut cipher: Option<&Entry> = None;
    for e in map {
        let key = e.key.to_ascii_lowercase();
        match key.as_str() {
            "enable" | "enabled" => set_bool(&mut enabled, e, r),
            "strict" => match e.value.as_bool() {
                Some(b) => js.strict = b,
                None => r.error(
                    e,
                    format!(
                        "Expected 'true' or 'false' for bool value, got '{}'",
                        go_value(&e.value)
                    ),
                ),
            },
            // Duplicates are found by `validate`, which sees the top level too.
            "store" | "store_dir" | "storedir" => {
                if let Some(dir) = string(e, r) {
                    js.store_dir = (!dir.is_empty()).then(|| PathBuf::from(dir));
                }
            }
            "sync" | "sync_interval" => {
                if let Some(policy) = sync_policy(e, r) {
                    js.sync = policy;
                }
            }
            "max_memory_store" | "max_mem_store" | "max_mem" => {
                if let Some(n) = storage_size(e, "max_mem_store", r) {
                    js.max_memory = (n >= 0).then_some(n);
                }
            }
            "max_file_store" | "max_file" => {
                if let Some(n) = storage_size(e, "max_file_store", r) {
                    js.max_file = (n >= 0).then_some(n);
                }
            }
            "domain" => {
                if let Some(domain) = string(e, r) {
                    if !domain.is_empty() && check_domain(e, domain, r) {
                        js.domain = Some(domain.to_string());
                    }
                }
            }
            "unique_tag" => {
                if let Some(tag) = string(e, r) {
                    let tag = tag.trim().to_lowercase();
                    js.unique_tag = (!tag.is_empty()).then_some(tag);
                }
            }
            "key" | "ek" | "encryption_key" | "prev_key" | "prev_ek" | "prev_encryption_key" => {
                if let Some(k) = string(e, r) {
                    // An empty key is no encryption, as in nats-server.
                    if !k.is_empty() {
                        encryption_refused(e, r);
                        key_given = true;
                    }
                }
            }
            "tpm" => {
                encryption_refused(e, r);
                key_given = true;
            }
            "cipher" => {
                if check_cipher(e, r) {
                    cipher = Some(e);
                }
            }
            "extension_hint" => {
                if let Some(hint) = string(e, r) {
                    let hint = hint.to_lowercase();
                    if matches!(hint.as_str(), "will_extend" | "no_extend" | "") {
                        not_supported(e, r);
                    } else {
                        r.error(
                            e,
                            format!("expected 'no_extend' for string value, got '{hint}'"),
                        );
                    }
                }
            }
            "limits" => {
                if let Some(limits) = limits(e, r) {
                    js.limits = limits;
                }
            }
            "max_outstanding_catchup" => {
                if let Some(n) = storage_size(e, &key, r) {
                    if n < 0 {
                        r.error(e, "jetstream max catchup cannot be negative");
                    } else {
                        js.max_outstanding_catchup = (n > 0).then_some(n);
                    }
                }
            }
            "max_buffered_size" => {
                if let Some(n) = storage_size(e, &key, r) {
                    js.max_buffered_size = non_negative(e, n, r);
                }
            }
            "max_buffered_msgs" => {
                if let Some(n) = parseable_size(e, r) {
                    js.max_buffered_msgs = non_negative(e, n, r);
                }
            }
            "request_queue_limit" => {
                if let Some(n) = parseable_size(e, r) {
                    js.request_queue_limit = (n > 0).then_some(n);
                }
            }
            "info_queue_limit" => {
                if let Some(n) = parseable_size(e, r) {
                    js.info_queue_limit = (n > 0).then_some(n);
                }
            }
            "meta_compact" => match e.value.as_i64() {
                Some(n) if n >= 0 => not_supported(e, r),
                _ => absolute_size_refused(e, r),
            },
            "meta_compact_size" => {
                if let Some(n) = storage_size(e, &key, r) {
                    if n < 0 {
                        absolute_size_refused(e, r);
                    } else {
                        not_supported(e, r);
                    }
                }
            }
            "meta_compact_sync" => {
                if e.value.as_bool().is_some() {
                    not_supported(e, r);
                } else {
                    wrong_type(e, "bool", r);
                }
            }
            "max_concurrent_io" => match e.value.as_i64() {
                Some(n) if (4..=8192).contains(&n) => not_supported(e, r),
                _ => r.error(
                    e,
                    format!(
                        "Expected an absolute size for {:?} between 4 and 8192, got {}",
                        e.key,
                        go_value(&e.value)
                    ),
                ),
            },
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("unknown field {:?}", e.key)),
        }
    }
    if let (Some(e), false) = (cipher, key_given) {
        not_supported(e, r);
    }
    (js, enabled)
}

/// `sync_interval`: `always` (any case), or a duration (a bare integer is
/// seconds, with nats-server's warning). Zero is the default policy.
fn sync_policy(e: &Entry, r: &mut Report) -> Option<SyncPolicy> {
    if e.value
        .as_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("always"))
    {
        return Some(SyncPolicy::Always);
    }
    let d = r.duration_or_seconds(e)?;
    Some(if d.is_zero() {
        SyncPolicy::Batch
    } else {
        SyncPolicy::Interval(d)
    })
}

/// The domain checks nats-server makes at start (`domain` here, a value of
/// `default_js_domain` elsewhere): `$JS.<domain>.API.>` must be a valid
/// subject and the name must hold no whitespace, `.`, `*` or `>`.
fn check_domain(e: &Entry, domain: &str, r: &mut Report) -> bool {
    let subject = domain_api(domain);
    if !is_valid_subscribe_subject(subject.as_bytes()) {
        r.error(
            e,
            format!("invalid domain name: derived {subject:?} is not a valid subject"),
        );
        return false;
    }
    if domain.contains([' ', '\t', '\r', '\n', '\x0c', '.', '*', '>']) {
        r.error(e, "invalid domain name: may not contain ., * or >");
        return false;
    }
    true
}

/// The JetStream API subjects of a domain.
fn domain_api(domain: &str) -> String {
    format!("$JS.{domain}.API.>")
}

fn encryption_refused(e: &Entry, r: &mut Report) {
    r.error(
        e,
        format!(
            "JetStream encryption ({:?}) is not supported: Gannet would store the data unencrypted",
            e.key
        ),
    );
}

/// `cipher`: `chacha`/`chachapoly` or `aes`, any case.
fn check_cipher(e: &Entry, r: &mut Report) -> bool {
    let Some(name) = string(e, r) else {
        return false;
    };
    match name.to_lowercase().as_str() {
        "chacha" | "chachapoly" | "aes" => true,
        _ => {
            r.error(e, format!("Unknown cipher type: {name:?}"));
            false
        }
    }
}

fn not_supported(e: &Entry, r: &mut Report) {
    r.warn(e, format!("jetstream.{} is not supported yet", e.key));
}

fn absolute_size_refused(e: &Entry, r: &mut Report) {
    r.error(
        e,
        format!(
            "Expected an absolute size for {:?}, got {}",
            e.key,
            go_value(&e.value)
        ),
    );
}

/// `None` for 0 (the default); negative values are refused.
fn non_negative(e: &Entry, n: i64, r: &mut Report) -> Option<i64> {
    if n < 0 {
        r.error(
            e,
            format!("{} can not be negative", e.key.to_ascii_lowercase()),
        );
        return None;
    }
    (n > 0).then_some(n)
}

/// An integer, with nats-server's text for anything else.
fn parseable_size(e: &Entry, r: &mut Report) -> Option<i64> {
    let n = e.value.as_i64();
    if n.is_none() {
        r.error(
            e,
            format!(
                "Expected a parseable size for {:?}, got {}",
                e.key,
                go_value(&e.value)
            ),
        );
    }
    n
}

/// A size as nats-server's `getStorageSize` reads it: an integer as is, or
/// a string of digits ending in `K`, `M`, `G` or `T` (powers of 1024; the
/// empty string is 0). Errors start with `name`.
fn storage_size(e: &Entry, name: &str, r: &mut Report) -> Option<i64> {
    let result = match &e.value.kind {
        Kind::Integer(n) => Ok(*n),
        Kind::String(s) | Kind::Duration { text: s, .. } => size_from_str(s),
        _ => Err("must be int64 or string".to_string()),
    };
    match result {
        Ok(n) => Some(n),
        Err(reason) => {
            r.error(e, format!("{name} {reason}"));
            None
        }
    }
}

/// The string form of a size; the error is the reason (Go's `strconv` text
/// where nats-server passes one through).
fn size_from_str(s: &str) -> Result<i64, String> {
    let Some(suffix) = s.chars().next_back() else {
        return Ok(0);
    };
    let prefix = &s[..s.len() - suffix.len_utf8()];
    let number = parse_go_int(prefix)?;
    let shift = match suffix {
        'K' => 10,
        'M' => 20,
        'G' => 30,
        'T' => 40,
        _ => return Err("sizes defined as strings must end in K, M, G, T".to_string()),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("size {s:?} is out of range"))
}

/// A decimal integer as Go's `strconv.ParseInt(text, 10, 64)` reads it, with
/// its error texts.
fn parse_go_int(text: &str) -> Result<i64, String> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.ParseInt: parsing {text:?}: invalid syntax"
        ));
    }
    text.parse()
        .map_err(|_| format!("strconv.ParseInt: parsing {text:?}: value out of range"))
}

/// The block's `limits { }`.
fn limits(e: &Entry, r: &mut Report) -> Option<JetStreamLimits> {
    let Some(map) = e.value.as_map() else {
        r.error(
            e,
            format!(
                "Expected a map to define JetStreamLimits, got {}",
                e.value.kind.go_type_name()
            ),
        );
        return None;
    };
    let mut limits = JetStreamLimits::default();
    let cap = |n: i64| (n > 0).then_some(n);
    for e in map {
        match e.key.to_ascii_lowercase().as_str() {
            "max_ack_pending" => {
                if let Some(n) = int(e, r) {
                    limits.max_ack_pending = cap(n);
                }
            }
            "max_ha_assets" => {
                if let Some(n) = int(e, r) {
                    limits.max_ha_assets = cap(n);
                }
            }
            "max_request_batch" => {
                if let Some(n) = int(e, r) {
                    limits.max_request_batch = cap(n);
                }
            }
            "duplicate_window" => {
                if let Some(d) = go_duration(e, r) {
                    limits.duplicate_window = (!d.is_zero()).then_some(d);
                }
            }
            "batch" => {
                if batch_limits(e, r) {
                    r.warn(e, "jetstream.limits.batch is not supported yet");
                }
            }
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("unknown field {:?}", e.key)),
        }
    }
    Some(limits)
}

/// A duration written as a string (a bare number is refused, as in
/// nats-server); negative ones are refused.
fn go_duration(e: &Entry, r: &mut Report) -> Option<Duration> {
    let text = string(e, r)?;
    match conf::parse_go_duration(text) {
        Ok(nanos) => match conf::nanos_to_duration(nanos) {
            Some(d) => Some(d),
            None => {
                r.error(
                    e,
                    format!("{} can not be negative", e.key.to_ascii_lowercase()),
                );
                None
            }
        },
        Err(err) => {
            r.error(e, err.to_string());
            None
        }
    }
}

/// `limits { batch { } }`, checked only; true when it had no errors.
fn batch_limits(e: &Entry, r: &mut Report) -> bool {
    let Some(map) = e.value.as_map() else {
        r.error(
            e,
            format!(
                "Expected a map to define batch limits, got {}",
                e.value.kind.go_type_name()
            ),
        );
        return false;
    };
    let errors_before = r.errors.len();
    for e in map {
        match e.key.to_ascii_lowercase().as_str() {
            "max_inflight_per_stream" | "max_inflight_total" | "max_msgs" => {
                int(e, r);
            }
            "timeout" => {
                go_duration(e, r);
            }
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("unknown field {:?}", e.key)),
        }
    }
    r.errors.len() == errors_before
}

/// Reads an account's `jetstream` entry (`account` names it in warnings).
/// `None` when the value was refused.
pub(crate) fn parse_account(
    entry: &Entry,
    account: &str,
    r: &mut Report,
) -> Option<AccountJetStream> {
    let map = match switch(entry, r)? {
        Switch::On => {
            return Some(AccountJetStream {
                enabled: true,
                limits: AccountJsLimits::default(),
            })
        }
        Switch::Off => return Some(AccountJetStream::default()),
        Switch::Block(map) => map,
    };
    let mut l = AccountJsLimits::default();
    for e in map {
        let slot = match e.key.to_ascii_lowercase().as_str() {
            "max_memory" | "max_mem" | "mem" | "memory" => &mut l.max_memory,
            "max_store" | "max_file" | "max_disk" | "store" | "disk" => &mut l.max_store,
            "max_streams" | "streams" => &mut l.max_streams,
            "max_consumers" | "consumers" => &mut l.max_consumers,
            "mem_max_stream_bytes" | "memory_max_stream_bytes" => &mut l.memory_max_stream_bytes,
            "disk_max_stream_bytes" | "store_max_stream_bytes" => &mut l.store_max_stream_bytes,
            "max_ack_pending" => &mut l.max_ack_pending,
            "max_bytes_required" | "max_stream_bytes" | "max_bytes" => {
                match e.value.as_bool() {
                    Some(b) => l.max_bytes_required = b,
                    None => r.error(
                        e,
                        format!(
                            "Expected a parseable bool for {:?}, got {}",
                            e.key,
                            go_value(&e.value)
                        ),
                    ),
                }
                continue;
            }
            "cluster_traffic" => {
                match e.value.as_str() {
                    Some("system" | "" | "owner") => r.warn(
                        e,
                        format!(
                            "accounts.{account}.jetstream.{} is not supported yet",
                            e.key
                        ),
                    ),
                    Some(_) => r.error(
                        e,
                        format!(
                            "Expected 'system' or 'owner' string value for {:?}, got {}",
                            e.key,
                            go_value(&e.value)
                        ),
                    ),
                    None => r.error(
                        e,
                        format!(
                            "Expected either 'system' or 'owner' string value for {:?}, got {}",
                            e.key,
                            go_value(&e.value)
                        ),
                    ),
                }
                continue;
            }
            _ if e.used_as_variable => continue,
            _ => {
                r.error(e, format!("unknown field {:?}", e.key));
                continue;
            }
        };
        if let Some(n) = parseable_size(e, r) {
            *slot = n;
        }
    }
    Some(AccountJetStream {
        enabled: true,
        limits: l,
    })
}

/// Reads `default_js_domain`: account (name, or public key in operator
/// mode) to the JetStream domain its clients use by default. Checked
/// against the rest of the options by [`validate`].
pub(crate) fn parse_default_domain(entry: &Entry, r: &mut Report) -> BTreeMap<String, String> {
    let Some(map) = entry.value.as_map() else {
        r.error(
            entry,
            format!(
                "error default_js_domain config: unsupported type {}",
                entry.value.kind.go_type_name()
            ),
        );
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for e in map {
        if let Some(domain) = string(e, r) {
            out.insert(e.key.clone(), domain.to_string());
        }
    }
    out
}

/// The checks that look beyond one key: `store_dir` given twice, the
/// top-level `store_dir` into the block's settings, `default_js_domain`
/// against the accounts, and what clustered JetStream requires.
pub(crate) fn validate(o: &mut Options, map: &Map, r: &mut Report) {
    check_store_dirs(map, r);
    if let Some(js) = o.jetstream.as_mut() {
        if js.store_dir.is_none() {
            js.store_dir = o.store_dir.clone();
        }
    }
    check_default_domains(o, map, r);
    check_cluster(o, map, r);
}

/// nats-server refuses a `store_dir` set once already (to a non-empty
/// path), at the top level or in the block.
fn check_store_dirs(map: &Map, r: &mut Report) {
    let mut set = false;
    for top in map {
        let entries: Vec<&Entry> = match top.key.to_ascii_lowercase().as_str() {
            "store_dir" | "storedir" => vec![top],
            "jetstream" => match top.value.as_map() {
                Some(block) => block
                    .iter()
                    .filter(|e| {
                        matches!(
                            e.key.to_ascii_lowercase().as_str(),
                            "store" | "store_dir" | "storedir"
                        )
                    })
                    .collect(),
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        for e in entries {
            let Some(dir) = e.value.as_str() else {
                continue;
            };
            if set {
                r.error(e, "Duplicate 'store_dir' configuration");
            }
            set |= !dir.is_empty();
        }
    }
}

/// nats-server's start-up checks of `default_js_domain`, each reported at
/// the account's entry.
fn check_default_domains(o: &Options, map: &Map, r: &mut Report) {
    let Some(block) = map
        .get_ignore_case("default_js_domain")
        .and_then(|e| e.value.as_map())
    else {
        return;
    };
    let system = o.system_account.as_deref().unwrap_or("$SYS");
    for e in block {
        let Some(domain) = e.value.as_str() else {
            continue;
        };
        let account = e.key.as_str();
        if o.operators.is_empty() {
            if account != super::accounts::GLOBAL_ACCOUNT {
                match o.accounts.iter().find(|a| a.name == account) {
                    None => {
                        r.error(
                            e,
                            format!(
                                "in non operator mode, `default_js_domain` references non existing account {account:?}"
                            ),
                        );
                        continue;
                    }
                    Some(a) if a.jetstream.is_some_and(|js| js.enabled) && !domain.is_empty() => {
                        r.error(
                            e,
                            format!(
                                "default_js_domain contains account name {account:?} with enabled JetStream"
                            ),
                        );
                        continue;
                    }
                    Some(_) => {}
                }
            }
        } else if !is_valid_public_account_key(account) {
            r.error(
                e,
                format!(
                    "default_js_domain contains account name {account:?}, which is not a valid public account nkey"
                ),
            );
            continue;
        }
        if account == system {
            r.error(
                e,
                format!("system account {account:?} can not be in default_js_domain"),
            );
            continue;
        }
        if !domain.is_empty() && !is_valid_subscribe_subject(domain_api(domain).as_bytes()) {
            r.error(
                e,
                format!(
                    "default_js_domain contains account {account:?} with invalid domain name {domain:?}"
                ),
            );
        }
    }
}

/// Clustered JetStream needs a server name and a cluster name (the
/// cluster's own, or the gateway's).
fn check_cluster(o: &Options, map: &Map, r: &mut Report) {
    if o.jetstream.is_none() || o.cluster.as_ref().is_none_or(|c| c.port == 0) {
        return;
    }
    let Some(at) = map.get_ignore_case("jetstream") else {
        return;
    };
    if o.server_name.is_none() {
        r.error(at, "jetstream cluster requires `server_name` to be set");
    } else if o.cluster.as_ref().is_some_and(|c| c.name.is_none()) {
        r.error(at, "jetstream cluster requires `cluster.name` to be set");
    }
}

#[cfg(test)]
mod tests;
