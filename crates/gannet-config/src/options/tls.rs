//! The `tls { }` block into [`TlsOptions`] (nats-server's `parseTLS` in
//! `opts.go`, plus the BOSH fork's `enable_cert_authorization` and
//! `allow_legacy_clients`). Error texts are nats-server's.
//!
//! Keys rustls decides for itself (`cipher_suites`, `curve_preferences`,
//! `insecure`) are checked for shape and then ignored with a warning; keys
//! of features not built yet (`ocsp_peer`, `cert_store`, ...) warn "not
//! supported yet". The files are not opened here: the server's TLS setup
//! reports unreadable certificates.
//!
//! Differences from nats-server: a block without `cert_file`/`key_file`
//! (even an empty `tls {}`) is an error (except a leaf node remote's, where
//! the certificate is optional), and a negative `timeout` is an error
//! instead of a handshake that always times out.
use std::path::PathBuf;
use std::time::Duration;

use super::convert::{go_float, go_value, Report};
use super::security::{DEFAULT_HANDSHAKE_FIRST_FALLBACK, DEFAULT_TLS_TIMEOUT};
use super::TlsOptions;
use crate::conf::{self, DurationError, Entry, Kind, Pos, Value};

/// Where the TLS keys the cross-block checks care about were written.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsMarks {
    /// The `tls` key itself.
    pub block: Option<Pos>,
    pub enable_cert_authorization: Option<Pos>,
    pub allow_legacy_clients: Option<Pos>,
    /// False when the block had errors (cross-block checks then stay quiet).
    pub clean: bool,
}

/// Keys that belong to features Gannet does not have yet.
const NOT_SUPPORTED: &[&str] = &[
    "ocsp_peer",
    "cert_store",
    "cert_match",
    "cert_match_by",
    "cert_match_skip_invalid",
    "ca_certs_match",
    "certs",
    "certificates",
    "connection_rate_limit",
    "allow_insecure_cipher_suites",
];

/// Where a `tls { }` block sits: keys that only make sense for connections
/// the server makes itself are treated differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsContext {
    /// The top-level block, for clients.
    Client,
    /// `cluster { tls { } }`, for routes (dialed and accepted).
    Route,
    /// `gateway { tls { } }` and a remote gateway's `tls { }`, for gateway
    /// connections (dialed and accepted; a remote's block only dials).
    Gateway,
    /// `leafnodes { tls { } }`, for the leaf node listener (accepted only).
    Leaf,
    /// `leafnodes { remotes: [ { tls { } } ] }`, for a hub this server
    /// dials: the certificate is optional (both files or neither), as a
    /// client's is.
    LeafRemote,
}

/// Reads the `tls` entry. `None` when it is unusable (errors recorded).
pub(crate) fn parse(entry: &Entry, r: &mut Report, marks: &mut TlsMarks) -> Option<TlsOptions> {
    parse_in(entry, r, marks, TlsContext::Client).map(|(tls, _)| tls)
}

