//! Gannet, a NATS-compatible message server: the runtime behind the
//! `gannet-server` binary. See `docs/ARCHITECTURE.md` for how the parts fit.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod client;
pub(crate) mod encoding;
pub mod events;
pub(crate) mod fanout;
pub mod files;
pub mod gateway;
mod heap;
pub mod idle_spin;
pub mod imports;
pub mod info;
pub mod internal;
pub mod jetstream;
pub mod leaf;
mod listener;
pub mod monitor;
pub(crate) mod msgtrace;
mod resolver;
pub mod route;
pub mod server;
pub mod stats;
pub mod subscription;
pub mod sysreq;
pub mod tls;

pub use gannet_config::Options;
pub use server::{Reloader, RunningServer, Server, StartError};
