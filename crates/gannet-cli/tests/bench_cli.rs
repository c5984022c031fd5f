//! `gannet bench pub|sub|request|reply` against a real server: natscli's
//! banner and summary lines, publishers feeding subscribers in another
//! process, requesters answered by a replier, the CSV file, size forms and the
//! one-line errors for bad flags. `bench connect`: TLS connections with a
//! client certificate, counted by the CLI and by the server, and its errors.
//! `bench js pub|fetch|consume|ordered` against servers with JetStream: the
//! stream they fill and the durable consumer they drain, checked through
//! `stream info` and `consumer info`.

mod common;

use common::terminal::{quote, Tmux};
use common::*;
use gannet_test::certs::{tls_block, CertFiles, Pki};

/// natscli's summary of one client without latencies (a subscriber).
const RATE: &str = "{n} msgs/sec ~ {size}/sec";
/// ... and with them (publishers, requesters).
const RATE_LATENCY: &str = "{n} msgs/sec ~ {size}/sec ~ min: {f}us ~ avg: {f}us ~ max: {f}us ~ P50: {f}us ~ P90: {f}us ~ P99: {f}us ~ P99.9: {f}us";

fn bench(url: &str, args: &[&str]) -> Finished {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    all.push("--no-progress");
    gannet(&all).server(url).run()
}

fn assert_shape(line: &str, pattern: &str) {
    assert!(
        shape_matches(line, pattern),
        "line does not have the expected shape\n    line: {line:?}\n pattern: {pattern:?}"
    );
}

/// The summary's lines: stdout without the blank lines around it.
fn summary(stdout: &str) -> Vec<String> {
    let mut lines: Vec<String> = stdout
        .lines()
        .skip_while(|l| l.is_empty())
        .map(str::to_string)
        .collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

#[test]
fn the_matcher_tells_shapes_apart() {
    assert!(shape_matches("1,234 msgs/sec ~ 1.5 MiB/sec", RATE));
    assert!(!shape_matches("1,234 msgs/sec ~ 1.5 MB/sec", RATE));
    assert!(!shape_matches("x1,234 msgs/sec ~ 1.5 MiB/sec", RATE));
    assert!(shape_matches("2026/11/21 09:36:31 hi", "{date} hi"));
    assert!(!shape_matches("2026-11-21 09:36:31 hi", "{date} hi"));
}

#[test]
fn pub_prints_the_banner_and_natscli_summary() {
    let server = start_server(None);
    let run = bench(
        &server.url(),
        &["pub", "bench.one", "--msgs", "500", "--size", "16"],
    );
    let stdout = run.success();
    let lines = summary(&stdout);
    assert_eq!(lines.len(), 1, "stdout:\n{stdout}");
    assert_shape(
        &lines[0],
        &format!("NATS Core NATS publisher stats: {RATE_LATENCY}"),
    );
    assert!(
        stdout.starts_with('\n'),
        "natscli prints a blank line first:\n{stdout}"
    );

    let stderr = run.stderr();
    let log: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        log[0].split_at(20).1,
        "Starting Core NATS publisher benchmark [clients=1, msg-size=16 B, msgs=500, \
         multi-subject=false, multi-subject-max=100,000, multi-subject-randomize=false, \
         sleep=0s, subject=bench.one]"
    );
    assert_shape(log[0], "{date} Starting {any}");
    assert_shape(
        log[1],
        "{date} [1] Starting Core NATS publisher, publishing 500 messages",
    );
}

