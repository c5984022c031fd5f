//! [`FileStore`]: a stream's messages in append-only block files in one
//! directory, with the index (see `index.rs`) in memory: per message its
//! time, subject id and place in its block, 20 bytes.
//!
//! # Files
//!
//! `<dir>/<n>.blk`, `n` a block number of 10 decimal digits, from
//! `0000000001` up. Records are only ever appended to the newest block; a new
//! block is begun when the newest holds `block_size` bytes or more (so a block
//! passes `block_size` by at most one record). Blocks in number order hold
//! the records in the order they were written, and each block's messages have
//! higher sequences than every older block's.
//!
//! # Record
//!
//! All integers little-endian.
//!
//! | offset | size | field                                                        |
//! |-------:|-----:|--------------------------------------------------------------|
//! |      0 |    4 | `len`: u32, the whole record's length (33 to 2^30)           |
//! |      4 |    4 | `crc`: u32, CRC-32 (IEEE) of bytes `8..len`                  |
//! |      8 |    1 | `kind`: 1 message, 2 delete, 3 first-sequence marker         |
//! |      9 |    8 | `seq`: u64                                                   |
//! |     17 |    8 | `ts`: i64, nanoseconds since the Unix epoch                  |
//! |     25 |    4 | `subject_len`: u32                                           |
//! |     29 |    4 | `headers_len`: u32                                           |
//! |     33 |      | subject, then headers, then payload (the rest up to `len`)   |
//!
//! - **message** (1): the message stored at `seq` at time `ts`.
//! - **delete** (2): the message at `seq` was deleted. No subject or
//!   headers; the payload is 8 bytes, the store's last sequence (u64) when it
//!   was written; `ts` is the store's last time then.
//! - **first** (3): every message below `seq` is gone (a purge, a compaction,
//!   the limits or expiry took them); when `seq` is past the last sequence it
//!   becomes the next one. Payload and `ts` as for delete.
//!
//! Every record carries the store's last sequence and time at its writing (a
//! message's are its own), so the newest record holds them even after every
//! message is gone: the last sequence survives a full purge. A purge that
//! leaves nothing writes its marker into a new block, so that every older
//! block can go.
//!
//! # Durability
//!
//! Records go to a buffer of the newest block, written to the file when it
//! reaches 64 KiB, when a new block begins and at [`Store::sync`]; a sync
//! also `fdatasync`s every block written since the last one and the
//! directory when a block file was created. Reads of buffered records are
//! served from the buffer. Each read checks the record's checksum.
//!
//! # Space
//!
//! Deletes never touch older blocks. A block (not the newest) whose messages
//! are all gone is removed once every older block is gone (what it says
//! concerns only itself and older blocks). A block (not the newest) that lost
//! more than half its bytes is rewritten without its dead messages and
//! without the markers that no older block needs: to `<n>.blk.tmp`, synced,
//! renamed over the block, the directory synced. Before removing or
//! rewriting a block the store syncs, so that what made its records dead is
//! durable first. A `.blk.tmp` found at open is a rewrite that did not finish
//! and is removed (the block it was for is whole).
//!
//! # Recovery
//!
//! Opening reads every block in order, checking each record's length, kind,
//! field lengths and checksum, and applies them: messages enter the index,
//! deletes and markers remove them. At the first bad or short record of the
//! newest block the file is truncated there (a torn tail from a crash during
//! a write); at a bad record of an older block the rest of that block is
//! skipped and reported, the file left as it is. Either way the open
//! succeeds and [`Recovery`] says what was cut.
//!
//! # Clean close
//!
//! [`FileStore::close`] syncs everything and writes `<dir>/index.snap`, a
//! snapshot of the index and of the blocks' counters; the next open builds
//! the index from it without reading the blocks, when it matches the
//! directory exactly, and removes it in any case before returning (see
//! `file/snapshot.rs` for its format and why a snapshot is never trusted
//! after a write). Dropping the store without `close` only writes out the
//! buffered records (nothing is synced); the next open reads every block.

