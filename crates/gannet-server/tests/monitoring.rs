//! The HTTP monitoring endpoints against a real server: `/connz` (counters,
//! sorting, paging, subscriptions, closed connections, 400s), `/subsz`, the
//! endpoints for features Gannet lacks (`/routez`, `/gatewayz`, `/leafz`, `/jsz`),
//! `/accountz`, `/accstatz` and `/metrics`, checked against the reference's
//! captured bodies (docs/SYSTEM-ACCOUNT.md §5).
use std::collections::HashMap;
use std::time::{Duration, Instant};

use gannet_test::{RawClient, ServerProcess};
use serde_json::Value;

use gannet_test::reference::CONN_KEYS;

/// Subscriptions a server has of its own with the default system account, as
/// the reference counts them: the system services' 56 in `$SYS` and the four
/// services `$G` imports.
const SYSTEM_SUBS: u64 = 60;

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

fn start() -> ServerProcess {
    ServerProcess::start(BIN, &["-m", "-1"])
}

fn get_json(s: &ServerProcess, path: &str) -> Value {
    let (code, body) = s.http_get(path);
    assert_eq!(code, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// A client that said CONNECT (with a name) and whose ops were all handled.
fn client(s: &ServerProcess, name: &str) -> RawClient {
    let mut c = RawClient::connect_with(
        &s.addr(),
        &format!(r#"{{"verbose":false,"name":"{name}","lang":"raw","version":"1.2"}}"#),
    );
    c.send(b"PING\r\n");
    c.expect(b"PONG\r\n");
    c
}

/// Polls `path` until `ok` holds (counters land after the read batch ends).
fn wait_for(s: &ServerProcess, path: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let v = get_json(s, path);
        if ok(&v) || Instant::now() > deadline {
            return v;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn connz_reports_per_client_counters_and_fields_in_the_reference_order() {
    let s = start();
    let mut sub = client(&s, "sub");
    sub.send(b"SUB foo.* 1\r\nSUB bar q1 2\r\nPING\r\n");
    sub.expect(b"PONG\r\n");
    let mut publ = client(&s, "pub");
    publ.send(b"PUB foo.x 5\r\nhello\r\nPUB foo.y 3\r\nabc\r\nPUB none 2\r\nhi\r\nPING\r\n");
    publ.expect(b"PONG\r\n");
    sub.expect(b"MSG foo.x 1 5\r\nhello\r\n");
    sub.expect(b"MSG foo.y 1 3\r\nabc\r\n");

    let v = wait_for(&s, "/connz?subs=1", |v| v["connections"][1]["in_msgs"] == 3);
    assert_eq!(
        keys(&v),
        [
            "server_id",
            "now",
            "num_connections",
            "total",
            "offset",
            "limit",
            "connections"
        ]
    );
    assert_eq!(v["num_connections"], 2);
    assert_eq!(v["total"], 2);
    assert_eq!(v["limit"], 1024);
    let (c1, c2) = (&v["connections"][0], &v["connections"][1]);
    let mut want = CONN_KEYS.to_vec();
    want.push("subscriptions_list");
    assert_eq!(keys(c1), want);
    assert_eq!(c1["kind"], "Client");
    assert_eq!(c1["type"], "nats");
    assert_eq!(c1["ip"], "127.0.0.1");
    assert_eq!(c1["name"], "sub");
    assert_eq!(c1["lang"], "raw");
    assert_eq!(c1["version"], "1.2");
    assert_eq!(c1["subscriptions"], 2);
    assert_eq!(
        c1["subscriptions_list"],
        serde_json::json!(["foo.*", "bar"])
    );
    assert_eq!(
        (c1["out_msgs"].as_u64(), c1["out_bytes"].as_u64()),
        (Some(2), Some(8))
    );
    assert_eq!(
        (c1["in_msgs"].as_u64(), c1["in_bytes"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        (c2["in_msgs"].as_u64(), c2["in_bytes"].as_u64()),
        (Some(3), Some(10))
    );
    assert_eq!(c2["name"], "pub");
    assert!(c2.get("subscriptions_list").is_none(), "no subs, no list");
    assert!(c1["cid"].as_u64() < c2["cid"].as_u64());
    assert!(c1["port"].as_u64().is_some_and(|p| p > 0));
    assert_eq!(c1["idle"], "0s");
    assert!(c1["rtt"].as_str().is_some_and(|r| r.ends_with('s')));
    assert!(c1["pending_bytes"].is_u64(), "{c1}");

    // Detail: sid, msgs, qgroup, cid; no account in $G.
    let v = get_json(&s, &format!("/connz?subs=detail&cid={}", c1["cid"]));
    assert_eq!(v["num_connections"], 1);
    let detail = &v["connections"][0]["subscriptions_list_detail"];
    assert_eq!(keys(&detail[0]), ["subject", "sid", "msgs", "cid"]);
    assert_eq!(detail[0]["subject"], "foo.*");
    assert_eq!(detail[0]["sid"], "1");
    assert_eq!(detail[0]["msgs"], 2);
    assert_eq!(detail[1]["qgroup"], "q1");
    assert_eq!(detail[1]["cid"], c1["cid"]);
}

#[test]
fn connz_measures_rtt_from_the_first_server_ping() {
    let s = start();
    let mut c = client(&s, "rtt");
    // The first server PING comes within 2s; answering it measures the round trip.
    let got = c.read_for(Duration::from_millis(2500));
    assert!(String::from_utf8_lossy(&got).contains("PING"), "{got:?}");
    c.send(b"PONG\r\n");
    let v = wait_for(&s, "/connz", |v| v["connections"][0]["rtt"] != "0s");
    let rtt = v["connections"][0]["rtt"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        rtt != "0s" && (rtt.ends_with("µs") || rtt.ends_with("ms")),
        "{rtt}"
    );
}

#[test]
fn connz_sorts_pages_and_filters() {
    let s = start();
    let mut a = client(&s, "a");
    let mut b = client(&s, "b");
    let _c = client(&s, "c");
    b.send(b"SUB x 1\r\nSUB y 2\r\nPUB x 1\r\n1\r\nPING\r\n");
    b.expect(b"MSG x 1 1\r\n1\r\nPONG\r\n");
    a.send(b"SUB z 1\r\nPING\r\n");
    a.expect(b"PONG\r\n");
    let names = |v: &Value| -> Vec<String> {
        v["connections"]
            .as_array()
            .expect("connections")
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(names(&get_json(&s, "/connz")), ["a", "b", "c"]);
    assert_eq!(names(&get_json(&s, "/connz?sort=subs")), ["b", "a", "c"]);
    let v = wait_for(&s, "/connz?sort=msgs_from", |v| {
        v["connections"][0]["name"] == "b"
    });
    assert_eq!(names(&v)[0], "b");
    assert_eq!(names(&get_json(&s, "/connz?sort=msgs_to"))[0], "b");
    for sort in [
        "start",
        "pending",
        "bytes_to",
        "bytes_from",
        "last",
        "idle",
        "uptime",
        "rtt",
    ] {
        assert_eq!(
            get_json(&s, &format!("/connz?sort={sort}"))["num_connections"],
            3,
            "{sort}"
        );
    }
    let v = get_json(&s, "/connz?offset=1&limit=1");
    assert_eq!(
        (v["offset"].as_u64(), v["limit"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (v["num_connections"].as_u64(), v["total"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(names(&v), ["b"]);
    let v = get_json(&s, "/connz?offset=-1&limit=0");
    assert_eq!(
        (v["offset"].as_u64(), v["limit"].as_u64()),
        (Some(0), Some(1024))
    );
    let v = get_json(&s, "/connz?cid=999");
    assert_eq!(v["total"], 0);
    assert_eq!(v["connections"], serde_json::json!([]));
}

#[test]
fn connz_bad_values_answer_400_with_the_reference_messages() {
    let s = start();
    for (query, want) in [
        ("sort=bogus", "invalid sorting option: bogus"),
        (
            "subs=maybe",
            "Error decoding boolean for 'subs': strconv.ParseBool: parsing \"maybe\": invalid syntax",
        ),
        (
            "auth=2",
            "Error decoding boolean for 'auth': strconv.ParseBool: parsing \"2\": invalid syntax",
        ),
        (
            "offset=x",
            "Error decoding int for 'offset': strconv.Atoi: parsing \"x\": invalid syntax",
        ),
        (
            "limit=1.5",
            "Error decoding int for 'limit': strconv.Atoi: parsing \"1.5\": invalid syntax",
        ),
        (
            "cid=-1",
            "Error decoding uint64 for 'cid': strconv.ParseUint: parsing \"-1\": invalid syntax",
        ),
        ("state=x", "Error decoding state for x"),
        ("sort=stop", "sort by stop only valid on closed connections"),
        ("sort=reason", "sort by reason only valid on closed connections"),
    ] {
        let (code, body) = s.http_get(&format!("/connz?{query}"));
        assert_eq!((code, body.trim_end()), (400, want), "{query}");
    }
    let (code, body) = s.http_get("/subsz?test=foo.*");
    assert_eq!(code, 400);
    assert_eq!(
        body.trim_end(),
        "invalid test subject, must be valid publish subject: foo.*"
    );
    let (code, body) = s.http_get("/accountz?acc=NOPE");
    assert_eq!(
        (code, body.trim_end()),
        (400, "Account NOPE does not exist")
    );
    // Junk never takes the server down.
    for junk in [
        "/connz?%%%=%zz&sort",
        "/connz?limit=99999999999999999999999",
        "/subsz?offset=%ff",
    ] {
        assert!(matches!(s.http_get(junk).0, 200 | 400), "{junk}");
    }
    assert_eq!(s.http_get("/healthz").0, 200);
}

#[test]
fn connz_auth_shows_the_authorized_user() {
    let s = ServerProcess::start(BIN, &["-m", "-1", "--user", "u1", "--pass", "p1"]);
    let mut c = RawClient::connect_with(&s.addr(), r#"{"verbose":false,"user":"u1","pass":"p1"}"#);
    c.send(b"PING\r\n");
    c.expect(b"PONG\r\n");
    let v = get_json(&s, "/connz?auth=true");
    assert_eq!(v["connections"][0]["authorized_user"], "u1");
    let v = get_json(&s, "/connz");
    assert!(v["connections"][0].get("authorized_user").is_none());
    assert_eq!(get_json(&s, "/connz?user=u1")["total"], 1);
    assert_eq!(get_json(&s, "/connz?user=nobody")["total"], 0);
}

#[test]
fn closed_connections_are_remembered_with_stop_and_reason() {
    let s = start();
    let mut c = client(&s, "gone");
    c.send(b"SUB a 1\r\nPUB a 2\r\nhi\r\nPING\r\n");
    c.expect(b"MSG a 1 2\r\nhi\r\nPONG\r\n");
    drop(c);
    let _open = client(&s, "stays");
    let v = wait_for(&s, "/connz?state=closed&subs=1", |v| v["total"] == 1);
    assert_eq!(v["total"], 1);
    let cc = &v["connections"][0];
    assert_eq!(
        keys(cc),
        [
            "cid",
            "kind",
            "type",
            "ip",
            "port",
            "start",
            "last_activity",
            "stop",
            "reason",
            "rtt",
            "uptime",
            "idle",
            "pending_bytes",
            "in_msgs",
            "out_msgs",
            "in_bytes",
            "out_bytes",
            "subscriptions",
            "name",
            "lang",
            "version",
            "subscriptions_list"
        ]
    );
    assert_eq!(cc["name"], "gone");
    assert_eq!(cc["reason"], "Client Closed");
    assert_eq!(
        (cc["in_msgs"].as_u64(), cc["out_msgs"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(cc["subscriptions_list"], serde_json::json!(["a"]));
    assert_eq!(get_json(&s, "/connz")["total"], 1);
    assert_eq!(get_json(&s, "/connz?state=all")["total"], 2);
    assert_eq!(get_json(&s, "/connz?state=any&sort=stop")["total"], 2);
    assert_eq!(get_json(&s, "/connz?state=closed&sort=reason")["total"], 1);
}

#[test]
fn closed_connections_ring_keeps_only_max_closed_clients() {
    let s = ServerProcess::start_with_config(BIN, Some("max_closed_clients: 2\n"), &["-m", "-1"]);
    // Each close is recorded before the next client closes, so that the
    // ring's order is the closing order.
    for i in 0..4 {
        let name = format!("c{i}");
        drop(client(&s, &name));
        wait_for(&s, "/connz?state=closed", |v| {
            v["connections"]
                .as_array()
                .is_some_and(|l| l.iter().any(|c| c["name"] == name.as_str()))
        });
    }
    let v = wait_for(&s, "/connz?state=closed", |v| {
        v["connections"][1]["name"] == "c3"
    });
    assert_eq!(v["total"], 2);
    assert_eq!(v["connections"][0]["name"], "c2");
    assert_eq!(v["connections"][1]["name"], "c3");
}

#[test]
fn subsz_lists_and_tests_subscriptions() {
    let s = start();
    let mut c = client(&s, "s");
    c.send(b"SUB foo.* 1\r\nSUB foo.bar q 2\r\nSUB baz 3\r\nPING\r\n");
    c.expect(b"PONG\r\n");
    let v = get_json(&s, "/subsz");
    assert_eq!(
        keys(&v),
        [
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
            "limit"
        ]
    );
    assert_eq!(v["num_subscriptions"], SYSTEM_SUBS + 3);
    assert_eq!(
        v["total"], 0,
        "the reference counts only listed subscriptions"
    );
    assert!(v["cache_hit_rate"].is_number() && v["avg_fanout"].is_number());
    let v = get_json(&s, "/subsz?subs=1");
    assert_eq!(v["total"], SYSTEM_SUBS + 3);
    let first = &v["subscriptions_list"][0];
    assert_eq!(
        keys(first),
        ["account", "account_tag", "subject", "sid", "msgs", "cid"]
    );
    assert_eq!(first["account"], "$G");
    let v = get_json(&s, "/subscriptionsz?subs=1&test=foo.bar");
    assert_eq!(v["total"], 2);
    let subjects: Vec<&str> = v["subscriptions_list"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["subject"].as_str())
        .collect();
    assert_eq!(subjects, ["foo.*", "foo.bar"]);
    assert_eq!(v["subscriptions_list"][1]["qgroup"], "q");
    let v = get_json(&s, "/subsz?subs=1&offset=2&limit=5");
    assert_eq!(
        (
            v["total"].as_u64(),
            v["offset"].as_u64(),
            v["limit"].as_u64()
        ),
        (Some(SYSTEM_SUBS + 3), Some(2), Some(5))
    );
    assert_eq!(v["subscriptions_list"].as_array().map(Vec::len), Some(5));
}

#[test]
fn endpoints_for_absent_features_have_the_reference_shapes() {
    let s = start();
    let v = get_json(&s, "/routez");
    assert_eq!(
        keys(&v),
        ["server_id", "server_name", "now", "num_routes", "routes"]
    );
    assert_eq!(
        (v["num_routes"].as_u64(), v["routes"].clone()),
        (Some(0), serde_json::json!([]))
    );
    let v = get_json(&s, "/gatewayz");
    assert_eq!(
        keys(&v),
        ["server_id", "now", "outbound_gateways", "inbound_gateways"]
    );
    assert_eq!(v["outbound_gateways"], serde_json::json!({}));
    let v = get_json(&s, "/leafz");
    assert_eq!(keys(&v), ["server_id", "now", "leafnodes", "leafs"]);
    let v = get_json(&s, "/jsz");
    // The key order of the reference's /jsz (JetStream off).
    assert_eq!(
        keys(&v),
        [
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
            "total"
        ]
    );
    assert_eq!(keys(&v["api"]), ["level", "total", "errors"]);
    assert_eq!(v["disabled"], true);
}

#[test]
fn accountz_and_accstatz_describe_the_global_account() {
    let s = start();
    let v = get_json(&s, "/accountz");
    assert_eq!(keys(&v), ["server_id", "now", "system_account", "accounts"]);
    // Without a configured one, the system account is the default `$SYS`.
    assert_eq!(v["system_account"], "$SYS");
    assert_eq!(v["accounts"], serde_json::json!(["$G", "$SYS"]));
    assert_eq!(
        get_json(&s, "/accstatz")["account_statz"],
        serde_json::json!([])
    );
    assert_eq!(
        get_json(&s, "/accstatz?unused=1")["account_statz"][0]["acc"],
        "$G"
    );

    let mut c = client(&s, "acc");
    c.send(b"SUB a 1\r\nPUB a 2\r\nhi\r\nPING\r\n");
    c.expect(b"MSG a 1 2\r\nhi\r\nPONG\r\n");
    let v = get_json(&s, "/accountz?acc=%24G");
    let d = &v["account_detail"];
    assert_eq!(d["account_name"], "$G");
    assert_eq!(d["client_connections"], 1);
    // The four system services every account imports, and the client's.
    assert_eq!(d["subscriptions"], 5);
    assert_eq!(d["sublist_stats"]["num_subscriptions"], 5);
    let v = wait_for(&s, "/accstatz", |v| {
        v["account_statz"][0]["received"]["msgs"] == 1
    });
    let a = &v["account_statz"][0];
    assert_eq!(
        keys(a),
        [
            "acc",
            "name",
            "conns",
            "leafnodes",
            "total_conns",
            "num_subscriptions",
            "sent",
            "received",
            "slow_consumers"
        ]
    );
    assert_eq!(
        keys(&a["sent"]),
        ["msgs", "bytes", "gateways", "routes", "leafs"]
    );
    assert_eq!(
        (a["conns"].as_u64(), a["num_subscriptions"].as_u64()),
        (Some(1), Some(5))
    );
    assert_eq!(a["received"]["bytes"], 2);
}

/// One sample of the text format: name, labels, value.
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: f64,
}

/// A small parser for the Prometheus text format: checks that every sample's
/// family was announced with `# HELP` and `# TYPE` first.
fn parse_metrics(text: &str) -> (Vec<Sample>, HashMap<String, String>) {
    let mut types = HashMap::new();
    let mut helped = std::collections::HashSet::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.insert(rest.split(' ').next().expect("name").to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(["gauge", "counter"].contains(&kind), "{line}");
            types.insert(name.to_string(), kind.to_string());
        } else {
            assert!(!line.starts_with('#'), "{line}");
            let (series, value) = line.rsplit_once(' ').expect("sample value");
            let (name, labels) = match series.split_once('{') {
                Some((n, l)) => (n, l.strip_suffix('}').expect("closing brace")),
                None => (series, ""),
            };
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name}"
            );
            assert!(
                helped.contains(name) && types.contains_key(name),
                "unannounced {name}"
            );
            let labels = labels
                .split(',')
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (k, v) = l.split_once('=').expect("label=value");
                    let v = v
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .expect("quoted");
                    (k.to_string(), v.to_string())
                })
                .collect();
            samples.push(Sample {
                name: name.to_string(),
                labels,
                value: value.parse().expect("numeric value"),
            });
        }
    }
    (samples, types)
}

#[test]
fn metrics_exports_varz_and_connz_in_prometheus_text_format() {
    let s = start();
    let mut c = client(&s, "m");
    c.send(b"SUB a 1\r\nPUB a 3\r\nabc\r\nPING\r\n");
    c.expect(b"MSG a 1 3\r\nabc\r\nPONG\r\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    let (samples, types) = loop {
        let (code, body) = s.http_get("/metrics");
        assert_eq!(code, 200);
        let parsed = parse_metrics(&body);
        let done = parsed
            .0
            .iter()
            .any(|x| x.name == "gnatsd_varz_in_msgs" && x.value == 1.0);
        if done || Instant::now() > deadline {
            break parsed;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let server_id = get_json(&s, "/varz")["server_id"]
        .as_str()
        .expect("id")
        .to_string();
    let value = |name: &str| -> f64 {
        let x = samples
            .iter()
            .find(|x| x.name == name)
            .unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(x.labels.get("server_id"), Some(&server_id), "{name}");
        x.value
    };
    assert_eq!(value("gnatsd_varz_connections"), 1.0);
    assert_eq!(value("gnatsd_varz_total_connections"), 1.0);
    assert_eq!(value("gnatsd_varz_in_msgs"), 1.0);
    assert_eq!(value("gnatsd_varz_out_msgs"), 1.0);
    assert_eq!(value("gnatsd_varz_in_bytes"), 3.0);
    assert_eq!(value("gnatsd_varz_out_bytes"), 3.0);
    assert_eq!(value("gnatsd_varz_subscriptions"), SYSTEM_SUBS as f64 + 1.0);
    assert_eq!(value("gnatsd_varz_slow_consumers"), 0.0);
    assert_eq!(value("gnatsd_varz_max_payload"), 1048576.0);
    assert!(value("gnatsd_varz_mem") > 0.0);
    assert!(value("gnatsd_varz_cpu") >= 0.0);
    assert_eq!(value("gnatsd_connz_num_connections"), 1.0);
    assert_eq!(value("gnatsd_connz_total"), 1.0);
    assert_eq!(
        value("gnatsd_subsz_num_subscriptions"),
        SYSTEM_SUBS as f64 + 1.0
    );
    assert_eq!(
        types.get("gnatsd_varz_in_msgs").map(String::as_str),
        Some("counter")
    );
    assert_eq!(
        types.get("gnatsd_varz_connections").map(String::as_str),
        Some("gauge")
    );
    let per_conn = samples
        .iter()
        .find(|x| x.name == "gnatsd_connz_in_bytes")
        .expect("per-connection series");
    assert_eq!(per_conn.labels.get("name").map(String::as_str), Some("m"));
    assert!(per_conn.labels.contains_key("cid"));
    assert_eq!(per_conn.value, 3.0);
}

#[test]
fn each_endpoint_counts_in_varz_http_req_stats() {
    let s = start();
    for path in [
        "/connz",
        "/subsz",
        "/subscriptionsz",
        "/routez",
        "/metrics",
        "/jsz",
    ] {
        s.http_get(path);
    }
    let stats = &get_json(&s, "/varz")["http_req_stats"];
    assert_eq!(stats["/connz"], 1);
    assert_eq!(stats["/subsz"], 2);
    assert_eq!(stats["/routez"], 1);
    assert_eq!(stats["/metrics"], 1);
    assert_eq!(s.http_get("/nope").0, 404);
}

#[test]
fn varz_has_every_field_of_the_reference() {
    let s = ServerProcess::start_with_config(
        BIN,
        Some("accounts { SYS: { users: [ {user: admin, password: x} ] } }\nsystem_account: SYS\n"),
        &["-m", "-1"],
    );
    let v = get_json(&s, "/varz");
    // Every key of the reference's /varz. The build facts
    // (`git_commit`, `go`) name Gannet's commit and Rust toolchain; the commit
    // is left out when Gannet was not built from a git checkout.
    let mut want = vec![
        "server_id",
        "server_name",
        "version",
        "proto",
        "git_commit",
        "go",
        "host",
        "port",
        "auth_required",
        "max_connections",
        "ping_interval",
        "ping_max",
        "http_host",
        "http_port",
        "http_base_path",
        "https_port",
        "auth_timeout",
        "max_control_line",
        "max_payload",
        "max_pending",
        "cluster",
        "gateway",
        "leaf",
        "mqtt",
        "websocket",
        "jetstream",
        "tls_timeout",
        "write_deadline",
        "start",
        "now",
        "uptime",
        "mem",
        "cores",
        "gomaxprocs",
        "cpu",
        "connections",
        "total_connections",
        "routes",
        "remotes",
        "leafnodes",
        "in_msgs",
        "in_bytes",
        "in_client_msgs",
        "in_client_bytes",
        "out_msgs",
        "out_bytes",
        "out_client_msgs",
        "out_client_bytes",
        "slow_consumers",
        "stale_connections",
        "stalled_clients",
        "subscriptions",
        "http_req_stats",
        "config_load_time",
        "config_digest",
        "feature_flags",
        "system_account",
        "slow_consumer_stats",
        "stale_connection_stats",
        "disk_io_wait_stats",
    ];
    if gannet_server::info::GIT_COMMIT.is_empty() {
        want.retain(|k| *k != "git_commit");
    }
    let mut got = keys(&v);
    got.sort();
    let mut want: Vec<String> = want.iter().map(|k| k.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(v["system_account"], "SYS");
    assert_eq!(v["auth_required"], true);
    assert!(v["config_digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(v["slow_consumer_stats"]["clients"], 0);
}

#[test]
fn subsz_counts_inserts_removes_and_matches() {
    let s = start();
    let mut c = client(&s, "counts");
    c.send(b"SUB a.b 1\r\nSUB x 2\r\nUNSUB 2\r\nPUB a.b 2\r\nhi\r\nPING\r\n");
    c.expect(b"MSG a.b 1 2\r\nhi\r\nPONG\r\n");
    let v = get_json(&s, "/subsz");
    assert_eq!(v["num_subscriptions"], SYSTEM_SUBS + 1, "{v}");
    assert_eq!(v["num_inserts"], SYSTEM_SUBS + 2, "{v}");
    assert_eq!(v["num_removes"], 1, "{v}");
    assert!(v["num_matches"].as_u64().unwrap() >= 1, "{v}");
}
