//! Tests for the `cluster { }` block, route URLs and `--cluster` URLs.
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::options::{load_str, ConfigErrors, Loaded};

fn load(text: &str) -> Result<Loaded, ConfigErrors> {
    load_str(text, Path::new("t.conf"))
}

/// The cluster of a file that must load.
fn cluster_of(text: &str) -> ClusterOptions {
    match load(text) {
        Ok(l) => l
            .options
            .cluster
            .unwrap_or_else(|| panic!("{text:?}: no cluster")),
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

/// `cluster { <body> }` on one line.
fn cluster(body: &str) -> ClusterOptions {
    cluster_of(&format!("cluster {{ {body} }}"))
}

/// Every error as `file:line:col: message`.
fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => panic!("{text:?} loaded: {:?}", l.options.cluster),
        Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// The messages alone of `cluster {\n  <line>\n}` (the key on line 2, column 3).
fn error(line: &str) -> Vec<String> {
    errors(&format!("cluster {{\n  {line}\n}}"))
}

fn warnings(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => l.warnings.iter().map(ToString::to_string).collect(),
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

fn route(text: &str) -> RouteUrl {
    RouteUrl::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn list(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(ToString::to_string).collect())
}

#[test]
fn no_block_no_cluster_and_an_empty_block_does_not_listen() {
    assert_eq!(load("port: 4222").map(|l| l.options.cluster), Ok(None));
    let c = cluster("");
    assert_eq!(c, ClusterOptions::default());
    assert!(!c.is_enabled());
    assert_eq!(c.port, 0);
    assert_eq!(c.host, "0.0.0.0");
    assert_eq!(c.pool_size, 3);
    assert_eq!(c.auth_timeout, Duration::from_secs(2));
    assert_eq!(c.compression, RouteCompression::Accept);
}

#[test]
fn listener_keys() {
    let c = cluster("name: east, host: 10.0.0.5, port: 4248");
    assert_eq!(c.name.as_deref(), Some("east"));
    assert_eq!((c.host.as_str(), c.port), ("10.0.0.5", 4248));
    assert!(c.is_enabled());
    assert_eq!(cluster("net: 10.0.0.6").host, "10.0.0.6");
    assert_eq!(cluster("host: \"\"").host, "0.0.0.0");
    assert_eq!(cluster("port: -1").port, -1);
    let c = cluster("listen: \"127.0.0.1:4248\"");
    assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 4248));
    let c = cluster("host: 10.0.0.5, listen: 4248");
    assert_eq!((c.host.as_str(), c.port), ("10.0.0.5", 4248));
    let c = cluster("host: 10.0.0.5, listen: \":4248\"");
    assert_eq!((c.host.as_str(), c.port), ("0.0.0.0", 4248));
    let c = cluster("listen: \"[::1]:-1\"");
    assert_eq!((c.host.as_str(), c.port), ("::1", -1));
    let c = cluster("advertise: \"nats.example.com:4248\", no_advertise: true");
    assert_eq!(c.advertise.as_deref(), Some("nats.example.com:4248"));
    assert!(c.no_advertise);
    let c = cluster("cluster_advertise: \"10.1.1.1:4248\"");
    assert_eq!(c.advertise.as_deref(), Some("10.1.1.1:4248"));
    assert_eq!(cluster("advertise: \"\"").advertise, None);
    assert_eq!(cluster("NAME: x, Port: 1").name.as_deref(), Some("x"));
}

#[test]
fn names() {
    // nats-server accepts an empty name (one is generated at start).
    assert_eq!(cluster("name: \"\"").name, None);
    assert_eq!(
        error("name: \"a b\""),
        ["t.conf:2:3: cluster name cannot contain spaces"]
    );
    assert_eq!(
        error("name: 5"),
        ["t.conf:2:3: interface conversion: interface {} is int64, not string"]
    );
}

#[test]
fn listen_and_port_errors() {
    assert_eq!(
        error("listen: \"nats://127.0.0.1:4248\""),
        ["t.conf:2:3: could not parse address string \"nats://127.0.0.1:4248\""]
    );
    assert_eq!(
        error("listen: \"h:x\""),
        ["t.conf:2:3: could not parse port \"x\""]
    );
    assert_eq!(
        error("port: \"x\""),
        ["t.conf:2:3: interface conversion: interface {} is string, not int64"]
    );
    assert_eq!(
        error("port: 70000"),
        ["t.conf:2:3: invalid port 70000 for \"port\", must be -1 (random) to 65535"]
    );
    assert_eq!(
        error("no_advertise: \"yes\""),
        ["t.conf:2:3: interface conversion: interface {} is string, not bool"]
    );
    assert_eq!(
        error("host: 5"),
        ["t.conf:2:3: interface conversion: interface {} is int64, not string"]
    );
}

#[test]
fn not_a_map_and_unknown_keys() {
    assert_eq!(
        errors("cluster: 5"),
        ["t.conf:1:1: Expected map to define cluster, got int64"]
    );
    assert_eq!(error("foo: 1"), ["t.conf:2:3: unknown field \"foo\""]);
    // A key used as a variable is not unknown, as elsewhere.
    assert_eq!(cluster("P = 4248, port: $P").port, 4248);
}

#[test]
fn routes() {
    let c = cluster(
        "routes: [nats-route://ru:rp@10.0.0.5:4225, \"nats://10.0.0.6:4225\", \
         \" nats://u%40x:p%3Aw%2F@[::1]:4226 \"]",
    );
    assert_eq!(
        c.routes,
        [
            RouteUrl {
                url: "nats-route://ru:rp@10.0.0.5:4225".into(),
                host: "10.0.0.5".into(),
                port: 4225,
                user: Some("ru".into()),
                password: Some("rp".into()),
            },
            RouteUrl {
                url: "nats://10.0.0.6:4225".into(),
                host: "10.0.0.6".into(),
                port: 4225,
                user: None,
                password: None,
            },
            RouteUrl {
                url: "nats://u%40x:p%3Aw%2F@[::1]:4226".into(),
                host: "::1".into(),
                port: 4226,
                user: Some("u@x".into()),
                password: Some("p:w/".into()),
            },
        ]
    );
    assert!(cluster("routes: []").routes.is_empty());
    // A list with a trailing comma, one URL a line (as nats-release writes it).
    let c = cluster_of("cluster {\n  routes = [\n    nats://a:1,\n\n    nats://b:2,\n  ]\n}");
    assert_eq!(c.routes.len(), 2);
}

#[test]
fn duplicate_routes_warn_and_are_dropped() {
    let text = "cluster {\n  routes: [\n    nats://a:1\n    nats://a:1\n  ]\n}";
    assert_eq!(cluster_of(text).routes.len(), 1);
    assert_eq!(
        warnings(text),
        ["t.conf:4:5: invalid use of field \"nats://a:1\": Duplicate route entry detected"]
    );
}

#[test]
fn route_errors_name_the_url_where_it_is_written() {
    let text = "cluster {\n  routes: [\n    \"nats://ok:1\"\n    \"nats://%zz\"\n    \
                \"nats://a b@h:1\"\n    \"nats://h:abc\"\n    \"nats://h\"\n    \"h:1\"\n    \
                \"nats://h:0\"\n  ]\n}";
    assert_eq!(
        errors(text),
        [
            "t.conf:4:5: error parsing route url [\"nats://%zz\"]",
            "t.conf:5:5: error parsing route url [\"nats://a b@h:1\"]",
            "t.conf:6:5: error parsing route url [\"nats://h:abc\"]",
            "t.conf:7:5: error parsing route url [\"nats://h\"]: missing port",
            "t.conf:8:5: error parsing route url [\"h:1\"]: missing host",
            "t.conf:9:5: error parsing route url [\"nats://h:0\"]: invalid port",
        ]
    );
    assert_eq!(
        error("routes: \"nats://h:1\""),
        ["t.conf:2:3: interface conversion: interface {} is string, not []interface {}"]
    );
    assert_eq!(
        errors("cluster {\n  routes: [\"nats://h:1\", 5]\n}"),
        ["t.conf:2:26: interface conversion: interface {} is int64, not string"]
    );
}

#[test]
fn route_url_parse() {
    let r = route("nats-route://nats:c0ffee@abc.nats.service.cf.internal:4225");
    assert_eq!(r.host, "abc.nats.service.cf.internal");
    assert_eq!(r.port, 4225);
    assert_eq!(r.user.as_deref(), Some("nats"));
    assert_eq!(r.password.as_deref(), Some("c0ffee"));
    let r = route("nats://only-user@h:1");
    assert_eq!((r.user.as_deref(), r.password), (Some("only-user"), None));
    assert_eq!(route("tls://h:1").host, "h", "any scheme, as nats-server");
    assert_eq!(
        RouteUrl::parse("nats://:1"),
        Err("error parsing route url [\"nats://:1\"]: missing host".into())
    );
    assert_eq!(
        RouteUrl::parse("nats://h:70000"),
        Err("error parsing route url [\"nats://h:70000\"]: invalid port".into())
    );
}

#[test]
fn listen_url_parse() {
    let l = ListenUrl::parse("nats://127.0.0.1:4248").unwrap();
    assert_eq!((l.host.as_str(), l.port), ("127.0.0.1", 4248));
    assert_eq!((l.user, l.password), (None, None));
    let l = ListenUrl::parse("nats://ru:r%20p@:-1").unwrap();
    assert_eq!((l.host.as_str(), l.port), ("", -1));
    assert_eq!(l.user.as_deref(), Some("ru"));
    assert_eq!(l.password.as_deref(), Some("r p"));
    let l = ListenUrl::parse("nats-route://[::1]:0").unwrap();
    assert_eq!((l.host.as_str(), l.port), ("::1", 0));
    // nats-server's texts.
    for (text, want) in [
        (
            "nats://u@127.0.0.1:-1",
            "expected cluster password to be set",
        ),
        (
            "nats://127.0.0.1",
            "address 127.0.0.1: missing port in address",
        ),
        (
            "127.0.0.1:5000",
            "parse \"127.0.0.1:5000\": first path segment in URL cannot contain colon",
        ),
        (
            "nats://127.0.0.1:abc",
            "parse \"nats://127.0.0.1:abc\": invalid port \":abc\" after host",
        ),
        ("nats://h:99999", "invalid cluster port \"99999\""),
    ] {
        assert_eq!(ListenUrl::parse(text), Err(want.to_string()), "{text}");
    }
}

#[test]
fn authorization() {
    let c = cluster("authorization { user: ru, password: rp, timeout: 0.5 }");
    assert_eq!(c.user.as_deref(), Some("ru"));
    assert_eq!(c.password.as_deref(), Some("rp"));
    assert_eq!(c.auth_timeout, Duration::from_millis(500));
    let c = cluster("authorization { username: ru, pass: rp, timeout: \"3s\" }");
    assert_eq!(
        (c.user.as_deref(), c.password.as_deref()),
        (Some("ru"), Some("rp"))
    );
    assert_eq!(c.auth_timeout, Duration::from_secs(3));
    assert_eq!(
        cluster("authorization { user: ru, password: rp }").auth_timeout,
        Duration::from_secs(2)
    );
    assert_eq!(
        error("authorization { timeout: \"abc\" }"),
        ["t.conf:2:19: error parsing authorization config, 'timeout' time: invalid duration \"abc\""]
    );
}

#[test]
fn authorization_refuses_what_routes_cannot_use() {
    assert_eq!(
        error("authorization { users: [{user: a, password: b}] }"),
        ["t.conf:2:3: Cluster authorization does not allow multiple users"]
    );
    assert_eq!(
        error("authorization { token: abc }"),
        ["t.conf:2:3: Cluster authorization does not support tokens"]
    );
    let e = error("authorization { auth_callout { issuer: x } }");
    assert_eq!(
        e,
        ["t.conf:2:3: Cluster authorization does not support callouts"]
    );
}

#[test]
fn permissions_in_authorization_are_deprecated_but_used() {
    let text = "cluster {\n  authorization {\n    user: a, password: b\n    \
                permissions: { import: \"a.>\", export: [\"b\"] }\n  }\n}";
    let c = cluster_of(text);
    assert_eq!(c.import.and_then(|p| p.allow), list(&["a.>"]));
    assert_eq!(c.export.and_then(|p| p.allow), list(&["b"]));
    assert_eq!(
        warnings(text),
        [
            "t.conf:2:3: invalid use of field \"authorization\": setting \"permissions\" \
          within cluster authorization block is deprecated"
        ]
    );
    // The block's own permissions win, wherever they are written.
    let c = cluster(
        "permissions: { import: x }, \
         authorization { user: a, password: b, permissions: { import: y } }",
    );
    assert_eq!(c.import.and_then(|p| p.allow), list(&["x"]));
}

#[test]
fn auth_timeout_follows_cluster_tls() {
    let tls = "tls { cert_file: c.pem, key_file: k.pem, timeout: 5 }";
    let c = cluster(&format!("authorization {{ user: a, password: b }}, {tls}"));
    assert_eq!(c.auth_timeout, Duration::from_secs(6));
    let c = cluster(&format!(
        "{tls}, authorization {{ user: a, password: b, timeout: 15 }}"
    ));
    assert_eq!(c.auth_timeout, Duration::from_secs(15));
}

#[test]
fn tls() {
    let c = cluster("tls { cert_file: c.pem, key_file: k.pem, ca_file: ca.pem, verify: true }");
    let t = c.tls.unwrap();
    assert_eq!(t.cert_file, PathBuf::from("c.pem"));
    assert_eq!(t.ca_file, Some(PathBuf::from("ca.pem")));
    assert!(t.verify);
    assert!(!c.tls_check_known_urls);
    // Only routes may check the peer against the known URLs.
    let c = cluster("tls { cert_file: c, key_file: k, verify_cert_and_check_known_urls: true }");
    assert!(c.tls_check_known_urls);
    assert_eq!(
        error("tls { key_file: k }"),
        ["t.conf:2:3: missing 'cert_file' in TLS configuration"]
    );
    assert_eq!(
        error("tls { cert_file: c, key_file: k, bogus: 1 }"),
        ["t.conf:2:36: error parsing tls config, unknown field \"bogus\""]
    );
    // Routes do make connections, so `insecure` is not ignored: it is missing.
    assert_eq!(
        warnings("cluster {\n  tls { cert_file: c, key_file: k, insecure: true }\n}"),
        ["t.conf:2:36: tls.insecure is not supported yet"]
    );
    // The client block still refuses it.
    assert_eq!(
        errors("tls { cert_file: c, key_file: k, verify_cert_and_check_known_urls: true }"),
        ["t.conf:1:34: verify_cert_and_check_known_urls not supported in this context"]
    );
}

#[test]
fn permissions() {
    let c = cluster("permissions { import: \"a.>\", export: [b, \"c.*\"] }");
    assert_eq!(
        c.import,
        Some(SubjectPermission {
            allow: list(&["a.>"]),
            deny: None
        })
    );
    assert_eq!(c.export.and_then(|p| p.allow), list(&["b", "c.*"]));
    let c = cluster("permissions { import: { allow: a, deny: [\"a.b\"] }, export: { deny: x } }");
    assert_eq!(
        c.import.as_ref().and_then(|p| p.deny.clone()),
        list(&["a.b"])
    );
    assert_eq!(c.export.and_then(|p| p.deny), list(&["x"]));
    // publish/subscribe are the same lists under nats-server's other names.
    let c = cluster("permissions { publish: a, subscribe: b }");
    assert_eq!(c.import.and_then(|p| p.allow), list(&["a"]));
    assert_eq!(c.export.and_then(|p| p.allow), list(&["b"]));
}

#[test]
fn permission_errors() {
    assert_eq!(
        error("permissions { import: a, export: { allow: [\"b q\"] } }"),
        ["t.conf:2:3: cluster export allow: subject \"b q\" is not a valid subject"]
    );
    assert_eq!(
        error("permissions { import: a, allow_responses: true }"),
        ["t.conf:2:3: Cluster permissions do not support dynamic responses"]
    );
    assert_eq!(
        error("permissions: 5"),
        ["t.conf:2:3: Expected permissions to be a map/struct, got 5"]
    );
    assert_eq!(
        error("permissions { import: \"a..b\" }"),
        ["t.conf:2:25: subject \"a..b\" is not a valid subject"]
    );
    assert_eq!(
        error("permissions { bogus: a }"),
        ["t.conf:2:17: Unknown field \"bogus\" parsing permissions"]
    );
}

#[test]
fn pooling_and_pinned_accounts() {
    assert_eq!(cluster("pool_size: -1").pool_size, -1);
    assert_eq!(cluster("pool_size: 0").pool_size, 3);
    assert_eq!(cluster("pool_size: 5").pool_size, 5);
    assert_eq!(cluster("accounts: [A, B]").pinned_accounts, ["A", "B"]);
    assert_eq!(cluster("accounts: A").pinned_accounts, ["A"]);
    assert_eq!(
        error("accounts: [A, true]"),
        ["t.conf:2:17: error parsing accounts: unsupported type in array bool"]
    );
    assert_eq!(
        error("accounts: true"),
        ["t.conf:2:3: error parsing accounts: unsupported type bool"]
    );
    assert_eq!(
        error("pool_size: \"3\""),
        ["t.conf:2:3: interface conversion: interface {} is string, not int64"]
    );
}

#[test]
fn pinned_account_checks_see_the_whole_file() {
    assert_eq!(
        errors("cluster {\n  pool_size: -1\n  accounts: [A]\n}"),
        ["t.conf:3:3: pool_size cannot be negative if pinned accounts are specified"]
    );
    // The system account is pinned too, so it shows in the list.
    assert_eq!(
        errors("cluster {\n  accounts: [A, A]\n}"),
        [
            "t.conf:2:3: found duplicate account name \"A\" in pinned accounts list \
          [\"A\" \"A\" \"$SYS\"]"
        ]
    );
    assert_eq!(
        errors("cluster {\n  accounts: [A, A]\n}\nsystem_account: SYS\naccounts { SYS {}, A {} }"),
        [
            "t.conf:2:3: found duplicate account name \"A\" in pinned accounts list \
          [\"A\" \"A\" \"SYS\"]"
        ]
    );
    assert_eq!(
        errors("no_system_account: true\ncluster {\n  accounts: [A, A]\n}"),
        ["t.conf:3:3: found duplicate account name \"A\" in pinned accounts list [\"A\" \"A\"]"]
    );
    assert!(load("cluster { accounts: [A, \"$SYS\"] }").is_ok());
}

#[test]
fn compression_modes() {
    let s2 = |m: &str| RouteCompression::S2(m.to_string());
    for (value, want) in [
        ("false", RouteCompression::Off),
        ("off", RouteCompression::Off),
        ("\"disabled\"", RouteCompression::Off),
        ("\"not_supported\"", RouteCompression::Off),
        ("accept", RouteCompression::Accept),
        ("\"\"", RouteCompression::Accept),
        ("true", s2("s2_fast")),
        ("on", s2("s2_fast")),
        ("enabled", s2("s2_fast")),
        ("s2_fast", s2("s2_fast")),
        ("fast", s2("s2_fast")),
        ("S2_Better", s2("s2_better")),
        ("s2_best", s2("s2_best")),
        ("s2_auto", s2("s2_auto")),
        ("auto", s2("s2_auto")),
        (
            "{ mode: s2_auto, rtt_thresholds: [10ms, 50ms, 100ms] }",
            s2("s2_auto"),
        ),
        ("{ mode: \"off\" }", RouteCompression::Off),
    ] {
        assert_eq!(
            cluster(&format!("compression: {value}")).compression,
            want,
            "{value}"
        );
    }
}

#[test]
fn compression_errors() {
    assert_eq!(
        error("compression: bogus"),
        ["t.conf:2:3: unsupported compression mode \"bogus\""]
    );
    assert_eq!(
        error("compression: 5"),
        ["t.conf:2:3: field \"compression\" should be a boolean or a structure, got int64"]
    );
    assert_eq!(
        error("compression { mode: s2_auto, rtt: [50ms, 10ms] }"),
        ["t.conf:2:3: RTT threshold values [50ms 10ms] should be in ascending order"]
    );
    assert_eq!(
        error("compression { mode: s2_auto, rtt: [\"0s\"] }"),
        ["t.conf:2:3: compression mode \"s2_auto\" requires at least one RTT threshold"]
    );
    assert_eq!(
        error("compression { mode: auto, rtt: [1ms, 2ms, 3ms, 4ms, 5ms] }"),
        [
            "t.conf:2:3: compression mode \"auto\" should have no more than 4 RTT thresholds: \
          [1ms 2ms 3ms 4ms 5ms]"
        ]
    );
    assert_eq!(
        error("compression { mode: s2_auto, rtt: [abc] }"),
        ["t.conf:2:32: time: invalid duration \"abc\""]
    );
    assert_eq!(
        error("compression { mode: off }"),
        ["t.conf:2:17: interface conversion: interface {} is bool, not string"]
    );
    assert_eq!(
        error("compression { level: 1 }"),
        ["t.conf:2:17: unknown field \"level\""]
    );
    // Thresholds of other modes are not looked at.
    assert!(load("cluster { compression { mode: s2_fast, rtt: [50ms, 10ms] } }").is_ok());
}

#[test]
fn connections_and_timing() {
    let c = cluster(
        "connect_retries: 4, connect_backoff: true, write_deadline: \"3s\", \
         ping_interval: \"20s\", ping_max: 4, write_timeout: close",
    );
    assert_eq!(c.connect_retries, 4);
    assert!(c.connect_backoff);
    assert_eq!(c.write_deadline, Some(Duration::from_secs(3)));
    assert_eq!(c.ping_interval, Some(Duration::from_secs(20)));
    assert_eq!(c.ping_max, Some(4));
    assert_eq!(c.write_timeout, WriteTimeoutPolicy::Close);
    assert_eq!(cluster("connect_retries: -3").connect_retries, 0);
    assert_eq!(cluster("ping_max: 0").ping_max, None);
    assert_eq!(cluster("write_deadline: \"0s\"").write_deadline, None);
    assert_eq!(
        error("connect_retries: \"x\""),
        ["t.conf:2:3: interface conversion: interface {} is string, not int64"]
    );
    assert_eq!(
        error("write_timeout: never"),
        ["t.conf:2:3: write_timeout must be 'default', 'close' or 'retry'"]
    );
    assert_eq!(
        error("ping_interval: \"abc\""),
        ["t.conf:2:3: error parsing ping_interval: time: invalid duration \"abc\""]
    );
}

#[test]
fn timing_warnings() {
    let text = "cluster {\n  ping_interval: \"1m\"\n  write_deadline: 5\n}";
    let c = cluster_of(text);
    assert_eq!(c.ping_interval, Some(Duration::from_secs(60)));
    assert_eq!(c.write_deadline, Some(Duration::from_secs(5)));
    assert_eq!(
        warnings(text),
        [
            "t.conf:2:3: Cluster 'ping_interval' will reset to 30s which is the max for routes",
            "t.conf:3:3: invalid use of field \"write_deadline\": write_deadline should be \
             converted to a duration",
        ]
    );
}

#[test]
fn route_compression_from_mode() {
    assert_eq!(
        RouteCompression::from_mode("S2_AUTO"),
        Ok(RouteCompression::S2("s2_auto".into()))
    );
    assert_eq!(
        RouteCompression::from_mode("zstd"),
        Err("unsupported compression mode \"zstd\"".into())
    );
}

/// examples/nats-release.conf: the config Cloud Foundry's nats-release
/// renders for its `nats-tls` job.
const NATS_RELEASE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/nats-release.conf"
));

