//! The traffic commands end to end: `sub`, `pub`, `request` and `reply` run as
//! the real `gannet` binary against a real server, their output checked line
//! by line against natscli's formats. The core checks also run against the
//! reference nats-server when this machine has it.
//!
//! A running `gannet sub` is only sent messages once the server lists its
//! subscription in `/subsz` (the servers run with monitoring on).

mod common;

use std::time::Duration;

use common::*;
use gannet_test::certs::{tls_block, Pki};

/// Starts `gannet sub ARGS` and waits until the server has a subscription on
/// each of `subjects`.
fn spawn_sub(server: &ServerProcess, args: &[&str], subjects: &[&str]) -> Running {
    let mut command = vec!["sub"];
    command.extend_from_slice(args);
    let running = gannet(&command).server(&server.url()).spawn();
    for subject in subjects {
        wait_for_subscriptions(server, subject, 1);
    }
    running
}

/// Starts `gannet reply ARGS` and waits for its "Listening on" line (logged
/// after a round trip, so the subscription is in place).
fn spawn_reply(url: &str, args: &[&str]) -> Running {
    let mut command = vec!["reply"];
    command.extend_from_slice(args);
    let mut running = gannet(&command).server(url).spawn();
    running.expect_stderr("Listening on");
    running
}

fn publish_ok(url: &str, args: &[&str]) -> Vec<String> {
    let mut command = vec!["pub"];
    command.extend_from_slice(args);
    let run = gannet_at(url, &command);
    run.success();
    log_lines(&run)
}

fn assert_exits_ok(running: Running) -> Vec<String> {
    let (code, rest) = running.wait();
    assert_eq!(code, Some(0), "rest of stdout: {rest:?}");
    rest
}

// ---------------------------------------------------------------- core, both servers

