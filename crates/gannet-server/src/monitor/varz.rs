//! `/varz`: the server's identity, limits and counters (nats-server's `Varz`).
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::info::{COMPAT_VERSION, GIT_COMMIT, GO_VERSION, PROTO_VERSION};
use crate::server::Server;

/// The `/varz` document. Durations are nanoseconds and timestamps RFC 3339, as
/// the reference writes them.
#[derive(Debug, Serialize)]
pub struct Varz {
    pub server_id: String,
    pub server_name: String,
    pub version: &'static str,
    pub proto: u8,
    /// The commit Gannet was built from ([`GIT_COMMIT`]), left out when unknown.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub git_commit: &'static str,
    /// The toolchain Gannet was built with ([`GO_VERSION`]).
    pub go: &'static str,
    pub host: String,
    pub port: u16,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub auth_required: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls_required: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls_verify: bool,
    pub max_connections: usize,
    pub ping_interval: u128,
    pub ping_max: u32,
    pub http_host: String,
    pub http_port: i32,
    pub http_base_path: String,
    pub https_port: i32,
    pub auth_timeout: f64,
    pub max_control_line: usize,
    pub max_payload: usize,
    pub max_pending: usize,
    pub cluster: serde_json::Value,
    pub gateway: serde_json::Value,
    pub leaf: serde_json::Value,
    pub mqtt: serde_json::Value,
    pub websocket: serde_json::Value,
    pub jetstream: serde_json::Value,
    pub tls_timeout: f64,
    pub write_deadline: u128,
    pub start: String,
    pub now: String,
    pub uptime: String,
    pub mem: u64,
    pub cores: usize,
    pub gomaxprocs: usize,
    pub cpu: f64,
    pub connections: usize,
    pub total_connections: u64,
    pub routes: usize,
    pub remotes: usize,
    pub leafnodes: usize,
    pub in_msgs: u64,
    pub in_bytes: u64,
    pub in_client_msgs: u64,
    pub in_client_bytes: u64,
    pub out_msgs: u64,
    pub out_bytes: u64,
    pub out_client_msgs: u64,
    pub out_client_bytes: u64,
    pub slow_consumers: u64,
    pub stale_connections: u64,
    pub stalled_clients: u64,
    pub subscriptions: usize,
    pub http_req_stats: BTreeMap<String, u64>,
    pub config_load_time: String,
    /// `sha256:<hex>` of the config file, empty without one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub config_digest: String,
    pub feature_flags: serde_json::Value,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub system_account: String,
    pub slow_consumer_stats: KindStats,
    pub stale_connection_stats: KindStats,
    pub disk_io_wait_stats: serde_json::Value,
}

/// A count split by connection kind (`slow_consumer_stats`, `stale_connection_stats`).
#[derive(Debug, Default, Serialize)]
pub struct KindStats {
    pub clients: u64,
    pub routes: u64,
    pub gateways: u64,
    pub leafs: u64,
}

/// VARZ's `cluster` object (empty when not clustered).
fn cluster_varz(server: &Server, opts: &gannet_config::Options) -> serde_json::Value {
    let (Some(cluster), Some(c)) = (server.cluster(), opts.cluster.as_ref()) else {
        return serde_json::json!({});
    };
    let mut v = serde_json::Map::new();
    v.insert("name".into(), cluster.name().into());
    v.insert("addr".into(), c.host.clone().into());
    v.insert("cluster_port".into(), cluster.listen.port().into());
    v.insert("auth_timeout".into(), c.auth_timeout.as_secs_f64().into());
    let urls: Vec<String> = c
        .routes
        .iter()
        .map(|r| crate::server::host_port(&r.host, r.port))
        .collect();
    if !urls.is_empty() {
        v.insert("urls".into(), urls.into());
    }
    if let Some(tls) = &c.tls {
        v.insert("tls_timeout".into(), tls.timeout.as_secs_f64().into());
        v.insert("tls_required".into(), true.into());
        v.insert("tls_verify".into(), tls.verify.into());
    }
    v.insert("pool_size".into(), c.pool_size.into());
    serde_json::Value::Object(v)
}

