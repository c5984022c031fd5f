//! `top` (placeholder until written).

use clap::Args;

use crate::connect::Connector;

#[derive(Debug, Args)]
pub struct TopArgs {}

pub async fn run(_args: TopArgs, _connector: &Connector) -> anyhow::Result<()> {
    anyhow::bail!("top: not written yet")
}
