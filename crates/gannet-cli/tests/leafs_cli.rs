//! `gannet server report leafnodes` against real servers: a hub (Gannet, then
//! the reference nats-server when present) that binds the leafs it accepts to
//! its account APP, and a Gannet leaf that dials it from its account LAPP.
//! The system accounts stay apart (the link carries APP only), so each end
//! answers for itself: the hub lists the leaf, the leaf lists the hub. Then a
//! standalone server, which has no leafnodes.

mod common;

use std::time::{Duration, Instant};

use common::*;
use gannet_test::free_port;
use gannet_test::reference::SEED_CONFIG;
use serde_json::Value;

/// How long the leaf may take to connect to the hub.
const LINK_TIMEOUT: Duration = Duration::from_secs(15);

/// The report's columns, natscli's plus the spoke flag.
const HEADERS: [&str; 12] = [
    "Server",
    "Name",
    "Account",
    "Address",
    "RTT",
    "Msgs In",
    "Msgs Out",
    "Bytes In",
    "Bytes Out",
    "Subs",
    "Compressed",
    "Spoke",
];

/// The hub: accepts leafs on `leaf_port` into APP; monitoring for `/leafz`.
fn hub_config(leaf_port: u16) -> String {
    format!(
        r#"server_name: HUB
accounts {{ APP {{ users = [ {{ user: app, password: app }} ] }}, SYS {{ users = [ {{ user: sys, password: sys }} ] }} }}
system_account: SYS
no_auth_user: app
http: "127.0.0.1:-1"
leafnodes {{ listen: "127.0.0.1:{leaf_port}", authorization {{ user: leaf, password: pw, account: APP }} }}
"#
    )
}

/// The leaf: dials the hub's `leaf_port` from its account LAPP.
fn leaf_config(leaf_port: u16) -> String {
    format!(
        r#"server_name: LEAF
accounts {{ LAPP {{ users = [ {{ user: lapp, password: lapp }} ] }}, SYS {{ users = [ {{ user: sys, password: sys }} ] }} }}
system_account: SYS
no_auth_user: lapp
leafnodes {{ remotes: [ {{ url: "nats-leaf://leaf:pw@127.0.0.1:{leaf_port}", account: LAPP }} ] }}
"#
    )
}

/// The number of leafs the hub's `/leafz` lists.
fn leaf_count(hub: &ServerProcess) -> usize {
    let (status, body) = hub.http_get("/leafz");
    assert_eq!(status, 200, "{body}");
    let leafz: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    leafz["leafs"].as_array().map_or(0, Vec::len)
}

/// Waits (up to [`LINK_TIMEOUT`]) until the hub lists one leaf.
fn wait_for_leaf(hub: &ServerProcess, leaf: &ServerProcess) {
    let deadline = Instant::now() + LINK_TIMEOUT;
    while leaf_count(hub) != 1 {
        assert!(
            Instant::now() < deadline,
            "the leaf did not connect within {LINK_TIMEOUT:?}\nhub:\n{}\n----\nleaf:\n{}",
            hub.log(),
            leaf.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `gannet ARGS` as the system user of `server`.
fn sys(server: &ServerProcess, args: &[&str]) -> Finished {
    gannet(args)
        .server(&format!("nats://sys:sys@127.0.0.1:{}", server.port))
        .args(&["--timeout", "3s"])
        .run()
}

/// The cells of a table row (`│ a │ b │` → `["a", "b"]`).
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('│').trim_end_matches('│');
    inner.split('│').map(|c| c.trim().to_string()).collect()
}

/// The leafnode rows of the report.
fn leaf_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(cells)
        .filter(|c| c.len() == HEADERS.len() && c[3].starts_with("127.0.0.1:"))
        .collect()
}

/// The report's title line.
fn title(text: &str) -> &str {
    text.lines().nth(1).unwrap_or_default()
}

#[test]
fn report_leafnodes_shows_each_end_of_the_link() {
    for binary in all_server_binaries() {
        let port = free_port();
        let hub = start_binary(&binary, Some(&hub_config(port)));
        let leaf = start_server(Some(&leaf_config(port)));
        wait_for_leaf(&hub, &leaf);

        let out = sys(&hub, &["server", "report", "leafnodes"]).success();
        assert!(
            title(&out).contains("Leafnode connections (1 server, 1 leafnode)"),
            "{binary}:\n{out}"
        );
        assert_eq!(
            cells(out.lines().nth(3).unwrap_or_default()),
            HEADERS,
            "{binary}:\n{out}"
        );
        let rows = leaf_rows(&out);
        assert_eq!(rows.len(), 1, "{binary}:\n{out}");
        let row = &rows[0];
        assert_eq!(row[..3], ["HUB", "LEAF", "APP"], "{binary}: {row:?}");
        assert_eq!(row[11], "no", "{binary}: {row:?}");
        assert!(!out.contains("Totals"), "{binary}:\n{out}");

        // The leaf's own report: it dialed, so it is the spoke.
        let out = sys(&leaf, &["server", "report", "leafs"]).success();
        let rows = leaf_rows(&out);
        assert_eq!(rows.len(), 1, "{binary}:\n{out}");
        assert_eq!(rows[0][..3], ["LEAF", "HUB", "LAPP"], "{binary}:\n{out}");
        assert_eq!(rows[0][11], "yes", "{binary}:\n{out}");

        // The replies as received.
        let json = sys(&hub, &["server", "report", "leafs", "--json"]).success();
        let replies: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        let replies = replies.as_array().unwrap_or_else(|| panic!("{json}"));
        assert_eq!(replies.len(), 1, "{binary}: {json}");
        assert_eq!(replies[0]["server"]["name"], "HUB", "{binary}: {json}");
        let listed = &replies[0]["data"]["leafs"][0];
        assert_eq!(listed["name"], "LEAF", "{binary}: {json}");
        assert_eq!(listed["account"], "APP", "{binary}: {json}");
        assert_eq!(listed["is_spoke"], false, "{binary}: {json}");

        // By account.
        let out = sys(&hub, &["server", "report", "leafnodes", "--account", "APP"]).success();
        assert_eq!(leaf_rows(&out).len(), 1, "{binary}:\n{out}");
        let out = sys(&hub, &["server", "report", "leafnodes", "--account", "SYS"]).success();
        assert!(
            title(&out).contains("(1 server, 0 leafnodes)"),
            "{binary}:\n{out}"
        );
        assert!(leaf_rows(&out).is_empty(), "{binary}:\n{out}");
    }
}

#[test]
fn report_leafnodes_of_a_standalone_server_is_empty() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, Some(SEED_CONFIG));
        let out = gannet(&["server", "report", "leafnodes"])
            .server(&server.url())
            .args(&["--user", "admin", "--password", "changeit"])
            .run()
            .success();
        assert!(
            out.contains("Leafnode connections (1 server, 0 leafnodes)"),
            "{binary}:\n{out}"
        );
        assert!(leaf_rows(&out).is_empty(), "{binary}:\n{out}");
    }
}