#[test]
fn several_publishers_report_each_client_then_the_aggregate() {
    let server = start_server(None);
    let run = bench(
        &server.url(),
        &[
            "pub",
            "bench.many",
            "--msgs",
            "1001",
            "--clients",
            "2",
            "--size",
            "1KiB",
        ],
    );
    let stdout = run.success();
    let lines = summary(&stdout);
    assert_shape(&lines[0], &format!("  [1] {RATE_LATENCY} (501 msgs)"));
    assert_shape(&lines[1], &format!("  [2] {RATE_LATENCY} (500 msgs)"));
    assert_eq!(lines[2], "");
    assert_shape(
        &lines[3],
        &format!(" NATS Core NATS publisher aggregated stats: {RATE}"),
    );
    assert_shape(
        &lines[4],
        " message rates min {n} | avg {n} | max {n} | stddev {n} msgs",
    );
    assert_shape(
        &lines[5],
        " latencies per operation min {f}us | avg {f}us | max {f}us | stddev {f}us | P50 {f}us | P90 {f}us | P99 {f}us | P99.9: {f}us",
    );
    assert!(
        run.stderr().contains("msg-size=1.0 KiB"),
        "{}",
        run.stderr()
    );
}

#[test]
fn sub_receives_what_pub_sends_from_another_process() {
    let server = start_server(None);
    let csv_dir = tempfile::tempdir().unwrap();
    let csv = csv_dir.path().join("sub.csv");
    let mut sub = gannet(&[
        "bench",
        "sub",
        "bench.pair",
        "--msgs",
        "1000",
        "--clients",
        "2",
        "--no-progress",
        "--csv",
        csv.to_str().unwrap(),
    ])
    .server(&server.url())
    .spawn();
    // Each subscriber announces itself once the server has its subscription.
    sub.expect_stderr("[1] Starting Core NATS subscriber, expecting 1,000 messages");
    sub.expect_stderr("[2] Starting Core NATS subscriber, expecting 1,000 messages");

    bench(
        &server.url(),
        &["pub", "bench.pair", "--msgs", "1000", "--size", "64"],
    )
    .success();

    let (code, lines) = sub.wait();
    assert_eq!(code, Some(0), "stdout:\n{}", lines.join("\n"));
    let lines: Vec<String> = lines.into_iter().skip_while(|l| l.is_empty()).collect();
    assert_shape(&lines[0], &format!("  [1] {RATE} (1,000 msgs)"));
    assert_shape(&lines[1], &format!("  [2] {RATE} (1,000 msgs)"));
    assert_shape(
        &lines[3],
        &format!(" NATS Core NATS subscriber aggregated stats: {RATE}"),
    );
    assert!(
        !lines.iter().any(|l| l.contains("latencies")),
        "subscribers measure no latencies:\n{}",
        lines.join("\n")
    );
    assert!(lines
        .iter()
        .any(|l| l == &format!("Saved metric data in csv file {}", csv.display())));
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        rows[0],
        "#RunID,ClientID,MsgCount,MsgBytes,MsgsPerSec,BytesPerSec,DurationSecs"
    );
    assert_eq!(rows.len(), 3, "{text}");
    for (i, row) in rows[1..].iter().enumerate() {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), 7, "{row}");
        assert_eq!(cells[1], format!("S{i}"));
        // 1,000 messages of the publisher's 64 bytes.
        assert_eq!(cells[3], "64000", "{row}");
    }
}

#[test]
fn multisubject_publishers_reach_wildcard_subscribers() {
    let server = start_server(None);
    let mut sub = gannet(&[
        "bench",
        "sub",
        "bench.multi",
        "--multisubject",
        "--msgs",
        "300",
        "--no-progress",
    ])
    .server(&server.url())
    .spawn();
    sub.expect_stderr("subject=bench.multi.*");
    sub.expect_stderr("[1] Starting Core NATS subscriber");
    let run = bench(
        &server.url(),
        &[
            "pub",
            "bench.multi",
            "--multisubject",
            "--multisubjectmax",
            "10",
            "--msgs",
            "300",
        ],
    );
    run.success();
    assert!(run
        .stderr()
        .contains("multi-subject=true, multi-subject-max=10,"));
    let (code, lines) = sub.wait();
    assert_eq!(code, Some(0));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("NATS Core NATS subscriber stats: ")));
}

