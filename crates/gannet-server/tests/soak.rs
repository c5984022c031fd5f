//! Soak: a cluster of Gannet nodes (and nats-server 2.15 as one more node,
//! when this machine has it) carries sequence-numbered messages from a
//! publisher on every node to a subscriber on every node and a queue group
//! with a member on every node but one, while a client that never reads is cut as a slow consumer and one
//! node is killed and restarted, then stopped and restarted. Every subscriber
//! on a node that stays up must get every message of every publisher on a
//! node that stays up once, in order; the queue group, each message once
//! among its members. The messages of the restarted node's clients are
//! counted and printed, not judged: what was in flight when it died is gone.
//!
//! `SOAK_SECONDS` sets how long messages flow (8 s by default, as in CI);
//! the README gives the figures of a long run.
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use gannet_test::{reference_server_binary, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
/// Messages per second of each publisher.
const RATE: u64 = 2_000;
/// How long the cluster may take to form, carry interest and drain.
const SETTLE: Duration = Duration::from_secs(20);

fn soak_duration() -> Duration {
    let seconds = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    Duration::from_secs(seconds)
}

/// A node's config: a small `max_pending`, so that a client that stops
/// reading is cut soon.
fn config(name: &str, cluster_port: i32, seed: Option<u16>) -> String {
    let routes = seed
        .map(|p| format!("routes: [\"nats-route://127.0.0.1:{p}\"]"))
        .unwrap_or_default();
    format!(
        "server_name: {name}\nhttp: \"127.0.0.1:-1\"\nmax_pending: 4MB\n\
         cluster {{ name: soak, listen: \"127.0.0.1:{cluster_port}\", {routes} }}\n"
    )
}

fn start(binary: &str, name: &str, seed: Option<u16>) -> ServerProcess {
    ServerProcess::builder(binary)
        .config(&config(name, -1, seed))
        .start()
}

/// Starts `name` again where it was (client and route ports).
fn restart(name: &str, client_port: u16, cluster_port: u16, seed: u16) -> ServerProcess {
    ServerProcess::builder(BIN)
        .config(&config(name, i32::from(cluster_port), Some(seed)))
        .port(client_port)
        .start()
}

fn varz(s: &ServerProcess) -> serde_json::Value {
    let (status, body) = s.http_get("/varz");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// What one subscriber got from one publisher.
#[derive(Debug, Default, Clone)]
struct Track {
    /// Sequences seen, by sequence (1-based): how many times each.
    seen: Vec<u8>,
    highest: u64,
    received: u64,
    reordered: u64,
}

impl Track {
    fn record(&mut self, seq: u64) {
        self.received += 1;
        let Ok(i) = usize::try_from(seq) else { return };
        if self.seen.len() <= i {
            self.seen.resize(i + 1, 0);
        }
        self.seen[i] = self.seen[i].saturating_add(1);
        if seq < self.highest && self.seen[i] == 1 {
            self.reordered += 1;
        }
        self.highest = self.highest.max(seq);
    }

    fn merge(&mut self, other: &Track) {
        if self.seen.len() < other.seen.len() {
            self.seen.resize(other.seen.len(), 0);
        }
        for (i, n) in other.seen.iter().enumerate() {
            self.seen[i] = self.seen[i].saturating_add(*n);
        }
        self.received += other.received;
    }

    fn distinct(&self) -> u64 {
        self.seen.iter().filter(|n| **n > 0).count() as u64
    }

    /// (lost, duplicated, reordered) against `sent` messages numbered 1..=sent.
    fn verdict(&self, sent: u64) -> (u64, u64, u64) {
        let distinct_sent = self
            .seen
            .iter()
            .enumerate()
            .skip(1)
            .take(usize::try_from(sent).unwrap_or(usize::MAX))
            .filter(|(_, n)| **n > 0)
            .count() as u64;
        (
            sent.saturating_sub(distinct_sent),
            self.received - self.distinct(),
            self.reordered,
        )
    }
}

/// Tracks of one subscriber, by publisher, and the probes it has seen.
#[derive(Debug, Default)]
struct Tally {
    by_publisher: HashMap<String, Track>,
    probes: std::collections::HashSet<String>,
}

type Shared = Arc<Mutex<Tally>>;

/// Subscribes `subject` (in `queue`, if given) and tallies what arrives.
async fn subscriber(client: async_nats::Client, queue: Option<&str>) -> Shared {
    let tally: Shared = Arc::default();
    let mut sub = match queue {
        Some(q) => client
            .queue_subscribe("soak.>", q.to_string())
            .await
            .unwrap(),
        None => client.subscribe("soak.>").await.unwrap(),
    };
    client.flush().await.unwrap();
    let into = tally.clone();
    tokio::spawn(async move {
        let _keep = client;
        while let Some(msg) = sub.next().await {
            let text = String::from_utf8_lossy(&msg.payload);
            let mut tally = into.lock().unwrap();
            if msg.subject.as_str() == "soak.probe" {
                tally.probes.insert(text.into_owned());
                continue;
            }
            let Some(publisher) = msg.subject.as_str().strip_prefix("soak.data.") else {
                continue;
            };
            let seq = text
                .split(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            tally
                .by_publisher
                .entry(publisher.to_string())
                .or_default()
                .record(seq);
        }
    });
    tally
}

/// Publishes numbered messages at [`RATE`] until `stop`; returns how many
/// were handed to the client.
async fn publisher(client: async_nats::Client, name: String, stop: Arc<AtomicBool>) -> u64 {
    let subject = format!("soak.data.{name}");
    let padding = "x".repeat(48);
    let mut seq = 0u64;
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        // Keep to the rate: catch up in small bursts.
        let due = started.elapsed().as_millis() as u64 * RATE / 1000;
        while seq < due && !stop.load(Ordering::Relaxed) {
            seq += 1;
            let body = format!("{seq} {padding}");
            if client.publish(subject.clone(), body.into()).await.is_err() {
                seq -= 1;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), client.flush()).await;
    seq
}

async fn client(url: &str, name: &str) -> async_nats::Client {
    async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .connect(url)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_survive_slow_consumers_and_restarts() {
    let duration = soak_duration();
    let a = start(BIN, "A", None);
    let seed = a.cluster_port.unwrap();
    let b = start(BIN, "B", Some(seed));
    let mut c = start(BIN, "C", Some(seed));
    let (c_port, c_cluster) = (c.port, c.cluster_port.unwrap());
    let reference = reference_server_binary().map(|bin| start(&bin, "R", Some(seed)));
    // Nodes that stay up, by name.
    let mut stable: Vec<(&str, &ServerProcess)> = vec![("A", &a), ("B", &b)];
    if let Some(r) = &reference {
        stable.push(("R", r));
    }
    let all_urls: Vec<String> = stable
        .iter()
        .map(|(_, s)| s.url())
        .chain([c.url()])
        .collect();
    let deadline = Instant::now() + SETTLE;
    for (name, s) in &stable {
        while s.route_peers() + 1 < all_urls.len() {
            assert!(Instant::now() < deadline, "{name} did not join the mesh");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    // A subscriber and a queue member on every node, a publisher on every node.
    let mut subscribers: BTreeMap<String, Shared> = BTreeMap::new();
    let mut members: BTreeMap<String, Shared> = BTreeMap::new();
    let mut publishers = Vec::new();
    let stop = Arc::new(AtomicBool::new(false));
    let nodes: Vec<(String, String)> = stable
        .iter()
        .map(|(n, s)| (n.to_string(), s.url()))
        .chain([("C".to_string(), c.url())])
        .collect();
    for (name, url) in &nodes {
        subscribers.insert(
            name.clone(),
            subscriber(client(url, &format!("sub-{name}")).await, None).await,
        );
        // Queue members only where they stay: a member on C would take its
        // share of the messages and lose what is in flight when C dies.
        if name != "C" {
            members.insert(
                name.clone(),
                subscriber(client(url, &format!("queue-{name}")).await, Some("q")).await,
            );
        }
    }
    // Every subscriber hears every publisher before the numbered messages start.
    let mut probing = Vec::new();
    for (name, url) in &nodes {
        probing.push((name.clone(), client(url, &format!("pub-{name}")).await));
    }
    let deadline = Instant::now() + SETTLE;
    loop {
        for (name, c) in &probing {
            c.publish("soak.probe", name.clone().into()).await.unwrap();
            c.flush().await.unwrap();
        }
        let ready = subscribers
            .values()
            .all(|t| t.lock().unwrap().probes.len() == nodes.len());
        if ready {
            break;
        }
        assert!(Instant::now() < deadline, "interest did not spread");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (name, c) in probing {
        publishers.push((name.clone(), tokio::spawn(publisher(c, name, stop.clone()))));
    }

    // A client on A that subscribes to everything and never reads, and
    // large messages for it from B, across a route, so that it falls
    // behind soon.
    let mut stuck = std::net::TcpStream::connect(a.addr()).unwrap();
    stuck
        .write_all(b"CONNECT {\"verbose\":false}\r\nSUB soak.> 1\r\nSUB bulk 2\r\nPING\r\n")
        .unwrap();
    let bulk = client(&b.url(), "bulk").await;
    let bulk_stop = stop.clone();
    let bulk_task = tokio::spawn(async move {
        let body = bytes::Bytes::from(vec![b'b'; 64 * 1024]);
        while !bulk_stop.load(Ordering::Relaxed) {
            let _ = bulk.publish("bulk", body.clone()).await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });

    // C dies at a third of the run and stops cleanly at two thirds; each
    // time it comes back where it was.
    let third = duration / 3;
    tokio::time::sleep(third).await;
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &c.pid().to_string()])
        .status();
    tokio::time::sleep(Duration::from_millis(500)).await;
    c = restart("C", c_port, c_cluster, seed);
    tokio::time::sleep(third).await;
    assert!(c.terminate(Duration::from_secs(10)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    c = restart("C", c_port, c_cluster, seed);
    tokio::time::sleep(duration.saturating_sub(third * 2)).await;
    stop.store(true, Ordering::Relaxed);
    bulk_task.await.unwrap();
    let mut sent: BTreeMap<String, u64> = BTreeMap::new();
    for (name, task) in publishers {
        sent.insert(name, task.await.unwrap());
    }

    // Wait until the subscribers on stable nodes have everything from
    // stable publishers, or the time is up.
    let stable_names: Vec<String> = stable.iter().map(|(n, _)| n.to_string()).collect();
    let complete = || {
        stable_names.iter().all(|s| {
            let tally = subscribers[s].lock().unwrap();
            stable_names.iter().all(|p| {
                tally
                    .by_publisher
                    .get(p)
                    .is_some_and(|t| t.distinct() >= sent[p])
            })
        })
    };
    let deadline = Instant::now() + SETTLE;
    while !complete() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The report, then the verdict.
    let total: u64 = sent.values().sum();
    eprintln!(
        "soak: {} s, {} nodes, {total} messages published ({sent:?})",
        duration.as_secs(),
        nodes.len()
    );
    let mut failures = Vec::new();
    for (sub_name, tally) in &subscribers {
        let tally = tally.lock().unwrap();
        for (pub_name, count) in &sent {
            let track = tally
                .by_publisher
                .get(pub_name)
                .cloned()
                .unwrap_or_default();
            let (lost, dup, reordered) = track.verdict(*count);
            let judged = stable_names.contains(sub_name) && stable_names.contains(pub_name);
            eprintln!(
                "  {pub_name} -> sub on {sub_name}: {} received, lost {lost}, duplicated {dup}, reordered {reordered}{}",
                track.received,
                if judged { "" } else { " (restarted node: not judged)" }
            );
            if judged && (lost, dup, reordered) != (0, 0, 0) {
                failures.push(format!(
                    "{pub_name} -> {sub_name}: lost {lost}, duplicated {dup}, reordered {reordered}"
                ));
            }
        }
    }
    for pub_name in sent.keys() {
        let mut merged = Track::default();
        for tally in members.values() {
            if let Some(t) = tally.lock().unwrap().by_publisher.get(pub_name) {
                merged.merge(t);
            }
        }
        let (lost, dup, _) = merged.verdict(sent[pub_name]);
        let judged = stable_names.contains(pub_name);
        eprintln!(
            "  {pub_name} -> queue group: {} received, lost {lost}, duplicated {dup}{}",
            merged.received,
            if judged {
                ""
            } else {
                " (restarted node: not judged)"
            }
        );
        if judged && (lost, dup) != (0, 0) {
            failures.push(format!(
                "{pub_name} -> queue group: lost {lost}, duplicated {dup}"
            ));
        }
    }
    let slow = varz(&a)["slow_consumers"].as_u64().unwrap_or(0);
    eprintln!("  slow consumers cut on A: {slow}");
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(slow >= 1, "the client that never reads was not cut");
    drop(stuck);
    drop(c);
}
