//! natscli's Object Store reports: the bucket report (read from the bucket's
//! stream) and the report of one object (from its metadata record).

use async_nats::jetstream::object_store::ObjectInfo;
use chrono::{DateTime, Utc};

use crate::cmd::kv::{cluster_rows, limit_bytes};
use crate::cmd::stream::title_storage;
use crate::format::{bytes, number, Columns};
use crate::jsm::model::StreamInfo;
use crate::jsm::view::{self, base64_decode, hex, humanize_nanos, local_text};

/// natscli's `showBucketInfo`.
pub fn bucket(bucket: &str, info: &StreamInfo) -> String {
    let config = &info.config;
    let mut columns = Columns::new(format!(
        "Information for Object Store Bucket {bucket} created {}",
        local_text(&info.created)
    ));
    columns.title("Configuration");
    columns.row("Bucket Name", bucket);
    columns.row_if_not_empty("Description", &config.description);
    columns.row("Replicas", number(config.num_replicas));
    if config.max_age <= 0 {
        columns.row("TTL", "unlimited");
    } else {
        columns.row("TTL", humanize_nanos(config.max_age));
    }
    columns.row("Sealed", config.sealed);
    columns.row("Size", bytes(info.state.bytes));
    columns.row("Maximum Bucket Size", limit_bytes(config.max_bytes));
    columns.row("Storage", title_storage(&config.storage));
    columns.row("Backing Store Kind", "JetStream");
    columns.row("JetStream Stream", &config.name);
    let metadata = view::user_metadata(&config.metadata);
    let longest = metadata
        .keys()
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(0);
    for (i, (key, value)) in metadata.iter().enumerate() {
        let padding = " ".repeat(longest - key.chars().count());
        let label = if i == 0 { "Metadata" } else { "" };
        columns.row(label, format!("{padding}{key}: {value}"));
    }
    if let Some(cluster) = &info.cluster {
        columns.title("Cluster Information");
        cluster_rows(&mut columns, cluster);
    }
    columns.render()
}

/// The modification time of an object (async-nats's time) as a chrono time.
pub fn modified(info: &ObjectInfo) -> Option<DateTime<Utc>> {
    let nanos = info.modified?.unix_timestamp_nanos();
    Some(DateTime::from_timestamp_nanos(i64::try_from(nanos).ok()?))
}

/// natscli's `showObjectInfo`.
pub fn object(info: &ObjectInfo) -> String {
    let mut columns = Columns::new(format!(
        "Object information for {} > {}",
        info.bucket, info.name
    ));
    if let Some(description) = info.description.as_deref() {
        columns.row_if_not_empty("Description", description);
    }
    columns.row("Size", bytes(info.size as u64));
    let time = modified(info)
        .map(view::local)
        .unwrap_or_else(|| "0001-01-01 00:00:00".to_string());
    columns.row("Modification Time", time);
    columns.row("Chunks", number(info.chunks as u64));
    columns.row(
        "Digest",
        digest_text(info.digest.as_deref().unwrap_or_default()),
    );
    if info.deleted {
        columns.row("Deleted", true);
    }
    if let Some(headers) = &info.headers {
        let mut lines: Vec<String> = headers
            .iter()
            .flat_map(|(name, values)| {
                values
                    .iter()
                    .map(move |value| format!("{name}: {}", value.as_str()))
            })
            .collect();
        lines.sort();
        for (i, line) in lines.into_iter().enumerate() {
            columns.row(if i == 0 { "Headers" } else { "" }, line);
        }
    }
    if !info.metadata.is_empty() {
        columns.title("Metadata");
        let mut metadata: Vec<(&String, &String)> = info.metadata.iter().collect();
        metadata.sort();
        for (key, value) in metadata {
            columns.row(key, value);
        }
    }
    columns.render()
}

/// `SHA-256=<base64url>` → `SHA-256 <hex>`, as natscli shows digests.
pub fn digest_text(digest: &str) -> String {
    match digest.split_once('=') {
        Some((algorithm, encoded)) => {
            let decoded = base64_decode(encoded).unwrap_or_default();
            format!("{algorithm} {}", hex(&decoded))
        }
        None => format!("{digest} "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_show_in_hex() {
        // SHA-256 of "abc".
        assert_eq!(
            digest_text("SHA-256=ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0="),
            "SHA-256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