#[test]
fn requests_answered_by_a_replier_report_latency_percentiles() {
    let server = start_server(None);
    let mut reply = gannet(&["bench", "reply", "bench.svc", "--no-progress"])
        .server(&server.url())
        .spawn();
    reply.expect_stderr("[1] Starting Core NATS service server, hit control-c to stop");

    let run = bench(&server.url(), &["request", "bench.svc", "--msgs", "200"]);
    let lines = summary(&run.success());
    assert_shape(
        &lines[0],
        &format!("NATS Core NATS service requester stats: {RATE_LATENCY}"),
    );

    // natscli's own name for it, with two clients: the aggregate has the
    // latency spread.
    let run = bench(
        &server.url(),
        &[
            "service",
            "request",
            "bench.svc",
            "--msgs",
            "100",
            "--clients",
            "2",
        ],
    );
    let lines = summary(&run.success());
    assert_shape(&lines[0], &format!("  [1] {RATE_LATENCY} (50 msgs)"));
    assert_shape(
        &lines[5],
        " latencies per operation min {f}us | avg {f}us | max {f}us | stddev {f}us | P50 {f}us | P90 {f}us | P99 {f}us | P99.9: {f}us",
    );
}

#[test]
fn requests_without_a_replier_fail_with_one_line() {
    let server = start_server(None);
    let run = bench(&server.url(), &["request", "bench.nobody", "--msgs", "5"]);
    let line = run.failure();
    assert!(line.contains("no responders on bench.nobody"), "{line}");
}

#[test]
fn csv_has_natscli_header_and_a_row_per_client() {
    let server = start_server(None);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("pub.csv");
    let run = bench(
        &server.url(),
        &[
            "pub",
            "bench.csv",
            "--msgs",
            "200",
            "--clients",
            "2",
            "--size",
            "10",
            "--csv",
            csv.to_str().unwrap(),
        ],
    );
    let stdout = run.success();
    assert!(
        stdout.ends_with(&format!(
            "Saved metric data in csv file {}\n",
            csv.display()
        )),
        "{stdout}"
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "#RunID",
            "ClientID",
            "MsgCount",
            "MsgBytes",
            "MsgsPerSec",
            "BytesPerSec",
            "DurationSecs",
            "MinLatencyMicroSecs",
            "AvgLatencyMicroSecs",
            "MaxLatencyMicroSecs",
            "P50LatencyMicroSecs",
            "P90LatencyMicroSecs",
            "P99LatencyMicroSecs",
            "P99.9LatencyMicroSecs",
            "StdDevLatencyMicroSecs",
        ]
    );
    assert_eq!(rows.len(), 3, "{text}");
    assert_eq!(rows[1][0], rows[2][0], "one run id for the run");
    assert_eq!(rows[1][0].len(), 22, "a NUID: {}", rows[1][0]);
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(row.len(), 15);
        assert_eq!(row[1], format!("P{i}"));
        assert!(
            row[2].parse::<u64>().unwrap() >= 100,
            "messages counted: {row:?}"
        );
        assert_eq!(row[3], "1000", "100 messages of 10 bytes: {row:?}");
        for cell in &row[5..] {
            let (_, fraction) = cell.split_once('.').unwrap();
            assert_eq!(fraction.len(), 6, "Go's %f: {cell}");
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&csv).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn sizes_take_natscli_forms() {
    let server = start_server(None);
    for (size, shown) in [
        ("16", "16 B"),
        ("1KB", "1.0 KiB"),
        ("1KiB", "1.0 KiB"),
        ("2k", "2.0 KiB"),
    ] {
        let run = bench(
            &server.url(),
            &["pub", "bench.size", "--msgs", "10", "--size", size],
        );
        run.success();
        assert!(
            run.stderr().contains(&format!("msg-size={shown},")),
            "--size {size}: {}",
            run.stderr()
        );
    }
}

