//! How messages, headers, bodies and log lines are printed, the way natscli
//! prints them: timestamped log lines on stderr, Go's `%q` quoting, message
//! headers in natscli's order, bodies (translated or not) and Go's base64.
//! Shared by `sub`, `request`, `reply`, `pub` and `sub --bosh`.

use std::fmt::Display;
use std::io::Write as _;

use anyhow::anyhow;
use async_nats::Message;

use super::external::{CommandFailure, Translate};

/// natscli's `log.Printf`: the local time `15:04:05`, a space and the text on
/// stderr.
pub fn log(text: impl Display) {
    let text = text.to_string();
    let time = chrono::Local::now().format("%H:%M:%S");
    // Go's log adds a newline only when the text has none.
    if text.ends_with('\n') {
        eprint!("{time} {text}");
    } else {
        eprintln!("{time} {text}");
    }
}

/// Writes everything to stdout at once.
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|err| anyhow!("cannot write to stdout: {err}"))
}

/// Go's `%q` of a string: double quotes, backslash escapes.
pub fn go_quote(text: &str) -> String {
    go_quote_bytes(text.as_bytes())
}

/// Go's `%q` of bytes: like [`go_quote`], invalid UTF-8 as `\x..`.
pub fn go_quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_quoted_char(&mut out, c);
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out.push('"');
    out
}

fn push_quoted_char(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\u{b}' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push(c),
    }
}

/// A message's headers as natscli prints them, `Status`/`Description` from the
/// header line first, then by name.
pub fn header_lines(message: &Message) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    if let Some(status) = message.status {
        lines.push(("Status".to_string(), status.as_u16().to_string()));
        if let Some(description) = message.description.as_deref().filter(|d| !d.is_empty()) {
            lines.push(("Description".to_string(), description.to_string()));
        }
    }
    if let Some(headers) = &message.headers {
        let mut named: Vec<(String, Vec<String>)> = headers
            .iter()
            .map(|(name, values)| {
                let values = values.iter().map(|v| v.as_str().to_string()).collect();
                (name.to_string(), values)
            })
            .collect();
        named.sort();
        for (name, values) in named {
            lines.extend(values.into_iter().map(|value| (name.clone(), value)));
        }
    }
    lines
}

/// A message body ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyOutput {
    /// An empty body and no translation.
    Nil,
    /// The body, translated when asked.
    Text(Vec<u8>),
    /// The translation command failed: its output and why.
    Failed(CommandFailure),
}

/// The body, run through `translate` when given.
pub async fn body_output(data: &[u8], translate: Option<&Translate>, subject: &str) -> BodyOutput {
    match translate {
        None if data.is_empty() => BodyOutput::Nil,
        None => BodyOutput::Text(data.to_vec()),
        Some(translate) => match translate.run(data, subject).await {
            Ok(output) => BodyOutput::Text(output),
            Err(failure) => BodyOutput::Failed(failure),
        },
    }
}

/// natscli's compact body: the body with a newline after it (`nil body` for an
/// empty one); for a failed translation the quoted output and the error.
pub fn write_body_compact(out: &mut Vec<u8>, body: &BodyOutput) {
    match body {
        BodyOutput::Nil => out.extend_from_slice(b"nil body\n"),
        BodyOutput::Text(text) => {
            out.extend_from_slice(text);
            if !text.ends_with(b"\n") {
                out.push(b'\n');
            }
        }
        BodyOutput::Failed(failure) => {
            let _ = write!(
                out,
                "{}\nError while translating msg body: {}\n\n",
                go_quote_bytes(&failure.output),
                failure.error
            );
        }
    }
}

/// natscli's full body: the compact body then a blank line, two when the
/// body did not end in a newline of its own.
pub fn write_body(out: &mut Vec<u8>, body: &BodyOutput) {
    write_body_compact(out, body);
    match body {
        BodyOutput::Failed(_) => {}
        BodyOutput::Text(text) if text.ends_with(b"\n") => out.push(b'\n'),
        _ => out.extend_from_slice(b"\n\n"),
    }
}

/// Standard base64 with padding (Go's encoding of `[]byte` in JSON).
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A received message with `payload` on `subject` and nothing else, for tests.
    pub(crate) fn message(subject: &str, payload: &[u8]) -> Message {
        Message {
            subject: subject.into(),
            reply: None,
            payload: bytes::Bytes::copy_from_slice(payload),
            headers: None,
            status: None,
            description: None,
            length: payload.len(),
        }
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote("a.b"), r#""a.b""#);
        assert_eq!(go_quote("q\"\\\n\t"), r#""q\"\\\n\t""#);
        assert_eq!(go_quote("é"), "\"é\"");
        assert_eq!(go_quote_bytes(b"\x00\xff"), r#""\x00\xff""#);
    }

    #[test]
    fn bodies_print_as_natscli_prints_them() {
        let mut out = Vec::new();
        write_body(&mut out, &BodyOutput::Text(b"hello".to_vec()));
        assert_eq!(out, b"hello\n\n\n");
        let mut out = Vec::new();
        write_body(&mut out, &BodyOutput::Text(b"hello\n".to_vec()));
        assert_eq!(out, b"hello\n\n");
        let mut out = Vec::new();
        write_body(&mut out, &BodyOutput::Nil);
        assert_eq!(out, b"nil body\n\n\n");
        let mut out = Vec::new();
        write_body_compact(&mut out, &BodyOutput::Text(b"x".to_vec()));
        assert_eq!(out, b"x\n");
        let mut out = Vec::new();
        let failure = CommandFailure {
            output: b"oops".to_vec(),
            error: "exit status 1".into(),
        };
        write_body(&mut out, &BodyOutput::Failed(failure));
        assert_eq!(
            out,
            b"\"oops\"\nError while translating msg body: exit status 1\n\n"
        );
    }

    #[test]
    fn headers_are_sorted_with_status_first() {
        let mut msg = message("a", b"");
        let mut headers = async_nats::HeaderMap::new();
        headers.append("Zed", "1");
        headers.append("Alpha", "x");
        headers.append("Alpha", "y");
        msg.headers = Some(headers);
        msg.status = Some(async_nats::StatusCode::NO_RESPONDERS);
        let lines = header_lines(&msg);
        let want = [
            ("Status", "503"),
            ("Alpha", "x"),
            ("Alpha", "y"),
            ("Zed", "1"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(lines, want);
    }

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