/// RFC 3339 with nanoseconds, in UTC.
pub fn timestamp(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// A span as the reference prints uptimes: `1y2d3h4m5s`, leading zero units dropped.
pub fn uptime(secs: u64) -> String {
    let (y, rest) = (secs / (365 * 86400), secs % (365 * 86400));
    let (d, rest) = (rest / 86400, rest % 86400);
    let (h, rest) = (rest / 3600, rest % 3600);
    let (m, s) = (rest / 60, rest % 60);
    let mut out = String::new();
    if y > 0 {
        out += &format!("{y}y");
    }
    if y > 0 || d > 0 {
        out += &format!("{d}d");
    }
    if y > 0 || d > 0 || h > 0 {
        out += &format!("{h}h");
    }
    if y > 0 || d > 0 || h > 0 || m > 0 {
        out += &format!("{m}m");
    }
    out + &format!("{s}s")
}

/// The resident memory of this process, in bytes (0 where it cannot be read).
fn resident_memory() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

pub fn varz(server: &Server) -> Varz {
    let opts = server.options();
    let stats = server.stats();
    let num_routes = server.cluster().map_or(0, |c| c.num_routes());
    let now = SystemTime::now();
    let up = now
        .duration_since(server.start_time())
        .map_or(0, |d| d.as_secs());
    let info = server.info();
    Varz {
        server_id: server.id().to_string(),
        server_name: server.name().to_string(),
        version: COMPAT_VERSION,
        proto: PROTO_VERSION,
        git_commit: GIT_COMMIT,
        go: GO_VERSION,
        host: opts.host.clone(),
        port: info.port,
        auth_required: server.authenticator().info_auth_required(),
        tls_required: info.tls_required,
        tls_verify: info.tls_verify,
        max_connections: opts.max_connections,
        ping_interval: opts.ping_interval.as_nanos(),
        ping_max: opts.ping_max,
        http_host: opts.http_host.clone().unwrap_or_else(|| opts.host.clone()),
        http_port: server.http_port(),
        http_base_path: String::new(),
        https_port: opts.https_port.unwrap_or(0),
        auth_timeout: opts.auth_timeout.as_secs_f64(),
        max_control_line: opts.max_control_line,
        max_payload: opts.max_payload,
        max_pending: opts.max_pending,
        cluster: cluster_varz(server, &opts),
        gateway: gateway_varz(server, &opts),
        leaf: serde_json::json!({}),
        mqtt: serde_json::json!({}),
        websocket: serde_json::json!({}),
        jetstream: jetstream_varz(server),
        tls_timeout: 2.0,
        write_deadline: opts.write_deadline.as_nanos(),
        start: timestamp(server.start_time()),
        now: timestamp(now),
        uptime: uptime(up),
        mem: resident_memory(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        gomaxprocs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu: 0.0,
        connections: server.num_clients(),
        total_connections: stats.total_connections.load(Ordering::Relaxed),
        routes: num_routes,
        remotes: server.cluster().map_or(0, |c| c.num_peers()),
        leafnodes: 0,
        in_msgs: stats.in_msgs.load(Ordering::Relaxed)
            + stats.route_in_msgs.load(Ordering::Relaxed),
        in_bytes: stats.in_bytes.load(Ordering::Relaxed)
            + stats.route_in_bytes.load(Ordering::Relaxed),
        in_client_msgs: stats.in_msgs.load(Ordering::Relaxed),
        in_client_bytes: stats.in_bytes.load(Ordering::Relaxed),
        out_msgs: stats.out_msgs.load(Ordering::Relaxed)
            + stats.route_out_msgs.load(Ordering::Relaxed),
        out_bytes: stats.out_bytes.load(Ordering::Relaxed)
            + stats.route_out_bytes.load(Ordering::Relaxed),
        out_client_msgs: stats.out_msgs.load(Ordering::Relaxed),
        out_client_bytes: stats.out_bytes.load(Ordering::Relaxed),
        slow_consumers: stats.slow_consumers.load(Ordering::Relaxed),
        stale_connections: stats.stale_connections.load(Ordering::Relaxed),
        stalled_clients: 0,
        subscriptions: server.num_subscriptions(),
        http_req_stats: server.http_stats().snapshot(),
        config_load_time: timestamp(server.config_load_time()),
        config_digest: server.config_digest().to_string(),
        feature_flags: serde_json::json!({
            "js_ack_fc_v2": false,
            "js_api_reply_v2": false,
            "js_raft_delete_range": true,
            "js_snapshot_sources": false,
        }),
        system_account: server
            .system_account()
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        slow_consumer_stats: KindStats {
            clients: stats.slow_consumers.load(Ordering::Relaxed),
            ..KindStats::default()
        },
        stale_connection_stats: KindStats {
            clients: stats.stale_connections.load(Ordering::Relaxed),
            ..KindStats::default()
        },
        disk_io_wait_stats: serde_json::json!({
            "waiters": 0, "waits": 0, "wait_time": 0, "max_wait_time": 0
        }),
    }
}

/// VARZ's `gateway` section (nats-server's `GatewayOptsVarz`): empty without
/// gateways.
fn gateway_varz(server: &Server, opts: &gannet_config::Options) -> serde_json::Value {
    let (Some(gateways), Some(g)) = (server.gateways(), opts.gateway.as_ref()) else {
        return serde_json::json!({});
    };
    let remotes: Vec<serde_json::Value> = gateways
        .remotes()
        .iter()
        .map(|r| {
            let urls: Vec<String> = r
                .urls()
                .iter()
                .map(|u| crate::gateway::url_host_port(u).to_string())
                .collect();
            serde_json::json!({ "name": r.name, "urls": urls })
        })
        .collect();
    serde_json::json!({
        "name": gateways.name,
        "host": g.host,
        "port": gateways.listen.port(),
        "auth_timeout": g.auth_timeout.map_or(0.0, |t| t.as_secs_f64()),
        "tls_timeout": g.tls.as_ref().map_or(0.0, |t| t.timeout.as_secs_f64()),
        "tls_required": gateways.tls_server().is_some(),
        "advertise": g.advertise.clone().unwrap_or_default(),
        "connect_retries": g.connect_retries,
        "connect_backoff": g.connect_backoff,
        "gateways": remotes,
        "reject_unknown": g.reject_unknown_cluster,
    })
}

/// VARZ's `jetstream`: configuration, usage and limits (empty when off).
fn jetstream_varz(server: &Server) -> serde_json::Value {
    let Some(js) = server.jetstream() else {
        return serde_json::json!({});
    };
    let t = js.totals();
    serde_json::json!({
        "config": js.config_json(),
        "stats": {
            "memory": t.memory,
            "storage": t.store,
            "reserved_memory": 0,
            "reserved_storage": 0,
            "accounts": t.accounts,
            "ha_assets": 0,
            "api": {
                "level": crate::jetstream::types::API_LEVEL,
                "total": js.api_total.load(std::sync::atomic::Ordering::Relaxed),
                "errors": js.api_errors.load(std::sync::atomic::Ordering::Relaxed),
            },
        },
        "limits": {"default_max_consumers": 1000},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_drops_leading_zero_units() {
        assert_eq!(uptime(0), "0s");
        assert_eq!(uptime(19), "19s");
        assert_eq!(uptime(3723), "1h2m3s");
        assert_eq!(uptime(86400 + 5), "1d0h0m5s");
    }
}
