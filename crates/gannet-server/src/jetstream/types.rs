//! The JetStream API's JSON documents: stream and consumer configurations
//! (with the defaults nats-server fills in), their info and state, publish
//! acknowledgements and account info. Field names and order are the
//! reference's; durations are nanoseconds and times RFC 3339 with
//! nanoseconds, as on its wire.
use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::errors::ApiError;

/// nats-server's JetStream API level (`_nats.level`) and version.
pub const API_LEVEL: u32 = 5;
pub const SERVER_VERSION: &str = crate::info::COMPAT_VERSION;

/// Two minutes: the default duplicate window.
pub const DEFAULT_DUPLICATE_WINDOW: i64 = 120_000_000_000;
/// Thirty seconds: the default ack wait.
pub const DEFAULT_ACK_WAIT: i64 = 30_000_000_000;
/// Five seconds: how long an ephemeral consumer outlives its last client.
pub const DEFAULT_INACTIVE_THRESHOLD: i64 = 5_000_000_000;
pub const DEFAULT_MAX_ACK_PENDING: i64 = 1000;
pub const DEFAULT_MAX_WAITING: i64 = 512;

/// Nanoseconds since the epoch, now.
pub fn now_nanos() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// RFC 3339 in UTC as Go writes it (`RFC3339Nano`): the fraction of a second
/// without its trailing zeros, none when it is whole; 0 is Go's zero time.
pub fn rfc3339(nanos: i64) -> String {
    if nanos == 0 {
        return "0001-01-01T00:00:00Z".to_string();
    }
    let text =
        DateTime::<Utc>::from_timestamp_nanos(nanos).to_rfc3339_opts(SecondsFormat::Nanos, true);
    let body = text.trim_end_matches('Z').trim_end_matches('0');
    format!("{}Z", body.trim_end_matches('.'))
}

/// Reads an RFC 3339 time back into nanoseconds (Go's zero time is 0).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    if text.starts_with("0001-01-01") {
        return Some(0);
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// `{"src": .., "dest": ..}`: a subject transform of a stream or source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transform {
    #[serde(default)]
    pub src: String,
    #[serde(default)]
    pub dest: String,
}

/// `republish`: stored messages also published on `dest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Republish {
    #[serde(default)]
    pub src: String,
    #[serde(default)]
    pub dest: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub headers_only: bool,
}

/// A stream's configuration, as created and as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamConfig {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_transform: Option<Transform>,
    #[serde(default = "limits")]
    pub retention: String,
    #[serde(default)]
    pub max_consumers: i64,
    #[serde(default)]
    pub max_msgs: i64,
    #[serde(default)]
    pub max_bytes: i64,
    #[serde(default)]
    pub max_age: i64,
    #[serde(default)]
    pub max_msgs_per_subject: i64,
    #[serde(default)]
    pub max_msg_size: i64,
    #[serde(default = "old")]
    pub discard: String,
    #[serde(default = "file")]
    pub storage: String,
    #[serde(default)]
    pub num_replicas: i64,
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_ack: bool,
    #[serde(default)]
    pub duplicate_window: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<Value>>,
    #[serde(default = "none_compression")]
    pub compression: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seq: Option<u64>,
    #[serde(default)]
    pub allow_direct: bool,
    #[serde(default)]
    pub mirror_direct: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub republish: Option<Republish>,
    #[serde(default)]
    pub sealed: bool,
    #[serde(default)]
    pub deny_delete: bool,
    #[serde(default)]
    pub deny_purge: bool,
    #[serde(default)]
    pub allow_rollup_hdrs: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub discard_new_per_subject: bool,
    #[serde(default)]
    pub consumer_limits: ConsumerLimits,
    #[serde(default)]
    pub allow_msg_ttl: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub subject_delete_marker_ttl: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Fields this server keeps and reports but does not act on.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn limits() -> String {
    "limits".to_string()
}
fn old() -> String {
    "old".to_string()
}
fn file() -> String {
    "file".to_string()
}
fn none_compression() -> String {
    "none".to_string()
}

/// `consumer_limits`: defaults for the stream's consumers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerLimits {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub inactive_threshold: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_ack_pending: i64,
}

