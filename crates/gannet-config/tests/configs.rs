//! Loads the sample files in `tests/configs/` from disk: includes relative to
//! the including file, variables, the environment, JSON includes, both BOSH
//! layouts (the fork's `certificate_clients` and upstream `verify_and_map`
//! with a JSON users file), accounts with a system account, JetStream (an
//! included block, account limits, a default domain), several errors at
//! once and include cycles.
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;

use gannet_config::options::{
    AccountJsLimits, CertificateClient, Permissions, SubjectPermission, SyncPolicy,
};
use gannet_config::{load_file, ConfigErrors, Loaded};

fn config(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs")
        .join(name)
}

/// Sets the environment variable `main.conf` reads, once for all tests.
fn set_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::env::set_var("GANNET_TEST_CLIENT_PORT", "4333"));
}

fn load(name: &str) -> Result<Loaded, ConfigErrors> {
    set_env();
    load_file(&config(name))
}

#[test]
fn main_conf_with_includes_variables_and_environment() {
    let loaded = load("main.conf").unwrap_or_else(|e| panic!("{e}"));
    let o = &loaded.options;
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(
        o.config_file.as_deref(),
        Some(config("main.conf").as_path())
    );
    assert_eq!(o.server_name.as_deref(), Some("gannet-1"));
    assert_eq!(o.host, "127.0.0.1");
    assert_eq!(o.port, 4333, "from GANNET_TEST_CLIENT_PORT");
    assert_eq!(o.max_payload, 2 << 20);
    assert_eq!(
        o.max_pending,
        64 << 20,
        "variable defined in the included file"
    );
    assert_eq!(o.max_control_line, 8 << 10);
    assert_eq!(o.max_connections, 1000);
    assert_eq!(o.max_subscriptions, 100);
    assert_eq!(o.ping_max, 3);
    assert_eq!(o.ping_interval, Duration::from_secs(30));
    assert_eq!(o.write_deadline, Duration::from_secs(5));
    assert!(o.debug && !o.trace && o.logtime);
    assert_eq!(
        (o.http_host.as_deref(), o.http_port),
        (Some("127.0.0.1"), Some(8222)),
        "from sub/monitoring.conf, included by sub/limits.conf"
    );
    assert_eq!(o.log_file, Some(PathBuf::from("logs/gannet.log")));
    assert_eq!(o.pid_file, Some(PathBuf::from("gannet.pid")));
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn allow(items: &[&str]) -> Option<SubjectPermission> {
    Some(SubjectPermission {
        allow: Some(strings(items)),
        deny: None,
    })
}

#[test]
fn bosh_seed_conf_fork_layout_with_certificate_clients() {
    let loaded = load("bosh-seed.conf").unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let o = &loaded.options;
    assert_eq!((o.host.as_str(), o.port), ("0.0.0.0", 4222));
    assert_eq!(o.ping_interval, Duration::from_secs(5));
    assert_eq!(o.ping_max, 2);
    assert_eq!(o.max_payload, 1 << 20);
    assert_eq!(
        o.auth_timeout,
        Duration::from_secs(30),
        "authorization.timeout"
    );

    let tls = o.tls.as_ref().unwrap_or_else(|| panic!("no tls"));
    assert_eq!(
        tls.cert_file,
        PathBuf::from("/var/vcap/jobs/nats/config/nats_server_certificate.pem")
    );
    assert_eq!(
        tls.key_file,
        PathBuf::from("/var/vcap/jobs/nats/config/nats_server_private_key")
    );
    assert_eq!(
        tls.ca_file.as_deref(),
        Some(Path::new("/var/vcap/jobs/nats/config/nats_client_ca.pem"))
    );
    assert!(tls.verify && !tls.verify_and_map);
    assert!(tls.enable_cert_authorization && tls.allow_legacy_clients);
    assert_eq!(tls.timeout, Duration::from_secs(30));

    let auth = o
        .authorization
        .as_ref()
        .unwrap_or_else(|| panic!("no auth"));
    assert_eq!(auth.user.as_deref(), Some("nats"));
    assert_eq!(auth.password.as_deref(), Some("nats-password"));
    assert!(auth.users.is_empty() && auth.nkeys.is_empty());
    assert_eq!(auth.timeout, Some(Duration::from_secs(30)));
    assert_eq!(
        auth.certificate_clients,
        [
            CertificateClient {
                client_name: "director.bosh-internal".into(),
                permissions: Some(Permissions {
                    publish: allow(&["agent.*", "hm.director.alert"]),
                    subscribe: allow(&["director.>"]),
                    allow_responses: None,
                }),
            },
            CertificateClient {
                client_name: "agent.bosh-internal".into(),
                permissions: Some(Permissions {
                    // `_CLIENT_ID` is kept verbatim: the server substitutes it.
                    publish: allow(&[
                        "hm.agent.heartbeat._CLIENT_ID",
                        "hm.agent.alert._CLIENT_ID",
                        "hm.agent.shutdown._CLIENT_ID",
                        "director.*._CLIENT_ID.*",
                    ]),
                    subscribe: allow(&["agent._CLIENT_ID"]),
                    allow_responses: None,
                }),
            },
            CertificateClient {
                client_name: "hm.bosh-internal".into(),
                permissions: Some(Permissions {
                    // Given empty, not absent: for certificate clients it denies all.
                    publish: allow(&[]),
                    subscribe: allow(&[
                        "hm.agent.heartbeat.*",
                        "hm.agent.alert.*",
                        "hm.agent.shutdown.*",
                        "hm.director.alert",
                    ]),
                    allow_responses: None,
                }),
            },
        ]
    );
}

#[test]
fn bosh_upstream_conf_with_included_json_users() {
    let loaded = load("bosh-upstream.conf").unwrap_or_else(|e| panic!("{e}"));
    let o = &loaded.options;
    assert_eq!(o.port, 4222);
    assert_eq!(o.http_port, Some(8222));
    assert_eq!(o.ping_interval, Duration::from_secs(5));
    assert_eq!(o.write_deadline, Duration::from_secs(2));

    let tls = o.tls.as_ref().unwrap_or_else(|| panic!("no tls"));
    assert!(tls.verify_and_map && tls.verify);
    assert!(!tls.enable_cert_authorization);
    assert_eq!(tls.timeout, Duration::from_secs(30));
    assert_eq!(o.auth_timeout, Duration::from_secs(31), "tls.timeout + 1 s");

    // auth.json's `authorization` replaced the inline one wholesale.
    let auth = o
        .authorization
        .as_ref()
        .unwrap_or_else(|| panic!("no auth"));
    let names: Vec<&str> = auth.users.iter().map(|u| u.username.as_str()).collect();
    let agent = "0e2a7f3c-1111-4b8e-9d2a-5f5e5e5e5e5e";
    assert_eq!(
        names,
        [
            "C=USA, O=Cloud Foundry, CN=default.director.bosh-internal".to_string(),
            "C=USA, O=Cloud Foundry, CN=default.hm.bosh-internal".to_string(),
            format!("C=USA, O=Cloud Foundry, CN={agent}.bootstrap.agent.bosh-internal"),
            format!("C=USA, O=Cloud Foundry, CN={agent}.agent.bosh-internal"),
        ]
    );
    assert!(auth.users.iter().all(|u| u.password.is_none()));
    assert!(auth.certificate_clients.is_empty() && auth.timeout.is_none());

    let hm = auth.users[1].permissions.as_ref();
    assert_eq!(
        hm.and_then(|p| p.publish.clone()),
        allow(&[]),
        "HM publish: [] stays Some(vec![])"
    );
    let agent_perms = auth.users[3].permissions.as_ref();
    assert_eq!(
        agent_perms.and_then(|p| p.publish.clone()),
        allow(&[
            &format!("hm.agent.heartbeat.{agent}"),
            &format!("hm.agent.alert.{agent}"),
            &format!("hm.agent.shutdown.{agent}"),
            &format!("director.*.{agent}.*"),
        ])
    );
    assert_eq!(
        agent_perms.and_then(|p| p.subscribe.clone()),
        allow(&[&format!("agent.{agent}")])
    );

    let file = config("bosh-upstream.conf").display().to_string();
    let json = config("auth.json").display().to_string();
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            format!(
                "{file}:24:1: invalid use of field \"ping_interval\": ping_interval should be \
                 converted to a duration"
            ),
            // Upstream reads the HM's empty list as "no restriction".
            format!(
                "{json}:5:20: user \"C=USA, O=Cloud Foundry, CN=default.hm.bosh-internal\": \
                 empty publish allow list means no restriction (not deny-all)"
            ),
        ]
    );
}

