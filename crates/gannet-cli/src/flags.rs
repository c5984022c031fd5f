//! The command line: natscli's global connection flags (each with its `NATS_*`
//! environment variable) and the list of commands. Each command's own flags
//! live beside its code in `cmd/`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::cmd;
use crate::context::ContextCommand;
use crate::duration::parse_duration;

#[derive(Debug, Parser)]
#[command(
    name = "gannet",
    version,
    about = "Watch and drive a NATS system: traffic, server views, events, JetStream and benchmarks",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub connection: ConnectFlags,
    #[command(subcommand)]
    pub command: Command,
}

/// How to reach and authenticate to the servers. Every flag may come after the
/// command too, and falls back to the selected context (see `gannet context`).
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectFlags {
    /// NATS server URLs, comma separated
    #[arg(
        short = 's',
        long = "server",
        env = "NATS_URL",
        value_name = "URL",
        global = true
    )]
    pub server: Option<String>,
    /// Username, or a token when given without --password
    #[arg(long, env = "NATS_USER", value_name = "USER", global = true)]
    pub user: Option<String>,
    /// Password
    #[arg(long, env = "NATS_PASSWORD", value_name = "PASSWORD", global = true)]
    pub password: Option<String>,
    /// Token
    #[arg(long, env = "NATS_TOKEN", value_name = "TOKEN", global = true)]
    pub token: Option<String>,
    /// User credentials file (JWT and seed)
    #[arg(long, env = "NATS_CREDS", value_name = "FILE", global = true)]
    pub creds: Option<PathBuf>,
    /// User NKEY seed file
    #[arg(long, env = "NATS_NKEY", value_name = "FILE", global = true)]
    pub nkey: Option<PathBuf>,
    /// TLS client certificate (PEM)
    #[arg(long, env = "NATS_CERT", value_name = "FILE", global = true)]
    pub tlscert: Option<PathBuf>,
    /// TLS client private key (PEM)
    #[arg(long, env = "NATS_KEY", value_name = "FILE", global = true)]
    pub tlskey: Option<PathBuf>,
    /// TLS certificate authority chain (PEM) that signs the server's certificate
    #[arg(long, env = "NATS_CA", value_name = "FILE", global = true)]
    pub tlsca: Option<PathBuf>,
    /// Perform the TLS handshake before expecting the server greeting
    #[arg(long, alias = "tls-first", env = "NATS_TLSFIRST", global = true)]
    pub tlsfirst: bool,
    /// Time to wait on connecting and on responses from NATS
    #[arg(long, env = "NATS_TIMEOUT", value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub timeout: Option<Duration>,
    /// Name of the connection, as the server shows it
    #[arg(long, env = "NATS_CONNECTION_NAME", value_name = "NAME", global = true)]
    pub connection_name: Option<String>,
    /// Custom prefix for the inboxes of requests and replies
    #[arg(long, env = "NATS_INBOX_PREFIX", value_name = "PREFIX", global = true)]
    pub inbox_prefix: Option<String>,
    /// Configuration context to use instead of the selected one
    #[arg(long, env = "NATS_CONTEXT", value_name = "NAME", global = true)]
    pub context: Option<String>,
    /// Ignore the selected context
    #[arg(long, global = true)]
    pub no_context: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Subscribe to subjects and print what arrives
    #[command(alias = "subscribe")]
    Sub(cmd::sub::SubArgs),
    /// Publish messages
    #[command(alias = "publish")]
    Pub(cmd::publish::PubArgs),
    /// Send a request and wait for replies
    #[command(alias = "req")]
    Request(cmd::request::RequestArgs),
    /// Answer requests
    Reply(cmd::reply::ReplyArgs),
    /// Server views through the system account
    #[command(subcommand)]
    Server(cmd::server::ServerCommand),
    /// Watch the system account's events
    Events(cmd::events::EventsArgs),
    /// Benchmark publishing, subscribing, request/reply and JetStream
    #[command(subcommand)]
    Bench(cmd::bench::BenchCommand),
    /// JetStream stream management
    #[command(subcommand, alias = "str", alias = "st")]
    Stream(cmd::stream::StreamCommand),
    /// JetStream consumer management
    #[command(subcommand, alias = "con", alias = "c")]
    Consumer(cmd::consumer::ConsumerCommand),
    /// Interacts with a JetStream based Key-Value store
    #[command(subcommand)]
    Kv(cmd::kv::KvCommand),
    /// Interacts with a JetStream based Object store
    #[command(subcommand, alias = "obj")]
    Object(cmd::object::ObjectCommand),
    /// A live view of connections and message rates
    Top(cmd::top::TopArgs),
    /// Trace message delivery within a NATS network
    Trace(cmd::trace::TraceArgs),
    /// Manage saved connection contexts
    #[command(subcommand, alias = "ctx")]
    Context(ContextCommand),
    /// Print a shell completion script: `source <(gannet completion bash)`
    Completion(cmd::completion::CompletionArgs),
}
