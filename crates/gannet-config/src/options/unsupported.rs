//! Top-level keys nats-server knows but Gannet does not implement yet.
//! They are accepted with a warning (`tls is not supported yet`) so that
//! existing configs still start, and never silently ignored.

/// Lower-case names, aliases included (names from nats-server 2.15's
/// `processConfigFileLine`).
pub const UNSUPPORTED_KEYS: &[&str] = &[
    // Security.
    "ocsp",
    "ocsp_cache",
    // Multi-tenancy and decentralized auth.
    "resolver_tls",
    "resolver_pinned_accounts",
    "default_sentinel",
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
