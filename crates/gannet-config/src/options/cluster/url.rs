//! The part of Go's `net/url.Parse` that route URLs (and leaf node remote
//! URLs) go through, so that a
//! URL nats-server refuses is refused here with the same reason, and one it
//! accepts splits into the same scheme, user, password and host.
//! Query and fragment are dropped; paths are checked for bad escapes only.

/// A parsed URL: only what routes use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::options) struct Url {
    /// Lower-cased; empty when there is none.
    pub scheme: String,
    /// Percent-decoded.
    pub user: Option<String>,
    /// Percent-decoded; `None` when the user info has no `:`.
    pub password: Option<String>,
    /// `host[:port]` as Go's `URL.Host` keeps it (IPv6 in brackets,
    /// percent-decoded); empty without a `//` authority.
    pub host: String,
}

/// Go's `url.Parse(text)`; the error is Go's `parse "<text>": <reason>`.
pub(in crate::options) fn parse(text: &str) -> Result<Url, String> {
    parse_inner(text).map_err(|reason| format!("parse {text:?}: {reason}"))
}

fn parse_inner(raw: &str) -> Result<Url, String> {
    let raw = raw.split_once('#').map_or(raw, |(u, _)| u);
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let (scheme, rest) = split_scheme(raw)?;
    let mut url = Url {
        scheme: scheme.to_ascii_lowercase(),
        user: None,
        password: None,
        host: String::new(),
    };
    let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
    if !rest.starts_with('/') {
        if !scheme.is_empty() {
            // Opaque (`scheme:opaque`): no host.
            return Ok(url);
        }
        let first_segment = rest.split_once('/').map_or(rest, |(s, _)| s);
        if first_segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    let path = match rest.strip_prefix("//") {
        Some(after) if !scheme.is_empty() || !rest.starts_with("///") => {
            let (authority, path) = match after.find('/') {
                Some(i) => after.split_at(i),
                None => (after, ""),
            };
            parse_authority(authority, &mut url)?;
            path
        }
        _ => rest,
    };
    unescape(path, Mode::Path)?;
    Ok(url)
}

/// Go's `getScheme`: letters, then digits, `+`, `-`, `.`, up to a `:`.
fn split_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".into()),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_authority(authority: &str, url: &mut Url) -> Result<(), String> {
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    url.host = parse_host(host)?;
    let Some(userinfo) = userinfo else {
        return Ok(());
    };
    if !userinfo.bytes().all(valid_userinfo_byte) {
        return Err("net/url: invalid userinfo".into());
    }
    match userinfo.split_once(':') {
        Some((user, password)) => {
            url.user = Some(unescape(user, Mode::UserPassword)?);
            url.password = Some(unescape(password, Mode::UserPassword)?);
        }
        None => url.user = Some(unescape(userinfo, Mode::UserPassword)?),
    }
    Ok(())
}

/// Go's `validUserinfo`, byte by byte (bytes of multi-byte characters are
/// refused, as Go refuses those characters).
fn valid_userinfo_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&b)
}

/// Go's `parseHost` without IPv6 zones: an optional `:port` must be digits.
fn parse_host(host: &str) -> Result<String, String> {
    let colon_port = if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        &host[i + 1..]
    } else {
        host.rfind(':').map_or("", |i| &host[i..])
    };
    if !valid_optional_port(colon_port) {
        return Err(format!("invalid port {colon_port:?} after host"));
    }
    unescape(host, Mode::Host)
}

fn valid_optional_port(port: &str) -> bool {
    match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(digits) => digits.bytes().all(|b| b.is_ascii_digit()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    UserPassword,
}

/// Go's `unescape`: `%XX` decoded (a bad escape is an error); in a host,
/// escapes are allowed only for non-ASCII bytes, and characters a host
/// cannot hold are errors.
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                let h = std::str::from_utf8(h).ok()?;
                u8::from_str_radix(h, 16)
                    .ok()
                    .filter(|_| !h.starts_with('+'))
            });
            let escape = &s[i..(i + 3).min(s.len())];
            match hex {
                Some(v) if mode == Mode::Host && v < 0x80 => {
                    return Err(format!("invalid URL escape {escape:?}"));
                }
                Some(v) => out.push(v),
                None => return Err(format!("invalid URL escape {escape:?}")),
            }
            i += 3;
            continue;
        }
        if mode == Mode::Host && b < 0x80 && !host_byte(b) {
            return Err(format!(
                "invalid character {:?} in host name",
                (b as char).to_string()
            ));
        }
        out.push(b);
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Bytes Go leaves unescaped in a host (`shouldEscape(c, encodeHost)` false).
fn host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.~!$&'()*+,;=:[]<>\"".contains(&b)
}

