//! `/routez`, `/gatewayz` and `/leafz` (nats-server's `Routez`, `Gatewayz`,
//! `Leafz`). Gannet has no routes, gateways or leafnodes yet, so these report
//! the reference's shapes for a server without any.
use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::Serialize;

use super::varz::timestamp;
use crate::server::Server;

/// The `/routez` document.
#[derive(Debug, Serialize)]
pub struct Routez {
    pub server_id: String,
    pub server_name: String,
    pub now: String,
    pub num_routes: usize,
    pub routes: Vec<serde_json::Value>,
}

/// The `/gatewayz` document.
#[derive(Debug, Serialize)]
pub struct Gatewayz {
    pub server_id: String,
    pub now: String,
    pub outbound_gateways: BTreeMap<String, serde_json::Value>,
    pub inbound_gateways: BTreeMap<String, serde_json::Value>,
}

/// The `/leafz` document.
#[derive(Debug, Serialize)]
pub struct Leafz {
    pub server_id: String,
    pub now: String,
    pub leafnodes: usize,
    pub leafs: Vec<serde_json::Value>,
}

pub fn routez(server: &Server) -> Routez {
    Routez {
        server_id: server.id().to_string(),
        server_name: server.name().to_string(),
        now: timestamp(SystemTime::now()),
        num_routes: 0,
        routes: Vec::new(),
    }
}

pub fn gatewayz(server: &Server) -> Gatewayz {
    Gatewayz {
        server_id: server.id().to_string(),
        now: timestamp(SystemTime::now()),
        outbound_gateways: BTreeMap::new(),
        inbound_gateways: BTreeMap::new(),
    }
}

pub fn leafz(server: &Server) -> Leafz {
    Leafz {
        server_id: server.id().to_string(),
        now: timestamp(SystemTime::now()),
        leafnodes: 0,
        leafs: Vec::new(),
    }
}
