//! The INFO document the server sends on connect (nats-server's `Info` in
//! `server.go`): the fields clients read, serialised once per connection.
use serde::Serialize;

/// The protocol version the server speaks.
pub const PROTO_VERSION: u8 = 1;

/// The version Gannet reports in INFO and `/varz`. Clients gate features on it, so it
/// follows the nats-server release whose behaviour Gannet matches.
pub const COMPAT_VERSION: &str = "2.15.0";

/// The commit Gannet was built from: its first 7 hex digits, as nats-server
/// shortens its own. Empty when not built from a git checkout, and then left
/// out of INFO and `/varz` as the reference leaves out an empty one.
pub const GIT_COMMIT: &str = env!("GANNET_GIT_COMMIT");

/// What Gannet reports in INFO's and `/varz`'s `go`, where nats-server reports
/// the Go toolchain it was built with (`runtime.Version()`, `go1.26.10`): the
/// Rust toolchain, in the same shape, `rust1.95.0`.
///
/// The field is a plain string to every client that reads it: nats.go ignores
/// it; nats.java keeps it as a string (`"0.0.0"` when absent); nats.net and
/// async-nats deserialise it into a string defaulting to empty. None parses it
/// as a Go version, so reporting a Go version Gannet was not built with would
/// only mislead whoever reads it (`nats server info` shows it as is). It is
/// always sent, as the reference always sends its own.
pub const GO_VERSION: &str = concat!("rust", env!("GANNET_RUSTC_VERSION"));

/// The JetStream API level in INFO's `api_lvl`: nats-server 2.15's
/// `JSApiLevel`, which it sends with JetStream off too. Clients read it to
/// gate JetStream API features; that Gannet has no JetStream they learn from
/// INFO's `jetstream`, which it leaves out as the reference does when off.
pub const JS_API_LEVEL: u32 = 5;

/// The JSON body of an `INFO` line.
#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    pub server_id: String,
    pub server_name: String,
    pub version: &'static str,
    pub proto: u8,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub git_commit: &'static str,
    pub go: &'static str,
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
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub api_lvl: u32,
    /// The server's curve (x25519) public key, from [`new_xkey`].
    #[serde(skip_serializing_if = "String::is_empty")]
    pub xkey: String,
}

/// A fresh curve (x25519) key for one server run, as nats-server makes at
/// start; returns its public key, nkey-encoded (`X...`, 56 characters), for
/// INFO's `xkey`.
///
/// The reference keeps the private half to open what auth callout services
/// seal to this key. Gannet has no auth callout, so nothing is ever sealed to
/// it and the private half is dropped here.
pub fn new_xkey() -> String {
    nkeys::XKey::new().public_key()
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_u32(n: &u32) -> bool {
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
