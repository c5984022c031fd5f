//! `gannet trace`: a message traced across a two-node cluster (A, where it
//! is published, routed to B, where a subscriber waits), with B a Gannet
//! server and then the reference nats-server (when present). The tree shows
//! A's client, the route to B, and indented under it B's side and its
//! subscriber; `--deliver` delivers the message, the default does not.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// How long the two nodes may take to route to each other.
const MESH_TIMEOUT: Duration = Duration::from_secs(15);

fn node_config(name: &str, seed: Option<u16>) -> String {
    let routes = seed
        .map(|port| format!(r#", routes: ["nats-route://127.0.0.1:{port}"]"#))
        .unwrap_or_default();
    format!(
        "server_name: {name}\nhttp: \"127.0.0.1:-1\"\ncluster {{ name: C1, listen: \"127.0.0.1:-1\"{routes} }}\n"
    )
}

/// `gannet trace ARGS` against `node`.
fn trace(node: &ServerProcess, args: &[&str]) -> String {
    gannet(&["trace"])
        .args(args)
        .server(&node.url())
        .args(&["--timeout", "3s"])
        .run()
        .success()
}

#[test]
fn trace_prints_the_path_hop_by_hop() {
    for far in all_server_binaries() {
        let a = start_binary(&server_binary(), Some(&node_config("A", None)));
        let seed = a.cluster_port.expect("A's cluster port");
        let b = start_binary(&far, Some(&node_config("B", Some(seed))));
        let deadline = Instant::now() + MESH_TIMEOUT;
        while a.route_peers() != 1 || b.route_peers() != 1 {
            assert!(Instant::now() < deadline, "no route between A and B");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut sub = gannet(&["sub", "orders.new"]).server(&b.url()).spawn();
        sub.expect_stderr("Subscribing on orders.new");

        // Until B's interest has reached A, the trace ends at A.
        let deadline = Instant::now() + MESH_TIMEOUT;
        let out = loop {
            let out = trace(&a, &["orders.new"]);
            if out.contains("--> Router") {
                break out;
            }
            assert!(Instant::now() < deadline, "{far}: never routed:\n{out}");
            std::thread::sleep(Duration::from_millis(100));
        };
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0], "Tracing message route to subject orders.new ",
            "{out}"
        );
        let ingress = lines
            .iter()
            .position(|l| l.starts_with("Client ") && l.contains(r#"server:"A""#))
            .unwrap_or_else(|| panic!("{far}: no ingress line at A:\n{out}"));
        assert!(
            lines[ingress].contains(r#"cluster:"C1""#),
            "{far}: {}",
            lines[ingress]
        );
        let route = &lines[ingress + 1];
        assert!(route.starts_with(r#"--> Router "B" rid:"#), "{far}: {out}");
        let far_ingress = &lines[ingress + 2];
        assert!(
            far_ingress.starts_with(r#"    Router "A" rid:"#)
                && far_ingress.contains(r#"server:"B""#),
            "{far}: {out}"
        );
        assert!(
            lines[ingress + 3].starts_with("    --C Client ")
                && lines[ingress + 3].contains(" cid:")
                && lines[ingress + 3].ends_with(r#"subject:"orders.new""#),
            "{far}: {out}"
        );
        assert!(out.contains("Legend: Client: --C Router: --> Gateway: ==> Leafnode: ~~> JetStream: --J Error: --X"), "{out}");
        assert!(out.contains("Egress Count:"), "{out}");
        assert!(out.contains("Client: 1"), "{out}");
        assert!(out.contains("Router: 1"), "{out}");

        // Trace only: nothing reached the subscriber; --deliver does.
        let out = trace(&a, &["orders.new", "hello", "--deliver", "-T"]);
        assert!(
            out.contains("with delivery to the final destination"),
            "{out}"
        );
        assert!(
            out.lines()
                .any(|l| l.starts_with('[') && l.contains("--> Router")),
            "timestamps: {out}"
        );
        let received = sub.expect_line("Received on \"orders.new\"");
        assert!(received.contains("[#1]"), "{far}: {received}");
        sub.expect_line("hello");
        // B's only client, the subscriber, was sent that one message.
        let (status, body) = b.http_get("/connz");
        assert_eq!(status, 200, "{body}");
        let connz: serde_json::Value = serde_json::from_str(&body).expect("connz");
        assert_eq!(connz["connections"][0]["out_msgs"], 1, "{far}: {body}");
    }
}

#[test]
fn trace_says_when_nobody_listens() {
    let server = start_server(None);
    let out = trace(&server, &["nobody.here"]);
    assert!(out.contains("--X No active interest"), "{out}");
    let failed = gannet(&["trace", "x", "-H", "no-colon"])
        .server(&server.url())
        .run()
        .failure();
    assert!(failed.contains("K:V"), "{failed}");
}
