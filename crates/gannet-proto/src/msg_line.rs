//! The `MSG`/`HMSG` control line in parts, for a message that goes to many
//! receivers: `MSG <subject> <sid>` belongs to one receiver, ` [reply]` and the
//! sizes ` [header size] <size>\r\n` to the message. A fan-out formats the
//! sizes once per message ([`LineEnd`]), and a subscription on a literal subject
//! keeps its start ready made ([`LineStart`]), so each receiver costs a few
//! copies instead of a formatted line. Start, reply and end are the bytes
//! [`write_msg_header`] and [`write_hmsg_header`] write.
//!
//! [`write_msg_header`]: crate::encode::write_msg_header
//! [`write_hmsg_header`]: crate::encode::write_hmsg_header

/// Bytes a [`LineEnd`] can hold: two sizes of at most 20 digits, a space before
/// each, and CR LF.
const LINE_END_CAPACITY: usize = 1 + 20 + 1 + 20 + 2;

/// The sizes that end a message's control line, formatted once for all its
/// receivers: ` <payload size>\r\n` (`MSG`) or ` <header size> <total
/// size>\r\n` (`HMSG`). Small enough to be kept and copied inline.
#[derive(Clone, Copy)]
pub struct LineEnd {
    len: u8,
    bytes: [u8; LINE_END_CAPACITY],
}

impl LineEnd {
    /// The end of a `MSG` line.
    pub fn msg(payload_len: usize) -> LineEnd {
        let mut end = LineEnd::empty();
        end.push_number(payload_len);
        end.push(b"\r\n");
        end
    }

    /// The end of an `HMSG` line; `total_len` counts the header block and the
    /// payload.
    pub fn hmsg(header_len: usize, total_len: usize) -> LineEnd {
        let mut end = LineEnd::empty();
        end.push_number(header_len);
        end.push_number(total_len);
        end.push(b"\r\n");
        end
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    fn empty() -> LineEnd {
        LineEnd {
            len: 0,
            bytes: [0; LINE_END_CAPACITY],
        }
    }

    /// A space and `n` in decimal.
    fn push_number(&mut self, n: usize) {
        let mut digits = itoa::Buffer::new();
        self.push(b" ");
        self.push(digits.format(n).as_bytes());
    }

    /// Appends `part`: at most two numbers and CR LF, which
    /// [`LINE_END_CAPACITY`] has room for.
    fn push(&mut self, part: &[u8]) {
        let at = usize::from(self.len);
        self.bytes[at..at + part.len()].copy_from_slice(part);
        // At most LINE_END_CAPACITY (44) in all, so it fits a u8.
        self.len += part.len() as u8;
    }
}

impl std::fmt::Debug for LineEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LineEnd")
            .field(&String::from_utf8_lossy(self.as_bytes()))
            .finish()
    }
}

/// `HMSG <subject> <sid>` of one subscription, made once when it is created. From
/// its second byte on it is the `MSG` form. It is the start of every line the
/// subscription receives when its subject is literal (a literal subject is only
/// matched by itself), and it holds the subscription's subject and sid.
pub struct LineStart {
    line: Box<[u8]>,
    subject_len: usize,
}

/// `HMSG ` before the subject.
const HMSG_VERB: &[u8] = b"HMSG ";

impl LineStart {
    pub fn new(subject: &[u8], sid: &[u8]) -> LineStart {
        let mut line = Vec::with_capacity(HMSG_VERB.len() + subject.len() + 1 + sid.len());
        line.extend_from_slice(HMSG_VERB);
        line.extend_from_slice(subject);
        line.push(b' ');
        line.extend_from_slice(sid);
        LineStart {
            line: line.into_boxed_slice(),
            subject_len: subject.len(),
        }
    }

    pub fn subject(&self) -> &[u8] {
        &self.line[HMSG_VERB.len()..HMSG_VERB.len() + self.subject_len]
    }

    pub fn sid(&self) -> &[u8] {
        &self.line[HMSG_VERB.len() + self.subject_len + 1..]
    }

