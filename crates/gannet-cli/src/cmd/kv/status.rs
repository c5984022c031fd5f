//! `kv add`, `kv info` and `kv ls` without a bucket: creating a bucket,
//! natscli's bucket report (read from the bucket's stream) and its
//! "Key-Value Buckets" table.

use std::time::Duration;

use async_nats::jetstream::{self, stream::StorageType};
use clap::Args;

use crate::cmd::stream::title_storage;
use crate::connect::Connector;
use crate::duration::parse_duration;
use crate::format::{bytes, number, Columns};
use crate::jsm::model::StreamInfo;
use crate::jsm::parse::bytes_limit;
use crate::jsm::view::{self, humanize_nanos, local_text};
use crate::jsm::{client_error, Jsm};
use crate::table::Table;

use super::{bucket_stream, check_bucket};

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The bucket to act on
    #[arg(value_name = "BUCKET")]
    bucket: String,
    /// A description for the bucket
    #[arg(long, value_name = "DESCRIPTION")]
    description: Option<String>,
    /// How many historic values to keep per key (1 to 64)
    #[arg(long, default_value_t = 1, value_name = "HISTORY",
          value_parser = clap::value_parser!(i64).range(1..=64))]
    history: i64,
    /// How long to keep values for
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    ttl: Option<Duration>,
    /// Storage backend to use (file, memory)
    #[arg(long, value_name = "STORAGE", value_parser = ["file", "f", "memory", "m"])]
    storage: Option<String>,
    /// How many replicas of the data to store
    #[arg(long, default_value_t = 1, value_name = "REPLICAS")]
    replicas: usize,
    /// Maximum size for any single value
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    max_value_size: Option<String>,
    /// Maximum size for the bucket
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    max_bucket_size: Option<String>,
}

pub async fn add(args: AddArgs, connector: &Connector) -> anyhow::Result<()> {
    check_bucket(&args.bucket)?;
    let max_value_size = match args.max_value_size.as_deref() {
        Some(text) => bytes_limit(text)?.unwrap_or(-1),
        None => -1,
    };
    let max_value_size = i32::try_from(max_value_size)
        .map_err(|_| anyhow::anyhow!("--max-value-size {max_value_size} is too large"))?;
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
    js.create_key_value(jetstream::kv::Config {
        bucket: args.bucket.clone(),
        description: args.description.clone().unwrap_or_default(),
        history: args.history,
        max_age: args.ttl.unwrap_or_default(),
        max_bytes,
        max_value_size,
        storage,
        num_replicas: args.replicas,
        ..Default::default()
    })
    .await
    .map_err(|err| anyhow::anyhow!("{}", client_error(&err)))?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    show(&jsm, &args.bucket).await
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The bucket to act on
    #[arg(value_name = "BUCKET")]
    bucket: String,
}

pub async fn info(args: InfoArgs, connector: &Connector) -> anyhow::Result<()> {
    check_bucket(&args.bucket)?;
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    show(&jsm, &args.bucket).await
}

/// Prints the report of `bucket`.
pub async fn show(jsm: &Jsm, bucket: &str) -> anyhow::Result<()> {
    let info = bucket_stream(jsm, bucket).await?;
    print!("{}", render(bucket, &info));
    Ok(())
}

/// natscli's `showStatus` of a bucket backed by JetStream.
pub fn render(bucket: &str, info: &StreamInfo) -> String {
    let config = &info.config;
    let mut columns = Columns::new(format!(
        "Information for Key-Value Store Bucket {bucket} created {}",
        local_text(&info.created)
    ));
    columns.title("Configuration");
    columns.row("Bucket Name", bucket);
    columns.row("History Kept", number(config.max_msgs_per_subject));
    columns.row("Values Stored", number(info.state.messages));
    columns.row("Compressed", config.compression == "s2");
    columns.row(
        "Per-Key TTL Supported",
        config.subject_delete_marker_ttl > 0,
    );
    if config.subject_delete_marker_ttl > 0 {
        columns.row(
            "Limit Marker TTL",
            humanize_nanos(config.subject_delete_marker_ttl),
        );
    }
    columns.row("Backing Store Kind", "JetStream");
    columns.row_if_not_empty("Description", &config.description);
    columns.row("Bucket Size", bytes(info.state.bytes));
    columns.row("Maximum Bucket Size", limit_bytes(config.max_bytes));
    columns.row("Maximum Value Size", limit_bytes(config.max_msg_size));
    columns.row(
        "Maximum Age",
        if config.max_age <= 0 {
            "unlimited".to_string()
        } else {
            humanize_nanos(config.max_age)
        },
    );
    columns.row("JetStream Stream", &config.name);
    columns.row("Storage", title_storage(&config.storage));
    if let Some(republish) = &config.republish {
        let label = if republish.headers_only {
            "Republishing Headers"
        } else {
            "Republishing"
        };
        columns.row(label, format!("{} to {}", republish.src, republish.dest));
    }
    let metadata = view::user_metadata(&config.metadata);
    if !metadata.is_empty() {
        columns.title("Metadata");
        for (key, value) in &metadata {
            columns.row(key, value);
        }
    }
    if let Some(cluster) = &info.cluster {
        columns.title("Cluster Information");
        cluster_rows(&mut columns, cluster);
    }
    columns.render()
}

/// natscli's `renderNatsGoClusterInfo`.
pub fn cluster_rows(columns: &mut Columns, cluster: &crate::jsm::model::ClusterInfo) {
    columns.row("Name", &cluster.name);
    columns.row("Leader", &cluster.leader);
    for replica in &cluster.replicas {
        let mut state = vec![replica.name.clone()];
        state.push(
            if replica.current {
                "current"
            } else {
                "outdated"
            }
            .to_string(),
        );
        if replica.offline {
            state.push("OFFLINE".to_string());
        }
        if replica.active > 0 && replica.active < i64::MAX {
            state.push(format!("seen {} ago", humanize_nanos(replica.active)));
        } else {
            state.push("not seen".to_string());
        }
        match replica.lag {
            0 => {}
            1 => state.push("1 operation behind".to_string()),
            lag => state.push(format!("{} operations behind", number(lag))),
        }
        columns.row("Replica", view::list(&state));
    }
}

/// `unlimited` for -1, else IEC bytes.
pub fn limit_bytes(value: i64) -> String {
    if value == -1 {
        "unlimited".to_string()
    } else {
        bytes(u64::try_from(value).unwrap_or(0))
    }
}

/// `kv ls` without a bucket: the table of buckets, smallest first, or their
/// names.
pub async fn list_buckets(jsm: &Jsm, names: bool) -> anyhow::Result<()> {
    let mut buckets: Vec<StreamInfo> = jsm
        .stream_list()
        .await?
        .into_iter()
        .filter(|info| info.config.name.starts_with("KV_"))
        .collect();
    if names {
        for info in &buckets {
            println!("{}", info.config.name.trim_start_matches("KV_"));
        }
        return Ok(());
    }
    if buckets.is_empty() {
        println!("No Key-Value buckets found");
        return Ok(());
    }
    buckets.sort_by_key(|info| info.state.bytes);
    let mut table = Table::new("Key-Value Buckets");
    table.headers([
        "Bucket",
        "Description",
        "Created",
        "Size",
        "Values",
        "Last Update",
    ]);
    for info in &buckets {
        table.row([
            info.config.name.trim_start_matches("KV_").to_string(),
            info.config.description.clone(),
            local_text(&info.created),
            bytes(info.state.bytes),
            number(info.state.messages),
            view::age("", &info.state.last_ts),
        ]);
    }
    println!("{}", table.render());
    Ok(())
}
