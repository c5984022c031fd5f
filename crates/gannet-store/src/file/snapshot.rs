//! The index snapshot: what a cleanly closed file store writes so that the
//! next open can rebuild its index without reading the blocks.
//!
//! [`FileStore::close`](super::FileStore::close) syncs every block, then
//! writes `<dir>/index.snap`: the store's counters, its subjects, its blocks
//! (name, exact length, counters) and one slot per message held (sequence,
//! time, subject, place in its block). Opening finds it, checks it against
//! the directory and builds the index from it; when anything does not match
//! it reads every block instead (see `recover.rs`), as it does when there is
//! no snapshot. [`Recovery::from_snapshot`](super::Recovery) says which way
//! was taken, [`Recovery::snapshot_rejected`](super::Recovery) why a snapshot
//! found was not used.
//!
//! # Format
//!
//! All integers little-endian.
//!
//! | size | field                                                              |
//! |-----:|--------------------------------------------------------------------|
//! |    8 | magic `GNNTSNAP`                                                   |
//! |    4 | format version: 1                                                  |
//! |    4 | CRC-32 (IEEE) of every byte after this field, to the end           |
//! |    8 | first sequence held (`last + 1` when none)                         |
//! |    8 | last sequence                                                      |
//! |    8 | last time (i64)                                                    |
//! |    8 | messages held                                                      |
//! |    8 | their bytes (as `State::bytes` counts them)                        |
//! |    4 | next block number                                                  |
//! |    4 | `tail_len`: the newest block's last `min(64 KiB, its length)` bytes |
//! |    4 | CRC-32 of those bytes (0 and 0 when there is no block)             |
//! |    4 | subjects, then each:                                               |
//! |      | u32 length, the subject's bytes, u64 messages, u64 first sequence, u64 last sequence |
//! |    4 | blocks, oldest first, then each (44 bytes):                        |
//! |      | u32 number, u64 floor, u64 exact file length, u64 messages held, u64 their bytes, u64 marker bytes a rewrite kept |
//! |    8 | messages, by sequence, then each (28 bytes):                       |
//! |      | u64 sequence, i64 time, u32 subject (its place in the table above), u32 offset in its block, u32 record length (bit 31: the message has headers) |
//!
//! A message's block is the newest whose floor is at or below its sequence,
//! as for reads. The file ends with the last message.
//!
//! # Checks at open
//!
//! The magic, the version and the checksum; every field in range (sequences
//! rising, at most `MAX_GAP` apart, records inside their block, subject
//! places in the table); the block files in the directory are exactly those
//! listed, each exactly as long as listed; the checksum of the newest
//! block's tail; and, once the index is built, that it agrees with every
//! counter the snapshot lists (per subject, per block, the store's). Any
//! mismatch: the snapshot is not used and every block is read.
//!
//! The blocks' records are not read, so damage inside a block's bytes goes
//! unnoticed at open; every read checks its record's checksum and sequence
//! and reports [`StoreError::Corrupt`], as for damage that happens while the
//! store runs.
//!
//! # Why a snapshot is never trusted past its time
//!
//! A snapshot describes the blocks as the close left them, and only until
//! the next write. What guarantees that it is never used after one:
//!
//! 1. **Deleted at open.** Every open removes `index.snap`, used or not, and
//!    syncs the directory before it returns, so before anything of the new
//!    session can reach a block. A crash after that open finds no snapshot
//!    and reads every block. An open that cannot remove it fails.
//!    (`index.snap.tmp`, a close cut short, is removed too.) Close consumes
//!    the store, so nothing writes after the snapshot either.
//! 2. **Lengths, names and the newest tail.** In case an old snapshot comes
//!    back anyway (a restored backup, a copy): blocks are append-only. Every
//!    change of the store (append, delete, purge, compaction, expiry, limits)
//!    appends a record to the newest block or begins a new block; an older
//!    block only goes (its name is missing) or is rewritten to fewer bytes
//!    (its length differs) or to the very same bytes (then the snapshot is
//!    still right about it). So any change that reached the disk after the
//!    snapshot makes the set of block files or a length differ, but one: the
//!    newest block cut back at open (a torn tail, a bad record) and then
//!    regrown to exactly its old length. Its last bytes then hold other
//!    records than the snapshot saw (new sequences, times, markers), which
//!    the checksum of its last 64 KiB catches. Left uncaught: a file changed
//!    in place at the same length by something other than the store, and a
//!    regrown newest block whose last 64 KiB are byte for byte the old ones
//!    (the same messages at the same nanoseconds); reads still check every
//!    record.
//!
//! A store whose open skipped damage in an older block (a block file longer
//! than what the store holds of it) is closed without a snapshot, so that
//! each open reads it again and reports the damage again.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use bytes::Bytes;

