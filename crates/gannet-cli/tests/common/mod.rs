//! Harness for the CLI tests: the built `gannet` binary run against a real
//! `gannet-server` (or `$GANNET_TEST_SERVER`, nats-server say) on a free port.
//!
//! Every run gets an empty `HOME`/`XDG_CONFIG_HOME` of its own, so no saved
//! context of the machine leaks in, and no `NATS_*` variable from outside.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use gannet_test::certs::CertFiles;
pub use gannet_test::ServerProcess;

pub mod terminal;

/// How long a command that should finish may run.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for one expected line of a running command.
pub const LINE_TIMEOUT: Duration = Duration::from_secs(10);

/// The flags that make `gannet` present `who`'s certificate and trust the CA
/// at `ca`.
pub fn tls_flags<'a>(who: &'a CertFiles, ca: &'a str) -> [&'a str; 6] {
    [
        "--tlscert",
        who.cert_str(),
        "--tlskey",
        who.key_str(),
        "--tlsca",
        ca,
    ]
}

/// The `gannet` binary under test.
pub fn gannet_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gannet"))
}

/// The server binary: `$GANNET_TEST_SERVER`, else `gannet-server` built beside
/// `gannet` (the workspace test run builds it).
pub fn server_binary() -> String {
    if let Ok(binary) = std::env::var("GANNET_TEST_SERVER") {
        return binary;
    }
    let sibling = gannet_binary().with_file_name("gannet-server");
    assert!(
        sibling.exists(),
        "{} is missing: build it first (cargo build -p gannet-server)",
        sibling.display()
    );
    sibling.to_string_lossy().into_owned()
}

pub use gannet_test::reference_server_binary;

/// The servers a cross-server test runs against: Gannet (or
/// `$GANNET_TEST_SERVER`), then the reference when present.
pub fn all_server_binaries() -> Vec<String> {
    let mut binaries = vec![server_binary()];
    binaries.extend(reference_server_binary());
    binaries
}

/// `binary` with `config` on a free loopback port.
pub fn start_binary(binary: &str, config: Option<&str>) -> ServerProcess {
    ServerProcess::start_with_config(binary, config, &[])
}

/// `binary` with JetStream on (`-js`), its store in the server's own folder
/// (removed with it), on a free loopback port.
pub fn start_jetstream(binary: &str) -> ServerProcess {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("jetstream").to_string_lossy().into_owned();
    ServerProcess::builder(binary)
        .dir(dir)
        .args(&["-js", "-sd", &store])
        .start()
}

/// A server with `config` (or none), on a free loopback port.
pub fn start_server(config: Option<&str>) -> ServerProcess {
    ServerProcess::start_with_config(&server_binary(), config, &[])
}

/// A server with `config` and extra command-line `args`.
pub fn start_server_with(config: Option<&str>, args: &[&str]) -> ServerProcess {
    ServerProcess::start_with_config(&server_binary(), config, args)
}

/// One `gannet` invocation being prepared.
pub struct Gannet {
    command: Command,
    home: tempfile::TempDir,
    stdin: Option<Vec<u8>>,
}

/// `gannet ARGS...` with an isolated home; add `.server(url)` to point it at a
/// server.
pub fn gannet<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Gannet {
    let home = tempfile::tempdir().expect("temp home");
    Gannet::with_home(args, home)
}

impl Gannet {
    /// Like [`gannet`] but sharing a home (for context tests).
    pub fn with_home<S: AsRef<std::ffi::OsStr>>(args: &[S], home: tempfile::TempDir) -> Gannet {
        let mut command = Command::new(gannet_binary());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("NATS_") {
                command.env_remove(key);
            }
        }
        command
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("NO_COLOR", "1")
            .args(args);
        Gannet {
            command,
            home,
            stdin: None,
        }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn server(mut self, url: &str) -> Self {
        self.command.arg("--server").arg(url);
        self
    }

    pub fn args<S: AsRef<std::ffi::OsStr>>(mut self, args: &[S]) -> Self {
        self.command.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.command.current_dir(dir);
        self
    }

    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// Runs to completion (killed after [`RUN_TIMEOUT`]).
    pub fn run(mut self) -> Finished {
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("spawn gannet");
        if let Some(input) = self.stdin.take() {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            std::thread::spawn(move || {
                let _ = stdin.write_all(&input);
            });
        }
        let started = Instant::now();
        loop {
            match child.try_wait().expect("wait gannet") {
                Some(_) => break,
                None if started.elapsed() > RUN_TIMEOUT => {
                    let _ = child.kill();
                    break;
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        let output = child.wait_with_output().expect("gannet output");
        Finished {
            output,
            _home: self.home,
        }
    }

    /// Starts it and reads its stdout line by line as it runs.
    pub fn spawn(mut self) -> Running {
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("spawn gannet");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let (err_sender, err_lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if err_sender.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            err_lines,
            seen: Vec::new(),
            seen_err: Vec::new(),
            _home: self.home,
        }
    }
}

/// A finished run.
pub struct Finished {
    pub output: Output,
    _home: tempfile::TempDir,
}

impl Finished {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    /// Asserts success and returns stdout.
    pub fn success(&self) -> String {
        assert!(
            self.output.status.success(),
            "gannet failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            self.code(),
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }

    /// Asserts failure with exit code 1 and one `gannet: error:` line; returns it.
    pub fn failure(&self) -> String {
        assert_eq!(
            self.code(),
            Some(1),
            "expected exit code 1\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        let stderr = self.stderr();
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("gannet: error: "))
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "expected one error line, stderr:\n{stderr}"
        );
        errors[0].to_string()
    }
}

/// A command still running, with its output lines arriving.
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    err_lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    seen_err: Vec<String>,
    _home: tempfile::TempDir,
}

impl Running {
    /// Waits for a stdout line containing `needle`; returns it.
    pub fn expect_line(&mut self, needle: &str) -> String {
        self.expect_line_within(needle, LINE_TIMEOUT)
    }

    pub fn expect_line_within(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => {
                    let stderr = self.drain_stderr();
                    panic!(
                        "no line containing {needle:?} within {timeout:?}\nstdout so far:\n{}\nstderr:\n{stderr}",
                        self.seen.join("\n")
                    );
                }
            }
        }
    }