#[test]
fn bad_flags_are_one_clear_error_line() {
    let server = start_server(None);
    let line = bench(&server.url(), &["pub", "bench.bad", "--size", "12XB"]).failure();
    assert_eq!(
        line,
        "gannet: error: can not parse or invalid the value specified for the message size: 12XB"
    );
    let line = bench(&server.url(), &["pub", "bench.bad", "--size", "0"]).failure();
    assert!(line.contains("message size: 0"), "{line}");
    let line = bench(&server.url(), &["pub", "bench.bad", "--msgs", "0"]).failure();
    assert_eq!(
        line,
        "gannet: error: number of messages should be greater than 0"
    );
    let line = bench(
        &server.url(),
        &["pub", "bench.bad", "--size", "2MiB", "--msgs", "1"],
    )
    .failure();
    assert!(
        line.contains("larger than the server's maximum payload of 1.0 MiB"),
        "{line}"
    );
    let line = bench(&server.url(), &["pub", "bench.bad", "--duration", "1s"]).failure();
    assert_eq!(
        line,
        "gannet: error: --duration requires --throughput to be set"
    );
}

#[test]
fn throughput_and_duration_set_the_message_count() {
    let server = start_server(None);
    let run = bench(
        &server.url(),
        &[
            "pub",
            "bench.paced",
            "--throughput",
            "200",
            "--duration",
            "500ms",
        ],
    );
    let stdout = run.success();
    // 200 msgs/s for half a second: 100 messages, paced.
    assert!(run.stderr().contains("msgs=100,"), "{}", run.stderr());
    assert!(run.stderr().contains("throughput=200"), "{}", run.stderr());
    let rate: String = summary(&stdout)[0]
        .trim_start_matches("NATS Core NATS publisher stats: ")
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(|c| *c != ',')
        .collect();
    let rate: u64 = rate.parse().unwrap();
    assert!(rate <= 260, "paced to about 200 msgs/s, got {rate}");
}

#[test]
fn pub_runs_against_every_server() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, None);
        let run = bench(
            &server.url(),
            &["pub", "bench.every", "--msgs", "300", "--clients", "3"],
        );
        let stdout = run.success();
        let lines = summary(&stdout);
        assert_shape(&lines[0], &format!("  [1] {RATE_LATENCY} (100 msgs)"));
        assert_shape(&lines[2], &format!("  [3] {RATE_LATENCY} (100 msgs)"));
        assert_shape(
            &lines[4],
            &format!(" NATS Core NATS publisher aggregated stats: {RATE}"),
        );
    }
}

/// On a terminal each client gets a progress bar, left at 100% with
/// "Finished" when it is done, and the summary follows below the bars.
#[test]
fn progress_bars_on_a_terminal() {
    if !Tmux::available() {
        eprintln!("note: tmux is not installed; skipping the progress bar test");
        return;
    }
    let server = start_server(None);
    let home = tempfile::tempdir().unwrap();
    let command = [
        "env".to_string(),
        "-i".to_string(),
        format!("HOME={}", home.path().display()),
        "PATH=/usr/bin:/bin".to_string(),
        gannet_binary().display().to_string(),
        "--no-context".to_string(),
        "--server".to_string(),
        server.url(),
        "bench".to_string(),
        "pub".to_string(),
        "bench.bars".to_string(),
        "--clients".to_string(),
        "2".to_string(),
        "--msgs".to_string(),
        "200000".to_string(),
        "--size".to_string(),
        "16".to_string(),
    ]
    .iter()
    .map(|a| quote(a))
    .collect::<Vec<_>>()
    .join(" ");
    let script = format!("{command}; echo \"bench exited with $?\"; sleep 120");
    let tmux = Tmux::start(120, 40, &script);
    let screen = tmux.wait_for(
        "the end of the run",
        std::time::Duration::from_secs(30),
        |screen| screen.contains("bench exited with"),
    );
    assert!(screen.contains("bench exited with 0"), "{screen}");
    let bars: Vec<&str> = screen
        .lines()
        .filter(|l| l.starts_with("Finished") && l.trim_end().ends_with("100%"))
        .collect();
    assert_eq!(bars.len(), 2, "one finished bar per client:\n{screen}");
    let bars_end = screen.rfind("100%").unwrap();
    let summary_at = screen
        .find("NATS Core NATS publisher aggregated stats:")
        .unwrap_or_else(|| panic!("no summary:\n{screen}"));
    assert!(
        summary_at > bars_end,
        "the summary is not below the bars:\n{screen}"
    );
}

