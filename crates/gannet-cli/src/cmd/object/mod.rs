//! `object`: Object Store buckets with natscli's subcommands, flags and
//! output — `add`, `put`, `get`, `ls`, `info` and `rm` (alias `del`, which
//! removes the whole bucket when no object is named). The object protocol
//! (chunks, metadata records, digests) is async-nats's; the reports are in
//! `info`. gannet never prompts, so removing, and replacing an object or a
//! file, need `--force`.

mod info;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context as _};
use async_nats::jetstream::{self, object_store, stream::StorageType};
use clap::{Args, Subcommand};
use futures::StreamExt;

use crate::cmd::kv::check_bucket;
use crate::cmd::stream::require_force;
use crate::connect::Connector;
use crate::duration::parse_duration;
use crate::format::{bytes, humanize_duration};
use crate::jsm::model::StreamInfo;
use crate::jsm::parse::bytes_limit;
use crate::jsm::view::{self, local_text};
use crate::jsm::{client_error, has_api_code, Jsm};
use crate::session::Session;
use crate::table::Table;

#[derive(Debug, Subcommand)]
pub enum ObjectCommand {
    /// Adds a new Object Store Bucket
    Add(AddArgs),
    /// Puts a file into the store
    Put(PutArgs),
    /// Retrieves a file from the store
    Get(GetArgs),
    /// List buckets or contents of a specific bucket
    Ls(LsArgs),
    /// Get information about a bucket or object
    #[command(alias = "show", alias = "i")]
    Info(InfoArgs),
    /// Deletes a file or bucket from the store
    #[command(alias = "rm")]
    Del(DelArgs),
}

pub async fn run(command: ObjectCommand, connector: &Connector) -> anyhow::Result<()> {
    match command {
        ObjectCommand::Add(args) => add(args, connector).await,
        ObjectCommand::Put(args) => put(args, connector).await,
        ObjectCommand::Get(args) => get(args, connector).await,
        ObjectCommand::Ls(args) => ls(args, connector).await,
        ObjectCommand::Info(args) => show(args, connector).await,
        ObjectCommand::Del(args) => del(args, connector).await,
    }
}

/// The info of the stream behind `bucket`; `object store not found` when
/// there is none.
async fn bucket_stream(jsm: &Jsm, bucket: &str) -> anyhow::Result<StreamInfo> {
    jsm.stream_info(&format!("OBJ_{bucket}"))
        .await
        .map_err(|err| {
            if has_api_code(&err, 404) {
                anyhow!("object store not found")
            } else {
                err
            }
        })
}