#[test]
fn accounts_conf_with_a_system_account() {
    let loaded = load("accounts.conf").unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let o = &loaded.options;
    assert_eq!(o.server_name.as_deref(), Some("gannet-ref"));
    assert_eq!(o.http_port, Some(18250));
    let accounts: Vec<(&str, Vec<&str>)> = o
        .accounts
        .iter()
        .map(|a| {
            let users = a.users.iter().map(|u| u.username.as_str()).collect();
            (a.name.as_str(), users)
        })
        .collect();
    assert_eq!(accounts, [("USERS", vec!["a"]), ("SYS", vec!["admin"])]);
    assert_eq!(o.accounts[1].users[0].password.as_deref(), Some("changeit"));
    assert_eq!(o.system_account.as_deref(), Some("SYS"));
    assert!(!o.no_system_account);
    assert!(o.authorization.is_none());
}

#[test]
fn jetstream_conf_with_an_included_block_and_account_limits() {
    let loaded = load("jetstream.conf").unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let o = &loaded.options;
    let js = o
        .jetstream
        .as_ref()
        .unwrap_or_else(|| panic!("JetStream off"));
    assert_eq!(js.store_dir, Some(PathBuf::from("/var/lib/gannet")));
    assert_eq!(o.store_dir, Some(PathBuf::from("/var/lib/gannet")));
    assert_eq!(js.max_memory, Some(1 << 30));
    assert_eq!(js.max_file, Some(100 << 30));
    assert_eq!(js.sync, SyncPolicy::Always);
    assert_eq!(js.domain.as_deref(), Some("hub"));
    assert_eq!(js.limits.max_ack_pending, Some(10_000));
    assert_eq!(js.limits.duplicate_window, Some(Duration::from_secs(120)));
    let account = |name: &str| {
        o.accounts
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no account {name}"))
            .jetstream
    };
    let app = account("APP").unwrap_or_else(|| panic!("APP has no JetStream"));
    assert!(app.enabled);
    assert_eq!(
        app.limits,
        AccountJsLimits {
            max_memory: 512 << 20,
            max_store: 10 << 30,
            max_streams: 20,
            max_consumers: 200,
            max_bytes_required: true,
            ..AccountJsLimits::default()
        }
    );
    let ops = account("OPS").unwrap_or_else(|| panic!("OPS has no JetStream"));
    assert!(ops.enabled);
    assert_eq!(ops.limits, AccountJsLimits::default());
    assert_eq!(account("LEAF"), None);
    assert_eq!(
        o.default_js_domain.get("LEAF").map(String::as_str),
        Some("hub")
    );
}

