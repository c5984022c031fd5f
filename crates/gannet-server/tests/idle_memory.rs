//! Memory after a burst: connections whose buffers grew for large messages give
//! the room back once they have been quiet for a while, and the server's
//! resident size comes back down towards what the same connections cost before
//! the burst. The reference stays at its peak, so this is Gannet's own.
use std::time::{Duration, Instant};

use futures::StreamExt;
use gannet_test::{running_reference, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
const CLIENTS: usize = 100;
const PAYLOAD: usize = 64 * 1024;
/// Messages each client receives in the burst.
const BURST: usize = 20;
/// Messages each client publishes (to no one), so its read buffer grows too.
const SENT: usize = 3;
/// Longest wait for the release: two idle periods of the connections, one of
/// the heap trimmer, and slack for a loaded machine.
const SETTLE: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_connections_give_back_what_a_burst_grew() {
    if running_reference() {
        return;
    }
    let s = ServerProcess::start(BIN, &[]);
    let mut clients = Vec::new();
    let mut subs = Vec::new();
    for _ in 0..CLIENTS {
        let client = async_nats::ConnectOptions::new()
            .subscription_capacity(BURST * 2)
            .connect(s.url())
            .await
            .expect("connect");
        subs.push(client.subscribe("burst").await.expect("subscribe"));
        client.flush().await.expect("flush");
        clients.push(client);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = s.resident_kib();

    let payload = bytes::Bytes::from(vec![b'x'; PAYLOAD]);
    for client in &clients {
        for _ in 0..SENT {
            client
                .publish("nobody", payload.clone())
                .await
                .expect("publish");
        }
        client.flush().await.expect("flush");
    }
    for _ in 0..BURST {
        clients[0]
            .publish("burst", payload.clone())
            .await
            .expect("publish");
    }
    clients[0].flush().await.expect("flush");
    for sub in &mut subs {
        for _ in 0..BURST {
            let m = tokio::time::timeout(Duration::from_secs(20), sub.next())
                .await
                .expect("burst delivered in time")
                .expect("message");
            assert_eq!(m.payload.len(), PAYLOAD);
        }
    }
    let peak = s.resident_kib();
    let grown = peak.saturating_sub(before);

    // Quiet now: within a few idle periods the burst must have left at most
    // a quarter of what it added, or 40 KiB per connection (4 MiB), whichever
    // is more. (Buffers kept after a burst held 150 KiB per connection.)
    let allowed = (grown / 4).max(4 * 1024);
    let started = Instant::now();
    let mut now = peak;
    while now > before + allowed {
        assert!(
            started.elapsed() < SETTLE,
            "resident {before} KiB before the burst, {peak} KiB after it, \
             still {now} KiB after {SETTLE:?} idle"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        now = s.resident_kib();
    }

    // The connections still work, with small buffers again.
    clients[1]
        .publish("burst", "after".into())
        .await
        .expect("publish");
    clients[1].flush().await.expect("flush");
    let m = tokio::time::timeout(Duration::from_secs(5), subs[2].next())
        .await
        .expect("delivered after the release")
        .expect("message");
    assert_eq!(&m.payload[..], b"after");
}
