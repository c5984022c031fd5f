//! One record of a block file: how it is encoded, and how what a file holds
//! is checked (length, kind, field lengths, checksum) and decoded. The layout
//! is described in the module doc of `file.rs`.

use std::ops::Range;

use bytes::Bytes;

use crate::{StoreError, StoredMsg};

/// Bytes before the subject: length, checksum, kind, sequence, time, subject
/// length, headers length.
pub(crate) const HEADER: usize = 33;
/// The largest record a store writes or reads.
pub(crate) const MAX_RECORD: usize = 1 << 30;
/// The payload of a delete or first-sequence marker: the store's last sequence.
const MARKER_LEN: usize = HEADER + 8;

/// What a record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A message stored at `seq`.
    Msg = 1,
    /// The message at `seq` was deleted.
    Delete = 2,
    /// Every message below `seq` is gone (purge, compact, limits, expiry).
    First = 3,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Msg),
            2 => Some(Kind::Delete),
            3 => Some(Kind::First),
            _ => None,
        }
    }
}

/// The fixed fields of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub len: u32,
    pub crc: u32,
    pub kind: Kind,
    pub seq: u64,
    pub ts: i64,
    pub subject_len: u32,
    pub headers_len: u32,
}

impl Head {
    pub fn subject(&self) -> Range<usize> {
        HEADER..HEADER + self.subject_len as usize
    }

    pub fn headers(&self) -> Range<usize> {
        let start = self.subject().end;
        start..start + self.headers_len as usize
    }

    pub fn payload(&self) -> Range<usize> {
        self.headers().end..self.len as usize
    }
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// Appends a message record to `out`; its length.
pub(crate) fn encode_msg(
    out: &mut Vec<u8>,
    seq: u64,
    ts: i64,
    subject: &[u8],
    headers: &[u8],
    payload: &[u8],
) -> Result<u32, StoreError> {
    encode(out, Kind::Msg, seq, ts, subject, headers, payload)
}

/// Appends a delete or first-sequence marker carrying the store's last
/// sequence and time; its length.
pub(crate) fn encode_marker(
    out: &mut Vec<u8>,
    kind: Kind,
    seq: u64,
    last_seq: u64,
    last_ts: i64,
) -> Result<u32, StoreError> {
    encode(out, kind, seq, last_ts, &[], &[], &last_seq.to_le_bytes())
}

fn encode(
    out: &mut Vec<u8>,
    kind: Kind,
    seq: u64,
    ts: i64,
    subject: &[u8],
    headers: &[u8],
    payload: &[u8],
) -> Result<u32, StoreError> {
    let total = [subject.len(), headers.len(), payload.len()]
        .iter()
        .try_fold(HEADER, |sum, &n| sum.checked_add(n))
        .filter(|&t| t <= MAX_RECORD)
        .ok_or(StoreError::TooLarge)?;
    let start = out.len();
    out.reserve(total);
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.push(kind as u8);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&ts.to_le_bytes());
    out.extend_from_slice(&(subject.len() as u32).to_le_bytes());
    out.extend_from_slice(&(headers.len() as u32).to_le_bytes());
    out.extend_from_slice(subject);
    out.extend_from_slice(headers);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[start + 8..]);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    Ok(total as u32)
}

/// Reads and checks the fixed fields at the start of `b` (at least
/// [`HEADER`] bytes); the checksum is checked by [`verify`].
pub(crate) fn parse_head(b: &[u8]) -> Result<Head, &'static str> {
    if b.len() < HEADER {
        return Err("short record header");
    }
    let kind = b
        .get(8)
        .and_then(|&k| Kind::from_byte(k))
        .ok_or("unknown record kind")?;
    let head = Head {
        len: le_u32(b, 0),
        crc: le_u32(b, 4),
        kind,
        seq: le_u64(b, 9),
        ts: le_u64(b, 17) as i64,
        subject_len: le_u32(b, 25),
        headers_len: le_u32(b, 29),
    };
    let len = head.len as usize;
    if !(HEADER..=MAX_RECORD).contains(&len) {
        return Err("bad record length");
    }
    let fields = head.subject_len as usize + head.headers_len as usize;
    if fields > len - HEADER {
        return Err("field lengths past the record's end");
    }
    if kind != Kind::Msg && (len != MARKER_LEN || fields != 0) {
        return Err("bad marker length");
    }
    Ok(head)
}

