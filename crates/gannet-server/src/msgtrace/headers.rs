//! Finding the trace headers in a message's header block, as nats-server
//! reads them: `Nats-Trace-Dest` (its name in exactly that case) asks for a
//! trace unless its value is `trace disabled`; a W3C `traceparent` (any
//! case) whose flags say sampled asks for one to the account's `msg_trace`
//! destination. Every header with a name and a value is kept for the
//! event's `request.header`, names as written.
use std::collections::BTreeMap;

use super::{TRACE_DEST, TRACE_DISABLED};

/// The first line of a header block.
const HEADER_LINE: &[u8] = b"NATS/1.0";

/// A header block's headers by name (names as written, so in the order of
/// their bytes, as the reference's JSON lists them), each with its values.
pub(crate) type HeaderMap = BTreeMap<String, Vec<String>>;

/// The external trace header (W3C trace context), matched in any case.
const TRACE_PARENT: &[u8] = b"traceparent";

/// Whether `headers` may ask for a trace: one substring search, the only
/// cost a message with headers pays when it is not traced; a second one,
/// for `traceparent`, when its account has a `msg_trace` destination
/// (`external`).
#[inline]
pub(crate) fn may_ask(headers: &[u8], external: bool) -> bool {
    memchr::memmem::find(headers, TRACE_DEST.as_bytes()).is_some()
        || (external
            && headers
                .windows(TRACE_PARENT.len())
                .any(|w| w.eq_ignore_ascii_case(TRACE_PARENT)))
}

/// What a block asks for.
pub(crate) struct Asked {
    pub(crate) headers: HeaderMap,
    /// Only a sampled `traceparent` asked: the account's destination applies.
    pub(crate) external: bool,
}

/// Whether a `traceparent` value (`version-trace-parent-flags`) says sampled.
fn sampled(value: &[u8]) -> bool {
    let parts: Vec<&[u8]> = value.split(|b| *b == b'-').collect();
    // The reference reads the flags as a signed byte: 80 and up do not parse.
    parts.len() == 4
        && parts[3].len() == 2
        && std::str::from_utf8(parts[3])
            .ok()
            .and_then(|f| i8::from_str_radix(f, 16).ok())
            .is_some_and(|f| f & 1 == 1)
}

/// The headers of a block that asks for a trace, or `None` (neither
/// `Nats-Trace-Dest` nor a sampled `traceparent`, or tracing disabled
/// upstream).
pub(crate) fn parse(headers: &[u8]) -> Option<Asked> {
    let rest = headers.strip_prefix(HEADER_LINE)?;
    let mut map = HeaderMap::new();
    let mut asked = false;
    let mut parent = false;
    // Skip the rest of the first line (a status, if any).
    let mut lines = rest.split(|b| *b == b'\n').skip(1);
    for line in lines.by_ref() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let key = &line[..colon];
        let value = trim(&line[colon + 1..]);
        if key.is_empty() || value.is_empty() {
            continue;
        }
        if !parent && key.eq_ignore_ascii_case(TRACE_PARENT) {
            parent = sampled(value);
        } else if key == TRACE_DEST.as_bytes() && !asked {
            if value == TRACE_DISABLED.as_bytes() {
                return None;
            }
            asked = true;
        }
        map.entry(String::from_utf8_lossy(key).into_owned())
            .or_default()
            .push(String::from_utf8_lossy(value).into_owned());
    }
    (asked || parent).then_some(Asked {
        headers: map,
        external: !asked,
    })
}

/// `headers` (none: an empty block) with `Nats-Trace-Dest` set to `dest`.
pub(crate) fn with_dest(headers: Option<&[u8]>, dest: &str) -> Vec<u8> {
    crate::jetstream::headers::set(headers.unwrap_or(b"NATS/1.0\r\n\r\n"), TRACE_DEST, dest)
}

/// `headers` with tracing disabled (`Nats-Trace-Dest: trace disabled`):
/// how a traced message goes on where it is not traced further.
pub(crate) fn disabled(headers: Option<&[u8]>) -> Vec<u8> {
    with_dest(headers, TRACE_DISABLED)
}

/// `value` without the blanks and tabs around it.
fn trim(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|b| *b != b' ' && *b != b'\t')
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| *b != b' ' && *b != b'\t')
        .map_or(start, |e| e + 1);
    &value[start..end.max(start)]
}

/// The first value of header `name` in `map`.
pub(crate) fn first<'a>(map: &'a HeaderMap, name: &str) -> Option<&'a str> {
    map.get(name).and_then(|v| v.first()).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_with_the_destination_asks_for_a_trace() {
        let h =
            b"NATS/1.0\r\nNats-Trace-Dest: my.trace \r\nFoo:\tbar\r\nFoo: baz\r\nEmpty: \r\n\r\n";
        assert!(may_ask(h, false));
        let asked = parse(h).expect("asks");
        assert!(!asked.external);
        let map = asked.headers;
        assert_eq!(first(&map, "Nats-Trace-Dest"), Some("my.trace"));
        assert_eq!(map.get("Foo").map(Vec::len), Some(2));
        assert!(!map.contains_key("Empty"));
    }

    #[test]
    fn the_name_is_matched_in_its_own_case_and_disabled_stops_it() {
        assert!(parse(b"NATS/1.0\r\nnats-trace-dest: x\r\n\r\n").is_none());
        assert!(parse(b"NATS/1.0\r\nNats-Trace-Dest: trace disabled\r\n\r\n").is_none());
        assert!(parse(b"NATS/1.0\r\nOther: x\r\n\r\n").is_none());
        assert!(parse(b"garbage").is_none());
    }

    #[test]
    fn a_sampled_traceparent_asks_for_the_accounts_destination() {
        let sampled: &[u8] =
            b"NATS/1.0\r\nTraceParent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n";
        assert!(!may_ask(sampled, false));
        assert!(may_ask(sampled, true));
        assert!(parse(sampled).expect("asks").external);
        let not_sampled: &[u8] =
            b"NATS/1.0\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00\r\n\r\n";
        assert!(parse(not_sampled).is_none());
        let odd: &[u8] = b"NATS/1.0\r\ntraceparent: 00-0af7-b7ad-81\r\n\r\n";
        assert!(parse(odd).is_none(), "flags past 7f do not parse");
    }
}
