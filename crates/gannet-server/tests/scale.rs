//! Many connections: 3,000 clients with ten subscriptions each cost the
//! server at most 9 KiB of resident memory apiece (nats-server 2.15: about
//! 50), and a PING among them is still answered within 10 ms at the 99th
//! percentile. `scripts/scale.py` takes the same measure at 19,000
//! connections; the README has its figures.
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use gannet_test::{reference_server_binary, running_reference, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
const CONNS: usize = 3_000;
const SUBS: usize = 10;
/// Gannet's bound, with room for the noise of a shared machine: the release
/// build measures 7.6 KiB at 19,000 connections.
const MAX_KIB_PER_CONN: f64 = 9.0;

/// Reads lines until one starts with `want`.
fn expect(reader: &mut BufReader<TcpStream>, want: &str) {
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).expect("read");
        assert!(n > 0, "closed while waiting for {want}");
        assert!(!line.starts_with("-ERR"), "{line}");
        if line.starts_with(want) {
            return;
        }
    }
}

/// A client with `SUBS` subscriptions of its own, logged in and answered.
fn client(addr: &str, index: usize) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    expect(&mut reader, "INFO");
    let mut ops = String::from("CONNECT {\"verbose\":false,\"pedantic\":false}\r\n");
    for n in 0..SUBS {
        ops.push_str(&format!("SUB scale.{index}.{n} {n}\r\n"));
    }
    ops.push_str("PING\r\n");
    reader.get_mut().write_all(ops.as_bytes()).unwrap();
    expect(&mut reader, "PONG");
    reader
}

/// KiB per held connection, and the 99th percentile of PING round trips
/// (ms) on one more connection while they are held.
fn measure(binary: &str) -> (f64, f64) {
    let server = ServerProcess::start(binary, &[]);
    std::thread::sleep(Duration::from_millis(500));
    let before = server.resident_kib();
    let held: Vec<_> = (0..CONNS).map(|i| client(&server.addr(), i)).collect();
    std::thread::sleep(Duration::from_secs(1));
    let after = server.resident_kib();
    let per_conn = (after - before) as f64 / CONNS as f64;

    let mut probe = client(&server.addr(), CONNS);
    let mut rtts: Vec<f64> = (0..500)
        .map(|_| {
            let start = Instant::now();
            probe.get_mut().write_all(b"PING\r\n").unwrap();
            expect(&mut probe, "PONG");
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    rtts.sort_by(f64::total_cmp);
    let p99 = rtts[rtts.len() * 99 / 100];
    drop(held);
    eprintln!("{binary}: {CONNS} connections x {SUBS} subscriptions: {per_conn:.2} KiB each, PING p99 {p99:.3} ms");
    (per_conn, p99)
}

#[test]
fn thousands_of_connections_cost_little_and_pings_stay_fast() {
    let (per_conn, p99) = measure(BIN);
    assert!(p99 < 10.0, "PING p99 {p99:.3} ms");
    if running_reference() {
        return;
    }
    assert!(
        per_conn <= MAX_KIB_PER_CONN,
        "{per_conn:.2} KiB per connection"
    );
    if let Some(reference) = reference_server_binary() {
        let (theirs, _) = measure(&reference);
        assert!(
            per_conn * 3.0 < theirs,
            "{per_conn:.2} KiB against nats-server's {theirs:.2}"
        );
    }
}
