//! Shutdown waits for every task the server started: a client with a deep
//! queue gets all of it before its connection closes, an HTTP connection is
//! closed after its request, and when `shutdown` returns nothing is left
//! running.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use gannet_server::{Options, Server};

const MESSAGES: usize = 20_000;
const PAYLOAD: usize = 1024;

/// Connects, says CONNECT plus `extra`, and waits for the PONG of a PING.
fn connect(addr: &str, extra: &str) -> (TcpStream, BufReader<TcpStream>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("INFO "), "{line}");
    let hello = format!("CONNECT {{\"verbose\":false,\"pedantic\":false}}\r\n{extra}PING\r\n");
    stream.write_all(hello.as_bytes()).unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "PONG\r\n");
    (stream, reader)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_connections_http_and_loops() {
    let opts = Options {
        host: "127.0.0.1".into(),
        port: -1,
        http_port: Some(-1),
        ..Options::default()
    };
    let running = Server::start(opts).await.unwrap();
    let addr = running.client_addr.to_string();
    let http = running.http_addr.unwrap();

    // A subscriber that reads slowly: most of what it is sent is still queued
    // in the server when shutdown begins.
    let (_sub, mut sub_reader) = connect(&addr, "SUB deep 1\r\n");
    let reader = std::thread::spawn(move || {
        let mut total = 0usize;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            std::thread::sleep(Duration::from_millis(1));
            match sub_reader.read(&mut buf) {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
        }
    });
    let (mut publisher, mut pub_reader) = connect(&addr, "");
    let payload = vec![b'x'; PAYLOAD];
    let mut batch = Vec::new();
    for _ in 0..MESSAGES {
        batch.extend_from_slice(format!("PUB deep {PAYLOAD}\r\n").as_bytes());
        batch.extend_from_slice(&payload);
        batch.extend_from_slice(b"\r\n");
    }
    batch.extend_from_slice(b"PING\r\n");
    publisher.write_all(&batch).unwrap();
    let mut line = String::new();
    pub_reader.read_line(&mut line).unwrap();
    assert_eq!(
        line, "PONG\r\n",
        "every message is in the subscriber's queue"
    );

    // An HTTP connection kept alive after its first request.
    let mut web = TcpStream::connect(http).unwrap();
    web.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    web.write_all(b"GET /varz HTTP/1.1\r\nHost: gannet\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    web.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");

    assert!(
        running.server.running_tasks() >= 4,
        "connections, HTTP, loops"
    );
    tokio::time::timeout(Duration::from_secs(20), running.shutdown())
        .await
        .expect("shutdown within 20 s");
    assert_eq!(
        running.server.running_tasks(),
        0,
        "a task outlived shutdown"
    );

    // The subscriber got every message before its connection closed.
    let received = reader.join().unwrap();
    let line_len = format!("MSG deep 1 {PAYLOAD}\r\n").len();
    assert_eq!(received, MESSAGES * (line_len + PAYLOAD + 2));
    // The HTTP connection was closed, not left open.
    let mut rest = Vec::new();
    let _ = web.read_to_end(&mut rest);
    assert!(web.read(&mut [0u8; 1]).map_or(true, |n| n == 0));
}
