//! `request` (placeholder until written).

use clap::Args;

use crate::connect::Connector;

#[derive(Debug, Args)]
pub struct RequestArgs {}

pub async fn run(_args: RequestArgs, _connector: &Connector) -> anyhow::Result<()> {
    anyhow::bail!("request: not written yet")
}
