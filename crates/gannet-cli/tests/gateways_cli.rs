//! `gannet server report gateways` against real servers: a super cluster of
//! two single-server clusters, A (cluster C1) and B (cluster C2), each
//! configured with a gateway to the other, so each has one outbound and one
//! inbound gateway connection. Both share the system account SYS, so a
//! `$SYS` request made at A is answered by B too, across the gateway.
//!
//! The scenario takes the server binary as a parameter: it runs against the
//! reference nats-server 2.15 now, and against gannet-server once that has
//! gateways. A standalone server (no gateways) runs against both already.

mod common;

use std::time::{Duration, Instant};

use common::*;
use gannet_test::reference::SEED_CONFIG;
use serde_json::Value;

/// How long the gateways may take to connect and exchange interest.
const LINK_TIMEOUT: Duration = Duration::from_secs(20);

/// natscli's columns.
const HEADERS: [&str; 10] = [
    "Server",
    "Name",
    "Port",
    "Kind",
    "Connection",
    "ID",
    "Uptime",
    "RTT",
    "Bytes",
    "Accounts",
];

/// Distinct loopback ports nothing listens on.
fn free_ports<const N: usize>() -> [u16; N] {
    std::array::from_fn(|_| gannet_test::free_port())
}

/// Server `name` whose gateway `cluster` listens on `port` and dials
/// gateway `remote` at `remote_port`; monitoring for `/gatewayz`.
fn node_config(name: &str, cluster: &str, port: u16, remote: &str, remote_port: u16) -> String {
    format!(
        r#"server_name: {name}
accounts {{ SYS {{ users [ {{ user: sys, password: pass }} ] }} }}
system_account: SYS
http: "127.0.0.1:-1"
gateway {{
  name: {cluster}
  listen: "127.0.0.1:{port}"
  gateways: [ {{ name: {remote}, url: "nats://127.0.0.1:{remote_port}" }} ]
}}
"#
    )
}

/// A server's `/gatewayz` with account detail.
fn gatewayz(server: &ServerProcess) -> Value {
    let (status, body) = server.http_get("/gatewayz?accs=1");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// Whether `server` has its outbound connection to gateway `remote`, with
/// the remote's interest in the system account, and an inbound one from it.
fn linked(server: &ServerProcess, remote: &str) -> bool {
    let gatewayz = gatewayz(server);
    let outbound = &gatewayz["outbound_gateways"][remote];
    let sys_interest = outbound["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|account| account["name"] == "SYS" && account["num_subs"].as_u64() > Some(0));
    let inbound = gatewayz["inbound_gateways"][remote]
        .as_array()
        .is_some_and(|conns| !conns.is_empty());
    outbound["connection"]["cid"].is_u64() && sys_interest && inbound
}

/// Waits (up to [`LINK_TIMEOUT`]) until A and B are linked both ways and
/// each knows the other's system account interest (so `$SYS` requests
/// reach both).
fn wait_for_gateways(a: &ServerProcess, b: &ServerProcess) {
    let deadline = Instant::now() + LINK_TIMEOUT;
    while !(linked(a, "C2") && linked(b, "C1")) {
        assert!(
            Instant::now() < deadline,
            "gateways not up within {LINK_TIMEOUT:?}\nA:\n{}\n{}\n----\nB:\n{}\n{}",
            gatewayz(a),
            a.log(),
            gatewayz(b),
            b.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `gannet ARGS` as the system user of `server`.
fn sys(server: &ServerProcess, args: &[&str]) -> Finished {
    gannet(args)
        .server(&format!("nats://sys:pass@127.0.0.1:{}", server.port))
        .args(&["--timeout", "3s"])
        .run()
}

/// The cells of a table row (`│ a │ b │` → `["a", "b"]`).
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('│').trim_end_matches('│');
    inner.split('│').map(|c| c.trim().to_string()).collect()
}

/// The report cut into its parts.
struct Report {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    footer: Vec<String>,
}

impl Report {
    fn parse(text: &str) -> Report {
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() >= 8, "too short a report:\n{text}");
        let rules: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].starts_with('├'))
            .collect();
        assert_eq!(rules.len(), 3, "title, header, body, footer:\n{text}");
        Report {
            title: lines[1].trim_matches(['│', ' ']).to_string(),
            headers: cells(lines[rules[0] + 1]),
            rows: lines[rules[1] + 1..rules[2]]
                .iter()
                .map(|l| cells(l))
                .collect(),
            footer: cells(lines[rules[2] + 1]),
        }
    }

    /// The servers' rows: the ones that name a server.
    fn servers(&self) -> Vec<&Vec<String>> {
        self.rows.iter().filter(|r| !r[0].is_empty()).collect()
    }

    /// The connection rows under server `name`'s row.
    fn connections_of(&self, name: &str) -> Vec<&Vec<String>> {
        self.rows
            .iter()
            .skip_while(|r| r[0] != name)
            .skip(1)
            .take_while(|r| r[0].is_empty() && r[1].is_empty())
            .collect()
    }
}

/// The cid of `server`'s outbound connection to gateway `remote`, and those
/// of its inbound ones from it, as `/gatewayz` lists them.
fn cids(server: &ServerProcess, remote: &str) -> (u64, Vec<u64>) {
    let gatewayz = gatewayz(server);
    let outbound = gatewayz["outbound_gateways"][remote]["connection"]["cid"]
        .as_u64()
        .unwrap_or_else(|| panic!("no outbound connection to {remote}: {gatewayz}"));
    let inbound = gatewayz["inbound_gateways"][remote]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|conn| conn["connection"]["cid"].as_u64())
        .collect();
    (outbound, inbound)
}

