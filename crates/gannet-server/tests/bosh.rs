//! BOSH over Gannet (docs/BOSH.md): the director, the health monitor and
//! the agents, each identified by its client certificate, with the permissions
//! BOSH gives them, in the two setups BOSH has used:
//!
//! * `fork_*`: the seed's `certificate_clients` config (docs/BOSH.md §2), as the
//!   cloudfoundry/gnatsd fork ran it. No reference binary implements it, so these
//!   tests follow the rules read from the fork's source and skip themselves when
//!   `$GANNET_TEST_SERVER` names another server.
//! * `upstream_*`: today's `verify_and_map` with one user per certificate subject
//!   in an included `auth.json`, reloaded with `--signal reload=<pid file>`
//!   (docs/BOSH.md §4). These run against nats-server 2.15:
//!   `GANNET_TEST_SERVER=/path/to/nats-server cargo test -p gannet-server --test bosh`.
//!
//! The last test runs `examples/bosh/make-certs.sh` and serves `examples/bosh/gannet.conf`.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use async_nats::ConnectOptions;
use futures::StreamExt;
use gannet_test::certs::{bosh_subject, tls_block, CertFiles, CertSpec, Pki};
use gannet_test::{
    install_crypto_provider, running_reference, tls_config, RawClient, ServerProcess,
};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
const QUIET: &str = r#"{"verbose":false,"pedantic":false}"#;
const AUTH_VIOLATION: &[u8] = b"-ERR 'Authorization Violation'\r\n";

/// Agent ids as in docs/BOSH.md §1; `NEW_AGENT` joins in the reload tests.
const A: &str = "0e2a7f3c-1111-4b8e-9d2a-5f5e5e5e5e5e";
const B: &str = "9b1c2d3e-2222-4c5d-8e9f-0a1b2c3d4e5f";
const NEW_AGENT: &str = "5d6e7f80-3333-4a1b-8c2d-3e4f5a6b7c8d";
/// The director process id in its `director.<id>.>` inbox.
const DIRECTOR_ID: &str = "3c5b";

const DIRECTOR_CN: &str = "default.director.bosh-internal";
const HM_CN: &str = "default.hm.bosh-internal";

fn agent_cn(id: &str) -> String {
    format!("{id}.agent.bosh-internal")
}

fn skip_on_reference(test: &str) -> bool {
    if running_reference() {
        eprintln!("{test}: certificate_clients is a fork feature the reference lacks; skipped");
        return true;
    }
    false
}

// ---------------------------------------------------------------- setup

/// The certificates of one BOSH installation.
struct Identities {
    pki: Pki,
    director: CertFiles,
    hm: CertFiles,
    agent_a: CertFiles,
    agent_b: CertFiles,
}

impl Identities {
    fn new(dir: &Path) -> Identities {
        let pki = Pki::new(dir);
        Identities {
            director: pki.client("director", &bosh_subject(DIRECTOR_CN)),
            hm: pki.client("hm", &bosh_subject(HM_CN)),
            agent_a: pki.client("agent-a", &bosh_subject(&agent_cn(A))),
            agent_b: pki.client("agent-b", &bosh_subject(&agent_cn(B))),
            pki,
        }
    }
}

/// docs/BOSH.md §2, written multi-line.
fn fork_config(ids: &Identities) -> String {
    let tls = tls_block(
        &ids.pki.server,
        ids.pki.ca_str(),
        "verify: true\n  timeout: 30\n  enable_cert_authorization: true",
    );
    format!(
        r#"
authorization {{
  DIRECTOR_PERMISSIONS: {{
    publish: ["agent.*", "hm.director.alert"]
    subscribe: ["director.>"]
  }}
  AGENT_PERMISSIONS: {{
    publish: [
      "hm.agent.heartbeat._CLIENT_ID"
      "hm.agent.alert._CLIENT_ID"
      "hm.agent.shutdown._CLIENT_ID"
      "director.*._CLIENT_ID.*"
    ]
    subscribe: ["agent._CLIENT_ID"]
  }}
  HM_PERMISSIONS: {{
    publish: []
    subscribe: ["hm.agent.heartbeat.*", "hm.agent.alert.*", "hm.agent.shutdown.*", "hm.director.alert"]
  }}
  certificate_clients: [
    {{client_name: director.bosh-internal, permissions: $DIRECTOR_PERMISSIONS}},
    {{client_name: agent.bosh-internal, permissions: $AGENT_PERMISSIONS}},
    {{client_name: hm.bosh-internal, permissions: $HM_PERMISSIONS}},
  ]
  timeout: 30
}}
{tls}
# BOSH uses ping_interval 5s; the raw clients here do not answer server PINGs.
ping_interval: 2m
ping_max: 2
max_payload: 1048576
"#
    )
}

