//! `/routez`, `/gatewayz` and `/leafz` (nats-server's `Routez`, `Gatewayz`,
//! `Leafz`): routes, gateway and leaf connections as the reference lists them.
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
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub port: u16,
    pub outbound_gateways: BTreeMap<String, RemoteGatewayz>,
    pub inbound_gateways: BTreeMap<String, Vec<RemoteGatewayz>>,
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

/// One gateway connection of `/gatewayz`.
#[derive(Debug, Serialize)]
pub struct RemoteGatewayz {
    pub configured: bool,
    pub connection: GatewayConnz,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountGatewayz>,
}

/// The connection part of a `/gatewayz` entry (a CONNZ-like record).
#[derive(Debug, Serialize)]
pub struct GatewayConnz {
    pub cid: u64,
    pub kind: &'static str,
    pub ip: String,
    pub port: u16,
    pub start: String,
    pub last_activity: String,
    pub rtt: String,
    pub uptime: String,
    pub idle: String,
    pub pending_bytes: usize,
    pub in_msgs: u64,
    pub out_msgs: u64,
    pub in_bytes: u64,
    pub out_bytes: u64,
    pub subscriptions: usize,
    /// The other side's server id.
    pub name: String,
}

/// One account's interest mode on a gateway connection.
#[derive(Debug, Serialize)]
pub struct AccountGatewayz {
    pub name: String,
    pub interest_mode: &'static str,
    pub interest_only_threshold: u32,
    #[serde(skip_serializing_if = "is_zero_usize")]
    pub num_subs: usize,
}

fn is_zero_usize(n: &usize) -> bool {
    *n == 0
}

/// What `/gatewayz` (`gw_name`, `accs`, `acc_name`) and GATEWAYZ requests
/// (`name`, `accounts`, `account_name`) ask for.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct GatewayzOptions {
    /// Only the gateway of this name.
    pub name: String,
    /// List each connection's accounts.
    pub accounts: bool,
    /// Only this account (implies `accounts`).
    pub account_name: String,
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

/// `/gatewayz`: this server's outbound connection to each other cluster and
/// the inbound ones from their servers.
pub fn gatewayz(server: &Server, opts: &GatewayzOptions) -> Gatewayz {
    use std::sync::atomic::Ordering;
    let now = SystemTime::now();
    let mut doc = Gatewayz {
        server_id: server.id().to_string(),
        now: timestamp(now),
        name: String::new(),
        host: String::new(),
        port: 0,
        outbound_gateways: BTreeMap::new(),
        inbound_gateways: BTreeMap::new(),
    };
    let Some(gateways) = server.gateways() else {
        return doc;
    };
    doc.name.clone_from(&gateways.name);
    let options = server.options();
    if let Some(gw_opts) = options.gateway.as_ref() {
        doc.host.clone_from(&gw_opts.host);
    }
    doc.port = gateways.listen.port();
    let with_accounts = opts.accounts || !opts.account_name.is_empty();
    let wanted_account = |name: &str| opts.account_name.is_empty() || opts.account_name == name;
    let entry = |gw: &crate::gateway::Gateway| {
        let last_ns = gw.last_activity_ns.load(Ordering::Relaxed);
        let last = if last_ns == 0 {
            gw.start
        } else {
            SystemTime::UNIX_EPOCH + Duration::from_nanos(last_ns)
        };
        let since = |t: SystemTime| now.duration_since(t).unwrap_or_default().as_secs();
        let (out_msgs, out_bytes, pending) = {
            let p = gw.outbound.lock();
            (p.out_msgs, p.out_bytes, p.bytes())
        };
        let peer = gw.peer();
        let accounts = if !with_accounts {
            Vec::new()
        } else if gw.is_outbound {
            gw.interest
                .accounts()
                .into_iter()
                .filter(|(name, _, _)| wanted_account(name))
                .map(|(name, mode, subs)| AccountGatewayz {
                    name,
                    interest_mode: mode.map_or("Interest-Only", |m| m.as_str()),
                    interest_only_threshold: crate::gateway::INTEREST_ONLY_THRESHOLD,
                    num_subs: subs,
                })
                .collect()
        } else {
            gw.announced_accounts()
                .into_iter()
                .filter(|(name, _)| wanted_account(name))
                .map(|(name, _)| AccountGatewayz {
                    name,
                    interest_mode: crate::gateway::interest::Mode::InterestOnly.as_str(),
                    interest_only_threshold: crate::gateway::INTEREST_ONLY_THRESHOLD,
                    num_subs: 0,
                })
                .collect()
        };
        RemoteGatewayz {
            configured: gw.configured,
            connection: GatewayConnz {
                cid: gw.gid,
                kind: "Gateway",
                ip: gw.addr.ip().to_string(),
                port: gw.addr.port(),
                start: timestamp(gw.start),
                last_activity: timestamp(last),
                rtt: go_duration(Duration::from_nanos(gw.rtt_ns.load(Ordering::Relaxed))),
                uptime: uptime(since(gw.start)),
                idle: uptime(since(last)),
                pending_bytes: pending,
                in_msgs: gw.in_msgs.load(Ordering::Relaxed),
                out_msgs,
                in_bytes: gw.in_bytes.load(Ordering::Relaxed),
                out_bytes,
                subscriptions: if gw.is_outbound {
                    gw.interest.num_subs()
                } else {
                    0
                },
                name: peer.id,
            },
            accounts,
        }
    };
    let wanted = |name: &str| opts.name.is_empty() || opts.name == name;
    for gw in gateways.outbound() {
        let name = gw.remote_name();
        if wanted(&name) {
            doc.outbound_gateways.insert(name, entry(&gw));
        }
    }
    for gw in gateways.inbound() {
        let name = gw.remote_name();
        if wanted(&name) {
            doc.inbound_gateways
                .entry(name)
                .or_default()
                .push(entry(&gw));
        }
    }
    doc
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
                is_spoke: l.is_spoke(),
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
