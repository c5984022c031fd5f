//! Test harness shared by Gannet's integration tests: [`ServerProcess`] starts a
//! real server binary on a random port (learned from its ports file) and kills it
//! on drop; [`RawClient`] speaks raw protocol bytes to it over a real socket.
//!
//! The binary is the one the caller names, or `$GANNET_TEST_SERVER` when set, so
//! the same tests can run against nats-server to check that they test the
//! reference's behaviour.
//!
//! [`certs`] makes test certificates; [`encoding`] reads compressed bodies; [`RawClient`] can speak TLS (INFO in clear
//! then the handshake, or `handshake_first`) with a config from [`tls_config`].
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub mod certs;
pub mod encoding;
pub mod reference;

/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// The ports a ports file lists: client, monitoring, cluster, leafnode.
type Ports = (u16, Option<u16>, Option<u16>, Option<u16>);

/// A server process started for one test.
pub struct ServerProcess {
    child: Child,
    dir: tempfile::TempDir,
    binary: String,
    pub port: u16,
    pub http_port: Option<u16>,
    /// The route port, when the server is clustered.
    pub cluster_port: Option<u16>,
    /// The leaf node port, when the server accepts leaf nodes.
    pub leaf_port: Option<u16>,
}

/// The binary the tests run: `$GANNET_TEST_SERVER` when set, else `default`.
pub fn server_binary(default: &str) -> String {
    std::env::var("GANNET_TEST_SERVER").unwrap_or_else(|_| default.to_string())
}

/// Whether `$GANNET_TEST_SERVER` names a server other than Gannet (a file name
/// not starting with `gannet`): tests of Gannet-only behaviour, such as the BOSH
/// fork's `certificate_clients`, skip themselves then.
pub fn running_reference() -> bool {
    std::env::var_os("GANNET_TEST_SERVER").is_some_and(|bin| {
        !Path::new(&bin)
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("gannet"))
    })
}

/// The reference nats-server 2.15, when this machine has it: the path in
/// `$GANNET_REFERENCE_SERVER`, else `~/.cache/gannet-refs/bin/nats-server`
/// (where `scripts/install-reference.sh` puts it).
pub fn reference_server_binary() -> Option<String> {
    let candidate = match std::env::var("GANNET_REFERENCE_SERVER") {
        Ok(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".cache/gannet-refs/bin/nats-server"),
    };
    candidate
        .is_file()
        .then(|| candidate.to_string_lossy().into_owned())
}

/// The servers a side-by-side test runs against: `ours` (Gannet's binary),
/// then the reference nats-server when this machine has it (said on stderr
/// when it has not).
pub fn with_reference(ours: &str) -> Vec<String> {
    let mut all = vec![ours.to_string()];
    match reference_server_binary() {
        Some(reference) => all.push(reference),
        None => eprintln!("nats-server 2.15 not installed: Gannet only"),
    }
    all
}

/// How to start a [`ServerProcess`] when [`ServerProcess::start_with_config`] is
/// not enough: a folder prepared beforehand (files the config includes), a
/// working directory (relative paths in the config).
pub struct ServerBuilder<'a> {
    binary: String,
    dir: Option<tempfile::TempDir>,
    config: Option<&'a str>,
    cwd: Option<PathBuf>,
    args: Vec<String>,
    port: i32,
}

impl<'a> ServerBuilder<'a> {
    /// Uses `dir` as the server's folder (the config is written there as
    /// `server.conf`, so `include x` finds `dir/x`).
    pub fn dir(mut self, dir: tempfile::TempDir) -> Self {
        self.dir = Some(dir);
        self
    }

    /// Writes `config` to `server.conf` and passes it with `-c`.
    pub fn config(mut self, config: &'a str) -> Self {
        self.config = Some(config);
        self
    }

    /// Runs the server in `cwd`.
    pub fn cwd(mut self, cwd: &Path) -> Self {
        self.cwd = Some(cwd.to_path_buf());
        self
    }

