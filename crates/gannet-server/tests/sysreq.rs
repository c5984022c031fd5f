//! The `$SYS.REQ` request/reply services with the seed config (`a` in USERS,
//! `admin` in SYS): every reply's fields are checked by name, type and nesting
//! against the bodies captured from nats-server 2.15
//! (key lists embedded here; docs/SYSTEM-ACCOUNT.md §4), along with the
//! server filters, the 400 error envelope, the four services other accounts
//! import (scoped to the caller's account), and the 503 no-responders status
//! for everything else.
use std::time::Duration;

use async_nats::{Client, RequestErrorKind};
use gannet_test::ServerProcess;
use serde_json::Value;

use gannet_test::reference::{CONN_KEYS, SEED_CONFIG as SEED, SERVER_KEYS};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

const STATSZ_KEYS: &[&str] = &[
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
];
const CONNZ_KEYS: &[&str] = &[
    "server_id",
    "now",
    "num_connections",
    "total",
    "offset",
    "limit",
    "connections",
];
const SUBSZ_KEYS: &[&str] = &[
    "server_id",
    "now",
    "num_subscriptions",
    "num_cache",
    "num_inserts",
    "num_removes",
    "num_matches",
    "cache_hit_rate",
    "max_fanout",
    "avg_fanout",
    "total",
    "offset",
    "limit",
];
const SUB_DETAIL_KEYS: &[&str] = &["account", "account_tag", "subject", "sid", "msgs", "cid"];
const JSZ_KEYS: &[&str] = &[
    "memory",
    "storage",
    "reserved_memory",
    "reserved_storage",
    "accounts",
    "ha_assets",
    "api",
    "server_id",
    "now",
    "disabled",
    "config",
    "streams",
    "consumers",
    "messages",
    "bytes",
    "total",
];
const ACCOUNT_STAT_KEYS: &[&str] = &[
    "acc",
    "name",
    "conns",
    "leafnodes",
    "total_conns",
    "num_subscriptions",
    "sent",
    "received",
    "slow_consumers",
];
const ACCOUNT_INFO_KEYS: &[&str] = &[
    "account_name",
    "update_time",
    "expired",
    "complete",
    "jetstream_enabled",
    "leafnode_connections",
    "client_connections",
    "subscriptions",
    "imports",
    "name_tag",
    "sublist_stats",
];
const IMPORT_KEYS: &[&str] = &[
    "subject",
    "account",
    "to",
    "local_subject",
    "type",
    "invalid",
    "share",
    "tracking",
];
const SUBLIST_STATS_KEYS: &[&str] = &[
    "num_subscriptions",
    "num_cache",
    "num_inserts",
    "num_removes",
    "num_matches",
    "cache_hit_rate",
    "max_fanout",
    "avg_fanout",
];

fn sorted(keys: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = keys.into_iter().collect();
    v.sort();
    v
}

/// `v` is an object with exactly the fields `want`.
fn assert_keys(v: &Value, want: &[&str], what: &str) {
    let got = sorted(
        v.as_object()
            .unwrap_or_else(|| panic!("{what} is not an object: {v}"))
            .keys()
            .cloned(),
    );
    assert_eq!(
        got,
        sorted(want.iter().map(|s| s.to_string())),
        "{what} fields: {v}"
    );
}

fn assert_data_stats(v: &Value, what: &str) {
    assert!(v["msgs"].is_u64() && v["bytes"].is_u64(), "{what}: {v}");
}

/// The `server` object, with this server's id.
fn assert_server(v: &Value, id: &str) {
    assert_keys(&v["server"], SERVER_KEYS, "server");
    assert_eq!(v["server"]["id"], id);
    assert_eq!(v["server"]["name"], "gannet-ref");
    assert!(v["server"]["seq"].as_u64().unwrap() > 0);
}

