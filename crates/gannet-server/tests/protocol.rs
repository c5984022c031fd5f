//! The client protocol over raw TCP, case by case as the reference behaves
//! (docs/PROTOCOL.md): framing, every op, verbose and
//! pedantic replies, and the errors that close or keep a connection.
use std::time::Duration;

use gannet_test::{RawClient, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
const QUIET: &str = r#"{"verbose":false,"pedantic":false}"#;

fn server() -> ServerProcess {
    ServerProcess::start(BIN, &[])
}

#[test]
fn info_has_the_fields_clients_read() {
    let s = server();
    let c = s.raw();
    assert!(
        c.info.ends_with("} \r\n"),
        "INFO ends with space CR LF: {:?}",
        c.info
    );
    let json: serde_json::Value = serde_json::from_str(&c.info[5..c.info.len() - 3]).unwrap();
    for key in [
        "server_id",
        "server_name",
        "version",
        "proto",
        "host",
        "port",
        "headers",
        "max_payload",
        "client_id",
        "client_ip",
    ] {
        assert!(json.get(key).is_some(), "INFO lacks {key}: {json}");
    }
    assert_eq!(json["max_payload"], 1048576);
    assert_eq!(json["port"], s.port);
    assert_eq!(json["headers"], true);
    assert_eq!(json["server_id"].as_str().unwrap().len(), 56);
    assert!(json.get("auth_required").is_none());
}

#[test]
fn verbose_connect_then_async_info_after_first_pong() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), r#"{"verbose":true,"protocol":1}"#);
    c.expect(b"+OK\r\n");
    c.send(b"PING\r\n");
    c.expect(b"PONG\r\n");
    let info = c.read_line();
    assert!(
        info.starts_with("INFO {") && info.contains(r#""connect_info":true"#),
        "{info}"
    );
    assert!(info.contains(r#""remote_account":"$G""#), "{info}");
    c.send(b"PING\r\n");
    c.expect(b"PONG\r\n");
}

#[test]
fn empty_connect_defaults_to_verbose_and_pedantic() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), "{}");
    c.expect(b"+OK\r\n");
    c.send(b"SUB a 1\r\n");
    c.expect(b"+OK\r\n");
    c.send(b"PUB a.* 0\r\n\r\n");
    c.expect(b"-ERR 'Invalid Publish Subject'\r\n+OK\r\n");
    c.expect_before_pong(b"");
}

#[test]
fn ops_are_case_insensitive_with_tabs_and_bare_lf() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    c.send(b"sub\tfoo  1\r\n");
    c.send(b"pub foo\t 2\r\nhi\r\n");
    c.expect(b"MSG foo 1 2\r\nhi\r\n");
    c.send(b"Ping\n");
    c.expect(b"PONG\r\n");
}

#[test]
fn msg_framing_with_reply_and_queue() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    c.send(b"SUB foo 1\r\nSUB foo q1 2\r\n");
    c.send(b"PUB foo bar.reply 5\r\nhello\r\n");
    let got = c.read_for(Duration::from_millis(300));
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.contains("MSG foo 1 bar.reply 5\r\nhello\r\n"),
        "{text}"
    );
    assert!(
        text.contains("MSG foo 2 bar.reply 5\r\nhello\r\n"),
        "{text}"
    );
    c.send(b"PUB foo 4\r\n\r\n\r\n\r\n");
    let got = c.read_for(Duration::from_millis(300));
    assert_eq!(got.len(), 2 * "MSG foo 1 4\r\n\r\n\r\n\r\n".len());
}

#[test]
fn sid_is_opaque_and_a_reused_sid_is_ignored() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    c.send(b"SUB a abc\r\nSUB b abc\r\nPUB a 1\r\nx\r\n");
    c.expect(b"MSG a abc 1\r\nx\r\n");
    c.send(b"PUB b 1\r\ny\r\n");
    c.expect_before_pong(b"");
}

#[test]
fn unsub_with_max_ends_after_that_many_messages() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    c.send(b"SUB a 1\r\nUNSUB 1 2\r\n");
    c.send(b"PUB a 1\r\n1\r\nPUB a 1\r\n2\r\nPUB a 1\r\n3\r\nPING\r\n");
    c.expect(b"MSG a 1 1\r\n1\r\nMSG a 1 1\r\n2\r\nPONG\r\n");
}