#[test]
fn nats_release_tls_job_loads_unchanged() {
    let loaded = load(NATS_RELEASE).unwrap_or_else(|e| panic!("{e}"));
    let o = &loaded.options;
    assert_eq!((o.host.as_str(), o.port), ("10.0.0.5", 4224));
    assert_eq!(o.write_deadline, Duration::from_secs(2));
    assert!(o.no_system_account);
    assert_eq!(o.http_port, None, "http port 0 is no monitoring");
    let auth = o.authorization.as_ref().unwrap();
    assert_eq!(auth.user.as_deref(), Some("nats"));
    assert_eq!(o.auth_timeout, Duration::from_secs(15));
    let client_tls = o.tls.as_ref().unwrap();
    assert!(client_tls.verify);
    assert_eq!(client_tls.timeout, Duration::from_secs(5));

    let c = o.cluster.as_ref().unwrap();
    assert!(c.is_enabled());
    assert_eq!((c.host.as_str(), c.port), ("10.0.0.5", 4225));
    assert_eq!(c.name, None);
    assert!(c.no_advertise);
    assert_eq!(c.pool_size, -1);
    assert_eq!(c.user.as_deref(), Some("nats"));
    assert_eq!(c.password.as_deref(), Some("c0ffee-secret"));
    assert_eq!(c.auth_timeout, Duration::from_secs(15));
    let route_tls = c.tls.as_ref().unwrap();
    assert!(route_tls.verify);
    assert_eq!(route_tls.timeout, Duration::from_secs(5));
    assert_eq!(
        route_tls.ca_file.as_deref(),
        Some(Path::new(
            "/var/vcap/jobs/nats-tls/config/internal_tls/ca.pem"
        ))
    );
    let hosts: Vec<(&str, u16)> = c.routes.iter().map(|r| (r.host.as_str(), r.port)).collect();
    assert_eq!(
        hosts,
        [
            (
                "5f3a1c2e-8d4b-4e6f-9a1b-2c3d4e5f6a7b.nats.service.cf.internal",
                4225
            ),
            (
                "9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e.nats.service.cf.internal",
                4225
            ),
        ]
    );
    assert!(c
        .routes
        .iter()
        .all(|r| r.user.as_deref() == Some("nats") && r.password.is_some()));
    // Only what rustls decides for itself and prof_port draw warnings.
    let w: Vec<&str> = loaded.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        w,
        [
            "prof_port is not supported yet",
            "tls.cipher_suites is ignored: rustls chooses its own cipher suites",
            "tls.curve_preferences is ignored: rustls chooses its own key exchange groups",
            "tls.cipher_suites is ignored: rustls chooses its own cipher suites",
            "tls.curve_preferences is ignored: rustls chooses its own key exchange groups",
        ]
    );
}