/// `{"server","data"}` around `data` with exactly `keys`.
fn assert_data(v: &Value, id: &str, keys: &[&str], what: &str) {
    assert_keys(v, &["server", "data"], what);
    assert_server(v, id);
    assert_keys(&v["data"], keys, what);
}

struct Setup {
    _server: ServerProcess,
    id: String,
    admin: Client,
    user: Client,
    /// Keeps user `a`'s subscriptions alive.
    _subs: Vec<async_nats::Subscriber>,
}

async fn setup() -> Setup {
    let server = ServerProcess::start_with_config(BIN, Some(SEED), &[]);
    let id = server.raw().info_json()["server_id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin =
        async_nats::ConnectOptions::with_user_and_password("admin".into(), "changeit".into())
            .name("sys-admin")
            .connect(server.url())
            .await
            .unwrap();
    let user = async_nats::ConnectOptions::with_user_and_password("a".into(), "a".into())
        .name("bosh-agent-1")
        .connect(server.url())
        .await
        .unwrap();
    let subs = vec![
        user.subscribe("agent.123").await.unwrap(),
        user.queue_subscribe("foo.*", "q1".into()).await.unwrap(),
    ];
    user.flush().await.unwrap();
    admin.flush().await.unwrap();
    // Flushing does not wait for the server: poll until both SUBs have landed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let v = request(&admin, "$SYS.REQ.ACCOUNT.USERS.CONNZ", "").await;
        if v["data"]["connections"][0]["subscriptions"] == 2 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "SUBs not seen: {v}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Setup {
        _server: server,
        id,
        admin,
        user,
        _subs: subs,
    }
}

async fn try_request(
    c: &Client,
    subject: &str,
    body: &str,
    wait: Duration,
) -> Result<Value, RequestErrorKind> {
    let req = async_nats::Request::new()
        .payload(body.to_string().into())
        .timeout(Some(wait));
    match c.send_request(subject.to_string(), req).await {
        Ok(m) => Ok(serde_json::from_slice(&m.payload).expect("a JSON reply")),
        Err(e) => Err(e.kind()),
    }
}

async fn request(c: &Client, subject: &str, body: &str) -> Value {
    try_request(c, subject, body, Duration::from_secs(5))
        .await
        .unwrap_or_else(|e| panic!("{subject}: {e:?}"))
}

#[tokio::test]
async fn ping_and_statsz_answer_with_server_and_statsz() {
    let s = setup().await;
    for subject in [
        "$SYS.REQ.SERVER.PING".to_string(),
        "$SYS.REQ.SERVER.PING.STATSZ".to_string(),
        format!("$SYS.REQ.SERVER.{}.STATSZ", s.id),
    ] {
        let v = request(&s.admin, &subject, "").await;
        assert_keys(&v, &["server", "statsz"], &subject);
        assert_server(&v, &s.id);
        let st = &v["statsz"];
        assert_keys(st, STATSZ_KEYS, "statsz");
        assert!(st["start"].as_str().unwrap().ends_with('Z'));
        assert!(st["cpu"].is_number());
        assert_eq!(st["connections"], 2);
        for k in [
            "sent",
            "sent_to_clients",
            "received",
            "received_from_clients",
        ] {
            assert_data_stats(&st[k], k);
        }
    }
}

