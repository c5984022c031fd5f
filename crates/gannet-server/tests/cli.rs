//! The gannet-server binary as operators and tools run it: flags, config files,
//! `-t`, log lines, pid and ports files, signals and the monitoring listener.
use std::process::Command;
use std::time::{Duration, Instant};

use gannet_test::{RawClient, ServerProcess};

/// Subscriptions a server has of its own with the default system account, as
/// the reference counts them: the system services' 56 in `$SYS` and the four
/// services `$G` imports.
const SYSTEM_SUBS: u64 = 60;

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_and_help_exit_zero() {
    let (code, out, _) = run(&["-v"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("gannet-server: v"), "{out}");
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--config") && out.contains("--port"), "{out}");
}

#[test]
fn test_flag_accepts_a_valid_config() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("ok.conf");
    std::fs::write(&conf, "port: 4999\nmax_payload: 2MB\n").unwrap();
    let (code, out, err) = run(&["-t", "-c", conf.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("is valid (sha256:"), "{out}");
}

#[test]
fn test_flag_reports_every_error_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, "port: 4999\nfoo_bar: 1\nmax_payload: \"big\"\n").unwrap();
    let (code, _, err) = run(&["-t", "-c", conf.to_str().unwrap()]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() >= 2, "all errors at once: {err}");
    assert!(err.contains("bad.conf:2:"), "{err}");
    assert!(err.contains("unknown field \"foo_bar\""), "{err}");
    assert!(err.contains("bad.conf:3:"), "{err}");
}

