//! The resumable parser of client operations (the job of nats-server's
//! `parser.go`, without calling into the client: it only turns bytes into
//! [`ClientOp`]s and [`ParseError`]s).
//!
//! # How it is driven
//!
//! The caller owns the read buffer. It calls [`Parser::parse`] with the bytes it
//! has not consumed yet; every operation starts at offset 0 of that slice.
//! `Ok(Some((op, n)))` means `op` took the first `n` bytes; `Ok(None)` means the
//! buffer ends inside an operation, and the caller must call again with the same
//! bytes plus whatever it reads next. After an `Err` the stream is unusable (the
//! connection closes); the parser resets itself so it could be reused.
//!
//! # Not scanning twice
//!
//! Between calls the parser remembers how far it searched for the `\n` of the
//! current control line (and how far it skipped the blanks after the op name), so
//! a line that trickles in byte by byte costs O(bytes) in total. Once a PUB/HPUB
//! control line is parsed, its arguments are kept as offsets into the buffer
//! together with the payload size; later calls only check whether enough bytes
//! have arrived. Ops borrow from the buffer: nothing is copied or allocated.
//!
//! A whole PUB/HPUB spelled the usual way (single spaces, CR LF) takes a fast
//! path that reads it in one pass; everything else, including every error, goes
//! through the general path, and a property test checks that both agree.
//!
//! # Limits, checked as early as possible
//!
//! * `max_control_line` bounds the argument part of a line (after the op name and
//!   its blanks, before the line end). It is checked on incomplete lines too, so a
//!   client streaming an endless line is cut as soon as the limit is passed. The
//!   reference skips any number of blanks after the op name and ignores anything
//!   after `PING`/`PONG`/`+OK`; Gannet must buffer those bytes, so it bounds each
//!   of them by `max_control_line` as well (no real client comes near that).
//! * `max_payload` is checked as soon as a PUB/HPUB control line is complete,
//!   before any payload byte arrives.
//! * An unknown op name is refused as soon as its first wrong byte is seen.
//!
//! Every decision taken on a partial buffer is the one the complete buffer would
//! give, so the op sequence never depends on how the stream was cut.
use memchr::memchr;

use crate::{ClientOp, ParseError};

/// Longest number accepted as a PUB/HPUB size or an UNSUB max, in digits. The
/// reference refuses longer numbers (so anything from 1 GB up), even with leading
/// zeros; sizes of 10 digits or more are malformed (`BadPub`), and such an UNSUB
/// max counts as no max.
pub const MAX_SIZE_DIGITS: usize = 9;

/// Limits the parser enforces while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest argument part of a control line (after `OP `, before CR LF).
    pub max_control_line: usize,
    /// Largest PUB/HPUB total size.
    pub max_payload: usize,
}

impl Limits {
    /// nats-server's default `max_control_line`: 4 KiB.
    pub const DEFAULT_MAX_CONTROL_LINE: usize = 4096;
    /// nats-server's default `max_payload`: 1 MiB.
    pub const DEFAULT_MAX_PAYLOAD: usize = 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_control_line: Self::DEFAULT_MAX_CONTROL_LINE,
            max_payload: Self::DEFAULT_MAX_PAYLOAD,
        }
    }
}

/// Parses client operations from a byte stream that may arrive cut at any byte.
#[derive(Debug)]
pub struct Parser {
    limits: Limits,
    state: State,
}

/// Where the parser stands inside the operation at the front of the buffer.
#[derive(Debug, Clone, Copy)]
enum State {
    /// Reading a control line whose `\n` has not arrived yet.
    Line {
        /// Bytes from the start already searched for `\n` (none found).
        scanned: usize,
        /// How far the blanks after the op name have been skipped (0 = not yet).
        /// Once it points at a non-blank byte, that is where the arguments start.
        blanks_end: usize,
    },
    /// A PUB/HPUB control line was parsed; waiting for the payload and its CR LF.
    Payload(PendingPub),
}

impl State {
    const START: State = State::Line {
        scanned: 0,
        blanks_end: 0,
    };
}

/// A parsed PUB/HPUB control line, as offsets into the buffer.
#[derive(Debug, Clone, Copy)]
struct PendingPub {
    subject: Span,
    reply: Option<Span>,
    /// `Some(header bytes)` for HPUB.
    header_len: Option<usize>,
    /// Offset of the first payload byte (just after the control line's `\n`).
    payload_start: usize,
    /// Header plus payload bytes.
    total: usize,
}

/// A half-open byte range `start..end` of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn of(self, buf: &[u8]) -> &[u8] {
        // Spans always lie inside the control line that was parsed, which the
        // caller keeps at the front of the buffer; `get` keeps even a caller
        // that breaks that contract from causing a panic.
        buf.get(self.start..self.end).unwrap_or_default()
    }
}

/// The operations the client may send, told apart by their name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Pub,
    HPub,
    Sub,
    Unsub,
    Ping,
    Pong,
    Connect,
    Info,
    Ok,
    Err,
}

/// What may follow an op name on its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// At least one blank, then arguments (`PUB`, `HPUB`, `SUB`, `UNSUB`, `-ERR`).
    BlankThenArgs,
    /// Arguments, after optional blanks (`CONNECT`, `INFO`: `CONNECT\r\n` is a
    /// CONNECT without JSON).
    Args,
    /// Anything; it is ignored (`PING`, `PONG`, `+OK`: `PINGX` is a PING).
    Ignored,
}

impl Verb {
    /// The name in upper case; the client may send it in any case.
    fn name(self) -> &'static [u8] {
        match self {
            Verb::Pub => b"PUB",
            Verb::HPub => b"HPUB",
            Verb::Sub => b"SUB",
            Verb::Unsub => b"UNSUB",
            Verb::Ping => b"PING",
            Verb::Pong => b"PONG",
            Verb::Connect => b"CONNECT",
            Verb::Info => b"INFO",
            Verb::Ok => b"+OK",
            Verb::Err => b"-ERR",
        }
    }

    fn shape(self) -> Shape {
        match self {
            Verb::Pub | Verb::HPub | Verb::Sub | Verb::Unsub | Verb::Err => Shape::BlankThenArgs,
            Verb::Connect | Verb::Info => Shape::Args,
            Verb::Ping | Verb::Pong | Verb::Ok => Shape::Ignored,
        }
    }
}

#[inline]
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Index of the first non-blank byte of `line` at or after `from`.
#[inline]
fn skip_blanks(line: &[u8], from: usize) -> usize {
    let mut i = from;
    while line.get(i).is_some_and(|&b| is_blank(b)) {
        i += 1;
    }
    i
}

/// Recognises the op name at the front of `line`, which may be incomplete.
/// `Ok(None)`: the bytes so far are a prefix of some name.
#[inline]
fn match_verb(line: &[u8]) -> Result<Option<Verb>, ParseError> {
    // Fast path for the names a busy client sends, whole, in any case.
    if let [a, b, c, d, ..] = *line {
        let verb = match [a, b, c, d].map(|x| x.to_ascii_uppercase()) {
            [b'P', b'U', b'B', _] => Some(Verb::Pub),
            [b'S', b'U', b'B', _] => Some(Verb::Sub),
            [b'H', b'P', b'U', b'B'] => Some(Verb::HPub),
            [b'P', b'I', b'N', b'G'] => Some(Verb::Ping),
            [b'P', b'O', b'N', b'G'] => Some(Verb::Pong),
            _ => None,
        };
        if verb.is_some() {
            return Ok(verb);
        }
    }
    match_verb_slow(line)
}

