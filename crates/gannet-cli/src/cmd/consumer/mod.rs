//! `consumer`: JetStream consumer management with natscli's subcommands,
//! flags and output — `add`, `info`, `ls`, `rm` and `next`. Each but `rm`
//! has a file of its own. gannet never prompts, so `rm` needs `--force`.

mod add;
mod info;
mod ls;
mod next;

use anyhow::bail;
use clap::{Args, Subcommand};

use crate::cmd::stream::require_force;
use crate::connect::Connector;
use crate::jsm::model::SuccessResponse;
use crate::jsm::{check_name, Jsm};

#[derive(Debug, Subcommand)]
pub enum ConsumerCommand {
    /// Creates a new consumer
    #[command(alias = "create", alias = "new")]
    Add(Box<add::AddArgs>),
    /// Consumer information
    #[command(alias = "nfo")]
    Info(info::InfoArgs),
    /// List known consumers
    #[command(alias = "list")]
    Ls(ls::LsArgs),
    /// Removes a consumer
    #[command(alias = "delete", alias = "del")]
    Rm(RmArgs),
    /// Retrieves messages from Pull consumers without interactive prompts
    Next(next::NextArgs),
}

pub async fn run(command: ConsumerCommand, connector: &Connector) -> anyhow::Result<()> {
    match command {
        ConsumerCommand::Add(args) => add::run(*args, connector).await,
        ConsumerCommand::Info(args) => info::run(args, connector).await,
        ConsumerCommand::Ls(args) => ls::run(args, connector).await,
        ConsumerCommand::Rm(args) => rm(args, connector).await,
        ConsumerCommand::Next(args) => next::run(args, connector).await,
    }
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Stream name
    #[arg(value_name = "STREAM")]
    stream: String,
    /// Consumer name
    #[arg(value_name = "CONSUMER")]
    consumer: String,
    /// Force removal without prompting
    #[arg(short = 'f', long)]
    force: bool,
}

async fn rm(args: RmArgs, connector: &Connector) -> anyhow::Result<()> {
    check_name("stream", &args.stream)?;
    check_name("consumer", &args.consumer)?;
    require_force(
        args.force,
        &format!("delete Consumer {} > {}", args.stream, args.consumer),
    )?;
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    let reply: SuccessResponse = jsm
        .ask(&format!(
            "CONSUMER.DELETE.{}.{}",
            args.stream, args.consumer
        ))
        .await?;
    if !reply.success {
        bail!(
            "the server did not delete Consumer {} > {}",
            args.stream,
            args.consumer
        );
    }
    Ok(())
}