mod disk;
mod record;
mod recover;
mod snapshot;

use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::index::{Index, Matcher, MAX_SEQ};
use crate::policy;
use crate::{Filter, Limits, Purge, State, Store, StoreError, StoredMsg};

use disk::{Disk, Loc};
pub use recover::{Cut, Recovery};

/// Where and how a [`FileStore`] keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStoreConfig {
    pub dir: PathBuf,
    /// A new block file begins when the newest holds this many bytes
    /// (taken as at least 1 and at most 1 GiB).
    pub block_size: u64,
    /// Sync after every change (append, delete, purge...), not only at
    /// [`Store::sync`].
    pub sync_always: bool,
}

impl FileStoreConfig {
    pub const DEFAULT_BLOCK_SIZE: u64 = 8 * 1024 * 1024;
    const MAX_BLOCK_SIZE: u64 = 1 << 30;

    /// 8 MiB blocks, synced at [`Store::sync`].
    pub fn new(dir: impl Into<PathBuf>) -> FileStoreConfig {
        FileStoreConfig {
            dir: dir.into(),
            block_size: Self::DEFAULT_BLOCK_SIZE,
            sync_always: false,
        }
    }
}

/// What a file store's files look like now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStats {
    /// Block files.
    pub blocks: usize,
    /// Their bytes, including records not yet written out.
    pub bytes: u64,
    /// Blocks rewritten (or removed by a rewrite) since the store was opened.
    pub rewrites: u64,
}

/// A stream's messages in block files.
pub struct FileStore {
    index: Index<Loc>,
    disk: Disk,
    limits: Limits,
    sync_always: bool,
}

impl FileStore {
    /// Opens the store in `config.dir` (creating the directory if needed),
    /// recovering what its blocks hold, then applies `limits`.
    pub fn open(
        config: FileStoreConfig,
        limits: Limits,
    ) -> Result<(FileStore, Recovery), StoreError> {
        let block_size = config.block_size.clamp(1, FileStoreConfig::MAX_BLOCK_SIZE);
        let (disk, index, recovery) = recover::open(&config.dir, block_size)?;
        let mut store = FileStore {
            index,
            disk,
            limits,
            sync_always: config.sync_always,
        };
        policy::enforce(&mut store.index, &store.limits, None, &mut store.disk)?;
        store.finish()?;
        Ok((store, recovery))
    }

    /// Closes the store cleanly: writes out and syncs every record, then
    /// writes the index snapshot (synced, with the directory) so that the
    /// next open need not read the blocks. After an error the records
    /// synced so far stay as they are, and the next open reads every block
    /// (unless the snapshot was written whole).
    pub fn close(mut self) -> Result<(), StoreError> {
        self.disk.sync()?;
        snapshot::write(&self.disk, &self.index)?;
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.disk.dir
    }

    pub fn stats(&self) -> FileStats {
        FileStats {
            blocks: self.disk.blocks.len(),
            bytes: self.disk.total_bytes(),
            rewrites: self.disk.compactions,
        }
    }

    /// After every change: drops and rewrites blocks as needed, and syncs
    /// when configured to.
    fn finish(&mut self) -> Result<(), StoreError> {
        self.disk.maintain(&mut self.index)?;
        if self.sync_always {
            self.disk.sync()?;
        }
        Ok(())
    }

    fn read(&self, seq: Option<u64>) -> Result<Option<StoredMsg>, StoreError> {
        let Some((seq, slot)) = seq.and_then(|s| self.index.live(s).map(|slot| (s, slot))) else {
            return Ok(None);
        };
        self.disk.read(seq, &slot.data).map(Some)
    }

    fn changed<T>(&mut self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        let value = result?;
        self.finish()?;
        Ok(value)
    }
}

