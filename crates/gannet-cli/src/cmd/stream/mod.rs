//! `stream`: JetStream stream management with natscli's subcommands, flags
//! and output — `add`, `info`, `ls`, `rm`, `purge`, `get` and `rmm`. `add`,
//! `info`, `ls` and `get` have files of their own; removing, purging and
//! deleting one message are here. gannet never prompts, so what natscli asks
//! to confirm needs `--force`.

mod add;
mod get;
mod info;
pub mod ls;

use anyhow::bail;
use clap::{Args, Subcommand};

use crate::connect::Connector;
use crate::jsm::model::{PurgeResponse, SuccessResponse};
use crate::jsm::{check_name, Jsm};

pub use info::{title_case, title_storage};

#[derive(Debug, Subcommand)]
pub enum StreamCommand {
    /// Create a new stream
    #[command(alias = "create", alias = "new")]
    Add(Box<add::AddArgs>),
    /// Stream information
    #[command(alias = "nfo", alias = "i")]
    Info(info::InfoArgs),
    /// List all known streams
    #[command(alias = "list", alias = "l")]
    Ls(ls::LsArgs),
    /// Removes a stream
    #[command(alias = "delete", alias = "del")]
    Rm(RmArgs),
    /// Bulk removes messages from a stream
    Purge(PurgeArgs),
    /// Retrieves a specific message from a stream
    Get(get::GetArgs),
    /// Securely removes an individual message from a stream
    Rmm(RmmArgs),
}

pub async fn run(command: StreamCommand, connector: &Connector) -> anyhow::Result<()> {
    match command {
        StreamCommand::Add(args) => add::run(*args, connector).await,
        StreamCommand::Info(args) => info::run(args, connector).await,
        StreamCommand::Ls(args) => ls::run(args, connector).await,
        StreamCommand::Rm(args) => rm(args, connector).await,
        StreamCommand::Purge(args) => purge(args, connector).await,
        StreamCommand::Get(args) => get::run(args, connector).await,
        StreamCommand::Rmm(args) => rmm(args, connector).await,
    }
}

/// The refusal when an action natscli would confirm lacks `--force`.
pub fn require_force(force: bool, action: &str) -> anyhow::Result<()> {
    if !force {
        bail!("gannet does not ask for confirmation: pass --force (-f) to {action}");
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Stream name
    #[arg(value_name = "STREAM")]
    stream: String,
    /// Force removal without prompting
    #[arg(short = 'f', long)]
    force: bool,
}

async fn rm(args: RmArgs, connector: &Connector) -> anyhow::Result<()> {
    check_name("stream", &args.stream)?;
    require_force(args.force, &format!("delete Stream {}", args.stream))?;
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    let reply: SuccessResponse = jsm.ask(&format!("STREAM.DELETE.{}", args.stream)).await?;
    if !reply.success {
        bail!("the server did not delete Stream {}", args.stream);
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Stream name
    #[arg(value_name = "STREAM")]
    stream: String,
    /// Force removal without prompting
    #[arg(short = 'f', long)]
    force: bool,
    /// Limits the purge to a specific subject
    #[arg(long, value_name = "SUBJECT")]
    subject: Option<String>,
    /// Purge up to but not including a specific message sequence
    #[arg(long, value_name = "SEQUENCE")]
    seq: Option<u64>,
    /// Keeps a certain number of messages after the purge
    #[arg(long, value_name = "MESSAGES")]
    keep: Option<u64>,
}

async fn purge(args: PurgeArgs, connector: &Connector) -> anyhow::Result<()> {
    check_name("stream", &args.stream)?;
    require_force(args.force, &format!("purge Stream {}", args.stream))?;
    let seq = args.seq.unwrap_or(0);
    let keep = args.keep.unwrap_or(0);
    if seq > 0 && keep > 0 {
        bail!("sequence and keep cannot be combined when purging");
    }
    let mut body = serde_json::Map::new();
    if let Some(subject) = args.subject.as_deref().filter(|s| !s.is_empty()) {
        body.insert("filter".into(), subject.into());
    }
    if seq > 0 {
        body.insert("seq".into(), seq.into());
    }
    if keep > 0 {
        body.insert("keep".into(), keep.into());
    }
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    // Like natscli, check the stream exists first.
    jsm.stream_info(&args.stream)
        .await
        .map_err(|err| err.context("could not purge Stream"))?;
    let body = (!body.is_empty()).then_some(serde_json::Value::Object(body));
    let reply: PurgeResponse = jsm
        .request(&format!("STREAM.PURGE.{}", args.stream), body.as_ref())
        .await
        .map_err(|err| err.context("could not purge Stream"))?;
    println!("Purged {} messages from {}\n", reply.purged, args.stream);
    let info = jsm
        .stream_info(&args.stream)
        .await
        .map_err(|err| err.context("could not request Stream info"))?;
    print!("{}", info::render(&info, true));
    Ok(())
}

#[derive(Debug, Args)]
pub struct RmmArgs {
    /// Stream name
    #[arg(value_name = "STREAM")]
    stream: String,
    /// Message Sequence to remove
    #[arg(value_name = "SEQ")]
    seq: u64,
    /// Force removal without prompting
    #[arg(short = 'f', long)]
    force: bool,
}

async fn rmm(args: RmmArgs, connector: &Connector) -> anyhow::Result<()> {
    check_name("stream", &args.stream)?;
    if args.seq == 0 {
        bail!("positive message ID required");
    }
    require_force(
        args.force,
        &format!("remove message {} from Stream {}", args.seq, args.stream),
    )?;
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    jsm.stream_info(&args.stream)
        .await
        .map_err(|err| err.context(format!("could not load Stream {}", args.stream)))?;
    let body = serde_json::json!({ "seq": args.seq });
    let reply: SuccessResponse = jsm
        .request(&format!("STREAM.MSG.DELETE.{}", args.stream), Some(&body))
        .await?;
    if !reply.success {
        bail!(
            "the server did not remove message {} from Stream {}",
            args.seq,
            args.stream
        );
    }
    Ok(())
}
