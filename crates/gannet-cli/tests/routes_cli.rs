//! `gannet server report routes`, `server list` and `server ping` against a
//! real three-node cluster (A seeds, B and C route to A and meet each other by
//! gossip), started from each server binary under test: Gannet, then the
//! reference nats-server when present. The reference pools its routes (several
//! connections per peer), so the route checks compare the distinct
//! server → remote pairs, and the exact row count for Gannet only.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use gannet_test::reference::SEED_CONFIG;
use serde_json::Value;

/// How long a cluster may take to mesh (or to notice a dead node).
const MESH_TIMEOUT: Duration = Duration::from_secs(15);

/// Node `name`'s config: the system account, monitoring (for `/routez`), and
/// a route to the seed's cluster port unless it is the seed.
fn node_config(name: &str, seed: Option<u16>) -> String {
    let routes = seed
        .map(|port| format!(r#", routes: ["nats-route://127.0.0.1:{port}"]"#))
        .unwrap_or_default();
    format!(
        r#"server_name: {name}
accounts {{ SYS {{ users = [ {{ user: sys, password: sys }} ] }} }}
system_account: SYS
http: "127.0.0.1:-1"
cluster {{ name: C1, listen: "127.0.0.1:-1"{routes} }}
"#
    )
}

/// Nodes A, B and C of `binary`, once every node has routes to both others.
fn start_cluster(binary: &str) -> Vec<ServerProcess> {
    let a = start_binary(binary, Some(&node_config("A", None)));
    let seed = a
        .cluster_port
        .expect("A has no cluster port in its ports file");
    let b = start_binary(binary, Some(&node_config("B", Some(seed))));
    let c = start_binary(binary, Some(&node_config("C", Some(seed))));
    let nodes = vec![a, b, c];
    wait_for_peers(&nodes.iter().collect::<Vec<_>>(), 2);
    nodes
}

/// The distinct remote ids of a node's `/routez` with a system account
/// connection (both servers pool by default: 3 connections per peer and
/// one pinned to the system account).
fn remote_ids(node: &ServerProcess) -> BTreeSet<String> {
    let (status, body) = node.http_get("/routez");
    assert_eq!(status, 200, "{body}");
    let routez: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    routez["routes"]
        .as_array()
        .into_iter()
        .flatten()
        // The connection pinned to the system account comes last, and
        // carries what `$SYS` requests need: count the peers that have it.
        .filter(|route| route["account"] == "SYS")
        .filter_map(|route| route["remote_id"].as_str().map(str::to_string))
        .collect()
}

/// Waits (up to [`MESH_TIMEOUT`]) until every node is routed to exactly
/// `peers` distinct servers.
fn wait_for_peers(nodes: &[&ServerProcess], peers: usize) {
    let deadline = Instant::now() + MESH_TIMEOUT;
    loop {
        let counts: Vec<usize> = nodes.iter().map(|n| remote_ids(n).len()).collect();
        if counts.iter().all(|&count| count == peers) {
            return;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = nodes.iter().map(|n| n.log()).collect();
            panic!(
                "nodes not routed to {peers} peers each within {MESH_TIMEOUT:?}: {counts:?}\n{}",
                logs.join("\n----\n")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `gannet ARGS` as the system user of `node`.
fn sys(node: &ServerProcess, args: &[&str]) -> Finished {
    gannet(args)
        .server(&format!("nats://sys:sys@127.0.0.1:{}", node.port))
        .args(&["--timeout", "3s"])
        .run()
}

/// Whether `binary` is a Gannet server (one route per peer).
fn is_gannet(binary: &str) -> bool {
    Path::new(binary)
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with("gannet"))
}

/// The cells of a table row (`│ a │ b │` → `["a", "b"]`).
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('│').trim_end_matches('│');
    inner.split('│').map(|c| c.trim().to_string()).collect()
}

/// The route rows of the report.
fn route_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(cells)
        .filter(|c| c.len() == 13 && c[4].starts_with("127.0.0.1:"))
        .collect()
}

/// `server>remote` of each route row, without repeats.
fn pairs(rows: &[Vec<String>]) -> BTreeSet<String> {
    rows.iter().map(|r| format!("{}>{}", r[0], r[1])).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn report_routes_shows_the_mesh_then_what_is_left_after_a_node_dies() {
    for binary in all_server_binaries() {
        let mut nodes = start_cluster(&binary);

        let out = sys(&nodes[0], &["server", "report", "routes"]).success();
        assert!(
            out.lines()
                .nth(1)
                .unwrap()
                .contains("Cluster routes (3 servers, "),
            "{binary}:\n{out}"
        );
        assert_eq!(
            cells(out.lines().nth(3).unwrap()),
            [
                "Server",
                "Remote",
                "Direction",
                "Configured",
                "Address",
                "Uptime",
                "RTT",
                "In Msgs",
                "Out Msgs",
                "In Bytes",
                "Out Bytes",
                "Pending",
                "Subs"
            ],
            "{binary}:\n{out}"
        );
        let rows = route_rows(&out);
        assert_eq!(
            pairs(&rows),
            set(&["A>B", "A>C", "B>A", "B>C", "C>A", "C>B"]),
            "{binary}:\n{out}"
        );
        if is_gannet(&binary) {
            // Four connections per pair of servers, each listed by both.
            assert_eq!(rows.len(), 24, "{binary}:\n{out}");
            assert!(
                out.contains("Cluster routes (3 servers, 24 routes)"),
                "{out}"
            );
        }
        // Sorted by server, then remote.
        let order: Vec<String> = rows.iter().map(|r| format!("{}>{}", r[0], r[1])).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "{binary}:\n{out}");
        for row in &rows {
            // B and C dial A, which is in their config; A dials no one.
            match (row[0].as_str(), row[1].as_str()) {
                ("A", _) => assert_eq!(row[2], "Inbound", "{binary}: {row:?}"),
                (_, "A") => assert_eq!(row[2..4], ["Outbound", "yes"], "{binary}: {row:?}"),
                _ => assert_eq!(row[3], "no", "{binary}: {row:?}"),
            }
            assert!(
                ["Inbound", "Outbound"].contains(&row[2].as_str()),
                "{row:?}"
            );
        }
        assert!(!out.contains("WARNING"), "{binary}:\n{out}");

        let json = sys(&nodes[0], &["server", "report", "routes", "--json"]).success();
        let replies: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        let names: BTreeSet<String> = replies
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["server"]["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, set(&["A", "B", "C"]), "{binary}: {json}");
        for reply in replies.as_array().unwrap() {
            assert!(
                reply["data"]["routes"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty()),
                "{binary}: {reply}"
            );
        }

        // Filtered to one server: its routes, and no warning about the
        // servers left out.
        let out = sys(&nodes[0], &["server", "report", "routes", "--host", "B"]).success();
        assert!(
            out.lines()
                .nth(1)
                .unwrap()
                .contains("Cluster routes (1 server, "),
            "{binary}:\n{out}"
        );
        assert_eq!(
            pairs(&route_rows(&out)),
            set(&["B>A", "B>C"]),
            "{binary}:\n{out}"
        );
        assert!(!out.contains("WARNING"), "{binary}:\n{out}");

        // C dies; A and B keep their route to each other.
        drop(nodes.pop());
        wait_for_peers(&nodes.iter().collect::<Vec<_>>(), 1);
        let out = sys(&nodes[0], &["server", "report", "routes"]).success();
        assert!(
            out.lines()
                .nth(1)
                .unwrap()
                .contains("Cluster routes (2 servers, "),
            "{binary}:\n{out}"
        );
        let rows = route_rows(&out);
        assert_eq!(pairs(&rows), set(&["A>B", "B>A"]), "{binary}:\n{out}");
        if is_gannet(&binary) {
            assert_eq!(rows.len(), 8, "{binary}:\n{out}");
        }
        assert!(!out.contains("not routed"), "{binary}:\n{out}");
        assert!(!out.contains("did not answer"), "{binary}:\n{out}");
    }
}

#[test]
fn list_and_ping_show_every_server_of_the_cluster() {
    for binary in all_server_binaries() {
        let nodes = start_cluster(&binary);

        let out = sys(&nodes[1], &["server", "list"]).success();
        let names: BTreeSet<String> = out
            .lines()
            .map(cells)
            .filter(|c| c.len() == 15 && c[2] == "127.0.0.1")
            .map(|c| c[0].clone())
            .collect();
        assert_eq!(names, set(&["A", "B", "C"]), "{binary}:\n{out}");

        // Without --expect: as many replies as the first one's STATSZ
        // `active_servers` says there are.
        let out = sys(&nodes[1], &["server", "ping"]).success();
        let pinged: BTreeSet<String> = out
            .lines()
            .filter(|l| l.contains("rtt="))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_string)
            .collect();
        assert_eq!(pinged, set(&["A", "B", "C"]), "{binary}:\n{out}");
        assert!(out.contains("\n3 replies max: "), "{binary}:\n{out}");
        assert!(!out.contains("Missing"), "{binary}:\n{out}");
    }
}

#[test]
fn report_routes_of_a_standalone_server_is_empty() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, Some(SEED_CONFIG));
        let out = gannet(&["server", "report", "routes"])
            .server(&server.url())
            .args(&["--user", "admin", "--password", "changeit"])
            .run()
            .success();
        assert!(
            out.contains("Cluster routes (1 server, 0 routes)"),
            "{binary}:\n{out}"
        );
        assert!(route_rows(&out).is_empty(), "{binary}:\n{out}");
        assert!(!out.contains("WARNING"), "{binary}:\n{out}");
    }
}
