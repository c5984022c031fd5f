//! Subject mappings from the config (`mappings` at the top level and in an
//! account): plain and wildcard mappings, mapping functions, weighted
//! destinations, permissions checked on the mapped subject, service imports
//! through the exporter's mappings, and bad mappings refused at start; and
//! the other subject transforms, those of stream and service imports under
//! wildcard names (`to: "mine.$2.$1"`).
//! Every case runs against Gannet and, when this machine has it,
//! nats-server 2.15, which must agree.
use std::time::Duration;

use futures::StreamExt;
use gannet_test::ServerProcess;

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

fn binaries() -> Vec<String> {
    gannet_test::with_reference(BIN)
}

const CONFIG: &str = r#"
mappings {
  orders: "orders.v2"
  "req.*.*": "req.{{wildcard(2)}}.{{wildcard(1)}}"
  "legacy.*.*": "legacy.$2.$1"
  "part.*": "part.{{partition(4,1)}}.{{wildcard(1)}}"
  "split.*": "split.{{splitfromleft(1,2)}}"
  canary: [ { destination: "canary.new", weight: 30% }, { destination: "canary.old", weight: 70 } ]
  half: { destination: "half.mapped", weight: 50 }
  "lossy": [ { destination: "lossy", weight: 0 }, { destination: "lossy.kept", weight: 40 } ]
}
"#;

/// Waits until the server has handled everything `client` sent before: a
/// request nobody answers comes back (no responders) only after its earlier
/// SUBs were handled, which `flush` (a write, not a round trip) does not
/// promise.
async fn handled(client: &async_nats::Client) {
    client.flush().await.unwrap();
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        client.request("mappings.test.barrier", "".into()),
    )
    .await;
}

/// A client of `server` logged in as `user` (whose password is its name).
async fn login(server: &ServerProcess, user: &str) -> async_nats::Client {
    async_nats::ConnectOptions::with_user_and_password(user.into(), user.into())
        .connect(server.url())
        .await
        .unwrap()
}

/// Makes `request` on `requester` while `service` (another connection),
/// subscribed to `subject`, answers with the subject it got the request on;
/// returns that subject.
async fn ask(
    service: &async_nats::Client,
    subject: &str,
    requester: &async_nats::Client,
    request: &str,
) -> String {
    let mut sub = service.subscribe(subject.to_string()).await.unwrap();
    handled(service).await;
    let responder = tokio::spawn({
        let service = service.clone();
        async move {
            let req = sub.next().await.unwrap();
            let subject = req.subject.to_string();
            service
                .publish(req.reply.unwrap(), subject.clone().into())
                .await
                .unwrap();
            service.flush().await.unwrap();
            subject
        }
    });
    let answer = tokio::time::timeout(
        Duration::from_secs(5),
        requester.request(request.to_string(), "q".into()),
    )
    .await
    .expect("an answer")
    .unwrap();
    let got = responder.await.unwrap();
    assert_eq!(answer.payload, got.as_bytes());
    got
}

/// Publishes each of `subjects` once and says where each arrived (`>`).
async fn destinations(client: &async_nats::Client, subjects: &[&str]) -> Vec<String> {
    let mut all = client.subscribe(">").await.unwrap();
    client.flush().await.unwrap();
    let mut seen = Vec::new();
    for subject in subjects {
        client
            .publish(subject.to_string(), "x".into())
            .await
            .unwrap();
        client.flush().await.unwrap();
        let m = tokio::time::timeout(Duration::from_secs(5), all.next())
            .await
            .unwrap_or_else(|_| panic!("nothing arrived for {subject}"))
            .unwrap();
        seen.push(m.subject.to_string());
    }
    seen
}

