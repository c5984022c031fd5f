//! The official async-nats client against gannet-server: publish/subscribe,
//! wildcards, queue groups, request/reply, no-responders, headers, auto-unsubscribe.
use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use gannet_test::ServerProcess;

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

async fn connect(s: &ServerProcess) -> async_nats::Client {
    async_nats::connect(s.url()).await.expect("connect")
}

#[tokio::test]
async fn publish_reaches_literal_and_wildcard_subscribers() {
    let s = ServerProcess::start(BIN, &[]);
    let client = connect(&s).await;
    let mut literal = client.subscribe("director.d1.x").await.unwrap();
    let mut star = client.subscribe("director.*.x").await.unwrap();
    let mut full = client.subscribe("director.>").await.unwrap();
    let mut other = client.subscribe("agent.>").await.unwrap();
    client.flush().await.unwrap();
    client.publish("director.d1.x", "hi".into()).await.unwrap();
    client.flush().await.unwrap();
    for sub in [&mut literal, &mut star, &mut full] {
        let m = tokio::time::timeout(Duration::from_secs(2), sub.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.subject.as_str(), "director.d1.x");
        assert_eq!(&m.payload[..], b"hi");
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), other.next())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn queue_group_gives_each_message_to_one_member_and_spreads() {
    let s = ServerProcess::start(BIN, &[]);
    let client = connect(&s).await;
    let mut members = Vec::new();
    for _ in 0..3 {
        members.push(
            client
                .queue_subscribe("work", "workers".into())
                .await
                .unwrap(),
        );
    }
    let mut plain = client.subscribe("work").await.unwrap();
    client.flush().await.unwrap();
    for i in 0..300 {
        client.publish("work", format!("{i}").into()).await.unwrap();
    }
    client.flush().await.unwrap();
    let mut counts = Vec::new();
    for m in members.iter_mut() {
        let mut n = 0;
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), m.next()).await {
            n += 1;
        }
        counts.push(n);
    }
    assert_eq!(counts.iter().sum::<usize>(), 300, "{counts:?}");
    assert!(counts.iter().all(|&n| n > 50), "not spread: {counts:?}");
    let mut plain_n = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), plain.next()).await {
        plain_n += 1;
    }
    assert_eq!(plain_n, 300);
}

#[tokio::test]
async fn request_reply_and_no_responders() {
    let s = ServerProcess::start(BIN, &[]);
    let client = connect(&s).await;
    let mut service = client.subscribe("agent.123").await.unwrap();
    let responder = client.clone();
    tokio::spawn(async move {
        while let Some(m) = service.next().await {
            if let Some(reply) = m.reply {
                let mut body = b"re:".to_vec();
                body.extend_from_slice(&m.payload);
                responder.publish(reply, body.into()).await.unwrap();
            }
        }
    });
    client.flush().await.unwrap();
    let answer = client.request("agent.123", "ping".into()).await.unwrap();
    assert_eq!(&answer.payload[..], b"re:ping");

    let err = client.request("agent.none", "x".into()).await.unwrap_err();
    assert_eq!(
        err.kind(),
        async_nats::RequestErrorKind::NoResponders,
        "{err}"
    );
}

#[tokio::test]
async fn headers_round_trip() {
    let s = ServerProcess::start(BIN, &[]);
    let client = connect(&s).await;
    let mut sub = client.subscribe("h").await.unwrap();
    client.flush().await.unwrap();
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("X-Agent", "a1");
    client
        .publish_with_headers("h", headers, "body".into())
        .await
        .unwrap();
    let m = tokio::time::timeout(Duration::from_secs(2), sub.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.headers.unwrap().get("X-Agent").unwrap().as_str(), "a1");
    assert_eq!(&m.payload[..], b"body");
}

#[tokio::test]
async fn unsubscribe_after_n_messages() {
    let s = ServerProcess::start(BIN, &[]);
    let client = connect(&s).await;
    let mut sub = client.subscribe("n").await.unwrap();
    sub.unsubscribe_after(3).await.unwrap();
    client.flush().await.unwrap();
    for i in 0..10 {
        client.publish("n", format!("{i}").into()).await.unwrap();
    }
    client.flush().await.unwrap();
    let mut got = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(500), sub.next()).await {
        got.push(String::from_utf8(m.payload.to_vec()).unwrap());
    }
    assert_eq!(got, ["0", "1", "2"]);
}

#[tokio::test]
async fn many_clients_fan_out_and_large_payloads() {
    let s = ServerProcess::start(BIN, &[]);
    let publisher = connect(&s).await;
    let mut subs = Vec::new();
    for _ in 0..5 {
        let c = connect(&s).await;
        let sub = c.subscribe("big.>").await.unwrap();
        c.flush().await.unwrap();
        subs.push((c, sub));
    }
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    for i in 0..20 {
        publisher
            .publish(format!("big.{i}"), payload.clone().into())
            .await
            .unwrap();
    }
    publisher.flush().await.unwrap();
    let mut per_sub = HashMap::new();
    for (i, (_, sub)) in subs.iter_mut().enumerate() {
        for _ in 0..20 {
            let m = tokio::time::timeout(Duration::from_secs(5), sub.next())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(&m.payload[..], &payload[..]);
            *per_sub.entry(i).or_insert(0) += 1;
        }
    }
    assert!(per_sub.values().all(|&n| n == 20));
}
