//! The JSON of the route handshake (nats-server's `Info` and `connectInfo` as
//! routes use them): the INFO a server sends on its cluster port and in
//! gossip, and the CONNECT a dialing server sends first.
use serde::{Deserialize, Serialize};

/// A route INFO, sent and read. Unknown fields of a peer's INFO are ignored;
/// missing ones take their defaults.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteInfo {
    pub server_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub server_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version: String,
    pub proto: u32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub go: String,
    pub host: String,
    pub port: u16,
    pub headers: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub auth_required: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub tls_required: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub tls_verify: bool,
    pub max_payload: usize,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nonce: String,
    /// The route URL of the server described, in gossip
    /// (`nats-route://host:port/`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ip: String,
    pub cluster: String,
    #[serde(skip_serializing_if = "is_false")]
    pub cluster_dynamic: bool,
    /// The client URLs of the server described.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connect_urls: Vec<String>,
    /// The peer pools its routes (absent, or 0, from a peer that does not).
    #[serde(skip_serializing_if = "is_zero")]
    pub route_pool_size: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub route_pool_idx: i64,
    /// The account a pinned route connection is for.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub route_account: String,
    /// Gateway news riding on routes (`gateway_cmd` 1): a gateway the
    /// sender connects to, for this server to connect to as well.
    #[serde(skip_serializing_if = "is_zero_u8")]
    pub gateway_cmd: u8,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gateway_urls: Vec<String>,
    /// The sender's own gateway URL (`host:port`), when it has gateways.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway_url: String,
    /// How a gossiped INFO is to be spread further (0 = default).
    #[serde(skip_serializing_if = "is_zero_u8")]
    pub gossip_mode: u8,
    /// The server is in lame duck mode.
    #[serde(skip_serializing_if = "is_false")]
    pub ldm: bool,
    /// The sender's `permissions { import }`: what it takes from us.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import: Option<RoutePermission>,
    /// The sender's `permissions { export }`: what it sends us (it drops
    /// our interest in anything else).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<RoutePermission>,
}

/// One side of a route's permissions, as INFO carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoutePermission {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny: Option<Vec<String>>,
}

impl RoutePermission {
    pub(crate) fn of(config: &gannet_config::options::SubjectPermission) -> RoutePermission {
        RoutePermission {
            allow: config.allow.clone(),
            deny: config.deny.clone(),
        }
    }

    pub(crate) fn to_config(&self) -> gannet_config::options::SubjectPermission {
        gannet_config::options::SubjectPermission {
            allow: self.allow.clone(),
            deny: self.deny.clone(),
        }
    }
}

/// The CONNECT a dialing server sends.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteConnect {
    pub echo: bool,
    pub verbose: bool,
    pub pedantic: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
    pub tls_required: bool,
    pub headers: bool,
    /// The dialer's server id.
    pub name: String,
    pub cluster: String,
    #[serde(skip_serializing_if = "is_false")]
    pub cluster_dynamic: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_zero_u8(n: &u8) -> bool {
    *n == 0
}

impl RouteInfo {
    /// The JSON text of this INFO.
    pub fn to_json(&self) -> Vec<u8> {
        // Plain strings, numbers and booleans always serialise.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl RouteConnect {
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}
