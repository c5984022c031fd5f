//! Leaf nodes: a Gannet hub with leafs, a Gannet leaf of a hub, and either
//! side against nats-server 2.15 (when this machine has it). Clients on both
//! sides publish, subscribe, unsubscribe, make requests and share queue
//! groups across the link.
use std::time::{Duration, Instant};

use futures::StreamExt;
use gannet_test::{free_port, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
const LINK_TIMEOUT: Duration = Duration::from_secs(15);

/// A hub accepting leafs on `port`; user `leaf`/`pw` binds them to account APP.
fn start_hub(binary: &str, port: u16) -> ServerProcess {
    let config = format!(
        "server_name: HUB\n\
        accounts {{ APP {{ users = [ {{ user: app, password: app }} ] }} }}\n\
        no_auth_user: app\n\
        leafnodes {{ listen: \"127.0.0.1:{port}\", authorization {{ user: leaf, password: pw, account: APP }} }}\n"
    );
    ServerProcess::builder(binary).config(&config).start()
}

/// A leaf of the hub on `port`, its connection bound to local account LAPP.
fn start_leaf(binary: &str, port: u16) -> ServerProcess {
    let config = format!(
        "server_name: LEAF\n\
        accounts {{ LAPP {{ users = [ {{ user: lapp, password: lapp }} ] }} }}\n\
        no_auth_user: lapp\n\
        leafnodes {{ remotes: [ {{ url: \"nats-leaf://leaf:pw@127.0.0.1:{port}\", account: LAPP }} ] }}\n"
    );
    ServerProcess::builder(binary).config(&config).start()
}

fn reference() -> Option<String> {
    let found = gannet_test::reference_server_binary();
    if found.is_none() {
        eprintln!("nats-server 2.15 not installed (scripts/install-reference.sh): skipped");
    }
    found
}

async fn client(server: &ServerProcess) -> async_nats::Client {
    async_nats::connect(server.url()).await.expect("connect")
}

/// Publishes on `subject` from `from` until `sub` gets one.
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
            "interest in {subject} never crossed the link"
        );
    }
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), sub.next()).await {}
}

async fn drain(sub: &mut async_nats::Subscriber, quiet: Duration) -> usize {
    let mut n = 0;
    while let Ok(Some(_)) = tokio::time::timeout(quiet, sub.next()).await {
        n += 1;
    }
    n
}