/// A stream's counters (`state`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamState {
    pub messages: u64,
    pub bytes: u64,
    pub first_seq: u64,
    pub first_ts: String,
    pub last_seq: u64,
    pub last_ts: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subjects: Option<BTreeMap<String, u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub num_deleted: u64,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub num_subjects: u64,
    pub consumer_count: u64,
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// A consumer's configuration, as created and as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durable_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default = "all")]
    pub deliver_policy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_start_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_start_time: Option<String>,
    #[serde(default = "none")]
    pub ack_policy: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ack_wait: i64,
    #[serde(default)]
    pub max_deliver: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backoff: Vec<i64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub filter_subject: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter_subjects: Vec<String>,
    #[serde(default = "instant")]
    pub replay_policy: String,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub rate_limit_bps: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sample_freq: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_waiting: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_ack_pending: i64,
    #[serde(default, skip_serializing_if = "is_false")]
    pub flow_control: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub idle_heartbeat: i64,
    #[serde(default, skip_serializing_if = "is_false")]
    pub headers_only: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_batch: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_expires: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_bytes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_group: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub inactive_threshold: i64,
    #[serde(default)]
    pub num_replicas: i64,
    #[serde(default, skip_serializing_if = "is_false")]
    pub mem_storage: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priority_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub priority_timeout: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn all() -> String {
    "all".to_string()
}
fn none() -> String {
    "none".to_string()
}
fn instant() -> String {
    "instant".to_string()
}

/// `{"consumer_seq": .., "stream_seq": .., "last_active": ..}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceInfo {
    pub consumer_seq: u64,
    pub stream_seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active: Option<String>,
}

/// A consumer's info document (without the response's `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerInfo {
    pub stream_name: String,
    pub name: String,
    pub created: String,
    pub config: ConsumerConfig,
    pub delivered: SequenceInfo,
    pub ack_floor: SequenceInfo,
    pub num_ack_pending: u64,
    pub num_redelivered: u64,
    pub num_waiting: u64,
    pub num_pending: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_bound: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_remaining: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_groups: Option<Value>,
    pub ts: String,
}

/// A stream's info document (without the response's `type`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamInfo {
    pub config: StreamConfig,
    pub created: String,
    pub state: StreamState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<Value>>,
    pub ts: String,
}

/// Account limits, as `$JS.API.INFO` reports them (-1 = none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AccountLimits {
    pub max_memory: i64,
    pub max_storage: i64,
    pub max_streams: i64,
    pub max_consumers: i64,
    pub max_ack_pending: i64,
    pub memory_max_stream_bytes: i64,
    pub storage_max_stream_bytes: i64,
    pub max_bytes_required: bool,
}

impl Default for AccountLimits {
    fn default() -> Self {
        AccountLimits {
            max_memory: -1,
            max_storage: -1,
            max_streams: -1,
            max_consumers: -1,
            max_ack_pending: -1,
            memory_max_stream_bytes: -1,
            storage_max_stream_bytes: -1,
            max_bytes_required: false,
        }
    }
}

/// An API response: `type`, then the error if any, then the fields.
pub fn response(kind: &str, error: Option<&ApiError>, fields: Value) -> Vec<u8> {
    let mut out = Map::new();
    out.insert(
        "type".to_string(),
        Value::String(format!("io.nats.jetstream.api.v1.{kind}")),
    );
    if let Some(e) = error {
        out.insert(
            "error".to_string(),
            serde_json::to_value(e).unwrap_or(Value::Null),
        );
    }
    if let Value::Object(fields) = fields {
        out.extend(fields);
    }
    serde_json::to_vec(&Value::Object(out)).unwrap_or_default()
}

/// An error response of `kind` with no other fields.
pub fn error_response(kind: &str, error: &ApiError) -> Vec<u8> {
    response(kind, Some(error), Value::Object(Map::new()))
}

/// Removes `null` fields, so they read as absent (Go reads them into zero
/// values; clients send them).
pub fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// The metadata keys nats-server adds to every stored configuration.
pub fn with_version_metadata(metadata: &mut BTreeMap<String, String>) {
    metadata.insert("_nats.level".to_string(), API_LEVEL.to_string());
    metadata
        .entry("_nats.req.level".to_string())
        .or_insert_with(|| "0".to_string());
    metadata.insert("_nats.ver".to_string(), SERVER_VERSION.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_the_reference_prints_them() {
        assert_eq!(rfc3339(0), "0001-01-01T00:00:00Z");
        let t = 1_796_623_077_655_268_041;
        assert_eq!(rfc3339(t), "2026-12-07T05:57:57.655268041Z");
        assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        // Go drops the fraction's trailing zeros.
        assert_eq!(rfc3339(t - 41), "2026-12-07T05:57:57.655268Z");
        assert_eq!(rfc3339(t - 31), "2026-12-07T05:57:57.65526801Z");
        assert_eq!(rfc3339(t - 655_268_041), "2026-12-07T05:57:57Z");
        assert_eq!(parse_rfc3339(&rfc3339(t - 31)), Some(t - 31));
    }

    #[test]
    fn a_minimal_stream_config_reads_with_defaults() {
        let c: StreamConfig = serde_json::from_str(r#"{"name":"S","subjects":["a"]}"#).unwrap();
        assert_eq!(c.retention, "limits");
        assert_eq!(c.storage, "file");
        assert_eq!(c.discard, "old");
        assert!(c.other.is_empty());
    }
}
