//! Parse failures. Each one closes the connection; [`ParseError::client_error`]
//! gives the `-ERR` text the reference sends first, if any.

/// Why the parser stopped. All are fatal for the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Unknown operation, empty line, client `MSG`, bare `UNSUB`, or a payload not
    /// followed by exactly CR LF.
    #[error("unknown protocol operation")]
    UnknownOp,
    /// The arguments of a control line are longer than `max_control_line`.
    #[error("maximum control line exceeded")]
    MaxControlLine,
    /// A PUB/HPUB declared more than `max_payload` bytes.
    #[error("maximum payload exceeded")]
    MaxPayload,
    /// PUB/HPUB arguments the reference refuses without an `-ERR` (missing,
    /// non-numeric or negative size, too many arguments, header size > total size).
    #[error("malformed publish arguments")]
    BadPub,
    /// SUB arguments the reference refuses without an `-ERR` (missing sid, too many
    /// arguments), and likewise an UNSUB with blanks but no sid, or more than two
    /// arguments (a bare `UNSUB` with nothing after it is [`ParseError::UnknownOp`]).
    #[error("malformed subscribe arguments")]
    BadSub,
}

impl ParseError {
    /// The text of the `-ERR '<text>'` line the server sends before closing, or
    /// `None` when the reference closes silently.
    pub fn client_error(self) -> Option<&'static str> {
        match self {
            ParseError::UnknownOp => Some("Unknown Protocol Operation"),
            ParseError::MaxControlLine => Some("maximum control line exceeded"),
            ParseError::MaxPayload => Some("Maximum Payload Violation"),
            ParseError::BadPub | ParseError::BadSub => None,
        }
    }
}