/// docs/BOSH.md §4: the inline users are replaced wholesale by the included file.
fn upstream_config(ids: &Identities) -> String {
    let tls = tls_block(
        &ids.pki.server,
        ids.pki.ca_str(),
        "verify_and_map: true\n  timeout: 30",
    );
    format!(
        r#"
authorization {{ users = [ {{ user: "C=USA, O=Cloud Foundry, CN=default.director.bosh-internal"
                            permissions: {{ publish: ["agent.*", "hm.director.alert"], subscribe: ["director.>"] }} }}
                          {{ user: "C=USA, O=Cloud Foundry, CN=default.hm.bosh-internal"
                            permissions: {{ publish: [], subscribe: ["hm.agent.heartbeat.*", "hm.agent.alert.*",
                                           "hm.agent.shutdown.*", "hm.director.alert"] }} }} ] }}
{tls}
# BOSH uses ping_interval 5s; the raw clients here do not answer server PINGs.
ping_interval: 2m
ping_max: 2
max_payload: 1048576
include auth.json
"#
    )
}

fn director_user() -> Value {
    json!({"user": bosh_subject(DIRECTOR_CN),
           "permissions": {"publish": ["agent.*", "hm.director.alert"], "subscribe": ["director.>"]}})
}

fn hm_user() -> Value {
    json!({"user": bosh_subject(HM_CN),
           "permissions": {"publish": [], "subscribe": ["hm.agent.heartbeat.*", "hm.agent.alert.*",
                                                         "hm.agent.shutdown.*", "hm.director.alert"]}})
}

/// The user bosh-nats-sync writes for agent `id` (certificate CN `cn`),
/// subscribing to `subscribe` (BOSH: `agent.<id>`).
fn agent_user(cn: &str, id: &str, subscribe: &str) -> Value {
    json!({"user": bosh_subject(cn),
           "permissions": {"publish": [format!("hm.agent.heartbeat.{id}"), format!("hm.agent.alert.{id}"),
                                       format!("hm.agent.shutdown.{id}"), format!("director.*.{id}.*")],
                           "subscribe": [subscribe]}})
}

fn auth_json(agents: &[&str]) -> String {
    let mut users = vec![director_user(), hm_user()];
    users.extend(
        agents
            .iter()
            .map(|id| agent_user(&agent_cn(id), id, &format!("agent.{id}"))),
    );
    auth_json_of(users)
}

fn auth_json_of(users: Vec<Value>) -> String {
    json!({"authorization": {"users": users}}).to_string()
}

/// A running BOSH NATS server and its certificates.
struct Bosh {
    ids: Identities,
    server: ServerProcess,
    /// The pid file `--signal reload=` names (upstream setup only).
    pid_file: PathBuf,
}

impl Bosh {
    fn fork() -> Bosh {
        let dir = tempfile::tempdir().unwrap();
        let ids = Identities::new(dir.path());
        let conf = fork_config(&ids);
        let pid_file = dir.path().join("gannet.pid");
        let server = ServerProcess::builder(BIN).dir(dir).config(&conf).start();
        Bosh {
            ids,
            server,
            pid_file,
        }
    }

    /// The upstream setup with `auth.json` listing `agents`.
    fn upstream(agents: &[&str]) -> Bosh {
        let dir = tempfile::tempdir().unwrap();
        let ids = Identities::new(dir.path());
        std::fs::write(dir.path().join("auth.json"), auth_json(agents)).unwrap();
        let conf = upstream_config(&ids);
        let pid_file = dir.path().join("gannet.pid");
        let pid = pid_file.to_str().unwrap().to_string();
        let server = ServerProcess::builder(BIN)
            .dir(dir)
            .config(&conf)
            .args(&["-P", &pid])
            .start();
        Bosh {
            ids,
            server,
            pid_file,
        }
    }

    fn addr(&self) -> String {
        self.server.addr()
    }

    /// A client with `cert` that is in (CONNECT answered by PONG).
    fn connect(&self, cert: &CertFiles) -> RawClient {
        RawClient::connect_tls_as(
            &self.addr(),
            tls_config(&self.ids.pki.ca_file, Some(cert)),
            QUIET,
        )
    }

