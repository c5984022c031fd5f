//! `sub` (placeholder until written).

use clap::Args;

use crate::connect::Connector;

#[derive(Debug, Args)]
pub struct SubArgs {}

pub async fn run(_args: SubArgs, _connector: &Connector) -> anyhow::Result<()> {
    anyhow::bail!("sub: not written yet")
}
