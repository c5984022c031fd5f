//! Test harness shared by Gannet's integration tests: [`ServerProcess`] starts a
//! real server binary on a random port (learned from its ports file) and kills it
//! on drop; [`RawClient`] speaks raw protocol bytes to it over a real socket.
//!
//! The binary is the one the caller names, or `$GANNET_TEST_SERVER` when set, so
//! the same tests can run against nats-server to check that they test the
//! reference's behaviour.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A server process started for one test.
pub struct ServerProcess {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
    pub http_port: Option<u16>,
}

impl ServerProcess {
    /// Starts `binary` (or `$GANNET_TEST_SERVER`) on a random loopback port with `args`.
    pub fn start(binary: &str, args: &[&str]) -> ServerProcess {
        Self::start_with_config(binary, None, args)
    }

    /// Starts the server with `config` written to a file and passed with `-c`.
    pub fn start_with_config(binary: &str, config: Option<&str>, args: &[&str]) -> ServerProcess {
        let binary = std::env::var("GANNET_TEST_SERVER").unwrap_or_else(|_| binary.to_string());
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = Command::new(&binary);
        if let Some(conf) = config {
            let path = dir.path().join("server.conf");
            std::fs::write(&path, conf).expect("write config");
            cmd.arg("-c").arg(&path);
        }
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        cmd.args(["-a", "127.0.0.1", "-p", "-1", "--ports_file_dir"])
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        let mut server = ServerProcess {
            child,
            dir,
            port: 0,
            http_port: None,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                panic!("server exited with {status} at start:\n{}", self.log());
            }
            if let Some((port, http)) = self.read_ports_file() {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    self.port = port;
                    self.http_port = http;
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!("server did not start in time:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn read_ports_file(&self) -> Option<(u16, Option<u16>)> {
        let entry = std::fs::read_dir(self.dir.path())
            .ok()?
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().ends_with(".ports"))?;
        let text = std::fs::read_to_string(entry.path()).ok()?;
        let json: serde_json::Value = serde_json::from_str(&text).ok()?;
        let port_of = |key: &str| -> Option<u16> {
            let url = json.get(key)?.get(0)?.as_str()?;
            url.rsplit(':').next()?.parse().ok()
        };
        Some((port_of("nats")?, port_of("monitoring")))
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The server's folder (config, log and ports file live here).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Waits (up to 5 s) until the log contains `needle`; returns the log.
    pub fn wait_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.log();
            if log.contains(needle) || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it did in time.
    pub fn terminate(&mut self, within: Duration) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// A raw protocol connection to this server (its INFO line already read).
    pub fn raw(&self) -> RawClient {
        RawClient::connect(&self.addr())
    }

    /// A GET of the monitoring endpoint `path`: (status, body).
    pub fn http_get(&self, path: &str) -> (u16, String) {
        let port = self.http_port.expect("monitoring is not enabled");
        http_get(&format!("127.0.0.1:{port}"), path)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.0 GET; returns the status code and body.
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to monitoring");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("send");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The path of a file next to the test sources.
pub fn fixture(manifest_dir: &str, rel: &str) -> PathBuf {
    Path::new(manifest_dir).join(rel)
}

/// A raw protocol connection: send bytes, expect bytes.
pub struct RawClient {
    stream: TcpStream,
    /// Bytes read but not yet matched.
    pending: Vec<u8>,
    /// The INFO line the server sent first.
    pub info: String,
}

/// How long an expectation waits for the bytes it wants.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(5);

impl RawClient {
    /// Connects and reads the INFO line.
    pub fn connect(addr: &str) -> RawClient {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).ok();
        let mut c = RawClient {
            stream,
            pending: Vec::new(),
            info: String::new(),
        };
        let line = c.read_line();
        assert!(
            line.starts_with("INFO {"),
            "first line is not INFO: {line:?}"
        );
        c.info = line;
        c
    }

    /// Connects, reads INFO and sends `CONNECT <json>`.
    pub fn connect_with(addr: &str, connect_json: &str) -> RawClient {
        let mut c = Self::connect(addr);
        c.send(format!("CONNECT {connect_json}\r\n").as_bytes());
        c
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    fn fill(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        self.stream.set_read_timeout(Some(left)).ok();
        let mut buf = [0u8; 65536];
        match self.stream.read(&mut buf) {
            Ok(0) => false,
            Ok(n) => {
                self.pending.extend_from_slice(&buf[..n]);
                true
            }
            Err(_) => false,
        }
    }

    /// Reads one line (with its CR LF).
    pub fn read_line(&mut self) -> String {
        let deadline = Instant::now() + EXPECT_TIMEOUT;
        loop {
            if let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=i).collect();
                return String::from_utf8_lossy(&line).into_owned();
            }
            if !self.fill(deadline) {
                panic!("no line; got {:?}", String::from_utf8_lossy(&self.pending));
            }
        }
    }

    /// Expects exactly `want` as the next bytes.
    pub fn expect(&mut self, want: &[u8]) {
        let deadline = Instant::now() + EXPECT_TIMEOUT;
        while self.pending.len() < want.len() {
            if !self.fill(deadline) {
                break;
            }
        }
        let n = want.len().min(self.pending.len());
        let got: Vec<u8> = self.pending.drain(..n).collect();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want),
            "unexpected bytes from the server"
        );
    }

    /// Sends PING and expects everything up to its PONG to be `want`.
    pub fn expect_before_pong(&mut self, want: &[u8]) {
        self.send(b"PING\r\n");
        let mut full = want.to_vec();
        full.extend_from_slice(b"PONG\r\n");
        self.expect(&full);
    }

    /// Everything that arrives within `wait`.
    pub fn read_for(&mut self, wait: Duration) -> Vec<u8> {
        let deadline = Instant::now() + wait;
        while self.fill(deadline) {}
        std::mem::take(&mut self.pending)
    }

    /// Expects `want` and then the end of the connection.
    pub fn expect_closed_after(&mut self, want: &[u8]) {
        self.expect(want);
        let deadline = Instant::now() + EXPECT_TIMEOUT;
        while self.fill(deadline) {}
        assert!(
            self.pending.is_empty(),
            "unexpected bytes before close: {:?}",
            String::from_utf8_lossy(&self.pending)
        );
        assert!(self.is_closed(), "the connection is still open");
    }

    /// Whether the server has closed the connection (reads EOF or an error).
    pub fn is_closed(&mut self) -> bool {
        self.stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .ok();
        let mut buf = [0u8; 1];
        match self.stream.read(&mut buf) {
            Ok(0) => true,
            Ok(_) => {
                self.pending.push(buf[0]);
                false
            }
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        }
    }

    /// The underlying socket.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }
}
