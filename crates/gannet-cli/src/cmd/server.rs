//! `server` (placeholder until written).

use clap::Subcommand;

use crate::connect::Connector;

#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Placeholder
    Placeholder,
}

pub async fn run(_command: ServerCommand, _connector: &Connector) -> anyhow::Result<()> {
    anyhow::bail!("server: not written yet")
}
