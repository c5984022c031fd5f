//! `bench` (placeholder until written).

use clap::Subcommand;

use crate::connect::Connector;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Placeholder
    Placeholder,
}

pub async fn run(_command: BenchCommand, _connector: &Connector) -> anyhow::Result<()> {
    anyhow::bail!("bench: not written yet")
}