/// [`parse`] for a block in `context`; also returns
/// `verify_cert_and_check_known_urls`, which only a route or gateway block
/// may set.
/// In [`TlsContext::LeafRemote`] a block without `cert_file` and `key_file`
/// gives empty paths (no client certificate).
pub(crate) fn parse_in(
    entry: &Entry,
    r: &mut Report,
    marks: &mut TlsMarks,
    context: TlsContext,
) -> Option<(TlsOptions, bool)> {
    *marks = TlsMarks {
        block: Some(entry.key_pos.clone()),
        ..TlsMarks::default()
    };
    let errors_before = r.errors.len();
    let map = r.map(entry)?;
    let mut cert_file = None;
    let mut key_file = None;
    let mut tls = TlsOptions::new("", "");
    let mut check_known_urls = false;
    for e in map {
        let key = e.key.to_ascii_lowercase();
        match key.as_str() {
            "cert_file" => cert_file = file(e, r),
            "key_file" => key_file = file(e, r),
            "ca_file" => tls.ca_file = file(e, r),
            "verify" => set_flag(&mut tls.verify, e, r),
            "verify_and_map" => set_flag(&mut tls.verify_and_map, e, r),
            "enable_cert_authorization" => {
                set_flag(&mut tls.enable_cert_authorization, e, r);
                marks.enable_cert_authorization = Some(e.key_pos.clone());
            }
            "allow_legacy_clients" => {
                set_flag(&mut tls.allow_legacy_clients, e, r);
                marks.allow_legacy_clients = Some(e.key_pos.clone());
            }
            "timeout" => {
                if let Some(t) = timeout(e, "tls", r) {
                    tls.timeout = t.unwrap_or(DEFAULT_TLS_TIMEOUT);
                }
            }
            "handshake_first" | "first" | "immediate" => {
                if let Some(h) = handshake_first(e, r) {
                    tls.handshake_first = h;
                }
            }
            "min_version" => {
                if let Some(v) = min_version(e, r) {
                    tls.min_version = Some(v);
                }
            }
            "pinned_certs" => tls.pinned_certs = pinned_certs(e, r),
            "cipher_suites" | "curve_preferences" => {
                if non_empty_list(e, r) {
                    let what = if key == "cipher_suites" {
                        "cipher suites"
                    } else {
                        "key exchange groups"
                    };
                    r.warn(
                        e,
                        format!("tls.{} is ignored: rustls chooses its own {what}", e.key),
                    );
                }
            }
            "insecure" => {
                let mut b = false;
                set_flag(&mut b, e, r);
                if b && matches!(context, TlsContext::Client | TlsContext::Leaf) {
                    r.warn(
                        e,
                        "tls.insecure is ignored: it only affects connections this server makes",
                    );
                } else if b {
                    r.warn(e, "tls.insecure is not supported yet");
                }
            }
            "verify_cert_and_check_known_urls" => {
                let mut b = false;
                set_flag(&mut b, e, r);
                if b && !matches!(context, TlsContext::Route | TlsContext::Gateway) {
                    r.error(
                        e,
                        "verify_cert_and_check_known_urls not supported in this context",
                    );
                }
                check_known_urls = b;
            }
            k if NOT_SUPPORTED.contains(&k) => {
                r.warn(e, format!("tls.{} is not supported yet", e.key));
            }
            _ => r.error(
                e,
                format!("error parsing tls config, unknown field {:?}", e.key),
            ),
        }
    }
    tls.verify |= tls.verify_and_map;
    match (cert_file, key_file) {
        (Some(cert), Some(key)) => {
            tls.cert_file = cert;
            tls.key_file = key;
        }
        (None, None) if context == TlsContext::LeafRemote => {}
        (None, _) => r.error(entry, "missing 'cert_file' in TLS configuration"),
        (_, None) => r.error(entry, "missing 'key_file' in TLS configuration"),
    }
    marks.clean = r.errors.len() == errors_before;
    marks.clean.then_some((tls, check_known_urls))
}

fn file(e: &Entry, r: &mut Report) -> Option<PathBuf> {
    match e.value.as_str() {
        Some("") => None,
        Some(s) => Some(PathBuf::from(s)),
        None => {
            r.error(
                e,
                format!(
                    "error parsing tls config, expected '{}' to be filename",
                    e.key.to_ascii_lowercase()
                ),
            );
            None
        }
    }
}

fn set_flag(field: &mut bool, e: &Entry, r: &mut Report) {
    match e.value.as_bool() {
        Some(b) => *field = b,
        None => r.error(
            e,
            format!(
                "error parsing tls config, expected '{}' to be a boolean",
                e.key.to_ascii_lowercase()
            ),
        ),
    }
}

/// Why a `timeout` value was refused.
#[derive(Debug)]
pub(crate) enum TimeoutError {
    WrongType,
    Duration(DurationError),
    Negative,
    TooLarge,
}

