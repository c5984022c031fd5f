//! `/routez`, `/gatewayz` and `/leafz` (nats-server's `Routez`, `Gatewayz`,
//! `Leafz`). Routes and leaf connections are listed as the reference lists
//! them; Gannet has no gateways yet, so `/gatewayz` reports the shape for a
//! server without any.
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::connz::go_duration;
use super::varz::{timestamp, uptime};
use crate::server::Server;

/// The `/routez` document.
#[derive(Debug, Serialize)]
pub struct Routez {
    pub server_id: String,
    pub server_name: String,
    pub now: String,
    pub num_routes: usize,
    pub routes: Vec<RouteInfo>,
}

/// One route of `/routez`.
#[derive(Debug, Serialize)]
pub struct RouteInfo {
    pub rid: u64,
    pub remote_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub remote_name: String,
    pub did_solicit: bool,
    pub is_configured: bool,
    pub ip: String,
    pub port: u16,
    pub start: String,
    pub last_activity: String,
    pub rtt: String,
    pub uptime: String,
    pub idle: String,
    pub pending_size: usize,
    pub in_msgs: u64,
    pub out_msgs: u64,
    pub in_bytes: u64,
    pub out_bytes: u64,
    pub subscriptions: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions_list: Option<Vec<String>>,
    pub compression: &'static str,
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
    pub leafs: Vec<LeafInfo>,
}

/// One leaf connection of `/leafz`.
#[derive(Debug, Serialize)]
pub struct LeafInfo {
    pub id: u64,
    pub name: String,
    /// This server dialed it: it is the leaf (the spoke) of the link.
    pub is_spoke: bool,
    pub account: String,
    pub ip: String,
    pub port: u16,
    pub rtt: String,
    pub in_msgs: u64,
    pub out_msgs: u64,
    pub in_bytes: u64,
    pub out_bytes: u64,
    pub subscriptions: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions_list: Option<Vec<String>>,
    pub compression: &'static str,
}

/// `/routez`; `subs` lists each route's subscriptions too (`?subs=1`).
pub fn routez(server: &Server, subs: bool) -> Routez {
    let now = SystemTime::now();
    let routes: Vec<RouteInfo> = server
        .cluster()
        .map(|c| c.snapshots(subs))
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let last = if r.last_activity_ns == 0 {
                r.start
            } else {
                SystemTime::UNIX_EPOCH + Duration::from_nanos(r.last_activity_ns)
            };
            let since = |t: SystemTime| now.duration_since(t).unwrap_or_default().as_secs();
            RouteInfo {
                rid: r.rid,
                account: r.account,
                remote_id: r.peer.id,
                remote_name: r.peer.name,
                did_solicit: r.did_solicit,
                is_configured: r.configured,
                ip: r.addr.ip().to_string(),
                port: r.addr.port(),
                start: timestamp(r.start),
                last_activity: timestamp(last),
                rtt: go_duration(Duration::from_nanos(r.rtt_ns)),
                uptime: uptime(since(r.start)),
                idle: uptime(since(last)),
                pending_size: r.pending_bytes,
                in_msgs: r.in_msgs,
                out_msgs: r.out_msgs,
                in_bytes: r.in_bytes,
                out_bytes: r.out_bytes,
                subscriptions: r.num_subs,
                subscriptions_list: subs.then(|| {
                    r.subscriptions
                        .iter()
                        .map(|(_, subject, _, _)| subject.clone())
                        .collect()
                }),
                compression: "off",
            }
        })
        .collect();
    Routez {
        server_id: server.id().to_string(),
        server_name: server.name().to_string(),
        now: timestamp(now),
        num_routes: routes.len(),
        routes,
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

/// `/leafz`; `subs` lists each leaf's subscriptions too (`?subs=1`);
/// `account` keeps the leafs bound to that account only.
pub fn leafz(server: &Server, subs: bool, account: Option<&str>) -> Leafz {
    use std::sync::atomic::Ordering;
    let leafs: Vec<LeafInfo> = server
        .leafs()
        .all()
        .into_iter()
        .filter(|l| account.is_none_or(|name| l.account().is_some_and(|a| a.name == name)))
        .map(|l| {
            let (out_msgs, out_bytes) = {
                let p = l.outbound.lock();
                (p.out_msgs, p.out_bytes)
            };
            LeafInfo {
                id: l.lid,
                name: l.peer().name,
                is_spoke: l.did_solicit,
                account: l.account().map_or_else(String::new, |a| a.name.clone()),
                ip: l.addr.ip().to_string(),
                port: l.addr.port(),
                rtt: go_duration(Duration::from_nanos(l.rtt_ns.load(Ordering::Relaxed))),
                in_msgs: l.in_msgs.load(Ordering::Relaxed),
                out_msgs,
                in_bytes: l.in_bytes.load(Ordering::Relaxed),
                out_bytes,
                subscriptions: l.subscription_count(),
                subscriptions_list: subs.then(|| {
                    l.subscriptions()
                        .into_iter()
                        .map(|(subject, _)| subject)
                        .collect()
                }),
                compression: "off",
            }
        })
        .collect();
    Leafz {
        server_id: server.id().to_string(),
        now: timestamp(SystemTime::now()),
        leafnodes: leafs.len(),
        leafs,
    }
}
