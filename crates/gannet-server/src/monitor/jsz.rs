//! `/jsz` (nats-server's `JSInfo`): Gannet has no JetStream, so this is the
//! reference's document for a server with JetStream disabled.
use std::time::SystemTime;

use serde::Serialize;

use super::varz::timestamp;
use crate::server::Server;

/// JetStream API call counters.
#[derive(Debug, Default, Serialize)]
pub struct JsApi {
    pub level: u64,
    pub total: u64,
    pub errors: u64,
}

/// JetStream limits.
#[derive(Debug, Default, Serialize)]
pub struct JsConfig {
    pub max_memory: i64,
    pub max_storage: i64,
}

/// The `/jsz` document, fields in the reference's order.
#[derive(Debug, Serialize)]
pub struct Jsz {
    pub memory: u64,
    pub storage: u64,
    pub reserved_memory: u64,
    pub reserved_storage: u64,
    pub accounts: u64,
    pub ha_assets: u64,
    pub api: JsApi,
    pub server_id: String,
    pub now: String,
    pub disabled: bool,
    pub config: JsConfig,
    pub streams: u64,
    pub consumers: u64,
    pub messages: u64,
    pub bytes: u64,
    pub total: u64,
}

pub fn jsz(server: &Server) -> Jsz {
    Jsz {
        memory: 0,
        storage: 0,
        reserved_memory: 0,
        reserved_storage: 0,
        accounts: 0,
        ha_assets: 0,
        api: JsApi::default(),
        server_id: server.id().to_string(),
        now: timestamp(SystemTime::now()),
        disabled: true,
        config: JsConfig::default(),
        streams: 0,
        consumers: 0,
        messages: 0,
        bytes: 0,
        total: 0,
    }
}
