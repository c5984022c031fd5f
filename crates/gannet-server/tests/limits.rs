//! Limits and health: max_payload, max_connections, max_subscriptions, stale
//! connections found by PINGs, and slow consumers cut without harming others.
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use gannet_test::{RawClient, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
const QUIET: &str = r#"{"verbose":false,"pedantic":false}"#;

#[test]
fn max_subscriptions_refuses_more_but_keeps_the_connection() {
    let s = ServerProcess::start_with_config(
        BIN,
        Some("max_subscriptions: 2\nmax_payload: 100\n"),
        &[],
    );
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    assert!(c.info.contains(r#""max_payload":100"#), "{}", c.info);
    c.send(b"SUB a 1\r\nSUB b 2\r\nSUB c 3\r\n");
    c.expect(b"-ERR 'maximum subscriptions exceeded'\r\n");
    c.expect_before_pong(b"");
    let payload = "x".repeat(100);
    c.send(format!("PUB a 100\r\n{payload}\r\n").as_bytes());
    c.expect(format!("MSG a 1 100\r\n{payload}\r\n").as_bytes());
    c.send(b"PUB a 101\r\n");
    c.expect_closed_after(b"-ERR 'Maximum Payload Violation'\r\n");
}

#[test]
fn max_connections_sends_info_then_error_then_closes() {
    let s = ServerProcess::start_with_config(BIN, Some("max_connections: 1\n"), &[]);
    let mut first = RawClient::connect_with(&s.addr(), QUIET);
    first.expect_before_pong(b"");
    let mut second = s.raw();
    second.expect_closed_after(b"-ERR 'maximum connections exceeded'\r\n");
    first.expect_before_pong(b"");
}

#[test]
fn silent_client_is_pinged_then_closed_as_stale() {
    let s =
        ServerProcess::start_with_config(BIN, Some("ping_interval: \"1s\"\nping_max: 2\n"), &[]);
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    let start = Instant::now();
    c.expect(b"PING\r\n");
    c.expect(b"PING\r\n");
    c.expect_closed_after(b"-ERR 'Stale Connection'\r\n");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(2500) && took < Duration::from_secs(6),
        "{took:?}"
    );
}

#[test]
fn client_answering_pings_stays() {
    let s =
        ServerProcess::start_with_config(BIN, Some("ping_interval: \"300ms\"\nping_max: 1\n"), &[]);
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    for _ in 0..4 {
        c.expect(b"PING\r\n");
        c.send(b"PONG\r\n");
    }
    c.expect_before_pong(b"");
}

#[test]
fn slow_consumer_is_cut_and_others_keep_receiving() {
    let s = ServerProcess::start_with_config(
        BIN,
        Some("max_pending: 4MB\nmax_payload: 65536\n"),
        &["-m", "-1"],
    );
    // A subscriber that never reads.
    let mut slow = RawClient::connect_with(&s.addr(), QUIET);
    slow.send(b"SUB data 1\r\n");
    slow.expect_before_pong(b"");
    // A healthy subscriber.
    let mut good = RawClient::connect_with(&s.addr(), QUIET);
    good.send(b"SUB data 2\r\n");
    good.expect_before_pong(b"");

    let mut publisher = TcpStream::connect(s.addr()).unwrap();
    publisher
        .write_all(format!("CONNECT {QUIET}\r\n").as_bytes())
        .unwrap();
    let payload = vec![b'x'; 32 * 1024];
    let mut frame = b"PUB data 32768\r\n".to_vec();
    frame.extend_from_slice(&payload);
    frame.extend_from_slice(b"\r\n");
    // Enough to fill the slow client's socket buffers and then max_pending.
    let good_reader = std::thread::spawn(move || {
        let mut got = 0usize;
        let deadline = Instant::now() + Duration::from_secs(20);
        while got < 800 * frame_len() && Instant::now() < deadline {
            got += good.read_for(Duration::from_millis(200)).len();
        }
        got
    });
    for _ in 0..800 {
        publisher.write_all(&frame).unwrap();
    }
    let received = good_reader.join().unwrap();
    assert_eq!(
        received,
        800 * frame_len(),
        "the healthy subscriber missed messages"
    );

    let (_, varz) = s.http_get("/varz");
    let varz: serde_json::Value = serde_json::from_str(&varz).unwrap();
    assert_eq!(varz["slow_consumers"], 1, "{varz}");
    assert!(slow.read_for(Duration::from_secs(3)).len() < 800 * frame_len());
    assert!(slow.is_closed());
}

fn frame_len() -> usize {
    "MSG data 2 32768\r\n".len() + 32768 + 2
}

#[test]
fn write_deadline_cuts_a_client_whose_socket_stays_full() {
    let s = ServerProcess::start_with_config(
        BIN,
        Some("write_deadline: \"500ms\"\nmax_pending: 512MB\nmax_payload: 65536\n"),
        &["-m", "-1"],
    );
    let mut stuck = RawClient::connect_with(&s.addr(), QUIET);
    stuck.send(b"SUB data 1\r\n");
    stuck.expect_before_pong(b"");
    let mut publisher = TcpStream::connect(s.addr()).unwrap();
    publisher
        .write_all(format!("CONNECT {QUIET}\r\n").as_bytes())
        .unwrap();
    let mut frame = b"PUB data 65536\r\n".to_vec();
    frame.extend_from_slice(&[b'y'; 65536]);
    frame.extend_from_slice(b"\r\n");
    // Far more than the socket buffers hold: the writer blocks and stays blocked.
    for _ in 0..400 {
        publisher.write_all(&frame).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut cut = false;
    while Instant::now() < deadline {
        let (_, varz) = s.http_get("/varz");
        let varz: serde_json::Value = serde_json::from_str(&varz).unwrap();
        if varz["slow_consumers"] == 1 && varz["connections"] == 1 {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(cut, "the stuck client was not cut: {}", s.log());
    // The publisher is unharmed.
    publisher.write_all(b"PING\r\n").unwrap();
    let mut pubc = publisher;
    pubc.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("PONG") {
        let n = std::io::Read::read(&mut pubc, &mut buf).unwrap();
        assert!(n > 0, "publisher closed");
        got.extend_from_slice(&buf[..n]);
    }
}