use crate::index::{Index, MAX_SEQ};
use crate::subjects::{Subjects, NO_SUBJECT};
use crate::StoreError;

use super::disk::{io_err, sync_dir, Block, Disk, Loc};
use super::record::{HEADER, MAX_RECORD};
use super::recover::MAX_GAP;

/// The snapshot's name in the store's directory.
pub(super) const FILE: &str = "index.snap";
/// Where it is written before being renamed.
pub(super) const TMP: &str = "index.snap.tmp";

const MAGIC: [u8; 8] = *b"GNNTSNAP";
const VERSION: u32 = 1;
/// Magic, version, checksum.
const HEAD: usize = 16;
/// Bytes of the newest block's tail whose checksum the snapshot keeps.
const TAIL: u64 = 64 * 1024;
/// The fixed bytes of a subject, of a block and of a message entry.
const SUBJECT_FIXED: usize = 4 + 3 * 8;
const BLOCK_ENTRY: usize = 4 + 5 * 8;
const MSG_ENTRY: usize = 8 + 8 + 3 * 4;

/// Writes the snapshot of a store whose blocks are all synced: to
/// [`TMP`], synced, renamed to [`FILE`], the directory synced. Whether it
/// was written: not when a block file is longer or shorter than what the
/// store holds of it (damage an open skipped), nor when the index does not
/// agree with itself.
pub(super) fn write(disk: &Disk, index: &Index<Loc>) -> Result<bool, StoreError> {
    for b in &disk.blocks {
        let path = disk.block_path(b.id);
        let len = fs::metadata(&path).map_err(io_err(&path))?.len();
        if len != b.size {
            tracing::warn!(
                path = %path.display(),
                len,
                held = b.size,
                "block file is not what the store holds of it; closed without an index snapshot"
            );
            return Ok(false);
        }
    }
    let tmp = disk.dir.join(TMP);
    let written = write_tmp(disk, index, &tmp).map_err(io_err(&tmp))?;
    if !written {
        let _ = fs::remove_file(&tmp);
        tracing::warn!(dir = %disk.dir.display(), "index does not agree with itself; closed without an index snapshot");
        return Ok(false);
    }
    let path = disk.dir.join(FILE);
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    sync_dir(&disk.dir)?;
    Ok(true)
}

/// Writes a file from offset [`HEAD`] on through a buffer, checksumming
/// what it writes.
struct Out<'a> {
    file: &'a File,
    buf: Vec<u8>,
    at: u64,
    crc: crc32fast::Hasher,
}

