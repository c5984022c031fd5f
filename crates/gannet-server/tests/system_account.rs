//! The system account as the seed walkthrough uses it: `admin` in `SYS` watches
//! `>` and sees user `a` connect (CONNS, CONNECT), publish and leave (CONNS,
//! DISCONNECT), and a wrong password (AUTH.ERR); user `a` watching `>` sees its
//! own traffic and never a `$SYS` subject. Event bodies are checked field by field
//! against the shapes captured from nats-server 2.15
//! (docs/SYSTEM-ACCOUNT.md §3).
use std::time::Duration;

use futures::StreamExt;
use gannet_test::ServerProcess;
use serde_json::Value;

use gannet_test::reference::{SEED_CONFIG as SEED, SERVER_KEYS};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

const CONNECT_CLIENT_KEYS: &[&str] = &[
    "start",
    "host",
    "id",
    "acc",
    "user",
    "name",
    "lang",
    "ver",
    "name_tag",
    "kind",
    "client_type",
];
const DISCONNECT_CLIENT_KEYS: &[&str] = &[
    "start",
    "host",
    "id",
    "acc",
    "user",
    "name",
    "lang",
    "ver",
    "rtt",
    "stop",
    "name_tag",
    "kind",
    "client_type",
];

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn assert_keys(v: &Value, want: &[&str], what: &str) {
    let got = keys(v);
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    // serde_json sorts keys unless preserve_order is on; compare as sets and
    // check order separately where the map keeps it.
    let mut sorted_got = got.clone();
    sorted_got.sort();
    want.sort();
    assert_eq!(sorted_got, want, "{what} fields: {v}");
}

fn assert_server_object(v: &Value, server_id: &str) {
    assert_keys(v, SERVER_KEYS, "server");
    assert_eq!(v["id"], server_id);
    assert_eq!(v["ver"], "2.15.0");
    assert_eq!(v["jetstream"], false);
    assert!(v["seq"].as_u64().unwrap() > 0);
    assert!(v["time"].as_str().unwrap().ends_with('Z'));
}

fn assert_envelope(v: &Value, kind: &str) {
    assert_eq!(v["type"], kind);
    assert_eq!(v["id"].as_str().unwrap().len(), 22, "{v}");
    assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
}

/// Events the walkthrough does not follow: STATSZ, and those of the admin's
/// own connection in SYS.
fn not_followed(subject: &str) -> bool {
    subject.ends_with(".STATSZ") || subject.contains(".ACCOUNT.SYS.")
}

/// The next event, past STATSZ and the events of the admin's own connection
/// in SYS: events go out from the server's internal sender, so the admin's
/// CONNS may reach its `>` subscription after the probe that proved it in.
async fn next_event(sub: &mut async_nats::Subscriber) -> (String, Value) {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await
            .expect("an event in time")
            .expect("subscription open");
        if not_followed(&m.subject) {
            continue;
        }
        let body: Value = serde_json::from_slice(&m.payload).expect("JSON event");
        return (m.subject.to_string(), body);
    }
}

async fn next_event_raw(sub: &mut async_nats::Subscriber) -> (String, Vec<u8>) {
    let m = tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("a message in time")
        .expect("subscription open");
    (m.subject.to_string(), m.payload.to_vec())
}

