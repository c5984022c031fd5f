//! INFO and `/varz` carry every field nats-server 2.15 sends, in its order:
//! Gannet and the reference run side by side with the same config, and the keys
//! of their INFO lines (read over raw TCP) and `/varz` bodies are compared.
//! Values may differ; the build facts Gannet fills in its own way (`go`,
//! `git_commit`, `api_lvl`, `xkey`) are checked for their shape.
//!
//! The reference is `$GANNET_REFERENCE_SERVER`, else
//! `~/.cache/gannet-refs/bin/nats-server` (scripts/install-reference.sh installs
//! it). Without it Gannet is compared with the keys recorded from it below,
//! which the live comparison also checks are still what it sends.
use std::path::Path;
use std::process::Command;

use gannet_server::info::{GIT_COMMIT, GO_VERSION, JS_API_LEVEL};
use gannet_test::certs::{tls_block, Pki};
use gannet_test::reference::SEED_CONFIG;
use gannet_test::ServerProcess;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

/// Every INFO field the reference sends a client, in the order it sends them
/// (its `Info` struct's order), as captured from nats-server 2.15.0.
const REFERENCE_INFO_ORDER: &[&str] = &[
    "server_id",
    "server_name",
    "version",
    "proto",
    "git_commit",
    "go",
    "host",
    "port",
    "headers",
    "auth_required",
    "tls_required",
    "tls_verify",
    "tls_available",
    "max_payload",
    "client_id",
    "client_ip",
    "nonce",
    "connect_info",
    "remote_account",
    "api_lvl",
    "xkey",
];

/// The fields of [`REFERENCE_INFO_ORDER`] the reference sends only in some
/// cases; each case below names those it saw.
const OPTIONAL: &[&str] = &[
    "auth_required",
    "tls_required",
    "tls_verify",
    "tls_available",
    "nonce",
    "connect_info",
    "remote_account",
];

/// The first `/varz` fields of the reference, up to `host`: its build facts
/// (`git_commit`, `go`) sit between `proto` and `host`.
const REFERENCE_VARZ_HEAD: &[&str] = &[
    "server_id",
    "server_name",
    "version",
    "proto",
    "git_commit",
    "go",
    "host",
];

/// The INFO keys the reference sent in a case with these optional fields.
fn recorded_info_keys(optional: &[&str]) -> Vec<String> {
    for key in optional {
        assert!(
            OPTIONAL.contains(key),
            "{key} is not an optional INFO field"
        );
    }
    REFERENCE_INFO_ORDER
        .iter()
        .filter(|k| !OPTIONAL.contains(k) || optional.contains(k))
        .map(|k| k.to_string())
        .collect()
}

/// The keys of a JSON object, in document order (serde_json's `preserve_order`
/// is on for this crate's tests; the recorded lists are not sorted, so a sorted
/// map would fail the comparisons).
fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// The reference's keys as Gannet should send them: `git_commit` is left out
/// by both servers when unknown, and Gannet's is unknown when it was not built
/// from a git checkout.
fn as_gannet_sends(mut reference: Vec<String>) -> Vec<String> {
    if GIT_COMMIT.is_empty() {
        reference.retain(|k| k != "git_commit");
    }
    reference
}

/// One way of configuring both servers, and the INFO it makes them send.
struct Case<'a> {
    name: &'a str,
    config: Option<String>,
    /// The optional fields the reference's INFO had in this case.
    optional: &'a [&'a str],
    /// Read the INFO that answers a verbose CONNECT (`connect_info`) instead
    /// of the one sent on connect.
    after_connect: bool,
}

/// The INFO JSON `binary` sends in `case`.
fn info_of(binary: &str, case: &Case) -> Value {
    let server = ServerProcess::start_with_config(binary, case.config.as_deref(), &[]);
    let mut c = server.raw();
    if !case.after_connect {
        return c.info_json();
    }
    c.send(b"CONNECT {\"verbose\":true,\"protocol\":1}\r\nPING\r\n");
    c.expect(b"+OK\r\nPONG\r\n");
    let line = c.read_line();
    let body = line
        .strip_prefix("INFO ")
        .unwrap_or_else(|| panic!("{}: not an INFO line: {line:?}", case.name));
    serde_json::from_str(body.trim_end())
        .unwrap_or_else(|e| panic!("{}: INFO JSON {line:?}: {e}", case.name))
}

