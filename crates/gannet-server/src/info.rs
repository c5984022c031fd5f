//! The INFO document the server sends on connect (nats-server's `Info` in
//! `server.go`): the fields clients read, serialised once per connection.
use serde::Serialize;

/// The protocol version the server speaks.
pub const PROTO_VERSION: u8 = 1;

/// The version Gannet reports in INFO and `/varz`. Clients gate features on it, so it
/// follows the nats-server release whose behaviour Gannet matches.
pub const COMPAT_VERSION: &str = "2.15.0";

/// The JSON body of an `INFO` line.
#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    pub server_id: String,
    pub server_name: String,
    pub version: &'static str,
    pub proto: u8,
    pub host: String,
    pub port: u16,
    pub headers: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub auth_required: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub tls_required: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub tls_verify: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub tls_available: bool,
    pub max_payload: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub client_id: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connect_urls: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub ldm: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub connect_info: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_account: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ServerInfo {
    /// The INFO line for one connection: this template with the client's id and address.
    pub fn for_client(&self, client_id: u64, client_ip: String) -> ServerInfo {
        ServerInfo {
            client_id,
            client_ip,
            ..self.clone()
        }
    }

    /// The JSON text of this INFO.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain strings, numbers and booleans cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}