    /// Listens for clients on `port` instead of a free one the system picks
    /// (to restart a server where it was).
    pub fn port(mut self, port: u16) -> Self {
        self.port = i32::from(port);
        self
    }

    /// Adds command-line arguments (after `-a 127.0.0.1 -p -1 --ports_file_dir <dir>`).
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(self) -> ServerProcess {
        let dir = match self.dir {
            Some(dir) => dir,
            None => tempfile::tempdir().expect("temp dir"),
        };
        let mut cmd = Command::new(&self.binary);
        if let Some(conf) = self.config {
            let path = dir.path().join("server.conf");
            std::fs::write(&path, conf).expect("write config");
            cmd.arg("-c").arg(&path);
        }
        if let Some(cwd) = &self.cwd {
            cmd.current_dir(cwd);
        }
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        cmd.args([
            "-a",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "--ports_file_dir",
        ])
        .arg(dir.path())
        .args(&self.args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log);
        let binary = self.binary;
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        let mut server = ServerProcess {
            child,
            dir,
            binary,
            port: 0,
            http_port: None,
            cluster_port: None,
            leaf_port: None,
        };
        server.wait_ready();
        server
    }
}

impl ServerProcess {
    /// Starts `binary` (or `$GANNET_TEST_SERVER`) on a random loopback port with `args`.
    pub fn start(binary: &str, args: &[&str]) -> ServerProcess {
        Self::start_with_config(binary, None, args)
    }

    /// Starts the server with `config` written to a file and passed with `-c`.
    pub fn start_with_config(binary: &str, config: Option<&str>, args: &[&str]) -> ServerProcess {
        let mut b = Self::builder(binary).args(args);
        if let Some(conf) = config {
            b = b.config(conf);
        }
        b.start()
    }

    /// A [`ServerBuilder`] for `binary` (or `$GANNET_TEST_SERVER`).
    pub fn builder<'a>(binary: &str) -> ServerBuilder<'a> {
        ServerBuilder {
            binary: server_binary(binary),
            dir: None,
            config: None,
            cwd: None,
            args: Vec::new(),
            port: -1,
        }
    }

