//! The resumable parser. (Skeleton: to be implemented.)
use crate::{ClientOp, ParseError};

/// Limits the parser enforces while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest argument part of a control line (after `OP `, before CR LF).
    pub max_control_line: usize,
    /// Largest PUB/HPUB total size.
    pub max_payload: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_control_line: 4096,
            max_payload: 1024 * 1024,
        }
    }
}

/// Parses client operations from a byte stream that may arrive cut at any byte.
#[derive(Debug)]
pub struct Parser {
    limits: Limits,
}

impl Parser {
    pub fn new(limits: Limits) -> Self {
        Parser { limits }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Parses the next operation at the front of `buf`.
    ///
    /// Returns `Ok(Some((op, consumed)))` for a complete operation that took the
    /// first `consumed` bytes, `Ok(None)` when `buf` holds only part of one. The
    /// caller then keeps the unconsumed bytes, appends what it reads next and
    /// calls again with the longer buffer; the parser remembers how far it got so
    /// that nothing is scanned twice.
    pub fn parse<'a>(&mut self, buf: &'a [u8]) -> Result<Option<(ClientOp<'a>, usize)>, ParseError> {
        let _ = buf;
        todo!()
    }
}