/// A timeout in seconds (integer or float) or a Go duration string;
/// `Ok(None)` for zero (= the default).
pub(crate) fn timeout_value(value: &Value) -> Result<Option<Duration>, TimeoutError> {
    let secs = match &value.kind {
        Kind::Integer(n) => *n as f64,
        Kind::Float(f) => *f,
        Kind::String(s) | Kind::Duration { text: s, .. } => {
            let nanos = conf::parse_go_duration(s).map_err(TimeoutError::Duration)?;
            nanos as f64 / 1e9
        }
        _ => return Err(TimeoutError::WrongType),
    };
    if secs < 0.0 {
        return Err(TimeoutError::Negative);
    }
    if secs == 0.0 {
        return Ok(None);
    }
    Duration::try_from_secs_f64(secs)
        .map(Some)
        .map_err(|_| TimeoutError::TooLarge)
}

/// Reads `timeout` in the `block` (`tls`, `authorization`), with that
/// block's wording; `Some(None)` = zero = the default.
pub(crate) fn timeout(e: &Entry, block: &str, r: &mut Report) -> Option<Option<Duration>> {
    let prefix = format!("error parsing {block} config, 'timeout'");
    match timeout_value(&e.value) {
        Ok(t) => Some(t),
        Err(err) => {
            let message = match err {
                TimeoutError::WrongType => format!("{prefix} wrong type"),
                TimeoutError::Duration(d) => format!("{prefix} {d}"),
                TimeoutError::Negative => format!("{prefix} can not be negative"),
                TimeoutError::TooLarge => format!("{prefix} is too large"),
            };
            r.error(e, message);
            None
        }
    }
}

/// `handshake_first`: a bool, `"true"`/`"on"`/`"false"`/`"off"`,
/// `"auto"`/`"auto_fallback"` (TLS first, INFO after 50 ms of silence), or a
/// duration (that fallback delay; zero or negative = no fallback).
fn handshake_first(e: &Entry, r: &mut Report) -> Option<Option<Option<Duration>>> {
    let text = match &e.value.kind {
        Kind::Bool(true) => return Some(Some(None)),
        Kind::Bool(false) => return Some(None),
        Kind::String(s) | Kind::Duration { text: s, .. } => s,
        other => {
            r.error(
                e,
                format!(
                    "field {:?} should be a boolean or a string, got {}",
                    e.key,
                    other.go_type_name()
                ),
            );
            return None;
        }
    };
    match text.to_ascii_lowercase().as_str() {
        "true" | "on" => Some(Some(None)),
        "false" | "off" => Some(None),
        "auto" | "auto_fallback" => Some(Some(Some(DEFAULT_HANDSHAKE_FIRST_FALLBACK))),
        _ => match conf::parse_go_duration(text) {
            Ok(nanos) if nanos > 0 => Some(Some(conf::nanos_to_duration(nanos))),
            Ok(_) => Some(Some(None)),
            Err(_) => {
                r.error(e, format!("field {:?}'s value {text:?} is invalid", e.key));
                None
            }
        },
    }
}

/// `min_version`: `"1.2"` or `"1.3"`.
fn min_version(e: &Entry, r: &mut Report) -> Option<String> {
    let prefix = "error parsing tls config:";
    let Some(text) = e.value.as_str() else {
        let shown = match e.value.kind {
            Kind::Float(f) => go_float(f),
            _ => go_value(&e.value),
        };
        r.error(e, format!("{prefix} 'min_version' wrong type: {shown}"));
        return None;
    };
    match text {
        "1.2" | "1.3" => Some(text.to_string()),
        "1.0" | "1.1" => {
            r.error(e, format!("{prefix} unsupported TLS version: TLS {text}"));
            None
        }
        _ => {
            r.error(e, format!("{prefix} unknown version: {text}"));
            None
        }
    }
}

