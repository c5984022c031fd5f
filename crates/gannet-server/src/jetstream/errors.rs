//! The JetStream API's errors: every error nats-server 2.15 answers with,
//! as its HTTP-like `code`, its `err_code` (what clients match on) and its
//! `description`. Descriptions with `{name}` placeholders are filled by
//! [`ApiError::with`]. The table is data, generated from the reference's
//! list of errors so that every text matches it byte for byte.
#![allow(dead_code)]

use serde::Serialize;

/// One API error, as it goes out in `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    pub code: u16,
    pub err_code: u16,
    pub description: String,
}

/// An entry of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorKind {
    pub code: u16,
    pub err_code: u16,
    pub description: &'static str,
}

impl ErrorKind {
    /// The error as it goes out, placeholders left as they are.
    pub fn err(self) -> ApiError {
        ApiError {
            code: self.code,
            err_code: self.err_code,
            description: self.description.to_string(),
        }
    }

    /// The error with each `{name}` replaced by its value.
    pub fn with(self, values: &[(&str, &dyn std::fmt::Display)]) -> ApiError {
        let mut description = self.description.to_string();
        for (name, value) in values {
            description = description.replace(&format!("{{{name}}}"), &value.to_string());
        }
        ApiError {
            code: self.code,
            err_code: self.err_code,
            description,
        }
    }
}

