//! Value formats the `server` views and `events` print the way natscli does,
//! beyond the shared ones in `format.rs`: go-humanize's `CommafWithDigits`, Go
//! timestamps, the shortening of server names that share a domain, and the
//! counts and traffic cells of the connection reports.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Local};

use crate::format::{bytes, number};

use super::model::Traffic;

/// go-humanize's `CommafWithDigits`: the shortest form of the float with
/// thousands separators, cut (not rounded) to `digits` decimals.
pub fn commaf_with_digits(value: f64, digits: usize) -> String {
    let text = format!("{value}");
    let (sign, text) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    let whole = whole
        .parse::<i128>()
        .map(number)
        .unwrap_or_else(|_| whole.to_string());
    let fraction: String = fraction.chars().take(digits).collect();
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

/// A Go RFC 3339 timestamp.
pub fn parse_time(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).ok()
}

/// natscli's way of printing a `time.Time` in columns: local time,
/// `2006-01-02 15:04:05`; the text as sent when it is not a timestamp.
pub fn local_time(text: &str) -> String {
    match parse_time(text) {
        Some(time) => time
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        None => text.to_string(),
    }
}

/// `later - earlier`, zero when the clocks disagree or a time is missing.
pub fn between(earlier: &str, later: &str) -> Duration {
    match (parse_time(earlier), parse_time(later)) {
        (Some(earlier), Some(later)) => (later - earlier).to_std().unwrap_or_default(),
        _ => Duration::ZERO,
    }
}

/// Drops the dotted suffix every name shares (`n1.example.com`,
/// `n2.example.com` → `n1`, `n2`), as natscli's `server list` does. IP
/// addresses are left whole.
pub fn compact_names(names: &[String]) -> Vec<String> {
    if names
        .iter()
        .any(|name| name.parse::<std::net::IpAddr>().is_ok())
    {
        return names.to_vec();
    }
    let parts: Vec<Vec<&str>> = names.iter().map(|name| name.split('.').collect()).collect();
    let shortest = parts.iter().map(Vec::len).min().unwrap_or(0);
    // Never remove the first label of the shortest name.
    let mut common = 0;
    while common + 1 < shortest {
        let label = parts[0][parts[0].len() - 1 - common];
        if parts.iter().all(|p| p[p.len() - 1 - common] == label) {
            common += 1;
        } else {
            break;
        }
    }
    parts
        .iter()
        .map(|p| p[..p.len() - common].join("."))
        .collect()
}

/// `3 servers`, `1 route`.
pub fn counted(count: usize, noun: &str) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!("{} {noun}{plural}", number(count as i64))
}

/// The first value that is not empty (a server's name, else its id).
pub fn first_set<S: AsRef<str>>(values: &[S]) -> String {
    values
        .iter()
        .map(AsRef::as_ref)
        .find(|v| !v.is_empty())
        .unwrap_or_default()
        .to_string()
}

/// A byte count a server sent signed, in IEC units.
pub fn size(value: i64) -> String {
    bytes(u64::try_from(value).unwrap_or(0))
}

/// The message and byte cells of a connection report: in and out messages,
/// then in and out bytes.
pub fn traffic_cells(traffic: &Traffic) -> [String; 4] {
    [
        number(traffic.in_msgs),
        number(traffic.out_msgs),
        size(traffic.in_bytes),
        size(traffic.out_bytes),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_cut_not_rounded() {
        assert_eq!(commaf_with_digits(0.0012345, 3), "0.001");
        assert_eq!(commaf_with_digits(0.5, 3), "0.5");
        assert_eq!(commaf_with_digits(1.0, 3), "1");
        assert_eq!(commaf_with_digits(12345.6789, 3), "12,345.678");
    }

    #[test]
    fn names_lose_their_shared_domain() {
        let names = vec!["n1.example.com".to_string(), "n2.example.com".to_string()];
        assert_eq!(compact_names(&names), vec!["n1", "n2"]);
        let single = vec!["n1.example.com".to_string()];
        assert_eq!(compact_names(&single), vec!["n1"]);
        let mixed = vec!["a.x.com".to_string(), "b.y.com".to_string()];
        assert_eq!(compact_names(&mixed), vec!["a.x", "b.y"]);
        let ips = vec!["10.0.0.1".to_string(), "10.0.0.2".to_string()];
        assert_eq!(compact_names(&ips), ips);
    }
}
