//! `kv history BUCKET KEY` (natscli's "History for" table of a key's
//! revisions) and `kv watch BUCKET [KEY]` (one line per change, from the
//! latest value of each key on, or all history, or new values only, until
//! interrupted).

use anyhow::anyhow;
use async_nats::jetstream::kv::Operation;
use clap::Args;
use futures::StreamExt;

use crate::cmd::output::write_stdout;
use crate::connect::Connector;
use crate::format::number;
use crate::jsm::view::{self, text_or_base64};
use crate::table::Table;

use super::{entry_time, kv_error, open, operation_name};

/// Values longer than this show their ends only in the history table.
const SHOWN_HISTORY_VALUE: usize = 40;

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The bucket to act on
    #[arg(value_name = "BUCKET")]
    bucket: String,
    /// The key to act on
    #[arg(value_name = "KEY")]
    key: String,
}

pub async fn history(args: HistoryArgs, connector: &Connector) -> anyhow::Result<()> {
    let (_session, store) = open(connector, &args.bucket).await?;
    let mut entries = store
        .history(&args.key)
        .await
        .map_err(|err| kv_error(&err))?;
    let mut table = Table::new(format!("History for {} > {}", args.bucket, args.key));
    table.headers(["Key", "Revision", "Op", "Created", "Length", "Value"]);
    let mut found = false;
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(|err| kv_error(&err))?;
        found = true;
        table.row([
            entry.key.clone(),
            entry.revision.to_string(),
            operation_name(&entry.operation).to_string(),
            view::local(entry_time(&entry)),
            number(entry.value.len() as u64),
            shorten(&text_or_base64(&entry.value)),
        ]);
    }
    if !found {
        return Err(anyhow!("key not found"));
    }
    println!("{}", table.render());
    Ok(())
}

/// natscli's cut of long values: the first and last 15 characters.
fn shorten(value: &str) -> String {
    if value.len() > SHOWN_HISTORY_VALUE {
        let head = value.get(..15).unwrap_or(value);
        let tail = value.get(value.len() - 15..).unwrap_or_default();
        format!("{head}...{tail}")
    } else {
        value.to_string()
    }
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The bucket to act on
    #[arg(value_name = "BUCKET")]
    bucket: String,
    /// The key to act on
    #[arg(value_name = "KEY", default_value = ">")]
    key: String,
    /// Includes historic values
    #[arg(long, conflicts_with_all = ["revision", "updates"])]
    history: bool,
    /// Only show new values written
    #[arg(long, conflicts_with = "revision")]
    updates: bool,
    /// Includes deletes in watched values (the default)
    #[arg(long, overrides_with = "no_deletes")]
    deletes: bool,
    /// Leaves deletes out of the watched values
    #[arg(long, overrides_with = "deletes")]
    no_deletes: bool,
    /// Starts from a certain revision
    #[arg(long, value_name = "REVISION")]
    revision: Option<u64>,
}

pub async fn watch(args: WatchArgs, connector: &Connector) -> anyhow::Result<()> {
    let (_session, store) = open(connector, &args.bucket).await?;
    let deletes = args.deletes || !args.no_deletes;
    // async-nats's names differ from natscli's: its `watch` delivers new
    // values only and its `watch_with_history` the latest of each key.
    let watcher = match args.revision.filter(|r| *r > 0) {
        Some(revision) => store.watch_from_revision(&args.key, revision).await,
        None if args.history => store.watch_from_revision(&args.key, 1).await,
        None if args.updates => store.watch(&args.key).await,
        None => store.watch_with_history(&args.key).await,
    };
    let mut watcher = watcher.map_err(|err| kv_error(&err))?;
    loop {
        let entry = tokio::select! {
            entry = watcher.next() => entry,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Some(entry) = entry else {
            return Err(anyhow!("the watch of bucket {} ended", args.bucket));
        };
        let entry = entry.map_err(|err| kv_error(&err))?;
        let time = view::local(entry_time(&entry));
        let line = match entry.operation {
            Operation::Delete | Operation::Purge if !deletes => continue,
            Operation::Delete | Operation::Purge => format!(
                "[{time}] {} {} > {}\n",
                operation_name(&entry.operation),
                entry.bucket,
                entry.key
            )
            .into_bytes(),
            Operation::Put => {
                let mut line =
                    format!("[{time}] PUT {} > {}: ", entry.bucket, entry.key).into_bytes();
                line.extend_from_slice(&entry.value);
                line.push(b'\n');
                line
            }
        };
        write_stdout(&line)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_show_their_ends() {
        assert_eq!(shorten("short"), "short");
        let long = "a".repeat(20) + &"b".repeat(25);
        assert_eq!(shorten(&long), "aaaaaaaaaaaaaaa...bbbbbbbbbbbbbbb");
    }
}