/// Checks server `name`'s connections in `report`: one inbound from gateway
/// `remote` and one outbound to it at `remote_port`, with the ids
/// `/gatewayz` gives them.
fn check_links(
    report: &Report,
    text: &str,
    server: &ServerProcess,
    name: &str,
    remote: &str,
    remote_port: u16,
) {
    let conns = report.connections_of(name);
    assert_eq!(conns.len(), 2, "{name}:\n{text}");
    let (inbound, outbound) = (conns[0], conns[1]);
    let (out_cid, in_cids) = cids(server, remote);

    assert_eq!(inbound[3], "Inbound", "{name}:\n{text}");
    let address = inbound[4]
        .strip_prefix(&format!("{remote} 127.0.0.1:"))
        .unwrap_or_else(|| panic!("{name} inbound {:?}:\n{text}", inbound[4]));
    assert!(address.parse::<u16>().is_ok(), "{name}:\n{text}");
    assert_eq!(in_cids.len(), 1, "{name}:\n{text}");
    assert_eq!(inbound[5], format!("gid:{}", in_cids[0]), "{name}:\n{text}");

    assert_eq!(outbound[3], "Outbound", "{name}:\n{text}");
    assert_eq!(
        outbound[4],
        format!("{remote} 127.0.0.1:{remote_port}"),
        "{name}:\n{text}"
    );
    assert_eq!(outbound[5], format!("gid:{out_cid}"), "{name}:\n{text}");

    for conn in [inbound, outbound] {
        assert!(conn[..3].iter().all(String::is_empty), "{name}:\n{text}");
        assert!(!conn[6].is_empty(), "uptime, {name}:\n{text}");
        assert!(!conn[7].is_empty(), "RTT, {name}:\n{text}");
        assert!(shape_matches(&conn[8], "{size}"), "bytes, {name}:\n{text}");
        // The system account at least is in interest-only mode.
        let accounts: u64 = conn[9].parse().unwrap_or_default();
        assert!(accounts >= 1, "accounts, {name}:\n{text}");
    }
    // Both ends exchanged interest: the outbound connection sent bytes.
    assert_ne!(outbound[8], "0 B", "{name}:\n{text}");
}