/// Gannet's INFO keys equal the reference's, in order, in `case`; returns
/// Gannet's INFO and, when the reference is here, its INFO.
fn compare_info(case: &Case) -> (Value, Option<Value>) {
    let gannet = info_of(BIN, case);
    let recorded = recorded_info_keys(case.optional);
    let reference = gannet_test::reference_server_binary().map(|bin| info_of(&bin, case));
    match &reference {
        Some(live) => {
            assert_eq!(
                keys(&gannet),
                as_gannet_sends(keys(live)),
                "{}: INFO keys differ from the reference's\n gannet:    {gannet}\n reference: {live}",
                case.name
            );
            assert_eq!(
                keys(live),
                recorded,
                "{}: the reference no longer sends the keys recorded here: {live}",
                case.name
            );
        }
        None => {
            eprintln!(
                "{}: no reference nats-server; comparing with its recorded INFO keys",
                case.name
            );
            assert_eq!(
                keys(&gannet),
                as_gannet_sends(recorded),
                "{}: INFO keys differ from the reference's (recorded)\n gannet: {gannet}",
                case.name
            );
        }
    }
    (gannet, reference)
}

#[test]
fn info_has_the_reference_keys_in_its_order_without_auth() {
    compare_info(&Case {
        name: "plain",
        config: None,
        optional: &[],
        after_connect: false,
    });
}

#[test]
fn info_has_the_reference_keys_in_its_order_with_auth() {
    compare_info(&Case {
        name: "user and password",
        config: Some("authorization { user: a, password: b }\n".into()),
        optional: &["auth_required"],
        after_connect: false,
    });
    // nkey users: a nonce to sign, between client_ip and api_lvl.
    let user = nkeys::KeyPair::new_user().public_key();
    compare_info(&Case {
        name: "nkey users",
        config: Some(format!(
            "authorization {{ users: [ {{ nkey: {user} }} ] }}\n"
        )),
        optional: &["auth_required", "nonce"],
        after_connect: false,
    });
}

#[test]
fn info_has_the_reference_keys_in_its_order_with_a_system_account() {
    compare_info(&Case {
        name: "system account",
        config: Some(SEED_CONFIG.into()),
        optional: &["auth_required"],
        after_connect: false,
    });
}

#[test]
fn info_has_the_reference_keys_in_its_order_with_tls() {
    let pki = Pki::temp();
    compare_info(&Case {
        name: "tls",
        config: Some(tls_block(&pki.server, pki.ca_str(), "")),
        optional: &["tls_required"],
        after_connect: false,
    });
    compare_info(&Case {
        name: "tls verify",
        config: Some(tls_block(&pki.server, pki.ca_str(), "verify: true")),
        optional: &["tls_required", "tls_verify"],
        after_connect: false,
    });
    compare_info(&Case {
        name: "tls allow_non_tls",
        config: Some(tls_block(&pki.server, pki.ca_str(), "") + "allow_non_tls: true\n"),
        optional: &["tls_available"],
        after_connect: false,
    });
    // All at once: auth, TLS and a system account.
    compare_info(&Case {
        name: "tls, auth and system account",
        config: Some(tls_block(&pki.server, pki.ca_str(), "") + SEED_CONFIG),
        optional: &["auth_required", "tls_required"],
        after_connect: false,
    });
}

#[test]
fn info_answering_a_verbose_connect_has_the_reference_keys_in_its_order() {
    compare_info(&Case {
        name: "connect_info",
        config: None,
        optional: &["connect_info", "remote_account"],
        after_connect: true,
    });
}

/// Runs `git args...` in this crate's folder; its trimmed output on success.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// HEAD's commit shortened as the reference shortens it, when these sources are
/// a git checkout of Gannet (the build script's test: its Cargo.toml tracked).
fn checkout_commit() -> Option<String> {
    git(&["ls-files", "--error-unmatch", "Cargo.toml"])?;
    Some(git(&["rev-parse", "HEAD"])?.chars().take(7).collect())
}

/// `X...`, 56 characters, decoding as an nkey curve public key.
fn assert_xkey(xkey: &Value, whose: &str) {
    let text = xkey
        .as_str()
        .unwrap_or_else(|| panic!("{whose} xkey: {xkey}"));
    assert!(
        text.starts_with('X') && text.len() == 56,
        "{whose} xkey: {text}"
    );
    nkeys::XKey::from_public_key(text)
        .unwrap_or_else(|e| panic!("{whose} xkey {text} is not a curve public key: {e}"));
}