#[test]
fn unsub_max_already_reached_zero_unknown_and_non_numeric() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    c.send(b"SUB a 1\r\nPUB a 1\r\n1\r\nPUB a 1\r\n2\r\n");
    c.expect(b"MSG a 1 1\r\n1\r\nMSG a 1 1\r\n2\r\n");
    c.send(b"UNSUB 1 1\r\nPUB a 1\r\n3\r\nPING\r\n");
    c.expect(b"PONG\r\n");
    c.send(b"SUB b 2\r\nUNSUB 2 0\r\nPUB b 1\r\n4\r\nPING\r\n");
    c.expect(b"PONG\r\n");
    c.send(b"UNSUB 99\r\nPING\r\n");
    c.expect(b"PONG\r\n");
    c.send(b"SUB c 3\r\nUNSUB 3 x\r\nPUB c 1\r\n5\r\nPING\r\n");
    c.expect(b"PONG\r\n");
}

#[test]
fn echo_off_suppresses_own_messages() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), r#"{"verbose":false,"echo":false}"#);
    c.send(b"SUB a 1\r\nPUB a 1\r\nx\r\n");
    c.expect_before_pong(b"");
}

#[test]
fn verbose_acks_connect_sub_pub_unsub_but_not_ping() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), r#"{"verbose":true}"#);
    c.expect(b"+OK\r\n");
    c.send(b"SUB a 1\r\n");
    c.expect(b"+OK\r\n");
    c.send(b"PUB a 1\r\nx\r\n");
    c.expect(b"+OK\r\nMSG a 1 1\r\nx\r\n");
    c.send(b"UNSUB 1\r\n");
    c.expect(b"+OK\r\n");
    c.send(b"PING\r\n");
    c.expect(b"PONG\r\n");
}

#[test]
fn headers_pass_through_and_are_dropped_for_old_clients() {
    let s = server();
    let hdr = r#"{"verbose":false,"pedantic":false,"headers":true,"no_responders":true}"#;
    let mut h = RawClient::connect_with(&s.addr(), hdr);
    let mut old = RawClient::connect_with(&s.addr(), QUIET);
    h.send(b"SUB h 1\r\n");
    old.send(b"SUB h 9\r\n");
    h.expect_before_pong(b"");
    old.expect_before_pong(b"");
    h.send(b"HPUB h rep.1 24 29\r\nNATS/1.0\r\nA: 1\r\nB: 2\r\n\r\nhello\r\n");
    h.expect(b"HMSG h 1 rep.1 24 29\r\nNATS/1.0\r\nA: 1\r\nB: 2\r\n\r\nhello\r\n");
    old.expect(b"MSG h 9 rep.1 5\r\nhello\r\n");
    h.send(b"HPUB h 7 8\r\nFOO\r\n\r\nx\r\n");
    h.expect(b"HMSG h 1 7 8\r\nFOO\r\n\r\nx\r\n");
}

/// One message fans out to literal and wildcard subscriptions, to clients with and
/// without headers, with no reply, a short and a long reply: every receiver gets
/// its own sid and sizes on one shared line end (`gannet_proto::msg_line`).
#[test]
fn each_receiver_of_a_fan_out_gets_its_own_line() {
    let s = server();
    let hdr = r#"{"verbose":false,"pedantic":false,"headers":true}"#;
    let mut literal = RawClient::connect_with(&s.addr(), hdr);
    let mut wildcard = RawClient::connect_with(&s.addr(), hdr);
    let mut old = RawClient::connect_with(&s.addr(), QUIET);
    let mut star_in_token = RawClient::connect_with(&s.addr(), QUIET);
    literal.send(b"SUB a.b 1\r\n");
    wildcard.send(b"SUB a.* 22\r\n");
    old.send(b"SUB a.b 333\r\n");
    star_in_token.send(b"SUB a.b* 4\r\n");
    for c in [&mut literal, &mut wildcard, &mut old, &mut star_in_token] {
        c.expect_before_pong(b"");
    }

    literal.send(b"PUB a.b 2\r\nhi\r\n");
    literal.expect(b"MSG a.b 1 2\r\nhi\r\n");
    wildcard.expect(b"MSG a.b 22 2\r\nhi\r\n");
    old.expect(b"MSG a.b 333 2\r\nhi\r\n");

    let long_reply = format!("_INBOX.{}", "r".repeat(120));
    for reply in ["rep.1", long_reply.as_str()] {
        literal.send(format!("HPUB a.b {reply} 12 14\r\nNATS/1.0\r\n\r\nhi\r\n").as_bytes());
        literal.expect(format!("HMSG a.b 1 {reply} 12 14\r\nNATS/1.0\r\n\r\nhi\r\n").as_bytes());
        wildcard.expect(format!("HMSG a.b 22 {reply} 12 14\r\nNATS/1.0\r\n\r\nhi\r\n").as_bytes());
        old.expect(format!("MSG a.b 333 {reply} 2\r\nhi\r\n").as_bytes());
    }

    // `a.b*` is a literal subject: only a publish to `a.b*` itself reaches it.
    literal.send(b"PUB a.b* 3\r\nabc\r\n");
    star_in_token.expect(b"MSG a.b* 4 3\r\nabc\r\n");
    wildcard.expect(b"MSG a.b* 22 3\r\nabc\r\n");
    for c in [&mut literal, &mut old, &mut star_in_token, &mut wildcard] {
        c.expect_before_pong(b"");
    }
}

