//! One module per command (or command group), each with its clap arguments and
//! its `run`.

pub mod bench;
pub mod bosh;
pub mod completion;
pub mod consumer;
pub mod events;
pub mod external;
pub mod kv;
pub mod object;
pub mod output;
pub mod publish;
pub mod reply;
pub mod request;
pub mod server;
pub mod stream;
pub mod sub;
pub mod template;
pub mod top;
pub mod trace;
