//! The durability promise, with a real crash: publishers wait for their
//! acknowledgements while the server is killed with SIGKILL at a random
//! moment; after a restart on the same store every acknowledged message is
//! there, exactly once, at the sequence its acknowledgement named.
//!
//! Gannet must lose nothing. The same run against nats-server 2.15 (which
//! acknowledges before its data reaches the disk) is reported, not
//! asserted: `JS_CRASH_ROUNDS` sets how many crashes each server goes
//! through (3 by default; the README gives a longer run's figures).
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures::StreamExt;
use gannet_test::ServerProcess;
use rand::Rng;

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
const PUBLISHERS: usize = 4;

/// What one crash round found.
#[derive(Debug, Default)]
struct Round {
    acknowledged: usize,
    lost: usize,
    duplicated: usize,
    misplaced: usize,
}

fn start(binary: &str, store: &str, port: u16) -> ServerProcess {
    ServerProcess::builder(binary)
        .port(port)
        .args(&["-js", "-sd", store])
        .start()
}

fn kill_9(server: &ServerProcess) {
    let status = std::process::Command::new("kill")
        .args(["-9", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Publishes until the server dies; returns payload → acknowledged sequence.
async fn publish_until_killed(server: &ServerProcess, round: usize) -> HashMap<String, u64> {
    let acked = Arc::new(Mutex::new(HashMap::new()));
    let client = async_nats::connect(server.url()).await.unwrap();
    let js = jetstream::new(client);
    let mut tasks = Vec::new();
    for p in 0..PUBLISHERS {
        let js = js.clone();
        let acked = acked.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let body = format!("r{round}-p{p}-{i}");
                let Ok(pending) = js.publish("crash.data", body.clone().into()).await else {
                    return;
                };
                match tokio::time::timeout(Duration::from_secs(2), pending).await {
                    Ok(Ok(ack)) => {
                        acked.lock().unwrap().insert(body, ack.sequence);
                    }
                    _ => return,
                }
            }
        }));
    }
    let wait = rand::rng().random_range(300..1200);
    tokio::time::sleep(Duration::from_millis(wait)).await;
    kill_9(server);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
    }
    let acked = acked.lock().unwrap().clone();
    acked
}

/// Every message of the stream: payload → sequences it was stored at.
async fn read_all(js: &jetstream::Context) -> HashMap<String, Vec<u64>> {
    let s = js.get_stream("CRASH").await.unwrap();
    let c: consumer::PullConsumer = s
        .create_consumer(consumer::pull::Config {
            ack_policy: consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut seen: HashMap<String, Vec<u64>> = HashMap::new();
    loop {
        let mut batch = c.fetch().max_messages(1000).messages().await.unwrap();
        let mut got = 0;
        while let Some(m) = batch.next().await {
            let m = m.unwrap();
            let seq = m.info().unwrap().stream_sequence;
            seen.entry(String::from_utf8_lossy(&m.payload).into_owned())
                .or_default()
                .push(seq);
            got += 1;
        }
        if got == 0 {
            return seen;
        }
    }
}

async fn crash_rounds(binary: &str, rounds: usize) -> Vec<Round> {
    let root = tempfile::tempdir().unwrap();
    let store = root.path().join("store").to_str().unwrap().to_string();
    let port = gannet_test::free_port();
    let mut results = Vec::new();
    let mut all_acked: HashMap<String, u64> = HashMap::new();
    let server = start(binary, &store, port);
    {
        let client = async_nats::connect(server.url()).await.unwrap();
        jetstream::new(client)
            .create_stream(stream::Config {
                name: "CRASH".into(),
                subjects: vec!["crash.>".into()],
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let mut server = server;
    for round in 0..rounds {
        let acked = publish_until_killed(&server, round).await;
        all_acked.extend(acked);
        let _ = server.is_running();
        server = start(binary, &store, port);
        let client = async_nats::connect(server.url()).await.unwrap();
        let seen = read_all(&jetstream::new(client)).await;
        let mut r = Round {
            acknowledged: all_acked.len(),
            ..Round::default()
        };
        for (body, seq) in &all_acked {
            match seen.get(body) {
                None => r.lost += 1,
                Some(seqs) if seqs.len() > 1 => r.duplicated += 1,
                Some(seqs) if seqs[0] != *seq => r.misplaced += 1,
                Some(_) => {}
            }
        }
        results.push(r);
    }
    drop(server);
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_acknowledged_message() {
    let rounds = std::env::var("JS_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    for binary in gannet_test::with_reference(BIN) {
        let results = crash_rounds(&binary, rounds).await;
        let ours = binary == gannet_test::server_binary(BIN);
        for (i, r) in results.iter().enumerate() {
            eprintln!("{binary} crash round {i}: {r:?}");
            if ours {
                assert!(r.acknowledged > 0, "round {i}: nothing was acknowledged");
                assert_eq!(
                    (r.lost, r.duplicated, r.misplaced),
                    (0, 0, 0),
                    "round {i}: {r:?}"
                );
            }
        }
    }
}