/// The super cluster scenario against `binary`.
fn report_gateways_of_a_super_cluster(binary: &str) {
    let [port_a, port_b] = free_ports();
    let a = start_binary(binary, Some(&node_config("A", "C1", port_a, "C2", port_b)));
    let b = start_binary(binary, Some(&node_config("B", "C2", port_b, "C1", port_a)));
    wait_for_gateways(&a, &b);

    // Until both outbound connections have sent their interest (nats-server
    // counts the bytes a moment after the link is up).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let (text, report) = loop {
        let text = sys(&a, &["server", "report", "gateways"]).success();
        let report = Report::parse(&text);
        let sent = |name: &str| {
            report.connections_of(name).iter().any(|c| {
                c.get(3).is_some_and(|d| d == "Outbound") && c.get(8).is_some_and(|b| b != "0 B")
            })
        };
        if (sent("A") && sent("B")) || std::time::Instant::now() > deadline {
            break (text, report);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(report.title, "Super Cluster Report", "{binary}:\n{text}");
    assert_eq!(report.headers, HEADERS, "{binary}:\n{text}");
    // By cluster: A (C1) then B (C2), each with its gateway port.
    let servers: Vec<Vec<String>> = report.servers().iter().map(|r| r[..3].to_vec()).collect();
    assert_eq!(
        servers,
        [
            ["A", "C1", &port_a.to_string()],
            ["B", "C2", &port_b.to_string()]
        ],
        "{binary}:\n{text}"
    );
    assert!(
        report
            .servers()
            .iter()
            .all(|r| r[3..].iter().all(String::is_empty)),
        "{binary}:\n{text}"
    );
    check_links(&report, &text, &a, "A", "C2", port_b);
    check_links(&report, &text, &b, "B", "C1", port_a);
    // 2 servers, 2 clusters, 4 connections, some bytes.
    assert_eq!(
        report.footer[..8],
        ["2", "2", "", "", "4", "", "", ""],
        "{binary}:\n{text}"
    );
    assert!(
        shape_matches(&report.footer[8], "{size}"),
        "{binary}:\n{text}"
    );
    assert_ne!(report.footer[8], "0 B", "{binary}:\n{text}");

    // The same super cluster seen from B, by server name, reversed.
    let text = sys(
        &b,
        &["server", "report", "gateways", "--sort", "server", "-R"],
    )
    .success();
    let report = Report::parse(&text);
    let names: Vec<&str> = report.servers().iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["B", "A"], "{binary}:\n{text}");
    assert_eq!(report.footer[4], "4", "{binary}:\n{text}");

    // Only the connections to gateway C2: A's two, none of B's.
    let text = sys(&a, &["server", "report", "gateways", "--filter-name", "C2"]).success();
    let report = Report::parse(&text);
    assert_eq!(report.servers().len(), 2, "{binary}:\n{text}");
    assert_eq!(report.connections_of("A").len(), 2, "{binary}:\n{text}");
    assert!(report.connections_of("B").is_empty(), "{binary}:\n{text}");
    assert_eq!(
        report.footer[..5],
        ["2", "2", "", "", "2"],
        "{binary}:\n{text}"
    );

    // Only cluster C2's server, across the gateway.
    let text = sys(&a, &["server", "report", "super", "--cluster", "C2"]).success();
    let report = Report::parse(&text);
    let names: Vec<&str> = report.servers().iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["B"], "{binary}:\n{text}");
    assert_eq!(
        report.footer[..5],
        ["1", "1", "", "", "2"],
        "{binary}:\n{text}"
    );

    // A limit of one server.
    let text = sys(&a, &["server", "report", "gateway", "1"]).success();
    assert_eq!(Report::parse(&text).footer[0], "1", "{binary}:\n{text}");

    // The replies as received.
    let json = sys(&a, &["server", "report", "gateways", "--json"]).success();
    let replies: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let replies = replies.as_array().unwrap_or_else(|| panic!("{json}"));
    let mut seen: Vec<(String, String)> = replies
        .iter()
        .map(|reply| {
            let remote = reply["data"]["outbound_gateways"]
                .as_object()
                .and_then(|gateways| gateways.keys().next().cloned())
                .unwrap_or_default();
            (
                reply["server"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                remote,
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("A".to_string(), "C2".to_string()),
            ("B".to_string(), "C1".to_string())
        ],
        "{binary}: {json}"
    );
}

#[test]
fn report_gateways_of_a_nats_server_super_cluster() {
    let Some(binary) = reference_server_binary() else {
        eprintln!("skipped: no reference nats-server (scripts/install-reference.sh)");
        return;
    };
    report_gateways_of_a_super_cluster(&binary);
}

#[test]
fn report_gateways_of_a_gannet_super_cluster() {
    report_gateways_of_a_super_cluster(&server_binary());
}

#[test]
fn report_gateways_of_a_standalone_server() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, Some(SEED_CONFIG));
        let text = gannet(&["server", "report", "gateways"])
            .server(&server.url())
            .args(&["--user", "admin", "--password", "changeit"])
            .run()
            .success();
        let report = Report::parse(&text);
        assert_eq!(report.title, "Super Cluster Report", "{binary}:\n{text}");
        assert_eq!(report.rows.len(), 1, "{binary}:\n{text}");
        assert_eq!(
            report.rows[0][..3],
            ["gannet-ref", "", "0"],
            "{binary}:\n{text}"
        );
        assert_eq!(
            report.footer,
            ["1", "1", "", "", "0", "", "", "", "0 B", ""],
            "{binary}:\n{text}"
        );
    }
}