/// `bench connect --tlscert .. --tlskey .. --tlsca ..` as `who`.
fn bench_connect(url: &str, pki: &Pki, who: &CertFiles, args: &[&str]) -> Finished {
    let mut all = vec!["bench", "connect", "--no-progress"];
    all.extend_from_slice(args);
    all.extend_from_slice(&tls_flags(who, pki.ca_str()));
    gannet(&all).server(url).run()
}

/// A number of `/varz` (`connections`, `total_connections`).
fn varz_number(server: &ServerProcess, field: &str) -> u64 {
    let (_, body) = server.http_get("/varz");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    json[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field} in /varz: {body}"))
}

/// Each connection is a TLS handshake with the client certificate, CONNECT
/// and PING/PONG, then a close: the summary counts them per client, the
/// server counts as many, and none stays open.
#[test]
fn connect_opens_and_closes_tls_connections_with_a_client_certificate() {
    let pki = Pki::temp();
    let client = pki.client("bench", "CN=bench");
    let config = tls_block(&pki.server, pki.ca_str(), "verify: true");
    for binary in all_server_binaries() {
        let server = start_monitored(&binary, Some(&config));
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("connect.csv");
        let run = bench_connect(
            &server.url(),
            &pki,
            &client,
            &[
                "--msgs",
                "25",
                "--clients",
                "3",
                "--csv",
                csv.to_str().unwrap(),
            ],
        );
        let stdout = run.success();
        let lines = summary(&stdout);
        const CONN_RATE: &str = "{n} conns/sec ~ min: {f}us ~ avg: {f}us ~ max: {f}us ~ P50: {f}us ~ P90: {f}us ~ P99: {f}us ~ P99.9: {f}us";
        assert_shape(&lines[0], &format!("  [1] {CONN_RATE} (9 conns)"));
        assert_shape(&lines[1], &format!("  [2] {CONN_RATE} (8 conns)"));
        assert_shape(&lines[2], &format!("  [3] {CONN_RATE} (8 conns)"));
        assert_eq!(lines[3], "");
        assert_shape(
            &lines[4],
            " NATS Core NATS connector aggregated stats: {n} conns/sec",
        );
        assert_shape(
            &lines[5],
            " connection rates min {n} | avg {n} | max {n} | stddev {n} conns",
        );
        assert_shape(
            &lines[6],
            " latencies per connection min {f}us | avg {f}us | max {f}us | stddev {f}us | P50 {f}us | P90 {f}us | P99 {f}us | P99.9: {f}us",
        );
        let log: Vec<String> = run.stderr().lines().map(str::to_string).collect();
        assert_shape(
            &log[0],
            "{date} Starting Core NATS connector benchmark [clients=3, connections=25]",
        );
        assert_shape(
            &log[1],
            "{date} [1] Starting Core NATS connector, opening 9 connections",
        );

        // The CSV has one row per client; together they made all 25.
        let text = std::fs::read_to_string(&csv).unwrap();
        let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
        assert_eq!(
            rows[0][..5],
            [
                "#RunID",
                "ClientID",
                "ConnCount",
                "ConnsPerSec",
                "DurationSecs"
            ]
        );
        assert_eq!(rows.len(), 4, "{text}");
        let made: u64 = rows[1..].iter().map(|r| r[2].parse::<u64>().unwrap()).sum();
        assert_eq!(made, 25, "{text}");
        assert_eq!(rows[3][1], "C2");

        // The server saw exactly those connections, and each was closed.
        assert_eq!(varz_number(&server, "total_connections"), 25, "{binary}");
        let deadline = std::time::Instant::now() + LINE_TIMEOUT;
        while varz_number(&server, "connections") > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "{binary}: connections left open: {}",
                server.http_get("/connz").1
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

#[test]
fn connect_errors_are_one_line() {
    // Nothing listens on the port: the first connection fails and ends the run.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("nats://127.0.0.1:{port}");
    let run = bench(&url, &["connect", "--msgs", "5"]);
    assert_eq!(
        run.failure(),
        format!(
            "gannet: error: could not connect to {url}: connection refused (is the server running?)"
        )
    );
    assert_eq!(run.stdout(), "", "no summary after a failure");
    // With several clients the line says which one failed.
    let line = bench(&url, &["connect", "--msgs", "5", "--clients", "2"]).failure();
    assert!(
        line.starts_with("gannet: error: client number ")
            && line.contains("failed to connect (connection 1 of its ")
            && line.ends_with("connection refused (is the server running?)"),
        "{line}"
    );

    // A certificate from another CA is refused in the TLS handshake.
    let pki = Pki::temp();
    let server = start_server(Some(&tls_block(&pki.server, pki.ca_str(), "verify: true")));
    let stranger = pki.foreign("stranger", "CN=stranger");
    let run = bench_connect(&server.url(), &pki, &stranger, &["--msgs", "5"]);
    let line = run.failure();
    assert!(
        line.starts_with(&format!(
            "gannet: error: TLS connection to {} failed: the server refused the client certificate",
            server.url()
        )),
        "{line}"
    );
    assert_eq!(run.stdout(), "", "no summary after a failure");

    let line = bench(&server.url(), &["connect", "--msgs", "0"]).failure();
    assert_eq!(
        line,
        "gannet: error: number of connections should be greater than 0"
    );
}

/// The labelled value of a columns report: `Messages: 3` → `3`.
fn value<'a>(report: &'a str, label: &str) -> &'a str {
    let wanted = format!("{label}: ");
    report
        .lines()
        .find_map(|line| line.trim_start().strip_prefix(wanted.as_str()))
        .unwrap_or_else(|| panic!("no {label:?} in:\n{report}"))
}