    /// The binary this server runs (to send it `--signal`, say).
    pub fn binary(&self) -> &str {
        &self.binary
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                panic!("server exited with {status} at start:\n{}", self.log());
            }
            // The ports file is written once the listeners are bound. No probe
            // connection: it would count against max_connections.
            if let Some((port, http, cluster, leaf)) = self.read_ports_file() {
                self.port = port;
                self.http_port = http;
                self.cluster_port = cluster;
                self.leaf_port = leaf;
                return;
            }
            if Instant::now() > deadline {
                panic!("server did not start in time:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// (client, monitoring, cluster, leafnode) ports of the ports file.
    fn read_ports_file(&self) -> Option<Ports> {
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
        Some((
            port_of("nats")?,
            port_of("monitoring"),
            port_of("cluster"),
            port_of("leafnode"),
        ))
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

    /// `<dir>/server.conf`, the file `-c` names when a config was given.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("server.conf")
    }

    /// `tls://127.0.0.1:<port>`.
    pub fn tls_url(&self) -> String {
        format!("tls://127.0.0.1:{}", self.port)
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

    /// The server's resident memory (`VmRSS`), in KiB.
    pub fn resident_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// The servers this one has routes to, from `/routez` (a peer reached
    /// by several pooled connections counts once).
    pub fn route_peers(&self) -> usize {
        let (_, body) = self.http_get("/routez");
        let routez: serde_json::Value = serde_json::from_str(&body).expect("routez JSON");
        let mut ids: Vec<&str> = routez["routes"]
            .as_array()
            .map(|r| r.iter().filter_map(|r| r["remote_id"].as_str()).collect())
            .unwrap_or_default();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
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
/// A loopback port nothing listens on, for configs that must name a port
/// before their server starts (routes, gateways, leaf nodes). Drawn at
/// random below the kernel's ephemeral range (32768 and up on Linux), where
/// `-p -1` listeners and outgoing connections get theirs, so that another
/// test's server or client cannot take it between now and this server's
/// start; never the same twice in one test process.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    static TAKEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    let seed = std::collections::hash_map::RandomState::new();
    for attempt in 0u64.. {
        let mut hasher = seed.build_hasher();
        hasher.write_u64(attempt);
        hasher.write_u32(std::process::id());
        let port = 10_000 + (hasher.finish() % 22_000) as u16;
        if taken.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            taken.insert(port);
            return port;
        }
        assert!(attempt < 10_000, "no free port below the ephemeral range");
    }
    unreachable!("the loop returns or panics")
}

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

/// A rustls client config trusting the certificates in `ca_file` and, with
/// `client`, presenting that certificate. Uses ring explicitly, so it works
/// whatever other crypto provider the build enables.
pub fn tls_config(ca_file: &Path, client: Option<&certs::CertFiles>) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).expect("read CA file") {
        roots.add(cert.expect("CA PEM")).expect("add root");
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots);
    let config = match client {
        Some(files) => {
            let chain = CertificateDer::pem_file_iter(&files.cert)
                .expect("read certificate")
                .collect::<Result<Vec<_>, _>>()
                .expect("certificate PEM");
            let key = PrivateKeyDer::from_pem_file(&files.key).expect("read key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client certificate")
        }
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// Installs ring as the process-wide rustls provider (for async-nats, which asks
/// rustls for the default). Harmless when one is installed already.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The socket under a [`RawClient`]: plain, or TLS over TCP.
enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(t) => &t.sock,
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(t) => t.flush(),
        }
    }
}

