//! A reload puts accounts, their users and their imports and exports in
//! force at once: a connected client uses an import the reload added, over
//! the connection it already had, and the clients of an account the reload
//! removed are closed while everyone else stays.
use std::process::Command;

use gannet_test::{RawClient, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

const BEFORE: &str = r#"
http_port: -1
accounts {
  A: { users: [ {user: a, password: a} ] }
}
"#;

const WITH_B: &str = r#"
http_port: -1
accounts {
  A: {
    users: [ {user: a, password: a} ]
    imports: [
      {stream: {account: B, subject: "events.>"}, prefix: "b"}
      {service: {account: B, subject: "svc.time"}}
    ]
  }
  B: {
    users: [ {user: b, password: b} ]
    exports: [ {stream: "events.>"}, {service: "svc.time"} ]
  }
}
"#;

fn login(s: &ServerProcess, user: &str) -> RawClient {
    let mut c = RawClient::connect_with(
        &s.addr(),
        &format!(
            r#"{{"verbose":false,"pedantic":false,"headers":true,"user":"{user}","pass":"{user}"}}"#
        ),
    );
    c.expect_before_pong(b"");
    c
}

/// Rewrites the config file, signals a reload and waits until it is in force.
fn reload(s: &ServerProcess, config: &str, count: usize) {
    std::fs::write(s.config_path(), config).unwrap();
    let out = Command::new(BIN)
        .args(["--signal", &format!("reload={}", s.pid())])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.log().matches("Reloaded server configuration").count() < count {
        assert!(
            std::time::Instant::now() < deadline,
            "no reload: {}",
            s.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn accounts(s: &ServerProcess) -> Vec<String> {
    let (_, body) = s.http_get("/accountz");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_reload_adds_an_account_and_imports_a_connected_client_uses_at_once() {
    let s = ServerProcess::start_with_config(BIN, Some(BEFORE), &[]);
    let mut a = login(&s, "a");
    a.send(b"SUB b.events.> 1\r\nSUB _INBOX.a.* 2\r\n");
    a.expect_before_pong(b"");
    let mut refused =
        RawClient::connect_with(&s.addr(), r#"{"verbose":false,"user":"b","pass":"b"}"#);
    refused.expect_closed_after(b"-ERR 'Authorization Violation'\r\n");

    reload(&s, WITH_B, 1);
    assert!(accounts(&s).contains(&"B".to_string()));
    let mut b = login(&s, "b");
    b.send(b"SUB svc.time 1\r\n");
    b.expect_before_pong(b"");
    // The stream import: what B publishes reaches A under the prefix.
    b.send(b"PUB events.x 5\r\nhello\r\n");
    b.expect_before_pong(b"");
    a.expect_before_pong(b"MSG b.events.x 1 5\r\nhello\r\n");
    // The service import: A's request reaches B's responder, with the
    // requester's account in `Nats-Request-Info` as the reference adds it,
    // and the reply comes back to A's inbox.
    a.send(b"PUB svc.time _INBOX.a.1 3\r\nnow\r\n");
    let line = b.read_line();
    assert!(line.starts_with("HMSG svc.time 1 _R_."), "{line}");
    let reply = line.split(' ').nth(3).unwrap().to_string();
    assert_eq!(b.read_line(), "NATS/1.0\r\n");
    let info = b.read_line();
    assert!(
        info.starts_with(r#"Nats-Request-Info: {"acc":"A","rtt":"#),
        "{info}"
    );
    assert_eq!(b.read_line(), "\r\n");
    assert_eq!(b.read_line(), "now\r\n");
    b.send(format!("PUB {reply} 4\r\nnoon\r\n").as_bytes());
    b.expect_before_pong(b"");
    a.expect_before_pong(b"MSG _INBOX.a.1 2 4\r\nnoon\r\n");

    // Removing B closes B's client; A's connection stays.
    reload(&s, BEFORE, 2);
    b.expect_closed_after(b"-ERR 'Authorization Violation'\r\n");
    assert!(!accounts(&s).contains(&"B".to_string()));
    a.send(b"PUB _INBOX.a.2 2\r\nok\r\n");
    a.expect_before_pong(b"MSG _INBOX.a.2 2 2\r\nok\r\n");
}
