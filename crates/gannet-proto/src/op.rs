//! The operations a client sends, borrowed from the read buffer.

/// One client operation. Every slice borrows from the buffer given to
/// [`crate::Parser::parse`]; nothing is copied or allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientOp<'a> {
    /// `CONNECT <json>`: the raw JSON text (possibly empty when the client sent none).
    Connect { json: &'a [u8] },
    /// `PUB <subject> [reply] <#bytes>` and its payload.
    Pub {
        subject: &'a [u8],
        reply: Option<&'a [u8]>,
        payload: &'a [u8],
    },
    /// `HPUB <subject> [reply] <#header bytes> <#total bytes>`: `headers` is the
    /// header block (up to and including its blank line), `payload` the rest.
    HPub {
        subject: &'a [u8],
        reply: Option<&'a [u8]>,
        headers: &'a [u8],
        payload: &'a [u8],
    },
    /// `SUB <subject> [queue] <sid>`.
    Sub {
        subject: &'a [u8],
        queue: Option<&'a [u8]>,
        sid: &'a [u8],
    },
    /// `UNSUB <sid> [max]`; a max that is not a number of at most
    /// [`crate::MAX_SIZE_DIGITS`] digits is `None` (a plain UNSUB), as in the
    /// reference. `Some(0)` is kept: it removes the subscription at once.
    Unsub { sid: &'a [u8], max: Option<u64> },
    /// `PING`, with anything after it on the line ignored (`PINGX` is a PING).
    Ping,
    /// `PONG`, with anything after it on the line ignored.
    Pong,
    /// A client-sent `INFO` (ignored by the server).
    Info,
    /// A client-sent `+OK` (ignored by the server); the rest of its line is ignored.
    Ok,
    /// A client-sent `-ERR` (the server closes the connection without a reply).
    Err,
}