/// `pinned_certs`: hex SHA-256 values, stored lower-case.
fn pinned_certs(e: &Entry, r: &mut Report) -> Vec<String> {
    let Some(items) = e.value.as_array() else {
        r.error(
            e,
            "error parsing tls config, expected 'pinned_certs' to be a list of hex-encoded \
             sha256 of DER encoded SubjectPublicKeyInfo",
        );
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let text = item.as_str().map(str::to_ascii_lowercase);
        match text {
            Some(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
            _ => r.error_at(
                &item.pos,
                format!(
                    "error parsing tls config, 'pinned_certs' key {} does not look like \
                     hex-encoded sha256 of DER encoded SubjectPublicKeyInfo",
                    text.unwrap_or_else(|| go_value(item))
                ),
            ),
        }
    }
    out
}

/// `cipher_suites`/`curve_preferences` must still be non-empty lists.
fn non_empty_list(e: &Entry, r: &mut Report) -> bool {
    match e.value.as_array() {
        None => {
            r.wrong_type(e, "[]interface {}");
            false
        }
        Some([]) => {
            r.error(
                e,
                format!(
                    "error parsing tls config, '{}' cannot be empty",
                    e.key.to_ascii_lowercase()
                ),
            );
            false
        }
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::parse_str;
    use std::path::Path;

    const BASE: &str = "cert_file: c.pem, key_file: k.pem";

    fn run(body: &str) -> (Option<TlsOptions>, Vec<String>, Vec<String>, TlsMarks) {
        let map = parse_str(&format!("tls {{ {body} }}"), Path::new("t.conf"))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let entry = map.get("tls").cloned();
        let entry = entry.unwrap_or_else(|| panic!("no tls"));
        let mut r = Report::default();
        let mut marks = TlsMarks::default();
        let tls = parse(&entry, &mut r, &mut marks);
        let errors = r.errors.iter().map(|e| e.message.clone()).collect();
        let warnings = r.warnings.iter().map(|e| e.message.clone()).collect();
        (tls, errors, warnings, marks)
    }

    fn ok(extra: &str) -> TlsOptions {
        match run(&format!("{BASE}, {extra}")) {
            (Some(t), e, _, _) if e.is_empty() => t,
            other => panic!("{extra}: {other:?}"),
        }
    }

    fn error(extra: &str) -> String {
        let (tls, errors, _, _) = run(&format!("{BASE}, {extra}"));
        assert_eq!(tls, None);
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.into_iter().next().unwrap_or_default()
    }

    fn warnings(extra: &str) -> Vec<String> {
        let (tls, errors, warnings, _) = run(&format!("{BASE}, {extra}"));
        assert!(tls.is_some() && errors.is_empty(), "{errors:?}");
        warnings
    }

    #[test]
    fn minimal_block_gets_defaults() {
        let t = ok("");
        assert_eq!(t, TlsOptions::new("c.pem", "k.pem"));
        assert_eq!(t.timeout, Duration::from_secs(2));
        assert!(!t.verify && !t.verify_and_map && t.handshake_first.is_none());
    }

    #[test]
    fn files_and_flags() {
        let t = ok("ca_file: \"/etc/ca.pem\", verify: true");
        assert_eq!(t.ca_file, Some(PathBuf::from("/etc/ca.pem")));
        assert!(t.verify && !t.verify_and_map);
        let t = ok("verify_and_map: true");
        assert!(
            t.verify && t.verify_and_map,
            "verify_and_map implies verify"
        );
        let t = ok("VERIFY: true, Enable_Cert_Authorization: true, allow_legacy_clients: true");
        assert!(t.verify && t.enable_cert_authorization && t.allow_legacy_clients);
    }

    #[test]
    fn cert_and_key_are_required() {
        let (tls, errors, _, marks) = run("key_file: k.pem");
        assert_eq!(tls, None);
        assert_eq!(errors, ["missing 'cert_file' in TLS configuration"]);
        assert!(!marks.clean);
        let (_, errors, _, _) = run("cert_file: c.pem");
        assert_eq!(errors, ["missing 'key_file' in TLS configuration"]);
        let (_, errors, _, _) = run("");
        assert_eq!(errors, ["missing 'cert_file' in TLS configuration"]);
        let (_, errors, _, _) = run("cert_file: \"\", key_file: k.pem");
        assert_eq!(errors, ["missing 'cert_file' in TLS configuration"]);
    }

    #[test]
    fn wrong_types_use_the_reference_texts() {
        assert_eq!(
            error("ca_file: 5"),
            "error parsing tls config, expected 'ca_file' to be filename"
        );
        assert_eq!(
            error("verify: yes_please"),
            "error parsing tls config, expected 'verify' to be a boolean"
        );
        assert_eq!(
            error("verify_and_map: 1"),
            "error parsing tls config, expected 'verify_and_map' to be a boolean"
        );
        assert_eq!(
            error("enable_cert_authorization: \"true\""),
            "error parsing tls config, expected 'enable_cert_authorization' to be a boolean"
        );
        assert_eq!(
            error("allow_legacy_clients: 0"),
            "error parsing tls config, expected 'allow_legacy_clients' to be a boolean"
        );
        assert_eq!(
            error("insecure: zzz"),
            "error parsing tls config, expected 'insecure' to be a boolean"
        );
    }

    #[test]
    fn timeout_takes_seconds_or_durations() {
        assert_eq!(ok("timeout: 30").timeout, Duration::from_secs(30));
        assert_eq!(ok("timeout: 0.5").timeout, Duration::from_millis(500));
        assert_eq!(ok("timeout: \"3s\"").timeout, Duration::from_secs(3));
        assert_eq!(ok("timeout: \"1m30s\"").timeout, Duration::from_secs(90));
        assert_eq!(ok("timeout: 2s").timeout, Duration::from_secs(2));
        assert_eq!(ok("timeout: 0").timeout, DEFAULT_TLS_TIMEOUT);
        assert_eq!(
            error("timeout: \"abc\""),
            "error parsing tls config, 'timeout' time: invalid duration \"abc\""
        );
        assert_eq!(
            error("timeout: true"),
            "error parsing tls config, 'timeout' wrong type"
        );
        assert_eq!(
            error("timeout: -1"),
            "error parsing tls config, 'timeout' can not be negative"
        );
        assert_eq!(
            error("timeout: \"-1s\""),
            "error parsing tls config, 'timeout' can not be negative"
        );
    }

    #[test]
    fn handshake_first_forms() {
        assert_eq!(ok("handshake_first: true").handshake_first, Some(None));
        assert_eq!(ok("handshake_first: false").handshake_first, None);
        assert_eq!(ok("first: \"on\"").handshake_first, Some(None));
        assert_eq!(ok("immediate: \"OFF\"").handshake_first, None);
        let auto = Some(Some(Duration::from_millis(50)));
        assert_eq!(ok("handshake_first: \"auto\"").handshake_first, auto);
        assert_eq!(ok("handshake_first: AUTO_FALLBACK").handshake_first, auto);
        assert_eq!(
            ok("handshake_first: 300ms").handshake_first,
            Some(Some(Duration::from_millis(300)))
        );
        assert_eq!(ok("handshake_first: \"0s\"").handshake_first, Some(None));
        assert_eq!(ok("handshake_first: \"-1s\"").handshake_first, Some(None));
        assert_eq!(
            error("handshake_first: \"abc\""),
            "field \"handshake_first\"'s value \"abc\" is invalid"
        );
        assert_eq!(
            error("handshake_first: 5"),
            "field \"handshake_first\" should be a boolean or a string, got int64"
        );
        assert_eq!(
            error("first: 1.5"),
            "field \"first\" should be a boolean or a string, got float64"
        );
    }

    #[test]
    fn min_version() {
        assert_eq!(
            ok("min_version: \"1.2\"").min_version.as_deref(),
            Some("1.2")
        );
        assert_eq!(
            ok("min_version: \"1.3\"").min_version.as_deref(),
            Some("1.3")
        );
        assert_eq!(
            error("min_version: \"1.1\""),
            "error parsing tls config: unsupported TLS version: TLS 1.1"
        );
        assert_eq!(
            error("min_version: \"1.0\""),
            "error parsing tls config: unsupported TLS version: TLS 1.0"
        );
        assert_eq!(
            error("min_version: \"TLS 1.2\""),
            "error parsing tls config: unknown version: TLS 1.2"
        );
        assert_eq!(
            error("min_version: 1.2"),
            "error parsing tls config: 'min_version' wrong type: 1.2"
        );
    }

    #[test]
    fn pinned_certs() {
        let upper = "A".repeat(64);
        let t = ok(&format!(
            "pinned_certs: [\"{upper}\", \"{}\"]",
            "0".repeat(64)
        ));
        assert_eq!(t.pinned_certs, ["a".repeat(64), "0".repeat(64)]);
        assert!(ok("pinned_certs: []").pinned_certs.is_empty());
        assert_eq!(
            error("pinned_certs: [abc]"),
            "error parsing tls config, 'pinned_certs' key abc does not look like hex-encoded \
             sha256 of DER encoded SubjectPublicKeyInfo"
        );
        assert_eq!(
            error("pinned_certs: zzz"),
            "error parsing tls config, expected 'pinned_certs' to be a list of hex-encoded \
             sha256 of DER encoded SubjectPublicKeyInfo"
        );
    }

    #[test]
    fn keys_rustls_decides_warn_that_they_are_ignored() {
        assert_eq!(
            warnings("cipher_suites: [TLS_AES_128_GCM_SHA256], curve_preferences: [X25519], insecure: true"),
            [
                "tls.cipher_suites is ignored: rustls chooses its own cipher suites",
                "tls.curve_preferences is ignored: rustls chooses its own key exchange groups",
                "tls.insecure is ignored: it only affects connections this server makes",
            ]
        );
        assert!(warnings("insecure: false").is_empty());
        assert_eq!(
            error("cipher_suites: []"),
            "error parsing tls config, 'cipher_suites' cannot be empty"
        );
        assert_eq!(
            error("curve_preferences: X25519"),
            "invalid type for field \"curve_preferences\": interface conversion: \
             interface {} is string, not []interface {}"
        );
    }

    #[test]
    fn features_not_built_yet_warn() {
        let w = warnings(
            "ocsp_peer: true, cert_store: WindowsCurrentUser, cert_match: x, cert_match_by: Subject, \
             cert_match_skip_invalid: true, ca_certs_match: [x], connection_rate_limit: 5, \
             allow_insecure_cipher_suites: true",
        );
        assert_eq!(
            w,
            [
                "tls.ocsp_peer is not supported yet",
                "tls.cert_store is not supported yet",
                "tls.cert_match is not supported yet",
                "tls.cert_match_by is not supported yet",
                "tls.cert_match_skip_invalid is not supported yet",
                "tls.ca_certs_match is not supported yet",
                "tls.connection_rate_limit is not supported yet",
                "tls.allow_insecure_cipher_suites is not supported yet",
            ]
        );
        assert!(warnings("verify_cert_and_check_known_urls: false").is_empty());
        assert_eq!(
            error("verify_cert_and_check_known_urls: true"),
            "verify_cert_and_check_known_urls not supported in this context"
        );
    }

    #[test]
    fn unknown_keys_are_errors_even_when_used_as_variables() {
        assert_eq!(
            error("x: 1"),
            "error parsing tls config, unknown field \"x\""
        );
        // nats-server does not exempt variables inside `tls`.
        assert_eq!(
            error("T = 5, timeout: $T"),
            "error parsing tls config, unknown field \"T\""
        );
    }

    #[test]
    fn marks_remember_fork_keys() {
        let (_, _, _, marks) = run(&format!(
            "{BASE}\n enable_cert_authorization: true\n allow_legacy_clients: false"
        ));
        assert!(marks.clean);
        assert_eq!(marks.block.map(|p| p.line), Some(1));
        assert_eq!(marks.enable_cert_authorization.map(|p| p.line), Some(2));
        assert_eq!(marks.allow_legacy_clients.map(|p| p.line), Some(3));
    }
}
