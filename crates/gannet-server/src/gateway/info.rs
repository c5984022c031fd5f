//! The JSON of the gateway handshake (nats-server's `Info` and `connectInfo`
//! as gateways use them): the INFO a server sends on its gateway port, the
//! commands that ride on INFO (gossip of other gateways, the switch of an
//! account to interest-only mode), and the CONNECT a dialing server sends.
use serde::{Deserialize, Serialize};

/// `gateway_cmd`: another gateway to connect to (`gateway`, `gateway_urls`).
pub const CMD_GOSSIP: u8 = 1;
/// `gateway_cmd`: the sender starts sending all its interest in the account
/// named by `gateway_cmd_payload`.
pub const CMD_ALL_SUBS_START: u8 = 2;
/// `gateway_cmd`: all interest in the account was sent: from now on only
/// messages with known interest are wanted.
pub const CMD_ALL_SUBS_COMPLETE: u8 = 3;

/// A gateway INFO, sent and read. Unknown fields of a peer's INFO are
/// ignored; missing ones take their defaults. The command INFOs nats-server
/// sends carry every plain field empty, as here.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewayInfo {
    pub server_id: String,
    pub server_name: String,
    pub version: String,
    pub proto: u32,
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
    /// The gateway (cluster) name of the server described.
    pub gateway: String,
    /// Every gateway URL of that cluster (`host:port`, no scheme).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gateway_urls: Vec<String>,
    /// This server's own gateway URL.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway_url: String,
    /// The sender understands `_GR_.` reply prefixes (always true here).
    #[serde(skip_serializing_if = "is_false")]
    pub gateway_nrp: bool,
    /// The sender puts every account in interest-only mode: the receiver
    /// sends nothing for an account it was not told interest in.
    #[serde(skip_serializing_if = "is_false")]
    pub gateway_iom: bool,
    #[serde(skip_serializing_if = "is_zero")]
    pub gateway_cmd: u8,
    /// The account of a command, as base64 (Go's encoding of a byte array).
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "base64_bytes",
        default
    )]
    pub gateway_cmd_payload: Option<Vec<u8>>,
}

/// The CONNECT a dialing server sends.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewayConnect {
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
    /// The dialer's gateway name (empty from a client or a route: refused).
    pub gateway: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

impl GatewayInfo {
    /// The JSON text of this INFO.
    pub fn to_json(&self) -> Vec<u8> {
        // Plain strings, numbers, booleans and a string list always serialise.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A command INFO (`gateway_cmd`) from gateway `name`, about `account`.
    pub fn command(name: &str, cmd: u8, account: &str) -> GatewayInfo {
        GatewayInfo {
            gateway: name.to_string(),
            gateway_cmd: cmd,
            gateway_cmd_payload: Some(account.as_bytes().to_vec()),
            ..GatewayInfo::default()
        }
    }

    /// The account a command names.
    pub fn command_account(&self) -> Option<String> {
        self.gateway_cmd_payload
            .as_deref()
            .and_then(|b| std::str::from_utf8(b).ok())
            .filter(|a| !a.is_empty())
            .map(str::to_string)
    }
}

impl GatewayConnect {
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Go encodes a `[]byte` field as standard base64 with padding.
mod base64_bytes {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => {
                s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        Ok(text.and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_carry_the_account_in_base64() {
        // As captured from nats-server 2.15: U1lT = SYS, JEc= = $G.
        let json = br#"{"server_id":"","server_name":"","version":"","proto":0,"go":"","host":"","port":0,"headers":false,"max_payload":0,"gateway":"C1","gateway_cmd":2,"gateway_cmd_payload":"JEc="}"#;
        let info: GatewayInfo = serde_json::from_slice(json).unwrap();
        assert_eq!(info.gateway_cmd, CMD_ALL_SUBS_START);
        assert_eq!(info.command_account().as_deref(), Some("$G"));
        let sent = GatewayInfo::command("C2", CMD_ALL_SUBS_COMPLETE, "SYS").to_json();
        let text = String::from_utf8(sent).unwrap();
        assert!(text.contains(r#""gateway_cmd":3"#), "{text}");
        assert!(text.contains(r#""gateway_cmd_payload":"U1lT""#), "{text}");
    }

    #[test]
    fn a_plain_info_has_no_command() {
        let json = br#"{"server_id":"N1","gateway":"C1","gateway_urls":["127.0.0.1:7222"],"gateway_nrp":true,"gateway_iom":true}"#;
        let info: GatewayInfo = serde_json::from_slice(json).unwrap();
        assert_eq!(info.gateway_cmd, 0);
        assert!(info.gateway_iom);
        assert_eq!(info.command_account(), None);
        assert_eq!(info.gateway_urls, vec!["127.0.0.1:7222".to_string()]);
    }
}