/// The log lines of a run without Go's date prefix.
fn js_log(run: &Finished) -> Vec<String> {
    run.stderr()
        .lines()
        .map(|line| {
            assert_shape(line, "{date} {any}");
            line[20..].to_string()
        })
        .collect()
}

#[test]
fn js_pub_fills_the_stream_and_fetch_drains_it() {
    for binary in gannet_test::with_reference(&server_binary()) {
        let server = start_jetstream(&binary);
        let url = server.url();

        let run = bench(
            &url,
            &[
                "js", "pub", "async", "bench.js", "--create", "--msgs", "300", "--batch", "50",
                "--size", "64",
            ],
        );
        let lines = summary(&run.success());
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_shape(
            &lines[0],
            &format!("NATS JetStream asynchronous publisher stats: {RATE_LATENCY}"),
        );
        let log = js_log(&run);
        assert_eq!(
            log[0],
            "Starting JetStream asynchronous publisher benchmark [batch=50, clients=1, \
             dedup-window=2m0s, deduplication=false, max-bytes=1,073,741,824, msg-size=64 B, \
             msgs=300, multi-subject=false, multi-subject-max=100,000, \
             multi-subject-randomize=false, purge=false, replicas=1, sleep=0s, storage=file, \
             stream=benchstream, subject=bench.js]"
        );
        assert_eq!(log[1], "Using stream: benchstream");
        assert_eq!(
            log[2],
            "[1] Starting JetStream asynchronous publisher, publishing 300 messages"
        );
        let info = gannet_at(&url, &["stream", "info", "benchstream"]).success();
        assert_eq!(value(&info, "Subjects"), "bench.js");
        assert_eq!(value(&info, "Discard Policy"), "New");
        assert_eq!(value(&info, "Maximum Bytes"), "1.0 GiB");
        assert_eq!(value(&info, "Messages"), "300");

        // Synchronous, the short form, two clients.
        let run = bench(
            &url,
            &[
                "js",
                "pub",
                "bench.js",
                "--sync",
                "--msgs",
                "100",
                "--clients",
                "2",
            ],
        );
        let lines = summary(&run.success());
        assert_shape(&lines[0], &format!("  [1] {RATE_LATENCY} (50 msgs)"));
        assert_shape(
            &lines[3],
            &format!(" NATS JetStream synchronous publisher aggregated stats: {RATE}"),
        );
        assert!(run.stderr().contains("[batch=0, clients=2, msg-size=128 B"));
        let info = gannet_at(&url, &["stream", "info", "benchstream"]).success();
        assert_eq!(value(&info, "Messages"), "400");

        let run = bench(&url, &["js", "fetch", "--msgs", "400", "--batch", "100"]);
        let lines = summary(&run.success());
        assert_shape(
            &lines[0],
            &format!("NATS JetStream durable consumer (fetch) stats: {RATE_LATENCY}"),
        );
        let log = js_log(&run);
        assert_eq!(
            log[0],
            "Starting JetStream durable consumer (fetch) benchmark [acks=explicit, batch=100, \
             clients=1, consumer=nats-bench, double-acked=false, msg-size=128 B, msgs=400, \
             purge=false, sleep=0s, stream=benchstream]"
        );
        assert_eq!(
            log[1],
            "[1] Starting JetStream durable consumer (fetch), expecting 400 messages"
        );
        let info = gannet_at(&url, &["consumer", "info", "benchstream", "nats-bench"]).success();
        assert!(
            value(&info, "Last Delivered Message")
                .starts_with("Consumer sequence: 400 Stream sequence: 400"),
            "{info}"
        );
        assert_eq!(value(&info, "Unprocessed Messages"), "0");
        assert_eq!(value(&info, "Outstanding Acks"), "0 out of maximum 100");
    }
}

