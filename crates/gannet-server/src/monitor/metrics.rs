//! `/metrics`: the `/varz`, `/connz` and `/subsz` numbers in the Prometheus text
//! format, named as the prometheus-nats-exporter names them (`gnatsd_varz_*`,
//! `gnatsd_connz_*`, `gnatsd_subsz_*`), each labelled with `server_id`; the
//! per-connection series also carry `cid` (and `name` when the client gave one).
use std::fmt::Write;

use super::connz::{connz, ConnzOptions};
use super::subsz::sublist_stats;
use super::varz::varz;
use crate::server::Server;

/// Quotes a label value as the text format requires.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Appends one metric family with a single sample.
fn family(out: &mut String, name: &str, kind: &str, help: &str, labels: &str, value: f64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    let _ = writeln!(out, "{name}{{{labels}}} {value}");
}

/// The whole `/metrics` body.
pub fn metrics(server: &Server) -> String {
    let v = varz(server);
    let sid = format!("server_id=\"{}\"", escape(&v.server_id));
    let mut out = String::new();
    let gauges: [(&str, f64); 16] = [
        ("connections", v.connections as f64),
        ("subscriptions", v.subscriptions as f64),
        ("mem", v.mem as f64),
        ("cpu", v.cpu),
        ("cores", v.cores as f64),
        ("routes", v.routes as f64),
        ("remotes", v.remotes as f64),
        ("leafnodes", v.leafnodes as f64),
        ("max_connections", v.max_connections as f64),
        ("max_payload", v.max_payload as f64),
        ("max_pending", v.max_pending as f64),
        ("max_control_line", v.max_control_line as f64),
        ("ping_max", f64::from(v.ping_max)),
        ("port", f64::from(v.port)),
        ("http_port", f64::from(v.http_port)),
        ("auth_timeout", v.auth_timeout),
    ];
    for (name, value) in gauges {
        let full = format!("gnatsd_varz_{name}");
        family(&mut out, &full, "gauge", name, &sid, value);
    }
    let counters: [(&str, u64); 6] = [
        ("total_connections", v.total_connections),
        ("in_msgs", v.in_msgs),
        ("out_msgs", v.out_msgs),
        ("in_bytes", v.in_bytes),
        ("out_bytes", v.out_bytes),
        ("slow_consumers", v.slow_consumers),
    ];
    for (name, value) in counters {
        let full = format!("gnatsd_varz_{name}");
        family(&mut out, &full, "counter", name, &sid, value as f64);
    }

    let c = connz(server, &ConnzOptions::default());
    for (name, value) in [
        ("num_connections", c.num_connections),
        ("total", c.total),
        ("offset", c.offset),
        ("limit", c.limit),
    ] {
        let full = format!("gnatsd_connz_{name}");
        family(&mut out, &full, "gauge", name, &sid, value as f64);
    }
    type Field = fn(&super::connz::ConnInfo) -> f64;
    let per_conn: [(&str, &str, Field); 6] = [
        ("in_msgs", "counter", |ci| ci.in_msgs as f64),
        ("out_msgs", "counter", |ci| ci.out_msgs as f64),
        ("in_bytes", "counter", |ci| ci.in_bytes as f64),
        ("out_bytes", "counter", |ci| ci.out_bytes as f64),
        ("pending_bytes", "gauge", |ci| ci.pending_bytes as f64),
        ("subscriptions", "gauge", |ci| ci.subscriptions as f64),
    ];
    if !c.connections.is_empty() {
        for (name, kind, field) in per_conn {
            let full = format!("gnatsd_connz_{name}");
            let _ = writeln!(out, "# HELP {full} {name}");
            let _ = writeln!(out, "# TYPE {full} {kind}");
            for ci in &c.connections {
                let mut labels = format!("{sid},cid=\"{}\"", ci.cid);
                if !ci.name.is_empty() {
                    let _ = write!(labels, ",name=\"{}\"", escape(&ci.name));
                }
                let _ = writeln!(out, "{full}{{{labels}}} {}", field(ci));
            }
        }
    }

    let s = sublist_stats(server);
    for (name, value) in [
        ("num_subscriptions", s.num_subscriptions as f64),
        ("num_cache", s.num_cache as f64),
        ("num_inserts", s.num_inserts as f64),
        ("num_removes", s.num_removes as f64),
        ("num_matches", s.num_matches as f64),
        ("cache_hit_rate", s.cache_hit_rate),
        ("max_fanout", s.max_fanout as f64),
        ("avg_fanout", s.avg_fanout),
    ] {
        let full = format!("gnatsd_subsz_{name}");
        family(&mut out, &full, "gauge", name, &sid, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