#[test]
fn startup_logs_the_lines_tools_wait_for_and_flags_beat_the_file() {
    let s = ServerProcess::start_with_config(
        BIN,
        Some("port: 4567\nserver_name: from-file\n"),
        &["-n", "from-flag"],
    );
    assert_ne!(s.port, 4567, "-p -1 beats port: 4567");
    let log = s.wait_log("Server is ready");
    assert!(
        log.contains("[INF] Listening for client connections on 127.0.0.1:"),
        "{log}"
    );
    assert!(log.contains("[INF] Server is ready"), "{log}");
    let c = s.raw();
    assert!(
        c.info.contains(r#""server_name":"from-flag""#),
        "{}",
        c.info
    );
}

#[test]
fn log_lines_have_pid_time_and_level() {
    let s = ServerProcess::start(BIN, &[]);
    let line = s
        .log()
        .lines()
        .find(|l| l.contains("Server is ready"))
        .unwrap()
        .to_string();
    let pid = format!("[{}] ", s.pid());
    assert!(line.starts_with(&pid), "{line}");
    // [pid] yyyy/mm/dd hh:mm:ss.uuuuuu [INF] Server is ready
    let rest = &line[pid.len()..];
    assert_eq!(&rest[4..5], "/", "{line}");
    assert_eq!(&rest[26..33], " [INF] ", "{line}");
    let s2 = ServerProcess::start(BIN, &["-T=false"]);
    let line = s2
        .log()
        .lines()
        .find(|l| l.contains("Server is ready"))
        .unwrap()
        .to_string();
    assert_eq!(line, format!("[{}] [INF] Server is ready", s2.pid()));
}

/// The log's lines, each parsed as JSON (panics on a line that is not).
fn json_lines(log: &str) -> Vec<serde_json::Value> {
    log.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

#[test]
fn json_log_format_writes_one_object_per_line() {
    // From the config file, with debug lines and the event's fields.
    let conf = "log_format: json\ndebug: true\n";
    let mut s = ServerProcess::start_with_config(BIN, Some(conf), &[]);
    let lines = json_lines(&s.log());
    let ready = lines
        .iter()
        .find(|l| l["message"] == "Server is ready")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(ready["level"], "INFO");
    let time = ready["timestamp"].as_str().unwrap();
    assert!(
        time.len() >= 20 && time.ends_with('Z') && &time[10..11] == "T",
        "{time}"
    );
    assert!(
        ready["target"].as_str().unwrap().starts_with("gannet"),
        "{ready}"
    );
    let _c = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
    assert!(s.terminate(Duration::from_secs(5)));
    let lines = json_lines(&s.log());
    assert!(lines.iter().any(|l| l["level"] == "DEBUG"), "{lines:?}");
    assert!(
        lines.iter().any(|l| l["message"] == "Server Exiting.."),
        "{lines:?}"
    );
    // From the flag, without timestamps; the flag beats the file.
    let s = ServerProcess::start_with_config(
        BIN,
        Some("log_format: text\n"),
        &["--log_format", "json", "-T=false"],
    );
    let lines = json_lines(&s.log());
    assert!(lines.iter().any(|l| l["message"] == "Server is ready"));
    assert!(
        lines.iter().all(|l| l.get("timestamp").is_none()),
        "{lines:?}"
    );
    // A fatal error is a JSON line too.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, _, err) = run(&["-a", "127.0.0.1", "-p", &port, "--log_format", "json"]);
    assert_eq!(code, 1);
    let fatal = json_lines(&err)
        .into_iter()
        .find(|l| l["level"] == "FATAL")
        .unwrap_or_else(|| panic!("{err}"));
    assert!(fatal["message"]
        .as_str()
        .unwrap()
        .contains("Error listening on port"));
    let (code, _, err) = run(&["--log_format", "yaml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("expected text or json"), "{err}");
}

#[test]
fn debug_and_trace_flags_log_protocol() {
    let s = ServerProcess::start(BIN, &["-DV"]);
    let mut c = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
    c.send(b"SUB trace.me 1\r\n");
    c.expect_before_pong(b"");
    let deadline = Instant::now() + Duration::from_secs(2);
    while !s.log().contains("<<- [SUB trace.me 1]") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = s.log();
    assert!(
        log.contains("[TRC]") && log.contains("<<- [SUB trace.me 1]"),
        "{log}"
    );
    assert!(log.contains("[DBG]"), "{log}");
}

#[test]
fn later_feature_flags_are_accepted_with_a_warning() {
    let s = ServerProcess::start(
        BIN,
        &["--log_size_limit", "1000", "--routes", "nats://127.0.0.1:1"],
    );
    let log = s.log();
    assert!(
        log.contains("[WRN]") && log.contains("--log_size_limit"),
        "{log}"
    );
    let mut c = RawClient::connect_with(&s.addr(), "{}");
    c.expect(b"+OK\r\n");
}

#[test]
fn jetstream_flags_start_jetstream_in_the_store_folder() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("js");
    let s = ServerProcess::start(BIN, &["-js", "--store_dir", store.to_str().unwrap()]);
    let log = s.wait_log("Took");
    assert!(log.contains("Starting JetStream"), "{log}");
    assert!(
        log.contains(&store.join("jetstream").display().to_string()),
        "{log}"
    );
    assert!(store.join("jetstream").is_dir());
}

#[test]
fn later_feature_config_blocks_warn_but_start() {
    let conf = "websocket { port: -1 }\nmqtt { port: -1 }\n";
    let s = ServerProcess::start_with_config(BIN, Some(conf), &[]);
    let log = s.log();
    assert!(log.contains("[WRN]") && log.contains("websocket"), "{log}");
    assert!(log.contains("mqtt"), "{log}");
}

#[test]
fn pid_file_and_ports_file() {
    let dir = tempfile::tempdir().unwrap();
    let pid = dir.path().join("g.pid");
    let mut s = ServerProcess::start(BIN, &["-P", pid.to_str().unwrap(), "-m", "-1"]);
    assert_eq!(std::fs::read_to_string(&pid).unwrap(), s.pid().to_string());
    let ports: Vec<_> = std::fs::read_dir(s.dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".ports"))
        .collect();
    assert_eq!(ports.len(), 1);
    let name = ports[0].file_name().to_string_lossy().into_owned();
    assert_eq!(name, format!("gannet-server_{}.ports", s.pid()));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ports[0].path()).unwrap()).unwrap();
    assert_eq!(json["nats"][0], format!("nats://127.0.0.1:{}", s.port));
    assert!(json["monitoring"][0]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert!(s.terminate(Duration::from_secs(5)));
    assert!(
        !ports[0].path().exists(),
        "the ports file is removed on a clean shutdown"
    );
    assert!(s.log().contains("Server Exiting"), "{}", s.log());
}

#[test]
fn signal_flag_quits_a_server_named_by_its_pid_file() {
    let dir = tempfile::tempdir().unwrap();
    let pid = dir.path().join("g.pid");
    let mut s = ServerProcess::start(BIN, &["-P", pid.to_str().unwrap()]);
    let (code, _, err) = run(&["--signal", &format!("quit={}", pid.display())]);
    assert_eq!(code, 0, "{err}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !s.log().contains("Server Exiting") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        s.log().contains("Trapped \"interrupt\" signal"),
        "{}",
        s.log()
    );
    assert!(s.terminate(Duration::from_secs(2)));
    let (code, _, err) = run(&["--signal", "bogus=1"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown signal"), "{err}");
}

#[test]
fn shutdown_flushes_pending_messages() {
    let mut s = ServerProcess::start(BIN, &[]);
    let mut sub = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
    sub.send(b"SUB x 1\r\n");
    sub.expect_before_pong(b"");
    let mut publ = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
    publ.send(b"PUB x 2\r\nhi\r\nPING\r\n");
    publ.expect(b"PONG\r\n");
    assert!(s.terminate(Duration::from_secs(5)));
    sub.expect_closed_after(b"MSG x 1 2\r\nhi\r\n");
}

#[test]
fn monitoring_serves_varz_and_healthz() {
    let s = ServerProcess::start(BIN, &["-m", "-1", "-n", "mon"]);
    let (code, body) = s.http_get("/healthz");
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"status":"ok"})
    );
    let mut c = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
    c.send(b"SUB a 1\r\nPUB a 2\r\nhi\r\n");
    c.expect(b"MSG a 1 2\r\nhi\r\n");
    let (code, body) = s.http_get("/varz");
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["server_name"], "mon");
    assert_eq!(v["port"], s.port);
    assert_eq!(v["connections"], 1);
    assert_eq!(v["subscriptions"], SYSTEM_SUBS + 1);
    assert_eq!(v["in_msgs"], 1);
    assert_eq!(v["out_msgs"], 1);
    assert_eq!(v["max_payload"], 1048576);
    assert_eq!(v["ping_interval"], 120_000_000_000u64);
    assert_eq!(v["http_req_stats"]["/healthz"], 1);
    assert_eq!(s.http_get("/nope").0, 404);
}

