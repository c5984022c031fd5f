//! JetStream's message store: what a stream keeps and how it keeps it.
//!
//! A store holds a stream's messages by sequence: each with its subject,
//! headers, payload and the time it was stored. It applies the stream's
//! limits (messages, bytes, age, messages per subject), answers what a
//! consumer asks (the next message at or after a sequence matching some
//! subjects, how many are pending), deletes, purges and compacts, and keeps
//! per-subject counts.
//!
//! Two kinds share the [`Store`] trait: [`MemStore`] (in memory) and
//! [`FileStore`] (append-only block files in a directory, each record
//! checksummed; see `file.rs` for the format, recovery and durability).
//!
//! The store knows nothing of the network, of clients or of JSON: the stream
//! above it decides what to store and when to acknowledge; the store makes
//! [`Store::sync`] mean "everything appended so far survives a crash".

#![forbid(unsafe_code)]

mod error;
mod file;
mod index;
mod memory;
mod policy;
mod subjects;

pub use error::StoreError;
pub use file::{Cut, FileStats, FileStore, FileStoreConfig, Recovery};
pub use memory::MemStore;

use bytes::Bytes;

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMsg {
    pub seq: u64,
    /// When it was stored: nanoseconds since the Unix epoch.
    pub ts: i64,
    pub subject: Bytes,
    /// The NATS headers block (`NATS/1.0\r\n...\r\n\r\n`), empty when none.
    pub headers: Bytes,
    pub payload: Bytes,
}

/// The bytes a message counts for in `State::bytes` and `max_bytes`, as
/// nats-server counts them: a memory store's subject + headers + payload +
/// 16; a file store's record (22 + subject + payload + 8, and 4 + headers
/// more when there are headers).
pub fn memory_msg_size(subject: usize, headers: usize, payload: usize) -> u64 {
    (subject + headers + payload + 16) as u64
}

/// See [`memory_msg_size`].
pub fn file_msg_size(subject: usize, headers: usize, payload: usize) -> u64 {
    let base = 22 + subject + payload + 8;
    (if headers == 0 {
        base
    } else {
        base + 4 + headers
    }) as u64
}

/// The limits a store applies on its own after each append and on
/// [`Store::expire`]. `0` means no limit for each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_msgs: u64,
    pub max_bytes: u64,
    /// Nanoseconds.
    pub max_age: u64,
    pub max_msgs_per_subject: u64,
}

/// The store's counters, as a stream's info reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State {
    pub msgs: u64,
    pub bytes: u64,
    /// The first sequence still held (or `last_seq + 1` when empty).
    pub first_seq: u64,
    /// Time of the first message held (0 when empty).
    pub first_ts: i64,
    /// The last sequence ever assigned (0 before the first message).
    pub last_seq: u64,
    /// Time of the last message appended (kept after it is deleted).
    pub last_ts: i64,
    /// Sequences between first and last that were deleted.
    pub num_deleted: u64,
    /// Distinct subjects held.
    pub num_subjects: u64,
}

/// What a purge removes. With no field set, everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purge {
    /// Only messages whose subject matches this (may hold wildcards).
    pub filter: Option<Bytes>,
    /// Only messages with a sequence below this one.
    pub up_to_seq: Option<u64>,
    /// Keep this many of the newest (per filter subject, the newest that match).
    pub keep: Option<u64>,
}

/// A set of subject filters (a consumer's): a message matches when its
/// subject matches any of them; an empty set matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter(pub Vec<Bytes>);

impl Filter {
    pub fn all() -> Filter {
        Filter(Vec::new())
    }

    pub fn one(subject: impl Into<Bytes>) -> Filter {
        Filter(vec![subject.into()])
    }

    pub fn matches(&self, subject: &[u8]) -> bool {
        self.0.is_empty()
            || self
                .0
                .iter()
                .any(|f| f.as_ref() == b">" || gannet_proto::subject::pattern_matches(f, subject))
    }
}

/// A stream's messages, in memory or on disk.
///
/// Sequences start at 1 (or where [`Store::purge`]/[`Store::compact`] left
/// them) and only grow; a deleted sequence is never used again.
pub trait Store: Send {
    /// Appends a message stored at `ts` and returns its sequence, then
    /// applies the limits (removing the oldest messages as needed).
    /// The message is durable only after [`Store::sync`].
    fn append(
        &mut self,
        subject: &[u8],
        headers: &[u8],
        payload: &[u8],
        ts: i64,
    ) -> Result<u64, StoreError>;

    /// Appends a message at `seq`, which must be past the last sequence (the
    /// sequences between count as deleted), then applies the limits. A
    /// mirror keeps its origin's sequences this way.
    fn append_at(
        &mut self,
        seq: u64,
        subject: &[u8],
        headers: &[u8],
        payload: &[u8],
        ts: i64,
    ) -> Result<u64, StoreError>;

    /// Makes every append, delete and purge so far survive a crash of the
    /// process or machine (a flush and an fsync for files; nothing in memory).
    fn sync(&mut self) -> Result<(), StoreError>;

    /// The message at `seq`, if held.
    fn get(&self, seq: u64) -> Result<Option<StoredMsg>, StoreError>;

    /// The first message at or after `from` whose subject matches `filter`.
    fn next_match(&self, from: u64, filter: &Filter) -> Result<Option<StoredMsg>, StoreError>;

    /// The newest message whose subject matches `filter` (a subject or a
    /// pattern), at or below `up_to` when given.
    fn last_match(
        &self,
        filter: &[u8],
        up_to: Option<u64>,
    ) -> Result<Option<StoredMsg>, StoreError>;

    /// How many held messages at or after `from` match `filter`.
    fn num_pending(&self, from: u64, filter: &Filter) -> u64;

    /// Deletes one message; whether it was held.
    fn delete(&mut self, seq: u64) -> Result<bool, StoreError>;

    /// Removes what `purge` says; how many messages went. A purge of
    /// everything (no filter) moves `first_seq` past the removed ones.
    fn purge(&mut self, purge: &Purge) -> Result<u64, StoreError>;

    /// Removes every message below `seq` and makes `seq` the first sequence
    /// (also when it is past the last one: the next append gets `seq`).
    /// How many messages went.
    fn compact(&mut self, seq: u64) -> Result<u64, StoreError>;

    /// Removes messages older than `max_age` at `now` (ns since the epoch);
    /// how many went.
    fn expire(&mut self, now: i64) -> Result<u64, StoreError>;

    /// Sets the limits and applies them at once.
    fn set_limits(&mut self, limits: Limits) -> Result<(), StoreError>;

    fn state(&self) -> State;

    /// Each held subject matching `filter` with its message count.
    fn subjects(&self, filter: &[u8]) -> Vec<(Bytes, u64)>;

    /// Messages held per subject matching `filter`, for one subject:
    /// (count, first seq, last seq).
    fn subject_state(&self, subject: &[u8]) -> Option<(u64, u64, u64)>;

    /// The first sequence stored at or after `ts` (`last_seq + 1` if none).
    fn seq_for_time(&self, ts: i64) -> u64;

    /// The sequences between first and last that are not held (deleted),
    /// at most `limit` of them.
    fn deleted(&self, limit: usize) -> Vec<u64>;

    /// Drops the store and everything it holds (files too).
    fn destroy(self: Box<Self>) -> Result<(), StoreError>;

    /// Closes the store cleanly: for files, syncs everything and writes what
    /// lets the next open skip reading the blocks (see
    /// [`FileStore::close`]). Dropping a store instead is always safe, only
    /// slower to open again.
    fn close(self: Box<Self>) -> Result<(), StoreError> {
        Ok(())
    }
}
