//! `kv`: Key-Value buckets with natscli's subcommands, flags and output —
//! `add`, `put`, `get`, `del` (alias `rm`, which removes the whole bucket
//! when no key is given), `purge`, `ls`, `history`, `watch` and `info`. The
//! key-value protocol (key subjects, delete markers, rollups) is async-nats's;
//! bucket reports (`status`) read the bucket's stream, `watch` owns watching
//! and history. gannet never prompts, so deleting and purging need
//! `--force`.

mod status;
mod watch;

pub use status::{cluster_rows, limit_bytes};

use std::io::Read as _;

use anyhow::{anyhow, bail};
use async_nats::jetstream::{self, kv::Operation};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use futures::StreamExt;

use crate::cmd::output::write_stdout;
use crate::cmd::stream::require_force;
use crate::connect::Connector;
use crate::format::number;
use crate::jsm::model::StreamInfo;
use crate::jsm::view::{self, text_or_base64};
use crate::jsm::{client_error, has_api_code, Jsm};
use crate::session::Session;

#[derive(Debug, Subcommand)]
pub enum KvCommand {
    /// Adds a new KV Store Bucket
    #[command(alias = "new")]
    Add(status::AddArgs),
    /// Puts a value into a key
    Put(PutArgs),
    /// Gets a value for a key
    Get(GetArgs),
    /// Deletes a key or the entire bucket
    #[command(alias = "rm")]
    Del(DelArgs),
    /// Deletes a key from the bucket, clearing history before creating a delete marker
    Purge(PurgeArgs),
    /// Shows the full history for a key
    History(watch::HistoryArgs),
    /// View the status of a KV store
    #[command(alias = "view", alias = "status")]
    Info(status::InfoArgs),
    /// Watch the bucket or a specific key for updates
    Watch(watch::WatchArgs),
    /// List available buckets or the keys in a bucket
    #[command(alias = "list")]
    Ls(LsArgs),
}

pub async fn run(command: KvCommand, connector: &Connector) -> anyhow::Result<()> {
    match command {
        KvCommand::Add(args) => status::add(args, connector).await,
        KvCommand::Put(args) => put(args, connector).await,
        KvCommand::Get(args) => get(args, connector).await,
        KvCommand::Del(args) => del(args, connector).await,
        KvCommand::Purge(args) => purge(args, connector).await,
        KvCommand::History(args) => watch::history(args, connector).await,
        KvCommand::Info(args) => status::info(args, connector).await,
        KvCommand::Watch(args) => watch::watch(args, connector).await,
        KvCommand::Ls(args) => ls(args, connector).await,
    }
}

/// Bucket names as the key-value protocol allows them.
pub fn check_bucket(bucket: &str) -> anyhow::Result<()> {
    if bucket.is_empty()
        || !bucket
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        bail!("invalid bucket name {bucket:?}: use letters, digits, '_' and '-'");
    }
    Ok(())
}

/// The info of the stream behind `bucket`; `bucket not found` when there is
/// none.
pub async fn bucket_stream(jsm: &Jsm, bucket: &str) -> anyhow::Result<StreamInfo> {
    jsm.stream_info(&format!("KV_{bucket}"))
        .await
        .map_err(|err| {
            if has_api_code(&err, 404) {
                anyhow!("bucket not found")
            } else {
                err
            }
        })
}

/// An async-nats error in natscli's words, `bucket not found` for a missing
/// bucket.
fn kv_error(err: &(dyn std::error::Error + 'static)) -> anyhow::Error {
    let text = client_error(err);
    if text.starts_with("stream not found") {
        anyhow!("bucket not found")
    } else {
        anyhow!("{text}")
    }
}

/// Connects and opens `bucket`.
async fn open(
    connector: &Connector,
    bucket: &str,
) -> anyhow::Result<(Session, jetstream::kv::Store)> {
    check_bucket(bucket)?;
    let session = connector.connect().await?;
    let js = jetstream::new(session.client.clone());
    let store = js
        .get_key_value(bucket)
        .await
        .map_err(|err| kv_error(&err))?;
    Ok((session, store))
}

/// A key-value time (async-nats's) as a chrono time.
pub fn entry_time(created: &async_nats::jetstream::kv::Entry) -> DateTime<Utc> {
    let nanos = created.created.unix_timestamp_nanos();
    DateTime::from_timestamp_nanos(i64::try_from(nanos).unwrap_or(0))
}

/// natscli's names of the operations.
pub fn operation_name(operation: &Operation) -> &'static str {
    match operation {
        Operation::Put => "PUT",
        Operation::Delete => "DELETE",
        Operation::Purge => "PURGE",
    }
}

#[derive(Debug, Args)]
pub struct PutArgs {
    /// The bucket to act on
    #[arg(value_name = "BUCKET")]
    bucket: String,
    /// The key to act on
    #[arg(value_name = "KEY")]
    key: String,
    /// The value to store, when empty reads STDIN
    #[arg(value_name = "VALUE")]
    value: Option<String>,
}

