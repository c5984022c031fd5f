//! Writing server operations into an outbound [`BytesMut`]: the `MSG`/`HMSG`
//! headers, `INFO`, `-ERR` and the fixed lines (the byte layouts nats-server
//! writes in `client.go`'s `msgHeader`, `sendInfo` and `sendErr`).
//!
//! The `write_*_header` functions write only the control line. The caller
//! appends the header block (HMSG), the payload and [`CRLF`] itself, so that a
//! payload shared by many subscribers can be copied (or queued) once per
//! subscriber without an intermediate buffer. [`write_msg`] and [`write_hmsg`]
//! do all of it in one call when that is simpler.
use bytes::{BufMut, BytesMut};

/// The server's keepalive probe.
pub const PING: &[u8] = b"PING\r\n";
/// The answer to a client's `PING`.
pub const PONG: &[u8] = b"PONG\r\n";
/// The acknowledgement sent to verbose clients.
pub const OK: &[u8] = b"+OK\r\n";
/// The line end of every server line, and the terminator after a payload.
pub const CRLF: &[u8] = b"\r\n";

/// Room reserved for the decimal numbers of one header line: two sizes of at
/// most 20 digits each, plus their separators.
const NUMBERS_RESERVE: usize = 44;

fn put_usize(out: &mut BytesMut, n: usize) {
    let mut digits = itoa::Buffer::new();
    out.put_slice(digits.format(n).as_bytes());
}

/// Writes `MSG <subject> <sid> [reply] <payload_len>\r\n`. The caller then
/// appends the `payload_len` payload bytes and [`CRLF`].
pub fn write_msg_header(
    out: &mut BytesMut,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    payload_len: usize,
) {
    let reply_len = reply.map_or(0, |r| r.len() + 1);
    out.reserve(4 + subject.len() + 1 + sid.len() + 1 + reply_len + NUMBERS_RESERVE);
    out.put_slice(b"MSG ");
    out.put_slice(subject);
    out.put_u8(b' ');
    out.put_slice(sid);
    out.put_u8(b' ');
    if let Some(reply) = reply {
        out.put_slice(reply);
        out.put_u8(b' ');
    }
    put_usize(out, payload_len);
    out.put_slice(CRLF);
}

/// Writes `HMSG <subject> <sid> [reply] <header_len> <total_len>\r\n`, where
/// `total_len` counts the header block plus the payload. The caller then appends
/// the header block, the payload and [`CRLF`].
pub fn write_hmsg_header(
    out: &mut BytesMut,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    header_len: usize,
    total_len: usize,
) {
    let reply_len = reply.map_or(0, |r| r.len() + 1);
    out.reserve(5 + subject.len() + 1 + sid.len() + 1 + reply_len + NUMBERS_RESERVE);
    out.put_slice(b"HMSG ");
    out.put_slice(subject);
    out.put_u8(b' ');
    out.put_slice(sid);
    out.put_u8(b' ');
    if let Some(reply) = reply {
        out.put_slice(reply);
        out.put_u8(b' ');
    }
    put_usize(out, header_len);
    out.put_u8(b' ');
    put_usize(out, total_len);
    out.put_slice(CRLF);
}

/// Writes a whole `MSG`: header line, payload and [`CRLF`].
pub fn write_msg(
    out: &mut BytesMut,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    payload: &[u8],
) {
    write_msg_header(out, subject, sid, reply, payload.len());
    out.reserve(payload.len() + 2);
    out.put_slice(payload);
    out.put_slice(CRLF);
}

/// Writes a whole `HMSG`: header line, header block, payload and [`CRLF`].
pub fn write_hmsg(
    out: &mut BytesMut,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    headers: &[u8],
    payload: &[u8],
) {
    let total = headers.len() + payload.len();
    write_hmsg_header(out, subject, sid, reply, headers.len(), total);
    out.reserve(total + 2);
    out.put_slice(headers);
    out.put_slice(payload);
    out.put_slice(CRLF);
}