#[test]
fn js_ordered_and_consume_read_the_stream() {
    for binary in gannet_test::with_reference(&server_binary()) {
        let server = start_jetstream(&binary);
        let url = server.url();
        bench(
            &url,
            &[
                "js", "pub", "sync", "bench.o", "--create", "--stream", "ORD", "--msgs", "200",
            ],
        )
        .success();

        // Each ordered consumer reads every message.
        let run = bench(
            &url,
            &["js", "ordered", "ORD", "--msgs", "200", "--clients", "2"],
        );
        let lines = summary(&run.success());
        assert_shape(&lines[0], &format!("  [1] {RATE} (200 msgs)"));
        assert_shape(&lines[1], &format!("  [2] {RATE} (200 msgs)"));
        assert_shape(
            &lines[3],
            &format!(" NATS JetStream ordered ephemeral consumer aggregated stats: {RATE}"),
        );

        // The durable consumer's messages are shared out.
        let run = bench(
            &url,
            &[
                "js",
                "consume",
                "--stream",
                "ORD",
                "--msgs",
                "200",
                "--clients",
                "2",
            ],
        );
        let lines = summary(&run.success());
        assert_shape(&lines[0], &format!("  [1] {RATE} (100 msgs)"));
        assert_shape(
            &lines[3],
            &format!(" NATS JetStream durable consumer (callback) aggregated stats: {RATE}"),
        );
        let info = gannet_at(&url, &["consumer", "info", "ORD", "nats-bench"]).success();
        assert_eq!(value(&info, "Unprocessed Messages"), "0");
    }
}

#[test]
fn js_bench_refuses_what_it_does_not_do() {
    let server = start_jetstream(&server_binary());
    let url = server.url();
    let line = bench(&url, &["js", "pub", "fast", "bench.x"]).failure();
    assert!(line.contains("not supported by gannet bench"), "{line}");
    let line = bench(&url, &["js", "pub", "sync", "bench.x", "--batch", "5"]).failure();
    assert!(
        line.contains("--batch is for asynchronous publishing"),
        "{line}"
    );
    // natscli flags left out are refused, not ignored.
    let run = bench(&url, &["js", "pub", "bench.x", "--persistasync"]);
    assert_ne!(run.code(), Some(0));
    assert!(run.stderr().contains("--persistasync"), "{}", run.stderr());
    // Without --create the stream must exist.
    let line = bench(&url, &["js", "pub", "bench.x", "--msgs", "10"]).failure();
    assert_eq!(
        line,
        "gannet: error: could not access stream benchstream: stream not found (10059)"
    );
    let line = bench(&url, &["js", "fetch", "NOPE", "--msgs", "10"]).failure();
    assert_eq!(
        line,
        "gannet: error: creating the durable consumer 'nats-bench': stream not found (10059)"
    );
}