/// [`match_verb`] for any name and any prefix of one.
fn match_verb_slow(line: &[u8]) -> Result<Option<Verb>, ParseError> {
    let Some(&first) = line.first() else {
        return Ok(None);
    };
    let verb = match first.to_ascii_uppercase() {
        b'P' => match line.get(1).map(u8::to_ascii_uppercase) {
            None => return Ok(None),
            Some(b'U') => Verb::Pub,
            Some(b'I') => Verb::Ping,
            Some(b'O') => Verb::Pong,
            Some(_) => return Err(ParseError::UnknownOp),
        },
        b'H' => Verb::HPub,
        b'S' => Verb::Sub,
        b'U' => Verb::Unsub,
        b'C' => Verb::Connect,
        b'I' => Verb::Info,
        b'+' => Verb::Ok,
        b'-' => Verb::Err,
        _ => return Err(ParseError::UnknownOp),
    };
    let name = verb.name();
    let n = name.len().min(line.len());
    if !line[..n].eq_ignore_ascii_case(&name[..n]) {
        return Err(ParseError::UnknownOp);
    }
    Ok((n == name.len()).then_some(verb))
}

/// Parses a decimal size: 1 to [`MAX_SIZE_DIGITS`] ASCII digits, nothing else.
#[inline]
fn parse_size(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > MAX_SIZE_DIGITS {
        return None;
    }
    // Nine digits fit in a usize even on 32-bit targets: no overflow checks.
    const _: () = assert!(MAX_SIZE_DIGITS <= 9);
    digits.iter().try_fold(0usize, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + usize::from(b - b'0'))
    })
}