/// Both ways across the link, a queue group on both sides served once per
/// message, a request answered across, and an unsubscribe that stops it.
async fn check_link(hub: &ServerProcess, leaf: &ServerProcess) {
    let (on_hub, on_leaf) = (client(hub).await, client(leaf).await);
    // Hub to leaf.
    let mut at_leaf = on_leaf.subscribe("leaf.y").await.unwrap();
    on_leaf.flush().await.unwrap();
    await_flow(&on_hub, "leaf.y", &mut at_leaf).await;
    for i in 0..50 {
        on_hub
            .publish("leaf.y", format!("{i}").into())
            .await
            .unwrap();
    }
    on_hub.flush().await.unwrap();
    assert_eq!(drain(&mut at_leaf, Duration::from_millis(300)).await, 50);
    // Leaf to hub, with headers.
    let mut at_hub = on_hub.subscribe("hub.x").await.unwrap();
    on_hub.flush().await.unwrap();
    await_flow(&on_leaf, "hub.x", &mut at_hub).await;
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("K", "v");
    on_leaf
        .publish_with_headers("hub.x", headers, "h".into())
        .await
        .unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), at_hub.next())
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
    // A queue group with a member on each side gets each message once.
    let mut q_hub = on_hub.queue_subscribe("work", "q".into()).await.unwrap();
    let mut q_leaf = on_leaf.queue_subscribe("work", "q".into()).await.unwrap();
    let mut watch = on_hub.subscribe("work").await.unwrap();
    on_hub.flush().await.unwrap();
    on_leaf.flush().await.unwrap();
    await_flow(&on_leaf, "work", &mut watch).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drain(&mut q_hub, Duration::from_millis(50)).await;
    drain(&mut q_leaf, Duration::from_millis(50)).await;
    for i in 0..200 {
        on_leaf
            .publish("work", format!("{i}").into())
            .await
            .unwrap();
        on_hub.publish("work", format!("{i}").into()).await.unwrap();
    }
    on_leaf.flush().await.unwrap();
    on_hub.flush().await.unwrap();
    let (a, b) = (
        drain(&mut q_hub, Duration::from_millis(400)).await,
        drain(&mut q_leaf, Duration::from_millis(400)).await,
    );
    assert_eq!(
        a + b,
        400,
        "each message once to the group: hub {a}, leaf {b}"
    );
    // A request from the leaf, answered on the hub.
    let mut service = on_hub.subscribe("svc").await.unwrap();
    on_hub.flush().await.unwrap();
    let responder = on_hub.clone();
    let serving = tokio::spawn(async move {
        while let Some(m) = service.next().await {
            if let Some(reply) = m.reply {
                responder.publish(reply, m.payload).await.unwrap();
            }
        }
    });
    let deadline = Instant::now() + LINK_TIMEOUT;
    loop {
        let asked = on_leaf.request("svc", "ping".into());
        if let Ok(Ok(answer)) = tokio::time::timeout(Duration::from_millis(500), asked).await {
            assert_eq!(&answer.payload[..], b"ping");
            break;
        }
        assert!(Instant::now() < deadline, "no answer across the link");
    }
    serving.abort();
    // Once the leaf's subscriber is gone, the hub stops sending.
    drop(at_leaf);
    on_leaf.flush().await.unwrap();
    let deadline = Instant::now() + LINK_TIMEOUT;
    loop {
        let asked = on_hub.request("leaf.y", "anyone".into());
        match tokio::time::timeout(Duration::from_millis(500), asked).await {
            Ok(Err(e)) if e.kind() == async_nats::RequestErrorKind::NoResponders => break,
            _ => assert!(Instant::now() < deadline, "interest never left the hub"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gannet_leaf_of_a_gannet_hub() {
    let port = free_port();
    let hub = start_hub(BIN, port);
    let leaf = start_leaf(BIN, port);
    check_link(&hub, &leaf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_leaf_of_a_gannet_hub() {
    let Some(reference) = reference() else { return };
    let port = free_port();
    let hub = start_hub(BIN, port);
    let leaf = start_leaf(&reference, port);
    check_link(&hub, &leaf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gannet_leaf_of_a_reference_hub() {
    let Some(reference) = reference() else { return };
    let port = free_port();
    let hub = start_hub(&reference, port);
    let leaf = start_leaf(BIN, port);
    check_link(&hub, &leaf).await;
}

/// A hub of a cluster: leafs on `leaf_port` (0: none), routes to `routes`.
fn start_cluster_hub(
    binary: &str,
    name: &str,
    leaf_port: u16,
    cluster_port: u16,
    routes: &[u16],
) -> ServerProcess {
    let routes: Vec<String> = routes
        .iter()
        .map(|p| format!("\"nats-route://127.0.0.1:{p}\""))
        .collect();
    let leafnodes = if leaf_port == 0 {
        String::new()
    } else {
        format!("leafnodes {{ listen: \"127.0.0.1:{leaf_port}\", authorization {{ user: leaf, password: pw, account: APP }} }}")
    };
    let config = format!(
        "server_name: {name}\n\
        accounts {{ APP {{ users = [ {{ user: app, password: app }} ] }} }}\n\
        no_auth_user: app\n\
        {leafnodes}\n\
        cluster {{ name: HUBS, listen: \"127.0.0.1:{cluster_port}\", routes: [{}] }}\n",
        routes.join(", ")
    );
    ServerProcess::builder(binary).config(&config).start()
}

/// A leaf of hub node A reaches subscribers on hub node B, and B's
/// publishers reach the leaf's subscribers: the hub relays its cluster's
/// interest to the leaf, and the leaf's interest to its cluster.
async fn check_cluster_relay(b_binary: &str, leaf_binary: &str) {
    let (leaf_port, ca, cb) = (free_port(), free_port(), free_port());
    let a = start_cluster_hub(BIN, "A", leaf_port, ca, &[]);
    let b = start_cluster_hub(b_binary, "B", 0, cb, &[ca]);
    let leaf = start_leaf(leaf_binary, leaf_port);
    let (on_b, on_leaf) = (client(&b).await, client(&leaf).await);
    let mut at_b = on_b.subscribe("far.b").await.unwrap();
    on_b.flush().await.unwrap();
    await_flow(&on_leaf, "far.b", &mut at_b).await;
    let mut at_leaf = on_leaf.subscribe("far.leaf").await.unwrap();
    on_leaf.flush().await.unwrap();
    await_flow(&on_b, "far.leaf", &mut at_leaf).await;
    for i in 0..20 {
        on_leaf
            .publish("far.b", format!("{i}").into())
            .await
            .unwrap();
        on_b.publish("far.leaf", format!("{i}").into())
            .await
            .unwrap();
    }
    on_leaf.flush().await.unwrap();
    on_b.flush().await.unwrap();
    assert_eq!(drain(&mut at_b, Duration::from_millis(300)).await, 20);
    assert_eq!(drain(&mut at_leaf, Duration::from_millis(300)).await, 20);
    // B's subscriber leaves: the leaf hears of it (requests get no responders).
    drop(at_b);
    on_b.flush().await.unwrap();
    let deadline = Instant::now() + LINK_TIMEOUT;
    loop {
        let asked = on_leaf.request("far.b", "anyone".into());
        match tokio::time::timeout(Duration::from_millis(500), asked).await {
            Ok(Err(e)) if e.kind() == async_nats::RequestErrorKind::NoResponders => break,
            _ => assert!(
                Instant::now() < deadline,
                "B's interest never left the leaf"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaf_of_one_hub_node_reaches_the_whole_hub_cluster() {
    check_cluster_relay(BIN, BIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_leaf_reaches_a_mixed_hub_cluster_through_gannet() {
    let Some(reference) = reference() else { return };
    check_cluster_relay(&reference, &reference).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_announces_leafs_and_lists_them() {
    let port = free_port();
    let config = format!(
        "server_name: HUB\n\
        http: \"127.0.0.1:-1\"\n\
        accounts {{ APP {{ users = [ {{ user: app, password: app }} ] }}, SYS {{ users = [ {{ user: sys, password: sys }} ] }} }}\n\
        system_account: SYS\n\
        no_auth_user: app\n\
        leafnodes {{ listen: \"127.0.0.1:{port}\", authorization {{ user: leaf, password: pw, account: APP }} }}\n"
    );
    let hub = ServerProcess::builder(BIN).config(&config).start();
    let sys = async_nats::ConnectOptions::with_user_and_password("sys".into(), "sys".into())
        .connect(hub.url())
        .await
        .unwrap();
    let mut leaf_connects = sys
        .subscribe("$SYS.ACCOUNT.APP.LEAFNODE.CONNECT")
        .await
        .unwrap();
    let mut leaf_disconnects = sys
        .subscribe("$SYS.ACCOUNT.APP.LEAFNODE.DISCONNECT")
        .await
        .unwrap();
    let mut connects = sys.subscribe("$SYS.ACCOUNT.APP.CONNECT").await.unwrap();
    let mut disconnects = sys.subscribe("$SYS.ACCOUNT.APP.DISCONNECT").await.unwrap();
    sys.flush().await.unwrap();

    let leaf = start_leaf(BIN, port);
    let event = next_event(&mut leaf_connects).await;
    assert_eq!(event["acc"], "APP");
    assert_eq!(event["server"]["name"], "HUB");
    let event = next_event(&mut connects).await;
    assert_eq!(event["client"]["kind"], "Leafnode");
    assert_eq!(event["client"]["name"], "LEAF");
    assert_eq!(event["client"]["user"], "leaf");

    let (_, body) = hub.http_get("/leafz?subs=1");
    let leafz: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(leafz["leafnodes"], 1, "{leafz}");
    assert_eq!(leafz["leafs"][0]["account"], "APP");
    assert_eq!(leafz["leafs"][0]["name"], "LEAF");
    assert_eq!(leafz["leafs"][0]["is_spoke"], false);

    drop(leaf);
    let event = next_event(&mut leaf_disconnects).await;
    assert_eq!(event["acc"], "APP");
    let event = next_event(&mut disconnects).await;
    assert_eq!(event["client"]["kind"], "Leafnode");
    let (_, body) = hub.http_get("/leafz");
    let leafz: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(leafz["leafnodes"], 0, "{leafz}");
}

/// The next message on `sub`, as JSON.
async fn next_event(sub: &mut async_nats::Subscriber) -> serde_json::Value {
    let m = tokio::time::timeout(LINK_TIMEOUT, sub.next())
        .await
        .expect("event")
        .unwrap();
    serde_json::from_slice(&m.payload).unwrap()
}

/// A hub whose leaf port speaks TLS, and a leaf trusting its CA.
async fn check_tls_link(hub_binary: &str, leaf_binary: &str) {
    use gannet_test::certs::{CertAuthority, CertSpec};
    let dir = tempfile::tempdir().unwrap();
    let ca = CertAuthority::new("Leaf CA");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let cert = ca
        .issue(&CertSpec::server("CN=hub").ip("127.0.0.1"))
        .write(dir.path(), "hub");
    let port = free_port();
    let hub_config = format!(
        "server_name: HUB\n\
        accounts {{ APP {{ users = [ {{ user: app, password: app }} ] }} }}\n\
        no_auth_user: app\n\
        leafnodes {{ listen: \"127.0.0.1:{port}\", authorization {{ user: leaf, password: pw, account: APP }}, \
        tls {{ cert_file: \"{}\", key_file: \"{}\", timeout: 3 }} }}\n",
        cert.cert.display(),
        cert.key.display()
    );
    let hub = ServerProcess::builder(hub_binary)
        .config(&hub_config)
        .start();
    let leaf_config = format!(
        "server_name: LEAF\n\
        accounts {{ LAPP {{ users = [ {{ user: lapp, password: lapp }} ] }} }}\n\
        no_auth_user: lapp\n\
        leafnodes {{ remotes: [ {{ url: \"nats-leaf://leaf:pw@127.0.0.1:{port}\", account: LAPP, \
        tls {{ ca_file: \"{}\" }} }} ] }}\n",
        ca_file.display()
    );
    let leaf = ServerProcess::builder(leaf_binary)
        .config(&leaf_config)
        .start();
    let (on_hub, on_leaf) = (client(&hub).await, client(&leaf).await);
    let mut at_leaf = on_leaf.subscribe("secure.y").await.unwrap();
    on_leaf.flush().await.unwrap();
    await_flow(&on_hub, "secure.y", &mut at_leaf).await;
    let mut at_hub = on_hub.subscribe("secure.x").await.unwrap();
    on_hub.flush().await.unwrap();
    await_flow(&on_leaf, "secure.x", &mut at_hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaf_links_over_tls() {
    check_tls_link(BIN, BIN).await;
    if let Some(reference) = reference() {
        check_tls_link(BIN, &reference).await;
        check_tls_link(&reference, BIN).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_s_denies_keep_subjects_off_the_link() {
    let port = free_port();
    let hub = start_hub(BIN, port);
    let config = format!(
        "server_name: LEAF\n\
        accounts {{ LAPP {{ users = [ {{ user: lapp, password: lapp }} ] }} }}\n\
        no_auth_user: lapp\n\
        leafnodes {{ remotes: [ {{ url: \"nats-leaf://leaf:pw@127.0.0.1:{port}\", account: LAPP, \
        deny_imports: [\"blocked.>\"], deny_exports: [\"secret.>\"] }} ] }}\n"
    );
    let leaf = ServerProcess::builder(BIN).config(&config).start();
    let (on_hub, on_leaf) = (client(&hub).await, client(&leaf).await);
    // Imports: the leaf takes ok.x, never blocked.x.
    let mut ok = on_leaf.subscribe("ok.x").await.unwrap();
    let mut blocked = on_leaf.subscribe("blocked.x").await.unwrap();
    on_leaf.flush().await.unwrap();
    await_flow(&on_hub, "ok.x", &mut ok).await;
    on_hub.publish("blocked.x", "no".into()).await.unwrap();
    on_hub.flush().await.unwrap();
    assert_eq!(drain(&mut blocked, Duration::from_millis(300)).await, 0);
    // Exports: the hub gets open.x, never secret.x.
    let mut open = on_hub.subscribe("open.x").await.unwrap();
    let mut secret = on_hub.subscribe("secret.x").await.unwrap();
    on_hub.flush().await.unwrap();
    await_flow(&on_leaf, "open.x", &mut open).await;
    on_leaf.publish("secret.x", "no".into()).await.unwrap();
    on_leaf.flush().await.unwrap();
    assert_eq!(drain(&mut secret, Duration::from_millis(300)).await, 0);
    // Nor through a full wildcard the hub subscribes to.
    let mut everything = on_hub.subscribe(">").await.unwrap();
    on_hub.flush().await.unwrap();
    await_flow(&on_leaf, "open.z", &mut everything).await;
    on_leaf.publish("secret.y", "no".into()).await.unwrap();
    on_leaf.publish("open.z", "yes".into()).await.unwrap();
    on_leaf.flush().await.unwrap();
    let mut subjects = Vec::new();
    while let Ok(Some(m)) =
        tokio::time::timeout(Duration::from_millis(300), everything.next()).await
    {
        subjects.push(m.subject.to_string());
    }
    assert!(subjects.iter().any(|s| s == "open.z"), "{subjects:?}");
    assert!(
        !subjects.iter().any(|s| s.starts_with("secret.")),
        "{subjects:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leafs_connected_in_a_loop_are_detected() {
    // A is a leaf of B and B a leaf of A, in the same account.
    let (pa, pb) = (free_port(), free_port());
    let config = |name: &str, listen: u16, hub: u16| {
        format!(
            "server_name: {name}\n\
            leafnodes {{ listen: \"127.0.0.1:{listen}\", remotes: [ {{ url: \"nats-leaf://127.0.0.1:{hub}\" }} ] }}\n"
        )
    };
    let a = ServerProcess::builder(BIN)
        .config(&config("A", pa, pb))
        .start();
    let b = ServerProcess::builder(BIN)
        .config(&config("B", pb, pa))
        .start();
    let needle = "Loop detected for leafnode";
    let deadline = Instant::now() + LINK_TIMEOUT;
    while !a.log().contains(needle) && !b.log().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "no loop detected:\n{}\n{}",
            a.log(),
            b.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaf_reconnects_after_its_hub_restarts() {
    let port = free_port();
    let hub = start_hub(BIN, port);
    let hub_client_port = hub.port;
    let leaf = start_leaf(BIN, port);
    let on_leaf = client(&leaf).await;
    let mut at_leaf = on_leaf.subscribe("again.y").await.unwrap();
    on_leaf.flush().await.unwrap();
    await_flow(&client(&hub).await, "again.y", &mut at_leaf).await;
    // The hub dies (SIGKILL) and comes back on its ports.
    drop(hub);
    let config = format!(
        "server_name: HUB\n\
        accounts {{ APP {{ users = [ {{ user: app, password: app }} ] }} }}\n\
        no_auth_user: app\n\
        leafnodes {{ listen: \"127.0.0.1:{port}\", authorization {{ user: leaf, password: pw, account: APP }} }}\n"
    );
    let hub = ServerProcess::builder(BIN)
        .config(&config)
        .port(hub_client_port)
        .start();
    // The leaf reconnects and tells the new hub its interest again.
    await_flow(&client(&hub).await, "again.y", &mut at_leaf).await;
}

/// A spoke cluster X, Y whose nodes are both leafs of hub H: every message
/// reaches each subscriber once, whichever node publishes.
async fn check_spoke_cluster(hub_binary: &str) {
    let (leaf_port, cx, cy) = (free_port(), free_port(), free_port());
    let hub = ServerProcess::builder(hub_binary)
        .config(&format!(
            "server_name: H\nleafnodes {{ listen: \"127.0.0.1:{leaf_port}\" }}\n"
        ))
        .start();
    let spoke = |name: &str, port: u16, routes: &str| {
        format!(
            "server_name: {name}\n\
            cluster {{ name: SPOKE, listen: \"127.0.0.1:{port}\", routes: [{routes}] }}\n\
            leafnodes {{ remotes: [ {{ url: \"nats-leaf://127.0.0.1:{leaf_port}\" }} ] }}\n"
        )
    };
    let x = ServerProcess::builder(BIN)
        .config(&spoke("X", cx, ""))
        .start();
    let y = ServerProcess::builder(BIN)
        .config(&spoke("Y", cy, &format!("\"nats-route://127.0.0.1:{cx}\"")))
        .start();
    let (on_h, on_x, on_y) = (client(&hub).await, client(&x).await, client(&y).await);
    let mut at_y = on_y.subscribe("to.y").await.unwrap();
    let mut at_h = on_h.subscribe("to.h").await.unwrap();
    on_y.flush().await.unwrap();
    on_h.flush().await.unwrap();
    await_flow(&on_h, "to.y", &mut at_y).await;
    await_flow(&on_x, "to.y", &mut at_y).await;
    await_flow(&on_y, "to.h", &mut at_h).await;
    await_flow(&on_x, "to.h", &mut at_h).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    drain(&mut at_y, Duration::from_millis(100)).await;
    drain(&mut at_h, Duration::from_millis(100)).await;
    for from in [&on_h, &on_x] {
        from.publish("to.y", "once".into()).await.unwrap();
        from.flush().await.unwrap();
        assert_eq!(drain(&mut at_y, Duration::from_millis(400)).await, 1);
    }
    for from in [&on_x, &on_y] {
        from.publish("to.h", "once".into()).await.unwrap();
        from.flush().await.unwrap();
        assert_eq!(drain(&mut at_h, Duration::from_millis(400)).await, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoke_cluster_linked_twice_to_its_hub_delivers_once() {
    check_spoke_cluster(BIN).await;
    if let Some(reference) = reference() {
        check_spoke_cluster(&reference).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaf_s_messages_reach_the_hub_accounts_that_import_them() {
    let port = free_port();
    let config = format!(
        "server_name: HUB\n\
        accounts {{\n\
          APP {{ users = [ {{ user: app, password: app }} ], exports: [ {{ stream: \"events.>\" }} ] }}\n\
          OTHER {{ users = [ {{ user: other, password: other }} ], imports: [ {{ stream: {{ account: APP, subject: \"events.>\" }} }} ] }}\n\
        }}\n\
        no_auth_user: app\n\
        leafnodes {{ listen: \"127.0.0.1:{port}\", authorization {{ user: leaf, password: pw, account: APP }} }}\n"
    );
    let hub = ServerProcess::builder(BIN).config(&config).start();
    let leaf = start_leaf(BIN, port);
    let other = async_nats::ConnectOptions::with_user_and_password("other".into(), "other".into())
        .connect(hub.url())
        .await
        .unwrap();
    let mut imported = other.subscribe("events.x").await.unwrap();
    other.flush().await.unwrap();
    // APP must have interest for the leaf to send: a subscriber in APP too.
    let app = client(&hub).await;
    let mut in_app = app.subscribe("events.x").await.unwrap();
    app.flush().await.unwrap();
    let on_leaf = client(&leaf).await;
    await_flow(&on_leaf, "events.x", &mut in_app).await;
    drain(&mut imported, Duration::from_millis(200)).await;
    on_leaf
        .publish("events.x", "from the leaf".into())
        .await
        .unwrap();
    on_leaf.flush().await.unwrap();
    assert_eq!(drain(&mut imported, Duration::from_millis(500)).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leaf_user_s_permissions_bound_the_link() {
    let port = free_port();
    // No leafnodes authorization: leafs log in as the server's users.
    let config = format!(
        "server_name: HUB\n\
        accounts {{ APP {{ users = [\n\
          {{ user: app, password: app }}\n\
          {{ user: leafu, password: pw, permissions: {{ publish: [\"up.>\"], subscribe: [\"down.>\"] }} }}\n\
        ] }} }}\n\
        no_auth_user: app\n\
        leafnodes {{ listen: \"127.0.0.1:{port}\" }}\n"
    );
    let hub = ServerProcess::builder(BIN).config(&config).start();
    let leaf_config = format!(
        "server_name: LEAF\n\
        leafnodes {{ remotes: [ {{ url: \"nats-leaf://leafu:pw@127.0.0.1:{port}\" }} ] }}\n"
    );
    let leaf = ServerProcess::builder(BIN).config(&leaf_config).start();
    let (on_hub, on_leaf) = (client(&hub).await, client(&leaf).await);
    // Up: the leaf may send what its user may publish, nothing else.
    let mut up = on_hub.subscribe("up.x").await.unwrap();
    let mut other = on_hub.subscribe("other.x").await.unwrap();
    on_hub.flush().await.unwrap();
    await_flow(&on_leaf, "up.x", &mut up).await;
    on_leaf.publish("other.x", "no".into()).await.unwrap();
    on_leaf.flush().await.unwrap();
    assert_eq!(drain(&mut other, Duration::from_millis(400)).await, 0);
    // Down: the leaf is sent what its user may subscribe to, nothing else.
    let mut down = on_leaf.subscribe("down.x").await.unwrap();
    let mut secret = on_leaf.subscribe("secret.x").await.unwrap();
    on_leaf.flush().await.unwrap();
    await_flow(&on_hub, "down.x", &mut down).await;
    on_hub.publish("secret.x", "no".into()).await.unwrap();
    on_hub.flush().await.unwrap();
    assert_eq!(drain(&mut secret, Duration::from_millis(400)).await, 0);
}

/// A remote with `hub: true`: the server that dials is the hub of the link
/// and the one that accepts is its leaf (spoke), as `/leafz` says on both
/// sides; traffic flows as on any link.
async fn check_dialing_hub(dialer_binary: &str, listener_binary: &str) {
    let port = free_port();
    let listener_conf = format!(
        "server_name: SPOKE\nhttp: \"127.0.0.1:-1\"\n\
        accounts {{ APP {{ users = [ {{ user: app, password: app }} ] }} }}\n\
        no_auth_user: app\n\
        leafnodes {{ listen: \"127.0.0.1:{port}\", authorization {{ user: leaf, password: pw, account: APP }} }}\n"
    );
    let dialer_conf = format!(
        "server_name: DIALHUB\nhttp: \"127.0.0.1:-1\"\n\
        accounts {{ LAPP {{ users = [ {{ user: lapp, password: lapp }} ] }} }}\n\
        no_auth_user: lapp\n\
        leafnodes {{ remotes: [ {{ url: \"nats-leaf://leaf:pw@127.0.0.1:{port}\", account: LAPP, hub: true }} ] }}\n"
    );
    let spoke = ServerProcess::builder(listener_binary)
        .config(&listener_conf)
        .start();
    let hub = ServerProcess::builder(dialer_binary)
        .config(&dialer_conf)
        .start();
    let deadline = Instant::now() + LINK_TIMEOUT;
    let leafz = |s: &ServerProcess| -> serde_json::Value {
        serde_json::from_str(&s.http_get("/leafz").1).unwrap()
    };
    loop {
        let (h, sp) = (leafz(&hub), leafz(&spoke));
        if h["leafnodes"] == 1 && sp["leafnodes"] == 1 {
            assert_eq!(
                h["leafs"][0]["is_spoke"], false,
                "the dialer is the hub: {h:#}"
            );
            assert_eq!(
                sp["leafs"][0]["is_spoke"], true,
                "the acceptor is the spoke: {sp:#}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no link: {h:#} {sp:#}");
        std::thread::sleep(Duration::from_millis(100));
    }
    check_link(&hub, &spoke).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_with_hub_true_makes_the_dialer_the_hub() {
    check_dialing_hub(BIN, BIN).await;
    let Some(reference) = reference() else { return };
    check_dialing_hub(BIN, &reference).await;
    check_dialing_hub(&reference, BIN).await;
}
