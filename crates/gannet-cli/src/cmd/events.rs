//! `events` (placeholder until written).

use clap::Args;

use crate::connect::Connector;

#[derive(Debug, Args)]
pub struct EventsArgs {}

pub async fn run(_args: EventsArgs, _connector: &Connector) -> anyhow::Result<()> {
    anyhow::bail!("events: not written yet")
}
