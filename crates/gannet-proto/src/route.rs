//! The route protocol between servers of one cluster (nats-server's route
//! side of `parser.go`): the operations a peer sends ([`RouteOp`], read by
//! [`RouteParser`]) and the lines this server writes to a peer
//! ([`write_sub`], [`write_unsub`], [`write_msg_line`]).
//!
//! # The operations
//!
//! * `INFO {json}`, `CONNECT {json}`, `PING`, `PONG`, `+OK`, `-ERR '<text>'`.
//! * `RS+ <account> <subject> [<queue> <weight>]` and `RS- <account> <subject>
//!   [<queue>]`: the peer's interest, per account. A queue group's weight is
//!   how many members the peer has locally.
//! * `LS+ <origin> <account> ...` and `LS- ...`: interest the peer learned
//!   from a leaf node (`origin` = that leaf's cluster).
//! * `RMSG <account> <subject> [reply] <size>`, or with queue groups for the
//!   receiver to serve: `RMSG <account> <subject> + <reply> <q>... <size>` and
//!   `RMSG <account> <subject> | <q>... <size>`. `HMSG` has the same forms with
//!   `<header size> <total size>`; `LMSG <origin> ...` always has both sizes.
//!
//! On a connection pinned to one account (pooled routes), the account is
//! left out of every line; [`RouteParser::pin_account`] says so.
//!
//! The parser is a plain line reader: it finds the line end, splits the
//! arguments on blanks, and for messages waits until the payload and its CR LF
//! have arrived. Ops borrow the caller's buffer. A line longer than the
//! control-line limit, or a payload larger than the payload limit, is an error
//! (the connection closes).
use bytes::{BufMut, BytesMut};
use memchr::memchr;

/// Most arguments a route line has besides queue names.
const MAX_FIXED_ARGS: usize = 8;

/// Why a route stream could not be read. Every error closes the route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteParseError {
    #[error("unknown route protocol operation")]
    UnknownOp,
    #[error("maximum control line exceeded")]
    MaxControlLine,
    #[error("maximum payload exceeded")]
    MaxPayload,
    #[error("malformed {0} arguments")]
    BadArgs(&'static str),
}

/// A message's queue groups, as the sender listed them: names separated by
/// single blanks, for the receiver to pick one member of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueList<'a>(&'a [u8]);

