//! Reload, key class by key class, on Gannet and nats-server 2.15 side by
//! side: settings that cannot change while a server runs refuse the whole
//! reload with the reference's message and leave the old configuration in
//! force; client limits reach new and connected clients; logging switches
//! level, file and layout; configured routes and leaf node remotes come and
//! go, and the rest of the cluster block (its permissions too) changes on
//! the running routes; JetStream is turned on and its limits raised; the
//! keys Gannet accepts without implementing them reload or refuse as the
//! reference's do; and the system account's `RELOAD` request does what
//! SIGHUP does.
use std::process::Command;
use std::time::{Duration, Instant};

use gannet_test::{free_port, with_reference, RawClient, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
const WAIT: Duration = Duration::from_secs(10);
const RELOADED: &str = "Reloaded server configuration";
const FAILED: &str = "Failed to reload server configuration: ";

fn start(bin: &str, config: &str) -> ServerProcess {
    ServerProcess::start_with_config(bin, Some(config), &[])
}

/// Rewrites the config file and sends SIGHUP.
fn rewrite_and_signal(s: &ServerProcess, config: &str) {
    std::fs::write(s.config_path(), config).unwrap();
    let status = Command::new("kill")
        .args(["-HUP", &s.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// How many times the log says `needle`.
fn count(s: &ServerProcess, needle: &str) -> usize {
    s.log().matches(needle).count()
}

/// Waits until the log says `needle` more than `before` times.
fn wait_for(s: &ServerProcess, needle: &str, before: usize) {
    let deadline = Instant::now() + WAIT;
    while count(s, needle) <= before {
        assert!(
            Instant::now() < deadline,
            "{}: no {needle:?} in\n{}",
            s.binary(),
            s.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reloads `config` and waits until the server says it is in force.
fn reload(s: &ServerProcess, config: &str) {
    let before = count(s, RELOADED);
    rewrite_and_signal(s, config);
    wait_for(s, RELOADED, before);
}

/// Reloads `config`, which the server must refuse; returns its reason.
fn refused_reload(s: &ServerProcess, config: &str) -> String {
    let before = count(s, FAILED);
    rewrite_and_signal(s, config);
    wait_for(s, FAILED, before);
    let log = s.log();
    let line = log
        .lines()
        .filter(|l| l.contains(FAILED))
        .nth(before)
        .unwrap();
    let reason = line.split_once(FAILED).unwrap().1.trim().to_string();
    assert_eq!(count(s, RELOADED), 0, "{}: {log}", s.binary());
    reason
}

/// Logs in with `user`/`pass`; whether the server let it in.
fn logs_in(s: &ServerProcess, user: &str, pass: &str) -> bool {
    let mut c = RawClient::connect_with(
        &s.addr(),
        &format!(r#"{{"verbose":false,"user":"{user}","pass":"{pass}"}}"#),
    );
    c.send(b"PING\r\n");
    let line = c.read_line();
    line.starts_with("PONG")
}

fn polled<T: PartialEq + std::fmt::Debug>(what: &str, want: T, mut get: impl FnMut() -> T) {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = get();
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {got:?}, want {want:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn monitor(s: &ServerProcess, path: &str) -> serde_json::Value {
    let (status, body) = s.http_get(path);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn settings_that_need_a_restart_refuse_the_reload_and_keep_the_old_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let store = |name: &str| dir.path().join(name).display().to_string();
    let (cluster_a, cluster_b, leaf_a, leaf_b) =
        (free_port(), free_port(), free_port(), free_port());
    // (before, after, the reference's reason)
    let cases: Vec<(String, String, String)> = vec![
        (
            "server_name: s1".into(),
            "server_name: s2".into(),
            "config reload not supported for ServerName: old=s1, new=s2".into(),
        ),
        (
            "max_pending: 10000000".into(),
            "max_pending: 20000000".into(),
            "config reload not supported for MaxPending: old=10000000, new=20000000".into(),
        ),
        (
            "lame_duck_duration: \"2m\"".into(),
            "lame_duck_duration: \"1m\"".into(),
            "config reload not supported for LameDuckDuration: old=2m0s, new=1m0s".into(),
        ),
        (
            "max_subscriptions: 10".into(),
            "max_subscriptions: 20".into(),
            "config reload not supported for MaxSubs: old=10, new=20".into(),
        ),
        (
            "no_header_support: false".into(),
            "no_header_support: true".into(),
            "config reload not supported for NoHeaderSupport: old=false, new=true".into(),
        ),
        (
            "accounts { S1: {}, S2: {} }\nsystem_account: S1".into(),
            "accounts { S1: {}, S2: {} }\nsystem_account: S2".into(),
            "config reload not supported for SystemAccount: old=S1, new=S2".into(),
        ),
        (
            format!("cluster {{ name: c, host: 127.0.0.1, port: {cluster_a} }}"),
            format!("cluster {{ name: c, host: 127.0.0.1, port: {cluster_b} }}"),
            format!(
                "config reload not supported for cluster port: old={cluster_a}, new={cluster_b}"
            ),
        ),
        (
            format!("cluster {{ name: c, host: 127.0.0.1, port: {cluster_a} }}"),
            format!("cluster {{ name: c, host: 127.0.0.1, port: {cluster_a}, advertise: \"h:abc\" }}"),
            "invalid Cluster.Advertise value of h:abc, err=strconv.Atoi: parsing \"abc\": invalid syntax".into(),
        ),
        (
            format!("leafnodes {{ host: 127.0.0.1, port: {leaf_a} }}"),
            format!("leafnodes {{ host: 127.0.0.1, port: {leaf_b} }}"),
            format!(
                "config reload not supported for LeafNode: field \"Port\": old={leaf_a}, new={leaf_b}"
            ),
        ),
        (
            "leafnodes { remotes: [ { url: \"nats://u:p@127.0.0.1:9\" } ] }".into(),
            "leafnodes { remotes: [ { url: \"nats://u:p@127.0.0.1:9\", deny_imports: [\"x\", \"y\"] } ] }".into(),
            "config reload not supported for LeafNode: remote urls=[\"nats://u:xxxxx@127.0.0.1:9\"], account=\"$G\": field \"DenyImports\": old=[], new=[x y]".into(),
        ),
        (
            format!("jetstream {{ store_dir: \"{}\", max_mem: 2MB, max_file: 10MB }}", store("js1")),
            format!("jetstream {{ store_dir: \"{}\", max_mem: 1MB, max_file: 10MB }}", store("js1")),
            "config reload not supported for decreasing jetstream max memory and store".into(),
        ),
        (
            format!("jetstream {{ store_dir: \"{}\", max_mem: 2MB, max_file: 10MB }}", store("js2")),
            format!("jetstream {{ store_dir: \"{}\", max_mem: 2MB, max_file: 10MB }}", store("js3")),
            "config reload not supported for jetstream storage directory".into(),
        ),
        (
            format!("jetstream {{ store_dir: \"{}\" }}", store("js4")),
            format!("jetstream {{ store_dir: \"{}\", sync_interval: \"1m\" }}", store("js4")),
            "config reload not supported for SyncInterval: old=2m0s, new=1m0s".into(),
        ),
        (
            format!("jetstream {{ store_dir: \"{}\" }}", store("js5")),
            format!("jetstream {{ store_dir: \"{}\", strict: false }}", store("js5")),
            "config reload not supported for NoJetStreamStrict: old=false, new=true".into(),
        ),
        (
            format!("jetstream {{ store_dir: \"{}\" }}", store("js6")),
            format!("jetstream {{ store_dir: \"{}\", request_queue_limit: 100 }}", store("js6")),
            "config reload not supported for JetStreamRequestQueueLimit: old=10000, new=100".into(),
        ),
    ];
    for bin in with_reference(BIN) {
        for (before, after, reason) in &cases {
            let s = start(
                &bin,
                &format!("authorization {{ user: a, password: a }}\n{before}\n"),
            );
            // The same reload also changes the password: nothing of it
            // may take effect.
            let got = refused_reload(
                &s,
                &format!("authorization {{ user: a, password: b }}\n{after}\n"),
            );
            assert_eq!(&got, reason, "{bin}");
            assert!(logs_in(&s, "a", "a"), "{bin}: {before}");
            assert!(!logs_in(&s, "a", "b"), "{bin}: {before}");
        }
        // A new password for leafs is refused too (nats-server prints both
        // passwords; Gannet masks them).
        let leaf = |password: &str| {
            format!(
                "leafnodes {{ host: 127.0.0.1, port: {leaf_a}, authorization {{ user: l, password: {password} }} }}\n"
            )
        };
        let s = start(&bin, &leaf("one"));
        let got = refused_reload(&s, &leaf("two"));
        assert!(
            got.starts_with("config reload not supported for LeafNode: field \"Password\": old="),
            "{bin}: {got}"
        );
        if bin == BIN {
            assert!(!got.contains("one") && !got.contains("two"), "{got}");
        }
    }
}

#[test]
fn tls_is_turned_on_and_off_by_reload() {
    let pki = gannet_test::certs::Pki::temp();
    let cert = pki.server_cert("server", gannet_test::certs::KeyKind::Ecdsa);
    let tls = gannet_test::certs::tls_block(&cert, pki.ca_str(), "");
    let client_tls = gannet_test::tls_config(&pki.dir().join("ca.pem"), None);
    // Servers PING a new client after about 2 s: `ping` reads past them.
    for bin in with_reference(BIN) {
        let s = start(&bin, "max_payload: 1000\nping_interval: \"1m\"\n");
        let mut plain = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
        assert!(!ping(&mut plain).contains("-ERR"), "{bin}");

        reload(
            &s,
            &format!("max_payload: 1000\nping_interval: \"1m\"\n{tls}"),
        );
        let fresh = RawClient::connect(&s.addr());
        assert_eq!(fresh.info_json()["tls_required"], true, "{bin}");
        let mut secure = RawClient::connect_tls(&s.addr(), client_tls.clone());
        secure.send(b"CONNECT {\"verbose\":false}\r\n");
        assert!(!ping(&mut secure).contains("-ERR"), "{bin}");
        // A client connected in clear before stays connected.
        assert!(!ping(&mut plain).contains("-ERR"), "{bin}");

        reload(&s, "max_payload: 1000\nping_interval: \"1m\"\n");
        let mut fresh = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
        assert_ne!(fresh.info_json()["tls_required"], true, "{bin}");
        assert!(!ping(&mut fresh).contains("-ERR"), "{bin}");
        assert!(!ping(&mut secure).contains("-ERR"), "{bin}");
    }
}

/// The `.ports` files in `dir`.
fn ports_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".ports"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_ports_file_moves_with_ports_file_dir() {
    for bin in with_reference(BIN) {
        // Started by hand: the harness's own --ports_file_dir flag would
        // override the config's on every reload.
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let port = free_port();
        let config_dir = tempfile::tempdir().unwrap();
        let config = config_dir.path().join("server.conf");
        let conf = |dir: &std::path::Path| {
            format!(
                "listen: \"127.0.0.1:{port}\"\nports_file_dir: \"{}\"\n",
                dir.display()
            )
        };
        std::fs::write(&config, conf(first.path())).unwrap();
        let child = Killed(
            Command::new(&bin)
                .arg("-c")
                .arg(&config)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        polled("a ports file in the first directory", 1, || {
            ports_files(first.path()).len()
        });
        std::fs::write(&config, conf(second.path())).unwrap();
        let status = Command::new("kill")
            .args(["-HUP", &child.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        polled("a ports file in the second directory", 1, || {
            ports_files(second.path()).len()
        });
        polled("none left in the first", 0, || {
            ports_files(first.path()).len()
        });
        let name = &ports_files(second.path())[0];
        let text = std::fs::read_to_string(second.path().join(name)).unwrap();
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{bin}: {text}");
    }
}

/// A server process killed when the test is done with it, passed or not.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_new_payload_limit_reaches_new_and_connected_clients() {
    for bin in with_reference(BIN) {
        let s = start(&bin, "max_payload: 1000\n");
        let payload = vec![b'x'; 1500];
        let mut op = format!("PUB big {}\r\n", payload.len()).into_bytes();
        op.extend_from_slice(&payload);
        op.extend_from_slice(b"\r\n");
        let publish = |c: &mut RawClient| {
            // Whole: the server may close as soon as it reads the size.
            let _ = c.try_send(&op);
        };
        let mut before = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
        publish(&mut before);
        let (got, closed) = before.read_to_close(Duration::from_secs(5));
        assert!(closed, "{bin}");
        assert!(
            String::from_utf8_lossy(&got).contains("-ERR 'Maximum Payload Violation'"),
            "{bin}: {}",
            String::from_utf8_lossy(&got)
        );
        let mut connected = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
        connected.expect_before_pong(b"");
        reload(&s, "max_payload: 2000\n");
        let fresh = RawClient::connect(&s.addr());
        assert_eq!(fresh.info_json()["max_payload"], 2000, "{bin}");
        publish(&mut connected);
        connected.expect_before_pong(b"");
    }
}

#[test]
fn logging_changes_level_and_file_on_reload() {
    for bin in with_reference(BIN) {
        let s = start(&bin, "debug: false\n");
        let _quiet = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
        std::thread::sleep(Duration::from_millis(200));
        assert!(!s.log().contains("[DBG]"), "{bin}: {}", s.log());
        reload(&s, "debug: true\n");
        let _loud = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
        wait_for(&s, "Client connection created", 0);
        assert!(s.log().contains("[DBG]"), "{bin}");
        // Into a file from now on.
        let file = s.dir().join("moved.log");
        rewrite_and_signal(
            &s,
            &format!("debug: true\nlog_file: \"{}\"\n", file.display()),
        );
        let deadline = Instant::now() + WAIT;
        while !std::fs::read_to_string(&file)
            .unwrap_or_default()
            .contains(RELOADED)
        {
            assert!(
                Instant::now() < deadline,
                "{bin}: nothing in {}",
                file.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let _third = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
        let deadline = Instant::now() + WAIT;
        while !std::fs::read_to_string(&file)
            .unwrap_or_default()
            .contains("Client connection created")
        {
            assert!(
                Instant::now() < deadline,
                "{bin}: nothing in {}",
                file.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn gannet_switches_to_json_lines_on_reload() {
    let s = start(BIN, "log_format: text\n");
    reload(&s, "log_format: json\ndebug: true\n");
    let _c = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
    wait_for(&s, "Client connection created", 0);
    let log = s.log();
    let line = log
        .lines()
        .find(|l| l.contains("Client connection created"))
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(json["level"], "DEBUG");
}

/// Route connections from `s` (`num_routes` of its ROUTEZ).
fn routes(s: &ServerProcess) -> u64 {
    monitor(s, "/routez")["num_routes"].as_u64().unwrap()
}

#[test]
fn configured_routes_come_and_go_with_reloads() {
    let cluster = "cluster { name: c, host: 127.0.0.1, port: -1 }";
    for bin in with_reference(BIN) {
        let peer = start(BIN, &format!("http_port: -1\n{cluster}\n"));
        let peer_port = peer.cluster_port.unwrap();
        let s = start(&bin, &format!("http_port: -1\n{cluster}\n"));
        assert_eq!(routes(&s), 0);
        let with_route = format!(
            "http_port: -1\ncluster {{ name: c, host: 127.0.0.1, port: -1, routes: [\"nats-route://127.0.0.1:{peer_port}\"] }}\n"
        );
        reload(&s, &with_route);
        polled(&format!("{bin}: routed"), true, || {
            routes(&s) > 0 && routes(&peer) > 0
        });
        // Traffic crosses the new route.
        let mut sub = RawClient::connect_with(&peer.addr(), r#"{"verbose":false}"#);
        sub.send(b"SUB over 1\r\n");
        ping(&mut sub);
        let mut publisher = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
        polled(&format!("{bin}: interest"), true, || {
            publisher.send(b"PUB over 2\r\nhi\r\n");
            ping(&mut publisher);
            let got = sub.read_for(Duration::from_millis(100));
            String::from_utf8_lossy(&got).contains("MSG over 1 2")
        });
        // Taken out again: the route closes and is not redialed.
        reload(&s, &format!("http_port: -1\n{cluster}\n"));
        polled(&format!("{bin}: unrouted"), (0, 0), || {
            (routes(&s), routes(&peer))
        });
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!((routes(&s), routes(&peer)), (0, 0), "{bin}");
    }
}

/// Leaf node connections of `s` (`leafnodes` of its LEAFZ).
fn leafs(s: &ServerProcess) -> u64 {
    monitor(s, "/leafz")["leafnodes"].as_u64().unwrap()
}

#[test]
fn leaf_remotes_come_and_go_with_reloads() {
    let hub = start(
        BIN,
        "http_port: -1\nleafnodes { host: 127.0.0.1, port: -1 }\n",
    );
    let hub_port = hub.leaf_port.unwrap();
    for bin in with_reference(BIN) {
        let s = start(
            &bin,
            "http_port: -1\nleafnodes { reconnect: \"100ms\", remotes: [] }\n",
        );
        reload(
            &s,
            &format!(
                "http_port: -1\nleafnodes {{ reconnect: \"100ms\", remotes: [ {{ url: \"nats-leaf://127.0.0.1:{hub_port}\" }} ] }}\n"
            ),
        );
        polled(&format!("{bin}: leaf up"), (1, 1), || {
            (leafs(&s), leafs(&hub))
        });
        reload(
            &s,
            "http_port: -1\nleafnodes { reconnect: \"100ms\", remotes: [] }\n",
        );
        polled(&format!("{bin}: leaf down"), (0, 0), || {
            (leafs(&s), leafs(&hub))
        });
        std::thread::sleep(Duration::from_millis(1000));
        assert_eq!((leafs(&s), leafs(&hub)), (0, 0), "{bin}");
    }
}

#[test]
fn the_leaf_listener_takes_new_certificates_on_reload() {
    // Two authorities: leafs trust one each.
    let (first, second) = (
        gannet_test::certs::Pki::temp(),
        gannet_test::certs::Pki::temp(),
    );
    // A port of its own: nats-server leaves a TLS leaf listener out of its
    // ports file.
    let port = free_port();
    let listener = |pki: &gannet_test::certs::Pki| {
        let cert = pki.server_cert("hub", gannet_test::certs::KeyKind::Ecdsa);
        let tls = gannet_test::certs::tls_block(&cert, pki.ca_str(), "");
        format!("http_port: -1\nleafnodes {{ host: 127.0.0.1, port: {port}\n{tls} }}\n")
    };
    let leaf = |port: u16, pki: &gannet_test::certs::Pki| {
        format!(
            "http_port: -1\nleafnodes {{ reconnect: \"100ms\", remotes: [ {{ url: \"tls://127.0.0.1:{port}\", tls {{ ca_file: \"{}\" }} }} ] }}\n",
            pki.ca_str()
        )
    };
    for bin in with_reference(BIN) {
        let hub = start(&bin, &listener(&first));
        let old = start(BIN, &leaf(port, &first));
        polled(&format!("{bin}: first leaf up"), 1, || leafs(&hub));
        reload(&hub, &listener(&second));
        let new = start(BIN, &leaf(port, &second));
        polled(
            &format!("{bin}: second leaf up, first kept"),
            (2, 1, 1),
            || (leafs(&hub), leafs(&old), leafs(&new)),
        );
    }
}

#[test]
fn new_route_credentials_close_routes_they_no_longer_admit() {
    let cluster = |port: u16, user: &str| {
        format!(
            "http_port: -1\ncluster {{ name: C1, listen: \"127.0.0.1:{port}\", authorization {{ user: {user}, password: pw }} }}\n"
        )
    };
    let dialer = |port: u16, user: &str| {
        format!(
            "http_port: -1\ncluster {{ name: C1, listen: \"127.0.0.1:-1\", routes: [\"nats-route://{user}:pw@127.0.0.1:{port}\"] }}\n"
        )
    };
    for bin in with_reference(BIN) {
        let port = free_port();
        let a = start(&bin, &cluster(port, "old"));
        let b = start(BIN, &dialer(port, "old"));
        polled(&format!("{bin}: B routed"), 1, || a.route_peers());
        // B's credentials no longer do: its route is closed (and its
        // redials refused); C, with the new ones, is let in.
        reload(&a, &cluster(port, "new"));
        let c = start(BIN, &dialer(port, "new"));
        polled(&format!("{bin}: C in, B out"), (1, 1, 0), || {
            (a.route_peers(), c.route_peers(), b.route_peers())
        });
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(
            (a.route_peers(), b.route_peers()),
            (1, 0),
            "{bin}: old credentials stay refused"
        );
    }
}

/// A `tls { }` block for a server-to-server link: a new authority `name`
/// (its certificate in `dir`), and a certificate it issued for `subject`
/// at 127.0.0.1, which peers must present too.
fn peer_tls(dir: &std::path::Path, name: &str, subject: &str) -> String {
    use gannet_test::certs::{CertAuthority, CertSpec};
    let ca = CertAuthority::new(name);
    let ca_file = dir.join(format!("{name}.pem"));
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let files = ca
        .issue(&CertSpec::peer(subject).ip("127.0.0.1"))
        .write(dir, name);
    format!(
        "tls {{ cert_file: \"{}\", key_file: \"{}\", ca_file: \"{}\", verify: true, timeout: 2 }}",
        files.cert.display(),
        files.key.display(),
        ca_file.display()
    )
}

#[test]
fn routes_made_after_a_reload_use_the_new_cluster_tls() {
    let dir = tempfile::tempdir().unwrap();
    // Two authorities; each node trusts and presents one.
    let (first, second) = (
        peer_tls(dir.path(), "first", "CN=route"),
        peer_tls(dir.path(), "second", "CN=route"),
    );
    let node = |port: &str, routes: &str, tls: &str| {
        format!(
            "http_port: -1\ncluster {{ name: C1, listen: \"127.0.0.1:{port}\", routes: [{routes}]\n {tls} }}\n"
        )
    };
    for bin in with_reference(BIN) {
        let port = free_port();
        let route = format!("\"nats-route://127.0.0.1:{port}\"");
        let a = start(&bin, &node(&port.to_string(), "", &first));
        let b = start(BIN, &node("-1", &route, &first));
        polled(&format!("{bin}: B routed"), 1, || a.route_peers());
        reload(&a, &node(&port.to_string(), "", &second));
        let c = start(BIN, &node("-1", &route, &second));
        polled(&format!("{bin}: C routed, B kept"), (2, 1), || {
            (a.route_peers(), c.route_peers().min(1))
        });
        assert_eq!(b.route_peers(), 1, "{bin}");
    }
}

#[test]
fn jetstream_is_turned_on_and_off_and_its_limits_raised() {
    for bin in with_reference(BIN) {
        let dir = tempfile::tempdir().unwrap();
        let js = |mem: &str| {
            format!(
                "http_port: -1\njetstream {{ store_dir: \"{}\", max_mem: {mem}, max_file: 10MB }}\n",
                dir.path().display()
            )
        };
        let s = start(&bin, "http_port: -1\n");
        let mut c = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
        c.send(b"SUB _INBOX.r 1\r\nPUB $JS.API.INFO _INBOX.r 0\r\n\r\n");
        let got = String::from_utf8_lossy(&c.read_for(Duration::from_millis(500))).into_owned();
        assert!(!got.contains("\"memory\""), "{bin}: {got}");
        reload(&s, &js("1MB"));
        polled(&format!("{bin}: JetStream on"), true, || {
            c.send(b"PUB $JS.API.INFO _INBOX.r 0\r\n\r\n");
            let got = String::from_utf8_lossy(&c.read_for(Duration::from_millis(200))).into_owned();
            got.contains("\"memory\"")
        });
        let max_memory = |s: &ServerProcess| monitor(s, "/jsz")["config"]["max_memory"].clone();
        assert_eq!(max_memory(&s), 1024 * 1024, "{bin}");
        reload(&s, &js("2MB"));
        polled(
            &format!("{bin}: raised"),
            serde_json::json!(2 * 1024 * 1024),
            || max_memory(&s),
        );
        // A stream with one message, then JetStream off: the API is gone.
        let create = r#"{"name":"S","subjects":["s.>"],"storage":"file"}"#;
        c.send(
            format!(
                "PUB $JS.API.STREAM.CREATE.S _INBOX.r {}\r\n{create}\r\n",
                create.len()
            )
            .as_bytes(),
        );
        let got = String::from_utf8_lossy(&c.read_for(Duration::from_millis(500))).into_owned();
        assert!(got.contains("stream_create_response"), "{bin}: {got}");
        c.send(b"PUB s.x _INBOX.r 2\r\nhi\r\n");
        let got = String::from_utf8_lossy(&c.read_for(Duration::from_millis(500))).into_owned();
        assert!(got.contains("\"seq\":1"), "{bin}: {got}");
        reload(&s, "http_port: -1\n");
        let info = |c: &mut RawClient| {
            c.send(b"PUB $JS.API.STREAM.INFO.S _INBOX.r 0\r\n\r\n");
            String::from_utf8_lossy(&c.read_for(Duration::from_millis(300))).into_owned()
        };
        polled(&format!("{bin}: JetStream off"), false, || {
            info(&mut c).contains("MSG _INBOX.r")
        });
        // On again: the stream is back with its message.
        reload(&s, &js("2MB"));
        polled(&format!("{bin}: JetStream on again"), true, || {
            info(&mut c).contains("\"messages\":1")
        });
    }
}

#[test]
fn the_system_account_reload_request_reloads() {
    let base = "accounts { SYS: { users: [ {user: sys, password: sys} ] }, A: { users: [ {user: a, password: PASS} ] } }\nsystem_account: SYS\n";
    for bin in with_reference(BIN) {
        let s = start(&bin, &base.replace("PASS", "a"));
        let id = RawClient::connect(&s.addr()).info_json()["server_id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut sys = RawClient::connect_with(
            &s.addr(),
            r#"{"verbose":false,"user":"sys","pass":"sys","headers":true}"#,
        );
        sys.send(b"SUB _INBOX.reload 1\r\n");
        sys.expect_before_pong(b"");
        let ask = |sys: &mut RawClient| -> serde_json::Value {
            sys.send(format!("PUB $SYS.REQ.SERVER.{id}.RELOAD _INBOX.reload 0\r\n\r\n").as_bytes());
            let line = sys.read_line();
            assert!(line.starts_with("MSG _INBOX.reload 1"), "{bin}: {line}");
            serde_json::from_str(&sys.read_line()).unwrap()
        };
        std::fs::write(s.config_path(), base.replace("PASS", "b")).unwrap();
        let answer = ask(&mut sys);
        assert_eq!(answer["server"]["id"], id.as_str(), "{bin}: {answer}");
        assert!(answer.get("error").is_none(), "{bin}: {answer}");
        assert!(answer.get("data").is_none(), "{bin}: {answer}");
        assert!(logs_in(&s, "a", "b"), "{bin}");
        assert!(!logs_in(&s, "a", "a"), "{bin}");
        // A refused reload answers with the reason.
        std::fs::write(
            s.config_path(),
            format!("{}server_name: other\n", base.replace("PASS", "c")),
        )
        .unwrap();
        let answer = ask(&mut sys);
        assert_eq!(answer["error"]["code"], 500, "{bin}: {answer}");
        let reason = answer["error"]["description"].as_str().unwrap();
        assert!(
            reason.starts_with("config reload not supported for ServerName"),
            "{bin}: {reason}"
        );
        assert!(logs_in(&s, "a", "b"), "{bin}");
    }
}

/// Sends a PING and reads until its PONG; returns what came (routes
/// coming and going send clients INFOs at any time).
fn ping(c: &mut RawClient) -> String {
    c.send(b"PING\r\n");
    let deadline = Instant::now() + WAIT;
    let mut got = String::new();
    while !got.contains("PONG\r\n") {
        assert!(Instant::now() < deadline, "no PONG in {got:?}");
        got.push_str(&String::from_utf8_lossy(
            &c.read_for(Duration::from_millis(20)),
        ));
    }
    got
}

/// What arrives at `sub` while `publisher` sends one message on each of
/// `subjects`, after both connections answered a PING.
fn delivered(sub: &mut RawClient, publisher: &mut RawClient, subjects: &[&str]) -> String {
    ping(sub);
    for subject in subjects {
        publisher.send(format!("PUB {subject} 2\r\nhi\r\n").as_bytes());
    }
    ping(publisher);
    String::from_utf8_lossy(&sub.read_for(Duration::from_millis(150))).into_owned()
}

#[test]
fn cluster_permissions_pooling_and_name_change_on_the_running_routes() {
    let block = |port: u16, routes: &str, settings: &str| {
        format!(
            "http_port: -1\nping_interval: \"1m\"\n\
             accounts {{ A {{ users: [{{user: a, password: a}}] }}, B {{ users: [{{user: b, password: b}}] }} }}\n\
             cluster {{ name: C1, listen: \"127.0.0.1:{port}\", {routes} {settings} }}\n"
        )
    };
    let login = r#"{"verbose":false,"user":"b","pass":"b"}"#;
    for bin in with_reference(BIN) {
        let (port, peer_port) = (free_port(), free_port());
        let to_s = format!("routes: [\"nats-route://127.0.0.1:{port}\"],");
        let s = start(&bin, &block(port, "", ""));
        let peer = start(BIN, &block(peer_port, &to_s, ""));
        // Three pooled connections and the system account's.
        polled(&format!("{bin}: pooled"), (4, 4), || {
            (routes(&s), routes(&peer))
        });
        let mut sub = RawClient::connect_with(&s.addr(), login);
        sub.send(b"SUB secret 1\r\nSUB open 2\r\n");
        let mut publisher = RawClient::connect_with(&peer.addr(), login);
        polled(&format!("{bin}: both cross"), true, || {
            let got = delivered(&mut sub, &mut publisher, &["secret", "open"]);
            got.contains("MSG secret 1") && got.contains("MSG open 2")
        });

        // `s` no longer imports `secret`: only `open` crosses.
        let deny = "permissions { import { deny: [\"secret\"] } }";
        reload(&s, &block(port, "", deny));
        polled(&format!("{bin}: open crosses again"), true, || {
            delivered(&mut sub, &mut publisher, &["open"]).contains("MSG open 2")
        });
        let got = delivered(&mut sub, &mut publisher, &["secret", "open", "secret"]);
        assert!(got.contains("MSG open 2"), "{bin}: {got}");
        assert!(
            !got.contains("MSG secret"),
            "{bin}: denied import crossed: {got}"
        );
        // And back.
        reload(&s, &block(port, "", ""));
        polled(&format!("{bin}: secret crosses again"), true, || {
            delivered(&mut sub, &mut publisher, &["secret"]).contains("MSG secret 1")
        });

        // One pooled connection, and account A pinned: three connections.
        let pooling = "pool_size: 1, accounts: [A]";
        reload(&peer, &block(peer_port, &to_s, pooling));
        reload(&s, &block(port, "", pooling));
        polled(&format!("{bin}: pool of one and A"), (3, 3), || {
            (routes(&s), routes(&peer))
        });
        let pinned = monitor(&s, "/routez")["routes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["account"] == "A")
            .count();
        assert_eq!(pinned, 1, "{bin}: {}", monitor(&s, "/routez"));
        polled(&format!("{bin}: traffic on the new pool"), true, || {
            delivered(&mut sub, &mut publisher, &["open"]).contains("MSG open 2")
        });

        // A new name is the cluster's from then on.
        reload(&s, &block(port, "", &format!("{pooling}, name: C2")));
        assert_eq!(monitor(&s, "/varz")["cluster"]["name"], "C2", "{bin}");
        assert!(
            !s.log().contains("take effect after a restart"),
            "{bin}: {}",
            s.log()
        );
    }
}

#[test]
fn new_jetstream_consumer_limits_apply_to_consumers_made_after_the_reload() {
    for bin in with_reference(BIN) {
        let dir = tempfile::tempdir().unwrap();
        let js = |cap: u32| {
            format!(
                "jetstream {{ store_dir: \"{}\", limits: {{ max_ack_pending: {cap} }} }}\n",
                dir.path().display()
            )
        };
        let s = start(&bin, &js(10));
        let mut c = RawClient::connect_with(&s.addr(), r#"{"verbose":false}"#);
        c.send(b"SUB _INBOX.r 1\r\n");
        let request = |c: &mut RawClient, subject: &str, body: &str| {
            c.send(format!("PUB {subject} _INBOX.r {}\r\n{body}\r\n", body.len()).as_bytes());
            String::from_utf8_lossy(&c.read_for(Duration::from_millis(500))).into_owned()
        };
        let got = request(
            &mut c,
            "$JS.API.STREAM.CREATE.S",
            r#"{"name":"S","subjects":["s.>"]}"#,
        );
        assert!(got.contains("stream_create_response"), "{bin}: {got}");
        let consumer = |name: &str| {
            format!(
                r#"{{"stream_name":"S","config":{{"durable_name":"{name}","ack_policy":"explicit","max_ack_pending":100}}}}"#
            )
        };
        let got = request(&mut c, "$JS.API.CONSUMER.CREATE.S.C1", &consumer("C1"));
        assert!(got.contains("exceeds system limit of 10"), "{bin}: {got}");
        reload(&s, &js(1000));
        let got = request(&mut c, "$JS.API.CONSUMER.CREATE.S.C2", &consumer("C2"));
        assert!(got.contains("\"name\":\"C2\""), "{bin}: {got}");
        assert!(!got.contains("error"), "{bin}: {got}");
    }
}

/// The names of the clusters with a gateway connection into `s`.
fn inbound_gateways(s: &ServerProcess) -> Vec<String> {
    let gatewayz = monitor(s, "/gatewayz");
    let mut names: Vec<String> = gatewayz["inbound_gateways"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn gateways_made_after_a_reload_use_the_new_gateway_tls() {
    let dir = tempfile::tempdir().unwrap();
    // Two authorities; each gateway trusts and presents one.
    let (first, second) = (
        peer_tls(dir.path(), "first", "CN=gateway"),
        peer_tls(dir.path(), "second", "CN=gateway"),
    );
    let node = |name: &str, port: &str, to: &str, tls: &str| {
        format!(
            "http_port: -1\ngateway {{ name: {name}, listen: \"127.0.0.1:{port}\", gateways: [{to}]\n {tls} }}\n"
        )
    };
    for bin in with_reference(BIN) {
        let port = free_port();
        let to_a = format!("{{ name: A, urls: [\"nats://127.0.0.1:{port}\"] }}");
        let a = start(&bin, &node("A", &port.to_string(), "", &first));
        let _b = start(BIN, &node("B", "-1", &to_a, &first));
        polled(&format!("{bin}: B in"), vec!["B".to_string()], || {
            inbound_gateways(&a)
        });
        // Changes of anything but TLS stay refused.
        let other = refused_reload(
            &a,
            &node("A", &port.to_string(), &to_a.replace('A', "Z"), &second),
        );
        assert!(
            other.starts_with("config reload not supported for Gateway"),
            "{bin}: {other}"
        );
        reload(&a, &node("A", &port.to_string(), "", &second));
        let _c = start(BIN, &node("C", "-1", &to_a, &second));
        polled(
            &format!("{bin}: C in with the new TLS, B kept"),
            vec!["B".to_string(), "C".to_string()],
            || inbound_gateways(&a),
        );
    }
}

#[test]
fn keys_gannet_does_not_implement_reload_as_the_reference_classifies_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("js").display().to_string();
    let (ws, mqtt, prof) = (free_port(), free_port(), free_port());
    let mqtt_block = |port: u16, ack_wait: &str| {
        format!("jetstream {{ store_dir: \"{store}\" }}\nmqtt {{ port: {port}, ack_wait: \"{ack_wait}\" }}")
    };
    // (before, after, the start of the refusal, or `None`: it reloads)
    let cases: Vec<(String, String, Option<String>)> = vec![
        (
            String::new(),
            format!("prof_port: {prof}"),
            Some(format!("config reload not supported for ProfPort: old=0, new={prof}")),
        ),
        (
            String::new(),
            "proxy_protocol: true".into(),
            Some("config reload not supported for ProxyProtocol: old=false, new=true".into()),
        ),
        (
            String::new(),
            "feature_flags: { js_ack_fc_v2: true }".into(),
            Some("config reload not supported for FeatureFlags: old=map[], new=map[js_ack_fc_v2:true]".into()),
        ),
        (
            format!("websocket {{ port: {ws}, no_tls: true }}"),
            format!("websocket {{ port: {}, no_tls: true }}", ws + 1),
            Some("config reload not supported for Websocket: old=".into()),
        ),
        (
            mqtt_block(mqtt, "30s"),
            mqtt_block(mqtt + 1, "30s"),
            Some("config reload not supported for MQTT: old=".into()),
        ),
        (
            String::new(),
            "default_sentinel: \"abc\"".into(),
            Some("default sentinel requires operators and accounts".into()),
        ),
        // The same settings written another way, and what the reference
        // reloads.
        (
            format!("websocket {{ port: {ws}, no_tls: true }}"),
            format!("ws {{\n  no_tls: true\n  port: {ws}\n}}"),
            None,
        ),
        (mqtt_block(mqtt, "30s"), mqtt_block(mqtt, "1m"), None),
        ("server_tags: [a]".into(), "server_tags: [b]".into(), None),
        (String::new(), "connect_error_reports: 10".into(), None),
        (String::new(), "server_metadata: { a: b }".into(), None),
    ];
    for bin in with_reference(BIN) {
        for (before, after, refusal) in &cases {
            let config = |rest: &str| format!("server_name: n1\n{rest}\n");
            let s = start(&bin, &config(before));
            match refusal {
                Some(reason) => {
                    let got = refused_reload(&s, &config(after));
                    assert!(got.starts_with(reason.as_str()), "{bin}: {after}: {got}");
                }
                None => reload(&s, &config(after)),
            }
        }
    }
}

/// The ids of `s`'s route connections.
fn route_ids(s: &ServerProcess) -> Vec<u64> {
    let mut ids: Vec<u64> = monitor(s, "/routez")["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["rid"].as_u64())
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn route_permissions_change_on_the_running_routes() {
    let block = |port: u16, routes: &str, settings: &str| {
        format!(
            "http_port: -1\nping_interval: \"1m\"\n\
             cluster {{ name: C1, pool_size: -1, listen: \"127.0.0.1:{port}\", {routes} {settings} }}\n"
        )
    };
    let mut pairs = vec![(BIN.to_string(), BIN.to_string())];
    if let Some(reference) = gannet_test::reference_server_binary() {
        pairs.push((reference.clone(), BIN.to_string()));
        pairs.push((BIN.to_string(), reference));
    }
    for (s_bin, peer_bin) in pairs {
        let who = format!("{s_bin} reloading, {peer_bin} its peer");
        let (port, peer_port) = (free_port(), free_port());
        let to_s = format!("routes: [\"nats-route://127.0.0.1:{port}\"],");
        let s = start(&s_bin, &block(port, "", ""));
        let peer = start(&peer_bin, &block(peer_port, &to_s, ""));
        polled(&format!("{who}: routed"), (1, 1), || {
            (routes(&s), routes(&peer))
        });
        let login = r#"{"verbose":false}"#;
        let (mut on_s, mut on_peer) = (
            RawClient::connect_with(&s.addr(), login),
            RawClient::connect_with(&peer.addr(), login),
        );
        on_s.send(b"SUB secret 1\r\nSUB open 2\r\n");
        on_peer.send(b"SUB held 3\r\n");
        let (mut from_s, mut from_peer) = (
            RawClient::connect_with(&s.addr(), login),
            RawClient::connect_with(&peer.addr(), login),
        );
        let flows = |on_s: &mut RawClient,
                     on_peer: &mut RawClient,
                     from_s: &mut RawClient,
                     from_peer: &mut RawClient| {
            let into_s = delivered(on_s, from_peer, &["secret", "open"]);
            let into_peer = delivered(on_peer, from_s, &["held"]);
            (
                into_s.contains("MSG secret 1"),
                into_s.contains("MSG open 2"),
                into_peer.contains("MSG held 3"),
            )
        };
        polled(&format!("{who}: all cross"), (true, true, true), || {
            flows(&mut on_s, &mut on_peer, &mut from_s, &mut from_peer)
        });
        let ids = route_ids(&s);

        // `s` takes no `secret` from its peer and sends it no `held`.
        let perms = "permissions { import { deny: [\"secret\"] }, export { deny: [\"held\"] } }";
        reload(&s, &block(port, "", perms));
        polled(&format!("{who}: denied"), (false, true, false), || {
            flows(&mut on_s, &mut on_peer, &mut from_s, &mut from_peer)
        });
        // And back: the peer sends its interest in `held` again when told.
        reload(&s, &block(port, "", ""));
        polled(
            &format!("{who}: all cross again"),
            (true, true, true),
            || flows(&mut on_s, &mut on_peer, &mut from_s, &mut from_peer),
        );
        assert_eq!(route_ids(&s), ids, "{who}: the route was made again");
    }
}
