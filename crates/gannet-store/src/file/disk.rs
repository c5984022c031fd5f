//! The block files of a file store: writing records to the newest block
//! through a buffer, rolling to a new block when it is full, syncing, reading
//! messages back (checksum checked), counting what each block still holds,
//! removing blocks that hold nothing and rewriting mostly-dead ones.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::index::{Data, Index, Slot};
use crate::policy::Sink;
use crate::{StoreError, StoredMsg};

use super::record::{self, Kind, HEADER};

/// Buffered records are written to the file once they reach this size.
const FLUSH_AT: usize = 64 * 1024;
/// Read handles kept open at most.
const MAX_OPEN: usize = 64;
/// Bytes read at once when reads follow each other through a block (a
/// consumer walking the stream), so that most reads need no system call.
const READ_AHEAD: usize = 64 * 1024;
const HAS_HEADERS: u32 = 1 << 31;

/// Where a message's record is in its block (the block is found by sequence).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    pub off: u32,
    /// The record's length, and [`HAS_HEADERS`].
    len_flags: u32,
}

impl Loc {
    pub fn new(off: u32, len: u32, has_headers: bool) -> Loc {
        let flag = if has_headers { HAS_HEADERS } else { 0 };
        Loc {
            off,
            len_flags: len | flag,
        }
    }

    pub fn len(&self) -> u32 {
        self.len_flags & !HAS_HEADERS
    }

    /// The record's length and flags in one word, as a snapshot keeps them.
    pub fn raw(&self) -> u32 {
        self.len_flags
    }

    /// A place from [`Loc::raw`]'s word.
    pub fn from_raw(off: u32, len_flags: u32) -> Loc {
        Loc { off, len_flags }
    }
}

impl Data for Loc {
    /// [`crate::file_msg_size`] from the record's length: the record is
    /// `HEADER + subject + headers + payload` bytes.
    fn size(&self, _subject_len: usize) -> u64 {
        let headers_extra = if self.len_flags & HAS_HEADERS != 0 {
            4
        } else {
            0
        };
        (u64::from(self.len()) + 30 + headers_extra).saturating_sub(HEADER as u64)
    }
}

/// One block file.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub id: u32,
    /// No message in the block has a lower sequence (the store's last
    /// sequence + 1 when the block was begun, or when recovery reached it).
    pub floor: u64,
    /// Bytes of good records, including those still in the write buffer.
    pub size: u64,
    /// Messages held in the block.
    pub live: u64,
    /// Bytes of their records.
    pub live_bytes: u64,
    /// Bytes of markers the last rewrite of the block had to keep.
    pub pinned: u64,
}

/// The newest block, open for writing.
pub(crate) struct Active {
    pub file: File,
    /// Bytes of the block in its file; the rest is in the buffer.
    pub written: u64,
}

/// Read handles of recently read blocks, oldest use first, and the bytes
/// last read ahead.
#[derive(Default)]
struct Handles {
    open: VecDeque<(u32, File)>,
    window: Window,
}

/// Bytes of one block read ahead of a sequential reader, and where the last
/// read ended (which tells a sequential reader from a random one).
#[derive(Default)]
struct Window {
    block: u32,
    start: u64,
    bytes: Vec<u8>,
    last_end: Option<(u32, u64)>,
}

impl Window {
    fn get(&self, id: u32, off: u64, len: usize) -> Option<&[u8]> {
        if self.block != id || off < self.start {
            return None;
        }
        let at = usize::try_from(off - self.start).ok()?;
        self.bytes.get(at..at.checked_add(len)?)
    }
}

