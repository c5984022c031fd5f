//! The error the config reader reports: a message and the place it is about.
use super::value::Pos;

/// One problem found while reading a config file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pos}: {message}")]
pub struct ParseError {
    pub pos: Pos,
    pub message: String,
}
