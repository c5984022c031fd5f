//! Gateways: Gannet clusters joined to each other and to nats-server 2.15
//! clusters (when this machine has it) into super-clusters. Clients on both
//! sides publish, subscribe, unsubscribe, make requests and share queue
//! groups across; `$SYS.REQ.SERVER.PING` is answered by every server of
//! every cluster; links come back after a server restarts.
use std::time::{Duration, Instant};

use futures::StreamExt;
use gannet_test::{free_port, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
const LINK_TIMEOUT: Duration = Duration::from_secs(20);

fn reference() -> Option<String> {
    let found = gannet_test::reference_server_binary();
    if found.is_none() {
        eprintln!("nats-server 2.15 not installed (scripts/install-reference.sh): skipped");
    }
    found
}

/// One server of a super-cluster.
struct Node {
    process: ServerProcess,
    #[allow(dead_code)]
    gateway_port: u16,
    #[allow(dead_code)]
    cluster_port: u16,
}

/// The config of server `name` of cluster `cluster`: gateway on
/// `gateway_port` with `gateways` (name, port) configured, routes to
/// `routes` when `cluster_port` is set; accounts APP (clients land there)
/// and SYS (the system account).
fn config(
    name: &str,
    cluster: &str,
    gateway_port: u16,
    gateways: &[(&str, u16)],
    cluster_port: u16,
    routes: &[u16],
    gateway_extra: &str,
) -> String {
    let gateways: Vec<String> = gateways
        .iter()
        .map(|(n, p)| format!("{{ name: {n}, url: \"nats://127.0.0.1:{p}\" }}"))
        .collect();
    let mut conf = format!(
        "server_name: {name}\n\
        http: \"127.0.0.1:-1\"\n\
        accounts {{\n  APP {{ users = [ {{ user: app, password: app }} ] }}\n  SYS {{ users = [ {{ user: sys, password: sys }} ] }}\n}}\n\
        system_account: SYS\n\
        no_auth_user: app\n\
        gateway {{\n  name: {cluster}\n  listen: \"127.0.0.1:{gateway_port}\"\n  gateways: [{}]\n  {gateway_extra}\n}}\n",
        gateways.join(", ")
    );
    if cluster_port != 0 {
        let routes: Vec<String> = routes
            .iter()
            .map(|p| format!("\"nats-route://127.0.0.1:{p}\""))
            .collect();
        conf.push_str(&format!(
            "cluster {{\n  name: {cluster}\n  listen: \"127.0.0.1:{cluster_port}\"\n  routes: [{}]\n}}\n",
            routes.join(", ")
        ));
    }
    conf
}

fn start(binary: &str, conf: &str, gateway_port: u16, cluster_port: u16) -> Node {
    Node {
        process: ServerProcess::builder(binary).config(conf).start(),
        gateway_port,
        cluster_port,
    }
}

fn gatewayz(node: &Node) -> serde_json::Value {
    let (status, body) = node.process.http_get("/gatewayz?accs=1");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Waits until `node` has an outbound connection to each cluster of `names`
/// and at least `inbound` inbound connections.
fn wait_gateways(node: &Node, names: &[&str], inbound: usize) {
    let deadline = Instant::now() + LINK_TIMEOUT;
    loop {
        let doc = gatewayz(node);
        let out_ok = names
            .iter()
            .all(|n| doc["outbound_gateways"].get(*n).is_some());
        let ins: usize = doc["inbound_gateways"].as_object().map_or(0, |m| {
            m.values().map(|v| v.as_array().map_or(0, Vec::len)).sum()
        });
        if out_ok && ins >= inbound {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "gateways of {} never came up: {doc:#}\n{}",
            node.process.addr(),
            node.process.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn client(node: &Node) -> async_nats::Client {
    async_nats::connect(node.process.url())
        .await
        .expect("connect")
}

async fn sys_client(node: &Node) -> async_nats::Client {
    async_nats::ConnectOptions::with_user_and_password("sys".into(), "sys".into())
        .connect(node.process.url())
        .await
        .expect("connect sys")
}

/// Publishes on `subject` from `from` until `sub` gets one, then drains.
async fn await_flow(from: &async_nats::Client, subject: &str, sub: &mut async_nats::Subscriber) {
    let deadline = Instant::now() + LINK_TIMEOUT;
    loop {
        from.publish(subject.to_string(), "probe".into())
            .await
            .unwrap();
        from.flush().await.unwrap();
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(100), sub.next()).await {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "interest in {subject} never crossed the gateway"
        );
    }
    drain(sub, Duration::from_millis(200)).await;
}

async fn drain(sub: &mut async_nats::Subscriber, quiet: Duration) -> usize {
    let mut n = 0;
    while let Ok(Some(_)) = tokio::time::timeout(quiet, sub.next()).await {
        n += 1;
    }
    n
}

/// Both ways across the gateway between `a` and `b`: plain messages with
/// headers, requests, a queue group served by the publisher's cluster while
/// it has a member there and by the other one after, and an unsubscribe
/// that stops the flow.
async fn check_link(a: &Node, b: &Node) {
    let (on_a, on_b) = (client(a).await, client(b).await);
    // A to B, 100 messages, then with headers.
    let mut at_b = on_b.subscribe("gw.x").await.unwrap();
    on_b.flush().await.unwrap();
    await_flow(&on_a, "gw.x", &mut at_b).await;
    for i in 0..100 {
        on_a.publish("gw.x", format!("{i}").into()).await.unwrap();
    }
    on_a.flush().await.unwrap();
    for i in 0..100 {
        let m = tokio::time::timeout(Duration::from_secs(5), at_b.next())
            .await
            .expect("message across")
            .unwrap();
        assert_eq!(m.payload, format!("{i}").as_bytes(), "in order");
    }
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("K", "v");
    on_a.publish_with_headers("gw.x", headers, "h".into())
        .await
        .unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), at_b.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        m.headers
            .as_ref()
            .and_then(|h| h.get("K"))
            .map(|v| v.as_str()),
        Some("v")
    );
    // B to A.
    let mut at_a = on_a.subscribe("gw.y").await.unwrap();
    on_a.flush().await.unwrap();
    await_flow(&on_b, "gw.y", &mut at_a).await;
    on_b.publish("gw.y", "back".into()).await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), at_a.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.payload, "back".as_bytes());

    // Requests both ways (the reply crosses back by its `_GR_.` form).
    for (requester, responder, subject) in [(&on_a, &on_b, "svc.b"), (&on_b, &on_a, "svc.a")] {
        let mut service = responder.subscribe(subject.to_string()).await.unwrap();
        responder.flush().await.unwrap();
        let answering = responder.clone();
        let task = tokio::spawn(async move {
            while let Some(req) = service.next().await {
                if let Some(reply) = req.reply {
                    let mut body = b"re:".to_vec();
                    body.extend_from_slice(&req.payload);
                    answering.publish(reply, body.into()).await.unwrap();
                    answering.flush().await.unwrap();
                }
            }
        });
        let deadline = Instant::now() + LINK_TIMEOUT;
        let answer = loop {
            match tokio::time::timeout(
                Duration::from_secs(2),
                requester.request(subject.to_string(), "q".into()),
            )
            .await
            {
                Ok(Ok(m)) => break m,
                _ => assert!(Instant::now() < deadline, "no answer to {subject}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(answer.payload, "re:q".as_bytes());
        for i in 0..20 {
            let m = requester
                .request(subject.to_string(), format!("{i}").into())
                .await
                .expect("request across");
            assert_eq!(m.payload, format!("re:{i}").as_bytes());
        }
        task.abort();
    }

    // A queue group with a member on each side: A's messages stay in A
    // while it has a member there, then go to B's.
    let mut q_a = on_a.queue_subscribe("work", "q".into()).await.unwrap();
    let mut q_b = on_b.queue_subscribe("work", "q".into()).await.unwrap();
    let mut watch = on_b.subscribe("work").await.unwrap();
    on_a.flush().await.unwrap();
    on_b.flush().await.unwrap();
    await_flow(&on_a, "work", &mut watch).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drain(&mut q_a, Duration::from_millis(50)).await;
    drain(&mut q_b, Duration::from_millis(50)).await;
    for i in 0..100 {
        on_a.publish("work", format!("{i}").into()).await.unwrap();
    }
    on_a.flush().await.unwrap();
    let (got_a, got_b) = (
        drain(&mut q_a, Duration::from_millis(500)).await,
        drain(&mut q_b, Duration::from_millis(100)).await,
    );
    assert_eq!(
        (got_a, got_b),
        (100, 0),
        "served in the publisher's cluster"
    );
    drop(q_a);
    on_a.flush().await.unwrap();
    // Once A's member is gone, B serves the group.
    let deadline = Instant::now() + LINK_TIMEOUT;
    loop {
        on_a.publish("work", "again".into()).await.unwrap();
        on_a.flush().await.unwrap();
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(100), q_b.next()).await {
            break;
        }
        assert!(Instant::now() < deadline, "B never served the group");
    }
    drain(&mut q_b, Duration::from_millis(200)).await;
    drain(&mut watch, Duration::from_millis(50)).await;
    for i in 0..50 {
        on_a.publish("work", format!("{i}").into()).await.unwrap();
    }
    on_a.flush().await.unwrap();
    assert_eq!(drain(&mut q_b, Duration::from_millis(500)).await, 50);
    assert_eq!(drain(&mut watch, Duration::from_millis(100)).await, 50);

    // After B's subscriber leaves, A stops sending (interest-only mode).
    at_b.unsubscribe().await.unwrap();
    on_b.flush().await.unwrap();
    let sent_before = |doc: &serde_json::Value| {
        doc["outbound_gateways"]
            .as_object()
            .and_then(|m| m.values().next())
            .and_then(|g| g["connection"]["out_msgs"].as_u64())
            .unwrap_or(0)
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = sent_before(&gatewayz(a));
    for _ in 0..100 {
        on_a.publish("gw.x", "nobody".into()).await.unwrap();
    }
    on_a.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = sent_before(&gatewayz(a));
    assert!(
        after - before < 5,
        "messages without interest crossed: {before} -> {after}"
    );
}

/// Sends `$SYS.REQ.SERVER.PING` on `node` and collects the answering servers' names.
async fn ping_names(node: &Node, want: usize) -> Vec<String> {
    let sys = sys_client(node).await;
    let deadline = Instant::now() + LINK_TIMEOUT;
    loop {
        let inbox = sys.new_inbox();
        let mut replies = sys.subscribe(inbox.clone()).await.unwrap();
        sys.flush().await.unwrap();
        sys.publish_with_reply("$SYS.REQ.SERVER.PING", inbox, "".into())
            .await
            .unwrap();
        sys.flush().await.unwrap();
        let mut names = Vec::new();
        while let Ok(Some(m)) =
            tokio::time::timeout(Duration::from_millis(700), replies.next()).await
        {
            let doc: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
            names.push(doc["server"]["name"].as_str().unwrap_or("").to_string());
        }
        names.sort();
        if names.len() >= want || Instant::now() > deadline {
            return names;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A client connecting in one cluster is announced to system subscribers
/// in the other (`$SYS.ACCOUNT.APP.CONNECT` crosses the gateway).
async fn check_events(watcher: &Node, other: &Node, other_name: &str) {
    let sys = sys_client(watcher).await;
    let mut events = sys.subscribe("$SYS.ACCOUNT.APP.CONNECT").await.unwrap();
    sys.flush().await.unwrap();
    let deadline = Instant::now() + LINK_TIMEOUT;
    loop {
        let newcomer = client(other).await;
        newcomer.flush().await.unwrap();
        let got = tokio::time::timeout(Duration::from_millis(500), async {
            while let Some(m) = events.next().await {
                let doc: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
                if doc["server"]["name"] == other_name {
                    return Some(doc);
                }
            }
            None
        })
        .await;
        if let Ok(Some(doc)) = got {
            assert_eq!(doc["client"]["acc"], "APP", "{doc:#}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no CONNECT event from {other_name} crossed"
        );
    }
}

fn pair(a_bin: &str, b_bin: &str) -> (Node, Node) {
    let (ga, gb) = (free_port(), free_port());
    let a = start(
        a_bin,
        &config("A", "C1", ga, &[("C2", gb)], 0, &[], ""),
        ga,
        0,
    );
    let b = start(
        b_bin,
        &config("B", "C2", gb, &[("C1", ga)], 0, &[], ""),
        gb,
        0,
    );
    wait_gateways(&a, &["C2"], 1);
    wait_gateways(&b, &["C1"], 1);
    (a, b)
}

#[tokio::test]
async fn two_gannet_clusters_exchange_messages_requests_and_queue_work() {
    let (a, b) = pair(BIN, BIN);
    check_link(&a, &b).await;
    check_link(&b, &a).await;
    assert_eq!(ping_names(&a, 2).await, vec!["A", "B"]);
    check_events(&a, &b, "B").await;
    check_events(&b, &a, "A").await;
    // GATEWAYZ: the outbound to the other cluster, interest-only accounts.
    let doc = gatewayz(&a);
    assert_eq!(doc["name"], "C1");
    let out = &doc["outbound_gateways"]["C2"];
    assert_eq!(out["configured"], true);
    assert_eq!(out["connection"]["kind"], "Gateway");
    let accounts = out["accounts"].as_array().unwrap();
    assert!(
        accounts
            .iter()
            .any(|acc| acc["name"] == "APP" && acc["interest_mode"] == "Interest-Only"),
        "{doc:#}"
    );
    assert_eq!(doc["inbound_gateways"]["C2"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn gannet_and_nats_server_clusters_work_as_one_super_cluster() {
    let Some(reference) = reference() else { return };
    let (a, b) = pair(BIN, &reference);
    check_link(&a, &b).await;
    check_link(&b, &a).await;
    assert_eq!(ping_names(&a, 2).await, vec!["A", "B"]);
    assert_eq!(ping_names(&b, 2).await, vec!["A", "B"]);
    check_events(&a, &b, "B").await;
    check_events(&b, &a, "A").await;
}

/// The super-cluster of a two-node Gannet cluster C1 and a two-node cluster
/// C2 of `c2_bin`, where only A1 is configured with a gateway (to B1): the
/// rest is learned (gateway URLs over routes, gossip of gateways to routes
/// and to inbound connections).
fn learned_super_cluster(c2_bin: &str) -> [Node; 4] {
    let (g_a1, g_a2, g_b1, g_b2) = (free_port(), free_port(), free_port(), free_port());
    let (r_a1, r_a2, r_b1, r_b2) = (free_port(), free_port(), free_port(), free_port());
    let a1 = start(
        BIN,
        &config("A1", "C1", g_a1, &[("C2", g_b1)], r_a1, &[r_a2], ""),
        g_a1,
        r_a1,
    );
    let a2 = start(
        BIN,
        &config("A2", "C1", g_a2, &[], r_a2, &[r_a1], ""),
        g_a2,
        r_a2,
    );
    let b1 = start(
        c2_bin,
        &config("B1", "C2", g_b1, &[], r_b1, &[r_b2], ""),
        g_b1,
        r_b1,
    );
    let b2 = start(
        c2_bin,
        &config("B2", "C2", g_b2, &[], r_b2, &[r_b1], ""),
        g_b2,
        r_b2,
    );
    // Each server has its own outbound connection to the other cluster, to
    // a server picked at random: inbound ones are not everywhere.
    for node in [&a1, &a2] {
        wait_gateways(node, &["C2"], 0);
    }
    for node in [&b1, &b2] {
        wait_gateways(node, &["C1"], 0);
    }
    [a1, a2, b1, b2]
}

/// Requests from every server to a service on every other cluster's
/// servers, a queue group served once per message, and PING answered by
/// all four servers from anywhere.
async fn check_learned(nodes: &[Node; 4]) {
    let [a1, a2, b1, b2] = nodes;
    for node in nodes {
        assert_eq!(
            ping_names(node, 4).await,
            vec!["A1", "A2", "B1", "B2"],
            "PING from {}",
            node.process.addr()
        );
    }
    // A service on each server; requests from the other cluster's servers.
    for (service_node, requesters, name) in [
        (a1, [b1, b2], "svc.a1"),
        (a2, [b1, b2], "svc.a2"),
        (b1, [a1, a2], "svc.b1"),
        (b2, [a1, a2], "svc.b2"),
    ] {
        let responder = client(service_node).await;
        let mut service = responder.subscribe(name.to_string()).await.unwrap();
        responder.flush().await.unwrap();
        let task = tokio::spawn(async move {
            while let Some(req) = service.next().await {
                if let Some(reply) = req.reply {
                    responder.publish(reply, req.payload).await.unwrap();
                    responder.flush().await.unwrap();
                }
            }
        });
        for requester_node in requesters {
            let requester = client(requester_node).await;
            let deadline = Instant::now() + LINK_TIMEOUT;
            loop {
                match tokio::time::timeout(
                    Duration::from_secs(2),
                    requester.request(name.to_string(), "x".into()),
                )
                .await
                {
                    Ok(Ok(m)) => {
                        assert_eq!(m.payload, "x".as_bytes());
                        break;
                    }
                    _ => assert!(Instant::now() < deadline, "no answer from {name}"),
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            for i in 0..10 {
                let m = requester
                    .request(name.to_string(), format!("{i}").into())
                    .await
                    .unwrap_or_else(|e| panic!("request to {name}: {e}"));
                assert_eq!(m.payload, format!("{i}").as_bytes());
            }
        }
        task.abort();
    }
    // A queue group with members on both C2 servers only: every message
    // from C1 served once.
    let (on_b1, on_b2) = (client(b1).await, client(b2).await);
    let mut q1 = on_b1.queue_subscribe("jobs", "w".into()).await.unwrap();
    let mut q2 = on_b2.queue_subscribe("jobs", "w".into()).await.unwrap();
    on_b1.flush().await.unwrap();
    on_b2.flush().await.unwrap();
    let on_a2 = client(a2).await;
    let deadline = Instant::now() + LINK_TIMEOUT;
    loop {
        on_a2.publish("jobs", "probe".into()).await.unwrap();
        on_a2.flush().await.unwrap();
        let got = tokio::select! {
            m = q1.next() => m.is_some(),
            m = q2.next() => m.is_some(),
            _ = tokio::time::sleep(Duration::from_millis(100)) => false,
        };
        if got {
            break;
        }
        assert!(Instant::now() < deadline, "queue group never reached");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    drain(&mut q1, Duration::from_millis(50)).await;
    drain(&mut q2, Duration::from_millis(50)).await;
    for i in 0..200 {
        on_a2.publish("jobs", format!("{i}").into()).await.unwrap();
    }
    on_a2.flush().await.unwrap();
    let (n1, n2) = (
        drain(&mut q1, Duration::from_millis(500)).await,
        drain(&mut q2, Duration::from_millis(100)).await,
    );
    assert_eq!(n1 + n2, 200, "each message once ({n1} + {n2})");
}

#[tokio::test]
async fn gannet_clusters_learn_the_super_cluster_from_one_configured_gateway() {
    let nodes = learned_super_cluster(BIN);
    check_learned(&nodes).await;
    // Every server knows every gateway URL of its own cluster.
    let doc: serde_json::Value =
        serde_json::from_str(&nodes[1].process.http_get("/varz").1).unwrap();
    assert_eq!(doc["gateway"]["name"], "C1");
    let remotes = doc["gateway"]["gateways"].as_array().unwrap();
    assert!(remotes.iter().any(|g| g["name"] == "C2"), "{doc:#}");
}

#[tokio::test]
async fn a_gannet_cluster_and_a_nats_server_cluster_learn_each_other() {
    let Some(reference) = reference() else { return };
    let nodes = learned_super_cluster(&reference);
    check_learned(&nodes).await;
}

#[tokio::test]
async fn a_restarted_nats_server_gateway_comes_back() {
    let Some(reference) = reference() else { return };
    restarted_gateway_comes_back(&reference).await;
}

#[tokio::test]
async fn a_restarted_gannet_gateway_comes_back() {
    restarted_gateway_comes_back(BIN).await;
}

/// B (`b_bin`) is stopped and started again on its ports: the links come
/// back both ways, with B's new interest.
async fn restarted_gateway_comes_back(b_bin: &str) {
    let reference = b_bin.to_string();
    let (a, mut b) = pair(BIN, &reference);
    let on_a = client(&a).await;
    {
        let on_b = client(&b).await;
        let mut at_b = on_b.subscribe("after").await.unwrap();
        on_b.flush().await.unwrap();
        await_flow(&on_a, "after", &mut at_b).await;
    }
    let conf = std::fs::read_to_string(b.process.config_path()).unwrap();
    let port: u16 = b
        .process
        .addr()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(b.process.terminate(Duration::from_secs(5)));
    b.process = ServerProcess::builder(&reference)
        .config(&conf)
        .port(port)
        .start();
    wait_gateways(&b, &["C1"], 1);
    wait_gateways(&a, &["C2"], 1);
    let on_b = client(&b).await;
    let mut at_b = on_b.subscribe("after").await.unwrap();
    on_b.flush().await.unwrap();
    await_flow(&on_a, "after", &mut at_b).await;
    for i in 0..20 {
        on_a.publish("after", format!("{i}").into()).await.unwrap();
    }
    on_a.flush().await.unwrap();
    assert_eq!(drain(&mut at_b, Duration::from_millis(500)).await, 20);
}

/// C1 (Gannet A1, A2) and a one-server C2 (`b_bin`) that knows only A1: its
/// outbound connection lands on A1, so replies for requesters on A2 arrive
/// at A1 and must go on over the route to A2 (the `_GR_.` reply names A2).
async fn replies_reach_the_requesters_server(b_bin: &str) {
    let (g_a1, g_a2, g_b) = (free_port(), free_port(), free_port());
    let (r_a1, r_a2) = (free_port(), free_port());
    let a1 = start(
        BIN,
        &config("A1", "C1", g_a1, &[], r_a1, &[r_a2], ""),
        g_a1,
        r_a1,
    );
    let a2 = start(
        BIN,
        &config("A2", "C1", g_a2, &[], r_a2, &[r_a1], ""),
        g_a2,
        r_a2,
    );
    let b = start(
        b_bin,
        &config("B", "C2", g_b, &[("C1", g_a1)], 0, &[], ""),
        g_b,
        0,
    );
    wait_gateways(&b, &["C1"], 2);
    wait_gateways(&a1, &["C2"], 1);
    wait_gateways(&a2, &["C2"], 0);
    assert!(
        gatewayz(&a2)["inbound_gateways"]
            .as_object()
            .is_none_or(|m| m.is_empty()),
        "B reaches C1 through A1 only"
    );
    let responder = client(&b).await;
    let mut service = responder.subscribe("svc").await.unwrap();
    responder.flush().await.unwrap();
    let task = tokio::spawn(async move {
        while let Some(req) = service.next().await {
            if let Some(reply) = req.reply {
                responder.publish(reply, req.payload).await.unwrap();
                responder.flush().await.unwrap();
            }
        }
    });
    let requester = client(&a2).await;
    let deadline = Instant::now() + LINK_TIMEOUT;
    loop {
        match tokio::time::timeout(Duration::from_secs(2), requester.request("svc", "x".into()))
            .await
        {
            Ok(Ok(_)) => break,
            _ => assert!(Instant::now() < deadline, "no answer on A2"),
        }
    }
    for i in 0..50 {
        let m = requester
            .request("svc", format!("{i}").into())
            .await
            .expect("answer on A2");
        assert_eq!(m.payload, format!("{i}").as_bytes());
    }
    // PING from A2: the answers of B come back the same way.
    assert_eq!(ping_names(&a2, 3).await, vec!["A1", "A2", "B"]);
    task.abort();
}

#[tokio::test]
async fn replies_reach_the_requesters_server_through_its_cluster() {
    replies_reach_the_requesters_server(BIN).await;
}

#[tokio::test]
async fn replies_from_nats_server_reach_the_requesters_server_through_its_cluster() {
    let Some(reference) = reference() else { return };
    replies_reach_the_requesters_server(&reference).await;
}

/// Whether `node` has an outbound connection to `name` now.
fn has_outbound(node: &Node, name: &str) -> bool {
    gatewayz(node)["outbound_gateways"].get(name).is_some()
}

#[tokio::test]
async fn gateway_credentials_are_checked_both_ways_with_nats_server() {
    let Some(reference) = reference() else { return };
    // Gannet A wants gw/secret; nats-server B dials with a wrong password
    // first, then B2 with the right one.
    let auth = "authorization { user: gw, password: secret }";
    let (ga, gb, gb2) = (free_port(), free_port(), free_port());
    let a = start(BIN, &config("A", "C1", ga, &[], 0, &[], auth), ga, 0);
    let wrong = format!(
        "server_name: B\nhttp: \"127.0.0.1:-1\"\ngateway {{ name: C2, listen: \"127.0.0.1:{gb}\", gateways: [ {{ name: C1, url: \"nats://gw:wrong@127.0.0.1:{ga}\" }} ] }}\n"
    );
    let b = start(&reference, &wrong, gb, 0);
    a.process.wait_log("authentication error - User \"gw\"");
    assert!(!has_outbound(&b, "C1"));
    drop(b);
    // B2 uses its own authorization credentials to dial (no user in the URL).
    let right = format!(
        "server_name: B2\nhttp: \"127.0.0.1:-1\"\ngateway {{ name: C2, listen: \"127.0.0.1:{gb2}\", {auth}, gateways: [ {{ name: C1, url: \"nats://127.0.0.1:{ga}\" }} ] }}\n"
    );
    let b2 = start(&reference, &right, gb2, 0);
    wait_gateways(&b2, &["C1"], 1);
    // A dialed B2 back (implicitly), with its own credentials, and got in.
    wait_gateways(&a, &["C2"], 1);
}

#[test]
fn a_client_on_the_gateway_port_is_told_and_cut() {
    let ga = free_port();
    let a = start(BIN, &config("A", "C1", ga, &[], 0, &[], ""), ga, 0);
    // (The gateway's INFO was read on connecting.)
    let mut raw = gannet_test::RawClient::connect(&format!("127.0.0.1:{ga}"));
    raw.send(b"CONNECT {\"verbose\":false}\r\n");
    raw.expect_closed_after(b"-ERR 'attempted to connect to gateway port'\r\n");
    // The server goes on.
    let (status, _) = a.process.http_get("/varz");
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_unknown_cluster_is_rejected_when_asked() {
    let Some(reference) = reference() else { return };
    let (ga, gb) = (free_port(), free_port());
    let a = start(
        BIN,
        &config("A", "C1", ga, &[], 0, &[], "reject_unknown_cluster: true"),
        ga,
        0,
    );
    let b = start(
        &reference,
        &config("B", "C9", gb, &[("C1", ga)], 0, &[], ""),
        gb,
        0,
    );
    a.process
        .wait_log("Rejecting connection from gateway \"C9\"");
    std::thread::sleep(Duration::from_millis(500));
    assert!(!has_outbound(&b, "C1"));
    assert!(!has_outbound(&a, "C9"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateways_over_mutual_tls_with_nats_server() {
    let Some(reference) = reference() else { return };
    use gannet_test::certs::{CertAuthority, CertSpec};
    let dir = tempfile::tempdir().unwrap();
    let ca = CertAuthority::new("Gateway CA");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let peer = ca
        .issue(
            &CertSpec::peer("CN=gateway")
                .ip("127.0.0.1")
                .dns("localhost"),
        )
        .write(dir.path(), "gateway");
    let tls = format!(
        "tls {{ cert_file: \"{}\", key_file: \"{}\", ca_file: \"{}\", verify: true, timeout: 2 }}",
        peer.cert.display(),
        peer.key.display(),
        ca_file.display()
    );
    let (ga, gb) = (free_port(), free_port());
    let a = start(
        BIN,
        &config("A", "C1", ga, &[("C2", gb)], 0, &[], &tls),
        ga,
        0,
    );
    let b = start(
        &reference,
        &config("B", "C2", gb, &[("C1", ga)], 0, &[], &tls),
        gb,
        0,
    );
    wait_gateways(&a, &["C2"], 1);
    wait_gateways(&b, &["C1"], 1);
    let (on_a, on_b) = (client(&a).await, client(&b).await);
    let mut at_b = on_b.subscribe("secure").await.unwrap();
    on_b.flush().await.unwrap();
    await_flow(&on_a, "secure", &mut at_b).await;
    // A plain-text dialer gets nowhere.
    let gc = free_port();
    let c = start(
        BIN,
        &config("C", "C3", gc, &[("C1", ga)], 0, &[], ""),
        gc,
        0,
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(!has_outbound(&c, "C1"));
}

#[test]
fn a_misbehaving_gateway_peer_is_cut_and_the_server_goes_on() {
    let ga = free_port();
    let a = start(BIN, &config("A", "C1", ga, &[], 0, &[], ""), ga, 0);
    let hello = b"CONNECT {\"gateway\":\"CX\",\"name\":\"NX\"}\r\nINFO {\"server_id\":\"NX\",\"gateway\":\"CX\"}\r\n";
    // Interest lines are for the dialer only.
    let mut raw = gannet_test::RawClient::connect(&format!("127.0.0.1:{ga}"));
    raw.send(hello);
    let told = String::from_utf8_lossy(&raw.read_for(Duration::from_millis(500))).into_owned();
    assert!(
        told.contains("\"gateway_cmd\":2") && told.contains("\"gateway_cmd\":3"),
        "accounts switched to interest-only: {told}"
    );
    raw.send(b"RS+ APP foo\r\n");
    let (_, closed) = raw.read_to_close(Duration::from_secs(3));
    assert!(closed, "RS+ on an inbound connection closes it");
    // Garbage after the handshake: an error, then the end.
    let mut raw = gannet_test::RawClient::connect(&format!("127.0.0.1:{ga}"));
    raw.send(hello);
    raw.send(b"RMSG APP foo 1x\r\n");
    let (rest, closed) = raw.read_to_close(Duration::from_secs(3));
    assert!(closed);
    assert!(
        String::from_utf8_lossy(&rest).contains("-ERR 'Unknown Protocol Operation'"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    // A message for an account the server does not have: A- once.
    let mut raw = gannet_test::RawClient::connect(&format!("127.0.0.1:{ga}"));
    raw.send(hello);
    raw.read_for(Duration::from_millis(300));
    raw.send(b"RMSG NOPE foo 2\r\nhi\r\nRMSG NOPE bar 2\r\nhi\r\n");
    let got = String::from_utf8_lossy(&raw.read_for(Duration::from_millis(500))).into_owned();
    assert_eq!(got.matches("A- NOPE\r\n").count(), 1, "{got}");
    // A CONNECT naming one gateway and an INFO naming another: cut.
    let mut raw = gannet_test::RawClient::connect(&format!("127.0.0.1:{ga}"));
    raw.send(b"CONNECT {\"gateway\":\"CX\",\"name\":\"NX\"}\r\nINFO {\"server_id\":\"NX\",\"gateway\":\"CY\"}\r\n");
    let (_, closed) = raw.read_to_close(Duration::from_secs(3));
    assert!(
        closed,
        "an INFO naming another gateway than the CONNECT closes"
    );
    // The server is fine.
    let (status, _) = a.process.http_get("/varz");
    assert_eq!(status, 200);
    let mut c = gannet_test::RawClient::connect_with(&a.process.addr(), "{\"verbose\":false}");
    c.send(b"PING\r\n");
    c.expect(b"PONG\r\n");
}

#[tokio::test]
async fn a_wrapped_reply_for_the_own_cluster_does_not_get_past_permissions() {
    let ga = free_port();
    let conf = format!(
        "server_name: A\nhttp: \"127.0.0.1:-1\"\n\
         accounts {{ APP {{ users = [\n\
           {{ user: limited, password: p, permissions: {{ publish: {{ deny: [\"secret.>\"] }} }} }}\n\
           {{ user: watcher, password: p }}\n\
         ] }} }}\n\
         gateway {{ name: C1, listen: \"127.0.0.1:{ga}\" }}\n"
    );
    let a = Node {
        process: ServerProcess::builder(BIN).config(&conf).start(),
        gateway_port: ga,
        cluster_port: 0,
    };
    let connect = |user: &str| {
        async_nats::ConnectOptions::with_user_and_password(user.into(), "p".into())
            .connect(a.process.url())
    };
    let watcher = connect("watcher").await.unwrap();
    let limited = connect("limited").await.unwrap();
    let mut secret = watcher.subscribe("secret.x").await.unwrap();
    watcher.flush().await.unwrap();
    let id: serde_json::Value = serde_json::from_str(&a.process.http_get("/varz").1).unwrap();
    let cluster = gannet_server::gateway::name_hash("C1");
    let server = gannet_server::gateway::name_hash(id["server_id"].as_str().unwrap());
    let wrapped = format!(
        "_GR_.{}.{}.secret.x",
        String::from_utf8_lossy(&cluster),
        String::from_utf8_lossy(&server)
    );
    limited.publish(wrapped, "leak".into()).await.unwrap();
    limited.flush().await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), secret.next())
            .await
            .is_err(),
        "a denied subject was reached through a _GR_. wrapper"
    );
}

/// The config of a one-server cluster `cluster` whose gateway on `port`
/// links to `other` on `other_port`, with account EXP exporting the stream
/// `events.>` and the service `svc.echo`, which IMP imports.
fn imports_config(cluster: &str, port: u16, other: &str, other_port: u16) -> String {
    format!(
        "server_name: {cluster}S\nhttp: \"127.0.0.1:-1\"\n\
         accounts {{\n\
           EXP {{ users = [ {{ user: exp, password: exp }} ], exports = [ {{ stream: \"events.>\" }}, {{ service: \"svc.echo\" }} ] }}\n\
           IMP {{ users = [ {{ user: imp, password: imp }} ],\n\
                  imports = [ {{ stream: {{ account: EXP, subject: \"events.>\" }}, prefix: \"imported\" }},\n\
                              {{ service: {{ account: EXP, subject: \"svc.echo\" }}, to: \"echo\" }} ] }}\n\
           SYS {{ users = [ {{ user: sys, password: sys }} ] }}\n\
         }}\nsystem_account: SYS\n\
         gateway {{ name: {cluster}, listen: \"127.0.0.1:{port}\", gateways: [ {{ name: {other}, url: \"nats://127.0.0.1:{other_port}\" }} ] }}\n"
    )
}

/// Clusters C1 (`a_bin`) and C2 (`b_bin`): IMP in C2 gets EXP's stream
/// messages published in C1, once, and its requests through the service
/// import are answered by EXP's responder in C1.
async fn check_imports_across_gateways(a_bin: &str, b_bin: &str) {
    let (pa, pb) = (free_port(), free_port());
    let a = start(a_bin, &imports_config("C1", pa, "C2", pb), pa, 0);
    let b = start(b_bin, &imports_config("C2", pb, "C1", pa), pb, 0);
    wait_gateways(&a, &["C2"], 1);
    wait_gateways(&b, &["C1"], 1);
    let login = |node: &Node, user: &str| {
        let url = node.process.url();
        let user = user.to_string();
        async move {
            async_nats::ConnectOptions::with_user_and_password(user.clone(), user)
                .connect(url)
                .await
                .unwrap()
        }
    };
    let exp = login(&a, "exp").await;
    let imp = login(&b, "imp").await;

    // The stream.
    let mut sub = imp.subscribe("imported.events.>").await.unwrap();
    imp.flush().await.unwrap();
    let deadline = Instant::now() + LINK_TIMEOUT;
    loop {
        exp.publish("events.probe", "probe".into()).await.unwrap();
        exp.flush().await.unwrap();
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), sub.next()).await {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{a_bin} -> {b_bin}: the stream import never crossed"
        );
    }
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), sub.next()).await {}
    for i in 0..10 {
        exp.publish("events.x", format!("m{i}").into())
            .await
            .unwrap();
    }
    exp.flush().await.unwrap();
    let mut got = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(500), sub.next()).await {
        assert_eq!(m.subject.as_str(), "imported.events.x");
        got.push(String::from_utf8_lossy(&m.payload).into_owned());
    }
    let want: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    assert_eq!(got, want, "{a_bin} -> {b_bin}: each once, in order");

    // The service.
    let mut service = exp.subscribe("svc.echo").await.unwrap();
    exp.flush().await.unwrap();
    let responder = tokio::spawn({
        let exp = exp.clone();
        async move {
            while let Some(req) = service.next().await {
                if let Some(reply) = req.reply {
                    exp.publish(reply, req.payload).await.unwrap();
                    exp.flush().await.unwrap();
                }
            }
        }
    });
    let deadline = Instant::now() + LINK_TIMEOUT;
    loop {
        let asked =
            tokio::time::timeout(Duration::from_millis(500), imp.request("echo", "q".into())).await;
        if let Ok(Ok(answer)) = asked {
            assert_eq!(answer.payload, "q".as_bytes());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{a_bin} -> {b_bin}: a request through the service import never got an answer"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    responder.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_work_across_gateways() {
    check_imports_across_gateways(BIN, BIN).await;
    if let Some(reference) = reference() {
        check_imports_across_gateways(BIN, &reference).await;
        check_imports_across_gateways(&reference, BIN).await;
    }
}
