//! Delivery throughput, in delivered messages per second, through a real server
//! over loopback sockets: one publisher and 1 or 5 plain subscribers on one
//! subject. Each iteration publishes a batch of PUBs in one write and waits
//! until every subscriber has read all of its MSGs, so the figure covers the
//! whole path a message takes: parse, subject lookup, delivery into each
//! receiver's queue, the writer and the kernel.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gannet_server::{Options, Server};

/// Messages published per iteration.
const BATCH: usize = 2000;
const SUBJECT: &str = "bench.fanout";

/// A subscriber thread that counts the bytes it reads.
struct Subscriber {
    received: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

/// Opens a connection, sends `CONNECT` plus `extra`, and waits for the PONG
/// that answers the trailing PING, so the server has handled everything before.
fn connect(addr: SocketAddr, extra: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("INFO");
    assert!(line.starts_with("INFO "), "no INFO: {line}");
    let hello = format!("CONNECT {{\"verbose\":false,\"pedantic\":false}}\r\n{extra}PING\r\n");
    stream.write_all(hello.as_bytes()).expect("CONNECT");
    line.clear();
    reader.read_line(&mut line).expect("PONG");
    assert_eq!(line, "PONG\r\n");
    stream
}

impl Subscriber {
    fn start(addr: SocketAddr, stop: Arc<AtomicBool>) -> Subscriber {
        let mut stream = connect(addr, &format!("SUB {SUBJECT} 1\r\n"));
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let received = Arc::new(AtomicU64::new(0));
        let counter = received.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 256 * 1024];
            while !stop.load(Ordering::Relaxed) {
                match stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        counter.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(e) => panic!("subscriber read: {e}"),
                }
            }
        });
        Subscriber {
            received,
            thread: Some(thread),
        }
    }
}

/// One scenario: a running server, its publisher and its subscribers.
struct FanOut {
    /// The server, shut down when the bench is done.
    running: Option<gannet_server::RunningServer>,
    /// Runs the server.
    runtime: tokio::runtime::Runtime,
    publisher: TcpStream,
    subscribers: Vec<Subscriber>,
    stop: Arc<AtomicBool>,
    batch: Vec<u8>,
    /// Bytes each subscriber receives per batch.
    per_batch: u64,
}

impl FanOut {
    fn new(subscribers: usize, payload: usize) -> FanOut {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let opts = Options {
            host: "127.0.0.1".into(),
            port: -1,
            ..Options::default()
        };
        let running = runtime
            .block_on(Server::start(opts))
            .expect("server starts");
        let addr = running.client_addr;
        let stop = Arc::new(AtomicBool::new(false));
        let subs = (0..subscribers)
            .map(|_| Subscriber::start(addr, stop.clone()))
            .collect();
        let publisher = connect(addr, "");
        let body = vec![b'x'; payload];
        let mut one = format!("PUB {SUBJECT} {payload}\r\n").into_bytes();
        one.extend_from_slice(&body);
        one.extend_from_slice(b"\r\n");
        let batch = one.repeat(BATCH);
        let msg_len = format!("MSG {SUBJECT} 1 {payload}\r\n").len() + payload + 2;
        FanOut {
            running: Some(running),
            runtime,
            publisher,
            subscribers: subs,
            stop,
            batch,
            per_batch: (msg_len * BATCH) as u64,
        }
    }

    /// Publishes `batches` batches and waits for every subscriber to have them all.
    fn run(&mut self, batches: u64) -> Duration {
        let targets: Vec<u64> = self
            .subscribers
            .iter()
            .map(|s| s.received.load(Ordering::Relaxed) + self.per_batch * batches)
            .collect();
        let start = Instant::now();
        for _ in 0..batches {
            self.publisher.write_all(&self.batch).expect("publish");
        }
        for (sub, target) in self.subscribers.iter().zip(targets) {
            while sub.received.load(Ordering::Relaxed) < target {
                std::thread::yield_now();
            }
        }
        start.elapsed()
    }
}

impl Drop for FanOut {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for sub in &mut self.subscribers {
            if let Some(thread) = sub.thread.take() {
                let _ = thread.join();
            }
        }
        if let Some(running) = self.running.take() {
            self.runtime.block_on(running.shutdown());
        }
    }
}

fn fan_out(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout");
    group.measurement_time(Duration::from_secs(5));
    for (subscribers, payload) in [(1usize, 16usize), (5, 16), (1, 1024), (5, 1024)] {
        let mut scenario = FanOut::new(subscribers, payload);
        group.throughput(Throughput::Elements((BATCH * subscribers) as u64));
        group.bench_function(format!("{subscribers}_subs_{payload}b"), |b| {
            b.iter_custom(|batches| scenario.run(batches));
        });
    }
    group.finish();
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
