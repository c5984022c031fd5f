//! Tests for the `leafnodes { }` block and remote URLs. Texts marked as
//! nats-server's were checked against nats-server 2.15 (`-t`, or a start
//! for the checks it makes then).
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::options::{load_str, ConfigErrors, Loaded};

const NKEY: &str = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";

fn load(text: &str) -> Result<Loaded, ConfigErrors> {
    load_str(text, Path::new("t.conf"))
}

/// The leaf node options of a file that must load.
fn leaf_of(text: &str) -> LeafNodeOptions {
    match load(text) {
        Ok(l) => l
            .options
            .leafnodes
            .unwrap_or_else(|| panic!("{text:?}: no leafnodes")),
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

/// `leafnodes { <body> }` on one line.
fn leaf(body: &str) -> LeafNodeOptions {
    leaf_of(&format!("leafnodes {{ {body} }}"))
}

/// `leafnodes { <body> }` on one line, after an `accounts` block that
/// defines `A` and `B`.
fn leaf_with_accounts(body: &str) -> LeafNodeOptions {
    leaf_of(&format!(
        "accounts {{ A {{}}, B {{}} }}\nleafnodes {{ {body} }}"
    ))
}

/// The one remote of `leafnodes { remotes: [ { <body> } ] }` (accounts `A`
/// and `B` defined).
fn remote(body: &str) -> LeafRemote {
    let mut remotes = leaf_with_accounts(&format!("remotes: [ {{ {body} }} ]")).remotes;
    assert_eq!(remotes.len(), 1, "{body}");
    remotes.remove(0)
}

/// Every error as `file:line:col: message`.
fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => panic!("{text:?} loaded: {:?}", l.options.leafnodes),
        Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// The errors of `leafnodes {\n  <line>\n}` (the key on line 2, column 3).
fn error(line: &str) -> Vec<String> {
    errors(&format!("leafnodes {{\n  {line}\n}}"))
}

fn warnings(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => l.warnings.iter().map(ToString::to_string).collect(),
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

/// The warnings of `leafnodes {\n  <line>\n}`.
fn warning(line: &str) -> Vec<String> {
    warnings(&format!("leafnodes {{\n  {line}\n}}"))
}

fn url(text: &str) -> LeafUrl {
    LeafUrl::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

#[test]
fn no_block_no_leafnodes_and_an_empty_block_does_not_listen() {
    assert_eq!(load("port: 4222").map(|l| l.options.leafnodes), Ok(None));
    let l = leaf("");
    assert_eq!(l, LeafNodeOptions::default());
    assert_eq!((l.host.as_str(), l.port), ("0.0.0.0", 0));
    assert_eq!(l.auth_timeout, Duration::from_secs(2));
    assert_eq!(l.reconnect, Duration::from_secs(1));
    assert!(warnings("leafnodes {}").is_empty());
}

#[test]
fn leaf_is_an_alias() {
    assert_eq!(leaf_of("leaf { port: 7422 }").port, 7422);
    assert_eq!(leaf_of("LeafNodes { port: 7422 }").port, 7422);
    // The last block written wins.
    assert_eq!(leaf_of("leaf { port: 1 }\nleafnodes { port: 2 }").port, 2);
}

#[test]
fn listener_keys() {
    let l = leaf("host: 10.0.0.5, port: 7422");
    assert_eq!((l.host.as_str(), l.port), ("10.0.0.5", 7422));
    assert_eq!(leaf("net: 10.0.0.6").host, "10.0.0.6");
    assert_eq!(leaf("host: \"\"").host, "0.0.0.0");
    assert_eq!(leaf("port: -1").port, -1);
    let l = leaf("listen: \"127.0.0.1:7423\"");
    assert_eq!((l.host.as_str(), l.port), ("127.0.0.1", 7423));
    let l = leaf("host: 10.0.0.5, listen: 7424");
    assert_eq!((l.host.as_str(), l.port), ("10.0.0.5", 7424));
    let l = leaf("host: 10.0.0.5, listen: \":7424\"");
    assert_eq!((l.host.as_str(), l.port), ("0.0.0.0", 7424));
    let l = leaf("advertise: \"leaf.example.com:7422\", no_advertise: true");
    assert_eq!(l.advertise.as_deref(), Some("leaf.example.com:7422"));
    assert!(l.no_advertise);
    let l = leaf("leafnode_advertise: \"10.1.1.1:7422\"");
    assert_eq!(l.advertise.as_deref(), Some("10.1.1.1:7422"));
    assert_eq!(leaf("advertise: \"\"").advertise, None);
    assert_eq!(leaf("PORT: 3").port, 3);
}

#[test]
fn listen_and_port_errors() {
    // nats-server's texts.
    assert_eq!(
        error("listen: \"abc\""),
        ["t.conf:2:3: could not parse address string \"abc\""]
    );
    assert_eq!(
        error("port: \"abc\""),
        ["t.conf:2:3: interface conversion: interface {} is string, not int64"]
    );
    // nats-server accepts this and fails to listen.
    assert_eq!(
        error("port: 99999"),
        ["t.conf:2:3: invalid port 99999 for \"port\", must be -1 (random) to 65535"]
    );
    assert_eq!(
        error("advertise: 5"),
        ["t.conf:2:3: interface conversion: interface {} is int64, not string"]
    );
    assert_eq!(
        error("no_advertise: \"yes\""),
        ["t.conf:2:3: interface conversion: interface {} is string, not bool"]
    );
}

#[test]
fn not_a_map_and_unknown_keys() {
    assert_eq!(
        errors("leafnodes: 5"),
        ["t.conf:1:1: Expected map to define a leafnode, got int64"]
    );
    assert_eq!(error("foo: 1"), ["t.conf:2:3: unknown field \"foo\""]);
    // A key used as a variable is not unknown, as elsewhere.
    assert_eq!(leaf("P = 7422, port: $P").port, 7422);
}

#[test]
fn a_block_with_only_remotes_is_a_pure_leaf() {
    let l = leaf("remotes: [ { url: \"nats-leaf://hub.example.com:7422\" } ]");
    assert_eq!(l.port, 0);
    assert_eq!(l.remotes.len(), 1);
    assert_eq!(l.remotes[0].urls, ["nats-leaf://hub.example.com:7422"]);
}

#[test]
fn authorization_single_user() {
    let l = leaf_with_accounts("authorization { user: lu, password: lp, account: A, timeout: 3 }");
    assert_eq!(l.user.as_deref(), Some("lu"));
    assert_eq!(l.password.as_deref(), Some("lp"));
    assert_eq!(l.account.as_deref(), Some("A"));
    assert_eq!(l.auth_timeout, Duration::from_secs(3));
    assert!(l.users.is_empty());
    // Aliases, and a duration string for the timeout.
    let l = leaf("authorization { username: lu, pass: lp, timeout: \"1.5s\" }");
    assert_eq!(l.user.as_deref(), Some("lu"));
    assert_eq!(l.password.as_deref(), Some("lp"));
    assert_eq!(l.auth_timeout, Duration::from_millis(1500));
    // Zero is the default.
    assert_eq!(
        leaf("authorization { timeout: 0 }").auth_timeout,
        Duration::from_secs(2)
    );
}

#[test]
fn authorization_users() {
    let l = leaf_with_accounts(
        "authorization { users: [ {user: a, password: pa, account: A}, \
         {username: b, pass: pb} ] }",
    );
    assert_eq!(
        l.users,
        [
            LeafUser {
                user: "a".into(),
                password: "pa".into(),
                account: Some("A".into()),
            },
            LeafUser {
                user: "b".into(),
                password: "pb".into(),
                account: None,
            },
        ]
    );
    assert_eq!(l.user, None);
}

#[test]
fn authorization_errors() {
    // All nats-server's texts.
    assert_eq!(
        error("authorization { user: a, password: b, users: [{user: c, password: d}] }"),
        ["t.conf:2:3: can not have a single user/pass and a users array"]
    );
    assert_eq!(
        error("authorization { users: [{user: c, password: d}, {user: c, pass: e}] }"),
        ["t.conf:2:3: duplicate user \"c\" detected in leafnode authorization"]
    );
    assert_eq!(
        error("authorization { users: 5 }"),
        ["t.conf:2:19: Expected users field to be an array, got 5"]
    );
    assert_eq!(
        error("authorization { users: [ x ] }"),
        ["t.conf:2:28: Expected user entry to be a map/struct, got x"]
    );
    assert_eq!(
        error("authorization { users: [{user: c, foo: 1}] }"),
        ["t.conf:2:37: unknown field \"foo\""]
    );
    assert_eq!(
        error("authorization { timeout: \"x\" }"),
        [
            "t.conf:2:19: error parsing leafnode authorization config, 'timeout' \
             time: invalid duration \"x\""
        ]
    );
    assert_eq!(
        error("authorization { timeout: true }"),
        ["t.conf:2:19: error parsing leafnode authorization config, 'timeout' wrong type"]
    );
    assert_eq!(
        error("authorization { foo: 1 }"),
        ["t.conf:2:19: unknown field \"foo\""]
    );
    assert_eq!(
        error("authorization { user: 1 }"),
        ["t.conf:2:19: interface conversion: interface {} is int64, not string"]
    );
    assert_eq!(
        error("authorization: 5"),
        ["t.conf:2:3: interface conversion: interface {} is int64, not map[string]interface {}"]
    );
    assert_eq!(
        error("authorization { nkey: \"UABC\" }"),
        ["t.conf:2:19: Not a valid public nkey for leafnode authorization"]
    );
    assert_eq!(
        error(&format!(
            "authorization {{ nkey: {NKEY}, users: [{{user: c, password: d}}] }}"
        )),
        ["t.conf:2:3: can not have a single nkey and a users array"]
    );
}

#[test]
fn authorization_warnings() {
    // nats-server's text.
    assert_eq!(
        warning("authorization { timeout: 100 }"),
        [
            "t.conf:2:19: invalid use of field \"timeout\": timeout of 100 (100.000000 seconds) \
             is high, consider keeping it under 60 seconds. possibly caused by unquoted \
             duration; use '1m' instead of 1m, for example"
        ]
    );
    assert_eq!(
        warning(&format!("authorization {{ nkey: {NKEY} }}")),
        ["t.conf:2:19: leafnodes.authorization.nkey is not supported yet"]
    );
    assert_eq!(
        warning("authorization { proxy_required: true, users: [{user: a, proxy_required: true}] }"),
        [
            "t.conf:2:19: leafnodes.authorization.proxy_required is not supported yet",
            "t.conf:2:59: leafnodes.authorization.users.proxy_required is not supported yet",
        ]
    );
    assert!(warning("authorization { proxy_required: false }").is_empty());
}

#[test]
fn tls_of_the_listener() {
    let l = leaf("port: 7422, tls { cert_file: c.pem, key_file: k.pem, timeout: 5 }");
    let t = l.tls.as_ref().expect("tls");
    assert_eq!(t.cert_file, PathBuf::from("c.pem"));
    assert_eq!(t.key_file, PathBuf::from("k.pem"));
    assert_eq!(t.timeout, Duration::from_secs(5));
    // With TLS the auth timeout defaults to the TLS timeout + 1 s.
    assert_eq!(l.auth_timeout, Duration::from_secs(6));
    let l = leaf("tls { cert_file: c.pem, key_file: k.pem }, authorization { timeout: 1 }");
    assert_eq!(l.auth_timeout, Duration::from_secs(1));
    // nats-server's text.
    assert_eq!(
        error("tls { cert_file: a, key_file: b, verify_cert_and_check_known_urls: true }"),
        ["t.conf:2:36: verify_cert_and_check_known_urls not supported in this context"]
    );
    // The listener needs a certificate.
    assert_eq!(
        error("tls { timeout: 3 }"),
        ["t.conf:2:3: missing 'cert_file' in TLS configuration"]
    );
    assert_eq!(
        warning("tls { cert_file: a, key_file: b, insecure: true }"),
        ["t.conf:2:36: tls.insecure is ignored: it only affects connections this server makes"]
    );
}

#[test]
fn reconnect() {
    assert_eq!(leaf("reconnect: \"5s\"").reconnect, Duration::from_secs(5));
    assert_eq!(
        leaf("reconnect_delay: \"250ms\"").reconnect,
        Duration::from_millis(250)
    );
    assert_eq!(
        leaf("reconnect_interval: \"2s\"").reconnect,
        Duration::from_secs(2)
    );
    assert_eq!(leaf("reconnect: \"0s\"").reconnect, DEFAULT_LEAF_RECONNECT);
    assert_eq!(leaf("reconnect: 3").reconnect, Duration::from_secs(3));
    // nats-server's texts: every alias is named `reconnect`.
    assert_eq!(
        warning("reconnect_delay: 5"),
        ["t.conf:2:3: invalid use of field \"reconnect\": reconnect should be converted to a duration"]
    );
    assert_eq!(
        error("reconnect: \"5x\""),
        ["t.conf:2:3: error parsing reconnect: time: unknown unit \"x\" in duration \"5x\""]
    );
    assert_eq!(
        error("reconnect: \"-1s\""),
        ["t.conf:2:3: reconnect can not be negative"]
    );
}

#[test]
fn compression_is_kept_as_written() {
    assert_eq!(
        leaf("compression: s2_fast").compression.as_deref(),
        Some("s2_fast")
    );
    assert_eq!(
        leaf("compression: Accept").compression.as_deref(),
        Some("Accept")
    );
    assert_eq!(
        leaf("compression: true").compression.as_deref(),
        Some("s2_auto")
    );
    assert_eq!(
        leaf("compression: false").compression.as_deref(),
        Some("off")
    );
    assert_eq!(
        leaf("compression: { mode: s2_auto, rtt_thresholds: [\"10ms\", \"50ms\"] }")
            .compression
            .as_deref(),
        Some("s2_auto")
    );
    assert_eq!(leaf("compression: {}").compression, None);
    // nats-server's texts (the mode is checked when it starts).
    assert_eq!(
        error("compression: bogus"),
        ["t.conf:2:3: unsupported compression mode \"bogus\""]
    );
    assert_eq!(
        error("compression: 5"),
        ["t.conf:2:3: field \"compression\" should be a boolean or a structure, got int64"]
    );
    assert_eq!(
        error("compression: { mode: s2_auto, rtt_thresholds: [\"10ms\", \"5ms\"] }"),
        ["t.conf:2:3: RTT threshold values [10ms 5ms] should be in ascending order"]
    );
}

#[test]
fn min_version_is_checked_then_warned_about() {
    assert_eq!(
        warning("min_version: \"2.10.0\""),
        ["t.conf:2:3: leafnodes.min_version is not supported yet"]
    );
    assert!(warning("minimum_version: \"2.8.0-beta.1+b5\"").len() == 1);
    // nats-server's texts.
    assert_eq!(
        error("min_version: \"2.7.9\""),
        ["t.conf:2:3: the minimum version should be at least 2.8.0"]
    );
    assert_eq!(
        error("min_version: abc"),
        ["t.conf:2:3: invalid leafnode's minimum version: invalid semver"]
    );
    assert_eq!(
        error("min_version: 5"),
        ["t.conf:2:3: interface conversion: interface {} is int64, not string"]
    );
}

#[test]
fn semantic_versions() {
    assert_eq!(semver("2.10.3"), Ok((2, 10, 3)));
    assert_eq!(semver("0.0.0-rc.1+build.5"), Ok((0, 0, 0)));
    assert_eq!(semver("1.2.3-0a.x-y"), Ok((1, 2, 3)));
    for bad in [
        "",
        "2",
        "2.8",
        "v2.8.0",
        "02.8.0",
        "2.8.0-",
        "2.8.0-01",
        "2.8.0+",
        "2.8.0-a..b",
    ] {
        assert_eq!(semver(bad), Err("invalid semver".to_string()), "{bad}");
    }
    assert_eq!(
        semver("99999999999999999999.0.0"),
        Err("strconv.Atoi: parsing \"99999999999999999999\": value out of range".to_string())
    );
}

#[test]
fn other_known_keys_warn() {
    assert_eq!(
        warning("dial_timeout: \"2s\", write_deadline: \"5s\", write_timeout: close"),
        [
            "t.conf:2:3: leafnodes.dial_timeout is not supported yet",
            "t.conf:2:23: leafnodes.write_deadline is not supported yet",
            "t.conf:2:45: leafnodes.write_timeout is not supported yet",
        ]
    );
    assert_eq!(
        warning("isolate_leafnode_interest: true, isolate: false"),
        ["t.conf:2:3: leafnodes.isolate_leafnode_interest is not supported yet"]
    );
    // Still checked, with nats-server's texts.
    assert_eq!(
        warning("dial_timeout: 3"),
        [
            "t.conf:2:3: invalid use of field \"dial_timeout\": dial_timeout should be converted \
             to a duration",
            "t.conf:2:3: leafnodes.dial_timeout is not supported yet",
        ]
    );
    assert_eq!(
        error("write_timeout: x"),
        ["t.conf:2:3: write_timeout must be 'default', 'close' or 'retry'"]
    );
    assert_eq!(
        error("isolate: 1"),
        ["t.conf:2:3: interface conversion: interface {} is int64, not bool"]
    );
}

#[test]
fn remote_keys() {
    let r = remote(
        "url: \"nats-leaf://lu:lp@hub.example.com:7422\", account: A, \
         credentials: \"/etc/leaf.creds\", hub: true, \
         deny_imports: \"private.>\", deny_exports: [\"a.*\", \"b\"], compression: s2_best",
    );
    assert_eq!(
        r,
        LeafRemote {
            urls: strings(&["nats-leaf://lu:lp@hub.example.com:7422"]),
            account: Some("A".into()),
            credentials: Some(PathBuf::from("/etc/leaf.creds")),
            tls: None,
            hub: true,
            deny_imports: strings(&["private.>"]),
            deny_exports: strings(&["a.*", "b"]),
            compression: Some("s2_best".into()),
        }
    );
    // Aliases.
    let r = remote(
        "urls: [\"nats://a:1\", \"tls://b:2\"], local: B, creds: x.creds, \
         deny_import: c, deny_export: d",
    );
    assert_eq!(r.urls, ["nats://a:1", "tls://b:2"]);
    assert_eq!(r.account.as_deref(), Some("B"));
    assert_eq!(r.credentials, Some(PathBuf::from("x.creds")));
    assert_eq!(
        (r.deny_imports, r.deny_exports),
        (strings(&["c"]), strings(&["d"]))
    );
    assert!(!r.hub);
    // `urls` as a single string, websocket URLs.
    assert_eq!(remote("urls: \"wss://h:443\"").urls, ["wss://h:443"]);
    assert_eq!(
        remote("url: [\"ws://a:80\", \"wss://b:443\"]").urls.len(),
        2
    );
}

#[test]
fn remote_urls_get_the_default_port() {
    assert_eq!(remote("url: \"nats://hub\"").urls, ["nats://hub:7422"]);
    assert_eq!(
        remote("url: \"nats://u:p@hub/path?x=1\"").urls,
        ["nats://u:p@hub:7422/path?x=1"]
    );
}

#[test]
fn remote_tls() {
    let r = remote("url: \"tls://h:1\", tls { ca_file: ca.pem, timeout: 3 }");
    let t = r.tls.expect("tls");
    assert_eq!(t.cert_file, PathBuf::new(), "no client certificate");
    assert_eq!(t.ca_file, Some(PathBuf::from("ca.pem")));
    assert_eq!(t.timeout, Duration::from_secs(3));
    let r = remote("url: \"nats://h:1\", tls { cert_file: c.pem, key_file: k.pem }");
    assert_eq!(r.tls.expect("tls").cert_file, PathBuf::from("c.pem"));
    // nats-server's texts.
    assert_eq!(
        error("remotes: [ {url: \"tls://h:1\", tls { key_file: k.pem }} ]"),
        ["t.conf:2:33: missing 'cert_file' in TLS configuration"]
    );
    assert_eq!(
        error(
            "remotes: [ {url: \"nats://h:1\", tls { cert_file: a, key_file: b, \
             verify_cert_and_check_known_urls: true }} ]"
        ),
        ["t.conf:2:67: verify_cert_and_check_known_urls not supported in this context"]
    );
    assert_eq!(
        warning("remotes: [ {url: \"nats://h:1\", tls { insecure: true }} ]"),
        ["t.conf:2:40: tls.insecure is not supported yet"]
    );
}

#[test]
fn remote_errors() {
    // nats-server's texts.
    assert_eq!(
        error("remotes: 5"),
        ["t.conf:2:3: Expected remotes field to be an array, got int64"]
    );
    assert_eq!(
        error("remotes: [ 5 ]"),
        ["t.conf:2:14: Expected remote leafnode entry to be a map/struct, got 5"]
    );
    assert_eq!(
        error("remotes: [ {urls: 5} ]"),
        ["t.conf:2:15: Expected remote leafnode url to be an array or string, got 5"]
    );
    assert_eq!(
        error("remotes: [ {url: \"nats://h:1\", foo: 1} ]"),
        ["t.conf:2:34: unknown field \"foo\""]
    );
    assert_eq!(
        error("remotes: [ {url: \"nats://h:1\", hub: 1} ]"),
        ["t.conf:2:34: interface conversion: interface {} is int64, not bool"]
    );
    assert_eq!(
        error("remotes: [ {url: \"nats://h:1\", account: 5} ]"),
        ["t.conf:2:34: interface conversion: interface {} is int64, not string"]
    );
    assert_eq!(
        error("remotes: [ {url: \"nats://h:1\", deny_imports: 5} ]"),
        [
            "t.conf:2:48: Expected subject permissions to be a subject, or array of subjects, \
             got int64"
        ]
    );
    assert_eq!(
        error("remotes: [ {url: \"nats://h:1\", deny_exports: [\"a\", \"b..c\"]} ]"),
        ["t.conf:2:54: subject \"b..c\" is not a valid subject"]
    );
    assert_eq!(
        error("remotes: [ {url: \"nats://h:1\", compression: 5} ]"),
        ["t.conf:2:34: field \"compression\" should be a boolean or a structure, got int64"]
    );
    assert_eq!(
        error("remotes: [ {url: \"nats://h:1\", creds: a.creds, nkey: SUAAA} ]"),
        ["t.conf:2:50: Remote leafnode can not have both creds and nkey defined"]
    );
    assert_eq!(
        error("remotes: [ {url: \"nats://h:1\", proxy: 1} ]"),
        ["t.conf:2:34: Expected proxy to be a map, got int64"]
    );
}

#[test]
fn bad_remote_urls_name_the_url_where_it_is_written() {
    let text =
        "leafnodes {\n  remotes: [ { urls: [\n    \"nats://ok:1\"\n    \"127.0.0.1:5000\"\n    \
                \"foo://h:1\"\n    \"nats://:1\"\n    \"nats://h:0\"\n    \"nats://h:99999\"\n    \
                \"//h:1\"\n  ] } ]\n}";
    assert_eq!(
        errors(text),
        [
            // nats-server's text.
            "t.conf:4:5: error parsing leafnode url [\"127.0.0.1:5000\"]",
            "t.conf:5:5: error parsing leafnode url [\"foo://h:1\"]: unsupported scheme \"foo\", \
             expected nats-leaf, nats, tls, ws or wss",
            "t.conf:6:5: error parsing leafnode url [\"nats://:1\"]: missing host",
            "t.conf:7:5: error parsing leafnode url [\"nats://h:0\"]: invalid port",
            "t.conf:8:5: error parsing leafnode url [\"nats://h:99999\"]: invalid port",
            "t.conf:9:5: error parsing leafnode url [\"//h:1\"]: missing scheme, \
             expected nats-leaf, nats, tls, ws or wss",
        ]
    );
    assert_eq!(
        error("remotes: [ {url: 127.0.0.1:5000} ]"),
        ["t.conf:2:20: error parsing leafnode url [\"127.0.0.1:5000\"]"]
    );
}

#[test]
fn duplicate_urls_warn_and_are_dropped() {
    let text = "leafnodes {\n  remotes: [ {urls: [\"nats://h:1\", \"nats://h:1\"]} ]\n}";
    assert_eq!(leaf_of(text).remotes[0].urls, ["nats://h:1"]);
    // nats-server's text.
    assert_eq!(
        warnings(text),
        ["t.conf:2:36: invalid use of field \"nats://h:1\": Duplicate leafnode entry detected"]
    );
}

#[test]
fn duplicate_remotes_are_errors() {
    // nats-server's texts (it names the remote at one of its keys).
    assert_eq!(
        error("remotes: [ {url: \"nats://u:p@h:1\"}, {url: \"nats://u:p@h:1\"} ]"),
        ["t.conf:2:40: duplicate remote urls=[\"nats://u:xxxxx@h:1\"], account=\"$G\""]
    );
    assert_eq!(
        error(
            "remotes: [ {url: \"nats://h:1\", credentials: \"/tmp/x.creds\"}, \
             {url: \"nats://h:1\", credentials: \"/tmp/x.creds\", account: \"$G\"} ]"
        ),
        [
            "t.conf:2:65: duplicate remote urls=[\"nats://h:1\"], account=\"$G\", \
             credentials=\"/tmp/x.creds\""
        ]
    );
    // Another account makes another remote.
    let l = leaf("remotes: [ {url: \"nats://h:1\"}, {url: \"nats://h:1\", account: \"$SYS\"} ]");
    assert_eq!(l.remotes.len(), 2);
}

#[test]
fn websocket_and_other_urls_do_not_mix() {
    // nats-server's text (it checks when it starts).
    assert_eq!(
        error("remotes: [ {urls: [\"nats://h:1\", \"ws://u:p@h:2\"]} ]"),
        [
            "t.conf:2:15: remote leaf node configuration cannot have a mix of websocket and \
             non-websocket urls: [\"nats://h:1\" \"ws://u:xxxxx@h:2\"]"
        ]
    );
}

#[test]
fn disabled_remotes_and_remotes_without_urls_are_dropped() {
    let l = leaf("remotes: [ {url: \"nats://a:1\", disabled: true}, {url: \"nats://b:1\", disabled: false} ]");
    assert_eq!(l.remotes.len(), 1);
    assert_eq!(l.remotes[0].urls, ["nats://b:1"]);
    let text = "leafnodes {\n  remotes: [ {account: A}, {url: \"nats://b:1\"} ]\n}";
    assert_eq!(
        leaf_of(&format!("accounts {{ A {{}} }}\n{text}"))
            .remotes
            .len(),
        1
    );
    assert_eq!(
        warnings(&format!("accounts {{ A {{}} }}\n{text}")),
        ["t.conf:3:14: remote leafnode entry has no url: it is ignored"]
    );
}

#[test]
fn other_remote_keys_warn() {
    let text = "leafnodes {\n  remotes: [ {\n    url: \"ws://h:1\"\n    nkey: SUAAA\n    \
                no_randomize: true\n    ws_compression: true\n    ws_no_masking: true\n    \
                isolate: true\n    request_isolation: true\n    ignore_discovered_servers: true\n    \
                first_info_timeout: \"1s\"\n    dial_timeout: \"1s\"\n    \
                jetstream_cluster_migrate: { leader_migrate_delay: \"5s\" }\n    \
                proxy { url: \"http://p:3128\", username: u, password: p, timeout: \"2s\" }\n    \
                dont_randomize: false\n  } ]\n}";
    let w = warnings(text);
    let expected: Vec<String> = [
        (4, "nkey"),
        (5, "no_randomize"),
        (6, "ws_compression"),
        (7, "ws_no_masking"),
        (8, "isolate"),
        (9, "request_isolation"),
        (10, "ignore_discovered_servers"),
        (11, "first_info_timeout"),
        (12, "dial_timeout"),
        (13, "jetstream_cluster_migrate"),
        (14, "proxy"),
    ]
    .iter()
    .map(|(line, key)| format!("t.conf:{line}:5: leafnodes.remotes.{key} is not supported yet"))
    .collect();
    assert_eq!(w, expected);
    assert_eq!(leaf_of(text).remotes[0].urls, ["ws://h:1"]);
    // nats-server's texts.
    assert_eq!(
        warning("remotes: [ {url: \"nats://h:1\", first_info_timeout: 3} ]"),
        [
            "t.conf:2:34: invalid use of field \"first_info_timeout\": first_info_timeout should \
             be converted to a duration",
            "t.conf:2:34: leafnodes.remotes.first_info_timeout is not supported yet",
        ]
    );
    assert_eq!(
        error("remotes: [ {url: \"nats://h:1\", js_cluster_migrate: 1} ]"),
        ["t.conf:2:34: Expected boolean or map for jetstream_cluster_migrate, got int64"]
    );
    assert_eq!(
        error("remotes: [ {url: \"nats://h:1\", proxy { foo: 1 }} ]"),
        ["t.conf:2:42: unknown field \"foo\""]
    );
}

#[test]
fn accounts_named_by_the_block_must_exist() {
    // nats-server's texts (it checks when it starts).
    assert_eq!(
        error("port: -1, authorization { account: NOPE }"),
        ["t.conf:2:29: cannot find local account \"NOPE\" specified in leafnode authorization"]
    );
    assert_eq!(
        error("authorization { users: [{user: a, password: b, account: NOPE}] }"),
        ["t.conf:2:50: cannot find local account \"NOPE\" specified in leafnode authorization"]
    );
    assert_eq!(
        error("remotes: [ {url: \"nats://h:1\", account: NOPE} ]"),
        ["t.conf:2:34: cannot find local account \"NOPE\" specified in leafnode remote"]
    );
    // `$SYS` is not known once another system account is named.
    assert_eq!(
        errors(
            "accounts { S {} }\nsystem_account: S\n\
             leafnodes {\n  remotes: [ {url: \"nats://h:1\", local: \"$SYS\"} ]\n}"
        ),
        ["t.conf:4:34: cannot find local account \"$SYS\" specified in leafnode remote"]
    );
    let text = "accounts { A {}, SYS {} }\nsystem_account: SYS\n\
                leafnodes { authorization { account: A, users: [] }, \
                remotes: [ {url: \"nats://h:1\", account: SYS}, {url: \"nats://h:2\", account: \"$G\"} ] }";
    assert_eq!(leaf_of(text).remotes.len(), 2);
    // `$SYS` exists unless another system account is named or there is none.
    assert_eq!(
        leaf("remotes: [ {url: \"nats://h:1\", account: \"$SYS\"} ]")
            .remotes
            .len(),
        1
    );
    assert_eq!(
        errors(
            "no_system_account: true\nleafnodes { remotes: [ {url: \"nats://h:1\", account: \"$SYS\"} ] }"
        ),
        ["t.conf:2:44: cannot find local account \"$SYS\" specified in leafnode remote"]
    );
}

#[test]
fn leaf_urls_split() {
    let u = url(" nats-leaf://u%40x:p%3Aw@hub.example.com:7422 ");
    assert_eq!(
        u,
        LeafUrl {
            url: "nats-leaf://u%40x:p%3Aw@hub.example.com:7422".into(),
            scheme: "nats-leaf".into(),
            host: "hub.example.com".into(),
            port: 7422,
            user: Some("u@x".into()),
            password: Some("p:w".into()),
        }
    );
    assert!(!u.is_websocket());
    let u = url("WSS://[::1]");
    assert_eq!(
        (u.scheme.as_str(), u.host.as_str(), u.port),
        ("wss", "::1", 7422)
    );
    assert_eq!(u.url, "WSS://[::1]:7422");
    assert!(u.is_websocket());
    let u = url("tls://h:");
    assert_eq!((u.url.as_str(), u.port), ("tls://h:7422", 7422));
    assert_eq!(url("nats://u@h#frag").url, "nats://u@h:7422#frag");
    assert_eq!(
        LeafUrl::parse("nats://::1:4222"),
        Err(
            "error parsing leafnode url [\"nats://::1:4222\"]: address ::1:4222: too many \
             colons in address"
                .into()
        )
    );
}

#[test]
fn redaction() {
    assert_eq!(redact("nats://u:p@h:1"), "nats://u:xxxxx@h:1");
    assert_eq!(redact("nats://u@h:1"), "nats://u@h:1");
    assert_eq!(redact("nats://h:1/a@b"), "nats://h:1/a@b");
    assert_eq!(redact("nats://a@b:c@d@h:1"), "nats://a@b:xxxxx@h:1");
}

#[test]
fn credential_paths_are_expanded() {
    let env = |name: &str| match name {
        "DIR" => "/srv".to_string(),
        "1" => "one".to_string(),
        _ => String::new(),
    };
    assert_eq!(expand_env("$DIR/a.creds", env), "/srv/a.creds");
    assert_eq!(expand_env("${DIR}x/a", env), "/srvx/a");
    assert_eq!(expand_env("$NOPE/a", env), "/a");
    assert_eq!(expand_env("a$1b", env), "aoneb");
    assert_eq!(expand_env("a${}b", env), "ab");
    assert_eq!(expand_env("a${b", env), "ab");
    assert_eq!(expand_env("a$/b$", env), "a$/b$");
    assert_eq!(expand_env("no vars", env), "no vars");
    if let Ok(home) = std::env::var("HOME") {
        if !home.is_empty() {
            assert_eq!(
                expand_path("~/x.creds"),
                Ok(PathBuf::from(&home).join("x.creds").display().to_string())
            );
        }
    }
}
