//! Throughput across a route: a raw-socket publisher on one server of a
//! cluster and a raw-socket subscriber on another, so the numbers measure the
//! servers (parse, route, deliver), not a client library.
//!
//! ```text
//! route_bench --pub 127.0.0.1:4222 --sub 127.0.0.1:4223 [-n 2000000] [--size 16]
//! ```
//!
//! The subscriber subscribes to `bench.>`; the publisher sends warm-up
//! messages on `bench.warm` until the subscriber has one (interest crossed
//! the route), then `-n` messages on `bench.data` in 64 KiB writes. Prints
//! one JSON line: messages received, seconds from the first data message to
//! the last, messages per second. Used by `scripts/bench-route.sh`.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    publish: String,
    subscribe: String,
    count: u64,
    size: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        publish: String::new(),
        subscribe: String::new(),
        count: 2_000_000,
        size: 16,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--pub" => args.publish = value,
            "--sub" => args.subscribe = value,
            "-n" => args.count = value.parse().map_err(|e| format!("-n: {e}"))?,
            "--size" => args.size = value.parse().map_err(|e| format!("--size: {e}"))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.publish.is_empty() || args.subscribe.is_empty() {
        return Err("--pub and --sub are required".into());
    }
    Ok(args)
}

/// Connects, reads INFO, sends CONNECT and `extra`, and waits for the PONG.
fn connect(addr: &str, extra: &str) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut writer = stream.try_clone()?;
    writer.write_all(
        format!("CONNECT {{\"verbose\":false,\"pedantic\":false}}\r\n{extra}PING\r\n").as_bytes(),
    )?;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.starts_with("PONG") {
            break;
        }
    }
    Ok(stream)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("route_bench: {e}");
            std::process::exit(2);
        }
    };
    let sub = connect(&args.subscribe, "SUB bench.> 1\r\n").expect("subscriber connects");
    let warm = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicU64::new(0));
    let (count, size) = (args.count, args.size);
    let (warm_seen, got) = (warm.clone(), received.clone());
    let reader = std::thread::spawn(move || subscriber(sub, count, size, &warm_seen, &got));

    let mut publisher = connect(&args.publish, "").expect("publisher connects");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !warm.load(Ordering::Acquire) {
        assert!(
            Instant::now() < deadline,
            "interest never crossed the route"
        );
        publisher.write_all(b"PUB bench.warm 1\r\nw\r\n").unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut frame = format!("PUB bench.data {size}\r\n").into_bytes();
    frame.extend(std::iter::repeat_n(b'x', size));
    frame.extend_from_slice(b"\r\n");
    let per_batch = (65536 / frame.len()).max(1);
    let batch: Vec<u8> = frame.repeat(per_batch);
    let mut left = count;
    while left > 0 {
        let n = left.min(per_batch as u64) as usize;
        publisher.write_all(&batch[..n * frame.len()]).unwrap();
        left -= n as u64;
    }
    let (got, secs) = reader.join().expect("subscriber thread");
    println!(
        "{{\"received\":{got},\"seconds\":{secs:.4},\"msgs_per_sec\":{:.0}}}",
        got as f64 / secs.max(1e-9)
    );
}

/// Counts `bench.data` messages until `count` came or the stream stalls;
/// returns how many and the seconds from the first to the last.
fn subscriber(
    mut stream: TcpStream,
    count: u64,
    size: usize,
    warm: &AtomicBool,
    got: &AtomicU64,
) -> (u64, f64) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let data_line = b"MSG bench.data 1 ";
    let mut buf = vec![0u8; 1 << 20];
    let mut pending: Vec<u8> = Vec::new();
    let (mut n, mut first, mut last) = (0u64, None, Instant::now());
    while n < count {
        let read = match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(r) => r,
        };
        pending.extend_from_slice(&buf[..read]);
        let mut at = 0;
        // Whole messages only: a control line, then its payload and CR LF.
        while let Some(nl) = pending[at..].iter().position(|b| *b == b'\n') {
            let line = &pending[at..at + nl + 1];
            let payload = if line.starts_with(b"MSG ") {
                let digits = line[..line.len() - 2]
                    .rsplit(|b| *b == b' ')
                    .next()
                    .unwrap_or(b"0");
                std::str::from_utf8(digits)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            } else {
                at += nl + 1;
                continue;
            };
            let end = at + nl + 1 + payload + 2;
            if end > pending.len() {
                break;
            }
            if line.starts_with(data_line) && payload == size {
                n += 1;
                last = Instant::now();
                first.get_or_insert(last);
            } else {
                warm.store(true, Ordering::Release);
            }
            at = end;
        }
        pending.drain(..at);
        got.store(n, Ordering::Relaxed);
    }
    let secs = first.map_or(0.0, |f| last.duration_since(f).as_secs_f64());
    (n, secs)
}
