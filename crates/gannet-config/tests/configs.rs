//! Loads the sample files in `tests/configs/` from disk: includes relative to
//! the including file, variables, the environment, JSON includes, warnings
//! for features not built yet, several errors at once and include cycles.
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;

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

#[test]
fn bosh_conf_loads_with_warnings() {
    let loaded = load("bosh.conf").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.options.port, 4222);
    assert_eq!(loaded.options.http_port, Some(8222));
    assert_eq!(loaded.options.ping_interval, Duration::from_secs(5));
    let file = config("bosh.conf").display().to_string();
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            format!(
                "{file}:6:1: invalid use of field \"ping_interval\": ping_interval should be \
                 converted to a duration"
            ),
            // The later `authorization` (from auth.json) replaced the first.
            format!(
                "{}:1:2: authorization is not supported yet",
                config("auth.json").display()
            ),
            format!("{file}:27:1: tls is not supported yet"),
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