impl Out<'_> {
    const FLUSH_AT: usize = 1 << 20;

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= Self::FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn u32(&mut self, v: u32) -> io::Result<()> {
        self.put(&v.to_le_bytes())
    }

    fn u64(&mut self, v: u64) -> io::Result<()> {
        self.put(&v.to_le_bytes())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.crc.update(&self.buf);
        self.file.write_all_at(&self.buf, self.at)?;
        self.at += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

/// Writes and syncs the snapshot at `tmp`; `false` (leaving a partial file)
/// when the index does not agree with itself.
fn write_tmp(disk: &Disk, index: &Index<Loc>, tmp: &Path) -> io::Result<bool> {
    let (tail_len, tail_crc) = match disk.blocks.back() {
        Some(b) => tail(&disk.block_path(b.id), b.size)?,
        None => (0, 0),
    };
    // Each subject's exact first and last sequence and count, in one pass
    // (asking the index per subject may scan it once per subject).
    let subjects = index.subjects();
    let mut seen = vec![(0u64, 0u64, 0u64); subjects.id_bound()];
    for (seq, slot) in index.live_from(0) {
        let Some(s) = seen.get_mut(slot.subject() as usize) else {
            return Ok(false);
        };
        if s.2 == 0 {
            s.0 = seq;
        }
        s.1 = seq;
        s.2 += 1;
    }
    // The subjects held, numbered 0.. in the file.
    let mut place = vec![NO_SUBJECT; subjects.id_bound()];
    let mut table = Vec::with_capacity(subjects.len());
    for (id, info) in subjects.iter() {
        let (Some(&(first, last, count)), Some(p)) =
            (seen.get(id as usize), place.get_mut(id as usize))
        else {
            return Ok(false);
        };
        let Ok(n) = u32::try_from(table.len()) else {
            return Ok(false);
        };
        if count != info.count {
            return Ok(false);
        }
        *p = n;
        table.push((info.subject.clone(), count, first, last));
    }

    let file = File::create(tmp)?;
    let mut out = Out {
        file: &file,
        buf: Vec::with_capacity(Out::FLUSH_AT + MSG_ENTRY),
        at: HEAD as u64,
        crc: crc32fast::Hasher::new(),
    };

    let st = index.state();
    out.u64(st.first_seq)?;
    out.u64(st.last_seq)?;
    out.u64(st.last_ts as u64)?;
    out.u64(st.msgs)?;
    out.u64(st.bytes)?;
    out.u32(disk.next_id)?;
    out.u32(tail_len)?;
    out.u32(tail_crc)?;

    out.u32(table.len() as u32)?;
    for (subject, count, first, last) in &table {
        let Ok(len) = u32::try_from(subject.len()) else {
            return Ok(false);
        };
        out.u32(len)?;
        out.put(subject)?;
        out.u64(*count)?;
        out.u64(*first)?;
        out.u64(*last)?;
    }

    let Ok(n_blocks) = u32::try_from(disk.blocks.len()) else {
        return Ok(false);
    };
    out.u32(n_blocks)?;
    for b in &disk.blocks {
        out.u32(b.id)?;
        out.u64(b.floor)?;
        out.u64(b.size)?;
        out.u64(b.live)?;
        out.u64(b.live_bytes)?;
        out.u64(b.pinned)?;
    }

    out.u64(st.msgs)?;
    let mut n = 0;
    for (seq, slot) in index.live_from(0) {
        let Some(&p) = place
            .get(slot.subject() as usize)
            .filter(|&&p| p != NO_SUBJECT)
        else {
            return Ok(false);
        };
        let mut entry = [0; MSG_ENTRY];
        entry[..8].copy_from_slice(&seq.to_le_bytes());
        entry[8..16].copy_from_slice(&slot.ts().to_le_bytes());
        entry[16..20].copy_from_slice(&p.to_le_bytes());
        entry[20..24].copy_from_slice(&slot.data.off.to_le_bytes());
        entry[24..28].copy_from_slice(&slot.data.raw().to_le_bytes());
        out.put(&entry)?;
        n += 1;
    }
    if n != st.msgs {
        return Ok(false);
    }

    out.flush()?;
    let mut head = [0; HEAD];
    head[..8].copy_from_slice(&MAGIC);
    head[8..12].copy_from_slice(&VERSION.to_le_bytes());
    head[12..].copy_from_slice(&out.crc.clone().finalize().to_le_bytes());
    file.write_all_at(&head, 0)?;
    file.sync_all()?;
    Ok(true)
}

/// The length of the last `min(TAIL, size)` bytes of the block at `path`
/// and their checksum.
fn tail(path: &Path, size: u64) -> io::Result<(u32, u32)> {
    let n = size.min(TAIL);
    let mut buf = vec![0; n as usize];
    File::open(path)?.read_exact_at(&mut buf, size - n)?;
    Ok((n as u32, crc32fast::hash(&buf)))
}

/// What [`load`] found.
pub(super) enum Loaded {
    /// No snapshot.
    Absent,
    /// The blocks and the index, as the snapshot says.
    Used(Box<(Disk, Index<Loc>)>),
    /// A snapshot that is not to be used, and why.
    Rejected(String),
}

/// Reads and checks the snapshot in `dir`, whose block files are `ids`
/// (sorted). Leaves the file where it is (see [`remove`]).
pub(super) fn load(dir: &Path, ids: &[u32], block_size: u64) -> Loaded {
    let path = dir.join(FILE);
    let meta = match fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Loaded::Absent,
        Err(e) => return Loaded::Rejected(format!("cannot read it: {e}")),
    };
    if !meta.is_file() {
        return Loaded::Rejected("not a file".into());
    }
    let mut lens = Vec::with_capacity(ids.len());
    let disk = Disk::new(dir.to_path_buf(), block_size);
    for &id in ids {
        let block = disk.block_path(id);
        match fs::metadata(&block) {
            Ok(m) => lens.push(m.len()),
            Err(e) => return Loaded::Rejected(format!("{}: {e}", block.display())),
        }
    }
    // Every message, subject and block takes more bytes in the blocks than
    // in the snapshot: a larger file is not one, and is not read whole.
    let bound = lens.iter().fold(1u64 << 20, |sum, &l| {
        sum.saturating_add(l).saturating_add(64)
    });
    if meta.len() > bound {
        return Loaded::Rejected(format!(
            "{} bytes, more than the blocks could need",
            meta.len()
        ));
    }
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) => return Loaded::Rejected(format!("cannot read it: {e}")),
    };
    let mut input = Input {
        file,
        buf: vec![0; meta.len().min(1 << 20) as usize],
        start: 0,
        end: 0,
        left: meta.len(),
        crc: None,
        failed: None,
    };
    let restored = restore(disk, ids, &lens, &mut input);
    // The checksum first: a damaged file is told as damaged, whatever it
    // made the reading stumble on.
    match (input.checked(), restored) {
        (Err(reason), _) | (Ok(()), Err(reason)) => Loaded::Rejected(reason),
        (Ok(()), Ok(restored)) => Loaded::Used(Box::new(restored)),
    }
}