impl<'a> QueueList<'a> {
    pub fn new(raw: &'a [u8]) -> QueueList<'a> {
        QueueList(raw)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0
            .split(|b| *b == b' ' || *b == b'\t')
            .filter(|q| !q.is_empty())
    }

    /// Whether `queue` is listed.
    pub fn contains(&self, queue: &[u8]) -> bool {
        self.iter().any(|q| q == queue)
    }
}

/// One operation from a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteOp<'a> {
    Info {
        json: &'a [u8],
    },
    Connect {
        json: &'a [u8],
    },
    Ping,
    Pong,
    Ok,
    Err {
        text: &'a [u8],
    },
    /// `RS+` (or `LS+` with its `origin`).
    Sub {
        origin: Option<&'a [u8]>,
        account: Option<&'a [u8]>,
        subject: &'a [u8],
        /// The queue group and the peer's member count in it.
        queue: Option<(&'a [u8], u32)>,
    },
    /// `RS-` (or `LS-`).
    Unsub {
        origin: Option<&'a [u8]>,
        account: Option<&'a [u8]>,
        subject: &'a [u8],
        queue: Option<&'a [u8]>,
    },
    /// `A+ <account>` (gateways): the other side is interested in the
    /// account again after an `A-`.
    AccountSub {
        account: &'a [u8],
    },
    /// `A- <account>` (gateways): the other side has no interest at all in
    /// the account.
    AccountUnsub {
        account: &'a [u8],
    },
    /// `RMSG`, `HMSG` or `LMSG`.
    Msg {
        origin: Option<&'a [u8]>,
        account: Option<&'a [u8]>,
        subject: &'a [u8],
        reply: Option<&'a [u8]>,
        queues: QueueList<'a>,
        /// The header block (`HMSG`, `LMSG` with a non-zero header size).
        headers: Option<&'a [u8]>,
        payload: &'a [u8],
    },
}

/// An optional leading argument (origin, account) and the arguments after it.
type Split<'x, 'a> = (Option<&'a [u8]>, &'x [&'a [u8]]);

/// Reads route operations from a byte stream cut anywhere.
#[derive(Debug)]
pub struct RouteParser {
    max_control_line: usize,
    max_payload: usize,
    /// Lines carry no account (the connection is pinned to one).
    pinned: bool,
    /// A leaf node connection: no account and no origin on `LS±`, and
    /// `LMSG` has `RMSG`'s shape (one size).
    leaf_link: bool,
    /// How far the current line was searched for its end.
    scanned: usize,
    /// Where the current message's control line ends, while its payload is
    /// awaited (0 = not known).
    line_end: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Info,
    Connect,
    Ping,
    Pong,
    Ok,
    Err,
    RSub,
    RUnsub,
    LSub,
    LUnsub,
    RMsg,
    HMsg,
    LMsg,
    ASub,
    AUnsub,
}

fn verb(name: &[u8]) -> Option<Verb> {
    const VERBS: [(&[u8], Verb); 15] = [
        (b"RMSG", Verb::RMsg),
        (b"HMSG", Verb::HMsg),
        (b"LMSG", Verb::LMsg),
        (b"RS+", Verb::RSub),
        (b"RS-", Verb::RUnsub),
        (b"LS+", Verb::LSub),
        (b"LS-", Verb::LUnsub),
        (b"PING", Verb::Ping),
        (b"PONG", Verb::Pong),
        (b"INFO", Verb::Info),
        (b"CONNECT", Verb::Connect),
        (b"+OK", Verb::Ok),
        (b"-ERR", Verb::Err),
        (b"A+", Verb::ASub),
        (b"A-", Verb::AUnsub),
    ];
    VERBS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// A decimal size of at most 9 digits.
fn size(arg: &[u8]) -> Option<usize> {
    if arg.is_empty() || arg.len() > 9 || !arg.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(arg.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0')))
}

/// Splits `line` into blank-separated arguments: the first `MAX_FIXED_ARGS`
/// into `out`; returns how many there were (one more than `MAX_FIXED_ARGS`
/// when there are more).
fn split_args<'a>(line: &'a [u8], out: &mut [&'a [u8]; MAX_FIXED_ARGS]) -> usize {
    let mut n = 0;
    for arg in line
        .split(|b| *b == b' ' || *b == b'\t')
        .filter(|a| !a.is_empty())
    {
        if n == MAX_FIXED_ARGS {
            return n + 1;
        }
        out[n] = arg;
        n += 1;
    }
    n
}

impl RouteParser {
    pub fn new(max_control_line: usize, max_payload: usize) -> RouteParser {
        RouteParser {
            max_control_line,
            max_payload,
            pinned: false,
            leaf_link: false,
            scanned: 0,
            line_end: 0,
        }
    }

    /// Changes the largest payload taken from now on.
    pub fn set_max_payload(&mut self, max_payload: usize) {
        self.max_payload = max_payload;
    }

    /// From now on, lines carry no account (the connection is pinned to one).
    pub fn pin_account(&mut self, pinned: bool) {
        self.pinned = pinned;
    }

    /// A parser for a leaf node connection: bound to one account, so no line
    /// names one; `LS+ <subject> [<queue> <weight>]`, `LS- <subject>
    /// [<queue>]`, `LMSG <subject> [reply forms] <size>`, `HMSG` with two sizes.
    pub fn for_leaf(max_control_line: usize, max_payload: usize) -> RouteParser {
        let mut parser = RouteParser::new(max_control_line, max_payload);
        parser.pinned = true;
        parser.leaf_link = true;
        parser
    }

    /// Reads the operation at the start of `buf`: `Ok(Some((op, n)))` when it
    /// took the first `n` bytes, `Ok(None)` when more bytes are needed (call
    /// again with the same bytes and more).
    pub fn parse<'a>(
        &mut self,
        buf: &'a [u8],
    ) -> Result<Option<(RouteOp<'a>, usize)>, RouteParseError> {
        let known = (self.line_end > 0 && self.line_end <= buf.len()).then(|| self.line_end - 1);
        let from = self.scanned.min(buf.len());
        let Some(nl) = known.or_else(|| memchr(b'\n', &buf[from..]).map(|i| i + from)) else {
            // Allow for the op name and its blank on top of the arguments.
            if buf.len() > self.max_control_line + 16 {
                // A line that cannot start with an operation is that error,
                // as it is once the whole line is there, however the bytes
                // arrive.
                let name_end = buf
                    .iter()
                    .position(|b| *b == b' ' || *b == b'\t')
                    .unwrap_or(buf.len());
                if verb(&buf[..name_end]).is_none() {
                    return Err(RouteParseError::UnknownOp);
                }
                return Err(RouteParseError::MaxControlLine);
            }
            self.scanned = buf.len();
            return Ok(None);
        };
        let line_end = nl + 1;
        let mut line = &buf[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let name_end = line
            .iter()
            .position(|b| *b == b' ' || *b == b'\t')
            .unwrap_or(line.len());
        let Some(verb) = verb(&line[..name_end]) else {
            return Err(RouteParseError::UnknownOp);
        };
        // Blanks before the arguments count too: the same bytes are over the
        // limit whether they came with their newline or without it.
        if line.len() - name_end > self.max_control_line {
            return Err(RouteParseError::MaxControlLine);
        }
        let args = trim_start(&line[name_end..]);
        let op = match verb {
            Verb::Info => RouteOp::Info { json: args },
            Verb::Connect => RouteOp::Connect { json: args },
            Verb::Ping => RouteOp::Ping,
            Verb::Pong => RouteOp::Pong,
            Verb::Ok => RouteOp::Ok,
            Verb::Err => RouteOp::Err {
                text: trim_quotes(args),
            },
            Verb::RSub | Verb::LSub => self.sub(args, verb == Verb::LSub && !self.leaf_link)?,
            Verb::RUnsub | Verb::LUnsub => {
                self.unsub(args, verb == Verb::LUnsub && !self.leaf_link)?
            }
            Verb::RMsg | Verb::HMsg | Verb::LMsg => {
                return self.msg(buf, args, line_end, verb);
            }
            Verb::ASub | Verb::AUnsub => {
                let account = trim_end(args);
                if account.is_empty() || account.iter().any(|b| *b == b' ' || *b == b'\t') {
                    return Err(RouteParseError::BadArgs(if verb == Verb::ASub {
                        "A+"
                    } else {
                        "A-"
                    }));
                }
                if verb == Verb::ASub {
                    RouteOp::AccountSub { account }
                } else {
                    RouteOp::AccountUnsub { account }
                }
            }
        };
        self.scanned = 0;
        Ok(Some((op, line_end)))
    }

    fn sub<'a>(&self, args: &'a [u8], leaf: bool) -> Result<RouteOp<'a>, RouteParseError> {
        let mut a = [&b""[..]; MAX_FIXED_ARGS];
        let n = split_args(args, &mut a);
        let (origin, rest) = self.prefix(&a[..n.min(MAX_FIXED_ARGS)], leaf, "RS+")?;
        let (account, rest) = self.account(rest, "RS+")?;
        let queue = match rest {
            [_] => None,
            [_, queue, weight] => {
                let weight = size(weight)
                    .and_then(|w| u32::try_from(w).ok())
                    .ok_or(RouteParseError::BadArgs("RS+"))?;
                Some((*queue, weight))
            }
            _ => return Err(RouteParseError::BadArgs("RS+")),
        };
        Ok(RouteOp::Sub {
            origin,
            account,
            subject: rest[0],
            queue,
        })
    }

    fn unsub<'a>(&self, args: &'a [u8], leaf: bool) -> Result<RouteOp<'a>, RouteParseError> {
        let mut a = [&b""[..]; MAX_FIXED_ARGS];
        let n = split_args(args, &mut a);
        let (origin, rest) = self.prefix(&a[..n.min(MAX_FIXED_ARGS)], leaf, "RS-")?;
        let (account, rest) = self.account(rest, "RS-")?;
        let queue = match rest {
            [_] => None,
            [_, queue] => Some(*queue),
            _ => return Err(RouteParseError::BadArgs("RS-")),
        };
        Ok(RouteOp::Unsub {
            origin,
            account,
            subject: rest[0],
            queue,
        })
    }

    /// Takes the leaf origin off the front of `args` for `LS±`/`LMSG`.
    fn prefix<'x, 'a>(
        &self,
        args: &'x [&'a [u8]],
        leaf: bool,
        what: &'static str,
    ) -> Result<Split<'x, 'a>, RouteParseError> {
        if !leaf {
            return Ok((None, args));
        }
        match args.split_first() {
            Some((origin, rest)) => Ok((Some(*origin), rest)),
            None => Err(RouteParseError::BadArgs(what)),
        }
    }