#[tokio::test]
async fn seed_walkthrough_events_and_isolation() {
    let s = ServerProcess::start_with_config(BIN, Some(SEED), &[]);
    let info = s.raw().info_json();
    let server_id = info["server_id"].as_str().unwrap().to_string();

    let admin =
        async_nats::ConnectOptions::with_user_and_password("admin".into(), "changeit".into())
            .connect(s.url())
            .await
            .unwrap();
    let mut events = admin.subscribe(">").await.unwrap();
    // async-nats `flush` does not wait for the server: a probe proves the SUB is in.
    // The admin's own events (see `next_event`) may come before it.
    admin.publish("probe.ready", "".into()).await.unwrap();
    loop {
        let (subject, _) = next_event_raw(&mut events).await;
        if subject == "probe.ready" {
            break;
        }
        assert!(not_followed(&subject), "before the probe: {subject}");
    }

    // User a connects, watches `>`, publishes `foo bar`, and leaves.
    let a = async_nats::ConnectOptions::with_user_and_password("a".into(), "a".into())
        .name("bosh-agent-1")
        .connect(s.url())
        .await
        .unwrap();
    let mut a_sees = a.subscribe(">").await.unwrap();
    a.flush().await.unwrap();

    let (subj, conns) = next_event(&mut events).await;
    assert_eq!(subj, "$SYS.SERVER.ACCOUNT.USERS.CONNS");
    assert_envelope(&conns, "io.nats.server.advisory.v1.account_connections");
    assert_server_object(&conns["server"], &server_id);
    assert_eq!(conns["acc"], "USERS");
    assert_eq!(conns["conns"], 1);
    assert_eq!(conns["total_conns"], 1);
    for k in ["leafnodes", "num_subscriptions", "slow_consumers"] {
        assert!(conns[k].is_u64(), "{k}: {conns}");
    }
    for k in ["msgs", "bytes"] {
        assert!(conns["sent"][k].is_u64() && conns["received"][k].is_u64());
        assert!(conns["sent"]["routes"][k].is_u64());
    }
    let (subj, conns2) = next_event(&mut events).await;
    assert_eq!(subj, "$SYS.ACCOUNT.USERS.SERVER.CONNS");
    assert_eq!(conns2["conns"], 1);

    let (subj, connect) = next_event(&mut events).await;
    assert_eq!(subj, "$SYS.ACCOUNT.USERS.CONNECT");
    assert_envelope(&connect, "io.nats.server.advisory.v1.client_connect");
    assert_server_object(&connect["server"], &server_id);
    let client = &connect["client"];
    assert_keys(client, CONNECT_CLIENT_KEYS, "client");
    assert_eq!(client["acc"], "USERS");
    assert_eq!(client["user"], "a");
    assert_eq!(client["name"], "bosh-agent-1");
    assert_eq!(client["lang"], "rust");
    assert_eq!(client["kind"], "Client");
    assert_eq!(client["client_type"], "nats");
    assert_eq!(client["name_tag"], "USERS");
    assert_eq!(client["host"], "127.0.0.1");

    a.publish("foo", "bar".into()).await.unwrap();
    a.flush().await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), a_sees.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.subject.as_str(), "foo");
    assert_eq!(&m.payload[..], b"bar");
    // The admin, in another account, does not see `foo`.
    drop(a_sees);
    drop(a);

    let (subj, _) = next_event(&mut events).await;
    assert_eq!(subj, "$SYS.SERVER.ACCOUNT.USERS.CONNS");
    let (subj, conns) = next_event(&mut events).await;
    assert_eq!(subj, "$SYS.ACCOUNT.USERS.SERVER.CONNS");
    assert_eq!(conns["conns"], 0);
    let (subj, disconnect) = next_event(&mut events).await;
    assert_eq!(subj, "$SYS.ACCOUNT.USERS.DISCONNECT");
    assert_envelope(&disconnect, "io.nats.server.advisory.v1.client_disconnect");
    assert_keys(&disconnect["client"], DISCONNECT_CLIENT_KEYS, "client");
    assert_eq!(disconnect["reason"], "Client Closed");
    assert_eq!(disconnect["sent"]["msgs"], 1, "{disconnect}");
    assert_eq!(disconnect["sent"]["bytes"], 3, "{disconnect}");
    assert_eq!(disconnect["received"]["msgs"], 1, "{disconnect}");
    assert!(disconnect["client"]["stop"].as_str().is_some());

    // A wrong password: AUTH.ERR and a DISCONNECT in $G.
    let bad = async_nats::ConnectOptions::with_user_and_password("a".into(), "wrong".into())
        .name("bad-client")
        .retry_on_initial_connect()
        .max_reconnects(Some(1))
        .connect(s.url());
    let _ = tokio::time::timeout(Duration::from_secs(2), bad).await;
    let mut saw_auth_err = false;
    let mut saw_g_disconnect = false;
    while !(saw_auth_err && saw_g_disconnect) {
        let (subj, body) = next_event(&mut events).await;
        if subj == format!("$SYS.SERVER.{server_id}.CLIENT.AUTH.ERR") {
            assert_envelope(&body, "io.nats.server.advisory.v1.client_disconnect");
            assert_eq!(body["reason"], "Authentication Failure");
            assert_eq!(body["client"]["acc"], "$G");
            assert_eq!(body["client"]["user"], "a");
            saw_auth_err = true;
        } else if subj == "$SYS.ACCOUNT.$G.DISCONNECT" {
            assert_eq!(body["reason"], "Authentication Failure");
            saw_g_disconnect = true;
        }
    }
}