#[tokio::test]
async fn server_endpoints_reply_with_the_reference_shapes() {
    let s = setup().await;
    let id = &s.id;
    for prefix in [
        format!("$SYS.REQ.SERVER.{id}"),
        "$SYS.REQ.SERVER.PING".into(),
    ] {
        let v = request(&s.admin, &format!("{prefix}.IDZ"), "").await;
        assert_keys(&v, &["name", "host", "id"], "idz");
        assert_eq!(v["id"], id.as_str());

        let v = request(&s.admin, &format!("{prefix}.VARZ"), "").await;
        assert_keys(&v, &["server", "data"], "varz");
        for k in [
            "server_id",
            "server_name",
            "version",
            "max_payload",
            "connections",
        ] {
            assert!(v["data"].get(k).is_some(), "varz {k}: {v}");
        }
        assert_eq!(v["data"]["server_id"], id.as_str());

        let v = request(&s.admin, &format!("{prefix}.CONNZ"), "").await;
        assert_data(&v, id, CONNZ_KEYS, "connz");
        assert_eq!(v["data"]["num_connections"], 2);
        assert_eq!(v["data"]["limit"], 1024);
        for c in v["data"]["connections"].as_array().unwrap() {
            assert_keys(c, CONN_KEYS, "connz connection");
        }

        let v = request(&s.admin, &format!("{prefix}.SUBSZ"), "").await;
        assert_data(&v, id, SUBSZ_KEYS, "subsz");

        let v = request(&s.admin, &format!("{prefix}.ROUTEZ"), "").await;
        assert_data(
            &v,
            id,
            &["server_id", "server_name", "now", "num_routes", "routes"],
            "routez",
        );
        let v = request(&s.admin, &format!("{prefix}.GATEWAYZ"), "").await;
        assert_data(
            &v,
            id,
            &["server_id", "now", "outbound_gateways", "inbound_gateways"],
            "gatewayz",
        );
        let v = request(&s.admin, &format!("{prefix}.LEAFZ"), "").await;
        assert_data(&v, id, &["server_id", "now", "leafnodes", "leafs"], "leafz");
        assert_eq!(v["data"]["leafs"], serde_json::json!([]));

        let v = request(&s.admin, &format!("{prefix}.JSZ"), "").await;
        assert_data(&v, id, JSZ_KEYS, "jsz");
        assert_eq!(v["data"]["disabled"], true);
        assert_keys(&v["data"]["api"], &["level", "total", "errors"], "jsz api");

        let v = request(&s.admin, &format!("{prefix}.ACCOUNTZ"), "").await;
        assert_data(
            &v,
            id,
            &["server_id", "now", "system_account", "accounts"],
            "accountz",
        );
        assert_eq!(v["data"]["system_account"], "SYS");
        let names: Vec<&str> = v["data"]["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for want in ["SYS", "$G", "USERS"] {
            assert!(names.contains(&want), "{names:?}");
        }

        let v = request(&s.admin, &format!("{prefix}.HEALTHZ"), "").await;
        assert_data(&v, id, &["status", "status_code"], "healthz");
        assert_eq!(v["data"]["status"], "ok");
        assert_eq!(v["data"]["status_code"], 200);
    }
}

