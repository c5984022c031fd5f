//! The NATS client protocol as bytes: what a client sends ([`ClientOp`], read by
//! [`Parser`]) and what the server writes back ([`encode`]), plus the subject rules
//! ([`subject`]), subject transforms ([`transform`]) and the weighted subject
//! mappings of accounts ([`mapping`]). Mirrors nats-server's `parser.go` without its coupling to the client:
//! this crate knows nothing of sockets, tokio, accounts, auth or configuration.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(unreachable_pub)]

pub mod encode;
mod error;
pub mod mapping;
pub mod msg_line;
mod op;
mod parser;
pub mod route;
pub mod subject;
pub mod transform;

pub use error::ParseError;
pub use op::ClientOp;
pub use parser::{hpub_sizes, Limits, Parser, MAX_SIZE_DIGITS};
