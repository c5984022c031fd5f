//! Tests for mapping config keys onto [`Options`].
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

fn load(text: &str) -> Result<Loaded, ConfigErrors> {
    load_str(text, Path::new("t.conf"))
}

fn opts(text: &str) -> Options {
    match load(text) {
        Ok(l) => l.options,
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

/// Error lines as `file:line:col: message`.
fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => panic!("{text:?} loaded: {:?}", l.options),
        Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn warnings(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => l.warnings.iter().map(ToString::to_string).collect(),
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

#[test]
fn empty_file_gives_the_documented_defaults() {
    let o = opts("");
    assert_eq!(
        o,
        Options {
            config_file: Some(PathBuf::from("t.conf")),
            ..Options::default()
        }
    );
    assert_eq!(o.host, "0.0.0.0");
    assert_eq!(o.port, 4222);
    assert_eq!(o.max_payload, 1 << 20);
    assert_eq!(o.max_pending, 64 << 20);
    assert_eq!(o.max_control_line, 4096);
    assert_eq!(o.max_connections, 65536);
    assert_eq!(o.ping_interval, Duration::from_secs(120));
    assert_eq!(o.ping_max, 2);
    assert_eq!(o.write_deadline, Duration::from_secs(10));
    assert!(o.logtime && !o.debug && !o.trace && !o.logtime_utc);
    assert_eq!(o.http_port, None);
}

#[test]
fn listen_takes_host_port_or_port() {
    let o = opts("listen: 127.0.0.1:4333");
    assert_eq!((o.host.as_str(), o.port), ("127.0.0.1", 4333));
    let o = opts("host: 10.0.0.1\nlisten: 4333");
    assert_eq!((o.host.as_str(), o.port), ("10.0.0.1", 4333));
    let o = opts("host: 10.0.0.1\nlisten: \":4333\"");
    assert_eq!((o.host.as_str(), o.port), ("0.0.0.0", 4333));
    let o = opts("listen: \"[::1]:4333\"");
    assert_eq!((o.host.as_str(), o.port), ("::1", 4333));
    let o = opts("listen: localhost:-1");
    assert_eq!(o.port, -1);
}

#[test]
fn listen_errors() {
    // A repeated key replaces the earlier one, so each case is its own file.
    for (text, want) in [
        ("listen: \"abc\"", "could not parse address string \"abc\""),
        ("listen: \"a:xyz\"", "could not parse port \"xyz\""),
        (
            "listen: \"4333\"",
            "could not parse address string \"4333\"",
        ),
        (
            "listen: [1]",
            "expected port or host:port, got []interface {}",
        ),
    ] {
        assert_eq!(errors(text), [format!("t.conf:1:1: {want}")]);
    }
}

#[test]
fn host_net_and_port() {
    let o = opts("net: 127.0.0.1\nport: 4333");
    assert_eq!((o.host.as_str(), o.port), ("127.0.0.1", 4333));
    assert_eq!(opts("host: ::1").host, "::1");
    assert_eq!(opts("port: -1").port, -1);
    assert_eq!(
        errors("port: 99999"),
        ["t.conf:1:1: invalid port 99999 for \"port\", must be -1 (random) to 65535"]
    );
    assert_eq!(
        errors("port: \"4222\""),
        [
            "t.conf:1:1: invalid type for field \"port\": interface conversion: \
          interface {} is string, not int64"
        ]
    );
}

#[test]
fn server_name() {
    assert_eq!(
        opts("server_name: my-server.example_1")
            .server_name
            .as_deref(),
        Some("my-server.example_1")
    );
    assert_eq!(opts("server_name: 5s").server_name.as_deref(), Some("5s"));
    assert_eq!(opts("server_name: \"\"").server_name, None);
    assert_eq!(
        errors("server_name: \"a b\""),
        ["t.conf:1:1: server name cannot contain spaces"]
    );
}

#[test]
fn sizes_take_suffixes_and_keys_ignore_case() {
    let o = opts("MAX_PAYLOAD: 2MB\nMax_Pending: 100MB\nmax_control_line: 8k\nmax_connections: 100\nmax_subscriptions: 10");
    assert_eq!(o.max_payload, 2 << 20);
    assert_eq!(o.max_pending, 100 << 20);
    assert_eq!(o.max_control_line, 8000);
    assert_eq!(o.max_connections, 100);
    assert_eq!(o.max_subscriptions, 10);
    let o = opts("max_conn: 7\nmax_subs: 3");
    assert_eq!((o.max_connections, o.max_subscriptions), (7, 3));
}

#[test]
fn zero_sizes_mean_default_and_zero_connections_refuse_all() {
    let o = opts(
        "max_payload: 0\nmax_pending: 0\nmax_control_line: 0\nping_max: 0\nmax_connections: 0",
    );
    assert_eq!(o.max_payload, DEFAULT_MAX_PAYLOAD);
    assert_eq!(o.max_pending, DEFAULT_MAX_PENDING);
    assert_eq!(o.max_control_line, DEFAULT_MAX_CONTROL_LINE);
    assert_eq!(o.ping_max, DEFAULT_PING_MAX);
    assert_eq!(o.max_connections, 0);
    assert_eq!(opts("max_connections: -1").max_connections, 0);
    assert_eq!(opts("max_subscriptions: -1").max_subscriptions, 0);
}

#[test]
fn size_errors() {
    assert_eq!(
        errors("max_payload: \"1MB\"\nmax_control_line: 5GB\nmax_connections: \"x\"\nmax_pending: true"),
        [
            "t.conf:1:1: invalid type for field \"max_payload\": interface conversion: \
             interface {} is string, not int64",
            "t.conf:2:1: max_control_line value is too big",
            "t.conf:3:1: invalid type for field \"max_connections\": interface conversion: \
             interface {} is string, not int64",
            "t.conf:4:1: invalid type for field \"max_pending\": interface conversion: \
             interface {} is bool, not int64",
        ]
    );
    assert_eq!(
        errors("max_payload: -1"),
        ["t.conf:1:1: max_payload value can not be negative"]
    );
}

#[test]
fn max_payload_may_not_exceed_max_pending() {
    assert_eq!(
        errors("port: 4222\nmax_pending: 100000"),
        ["t.conf:2:1: max_payload (1048576) cannot be higher than max_pending (100000)"]
    );
    assert_eq!(
        errors("max_payload: 200000\n  max_pending: 100000"),
        ["t.conf:1:1: max_payload (200000) cannot be higher than max_pending (100000)"]
    );
    let o = opts("max_payload: 100000\nmax_pending: 100000");
    assert_eq!(o.max_payload, o.max_pending);
}

#[test]
fn ping_interval_and_write_deadline_take_durations() {
    let o = opts("ping_interval: \"30s\"\nwrite_deadline: 500ms\nping_max: 5");
    assert_eq!(o.ping_interval, Duration::from_secs(30));
    assert_eq!(o.write_deadline, Duration::from_millis(500));
    assert_eq!(o.ping_max, 5);
    assert_eq!(
        opts("ping_interval: \"1h30m\"").ping_interval,
        Duration::from_secs(5400)
    );
}

#[test]
fn bare_integer_durations_are_seconds_with_a_warning() {
    let text = "ping_interval: 5\n  write_deadline: 3";
    let o = opts(text);
    assert_eq!(o.ping_interval, Duration::from_secs(5));
    assert_eq!(o.write_deadline, Duration::from_secs(3));
    assert_eq!(
        warnings(text),
        [
            "t.conf:1:1: invalid use of field \"ping_interval\": ping_interval should be \
             converted to a duration",
            "t.conf:2:3: invalid use of field \"write_deadline\": write_deadline should be \
             converted to a duration",
        ]
    );
}

#[test]
fn duration_messages_use_the_lower_case_name() {
    assert_eq!(
        warnings("PING_INTERVAL: 5"),
        [
            "t.conf:1:1: invalid use of field \"ping_interval\": ping_interval should be \
          converted to a duration"
        ]
    );
    assert_eq!(
        errors("Write_Deadline: \"x\""),
        ["t.conf:1:1: error parsing write_deadline: time: invalid duration \"x\""]
    );
}

#[test]
fn duration_errors() {
    for (text, want) in [
        (
            "ping_interval: \"abc\"",
            "error parsing ping_interval: time: invalid duration \"abc\"",
        ),
        (
            "write_deadline: \"1.5\"",
            "error parsing write_deadline: time: missing unit in duration \"1.5\"",
        ),
        (
            "ping_interval: \"-5s\"",
            "ping_interval can not be negative",
        ),
        (
            "write_deadline: true",
            "invalid type for field \"write_deadline\": interface conversion: \
             interface {} is bool, not string",
        ),
        (
            "ping_interval: 1.5",
            "invalid type for field \"ping_interval\": interface conversion: \
             interface {} is float64, not int64",
        ),
    ] {
        assert_eq!(errors(text), [format!("t.conf:1:1: {want}")], "{text}");
    }
}

#[test]
fn booleans() {
    let o = opts("debug: true\ntrace: yes\nlogtime: off\nlogtime_utc: ON");
    assert!(o.debug && o.trace && !o.logtime && o.logtime_utc);
    assert_eq!(o.log_format, LogFormat::Text);
    assert_eq!(opts("log_format: json").log_format, LogFormat::Json);
    assert_eq!(opts("log_format: TEXT").log_format, LogFormat::Text);
    assert_eq!(
        errors("log_format: yaml"),
        ["t.conf:1:1: log_format must be \"text\" or \"json\", not \"yaml\""]
    );
    let o = opts("trace_verbose: true");
    assert!(o.trace && o.trace_verbose);
    let o = opts("trace_headers: true");
    assert!(o.trace && o.trace_headers);
    assert_eq!(
        errors("debug: \"true\"\ntrace: 1"),
        [
            "t.conf:1:1: invalid type for field \"debug\": interface conversion: \
             interface {} is string, not bool",
            "t.conf:2:1: invalid type for field \"trace\": interface conversion: \
             interface {} is int64, not bool",
        ]
    );
}

#[test]
fn file_paths_stay_as_written() {
    let o = opts("log_file: logs/nats.log\npid_file: \"run/nats.pid\"\nports_file_dir: /tmp");
    assert_eq!(o.log_file, Some(PathBuf::from("logs/nats.log")));
    assert_eq!(o.pid_file, Some(PathBuf::from("run/nats.pid")));
    assert_eq!(o.ports_file_dir, Some(PathBuf::from("/tmp")));
    let o = opts("logfile: a.log\npidfile: a.pid");
    assert_eq!(o.log_file, Some(PathBuf::from("a.log")));
    assert_eq!(o.pid_file, Some(PathBuf::from("a.pid")));
}

#[test]
fn logging_extras() {
    let o = opts("logfile_size_limit: 1MB\nlog_max_num: 3\nsyslog: true\nremote_syslog: \"udp://h:514\"\nmax_traced_msg_len: 100");
    assert_eq!(o.log_size_limit, 1 << 20);
    assert_eq!(o.log_max_files, 3);
    assert!(o.syslog);
    assert_eq!(o.remote_syslog.as_deref(), Some("udp://h:514"));
    assert_eq!(o.max_traced_msg_len, 100);
}

#[test]
fn monitoring_ports() {
    let o = opts("http: 8222");
    assert_eq!((o.http_host.as_deref(), o.http_port), (None, Some(8222)));
    let o = opts("http: localhost:8222");
    assert_eq!(
        (o.http_host.as_deref(), o.http_port),
        (Some("localhost"), Some(8222))
    );
    assert_eq!(opts("http_port: 8222").http_port, Some(8222));
    assert_eq!(opts("monitor_port: -1").http_port, Some(-1));
    let o = opts("https: 127.0.0.1:8443");
    assert_eq!(
        (o.http_host.as_deref(), o.https_port, o.http_port),
        (Some("127.0.0.1"), Some(8443), None)
    );
    assert_eq!(opts("https_port: 8443").https_port, Some(8443));
    // Port 0 is no monitoring listener, as in nats-server.
    for text in [
        "http: \"0.0.0.0:0\"",
        "http: 0",
        "http_port: 0",
        "monitor_port: 0",
    ] {
        assert_eq!(
            opts(&format!("http_port: 8222\n{text}")).http_port,
            None,
            "{text}"
        );
    }
    assert_eq!(opts("https: \"0.0.0.0:0\"").https_port, None);
    assert_eq!(opts("https_port: 0").https_port, None);
    assert_eq!(opts("http_base_path: /nats").http_base_path, "/nats");
    assert_eq!(
        errors("http: \"abc\"\nhttp_port: \"8222\""),
        [
            "t.conf:1:1: could not parse address string \"abc\"",
            "t.conf:2:1: invalid type for field \"http_port\": interface conversion: \
             interface {} is string, not int64",
        ]
    );
}

#[test]
fn lame_duck() {
    let o = opts("lame_duck_duration: \"60s\"\nlame_duck_grace_period: 5s");
    assert_eq!(o.lame_duck_duration, Duration::from_secs(60));
    assert_eq!(o.lame_duck_grace_period, Duration::from_secs(5));
    assert_eq!(
        errors("lame_duck_duration: 10s\nlame_duck_grace_period: \"-1s\""),
        [
            "t.conf:1:1: invalid lame_duck_duration of 10s, minimum is 30 seconds",
            "t.conf:2:1: invalid lame_duck_grace_period, needs to be positive",
        ]
    );
    assert_eq!(
        errors("lame_duck_duration: abc"),
        ["t.conf:1:1: error parsing lame_duck_duration: time: invalid duration \"abc\""]
    );
    assert_eq!(
        errors("lame_duck_duration: \"-40s\""),
        ["t.conf:1:1: invalid lame_duck_duration of -40s, minimum is 30 seconds"]
    );
    assert_eq!(
        errors("lame_duck_duration: 30s\nlame_duck_grace_period: \"1m0s\""),
        ["t.conf:2:1: lame duck grace period (1m0s) should be strictly lower than lame duck duration (30s)"]
    );
}

#[test]
fn cheap_extras() {
    let o = opts(
        "client_advertise: \"nats.example.com:4222\"\nno_header_support: true\n\
         max_closed_clients: 5\ndisable_sublist_cache: true\nno_fast_producer_stall: true\n\
         write_timeout: close\nmax_sub_tokens: 16",
    );
    assert_eq!(o.client_advertise.as_deref(), Some("nats.example.com:4222"));
    assert!(o.no_header_support && o.disable_sublist_cache && o.no_fast_producer_stall);
    assert_eq!(o.max_closed_clients, 5);
    assert_eq!(o.write_timeout, WriteTimeoutPolicy::Close);
    assert_eq!(o.max_subscription_tokens, 16);
    assert_eq!(
        errors("write_timeout: never\nmax_sub_tokens: 300\nmax_subscription_tokens: 0"),
        [
            "t.conf:1:1: write_timeout must be 'default', 'close' or 'retry'",
            "t.conf:2:1: max_sub_tokens value is too big",
            "t.conf:3:1: max_subscription_tokens value can not be negative",
        ]
    );
}

#[test]
fn features_not_built_yet_warn_and_still_load() {
    let text = "port: 4333\n\
                authorization { users: [ {user: a, password: b} ] }\n\
                tls { cert_file: c.pem, key_file: k.pem }\n\
                accounts { SYS: {} }\nsystem_account: SYS\nno_auth_user: a\nallow_non_tls: true\n\
                cluster { name: c1 }\nleafnodes {}\ngateway {}\njetstream: enabled\n\
                websocket {}\nmqtt {}\nOCSP {}";
    let loaded = load(text).unwrap_or_else(|e| panic!("{e}"));
    let o = &loaded.options;
    assert_eq!(o.port, 4333);
    assert!(o.tls.is_some() && o.authorization.is_some() && o.allow_non_tls);
    assert_eq!(o.no_auth_user.as_deref(), Some("a"));
    let w: Vec<String> = loaded.warnings.iter().map(|w| w.message.clone()).collect();
    assert_eq!(
        w,
        [
            "websocket is not supported yet",
            "mqtt is not supported yet",
            "OCSP is not supported yet",
        ]
    );
    assert_eq!(loaded.warnings[0].line, 12);
    // `jetstream` is parsed now.
    assert_eq!(o.jetstream, Some(JetStreamOptions::default()));
    assert_eq!(o.leafnodes, Some(LeafNodeOptions::default()));
    // `gateway {}` is parsed now: without a name and a port it is no gateway.
    assert_eq!(o.gateway, None);
    assert_eq!(o.system_account.as_deref(), Some("SYS"));
    assert_eq!(
        o.cluster.as_ref().and_then(|c| c.name.as_deref()),
        Some("c1")
    );
}

#[test]
fn security_and_cluster_keys_are_supported() {
    for key in [
        "tls",
        "authorization",
        "no_auth_user",
        "allow_non_tls",
        "cluster",
        "leafnodes",
        "leaf",
        "gateway",
        "jetstream",
        "store_dir",
        "storedir",
        "default_js_domain",
        "default_sentinel",
    ] {
        assert!(!UNSUPPORTED_KEYS.contains(&key), "{key}");
    }
}

#[test]
fn every_unsupported_key_warns() {
    for key in UNSUPPORTED_KEYS {
        let w = warnings(&format!("{key}: {{}}"));
        assert_eq!(w, [format!("t.conf:1:1: {key} is not supported yet")]);
    }
}

#[test]
fn unknown_fields_are_errors() {
    assert_eq!(
        errors("foo_bar: 1\naddr: 127.0.0.1"),
        [
            "t.conf:1:1: unknown field \"foo_bar\"",
            "t.conf:2:1: unknown field \"addr\""
        ]
    );
}

#[test]
fn unused_variables_are_unknown_fields_and_used_ones_are_not() {
    assert_eq!(
        errors("P = 4333\nQ = 1\nport: $P"),
        ["t.conf:2:1: unknown field \"Q\""]
    );
    assert_eq!(opts("P = 4333\nport: $P").port, 4333);
    // A known key used as a variable is still applied.
    let o = opts("max_payload: 1000\nmax_control_line: $max_payload");
    assert_eq!((o.max_payload, o.max_control_line), (1000, 1000));
}

#[test]
fn many_errors_come_back_together_with_positions() {
    let text =
        "port: \"x\"\n  debug: 5\nfoo: 1\nserver_name: \"a b\"\nmax_payload: 1kb\nmax_pending: 10";
    assert_eq!(
        errors(text),
        [
            "t.conf:1:1: invalid type for field \"port\": interface conversion: \
             interface {} is string, not int64",
            "t.conf:2:3: invalid type for field \"debug\": interface conversion: \
             interface {} is int64, not bool",
            "t.conf:3:1: unknown field \"foo\"",
            "t.conf:4:1: server name cannot contain spaces",
            "t.conf:5:1: max_payload (1024) cannot be higher than max_pending (10)",
        ]
    );
}

#[test]
fn parse_errors_are_reported_as_config_errors() {
    assert_eq!(
        errors("a { x: 1 y: 2 }\nb: \"\\u0041\""),
        [
            "t.conf:1:10: Expected a map value terminator \",\" or a map terminator \"}\", \
             but got 'y' instead.",
            "t.conf:2:6: Invalid escape character 'u'. Only the following escape characters \
             are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.",
        ]
    );
}

#[test]
fn warnings_do_not_hide_errors() {
    let e = errors("ping_interval: 5\nfoo: 1");
    assert_eq!(e, ["t.conf:2:1: unknown field \"foo\""]);
}

#[test]
fn missing_file_is_an_error() {
    let e = load_file(Path::new("/nonexistent/gannet.conf")).err();
    let e = e.map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("/nonexistent/gannet.conf:0:0: open /nonexistent/gannet.conf: no such file or directory")
    );
}

#[test]
fn idle_spin_takes_a_duration_up_to_ten_milliseconds() {
    assert_eq!(opts("").idle_spin, Duration::ZERO, "off by default");
    assert_eq!(
        opts("idle_spin: 250us").idle_spin,
        Duration::from_micros(250)
    );
    assert_eq!(opts("idle_spin: \"0s\"").idle_spin, Duration::ZERO);
    assert_eq!(
        opts("idle_spin: \"10ms\"").idle_spin,
        Duration::from_millis(10)
    );
    assert_eq!(
        errors("idle_spin: \"11ms\""),
        ["t.conf:1:1: idle_spin can be at most 10ms"]
    );
    assert_eq!(
        errors("idle_spin: \"-1us\""),
        ["t.conf:1:1: idle_spin can not be negative"]
    );
    assert_eq!(
        errors("idle_spin: \"fast\""),
        ["t.conf:1:1: error parsing idle_spin: time: invalid duration \"fast\""]
    );
}

#[test]
fn mappings_at_the_top_and_in_accounts() {
    use gannet_proto::mapping::Destination;
    let dest = |subject: &str, weight: u8, cluster: &str| Destination {
        subject: subject.into(),
        weight,
        cluster: cluster.into(),
    };
    let o = opts(
        "mappings {\n  a: b\n  c: [ { destination: d, weight: 30% }, { dest: e, weight: \"70\", cluster: east } ]\n  f: { destination: g, weight: 100 }\n}\n\
         accounts { A { maps { \"x.*\": \"y.$1\" } } }\n",
    );
    assert_eq!(
        o.mappings,
        vec![
            SubjectMapping {
                source: "a".into(),
                destinations: vec![dest("b", 100, "")]
            },
            SubjectMapping {
                source: "c".into(),
                destinations: vec![dest("d", 30, ""), dest("e", 70, "east")]
            },
            SubjectMapping {
                source: "f".into(),
                destinations: vec![dest("g", 100, "")]
            },
        ]
    );
    assert_eq!(
        o.accounts[0].mappings,
        vec![SubjectMapping {
            source: "x.*".into(),
            destinations: vec![dest("y.$1", 100, "")]
        }]
    );
    assert_eq!(
        errors("mappings {\n  a: { destination: b, weight: x }\n}\n"),
        ["t.conf:2:24: Invalid weight \"x\" for mapping destination"]
    );
    assert_eq!(
        errors("mappings {\n  a: { destination: b, weight: 5, color: red }\n}\n"),
        ["t.conf:2:35: Unknown field \"color\" for mapping destination"]
    );
    assert_eq!(
        errors("mappings {\n  a: { destination: b }\n}\n"),
        ["t.conf:2:3: Missing weight for mapping destination \"b\""]
    );
    assert_eq!(
        errors("mappings {\n  a: 5\n}\n"),
        ["t.conf:2:3: Expected an entry for the mapping destination"]
    );
}
