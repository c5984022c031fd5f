//! Where a stream and its consumers live on disk, and the small files that
//! describe them: `<store_dir>/jetstream/<account>/streams/<stream>/` holds
//! `stream.json` (configuration and creation time), `blocks/` (the message
//! store), `consumers/<name>/consumer.json` (configuration and creation
//! time, synced when written) and `consumers/<name>/state.json` (the
//! consumer's place: delivered, ack floor, pending; written about once a
//! second, not synced). Each file is written to a temporary name and
//! renamed, so a crash leaves the old or the new one, never half of one.
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::consumer::{Consumer, SavedState};
use super::types::{ConsumerConfig, StreamConfig};

const STREAM_FILE: &str = "stream.json";
const CONSUMER_FILE: &str = "consumer.json";
const STATE_FILE: &str = "state.json";

/// `<store_dir>/jetstream/<account>/streams/<stream>`.
pub(crate) fn stream_dir(store_dir: &Path, account: &str, stream: &str) -> PathBuf {
    streams_dir(store_dir, account).join(stream)
}

pub(crate) fn streams_dir(store_dir: &Path, account: &str) -> PathBuf {
    store_dir.join("jetstream").join(account).join("streams")
}

/// Where the message store of the stream in `dir` keeps its blocks.
pub(crate) fn blocks_dir(dir: &Path) -> PathBuf {
    dir.join("blocks")
}

pub(crate) fn consumer_dir(dir: &Path, name: &str) -> PathBuf {
    dir.join("consumers").join(name)
}

#[derive(Serialize, Deserialize)]
struct StreamMeta {
    created: i64,
    config: StreamConfig,
}

#[derive(Serialize, Deserialize)]
struct ConsumerMeta {
    created: i64,
    config: ConsumerConfig,
}

/// Writes `bytes` to `path` through a temporary file and a rename, and,
/// when `synced`, makes it durable (file, then folder).
fn write_atomically(path: &Path, bytes: &[u8], synced: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    if synced {
        file.sync_data()?;
    }
    std::fs::rename(&tmp, path)?;
    if synced {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

pub(crate) fn write_stream_meta(
    dir: &Path,
    config: &StreamConfig,
    created: i64,
) -> std::io::Result<()> {
    let meta = StreamMeta {
        created,
        config: config.clone(),
    };
    let bytes = serde_json::to_vec_pretty(&meta).map_err(std::io::Error::other)?;
    write_atomically(&dir.join(STREAM_FILE), &bytes, true)
}

/// The configuration and creation time of the stream stored in `dir`.
pub(crate) fn read_stream_meta(dir: &Path) -> Result<(StreamConfig, i64), String> {
    let path = dir.join(STREAM_FILE);
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let meta: StreamMeta =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((meta.config, meta.created))
}

/// Whether `dir` holds a stream this server stored.
pub(crate) fn is_stream_dir(dir: &Path) -> bool {
    dir.join(STREAM_FILE).is_file()
}

/// Writes a consumer's configuration (on create and update), synced.
pub(crate) fn write_consumer_config(dir: &Path, consumer: &Consumer) -> std::io::Result<()> {
    let meta = ConsumerMeta {
        created: consumer.created,
        config: consumer.config.clone(),
    };
    let bytes = serde_json::to_vec(&meta).map_err(std::io::Error::other)?;
    write_atomically(
        &consumer_dir(dir, &consumer.name).join(CONSUMER_FILE),
        &bytes,
        true,
    )
}

/// Writes a consumer's place (delivered, ack floor, pending). Not synced:
/// a place lost in a crash means messages delivered again, which
/// acknowledgements allow; it is written at most about once a second.
pub(crate) fn write_consumer_state(dir: &Path, consumer: &Consumer) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(&consumer.saved()).map_err(std::io::Error::other)?;
    write_atomically(
        &consumer_dir(dir, &consumer.name).join(STATE_FILE),
        &bytes,
        false,
    )
}

/// The consumers stored under a stream's `dir`: configuration, creation
/// time and saved place. An unreadable one is logged and skipped; an
/// unreadable place starts the consumer from its configuration.
pub(crate) fn read_consumers(dir: &Path) -> Vec<(ConsumerConfig, i64, Option<SavedState>)> {
    let Ok(entries) = std::fs::read_dir(dir.join("consumers")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path().join(CONSUMER_FILE);
        let meta = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<ConsumerMeta>(&b).map_err(|e| e.to_string()));
        let meta = match meta {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("JetStream skipped consumer {}: {e}", path.display());
                continue;
            }
        };
        let state = std::fs::read(entry.path().join(STATE_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice::<SavedState>(&b).ok());
        out.push((meta.config, meta.created, state));
    }
    out
}