#[test]
fn jetstream_errors_conf_reports_every_error_with_its_position() {
    let errors = match load("jetstream-errors.conf") {
        Ok(l) => panic!("loaded: {:?}", l.options.jetstream),
        Err(ConfigErrors(errors)) => errors,
    };
    let file = config("jetstream-errors.conf").display().to_string();
    let got: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            format!("{file}:3:3: max_mem_store strconv.ParseInt: parsing \"1G\": invalid syntax"),
            format!(
                "{file}:4:3: JetStream encryption (\"key\") is not supported: Gannet would \
                 store the data unencrypted"
            ),
            format!("{file}:5:3: error parsing sync_interval: time: invalid duration \"soon\""),
            format!("{file}:8:30: Expected a parseable size for \"max_streams\", got ten"),
            format!("{file}:7:1: Duplicate 'store_dir' configuration"),
        ]
    );
}

#[test]
fn errors_conf_reports_every_error_with_its_position() {
    let errors = match load("errors.conf") {
        Ok(l) => panic!("loaded: {:?}", l.options),
        Err(ConfigErrors(errors)) => errors,
    };
    let file = config("errors.conf").display().to_string();
    let got: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            format!(
                "{file}:1:1: invalid type for field \"port\": interface conversion: \
                 interface {{}} is string, not int64"
            ),
            format!(
                "{file}:2:1: invalid type for field \"debug\": interface conversion: \
                 interface {{}} is int64, not bool"
            ),
            format!("{file}:5:1: unknown field \"unused\""),
            format!("{file}:6:1: unknown field \"bogus_key\""),
            format!("{file}:7:1: server name cannot contain spaces"),
            format!("{file}:3:1: max_payload (1048576) cannot be higher than max_pending (1000)"),
        ]
    );
}

#[test]
fn include_cycles_are_detected() {
    let errors = match load("cycle_a.conf") {
        Ok(_) => panic!("a cycle loaded"),
        Err(ConfigErrors(errors)) => errors,
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.file, config("cycle_b.conf").display().to_string());
    assert_eq!((e.line, e.column), (2, 1));
    assert!(
        e.message
            .starts_with("error parsing include file 'cycle_a.conf', include cycle: "),
        "{}",
        e.message
    );
}
