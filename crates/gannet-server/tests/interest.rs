//! The interest model: internal subscriptions served by the internal loop,
//! interest changes reported by the account, an auto-unsubscribe limit reached
//! through an import, and subscription counts equal to the reference's.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use gannet_server::accounts::InterestChange;
use gannet_server::internal::{self, InternalMsg};
use gannet_server::{Options, Server};
use gannet_test::{RawClient, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

/// An interest change as a listener saw it: subject, queue, count.
type Change = (String, Option<String>, usize);

/// A server in this process, on a random port.
async fn start_in_process() -> gannet_server::RunningServer {
    let opts = Options {
        host: "127.0.0.1".into(),
        port: -1,
        ..Options::default()
    };
    Server::start(opts).await.expect("start")
}

/// A client's own subscription to sync on.
struct Probe {
    subject: String,
    sub: async_nats::Subscriber,
}

impl Probe {
    async fn new(client: &async_nats::Client) -> Probe {
        let subject = client.new_inbox();
        let sub = client.subscribe(subject.clone()).await.unwrap();
        let mut probe = Probe { subject, sub };
        probe.round_trip(client).await;
        probe
    }

    /// Waits until the server has handled everything `client` sent so far
    /// (async-nats' `flush` only writes): a message to itself must come back.
    async fn round_trip(&mut self, client: &async_nats::Client) {
        client
            .publish(self.subject.clone(), "".into())
            .await
            .unwrap();
        next_within(&mut self.sub).await;
    }
}

async fn next_within(sub: &mut async_nats::Subscriber) -> async_nats::Message {
    tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("no message within 5 s")
        .expect("subscription ended")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_subscription_gets_a_clients_message_and_its_reply_reaches_the_client() {
    let running = start_in_process().await;
    let server = running.server.clone();
    let global = server.global_account();
    // (subject, publisher's account) of each message the handler got.
    type Seen = Vec<(String, Option<String>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let record = seen.clone();
    let handler: internal::Handler = Arc::new(move |server: &Server, msg: &InternalMsg| {
        let user = msg.origin.as_ref().map(|o| o.account.name.clone());
        record
            .lock()
            .unwrap()
            .push((msg.subject_str().unwrap_or("").to_string(), user));
        if let (Some(reply), Some(account)) = (msg.reply_str(), msg.sub.account()) {
            let mut answer = b"echo: ".to_vec();
            answer.extend_from_slice(&msg.payload);
            server.internal().send(&account, reply, answer);
        }
    });
    internal::subscribe(&global, 999, "svc.internal", 1, handler).expect("subscribe");

    let client = async_nats::connect(format!("nats://{}", running.client_addr))
        .await
        .unwrap();
    let reply = tokio::time::timeout(
        Duration::from_secs(5),
        client.request("svc.internal", "hello".into()),
    )
    .await
    .expect("reply within 5 s")
    .expect("request");
    assert_eq!(&reply.payload[..], b"echo: hello");
    // A plain publish reaches it too, with the publisher's account as origin.
    client
        .publish("svc.internal", "no reply".into())
        .await
        .unwrap();
    client.flush().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while seen.lock().unwrap().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            ("svc.internal".to_string(), Some("$G".to_string())),
            ("svc.internal".to_string(), Some("$G".to_string())),
        ]
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_reports_first_and_last_interest_and_queue_weights() {
    let running = start_in_process().await;
    let global = running.server.global_account();
    let changes: Arc<Mutex<Vec<Change>>> = Arc::default();
    let record = changes.clone();
    global.add_interest_listener(Arc::new(move |c: &InterestChange<'_>| {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        if c.subject.starts_with(b"app.") {
            record
                .lock()
                .unwrap()
                .push((text(c.subject), c.queue.map(text), c.count));
        }
    }));
    let url = format!("nats://{}", running.client_addr);
    let one = async_nats::connect(&url).await.unwrap();
    let two = async_nats::connect(&url).await.unwrap();
    // A raw connection, to close it from under its subscriptions.
    let mut three = RawClient::connect_with(
        &running.client_addr.to_string(),
        r#"{"verbose":false,"pedantic":false}"#,
    );
    let mut probe_one = Probe::new(&one).await;
    let mut probe_two = Probe::new(&two).await;
    let mut a1 = one.subscribe("app.a").await.unwrap();
    let a2 = two.subscribe("app.a").await.unwrap();
    let q1 = one
        .queue_subscribe("app.q", "workers".into())
        .await
        .unwrap();
    probe_one.round_trip(&one).await;
    probe_two.round_trip(&two).await;
    three.send(b"SUB app.q workers 1\r\nSUB app.b 2\r\n");
    three.expect_before_pong(b"");
    // An auto-unsubscribe limit ends a subscription from the publisher's task.
    a1.unsubscribe_after(1).await.unwrap();
    probe_one.round_trip(&one).await;
    two.publish("app.a", "x".into()).await.unwrap();
    two.flush().await.unwrap();
    next_within(&mut a1).await;
    drop(a2);
    drop(q1);
    one.flush().await.unwrap();
    two.flush().await.unwrap();
    // Closing a connection ends what it had left.
    drop(three);
    let expected = vec![
        ("app.a".to_string(), None, 1),
        ("app.q".to_string(), Some("workers".to_string()), 1),
        ("app.q".to_string(), Some("workers".to_string()), 2),
        ("app.b".to_string(), None, 1),
        ("app.a".to_string(), None, 0),
        ("app.q".to_string(), Some("workers".to_string()), 1),
        ("app.q".to_string(), Some("workers".to_string()), 0),
        ("app.b".to_string(), None, 0),
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while changes.lock().unwrap().len() < expected.len() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let got = changes.lock().unwrap().clone();
    // The two connections' SUBs race each other: compare per subject, in order.
    let by_subject = |v: &[Change]| {
        let mut m: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (s, _, n) in v {
            m.entry(s.clone()).or_default().push(*n);
        }
        m
    };
    assert_eq!(by_subject(&got), by_subject(&expected), "{got:?}");
    assert_eq!(got.len(), expected.len(), "{got:?}");
    running.shutdown().await;
}

const IMPORT_CONF: &str = r#"
http_port: -1
accounts {
  A: { users: [ {user: ua, password: pa} ], exports: [ {stream: "events.>"} ] }
  B: { users: [ {user: ub, password: pb} ], imports: [ {stream: {account: A, subject: "events.>"}} ] }
}
"#;

/// The number of subscriptions in `account`'s index, from `/accountz`.
fn account_subscriptions(s: &ServerProcess, account: &str) -> u64 {
    let (status, body) = s.http_get(&format!("/accountz?acc={account}"));
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    json["account_detail"]["sublist_stats"]["num_subscriptions"]
        .as_u64()
        .unwrap_or_else(|| panic!("no count in {body}"))
}

#[tokio::test]
async fn an_auto_unsubscribe_limit_reached_through_an_import_leaves_the_importers_index() {
    let s = ServerProcess::start_with_config(BIN, Some(IMPORT_CONF), &[]);
    let a = async_nats::ConnectOptions::with_user_and_password("ua".into(), "pa".into())
        .connect(s.url())
        .await
        .unwrap();
    let b = async_nats::ConnectOptions::with_user_and_password("ub".into(), "pb".into())
        .connect(s.url())
        .await
        .unwrap();
    let mut probe = Probe::new(&b).await;
    let before = account_subscriptions(&s, "B");
    let exporter_before = account_subscriptions(&s, "A");
    let mut sub = b.subscribe("events.x").await.unwrap();
    sub.unsubscribe_after(1).await.unwrap();
    probe.round_trip(&b).await;
    assert_eq!(account_subscriptions(&s, "B"), before + 1);
    a.publish("events.x", "one".into()).await.unwrap();
    a.publish("events.x", "two".into()).await.unwrap();
    a.flush().await.unwrap();
    let m = next_within(&mut sub).await;
    assert_eq!(&m.payload[..], b"one");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while account_subscriptions(&s, "B") != before && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        account_subscriptions(&s, "B"),
        before,
        "the ended subscription stayed in B's index"
    );
    // And A's index never had it (it holds the import's stand-in only).
    assert_eq!(account_subscriptions(&s, "A"), exporter_before);
}

#[test]
fn a_system_request_is_answered_off_the_requesters_read_task() {
    // Many connections make CONNZ take a while; the requester's PING, sent
    // right after its request, is answered without waiting for it.
    let s = ServerProcess::start(BIN, &[]);
    let hello = r#"{"verbose":false,"pedantic":false}"#;
    let crowd: Vec<_> = (0..2000)
        .map(|i| {
            let mut c = RawClient::connect_with(&s.addr(), hello);
            c.send(format!("SUB crowd.{i} 1\r\nSUB crowd.all 2\r\n").as_bytes());
            c
        })
        .collect();
    // Every crowd connection is registered once one of them answers a PING
    // sent after all of them connected.
    let mut last = RawClient::connect_with(&s.addr(), hello);
    last.expect_before_pong(b"");
    let mut requester = RawClient::connect_with(&s.addr(), hello);
    requester.send(b"SUB _INBOX.connz 1\r\n");
    requester.expect_before_pong(b"");
    let mut pong_first = 0;
    for _ in 0..5 {
        let body = br#"{"subscriptions_detail":true,"limit":5000}"#;
        let mut request = format!(
            "PUB $SYS.REQ.SERVER.PING.CONNZ _INBOX.connz {}\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        request.extend_from_slice(b"\r\nPING\r\n");
        requester.send(&request);
        let first = requester.read_line();
        if first == "PONG\r\n" {
            pong_first += 1;
            let msg = requester.read_line();
            assert!(msg.starts_with("MSG _INBOX.connz 1 "), "{msg}");
        } else {
            assert!(first.starts_with("MSG _INBOX.connz 1 "), "{first}");
        }
        // The CONNZ body, then (if it came first) the PONG.
        let body = requester.read_line();
        assert!(
            body.contains("\"num_connections\""),
            "{}",
            &body[..body.len().min(200)]
        );
        if first != "PONG\r\n" {
            requester.expect(b"PONG\r\n");
        }
    }
    // Served inline, the reply would come first every time; a busy machine
    // may delay the PONG's batch once in a while.
    assert!(
        pong_first >= 3,
        "PING waited for the CONNZ reply: {pong_first} of 5"
    );
    drop(crowd);
}

const COUNTS_CONF: &str = r#"
http_port: -1
accounts {
  SYS: { users: [ {user: sys, password: sys} ] }
  A: { users: [ {user: a, password: a} ] }
}
system_account: SYS
"#;

/// What a server reports of its subscriptions: the VARZ and SUBSZ totals,
/// each account's count, and the (account, subject) of every subscription
/// with the server's own id and name tags made neutral.
#[derive(Debug, PartialEq)]
struct Counts {
    varz: u64,
    subsz: u64,
    per_account: BTreeMap<String, u64>,
    subjects: Vec<(String, String)>,
}

fn counts(s: &ServerProcess) -> Counts {
    let get = |path: &str| -> serde_json::Value {
        let (status, body) = s.http_get(path);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    };
    let varz = get("/varz");
    let subsz = get("/subsz?subs=1&limit=1000");
    let server_id = varz["server_id"].as_str().unwrap().to_string();
    let mut per_account = BTreeMap::new();
    for account in ["SYS", "A", "$G"] {
        let detail = get(&format!("/accountz?acc={account}"));
        per_account.insert(
            account.to_string(),
            detail["account_detail"]["sublist_stats"]["num_subscriptions"]
                .as_u64()
                .unwrap(),
        );
    }
    let mut subjects: Vec<(String, String)> = subsz["subscriptions_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sub| {
            let subject = sub["subject"].as_str().unwrap().replace(&server_id, "<id>");
            // `$SYS._INBOX.<tag>.*` and `$SYS.LATENCY.M2.<tag>`: the tag is the
            // server's own.
            let tokens: Vec<&str> = subject.split('.').collect();
            let neutral = match tokens.as_slice() {
                ["$SYS", "_INBOX", _, rest] => format!("$SYS._INBOX.<tag>.{rest}"),
                ["$SYS", "LATENCY", "M2", _] => "$SYS.LATENCY.M2.<tag>".to_string(),
                _ => subject.clone(),
            };
            (sub["account"].as_str().unwrap().to_string(), neutral)
        })
        .collect();
    subjects.sort();
    Counts {
        varz: varz["subscriptions"].as_u64().unwrap(),
        subsz: subsz["num_subscriptions"].as_u64().unwrap(),
        per_account,
        subjects,
    }
}

#[test]
fn subscription_counts_are_the_references_for_the_same_config() {
    let gannet = ServerProcess::start_with_config(BIN, Some(COUNTS_CONF), &[]);
    let ours = counts(&gannet);
    // As nats-server 2.15 reported them for this config: 55 subscriptions of
    // the system client and USER.INFO in SYS, four imported services in each
    // other account.
    assert_eq!(ours.varz, 64, "{ours:#?}");
    assert_eq!(ours.subsz, 64);
    assert_eq!(ours.subjects.len(), 64);
    let expected: BTreeMap<String, u64> = [("$G", 4), ("A", 4), ("SYS", 56)]
        .into_iter()
        .map(|(a, n)| (a.to_string(), n))
        .collect();
    assert_eq!(ours.per_account, expected);
    if let Some(reference) = gannet_test::reference_server_binary() {
        let theirs = counts(&ServerProcess::start_with_config(
            &reference,
            Some(COUNTS_CONF),
            &[],
        ));
        assert_eq!(ours, theirs);
    }
}
