//! `server`: views of the servers through the system account's `$SYS.REQ`
//! services, with natscli's subcommands, flags and output — `ping`, `list`,
//! `info`, `report`, `request`, `check` and `config reload`. Each lives in its own file; the
//! request plumbing, the reply shapes and the value formats they share live
//! in `sys`, `model` and `view`.

use clap::Subcommand;

use crate::connect::Connector;

mod check;
mod claims;
mod config;
mod info;
pub(crate) mod json;
mod list;
pub(crate) mod model;
mod ping;
mod report;
mod report_gateways;
mod report_leafs;
mod report_routes;
mod request;
mod sys;
pub(crate) mod view;

#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Ping all servers
    Ping(ping::PingArgs),
    /// List known servers
    #[command(alias = "ls")]
    List(list::ListArgs),
    /// Show information about a single server
    #[command(alias = "i")]
    Info(info::InfoArgs),
    /// Report on various server metrics
    #[command(alias = "rep")]
    Report(report::ReportArgs),
    /// Request monitoring data from a specific server
    #[command(alias = "req")]
    Request(request::RequestArgs),
    /// Health check for NATS servers
    Check(check::CheckArgs),
    /// Interact with server configuration
    #[command(subcommand)]
    Config(config::ConfigCommand),
}

pub async fn run(command: ServerCommand, connector: &Connector) -> anyhow::Result<()> {
    match command {
        ServerCommand::Ping(args) => ping::run(args, connector).await,
        ServerCommand::List(args) => list::run(args, connector).await,
        ServerCommand::Info(args) => info::run(args, connector).await,
        ServerCommand::Report(args) => report::run(args, connector).await,
        ServerCommand::Request(args) => request::run(args, connector).await,
        ServerCommand::Check(args) => check::run(args, connector).await,
        ServerCommand::Config(command) => config::run(command, connector).await,
    }
}
