//! What each top-level config key does to [`Options`], and the checks that
//! look at several options together (nats-server's `processConfigFileLine`
//! and `validateOptions`).
use std::path::PathBuf;
use std::time::Duration;

use super::convert::Report;
use super::security_checks::SecurityMarks;
use super::unsupported::is_unsupported;
use super::{accounts, auth, cluster, gateway, jetstream, leafnodes, operator, tls};
use super::{
    idle_spin_from_nanos, Options, WriteTimeoutPolicy, DEFAULT_HOST, DEFAULT_MAX_CONTROL_LINE,
    DEFAULT_MAX_PAYLOAD, DEFAULT_MAX_PENDING, DEFAULT_PING_INTERVAL, DEFAULT_PING_MAX,
    DEFAULT_WRITE_DEADLINE, MIN_LAME_DUCK_DURATION,
};
use crate::conf::{self, format_go_duration, Entry, Map};

/// Applies one top-level entry. Keys compare case-insensitively. Unknown
/// keys are errors unless some `$reference` used them as a variable.
/// `marks` records where security keys were written, for
/// [`super::security_checks`].
pub(crate) fn apply(o: &mut Options, entry: &Entry, r: &mut Report, marks: &mut SecurityMarks) {
    let key = entry.key.to_ascii_lowercase();
    match key.as_str() {
        "listen" => {
            if let Some((host, port)) = r.host_port(entry) {
                if let Some(host) = host {
                    o.host = non_empty(host).unwrap_or_else(|| DEFAULT_HOST.to_string());
                }
                o.port = port;
            }
        }
        "host" | "net" => {
            if let Some(h) = r.string(entry) {
                o.host = h.to_string();
            }
        }
        "port" => {
            if let Some(p) = r.port(entry) {
                o.port = p;
            }
        }
        "server_name" => {
            if let Some(name) = r.string(entry) {
                if name.contains(' ') {
                    r.error(entry, "server name cannot contain spaces");
                } else {
                    o.server_name = non_empty(name.to_string());
                }
            }
        }
        "client_advertise" => {
            if let Some(s) = r.string(entry) {
                o.client_advertise = non_empty(s.to_string());
            }
        }
        "max_payload" => {
            if let Some(n) = r.count_i32(entry) {
                o.max_payload = or_default(n, DEFAULT_MAX_PAYLOAD);
            }
        }
        "max_control_line" => {
            if let Some(n) = r.count_i32(entry) {
                o.max_control_line = or_default(n, DEFAULT_MAX_CONTROL_LINE);
            }
        }
        "max_pending" => {
            if let Some(n) = r.count(entry) {
                o.max_pending = or_default(n, DEFAULT_MAX_PENDING);
            }
        }
        "max_connections" | "max_conn" => {
            if let Some(n) = r.int(entry) {
                o.max_connections = usize::try_from(n).unwrap_or(0);
            }
        }
        "max_subscriptions" | "max_subs" => {
            if let Some(n) = r.int(entry) {
                o.max_subscriptions = usize::try_from(n).unwrap_or(0);
            }
        }
        "max_sub_tokens" | "max_subscription_tokens" => {
            if let Some(n) = r.int(entry) {
                match u8::try_from(n) {
                    Ok(0) => r.error(entry, format!("{} value can not be negative", entry.key)),
                    Ok(t) => o.max_subscription_tokens = t,
                    Err(_) if n < 0 => {
                        r.error(entry, format!("{} value can not be negative", entry.key));
                    }
                    Err(_) => r.error(entry, format!("{} value is too big", entry.key)),
                }
            }
        }
        "ping_interval" => {
            if let Some(d) = r.duration_or_seconds(entry) {
                o.ping_interval = or_default(d, DEFAULT_PING_INTERVAL);
            }
        }
        "ping_max" => {
            if let Some(n) = r.int(entry) {
                match u32::try_from(n) {
                    Ok(0) => o.ping_max = DEFAULT_PING_MAX,
                    Ok(n) => o.ping_max = n,
                    Err(_) if n < 0 => {
                        r.error(entry, format!("{} value can not be negative", entry.key));
                    }
                    Err(_) => r.error(entry, format!("{} value is too big", entry.key)),
                }
            }
        }
        "write_deadline" => {
            if let Some(d) = r.duration_or_seconds(entry) {
                o.write_deadline = or_default(d, DEFAULT_WRITE_DEADLINE);
            }
        }
        "idle_spin" => {
            if let Some(nanos) = r.duration_string(entry) {
                match idle_spin_from_nanos(nanos) {
                    Ok(d) => o.idle_spin = d,
                    Err(reason) => r.error(entry, format!("idle_spin {reason}")),
                }
            }
        }
        "write_timeout" => {
            if let Some(s) = r.string(entry) {
                o.write_timeout = match s {
                    "default" => WriteTimeoutPolicy::Default,
                    "close" => WriteTimeoutPolicy::Close,
                    "retry" => WriteTimeoutPolicy::Retry,
                    _ => {
                        r.error(entry, "write_timeout must be 'default', 'close' or 'retry'");
                        return;
                    }
                };
            }
        }
        "debug" => set_bool(&mut o.debug, entry, r),
        "trace" => set_bool(&mut o.trace, entry, r),
        "trace_verbose" => {
            if let Some(b) = r.bool(entry) {
                o.trace_verbose = b;
                o.trace = b;
            }
        }
        "trace_headers" => {
            if let Some(b) = r.bool(entry) {
                o.trace_headers = b;
                o.trace = b;
            }
        }
        "logtime" => set_bool(&mut o.logtime, entry, r),
        "logtime_utc" => set_bool(&mut o.logtime_utc, entry, r),
        "log_format" => {
            if let Some(text) = r.string(entry) {
                match super::LogFormat::parse(text) {
                    Some(format) => o.log_format = format,
                    None => r.error(
                        entry,
                        format!("log_format must be \"text\" or \"json\", not {text:?}"),
                    ),
                }
            }
        }
        "logfile" | "log_file" => set_path(&mut o.log_file, entry, r),
        "logfile_size_limit" | "log_size_limit" => {
            if let Some(n) = r.count(entry) {
                o.log_size_limit = n as u64;
            }
        }
        "logfile_max_num" | "log_max_num" => {
            if let Some(n) = r.count(entry) {
                o.log_max_files = n as u64;
            }
        }
        "syslog" => set_bool(&mut o.syslog, entry, r),
        "remote_syslog" => {
            if let Some(s) = r.string(entry) {
                o.remote_syslog = non_empty(s.to_string());
            }
        }
        "max_traced_msg_len" => {
            if let Some(n) = r.count(entry) {
                o.max_traced_msg_len = n;
            }
        }
        "pidfile" | "pid_file" => set_path(&mut o.pid_file, entry, r),
        "ports_file_dir" => set_path(&mut o.ports_file_dir, entry, r),
        "http" => {
            if let Some((host, port)) = r.host_port(entry) {
                if host.is_some() {
                    o.http_host = host.and_then(non_empty);
                }
                o.http_port = monitor_port(port);
            }
        }
        "https" => {
            if let Some((host, port)) = r.host_port(entry) {
                if host.is_some() {
                    o.http_host = host.and_then(non_empty);
                }
                o.https_port = monitor_port(port);
            }
        }
        "http_port" | "monitor_port" => {
            if let Some(p) = r.port(entry) {
                o.http_port = monitor_port(p);
            }
        }
        "https_port" => {
            if let Some(p) = r.port(entry) {
                o.https_port = monitor_port(p);
            }
        }
        "http_base_path" => {
            if let Some(s) = r.string(entry) {
                o.http_base_path = s.to_string();
            }
        }
        "lame_duck_duration" => {
            if let Some(nanos) = r.duration_string(entry) {
                match conf::nanos_to_duration(nanos) {
                    Some(d) if d >= MIN_LAME_DUCK_DURATION => o.lame_duck_duration = d,
                    _ => {
                        let shown = match conf::nanos_to_duration(nanos) {
                            Some(d) => format_go_duration(d),
                            None => format!(
                                "-{}",
                                format_go_duration(Duration::from_nanos(nanos.unsigned_abs()))
                            ),
                        };
                        r.error(
                            entry,
                            format!("invalid lame_duck_duration of {shown}, minimum is 30 seconds"),
                        );
                    }
                }
            }
        }
        "lame_duck_grace_period" => {
            if let Some(nanos) = r.duration_string(entry) {
                match conf::nanos_to_duration(nanos) {
                    Some(d) => o.lame_duck_grace_period = d,
                    None => r.error(
                        entry,
                        "invalid lame_duck_grace_period, needs to be positive",
                    ),
                }
            }
        }
        "no_header_support" => set_bool(&mut o.no_header_support, entry, r),
        "max_closed_clients" => {
            if let Some(n) = r.count(entry) {
                o.max_closed_clients = n;
            }
        }
        "disable_sublist_cache" | "no_sublist_cache" => {
            set_bool(&mut o.disable_sublist_cache, entry, r)
        }
        "no_fast_producer_stall" => set_bool(&mut o.no_fast_producer_stall, entry, r),
        "tls" => o.tls = tls::parse(entry, r, &mut marks.tls),
        "authorization" => o.authorization = auth::parse(entry, r, &mut marks.auth),
        "no_auth_user" => {
            if let Some(name) = r.string(entry) {
                o.no_auth_user = non_empty(name.to_string());
                marks.no_auth_user = Some(entry.key_pos.clone());
            }
        }
        "allow_non_tls" => set_bool(&mut o.allow_non_tls, entry, r),
        "accounts" => o.accounts = accounts::parse(entry, r, &mut marks.accounts),
        "mappings" | "maps" => o.mappings = super::mappings::parse(entry, r),
        "system_account" | "system" => match entry.value.as_str() {
            Some(name) => {
                o.system_account = non_empty(name.to_string());
                marks.system_account = Some(entry.key_pos.clone());
            }
            None => r.error(entry, "system account name must be a string"),
        },
        "no_system_account" | "no_system" | "no_sys_acc" => {
            set_bool(&mut o.no_system_account, entry, r)
        }
        "cluster" => o.cluster = cluster::parse(entry, r),
        "leafnodes" | "leaf" => o.leafnodes = leafnodes::parse(entry, r),
        "gateway" => o.gateway = gateway::parse(entry, r),
        "jetstream" => o.jetstream = jetstream::parse(entry, r),
        "store_dir" | "storedir" => set_path(&mut o.store_dir, entry, r),
        "default_js_domain" => o.default_js_domain = jetstream::parse_default_domain(entry, r),
        "operator" | "operators" | "roots" | "root" | "root_operators" | "root_operator" => {
            operator::parse_operators(o, entry, r)
        }
        "resolver" | "account_resolver" | "accounts_resolver" => {
            operator::parse_resolver(o, entry, r)
        }
        "resolver_preload" => operator::parse_preload(o, entry, r),
        "trusted" | "trusted_keys" => operator::parse_trusted(o, entry, r),
        "default_sentinel" => {
            if let Some(jwt) = r.string(entry) {
                o.default_sentinel = non_empty(jwt.to_string());
            }
            r.warn(
                entry,
                "default_sentinel is checked but not used: auth callout is not supported yet",
            );
        }
        _ if is_unsupported(&key) => {
            o.not_implemented.insert(&key, entry.value.clone());
            r.warn(entry, format!("{} is not supported yet", entry.key));
        }
        _ if entry.used_as_variable => {}
        _ => r.error(entry, format!("unknown field \"{}\"", entry.key)),
    }
}