/// Go's `net.SplitHostPort` of a URL host: `host:port` or `[ipv6]:port`;
/// the error is Go's `address <host>: <reason>`.
pub(in crate::options) fn split_host_port(hostport: &str) -> Result<(&str, &str), String> {
    let fail = |reason: &str| Err(format!("address {hostport}: {reason}"));
    let Some(i) = hostport.rfind(':') else {
        return fail("missing port in address");
    };
    let (host, j, k) = if hostport.starts_with('[') {
        let Some(end) = hostport.find(']') else {
            return fail("missing ']' in address");
        };
        if end + 1 == hostport.len() {
            return fail("missing port in address");
        }
        if end + 1 != i {
            return if hostport.as_bytes()[end + 1] == b':' {
                fail("too many colons in address")
            } else {
                fail("missing port in address")
            };
        }
        (&hostport[1..end], 1, end + 1)
    } else {
        let host = &hostport[..i];
        if host.contains(':') {
            return fail("too many colons in address");
        }
        (host, 0, 0)
    };
    if hostport[j..].contains('[') {
        return fail("unexpected '[' in address");
    }
    if hostport[k..].contains(']') {
        return fail("unexpected ']' in address");
    }
    Ok((host, &hostport[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Url {
        parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(u) => panic!("{text} parsed: {u:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn route_urls_split_like_go() {
        let u = ok("nats-route://ru:rp@10.0.0.5:4225");
        assert_eq!(u.scheme, "nats-route");
        assert_eq!(u.user.as_deref(), Some("ru"));
        assert_eq!(u.password.as_deref(), Some("rp"));
        assert_eq!(u.host, "10.0.0.5:4225");
        let u = ok("NATS://h:1/some/path?x=1#frag");
        assert_eq!((u.scheme.as_str(), u.host.as_str()), ("nats", "h:1"));
        assert_eq!(u.user, None);
        let u = ok("nats://[::1]:4225");
        assert_eq!(u.host, "[::1]:4225");
        let u = ok("nats://u@h:1");
        assert_eq!((u.user.as_deref(), u.password), (Some("u"), None));
        // The last '@' ends the user info; '@' inside it is kept.
        let u = ok("nats://a@b:p%40ss%3A%2F@h:1");
        assert_eq!(u.user.as_deref(), Some("a@b"));
        assert_eq!(u.password.as_deref(), Some("p@ss:/"));
        // '+' is not a space outside queries.
        assert_eq!(ok("nats://u:a+b@h:1").password.as_deref(), Some("a+b"));
    }

    #[test]
    fn forms_without_a_host() {
        assert_eq!(ok("h:1").host, "", "scheme h, opaque 1");
        assert_eq!(ok("/just/a/path").host, "");
        assert_eq!(ok("").host, "");
    }

    #[test]
    fn errors_are_gos() {
        assert_eq!(
            err("127.0.0.1:5000"),
            "parse \"127.0.0.1:5000\": first path segment in URL cannot contain colon"
        );
        assert_eq!(
            err("nats://127.0.0.1:abc"),
            "parse \"nats://127.0.0.1:abc\": invalid port \":abc\" after host"
        );
        assert_eq!(err("://h:1"), "parse \"://h:1\": missing protocol scheme");
        assert_eq!(
            err("nats://%zz"),
            "parse \"nats://%zz\": invalid URL escape \"%zz\""
        );
        assert_eq!(
            err("nats://a b@h:1"),
            "parse \"nats://a b@h:1\": net/url: invalid userinfo"
        );
        assert_eq!(
            err("nats://u:p%2@h:1"),
            "parse \"nats://u:p%2@h:1\": invalid URL escape \"%2\""
        );
        assert_eq!(
            err("nats://h{:1"),
            "parse \"nats://h{:1\": invalid character \"{\" in host name"
        );
        assert_eq!(
            err("nats://[::1:1"),
            "parse \"nats://[::1:1\": missing ']' in host"
        );
        assert_eq!(
            err("nats://h:1\n"),
            "parse \"nats://h:1\\n\": net/url: invalid control character in URL"
        );
    }

    #[test]
    fn split_host_port_like_go() {
        assert_eq!(split_host_port("h:1"), Ok(("h", "1")));
        assert_eq!(split_host_port(":1"), Ok(("", "1")));
        assert_eq!(split_host_port("[::1]:1"), Ok(("::1", "1")));
        assert_eq!(
            split_host_port("h"),
            Err("address h: missing port in address".into())
        );
        assert_eq!(
            split_host_port("[::1]"),
            Err("address [::1]: missing port in address".into())
        );
        assert_eq!(
            split_host_port("::1:1"),
            Err("address ::1:1: too many colons in address".into())
        );
    }
}