#[test]
fn ipv6_loopback_listen() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args([
            "-a",
            "::1",
            "-p",
            "-1",
            "--ports_file_dir",
            dir.path().to_str().unwrap(),
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut url = None;
    while url.is_none() && Instant::now() < deadline {
        for e in std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
        {
            if let Ok(text) = std::fs::read_to_string(e.path()) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                    url = v["nats"][0].as_str().map(String::from);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = url.expect("ports file");
    assert!(url.starts_with("nats://[::1]:"), "{url}");
    let addr = url.trim_start_matches("nats://");
    let c = RawClient::connect(addr);
    assert!(c.info.contains("\"host\":\"::1\""), "{}", c.info);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn port_in_use_is_fatal() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, _, err) = run(&["-a", "127.0.0.1", "-p", &port]);
    assert_eq!(code, 1);
    assert!(
        err.contains("[FTL]") && err.contains("Error listening on port"),
        "{err}"
    );
}

#[test]
fn lame_duck_tells_clients_then_closes_them_and_exits() {
    let conf = "lame_duck_grace_period: \"200ms\"\nlame_duck_duration: \"30s\"\n";
    let mut s = ServerProcess::start_with_config(BIN, Some(conf), &[]);
    let mut c = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
    c.expect_before_pong(b"");
    let (code, _, err) = run(&["--signal", &format!("ldm={}", s.pid())]);
    assert_eq!(code, 0, "{err}");
    let info = c.read_line();
    assert!(
        info.starts_with("INFO ") && info.contains(r#""ldm":true"#),
        "{info}"
    );
    assert!(
        std::net::TcpStream::connect(s.addr()).is_err() || {
            // The listener may still be closing; a new client must not be served.
            std::thread::sleep(Duration::from_millis(100));
            std::net::TcpStream::connect(s.addr()).is_err()
        }
    );
    c.expect_closed_after(b"");
    assert!(s.terminate(Duration::from_secs(3)) || s.log().contains("Server Exiting"));
    assert!(s.log().contains("Entering lame duck mode"), "{}", s.log());
}

#[test]
fn log_flag_writes_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("g.log");
    let mut s = ServerProcess::start(BIN, &["-l", log.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut text = String::new();
    while !text.contains("Server is ready") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        text = std::fs::read_to_string(&log).unwrap_or_default();
    }
    assert!(text.contains("[INF] Server is ready"), "{text}");
    assert!(s.terminate(Duration::from_secs(5)));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("Server Exiting"), "{text}");
}