/// Removes the snapshot (if any) and syncs the directory, so that it cannot
/// be used again after this open's writes.
pub(super) fn remove(dir: &Path) -> Result<(), StoreError> {
    let path = dir.join(FILE);
    if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
        // Never used (see `load`), and not ours to remove.
        return Ok(());
    }
    match fs::remove_file(&path) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// Reads a file's fields one after the other through a buffer; running out
/// is an error. Once [`Input::hash_from_here`] is called, checksums every
/// byte read from there on (and the rest of the file at [`Input::checked`]).
struct Input {
    file: File,
    buf: Vec<u8>,
    /// The bytes of `buf` not taken yet.
    start: usize,
    end: usize,
    /// Bytes of the file not read into `buf` yet.
    left: u64,
    /// The checksum to match, and that of the bytes read so far.
    crc: Option<(u32, crc32fast::Hasher)>,
    /// A read of the file failed.
    failed: Option<String>,
}

impl Input {
    fn io_failed(&mut self, e: &io::Error) -> String {
        let reason = format!("cannot read it: {e}");
        self.failed = Some(reason.clone());
        reason
    }

    /// Makes at least `n` bytes (no more than the file holds) ready.
    fn fill(&mut self, n: usize) -> Result<(), String> {
        if self.end - self.start >= n {
            return Ok(());
        }
        if (n - (self.end - self.start)) as u64 > self.left {
            return Err("ends too soon".into());
        }
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.buf.len() < n {
            self.buf.resize(n, 0);
        }
        while self.end < n {
            let room =
                (self.buf.len() - self.end).min(usize::try_from(self.left).unwrap_or(usize::MAX));
            let Some(dst) = self.buf.get_mut(self.end..self.end + room) else {
                return Err("ends too soon".into());
            };
            let got = match io::Read::read(&mut self.file, dst) {
                Ok(0) => return Err("ends too soon".into()),
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_failed(&e)),
            };
            if let (Some((_, crc)), Some(read)) = (&mut self.crc, dst.get(..got)) {
                crc.update(read);
            }
            self.end += got;
            self.left -= got as u64;
        }
        Ok(())
    }

    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        self.fill(n)?;
        let at = self.start;
        self.start += n;
        self.buf
            .get(at..at + n)
            .ok_or_else(|| "ends too soon".to_string())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        self.take(N)?
            .try_into()
            .map_err(|_| "ends too soon".to_string())
    }

    fn u32(&mut self) -> Result<u32, String> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, String> {
        self.array().map(u64::from_le_bytes)
    }

    /// Bytes not taken yet.
    fn remaining(&self) -> u64 {
        self.left + (self.end - self.start) as u64
    }

    /// A count of entries of at least `each` bytes, no more than are left.
    fn count(&mut self, n: u64, each: usize, what: &str) -> Result<usize, String> {
        usize::try_from(n)
            .ok()
            .filter(|&n| n as u64 <= self.remaining() / each as u64)
            .ok_or_else(|| format!("{n} {what}: more than the file holds"))
    }

    /// Checksums every byte after those taken so far; `crc` is to match.
    fn hash_from_here(&mut self, crc: u32) {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(self.buf.get(self.start..self.end).unwrap_or_default());
        self.crc = Some((crc, hasher));
    }

    /// Whether the whole file was read and its checksum matches (reading
    /// what was not read yet).
    fn checked(&mut self) -> Result<(), String> {
        if let Some(reason) = &self.failed {
            return Err(reason.clone());
        }
        let Some((want, _)) = self.crc else {
            return Ok(());
        };
        let rest = self.remaining();
        self.start = self.end;
        if rest > 0 {
            while self.left > 0 {
                self.fill(1)?;
                self.start = self.end;
            }
        }
        let got = self.crc.as_ref().map(|(_, h)| h.clone().finalize());
        if got != Some(want) {
            return Err("checksum mismatch".into());
        }
        Ok(())
    }
}

