//! `publish` (placeholder until written).

use clap::Args;

use crate::connect::Connector;

#[derive(Debug, Args)]
pub struct PubArgs {}

pub async fn run(_args: PubArgs, _connector: &Connector) -> anyhow::Result<()> {
    anyhow::bail!("publish: not written yet")
}
