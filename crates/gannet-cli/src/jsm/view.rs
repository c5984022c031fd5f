//! Value formats natscli's JetStream views share: times in local time
//! (`2006-01-02 15:04:05`), the age of a time as `HumanizeDuration` prints it
//! (`never` for a time that never was), Go's `time.Time` `%v` form, nanosecond
//! durations, the `_nats.*` metadata the server adds, base64 and header blocks
//! of stored messages, and values shown as text or base64.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Local, Utc};

use crate::format::{humanize_duration, Columns};

/// Metadata keys the server sets itself (`_nats.ver`, `_nats.level`, ...).
const RESERVED_METADATA_PREFIX: &str = "_nats.";

/// A Go timestamp; `None` for Go's zero time or the Unix epoch (how the server
/// says "never").
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let time = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    let seconds = time.timestamp();
    // 0001-01-01T00:00:00Z is Go's zero time.
    if seconds == 0 || seconds == -62_135_596_800 {
        return None;
    }
    Some(time)
}

/// natscli's `f(time.Time)`: local time, `2006-01-02 15:04:05`.
pub fn local(time: DateTime<Utc>) -> String {
    time.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// [`local`] of a timestamp text; the text itself when it does not parse.
pub fn local_text(text: &str) -> String {
    match DateTime::parse_from_rfc3339(text) {
        Ok(time) => local(time.with_timezone(&Utc)),
        Err(_) => text.to_string(),
    }
}

/// How long before `reference` (the reply's timestamp, or now when it has
/// none) `then` was, as natscli humanizes it; `never` when `then` is unset
/// (Go's saturated duration).
pub fn age(reference: &str, then: &str) -> String {
    let Some(then) = parse_time(then) else {
        return "never".to_string();
    };
    let reference = DateTime::parse_from_rfc3339(reference)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    humanize_duration((reference - then).to_std().unwrap_or_default())
}

/// How long ago `then` was, from now.
pub fn since(then: DateTime<Utc>) -> Duration {
    (Utc::now() - then).to_std().unwrap_or_default()
}

/// A time as Go's `time.Time.String()` prints it for a UTC time:
/// `2026-12-07 06:22:59.885590421 +0000 UTC`.
pub fn go_time_string(text: &str) -> String {
    let Ok(time) = DateTime::parse_from_rfc3339(text) else {
        return text.to_string();
    };
    let time = time.with_timezone(&Utc);
    let nanos = time.timestamp_subsec_nanos();
    let fraction = if nanos == 0 {
        String::new()
    } else {
        format!(".{nanos:09}").trim_end_matches('0').to_string()
    };
    format!("{}{fraction} +0000 UTC", time.format("%Y-%m-%d %H:%M:%S"))
}

/// Nanoseconds from the wire as a duration (negative ones as zero).
pub fn nanos(value: i64) -> Duration {
    Duration::from_nanos(u64::try_from(value).unwrap_or(0))
}

/// A duration flag as nanoseconds for the wire.
pub fn to_nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

/// natscli's `f()` of a nanosecond duration.
pub fn humanize_nanos(value: i64) -> String {
    humanize_duration(nanos(value))
}

/// The metadata a user set: without the `_nats.*` keys the server adds.
pub fn user_metadata(metadata: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    metadata
        .iter()
        .filter(|(key, _)| !key.starts_with(RESERVED_METADATA_PREFIX))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// natscli's `RenderMetaApi`: the server version and API levels the server
/// put in the metadata.
pub fn api_level_rows(columns: &mut Columns, metadata: &BTreeMap<String, String>) {
    let get = |key: &str| metadata.get(key).cloned().unwrap_or_default();
    let version = get("_nats.ver");
    let level = get("_nats.level");
    let mut required = get("_nats.req.level");
    if !version.is_empty() {
        columns.row("Host Version", &version);
    }
    if !level.is_empty() || !required.is_empty() {
        if required.is_empty() {
            required = "0".to_string();
        }
        columns.row(
            "Required API Level",
            format!("{required} hosted at level {level}"),
        );
    }
}

/// Go's `strconv`-style check natscli uses: every character printable ASCII.
pub fn is_printable(data: &[u8]) -> bool {
    match std::str::from_utf8(data) {
        Ok(text) => text.chars().all(|c| c.is_ascii() && !c.is_ascii_control()),
        Err(_) => false,
    }
}

/// natscli's `Base64IfNotPrintable`.
pub fn text_or_base64(data: &[u8]) -> String {
    if is_printable(data) {
        String::from_utf8_lossy(data).into_owned()
    } else {
        crate::cmd::output::base64(data)
    }
}

/// Decodes standard or URL-safe base64, padded or not; `None` when it is not
/// base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    }
    let text = text.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        buffer = (buffer << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The headers of a `NATS/1.0` header block, in order.
pub fn header_block(block: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(block);
    text.split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect()
}

/// Lower-case hex of bytes.
pub fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// Go's `%v` of a list of strings joined as natscli's `f([]string)` does.
pub fn list(items: &[String]) -> String {
    items.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_times_are_never() {
        assert!(parse_time("0001-01-01T00:00:00Z").is_none());
        assert!(parse_time("1970-01-01T00:00:00Z").is_none());
        assert!(parse_time("2026-12-07T06:22:59Z").is_some());
        assert_eq!(age("2026-12-07T06:23:00Z", "0001-01-01T00:00:00Z"), "never");
        assert_eq!(
            age("2026-12-07T06:23:00Z", "2026-12-07T06:22:50Z"),
            "10.00s"
        );
    }

    #[test]
    fn go_time_strings_trim_the_fraction() {
        assert_eq!(
            go_time_string("2026-12-07T06:22:59.885590421Z"),
            "2026-12-07 06:22:59.885590421 +0000 UTC"
        );
        assert_eq!(
            go_time_string("2026-12-07T06:22:59.5Z"),
            "2026-12-07 06:22:59.5 +0000 UTC"
        );
        assert_eq!(
            go_time_string("2026-12-07T06:22:59Z"),
            "2026-12-07 06:22:59 +0000 UTC"
        );
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64_decode("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(base64_decode("aGVsbG8"), Some(b"hello".to_vec()));
        assert_eq!(base64_decode("_-8"), Some(vec![0xff, 0xef]));
        assert_eq!(base64_decode("a b"), None);
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(
            base64_decode(&crate::cmd::output::base64(&data)),
            Some(data)
        );
    }

    #[test]
    fn header_blocks_read_in_order() {
        assert_eq!(
            header_block(b"NATS/1.0\r\nB: 2\r\nA: 1\r\n\r\n"),
            vec![("B".into(), "2".into()), ("A".into(), "1".into())]
        );
    }

    #[test]
    fn binary_values_show_as_base64() {
        assert_eq!(text_or_base64(b"hello world"), "hello world");
        assert_eq!(text_or_base64(&[0, 1]), "AAE=");
        assert_eq!(text_or_base64("é".as_bytes()), "w6k=");
    }

    #[test]
    fn server_metadata_is_kept_apart() {
        let metadata: BTreeMap<String, String> = [
            ("_nats.ver".to_string(), "2.15.0".to_string()),
            ("_nats.level".to_string(), "5".to_string()),
            ("team".to_string(), "a".to_string()),
        ]
        .into();
        assert_eq!(user_metadata(&metadata).len(), 1);
        let mut columns = Columns::new("");
        api_level_rows(&mut columns, &metadata);
        assert_eq!(
            columns.render(),
            "        Host Version: 2.15.0\n  Required API Level: 0 hosted at level 5\n"
        );
    }
}
