//! Top-level keys nats-server knows but Gannet does not implement yet.
//! They are accepted with a warning (`tls is not supported yet`) so that
//! existing configs still start, and never silently ignored. Their values
//! are kept ([`NotImplemented`]), so that a reload refuses a change to one
//! nats-server cannot reload either.
use std::collections::BTreeMap;

use super::convert::go_value;
use crate::conf::Value;

/// Lower-case names, aliases included (names from nats-server 2.15's
/// `processConfigFileLine`).
pub const UNSUPPORTED_KEYS: &[&str] = &[
    // Security.
    "ocsp",
    "ocsp_cache",
    // Multi-tenancy and decentralized auth.
    "resolver_tls",
    "resolver_pinned_accounts",
    // Other listeners.
    "websocket",
    "ws",
    "mqtt",
    "connect_error_reports",
    "reconnect_error_reports",
    "server_tags",
    "server_metadata",
    "proxies",
    "proxy_protocol",
    // Profiling and experiments.
    "prof_port",
    "prof_block_rate",
    "feature_flags",
];

/// The values of the unimplemented keys a config sets, by lower-case name
/// (`ws` under `websocket`). Equal when they say the same things, in any
/// order and wherever they were written.
#[derive(Debug, Clone, Default)]
pub struct NotImplemented(BTreeMap<String, Value>);

impl PartialEq for NotImplemented {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .keys()
                .all(|k| self.rendered(k, &[]) == other.rendered(k, &[]))
    }
}

impl NotImplemented {
    pub(crate) fn insert(&mut self, key: &str, value: Value) {
        let key = key.to_ascii_lowercase();
        let key = if key == "ws" { "websocket".into() } else { key };
        self.0.insert(key, value);
    }

    /// `key`'s value as Go's `%v` prints it (a block as `map[k:v ...]`,
    /// keys sorted), without the block's keys named in `except`; `None`
    /// when the config does not set it.
    pub fn rendered(&self, key: &str, except: &[&str]) -> Option<String> {
        let value = self.0.get(key)?;
        let Some(map) = value.as_map() else {
            return Some(go_value(value));
        };
        let mut pairs: Vec<String> = map
            .iter()
            .filter(|e| !except.iter().any(|x| e.key.eq_ignore_ascii_case(x)))
            .map(|e| format!("{}:{}", e.key, go_value(&e.value)))
            .collect();
        pairs.sort();
        Some(format!("map[{}]", pairs.join(" ")))
    }
}

/// True if `key` (any case) is a known but unimplemented nats-server key.
pub(crate) fn is_unsupported(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    UNSUPPORTED_KEYS.contains(&key.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_and_unique() {
        for (i, k) in UNSUPPORTED_KEYS.iter().enumerate() {
            assert_eq!(*k, k.to_ascii_lowercase());
            assert!(!UNSUPPORTED_KEYS[i + 1..].contains(k), "{k} twice");
        }
    }

    #[test]
    fn lookup_ignores_case() {
        assert!(is_unsupported("OCSP"));
        assert!(is_unsupported("WebSocket"));
        assert!(!is_unsupported("LeafNodes"));
        assert!(!is_unsupported("GateWay"));
        assert!(!is_unsupported("port"));
    }
}