async fn put(args: PutArgs, connector: &Connector) -> anyhow::Result<()> {
    let text = args.value.clone().unwrap_or_default();
    let value = if text.is_empty() && !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        let mut data = Vec::new();
        std::io::stdin()
            .read_to_end(&mut data)
            .map_err(|err| anyhow!("reading the value from stdin: {err}"))?;
        data
    } else {
        text.clone().into_bytes()
    };
    let (_session, store) = open(connector, &args.bucket).await?;
    store
        .put(&args.key, Bytes::from(value))
        .await
        .map_err(|err| kv_error(&err))?;
    println!("{text}");
    Ok(())
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The bucket to act on
    #[arg(value_name = "BUCKET")]
    bucket: String,
    /// The key to act on
    #[arg(value_name = "KEY")]
    key: String,
    /// Gets a specific revision
    #[arg(long, value_name = "REVISION")]
    revision: Option<u64>,
    /// Show only the value string
    #[arg(long)]
    raw: bool,
}

/// How much of a value `kv get` shows without `--raw`.
const SHOWN_VALUE: usize = 120;

async fn get(args: GetArgs, connector: &Connector) -> anyhow::Result<()> {
    let (_session, store) = open(connector, &args.bucket).await?;
    let entry = match args.revision.filter(|r| *r > 0) {
        Some(revision) => store.entry_for_revision(&args.key, revision).await,
        None => store.entry(&args.key).await,
    }
    .map_err(|err| kv_error(&err))?;
    let entry = match entry {
        Some(entry) if entry.operation == Operation::Put => entry,
        _ => bail!("key not found"),
    };
    if args.raw {
        return write_stdout(&entry.value);
    }
    let mut out = format!(
        "{} > {} revision: {} created @ {}\n\n",
        entry.bucket,
        entry.key,
        entry.revision,
        view::local(entry_time(&entry))
    );
    let shown = text_or_base64(&entry.value);
    if shown.len() > SHOWN_VALUE {
        out.push_str(&format!(
            "Showing first {SHOWN_VALUE} bytes of {}, use --raw for full data\n\n",
            number(shown.len() as u64)
        ));
        out.push_str(shown.get(..SHOWN_VALUE).unwrap_or(&shown));
    } else {
        out.push_str(&shown);
    }
    out.push_str("\n\n");
    write_stdout(out.as_bytes())
}

#[derive(Debug, Args)]
pub struct DelArgs {
    /// The bucket to act on
    #[arg(value_name = "BUCKET")]
    bucket: String,
    /// The key to act on (without one, the whole bucket is deleted)
    #[arg(value_name = "KEY")]
    key: Option<String>,
    /// Act without confirmation
    #[arg(short = 'f', long)]
    force: bool,
}

async fn del(args: DelArgs, connector: &Connector) -> anyhow::Result<()> {
    let Some(key) = &args.key else {
        check_bucket(&args.bucket)?;
        require_force(args.force, &format!("delete bucket {}", args.bucket))?;
        let session = connector.connect().await?;
        let jsm = Jsm::new(&session.client, connector.timeout);
        bucket_stream(&jsm, &args.bucket).await?;
        let js = jetstream::new(session.client.clone());
        js.delete_key_value(&args.bucket)
            .await
            .map_err(|err| kv_error(&err))?;
        return Ok(());
    };
    require_force(args.force, &format!("delete key {} > {key}", args.bucket))?;
    let (_session, store) = open(connector, &args.bucket).await?;
    store.delete(key).await.map_err(|err| kv_error(&err))
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The bucket to act on
    #[arg(value_name = "BUCKET")]
    bucket: String,
    /// The key to act on
    #[arg(value_name = "KEY")]
    key: String,
    /// Act without confirmation
    #[arg(short = 'f', long)]
    force: bool,
}

async fn purge(args: PurgeArgs, connector: &Connector) -> anyhow::Result<()> {
    require_force(
        args.force,
        &format!("purge key {} > {}", args.bucket, args.key),
    )?;
    let (_session, store) = open(connector, &args.bucket).await?;
    store.purge(&args.key).await.map_err(|err| kv_error(&err))
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// The bucket to list the keys of (all buckets without one)
    #[arg(value_name = "BUCKET")]
    bucket: Option<String>,
    /// Show just the bucket names
    #[arg(short = 'n', long)]
    names: bool,
}

async fn ls(args: LsArgs, connector: &Connector) -> anyhow::Result<()> {
    let Some(bucket) = &args.bucket else {
        let session = connector.connect().await?;
        let jsm = Jsm::new(&session.client, connector.timeout);
        return status::list_buckets(&jsm, args.names).await;
    };
    let (_session, store) = open(connector, bucket).await?;
    let mut keys = store
        .keys()
        .await
        .map_err(|err| anyhow!("unable to load bucket: {}", client_error(&err)))?;
    let mut found = false;
    while let Some(key) = keys.next().await {
        let key = key.map_err(|err| kv_error(&err))?;
        found = true;
        println!("{key}");
    }
    if !found && !args.names {
        println!("No keys found in bucket");
    }
    Ok(())
}