#[tokio::test]
async fn applications_never_see_system_subjects() {
    let s = ServerProcess::start_with_config(BIN, Some(SEED), &[]);
    let a = async_nats::ConnectOptions::with_user_and_password("a".into(), "a".into())
        .connect(s.url())
        .await
        .unwrap();
    let mut all = a.subscribe(">").await.unwrap();
    a.flush().await.unwrap();
    // Other clients come and go: events fire in SYS.
    for _ in 0..3 {
        let other = async_nats::ConnectOptions::with_user_and_password("a".into(), "a".into())
            .connect(s.url())
            .await
            .unwrap();
        other.publish("work", "x".into()).await.unwrap();
        other.flush().await.unwrap();
    }
    let mut subjects = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(700), all.next()).await {
        subjects.push(m.subject.to_string());
    }
    assert_eq!(subjects, ["work", "work", "work"]);
}

#[tokio::test]
async fn statsz_is_sent_when_someone_listens_and_shutdown_is_announced() {
    let mut s = ServerProcess::start_with_config(BIN, Some(SEED), &[]);
    let server_id = s.raw().info_json()["server_id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin =
        async_nats::ConnectOptions::with_user_and_password("admin".into(), "changeit".into())
            .connect(s.url())
            .await
            .unwrap();
    let mut statsz = admin
        .subscribe(format!("$SYS.SERVER.{server_id}.STATSZ"))
        .await
        .unwrap();
    let mut shutdown = admin
        .subscribe(format!("$SYS.SERVER.{server_id}.SHUTDOWN"))
        .await
        .unwrap();
    admin.flush().await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(15), statsz.next())
        .await
        .expect("STATSZ within the reference's cadence")
        .unwrap();
    let body: Value = serde_json::from_slice(&m.payload).unwrap();
    assert_server_object(&body["server"], &server_id);
    for k in [
        "start",
        "mem",
        "cores",
        "cpu",
        "connections",
        "total_connections",
        "active_accounts",
        "subscriptions",
        "sent",
        "sent_to_clients",
        "received",
        "received_from_clients",
        "slow_consumers",
        "active_servers",
        "gomaxprocs",
    ] {
        assert!(body["statsz"].get(k).is_some(), "statsz lacks {k}: {body}");
    }
    assert_eq!(body["statsz"]["connections"], 1);
    assert!(s.terminate(Duration::from_secs(5)));
    let m = tokio::time::timeout(Duration::from_secs(5), shutdown.next())
        .await
        .expect("SHUTDOWN event")
        .unwrap();
    let body: Value = serde_json::from_slice(&m.payload).unwrap();
    assert_server_object(&body, &server_id);
}

/// The BOSH case: an agent certificate nobody mapped yet shows up as AUTH.ERR
/// for the operator watching the system account.
#[tokio::test]
async fn unmapped_certificate_is_an_auth_error_event() {
    use gannet_test::certs::{bosh_subject, tls_block, Pki};
    use gannet_test::{tls_config, RawClient};
    let pki = Pki::temp();
    let operator_dn = bosh_subject("default.ops.bosh-internal");
    let operator = pki.client("operator", &operator_dn);
    let stranger = pki.client("stranger", &bosh_subject("x1.agent.bosh-internal"));
    let conf = format!(
        "{}accounts {{\n  SYS: {{ users: [ {{user: \"{operator_dn}\"}} ] }}\n}}\nsystem_account: SYS\n",
        tls_block(&pki.server, pki.ca_str(), "verify_and_map: true")
    );
    let s = ServerProcess::start_with_config(BIN, Some(&conf), &[]);
    let mut admin = RawClient::connect_tls(&s.addr(), tls_config(&pki.ca_file, Some(&operator)));
    admin.send(b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB $SYS.SERVER.*.CLIENT.AUTH.ERR 1\r\n");
    admin.expect_before_pong(b"");
    let mut c = RawClient::connect_tls(&s.addr(), tls_config(&pki.ca_file, Some(&stranger)));
    c.send(b"CONNECT {\"verbose\":false}\r\nPING\r\n");
    c.expect_closed_after(b"-ERR 'Authorization Violation'\r\n");
    let line = admin.read_line();
    assert!(
        line.starts_with("MSG $SYS.SERVER.") && line.contains(".CLIENT.AUTH.ERR 1 "),
        "{line}"
    );
    let body: Value = serde_json::from_str(admin.read_line().trim_end()).unwrap();
    assert_eq!(body["reason"], "Authentication Failure");
    assert_eq!(body["client"]["acc"], "$G");
    assert!(
        body["client"].get("user").is_none(),
        "the certificate subject is not reported: {body}"
    );
}
