//! `gannet top` against a real server with named client connections: the
//! frames it prints when stdout is not a terminal, the `--output` snapshot,
//! its errors, and the live full-screen view driven through tmux (the screen
//! read back with `capture-pane`, keys sent with `send-keys`).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::terminal::{quote, Tmux};
use common::*;
use gannet_test::reference::SEED_CONFIG;
use gannet_test::RawClient;

const SYSTEM_USER: [&str; 4] = ["--user", "admin", "--password", "changeit"];

/// A client of the USERS account with a name `top` should show, one
/// subscription and the PONG that proves the server has both.
fn named_client(server: &ServerProcess, name: &str) -> RawClient {
    let connect = format!(
        r#"{{"verbose":false,"pedantic":false,"user":"a","pass":"a","name":"{name}","lang":"raw","version":"9.9"}}"#
    );
    let mut client = RawClient::connect_with(&server.addr(), &connect);
    client.send(format!("SUB top.{name} 1\r\n").as_bytes());
    client.expect_before_pong(b"");
    client
}

fn top(server: &ServerProcess, args: &[&str]) -> Finished {
    let mut all: Vec<&str> = SYSTEM_USER.to_vec();
    all.push("top");
    all.extend_from_slice(args);
    gannet(&all).server(&server.url()).run()
}

#[test]
fn frames_show_the_header_and_the_named_connections_on_every_server() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, Some(SEED_CONFIG));
        let _alpha = named_client(&server, "top-alpha");
        let _beta = named_client(&server, "top-beta");
        let run = top(&server, &["--count", "2", "--interval", "200ms"]);
        let stdout = run.success();
        assert_eq!(
            stdout.matches("NATS server version ").count(),
            2,
            "two frames, one after the other:\n{stdout}"
        );
        let lines: Vec<&str> = stdout.lines().collect();
        assert!(
            shape_matches(lines[0], "NATS server version {word} (uptime: {word})"),
            "{}",
            lines[0]
        );
        assert_eq!(lines[1], "Server: gannet-ref");
        assert!(shape_matches(lines[2], "  ID:   N{word}"), "{}", lines[2]);
        assert!(
            shape_matches(
                lines[3],
                "  Load: CPU:  {f}%  Memory: {word}  Slow Consumers: {n}"
            ),
            "{}",
            lines[3]
        );
        for (line, direction) in [(lines[4], "In:  "), (lines[5], "Out: ")] {
            assert!(
                shape_matches(
                    line,
                    &format!("  {direction} Msgs: {{word}}  Bytes: {{word}}  Msgs/Sec: {{f}}  Bytes/Sec: {{word}}")
                ),
                "{line}"
            );
        }
        assert!(
            shape_matches(
                lines[6],
                "  Conns: Current: {n}  Total: {n}  Subscriptions: {n}"
            ),
            "{}",
            lines[6]
        );
        assert!(
            shape_matches(lines[8], "Connections Polled: {n}"),
            "{}",
            lines[8]
        );
        assert!(lines[9].starts_with("  HOST "), "{}", lines[9]);
        for title in [
            "CID",
            "NAME",
            "SUBS",
            "PENDING",
            "MSGS_TO",
            "MSGS_FROM",
            "BYTES_TO",
            "BYTES_FROM",
            "LANG",
            "VERSION",
            "UPTIME",
            "LAST_ACTIVITY",
        ] {
            assert!(lines[9].contains(title), "{title} in {}", lines[9]);
        }
        for name in ["top-alpha", "top-beta"] {
            let row = lines
                .iter()
                .find(|l| l.contains(name))
                .unwrap_or_else(|| panic!("no row for {name} ({binary}):\n{stdout}"));
            assert!(
                shape_matches(row, &format!("  127.0.0.1:{{n}}  {{n}} {{any}}{name} {{any}}raw {{any}}9.9 {{any}} +0000 UTC")),
                "{row}"
            );
        }
    }
}

#[test]
fn output_saves_a_delimited_snapshot() {
    let server = start_server(Some(SEED_CONFIG));
    let _alpha = named_client(&server, "top-alpha");
    let stdout = top(
        &server,
        &[
            "--output",
            "-",
            "--delimiter",
            ";",
            "--sort",
            "subs",
            "--subs",
        ],
    )
    .success();
    assert!(stdout.starts_with("NATS server version;"), "{stdout}");
    assert!(
        stdout.contains("\nHOST;CID;NAME;SUBS;PENDING;MSGS_TO;MSGS_FROM;BYTES_TO;BYTES_FROM;LANG;VERSION;UPTIME;LAST_ACTIVITY;SUBSCRIPTIONS\n"),
        "{stdout}"
    );
    let row = stdout
        .lines()
        .find(|l| l.contains(";top-alpha;"))
        .expect("alpha's row");
    assert!(
        row.ends_with(";top.top-alpha"),
        "its subscription last: {row}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snapshot.txt");
    top(&server, &["-o", file.to_str().unwrap()]).success();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("top-alpha") && text.contains("Connections Polled: "),
        "{text}"
    );
}

#[test]
fn top_needs_the_system_account() {
    let server = start_server(Some(SEED_CONFIG));
    let run = gannet(&["--user", "a", "--password", "a", "top", "--count", "1"])
        .server(&server.url())
        .run();
    assert_eq!(
        run.failure(),
        "gannet: error: initial test request failed: no results received, ensure the account used has system privileges and appropriate permissions"
    );
}

