//! Tests for the JetStream keys, through the whole loader; expected texts
//! are nats-server 2.15's where it has them.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::options::{load_str, ConfigErrors, Loaded, Options};

const ACCOUNT_KEY: &str = "ABVRZKJ6Z7NIMPIYJRCHEYFRUO7ENN6NWOKQDFLFDFVPSM36UPX2UCPP";

fn load(text: &str) -> Result<Loaded, ConfigErrors> {
    load_str(text, Path::new("t.conf"))
}

fn opts(text: &str) -> Options {
    match load(text) {
        Ok(l) => l.options,
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

/// The JetStream settings of a file that must load and turn JetStream on.
fn js_of(text: &str) -> JetStreamOptions {
    opts(text)
        .jetstream
        .unwrap_or_else(|| panic!("{text:?}: JetStream is off"))
}

/// `jetstream { <body> }` on one line.
fn js(body: &str) -> JetStreamOptions {
    js_of(&format!("jetstream {{ {body} }}"))
}

/// Every error as `file:line:col: message`.
fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => panic!("{text:?} loaded: {:?}", l.options.jetstream),
        Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// The errors of `jetstream {\n  <line>\n}` (the key on line 2, column 3).
fn error(line: &str) -> Vec<String> {
    errors(&format!("jetstream {{\n  {line}\n}}"))
}

fn warnings(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => l.warnings.iter().map(ToString::to_string).collect(),
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

/// The warnings of `jetstream {\n  <line>\n}`.
fn warning(line: &str) -> Vec<String> {
    warnings(&format!("jetstream {{\n  {line}\n}}"))
}

/// The account `A`'s JetStream in `accounts { A: { jetstream: <value> } }`.
fn account_js(value: &str) -> Option<AccountJetStream> {
    let o = opts(&format!("accounts {{ A: {{ jetstream: {value} }} }}"));
    o.accounts[0].jetstream
}

/// The errors of `accounts {\n  A: {\n    jetstream: <value>\n  }\n}` (the
/// `jetstream` key on line 3, column 5).
fn account_errors(value: &str) -> Vec<String> {
    errors(&format!(
        "accounts {{\n  A: {{\n    jetstream: {value}\n  }}\n}}"
    ))
}

fn enabled_account(limits: AccountJsLimits) -> Option<AccountJetStream> {
    Some(AccountJetStream {
        enabled: true,
        limits,
    })
}

#[test]
fn no_key_is_no_jetstream() {
    let o = opts("port: 4222");
    assert_eq!(o.jetstream, None);
    assert_eq!(o.store_dir, None);
    assert!(o.default_js_domain.is_empty());
}

#[test]
fn booleans_and_words_turn_it_on_or_off() {
    for on in [
        "true",
        "on",
        "yes",
        "enabled",
        "enable",
        "Enabled",
        "ENABLE",
        "\"enabled\"",
    ] {
        assert_eq!(
            opts(&format!("jetstream: {on}")).jetstream,
            Some(JetStreamOptions::default()),
            "{on}"
        );
        assert!(warnings(&format!("jetstream: {on}")).is_empty(), "{on}");
    }
    for off in ["false", "off", "disabled", "disable", "DISABLED"] {
        assert_eq!(opts(&format!("jetstream: {off}")).jetstream, None, "{off}");
    }
}

#[test]
fn defaults_of_an_enabled_server() {
    let js = JetStreamOptions::default();
    assert_eq!(js.store_dir, None);
    assert_eq!((js.max_memory, js.max_file), (None, None));
    assert_eq!(js.sync, SyncPolicy::Batch);
    assert!(js.strict);
    assert_eq!(js.domain, None);
    assert_eq!(js.limits, JetStreamLimits::default());
    assert_eq!(js.limits.max_ack_pending, None);
}

#[test]
fn a_block_enables_unless_enabled_is_false() {
    assert_eq!(js_of("jetstream {}"), JetStreamOptions::default());
    assert_eq!(
        js_of("jetstream { enabled: true }"),
        JetStreamOptions::default()
    );
    assert_eq!(
        js_of("jetstream { enable: yes }"),
        JetStreamOptions::default()
    );
    assert_eq!(
        opts("jetstream { enabled: false, max_mem: 1G }").jetstream,
        None
    );
    assert_eq!(opts("jetstream { Enable: false }").jetstream, None);
    // The settings of a disabled block are still checked.
    assert_eq!(
        errors("jetstream {\n  enabled: false\n  max_mem: 1.5\n}"),
        ["t.conf:3:3: max_mem_store must be int64 or string"]
    );
    assert_eq!(
        error("enabled: \"yes\""),
        ["t.conf:2:3: interface conversion: interface {} is string, not bool"]
    );
}

#[test]
fn js_is_no_config_key() {
    // nats-server has `-js` as a flag only.
    assert_eq!(errors("js: true"), ["t.conf:1:1: unknown field \"js\""]);
}

#[test]
fn other_value_types_are_refused() {
    assert_eq!(
        errors("jetstream: 5"),
        ["t.conf:1:1: Expected map, bool or string to define JetStream, got int64"]
    );
    assert_eq!(
        errors("jetstream: [true]"),
        ["t.conf:1:1: Expected map, bool or string to define JetStream, got []interface {}"]
    );
    assert_eq!(
        errors("jetstream: 1.5"),
        ["t.conf:1:1: Expected map, bool or string to define JetStream, got float64"]
    );
    assert_eq!(
        errors("jetstream: maybe"),
        ["t.conf:1:1: Expected 'enabled' or 'disabled' for string value, got 'maybe'"]
    );
}

#[test]
fn every_stored_key_of_the_block() {
    let got = js(
        "store_dir: \"/data/js\", max_memory_store: 1GB, max_file_store: \"10G\", \
         sync_interval: \"30s\", strict: false, domain: hub, unique_tag: \" AZ: \", \
         max_outstanding_catchup: 64MB, max_buffered_msgs: 20000, max_buffered_size: \"128M\", \
         request_queue_limit: 500, info_queue_limit: 100, \
         limits { max_ack_pending: 1000, max_ha_assets: 50, max_request_batch: 250, \
         duplicate_window: \"1m\" }",
    );
    assert_eq!(
        got,
        JetStreamOptions {
            store_dir: Some(PathBuf::from("/data/js")),
            max_memory: Some(1 << 30),
            max_file: Some(10 << 30),
            sync: SyncPolicy::Interval(Duration::from_secs(30)),
            strict: false,
            domain: Some("hub".into()),
            unique_tag: Some("az:".into()),
            max_outstanding_catchup: Some(64 << 20),
            max_buffered_msgs: Some(20_000),
            max_buffered_size: Some(128 << 20),
            request_queue_limit: Some(500),
            info_queue_limit: Some(100),
            limits: JetStreamLimits {
                max_ack_pending: Some(1000),
                max_ha_assets: Some(50),
                max_request_batch: Some(250),
                duplicate_window: Some(Duration::from_secs(60)),
            },
        }
    );
    assert!(
        warnings("jetstream { store_dir: /x, domain: d, limits { max_ha_assets: 1 } }").is_empty()
    );
}

#[test]
fn aliases_and_case() {
    let got = js("STORE: /a, max_mem_store: 100, max_file: 200, sync: always");
    assert_eq!(got.store_dir, Some(PathBuf::from("/a")));
    assert_eq!((got.max_memory, got.max_file), (Some(100), Some(200)));
    assert_eq!(got.sync, SyncPolicy::Always);
    assert_eq!(js("storedir: /b").store_dir, Some(PathBuf::from("/b")));
    assert_eq!(js("max_mem: 7").max_memory, Some(7));
    assert_eq!(js("Max_File_Store: 8").max_file, Some(8));
}

#[test]
fn sizes_are_numbers_or_strings_with_a_binary_suffix() {
    // Unquoted, the config lexer applies the suffix: a bare letter is a
    // power of 1000, with `B` a power of 1024.
    assert_eq!(js("max_mem: 1G").max_memory, Some(1_000_000_000));
    assert_eq!(js("max_mem: 1GB").max_memory, Some(1 << 30));
    assert_eq!(js("max_mem: 512MB").max_memory, Some(512 << 20));
    assert_eq!(js("max_mem: 2k").max_memory, Some(2000));
    // Quoted, nats-server's `K`, `M`, `G`, `T` are powers of 1024.
    assert_eq!(js("max_mem: \"1G\"").max_memory, Some(1 << 30));
    assert_eq!(js("max_file: \"512M\"").max_file, Some(512 << 20));
    assert_eq!(js("max_file: \"3K\"").max_file, Some(3 << 10));
    assert_eq!(js("max_file: \"2T\"").max_file, Some(2 << 40));
    assert_eq!(js("max_file: \"+1K\"").max_file, Some(1 << 10));
    // Zero is a limit of zero; negative (-1 by convention) is the server's pick.
    assert_eq!(js("max_mem: 0").max_memory, Some(0));
    assert_eq!(js("max_mem: \"\"").max_memory, Some(0));
    assert_eq!(js("max_mem: -1").max_memory, None);
    assert_eq!(js("max_file: \"-1G\"").max_file, None);
}

#[test]
fn size_errors_use_reference_texts() {
    // The number before the last character is read first, as nats-server does.
    assert_eq!(
        error("max_mem: \"512MB\""),
        ["t.conf:2:3: max_mem_store strconv.ParseInt: parsing \"512M\": invalid syntax"]
    );
    assert_eq!(
        error("max_memory_store: \"1g\""),
        ["t.conf:2:3: max_mem_store sizes defined as strings must end in K, M, G, T"]
    );
    assert_eq!(
        error("max_file: \"abc\""),
        ["t.conf:2:3: max_file_store strconv.ParseInt: parsing \"ab\": invalid syntax"]
    );
    assert_eq!(
        error("max_file: \"G\""),
        ["t.conf:2:3: max_file_store strconv.ParseInt: parsing \"\": invalid syntax"]
    );
    assert_eq!(
        error("max_file: \"1.5G\""),
        ["t.conf:2:3: max_file_store strconv.ParseInt: parsing \"1.5\": invalid syntax"]
    );
    assert_eq!(
        error("max_file: \"99999999999999999999K\""),
        ["t.conf:2:3: max_file_store strconv.ParseInt: parsing \
             \"99999999999999999999\": value out of range"]
    );
    assert_eq!(
        error("max_file: \"99999999T\""),
        ["t.conf:2:3: max_file_store size \"99999999T\" is out of range"]
    );
    assert_eq!(
        error("max_mem: 1.5"),
        ["t.conf:2:3: max_mem_store must be int64 or string"]
    );
    assert_eq!(
        error("max_file_store: [1]"),
        ["t.conf:2:3: max_file_store must be int64 or string"]
    );
}

#[test]
fn sync_interval_forms() {
    assert_eq!(js("").sync, SyncPolicy::Batch);
    assert_eq!(js("sync_interval: always").sync, SyncPolicy::Always);
    assert_eq!(js("sync_interval: \"ALWAYS\"").sync, SyncPolicy::Always);
    assert_eq!(
        js("sync_interval: \"2m\"").sync,
        SyncPolicy::Interval(Duration::from_secs(120))
    );
    // An unquoted duration the lexer reads as one.
    assert_eq!(
        js("sync_interval: 5s").sync,
        SyncPolicy::Interval(Duration::from_secs(5))
    );
    assert_eq!(
        js("sync: \"1m30s\"").sync,
        SyncPolicy::Interval(Duration::from_secs(90))
    );
    // Zero is the default, as in nats-server (whose default is its interval).
    assert_eq!(js("sync_interval: \"0s\"").sync, SyncPolicy::Batch);
    // A bare integer is seconds, with nats-server's warning.
    assert_eq!(
        js("sync_interval: 10").sync,
        SyncPolicy::Interval(Duration::from_secs(10))
    );
    assert_eq!(
        warning("sync_interval: 10"),
        [
            "t.conf:2:3: invalid use of field \"sync_interval\": sync_interval should be \
             converted to a duration"
        ]
    );
}

#[test]
fn sync_interval_errors() {
    assert_eq!(
        error("sync_interval: soon"),
        ["t.conf:2:3: error parsing sync_interval: time: invalid duration \"soon\""]
    );
    assert_eq!(
        error("sync: \"-1s\""),
        ["t.conf:2:3: sync can not be negative"]
    );
    assert_eq!(
        error("sync_interval: true"),
        [
            "t.conf:2:3: invalid type for field \"sync_interval\": interface conversion: \
             interface {} is bool, not string"
        ]
    );
}

#[test]
fn top_level_store_dir_does_not_enable_jetstream() {
    let o = opts("store_dir: /data");
    assert_eq!(o.jetstream, None);
    assert_eq!(o.store_dir, Some(PathBuf::from("/data")));
    assert_eq!(
        opts("storedir: \"/d\"").store_dir,
        Some(PathBuf::from("/d"))
    );
    assert_eq!(opts("store_dir: \"\"").store_dir, None);
    assert!(warnings("store_dir: /data").is_empty());
    assert_eq!(
        errors("store_dir: 5"),
        [
            "t.conf:1:1: invalid type for field \"store_dir\": interface conversion: \
             interface {} is int64, not string"
        ]
    );
}

#[test]
fn top_level_store_dir_goes_to_enabled_jetstream() {
    for text in [
        "store_dir: /data\njetstream: enabled",
        "jetstream: true\nstore_dir: /data",
        "jetstream {}\nSTOREDIR: /data",
        "store_dir: /data\njetstream { max_mem: 1 }",
    ] {
        let o = opts(text);
        assert_eq!(
            o.jetstream.and_then(|js| js.store_dir),
            Some(PathBuf::from("/data")),
            "{text}"
        );
    }
    // An empty one set first is no conflict, as in nats-server.
    let o = opts("store_dir: \"\"\njetstream { store_dir: /b }");
    assert_eq!(
        o.jetstream.and_then(|js| js.store_dir),
        Some(PathBuf::from("/b"))
    );
}

#[test]
fn store_dir_twice_is_an_error_at_the_later_one() {
    assert_eq!(
        errors("store_dir: /a\njetstream {\n  store_dir: /b\n}"),
        ["t.conf:3:3: Duplicate 'store_dir' configuration"]
    );
    assert_eq!(
        errors("jetstream {\n  store_dir: /b\n}\nstore_dir: /a"),
        ["t.conf:4:1: Duplicate 'store_dir' configuration"]
    );
    assert_eq!(
        errors("jetstream {\n  store: /a\n  storedir: /b\n}"),
        ["t.conf:3:3: Duplicate 'store_dir' configuration"]
    );
    assert_eq!(
        errors("store_dir: /a\nstoredir: /b"),
        ["t.conf:2:1: Duplicate 'store_dir' configuration"]
    );
    // Also with JetStream off: nats-server checks the keys, not the feature.
    assert_eq!(
        errors("jetstream {\n  enabled: false\n  store_dir: /b\n}\nstore_dir: /a"),
        ["t.conf:5:1: Duplicate 'store_dir' configuration"]
    );
    assert_eq!(
        errors("jetstream {\n  store_dir: /b\n}\nstore_dir: \"\""),
        ["t.conf:4:1: Duplicate 'store_dir' configuration"]
    );
    assert_eq!(
        error("store_dir: 5"),
        ["t.conf:2:3: interface conversion: interface {} is int64, not string"]
    );
}

#[test]
fn domain_and_unique_tag() {
    assert_eq!(js("domain: hub-1").domain.as_deref(), Some("hub-1"));
    assert_eq!(js("domain: \"\"").domain, None);
    assert_eq!(
        js("unique_tag: \"  Az \"").unique_tag.as_deref(),
        Some("az")
    );
    assert_eq!(js("unique_tag: \" \"").unique_tag, None);
    assert_eq!(
        error("domain: \"a.b\""),
        ["t.conf:2:3: invalid domain name: may not contain ., * or >"]
    );
    assert_eq!(
        error("domain: \"*\""),
        ["t.conf:2:3: invalid domain name: may not contain ., * or >"]
    );
    assert_eq!(
        error("domain: \"a b\""),
        ["t.conf:2:3: invalid domain name: derived \"$JS.a b.API.>\" is not a valid subject"]
    );
    assert_eq!(
        error("domain: \">\""),
        ["t.conf:2:3: invalid domain name: derived \"$JS.>.API.>\" is not a valid subject"]
    );
    // Checked also when JetStream is off, as nats-server does.
    assert_eq!(
        errors("jetstream {\n  enabled: false\n  domain: \"a.b\"\n}"),
        ["t.conf:3:3: invalid domain name: may not contain ., * or >"]
    );
    assert_eq!(
        error("domain: 5"),
        ["t.conf:2:3: interface conversion: interface {} is int64, not string"]
    );
    assert_eq!(
        error("unique_tag: [a]"),
        ["t.conf:2:3: interface conversion: interface {} is []interface {}, not string"]
    );
}

#[test]
fn encryption_keys_are_refused() {
    for key in [
        "key",
        "ek",
        "encryption_key",
        "prev_key",
        "prev_ek",
        "prev_encryption_key",
    ] {
        assert_eq!(
            error(&format!("{key}: s3cr3t")),
            [format!(
                "t.conf:2:3: JetStream encryption (\"{key}\") is not supported: Gannet would \
                 store the data unencrypted"
            )],
            "{key}"
        );
    }
    assert_eq!(
        error("tpm { keys_file: k }"),
        [
            "t.conf:2:3: JetStream encryption (\"tpm\") is not supported: Gannet would store \
             the data unencrypted"
        ]
    );
    // With a cipher the key is still refused, and the cipher not warned about.
    assert_eq!(
        errors("jetstream {\n  cipher: aes\n  key: s3cr3t\n}"),
        [
            "t.conf:3:3: JetStream encryption (\"key\") is not supported: Gannet would store \
             the data unencrypted"
        ]
    );
    // An empty key is no encryption.
    assert_eq!(js("key: \"\""), JetStreamOptions::default());
    assert!(warning("key: \"\"").is_empty());
    assert_eq!(
        error("key: 5"),
        ["t.conf:2:3: interface conversion: interface {} is int64, not string"]
    );
}

#[test]
fn a_cipher_without_a_key_warns() {
    for cipher in ["chacha", "ChaChaPoly", "aes", "AES"] {
        assert_eq!(
            warning(&format!("cipher: {cipher}")),
            ["t.conf:2:3: jetstream.cipher is not supported yet"],
            "{cipher}"
        );
    }
    assert_eq!(
        error("cipher: rot13"),
        ["t.conf:2:3: Unknown cipher type: \"rot13\""]
    );
}

#[test]
fn limits_block() {
    let l = js("limits { max_ack_pending: 0, max_ha_assets: -1, max_request_batch: 10 }").limits;
    assert_eq!(
        l,
        JetStreamLimits {
            max_ack_pending: None,
            max_ha_assets: None,
            max_request_batch: Some(10),
            duplicate_window: None,
        }
    );
    assert_eq!(
        js("LIMITS { Duplicate_Window: 90s }")
            .limits
            .duplicate_window,
        Some(Duration::from_secs(90))
    );
    assert_eq!(
        js("limits { duplicate_window: \"0s\" }")
            .limits
            .duplicate_window,
        None
    );
    assert_eq!(
        warning("limits { batch { max_inflight_per_stream: 5, max_inflight_total: 50, max_msgs: 100, timeout: \"10s\" } }"),
        ["t.conf:2:12: jetstream.limits.batch is not supported yet"]
    );
}

#[test]
fn limits_errors() {
    assert_eq!(
        error("limits: 5"),
        ["t.conf:2:3: Expected a map to define JetStreamLimits, got int64"]
    );
    assert_eq!(
        error("limits { max_ack_pending: \"x\" }"),
        ["t.conf:2:12: interface conversion: interface {} is string, not int64"]
    );
    // Unquoted `2m` is the integer 2000000 to the config lexer.
    assert_eq!(
        error("limits { duplicate_window: 2m }"),
        ["t.conf:2:12: interface conversion: interface {} is int64, not string"]
    );
    assert_eq!(
        error("limits { duplicate_window: \"abc\" }"),
        ["t.conf:2:12: time: invalid duration \"abc\""]
    );
    assert_eq!(
        error("limits { duplicate_window: \"-1s\" }"),
        ["t.conf:2:12: duplicate_window can not be negative"]
    );
    assert_eq!(
        error("limits { bogus: 1 }"),
        ["t.conf:2:12: unknown field \"bogus\""]
    );
    assert_eq!(
        error("limits { batch: 5 }"),
        ["t.conf:2:12: Expected a map to define batch limits, got int64"]
    );
    assert_eq!(
        error("limits { batch { max_msgs: \"x\", bogus: 1 } }"),
        [
            "t.conf:2:20: interface conversion: interface {} is string, not int64",
            "t.conf:2:35: unknown field \"bogus\"",
        ]
    );
}

#[test]
fn tuning_keys() {
    let got = js(
        "max_outstanding_catchup: \"1G\", max_buffered_size: 0, max_buffered_msgs: 0, \
                  request_queue_limit: 0, info_queue_limit: -5",
    );
    assert_eq!(got.max_outstanding_catchup, Some(1 << 30));
    assert_eq!(got.max_buffered_size, None);
    assert_eq!(got.max_buffered_msgs, None);
    assert_eq!(got.request_queue_limit, None);
    assert_eq!(got.info_queue_limit, None);
    assert_eq!(
        js("max_outstanding_catchup: 0").max_outstanding_catchup,
        None
    );
    assert!(js("strict: true").strict);
    assert!(!js("strict: false").strict);
}

#[test]
fn tuning_key_errors() {
    assert_eq!(
        error("max_outstanding_catchup: -1"),
        ["t.conf:2:3: jetstream max catchup cannot be negative"]
    );
    assert_eq!(
        error("Max_Outstanding_Catchup: \"1X\""),
        ["t.conf:2:3: max_outstanding_catchup sizes defined as strings must end in K, M, G, T"]
    );
    assert_eq!(
        error("max_buffered_size: true"),
        ["t.conf:2:3: max_buffered_size must be int64 or string"]
    );
    assert_eq!(
        error("max_buffered_size: -1"),
        ["t.conf:2:3: max_buffered_size can not be negative"]
    );
    assert_eq!(
        error("max_buffered_msgs: \"10K\""),
        ["t.conf:2:3: Expected a parseable size for \"max_buffered_msgs\", got 10K"]
    );
    assert_eq!(
        error("max_buffered_msgs: -2"),
        ["t.conf:2:3: max_buffered_msgs can not be negative"]
    );
    assert_eq!(
        error("Request_Queue_Limit: x"),
        ["t.conf:2:3: Expected a parseable size for \"Request_Queue_Limit\", got x"]
    );
    assert_eq!(
        error("info_queue_limit: 1.5"),
        ["t.conf:2:3: Expected a parseable size for \"info_queue_limit\", got 1.5"]
    );
    assert_eq!(
        error("strict: \"yes\""),
        ["t.conf:2:3: Expected 'true' or 'false' for bool value, got 'yes'"]
    );
}

#[test]
fn keys_gannet_does_not_act_on_are_checked_then_warned_about() {
    for line in [
        "extension_hint: will_extend",
        "extension_hint: \"No_Extend\"",
        "meta_compact: 1000",
        "meta_compact_size: \"1G\"",
        "meta_compact_sync: true",
        "max_concurrent_io: 4",
        "max_concurrent_io: 8192",
    ] {
        let key = line.split(':').next().unwrap_or_default();
        assert_eq!(
            warning(line),
            [format!("t.conf:2:3: jetstream.{key} is not supported yet")],
            "{line}"
        );
    }
    assert_eq!(
        error("extension_hint: maybe"),
        ["t.conf:2:3: expected 'no_extend' for string value, got 'maybe'"]
    );
    assert_eq!(
        error("meta_compact: -1"),
        ["t.conf:2:3: Expected an absolute size for \"meta_compact\", got -1"]
    );
    assert_eq!(
        error("meta_compact: \"1K\""),
        ["t.conf:2:3: Expected an absolute size for \"meta_compact\", got 1K"]
    );
    assert_eq!(
        error("meta_compact_size: -1"),
        ["t.conf:2:3: Expected an absolute size for \"meta_compact_size\", got -1"]
    );
    assert_eq!(
        error("meta_compact_sync: 1"),
        ["t.conf:2:3: interface conversion: interface {} is int64, not bool"]
    );
    assert_eq!(
        error("max_concurrent_io: 3"),
        [
            "t.conf:2:3: Expected an absolute size for \"max_concurrent_io\" between 4 and \
             8192, got 3"
        ]
    );
}

#[test]
fn unknown_keys_are_errors_unless_used_as_variables() {
    assert_eq!(
        errors("jetstream {\n  max_mem: 1\n  bogus: 1\n  max_ack_pending: 5\n}"),
        [
            "t.conf:3:3: unknown field \"bogus\"",
            // nats-server has `max_ack_pending` in `limits` only.
            "t.conf:4:3: unknown field \"max_ack_pending\"",
        ]
    );
    assert_eq!(
        error("compress_ok: true"),
        ["t.conf:2:3: unknown field \"compress_ok\""]
    );
    assert_eq!(
        js("D = /x, store_dir: $D").store_dir,
        Some(PathBuf::from("/x"))
    );
}

#[test]
fn every_problem_is_reported() {
    assert_eq!(
        errors("jetstream {\n  max_mem: 1.5\n  key: k\n  domain: \"a.b\"\n}"),
        [
            "t.conf:2:3: max_mem_store must be int64 or string",
            "t.conf:3:3: JetStream encryption (\"key\") is not supported: Gannet would store \
             the data unencrypted",
            "t.conf:4:3: invalid domain name: may not contain ., * or >",
        ]
    );
}

#[test]
fn account_simple_forms() {
    let unlimited = enabled_account(AccountJsLimits::default());
    for on in ["true", "enabled", "Enable", "\"ENABLED\""] {
        assert_eq!(account_js(on), unlimited, "{on}");
    }
    for off in ["false", "disabled", "disable"] {
        assert_eq!(account_js(off), Some(AccountJetStream::default()), "{off}");
    }
    assert_eq!(
        AccountJetStream::default().limits,
        AccountJsLimits::default()
    );
    assert_eq!(opts("accounts { A: {} }").accounts[0].jetstream, None);
    assert_eq!(opts("accounts: [A]").accounts[0].jetstream, None);
    assert!(warnings("accounts { A: { jetstream: enabled } }").is_empty());
}

#[test]
fn account_limits_block() {
    let limits = AccountJsLimits::default();
    assert_eq!(
        (
            limits.max_memory,
            limits.max_store,
            limits.max_streams,
            limits.max_consumers
        ),
        (-1, -1, -1, -1)
    );
    assert_eq!(
        (
            limits.max_ack_pending,
            limits.memory_max_stream_bytes,
            limits.store_max_stream_bytes,
            limits.max_bytes_required
        ),
        (-1, -1, -1, false)
    );
    assert_eq!(
        account_js("{}"),
        enabled_account(AccountJsLimits::default())
    );
    assert_eq!(
        account_js(
            "{ max_memory: 1GB, max_store: 10G, max_streams: 10, max_consumers: 100, \
             max_ack_pending: 1000, mem_max_stream_bytes: 1MB, disk_max_stream_bytes: 2MB, \
             max_bytes_required: true }"
        ),
        enabled_account(AccountJsLimits {
            max_memory: 1 << 30,
            max_store: 10_000_000_000,
            max_streams: 10,
            max_consumers: 100,
            max_ack_pending: 1000,
            memory_max_stream_bytes: 1 << 20,
            store_max_stream_bytes: 2 << 20,
            max_bytes_required: true,
        })
    );
    assert_eq!(
        account_js(
            "{ MEM: 1, max_file: 2, streams: 3, consumers: 4, memory_max_stream_bytes: 5, \
             store_max_stream_bytes: 6, max_stream_bytes: true }"
        ),
        enabled_account(AccountJsLimits {
            max_memory: 1,
            max_store: 2,
            max_streams: 3,
            max_consumers: 4,
            max_ack_pending: -1,
            memory_max_stream_bytes: 5,
            store_max_stream_bytes: 6,
            max_bytes_required: true,
        })
    );
    for (key, get) in [
        (
            "max_mem",
            (|l: AccountJsLimits| l.max_memory) as fn(AccountJsLimits) -> i64,
        ),
        ("memory", |l| l.max_memory),
        ("max_disk", |l| l.max_store),
        ("store", |l| l.max_store),
        ("disk", |l| l.max_store),
    ] {
        let got = account_js(&format!("{{ {key}: 42 }}"));
        assert_eq!(got.map(|a| get(a.limits)), Some(42), "{key}");
    }
    assert_eq!(
        account_js("{ max_bytes: true }").map(|a| a.limits.max_bytes_required),
        Some(true)
    );
    assert_eq!(
        account_js("{ max_streams: -1, max_consumers: 0 }").map(|a| a.limits),
        Some(AccountJsLimits {
            max_consumers: 0,
            ..AccountJsLimits::default()
        })
    );
}

#[test]
fn account_errors_use_reference_texts() {
    assert_eq!(
        account_errors("maybe"),
        ["t.conf:3:5: Expected 'enabled' or 'disabled' for string value, got 'maybe'"]
    );
    assert_eq!(
        account_errors("5"),
        ["t.conf:3:5: Expected map, bool or string to define JetStream, got int64"]
    );
    assert_eq!(
        account_errors("{ max_mem: \"1G\" }"),
        ["t.conf:3:18: Expected a parseable size for \"max_mem\", got 1G"]
    );
    assert_eq!(
        account_errors("{ Max_Streams: 1.5 }"),
        ["t.conf:3:18: Expected a parseable size for \"Max_Streams\", got 1.5"]
    );
    assert_eq!(
        account_errors("{ max_bytes_required: 1 }"),
        ["t.conf:3:18: Expected a parseable bool for \"max_bytes_required\", got 1"]
    );
    assert_eq!(
        account_errors("{ bogus: 1 }"),
        ["t.conf:3:18: unknown field \"bogus\""]
    );
    assert_eq!(
        account_errors("{ cluster_traffic: bogus }"),
        ["t.conf:3:18: Expected 'system' or 'owner' string value for \"cluster_traffic\", got bogus"]
    );
    assert_eq!(
        account_errors("{ cluster_traffic: 5 }"),
        [
            "t.conf:3:18: Expected either 'system' or 'owner' string value for \
             \"cluster_traffic\", got 5"
        ]
    );
    // `js` is no account key in nats-server.
    assert_eq!(
        errors("accounts {\n  A: {\n    js: enabled\n  }\n}"),
        ["t.conf:3:5: unknown field \"js\""]
    );
}

#[test]
fn account_cluster_traffic_warns() {
    for value in ["system", "owner", "\"\""] {
        assert_eq!(
            warnings(&format!(
                "accounts {{\n  A: {{\n    jetstream: {{ cluster_traffic: {value} }}\n  }}\n}}"
            )),
            ["t.conf:3:18: accounts.A.jetstream.cluster_traffic is not supported yet"],
            "{value}"
        );
    }
    assert_eq!(
        account_js("{ cluster_traffic: owner, max_streams: 2 }").map(|a| a.limits.max_streams),
        Some(2)
    );
}

#[test]
fn default_js_domain() {
    let o = opts(
        "accounts { A: {}, B: { jetstream: enabled } }\n\
         default_js_domain: { A: hub, B: \"\", $G: leaf }",
    );
    assert_eq!(
        o.default_js_domain,
        BTreeMap::from([
            ("A".to_string(), "hub".to_string()),
            ("B".to_string(), String::new()),
            ("$G".to_string(), "leaf".to_string()),
        ])
    );
    assert!(warnings("accounts { A: {} }\ndefault_js_domain { A: hub }").is_empty());
    let o = opts(&format!(
        "operator: \"eyJ0eXAi.eyJqdGki.c2ln\"\ndefault_js_domain {{ {ACCOUNT_KEY}: hub }}"
    ));
    assert_eq!(
        o.default_js_domain.get(ACCOUNT_KEY).map(String::as_str),
        Some("hub")
    );
}

#[test]
fn default_js_domain_errors() {
    assert_eq!(
        errors("default_js_domain: hub"),
        ["t.conf:1:1: error default_js_domain config: unsupported type string"]
    );
    assert_eq!(
        errors("accounts { A: {} }\ndefault_js_domain {\n  A: 5\n}"),
        ["t.conf:3:3: interface conversion: interface {} is int64, not string"]
    );
    assert_eq!(
        errors("default_js_domain {\n  NOPE: hub\n}"),
        [
            "t.conf:2:3: in non operator mode, `default_js_domain` references non existing \
             account \"NOPE\""
        ]
    );
    assert_eq!(
        errors("accounts { A: { jetstream: enabled } }\ndefault_js_domain {\n  A: hub\n}"),
        ["t.conf:3:3: default_js_domain contains account name \"A\" with enabled JetStream"]
    );
    assert_eq!(
        errors("accounts { SYS: {} }\nsystem_account: SYS\ndefault_js_domain {\n  SYS: hub\n}"),
        ["t.conf:4:3: system account \"SYS\" can not be in default_js_domain"]
    );
    assert_eq!(
        errors("accounts { $SYS: {} }\ndefault_js_domain {\n  $SYS: hub\n}"),
        ["t.conf:3:3: system account \"$SYS\" can not be in default_js_domain"]
    );
    assert_eq!(
        errors("accounts { A: {} }\ndefault_js_domain {\n  A: \"a b\"\n}"),
        ["t.conf:3:3: default_js_domain contains account \"A\" with invalid domain name \"a b\""]
    );
    assert_eq!(
        errors("operator: \"eyJ0eXAi.eyJqdGki.c2ln\"\ndefault_js_domain {\n  A: hub\n}"),
        [
            "t.conf:3:3: default_js_domain contains account name \"A\", which is not a valid \
             public account nkey"
        ]
    );
}

#[test]
fn clustered_jetstream_needs_a_server_and_a_cluster_name() {
    assert_eq!(
        errors("jetstream: enabled\ncluster { port: 6222, name: C }"),
        ["t.conf:1:1: jetstream cluster requires `server_name` to be set"]
    );
    assert_eq!(
        errors("server_name: s1\ncluster { port: 6222 }\njetstream {}"),
        ["t.conf:3:1: jetstream cluster requires `cluster.name` to be set"]
    );
    // The gateway's name is the cluster's.
    assert!(opts(
        "server_name: s1\ncluster { port: 6222 }\ngateway { name: G, port: 7222 }\njetstream {}"
    )
    .jetstream
    .is_some());
    assert!(
        opts("server_name: s1\ncluster { port: 6222, name: C }\njetstream {}")
            .jetstream
            .is_some()
    );
    // No cluster listener, or no JetStream: nothing required.
    assert!(opts("cluster { name: C }\njetstream {}")
        .jetstream
        .is_some());
    assert_eq!(
        opts("cluster { port: 6222 }\njetstream: disabled").jetstream,
        None
    );
}