    /// A client with `cert`, or None when CONNECT is answered by an
    /// Authorization Violation (which then must close the connection).
    fn try_connect(&self, cert: &CertFiles) -> Option<RawClient> {
        let mut c =
            RawClient::connect_tls(&self.addr(), tls_config(&self.ids.pki.ca_file, Some(cert)));
        c.send(format!("CONNECT {QUIET}\r\nPING\r\n").as_bytes());
        let line = c.read_line();
        if line == "PONG\r\n" {
            return Some(c);
        }
        assert_eq!(
            line.as_bytes(),
            AUTH_VIOLATION,
            "neither PONG nor a violation"
        );
        c.expect_closed_after(b"");
        None
    }

    /// Asserts `cert` gets through TLS and is refused on CONNECT.
    fn expect_auth_violation(&self, cert: &CertFiles) {
        assert!(
            self.try_connect(cert).is_none(),
            "{} was let in",
            cert.cert.display()
        );
    }

    /// Asserts `cert` (None: no certificate) is refused by TLS, without `-ERR`.
    fn expect_tls_refused(&self, cert: Option<&CertFiles>) {
        RawClient::expect_tls_refused(&self.addr(), tls_config(&self.ids.pki.ca_file, cert));
    }

    /// Rewrites `auth.json` and sends `--signal reload=<pid file>` with the
    /// server's own binary.
    fn reload_with(&self, auth: &str) {
        std::fs::write(self.server.dir().join("auth.json"), auth).unwrap();
        let out = Command::new(self.server.binary())
            .arg("--signal")
            .arg(format!("reload={}", self.pid_file.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "--signal reload: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn sub(c: &mut RawClient, subject: &str, sid: u32) {
    c.send(format!("SUB {subject} {sid}\r\n").as_bytes());
    c.expect_before_pong(b"");
}

fn sub_denied(c: &mut RawClient, subject: &str) {
    c.send(format!("SUB {subject} 99\r\n").as_bytes());
    c.expect_before_pong(
        format!("-ERR 'Permissions Violation for Subscription to \"{subject}\"'\r\n").as_bytes(),
    );
}

fn publish(c: &mut RawClient, subject: &str) {
    c.send(format!("PUB {subject} 2\r\n{{}}\r\n").as_bytes());
    c.expect_before_pong(b"");
}

fn publish_denied(c: &mut RawClient, subject: &str) {
    c.send(format!("PUB {subject} 2\r\n{{}}\r\n").as_bytes());
    c.expect_before_pong(
        format!("-ERR 'Permissions Violation for Publish to \"{subject}\"'\r\n").as_bytes(),
    );
}

/// Expects `c` got `{}` on `subject` for `sid`, and nothing else.
fn received(c: &mut RawClient, subject: &str, sid: u32) {
    c.expect_before_pong(format!("MSG {subject} {sid} 2\r\n{{}}\r\n").as_bytes());
}

fn received_nothing(c: &mut RawClient) {
    c.expect_before_pong(b"");
}

// ---------------------------------------------------------------- the matrix

fn director_matrix(b: &Bosh) {
    let mut agent = b.connect(&b.ids.agent_a);
    sub(&mut agent, &format!("agent.{A}"), 1);
    let mut hm = b.connect(&b.ids.hm);
    sub(&mut hm, "hm.agent.heartbeat.*", 1);
    sub(&mut hm, "hm.director.alert", 2);

    let mut d = b.connect(&b.ids.director);
    sub(&mut d, &format!("director.{DIRECTOR_ID}.>"), 1);
    publish(&mut d, &format!("agent.{A}"));
    received(&mut agent, &format!("agent.{A}"), 1);
    d.send(format!("PUB agent.{A} director.{DIRECTOR_ID}.{A}.r1 2\r\n{{}}\r\n").as_bytes());
    d.expect_before_pong(b"");
    agent.expect_before_pong(
        format!("MSG agent.{A} 1 director.{DIRECTOR_ID}.{A}.r1 2\r\n{{}}\r\n").as_bytes(),
    );
    publish(&mut d, "hm.director.alert");
    received(&mut hm, "hm.director.alert", 2);
    publish_denied(&mut d, &format!("hm.agent.heartbeat.{A}"));
    received_nothing(&mut hm);
    sub_denied(&mut d, "agent.*");
    sub_denied(&mut d, "hm.agent.heartbeat.*");
    // The violations left the connection open.
    publish(&mut d, &format!("agent.{A}"));
    received(&mut agent, &format!("agent.{A}"), 1);
}

fn agent_matrix(b: &Bosh) {
    let mut d = b.connect(&b.ids.director);
    sub(&mut d, &format!("director.{DIRECTOR_ID}.>"), 1);
    let mut hm = b.connect(&b.ids.hm);
    sub(&mut hm, "hm.agent.heartbeat.*", 1);
    sub(&mut hm, "hm.agent.alert.*", 2);
    sub(&mut hm, "hm.agent.shutdown.*", 3);

    let mut a = b.connect(&b.ids.agent_a);
    sub(&mut a, &format!("agent.{A}"), 1);
    sub_denied(&mut a, &format!("agent.{B}"));
    sub_denied(&mut a, "agent.>");
    sub_denied(&mut a, "agent.*");

    publish(&mut a, &format!("hm.agent.heartbeat.{A}"));
    received(&mut hm, &format!("hm.agent.heartbeat.{A}"), 1);
    publish(&mut a, &format!("hm.agent.alert.{A}"));
    received(&mut hm, &format!("hm.agent.alert.{A}"), 2);
    publish(&mut a, &format!("hm.agent.shutdown.{A}"));
    received(&mut hm, &format!("hm.agent.shutdown.{A}"), 3);
    publish_denied(&mut a, &format!("hm.agent.heartbeat.{B}"));
    received_nothing(&mut hm);

    publish(&mut a, &format!("director.{DIRECTOR_ID}.{A}.r1"));
    received(&mut d, &format!("director.{DIRECTOR_ID}.{A}.r1"), 1);
    publish_denied(&mut a, &format!("director.{DIRECTOR_ID}.{B}.r1"));
    received_nothing(&mut d);
    publish_denied(&mut a, &format!("agent.{B}"));

    // Agent B has the same rules with its own id.
    let mut b_agent = b.connect(&b.ids.agent_b);
    sub(&mut b_agent, &format!("agent.{B}"), 1);
    sub_denied(&mut b_agent, &format!("agent.{A}"));
    publish(&mut b_agent, &format!("hm.agent.heartbeat.{B}"));
    received(&mut hm, &format!("hm.agent.heartbeat.{B}"), 1);
    publish_denied(&mut b_agent, &format!("hm.agent.heartbeat.{A}"));
}

/// `fork`: `publish: []` denies everything; upstream: no restriction.
fn hm_matrix(b: &Bosh, fork: bool) {
    let mut agent = b.connect(&b.ids.agent_a);
    sub(&mut agent, &format!("agent.{A}"), 1);
    let mut hm = b.connect(&b.ids.hm);
    for (sid, subject) in [
        "hm.agent.heartbeat.*",
        "hm.agent.alert.*",
        "hm.agent.shutdown.*",
        "hm.director.alert",
    ]
    .iter()
    .enumerate()
    {
        sub(&mut hm, subject, sid as u32 + 1);
    }
    sub_denied(&mut hm, "director.>");
    sub_denied(&mut hm, "agent.>");
    let target = format!("agent.{A}");
    if fork {
        publish_denied(&mut hm, &target);
        received_nothing(&mut agent);
        publish_denied(&mut hm, &format!("hm.agent.heartbeat.{A}"));
        publish_denied(&mut hm, "hm.director.alert");
    } else {
        publish(&mut hm, &target);
        received(&mut agent, &target, 1);
    }
}

/// Director → agent request (reply subject inside the JSON, as BOSH does),
/// agent → director reply, agent → HM heartbeat, all with async-nats.
async fn request_flow(b: &Bosh) {
    install_crypto_provider();
    let url = b.server.url();
    let client = |cert: &CertFiles| {
        ConnectOptions::new()
            .require_tls(true)
            .add_root_certificates(b.ids.pki.ca_file.clone())
            .add_client_certificate(cert.cert.clone(), cert.key.clone())
            .connection_timeout(Duration::from_secs(5))
    };
    let director = client(&b.ids.director)
        .connect(&url)
        .await
        .expect("director");
    let agent = client(&b.ids.agent_a).connect(&url).await.expect("agent");
    let hm = client(&b.ids.hm)
        .connect(&url)
        .await
        .expect("health monitor");

    let mut replies = director
        .subscribe(format!("director.{DIRECTOR_ID}.>"))
        .await
        .unwrap();
    let mut requests = agent.subscribe(format!("agent.{A}")).await.unwrap();
    let mut heartbeats = hm.subscribe("hm.agent.heartbeat.*").await.unwrap();
    for c in [&director, &agent, &hm] {
        c.flush().await.unwrap();
    }

    // The agent answers every request and sends a heartbeat with each answer.
    let responder = agent.clone();
    let agent_task = tokio::spawn(async move {
        while let Some(m) = requests.next().await {
            let req: Value = serde_json::from_slice(&m.payload).unwrap();
            assert_eq!(req["method"], "get_state");
            let reply_to = req["reply_to"].as_str().unwrap().to_string();
            let value = json!({"value": {"job_state": "running"}});
            responder
                .publish(reply_to, value.to_string().into())
                .await
                .unwrap();
            let heartbeat = json!({"deployment": "cf", "job": "nats", "index": 0, "job_state": "running",
                                   "vitals": {"load": ["0.01", "0.02", "0.03"], "uptime": {"secs": 42}},
                                   "node_id": A, "number_of_processes": 3});
            responder
                .publish(
                    format!("hm.agent.heartbeat.{A}"),
                    heartbeat.to_string().into(),
                )
                .await
                .unwrap();
            responder.flush().await.unwrap();
        }
    });

    // async-nats' flush only empties the client's own buffer, so the server may
    // not have registered another connection's SUB yet when the director sends:
    // the director repeats its request until the answer and a heartbeat are in.
    let reply_to = format!("director.{DIRECTOR_ID}.{A}.6a1f-req");
    let request =
        json!({"protocol": 3, "method": "get_state", "arguments": [], "reply_to": reply_to})
            .to_string();
    let deadline = Instant::now() + Duration::from_secs(5);
    let ask = || async {
        assert!(Instant::now() < deadline, "no answer from the agent in 5 s");
        director
            .publish(format!("agent.{A}"), request.clone().into())
            .await
            .unwrap();
        director.flush().await.unwrap();
    };
    let retry = Duration::from_millis(250);
    ask().await;
    let reply = loop {
        match tokio::time::timeout(retry, replies.next()).await {
            Ok(m) => break m.expect("director subscription open"),
            Err(_) => ask().await,
        }
    };
    assert_eq!(reply.subject.as_str(), reply_to);
    let value: Value = serde_json::from_slice(&reply.payload).unwrap();
    assert_eq!(value["value"]["job_state"], "running");

    let hb = loop {
        match tokio::time::timeout(retry, heartbeats.next()).await {
            Ok(m) => break m.expect("health monitor subscription open"),
            Err(_) => ask().await,
        }
    };
    assert_eq!(hb.subject.as_str(), format!("hm.agent.heartbeat.{A}"));
    let hb: Value = serde_json::from_slice(&hb.payload).unwrap();
    assert_eq!(hb["node_id"], A);
    assert_eq!(hb["vitals"]["uptime"]["secs"], 42);
    assert!(
        !agent_task.is_finished(),
        "the agent stopped: {agent_task:?}"
    );
    agent_task.abort();
}

// ---------------------------------------------------------------- fork: certificate_clients

// Fork behaviour (docs/BOSH.md §2): no reference binary can run these.
#[test]
fn fork_director_may_command_agents_and_alert_but_not_fake_heartbeats() {
    if skip_on_reference("fork_director") {
        return;
    }
    director_matrix(&Bosh::fork());
}

// Fork behaviour: `_CLIENT_ID` becomes the agent id from the CN.
#[test]
fn fork_agent_may_only_use_its_own_subjects() {
    if skip_on_reference("fork_agent") {
        return;
    }
    agent_matrix(&Bosh::fork());
}

// Fork behaviour: an empty allow list denies everything for certificate clients.
#[test]
fn fork_health_monitor_listens_and_may_publish_nothing() {
    if skip_on_reference("fork_hm") {
        return;
    }
    hm_matrix(&Bosh::fork(), true);
}

// Fork behaviour: CN split at the first '.', id must not hold '*' or '>',
// the name must be listed; TLS refuses certificates that do not verify.
#[test]
fn fork_refuses_bad_certificates() {
    if skip_on_reference("fork_refusals") {
        return;
    }
    let b = Bosh::fork();
    let pki = &b.ids.pki;
    let foreign = pki.foreign("foreign", &bosh_subject(&agent_cn(A)));
    let expired = pki.issue(
        "expired",
        CertSpec::client(&bosh_subject(&agent_cn(A))).expired(),
    );
    b.expect_tls_refused(None);
    b.expect_tls_refused(Some(&foreign));
    b.expect_tls_refused(Some(&expired));

    for (name, cn) in [
        ("nodot", "director-without-dot".to_string()),
        ("star", "a*b.agent.bosh-internal".to_string()),
        ("gt", "a>b.agent.bosh-internal".to_string()),
        ("unlisted", "default.stranger.bosh-internal".to_string()),
        // The 2023 bootstrap CN gives the name bootstrap.agent.bosh-internal, not listed.
        ("bootstrap", format!("{A}.bootstrap.agent.bosh-internal")),
        ("empty-id", ".agent.bosh-internal".to_string()),
    ] {
        let cert = pki.client(name, &bosh_subject(&cn));
        b.expect_auth_violation(&cert);
    }
    // A certificate with no CN at all.
    let no_cn = pki.client("no-cn", "C=USA, O=Cloud Foundry");
    b.expect_auth_violation(&no_cn);
}

// Fork behaviour: the client id is everything before the first '.', however long
// the CN gets (over the 64-character X.520 bound here).
#[test]
fn fork_long_client_id_is_substituted_whole() {
    if skip_on_reference("fork_long_cn") {
        return;
    }
    let b = Bosh::fork();
    let id = format!("{A}-with-a-much-longer-suffix");
    let cn = agent_cn(&id);
    assert!(cn.len() > 64);
    let cert = b.ids.pki.client("long", &bosh_subject(&cn));
    let mut c = b.connect(&cert);
    sub(&mut c, &format!("agent.{id}"), 1);
    sub_denied(&mut c, &format!("agent.{A}"));
    publish(&mut c, &format!("hm.agent.heartbeat.{id}"));
    publish_denied(&mut c, &format!("hm.agent.heartbeat.{A}"));
}

// Fork behaviour.
#[tokio::test]
async fn fork_request_reply_director_agent_director() {
    if skip_on_reference("fork_request_flow") {
        return;
    }
    request_flow(&Bosh::fork()).await;
}

// ---------------------------------------------------------------- upstream: verify_and_map

#[test]
fn upstream_info_requires_auth_tls_and_client_certs() {
    let b = Bosh::upstream(&[A, B]);
    let c = RawClient::connect(&b.addr());
    let info = c.info_json();
    assert_eq!(info["auth_required"], true, "{}", c.info);
    assert_eq!(info["tls_required"], true, "{}", c.info);
    assert_eq!(info["tls_verify"], true, "{}", c.info);
    assert_eq!(info["max_payload"], 1048576, "{}", c.info);
}

#[test]
fn upstream_director_may_command_agents_and_alert_but_not_fake_heartbeats() {
    director_matrix(&Bosh::upstream(&[A, B]));
}

#[test]
fn upstream_agent_may_only_use_its_own_subjects() {
    agent_matrix(&Bosh::upstream(&[A, B]));
}

// Upstream: `publish: []` means no restriction (unlike the fork).
#[test]
fn upstream_health_monitor_empty_publish_list_is_unrestricted() {
    hm_matrix(&Bosh::upstream(&[A, B]), false);
}

#[test]
fn upstream_refuses_unmapped_foreign_expired_and_missing_certs() {
    let b = Bosh::upstream(&[A]);
    let pki = &b.ids.pki;
    // Not yet in auth.json.
    b.expect_auth_violation(&b.ids.agent_b);
    for (name, cn) in [
        ("nodot", "director-without-dot"),
        ("star", "a*b.agent.bosh-internal"),
        ("stranger", "default.stranger.bosh-internal"),
    ] {
        let cert = pki.client(name, &bosh_subject(cn));
        b.expect_auth_violation(&cert);
    }
    // Same CN, different DN: the whole subject is the user name.
    let other_org = pki.client(
        "other-org",
        &format!("C=USA, O=Elsewhere, CN={}", agent_cn(A)),
    );
    b.expect_auth_violation(&other_org);
    let foreign = pki.foreign("foreign", &bosh_subject(&agent_cn(A)));
    let expired = pki.issue(
        "expired",
        CertSpec::client(&bosh_subject(&agent_cn(A))).expired(),
    );
    b.expect_tls_refused(None);
    b.expect_tls_refused(Some(&foreign));
    b.expect_tls_refused(Some(&expired));
    // The mapped agent itself is fine.
    b.connect(&b.ids.agent_a);
}

#[test]
fn upstream_bootstrap_certificate_with_66_character_cn() {
    let dir = tempfile::tempdir().unwrap();
    let ids = Identities::new(dir.path());
    let boot_cn = format!("{A}.bootstrap.agent.bosh-internal");
    assert_eq!(boot_cn.len(), 66);
    let boot = ids.pki.client("boot", &bosh_subject(&boot_cn));
    let users = vec![
        director_user(),
        hm_user(),
        agent_user(&agent_cn(A), A, &format!("agent.{A}")),
        agent_user(&boot_cn, A, &format!("agent.{A}")),
    ];
    std::fs::write(dir.path().join("auth.json"), auth_json_of(users)).unwrap();
    let conf = upstream_config(&ids);
    let server = ServerProcess::builder(BIN).dir(dir).config(&conf).start();
    let mut c = RawClient::connect_tls_as(
        &server.addr(),
        tls_config(&ids.pki.ca_file, Some(&boot)),
        QUIET,
    );
    sub(&mut c, &format!("agent.{A}"), 1);
    sub_denied(&mut c, &format!("agent.{B}"));
}

#[test]
fn upstream_mapped_cert_with_user_in_connect_is_refused() {
    let b = Bosh::upstream(&[A]);
    let mut c = RawClient::connect_tls(
        &b.addr(),
        tls_config(&b.ids.pki.ca_file, Some(&b.ids.director)),
    );
    c.send(b"CONNECT {\"verbose\":false,\"user\":\"admin\",\"pass\":\"changeit\"}\r\nPING\r\n");
    c.expect_closed_after(AUTH_VIOLATION);
}

#[tokio::test]
async fn upstream_request_reply_director_agent_director() {
    request_flow(&Bosh::upstream(&[A, B])).await;
}

/// Waits up to 5 s for `cert` to be let in.
fn wait_admitted(b: &Bosh, cert: &CertFiles) -> RawClient {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(c) = b.try_connect(cert) {
            return c;
        }
        assert!(Instant::now() < deadline, "not admitted after the reload");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn upstream_reload_adds_an_agent_and_keeps_connections() {
    let b = Bosh::upstream(&[A]);
    let newcomer = b
        .ids
        .pki
        .client("newcomer", &bosh_subject(&agent_cn(NEW_AGENT)));
    let mut d = b.connect(&b.ids.director);
    sub(&mut d, &format!("director.{DIRECTOR_ID}.>"), 1);
    let mut a = b.connect(&b.ids.agent_a);
    sub(&mut a, &format!("agent.{A}"), 1);
    b.expect_auth_violation(&newcomer);

    b.reload_with(&auth_json(&[A, NEW_AGENT]));
    let mut n = wait_admitted(&b, &newcomer);
    sub(&mut n, &format!("agent.{NEW_AGENT}"), 1);
    sub_denied(&mut n, &format!("agent.{A}"));

    // The connections made before the reload are up and keep working.
    publish(&mut d, &format!("agent.{A}"));
    received(&mut a, &format!("agent.{A}"), 1);
    publish(&mut d, &format!("agent.{NEW_AGENT}"));
    received(&mut n, &format!("agent.{NEW_AGENT}"), 1);
    publish(&mut n, &format!("director.{DIRECTOR_ID}.{NEW_AGENT}.r1"));
    received(&mut d, &format!("director.{DIRECTOR_ID}.{NEW_AGENT}.r1"), 1);
    publish(&mut a, &format!("director.{DIRECTOR_ID}.{A}.r2"));
    received(&mut d, &format!("director.{DIRECTOR_ID}.{A}.r2"), 1);
}

#[test]
fn upstream_reload_with_a_bad_config_keeps_the_old_one() {
    let mut b = Bosh::upstream(&[A]);
    let newcomer = b
        .ids
        .pki
        .client("newcomer", &bosh_subject(&agent_cn(NEW_AGENT)));
    let mut d = b.connect(&b.ids.director);
    sub(&mut d, &format!("director.{DIRECTOR_ID}.>"), 1);

    // A users file that would admit the newcomer, but with a field no server knows,
    // then one that is not even JSON.
    let mut with_unknown_field = agent_user(&agent_cn(NEW_AGENT), NEW_AGENT, "agent.x");
    with_unknown_field["bogus_field"] = json!(1);
    let bad_files = [
        auth_json_of(vec![director_user(), hm_user(), with_unknown_field]),
        format!("{{\"authorization\": {{\"users\": [{}", director_user()),
    ];
    for bad in bad_files {
        b.reload_with(&bad);
        // Give the server time to read and refuse the file.
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            b.server.is_running(),
            "a bad reload stopped the server:\n{}",
            b.server.log()
        );
        b.expect_auth_violation(&newcomer);
        let mut a = b.connect(&b.ids.agent_a);
        sub(&mut a, &format!("agent.{A}"), 1);
        publish(&mut d, &format!("agent.{A}"));
        received(&mut a, &format!("agent.{A}"), 1);
    }
}

#[test]
fn upstream_reload_removes_subscriptions_the_new_permissions_deny() {
    let b = Bosh::upstream(&[A]);
    let mut d = b.connect(&b.ids.director);
    let mut a = b.connect(&b.ids.agent_a);
    sub(&mut a, &format!("agent.{A}"), 1);
    publish(&mut d, &format!("agent.{A}"));
    received(&mut a, &format!("agent.{A}"), 1);

    // Agent A now may only subscribe to agent.<A>-v2.
    let users = vec![
        director_user(),
        hm_user(),
        agent_user(&agent_cn(A), A, &format!("agent.{A}-v2")),
    ];
    b.reload_with(&auth_json_of(users));
    // The new rules are live once a fresh connection of A gets them.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut probe = b.connect(&b.ids.agent_a);
        probe.send(format!("SUB agent.{A} 1\r\nPING\r\n").as_bytes());
        if probe.read_line() != "PONG\r\n" {
            break;
        }
        assert!(Instant::now() < deadline, "the reload did not take effect");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The old connection was told (2.15 adds the sid to this one) and lost the
    // subscription, and is still up.
    // The notice may trail the new rules reaching fresh connections: wait for it.
    a.expect(
        format!("-ERR 'Permissions Violation for Subscription to \"agent.{A}\" (sid \"1\")'\r\n")
            .as_bytes(),
    );
    a.expect_before_pong(b"");
    publish(&mut d, &format!("agent.{A}"));
    received_nothing(&mut a);
    sub(&mut a, &format!("agent.{A}-v2"), 2);
    publish(&mut d, &format!("agent.{A}-v2"));
    received(&mut a, &format!("agent.{A}-v2"), 2);
}

// ---------------------------------------------------------------- examples/bosh

/// examples/bosh: make-certs.sh with openssl, then gannet.conf as an operator
/// starts it (from the folder above examples/, relative paths). Fork config.
#[test]
fn example_bosh_config_runs_with_make_certs() {
    if skip_on_reference("example_bosh") {
        return;
    }
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("example_bosh_config_runs_with_make_certs: no openssl here; skipped");
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let example = repo.join("examples/bosh");
    let root = tempfile::tempdir().unwrap();
    let certs = root.path().join("examples/bosh/certs");
    let out = Command::new("bash")
        .arg(example.join("make-certs.sh"))
        .arg(&certs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make-certs.sh: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let conf = example.join("gannet.conf");
    let server = ServerProcess::builder(BIN)
        .cwd(root.path())
        .args(&["-c", conf.to_str().unwrap()])
        .start();
    let files = |name: &str| CertFiles {
        cert: certs.join(format!("{name}.pem")),
        key: certs.join(format!("{name}-key.pem")),
    };
    let ca = certs.join("ca.pem");
    let connect = |name: &str| {
        RawClient::connect_tls_as(&server.addr(), tls_config(&ca, Some(&files(name))), QUIET)
    };

    let info = RawClient::connect(&server.addr()).info_json();
    assert_eq!(info["tls_verify"], true);
    let mut agent1 = connect("agent-1");
    sub(&mut agent1, &format!("agent.{A}"), 1);
    sub_denied(&mut agent1, &format!("agent.{B}"));
    let mut agent2 = connect("agent-2");
    sub(&mut agent2, &format!("agent.{B}"), 1);
    let mut hm = connect("hm");
    sub(&mut hm, "hm.agent.heartbeat.*", 1);
    let mut director = connect("director");
    sub(&mut director, "director.>", 1);

    publish(&mut director, &format!("agent.{A}"));
    received(&mut agent1, &format!("agent.{A}"), 1);
    received_nothing(&mut agent2);
    publish(&mut agent2, &format!("hm.agent.heartbeat.{B}"));
    received(&mut hm, &format!("hm.agent.heartbeat.{B}"), 1);
    publish_denied(&mut agent2, &format!("hm.agent.heartbeat.{A}"));
    publish(&mut agent1, &format!("director.{DIRECTOR_ID}.{A}.r1"));
    received(&mut director, &format!("director.{DIRECTOR_ID}.{A}.r1"), 1);
    publish_denied(&mut hm, &format!("agent.{A}"));
    RawClient::expect_tls_refused(&server.addr(), tls_config(&ca, None));
}