/// Where an argument of [`Parser::fast_pub`] that starts at `from` ends: the
/// index of the first byte from there that is a space or a control byte (at
/// most `b' '`), or `buf.len()`. Reads eight bytes at a time while there are
/// eight: a PUB line's subject, reply and size are usually longer than a few
/// bytes, and a byte at a time cost a compare and a bounds check each.
#[inline]
fn arg_end(buf: &[u8], from: usize) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGH_BITS: u64 = u64::from_le_bytes([0x80; 8]);
    /// Bytes below this end an argument.
    const BOUND: u64 = ONES * (b' ' as u64 + 1);
    let mut i = from;
    while let Some(chunk) = buf.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let word = u64::from_le_bytes(*chunk);
        // The high bit of each byte below BOUND (bytes of 0x80 and up are
        // excluded by `!word`). A borrow can flag a byte only above one
        // that is below BOUND itself, so the lowest flag is exact.
        let below = word.wrapping_sub(BOUND) & !word & HIGH_BITS;
        if below != 0 {
            return i + (below.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while buf.get(i).is_some_and(|&b| b > b' ') {
        i += 1;
    }
    i
}

/// The subject, header size and total size of an HPUB line (`HPUB <subject>
/// [reply] <header size> <total size>`, without its CR LF), read as the
/// parser reads them; `None` for any other line. For a server that refuses
/// the message as too large and still reports what its headers asked.
pub fn hpub_sizes(line: &[u8]) -> Option<(&[u8], usize, usize)> {
    let verb = line.get(..4)?;
    if !verb.eq_ignore_ascii_case(b"HPUB") || !line.get(4).copied().is_some_and(is_blank) {
        return None;
    }
    let mut args = [Span { start: 0, end: 0 }; MAX_ARGS];
    let count = split_args(line, 4, &mut args)?;
    let size = |span: Span| parse_size(span.of(line));
    let (header_len, total) = match count {
        3 => (size(args[1])?, size(args[2])?),
        4 => (size(args[2])?, size(args[3])?),
        _ => return None,
    };
    Some((args[0].of(line), header_len, total))
}

/// Most arguments any op takes (HPUB: subject, reply, header size, total size).
const MAX_ARGS: usize = 4;

/// Splits `line[from..]` at runs of blanks into at most [`MAX_ARGS`] spans
/// (offsets into `line`). Returns how many there are, or `None` for more.
#[inline]
fn split_args(line: &[u8], from: usize, out: &mut [Span; MAX_ARGS]) -> Option<usize> {
    /// Marks "between arguments" in `token_start`.
    const NONE: usize = usize::MAX;
    let mut count = 0;
    let mut token_start = NONE;
    let tail = line.get(from..).unwrap_or_default();
    for (i, &b) in tail.iter().enumerate() {
        if is_blank(b) {
            if token_start != NONE {
                if count == MAX_ARGS {
                    return None;
                }
                out[count] = Span {
                    start: from + token_start,
                    end: from + i,
                };
                count += 1;
                token_start = NONE;
            }
        } else if token_start == NONE {
            token_start = i;
        }
    }
    if token_start != NONE {
        if count == MAX_ARGS {
            return None;
        }
        out[count] = Span {
            start: from + token_start,
            end: line.len(),
        };
        count += 1;
    }
    Some(count)
}

impl Parser {
    /// A parser at the start of a stream, enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Parser {
            limits,
            state: State::START,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Changes the limits; they apply from the next check on, including to the
    /// operation in progress.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Forgets any operation in progress, as if the stream started afresh.
    pub fn reset(&mut self) {
        self.state = State::START;
    }

    /// Parses the next operation at the front of `buf`.
    ///
    /// Returns `Ok(Some((op, consumed)))` for a complete operation that took the
    /// first `consumed` bytes, `Ok(None)` when `buf` holds only part of one. The
    /// caller then keeps the unconsumed bytes, appends what it reads next and
    /// calls again with the longer buffer; the parser remembers how far it got so
    /// that nothing is scanned twice.
    pub fn parse<'a>(
        &mut self,
        buf: &'a [u8],
    ) -> Result<Option<(ClientOp<'a>, usize)>, ParseError> {
        if let State::Line { scanned: 0, .. } = self.state {
            if let Some(done) = self.fast_pub(buf) {
                return Ok(Some(done));
            }
        }
        self.parse_general(buf)
    }

    /// [`Parser::parse`] without the fast path: every op, every error, and the
    /// resumption of incomplete ones.
    fn parse_general<'a>(
        &mut self,
        buf: &'a [u8],
    ) -> Result<Option<(ClientOp<'a>, usize)>, ParseError> {
        let result = match self.state {
            State::Payload(pending) => self.finish_pub(buf, pending),
            State::Line {
                scanned,
                blanks_end,
            } => {
                let from = scanned.min(buf.len());
                match memchr(b'\n', &buf[from..]) {
                    Some(i) => self.parse_line(buf, from + i),
                    None => self.check_partial_line(buf, blanks_end).map(|()| None),
                }
            }
        };
        if result.is_err() {
            self.state = State::START;
        }
        result
    }

    /// The fast path for the commonest ops: a whole, well-formed PUB or HPUB
    /// spelled `PUB <subject> [reply] <size>\r\n` (or `HPUB ... <header size>
    /// <total size>\r\n`) with single spaces, at the front of `buf`. Anything
    /// else (another op or spelling, an incomplete or malformed op, a limit
    /// passed) gives `None` and takes the general path, which returns the same as
    /// this would for the inputs this accepts.
    #[inline]
    fn fast_pub<'a>(&self, buf: &'a [u8]) -> Option<(ClientOp<'a>, usize)> {
        let upper = |b: u8| b.to_ascii_uppercase();
        let (name_len, headers) = match *buf {
            [p, u, b, b' ', ..] if [p, u, b].map(upper) == *b"PUB" => (4, false),
            [h, p, u, b, b' ', ..] if [h, p, u, b].map(upper) == *b"HPUB" => (5, true),
            _ => return None,
        };
        // Two to four arguments, each a run of bytes above the space, separated
        // by single spaces and ended by CR LF.
        let mut args = [Span { start: 0, end: 0 }; MAX_ARGS];
        let mut count = 0;
        let mut i = name_len;
        let cr = loop {
            let start = i;
            i = arg_end(buf, i);
            if i == start || count == MAX_ARGS {
                return None;
            }
            args[count] = Span { start, end: i };
            count += 1;
            match buf.get(i) {
                Some(b' ') => i += 1,
                Some(b'\r') => break i,
                _ => return None,
            }
        };
        let size_args = 1 + usize::from(headers);
        if buf.get(cr + 1) != Some(&b'\n')
            || !(size_args + 1..=size_args + 2).contains(&count)
            || cr - name_len > self.limits.max_control_line
        {
            return None;
        }
        let total = parse_size(args[count - 1].of(buf))?;
        let header_len = if headers {
            Some(parse_size(args[count - 2].of(buf))?).filter(|&h| h <= total)?
        } else {
            0
        };
        if total > self.limits.max_payload {
            return None;
        }
        let payload_start = cr + 2;
        let end = payload_start + total;
        if buf.get(end..end + 2) != Some(b"\r\n") {
            return None;
        }
        let subject = args[0].of(buf);
        let reply = (count == size_args + 2).then(|| args[1].of(buf));
        let op = if headers {
            ClientOp::HPub {
                subject,
                reply,
                headers: &buf[payload_start..payload_start + header_len],
                payload: &buf[payload_start + header_len..end],
            }
        } else {
            ClientOp::Pub {
                subject,
                reply,
                payload: &buf[payload_start..end],
            }
        };
        Some((op, end + 2))
    }

    /// Checks what can already be refused in an incomplete control line (no `\n`
    /// in `buf`) and records the progress made.
    fn check_partial_line(&mut self, buf: &[u8], blanks_end: usize) -> Result<(), ParseError> {
        let mut progress = blanks_end;
        let checked = self.check_partial_prefix(buf, &mut progress);
        self.state = State::Line {
            scanned: buf.len(),
            blanks_end: progress,
        };
        checked
    }

    fn check_partial_prefix(&self, buf: &[u8], blanks_end: &mut usize) -> Result<(), ParseError> {
        let Some(verb) = match_verb(buf)? else {
            return Ok(());
        };
        let name_len = verb.name().len();
        let max = self.limits.max_control_line;
        // A CR at the very end may turn out to be the first half of the line end.
        let content_len = buf.len() - usize::from(buf.last() == Some(&b'\r'));
        match verb.shape() {
            Shape::Ignored => {
                if content_len.saturating_sub(name_len) > max {
                    return Err(ParseError::MaxControlLine);
                }
                return Ok(());
            }
            Shape::BlankThenArgs => match buf.get(name_len) {
                None => return Ok(()),
                Some(&b) if !is_blank(b) => return Err(ParseError::UnknownOp),
                Some(_) => {}
            },
            Shape::Args => {}
        }
        // Resume skipping blanks where the previous call stopped: up to there,
        // everything after the name was blank.
        let args_start = skip_blanks(buf, (*blanks_end).max(name_len));
        *blanks_end = args_start;
        if args_start - name_len > max || content_len.saturating_sub(args_start) > max {
            return Err(ParseError::MaxControlLine);
        }
        Ok(())
    }

    /// Parses the complete control line `buf[..nl]` (`buf[nl]` is its `\n`).
    #[inline]
    fn parse_line<'a>(
        &mut self,
        buf: &'a [u8],
        nl: usize,
    ) -> Result<Option<(ClientOp<'a>, usize)>, ParseError> {
        self.state = State::START;
        let consumed = nl + 1;
        let line = &buf[..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let verb = match_verb(line)?.ok_or(ParseError::UnknownOp)?;
        let name_len = verb.name().len();
        let max = self.limits.max_control_line;
        match verb.shape() {
            Shape::Ignored => {
                if line.len() - name_len > max {
                    return Err(ParseError::MaxControlLine);
                }
                let op = match verb {
                    Verb::Ping => ClientOp::Ping,
                    Verb::Pong => ClientOp::Pong,
                    _ => ClientOp::Ok,
                };
                return Ok(Some((op, consumed)));
            }
            Shape::BlankThenArgs => {
                if !line.get(name_len).is_some_and(|&b| is_blank(b)) {
                    return Err(ParseError::UnknownOp);
                }
            }
            Shape::Args => {}
        }
        let args_start = skip_blanks(line, name_len);
        if args_start - name_len > max || line.len() - args_start > max {
            return Err(ParseError::MaxControlLine);
        }
        let op = match verb {
            Verb::Pub | Verb::HPub => {
                let pending = self.pub_args(verb, line, args_start, consumed)?;
                return self.finish_pub(buf, pending);
            }
            Verb::Sub => {
                let mut args = [Span { start: 0, end: 0 }; MAX_ARGS];
                match split_args(line, args_start, &mut args) {
                    Some(2) => ClientOp::Sub {
                        subject: args[0].of(line),
                        queue: None,
                        sid: args[1].of(line),
                    },
                    Some(3) => ClientOp::Sub {
                        subject: args[0].of(line),
                        queue: Some(args[1].of(line)),
                        sid: args[2].of(line),
                    },
                    _ => return Err(ParseError::BadSub),
                }
            }
            Verb::Unsub => {
                let mut args = [Span { start: 0, end: 0 }; MAX_ARGS];
                match split_args(line, args_start, &mut args) {
                    Some(1) => ClientOp::Unsub {
                        sid: args[0].of(line),
                        max: None,
                    },
                    Some(2) => ClientOp::Unsub {
                        sid: args[0].of(line),
                        max: parse_size(args[1].of(line)).and_then(|n| u64::try_from(n).ok()),
                    },
                    _ => return Err(ParseError::BadSub),
                }
            }
            Verb::Connect => {
                let mut json = &line[args_start..];
                while let [rest @ .., last] = json {
                    if !is_blank(*last) {
                        break;
                    }
                    json = rest;
                }
                ClientOp::Connect { json }
            }
            Verb::Info => ClientOp::Info,
            Verb::Err => ClientOp::Err,
            Verb::Ping | Verb::Pong | Verb::Ok => return Err(ParseError::UnknownOp),
        };
        Ok(Some((op, consumed)))
    }

    /// Reads the arguments of a PUB/HPUB line and checks the sizes.
    #[inline]
    fn pub_args(
        &self,
        verb: Verb,
        line: &[u8],
        args_start: usize,
        payload_start: usize,
    ) -> Result<PendingPub, ParseError> {
        let mut args = [Span { start: 0, end: 0 }; MAX_ARGS];
        let count = split_args(line, args_start, &mut args).ok_or(ParseError::BadPub)?;
        let size = |span: Span| parse_size(span.of(line)).ok_or(ParseError::BadPub);
        let (reply, header_len, total) = match (verb, count) {
            (Verb::Pub, 2) => (None, None, size(args[1])?),
            (Verb::Pub, 3) => (Some(args[1]), None, size(args[2])?),
            (Verb::HPub, 3) => (None, Some(size(args[1])?), size(args[2])?),
            (Verb::HPub, 4) => (Some(args[1]), Some(size(args[2])?), size(args[3])?),
            _ => return Err(ParseError::BadPub),
        };
        if header_len.is_some_and(|h| h > total) {
            return Err(ParseError::BadPub);
        }
        if total > self.limits.max_payload {
            return Err(ParseError::MaxPayload);
        }
        Ok(PendingPub {
            subject: args[0],
            reply,
            header_len,
            payload_start,
            total,
        })
    }

    /// Returns the PUB/HPUB once its payload and CR LF are in `buf`.
    #[inline]
    fn finish_pub<'a>(
        &mut self,
        buf: &'a [u8],
        pending: PendingPub,
    ) -> Result<Option<(ClientOp<'a>, usize)>, ParseError> {
        let end = pending.payload_start.saturating_add(pending.total);
        match buf.get(end..end.saturating_add(2)) {
            Some(b"\r\n") => {}
            Some(_) => return Err(ParseError::UnknownOp),
            None => {
                // Refuse a wrong first terminator byte at once; else wait.
                if buf.get(end).is_some_and(|&b| b != b'\r') {
                    return Err(ParseError::UnknownOp);
                }
                self.state = State::Payload(pending);
                return Ok(None);
            }
        }
        self.state = State::START;
        let body = buf.get(pending.payload_start..end).unwrap_or_default();
        let subject = pending.subject.of(buf);
        let reply = pending.reply.map(|r| r.of(buf));
        let op = match pending.header_len {
            None => ClientOp::Pub {
                subject,
                reply,
                payload: body,
            },
            Some(h) => {
                let (headers, payload) = body.split_at(h.min(body.len()));
                ClientOp::HPub {
                    subject,
                    reply,
                    headers,
                    payload,
                }
            }
        };
        Ok(Some((op, end + 2)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Parsed<'a> = Result<Option<(ClientOp<'a>, usize)>, ParseError>;

    fn parse(input: &[u8]) -> Parsed<'_> {
        Parser::new(Limits::default()).parse(input)
    }

    fn op(input: &[u8]) -> ClientOp<'_> {
        match parse(input) {
            Ok(Some((op, n))) => {
                assert_eq!(n, input.len(), "whole input should be one op: {input:?}");
                op
            }
            other => panic!(
                "expected an op from {:?}, got {other:?}",
                String::from_utf8_lossy(input)
            ),
        }
    }

    fn err(input: &[u8]) -> ParseError {
        err_with(Limits::default(), input)
    }

    fn err_with(limits: Limits, input: &[u8]) -> ParseError {
        match Parser::new(limits).parse(input) {
            Err(e) => e,
            other => panic!(
                "expected an error from {:?}, got {other:?}",
                String::from_utf8_lossy(input)
            ),
        }
    }

    fn small(max_control_line: usize, max_payload: usize) -> Limits {
        Limits {
            max_control_line,
            max_payload,
        }
    }

    /// Feeds `input` one byte more at a time, as a caller appending each read.
    fn feed_bytewise(parser: &mut Parser, input: &[u8]) -> Vec<Parsed<'static>> {
        let input: &'static [u8] = Box::leak(input.to_vec().into_boxed_slice());
        let mut results = Vec::new();
        let mut start = 0;
        for end in 1..=input.len() {
            loop {
                let r = parser.parse(&input[start..end]);
                let done = !matches!(r, Ok(Some(_)));
                if let Ok(Some((_, n))) = r {
                    start += n;
                }
                results.push(r);
                if done || start == end {
                    break;
                }
            }
        }
        results
    }

    #[test]
    fn ping_and_pong_end_with_crlf_or_bare_lf() {
        assert_eq!(op(b"PING\r\n"), ClientOp::Ping);
        assert_eq!(op(b"PING\n"), ClientOp::Ping);
        assert_eq!(op(b"PONG\r\n"), ClientOp::Pong);
        assert_eq!(op(b"PONG\n"), ClientOp::Pong);
    }

    #[test]
    fn anything_after_ping_or_pong_is_ignored() {
        assert_eq!(op(b"PING foo\r\n"), ClientOp::Ping);
        assert_eq!(op(b"PINGX\r\n"), ClientOp::Ping);
        assert_eq!(op(b"PONG\tbar baz\n"), ClientOp::Pong);
        assert_eq!(op(b"+OKAY\r\n"), ClientOp::Ok);
    }

    #[test]
    fn op_names_are_case_insensitive() {
        assert_eq!(op(b"Ping\n"), ClientOp::Ping);
        assert_eq!(op(b"pOnG\r\n"), ClientOp::Pong);
        assert_eq!(
            op(b"sub foo 1\r\n"),
            ClientOp::Sub {
                subject: b"foo",
                queue: None,
                sid: b"1"
            }
        );
        assert_eq!(
            op(b"pUb foo 2\r\nhi\r\n"),
            ClientOp::Pub {
                subject: b"foo",
                reply: None,
                payload: b"hi"
            }
        );
        assert_eq!(
            op(b"hpub h 2 2\r\nab\r\n"),
            ClientOp::HPub {
                subject: b"h",
                reply: None,
                headers: b"ab",
                payload: b""
            }
        );
        assert_eq!(
            op(b"Unsub 1\r\n"),
            ClientOp::Unsub {
                sid: b"1",
                max: None
            }
        );
        assert_eq!(op(b"connect {}\r\n"), ClientOp::Connect { json: b"{}" });
        assert_eq!(op(b"info {}\r\n"), ClientOp::Info);
        assert_eq!(op(b"+ok\r\n"), ClientOp::Ok);
        assert_eq!(op(b"-err 'x'\r\n"), ClientOp::Err);
    }

    #[test]
    fn arguments_are_separated_by_runs_of_spaces_and_tabs() {
        assert_eq!(
            op(b"sub\tfoo  1\r\n"),
            ClientOp::Sub {
                subject: b"foo",
                queue: None,
                sid: b"1"
            }
        );
        assert_eq!(
            op(b"pub foo\t 2\r\nhi\r\n"),
            ClientOp::Pub {
                subject: b"foo",
                reply: None,
                payload: b"hi"
            }
        );
        assert_eq!(
            op(b"SUB \t foo \t q \t 9 \t\r\n"),
            ClientOp::Sub {
                subject: b"foo",
                queue: Some(b"q"),
                sid: b"9"
            }
        );
    }

    #[test]
    fn pub_with_and_without_reply() {
        assert_eq!(
            op(b"PUB foo 5\r\nhello\r\n"),
            ClientOp::Pub {
                subject: b"foo",
                reply: None,
                payload: b"hello"
            }
        );
        assert_eq!(
            op(b"PUB foo bar.reply 5\r\nhello\r\n"),
            ClientOp::Pub {
                subject: b"foo",
                reply: Some(b"bar.reply"),
                payload: b"hello"
            }
        );
    }

    #[test]
    fn pub_control_line_may_end_with_bare_lf() {
        assert_eq!(
            op(b"PUB foo 2\nhi\r\n"),
            ClientOp::Pub {
                subject: b"foo",
                reply: None,
                payload: b"hi"
            }
        );
    }

    #[test]
    fn pub_payload_is_length_delimited() {
        assert_eq!(
            op(b"PUB foo 0\r\n\r\n"),
            ClientOp::Pub {
                subject: b"foo",
                reply: None,
                payload: b""
            }
        );
        assert_eq!(
            op(b"PUB foo 4\r\n\r\n\r\n\r\n"),
            ClientOp::Pub {
                subject: b"foo",
                reply: None,
                payload: b"\r\n\r\n"
            }
        );
    }

    #[test]
    fn hpub_splits_header_block_from_payload() {
        assert_eq!(
            op(b"HPUB h 24 29\r\nNATS/1.0\r\nA: 1\r\nB: 2\r\n\r\nhello\r\n"),
            ClientOp::HPub {
                subject: b"h",
                reply: None,
                headers: b"NATS/1.0\r\nA: 1\r\nB: 2\r\n\r\n",
                payload: b"hello"
            }
        );
        assert_eq!(
            op(b"HPUB h rep.1 24 29\r\nNATS/1.0\r\nA: 1\r\nB: 2\r\n\r\nhello\r\n"),
            ClientOp::HPub {
                subject: b"h",
                reply: Some(b"rep.1"),
                headers: b"NATS/1.0\r\nA: 1\r\nB: 2\r\n\r\n",
                payload: b"hello"
            }
        );
        assert_eq!(
            op(b"HPUB h 12 12\r\nNATS/1.0\r\n\r\n\r\n"),
            ClientOp::HPub {
                subject: b"h",
                reply: None,
                headers: b"NATS/1.0\r\n\r\n",
                payload: b""
            }
        );
        assert_eq!(
            op(b"HPUB h 7 8\r\nFOO\r\n\r\nx\r\n"),
            ClientOp::HPub {
                subject: b"h",
                reply: None,
                headers: b"FOO\r\n\r\n",
                payload: b"x"
            }
        );
    }

    #[test]
    fn sub_with_and_without_queue() {
        assert_eq!(
            op(b"SUB foo 1\r\n"),
            ClientOp::Sub {
                subject: b"foo",
                queue: None,
                sid: b"1"
            }
        );
        assert_eq!(
            op(b"SUB foo q1 2\r\n"),
            ClientOp::Sub {
                subject: b"foo",
                queue: Some(b"q1"),
                sid: b"2"
            }
        );
        assert_eq!(
            op(b"SUB a abc\n"),
            ClientOp::Sub {
                subject: b"a",
                queue: None,
                sid: b"abc"
            }
        );
    }

    #[test]
    fn sub_subject_is_not_validated_by_the_parser() {
        assert_eq!(
            op(b"SUB foo..bar 1\r\n"),
            ClientOp::Sub {
                subject: b"foo..bar",
                queue: None,
                sid: b"1"
            }
        );
    }

    #[test]
    fn sub_with_too_few_or_too_many_args_is_bad_sub() {
        assert_eq!(err(b"SUB a\r\n"), ParseError::BadSub);
        assert_eq!(err(b"SUB a b c d\r\n"), ParseError::BadSub);
        assert_eq!(err(b"SUB \r\n"), ParseError::BadSub);
        assert_eq!(err(b"SUB a b c d e f\r\n"), ParseError::BadSub);
    }

    #[test]
    fn unsub_with_and_without_max() {
        assert_eq!(
            op(b"UNSUB 1\r\n"),
            ClientOp::Unsub {
                sid: b"1",
                max: None
            }
        );
        assert_eq!(
            op(b"UNSUB 1 2\r\n"),
            ClientOp::Unsub {
                sid: b"1",
                max: Some(2)
            }
        );
        assert_eq!(
            op(b"UNSUB 2 0\r\n"),
            ClientOp::Unsub {
                sid: b"2",
                max: Some(0)
            }
        );
        assert_eq!(
            op(b"UNSUB 1 999999999\r\n"),
            ClientOp::Unsub {
                sid: b"1",
                max: Some(999_999_999)
            }
        );
    }

    #[test]
    fn unsub_with_non_numeric_max_is_plain_unsub() {
        for line in [
            &b"UNSUB 3 x\r\n"[..],
            b"UNSUB 3 -1\r\n",
            b"UNSUB 3 1000000000\r\n",
            b"UNSUB 3 1x\r\n",
        ] {
            assert_eq!(
                op(line),
                ClientOp::Unsub {
                    sid: b"3",
                    max: None
                }
            );
        }
    }

    #[test]
    fn bare_unsub_is_unknown_op() {
        assert_eq!(err(b"UNSUB\r\n"), ParseError::UnknownOp);
        assert_eq!(err(b"UNSUB\n"), ParseError::UnknownOp);
    }

    #[test]
    fn unsub_with_blanks_only_or_three_args_is_bad_sub() {
        assert_eq!(err(b"UNSUB \r\n"), ParseError::BadSub);
        assert_eq!(err(b"UNSUB 1 2 3\r\n"), ParseError::BadSub);
    }

    #[test]
    fn connect_json_is_rest_of_line_trimmed() {
        assert_eq!(
            op(b"CONNECT {\"verbose\":false}\r\n"),
            ClientOp::Connect {
                json: b"{\"verbose\":false}"
            }
        );
        assert_eq!(
            op(b"CONNECT \t {\"a\": 1, \"b\":\t2} \t\r\n"),
            ClientOp::Connect {
                json: b"{\"a\": 1, \"b\":\t2}"
            }
        );
        assert_eq!(
            op(b"CONNECT {bad json}\n"),
            ClientOp::Connect {
                json: b"{bad json}"
            }
        );
    }

    #[test]
    fn connect_without_json_is_empty() {
        assert_eq!(op(b"CONNECT\r\n"), ClientOp::Connect { json: b"" });
        assert_eq!(op(b"CONNECT\n"), ClientOp::Connect { json: b"" });
        assert_eq!(op(b"CONNECT   \r\n"), ClientOp::Connect { json: b"" });
    }

    #[test]
    fn client_info_ok_and_err_are_recognised() {
        assert_eq!(op(b"INFO {}\r\n"), ClientOp::Info);
        assert_eq!(op(b"INFO\r\n"), ClientOp::Info);
        assert_eq!(op(b"+OK\r\n"), ClientOp::Ok);
        assert_eq!(op(b"-ERR 'x'\r\n"), ClientOp::Err);
    }

    #[test]
    fn err_without_blank_is_unknown_op() {
        assert_eq!(err(b"-ERR\r\n"), ParseError::UnknownOp);
        assert_eq!(err(b"-ERRx\r\n"), ParseError::UnknownOp);
    }

    #[test]
    fn unknown_op_empty_line_and_client_msg_are_unknown_op() {
        assert_eq!(err(b"FOO bar\r\n"), ParseError::UnknownOp);
        assert_eq!(err(b"\r\n"), ParseError::UnknownOp);
        assert_eq!(err(b"\n"), ParseError::UnknownOp);
        assert_eq!(err(b"MSG foo 1 1\r\nx\r\n"), ParseError::UnknownOp);
        assert_eq!(err(b"HMSG foo 1 1 1\r\nx\r\n"), ParseError::UnknownOp);
        assert_eq!(err(b" PING\r\n"), ParseError::UnknownOp);
        assert_eq!(err(b"PIN\r\n"), ParseError::UnknownOp);
        assert_eq!(err(b"PI\n"), ParseError::UnknownOp);
    }

    #[test]
    fn op_name_needing_blank_is_unknown_without_one() {
        assert_eq!(err(b"PUB\r\n"), ParseError::UnknownOp);
        assert_eq!(err(b"PUBX foo 1\r\n"), ParseError::UnknownOp);
        assert_eq!(err(b"SUBfoo 1\r\n"), ParseError::UnknownOp);
        assert_eq!(err(b"HPUB\n"), ParseError::UnknownOp);
    }

    #[test]
    fn unknown_op_is_refused_before_the_line_ends() {
        assert_eq!(err(b"F"), ParseError::UnknownOp);
        assert_eq!(err(b"PX"), ParseError::UnknownOp);
        assert_eq!(err(b"CONNEX"), ParseError::UnknownOp);
        assert_eq!(err(b"PUBX"), ParseError::UnknownOp);
        assert_eq!(err(b"MSG"), ParseError::UnknownOp);
        assert_eq!(parse(b"CONNEC").unwrap(), None);
        assert_eq!(parse(b"PUB").unwrap(), None);
        assert_eq!(parse(b"").unwrap(), None);
    }

    #[test]
    fn malformed_pub_is_bad_pub() {
        for line in [
            &b"PUB foo abc\r\nhello\r\n"[..],
            b"PUB foo -1\r\n\r\n",
            b"PUB foo\r\n",
            b"PUB foo a b 1\r\nx\r\n",
            b"PUB foo +1\r\nx\r\n",
            b"PUB foo 1x\r\nx\r\n",
            b"PUB \r\n",
            b"PUB foo 1000000000\r\n",
            b"PUB foo 0000000001\r\n",
        ] {
            assert_eq!(
                err(line),
                ParseError::BadPub,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn malformed_hpub_is_bad_pub() {
        for line in [
            &b"HPUB h 13 12\r\n"[..],
            b"HPUB h x 12\r\n",
            b"HPUB h 1 y\r\n",
            b"HPUB h 12\r\n",
            b"HPUB h a b 1 2\r\n",
            b"HPUB h -1 2\r\n",
        ] {
            assert_eq!(
                err(line),
                ParseError::BadPub,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn size_with_nine_digits_is_accepted() {
        let limits = small(4096, 999_999_999);
        let mut p = Parser::new(limits);
        assert_eq!(p.parse(b"PUB foo 999999999\r\n").unwrap(), None);
    }

    #[test]
    fn pub_over_max_payload_fails_before_payload_arrives() {
        assert_eq!(err(b"PUB foo 1048577\r\n"), ParseError::MaxPayload);
        assert_eq!(err(b"HPUB foo 10 1048577\r\n"), ParseError::MaxPayload);
        assert_eq!(
            err_with(small(4096, 100), b"PUB a 101\r\n"),
            ParseError::MaxPayload
        );
        let mut p = Parser::new(small(4096, 100));
        assert_eq!(p.parse(b"PUB a 100\r\n").unwrap(), None);
    }

    #[test]
    fn hpub_sizes_reads_what_the_parser_reads() {
        assert_eq!(
            hpub_sizes(b"HPUB big.one 40 1000"),
            Some((&b"big.one"[..], 40, 1000))
        );
        assert_eq!(
            hpub_sizes(b"hpub\tbig.one  _INBOX.1 40 1000"),
            Some((&b"big.one"[..], 40, 1000))
        );
        assert_eq!(hpub_sizes(b"PUB big.one 1000"), None);
        assert_eq!(hpub_sizes(b"HPUB big.one 1000"), None);
        assert_eq!(hpub_sizes(b"HPUB big.one x 1000"), None);
        assert_eq!(hpub_sizes(b"HPUBX a 1 2"), None);
    }

    #[test]
    fn hpub_header_larger_than_total_is_bad_pub_even_over_max_payload() {
        assert_eq!(
            err_with(small(4096, 10), b"HPUB h 30 20\r\n"),
            ParseError::BadPub
        );
    }

    #[test]
    fn control_line_of_exactly_max_is_accepted() {
        let mut line = b"SUB ".to_vec();
        line.extend(vec![b'a'; 4094]);
        line.extend(b" 1\r\n");
        assert!(matches!(op(&line), ClientOp::Sub { .. }));
    }

    #[test]
    fn control_line_of_max_plus_one_is_refused() {
        let mut line = b"SUB ".to_vec();
        line.extend(vec![b'a'; 4095]);
        line.extend(b" 1\r\n");
        assert_eq!(err(&line), ParseError::MaxControlLine);
    }

    #[test]
    fn control_line_limit_counts_arguments_only() {
        let limits = small(5, 100);
        let mut p = Parser::new(limits);
        assert!(matches!(p.parse(b"SUB a 123\r\n"), Ok(Some(_))));
        assert!(matches!(p.parse(b"UNSUB 12345\n"), Ok(Some(_))));
        assert!(matches!(p.parse(b"CONNECT {123}\r\n"), Ok(Some(_))));
        assert_eq!(
            err_with(limits, b"SUB a 1234\r\n"),
            ParseError::MaxControlLine
        );
        assert_eq!(
            err_with(limits, b"CONNECT {1234}\r\n"),
            ParseError::MaxControlLine
        );
        assert_eq!(
            err_with(limits, b"PUB a 1234\r\n"),
            ParseError::MaxControlLine
        );
    }

    #[test]
    fn control_line_limit_is_checked_before_arguments() {
        let limits = small(5, 100);
        assert_eq!(
            err_with(limits, b"SUB a b c d\r\n"),
            ParseError::MaxControlLine
        );
    }

    #[test]
    fn endless_line_is_cut_as_soon_as_limit_is_passed() {
        let limits = small(8, 100);
        let mut p = Parser::new(limits);
        let mut buf = b"SUB ".to_vec();
        for i in 1..=8 {
            buf.push(b'a');
            assert_eq!(p.parse(&buf), Ok(None), "{i} argument bytes");
        }
        buf.push(b'a');
        assert_eq!(p.parse(&buf), Err(ParseError::MaxControlLine));
    }

    #[test]
    fn trailing_cr_at_the_limit_may_still_be_the_line_end() {
        let limits = small(4, 100);
        let mut p = Parser::new(limits);
        assert_eq!(p.parse(b"SUB a 12\r"), Ok(None));
        assert!(matches!(p.parse(b"SUB a 12\r\n"), Ok(Some(_))));
        let mut p = Parser::new(limits);
        assert_eq!(p.parse(b"SUB a 12\r"), Ok(None));
        assert_eq!(p.parse(b"SUB a 12\rx"), Err(ParseError::MaxControlLine));
    }

    #[test]
    fn endless_blanks_or_ping_tail_are_bounded_too() {
        let limits = small(8, 100);
        let mut blanks = b"SUB".to_vec();
        blanks.extend([b' '; 9]);
        assert_eq!(err_with(limits, &blanks), ParseError::MaxControlLine);
        let mut ping = b"PING".to_vec();
        ping.extend([b'x'; 9]);
        assert_eq!(err_with(limits, &ping), ParseError::MaxControlLine);
        ping.truncate(12);
        assert_eq!(Parser::new(limits).parse(&ping), Ok(None));
    }

    #[test]
    fn payload_followed_by_bare_lf_is_unknown_op() {
        assert_eq!(err(b"PUB a 1\r\nx\n"), ParseError::UnknownOp);
    }

    #[test]
    fn payload_longer_than_declared_is_unknown_op() {
        assert_eq!(err(b"PUB foo 3\r\nhello\r\n"), ParseError::UnknownOp);
        assert_eq!(err(b"PUB foo 3\r\nhel\rX"), ParseError::UnknownOp);
    }

    #[test]
    fn payload_shorter_than_declared_waits_then_fails() {
        let mut p = Parser::new(Limits::default());
        assert_eq!(p.parse(b"PUB foo 7\r\nhello\r\n"), Ok(None));
        assert_eq!(
            p.parse(b"PUB foo 7\r\nhello\r\nPING\r\n"),
            Err(ParseError::UnknownOp)
        );
    }

    #[test]
    fn bad_payload_end_is_refused_at_its_first_byte() {
        let mut p = Parser::new(Limits::default());
        assert_eq!(p.parse(b"PUB a 1\r\nxy"), Err(ParseError::UnknownOp));
    }

    #[test]
    fn pipelined_ops_report_their_own_lengths() {
        let input = b"SUB a 1\r\nPUB a 1\r\nx\r\nPING\r\n";
        let mut p = Parser::new(Limits::default());
        let (first, n1) = p.parse(input).unwrap().unwrap();
        assert!(matches!(first, ClientOp::Sub { .. }));
        assert_eq!(n1, 9);
        let (second, n2) = p.parse(&input[n1..]).unwrap().unwrap();
        assert!(matches!(second, ClientOp::Pub { payload: b"x", .. }));
        assert_eq!(n2, 12);
        let (third, n3) = p.parse(&input[n1 + n2..]).unwrap().unwrap();
        assert_eq!(third, ClientOp::Ping);
        assert_eq!(n1 + n2 + n3, input.len());
        assert_eq!(p.parse(b""), Ok(None));
    }

    #[test]
    fn pub_split_across_reads_parses_once() {
        let input = b"PUB foo reply 10\r\n0123456789\r\n";
        let results = feed_bytewise(&mut Parser::new(Limits::default()), input);
        assert_eq!(results.len(), input.len());
        let ops: Vec<_> = results.into_iter().filter_map(|r| r.unwrap()).collect();
        assert_eq!(
            ops,
            vec![(
                ClientOp::Pub {
                    subject: b"foo",
                    reply: Some(b"reply"),
                    payload: b"0123456789"
                },
                input.len()
            )]
        );
    }

    #[test]
    fn pub_control_line_is_remembered_while_payload_arrives() {
        let mut p = Parser::new(Limits::default());
        assert_eq!(p.parse(b"PUB foo 10\r\n0123"), Ok(None));
        match p.state {
            State::Payload(pending) => {
                assert_eq!(pending.total, 10);
                assert_eq!(pending.payload_start, 12);
                assert_eq!(pending.subject, Span { start: 4, end: 7 });
            }
            other => panic!("expected payload state, got {other:?}"),
        }
        assert!(matches!(
            p.parse(b"PUB foo 10\r\n0123456789\r\n"),
            Ok(Some(_))
        ));
        assert!(matches!(p.state, State::Line { scanned: 0, .. }));
    }

    #[test]
    fn partial_line_search_resumes_where_it_stopped() {
        let mut p = Parser::new(Limits::default());
        assert_eq!(p.parse(b"SUB foo"), Ok(None));
        assert!(matches!(
            p.state,
            State::Line {
                scanned: 7,
                blanks_end: 4
            }
        ));
        assert_eq!(p.parse(b"SUB foo 1"), Ok(None));
        assert!(matches!(p.state, State::Line { scanned: 9, .. }));
        assert!(matches!(p.parse(b"SUB foo 1\r\n"), Ok(Some(_))));
    }

    #[test]
    fn every_split_of_a_stream_gives_the_same_ops() {
        let input: &[u8] = b"CONNECT {\"verbose\":false}\r\nsub\tfoo  1\r\nPUB foo r 5\r\nhello\r\n\
            HPUB h 12 14\r\nNATS/1.0\r\n\r\nhi\r\nUNSUB 1 x\nPINGX\r\nPONG\n+OK\r\nINFO {}\r\n-ERR 'x'\r\n";
        let whole: Vec<_> = {
            let mut p = Parser::new(Limits::default());
            let mut ops = Vec::new();
            let mut at = 0;
            while let Some((op, n)) = p.parse(&input[at..]).unwrap() {
                ops.push(format!("{op:?}"));
                at += n;
            }
            assert_eq!(at, input.len());
            ops
        };
        assert_eq!(whole.len(), 10);
        for split in 0..=input.len() {
            let mut p = Parser::new(Limits::default());
            let mut ops = Vec::new();
            let mut at = 0;
            for end in [split, input.len()] {
                while let Some((op, n)) = p.parse(&input[at..end]).unwrap() {
                    ops.push(format!("{op:?}"));
                    at += n;
                }
            }
            assert_eq!(ops, whole, "split at {split}");
        }
    }

    #[test]
    fn error_resets_the_parser() {
        let mut p = Parser::new(Limits::default());
        assert_eq!(p.parse(b"PUB a 1\r\n"), Ok(None));
        assert_eq!(p.parse(b"PUB a 1\r\nxx"), Err(ParseError::UnknownOp));
        assert_eq!(p.parse(b"PING\r\n"), Ok(Some((ClientOp::Ping, 6))));
    }

    #[test]
    fn reset_forgets_a_partial_op() {
        let mut p = Parser::new(Limits::default());
        assert_eq!(p.parse(b"PUB a 5\r\nab"), Ok(None));
        p.reset();
        assert_eq!(p.parse(b"PONG\r\n"), Ok(Some((ClientOp::Pong, 6))));
    }

    #[test]
    fn limits_can_be_read_and_changed() {
        let mut p = Parser::new(Limits::default());
        assert_eq!(
            p.limits().max_control_line,
            Limits::DEFAULT_MAX_CONTROL_LINE
        );
        assert_eq!(p.limits().max_payload, Limits::DEFAULT_MAX_PAYLOAD);
        p.set_limits(small(10, 2));
        assert_eq!(p.limits(), small(10, 2));
        assert_eq!(p.parse(b"PUB a 3\r\n"), Err(ParseError::MaxPayload));
    }

    #[test]
    fn shorter_buffer_than_promised_does_not_panic() {
        let mut p = Parser::new(Limits::default());
        assert_eq!(p.parse(b"SUB foo bar"), Ok(None));
        assert_eq!(p.parse(b"SU"), Ok(None));
        let mut p = Parser::new(Limits::default());
        assert_eq!(p.parse(b"PUB foo 3\r\nab"), Ok(None));
        assert_eq!(p.parse(b"P"), Ok(None));
        let _ = p.parse(b"xxxxxxxxxxxxxxxxxxxxxxx");
    }

    #[test]
    fn fast_path_takes_plain_pub_and_hpub() {
        let p = Parser::new(Limits::default());
        for input in [
            &b"PUB foo 5\r\nhello\r\n"[..],
            b"pub foo r 0\r\n\r\n",
            b"HPUB h 7 8\r\nFOO\r\n\r\nx\r\n",
            b"hPuB h r 2 2\r\nab\r\nPING\r\n",
        ] {
            let fast = p.fast_pub(input);
            assert!(fast.is_some(), "{:?}", String::from_utf8_lossy(input));
            assert_eq!(
                Parser::new(Limits::default()).parse_general(input),
                Ok(fast)
            );
        }
    }

    #[test]
    fn fast_path_declines_other_spellings_and_all_errors() {
        let p = Parser::new(small(4096, 100));
        for input in [
            &b"PUB foo 5\nhello\r\n"[..],
            b"PUB  foo 5\r\nhello\r\n",
            b"PUB\tfoo 5\r\nhello\r\n",
            b"PUB foo 5 \r\nhello\r\n",
            b"PUB foo 5\r\nhell",
            b"PUB foo 5\r\nhello\n",
            b"PUB foo 101\r\n",
            b"PUB foo\r\n",
            b"PUB a b c 1\r\nx\r\n",
            b"PUB f\x01o 1\r\nx\r\n",
            b"HPUB h 9 8\r\n",
            b"HPUB h 8\r\n12345678\r\n",
            b"SUB foo 1\r\n",
            b"PUB foo 5\r",
        ] {
            assert_eq!(
                p.fast_pub(input),
                None,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        let p = Parser::new(small(5, 100));
        assert_eq!(p.fast_pub(b"PUB ab 100\r\n"), None);
    }

    /// PUB/HPUB-like inputs, mostly well-formed, with every part sometimes off.
    fn pub_like() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let pick = |items: Vec<&'static str>| proptest::sample::select(items);
        let blank = || pick(vec![" ", " ", " ", " ", " ", " ", "  ", "\t"]);
        (
            pick(vec!["PUB", "HPUB", "pub", "hpUB", "SUB"]),
            proptest::collection::vec(
                (
                    blank(),
                    pick(vec![
                        "foo",
                        "r.x",
                        "9",
                        "foo",
                        "a\x01",
                        "orders.eu-west.created",
                        "caf\u{e9}.\u{fc}ber.long",
                        "_INBOX.abcdefgh\x7f.1",
                    ]),
                ),
                1..3,
            ),
            (blank(), 0usize..6, 0usize..6, proptest::bool::weighted(0.1)),
            pick(vec![
                "\r\n", "\r\n", "\r\n", "\r\n", "\r\n", "\n", "\r", " \r\n",
            ]),
            pick(vec![
                "\r\n", "\r\n", "\r\n", "\r\n", "\r\n", "\n", "", "\rx",
            ]),
        )
            .prop_map(|(name, args, (blank, hdr, len, garble), eol, end)| {
                let mut out = name.as_bytes().to_vec();
                for (blank, arg) in args {
                    out.extend(blank.as_bytes());
                    out.extend(arg.as_bytes());
                }
                if name.eq_ignore_ascii_case("HPUB") {
                    out.extend(format!("{blank}{hdr}").into_bytes());
                }
                let size = if garble {
                    "-1".to_string()
                } else {
                    len.to_string()
                };
                out.extend(format!("{blank}{size}{eol}").into_bytes());
                out.extend(&b"abcdef"[..len]);
                out.extend(end.as_bytes());
                out
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(2048))]

        #[test]
        fn fast_path_agrees_with_general_path(
            input in pub_like(),
            max_control_line in 0usize..16,
            max_payload in 0usize..8,
        ) {
            let limits = small(max_control_line, max_payload);
            if let Some(fast) = Parser::new(limits).fast_pub(&input) {
                proptest::prop_assert_eq!(Parser::new(limits).parse_general(&input), Ok(Some(fast)));
            }
        }

        #[test]
        fn pub_like_inputs_parse_the_same_whole_or_bytewise(
            input in pub_like(),
            max_control_line in 0usize..16,
            max_payload in 0usize..8,
        ) {
            let limits = small(max_control_line, max_payload);
            let whole = Parser::new(limits).parse(&input).map(|r| r.map(|(op, n)| (format!("{op:?}"), n)));
            let mut last = Ok(None);
            for r in feed_bytewise(&mut Parser::new(limits), &input) {
                match r {
                    Ok(None) => {}
                    other => {
                        last = other.map(|r| r.map(|(op, n)| (format!("{op:?}"), n)));
                        break;
                    }
                }
            }
            proptest::prop_assert_eq!(last, whole);
        }
    }

    proptest::proptest! {
        #[test]
        fn arg_end_stops_where_a_bytewise_scan_does(
            buf in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b'.', b' ', b'\t', b'\r', 0, 0x21, 0x20, 0x7f, 0x80, 0xff]),
                0..40,
            ),
            from in 0usize..40,
        ) {
            let mut bytewise = from;
            while buf.get(bytewise).is_some_and(|&b| b > b' ') {
                bytewise += 1;
            }
            proptest::prop_assert_eq!(arg_end(&buf, from), bytewise);
        }
    }

    #[test]
    fn pub_like_strategy_yields_fast_path_hits() {
        use proptest::strategy::{Strategy, ValueTree};
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = pub_like();
        let hits = (0..500)
            .filter(|_| {
                let input = strategy.new_tree(&mut runner).unwrap().current();
                Parser::new(Limits::default()).fast_pub(&input).is_some()
            })
            .count();
        assert!(hits > 25, "only {hits} of 500 inputs took the fast path");
    }

    #[test]
    fn size_parser_refuses_signs_blanks_and_long_numbers() {
        assert_eq!(parse_size(b"0"), Some(0));
        assert_eq!(parse_size(b"007"), Some(7));
        assert_eq!(parse_size(b"999999999"), Some(999_999_999));
        assert_eq!(parse_size(b""), None);
        assert_eq!(parse_size(b"+1"), None);
        assert_eq!(parse_size(b"-1"), None);
        assert_eq!(parse_size(b"1 "), None);
        assert_eq!(parse_size(b"1000000000"), None);
        assert_eq!(parse_size(b"99999999999999999999999"), None);
    }
}