impl Store for FileStore {
    fn append(
        &mut self,
        subject: &[u8],
        headers: &[u8],
        payload: &[u8],
        ts: i64,
    ) -> Result<u64, StoreError> {
        let seq = self.index.last() + 1;
        self.append_at(seq, subject, headers, payload, ts)
    }

    fn append_at(
        &mut self,
        seq: u64,
        subject: &[u8],
        headers: &[u8],
        payload: &[u8],
        ts: i64,
    ) -> Result<u64, StoreError> {
        if seq > MAX_SEQ || seq <= self.index.last() {
            return Err(StoreError::TooLarge);
        }
        let loc = self.disk.append_msg(seq, ts, subject, headers, payload)?;
        if let Err(e) = self.index.push_at(seq, subject, ts, loc) {
            self.disk.account(seq, &loc);
            self.index.observe_last(seq, ts);
            policy::Sink::<Loc>::deleted(&mut self.disk, seq, seq, ts)?;
            return Err(e);
        }
        let id = self.index.live(seq).map(|s| s.subject());
        let result = policy::enforce(&mut self.index, &self.limits, id, &mut self.disk);
        self.changed(result)?;
        Ok(seq)
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        self.disk.sync()
    }

    fn get(&self, seq: u64) -> Result<Option<StoredMsg>, StoreError> {
        self.read(Some(seq))
    }

    fn next_match(&self, from: u64, filter: &Filter) -> Result<Option<StoredMsg>, StoreError> {
        let mut m = Matcher::new(&filter.0, self.index.subjects());
        self.read(self.index.next_match(from, &mut m))
    }

    fn last_match(
        &self,
        filter: &[u8],
        up_to: Option<u64>,
    ) -> Result<Option<StoredMsg>, StoreError> {
        let mut m = Matcher::one(filter, self.index.subjects());
        self.read(self.index.last_match(up_to.unwrap_or(u64::MAX), &mut m))
    }

    fn num_pending(&self, from: u64, filter: &Filter) -> u64 {
        let mut m = Matcher::new(&filter.0, self.index.subjects());
        self.index.num_pending(from, &mut m)
    }

    fn delete(&mut self, seq: u64) -> Result<bool, StoreError> {
        let result = policy::delete(&mut self.index, seq, &mut self.disk);
        self.changed(result)
    }

    fn purge(&mut self, purge: &Purge) -> Result<u64, StoreError> {
        let result = policy::purge(&mut self.index, purge, &mut self.disk);
        self.changed(result)
    }

    fn compact(&mut self, seq: u64) -> Result<u64, StoreError> {
        let result = policy::compact(&mut self.index, seq, &mut self.disk);
        self.changed(result)
    }

    fn expire(&mut self, now: i64) -> Result<u64, StoreError> {
        let result = policy::expire(&mut self.index, self.limits.max_age, now, &mut self.disk);
        self.changed(result)
    }

    fn set_limits(&mut self, limits: Limits) -> Result<(), StoreError> {
        self.limits = limits;
        let result = policy::enforce(&mut self.index, &self.limits, None, &mut self.disk);
        self.changed(result).map(|_| ())
    }

    fn state(&self) -> State {
        self.index.state()
    }

    fn subjects(&self, filter: &[u8]) -> Vec<(Bytes, u64)> {
        self.index.subject_counts(filter)
    }

    fn subject_state(&self, subject: &[u8]) -> Option<(u64, u64, u64)> {
        self.index.subject_state(subject)
    }

    fn seq_for_time(&self, ts: i64) -> u64 {
        self.index.seq_for_time(ts)
    }

    fn deleted(&self, limit: usize) -> Vec<u64> {
        self.index.deleted(limit)
    }

    fn destroy(mut self: Box<Self>) -> Result<(), StoreError> {
        self.disk.destroy()
    }

    fn close(self: Box<Self>) -> Result<(), StoreError> {
        FileStore::close(*self)
    }
}

#[cfg(test)]
mod tests;
