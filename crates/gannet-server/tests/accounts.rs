//! Accounts: isolation (nothing crosses accounts unless exported and imported),
//! stream imports with a prefix, and service imports whose replies find their way
//! back to the requesting account.
use std::time::Duration;

use futures::StreamExt;
use gannet_test::ServerProcess;

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

const CONF: &str = r#"
accounts {
  A: {
    users: [ {user: ua, password: pa} ]
    exports: [ {stream: "events.>"}, {service: "svc.echo"} ]
  }
  B: {
    users: [ {user: ub, password: pb} ]
    imports: [
      {stream: {account: A, subject: "events.>"}, prefix: "imported"}
      {service: {account: A, subject: "svc.echo"}, to: "echo"}
    ]
  }
  C: { users: [ {user: uc, password: pc} ] }
}
"#;

async fn login(s: &ServerProcess, user: &str, pass: &str) -> async_nats::Client {
    async_nats::ConnectOptions::with_user_and_password(user.into(), pass.into())
        .connect(s.url())
        .await
        .unwrap()
}

/// Waits until the server has `sub` (async-nats `flush` does not wait for the
/// server): publishes a probe that `sub` (on `>`) must receive.
async fn ready(client: &async_nats::Client, sub: &mut async_nats::Subscriber) {
    client.publish("probe.ready", "".into()).await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.subject.as_str(), "probe.ready");
}

async fn quiet(sub: &mut async_nats::Subscriber) -> Vec<String> {
    let mut got = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(400), sub.next()).await {
        got.push(m.subject.to_string());
    }
    got
}

#[tokio::test]
async fn accounts_are_isolated_even_on_the_same_subject() {
    let s = ServerProcess::start_with_config(BIN, Some(CONF), &[]);
    let a = login(&s, "ua", "pa").await;
    let c = login(&s, "uc", "pc").await;
    let mut a_all = a.subscribe(">").await.unwrap();
    let mut c_all = c.subscribe(">").await.unwrap();
    ready(&a, &mut a_all).await;
    ready(&c, &mut c_all).await;
    a.publish("foo", "from a".into()).await.unwrap();
    c.publish("foo", "from c".into()).await.unwrap();
    a.flush().await.unwrap();
    c.flush().await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(2), a_all.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&m.payload[..], b"from a");
    let m = tokio::time::timeout(Duration::from_secs(2), c_all.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&m.payload[..], b"from c");
    assert!(quiet(&mut a_all).await.is_empty());
    assert!(quiet(&mut c_all).await.is_empty());
}

#[tokio::test]
async fn stream_import_delivers_under_the_prefix_and_nowhere_else() {
    let s = ServerProcess::start_with_config(BIN, Some(CONF), &[]);
    let a = login(&s, "ua", "pa").await;
    let b = login(&s, "ub", "pb").await;
    let c = login(&s, "uc", "pc").await;
    let mut b_all = b.subscribe(">").await.unwrap();
    let mut c_all = c.subscribe(">").await.unwrap();
    ready(&b, &mut b_all).await;
    ready(&c, &mut c_all).await;
    a.publish("events.x", "e1".into()).await.unwrap();
    a.publish("other.x", "o1".into()).await.unwrap();
    a.flush().await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(2), b_all.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.subject.as_str(), "imported.events.x");
    assert_eq!(&m.payload[..], b"e1");
    assert!(
        quiet(&mut b_all).await.is_empty(),
        "only the exported stream crosses"
    );
    assert!(quiet(&mut c_all).await.is_empty(), "C imports nothing");
}

#[tokio::test]
async fn service_import_answers_the_requesting_account() {
    let s = ServerProcess::start_with_config(BIN, Some(CONF), &[]);
    let a = login(&s, "ua", "pa").await;
    let mut service = a.subscribe("svc.echo").await.unwrap();
    let mut a_probe = a.subscribe("probe.>").await.unwrap();
    ready(&a, &mut a_probe).await;
    let responder = a.clone();
    tokio::spawn(async move {
        while let Some(m) = service.next().await {
            let reply = m.reply.expect("a request has a reply subject");
            assert!(reply.starts_with("_R_."), "made-up reply subject: {reply}");
            let mut body = b"echo:".to_vec();
            body.extend_from_slice(&m.payload);
            responder.publish(reply, body.into()).await.unwrap();
        }
    });
    let b = login(&s, "ub", "pb").await;
    let answer = tokio::time::timeout(Duration::from_secs(5), b.request("echo", "hi".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&answer.payload[..], b"echo:hi");
    // C has no import: nobody answers there.
    let c = login(&s, "uc", "pc").await;
    let err = c.request("echo", "hi".into()).await.unwrap_err();
    assert_eq!(err.kind(), async_nats::RequestErrorKind::NoResponders);
}