    /// Takes the account off the front of `args`, unless the connection is pinned.
    fn account<'x, 'a>(
        &self,
        args: &'x [&'a [u8]],
        what: &'static str,
    ) -> Result<Split<'x, 'a>, RouteParseError> {
        let (account, rest) = if self.pinned {
            (None, args)
        } else {
            match args.split_first() {
                Some((account, rest)) => (Some(*account), rest),
                None => return Err(RouteParseError::BadArgs(what)),
            }
        };
        if rest.is_empty() {
            return Err(RouteParseError::BadArgs(what));
        }
        Ok((account, rest))
    }

    fn msg<'a>(
        &mut self,
        buf: &'a [u8],
        args: &'a [u8],
        line_end: usize,
        verb: Verb,
    ) -> Result<Option<(RouteOp<'a>, usize)>, RouteParseError> {
        let what = match verb {
            Verb::HMsg => "HMSG",
            Verb::LMsg => "LMSG",
            _ => "RMSG",
        };
        let bad = RouteParseError::BadArgs(what);
        // The sizes are the last one or two arguments; take them from the end
        // so that queue lists of any length need no array.
        let mut rest = trim_end(args);
        let take_last = |rest: &mut &'a [u8]| -> Option<&'a [u8]> {
            let cut = rest.iter().rposition(|b| *b == b' ' || *b == b'\t')?;
            let last = &rest[cut + 1..];
            *rest = trim_end(&rest[..cut]);
            Some(last)
        };
        let total = take_last(&mut rest).and_then(size).ok_or(bad.clone())?;
        let header_len = if verb == Verb::RMsg || (verb == Verb::LMsg && self.leaf_link) {
            None
        } else {
            Some(take_last(&mut rest).and_then(size).ok_or(bad.clone())?)
        };
        if header_len.is_some_and(|h| h > total) {
            return Err(bad);
        }
        if total > self.max_payload {
            return Err(RouteParseError::MaxPayload);
        }
        let end = line_end + total + 2;
        if buf.len() < end {
            self.scanned = 0;
            self.line_end = line_end;
            return Ok(None);
        }
        self.line_end = 0;
        if &buf[end - 2..end] != b"\r\n" {
            return Err(RouteParseError::UnknownOp);
        }
        self.scanned = 0;
        let mut words = rest
            .split(|b| *b == b' ' || *b == b'\t')
            .filter(|a| !a.is_empty());
        let origin = if verb == Verb::LMsg && !self.leaf_link {
            Some(words.next().ok_or(bad.clone())?)
        } else {
            None
        };
        let account = if self.pinned {
            None
        } else {
            Some(words.next().ok_or(bad.clone())?)
        };
        let subject = words.next().ok_or(bad.clone())?;
        // What follows the subject: nothing, a reply, `+ reply queues...` or
        // `| queues...`. A single word is a reply whatever it is (`+` and `|`
        // mark queue lists only when more words follow), as the reference
        // decides by the number of arguments.
        let after = trim_start(&rest[offset_in(rest, subject) + subject.len()..]);
        let one_word = !after.iter().any(|b| *b == b' ' || *b == b'\t');
        let (reply, queues) = match after.first() {
            None => (None, QueueList::default()),
            Some(_) if one_word => (Some(after), QueueList::default()),
            Some(b'+') if after.get(1).is_none_or(|b| *b == b' ' || *b == b'\t') => {
                let tail = trim_start(&after[1..]);
                let cut = tail
                    .iter()
                    .position(|b| *b == b' ' || *b == b'\t')
                    .unwrap_or(tail.len());
                if cut == 0 {
                    return Err(bad);
                }
                (Some(&tail[..cut]), QueueList(trim_start(&tail[cut..])))
            }
            Some(b'|') if after.get(1).is_none_or(|b| *b == b' ' || *b == b'\t') => {
                (None, QueueList(trim_start(&after[1..])))
            }
            Some(_) => return Err(bad),
        };
        let body = &buf[line_end..line_end + total];
        let (headers, payload) = match header_len {
            Some(h) if h > 0 => (Some(&body[..h]), &body[h..]),
            _ => (None, body),
        };
        Ok(Some((
            RouteOp::Msg {
                origin,
                account,
                subject,
                reply,
                queues,
                headers,
                payload,
            },
            end,
        )))
    }
}

