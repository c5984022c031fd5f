//! Typed reads of config values for the options layer: each reader either
//! returns the value or records an error (or warning) against the key's
//! position. Texts follow nats-server's where it has one.
use std::time::Duration;

use super::ConfigError;
use crate::conf::{self, Entry, Kind, Map, Pos, Value};

/// Errors and warnings gathered while applying a file.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub errors: Vec<ConfigError>,
    pub warnings: Vec<ConfigError>,
}

impl Report {
    pub fn error(&mut self, entry: &Entry, message: impl Into<String>) {
        self.errors.push(ConfigError::at(&entry.key_pos, message));
    }

    pub fn warn(&mut self, entry: &Entry, message: impl Into<String>) {
        self.warnings.push(ConfigError::at(&entry.key_pos, message));
    }

    /// An error about something other than a key (an array element, say).
    pub fn error_at(&mut self, pos: &Pos, message: impl Into<String>) {
        self.errors.push(ConfigError::at(pos, message));
    }

    pub fn warn_at(&mut self, pos: &Pos, message: impl Into<String>) {
        self.warnings.push(ConfigError::at(pos, message));
    }

    /// The value has the wrong type: names the key, the type found and the
    /// type wanted, the latter two in nats-server's wording.
    pub fn wrong_type(&mut self, entry: &Entry, want: &str) {
        let message = format!(
            "invalid type for field \"{}\": interface conversion: interface {{}} is {}, not {want}",
            entry.key,
            entry.value.kind.go_type_name()
        );
        self.error(entry, message);
    }

    pub fn int(&mut self, entry: &Entry) -> Option<i64> {
        let v = entry.value.as_i64();
        if v.is_none() {
            self.wrong_type(entry, "int64");
        }
        v
    }

    pub fn string<'e>(&mut self, entry: &'e Entry) -> Option<&'e str> {
        let v = entry.value.as_str();
        if v.is_none() {
            self.wrong_type(entry, "string");
        }
        v
    }

    pub fn bool(&mut self, entry: &Entry) -> Option<bool> {
        let v = entry.value.as_bool();
        if v.is_none() {
            self.wrong_type(entry, "bool");
        }
        v
    }

    /// A block such as `tls { }`.
    pub fn map<'e>(&mut self, entry: &'e Entry) -> Option<&'e Map> {
        let v = entry.value.as_map();
        if v.is_none() {
            self.wrong_type(entry, "map[string]interface {}");
        }
        v
    }

    /// A non-negative integer as a `usize`; `<key> value can not be negative`
    /// otherwise.
    pub fn count(&mut self, entry: &Entry) -> Option<usize> {
        let n = self.int(entry)?;
        match usize::try_from(n) {
            Ok(n) => Some(n),
            Err(_) if n < 0 => {
                self.error(entry, format!("{} value can not be negative", entry.key));
                None
            }
            Err(_) => {
                self.error(entry, format!("{} value is too big", entry.key));
                None
            }
        }
    }

    /// A count that must also fit in an `i32` (nats-server keeps these as int32).
    pub fn count_i32(&mut self, entry: &Entry) -> Option<usize> {
        let n = self.count(entry)?;
        if n > i32::MAX as usize {
            self.error(entry, format!("{} value is too big", entry.key));
            return None;
        }
        Some(n)
    }

    /// A port number: -1 (random) to 65535.
    pub fn port(&mut self, entry: &Entry) -> Option<i32> {
        let n = self.int(entry)?;
        self.check_port(entry, n)
    }

    fn check_port(&mut self, entry: &Entry, n: i64) -> Option<i32> {
        match i32::try_from(n) {
            Ok(p) if (-1..=65535).contains(&p) => Some(p),
            _ => {
                self.error(
                    entry,
                    format!(
                        "invalid port {n} for \"{}\", must be -1 (random) to 65535",
                        entry.key
                    ),
                );
                None
            }
        }
    }

    /// A Go duration given as a string (quoted or an unquoted word like `5s`).
    pub fn duration_string(&mut self, entry: &Entry) -> Option<i64> {
        let text = self.string(entry)?;
        match conf::parse_go_duration(text) {
            Ok(nanos) => Some(nanos),
            Err(e) => {
                let name = entry.key.to_ascii_lowercase();
                self.error(entry, format!("error parsing {name}: {e}"));
                None
            }
        }
    }

    /// A duration for options that once took a number of seconds
    /// (`ping_interval`, `write_deadline`): a string is a Go duration; an
    /// integer still means seconds, with a warning to convert it.
    pub fn duration_or_seconds(&mut self, entry: &Entry) -> Option<Duration> {
        self.duration_or_seconds_as(entry, &entry.key.to_ascii_lowercase())
    }

    /// [`Report::duration_or_seconds`] with the messages naming `name`
    /// instead of the key (nats-server names `reconnect` for all its aliases).
    pub fn duration_or_seconds_as(&mut self, entry: &Entry, name: &str) -> Option<Duration> {
        let nanos = match &entry.value.kind {
            Kind::Integer(secs) => {
                self.legacy_seconds_warning(entry, name);
                secs.checked_mul(1_000_000_000)
            }
            Kind::Float(_) => {
                self.legacy_seconds_warning(entry, name);
                self.wrong_type(entry, "int64");
                return None;
            }
            _ => {
                let text = self.string(entry)?;
                match conf::parse_go_duration(text) {
                    Ok(nanos) => Some(nanos),
                    Err(e) => {
                        self.error(entry, format!("error parsing {name}: {e}"));
                        return None;
                    }
                }
            }
        };
        match nanos.and_then(conf::nanos_to_duration) {
            Some(d) => Some(d),
            None => {
                self.error(entry, format!("{name} can not be negative"));
                None
            }
        }
    }

    fn legacy_seconds_warning(&mut self, entry: &Entry, name: &str) {
        let message =
            format!("invalid use of field \"{name}\": {name} should be converted to a duration");
        self.warn(entry, message);
    }

    /// `host:port` (string) or a bare port (integer). The host is `None` for
    /// a bare port and `Some("")` for `:port`.
    pub fn host_port(&mut self, entry: &Entry) -> Option<(Option<String>, i32)> {
        match &entry.value.kind {
            Kind::Integer(n) => Some((None, self.check_port(entry, *n)?)),
            Kind::String(s) | Kind::Duration { text: s, .. } => match split_host_port(s) {
                Ok((host, port)) => match parse_port(port) {
                    Some(n) => Some((Some(host.to_string()), self.check_port(entry, n)?)),
                    None => {
                        self.error(entry, format!("could not parse port {port:?}"));
                        None
                    }
                },
                Err(()) => {
                    self.error(entry, format!("could not parse address string {s:?}"));
                    None
                }
            },
            other => {
                let message = format!("expected port or host:port, got {}", other.go_type_name());
                self.error(entry, message);
                None
            }
        }
    }
}