#[tokio::test]
async fn connz_options_select_account_auth_and_subscription_details() {
    let s = setup().await;
    let subject = format!("$SYS.REQ.SERVER.{}.CONNZ", s.id);
    let body = r#"{"subscriptions_detail":true,"auth":true,"acc":"USERS"}"#;
    let v = request(&s.admin, &subject, body).await;
    assert_data(&v, &s.id, CONNZ_KEYS, "connz");
    assert_eq!(v["data"]["num_connections"], 1);
    let c = &v["data"]["connections"][0];
    let mut keys = CONN_KEYS.to_vec();
    keys.extend([
        "authorized_user",
        "account",
        "subscriptions_list_detail",
        "name_tag",
    ]);
    assert_keys(c, &keys, "connection");
    assert_eq!(c["authorized_user"], "a");
    assert_eq!(c["account"], "USERS");
    assert_eq!(c["name_tag"], "USERS");
    let detail = c["subscriptions_list_detail"].as_array().unwrap();
    assert_eq!(detail.len(), 2);
    assert_keys(&detail[0], &["subject", "sid", "msgs", "cid"], "sub detail");
    assert_eq!(detail[0]["subject"], "agent.123");
    assert_keys(
        &detail[1],
        &["subject", "qgroup", "sid", "msgs", "cid"],
        "sub detail",
    );
    assert_eq!(detail[1]["qgroup"], "q1");

    // sort, offset and limit page the list.
    let v = request(&s.admin, &subject, r#"{"sort":"cid","offset":1,"limit":1}"#).await;
    assert_eq!(v["data"]["num_connections"], 1);
    assert_eq!(v["data"]["total"], 2);
    assert_eq!(v["data"]["offset"], 1);
    assert_eq!(v["data"]["connections"][0]["name"], "bosh-agent-1");

    // subscriptions: the plain list.
    let v = request(
        &s.admin,
        &subject,
        r#"{"subscriptions":true,"acc":"USERS"}"#,
    )
    .await;
    assert_eq!(
        v["data"]["connections"][0]["subscriptions_list"],
        serde_json::json!(["agent.123", "foo.*"])
    );

    // A bad sort is the endpoint's own error.
    let v = request(&s.admin, &subject, r#"{"sort":"bogus"}"#).await;
    assert_keys(&v, &["server", "data", "error"], "error");
    assert!(v["data"].is_null());
    assert_eq!(v["error"]["code"], 500);
    assert_eq!(v["error"]["description"], "invalid sorting option: bogus");
}

#[tokio::test]
async fn unknown_option_keys_are_ignored() {
    let s = setup().await;
    let subject = format!("$SYS.REQ.SERVER.{}.CONNZ", s.id);
    let v = request(&s.admin, &subject, r#"{"account":"USERS","subs":true}"#).await;
    assert_data(&v, &s.id, CONNZ_KEYS, "connz");
    assert_eq!(v["data"]["num_connections"], 2);
    for c in v["data"]["connections"].as_array().unwrap() {
        assert_keys(c, CONN_KEYS, "connection");
    }
}

#[tokio::test]
async fn bad_json_options_answer_400() {
    let s = setup().await;
    for ep in ["CONNZ", "SUBSZ", "VARZ", "STATSZ"] {
        let subject = format!("$SYS.REQ.SERVER.{}.{ep}", s.id);
        let v = request(&s.admin, &subject, "{bad").await;
        assert_keys(&v, &["server", "error"], "error");
        assert_server(&v, &s.id);
        assert_keys(&v["error"], &["code", "description"], "error");
        assert_eq!(v["error"]["code"], 400);
        assert!(v["error"]["description"].is_string());
    }
    // A wrong type is bad JSON too.
    let subject = format!("$SYS.REQ.SERVER.{}.CONNZ", s.id);
    let v = request(&s.admin, &subject, r#"{"limit":"many"}"#).await;
    assert_eq!(v["error"]["code"], 400);
}

#[tokio::test]
async fn server_filters_decide_whether_this_server_replies() {
    let s = setup().await;
    let wait = Duration::from_millis(500);
    for body in [
        r#"{"server_name":"other"}"#,
        r#"{"server_name":"gannet","exact_match":true}"#,
        r#"{"cluster":"c1"}"#,
        r#"{"tags":["az:1"]}"#,
        r#"{"domain":"hub"}"#,
        r#"{"host":"10.9.9.9"}"#,
    ] {
        let got = try_request(&s.admin, "$SYS.REQ.SERVER.PING.CONNZ", body, wait).await;
        assert_eq!(got.err(), Some(RequestErrorKind::TimedOut), "{body}");
    }
    let got = try_request(
        &s.admin,
        "$SYS.REQ.SERVER.PING",
        r#"{"server_name":"x"}"#,
        wait,
    )
    .await;
    assert_eq!(got.err(), Some(RequestErrorKind::TimedOut));
    for body in [
        r#"{"server_name":"gannet"}"#,
        r#"{"server_name":"gannet-ref","exact_match":true}"#,
        r#"{"host":"127.0.0.1"}"#,
    ] {
        let v = request(&s.admin, "$SYS.REQ.SERVER.PING.CONNZ", body).await;
        assert_data(&v, &s.id, CONNZ_KEYS, body);
    }
}

#[tokio::test]
async fn subsz_options_list_one_accounts_subscriptions() {
    let s = setup().await;
    let subject = format!("$SYS.REQ.SERVER.{}.SUBSZ", s.id);
    let v = request(
        &s.admin,
        &subject,
        r#"{"subscriptions":true,"account":"USERS"}"#,
    )
    .await;
    let mut keys = SUBSZ_KEYS.to_vec();
    keys.push("subscriptions_list");
    assert_data(&v, &s.id, &keys, "subsz");
    let list = v["data"]["subscriptions_list"].as_array().unwrap();
    // The two clients' and the four system services USERS imports.
    assert_eq!(list.len(), 6);
    let imports = list
        .iter()
        .filter(|d| d["subject"].as_str().unwrap().starts_with("$SYS.REQ."))
        .count();
    assert_eq!(imports, 4);
    assert_keys(&list[0], SUB_DETAIL_KEYS, "subscription");
    assert_eq!(list[0]["account"], "USERS");
    assert_eq!(list[0]["account_tag"], "USERS");
    assert!(list[0]["sid"].is_string());

    let v = request(
        &s.admin,
        &subject,
        r#"{"subscriptions":true,"account":"USERS","test":"foo.bar"}"#,
    )
    .await;
    let list = v["data"]["subscriptions_list"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["qgroup"], "q1");

    let v = request(
        &s.admin,
        &subject,
        r#"{"subscriptions":true,"offset":1,"limit":1}"#,
    )
    .await;
    assert_eq!(v["data"]["offset"], 1);
    assert_eq!(v["data"]["limit"], 1);
}

#[tokio::test]
async fn account_services_describe_one_account() {
    let s = setup().await;
    let id = &s.id;
    let v = request(&s.admin, "$SYS.REQ.ACCOUNT.USERS.CONNZ", "").await;
    assert_data(&v, id, CONNZ_KEYS, "account connz");
    assert_eq!(v["data"]["num_connections"], 1);
    assert_eq!(v["data"]["connections"][0]["name"], "bosh-agent-1");

    let v = request(&s.admin, "$SYS.REQ.ACCOUNT.USERS.LEAFZ", "").await;
    assert_data(&v, id, &["server_id", "now", "leafnodes", "leafs"], "leafz");

    let v = request(&s.admin, "$SYS.REQ.ACCOUNT.USERS.SUBSZ", "").await;
    let mut keys = SUBSZ_KEYS.to_vec();
    keys.push("subscriptions_list");
    assert_data(&v, id, &keys, "account subsz");
    for sub in v["data"]["subscriptions_list"].as_array().unwrap() {
        assert_eq!(sub["account"], "USERS");
    }

    let v = request(&s.admin, "$SYS.REQ.ACCOUNT.USERS.JSZ", "").await;
    assert_keys(&v, &["server", "data", "error"], "account jsz");
    assert!(v["data"].is_null());
    assert_eq!(v["error"]["code"], 500);
    assert_eq!(v["error"]["description"], "jetstream not enabled");

    let v = request(&s.admin, "$SYS.REQ.ACCOUNT.USERS.INFO", "").await;
    assert_data(&v, id, ACCOUNT_INFO_KEYS, "account info");
    let d = &v["data"];
    assert_eq!(d["account_name"], "USERS");
    assert_eq!(d["client_connections"], 1);
    assert_keys(&d["sublist_stats"], SUBLIST_STATS_KEYS, "sublist_stats");
    let imports = d["imports"].as_array().unwrap();
    assert_eq!(imports.len(), 4);
    for i in imports {
        assert_keys(i, IMPORT_KEYS, "import");
        assert_eq!(i["account"], "SYS");
        assert_eq!(i["type"], "service");
    }
    assert_eq!(imports[3]["subject"], "$SYS.REQ.USER.USERS.INFO");
    assert_eq!(imports[3]["share"], true);

    let v = request(&s.admin, "$SYS.REQ.ACCOUNT.NOPE.INFO", "").await;
    assert_keys(&v, &["server", "data", "error"], "unknown info");
    assert_eq!(v["error"]["code"], 500);
    assert_eq!(v["error"]["description"], "Account NOPE does not exist");

    let v = request(&s.admin, "$SYS.REQ.ACCOUNT.USERS.STATZ", "").await;
    assert_data(&v, id, &["server_id", "now", "account_statz"], "statz");
    let stat = &v["data"]["account_statz"][0];
    assert_keys(stat, ACCOUNT_STAT_KEYS, "account stat");
    assert_eq!(stat["acc"], "USERS");
    assert_eq!(stat["conns"], 1);
    assert_keys(
        &stat["sent"],
        &["msgs", "bytes", "gateways", "routes", "leafs"],
        "sent",
    );

    // An account without connections answers only with include_unused.
    let wait = Duration::from_millis(500);
    let got = try_request(&s.admin, "$SYS.REQ.ACCOUNT.$G.STATZ", "", wait).await;
    assert_eq!(got.err(), Some(RequestErrorKind::TimedOut));
    let v = request(
        &s.admin,
        "$SYS.REQ.ACCOUNT.$G.STATZ",
        r#"{"include_unused":true}"#,
    )
    .await;
    assert_eq!(v["data"]["account_statz"][0]["conns"], 0);

    let v = request(&s.admin, "$SYS.REQ.ACCOUNT.USERS.CONNS", "").await;
    let mut keys = vec!["type", "id", "timestamp", "server"];
    keys.extend(ACCOUNT_STAT_KEYS);
    assert_keys(&v, &keys, "conns");
    assert_eq!(v["type"], "io.nats.server.advisory.v1.account_connections");
    assert_eq!(v["conns"], 1);
    let got = try_request(&s.admin, "$SYS.REQ.ACCOUNT.NOPE.CONNS", "", wait).await;
    assert_eq!(got.err(), Some(RequestErrorKind::TimedOut));
}

#[tokio::test]
async fn user_info_describes_the_requester() {
    let s = setup().await;
    let v = request(&s.admin, "$SYS.REQ.USER.INFO", "").await;
    assert_data(
        &v,
        &s.id,
        &["user", "account", "account_name"],
        "admin info",
    );
    assert_eq!(v["data"]["user"], "admin");
    assert_eq!(v["data"]["account"], "SYS");
    let v = request(&s.user, "$SYS.REQ.USER.INFO", "").await;
    assert_data(&v, &s.id, &["user", "account", "account_name"], "user info");
    assert_eq!(v["data"]["user"], "a");
    assert_eq!(v["data"]["account"], "USERS");
    assert_eq!(v["data"]["account_name"], "USERS");
}

#[tokio::test]
async fn user_info_reports_permissions() {
    let conf = r#"
authorization {
  users: [{
    user: p, password: p,
    permissions: {
      publish: { allow: ["$SYS.REQ.USER.INFO", "probe.>"], deny: ["probe.secret"] }
      subscribe: { allow: ["_INBOX.>"], deny: ["_INBOX.no"] }
      allow_responses: { max: 1, expires: "5s" }
    }
  }]
}
"#;
    let server = ServerProcess::start_with_config(BIN, Some(conf), &[]);
    let c = async_nats::ConnectOptions::with_user_and_password("p".into(), "p".into())
        .connect(server.url())
        .await
        .unwrap();
    let v = request(&c, "$SYS.REQ.USER.INFO", "").await;
    let d = &v["data"];
    assert_keys(
        d,
        &["user", "account", "account_name", "permissions"],
        "user info",
    );
    assert_eq!(d["account"], "$G");
    let p = &d["permissions"];
    assert_keys(p, &["publish", "subscribe", "responses"], "permissions");
    assert_eq!(
        p["publish"]["allow"],
        serde_json::json!(["$SYS.REQ.USER.INFO", "probe.>"])
    );
    assert_eq!(p["publish"]["deny"], serde_json::json!(["probe.secret"]));
    assert_eq!(p["subscribe"]["deny"], serde_json::json!(["_INBOX.no"]));
    assert_eq!(
        p["responses"],
        serde_json::json!({"max": 1, "ttl": 5_000_000_000u64})
    );
}

#[tokio::test]
async fn other_accounts_get_four_services_scoped_to_themselves() {
    let s = setup().await;
    for subject in ["$SYS.REQ.SERVER.PING.CONNZ", "$SYS.REQ.ACCOUNT.PING.CONNZ"] {
        let v = request(&s.user, subject, "").await;
        assert_data(&v, &s.id, CONNZ_KEYS, subject);
        assert_eq!(v["data"]["num_connections"], 1, "{subject}: {v}");
        assert_eq!(v["data"]["connections"][0]["name"], "bosh-agent-1");
        // Asking for another account does not widen the scope.
        let v = request(&s.user, subject, r#"{"acc":"SYS"}"#).await;
        assert_eq!(v["data"]["num_connections"], 1);
        assert_eq!(v["data"]["connections"][0]["name"], "bosh-agent-1");
    }
    let v = request(&s.user, "$SYS.REQ.ACCOUNT.PING.STATZ", "").await;
    assert_data(&v, &s.id, &["server_id", "now", "account_statz"], "statz");
    let stats = v["data"]["account_statz"].as_array().unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0]["acc"], "USERS");
    let v = request(&s.user, "$SYS.REQ.USER.INFO", "").await;
    assert_eq!(v["data"]["account"], "USERS");
}

#[tokio::test]
async fn other_sys_requests_from_a_user_account_get_no_responders() {
    let s = setup().await;
    let wait = Duration::from_secs(2);
    for subject in [
        "$SYS.REQ.SERVER.PING".to_string(),
        "$SYS.REQ.SERVER.PING.VARZ".to_string(),
        "$SYS.REQ.ACCOUNT.USERS.CONNZ".to_string(),
        "$SYS.REQ.ACCOUNT.USERS.INFO".to_string(),
        format!("$SYS.REQ.SERVER.{}.CONNZ", s.id),
    ] {
        let got = try_request(&s.user, &subject, "", wait).await;
        assert_eq!(got.err(), Some(RequestErrorKind::NoResponders), "{subject}");
    }
}

#[tokio::test]
async fn unknown_endpoints_get_no_responders() {
    let s = setup().await;
    let wait = Duration::from_secs(2);
    for subject in [
        format!("$SYS.REQ.SERVER.{}.NOPE", s.id),
        "$SYS.REQ.SERVER.PING.NOPE".to_string(),
        "$SYS.REQ.ACCOUNT.USERS.NOPE".to_string(),
        "$SYS.REQ.SERVER.NOTMYID.VARZ".to_string(),
        "$SYS.REQ.NOPE".to_string(),
    ] {
        let got = try_request(&s.admin, &subject, "", wait).await;
        assert_eq!(got.err(), Some(RequestErrorKind::NoResponders), "{subject}");
    }
}

#[tokio::test]
async fn requests_are_still_routed_to_subscribers() {
    let s = setup().await;
    let mut watcher = s.admin.subscribe("$SYS.REQ.SERVER.>").await.unwrap();
    s.admin.flush().await.unwrap();
    let v = request(&s.admin, "$SYS.REQ.SERVER.PING", "").await;
    assert!(v.get("statsz").is_some());
    let seen = tokio::time::timeout(
        Duration::from_secs(5),
        futures::StreamExt::next(&mut watcher),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(seen.subject.as_str(), "$SYS.REQ.SERVER.PING");
}

#[tokio::test]
async fn subscribed_but_unserved_subjects_get_an_error_not_silence() {
    let s = setup().await;
    // A service subject the server listens on but does not serve, and a
    // published `*` (literal, so it names no account) on a wildcard one.
    for (subject, ep) in [
        (format!("$SYS.REQ.SERVER.{}.KICK", s.id), "KICK"),
        ("$SYS.REQ.ACCOUNT.*.CONNZ".to_string(), "CONNZ"),
    ] {
        let v = request(&s.admin, &subject, "").await;
        assert_eq!(v["error"]["code"], 501, "{subject}: {v}");
        assert_eq!(
            v["error"]["description"],
            format!("{ep} is not supported by this server"),
            "{subject}"
        );
        assert_server(&v, &s.id);
    }
}

/// A reply's body as JSON, decoded as its `Content-Encoding` says, with
/// that header's value.
fn decoded(m: &async_nats::Message) -> (Option<String>, Value) {
    let encoding = m
        .headers
        .as_ref()
        .and_then(|h| h.get("Content-Encoding"))
        .map(|v| v.to_string());
    let body = gannet_test::encoding::decoded(encoding.as_deref(), &m.payload);
    let json = serde_json::from_slice(&body).unwrap_or_else(|e| {
        panic!(
            "{encoding:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&body)
        )
    });
    (encoding, json)
}

#[tokio::test]
async fn monitoring_replies_are_compressed_as_the_request_accepts() {
    // What nats-server 2.15 answers: the monitoring endpoints (its `zReq`
    // ones) encode as asked, snappy before gzip, `identity` for anything
    // else; STATSZ, USER.INFO and error replies are never encoded.
    let cases: &[(&str, &str, &str, Option<&str>)] = &[
        ("$SYS.REQ.SERVER.PING.VARZ", "", "gzip", Some("gzip")),
        ("$SYS.REQ.SERVER.PING.CONNZ", "", "snappy", Some("snappy")),
        ("$SYS.REQ.SERVER.PING.SUBSZ", "", "GZIP, S2", Some("snappy")),
        ("$SYS.REQ.SERVER.PING.HEALTHZ", "", "br", Some("identity")),
        ("$SYS.REQ.ACCOUNT.USERS.CONNZ", "", "gzip", Some("gzip")),
        ("$SYS.REQ.ACCOUNT.PING.STATZ", "", "gzip", Some("gzip")),
        ("$SYS.REQ.SERVER.PING.STATSZ", "", "gzip", None),
        ("$SYS.REQ.USER.INFO", "", "gzip", None),
        ("$SYS.REQ.SERVER.PING.VARZ", "{bad", "gzip", None),
        ("$SYS.REQ.SERVER.PING.VARZ", "", "", None),
    ];
    for binary in gannet_test::with_reference(BIN) {
        let server = ServerProcess::start_with_config(&binary, Some(SEED), &[]);
        let admin =
            async_nats::ConnectOptions::with_user_and_password("admin".into(), "changeit".into())
                .connect(server.url())
                .await
                .unwrap();
        let _user = async_nats::ConnectOptions::with_user_and_password("a".into(), "a".into())
            .connect(server.url())
            .await
            .unwrap();
        for (subject, body, accept, want) in cases {
            let mut headers = async_nats::HeaderMap::new();
            if !accept.is_empty() {
                headers.insert("Accept-Encoding", *accept);
            }
            let req = async_nats::Request::new()
                .payload(body.to_string().into())
                .headers(headers)
                .timeout(Some(Duration::from_secs(5)));
            let reply = admin
                .send_request(subject.to_string(), req)
                .await
                .unwrap_or_else(|e| panic!("{binary}: {subject}: {e}"));
            let (encoding, json) = decoded(&reply);
            assert_eq!(
                encoding.as_deref(),
                *want,
                "{binary}: {subject} {body:?} accepting {accept:?}"
            );
            assert!(json.get("server").is_some(), "{binary}: {subject}: {json}");
            let answered = json
                .get("data")
                .or(json.get("statsz"))
                .or(json.get("error"));
            assert!(answered.is_some(), "{binary}: {subject}: {json}");
        }
    }
}