#[test]
fn build_facts_and_xkey_have_the_reference_shapes() {
    let (gannet, reference) = compare_info(&Case {
        name: "plain",
        config: None,
        optional: &[],
        after_connect: false,
    });

    // go: the Rust toolchain, `rust<major>.<minor>.<patch>[-channel]`.
    assert_eq!(gannet["go"], GO_VERSION, "{gannet}");
    let version = GO_VERSION
        .strip_prefix("rust")
        .unwrap_or_else(|| panic!("go: {GO_VERSION}"));
    let numbers: Vec<&str> = version.split('-').next().unwrap_or("").split('.').collect();
    assert!(
        numbers.len() == 3 && numbers.iter().all(|n| n.parse::<u32>().is_ok()),
        "go: {GO_VERSION}"
    );

    // git_commit: the checkout's commit, 7 hex digits; absent when unknown.
    match checkout_commit() {
        Some(commit) => {
            assert_eq!(GIT_COMMIT, commit, "built from another commit than HEAD");
            assert_eq!(gannet["git_commit"], commit, "{gannet}");
        }
        None => assert!(gannet.get("git_commit").is_none(), "{gannet}"),
    }

    // api_lvl: the reference's level, sent with JetStream off.
    assert_eq!(gannet["api_lvl"], JS_API_LEVEL, "{gannet}");
    assert_eq!(JS_API_LEVEL, 5);
    assert!(gannet.get("jetstream").is_none(), "{gannet}");

    // xkey: a curve key per server run, the same for every client of one run.
    assert_xkey(&gannet["xkey"], "gannet");
    let server = ServerProcess::start(BIN, &[]);
    let first = server.raw().info_json()["xkey"].clone();
    let second = server.raw().info_json()["xkey"].clone();
    assert_xkey(&first, "gannet");
    assert_eq!(first, second, "one server, one xkey");
    assert_ne!(first, gannet["xkey"], "each server run has its own xkey");

    if let Some(reference) = reference {
        assert_eq!(reference["api_lvl"], gannet["api_lvl"], "{reference}");
        assert_xkey(&reference["xkey"], "the reference's");
        assert!(
            reference["go"]
                .as_str()
                .is_some_and(|go| go.starts_with("go")),
            "{reference}"
        );
    }
}

/// The `/varz` body of `binary` with monitoring on and `config`.
fn varz_of(binary: &str, config: &str) -> Value {
    let server = ServerProcess::start_with_config(binary, Some(config), &["-m", "-1"]);
    let (code, body) = server.http_get("/varz");
    assert_eq!(code, 200, "{binary} /varz: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{binary} /varz: {e}: {body}"))
}

/// The keys of `/varz` up to and including `host`.
fn varz_head(v: &Value) -> Vec<String> {
    let keys = keys(v);
    let end = keys
        .iter()
        .position(|k| k == "host")
        .unwrap_or_else(|| panic!("/varz without host: {v}"));
    keys[..=end].to_vec()
}

#[test]
fn varz_has_the_build_facts_where_the_reference_has_them() {
    let gannet = varz_of(BIN, SEED_CONFIG);
    assert_eq!(gannet["go"], GO_VERSION, "{gannet}");
    if GIT_COMMIT.is_empty() {
        assert!(gannet.get("git_commit").is_none(), "{gannet}");
    } else {
        assert_eq!(gannet["git_commit"], GIT_COMMIT, "{gannet}");
    }
    let recorded: Vec<String> = REFERENCE_VARZ_HEAD.iter().map(|k| k.to_string()).collect();
    match gannet_test::reference_server_binary() {
        Some(bin) => {
            let reference = varz_of(&bin, SEED_CONFIG);
            assert_eq!(
                varz_head(&gannet),
                as_gannet_sends(varz_head(&reference)),
                "/varz keys up to host differ from the reference's"
            );
            assert_eq!(
                varz_head(&reference),
                recorded,
                "the reference's /varz no longer starts as recorded here"
            );
        }
        None => {
            eprintln!("no reference nats-server; comparing /varz with its recorded keys");
            assert_eq!(varz_head(&gannet), as_gannet_sends(recorded));
        }
    }
}