/// How many messages `sub` gets until none comes for 300 ms.
async fn drain(sub: &mut async_nats::Subscriber) -> usize {
    let mut n = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), sub.next()).await {
        n += 1;
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_level_mappings_send_messages_where_nats_server_does() {
    let mut partitions = Vec::new();
    for binary in binaries() {
        let server = ServerProcess::builder(&binary).config(CONFIG).start();
        let client = async_nats::connect(server.url()).await.unwrap();
        let seen = destinations(
            &client,
            &[
                "orders",
                "orders.other",
                "req.a.b",
                "legacy.a.b",
                "split.abcdef",
            ],
        )
        .await;
        assert_eq!(
            seen,
            [
                "orders.v2",
                "orders.other",
                "req.b.a",
                "legacy.b.a",
                "split.ab.cdef"
            ],
            "{binary}"
        );
        let keys: Vec<String> = (0..20).map(|i| format!("part.key{i}")).collect();
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        partitions.push(destinations(&client, &key_refs).await);

        // Weighted: about 30% to one, 70% to the other, none lost.
        let count = |subject: &'static str| {
            let client = client.clone();
            async move {
                let sub = client.subscribe(subject).await.unwrap();
                client.flush().await.unwrap();
                sub
            }
        };
        let (mut new, mut old) = (count("canary.new").await, count("canary.old").await);
        let (mut half, mut kept) = (count("half.mapped").await, count("half").await);
        let (mut lossy, mut lossy_kept) = (count("lossy").await, count("lossy.kept").await);
        const N: usize = 1000;
        for _ in 0..N {
            client.publish("canary", "x".into()).await.unwrap();
            client.publish("half", "x".into()).await.unwrap();
            client.publish("lossy", "x".into()).await.unwrap();
        }
        client.flush().await.unwrap();
        let (n_new, n_old) = (drain(&mut new).await, drain(&mut old).await);
        assert_eq!(n_new + n_old, N, "{binary}");
        assert!(
            (200..=400).contains(&n_new),
            "{binary}: {n_new} of {N} to canary.new"
        );
        // The unlisted rest of a weighted mapping keeps the subject.
        let (n_half, n_kept) = (drain(&mut half).await, drain(&mut kept).await);
        assert_eq!(n_half + n_kept, N, "{binary}");
        assert!(
            (400..=600).contains(&n_half),
            "{binary}: {n_half} of {N} mapped"
        );
        // Listing the source itself with weight 0 drops the rest.
        let (n_lossy, n_lossy_kept) = (drain(&mut lossy).await, drain(&mut lossy_kept).await);
        assert_eq!(n_lossy, 0, "{binary}");
        assert!(
            (300..=500).contains(&n_lossy_kept),
            "{binary}: {n_lossy_kept} of {N} kept"
        );
    }
    // The partition function puts each key where nats-server puts it.
    if let [ours, theirs] = &partitions[..] {
        assert_eq!(ours, theirs);
    }
    let distinct: std::collections::HashSet<&str> = partitions[0]
        .iter()
        .map(|s| s.split('.').nth(1).unwrap())
        .collect();
    assert!(distinct.len() > 1, "{:?}", partitions[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_mappings_apply_before_permissions_and_to_service_imports() {
    let config = r#"
accounts {
  APP {
    users = [ { user: app, password: app, permissions: { publish: { allow: ["mapped.>", "ask"] } } } ]
    mappings { "raw.*": "mapped.$1" }
    imports [ { service: { account: SVC, subject: "svc.ask" }, to: "ask" } ]
  }
  SVC {
    users = [ { user: svc, password: svc } ]
    exports [ { service: "svc.ask" } ]
    mappings { "svc.ask": "svc.v2.ask" }
  }
}
"#;
    for binary in binaries() {
        let server = ServerProcess::builder(&binary).config(config).start();
        let app = login(&server, "app").await;
        let svc = login(&server, "svc").await;

        // `raw.x` is not allowed as such, but is published as `mapped.x`.
        let mut mapped = app.subscribe("mapped.>").await.unwrap();
        app.flush().await.unwrap();
        app.publish("raw.x", "1".into()).await.unwrap();
        app.flush().await.unwrap();
        let m = tokio::time::timeout(Duration::from_secs(5), mapped.next())
            .await
            .expect("mapped message")
            .unwrap();
        assert_eq!(m.subject.as_str(), "mapped.x", "{binary}");

        // The exporter's mapping takes the imported request on to its new
        // subject, and the answer comes back.
        assert_eq!(
            ask(&svc, "svc.>", &app, "ask").await,
            "svc.v2.ask",
            "{binary}"
        );
    }
}

fn start_fails(binary: &str, config: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.conf");
    std::fs::write(&path, config).unwrap();
    let out = std::process::Command::new(binary)
        .arg("-c")
        .arg(&path)
        .args(["-a", "127.0.0.1", "-p", "-1"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{binary} started with {config}");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn bad_mappings_are_config_errors_with_their_line() {
    let cases = [
        ("mappings {\n  \"a.*\": \"b.$2\"\n}\n", "Error adding mapping for \"a.*\""),
        (
            "mappings {\n  a: [ { destination: b, weight: 60 }, { destination: c, weight: 50 } ]\n}\n",
            "total weight needs to be <= 100",
        ),
        (
            "mappings {\n  a: { destination: b }\n}\n",
            "Missing weight for mapping destination",
        ),
        (
            "mappings {\n  a: { destination: b, weight: 120 }\n}\n",
            "Invalid weight 120 for mapping destination",
        ),
        (
            "\nmappings {\n  \"a..b\": c\n}\n",
            "is not a valid subject",
        ),
        (
            "mappings {\n  a: \"b.{{nope(1)}}\"\n}\n",
            "Error adding mapping for \"a\"",
        ),
    ];
    for binary in binaries() {
        for (config, want) in cases {
            let out = start_fails(&binary, config);
            assert!(out.contains(want), "{binary}: {config}: {out}");
            assert!(out.contains("bad.conf:2:"), "{binary}: {config}: {out}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wildcard_imports_under_new_names_transform_subjects() {
    let config = r#"
accounts {
  EXP {
    users = [ { user: exp, password: exp } ]
    exports [ { stream: "events.*.*" }, { service: "svc.*.*" } ]
  }
  IMP {
    users = [ { user: imp, password: imp } ]
    imports [
      { stream: { account: EXP, subject: "events.*.*" }, to: "mine.$2.$1" }
      { service: { account: EXP, subject: "svc.*.*" }, to: "ask.$2.$1" }
    ]
  }
}
"#;
    for binary in binaries() {
        let server = ServerProcess::builder(&binary).config(config).start();
        let exp = login(&server, "exp").await;
        let imp = login(&server, "imp").await;

        // The stream: `events.a.b` arrives in IMP as `mine.b.a`.
        let mut mine = imp.subscribe("mine.>").await.unwrap();
        handled(&imp).await;
        exp.publish("events.a.b", "e".into()).await.unwrap();
        exp.flush().await.unwrap();
        let m = tokio::time::timeout(Duration::from_secs(5), mine.next())
            .await
            .unwrap_or_else(|_| panic!("{binary}: no stream message"))
            .unwrap();
        assert_eq!(m.subject.as_str(), "mine.b.a", "{binary}");

        // The service: a request on `ask.x.y` reaches EXP on `svc.y.x`.
        assert_eq!(
            ask(&exp, "svc.>", &imp, "ask.x.y").await,
            "svc.y.x",
            "{binary}"
        );
    }
}

/// A hub (`hub_bin`) whose global account maps `orders` to `orders.v2`,
/// and a leaf (`leaf_bin`): the hub tells the leaf it wants `orders` (a
/// mapping source), so what the leaf's clients publish there reaches the
/// hub's subscriber of `orders.v2`.
async fn check_leafs_send_mapping_sources(hub_bin: &str, leaf_bin: &str) {
    let port = gannet_test::free_port();
    let hub = ServerProcess::builder(hub_bin)
        .config(&format!(
            "mappings {{ orders: \"orders.v2\" }}\nleafnodes {{ listen: \"127.0.0.1:{port}\" }}\n"
        ))
        .start();
    let leaf = ServerProcess::builder(leaf_bin)
        .config(&format!(
            "leafnodes {{ remotes: [ {{ url: \"nats-leaf://127.0.0.1:{port}\" }} ] }}\n"
        ))
        .start();
    let on_hub = async_nats::connect(hub.url()).await.unwrap();
    let mut orders = on_hub.subscribe("orders.v2").await.unwrap();
    handled(&on_hub).await;
    let on_leaf = async_nats::connect(leaf.url()).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        on_leaf.publish("orders", "o".into()).await.unwrap();
        on_leaf.flush().await.unwrap();
        if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(200), orders.next()).await {
            assert_eq!(m.subject.as_str(), "orders.v2");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{hub_bin} <- {leaf_bin}: the leaf never sent `orders`\n{}",
            hub.log()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leafs_send_what_the_hub_maps() {
    const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
    check_leafs_send_mapping_sources(BIN, BIN).await;
    if let Some(reference) = gannet_test::reference_server_binary() {
        check_leafs_send_mapping_sources(BIN, &reference).await;
        check_leafs_send_mapping_sources(&reference, BIN).await;
    }
}