/// A raw protocol connection: send bytes, expect bytes.
pub struct RawClient {
    conn: Conn,
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
        let mut c = Self::tcp(addr);
        c.read_info();
        c
    }

    /// Connects without reading anything (the INFO line, if any, stays pending).
    pub fn tcp(addr: &str) -> RawClient {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).ok();
        RawClient {
            conn: Conn::Plain(stream),
            pending: Vec::new(),
            info: String::new(),
        }
    }

    fn read_info(&mut self) {
        let line = self.read_line();
        assert!(
            line.starts_with("INFO {"),
            "first line is not INFO: {line:?}"
        );
        self.info = line;
    }

    /// Connects, reads INFO and sends `CONNECT <json>`.
    pub fn connect_with(addr: &str, connect_json: &str) -> RawClient {
        let mut c = Self::connect(addr);
        c.send(format!("CONNECT {connect_json}\r\n").as_bytes());
        c
    }

    /// Connects, reads INFO in clear, then does the TLS handshake; panics if it fails.
    pub fn connect_tls(addr: &str, config: Arc<rustls::ClientConfig>) -> RawClient {
        Self::try_connect_tls(addr, config).unwrap_or_else(|e| panic!("TLS handshake: {e}"))
    }

    /// Like [`connect_tls`](Self::connect_tls), returning the handshake error.
    /// With TLS 1.3 a server that refuses the client certificate only says so
    /// after the client's handshake is done: that shows on the first read.
    pub fn try_connect_tls(
        addr: &str,
        config: Arc<rustls::ClientConfig>,
    ) -> Result<RawClient, String> {
        let mut c = Self::connect(addr);
        c.start_tls(config)?;
        Ok(c)
    }

    /// `tls.handshake_first`: handshake right after connecting, then INFO inside TLS.
    pub fn connect_tls_first(addr: &str, config: Arc<rustls::ClientConfig>) -> RawClient {
        let mut c = Self::tcp(addr);
        c.start_tls(config)
            .unwrap_or_else(|e| panic!("TLS handshake: {e}"));
        c.read_info();
        c
    }

    /// Does the TLS handshake on this connection (server name 127.0.0.1).
    /// Bytes already read in clear and not matched are discarded.
    pub fn start_tls(&mut self, config: Arc<rustls::ClientConfig>) -> Result<(), String> {
        let Conn::Plain(tcp) = &self.conn else {
            return Err("already TLS".into());
        };
        let tcp = tcp.try_clone().map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(EXPECT_TIMEOUT)).ok();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("server name");
        let mut tls = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
        let mut sock = tcp;
        while tls.is_handshaking() {
            match tls.complete_io(&mut sock) {
                Ok((0, 0)) => return Err("connection closed during the handshake".into()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        self.pending.clear();
        self.conn = Conn::Tls(Box::new(rustls::StreamOwned::new(tls, sock)));
        Ok(())
    }

    /// TLS (INFO in clear, then the handshake), then `CONNECT <connect_json>`,
    /// PING, and expects PONG; panics otherwise.
    pub fn connect_tls_as(
        addr: &str,
        config: Arc<rustls::ClientConfig>,
        connect_json: &str,
    ) -> RawClient {
        let mut c = Self::connect_tls(addr, config);
        c.send(format!("CONNECT {connect_json}\r\n").as_bytes());
        c.expect_before_pong(b"");
        c
    }

    /// Asserts the server refuses this TLS client at the TLS layer: the
    /// handshake fails or, as TLS 1.3 lets the client finish first, CONNECT and
    /// PING get no byte back and the connection ends. No `-ERR` either way.
    pub fn expect_tls_refused(addr: &str, config: Arc<rustls::ClientConfig>) {
        let Ok(mut c) = Self::try_connect_tls(addr, config) else {
            return;
        };
        c.try_send(b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPING\r\n");
        let (got, closed) = c.read_to_close(EXPECT_TIMEOUT);
        assert!(
            got.is_empty(),
            "a client refused by TLS got {:?}",
            String::from_utf8_lossy(&got)
        );
        assert!(closed, "a client refused by TLS is still connected");
    }

    /// The JSON of the INFO line read at connect.
    pub fn info_json(&self) -> serde_json::Value {
        let body = self.info.trim_start_matches("INFO ").trim_end();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("INFO JSON {:?}: {e}", self.info))
    }

    /// Whether this connection speaks TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self.conn, Conn::Tls(_))
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.conn.write_all(bytes).expect("send");
        self.conn.flush().expect("send");
    }

    /// Sends `bytes`; returns false instead of panicking when the peer is gone.
    pub fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.conn.write_all(bytes).is_ok() && self.conn.flush().is_ok()
    }

    fn fill(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        self.conn.tcp().set_read_timeout(Some(left)).ok();
        let mut buf = [0u8; 65536];
        match self.conn.read(&mut buf) {
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

    /// Everything that arrives within `wait` (less if the connection ends first).
    pub fn read_for(&mut self, wait: Duration) -> Vec<u8> {
        let deadline = Instant::now() + wait;
        while self.fill(deadline) {}
        std::mem::take(&mut self.pending)
    }

    /// Reads until the connection ends or `within` passes; returns what arrived
    /// and whether it ended. Read errors (a TLS alert) count as the end.
    pub fn read_to_close(&mut self, within: Duration) -> (Vec<u8>, bool) {
        let deadline = Instant::now() + within;
        let mut closed = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.conn.tcp().set_read_timeout(Some(left)).ok();
            let mut buf = [0u8; 65536];
            match self.conn.read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        (std::mem::take(&mut self.pending), closed)
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
        self.conn
            .tcp()
            .set_read_timeout(Some(Duration::from_millis(500)))
            .ok();
        let mut buf = [0u8; 1];
        match self.conn.read(&mut buf) {
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

    /// The underlying TCP socket.
    pub fn stream(&self) -> &TcpStream {
        self.conn.tcp()
    }
}
