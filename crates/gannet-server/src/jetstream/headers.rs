//! NATS message headers as JetStream reads and writes them: the value of one
//! header (`Nats-Msg-Id`, `Nats-Expected-*`, `Nats-Rollup`, `Nats-TTL`), the
//! status messages of pull requests and heartbeats (`NATS/1.0 408 Request
//! Timeout`), and the headers JetStream adds to what it delivers.

/// The value of header `name` (case-insensitive, as clients may write it
/// either way), trimmed.
pub fn get<'a>(headers: &'a [u8], name: &str) -> Option<&'a str> {
    if headers.is_empty() {
        return None;
    }
    let text = std::str::from_utf8(headers).ok()?;
    text.split("\r\n").skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

/// A status message's headers: `NATS/1.0 <code> <description>` and `extra`.
pub fn status(code: u16, description: &str, extra: &[(&str, String)]) -> Vec<u8> {
    let mut out = format!("NATS/1.0 {code} {description}\r\n");
    for (k, v) in extra {
        out.push_str(k);
        out.push_str(": ");
        out.push_str(v);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// `headers` with `extra` added (a new block when there were none).
pub fn with(headers: &[u8], extra: &[(&str, &str)]) -> Vec<u8> {
    const EMPTY: &[u8] = b"NATS/1.0\r\n\r\n";
    let base = if headers.is_empty() { EMPTY } else { headers };
    let body = base.strip_suffix(b"\r\n").unwrap_or(base);
    let mut out = Vec::with_capacity(base.len() + 64);
    out.extend_from_slice(body);
    for (k, v) in extra {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `headers` with header `name` (any case) set to `value`, in place of
/// what it had.
pub fn set(headers: &[u8], name: &str, value: &str) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(headers) else {
        return headers.to_vec();
    };
    let mut out = String::with_capacity(text.len() + value.len());
    let mut lines = text.split("\r\n");
    out.push_str(lines.next().unwrap_or("NATS/1.0"));
    out.push_str("\r\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let same = line
            .split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case(name));
        if !same {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
    out.push_str("\r\n\r\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_header_whatever_its_case() {
        let h = b"NATS/1.0\r\nNats-Msg-Id: abc \r\nnats-expected-stream: S\r\n\r\n";
        assert_eq!(get(h, "Nats-Msg-Id"), Some("abc"));
        assert_eq!(get(h, "Nats-Expected-Stream"), Some("S"));
        assert_eq!(get(h, "Nats-Rollup"), None);
        assert_eq!(get(b"", "Nats-Rollup"), None);
    }

    #[test]
    fn adds_headers() {
        let h = with(b"", &[("A", "1")]);
        assert_eq!(h, b"NATS/1.0\r\nA: 1\r\n\r\n");
        let h = with(&h, &[("B", "2")]);
        assert_eq!(get(&h, "A"), Some("1"));
        assert_eq!(get(&h, "B"), Some("2"));
    }

    #[test]
    fn sets_a_header_in_place_of_its_old_value() {
        let h = b"NATS/1.0\r\nA: 1\r\nnats-ttl: 20s\r\n\r\n";
        let h = set(h, "Nats-TTL", "20");
        assert_eq!(h, b"NATS/1.0\r\nA: 1\r\nNats-TTL: 20\r\n\r\n");
    }

    #[test]
    fn status_lines() {
        let s = status(404, "No Messages", &[]);
        assert_eq!(s, b"NATS/1.0 404 No Messages\r\n\r\n");
    }
}