impl Handles {
    /// Reads `out.len()` bytes of block `id` at `off`; `readable` is how many
    /// bytes of the block's file may be read (its records on disk). A read
    /// that starts where the previous one ended reads ahead.
    fn read_at(
        &mut self,
        id: u32,
        path: impl FnOnce() -> PathBuf,
        off: u64,
        out: &mut [u8],
        readable: u64,
    ) -> io::Result<()> {
        if let Some(src) = self.window.get(id, off, out.len()) {
            out.copy_from_slice(src);
            self.window.last_end = Some((id, off + out.len() as u64));
            return Ok(());
        }
        let sequential = self.window.last_end == Some((id, off));
        self.window.last_end = Some((id, off + out.len() as u64));
        let file = match self.open.iter().position(|(b, _)| *b == id) {
            Some(i) => self.open.remove(i).map(|(_, f)| f),
            None => None,
        };
        let file = match file {
            Some(f) => f,
            None => File::open(path())?,
        };
        let ahead = usize::try_from(readable.saturating_sub(off))
            .unwrap_or(usize::MAX)
            .min(READ_AHEAD);
        let read = if sequential && ahead > out.len() {
            let mut bytes = std::mem::take(&mut self.window.bytes);
            bytes.resize(ahead, 0);
            let read = file.read_exact_at(&mut bytes, off);
            self.window.block = id;
            self.window.start = off;
            self.window.bytes = bytes;
            match read {
                Ok(()) => {
                    out.copy_from_slice(&self.window.bytes[..out.len()]);
                    Ok(())
                }
                Err(e) => {
                    self.window.bytes.clear();
                    Err(e)
                }
            }
        } else {
            file.read_exact_at(out, off)
        };
        if self.open.len() >= MAX_OPEN {
            self.open.pop_front();
        }
        self.open.push_back((id, file));
        read
    }

    /// Closes block `id` and drops what was read of it: it was removed or
    /// rewritten.
    fn forget(&mut self, id: u32) {
        self.open.retain(|(b, _)| *b != id);
        if self.window.block == id {
            self.window.bytes.clear();
        }
    }

    fn clear(&mut self) {
        self.open.clear();
        self.window = Window::default();
    }
}

/// What a rewrite of a block keeps: the records, and the new offset of each
/// message kept.
struct Rewrite {
    kept: Vec<u8>,
    moved: Vec<(u64, u32)>,
}

/// A file store's blocks and everything written to them.
pub(crate) struct Disk {
    pub dir: PathBuf,
    pub block_size: u64,
    pub blocks: VecDeque<Block>,
    pub active: Option<Active>,
    /// Records of the newest block not yet written to its file.
    buf: Vec<u8>,
    /// Whether the newest block has writes not yet synced.
    active_dirty: bool,
    /// Former newest blocks with writes not yet synced.
    unsynced: Vec<(u32, File)>,
    /// A block file was created since the last sync of the directory.
    dir_dirty: bool,
    pub next_id: u32,
    handles: RefCell<Handles>,
    /// Blocks that lost messages since the last [`Disk::maintain`].
    touched: Vec<u32>,
    pub compactions: u64,
    closed: bool,
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path, reason: String) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        reason,
    }
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

impl Disk {
    pub fn new(dir: PathBuf, block_size: u64) -> Disk {
        Disk {
            dir,
            block_size,
            blocks: VecDeque::new(),
            active: None,
            buf: Vec::new(),
            active_dirty: false,
            unsynced: Vec::new(),
            dir_dirty: false,
            next_id: 1,
            handles: RefCell::default(),
            touched: Vec::new(),
            compactions: 0,
            closed: false,
        }
    }

    pub fn block_path(&self, id: u32) -> PathBuf {
        self.dir.join(format!("{id:010}.blk"))
    }

    /// The block that holds (or held) `seq`.
    fn pos_of_seq(&self, seq: u64) -> Option<usize> {
        self.blocks
            .partition_point(|b| b.floor <= seq)
            .checked_sub(1)
    }

    fn pos_of_id(&self, id: u32) -> Option<usize> {
        self.blocks.binary_search_by_key(&id, |b| b.id).ok()
    }

    /// Bytes of every block, written or buffered.
    pub fn total_bytes(&self) -> u64 {
        self.blocks.iter().map(|b| b.size).sum()
    }