/// Checks that `rec` is the whole record `head` describes and that its
/// checksum matches.
pub(crate) fn verify(head: &Head, rec: &[u8]) -> Result<(), &'static str> {
    if rec.len() != head.len as usize {
        return Err("record length mismatch");
    }
    match rec.get(8..) {
        Some(body) if crc32fast::hash(body) == head.crc => Ok(()),
        _ => Err("checksum mismatch"),
    }
}

/// Parses and verifies a whole record.
pub(crate) fn check(rec: &[u8]) -> Result<Head, &'static str> {
    let head = parse_head(rec)?;
    verify(&head, rec)?;
    Ok(head)
}

/// The last sequence a marker record carries.
pub(crate) fn marker_last(rec: &[u8]) -> u64 {
    le_u64(rec, HEADER)
}

/// The message a verified message record holds, sharing its bytes.
pub(crate) fn to_msg(head: &Head, rec: Vec<u8>) -> Option<StoredMsg> {
    if rec.len() != head.len as usize || head.kind != Kind::Msg {
        return None;
    }
    let rec = Bytes::from(rec);
    Some(StoredMsg {
        seq: head.seq,
        ts: head.ts,
        subject: rec.slice(head.subject()),
        headers: rec.slice(head.headers()),
        payload: rec.slice(head.payload()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_round_trip() {
        let mut buf = vec![9, 9];
        let len = encode_msg(&mut buf, 7, -3, b"a.b", b"NATS/1.0\r\n\r\n", b"hello").unwrap();
        assert_eq!(len as usize, HEADER + 3 + 12 + 5);
        let rec = buf[2..].to_vec();
        let head = check(&rec).unwrap();
        assert_eq!((head.kind, head.seq, head.ts), (Kind::Msg, 7, -3));
        let m = to_msg(&head, rec).unwrap();
        assert_eq!(m.subject, Bytes::from_static(b"a.b"));
        assert_eq!(m.headers, Bytes::from_static(b"NATS/1.0\r\n\r\n"));
        assert_eq!(m.payload, Bytes::from_static(b"hello"));
    }

    #[test]
    fn marker_round_trip() {
        let mut buf = Vec::new();
        encode_marker(&mut buf, Kind::First, 10, 9, 55).unwrap();
        let head = check(&buf).unwrap();
        assert_eq!((head.kind, head.seq, head.ts), (Kind::First, 10, 55));
        assert_eq!(marker_last(&buf), 9);
        assert!(to_msg(&head, buf).is_none());
    }

    #[test]
    fn every_flipped_byte_is_caught() {
        let mut buf = Vec::new();
        encode_msg(&mut buf, 1, 2, b"s", b"", b"payload").unwrap();
        for i in 0..buf.len() {
            let mut bad = buf.clone();
            bad[i] ^= 0x40;
            assert!(check(&bad).is_err(), "flip at {i}");
        }
    }

    #[test]
    fn bad_heads_are_rejected() {
        assert_eq!(parse_head(&[0; 10]), Err("short record header"));
        let mut buf = Vec::new();
        encode_msg(&mut buf, 1, 2, b"s", b"h", b"p").unwrap();
        let mut bad = buf.clone();
        bad[8] = 77;
        assert_eq!(parse_head(&bad), Err("unknown record kind"));
        let mut bad = buf.clone();
        bad[0..4].copy_from_slice(&5u32.to_le_bytes());
        assert_eq!(parse_head(&bad), Err("bad record length"));
        let mut bad = buf.clone();
        bad[25..29].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_head(&bad).is_err());
        let mut bad = buf.clone();
        bad[8] = Kind::Delete as u8;
        assert_eq!(parse_head(&bad), Err("bad marker length"));
        assert_eq!(
            verify(&parse_head(&buf).unwrap(), &buf[..buf.len() - 1]),
            Err("record length mismatch")
        );
    }

    #[test]
    fn oversized_records_are_refused() {
        let mut buf = Vec::new();
        let big = vec![0; MAX_RECORD];
        assert!(matches!(
            encode_msg(&mut buf, 1, 0, b"s", b"", &big),
            Err(StoreError::TooLarge)
        ));
        assert!(buf.is_empty());
    }
}