/// An async-nats error in natscli's words.
fn object_error(err: &(dyn std::error::Error + 'static)) -> anyhow::Error {
    let text = client_error(err);
    if text.starts_with("stream not found") {
        anyhow!("object store not found")
    } else {
        anyhow!("{text}")
    }
}

/// Connects and opens `bucket`.
async fn open(
    connector: &Connector,
    bucket: &str,
) -> anyhow::Result<(Session, object_store::ObjectStore)> {
    check_bucket(bucket)?;
    let session = connector.connect().await?;
    let js = jetstream::new(session.client.clone());
    let store = js
        .get_object_store(bucket)
        .await
        .map_err(|err| object_error(&err))?;
    Ok((session, store))
}

async fn print_bucket(
    session: &Session,
    connector: &Connector,
    bucket: &str,
) -> anyhow::Result<()> {
    let jsm = Jsm::new(&session.client, connector.timeout);
    let stream = bucket_stream(&jsm, bucket).await?;
    print!("{}", info::bucket(bucket, &stream));
    Ok(())
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The bucket to act on
    #[arg(value_name = "BUCKET")]
    bucket: String,
    /// How long to keep objects for
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    ttl: Option<std::time::Duration>,
    /// How many replicas of the data to store
    #[arg(long, default_value_t = 1, value_name = "REPLICAS")]
    replicas: usize,
    /// Maximum size for the bucket
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    max_bucket_size: Option<String>,
    /// A description for the bucket
    #[arg(long, value_name = "DESCRIPTION")]
    description: Option<String>,
    /// Storage backend to use (file, memory)
    #[arg(long, value_name = "STORAGE", value_parser = ["file", "f", "memory", "m"])]
    storage: Option<String>,
}

async fn add(args: AddArgs, connector: &Connector) -> anyhow::Result<()> {
    check_bucket(&args.bucket)?;
    let max_bytes = match args.max_bucket_size.as_deref() {
        Some(text) => bytes_limit(text)?.unwrap_or(-1),
        None => -1,
    };
    let storage = match args.storage.as_deref() {
        Some(storage) if storage.starts_with('m') => StorageType::Memory,
        _ => StorageType::File,
    };
    let session = connector.connect().await?;
    let js = jetstream::new(session.client.clone());
    js.create_object_store(object_store::Config {
        bucket: args.bucket.clone(),
        description: args.description.clone(),
        max_age: args.ttl.unwrap_or_default(),
        max_bytes,
        storage,
        num_replicas: args.replicas,
        ..Default::default()
    })
    .await
    .map_err(|err| object_error(&err))?;
    print_bucket(&session, connector, &args.bucket).await
}

#[derive(Debug, Args)]
pub struct PutArgs {
    /// The bucket to act on
    #[arg(value_name = "BUCKET")]
    bucket: String,
    /// The file to put
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Override the name supplied to the object store
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Sets an optional description for the object
    #[arg(long, value_name = "DESCRIPTION")]
    description: Option<String>,
    /// Adds headers to the object using K:V format
    #[arg(short = 'H', long = "header", value_name = "K:V")]
    headers: Vec<String>,
    /// Act without confirmation (replace an existing object)
    #[arg(short = 'f', long)]
    force: bool,
}

/// Go's `filepath.Clean` for the names natscli derives from file paths.
fn clean_name(name: &str) -> String {
    let absolute = name.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            part => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

async fn put(args: PutArgs, connector: &Connector) -> anyhow::Result<()> {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => args.file.to_string_lossy().into_owned(),
    };
    let name = clean_name(&name);
    let headers = crate::cmd::bench::parse_headers(&args.headers)?;
    let mut file = tokio::fs::File::open(&args.file)
        .await
        .with_context(|| format!("open {}", args.file.display()))?;
    let (_session, store) = open(connector, &args.bucket).await?;
    if let Ok(existing) = store.info(&name).await {
        if !existing.deleted && !args.force {
            print!("{}", info::object(&existing));
            println!();
            require_force(
                false,
                &format!("replace existing file {} > {name}", args.bucket),
            )?;
        }
    }
    let meta = object_store::ObjectMetadata {
        name,
        description: args.description.clone(),
        headers,
        ..Default::default()
    };
    let stored = store
        .put(meta, &mut file)
        .await
        .map_err(|err| object_error(&err))?;
    println!();
    print!("{}", info::object(&stored));
    Ok(())
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The bucket to act on
    #[arg(value_name = "BUCKET")]
    bucket: String,
    /// The file to retrieve
    #[arg(value_name = "NAME")]
    name: String,
    /// Override the output file name
    #[arg(short = 'O', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Act without confirmation (replace an existing file)
    #[arg(short = 'f', long)]
    force: bool,
}

async fn get(args: GetArgs, connector: &Connector) -> anyhow::Result<()> {
    let (_session, store) = open(connector, &args.bucket).await?;
    let found = store
        .info(&args.name)
        .await
        .map_err(|err| object_error(&err))?;
    if found.deleted {
        bail!("file has been deleted");
    }
    let target = match &args.output {
        Some(output) => output.clone(),
        None => Path::new(&found.name)
            .file_name()
            .map(PathBuf::from)
            .ok_or_else(|| anyhow!("the object name {:?} is no file name", found.name))?,
    };
    let target =
        std::path::absolute(&target).with_context(|| format!("resolving {}", target.display()))?;
    if !args.force && target.exists() {
        require_force(
            false,
            &format!("replace existing target file {}", target.display()),
        )?;
    }
    let mut object = store
        .get(&args.name)
        .await
        .map_err(|err| object_error(&err))?;
    let mut file = tokio::fs::File::create(&target)
        .await
        .with_context(|| format!("create {}", target.display()))?;
    let start = Instant::now();
    let copied = tokio::io::copy(&mut object, &mut file).await;
    let written = match copied {
        Ok(written) => written,
        Err(err) => {
            drop(file);
            let _ = tokio::fs::remove_file(&target).await;
            bail!("{err}");
        }
    };
    use tokio::io::AsyncWriteExt as _;
    file.flush().await?;
    if written > 0 && written != found.size as u64 {
        bail!(
            "wrote {}, expected {}",
            bytes(written),
            bytes(found.size as u64)
        );
    }
    let elapsed = start.elapsed();
    if elapsed.as_secs() >= 2 {
        let rate = (found.size as f64 / elapsed.as_secs_f64()) as u64;
        println!(
            "Wrote: {} to {} in {} average {}/s",
            bytes(written),
            target.display(),
            humanize_duration(elapsed),
            bytes(rate)
        );
    } else {
        println!(
            "Wrote: {} to {} in {}",
            bytes(written),
            target.display(),
            humanize_duration(elapsed)
        );
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// The bucket to list (all buckets without one)
    #[arg(value_name = "BUCKET")]
    bucket: Option<String>,
    /// Show just the names
    #[arg(short = 'n', long)]
    names: bool,
}

async fn ls(args: LsArgs, connector: &Connector) -> anyhow::Result<()> {
    let Some(bucket) = &args.bucket else {
        let session = connector.connect().await?;
        let jsm = Jsm::new(&session.client, connector.timeout);
        return list_buckets(&jsm, args.names).await;
    };
    let (_session, store) = open(connector, bucket).await?;
    let mut list = store.list().await.map_err(|err| object_error(&err))?;
    let mut contents = Vec::new();
    while let Some(entry) = list.next().await {
        contents.push(entry.map_err(|err| object_error(&err))?);
    }
    if args.names {
        for entry in &contents {
            println!("{}", entry.name);
        }
        return Ok(());
    }
    if contents.is_empty() {
        println!("No entries found");
        return Ok(());
    }
    let mut table = Table::new("Bucket Contents");
    table.headers(["Name", "Size", "Time"]);
    for entry in &contents {
        table.row([
            entry.name.clone(),
            bytes(entry.size as u64),
            info::modified(entry).map(view::local).unwrap_or_default(),
        ]);
    }
    println!("{}", table.render());
    Ok(())
}

/// `object ls` without a bucket.
async fn list_buckets(jsm: &Jsm, names: bool) -> anyhow::Result<()> {
    let mut buckets: Vec<StreamInfo> = jsm
        .stream_list()
        .await?
        .into_iter()
        .filter(|info| info.config.name.starts_with("OBJ_"))
        .collect();
    if buckets.is_empty() {
        if !names {
            println!("No Object Store buckets found");
        }
        return Ok(());
    }
    if names {
        for info in &buckets {
            println!("{}", info.config.name.trim_start_matches("OBJ_"));
        }
        return Ok(());
    }
    buckets.sort_by_key(|info| info.state.bytes);
    let mut table = Table::new("Object Store Buckets");
    table.headers(["Bucket", "Description", "Created", "Size", "Last Update"]);
    for info in &buckets {
        table.row([
            info.config.name.trim_start_matches("OBJ_").to_string(),
            info.config.description.clone(),
            local_text(&info.created),
            bytes(info.state.bytes),
            view::age("", &info.state.last_ts),
        ]);
    }
    println!("{}", table.render());
    Ok(())
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The bucket to act on
    #[arg(value_name = "BUCKET")]
    bucket: String,
    /// The object to show (the bucket without one)
    #[arg(value_name = "NAME")]
    name: Option<String>,
}

async fn show(args: InfoArgs, connector: &Connector) -> anyhow::Result<()> {
    let (session, store) = open(connector, &args.bucket).await?;
    match &args.name {
        None => print_bucket(&session, connector, &args.bucket).await,
        Some(name) => {
            let found = store.info(name).await.map_err(|err| object_error(&err))?;
            print!("{}", info::object(&found));
            Ok(())
        }
    }
}

#[derive(Debug, Args)]
pub struct DelArgs {
    /// The bucket to act on
    #[arg(value_name = "BUCKET")]
    bucket: String,
    /// The object to delete (the whole bucket without one)
    #[arg(value_name = "NAME")]
    name: Option<String>,
    /// Act without confirmation
    #[arg(short = 'f', long)]
    force: bool,
}

async fn del(args: DelArgs, connector: &Connector) -> anyhow::Result<()> {
    let (session, store) = open(connector, &args.bucket).await?;
    match &args.name {
        Some(name) => {
            require_force(args.force, &format!("delete {} > {name}", args.bucket))?;
            store.delete(name).await.map_err(|err| object_error(&err))?;
            println!("Removed {} > {name}", args.bucket);
            print_bucket(&session, connector, &args.bucket).await
        }
        None => {
            require_force(
                args.force,
                &format!("delete bucket {} and all its files", args.bucket),
            )?;
            let js = jetstream::new(session.client.clone());
            js.delete_object_store(&args.bucket)
                .await
                .map_err(|err| object_error(&err))?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_like_go() {
        assert_eq!(clean_name("a/./b//c"), "a/b/c");
        assert_eq!(clean_name("/tmp/x/../y.bin"), "/tmp/y.bin");
        assert_eq!(clean_name("./file.bin"), "file.bin");
        assert_eq!(clean_name("../a"), "../a");
        assert_eq!(clean_name(""), ".");
    }
}