#[test]
fn no_responders_sends_503_to_the_requester() {
    let s = server();
    let hdr = r#"{"verbose":false,"pedantic":false,"headers":true,"no_responders":true}"#;
    let mut c = RawClient::connect_with(&s.addr(), hdr);
    c.send(b"SUB _INBOX.x 1\r\nPUB nobody _INBOX.x 0\r\n\r\n");
    c.expect(b"HMSG _INBOX.x 1 38 38\r\nNATS/1.0 503\r\nNats-Subject: nobody\r\n\r\n\r\n");
    c.send(b"PUB nobody 0\r\n\r\n");
    c.expect_before_pong(b"");
    c.send(b"HPUB nobody _INBOX.x 18 20\r\nNATS/1.0\r\nX: y\r\n\r\nhi\r\n");
    c.expect(b"HMSG _INBOX.x 1 38 38\r\nNATS/1.0 503\r\nNats-Subject: nobody\r\n\r\n\r\n");
}

#[test]
fn hpub_without_headers_support_closes_silently() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    c.send(b"HPUB h 12 13\r\nNATS/1.0\r\n\r\nx\r\n");
    c.expect_closed_after(b"");
}

#[test]
fn no_responders_without_headers_is_refused() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), r#"{"no_responders":true}"#);
    c.expect_closed_after(b"-ERR 'no responders requires headers support'\r\n");
}

#[test]
fn invalid_subscribe_subjects_are_refused_and_the_connection_stays() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    for bad in ["foo..bar", "foo.>.bar", ".foo", "foo."] {
        c.send(format!("SUB {bad} 1\r\n").as_bytes());
        c.expect(b"-ERR 'Invalid Subject'\r\n");
    }
    c.send(b"SUB f*o 5\r\nSUB foo.*bar 6\r\nSUB > 7\r\nSUB *.* 8\r\n");
    c.expect_before_pong(b"");
}

#[test]
fn wildcard_publish_is_literal_and_invalid_publish_is_dropped() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    c.send(b"SUB > 1\r\nPUB foo.* 2\r\nhi\r\n");
    c.expect(b"MSG foo.* 1 2\r\nhi\r\n");
    c.send(b"PUB foo..bar 2\r\nhi\r\n");
    c.expect_before_pong(b"");
}

#[test]
fn pedantic_publish_errors_but_still_delivers_wildcards() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), r#"{"verbose":false,"pedantic":true}"#);
    c.send(b"SUB > 1\r\nPUB foo.* 2\r\nhi\r\n");
    c.expect(b"-ERR 'Invalid Publish Subject'\r\nMSG foo.* 1 2\r\nhi\r\n");
    c.send(b"PUB foo..bar 2\r\nhi\r\n");
    c.expect(b"-ERR 'Invalid Publish Subject'\r\n");
    c.expect_before_pong(b"");
}

#[test]
fn fatal_protocol_errors_send_the_reference_text_then_close() {
    let s = server();
    let cases: &[(&[u8], &[u8])] = &[
        (b"FOO bar\r\n", b"-ERR 'Unknown Protocol Operation'\r\n"),
        (
            b"MSG foo 1 1\r\nx\r\n",
            b"-ERR 'Unknown Protocol Operation'\r\n",
        ),
        (b"\r\n", b"-ERR 'Unknown Protocol Operation'\r\n"),
        (
            b"PUB foo 3\r\nhello\r\n",
            b"-ERR 'Unknown Protocol Operation'\r\n",
        ),
        (b"PUB a 1\r\nx\n", b"-ERR 'Unknown Protocol Operation'\r\n"),
        (b"UNSUB\r\n", b"-ERR 'Unknown Protocol Operation'\r\n"),
        (
            b"PUB foo 1048577\r\n",
            b"-ERR 'Maximum Payload Violation'\r\n",
        ),
    ];
    for (send, want) in cases {
        let mut c = RawClient::connect_with(&s.addr(), QUIET);
        c.send(send);
        c.expect_closed_after(want);
    }
}

#[test]
fn short_payload_waits_then_fails_on_the_terminator() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    c.send(b"PUB foo 7\r\nhello\r\n");
    assert!(c.read_for(Duration::from_millis(200)).is_empty());
    c.send(b"PING\r\n");
    c.expect_closed_after(b"-ERR 'Unknown Protocol Operation'\r\n");
}