/// Where `part` (a sub-slice of `whole`) starts in it.
fn offset_in(whole: &[u8], part: &[u8]) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .position(|b| *b != b' ' && *b != b'\t')
        .unwrap_or(s.len());
    &s[n..]
}

fn trim_end(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .rposition(|b| *b != b' ' && *b != b'\t')
        .map_or(0, |i| i + 1);
    &s[..n]
}

fn trim_quotes(s: &[u8]) -> &[u8] {
    let s = trim_end(s);
    match s {
        [b'\'', inner @ .., b'\''] => inner,
        _ => s,
    }
}

/// `A- <account>\r\n` (gateways): no interest at all in the account.
pub fn write_account_unsub(out: &mut BytesMut, account: &[u8]) {
    out.put_slice(b"A- ");
    out.put_slice(account);
    out.put_slice(b"\r\n");
}

/// `A+ <account>\r\n` (gateways): interest in the account again.
pub fn write_account_sub(out: &mut BytesMut, account: &[u8]) {
    out.put_slice(b"A+ ");
    out.put_slice(account);
    out.put_slice(b"\r\n");
}

/// `LS+ <subject>[ <queue> <weight>]\r\n`, for a leaf node connection.
pub fn write_leaf_sub(out: &mut BytesMut, subject: &[u8], queue: Option<(&[u8], u32)>) {
    out.put_slice(b"LS+ ");
    write_sub_args(out, None, subject, queue);
}