/// The blocks and the index a snapshot's bytes describe, all checked
/// against the block files `ids` of lengths `lens`; or why not.
fn restore(
    mut disk: Disk,
    ids: &[u32],
    lens: &[u64],
    r: &mut Input,
) -> Result<(Disk, Index<Loc>), String> {
    if r.take(MAGIC.len())? != MAGIC {
        return Err("not a snapshot (bad magic)".into());
    }
    let version = r.u32()?;
    if version != VERSION {
        return Err(format!("format version {version}, not {VERSION}"));
    }
    let crc = r.u32()?;
    r.hash_from_here(crc);

    let first = r.u64()?;
    let last = r.u64()?;
    let last_ts = r.u64()? as i64;
    let msgs = r.u64()?;
    let bytes = r.u64()?;
    let next_id = r.u32()?;
    let tail_len = r.u32()?;
    let tail_crc = r.u32()?;
    if last > MAX_SEQ {
        return Err(format!("last sequence {last} out of range"));
    }

    let n = r.u32()?;
    let n = r.count(u64::from(n), SUBJECT_FIXED, "subjects")?;
    let mut listed = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.u32()? as usize;
        let subject = Bytes::copy_from_slice(r.take(len)?);
        listed.push((subject, r.u64()?, r.u64()?, r.u64()?));
    }
    let subject_lens: Vec<usize> = listed.iter().map(|l| l.0.len()).collect();
    let subjects = Subjects::restore(listed)
        .ok_or("a subject listed twice or without messages, or too many")?;

    let n = r.u32()?;
    let n = r.count(u64::from(n), BLOCK_ENTRY, "blocks")?;
    let mut blocks = Vec::with_capacity(n);
    for _ in 0..n {
        blocks.push(Block {
            id: r.u32()?,
            floor: r.u64()?,
            size: r.u64()?,
            live: r.u64()?,
            live_bytes: r.u64()?,
            pinned: r.u64()?,
        });
    }
    check_blocks(&disk, &blocks, ids, lens, next_id)?;
    let (len, crc) = match blocks.last() {
        Some(newest) => {
            let path = disk.block_path(newest.id);
            tail(&path, newest.size).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => (0, 0),
    };
    if (len, crc) != (tail_len, tail_crc) {
        return Err(format!(
            "the newest block's last {len} bytes are not those it was closed with"
        ));
    }

    let n = r.u64()?;
    if n != msgs {
        return Err(format!("{n} message entries for {msgs} messages"));
    }
    let n = r.count(n, MSG_ENTRY, "messages")?;
    let mut index = Index::restoring(subjects);
    // Per subject: messages, first and last sequence.
    let mut seen = vec![(0u64, 0u64, 0u64); subject_lens.len()];
    // Per block: messages, bytes.
    let mut held = vec![(0u64, 0u64); blocks.len()];
    let mut pos = 0;
    for _ in 0..n {
        let e: [u8; MSG_ENTRY] = r.array()?;
        let le64 = |at: usize| {
            e.get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_le_bytes)
        };
        let le32 = |at: usize| {
            e.get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u32::from_le_bytes)
        };
        let (seq, ts, id, off) = (le64(0), le64(8) as i64, le32(16), le32(20));
        let loc = Loc::from_raw(off, le32(24));
        let bad = |what: &str| format!("message {seq}: {what}");
        if seq <= index.last() {
            return Err(bad("sequence out of order"));
        }
        if seq > last {
            return Err(bad("past the last sequence"));
        }
        if index.msgs() > 0 && seq - index.last() > MAX_GAP {
            return Err(bad("too far past the one before"));
        }
        let len = loc.len();
        if !(HEADER as u32..=MAX_RECORD as u32).contains(&len) {
            return Err(bad("bad record length"));
        }
        // The newest block whose floor is at or below `seq` (sequences
        // rise, so the block only moves on).
        while blocks.get(pos + 1).is_some_and(|b| b.floor <= seq) {
            pos += 1;
        }
        let (Some(block), Some(h)) = (
            blocks.get(pos).filter(|b| b.floor <= seq),
            held.get_mut(pos),
        ) else {
            return Err(bad("below every block"));
        };
        if u64::from(off) + u64::from(len) > block.size {
            return Err(bad("record past the end of its block"));
        }
        h.0 += 1;
        h.1 += u64::from(len);
        let (Some(&subject_len), Some(s)) =
            (subject_lens.get(id as usize), seen.get_mut(id as usize))
        else {
            return Err(bad("unknown subject"));
        };
        if s.0 == 0 {
            s.1 = seq;
        }
        s.0 += 1;
        s.2 = seq;
        index
            .restore_at(seq, id, subject_len, ts, loc)
            .map_err(|_| bad("not indexable"))?;
    }
    if r.remaining() > 0 {
        return Err(format!("{} bytes after the last message", r.remaining()));
    }

    for (id, &(count, first, last)) in seen.iter().enumerate() {
        let Some(info) = index.subjects().info(id as u32) else {
            return Err(format!("subject {id} missing"));
        };
        if (count, first, last) != (info.count, info.first.get(), info.last.get()) {
            return Err(format!(
                "subject {}: messages, first and last are {:?}, listed as {:?}",
                String::from_utf8_lossy(&info.subject),
                (count, first, last),
                (info.count, info.first.get(), info.last.get())
            ));
        }
    }
    if last < index.last() {
        return Err("last sequence below a message".into());
    }
    if index.msgs() > 0 && last - index.last() > MAX_GAP {
        // As recovery takes no marker that far past messages held: the
        // next append would have to span the gap in the index.
        return Err("last sequence too far past the last message".into());
    }
    index.observe_last(last, last_ts);
    let got = (index.first(), index.msgs(), index.bytes());
    if got != (first, msgs, bytes) {
        return Err(format!(
            "first sequence, messages, bytes are {got:?}, listed as {:?}",
            (first, msgs, bytes)
        ));
    }
    for (b, &(live, live_bytes)) in blocks.iter().zip(&held) {
        if (live, live_bytes) != (b.live, b.live_bytes) || b.pinned > b.size {
            return Err(format!("block {}: counters do not match", b.id));
        }
    }

    disk.blocks = blocks.into();
    disk.next_id = next_id;
    Ok((disk, index))
}

