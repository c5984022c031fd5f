//! `reply` (placeholder until written).

use clap::Args;

use crate::connect::Connector;

#[derive(Debug, Args)]
pub struct ReplyArgs {}

pub async fn run(_args: ReplyArgs, _connector: &Connector) -> anyhow::Result<()> {
    anyhow::bail!("reply: not written yet")
}