/// `LS- <subject>[ <queue>]\r\n`, for a leaf node connection.
pub fn write_leaf_unsub(out: &mut BytesMut, subject: &[u8], queue: Option<&[u8]>) {
    out.put_slice(b"LS- ");
    write_unsub_args(out, None, subject, queue);
}

/// `RS+ <account> <subject>[ <queue> <weight>]\r\n` (no account when pinned).
pub fn write_sub(
    out: &mut BytesMut,
    account: Option<&[u8]>,
    subject: &[u8],
    queue: Option<(&[u8], u32)>,
) {
    out.put_slice(b"RS+ ");
    write_sub_args(out, account, subject, queue);
}

fn write_sub_args(
    out: &mut BytesMut,
    account: Option<&[u8]>,
    subject: &[u8],
    queue: Option<(&[u8], u32)>,
) {
    if let Some(account) = account {
        out.put_slice(account);
        out.put_u8(b' ');
    }
    out.put_slice(subject);
    if let Some((queue, weight)) = queue {
        out.put_u8(b' ');
        out.put_slice(queue);
        out.put_u8(b' ');
        out.put_slice(itoa::Buffer::new().format(weight).as_bytes());
    }
    out.put_slice(b"\r\n");
}

/// `RS- <account> <subject>[ <queue>]\r\n` (no account when pinned).
pub fn write_unsub(
    out: &mut BytesMut,
    account: Option<&[u8]>,
    subject: &[u8],
    queue: Option<&[u8]>,
) {
    out.put_slice(b"RS- ");
    write_unsub_args(out, account, subject, queue);
}

fn write_unsub_args(
    out: &mut BytesMut,
    account: Option<&[u8]>,
    subject: &[u8],
    queue: Option<&[u8]>,
) {
    if let Some(account) = account {
        out.put_slice(account);
        out.put_u8(b' ');
    }
    out.put_slice(subject);
    if let Some(queue) = queue {
        out.put_u8(b' ');
        out.put_slice(queue);
    }
    out.put_slice(b"\r\n");
}

/// The control line of a routed message: `RMSG` (or `HMSG` with `headers_len`)
/// with the reply and queue forms; `queues` are the groups the peer is to serve.
pub fn write_msg_line<'q>(
    out: &mut BytesMut,
    account: Option<&[u8]>,
    subject: &[u8],
    reply: Option<&[u8]>,
    queues: impl IntoIterator<Item = &'q [u8]>,
    headers_len: Option<usize>,
    payload_len: usize,
) {
    let verb: &[u8] = if headers_len.is_some() {
        b"HMSG "
    } else {
        b"RMSG "
    };
    write_msg(
        out,
        verb,
        account,
        subject,
        reply,
        queues,
        headers_len,
        payload_len,
    );
}

/// The control line of a message on a leaf node connection: `LMSG` (or
/// `HMSG` with `headers_len`), no account, the reply and queue forms.
pub fn write_leaf_msg_line<'q>(
    out: &mut BytesMut,
    subject: &[u8],
    reply: Option<&[u8]>,
    queues: impl IntoIterator<Item = &'q [u8]>,
    headers_len: Option<usize>,
    payload_len: usize,
) {
    let verb: &[u8] = if headers_len.is_some() {
        b"HMSG "
    } else {
        b"LMSG "
    };
    write_msg(
        out,
        verb,
        None,
        subject,
        reply,
        queues,
        headers_len,
        payload_len,
    );
}

