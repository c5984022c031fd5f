//! The NATS configuration file format (nats-server's `conf/`): text in, a
//! tree of [`Value`]s out, each remembering its file, line and column.
//!
//! The lexer scans characters into keys and values; the parser builds
//! [`Map`]s and arrays, resolves `$variables` (block-scoped, falling back to
//! the environment) and `include`s, and collects every error it can;
//! [`to_conf_string`] writes a tree back out; [`parse_go_duration`] reads the
//! duration syntax options use. What the keys mean is the options layer's
//! business, not this module's.
//!
//! Differences from nats-server worth knowing: columns count from 1 on every
//! line (nats-server counts from 0 on the first line only); parsing goes on
//! after an error; include cycles are an error (nats-server overflows its
//! stack); an integer right before `]` is an integer (nats-server 2.15 makes
//! it a string or fails); an unknown size suffix such as `1kbb` is an error
//! (nats-server drops the key).
mod duration;
mod error;
mod lexer;
mod parser;
mod scalar;
mod value;
mod writer;

pub use duration::{format_go_duration, nanos_to_duration, parse_go_duration, DurationError};
pub use error::ParseError;
pub use parser::{
    parse_file, parse_file_with, parse_str, parse_str_with, Source, MAX_DEPTH, MAX_INCLUDE_DEPTH,
};
pub use value::{Entry, Kind, Map, Pos, Value};
pub use writer::to_conf_string;

#[cfg(test)]
mod proptests;