/// Writes `INFO <json> \r\n`; the space before CR LF is what the reference
/// sends.
pub fn write_info(out: &mut BytesMut, json: &[u8]) {
    out.reserve(5 + json.len() + 3);
    out.put_slice(b"INFO ");
    out.put_slice(json);
    out.put_slice(b" \r\n");
}

/// Writes `-ERR '<text>'\r\n`. `text` is sent as is (the reference does not
/// escape quotes either).
pub fn write_err(out: &mut BytesMut, text: &str) {
    out.reserve(6 + text.len() + 3);
    out.put_slice(b"-ERR '");
    out.put_slice(text.as_bytes());
    out.put_slice(b"'\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
        let mut out = BytesMut::new();
        f(&mut out);
        out.to_vec()
    }

    #[test]
    fn fixed_lines_are_exact() {
        assert_eq!(PING, b"PING\r\n");
        assert_eq!(PONG, b"PONG\r\n");
        assert_eq!(OK, b"+OK\r\n");
    }

    #[test]
    fn msg_header_without_reply() {
        let out = written(|o| write_msg_header(o, b"foo", b"1", None, 5));
        assert_eq!(out, b"MSG foo 1 5\r\n");
    }

    #[test]
    fn msg_header_with_reply() {
        let out = written(|o| write_msg_header(o, b"foo", b"1", Some(b"bar.reply"), 5));
        assert_eq!(out, b"MSG foo 1 bar.reply 5\r\n");
    }

    #[test]
    fn msg_header_zero_length_and_large_numbers() {
        let out = written(|o| write_msg_header(o, b"a", b"abc", None, 0));
        assert_eq!(out, b"MSG a abc 0\r\n");
        let out = written(|o| write_msg_header(o, b"a", b"9", None, usize::MAX));
        assert_eq!(out, format!("MSG a 9 {}\r\n", usize::MAX).as_bytes());
    }

    #[test]
    fn hmsg_header_with_and_without_reply() {
        let out = written(|o| write_hmsg_header(o, b"h", b"1", None, 24, 29));
        assert_eq!(out, b"HMSG h 1 24 29\r\n");
        let out = written(|o| write_hmsg_header(o, b"h", b"1", Some(b"rep.1"), 24, 29));
        assert_eq!(out, b"HMSG h 1 rep.1 24 29\r\n");
    }

    #[test]
    fn whole_msg_matches_transcript() {
        let out = written(|o| write_msg(o, b"foo", b"1", None, b"hello"));
        assert_eq!(out, b"MSG foo 1 5\r\nhello\r\n");
        let out = written(|o| write_msg(o, b"foo", b"2", None, b"\r\n\r\n"));
        assert_eq!(out, b"MSG foo 2 4\r\n\r\n\r\n\r\n");
    }

    #[test]
    fn whole_hmsg_matches_transcript() {
        let out = written(|o| {
            write_hmsg(
                o,
                b"_INBOX.x",
                b"1",
                None,
                b"NATS/1.0 503\r\nNats-Subject: nobody\r\n\r\n",
                b"",
            )
        });
        assert_eq!(
            out,
            b"HMSG _INBOX.x 1 38 38\r\nNATS/1.0 503\r\nNats-Subject: nobody\r\n\r\n\r\n"
        );
    }

    #[test]
    fn info_has_space_before_crlf() {
        let out = written(|o| write_info(o, br#"{"server_id":"N"}"#));
        assert_eq!(out, b"INFO {\"server_id\":\"N\"} \r\n");
    }

    #[test]
    fn err_is_single_quoted() {
        let out = written(|o| write_err(o, "Unknown Protocol Operation"));
        assert_eq!(out, b"-ERR 'Unknown Protocol Operation'\r\n");
        let out = written(|o| write_err(o, r#"Permissions Violation for Publish to "b""#));
        assert_eq!(
            out,
            b"-ERR 'Permissions Violation for Publish to \"b\"'\r\n"
        );
    }

    #[test]
    fn writers_append_to_existing_content() {
        let mut out = BytesMut::from(&b"PONG\r\n"[..]);
        write_msg_header(&mut out, b"x", b"7", None, 1);
        assert_eq!(&out[..], b"PONG\r\nMSG x 7 1\r\n");
    }
}