    /// `MSG <subject> <sid>`.
    pub fn msg(&self) -> &[u8] {
        &self.line[1..]
    }

    /// `HMSG <subject> <sid>`.
    pub fn hmsg(&self) -> &[u8] {
        &self.line
    }
}

impl std::fmt::Debug for LineStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineStart")
            .field("subject", &String::from_utf8_lossy(self.subject()))
            .field("sid", &String::from_utf8_lossy(self.sid()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use proptest::prelude::*;

    use super::*;
    use crate::encode::{write_hmsg_header, write_msg_header};

    fn general_msg(subject: &[u8], sid: &[u8], reply: Option<&[u8]>, len: usize) -> Vec<u8> {
        let mut out = BytesMut::new();
        write_msg_header(&mut out, subject, sid, reply, len);
        out.to_vec()
    }

    fn general_hmsg(
        subject: &[u8],
        sid: &[u8],
        reply: Option<&[u8]>,
        header_len: usize,
        total_len: usize,
    ) -> Vec<u8> {
        let mut out = BytesMut::new();
        write_hmsg_header(&mut out, subject, sid, reply, header_len, total_len);
        out.to_vec()
    }

    /// Start, reply and end, as a receiver's line is put together.
    fn joined(start: &[u8], reply: Option<&[u8]>, end: &LineEnd) -> Vec<u8> {
        let mut line = start.to_vec();
        if let Some(reply) = reply {
            line.push(b' ');
            line.extend_from_slice(reply);
        }
        line.extend_from_slice(end.as_bytes());
        line
    }

    #[test]
    fn parts_of_a_line() {
        let start = LineStart::new(b"foo.bar", b"12");
        assert_eq!(start.msg(), b"MSG foo.bar 12");
        assert_eq!(start.hmsg(), b"HMSG foo.bar 12");
        assert_eq!(start.subject(), b"foo.bar");
        assert_eq!(start.sid(), b"12");
        assert_eq!(LineEnd::msg(16).as_bytes(), b" 16\r\n");
        assert_eq!(LineEnd::msg(0).as_bytes(), b" 0\r\n");
        assert_eq!(LineEnd::hmsg(24, 29).as_bytes(), b" 24 29\r\n");
    }

    #[test]
    fn largest_sizes_fit() {
        let end = LineEnd::hmsg(usize::MAX, usize::MAX);
        assert_eq!(end.as_bytes().len(), LINE_END_CAPACITY);
        assert_eq!(
            end.as_bytes(),
            format!(" {} {}\r\n", usize::MAX, usize::MAX).as_bytes()
        );
    }

    #[test]
    fn empty_sid_and_subject_keep_their_places() {
        let start = LineStart::new(b"", b"");
        assert_eq!(start.subject(), b"");
        assert_eq!(start.sid(), b"");
        assert_eq!(start.msg(), b"MSG  ");
    }

    proptest! {
        /// Start, reply and end are byte for byte the line the general writers make.
        #[test]
        fn parts_make_the_general_line(
            subject in "[a-z0-9.*>_-]{1,40}",
            sid in "[0-9a-zA-Z]{1,12}",
            reply in proptest::option::of("[A-Za-z0-9._]{1,200}"),
            header_len in 0usize..100_000,
            payload_len in any::<usize>(),
        ) {
            let (subject, sid) = (subject.as_bytes(), sid.as_bytes());
            let reply = reply.as_deref().map(str::as_bytes);
            let start = LineStart::new(subject, sid);
            prop_assert_eq!(start.subject(), subject);
            prop_assert_eq!(start.sid(), sid);
            prop_assert_eq!(
                joined(start.msg(), reply, &LineEnd::msg(payload_len)),
                general_msg(subject, sid, reply, payload_len)
            );
            let total = header_len.saturating_add(payload_len);
            prop_assert_eq!(
                joined(start.hmsg(), reply, &LineEnd::hmsg(header_len, total)),
                general_hmsg(subject, sid, reply, header_len, total)
            );
        }
    }
}