#[allow(clippy::too_many_arguments)]
fn write_msg<'q>(
    out: &mut BytesMut,
    verb: &[u8],
    account: Option<&[u8]>,
    subject: &[u8],
    reply: Option<&[u8]>,
    queues: impl IntoIterator<Item = &'q [u8]>,
    headers_len: Option<usize>,
    payload_len: usize,
) {
    out.put_slice(verb);
    if let Some(account) = account {
        out.put_slice(account);
        out.put_u8(b' ');
    }
    out.put_slice(subject);
    let mut queues = queues.into_iter().peekable();
    match (reply, queues.peek().is_some()) {
        (Some(reply), true) => {
            out.put_slice(b" + ");
            out.put_slice(reply);
        }
        (Some(reply), false) => {
            out.put_u8(b' ');
            out.put_slice(reply);
        }
        (None, true) => out.put_slice(b" |"),
        (None, false) => {}
    }
    for q in queues {
        out.put_u8(b' ');
        out.put_slice(q);
    }
    let mut n = itoa::Buffer::new();
    if let Some(h) = headers_len {
        out.put_u8(b' ');
        out.put_slice(n.format(h).as_bytes());
        out.put_u8(b' ');
        out.put_slice(n.format(h + payload_len).as_bytes());
    } else {
        out.put_u8(b' ');
        out.put_slice(n.format(payload_len).as_bytes());
    }
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(input: &[u8]) -> RouteOp<'_> {
        let mut p = RouteParser::new(4096, 1 << 20);
        let (op, n) = p.parse(input).unwrap().unwrap();
        assert_eq!(
            n,
            input.len(),
            "consumed all of {:?}",
            String::from_utf8_lossy(input)
        );
        op
    }

    /// account, subject, reply, queues, headers, payload.
    type Parts<'a> = (
        Option<&'a [u8]>,
        &'a [u8],
        Option<&'a [u8]>,
        Vec<&'a [u8]>,
        Option<&'a [u8]>,
        &'a [u8],
    );

    fn msg_parts(op: RouteOp<'_>) -> Parts<'_> {
        match op {
            RouteOp::Msg {
                account,
                subject,
                reply,
                queues,
                headers,
                payload,
                ..
            } => (
                account,
                subject,
                reply,
                queues.iter().collect(),
                headers,
                payload,
            ),
            other => panic!("not a message: {other:?}"),
        }
    }

    #[test]
    fn the_four_rmsg_forms() {
        let (a, s, r, q, h, p) = msg_parts(one(b"RMSG $G foo 3\r\nabc\r\n"));
        assert_eq!(
            (a, s, r, q, h, p),
            (
                Some(&b"$G"[..]),
                &b"foo"[..],
                None,
                vec![],
                None,
                &b"abc"[..]
            )
        );
        let (_, _, r, q, _, _) = msg_parts(one(b"RMSG $G foo _INBOX.1 3\r\nabc\r\n"));
        assert_eq!((r, q), (Some(&b"_INBOX.1"[..]), vec![]));
        let (_, _, r, q, _, _) = msg_parts(one(b"RMSG $G foo + _INBOX.1 q1 q2 3\r\nabc\r\n"));
        assert_eq!((r, q), (Some(&b"_INBOX.1"[..]), vec![&b"q1"[..], b"q2"]));
        let (_, _, r, q, _, _) = msg_parts(one(b"RMSG $G foo | q1 3\r\nabc\r\n"));
        assert_eq!((r, q), (None, vec![&b"q1"[..]]));
    }

    #[test]
    fn leaf_links_carry_no_account_or_origin() {
        let mut p = RouteParser::for_leaf(4096, 1024);
        let (op, _) = p.parse(b"LS+ leaf.y ly 1\r\n").unwrap().unwrap();
        assert_eq!(
            op,
            RouteOp::Sub {
                origin: None,
                account: None,
                subject: b"leaf.y",
                queue: Some((b"ly", 1))
            }
        );
        let mut p = RouteParser::for_leaf(4096, 1024);
        let (op, _) = p
            .parse(b"LMSG onb.x + lrep bq 3\r\nL2B\r\n")
            .unwrap()
            .unwrap();
        let (a, s, r, q, h, pl) = msg_parts(op);
        assert_eq!(
            (a, s, r, q, h, pl),
            (
                None,
                &b"onb.x"[..],
                Some(&b"lrep"[..]),
                vec![&b"bq"[..]],
                None,
                &b"L2B"[..]
            )
        );
        let mut p = RouteParser::for_leaf(4096, 1024);
        let (op, _) = p
            .parse(b"HMSG leaf.y | ly 12 15\r\nNATS/1.0\r\n\r\nB2L\r\n")
            .unwrap()
            .unwrap();
        let (_, s, r, q, h, pl) = msg_parts(op);
        assert_eq!(
            (s, r, q, h.is_some(), pl),
            (&b"leaf.y"[..], None, vec![&b"ly"[..]], true, &b"B2L"[..])
        );
        let mut out = BytesMut::new();
        write_leaf_sub(&mut out, b"a.b", Some((b"q", 2)));
        write_leaf_unsub(&mut out, b"a.b", None);
        write_leaf_msg_line(&mut out, b"a.b", Some(b"r"), [&b"q"[..]], None, 1);
        assert_eq!(&out[..], b"LS+ a.b q 2\r\nLS- a.b\r\nLMSG a.b + r q 1\r\n");
    }

    #[test]
    fn a_reply_of_plus_or_bar_is_a_reply() {
        let (_, _, r, q, _, _) = msg_parts(one(b"RMSG $G foo + 3\r\nabc\r\n"));
        assert_eq!((r, q), (Some(&b"+"[..]), vec![]));
        let (_, _, r, q, _, _) = msg_parts(one(b"RMSG $G foo | 3\r\nabc\r\n"));
        assert_eq!((r, q), (Some(&b"|"[..]), vec![]));
        let (_, _, r, q, _, _) = msg_parts(one(b"RMSG $G foo + + 3\r\nabc\r\n"));
        assert_eq!((r, q), (Some(&b"+"[..]), vec![]));
        let mut out = BytesMut::new();
        write_msg_line(&mut out, Some(b"$G"), b"foo", Some(b"+"), [], None, 3);
        out.put_slice(b"abc\r\n");
        let (_, _, r, _, _, _) = msg_parts(one(&out));
        assert_eq!(r, Some(&b"+"[..]));
    }

    #[test]
    fn account_interest_lines() {
        assert_eq!(
            one(b"A- APP\r\n"),
            RouteOp::AccountUnsub { account: b"APP" }
        );
        assert_eq!(one(b"a+ $G \r\n"), RouteOp::AccountSub { account: b"$G" });
        let mut p = RouteParser::new(4096, 1024);
        assert!(p.parse(b"A- \r\n").is_err());
        assert!(p.parse(b"A+ one two\r\n").is_err());
        let mut out = BytesMut::new();
        write_account_unsub(&mut out, b"APP");
        write_account_sub(&mut out, b"APP");
        assert_eq!(&out[..], b"A- APP\r\nA+ APP\r\n");
    }

    #[test]
    fn hmsg_and_lmsg_split_headers() {
        let (_, s, _, q, h, p) = msg_parts(one(
            b"HMSG $G foo.bar | q2 q1 12 15\r\nNATS/1.0\r\n\r\nabc\r\n",
        ));
        assert_eq!(s, b"foo.bar");
        assert_eq!(q, vec![&b"q2"[..], b"q1"]);
        assert_eq!(h, Some(&b"NATS/1.0\r\n\r\n"[..]));
        assert_eq!(p, b"abc");
        match one(b"LMSG L APP onb.x + lrep bq 0 3\r\nabc\r\n") {
            RouteOp::Msg {
                origin,
                account,
                reply,
                headers,
                payload,
                ..
            } => {
                assert_eq!(origin, Some(&b"L"[..]));
                assert_eq!(account, Some(&b"APP"[..]));
                assert_eq!(reply, Some(&b"lrep"[..]));
                assert_eq!(headers, None);
                assert_eq!(payload, b"abc");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn interest_lines() {
        assert_eq!(
            one(b"RS+ $G foo.* q1 2\r\n"),
            RouteOp::Sub {
                origin: None,
                account: Some(b"$G"),
                subject: b"foo.*",
                queue: Some((b"q1", 2))
            }
        );
        assert_eq!(
            one(b"RS- $G foo.* q1\r\n"),
            RouteOp::Unsub {
                origin: None,
                account: Some(b"$G"),
                subject: b"foo.*",
                queue: Some(b"q1")
            }
        );
        assert_eq!(
            one(b"LS+ L APP leaf.z\r\n"),
            RouteOp::Sub {
                origin: Some(b"L"),
                account: Some(b"APP"),
                subject: b"leaf.z",
                queue: None
            }
        );
        let mut p = RouteParser::new(4096, 1024);
        p.pin_account(true);
        let (op, _) = p.parse(b"RS+ $SYS.REQ.SERVER.PING\r\n").unwrap().unwrap();
        assert_eq!(
            op,
            RouteOp::Sub {
                origin: None,
                account: None,
                subject: b"$SYS.REQ.SERVER.PING",
                queue: None
            }
        );
        for bad in [
            &b"RS+ $G\r\n"[..],
            b"RS+ $G foo q\r\n",
            b"RS+ $G foo q x\r\n",
            b"RS- $G a b c\r\n",
        ] {
            assert!(RouteParser::new(4096, 1024).parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_cut_gives_the_same_ops() {
        let stream: &[u8] = b"INFO {\"a\":1}\r\nPING\r\nRS+ $G foo\r\nRMSG $G foo + r q 5\r\nhello\r\n-ERR 'Authorization Violation'\r\nPONG\r\n";
        let whole = {
            let mut p = RouteParser::new(4096, 1024);
            let mut ops = Vec::new();
            let mut at = 0;
            while let Some((op, n)) = p.parse(&stream[at..]).unwrap() {
                ops.push(format!("{op:?}"));
                at += n;
            }
            ops
        };
        assert_eq!(whole.len(), 6);
        assert!(whole[4].starts_with("Err"), "{}", whole[4]);
        for cut in 1..stream.len() {
            let mut p = RouteParser::new(4096, 1024);
            let mut ops = Vec::new();
            let mut at = 0;
            let mut avail = cut;
            loop {
                match p.parse(&stream[at..avail]).unwrap() {
                    Some((op, n)) => {
                        ops.push(format!("{op:?}"));
                        at += n;
                    }
                    None if avail == stream.len() => break,
                    None => avail = stream.len(),
                }
            }
            assert_eq!(ops, whole, "cut at {cut}");
        }
    }

    #[test]
    fn limits_and_garbage() {
        let mut p = RouteParser::new(16, 8);
        assert_eq!(
            p.parse(b"RMSG $G foo 9\r\n"),
            Err(RouteParseError::MaxPayload)
        );
        let mut p = RouteParser::new(16, 8);
        let mut long = b"RS+ $G ".to_vec();
        long.extend_from_slice(&[b'x'; 64]);
        assert_eq!(p.parse(&long), Err(RouteParseError::MaxControlLine));
        // Blanks count: over the limit with or without the newline.
        let mut p = RouteParser::new(16, 8);
        let spaced = [b"A+".as_slice(), &[b' '; 32], b"acc\n"].concat();
        assert_eq!(p.parse(&spaced), Err(RouteParseError::MaxControlLine));
        let mut p = RouteParser::new(16, 8);
        assert_eq!(p.parse(&spaced[..36]), Err(RouteParseError::MaxControlLine));
        // No operation starts so: that is the error, newline or not.
        let mut p = RouteParser::new(16, 8);
        assert_eq!(p.parse(&[b'x'; 64]), Err(RouteParseError::UnknownOp));
        let mut p = RouteParser::new(16, 8);
        assert_eq!(
            p.parse(&[[b'x'; 64].as_slice(), b"\n"].concat()),
            Err(RouteParseError::UnknownOp)
        );
        let mut p = RouteParser::new(4096, 1024);
        assert_eq!(p.parse(b"PUB foo 1\r\n"), Err(RouteParseError::UnknownOp));
        let mut p = RouteParser::new(4096, 1024);
        assert_eq!(
            p.parse(b"RMSG $G foo 3\r\nabcd\r\n"),
            Err(RouteParseError::UnknownOp)
        );
        let mut p = RouteParser::new(4096, 1024);
        assert!(p.parse(b"HMSG $G foo 9 3\r\n").is_err());
        let mut p = RouteParser::new(4096, 1024);
        assert!(p.parse(b"RMSG $G 3\r\nabc\r\n").is_err());
    }

    #[test]
    fn written_lines_read_back() {
        let mut out = BytesMut::new();
        write_sub(&mut out, Some(b"$G"), b"foo.*", Some((b"q1", 2)));
        write_unsub(&mut out, Some(b"$G"), b"foo.*", None);
        write_msg_line(
            &mut out,
            Some(b"APP"),
            b"a.b",
            Some(b"r"),
            [&b"q1"[..], b"q2"],
            None,
            3,
        );
        out.put_slice(b"abc\r\n");
        write_msg_line(&mut out, None, b"a.b", None, [&b"q1"[..]], Some(12), 3);
        out.put_slice(b"NATS/1.0\r\n\r\nabc\r\n");
        assert_eq!(
            &out[..],
            &b"RS+ $G foo.* q1 2\r\nRS- $G foo.*\r\nRMSG APP a.b + r q1 q2 3\r\nabc\r\nHMSG a.b | q1 12 15\r\nNATS/1.0\r\n\r\nabc\r\n"[..]
        );
    }
}
