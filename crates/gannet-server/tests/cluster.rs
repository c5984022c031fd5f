//! Clusters over routes: Gannet nodes in a full mesh from one seed, queue
//! groups served once per message across the cluster, interest that follows
//! subscribers, mixed clusters with nats-server 2.15 (when this machine has
//! it) in both seeding directions, route credentials, cluster names, route
//! TLS, `$SYS` requests answered by every node, `connect_urls`, and a node
//! killed and restarted.
//!
//! Every node listens on ports the system picks (`-1`), and every wait is
//! bounded.
use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use gannet_test::certs::{CertAuthority, CertSpec};
use gannet_test::{free_port, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

/// How long a cluster may take to mesh or to carry interest across.
const MESH_TIMEOUT: Duration = Duration::from_secs(15);

/// A cluster node: a server process and its cluster settings.
struct Node {
    process: ServerProcess,
}

impl Node {
    /// Starts `binary` clustered as `name` in cluster `cluster`, dialing
    /// `routes` (route ports), with `extra` added to its cluster block.
    fn start(binary: &str, name: &str, cluster: &str, routes: &[u16], extra: &str) -> Node {
        Self::start_on(binary, name, cluster, -1, routes, extra, "")
    }

    fn start_on(
        binary: &str,
        name: &str,
        cluster: &str,
        cluster_port: i32,
        routes: &[u16],
        cluster_extra: &str,
        top_extra: &str,
    ) -> Node {
        let config = node_config(
            name,
            cluster,
            cluster_port,
            routes,
            cluster_extra,
            top_extra,
        );
        let process = ServerProcess::builder(binary).config(&config).start();
        Node { process }
    }

    /// Starts `binary` where `old` was (its client and route ports), as a
    /// node restarted after a crash, or a node replaced by another server.
    fn restart(binary: &str, old: (u16, u16), name: &str, routes: &[u16], extra: &str) -> Node {
        let config = node_config(name, "C1", i32::from(old.1), routes, extra, "");
        let process = ServerProcess::builder(binary)
            .config(&config)
            .port(old.0)
            .start();
        Node { process }
    }

    /// The client and route ports, to restart the node where it was.
    fn ports(&self) -> (u16, u16) {
        (self.process.port, self.cluster_port())
    }

    fn cluster_port(&self) -> u16 {
        self.process
            .cluster_port
            .expect("the ports file names the cluster port")
    }

    fn url(&self) -> String {
        self.process.url()
    }

    async fn client(&self) -> async_nats::Client {
        async_nats::connect(self.url()).await.expect("connect")
    }

    /// `/routez` as JSON.
    fn routez(&self) -> serde_json::Value {
        let (status, body) = self.process.http_get("/routez?subs=1");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("routez JSON")
    }

    /// The servers this node has routes to (nats-server pools several
    /// connections to a peer that pools too: they count once).
    fn peers(&self) -> usize {
        self.process.route_peers()
    }
}

/// A node's config file.
fn node_config(
    name: &str,
    cluster: &str,
    cluster_port: i32,
    routes: &[u16],
    cluster_extra: &str,
    top_extra: &str,
) -> String {
    let routes: Vec<String> = routes
        .iter()
        .map(|p| format!("\"nats-route://127.0.0.1:{p}\""))
        .collect();
    format!(
        "server_name: {name}\nhttp: \"127.0.0.1:-1\"\n{top_extra}\ncluster {{\n  name: {cluster}\n  listen: \"127.0.0.1:{cluster_port}\"\n  routes: [{}]\n  {cluster_extra}\n}}\n",
        routes.join(", ")
    )
}

/// Waits until every node has a route to each other node.
fn wait_mesh(nodes: &[&Node]) {
    let want = nodes.len() - 1;
    let deadline = Instant::now() + MESH_TIMEOUT;
    loop {
        let counts: Vec<usize> = nodes.iter().map(|n| n.peers()).collect();
        if counts.iter().all(|c| *c == want) {
            return;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = nodes.iter().map(|n| n.process.log()).collect();
            panic!(
                "no full mesh: routes {counts:?}\n{}",
                logs.join("\n-----\n")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Publishes on `subject` from `from` until `sub` gets one (interest has
/// crossed the route), then drains what else arrived.
async fn await_flow(from: &async_nats::Client, subject: &str, sub: &mut async_nats::Subscriber) {
    let deadline = Instant::now() + MESH_TIMEOUT;
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
            "interest in {subject} never crossed"
        );
    }
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), sub.next()).await {}
}

/// Collects what `sub` gets until nothing comes for `quiet`.
async fn drain(sub: &mut async_nats::Subscriber, quiet: Duration) -> Vec<async_nats::Message> {
    let mut got = Vec::new();
    while let Ok(Some(msg)) = tokio::time::timeout(quiet, sub.next()).await {
        got.push(msg);
    }
    got
}

/// Counts of each payload received.
fn counts(msgs: &[async_nats::Message]) -> HashMap<String, usize> {
    let mut map = HashMap::new();
    for m in msgs {
        *map.entry(String::from_utf8_lossy(&m.payload).into_owned())
            .or_default() += 1;
    }
    map
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_seeded_with_one_route_form_a_full_mesh_and_deliver_once() {
    let a = Node::start(BIN, "A", "C1", &[], "");
    let b = Node::start(BIN, "B", "C1", &[a.cluster_port()], "");
    let c = Node::start(BIN, "C", "C1", &[a.cluster_port()], "");
    // B and C know only A: they must learn of each other by gossip.
    wait_mesh(&[&a, &b, &c]);

    let (ca, cb, cc) = (a.client().await, b.client().await, c.client().await);
    let mut on_c = cc.subscribe("mesh.>").await.unwrap();
    let mut on_a = ca.subscribe("mesh.*").await.unwrap();
    cc.flush().await.unwrap();
    ca.flush().await.unwrap();
    await_flow(&cb, "mesh.ready", &mut on_c).await;
    await_flow(&cb, "mesh.ready", &mut on_a).await;
    drain(&mut on_c, Duration::from_millis(200)).await;

    // B to C has no path but the direct route B learned by gossip (routed
    // messages never take a second hop).
    for i in 0..200 {
        cb.publish(format!("mesh.n{}", i % 3), format!("m{i}").into())
            .await
            .unwrap();
    }
    cb.flush().await.unwrap();
    let got_c = drain(&mut on_c, Duration::from_millis(500)).await;
    let got_a = drain(&mut on_a, Duration::from_millis(500)).await;
    for (who, got) in [("C", &got_c), ("A", &got_a)] {
        let seen = counts(got);
        assert_eq!(seen.len(), 200, "{who} missed messages");
        assert!(seen.values().all(|n| *n == 1), "{who} got duplicates");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_group_spread_over_the_cluster_gets_each_message_once() {
    let a = Node::start(BIN, "A", "C1", &[], "");
    let b = Node::start(BIN, "B", "C1", &[a.cluster_port()], "");
    let c = Node::start(BIN, "C", "C1", &[a.cluster_port()], "");
    wait_mesh(&[&a, &b, &c]);
    let (ca, cb, cc) = (a.client().await, b.client().await, c.client().await);
    // Two members on A, one on B, one on C; and a plain subscriber on C.
    let mut members = [
        ca.queue_subscribe("work", "q".into()).await.unwrap(),
        ca.queue_subscribe("work", "q".into()).await.unwrap(),
        cb.queue_subscribe("work", "q".into()).await.unwrap(),
        cc.queue_subscribe("work", "q".into()).await.unwrap(),
    ];
    let mut plain = cc.subscribe("work").await.unwrap();
    for client in [&ca, &cb, &cc] {
        client.flush().await.unwrap();
    }
    // Wait until A knows the weights of B's and C's members: the plain
    // subscriber on C then sees probes; queue members get some of them too.
    await_flow(&ca, "work", &mut plain).await;
    for m in members.iter_mut() {
        drain(m, Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    const N: usize = 400;
    for i in 0..N {
        ca.publish("work", format!("w{i}").into()).await.unwrap();
    }
    ca.flush().await.unwrap();
    let mut all = Vec::new();
    let mut per_member = Vec::new();
    for m in members.iter_mut() {
        let got = drain(m, Duration::from_millis(500)).await;
        per_member.push(got.len());
        all.extend(got);
    }
    let seen = counts(&all);
    assert_eq!(
        seen.len(),
        N,
        "some messages reached no member: {per_member:?}"
    );
    assert!(
        seen.values().all(|n| *n == 1),
        "a message reached two members"
    );
    // Each member, local or remote, gets a share (no local preference).
    assert!(
        per_member.iter().all(|n| *n > N / 16),
        "uneven spread {per_member:?}"
    );
    assert_eq!(drain(&mut plain, Duration::from_millis(300)).await.len(), N);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interest_follows_subscribers_and_requests_cross_the_route() {
    let a = Node::start(BIN, "A", "C1", &[], "");
    let b = Node::start(BIN, "B", "C1", &[a.cluster_port()], "");
    wait_mesh(&[&a, &b]);
    let (ca, cb) = (a.client().await, b.client().await);

    // A service on B answers requests made on A.
    let mut service = cb.subscribe("svc.echo").await.unwrap();
    cb.flush().await.unwrap();
    let responder = cb.clone();
    let serving = tokio::spawn(async move {
        while let Some(msg) = service.next().await {
            if let Some(reply) = msg.reply {
                let mut answer = b"echo:".to_vec();
                answer.extend_from_slice(&msg.payload);
                responder.publish(reply, answer.into()).await.unwrap();
            }
        }
    });
    let deadline = Instant::now() + MESH_TIMEOUT;
    let answer = loop {
        match tokio::time::timeout(
            Duration::from_millis(500),
            ca.request("svc.echo", "hi".into()),
        )
        .await
        {
            Ok(Ok(answer)) => break answer,
            _ => assert!(Instant::now() < deadline, "no answer across the route"),
        }
    };
    assert_eq!(&answer.payload[..], b"echo:hi");

    // Headers cross too.
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("X-Trace", "t1");
    let mut hsub = cb.subscribe("hdr.x").await.unwrap();
    cb.flush().await.unwrap();
    await_flow(&ca, "hdr.x", &mut hsub).await;
    ca.publish_with_headers("hdr.x", headers, "with headers".into())
        .await
        .unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(5), hsub.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        msg.headers
            .as_ref()
            .and_then(|h| h.get("X-Trace"))
            .map(|v| v.as_str()),
        Some("t1")
    );

    // Once the service is gone, A answers requests with no responders.
    serving.abort();
    drop(cb);
    let deadline = Instant::now() + MESH_TIMEOUT;
    loop {
        let asked = ca.request("svc.echo", "again".into());
        match tokio::time::timeout(Duration::from_millis(500), asked).await {
            Ok(Err(e)) if e.kind() == async_nats::RequestErrorKind::NoResponders => break,
            _ => {
                assert!(Instant::now() < deadline, "interest never left A");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Accounts with users, the system account among them.
const ACCOUNTS: &str = "accounts {\n  SYS { users = [ { user: sys, password: sys } ] }\n  APP { users = [ { user: app, password: app } ] }\n}\nsystem_account: SYS\nno_auth_user: app";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_account_requests_are_answered_by_every_node() {
    let a = Node::start_on(BIN, "A", "C1", -1, &[], "", ACCOUNTS);
    let b = Node::start_on(BIN, "B", "C1", -1, &[a.cluster_port()], "", ACCOUNTS);
    let c = Node::start_on(BIN, "C", "C1", -1, &[a.cluster_port()], "", ACCOUNTS);
    wait_mesh(&[&a, &b, &c]);
    let sys = async_nats::ConnectOptions::with_user_and_password("sys".into(), "sys".into())
        .connect(b.url())
        .await
        .unwrap();
    let inbox = sys.new_inbox();
    let mut replies = sys.subscribe(inbox.clone()).await.unwrap();
    sys.flush().await.unwrap();
    let deadline = Instant::now() + MESH_TIMEOUT;
    let mut last = Vec::new();
    let mut statsz: Vec<serde_json::Value> = Vec::new();
    while Instant::now() < deadline {
        sys.publish_with_reply("$SYS.REQ.SERVER.PING", inbox.clone(), "".into())
            .await
            .unwrap();
        sys.flush().await.unwrap();
        let got = drain(&mut replies, Duration::from_millis(500)).await;
        statsz = got
            .iter()
            .filter_map(|m| serde_json::from_slice::<serde_json::Value>(&m.payload).ok())
            .collect();
        let mut names: Vec<String> = statsz
            .iter()
            .filter_map(|v| v["server"]["name"].as_str().map(str::to_string))
            .collect();
        names.sort();
        last = names;
        if last == ["A", "B", "C"] {
            break;
        }
    }
    assert_eq!(last, ["A", "B", "C"], "one STATSZ from each server");
    for reply in &statsz {
        assert_eq!(reply["server"]["cluster"], "C1");
        assert_eq!(reply["statsz"]["active_servers"], 3, "{reply}");
        let mut peers: Vec<&str> = reply["statsz"]["routes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        // Pooling peers have several connections each.
        peers.sort_unstable();
        peers.dedup();
        let me = reply["server"]["name"].as_str().unwrap();
        let others: Vec<&str> = ["A", "B", "C"].into_iter().filter(|n| *n != me).collect();
        assert_eq!(peers, others, "{reply}");
    }
    let (_, varz) = a.process.http_get("/varz");
    let varz: serde_json::Value = serde_json::from_str(&varz).unwrap();
    assert_eq!(varz["cluster"]["name"], "C1");
    assert_eq!(varz["cluster"]["cluster_port"], a.cluster_port());
    // A pool of 3 and the pinned system account: 4 connections per peer.
    assert_eq!(varz["routes"], 8);
    assert_eq!(varz["remotes"], 2);
    assert!(
        varz["in_msgs"].as_u64() > varz["in_client_msgs"].as_u64(),
        "{varz}"
    );
    // A's subscription count includes its peers' interest, as the reference's does.
    let subs_of = |n: &Node| {
        let (_, body) = n.process.http_get("/varz");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["subscriptions"]
            .as_u64()
            .unwrap()
    };
    let before = subs_of(&a);
    let on_b = b.client().await;
    let mut probes = Vec::new();
    for i in 0..3 {
        probes.push(on_b.subscribe(format!("counted.{i}")).await.unwrap());
    }
    on_b.flush().await.unwrap();
    let deadline = Instant::now() + MESH_TIMEOUT;
    while subs_of(&a) != before + 3 {
        assert!(
            Instant::now() < deadline,
            "A counts {} not {}",
            subs_of(&a),
            before + 3
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // Events of every node reach a system subscriber on any node: a client
    // connecting to C is announced to the subscriber on B.
    let mut connects = sys.subscribe("$SYS.ACCOUNT.APP.CONNECT").await.unwrap();
    sys.flush().await.unwrap();
    let deadline = Instant::now() + MESH_TIMEOUT;
    let event = loop {
        let app = async_nats::ConnectOptions::with_user_and_password("app".into(), "app".into())
            .connect(c.url())
            .await
            .unwrap();
        app.flush().await.unwrap();
        match tokio::time::timeout(Duration::from_millis(500), connects.next()).await {
            Ok(Some(event)) => break event,
            _ => assert!(Instant::now() < deadline, "no CONNECT event from C on B"),
        }
    };
    let event: serde_json::Value = serde_json::from_slice(&event.payload).unwrap();
    assert_eq!(event["server"]["name"], "C");
}

/// The reference server, or `None` (with a note) when this machine lacks it.
fn reference() -> Option<String> {
    let found = gannet_test::reference_server_binary();
    if found.is_none() {
        eprintln!("nats-server 2.15 not installed (scripts/install-reference.sh): skipped");
    }
    found
}

/// Traffic both ways between every pair of `nodes`, a queue group spread
/// over all of them served once per message, and a request answered across.
async fn check_traffic(nodes: &[&Node]) {
    let clients = futures::future::join_all(nodes.iter().map(|n| n.client())).await;
    // Each node subscribes to its own subject; every node publishes to all.
    let mut subs = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        subs.push(c.subscribe(format!("to.{i}")).await.unwrap());
        c.flush().await.unwrap();
    }
    for (i, sub) in subs.iter_mut().enumerate() {
        for from in &clients {
            await_flow(from, &format!("to.{i}"), sub).await;
        }
    }
    for (i, sub) in subs.iter_mut().enumerate() {
        for (j, from) in clients.iter().enumerate() {
            for k in 0..20 {
                from.publish(format!("to.{i}"), format!("{j}-{k}").into())
                    .await
                    .unwrap();
            }
            from.flush().await.unwrap();
        }
        let seen = counts(&drain(sub, Duration::from_millis(400)).await);
        assert_eq!(seen.len(), 20 * clients.len(), "node {i} missed messages");
        assert!(seen.values().all(|n| *n == 1), "node {i} got duplicates");
    }

    // One member of group "g" on every node; messages from the first node.
    let mut members = Vec::new();
    for c in &clients {
        members.push(c.queue_subscribe("grp", "g".into()).await.unwrap());
        c.flush().await.unwrap();
    }
    let mut watcher = clients[0].subscribe("grp").await.unwrap();
    for c in &clients {
        await_flow(c, "grp", &mut watcher).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for m in members.iter_mut() {
        drain(m, Duration::from_millis(50)).await;
    }
    const N: usize = 300;
    for k in 0..N {
        clients[0]
            .publish("grp", format!("g{k}").into())
            .await
            .unwrap();
    }
    clients[0].flush().await.unwrap();
    let mut all = Vec::new();
    let mut shares = Vec::new();
    for m in members.iter_mut() {
        let got = drain(m, Duration::from_millis(400)).await;
        shares.push(got.len());
        all.extend(got);
    }
    let seen = counts(&all);
    assert_eq!(seen.len(), N, "queue messages lost: shares {shares:?}");
    assert!(
        seen.values().all(|n| *n == 1),
        "a queue message went to two members"
    );
    assert!(
        shares.iter().all(|n| *n > 0),
        "a member got nothing: {shares:?}"
    );

    // A request from the last node, answered by a service on the first.
    let mut service = clients[0].subscribe("svc.mixed").await.unwrap();
    clients[0].flush().await.unwrap();
    let responder = clients[0].clone();
    let serving = tokio::spawn(async move {
        while let Some(msg) = service.next().await {
            if let Some(reply) = msg.reply {
                responder.publish(reply, msg.payload).await.unwrap();
            }
        }
    });
    let asker = clients.last().unwrap();
    let deadline = Instant::now() + MESH_TIMEOUT;
    loop {
        let asked = asker.request("svc.mixed", "ping".into());
        if let Ok(Ok(answer)) = tokio::time::timeout(Duration::from_millis(500), asked).await {
            assert_eq!(&answer.payload[..], b"ping");
            break;
        }
        assert!(Instant::now() < deadline, "no answer across the cluster");
    }
    serving.abort();
}

/// The names of the servers that answer `$SYS.REQ.SERVER.PING` sent on
/// `node` by the system user of [`ACCOUNTS`], once every one has.
async fn ping_names(node: &Node) -> Vec<String> {
    let sys = async_nats::ConnectOptions::with_user_and_password("sys".into(), "sys".into())
        .connect(node.url())
        .await
        .unwrap();
    let inbox = sys.new_inbox();
    let mut replies = sys.subscribe(inbox.clone()).await.unwrap();
    sys.flush().await.unwrap();
    let deadline = Instant::now() + MESH_TIMEOUT;
    let mut names = Vec::new();
    while Instant::now() < deadline {
        sys.publish_with_reply("$SYS.REQ.SERVER.PING", inbox.clone(), "".into())
            .await
            .unwrap();
        sys.flush().await.unwrap();
        names = drain(&mut replies, Duration::from_millis(500))
            .await
            .iter()
            .filter_map(|m| serde_json::from_slice::<serde_json::Value>(&m.payload).ok())
            .filter_map(|v| v["server"]["name"].as_str().map(str::to_string))
            .collect();
        names.sort();
        names.dedup();
        if names.len() >= 3 {
            break;
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gannet_joins_a_pooled_reference_cluster() {
    let Some(reference) = reference() else { return };
    // Two nats-server nodes with their default pooling, then Gannet seeded
    // with the first: the second learns of Gannet by gossip and dials it.
    let r1 = Node::start_on(&reference, "R1", "C1", -1, &[], "", ACCOUNTS);
    let r2 = Node::start_on(
        &reference,
        "R2",
        "C1",
        -1,
        &[r1.cluster_port()],
        "",
        ACCOUNTS,
    );
    wait_mesh(&[&r1, &r2]);
    let g = Node::start_on(BIN, "G", "C1", -1, &[r1.cluster_port()], "", ACCOUNTS);
    wait_mesh(&[&r1, &r2, &g]);
    // Pooled as nats-server pools: 3 connections per peer and one pinned to
    // the system account, which neither side refuses.
    let deadline = Instant::now() + MESH_TIMEOUT;
    while g.routez()["num_routes"] != 8 {
        assert!(Instant::now() < deadline, "no pools: {}", g.routez());
        std::thread::sleep(Duration::from_millis(50));
    }
    let routez = g.routez();
    let pinned = routez["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["account"] == "SYS")
        .count();
    assert_eq!(pinned, 2, "{routez}");
    for r in [&r1, &r2] {
        let log = r.process.log();
        assert!(
            !log.contains("Not possible to have a dedicated route"),
            "{log}"
        );
        assert!(!log.contains("Mismatch route pool size"), "{log}");
    }
    // The system account rides the pinned connections (no account names
    // on its lines): a PING from each node is answered by all three.
    for node in [&g, &r1, &r2] {
        assert_eq!(ping_names(node).await, ["G", "R1", "R2"]);
    }
    check_traffic(&[&g, &r1, &r2]).await;
    check_traffic(&[&r2, &g]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_nodes_join_a_gannet_seed_without_pooling() {
    let Some(reference) = reference() else { return };
    let no_pool = "pool_size: -1\n  compression: off";
    let g1 = Node::start(BIN, "G1", "C1", &[], no_pool);
    let r = Node::start(&reference, "R", "C1", &[g1.cluster_port()], no_pool);
    let g2 = Node::start(BIN, "G2", "C1", &[g1.cluster_port()], no_pool);
    wait_mesh(&[&g1, &r, &g2]);
    // nats-server keeps a single connection to each peer with pooling off.
    assert_eq!(r.routez()["num_routes"], 2);
    check_traffic(&[&r, &g1, &g2]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_credentials_and_cluster_names_are_checked() {
    let auth = "authorization { user: ru, password: rp }";
    let a = Node::start(BIN, "A", "C1", &[], auth);
    let port = a.cluster_port();
    // The right credentials, from the route URL.
    let with = |user: &str| {
        format!(
            "server_name: {user}X\nhttp: \"127.0.0.1:-1\"\ncluster {{ name: C1, listen: \"127.0.0.1:-1\", routes: [\"nats-route://{user}@127.0.0.1:{port}\"] }}"
        )
    };
    let good = ServerProcess::builder(BIN).config(&with("ru:rp")).start();
    let good = Node { process: good };
    wait_mesh(&[&a, &good]);
    // Wrong password: refused with the reference's texts, and not retried
    // in a tight loop.
    let bad = ServerProcess::builder(BIN).config(&with("ru:nope")).start();
    let needle = "authentication error - User \"ru\"";
    assert!(a.process.wait_log(needle).contains(needle));
    assert!(bad
        .wait_log("Authorization Violation")
        .contains("Authorization Violation"));
    // Another cluster's name.
    let other = format!(
        "server_name: O\ncluster {{ name: C9, listen: \"127.0.0.1:-1\", routes: [\"nats-route://ru:rp@127.0.0.1:{port}\"] }}"
    );
    let _other = ServerProcess::builder(BIN).config(&other).start();
    let needle = "Rejecting connection, cluster name \"C9\" does not match \"C1\"";
    assert!(a.process.wait_log(needle).contains(needle));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(a.peers(), 1, "only the good peer is routed");
    let refusals = a.process.log().matches("authentication error").count();
    assert!(refusals <= 4, "{refusals} refusals in 3 s: no throttling");
    drop(bad);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_over_mutual_tls_with_the_reference() {
    let Some(reference) = reference() else { return };
    let dir = tempfile::tempdir().unwrap();
    let ca = CertAuthority::new("Route CA");
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    let peer = ca
        .issue(&CertSpec::peer("CN=route").ip("127.0.0.1").dns("localhost"))
        .write(dir.path(), "route");
    let stranger_ca = CertAuthority::new("Other CA");
    let stranger = stranger_ca
        .issue(&CertSpec::peer("CN=stranger").ip("127.0.0.1"))
        .write(dir.path(), "stranger");
    let tls = |files: &gannet_test::certs::CertFiles| {
        format!(
            "pool_size: -1\n  tls {{ cert_file: \"{}\", key_file: \"{}\", ca_file: \"{}\", verify: true, timeout: 2 }}",
            files.cert.display(),
            files.key.display(),
            dir.path().join("ca.pem").display()
        )
    };
    let g = Node::start(BIN, "G", "C1", &[], &tls(&peer));
    let r = Node::start(&reference, "R", "C1", &[g.cluster_port()], &tls(&peer));
    let g2 = Node::start(BIN, "G2", "C1", &[r.cluster_port()], &tls(&peer));
    wait_mesh(&[&g, &r, &g2]);
    check_traffic(&[&g2, &r, &g]).await;
    // A peer whose certificate another CA signed is refused.
    let s = Node::start(BIN, "S", "C1", &[g.cluster_port()], &tls(&stranger));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(g.peers(), 2);
    assert_eq!(s.peers(), 0);
}

/// A peer server played by hand over a raw socket: it handshakes as a
/// route (no pooling, no compression), then does only what the test says.
struct RawPeer {
    stream: std::net::TcpStream,
}

impl RawPeer {
    fn connect(cluster_port: u16, cluster: &str) -> RawPeer {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", cluster_port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let id = "NRAWPEER000000000000000000000000000000000000000000000001";
        let hello = format!(
            "CONNECT {{\"echo\":true,\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\"headers\":true,\"name\":\"{id}\",\"cluster\":\"{cluster}\"}}\r\nINFO {{\"server_id\":\"{id}\",\"server_name\":\"RAW\",\"version\":\"2.15.0\",\"proto\":3,\"host\":\"127.0.0.1\",\"port\":1,\"headers\":true,\"max_payload\":1048576,\"cluster\":\"{cluster}\"}}\r\n"
        );
        stream.write_all(hello.as_bytes()).unwrap();
        RawPeer { stream }
    }

    fn send(&mut self, line: &str) {
        use std::io::Write;
        self.stream.write_all(line.as_bytes()).unwrap();
    }

    /// Reads until `needle` has been seen `times` times; returns how many
    /// times it was seen and all that was read.
    fn read_until(&mut self, needle: &str, times: usize, within: Duration) -> (usize, String) {
        use std::io::Read;
        let needle = needle.as_bytes();
        let deadline = Instant::now() + within;
        let mut text = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        let (mut seen, mut scanned) = (0, 0);
        while seen < times && Instant::now() < deadline {
            let n = match self.stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            text.extend_from_slice(&buf[..n]);
            // Count only in what is new (and a needle's length before it).
            while let Some(at) = text[scanned..]
                .windows(needle.len())
                .position(|w| w == needle)
            {
                seen += 1;
                scanned += at + needle.len();
            }
            scanned = scanned.max(text.len().saturating_sub(needle.len()));
        }
        (seen, String::from_utf8_lossy(&text).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_route_is_kept_and_catches_up_without_stalling_clients() {
    let a = Node::start(BIN, "A", "C1", &[], "write_deadline: \"200ms\"");
    let mut peer = RawPeer::connect(a.cluster_port(), "C1");
    let (pings, _) = peer.read_until("\r\nPING\r\n", 1, Duration::from_secs(5));
    assert_eq!(pings, 1, "interest then PING after the handshake");
    peer.send("PONG\r\nRS+ $G slow.>\r\n");
    let client = a.client().await;
    let mut local = client.subscribe("fast.echo").await.unwrap();
    client.flush().await.unwrap();
    // Wait for the peer's interest to register, then flood it while it
    // reads nothing: 32 MB, far beyond what the sockets buffer.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let payload = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
    const N: usize = 512;
    for _ in 0..N {
        client.publish("slow.data", payload.clone()).await.unwrap();
    }
    client.flush().await.unwrap();
    // The route misses its write deadline, but local traffic flows on.
    let log = a.process.wait_log("WriteDeadline");
    assert!(
        log.contains("Slow Consumer Detected: WriteDeadline"),
        "{log}"
    );
    let started = Instant::now();
    for i in 0..20 {
        client
            .publish("fast.echo", format!("{i}").into())
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(2), local.next())
            .await
            .expect("a local subscriber was stalled by the slow route")
            .unwrap();
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // The peer reads again and gets every message, once.
    let (got, _) = peer.read_until("RMSG $G slow.data", N, Duration::from_secs(30));
    assert_eq!(got, N);
    assert_eq!(a.peers(), 1, "the slow route stayed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_permissions_limit_what_comes_in_and_goes_out() {
    let perms = "permissions { import: [\"in.>\"], export: [\"out.>\"] }";
    let a = Node::start(BIN, "A", "C1", &[], perms);
    let b = Node::start(BIN, "B", "C1", &[a.cluster_port()], "");
    wait_mesh(&[&a, &b]);
    let (ca, cb) = (a.client().await, b.client().await);

    // Into A: only what A imports.
    let mut in_ok = ca.subscribe("in.x").await.unwrap();
    let mut in_no = ca.subscribe("other.x").await.unwrap();
    ca.flush().await.unwrap();
    await_flow(&cb, "in.x", &mut in_ok).await;
    cb.publish("other.x", "blocked".into()).await.unwrap();
    cb.publish("in.x", "allowed".into()).await.unwrap();
    cb.flush().await.unwrap();
    let got = drain(&mut in_ok, Duration::from_millis(300)).await;
    assert_eq!(got.len(), 1);
    assert!(drain(&mut in_no, Duration::from_millis(300))
        .await
        .is_empty());

    // Out of A: only what A exports.
    let mut out_ok = cb.subscribe("out.x").await.unwrap();
    let mut out_no = cb.subscribe("secret.x").await.unwrap();
    cb.flush().await.unwrap();
    await_flow(&ca, "out.x", &mut out_ok).await;
    ca.publish("secret.x", "blocked".into()).await.unwrap();
    ca.publish("out.x", "allowed".into()).await.unwrap();
    ca.flush().await.unwrap();
    assert_eq!(
        drain(&mut out_ok, Duration::from_millis(300)).await.len(),
        1
    );
    assert!(drain(&mut out_no, Duration::from_millis(300))
        .await
        .is_empty());
    // B sees only A's importable interest (plus the system services).
    let routez = b.routez();
    let listed: Vec<String> = routez["routes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["subscriptions_list"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect();
    assert!(listed.iter().any(|s| s == "in.x"), "{listed:?}");
    assert!(!listed.iter().any(|s| s == "other.x"), "{listed:?}");
}

/// The `connect_urls` of an INFO line.
fn urls_of(info: &serde_json::Value) -> Vec<String> {
    let mut urls: Vec<String> = info["connect_urls"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    urls.sort();
    urls
}

/// Reads INFO lines from `raw` until one's `connect_urls` are `want`.
fn await_urls(raw: &mut gannet_test::RawClient, want: &[String]) {
    let deadline = Instant::now() + MESH_TIMEOUT;
    loop {
        assert!(
            Instant::now() < deadline,
            "no INFO with connect_urls {want:?}"
        );
        let line = raw.read_line();
        if let Some(json) = line.strip_prefix("INFO ") {
            let info: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
            if urls_of(&info) == want {
                return;
            }
        } else if line.starts_with("PING") {
            raw.send(b"PONG\r\n");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_are_told_the_cluster_as_nodes_come_and_go() {
    let a = Node::start(BIN, "A", "C1", &[], "");
    let b = Node::start(BIN, "B", "C1", &[a.cluster_port()], "");
    wait_mesh(&[&a, &b]);
    let url = |n: &Node| format!("127.0.0.1:{}", n.process.port);
    let mut raw = a.process.raw();
    let mut want = vec![url(&a), url(&b)];
    want.sort();
    assert_eq!(urls_of(&raw.info_json()), want, "INFO lists the cluster");
    raw.send(b"CONNECT {\"protocol\":1,\"verbose\":false}\r\nPING\r\n");
    let c = Node::start(BIN, "C", "C1", &[b.cluster_port()], "");
    let mut with_c = vec![url(&a), url(&b), url(&c)];
    with_c.sort();
    await_urls(&mut raw, &with_c);
    drop(c);
    await_urls(&mut raw, &want);

    // With no_advertise, clients hear nothing of the cluster.
    let quiet = "no_advertise: true";
    let d = Node::start(BIN, "D", "C2", &[], quiet);
    let e = Node::start(BIN, "E", "C2", &[d.cluster_port()], quiet);
    wait_mesh(&[&d, &e]);
    assert!(urls_of(&d.process.raw().info_json()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_rejoins_and_a_steady_subscriber_loses_nothing() {
    let a = Node::start(BIN, "A", "C1", &[], "");
    let b = Node::start(BIN, "B", "C1", &[a.cluster_port()], "");
    let c = Node::start(BIN, "C", "C1", &[a.cluster_port()], "");
    wait_mesh(&[&a, &b, &c]);
    let (ca, cb) = (a.client().await, b.client().await);
    // A client of C only: it learns A and B from INFO, and moves there.
    let on_c = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(c.url())
        .await
        .unwrap();
    let mut moved = on_c.subscribe("moved").await.unwrap();
    on_c.flush().await.unwrap();
    await_flow(&cb, "moved", &mut moved).await;

    let mut steady = ca.subscribe("seq").await.unwrap();
    ca.flush().await.unwrap();
    await_flow(&cb, "seq", &mut steady).await;
    const N: usize = 3000;
    let publisher = cb.clone();
    let publishing = tokio::spawn(async move {
        for i in 0..N {
            publisher
                .publish("seq", i.to_string().into())
                .await
                .unwrap();
            if i.is_multiple_of(100) {
                publisher.flush().await.unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        publisher.flush().await.unwrap();
    });

    // C dies (SIGKILL) while traffic flows, and comes back on its ports.
    let ports = c.ports();
    drop(c);
    let deadline = Instant::now() + MESH_TIMEOUT;
    while a.peers() != 1 || b.peers() != 1 {
        assert!(Instant::now() < deadline, "C's routes never went");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Its client reconnects elsewhere and its subscription comes back.
    let deadline = Instant::now() + MESH_TIMEOUT;
    loop {
        cb.publish("moved", "after".into()).await.unwrap();
        cb.flush().await.unwrap();
        if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(200), moved.next()).await {
            if &m.payload[..] == b"after" {
                break;
            }
        }
        assert!(Instant::now() < deadline, "C's client never came back");
    }
    let c = Node::restart(BIN, ports, "C", &[a.cluster_port()], "");
    wait_mesh(&[&a, &b, &c]);
    // Interest on the restarted node reaches it again.
    let cc = c.client().await;
    let mut back = cc.subscribe("back").await.unwrap();
    cc.flush().await.unwrap();
    await_flow(&ca, "back", &mut back).await;

    publishing.await.unwrap();
    let got = drain(&mut steady, Duration::from_millis(500)).await;
    let seq: Vec<usize> = got
        .iter()
        .filter_map(|m| std::str::from_utf8(&m.payload).ok()?.parse().ok())
        .collect();
    assert_eq!(
        seq,
        (0..N).collect::<Vec<_>>(),
        "lost, duplicated or reordered"
    );
}

/// Sends `signal` (`-USR2` = lame duck mode, `-TERM` = stop) to a process.
fn signal(process: &ServerProcess, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &process.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// What a subscriber got of a numbered stream: sent, received, lost, duplicated.
fn tally(sent: usize, got: &[usize]) -> (usize, usize, usize, usize) {
    let mut distinct = got.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    (
        sent,
        got.len(),
        sent - distinct.len(),
        got.len() - distinct.len(),
    )
}

/// The README's migration walkthrough, counted: a three-node nats-server
/// cluster under steady traffic has each node put in lame duck mode, stopped
/// and replaced by Gannet on the same ports, one at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_reference_cluster_is_migrated_to_gannet_node_by_node() {
    let Some(reference) = reference() else { return };
    let names = ["N1", "N2", "N3"];
    let route_ports: Vec<u16> = names.iter().map(|_| free_port()).collect();
    let client_ports: Vec<u16> = names.iter().map(|_| free_port()).collect();
    // Every node lists every route, itself included, as generated configs do.
    let extra = "lame_duck_grace_period: \"1s\"";
    let start = |binary: &str, i: usize| {
        let config = node_config(
            names[i],
            "C1",
            i32::from(route_ports[i]),
            &route_ports,
            "",
            extra,
        );
        Node {
            process: ServerProcess::builder(binary)
                .config(&config)
                .port(client_ports[i])
                .start(),
        }
    };
    let mut nodes: Vec<Node> = (0..3).map(|i| start(&reference, i)).collect();
    wait_mesh(&[&nodes[0], &nodes[1], &nodes[2]]);

    let all: Vec<String> = client_ports
        .iter()
        .map(|p| format!("nats://127.0.0.1:{p}"))
        .collect();
    let connect = |first: usize| {
        let mut urls = all.clone();
        urls.rotate_left(first);
        async move {
            async_nats::ConnectOptions::new()
                .retain_servers_order()
                .connect(urls)
                .await
                .unwrap()
        }
    };
    // The publisher and one subscriber on N1 (replaced last), one
    // subscriber on N3 (replaced first).
    let publisher = connect(0).await;
    let mut near = connect(0).await.subscribe("mig.seq").await.unwrap();
    let far_client = connect(2).await;
    let mut far = far_client.subscribe("mig.seq").await.unwrap();
    far_client.flush().await.unwrap();
    await_flow(&publisher, "mig.seq", &mut far).await;
    drain(&mut near, Duration::from_millis(100)).await;

    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (counter, stopper, p) = (sent.clone(), stop.clone(), publisher.clone());
    let publishing = tokio::spawn(async move {
        let mut i = 0usize;
        while !stopper.load(std::sync::atomic::Ordering::Relaxed) {
            p.publish("mig.seq", i.to_string().into()).await.unwrap();
            i += 1;
            counter.store(i, std::sync::atomic::Ordering::Relaxed);
            if i.is_multiple_of(10) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        p.flush().await.unwrap();
        i
    });
    let collect = |mut sub: async_nats::Subscriber| {
        tokio::spawn(async move {
            let mut seqs = Vec::new();
            while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(3), sub.next()).await {
                if let Some(n) = std::str::from_utf8(&m.payload)
                    .ok()
                    .and_then(|s| s.parse().ok())
                {
                    seqs.push(n);
                }
            }
            seqs
        })
    };
    let (near, far) = (collect(near), collect(far));

    let mut before_last = 0;
    for i in [2, 1, 0] {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if i == 0 {
            before_last = sent.load(std::sync::atomic::Ordering::Relaxed);
        }
        signal(&nodes[i].process, "-USR2");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        signal(&nodes[i].process, "-TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while nodes[i].process.is_running() {
            assert!(Instant::now() < deadline, "{} did not stop", names[i]);
            std::thread::sleep(Duration::from_millis(20));
        }
        nodes[i] = start(BIN, i);
        wait_mesh(&[&nodes[0], &nodes[1], &nodes[2]]);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let total = publishing.await.unwrap();
    let (near, far) = (near.await.unwrap(), far.await.unwrap());
    let (near_t, far_t) = (tally(total, &near), tally(total, &far));
    eprintln!("migration: subscriber, sent, received, lost, duplicated");
    eprintln!("migration: on N1 (moved last) {near_t:?}");
    eprintln!("migration: on N3 (moved first) {far_t:?}");
    assert_eq!(near_t.3, 0, "duplicates on N1's subscriber");
    assert_eq!(far_t.3, 0, "duplicates on N3's subscriber");
    // While N3 and N2 were replaced, N1's subscriber lost nothing.
    let mut near_sorted = near.clone();
    near_sorted.sort_unstable();
    near_sorted.dedup();
    let early = near_sorted.iter().take_while(|n| **n < before_last).count();
    assert_eq!(
        early, before_last,
        "a steady subscriber lost messages while other nodes moved"
    );
    // Now an all-Gannet cluster carries traffic.
    check_traffic(&[&nodes[0], &nodes[1], &nodes[2]]).await;
}

/// Cloud Foundry's nats-release `nats-tls` config (`examples/nats-release.conf`)
/// with this machine's addresses, ports and certificates put in where the
/// template puts a deployment's: every node lists every node's route (itself
/// too), routes use user/password and verified mutual TLS, `pool_size: -1`,
/// `no_advertise`, `no_sys_acc`, `write_deadline`.
fn nats_release_config(
    dir: &std::path::Path,
    client_port: u16,
    route_port: u16,
    all_routes: &[u16],
) -> String {
    let template = include_str!("../../../examples/nats-release.conf");
    let routes: String = all_routes
        .iter()
        .map(|p| format!("    nats-route://nats:c0ffee-secret@localhost:{p},\n"))
        .collect();
    let start = template.find("  routes: [").unwrap();
    let end = start + template[start..].find("  ]").unwrap();
    let mut config = format!(
        "{}  routes: [\n{routes}{}",
        &template[..start],
        &template[end..]
    );
    let d = dir.display();
    for (from, to) in [
        ("net: \"10.0.0.5\"", "net: \"127.0.0.1\"".to_string()),
        ("port: 4224", format!("port: {client_port}")),
        ("http: \"0.0.0.0:0\"", "http: \"127.0.0.1:-1\"".to_string()),
        ("host: \"10.0.0.5\"", "host: \"127.0.0.1\"".to_string()),
        ("port: 4225", format!("port: {route_port}")),
        (
            "/var/vcap/jobs/nats-tls/config/external_tls/ca.pem",
            format!("{d}/ca.pem"),
        ),
        (
            "/var/vcap/jobs/nats-tls/config/external_tls/certificate.pem",
            format!("{d}/server-cert.pem"),
        ),
        (
            "/var/vcap/jobs/nats-tls/config/external_tls/private_key.pem",
            format!("{d}/server-key.pem"),
        ),
        (
            "/var/vcap/jobs/nats-tls/config/internal_tls/ca.pem",
            format!("{d}/ca.pem"),
        ),
        (
            "/var/vcap/jobs/nats-tls/config/internal_tls/certificate.pem",
            format!("{d}/route-cert.pem"),
        ),
        (
            "/var/vcap/jobs/nats-tls/config/internal_tls/private_key.pem",
            format!("{d}/route-key.pem"),
        ),
    ] {
        assert!(config.contains(from), "the template has {from}");
        config = config.replace(from, &to);
    }
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nats_release_config_runs_unchanged_in_a_mixed_cluster() {
    let Some(reference) = reference() else { return };
    let dir = tempfile::tempdir().unwrap();
    let ca = CertAuthority::new("nats-release CA");
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    ca.issue(
        &CertSpec::peer("CN=nats.service.cf.internal")
            .dns("localhost")
            .ip("127.0.0.1"),
    )
    .write(dir.path(), "route");
    ca.issue(&CertSpec::server("CN=nats").ip("127.0.0.1"))
        .write(dir.path(), "server");
    let client_cert = ca
        .issue(&CertSpec::client("CN=director"))
        .write(dir.path(), "client");
    let route_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let client_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let binaries = [BIN.to_string(), reference.clone(), BIN.to_string()];
    let nodes: Vec<Node> = (0..3)
        .map(|i| {
            let config =
                nats_release_config(dir.path(), client_ports[i], route_ports[i], &route_ports);
            Node {
                process: ServerProcess::builder(&binaries[i])
                    .config(&config)
                    .port(client_ports[i])
                    .start(),
            }
        })
        .collect();
    wait_mesh(&[&nodes[0], &nodes[1], &nodes[2]]);
    // Each Gannet node met its own URL in the list and let it be.
    for i in [0, 2] {
        assert_eq!(nodes[i].peers(), 2);
    }
    let connect = |port: u16| {
        async_nats::ConnectOptions::with_user_and_password("nats".into(), "c0ffee-secret".into())
            .add_root_certificates(dir.path().join("ca.pem"))
            .add_client_certificate(client_cert.cert.clone(), client_cert.key.clone())
            .require_tls(true)
            .connect(format!("tls://127.0.0.1:{port}"))
    };
    let mut clients = Vec::new();
    for port in &client_ports {
        clients.push(connect(*port).await.unwrap());
    }
    // no_advertise: clients are told nothing of the cluster.
    assert!(clients[0].server_info().connect_urls.is_empty());
    // Heartbeats from agents on every node reach a subscriber on each node.
    for (i, receiver) in clients.iter().enumerate() {
        let mut sub = receiver.subscribe("hm.agent.heartbeat.*").await.unwrap();
        receiver.flush().await.unwrap();
        for sender in &clients {
            await_flow(sender, &format!("hm.agent.heartbeat.n{i}"), &mut sub).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_across_a_route_slows_the_publisher_instead_of_cutting_the_subscriber() {
    // A small max_pending on B: without flow control across the route, the
    // subscriber's queue overflows at once and it is cut as a slow consumer.
    let small = "max_pending: 1048576";
    let a = Node::start_on(BIN, "A", "C1", -1, &[], "", small);
    let b = Node::start_on(BIN, "B", "C1", -1, &[a.cluster_port()], "", small);
    wait_mesh(&[&a, &b]);
    let (ca, cb) = (a.client().await, b.client().await);
    let mut sub = cb.subscribe("flood").await.unwrap();
    cb.flush().await.unwrap();
    await_flow(&ca, "flood", &mut sub).await;
    const N: usize = 20_000;
    let payload = bytes::Bytes::from(vec![b'f'; 4096]);
    let publisher = ca.clone();
    let publishing = tokio::spawn(async move {
        for _ in 0..N {
            publisher.publish("flood", payload.clone()).await.unwrap();
        }
        publisher.flush().await.unwrap();
    });
    let mut got = 0;
    while got < N {
        match tokio::time::timeout(Duration::from_secs(10), sub.next()).await {
            Ok(Some(_)) => got += 1,
            _ => break,
        }
    }
    publishing.await.unwrap();
    assert_eq!(got, N, "the subscriber lost messages:\n{}", b.process.log());
    assert!(!b.process.log().contains("Slow Consumer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_dialing_each_other_keep_one_set_of_connections() {
    // Both list both (the generated-config way): each dials the other at
    // once, and the duplicates are closed without a reconnect storm.
    let ports: Vec<u16> = (0..2).map(|_| free_port()).collect();
    let start = |i: usize| {
        let config = node_config(["A", "B"][i], "C1", i32::from(ports[i]), &ports, "", "");
        Node {
            process: ServerProcess::builder(BIN).config(&config).start(),
        }
    };
    let (a, b) = (start(0), start(1));
    wait_mesh(&[&a, &b]);
    std::thread::sleep(Duration::from_secs(2));
    for node in [&a, &b] {
        // A pool of 3 and the pinned system account, once.
        assert_eq!(node.routez()["num_routes"], 4, "{}", node.routez());
    }
    check_traffic(&[&a, &b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_peer_asking_for_compression_falls_back_to_plain_text() {
    let Some(reference) = reference() else { return };
    let g = Node::start(BIN, "G", "C1", &[], "");
    let r = Node::start(
        &reference,
        "R",
        "C1",
        &[g.cluster_port()],
        "compression: s2_best",
    );
    wait_mesh(&[&g, &r]);
    let routez = r.routez();
    for route in routez["routes"].as_array().unwrap() {
        assert_ne!(route["compression"], "s2_best", "{routez}");
    }
    check_traffic(&[&g, &r]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lame_duck_mode_moves_clients_and_peers_stop_advertising_the_node() {
    let grace = "lame_duck_grace_period: \"1s\"\nlame_duck_duration: \"30s\"";
    let a = Node::start_on(BIN, "A", "C1", -1, &[], "", grace);
    let b = Node::start_on(BIN, "B", "C1", -1, &[a.cluster_port()], "", grace);
    wait_mesh(&[&a, &b]);
    let url = |n: &Node| format!("127.0.0.1:{}", n.process.port);
    // A client of B, and a client of A.
    let mut on_b = b.process.raw();
    on_b.send(b"CONNECT {\"protocol\":1,\"verbose\":false}\r\nPING\r\n");
    let mut on_a = a.process.raw();
    on_a.send(b"CONNECT {\"protocol\":1,\"verbose\":false}\r\nPING\r\n");
    signal(&a.process, "-USR2");
    // A's client is told A is leaving, and where else to go.
    let deadline = Instant::now() + MESH_TIMEOUT;
    loop {
        assert!(Instant::now() < deadline, "no lame duck INFO on A");
        let line = on_a.read_line();
        if let Some(json) = line.strip_prefix("INFO ") {
            let info: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
            if info["ldm"] == true {
                assert_eq!(urls_of(&info), [url(&b)]);
                break;
            }
        }
    }
    // B stops advertising A to its own clients.
    await_urls(&mut on_b, &[url(&b)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_renames_the_cluster_and_keeps_the_running_routes() {
    let a = Node::start(BIN, "A", "C1", &[], "");
    let b = Node::start(BIN, "B", "C1", &[a.cluster_port()], "");
    wait_mesh(&[&a, &b]);
    // The whole pool first: connections made after the rename are refused
    // (the names differ), as by nats-server.
    let deadline = Instant::now() + MESH_TIMEOUT;
    while [&a, &b].iter().any(|n| n.routez()["num_routes"] != 4) {
        assert!(Instant::now() < deadline, "no pool: {}", b.routez());
        std::thread::sleep(Duration::from_millis(50));
    }
    // B's config now names another cluster: B takes the name, as
    // nats-server does, and the route it has stays.
    let path = b.process.config_path();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("name: C1", "name: C9")).unwrap();
    signal(&b.process, "-HUP");
    let needle = "Reloaded server configuration";
    assert!(b
        .process
        .wait_log(needle)
        .contains("Cluster name updated to C9"));
    let (_, varz) = b.process.http_get("/varz");
    let varz: serde_json::Value = serde_json::from_str(&varz).unwrap();
    assert_eq!(varz["cluster"]["name"], "C9");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(b.peers(), 1);
    check_traffic(&[&a, &b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_reference_nodes_join_a_gannet_seed_with_route_credentials() {
    let Some(reference) = reference() else { return };
    // Default pools, route user and password from the route URLs.
    let auth = "authorization { user: ru, password: rp }";
    let with = |port: u16| format!("{auth}\n  routes: [\"nats-route://ru:rp@127.0.0.1:{port}\"]");
    let g1 = Node::start_on(BIN, "G1", "C1", -1, &[], auth, ACCOUNTS);
    let seed = g1.cluster_port();
    let r = Node::start_on(&reference, "R", "C1", -1, &[], &with(seed), ACCOUNTS);
    let g2 = Node::start_on(BIN, "G2", "C1", -1, &[], &with(seed), ACCOUNTS);
    wait_mesh(&[&g1, &r, &g2]);
    // Four connections to each peer on every node, R's included.
    let deadline = Instant::now() + MESH_TIMEOUT;
    for node in [&g1, &r, &g2] {
        while node.routez()["num_routes"] != 8 {
            assert!(Instant::now() < deadline, "no pools: {}", node.routez());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    for node in [&g1, &r, &g2] {
        assert_eq!(ping_names(node).await, ["G1", "G2", "R"]);
    }
    check_traffic(&[&r, &g1, &g2]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_replies_and_long_queue_lists_cross_without_breaking_the_route() {
    let a = Node::start(BIN, "A", "C1", &[], "");
    let b = Node::start(BIN, "B", "C1", &[a.cluster_port()], "");
    wait_mesh(&[&a, &b]);
    let cb = b.client().await;
    let mut sub = cb.subscribe("odd").await.unwrap();
    // Many queue groups with long names on B: one RMSG names them all, a
    // line longer than a client's control line.
    let mut groups = Vec::new();
    for i in 0..120 {
        groups.push(
            cb.queue_subscribe("odd", format!("group-with-a-rather-long-name-{i:03}"))
                .await
                .unwrap(),
        );
    }
    cb.flush().await.unwrap();
    let ca = a.client().await;
    await_flow(&ca, "odd", &mut sub).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for g in groups.iter_mut() {
        drain(g, Duration::from_millis(1)).await;
    }
    // Replies the route protocol uses as markers: a plain reply all the same.
    let mut raw = a.process.raw();
    raw.send(b"CONNECT {\"verbose\":false}\r\nPUB odd + 1\r\nx\r\nPUB odd | 1\r\ny\r\nPING\r\n");
    raw.expect(b"PONG\r\n");
    let got = drain(&mut sub, Duration::from_millis(500)).await;
    let replies: Vec<Option<String>> = got
        .iter()
        .map(|m| m.reply.as_ref().map(|r| r.to_string()))
        .collect();
    assert_eq!(replies, [Some("+".to_string()), Some("|".to_string())]);
    let mut served = 0;
    for g in groups.iter_mut() {
        served += drain(g, Duration::from_millis(5)).await.len();
    }
    assert_eq!(served, 2 * 120, "each group got both messages");
    assert_eq!(a.peers(), 1, "the route stayed up");
    assert!(
        !b.process.log().contains("parser ERROR"),
        "{}",
        b.process.log()
    );
}

const IMPORTS: &str = r#"accounts {
  EXP { users = [ { user: exp, password: exp } ],
        exports = [ { stream: "events.>" }, { service: "svc.echo" } ] }
  IMP { users = [ { user: imp, password: imp } ]
        imports = [ { stream: { account: EXP, subject: "events.>" }, prefix: "imported" },
                    { service: { account: EXP, subject: "svc.echo" }, to: "echo" } ] }
}"#;

/// A client of `node` logged in as `user` (whose password is its name).
async fn login_as(node: &Node, user: &str) -> async_nats::Client {
    async_nats::ConnectOptions::with_user_and_password(user.into(), user.into())
        .connect(node.url())
        .await
        .unwrap()
}

/// A two-node cluster (`first` seeds, `second` joins) with EXP exporting
/// `events.>` and IMP importing it under `imported.`: IMP's subscriber on
/// either node gets each EXP message published on either node exactly once.
async fn check_stream_imports_across_the_route(first: &str, second: &str) {
    let seed = Node::start_on(first, "N1", "C1", -1, &[], "", IMPORTS);
    let joiner = Node::start_on(second, "N2", "C1", -1, &[seed.cluster_port()], "", IMPORTS);
    wait_mesh(&[&seed, &joiner]);
    for (publisher_node, subscriber_node) in [(&seed, &joiner), (&joiner, &seed), (&seed, &seed)] {
        let exp = login_as(publisher_node, "exp").await;
        let imp = login_as(subscriber_node, "imp").await;
        let mut sub = imp.subscribe("imported.events.>").await.unwrap();
        imp.flush().await.unwrap();
        await_flow(&exp, "events.probe", &mut sub).await;
        for i in 0..20 {
            exp.publish("events.x", format!("m{i}").into())
                .await
                .unwrap();
        }
        exp.flush().await.unwrap();
        let got = drain(&mut sub, Duration::from_millis(500)).await;
        let per_payload = counts(&got);
        assert_eq!(
            per_payload.len(),
            20,
            "{first} + {second}: {:?}",
            per_payload
        );
        assert!(
            per_payload.values().all(|n| *n == 1),
            "{first} + {second}: duplicates {per_payload:?}"
        );
        assert!(got
            .iter()
            .all(|m| m.subject.as_str() == "imported.events.x"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_imports_reach_subscribers_on_other_nodes_once() {
    check_stream_imports_across_the_route(BIN, BIN).await;
    if let Some(reference) = reference() {
        check_stream_imports_across_the_route(BIN, &reference).await;
        check_stream_imports_across_the_route(&reference, BIN).await;
    }
}

/// The same cluster: IMP's requests to `echo` on either node reach EXP's
/// responder on either node through the service import, and the answer
/// comes back, once.
async fn check_service_imports_across_the_route(first: &str, second: &str) {
    let seed = Node::start_on(first, "N1", "C1", -1, &[], "", IMPORTS);
    let joiner = Node::start_on(second, "N2", "C1", -1, &[seed.cluster_port()], "", IMPORTS);
    wait_mesh(&[&seed, &joiner]);
    for (responder_node, requester_node) in [(&seed, &joiner), (&joiner, &seed)] {
        let exp = login_as(responder_node, "exp").await;
        let imp = login_as(requester_node, "imp").await;
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
        // Until the responder's interest has crossed the route.
        let deadline = Instant::now() + MESH_TIMEOUT;
        loop {
            let asked = tokio::time::timeout(
                Duration::from_millis(500),
                imp.request("echo", "probe".into()),
            )
            .await;
            if let Ok(Ok(answer)) = asked {
                assert_eq!(answer.payload, "probe".as_bytes());
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{first} + {second}: a request through the import never got an answer"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for i in 0..10 {
            let body = format!("q{i}");
            let answer = tokio::time::timeout(
                Duration::from_secs(5),
                imp.request("echo", body.clone().into()),
            )
            .await
            .unwrap_or_else(|_| panic!("{first} + {second}: no answer to {body}"))
            .unwrap();
            assert_eq!(answer.payload, body.as_bytes(), "{first} + {second}");
        }
        responder.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_imports_reach_responders_on_other_nodes() {
    check_service_imports_across_the_route(BIN, BIN).await;
    if let Some(reference) = reference() {
        check_service_imports_across_the_route(BIN, &reference).await;
        check_service_imports_across_the_route(&reference, BIN).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_import_deny_drops_what_a_running_route_still_sends() {
    let a = Node::start(BIN, "A", "C1", &[], "");
    let mut peer = RawPeer::connect(a.cluster_port(), "C1");
    let (pings, _) = peer.read_until("\r\nPING\r\n", 1, Duration::from_secs(5));
    assert_eq!(pings, 1, "interest then PING after the handshake");
    peer.send("PONG\r\n");
    let client = a.client().await;
    let mut secret = client.subscribe("secret").await.unwrap();
    let mut open = client.subscribe("open").await.unwrap();
    client.flush().await.unwrap();
    peer.send("RMSG $G secret 2\r\nhi\r\n");
    tokio::time::timeout(Duration::from_secs(5), secret.next())
        .await
        .expect("the peer's message came in")
        .unwrap();

    // A no longer imports `secret`; the peer (played by hand, it ignores
    // the RS- it is sent) sends it anyway on the same connection.
    let config = node_config(
        "A",
        "C1",
        -1,
        &[],
        "permissions { import { deny: [\"secret\"] } }",
        "",
    );
    std::fs::write(a.process.config_path(), config).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &a.process.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let log = a.process.wait_log("Reloaded server configuration");
    assert!(log.contains("Reloaded server configuration"), "{log}");
    peer.send("RMSG $G secret 2\r\nhi\r\nRMSG $G open 2\r\nhi\r\n");
    tokio::time::timeout(Duration::from_secs(5), open.next())
        .await
        .expect("an allowed message still comes in")
        .unwrap();
    assert!(
        drain(&mut secret, Duration::from_millis(300))
            .await
            .is_empty(),
        "a denied import came in"
    );
    assert_eq!(a.peers(), 1, "the route stayed");
}