    /// The next stdout line, whatever it is.
    pub fn next_line(&mut self) -> String {
        match self.lines.recv_timeout(LINE_TIMEOUT) {
            Ok(line) => {
                self.seen.push(line.clone());
                line
            }
            Err(_) => panic!(
                "no further line within {LINE_TIMEOUT:?}\nstdout so far:\n{}\nstderr:\n{}",
                self.seen.join("\n"),
                self.drain_stderr()
            ),
        }
    }

    /// Waits for a stderr line containing `needle` (natscli logs some
    /// progress there, such as "Subscribing on ...").
    pub fn expect_stderr(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + LINE_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.err_lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen_err.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no stderr line containing {needle:?}\nstderr so far:\n{}\nstdout:\n{}",
                    self.seen_err.join("\n"),
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// All stdout lines read so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// Waits for the process to exit by itself; returns the exit code and the
    /// remaining stdout lines.
    pub fn wait(mut self) -> (Option<i32>, Vec<String>) {
        let deadline = Instant::now() + RUN_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("gannet did not exit; stdout:\n{}", self.seen.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut rest: Vec<String> = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            rest.push(line);
        }
        (status.code(), rest)
    }

    /// stderr lines so far (without waiting).
    pub fn drain_stderr(&mut self) -> String {
        while let Ok(line) = self.err_lines.try_recv() {
            self.seen_err.push(line);
        }
        self.seen_err.join("\n")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Publishes with the CLI itself and waits for it to finish successfully.
pub fn publish(url: &str, subject: &str, body: &str) {
    gannet(&["pub", subject, body]).server(url).run().success();
}

// ---------------------------------------------------------------- traffic helpers

/// `binary` with `config` and monitoring on a free port, so a test can wait
/// until a running `gannet sub` has its subscriptions in the server.
pub fn start_monitored(binary: &str, config: Option<&str>) -> ServerProcess {
    ServerProcess::start_with_config(binary, config, &["-m", "-1"])
}

/// How many subscriptions on exactly `subject` the server lists in `/subsz`.
pub fn subscriptions_on(server: &ServerProcess, subject: &str) -> usize {
    let (_, body) = server.http_get("/subsz?subs=1&limit=100000");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    json["subscriptions_list"]
        .as_array()
        .map(|subs| subs.iter().filter(|s| s["subject"] == subject).count())
        .unwrap_or(0)
}

/// Waits until the server has `count` subscriptions on `subject`.
pub fn wait_for_subscriptions(server: &ServerProcess, subject: &str, count: usize) {
    let deadline = Instant::now() + LINE_TIMEOUT;
    while subscriptions_on(server, subject) < count {
        assert!(
            Instant::now() < deadline,
            "no {count} subscription(s) on {subject:?} in time:\n{}",
            server.http_get("/subsz?subs=1").1
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Running {
    /// The next stdout line if one comes within `timeout`.
    pub fn try_next_line(&mut self, timeout: Duration) -> Option<String> {
        let line = self.lines.recv_timeout(timeout).ok()?;
        self.seen.push(line.clone());
        Some(line)
    }

    /// The next `count` stdout lines (panics if they do not come).
    pub fn next_lines(&mut self, count: usize) -> Vec<String> {
        (0..count).map(|_| self.next_line()).collect()
    }
}

/// `gannet ARGS...` against `url`, run to the end.
pub fn gannet_at(url: &str, args: &[&str]) -> Finished {
    gannet(args).server(url).run()
}

/// natscli's log prefix: `15:04:05 ` (local time).
pub fn strip_log_time(line: &str) -> &str {
    let bytes = line.as_bytes();
    let stamped = bytes.len() >= 9
        && bytes[..8].iter().enumerate().all(|(i, b)| {
            if i == 2 || i == 5 {
                *b == b':'
            } else {
                b.is_ascii_digit()
            }
        })
        && bytes[8] == b' ';
    assert!(stamped, "no HH:MM:SS prefix on log line {line:?}");
    &line[9..]
}

/// The stderr lines of a finished run without their `15:04:05 ` prefixes.
pub fn log_lines(run: &Finished) -> Vec<String> {
    run.stderr()
        .lines()
        .map(|line| strip_log_time(line).to_string())
        .collect()
}

/// Whether `text` has the shape `pattern` describes: literal text with
/// placeholders `{n}` (an integer, thousands separated), `{f}` (a number with
/// an optional fraction), `{size}` (`12 KiB`, `1.5 MiB`, `512 B`), `{date}`
/// (Go's log prefix `2006/01/02 15:04:05`), `{word}` (no spaces) and `{any}`
/// (anything, possibly nothing). For checking output formats without regexes.
pub fn shape_matches(text: &str, pattern: &str) -> bool {
    fn class_ok(class: &str, text: &str) -> bool {
        let starts_with_digit = text.chars().next().is_some_and(|c| c.is_ascii_digit());
        match class {
            "n" => starts_with_digit && text.chars().all(|c| c.is_ascii_digit() || c == ','),
            "f" => {
                starts_with_digit
                    && !text.ends_with('.')
                    && text.matches('.').count() <= 1
                    && text
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
            }
            "size" => match text.split_once(' ') {
                Some((number, unit)) => {
                    class_ok("f", number)
                        && ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"].contains(&unit)
                }
                None => false,
            },
            "date" => {
                text.len() == 19
                    && text.char_indices().all(|(i, c)| match i {
                        4 | 7 => c == '/',
                        10 => c == ' ',
                        13 | 16 => c == ':',
                        _ => c.is_ascii_digit(),
                    })
            }
            "word" => !text.is_empty() && !text.contains(char::is_whitespace),
            "any" => true,
            other => panic!("unknown placeholder {{{other}}}"),
        }
    }
    fn go(text: &str, pattern: &str) -> bool {
        if pattern.is_empty() {
            return text.is_empty();
        }
        if let Some(rest) = pattern.strip_prefix('{') {
            if let Some(end) = rest.find('}') {
                let (class, after) = (&rest[..end], &rest[end + 1..]);
                return (0..=text.len()).rev().any(|len| {
                    text.is_char_boundary(len)
                        && class_ok(class, &text[..len])
                        && go(&text[len..], after)
                });
            }
        }
        let mut chars = pattern.chars();
        let first = chars.next().unwrap_or_default();
        text.starts_with(first) && go(&text[first.len_utf8()..], chars.as_str())
    }
    go(text, pattern)
}

/// A bare NATS connection for tests that need clients other than the CLI
/// (`server report`, `events`): plain TCP, `CONNECT` with a user and password,
/// kept open until dropped.
pub struct RawNatsClient {
    stream: std::net::TcpStream,
    reader: BufReader<std::net::TcpStream>,
}

impl RawNatsClient {
    /// Connects as `user`/`password` named `name` and waits for the server's
    /// `PONG`; `Err` holds the server's `-ERR` line (a refused login, say).
    pub fn connect(addr: &str, user: &str, password: &str, name: &str) -> Result<Self, String> {
        let stream = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(LINE_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let mut client = RawNatsClient {
            reader: BufReader::new(stream.try_clone().map_err(|e| e.to_string())?),
            stream,
        };
        let info = client.read_line()?;
        if !info.starts_with("INFO ") {
            return Err(format!("expected INFO, got {info:?}"));
        }
        let connect = serde_json::json!({
            "user": user, "pass": password, "name": name, "verbose": false,
            "pedantic": false, "lang": "test-raw", "version": "0.0.1", "protocol": 1,
        });
        client.write(&format!("CONNECT {connect}\r\n"))?;
        client.sync()?;
        Ok(client)
    }

    /// Sends protocol text (`SUB x 1\r\n`, `PUB x 2\r\nhi\r\n`) and waits
    /// until the server processed it.
    pub fn send(&mut self, protocol: &str) -> Result<(), String> {
        self.write(protocol)?;
        self.sync()
    }

    fn write(&mut self, text: &str) -> Result<(), String> {
        use std::io::Write;
        self.stream
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string())
    }

    /// PING, then lines until PONG (messages for this client are skipped).
    fn sync(&mut self) -> Result<(), String> {
        self.write("PING\r\n")?;
        loop {
            let line = self.read_line()?;
            if line.starts_with("PONG") {
                return Ok(());
            }
            if line.starts_with("-ERR") {
                return Err(line);
            }
        }
    }

    fn read_line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => Err("connection closed".to_string()),
            Ok(_) => Ok(line.trim_end().to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
}

impl Drop for RawNatsClient {
    /// Closes as a client that quits does: the server reads the end of the
    /// stream ("Client Closed"). Closing with the server's last words unread
    /// (its INFO after CONNECT may come after the PONG) would reset the
    /// connection, which the server reports as a read error.
    fn drop(&mut self) {
        use std::io::Read;
        if self.stream.shutdown(std::net::Shutdown::Write).is_ok() {
            let mut rest = Vec::new();
            let _ = self.reader.read_to_end(&mut rest);
        }
    }
}