/// nats-release's plain `nats` job (jobs/nats/templates/nats.conf.erb) as
/// rendered with its defaults: internal TLS off, peers from a BOSH link.
#[test]
fn nats_release_plain_job_loads_unchanged() {
    let text = r#"
net: "10.0.0.7"
port: 4222
prof_port: 0
http: "0.0.0.0:8222"
write_deadline: "2s"

debug: false
trace: false
logtime: true

authorization: {
  user: "nats",
  password: "secret",
  timeout: 15,
}

cluster: {
  no_advertise: true,
  host: "10.0.0.7",
  port: 4223,

  authorization: {
    user: "nats",
    password: "secret",
    timeout: 15,
  },

  

  routes: [
    
    nats-route://nats:secret@0a1b2c3d.nats.service.cf.internal:4223,
    
  ]
}

no_sys_acc: true
"#;
    let o = load(text).unwrap_or_else(|e| panic!("{e}")).options;
    assert_eq!(o.http_port, Some(8222));
    let c = o.cluster.unwrap();
    assert_eq!(
        (c.host.as_str(), c.port, c.pool_size),
        ("10.0.0.7", 4223, 3)
    );
    assert!(c.tls.is_none());
    assert_eq!(c.routes.len(), 1);
    assert_eq!(c.routes[0].host, "0a1b2c3d.nats.service.cf.internal");
}