/// The listed blocks must be the block files, each of its listed length,
/// in rising order of number and floor, with `next_id` past the newest.
fn check_blocks(
    disk: &Disk,
    blocks: &[Block],
    ids: &[u32],
    lens: &[u64],
    next_id: u32,
) -> Result<(), String> {
    let listed: Vec<u32> = blocks.iter().map(|b| b.id).collect();
    if listed != ids {
        let missing = listed.iter().find(|id| !ids.contains(id));
        let extra = ids.iter().find(|id| !listed.contains(id));
        return Err(match (missing, extra) {
            (Some(&id), _) => format!("block {} is missing", disk.block_path(id).display()),
            (_, Some(&id)) => format!("block {} is not listed", disk.block_path(id).display()),
            _ => "blocks listed out of order".into(),
        });
    }
    for (b, &len) in blocks.iter().zip(lens) {
        if b.size != len {
            return Err(format!(
                "block {} is {len} bytes, listed as {}",
                disk.block_path(b.id).display(),
                b.size
            ));
        }
    }
    if blocks.windows(2).any(|w| w[0].floor > w[1].floor) {
        return Err("block floors out of order".into());
    }
    if next_id == 0 || blocks.last().is_some_and(|b| next_id <= b.id) {
        return Err(format!("next block number {next_id} out of range"));
    }
    Ok(())
}