/// A value the way Go's `%v` prints it, for messages that quote what was
/// found (`Expected users field to be an array, got 5`).
pub(crate) fn go_value(value: &Value) -> String {
    match &value.kind {
        Kind::String(s) | Kind::Duration { text: s, .. } | Kind::DateTime(s) => s.clone(),
        Kind::Integer(n) => n.to_string(),
        Kind::Float(f) => go_float(*f),
        Kind::Bool(b) => b.to_string(),
        Kind::Array(items) => {
            let items: Vec<String> = items.iter().map(go_value).collect();
            format!("[{}]", items.join(" "))
        }
        Kind::Map(map) => {
            let mut pairs: Vec<String> = map
                .iter()
                .map(|e| format!("{}:{}", e.key, go_value(&e.value)))
                .collect();
            pairs.sort();
            format!("map[{}]", pairs.join(" "))
        }
    }
}

/// A float the way Go's `%v` prints it for ordinary magnitudes (`1.5`, `2`).
pub(crate) fn go_float(f: f64) -> String {
    format!("{f}")
}

/// Splits `host:port` or `[ipv6]:port` the way Go's `net.SplitHostPort` does.
pub(crate) fn split_host_port(s: &str) -> Result<(&str, &str), ()> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or(())?;
        let port = after.strip_prefix(':').ok_or(())?;
        if port.contains(['[', ']']) {
            return Err(());
        }
        return Ok((host, port));
    }
    let (host, port) = s.rsplit_once(':').ok_or(())?;
    if host.contains([':', '[', ']']) || port.contains(']') {
        return Err(());
    }
    Ok((host, port))
}

/// A decimal port with optional sign, as Go's `strconv.Atoi` reads it.
fn parse_port(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.strip_prefix('+').unwrap_or(text).parse().ok()
}

/// Used by tests that build entries by hand.
#[cfg(test)]
pub(crate) fn entry(key: &str, kind: Kind) -> Entry {
    use crate::conf::Value;
    use std::sync::Arc;
    let pos = conf::Pos::new(Arc::from("t.conf"), 1, 1);
    Entry {
        key: key.to_string(),
        key_pos: pos.clone(),
        value: Value::new(kind, pos),
        used_as_variable: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_host_port_like_go() {
        assert_eq!(split_host_port("127.0.0.1:4222"), Ok(("127.0.0.1", "4222")));
        assert_eq!(split_host_port(":4222"), Ok(("", "4222")));
        assert_eq!(split_host_port("[::1]:4222"), Ok(("::1", "4222")));
        assert_eq!(split_host_port("host:"), Ok(("host", "")));
        assert_eq!(split_host_port("abc"), Err(()));
        assert_eq!(split_host_port("::1:4222"), Err(()));
        assert_eq!(split_host_port("[::1]"), Err(()));
    }

    #[test]
    fn host_port_errors_use_reference_texts() {
        let mut r = Report::default();
        assert_eq!(
            r.host_port(&entry("listen", Kind::String("abc".into()))),
            None
        );
        assert_eq!(
            r.host_port(&entry("listen", Kind::String("a:xyz".into()))),
            None
        );
        assert_eq!(r.host_port(&entry("listen", Kind::Bool(true))), None);
        let messages: Vec<_> = r.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "could not parse address string \"abc\"",
                "could not parse port \"xyz\"",
                "expected port or host:port, got bool",
            ]
        );
    }

    #[test]
    fn wrong_type_names_key_and_types() {
        let mut r = Report::default();
        assert_eq!(
            r.int(&entry("max_payload", Kind::String("1MB".into()))),
            None
        );
        assert_eq!(
            r.errors[0].message,
            "invalid type for field \"max_payload\": interface conversion: \
             interface {} is string, not int64"
        );
    }

    #[test]
    fn unquoted_durations_are_strings_too() {
        let mut r = Report::default();
        let d = Kind::Duration {
            value: Duration::from_secs(5),
            text: "5s".into(),
        };
        assert_eq!(r.string(&entry("server_name", d)), Some("5s"));
        assert!(r.errors.is_empty());
    }
}