pub const ACCOUNT_RESOURCES_EXCEEDED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10002,
    description: "resource limits exceeded for account",
};
pub const ATOMIC_PUBLISH_CONTAINS_DUPLICATE_MESSAGE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10201,
    description: "atomic publish batch contains duplicate message id",
};
pub const ATOMIC_PUBLISH_DISABLED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10174,
    description: "atomic publish is disabled",
};
pub const ATOMIC_PUBLISH_INCOMPLETE_BATCH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10176,
    description: "atomic publish batch is incomplete",
};
pub const ATOMIC_PUBLISH_INVALID_BATCH_COMMIT: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10200,
    description: "atomic publish batch commit is invalid",
};
pub const ATOMIC_PUBLISH_INVALID_BATCH_ID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10179,
    description: "atomic publish batch ID is invalid",
};
pub const ATOMIC_PUBLISH_MISSING_SEQ: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10175,
    description: "atomic publish sequence is missing",
};
pub const ATOMIC_PUBLISH_TOO_LARGE_BATCH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10199,
    description: "atomic publish batch is too large: {size}",
};
pub const ATOMIC_PUBLISH_TOO_MANY_INFLIGHT: ErrorKind = ErrorKind {
    code: 429,
    err_code: 10210,
    description: "atomic publish too many inflight",
};
pub const ATOMIC_PUBLISH_UNSUPPORTED_HEADER_BATCH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10177,
    description: "atomic publish unsupported header used: {header}",
};
pub const BAD_REQUEST: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10003,
    description: "bad request",
};
pub const BATCH_PUBLISH_DISABLED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10205,
    description: "batch publish is disabled",
};
pub const BATCH_PUBLISH_INVALID_BATCH_ID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10207,
    description: "batch publish ID is invalid",
};
pub const BATCH_PUBLISH_INVALID_PATTERN: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10206,
    description: "batch publish pattern is invalid",
};
pub const BATCH_PUBLISH_TOO_MANY_INFLIGHT: ErrorKind = ErrorKind {
    code: 429,
    err_code: 10211,
    description: "batch publish too many inflight",
};
pub const BATCH_PUBLISH_UNKNOWN_BATCH_ID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10208,
    description: "batch publish ID unknown",
};
pub const CLUSTER_INCOMPLETE: ErrorKind = ErrorKind {
    code: 503,
    err_code: 10004,
    description: "incomplete results",
};
pub const CLUSTER_NO_PEERS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10005,
    description: "{err}",
};
pub const CLUSTER_NOT_ACTIVE: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10006,
    description: "JetStream not in clustered mode",
};
pub const CLUSTER_NOT_ASSIGNED: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10007,
    description: "JetStream cluster not assigned to this server",
};
pub const CLUSTER_NOT_AVAIL: ErrorKind = ErrorKind {
    code: 503,
    err_code: 10008,
    description: "JetStream system temporarily unavailable",
};
pub const CLUSTER_NOT_LEADER: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10009,
    description: "JetStream cluster can not handle request",
};
pub const CLUSTER_PEER_NOT_MEMBER: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10040,
    description: "peer not a member",
};
pub const CLUSTER_REQUIRED: ErrorKind = ErrorKind {
    code: 503,
    err_code: 10010,
    description: "JetStream clustering support required",
};
pub const CLUSTER_RESCUE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10224,
    description: "JetStream system rescue not applied: {err}",
};
pub const CLUSTER_SERVER_MEMBER_CHANGE_INFLIGHT: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10202,
    description: "cluster member change is in progress",
};
pub const CLUSTER_SERVER_NOT_MEMBER: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10044,
    description: "server is not a member of the cluster",
};
pub const CLUSTER_TAGS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10011,
    description: "tags placement not supported for operation",
};
pub const CLUSTER_UN_SUPPORT_FEATURE: ErrorKind = ErrorKind {
    code: 503,
    err_code: 10036,
    description: "not currently supported in clustered mode",
};
pub const CONSUMER_ACK_FC_REQUIRES_FC: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10219,
    description: "flow control ack policy requires flow control",
};
pub const CONSUMER_ACK_FC_REQUIRES_MAX_ACK_PENDING: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10220,
    description: "flow control ack policy requires max ack pending",
};
pub const CONSUMER_ACK_FC_REQUIRES_NO_ACK_WAIT: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10221,
    description: "flow control ack policy requires unset ack wait",
};
pub const CONSUMER_ACK_FC_REQUIRES_NO_MAX_DELIVER: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10222,
    description: "flow control ack policy requires unset max deliver",
};
pub const CONSUMER_ACK_FC_REQUIRES_PUSH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10218,
    description: "flow control ack policy requires a push based consumer",
};
pub const CONSUMER_ACK_POLICY_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10181,
    description: "consumer ack policy invalid",
};
pub const CONSUMER_ACK_WAIT_NEGATIVE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10183,
    description: "consumer ack wait needs to be positive",
};
pub const CONSUMER_ALREADY_EXISTS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10148,
    description: "consumer already exists",
};
pub const CONSUMER_BACK_OFF_NEGATIVE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10184,
    description: "consumer backoff needs to be positive",
};
pub const CONSUMER_BAD_DURABLE_NAME: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10103,
    description: "durable name can not contain '.', '*', '>'",
};
pub const CONSUMER_CONFIG_REQUIRED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10078,
    description: "consumer config required",
};
pub const CONSUMER_CREATE_DURABLE_AND_NAME_MISMATCH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10132,
    description: "Consumer Durable and Name have to be equal if both are provided",
};
pub const CONSUMER_CREATE: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10012,
    description: "{err}",
};
pub const CONSUMER_CREATE_FILTER_SUBJECT_MISMATCH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10131,
    description: "Consumer create request did not match filtered subject from create subject",
};
pub const CONSUMER_DELIVER_CYCLE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10081,
    description: "consumer deliver subject forms a cycle",
};
pub const CONSUMER_DELIVER_TO_WILDCARDS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10079,
    description: "consumer deliver subject has wildcards",
};
pub const CONSUMER_DESCRIPTION_TOO_LONG: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10107,
    description: "consumer description is too long, maximum allowed is {max}",
};
pub const CONSUMER_DIRECT_REQUIRES_EPHEMERAL: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10091,
    description: "consumer direct requires an ephemeral consumer",
};
pub const CONSUMER_DIRECT_REQUIRES_PUSH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10090,
    description: "consumer direct requires a push based consumer",
};
pub const CONSUMER_DOES_NOT_EXIST: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10149,
    description: "consumer does not exist",
};
pub const CONSUMER_DUPLICATE_FILTER_SUBJECTS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10136,
    description: "consumer cannot have both FilterSubject and FilterSubjects specified",
};
pub const CONSUMER_DURABLE_NAME_NOT_IN_SUBJECT: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10016,
    description: "consumer expected to be durable but no durable name set in subject",
};
pub const CONSUMER_DURABLE_NAME_NOT_MATCH_SUBJECT: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10017,
    description: "consumer name in subject does not match durable name in request",
};
pub const CONSUMER_DURABLE_NAME_NOT_SET: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10018,
    description: "consumer expected to be durable but a durable name was not set",
};
pub const CONSUMER_EMPTY_FILTER: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10139,
    description: "consumer filter in FilterSubjects cannot be empty",
};
pub const CONSUMER_EMPTY_GROUP_NAME: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10161,
    description: "Group name cannot be an empty string",
};
pub const CONSUMER_EPHEMERAL_WITH_DURABLE_IN_SUBJECT: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10019,
    description: "consumer expected to be ephemeral but detected a durable name set in subject",
};
pub const CONSUMER_EPHEMERAL_WITH_DURABLE_NAME: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10020,
    description: "consumer expected to be ephemeral but a durable name was set in request",
};
pub const CONSUMER_EXISTING_ACTIVE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10105,
    description: "consumer already exists and is still active",
};
pub const CONSUMER_FC_REQUIRES_PUSH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10089,
    description: "consumer flow control requires a push based consumer",
};
pub const CONSUMER_FILTER_NOT_SUBSET: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10093,
    description: "consumer filter subject is not a valid subset of the interest subjects",
};
pub const CONSUMER_HB_REQUIRES_PUSH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10088,
    description: "consumer idle heartbeat requires a push based consumer",
};
pub const CONSUMER_INACTIVE_THRESHOLD_EXCESS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10153,
    description: "consumer inactive threshold exceeds system limit of {limit}",
};
pub const CONSUMER_INVALID_DELIVER_SUBJECT: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10112,
    description: "invalid push consumer deliver subject",
};
pub const CONSUMER_INVALID_GROUP_NAME: ErrorKind = ErrorKind { code: 400, err_code: 10162, description: "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters" };
pub const CONSUMER_INVALID_POLICY: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10094,
    description: "{err}",
};
pub const CONSUMER_INVALID_PRIORITY_GROUP: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10160,
    description: "Provided priority group does not exist for this consumer",
};
pub const CONSUMER_INVALID_RESET: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10204,
    description: "invalid reset: {err}",
};
pub const CONSUMER_INVALID_SAMPLING: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10095,
    description: "failed to parse consumer sampling configuration: {err}",
};
pub const CONSUMER_MAX_DELIVER_BACKOFF: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10116,
    description: "max deliver is required to be > length of backoff values",
};
pub const CONSUMER_MAX_PENDING_ACK_EXCESS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10121,
    description: "consumer max ack pending exceeds system limit of {limit}",
};
pub const CONSUMER_MAX_PENDING_ACK_POLICY_REQUIRED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10082,
    description: "consumer requires ack policy for max ack pending",
};
pub const CONSUMER_MAX_REQUEST_BATCH_EXCEEDED_F: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10125,
    description: "consumer max request batch exceeds server limit of {limit}",
};
pub const CONSUMER_MAX_REQUEST_BATCH_NEGATIVE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10114,
    description: "consumer max request batch needs to be > 0",
};
pub const CONSUMER_MAX_REQUEST_EXPIRES_TOO_SMALL: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10115,
    description: "consumer max request expires needs to be >= 1ms",
};
pub const CONSUMER_MAX_WAITING_NEGATIVE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10087,
    description: "consumer max waiting needs to be positive",
};
pub const CONSUMER_METADATA_LENGTH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10135,
    description: "consumer metadata exceeds maximum size of {limit}",
};
pub const CONSUMER_MULTIPLE_FILTERS_NOT_ALLOWED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10137,
    description: "consumer with multiple subject filters cannot use subject based API",
};
pub const CONSUMER_NAME_CONTAINS_PATH_SEPARATORS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10127,
    description: "Consumer name can not contain path separators",
};
pub const CONSUMER_NAME_EXIST: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10013,
    description: "consumer name already in use",
};
pub const CONSUMER_NAME_TOO_LONG: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10102,
    description: "consumer name is too long, maximum allowed is {max}",
};
pub const CONSUMER_NOT_FOUND: ErrorKind = ErrorKind {
    code: 404,
    err_code: 10014,
    description: "consumer not found",
};
pub const CONSUMER_OFFLINE: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10119,
    description: "consumer is offline",
};
pub const CONSUMER_OFFLINE_REASON: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10195,
    description: "consumer is offline: {err}",
};
pub const CONSUMER_ON_MAPPED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10092,
    description: "consumer direct on a mapped consumer",
};
pub const CONSUMER_OVERLAPPING_SUBJECT_FILTERS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10138,
    description: "consumer subject filters cannot overlap",
};
pub const CONSUMER_PINNED_TTL_WITHOUT_PRIORITY_POLICY_NONE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10197,
    description: "PinnedTTL cannot be set when PriorityPolicy is none",
};
pub const CONSUMER_PRIORITY_GROUP_WITH_POLICY_NONE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10196,
    description: "consumer can not have priority groups when policy is none",
};
pub const CONSUMER_PRIORITY_POLICY_WITHOUT_GROUP: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10159,
    description: "Setting PriorityPolicy requires at least one PriorityGroup to be set",
};
pub const CONSUMER_PULL_NOT_DURABLE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10085,
    description: "consumer in pull mode requires a durable name",
};
pub const CONSUMER_PULL_REQUIRES_ACK: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10084,
    description: "consumer in pull mode requires explicit ack policy on workqueue stream",
};
pub const CONSUMER_PULL_WITH_RATE_LIMIT: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10086,
    description: "consumer in pull mode can not have rate limit set",
};
pub const CONSUMER_PUSH_MAX_WAITING: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10080,
    description: "consumer in push mode can not set max waiting",
};
pub const CONSUMER_PUSH_WITH_PRIORITY_GROUP: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10178,
    description: "priority groups can not be used with push consumers",
};
pub const CONSUMER_REPLACEMENT_WITH_DIFFERENT_NAME: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10106,
    description: "consumer replacement durable config not the same",
};
pub const CONSUMER_REPLAY_POLICY_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10182,
    description: "consumer replay policy invalid",
};
pub const CONSUMER_REPLICAS_EXCEEDS_STREAM: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10126,
    description: "consumer config replica count exceeds parent stream",
};
pub const CONSUMER_REPLICAS_SHOULD_MATCH_STREAM: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10134,
    description: "consumer config replicas must match interest retention stream's replicas",
};
pub const CONSUMER_SMALL_HEARTBEAT: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10083,
    description: "consumer idle heartbeat needs to be >= 100ms",
};
pub const CONSUMER_STORE_FAILED: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10104,
    description: "error creating store for consumer: {err}",
};
pub const CONSUMER_STREAM_IDENTITY_MISMATCH_F: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10225,
    description: "consumer's stream identity does not match: {msg}",
};
pub const CONSUMER_WQ_CONSUMER_NOT_DELIVER_ALL: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10101,
    description: "consumer must be deliver all on workqueue stream",
};
pub const CONSUMER_WQ_CONSUMER_NOT_UNIQUE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10100,
    description: "filtered consumer not unique on workqueue stream",
};
pub const CONSUMER_WQ_MULTIPLE_UNFILTERED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10099,
    description: "multiple non-filtered consumers not allowed on workqueue stream",
};
pub const CONSUMER_WQ_REQUIRES_EXPLICIT_ACK: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10098,
    description: "workqueue stream requires explicit ack",
};
pub const CONSUMER_WITH_FLOW_CONTROL_NEEDS_HEARTBEATS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10108,
    description: "consumer with flow control also needs heartbeats",
};
pub const INSUFFICIENT_RESOURCES: ErrorKind = ErrorKind {
    code: 503,
    err_code: 10023,
    description: "insufficient resources",
};
pub const INVALID_JSON: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10025,
    description: "invalid JSON: {err}",
};
pub const MAXIMUM_CONSUMERS_LIMIT: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10026,
    description: "maximum consumers limit reached",
};
pub const MAXIMUM_STREAMS_LIMIT: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10027,
    description: "maximum number of streams reached",
};
pub const MEMORY_RESOURCES_EXCEEDED: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10028,
    description: "insufficient memory resources available",
};
pub const MESSAGE_COUNTER_BROKEN: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10172,
    description: "message counter is broken",
};
pub const MESSAGE_INCR_DISABLED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10168,
    description: "message counters is disabled",
};
pub const MESSAGE_INCR_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10171,
    description: "message counter increment is invalid",
};
pub const MESSAGE_INCR_MISSING: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10169,
    description: "message counter increment is missing",
};
pub const MESSAGE_INCR_PAYLOAD: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10170,
    description: "message counter has payload",
};
pub const MESSAGE_SCHEDULES_DISABLED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10188,
    description: "message schedules is disabled",
};
pub const MESSAGE_SCHEDULES_PATTERN_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10189,
    description: "message schedules pattern is invalid",
};
pub const MESSAGE_SCHEDULES_ROLLUP_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10192,
    description: "message schedules invalid rollup",
};
pub const MESSAGE_SCHEDULES_SCHEDULER_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10212,
    description: "message schedules invalid scheduler",
};
pub const MESSAGE_SCHEDULES_SOURCE_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10203,
    description: "message schedules source is invalid",
};
pub const MESSAGE_SCHEDULES_TTL_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10191,
    description: "message schedules invalid per-message TTL",
};
pub const MESSAGE_SCHEDULES_TARGET_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10190,
    description: "message schedules target is invalid",
};
pub const MESSAGE_SCHEDULES_TIME_ZONE_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10223,
    description: "message schedules time zone is invalid",
};
pub const MESSAGE_SOURCE_HDR_NOT_ALLOWED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10227,
    description: "message stream source header is not allowed",
};
pub const MESSAGE_TTL_DISABLED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10166,
    description: "per-message TTL is disabled",
};
pub const MESSAGE_TTL_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10165,
    description: "invalid per-message TTL",
};
pub const MIRROR_CONSUMER_REQUIRES_ACK_FC: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10214,
    description: "stream mirror consumer requires flow control ack policy",
};
pub const MIRROR_CONSUMER_SETUP_FAILED: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10029,
    description: "{err}",
};
pub const MIRROR_DURABLE_CONSUMER_CFG_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10213,
    description: "stream mirror consumer config is invalid",
};
pub const MIRROR_INVALID_STREAM_NAME: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10142,
    description: "mirrored stream name is invalid",
};
pub const MIRROR_INVALID_SUBJECT_FILTER: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10151,
    description: "mirror transform source: {err}",
};
pub const MIRROR_INVALID_TRANSFORM_DESTINATION: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10154,
    description: "mirror transform: {err}",
};
pub const MIRROR_MAX_MESSAGE_SIZE_TOO_BIG: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10030,
    description: "stream mirror must have max message size >= source",
};
pub const MIRROR_MULTIPLE_FILTERS_NOT_ALLOWED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10150,
    description: "mirror with multiple subject transforms cannot also have a single subject filter",
};
pub const MIRROR_OVERLAPPING_SUBJECT_FILTERS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10152,
    description: "mirror subject filters can not overlap",
};
pub const MIRROR_WITH_ATOMIC_PUBLISH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10198,
    description: "stream mirrors can not also use atomic publishing",
};
pub const MIRROR_WITH_BATCH_PUBLISH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10209,
    description: "stream mirrors can not also use batch publishing",
};
pub const MIRROR_WITH_COUNTERS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10173,
    description: "stream mirrors can not also calculate counters",
};
pub const MIRROR_WITH_FIRST_SEQ: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10143,
    description: "stream mirrors can not have first sequence configured",
};
pub const MIRROR_WITH_MSG_SCHEDULES: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10186,
    description: "stream mirrors can not also schedule messages",
};
pub const MIRROR_WITH_SOURCES: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10031,
    description: "stream mirrors can not also contain other sources",
};
pub const MIRROR_WITH_START_SEQ_AND_TIME: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10032,
    description: "stream mirrors can not have both start seq and start time configured",
};
pub const MIRROR_WITH_SUBJECT_FILTERS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10033,
    description: "stream mirrors can not contain filtered subjects",
};
pub const MIRROR_WITH_SUBJECTS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10034,
    description: "stream mirrors can not contain subjects",
};
pub const NO_ACCOUNT: ErrorKind = ErrorKind {
    code: 503,
    err_code: 10035,
    description: "account not found",
};
pub const NO_LIMITS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10120,
    description: "no JetStream default or applicable tiered limit present",
};
pub const NO_MESSAGE_FOUND: ErrorKind = ErrorKind {
    code: 404,
    err_code: 10037,
    description: "no message found",
};
pub const NOT_EMPTY_REQUEST: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10038,
    description: "expected an empty request payload",
};
pub const NOT_ENABLED: ErrorKind = ErrorKind {
    code: 503,
    err_code: 10076,
    description: "JetStream not enabled",
};
pub const NOT_ENABLED_FOR_ACCOUNT: ErrorKind = ErrorKind {
    code: 503,
    err_code: 10039,
    description: "JetStream not enabled for account",
};
pub const PEDANTIC: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10157,
    description: "pedantic mode: {err}",
};
pub const PEER_REMAP: ErrorKind = ErrorKind {
    code: 503,
    err_code: 10075,
    description: "peer remap failed",
};
pub const RAFT_GENERAL: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10041,
    description: "{err}",
};
pub const REPLICAS_COUNT_CANNOT_BE_NEGATIVE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10133,
    description: "replicas count cannot be negative",
};
pub const REQUIRED_API_LEVEL: ErrorKind = ErrorKind {
    code: 412,
    err_code: 10185,
    description: "JetStream minimum api level required",
};
pub const RESTORE_SUBSCRIBE_FAILED: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10042,
    description: "JetStream unable to subscribe to restore snapshot {subject}: {err}",
};
pub const SEQUENCE_NOT_FOUND: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10043,
    description: "sequence {seq} not found",
};
pub const SNAPSHOT_DELIVER_SUBJECT_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10015,
    description: "deliver subject not valid",
};
pub const SOURCE_CONSUMER_REQUIRES_ACK_FC: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10217,
    description: "stream source consumer requires flow control ack policy",
};
pub const SOURCE_CONSUMER_SETUP_FAILED: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10045,
    description: "{err}",
};
pub const SOURCE_DUPLICATE_DETECTED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10140,
    description: "duplicate source configuration detected",
};
pub const SOURCE_DURABLE_CONSUMER_CFG_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10215,
    description: "stream source consumer config is invalid",
};
pub const SOURCE_DURABLE_CONSUMER_DUPLICATE_DETECTED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10216,
    description: "duplicate stream source consumer detected",
};
pub const SOURCE_INVALID_STREAM_NAME: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10141,
    description: "sourced stream name is invalid",
};
pub const SOURCE_INVALID_SUBJECT_FILTER: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10145,
    description: "source transform source: {err}",
};
pub const SOURCE_INVALID_TRANSFORM_DESTINATION: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10146,
    description: "source transform: {err}",
};
pub const SOURCE_MAX_MESSAGE_SIZE_TOO_BIG: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10046,
    description: "stream source must have max message size >= target",
};
pub const SOURCE_MULTIPLE_FILTERS_NOT_ALLOWED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10144,
    description: "source with multiple subject transforms cannot also have a single subject filter",
};
pub const SOURCE_OVERLAPPING_SUBJECT_FILTERS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10147,
    description: "source filters can not overlap",
};
pub const SOURCE_WITH_MSG_SCHEDULES: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10187,
    description: "stream source can not also schedule messages",
};
pub const STORAGE_RESOURCES_EXCEEDED: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10047,
    description: "insufficient storage resources available",
};
pub const STREAM_ASSIGNMENT: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10048,
    description: "{err}",
};
pub const STREAM_CREATE: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10049,
    description: "{err}",
};
pub const STREAM_DELETE: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10050,
    description: "{err}",
};
pub const STREAM_DUPLICATE_MESSAGE_CONFLICT: ErrorKind = ErrorKind {
    code: 409,
    err_code: 10158,
    description: "duplicate message id is in process",
};
pub const STREAM_EXPECTED_LAST_SEQ_PER_SUBJECT_INVALID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10193,
    description: "missing sequence for expected last sequence per subject",
};
pub const STREAM_EXPECTED_LAST_SEQ_PER_SUBJECT_NOT_READY: ErrorKind = ErrorKind {
    code: 503,
    err_code: 10163,
    description: "expected last sequence per subject temporarily unavailable",
};
pub const STREAM_EXTERNAL_API_OVERLAP: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10021,
    description: "stream external api prefix {prefix} must not overlap with {subject}",
};
pub const STREAM_EXTERNAL_DEL_PREFIX_OVERLAPS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10022,
    description: "stream external delivery prefix {prefix} overlaps with stream subject {subject}",
};
pub const STREAM_GENERAL_ERROR_F: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10051,
    description: "{err}",
};
pub const STREAM_HEADER_EXCEEDS_MAXIMUM: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10097,
    description: "header size exceeds maximum allowed of 64k",
};
pub const STREAM_INFO_MAX_SUBJECTS: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10117,
    description: "subject details would exceed maximum allowed",
};
pub const STREAM_INVALID_CONFIG_F: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10052,
    description: "{err}",
};
pub const STREAM_INVALID: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10096,
    description: "stream not valid",
};
pub const STREAM_INVALID_EXTERNAL_DELIVERY_SUBJ: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10024,
    description: "stream external delivery prefix {prefix} must not contain wildcards",
};
pub const STREAM_LIMITS: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10053,
    description: "{err}",
};
pub const STREAM_MAX_BYTES_REQUIRED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10113,
    description: "account requires a stream config to have max bytes set",
};
pub const STREAM_MAX_STREAM_BYTES_EXCEEDED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10122,
    description: "stream max bytes exceeds account limit max stream bytes",
};
pub const STREAM_MESSAGE_EXCEEDS_MAXIMUM: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10054,
    description: "message size exceeds maximum allowed",
};
pub const STREAM_MIN_LAST_SEQ: ErrorKind = ErrorKind {
    code: 412,
    err_code: 10180,
    description: "min last sequence",
};
pub const STREAM_MIRROR_NOT_UPDATABLE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10055,
    description: "stream mirror configuration can not be updated",
};
pub const STREAM_MISMATCH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10056,
    description: "stream name in subject does not match request",
};
pub const STREAM_MOVE_AND_SCALE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10123,
    description: "can not move and scale a stream in a single update",
};
pub const STREAM_MOVE_IN_PROGRESS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10124,
    description: "stream move already in progress",
};
pub const STREAM_MSG_DELETE_FAILED_F: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10057,
    description: "{err}",
};
pub const STREAM_NAME_CONTAINS_PATH_SEPARATORS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10128,
    description: "Stream name can not contain path separators",
};
pub const STREAM_NAME_EXIST: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10058,
    description: "stream name already in use with a different configuration",
};
pub const STREAM_NAME_EXIST_RESTORE_FAILED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10130,
    description: "stream name already in use, cannot restore",
};
pub const STREAM_NOT_FOUND: ErrorKind = ErrorKind {
    code: 404,
    err_code: 10059,
    description: "stream not found",
};
pub const STREAM_NOT_MATCH: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10060,
    description: "expected stream does not match",
};
pub const STREAM_OFFLINE: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10118,
    description: "stream is offline",
};
pub const STREAM_OFFLINE_REASON: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10194,
    description: "stream is offline: {err}",
};
pub const STREAM_PURGE_FAILED_F: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10110,
    description: "{err}",
};
pub const STREAM_RECONFIGURE_IN_PROGRESS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10226,
    description: "stream reconfiguration already in progress",
};
pub const STREAM_RECONFIGURE_NOT_IN_PROGRESS: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10129,
    description: "stream reconfiguration not in progress",
};
pub const STREAM_REPLICAS_NOT_SUPPORTED: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10074,
    description: "replicas > 1 not supported in non-clustered mode",
};
pub const STREAM_REPLICAS_NOT_UPDATABLE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10061,
    description: "Replicas configuration can not be updated",
};
pub const STREAM_RESTORE: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10062,
    description: "restore failed: {err}",
};
pub const STREAM_ROLLUP_FAILED_F: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10111,
    description: "{err}",
};
pub const STREAM_SEALED: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10109,
    description: "invalid operation on sealed stream",
};
pub const STREAM_SEQUENCE_NOT_MATCH: ErrorKind = ErrorKind {
    code: 503,
    err_code: 10063,
    description: "expected stream sequence does not match",
};
pub const STREAM_SNAPSHOT: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10064,
    description: "snapshot failed: {err}",
};
pub const STREAM_STORE_FAILED_F: ErrorKind = ErrorKind {
    code: 503,
    err_code: 10077,
    description: "{err}",
};
pub const STREAM_SUBJECT_OVERLAP: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10065,
    description: "subjects overlap with an existing stream",
};
pub const STREAM_TEMPLATE_CREATE: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10066,
    description: "{err}",
};
pub const STREAM_TEMPLATE_DELETE: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10067,
    description: "{err}",
};
pub const STREAM_TEMPLATE_NOT_FOUND: ErrorKind = ErrorKind {
    code: 404,
    err_code: 10068,
    description: "template not found",
};
pub const STREAM_TOO_MANY_REQUESTS: ErrorKind = ErrorKind {
    code: 429,
    err_code: 10167,
    description: "too many requests",
};
pub const STREAM_TRANSFORM_INVALID_DESTINATION: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10156,
    description: "stream transform: {err}",
};
pub const STREAM_TRANSFORM_INVALID_SOURCE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10155,
    description: "stream transform source: {err}",
};
pub const STREAM_UPDATE: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10069,
    description: "{err}",
};
pub const STREAM_WRONG_LAST_MSG_ID: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10070,
    description: "wrong last msg ID: {id}",
};
pub const STREAM_WRONG_LAST_SEQUENCE_CONSTANT: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10164,
    description: "wrong last sequence",
};
pub const STREAM_WRONG_LAST_SEQUENCE: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10071,
    description: "wrong last sequence: {seq}",
};
pub const TEMP_STORAGE_FAILED: ErrorKind = ErrorKind {
    code: 500,
    err_code: 10072,
    description: "JetStream unable to open temp storage for restore",
};
pub const TEMPLATE_NAME_NOT_MATCH_SUBJECT: ErrorKind = ErrorKind {
    code: 400,
    err_code: 10073,
    description: "template name in subject does not match request",
};