    /// Begins a new block (its messages at `floor` or above) as the newest.
    fn begin_block(&mut self, floor: u64) -> Result<(), StoreError> {
        self.flush()?;
        if let Some(old) = self.active.take() {
            if self.active_dirty {
                let id = self.blocks.back().map_or(0, |b| b.id);
                self.unsynced.push((id, old.file));
            }
        }
        self.active_dirty = false;
        let id = self.next_id;
        let path = self.block_path(id);
        self.next_id = id
            .checked_add(1)
            .ok_or_else(|| corrupt(&self.dir, "block numbers exhausted".into()))?;
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io_err(&path))?;
        self.blocks.push_back(Block {
            id,
            floor,
            size: 0,
            live: 0,
            live_bytes: 0,
            pinned: 0,
        });
        self.active = Some(Active { file, written: 0 });
        self.dir_dirty = true;
        Ok(())
    }

    /// Appends one record to the newest block, first beginning a new block
    /// when there is none, the newest is full, or `fresh` asks for one and
    /// the newest holds anything. Where the record went and its length.
    fn write(
        &mut self,
        floor: u64,
        fresh: bool,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<u32, StoreError>,
    ) -> Result<(u64, u32), StoreError> {
        let roll = match (self.blocks.back(), &self.active) {
            (Some(b), Some(_)) => b.size >= self.block_size || (fresh && b.size > 0),
            _ => true,
        };
        if roll {
            self.begin_block(floor)?;
        }
        let len = encode(&mut self.buf)?;
        let Some(block) = self.blocks.back_mut() else {
            return Err(corrupt(&self.dir, "no block to write to".into()));
        };
        let off = block.size;
        block.size += u64::from(len);
        self.active_dirty = true;
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok((off, len))
    }

    /// Writes a message record; where it went.
    pub fn append_msg(
        &mut self,
        seq: u64,
        ts: i64,
        subject: &[u8],
        headers: &[u8],
        payload: &[u8],
    ) -> Result<Loc, StoreError> {
        let (off, len) = self.write(seq, false, |buf| {
            record::encode_msg(buf, seq, ts, subject, headers, payload)
        })?;
        if let Some(block) = self.blocks.back_mut() {
            block.live += 1;
            block.live_bytes += u64::from(len);
        }
        let off = u32::try_from(off).map_err(|_| StoreError::TooLarge)?;
        Ok(Loc::new(off, len, !headers.is_empty()))
    }

    fn write_marker(
        &mut self,
        kind: Kind,
        seq: u64,
        last_seq: u64,
        last_ts: i64,
        fresh: bool,
    ) -> Result<(), StoreError> {
        self.write(last_seq + 1, fresh, |buf| {
            record::encode_marker(buf, kind, seq, last_seq, last_ts)
        })?;
        Ok(())
    }

    /// Counts a message of the block holding `seq` as gone.
    pub fn account(&mut self, seq: u64, loc: &Loc) {
        let Some(block) = self.pos_of_seq(seq).and_then(|p| self.blocks.get_mut(p)) else {
            return;
        };
        block.live = block.live.saturating_sub(1);
        block.live_bytes = block.live_bytes.saturating_sub(u64::from(loc.len()));
        if self.touched.last() != Some(&block.id) {
            self.touched.push(block.id);
        }
    }

    /// Writes the buffered records to the newest block's file.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let Some(active) = self.active.as_mut() else {
            self.buf.clear();
            return Ok(());
        };
        let id = self.blocks.back().map_or(0, |b| b.id);
        let path = self.dir.join(format!("{id:010}.blk"));
        active
            .file
            .write_all_at(&self.buf, active.written)
            .map_err(io_err(&path))?;
        active.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Makes every record written so far durable.
    pub fn sync(&mut self) -> Result<(), StoreError> {
        self.flush()?;
        if self.active_dirty {
            if let Some(active) = &self.active {
                let id = self.blocks.back().map_or(0, |b| b.id);
                active
                    .file
                    .sync_data()
                    .map_err(io_err(&self.block_path(id)))?;
            }
            self.active_dirty = false;
        }
        while let Some((id, file)) = self.unsynced.last() {
            file.sync_data().map_err(io_err(&self.block_path(*id)))?;
            self.unsynced.pop();
        }
        if self.dir_dirty {
            sync_dir(&self.dir)?;
            self.dir_dirty = false;
        }
        Ok(())
    }

    /// Reads `len` bytes at `off` of block `pos`, from the buffer when they
    /// are not written yet.
    fn read_bytes(&self, pos: usize, off: u64, len: usize) -> Result<Vec<u8>, StoreError> {
        let Some(block) = self.blocks.get(pos) else {
            return Err(corrupt(&self.dir, format!("no block at {pos}")));
        };
        let mut out = vec![0; len];
        let newest = pos + 1 == self.blocks.len();
        // Bytes of the block in its file; the newest block's rest is buffered.
        let on_disk = match &self.active {
            Some(active) if newest => active.written,
            _ => block.size,
        };
        if newest && self.active.is_some() && off >= on_disk {
            let start = usize::try_from(off - on_disk).unwrap_or(usize::MAX);
            let src = start
                .checked_add(len)
                .and_then(|end| self.buf.get(start..end))
                .ok_or_else(|| {
                    corrupt(&self.block_path(block.id), format!("no record at {off}"))
                })?;
            out.copy_from_slice(src);
            return Ok(out);
        }
        let read = match self.handles.try_borrow_mut() {
            Ok(mut handles) => handles.read_at(
                block.id,
                || self.block_path(block.id),
                off,
                &mut out,
                on_disk,
            ),
            Err(_) => {
                File::open(self.block_path(block.id)).and_then(|f| f.read_exact_at(&mut out, off))
            }
        };
        read.map_err(|e| io_err(&self.block_path(block.id))(e))?;
        Ok(out)
    }

    /// The message at `seq`, whose record is at `loc`; its checksum checked.
    pub fn read(&self, seq: u64, loc: &Loc) -> Result<StoredMsg, StoreError> {
        let pos = self
            .pos_of_seq(seq)
            .ok_or_else(|| corrupt(&self.dir, format!("no block holds sequence {seq}")))?;
        let rec = self.read_bytes(pos, u64::from(loc.off), loc.len() as usize)?;
        let path = || {
            self.blocks
                .get(pos)
                .map_or(self.dir.clone(), |b| self.block_path(b.id))
        };
        let head = record::check(&rec).map_err(|r| {
            corrupt(
                &path(),
                format!("record of sequence {seq} at {}: {r}", loc.off),
            )
        })?;
        if head.seq != seq {
            return Err(corrupt(
                &path(),
                format!(
                    "record at {} holds sequence {}, not {seq}",
                    loc.off, head.seq
                ),
            ));
        }
        record::to_msg(&head, rec)
            .ok_or_else(|| corrupt(&path(), format!("record at {} is no message", loc.off)))
    }

    /// Removes blocks that hold nothing any more (but never the newest), and
    /// rewrites blocks that lost more than half their bytes.
    pub fn maintain(&mut self, index: &mut Index<Loc>) -> Result<(), StoreError> {
        self.drop_dead_front()?;
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        for id in touched {
            let Some(pos) = self.pos_of_id(id) else {
                continue;
            };
            if pos + 1 >= self.blocks.len() {
                continue;
            }
            let Some(b) = self.blocks.get(pos) else {
                continue;
            };
            let dead = b.size.saturating_sub(b.live_bytes + b.pinned);
            if b.size > 0 && dead * 2 > b.size {
                self.rewrite(pos, index)?;
            }
        }
        Ok(())
    }

    /// Removes the oldest blocks while they hold no message. What they say
    /// (deletes of their own messages, markers below their messages) matters
    /// to nothing left. Syncs first, so that what made them dead is durable.
    fn drop_dead_front(&mut self) -> Result<(), StoreError> {
        let n = self
            .blocks
            .iter()
            .take(self.blocks.len().saturating_sub(1))
            .take_while(|b| b.live == 0)
            .count();
        if n == 0 {
            return Ok(());
        }
        self.sync()?;
        for _ in 0..n {
            let Some(block) = self.blocks.pop_front() else {
                break;
            };
            self.remove_block_file(block.id)?;
        }
        sync_dir(&self.dir)
    }

    fn remove_block_file(&mut self, id: u32) -> Result<(), StoreError> {
        self.handles.borrow_mut().forget(id);
        let path = self.block_path(id);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(&path)(e)),
            _ => Ok(()),
        }
    }

    /// Rewrites block `pos` (not the newest) without its dead messages and
    /// the markers nothing needs: to a temporary file, synced, renamed over
    /// the block, the directory synced. A crash leaves the old or the new
    /// file, both whole.
    fn rewrite(&mut self, pos: usize, index: &mut Index<Loc>) -> Result<(), StoreError> {
        self.sync()?;
        let Some(block) = self.blocks.get(pos).cloned() else {
            return Ok(());
        };
        let path = self.block_path(block.id);
        let len = usize::try_from(block.size).map_err(|_| StoreError::TooLarge)?;
        let data = self.read_bytes(pos, 0, len)?;
        let older_floor = (pos > 0).then(|| self.blocks.front().map_or(0, |b| b.floor));
        let Some(Rewrite { kept, moved }) =
            self.kept_records(&data, pos, &block, older_floor, index)
        else {
            tracing::warn!(path = %path.display(), "block unreadable; not rewritten");
            if let Some(b) = self.blocks.get_mut(pos) {
                b.pinned = b.size;
            }
            return Ok(());
        };
        if kept.is_empty() {
            self.blocks.remove(pos);
            self.remove_block_file(block.id)?;
            sync_dir(&self.dir)?;
            self.compactions += 1;
            return Ok(());
        }
        let tmp = path.with_extension("blk.tmp");
        let write = || -> io::Result<()> {
            let file = File::create(&tmp)?;
            file.write_all_at(&kept, 0)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(io_err(&tmp))?;
        sync_dir(&self.dir)?;
        self.handles.borrow_mut().forget(block.id);
        for (seq, off) in moved {
            if let Some(slot) = index.live_mut(seq) {
                slot.data.off = off;
            }
        }
        if let Some(b) = self.blocks.get_mut(pos) {
            b.size = kept.len() as u64;
            b.pinned = b.size.saturating_sub(b.live_bytes);
        }
        self.compactions += 1;
        Ok(())
    }

    /// The records of block `pos` (its bytes `data`) a rewrite keeps, and
    /// the new offset of each message kept. A message is kept when the index
    /// holds it there; a delete when its message may still be in an older
    /// block; a first-sequence marker when it may still remove messages of
    /// an older block. `older_floor` is the oldest block's floor when there
    /// are older blocks. `None` when a record does not check.
    fn kept_records(
        &self,
        data: &[u8],
        pos: usize,
        block: &Block,
        older_floor: Option<u64>,
        index: &Index<Loc>,
    ) -> Option<Rewrite> {
        let mut kept = Vec::new();
        let mut moved = Vec::new();
        let mut at = 0;
        while at < data.len() {
            let rest = data.get(at..)?;
            let head = record::parse_head(rest).ok()?;
            let rec = rest.get(..head.len as usize)?;
            record::verify(&head, rec).ok()?;
            let keep = match head.kind {
                Kind::Msg => {
                    index
                        .live(head.seq)
                        .is_some_and(|s| s.data.off as usize == at)
                        && self.pos_of_seq(head.seq) == Some(pos)
                }
                Kind::Delete => {
                    older_floor.is_some_and(|f| head.seq >= f && head.seq < block.floor)
                }
                Kind::First => older_floor.is_some_and(|f| head.seq > f),
            };
            if keep {
                if head.kind == Kind::Msg {
                    moved.push((head.seq, u32::try_from(kept.len()).ok()?));
                }
                kept.extend_from_slice(rec);
            }
            at += rec.len();
        }
        Some(Rewrite { kept, moved })
    }

    /// Removes the directory and everything in it.
    pub fn destroy(&mut self) -> Result<(), StoreError> {
        self.closed = true;
        self.buf.clear();
        self.active = None;
        self.unsynced.clear();
        self.handles.borrow_mut().clear();
        match fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(&self.dir)(e)),
            _ => Ok(()),
        }
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        if !self.closed {
            if let Err(e) = self.flush() {
                tracing::warn!(error = %e, "file store: buffered records not written at close");
            }
        }
    }
}

impl Sink<Loc> for Disk {
    fn removed(&mut self, seq: u64, slot: &Slot<Loc>) -> Result<(), StoreError> {
        self.account(seq, &slot.data);
        Ok(())
    }

    fn deleted(&mut self, seq: u64, last_seq: u64, last_ts: i64) -> Result<(), StoreError> {
        self.write_marker(Kind::Delete, seq, last_seq, last_ts, false)
    }

    fn first_moved(
        &mut self,
        first: u64,
        last_seq: u64,
        last_ts: i64,
        empty: bool,
    ) -> Result<(), StoreError> {
        self.write_marker(Kind::First, first, last_seq, last_ts, empty)
    }
}