#[test]
fn sub_prints_messages_headers_and_reply_subjects() {
    for binary in all_server_binaries() {
        let server = start_monitored(&binary, None);
        let url = server.url();
        let mut sub = spawn_sub(&server, &["a.>", "b", "--count", "3"], &["a.>", "b"]);
        assert_eq!(
            strip_log_time(&sub.expect_stderr("Subscribing")),
            "Subscribing on a.>, b "
        );

        let logged = publish_ok(&url, &["a.x", "hello"]);
        assert_eq!(logged, [r#"Published 5 bytes to "a.x""#], "{binary}");
        publish_ok(
            &url,
            &["a.y", "-H", "X-A:1", "-H", "B: two {{Count}}", "body\n"],
        );
        publish_ok(&url, &["b", "--reply", "r.1", ""]);

        let lines = sub.next_lines(14);
        let want = [
            r#"[#1] Received on "a.x""#,
            "hello",
            "",
            "",
            r#"[#2] Received on "a.y""#,
            "B: two 1",
            "X-A: 1",
            "",
            "body",
            "",
            r#"[#3] Received on "b" with reply "r.1""#,
            "nil body",
            "",
            "",
        ];
        assert_eq!(lines, want, "{binary}");
        assert_exits_ok(sub);
    }
}

#[test]
fn pub_count_templates_and_sleep() {
    for binary in all_server_binaries() {
        let server = start_monitored(&binary, None);
        let url = server.url();
        let sub = spawn_sub(&server, &["t.*", "--raw", "--count", "3"], &["t.*"]);
        let started = std::time::Instant::now();
        let logged = publish_ok(
            &url,
            &[
                "t.{{Count}}",
                "n={{Count}} {{.Count}}",
                "--count",
                "3",
                "--sleep",
                "50ms",
            ],
        );
        assert!(
            started.elapsed() >= Duration::from_millis(100),
            "{binary}: --sleep ignored"
        );
        assert_eq!(
            logged,
            [
                r#"Published 5 bytes to "t.1""#,
                r#"Published 5 bytes to "t.2""#,
                r#"Published 5 bytes to "t.3""#
            ]
        );
        let mut sub = sub;
        assert_eq!(sub.next_lines(3), ["n=1 1", "n=2 2", "n=3 3"], "{binary}");
        assert_exits_ok(sub);
    }
}

#[test]
fn request_and_reply_with_templates() {
    for binary in all_server_binaries() {
        let server = start_monitored(&binary, None);
        let url = server.url();
        let mut reply = gannet(&[
            "reply",
            "svc.*",
            "hello {{Request}} #{{Count}}",
            "--count",
            "2",
        ])
        .server(&url)
        .spawn();
        assert_eq!(
            strip_log_time(&reply.expect_stderr("Listening")),
            r#"Listening on "svc.*" in group "NATS-RPLY-22""#
        );

        let run = gannet_at(
            &url,
            &["request", "svc.a", "ping", "-H", "X-Req: {{Count}}"],
        );
        assert_eq!(run.success(), "hello ping #0\n\n\n", "{binary}");
        let logged = log_lines(&run);
        assert_eq!(logged[0], r#"Sending request on "svc.a""#);
        assert!(logged[1].starts_with("Received with rtt "), "{logged:?}");
        assert!(logged[1].ends_with('s'), "{logged:?}");
        assert_eq!(logged.len(), 2, "{logged:?}");

        let raw = gannet_at(&url, &["req", "svc.b", "pong", "--raw"]);
        assert_eq!(raw.success(), "hello pong #1\n\n\n");
        assert_eq!(raw.stderr(), "", "--raw logs nothing");

        // The replier printed both requests: a blank line then the body.
        let rest = assert_exits_ok(reply);
        assert_eq!(rest, ["", "ping", "", "pong"], "{binary}");
    }
}

#[test]
fn reply_logs_each_request_with_its_headers() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let mut reply = spawn_reply(&url, &["echo.>", "--count", "1"]);
    let run = gannet_at(&url, &["request", "echo.x", "e", "-H", "Z:z"]);
    run.success();
    reply.expect_stderr(r#"[#0] Received on subject "echo.x":"#);
    assert_eq!(strip_log_time(&reply.expect_stderr("Z")), "Z: z");
    assert_eq!(reply.next_lines(2), ["", "e"]);
    assert_exits_ok(reply);
}

#[test]
fn request_without_responders_is_an_error() {
    for binary in all_server_binaries() {
        let server = start_monitored(&binary, None);
        let run = gannet_at(&server.url(), &["request", "nobody.home", "x"]);
        let line = run.failure();
        assert_eq!(
            line, r#"gannet: error: no responders are available for requests on "nobody.home""#,
            "{binary}"
        );
    }
}

#[test]
fn pub_is_refused_by_permissions() {
    const CONFIG: &str = r#"authorization { users [{user: u, password: p, permissions: {publish: "allowed.>", subscribe: "allowed.>"}}]}"#;
    for binary in all_server_binaries() {
        let server = start_monitored(&binary, Some(CONFIG));
        let url = server.url();
        let denied = gannet(&["pub", "denied.x", "hi", "--user", "u", "--password", "p"])
            .server(&url)
            .run();
        let line = denied.failure();
        assert!(
            line.contains(r#"Permissions Violation for Publish to "denied.x""#),
            "{binary}: {line}"
        );
        assert!(
            !denied.stderr().contains("Published"),
            "{}",
            denied.stderr()
        );

        let allowed = gannet(&["pub", "allowed.x", "hi", "--user", "u", "--password", "p"])
            .server(&url)
            .run();
        allowed.success();
        assert!(allowed
            .stderr()
            .contains(r#"Published 2 bytes to "allowed.x""#));

        let sub = gannet(&["sub", "denied.x", "--user", "u", "--password", "p"])
            .server(&url)
            .run();
        let line = sub.failure();
        assert!(
            line.contains(r#"Permissions Violation for Subscription to "denied.x""#),
            "{binary}: {line}"
        );

        // Requests use inboxes under an allowed prefix, so the refusal is the publish.
        let request = gannet(&[
            "request",
            "denied.svc",
            "x",
            "--user",
            "u",
            "--password",
            "p",
            "--inbox-prefix",
            "allowed.inbox",
        ])
        .server(&url)
        .run();
        let line = request.failure();
        assert!(
            line.contains(r#"Permissions Violation for Publish to "denied.svc""#),
            "{binary}: {line}"
        );
    }
}

#[test]
fn sub_and_pub_with_a_tls_client_certificate() {
    let pki = Pki::temp();
    let client = pki.client("client", "CN=gannet-client");
    let config = tls_block(&pki.server, pki.ca_str(), "verify: true");
    for binary in all_server_binaries() {
        let server = start_monitored(&binary, Some(&config));
        let url = server.url();
        let tls = tls_flags(&client, pki.ca_str());
        let mut sub_args = vec!["sub", "secure", "--count", "1"];
        sub_args.extend_from_slice(&tls);
        let mut sub = gannet(&sub_args).server(&url).spawn();
        wait_for_subscriptions(&server, "secure", 1);

        let mut pub_args = vec!["pub", "secure", "over tls"];
        pub_args.extend_from_slice(&tls);
        gannet(&pub_args).server(&url).run().success();
        assert_eq!(
            sub.next_lines(2),
            [r#"[#1] Received on "secure""#, "over tls"],
            "{binary}"
        );
        assert_exits_ok(sub);

        // Without the client certificate the server refuses the connection.
        let refused = gannet(&["pub", "secure", "x", "--tlsca", pki.ca_str()])
            .server(&url)
            .run();
        refused.failure();
    }
}

// ---------------------------------------------------------------- sub flags

#[test]
fn sub_raw_subjects_only_and_headers_only() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let raw = spawn_sub(&server, &["r", "-r", "--count", "2"], &["r"]);
    let subjects = spawn_sub(&server, &["r", "--subjects-only", "--count", "2"], &["r"]);
    let headers = spawn_sub(&server, &["r", "--headers-only", "--count", "2"], &["r"]);
    wait_for_subscriptions(&server, "r", 3);
    publish_ok(&url, &["r", "-H", "K:v", "one"]);
    publish_ok(&url, &["r", ""]);

    let mut raw = raw;
    assert_eq!(raw.next_lines(2), ["one", "nil body"]);
    assert_exits_ok(raw);
    let mut subjects = subjects;
    assert_eq!(
        subjects.next_lines(2),
        [r#"[#1] Received on "r""#, r#"[#2] Received on "r""#]
    );
    assert_eq!(assert_exits_ok(subjects), Vec::<String>::new());
    let mut headers = headers;
    assert_eq!(
        headers.next_lines(4),
        [
            r#"[#1] Received on "r""#,
            "K: v",
            "",
            r#"[#2] Received on "r""#
        ]
    );
    assert_eq!(assert_exits_ok(headers), Vec::<String>::new());
}

#[test]
fn sub_timestamps_and_delta_times() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let stamped = spawn_sub(&server, &["ts", "-t", "--count", "1"], &["ts"]);
    let delta = spawn_sub(&server, &["ts", "-d", "--count", "1"], &["ts"]);
    wait_for_subscriptions(&server, "ts", 2);
    publish_ok(&url, &["ts", "x"]);

    let mut stamped = stamped;
    let line = stamped.next_line();
    // [#1] @ Nov 21 09:36:19.123456 Received on "ts"
    let rest = line
        .strip_prefix("[#1] @ ")
        .unwrap_or_else(|| panic!("{line}"));
    let (stamp, tail) = rest.split_at(22);
    assert_eq!(tail, r#" Received on "ts""#, "{line}");
    assert_eq!(&stamp[3..4], " ");
    assert_eq!(&stamp[15..16], ".", "{line}");
    assert!(stamp[16..].chars().all(|c| c.is_ascii_digit()), "{line}");
    assert_exits_ok(stamped);

    let mut delta = delta;
    let line = delta.next_line();
    let rest = line
        .strip_prefix("[#1] @ ")
        .unwrap_or_else(|| panic!("{line}"));
    let (elapsed, tail) = rest.split_once(' ').unwrap();
    assert!(elapsed.ends_with('s'), "{line}");
    assert_eq!(tail, r#"Received on "ts""#);
    assert_exits_ok(delta);

    let both = gannet_at(&url, &["sub", "ts", "-t", "-d"]);
    assert!(both.failure().contains("mutually exclusive"));
}

#[test]
fn sub_dumps_json_files_and_null_separated_stdout() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let dump_dir = dir.path().join("dump");
    let dump_arg = dump_dir.to_str().unwrap();
    let to_files = spawn_sub(
        &server,
        &["d.*", "--dump", dump_arg, "--count", "2"],
        &["d.*"],
    );
    let to_stdout = spawn_sub(&server, &["d.*", "--dump", "-", "--count", "2"], &["d.*"]);
    wait_for_subscriptions(&server, "d.*", 2);
    publish_ok(&url, &["d.a", "--reply", "rep", "-H", "K: v<", "hi"]);
    publish_ok(&url, &["d.b", ""]);

    let first =
        r#"{"Subject":"d.a","Reply":"rep","Header":{"K":["v\u003c"]},"Data":"aGk=","Sub":null}"#;
    let second = r#"{"Subject":"d.b","Reply":"","Header":null,"Data":"","Sub":null}"#;
    let mut to_stdout = to_stdout;
    let line = to_stdout.next_line();
    assert_eq!(line, format!("{first}\0{second}\0"));
    assert_exits_ok(to_stdout);
    assert_exits_ok(to_files);
    assert_eq!(
        std::fs::read_to_string(dump_dir.join("1.json")).unwrap(),
        first
    );
    assert_eq!(
        std::fs::read_to_string(dump_dir.join("2.json")).unwrap(),
        second
    );
}

#[test]
fn sub_translates_bodies_through_a_command() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let upper = spawn_sub(
        &server,
        &["tr.*", "--translate", "tr a-z A-Z", "--count", "1"],
        &["tr.*"],
    );
    let subject = spawn_sub(
        &server,
        &[
            "tr.*",
            "-r",
            "--translate",
            "echo {{Subject}}",
            "--count",
            "1",
        ],
        &["tr.*"],
    );
    let failing = spawn_sub(
        &server,
        &[
            "tr.*",
            "--translate",
            "sh -c 'echo bad; exit 3'",
            "--count",
            "1",
        ],
        &["tr.*"],
    );
    wait_for_subscriptions(&server, "tr.*", 3);
    publish_ok(&url, &["tr.x", "shout"]);

    let mut upper = upper;
    assert_eq!(
        upper.next_lines(4),
        [r#"[#1] Received on "tr.x""#, "SHOUT", "", ""]
    );
    assert_exits_ok(upper);
    let mut subject = subject;
    assert_eq!(subject.next_line(), "tr.x");
    assert_exits_ok(subject);
    let mut failing = failing;
    assert_eq!(
        failing.next_lines(3),
        [
            r#"[#1] Received on "tr.x""#,
            r#""bad\n""#,
            "Error while translating msg body: exit status 3"
        ]
    );
    assert_exits_ok(failing);
}

#[test]
fn sub_matches_requests_with_their_replies() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let mut sub = spawn_sub(
        &server,
        &["svc.*", "--match-replies", "--count", "1"],
        &["svc.*", "_INBOX.>"],
    );
    sub.expect_stderr("Matching replies with inbox prefix _INBOX.>");
    let _reply = spawn_reply(&url, &["svc.*", "answer", "--count", "1"]);
    gannet_at(&url, &["request", "svc.q", "question"]).success();

    let header = sub.next_line();
    assert!(
        header.starts_with(r#"[#1] Received on "svc.q" with reply "_INBOX."#),
        "{header}"
    );
    let inbox = header.rsplit('"').nth(1).unwrap().to_string();
    assert_eq!(sub.next_lines(3), ["question", "", ""]);
    assert_eq!(
        sub.next_line(),
        format!("[#1] Matched reply on \"{inbox}\"")
    );
    assert_eq!(sub.next_lines(3), ["answer", "", ""]);
    assert_exits_ok(sub);
}

#[test]
fn sub_on_a_generated_inbox() {
    let server = start_monitored(&server_binary(), None);
    let mut sub = gannet(&["sub", "--inbox", "--count", "1"])
        .server(&server.url())
        .spawn();
    let line = sub.expect_stderr("Subscribing on");
    let inbox = strip_log_time(&line)
        .strip_prefix("Subscribing on ")
        .unwrap()
        .trim()
        .to_string();
    assert!(inbox.starts_with("_INBOX."), "{line}");
    wait_for_subscriptions(&server, &inbox, 1);
    publish_ok(&server.url(), &[&inbox, "to the inbox"]);
    assert_eq!(
        sub.next_lines(2),
        [
            format!("[#1] Received on \"{inbox}\""),
            "to the inbox".into()
        ]
    );
    assert_exits_ok(sub);
}

#[test]
fn sub_queue_groups_share_the_messages() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let mut first = gannet(&["sub", "work", "--queue", "workers", "-r"])
        .server(&url)
        .spawn();
    let mut second = gannet(&["sub", "work", "--queue", "workers", "-r"])
        .server(&url)
        .spawn();
    wait_for_subscriptions(&server, "work", 2);
    publish_ok(
        &url,
        &["work", "job {{Count}}", "--count", "10", "--no-progress"],
    );

    let mut jobs = Vec::new();
    let deadline = std::time::Instant::now() + LINE_TIMEOUT;
    while jobs.len() < 10 && std::time::Instant::now() < deadline {
        for running in [&mut first, &mut second] {
            jobs.extend(running.try_next_line(Duration::from_millis(20)));
        }
    }
    for running in [&mut first, &mut second] {
        jobs.extend(running.try_next_line(Duration::from_millis(200)));
    }
    jobs.sort_by_key(|job| job[4..].parse::<u32>().unwrap());
    let want: Vec<String> = (1..=10).map(|n| format!("job {n}")).collect();
    assert_eq!(jobs, want, "each message goes to one member of the group");
}

#[test]
fn sub_ignores_subjects_and_stops_when_idle() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let mut sub = spawn_sub(
        &server,
        &["i.*", "-I", "i.skip,i.other", "--wait", "2s", "-r"],
        &["i.*"],
    );
    publish_ok(&url, &["i.skip", "skipped"]);
    publish_ok(&url, &["i.keep", "kept"]);
    assert_eq!(sub.next_line(), "kept");
    let started = std::time::Instant::now();
    assert_eq!(assert_exits_ok(sub), Vec::<String>::new());
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn sub_needs_a_subject() {
    let run = gannet_at("nats://127.0.0.1:1", &["sub"]);
    assert_eq!(run.failure(), "gannet: error: subject is required");
}

// ---------------------------------------------------------------- pub flags

#[test]
fn pub_reads_the_body_from_stdin() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let mut sub = spawn_sub(&server, &["in", "-r", "--count", "3"], &["in"]);

    let whole = gannet(&["pub", "in"])
        .server(&url)
        .stdin("all\nof it")
        .run();
    whole.success();
    assert_eq!(
        log_lines(&whole),
        ["Reading payload from STDIN", r#"Published 9 bytes to "in""#]
    );
    let lines = gannet(&["pub", "in", "--send-on", "newline"])
        .server(&url)
        .stdin("one {{Count}}\r\ntwo\n")
        .run();
    lines.success();
    assert_eq!(
        log_lines(&lines),
        [
            "Reading payload from STDIN",
            r#"Published 5 bytes to "in""#,
            r#"Published 3 bytes to "in""#
        ]
    );
    assert_eq!(sub.next_lines(4), ["all", "of it", "one 1", "two"]);
    assert_exits_ok(sub);
}

#[test]
fn pub_template_functions() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let mut sub = spawn_sub(&server, &["tpl", "-r", "--count", "2"], &["tpl"]);
    publish_ok(
        &url,
        &[
            "tpl",
            "{{ID}}|{{Random 5 5}}|{{Unix}}|{{UnixNano}}|{{TimeStamp}}|{{Time}}",
        ],
    );
    publish_ok(&url, &["tpl", "--no-templates", "{{Count}}"]);

    let line = sub.next_line();
    let fields: Vec<&str> = line.split('|').collect();
    assert_eq!(fields.len(), 6, "{line}");
    assert_eq!(fields[0].len(), 22, "NUID: {line}");
    assert_eq!(fields[1].len(), 5, "{line}");
    assert!(fields[1].chars().all(|c| c.is_ascii_alphanumeric()));
    let unix: i64 = fields[2].parse().unwrap();
    let nanos: i128 = fields[3].parse().unwrap();
    assert!(
        (nanos / 1_000_000_000 - i128::from(unix)).abs() <= 1,
        "{line}"
    );
    assert!(
        chrono::DateTime::parse_from_rfc3339(fields[4]).is_ok(),
        "{line}"
    );
    assert!(
        fields[5].ends_with("AM") || fields[5].ends_with("PM"),
        "{line}"
    );
    assert_eq!(sub.next_line(), "{{Count}}");
    assert_exits_ok(sub);
}

#[test]
fn bad_templates_are_one_error_line() {
    let url = "nats://127.0.0.1:1";
    let run = gannet_at(url, &["pub", "x", "{{Nope}}"]);
    assert_eq!(
        run.failure(),
        r#"gannet: error: invalid body template "{{Nope}}": function "Nope" not defined"#
    );
    let run = gannet_at(url, &["pub", "x.{{Count", "y"]);
    assert!(run.failure().contains("unclosed action"));
    let run = gannet_at(url, &["pub", "x", "y", "-H", "K:{{Random 1}}"]);
    assert!(run.failure().contains("wrong number of args for Random"));
    let run = gannet_at(url, &["pub", "x", "y", "-H", "novalue"]);
    assert!(run.failure().contains(r#"invalid header "novalue""#));
    let run = gannet_at(url, &["request", "x", "{{.Nope}}"]);
    assert!(run.failure().contains("can't evaluate field Nope"));
    let run = gannet_at(url, &["reply", "x", "{{Time 1}}"]);
    assert!(run.failure().contains("want 0 got 1"));
}

#[test]
fn pub_large_counts_show_progress_instead_of_lines() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let mut sub = spawn_sub(&server, &["many", "-r", "--count", "60"], &["many"]);

    let quiet = publish_ok(&url, &["many", "m{{Count}}", "--count", "30"]);
    assert_eq!(quiet, Vec::<String>::new(), "the bar replaces the lines");
    let lines = publish_ok(
        &url,
        &["many", "n{{Count}}", "--count", "25", "--no-progress"],
    );
    assert_eq!(lines.len(), 25);
    assert_eq!(lines[24], r#"Published 3 bytes to "many""#);
    let silent = publish_ok(&url, &["many", "q", "-q", "--count", "5"]);
    assert_eq!(silent, Vec::<String>::new());

    let got = sub.next_lines(60);
    assert_eq!(got[0], "m1");
    assert_eq!(got[29], "m30");
    assert_eq!(got[54], "n25");
    assert_eq!(got[59], "q");
    assert_exits_ok(sub);
}

// ---------------------------------------------------------------- request and reply flags

#[test]
fn request_gathers_several_replies() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let _one = spawn_reply(&url, &["multi", "one", "--queue", "q1"]);
    let _two = spawn_reply(&url, &["multi", "two", "--queue", "q2"]);

    let all = gannet_at(
        &url,
        &[
            "request",
            "multi",
            "x",
            "--replies",
            "0",
            "--timeout",
            "1s",
            "-r",
        ],
    );
    let mut bodies: Vec<String> = all
        .success()
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["one", "two"]);

    let two = gannet_at(
        &url,
        &[
            "request",
            "multi",
            "x",
            "--replies",
            "2",
            "--reply-timeout",
            "3s",
        ],
    );
    two.success();
    let received = log_lines(&two)
        .iter()
        .filter(|l| l.starts_with("Received with rtt"))
        .count();
    assert_eq!(received, 2);

    let first = gannet_at(&url, &["request", "multi", "x"]);
    assert_eq!(first.success().lines().filter(|l| !l.is_empty()).count(), 1);
}

#[test]
fn request_count_and_translate() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let _reply = spawn_reply(&url, &["calc", "r{{Count}}:{{Request}}"]);
    let run = gannet_at(
        &url,
        &[
            "request",
            "calc",
            "q{{Count}}",
            "--count",
            "2",
            "--translate",
            "tr a-z A-Z",
        ],
    );
    assert_eq!(run.success(), "R0:Q1\n\n\nR1:Q2\n\n\n");
    let logged = log_lines(&run);
    assert_eq!(
        logged
            .iter()
            .filter(|l| l.starts_with("Sending request"))
            .count(),
        2
    );
}

#[test]
fn request_without_a_reply_times_out_with_an_error() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    // A subscriber that never answers.
    let _silent = spawn_sub(&server, &["quiet.svc"], &["quiet.svc"]);
    let started = std::time::Instant::now();
    let run = gannet_at(&url, &["request", "quiet.svc", "x", "--timeout", "500ms"]);
    assert_eq!(
        run.failure(),
        r#"gannet: error: no reply to the request on "quiet.svc" within 500ms"#
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn reply_echoes_requests_with_a_counter_header() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let _reply = spawn_reply(&url, &["echo", "--echo", "-H", "Extra: e{{Count}}"]);
    let run = gannet_at(&url, &["request", "echo", "same body", "-H", "Orig: o"]);
    assert_eq!(run.success(), "same body\n\n\n");
    let logged = log_lines(&run);
    assert_eq!(
        logged[2..],
        ["Extra: e0", "NATS-Reply-Counter: 0", "Orig: o", ""],
        "{logged:?}"
    );
}

#[test]
fn reply_runs_a_command_per_request() {
    let server = start_monitored(&server_binary(), None);
    let url = server.url();
    let _upper = spawn_reply(&url, &["cmd.upper", "--command", "tr a-z A-Z"]);
    let _tokens = spawn_reply(
        &url,
        &[
            "cmd.echo.*",
            "--command",
            "echo {{2}} {{Request}} {{Count}}",
        ],
    );
    let _env = spawn_reply(
        &url,
        &["cmd.env", "--command", "sh -c 'echo $NATS_REQUEST_SUBJECT'"],
    );

    assert_eq!(
        gannet_at(&url, &["req", "cmd.upper", "loud", "-r"]).success(),
        "LOUD\n\n\n"
    );
    assert_eq!(
        gannet_at(&url, &["req", "cmd.echo.london", "body", "-r"]).success(),
        "london body 0\n\n"
    );
    assert_eq!(
        gannet_at(&url, &["req", "cmd.env", "x", "-r"]).success(),
        "cmd.env\n\n"
    );
}

#[test]
fn reply_is_refused_a_denied_subscription() {
    const CONFIG: &str = r#"authorization { users [{user: u, password: p, permissions: {publish: "allowed.>", subscribe: "allowed.>"}}]}"#;
    let server = start_monitored(&server_binary(), Some(CONFIG));
    let run = gannet(&[
        "reply",
        "denied.svc",
        "x",
        "--user",
        "u",
        "--password",
        "p",
        "--inbox-prefix",
        "allowed.i",
    ])
    .server(&server.url())
    .run();
    let line = run.failure();
    assert!(
        line.contains(r#"Permissions Violation for Subscription to "denied.svc""#),
        "{line}"
    );
}