/// Checks that involve more than one key.
pub(crate) fn validate(o: &Options, map: &Map, r: &mut Report) {
    cluster::validate(o, map, r);
    leafnodes::validate(o, map, r);
    if o.max_payload > o.max_pending {
        let at = map
            .get_ignore_case("max_payload")
            .or_else(|| map.get_ignore_case("max_pending"));
        if let Some(entry) = at {
            r.error(
                entry,
                format!(
                    "max_payload ({}) cannot be higher than max_pending ({})",
                    o.max_payload, o.max_pending
                ),
            );
        }
    }
    if o.lame_duck_grace_period >= o.lame_duck_duration {
        let at = map
            .get_ignore_case("lame_duck_grace_period")
            .or_else(|| map.get_ignore_case("lame_duck_duration"));
        if let Some(entry) = at {
            r.error(
                entry,
                format!(
                    "lame duck grace period ({}) should be strictly lower than lame duck duration ({})",
                    format_go_duration(o.lame_duck_grace_period),
                    format_go_duration(o.lame_duck_duration)
                ),
            );
        }
    }
}

/// A monitoring port: 0 is no monitoring listener, as in nats-server
/// (nats-release writes `http: "0.0.0.0:0"` to turn monitoring off).
fn monitor_port(port: i32) -> Option<i32> {
    (port != 0).then_some(port)
}

fn set_bool(field: &mut bool, entry: &Entry, r: &mut Report) {
    if let Some(b) = r.bool(entry) {
        *field = b;
    }
}

fn set_path(field: &mut Option<PathBuf>, entry: &Entry, r: &mut Report) {
    if let Some(s) = r.string(entry) {
        *field = non_empty(s.to_string()).map(PathBuf::from);
    }
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

/// Zero in the file means "use the default", as in nats-server.
fn or_default<T: Default + PartialEq>(value: T, default: T) -> T {
    if value == T::default() {
        default
    } else {
        value
    }
}