#[test]
fn malformed_pub_and_sub_close_without_error() {
    let s = server();
    let cases: &[&[u8]] = &[
        b"PUB foo abc\r\nhello\r\n",
        b"PUB foo -1\r\n\r\n",
        b"PUB foo\r\n",
        b"PUB foo a b 1\r\nx\r\n",
        b"SUB a\r\n",
        b"SUB a b c d\r\n",
        b"CONNECT {bad json}\r\n",
        b"CONNECT\r\n",
        b"-ERR 'x'\r\n",
    ];
    for send in cases {
        let mut c = RawClient::connect(&s.addr());
        c.send(send);
        c.expect_closed_after(b"");
    }
}

#[test]
fn control_line_limit_is_on_the_arguments() {
    let s = server();
    let subject = "a".repeat(4094);
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    c.send(format!("SUB {subject} 1\r\n").as_bytes());
    c.expect_before_pong(b"");
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    c.send(format!("SUB {subject}a 1\r\n").as_bytes());
    c.expect_closed_after(b"-ERR 'maximum control line exceeded'\r\n");
}

#[test]
fn endless_control_line_is_cut_without_waiting_for_its_end() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    c.send(b"SUB ");
    c.send(&vec![b'a'; 8192]);
    c.expect_closed_after(b"-ERR 'maximum control line exceeded'\r\n");
}

#[test]
fn connect_protocol_checks() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), r#"{"protocol":2}"#);
    c.expect_closed_after(b"-ERR 'invalid client protocol'\r\n");
    let mut c = RawClient::connect_with(&s.addr(), r#"{"foo":1,"verbose":true}"#);
    c.expect(b"+OK\r\n");
    c.expect_before_pong(b"");
}

#[test]
fn ops_before_connect_work_without_auth_and_second_connect_replaces() {
    let s = server();
    let mut c = s.raw();
    c.send(b"SUB a 1\r\n");
    c.expect(b"+OK\r\n");
    c.send(b"PUB a 1\r\nx\r\n");
    c.expect(b"+OK\r\nMSG a 1 1\r\nx\r\n");
    c.send(format!("CONNECT {QUIET}\r\nCONNECT {{\"verbose\":true}}\r\n").as_bytes());
    c.expect(b"+OK\r\n");
}

#[test]
fn client_info_ok_and_pong_are_ignored_and_ping_args_too() {
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    c.send(b"INFO {}\r\n+OK\r\nPONG\r\nPING foo\r\n");
    c.expect(b"PONG\r\n");
    c.send(b"PINGX\r\n");
    c.expect(b"PONG\r\n");
}

#[test]
fn every_split_of_a_pipeline_gives_the_same_replies() {
    let s = server();
    let want: &[u8] = b"MSG s 1 r 5\r\nhello\r\nMSG s 2 r 5\r\nhello\r\nHMSG s 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\nHMSG s 2 12 14\r\nNATS/1.0\r\n\r\nhi\r\nMSG s 2 2\r\nok\r\nPONG\r\n";
    // One queue group per connection: the previous connection may still be
    // closing, and a shared group could give a message to its member instead.
    let pipeline = |cut: usize| {
        format!("SUB s 1\r\nSUB s q{cut:03} 2\r\nPUB s r 5\r\nhello\r\nHPUB s 12 14\r\nNATS/1.0\r\n\r\nhi\r\nUNSUB 1\r\nPUB s 2\r\nok\r\nPING\r\n")
    };
    for cut in 1..pipeline(0).len() {
        let stream = pipeline(cut);
        let stream = stream.as_bytes();
        let mut c = RawClient::connect_with(
            &s.addr(),
            r#"{"verbose":false,"pedantic":false,"headers":true}"#,
        );
        c.send(&stream[..cut]);
        c.stream().set_nodelay(true).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        c.send(&stream[cut..]);
        c.expect(want);
    }
}

#[test]
fn reserved_reply_subjects_are_refused_and_the_client_stays() {
    // The reference keeps `_R_.` (service import replies), `$JS.ACK.`
    // (JetStream acknowledgements) and `_GR_.` (gateway replies) for itself:
    // a client may not publish with one as its reply subject, whatever its
    // permissions. The message goes nowhere; other replies are fine.
    let s = server();
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    c.send(b"SUB foo 1\r\n");
    for reply in ["_R_.abc", "$JS.ACK.x", "_GR_.x.y"] {
        c.send(format!("PUB foo {reply} 1\r\nx\r\n").as_bytes());
        c.expect_before_pong(
            format!("-ERR 'Permissions Violation for Publish with Reply of \"{reply}\"'\r\n")
                .as_bytes(),
        );
    }
    for reply in ["$GNR.a.b", "_R_", "_R_X.y", "$JS.ACK", "_INBOX.x"] {
        c.send(format!("PUB foo {reply} 1\r\nx\r\n").as_bytes());
        c.expect_before_pong(format!("MSG foo 1 {reply} 1\r\nx\r\n").as_bytes());
    }
}