#[test]
fn an_unknown_server_name_is_one_error_line() {
    let server = start_server(Some(SEED_CONFIG));
    let run = top(
        &server,
        &["no-such-server", "--count", "1", "--timeout", "1s"],
    );
    assert_eq!(
        run.failure(),
        "gannet: error: initial test request failed: no server named \"no-such-server\" answered within 1s"
    );
    // The right name works.
    top(&server, &["gannet-ref", "--count", "1"]).success();
}

/// `Msgs/Sec` of the `In:` line on the screen.
fn in_rate(screen: &str) -> Option<f64> {
    let line = screen.lines().find(|l| l.trim_start().starts_with("In:"))?;
    let rest = line.split("Msgs/Sec: ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

/// The terminal flags `stty -a` printed, each with or without its `-`.
fn stty_flags(screen: &str) -> Vec<String> {
    screen
        .split(|c: char| c.is_whitespace() || c == ';')
        .map(str::to_string)
        .collect()
}

#[test]
fn the_live_view_in_a_terminal_refreshes_takes_keys_and_restores_the_terminal() {
    if !Tmux::available() {
        eprintln!("note: tmux is not installed; skipping the terminal test of `gannet top`");
        return;
    }
    let server = start_server(Some(SEED_CONFIG));
    let alpha = named_client(&server, "top-alpha");
    let _beta = named_client(&server, "top-beta");
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
        "--user".to_string(),
        "admin".to_string(),
        "--password".to_string(),
        "changeit".to_string(),
        "top".to_string(),
        "--interval".to_string(),
        "300ms".to_string(),
    ]
    .iter()
    .map(|a| quote(a))
    .collect::<Vec<_>>()
    .join(" ");
    let script = format!("{command}; echo \"top exited with $?\"; stty -a; sleep 120");
    let tmux = Tmux::start(160, 40, &script);

    let screen = tmux.wait_for(
        "the header and both connections",
        Duration::from_secs(15),
        |s| s.contains("NATS server version") && s.contains("top-alpha") && s.contains("top-beta"),
    );
    assert!(screen.contains("Server: gannet-ref"), "{screen}");
    assert!(screen.contains("Connections Polled: "), "{screen}");
    assert_eq!(
        tmux.pane("alternate_on"),
        "1",
        "top draws on the alternate screen"
    );
    assert_eq!(
        tmux.pane("cursor_flag"),
        "0",
        "the cursor is hidden while top runs"
    );
    let before = in_rate(&screen).expect("an In: rate");
    assert!(before < 200.0, "hardly any traffic yet: {before}\n{screen}");

    // Traffic from alpha: the In rate climbs.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let stop = stop.clone();
        let mut alpha = alpha;
        std::thread::spawn(move || {
            let batch = "PUB top.nowhere 5\r\nhello\r\n".repeat(200);
            while !stop.load(Ordering::Relaxed) {
                alpha.send(batch.as_bytes());
                std::thread::sleep(Duration::from_millis(20));
            }
            alpha
        })
    };
    let screen = tmux.wait_for("the In rate rising", Duration::from_secs(15), |s| {
        in_rate(s).is_some_and(|rate| rate >= 1000.0)
    });
    stop.store(true, Ordering::Relaxed);
    let _alpha = traffic.join().unwrap();
    assert!(screen.contains("top-alpha"), "{screen}");

    // Space shows per-second rates in the table.
    tmux.send_keys(&["Space"]);
    tmux.wait_for("the rates mode", Duration::from_secs(5), |s| {
        s.contains("(rates per second)")
    });
    // `o` asks for a sort key.
    tmux.send_keys(&["o"]);
    tmux.wait_for("the sort prompt", Duration::from_secs(5), |s| {
        s.contains("sort by [cid]:")
    });
    tmux.send_keys(&["m", "s", "g", "s", "_", "f", "r", "o", "m", "Enter"]);
    // The server sorts by messages from the client, most first: alpha, with
    // all the traffic, heads the table.
    tmux.wait_for("alpha first by msgs_from", Duration::from_secs(5), |s| {
        let mut lines = s.lines().skip_while(|l| !l.starts_with("  HOST "));
        lines.next();
        !s.contains("sort by [") && lines.next().is_some_and(|row| row.contains("top-alpha"))
    });

    tmux.send_keys(&["q"]);
    // `stty -a` runs after top: its flags show the terminal top left behind.
    let screen = tmux.wait_for(
        "top exiting and stty's report",
        Duration::from_secs(10),
        |s| s.contains("top exited with") && s.contains("icanon") && s.contains("isig"),
    );
    assert!(screen.contains("top exited with 0"), "{screen}");
    assert!(
        !screen.contains("NATS server version"),
        "the view is gone with the alternate screen:\n{screen}"
    );
    assert_eq!(tmux.pane("alternate_on"), "0");
    assert_eq!(tmux.pane("cursor_flag"), "1", "the cursor is back");
    let flags = stty_flags(&screen);
    for flag in ["icanon", "echo", "isig"] {
        assert!(
            flags.iter().any(|f| f == flag),
            "{flag} restored:\n{screen}"
        );
        assert!(
            !flags.iter().any(|f| *f == format!("-{flag}")),
            "-{flag} left behind:\n{screen}"
        );
    }
}
