//! The JSON the JetStream API sends and takes, as far as the commands read or
//! write it: stream and consumer configurations, their info and state, and
//! stored messages. Every field has a default, so replies from servers that
//! leave fields out (or add new ones) still read. Durations are nanoseconds
//! and times RFC 3339 text, as on the wire; `view` formats them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero_u64(value: &u64) -> bool {
    *value == 0
}

fn is_zero_i64(value: &i64) -> bool {
    *value == 0
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Placement {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SubjectTransform {
    pub src: String,
    pub dest: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Republish {
    pub src: String,
    pub dest: String,
    #[serde(skip_serializing_if = "is_false")]
    pub headers_only: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct StreamSource {
    pub name: String,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub opt_start_seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt_start_time: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub filter_subject: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ConsumerLimits {
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub inactive_threshold: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_ack_pending: i64,
}

/// A stream's configuration (`api.StreamConfig`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct StreamConfig {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    pub retention: String,
    pub max_consumers: i64,
    pub max_msgs: i64,
    pub max_bytes: i64,
    pub max_age: i64,
    pub max_msgs_per_subject: i64,
    pub max_msg_size: i64,
    pub discard: String,
    pub storage: String,
    pub num_replicas: i64,
    #[serde(skip_serializing_if = "is_false")]
    pub no_ack: bool,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub duplicate_window: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub compression: String,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub first_seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_transform: Option<SubjectTransform>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub republish: Option<Republish>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<StreamSource>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<StreamSource>,
    pub allow_direct: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub mirror_direct: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub sealed: bool,
    pub deny_delete: bool,
    pub deny_purge: bool,
    pub allow_rollup_hdrs: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub discard_new_per_subject: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub allow_msg_ttl: bool,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub subject_delete_marker_ttl: i64,
    #[serde(skip_serializing_if = "is_false")]
    pub allow_atomic: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub allow_batched: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub allow_msg_counter: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub allow_msg_schedules: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub persist_mode: String,
    #[serde(skip_serializing_if = "ConsumerLimits::is_unset")]
    pub consumer_limits: ConsumerLimits,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl ConsumerLimits {
    fn is_unset(&self) -> bool {
        self.inactive_threshold == 0 && self.max_ack_pending == 0
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LostData {
    pub msgs: Vec<u64>,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StreamState {
    pub messages: u64,
    pub bytes: u64,
    pub first_seq: u64,
    pub first_ts: String,
    pub last_seq: u64,
    pub last_ts: String,
    pub num_deleted: u64,
    pub deleted: Vec<u64>,
    pub num_subjects: u64,
    pub consumer_count: u64,
    pub lost: Option<LostData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PeerInfo {
    pub name: String,
    pub current: bool,
    pub offline: bool,
    /// Nanoseconds since the peer was last seen.
    pub active: i64,
    pub lag: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClusterInfo {
    pub name: String,
    pub raft_group: String,
    pub leader: String,
    pub leader_since: Option<String>,
    pub replicas: Vec<PeerInfo>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StreamInfo {
    pub config: StreamConfig,
    pub created: String,
    pub state: StreamState,
    pub cluster: Option<ClusterInfo>,
    pub ts: String,
}

/// A consumer's configuration (`api.ConsumerConfig`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ConsumerConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub durable_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub deliver_subject: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub deliver_group: String,
    pub deliver_policy: String,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub opt_start_seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt_start_time: Option<String>,
    pub ack_policy: String,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub ack_wait: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_deliver: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backoff: Vec<i64>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub filter_subject: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filter_subjects: Vec<String>,
    pub replay_policy: String,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub rate_limit_bps: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sample_freq: String,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_waiting: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_ack_pending: i64,
    #[serde(skip_serializing_if = "is_false")]
    pub flow_control: bool,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub idle_heartbeat: i64,
    #[serde(skip_serializing_if = "is_false")]
    pub headers_only: bool,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_batch: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_expires: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_bytes: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub inactive_threshold: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub num_replicas: i64,
    #[serde(skip_serializing_if = "is_false")]
    pub mem_storage: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause_until: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_policy: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub priority_groups: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SequenceInfo {
    pub consumer_seq: u64,
    pub stream_seq: u64,
    pub last_active: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
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
    pub cluster: Option<ClusterInfo>,
    pub push_bound: bool,
    pub paused: bool,
    /// Nanoseconds.
    pub pause_remaining: i64,
    pub ts: String,
}

/// A message as `STREAM.MSG.GET` returns it: headers and data in base64.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StoredMsg {
    pub subject: String,
    pub seq: u64,
    pub hdrs: Option<String>,
    pub data: Option<String>,
    pub time: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MsgGetResponse {
    pub message: StoredMsg,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PurgeResponse {
    pub success: bool,
    pub purged: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SuccessResponse {
    pub success: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_info_reply_reads_with_missing_and_extra_fields() {
        let text = r#"{"type":"io.nats.jetstream.api.v1.stream_info_response",
            "config":{"name":"ORDERS","subjects":["orders.>"],"retention":"limits",
            "max_msgs":-1,"storage":"file","num_replicas":1,"duplicate_window":120000000000,
            "future_field":{"x":1},"metadata":{"_nats.ver":"2.15.0"}},
            "created":"2026-12-07T06:22:56.212067269Z",
            "state":{"messages":2,"bytes":90,"first_seq":1,"last_seq":2,"consumer_count":0},
            "cluster":{"leader":"N1"},"ts":"2026-12-07T06:22:59.963719174Z"}"#;
        let info: StreamInfo = serde_json::from_str(text).unwrap();
        assert_eq!(info.config.name, "ORDERS");
        assert_eq!(info.config.max_msgs, -1);
        assert_eq!(info.config.max_bytes, 0);
        assert_eq!(info.state.bytes, 90);
        assert_eq!(info.cluster.map(|c| c.leader), Some("N1".to_string()));
    }

    #[test]
    fn a_config_leaves_out_what_is_not_set() {
        let config = ConsumerConfig {
            durable_name: "C".into(),
            deliver_policy: "all".into(),
            ack_policy: "explicit".into(),
            replay_policy: "instant".into(),
            max_deliver: -1,
            ..ConsumerConfig::default()
        };
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"durable_name":"C","deliver_policy":"all","ack_policy":"explicit",
                "max_deliver":-1,"replay_policy":"instant"})
        );
    }
}
