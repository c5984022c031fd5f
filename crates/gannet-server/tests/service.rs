//! The systemd unit in `dist/systemd`: systemd accepts it, rates its
//! hardening as exposing little, and its reload and stop do to a real server
//! what the unit's comments promise (config applied again; lame duck mode,
//! then exit).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use gannet_test::{RawClient, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
const UNIT: &str = include_str!("../../../dist/systemd/gannet-server.service");
/// Where the unit expects the binary.
const INSTALLED: &str = "/usr/local/bin/gannet-server";

/// The first value of `key` in the unit's `[Service]` section.
fn service_value(key: &str) -> String {
    let mut in_service = false;
    for line in UNIT.lines().map(str::trim) {
        if line.starts_with('[') {
            in_service = line == "[Service]";
        } else if in_service {
            if let Some(value) = line.strip_prefix(key).and_then(|l| l.strip_prefix('=')) {
                return value.to_string();
            }
        }
    }
    panic!("the unit's [Service] section has no {key}=");
}

/// The unit, its binary the one under test, written to `dir`.
fn unit_in(dir: &Path) -> PathBuf {
    let path = dir.join("gannet-server.service");
    std::fs::write(&path, UNIT.replace(INSTALLED, BIN)).unwrap();
    path
}

fn systemd_analyze(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("systemd-analyze")
        .args(args)
        .output()
        .expect("systemd-analyze (Debian package systemd) runs the unit checks");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn systemd_accepts_the_unit_and_rates_it_hardened() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_in(dir.path());
    let unit = unit.to_str().unwrap();
    let (ok, out, err) = systemd_analyze(&["verify", unit]);
    assert!(ok && err.trim().is_empty(), "verify: {out}{err}");
    // Exposure runs from 0 (locked down) to 10; systemd calls up to 2 "OK".
    let (ok, out, err) = systemd_analyze(&["security", "--offline=true", "--threshold=20", unit]);
    assert!(ok, "security above the threshold:\n{out}{err}");
    let overall = out
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no overall level in:\n{out}"));
    let level: f64 = overall
        .split(':')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number in {overall:?}"));
    assert!(level <= 2.0, "{overall}");
    for setting in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "CapabilityBoundingSet=",
    ] {
        assert!(
            UNIT.lines().any(|l| l.trim() == setting),
            "{setting} missing"
        );
    }
}

/// Whether the server lets user `ops` in with `password`.
fn logs_in(server: &ServerProcess, password: &str) -> bool {
    let connect = format!(r#"{{"verbose":false,"user":"ops","pass":"{password}"}}"#);
    let mut client = RawClient::connect_with(&server.addr(), &connect);
    client.send(b"PING\r\n");
    let (got, _) = client.read_to_close(Duration::from_millis(500));
    let got = String::from_utf8_lossy(&got);
    match (
        got.contains("PONG"),
        got.contains("Authorization Violation"),
    ) {
        (true, false) => true,
        (false, true) => false,
        _ => panic!("neither PONG nor a violation: {got:?}"),
    }
}

#[test]
fn the_units_reload_and_stop_reload_and_lame_duck_the_server() {
    let conf = "authorization { user: ops, password: one }\n\
                lame_duck_grace_period: \"200ms\"\nlame_duck_duration: \"30s\"\n";
    let mut server = ServerProcess::start_with_config(BIN, Some(conf), &[]);
    assert!(logs_in(&server, "one"));

    // ExecReload, as systemd runs it: $MAINPID is the server.
    std::fs::write(
        server.config_path(),
        conf.replace("password: one", "password: two"),
    )
    .unwrap();
    let reload = service_value("ExecReload")
        .replace(INSTALLED, BIN)
        .replace("$MAINPID", &server.pid().to_string());
    let status = Command::new("sh").args(["-c", &reload]).status().unwrap();
    assert!(status.success(), "{reload}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.log().contains("Reloaded server configuration") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(server.log().contains("Reloaded server configuration"));
    assert!(logs_in(&server, "two") && !logs_in(&server, "one"));

    // Stop: systemd sends KillSignal and waits up to TimeoutStopSec.
    let mut client = RawClient::connect_with(
        &server.addr(),
        r#"{"verbose":false,"user":"ops","pass":"two"}"#,
    );
    client.expect_before_pong(b"");
    let signal = service_value("KillSignal");
    let timeout: u64 = service_value("TimeoutStopSec").parse().unwrap();
    assert!(
        timeout > 120,
        "lame duck mode takes up to 2 minutes by default"
    );
    let status = Command::new("kill")
        .args([
            "-s",
            signal.trim_start_matches("SIG"),
            &server.pid().to_string(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let info = client.read_line();
    assert!(info.contains(r#""ldm":true"#), "{info}");
    client.expect_closed_after(b"");
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.is_running() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!server.is_running(), "still running:\n{}", server.log());
    assert!(
        server.log().contains("Entering lame duck mode"),
        "{}",
        server.log()
    );
}
