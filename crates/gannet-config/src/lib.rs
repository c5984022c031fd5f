//! Gannet's configuration: [`conf`] reads the NATS config file format into a value
//! tree that remembers where every value came from (nats-server's `conf/`), and
//! [`options`] turns that tree into validated [`Options`] (nats-server's `opts.go`),
//! collecting every error at once.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod conf;
pub mod options;

pub use options::{
    from_map, load_file, load_str, ConfigError, ConfigErrors, Loaded, LogFormat, Options,
    WriteTimeoutPolicy,
};
