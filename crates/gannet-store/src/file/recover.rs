//! Opening a file store's directory: finding its blocks, reading every record
//! in order with its length and checksum checked, cutting a torn tail off the
//! newest block, skipping the rest of an older block at a bad record, and
//! rebuilding the index from what the records say.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::index::{Index, MAX_SEQ};
use crate::StoreError;

use super::disk::{io_err, Active, Block, Disk, Loc};
use super::record::{self, Head, Kind, HEADER};
use super::snapshot::{self, Loaded};

/// The longest run of missing sequences recovery accepts after a message
/// still held; a record claiming more is taken as damage, so that no file
/// can make the index grow without bound.
pub(super) const MAX_GAP: u64 = 1 << 30;

/// Where a block file was cut or skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    pub path: PathBuf,
    /// Where the first bad record began: everything before it was good.
    pub offset: u64,
    /// Bytes from there to the end of the file.
    pub bytes: u64,
    pub reason: &'static str,
}

/// What opening a file store found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Messages held after recovery.
    pub msgs: u64,
    /// Block files held (read, unless the index came from the snapshot).
    pub blocks: usize,
    /// The torn tail cut off the newest block (the file is truncated at the
    /// last good record).
    pub truncated: Option<Cut>,
    /// Bad records in older blocks: the rest of each such block was skipped
    /// (the file is left as it is).
    pub corrupt: Vec<Cut>,
    /// Whole, checksummed records that made no sense (a sequence going
    /// backwards or leaping too far) and were ignored.
    pub skipped_records: u64,
    /// Files in the directory that are not blocks, left alone.
    pub ignored_files: Vec<PathBuf>,
    /// The index came from the snapshot a clean close wrote (see
    /// [`FileStore::close`](super::FileStore::close)): no block was read.
    pub from_snapshot: bool,
    /// A snapshot was found but not used, and why; every block was read.
    pub snapshot_rejected: Option<String>,
}

/// Reads the directory (creating it if needed) into blocks and an index:
/// from the snapshot of a clean close when there is a good one, else from
/// every block. The snapshot is removed either way (see `snapshot.rs`).
pub(super) fn open(
    dir: &Path,
    block_size: u64,
) -> Result<(Disk, Index<Loc>, Recovery), StoreError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut report = Recovery::default();
    let ids = block_ids(dir, &mut report)?;
    let restored = match snapshot::load(dir, &ids, block_size) {
        Loaded::Absent => None,
        Loaded::Used(restored) => Some(*restored),
        Loaded::Rejected(reason) => {
            tracing::warn!(dir = %dir.display(), reason, "index snapshot not used; reading every block");
            report.snapshot_rejected = Some(reason);
            None
        }
    };
    snapshot::remove(dir)?;
    let (mut disk, index) = match restored {
        Some(restored) => {
            report.from_snapshot = true;
            restored
        }
        None => scan(dir, block_size, &ids, &mut report)?,
    };
    if let Some(newest) = disk.blocks.back() {
        let path = disk.block_path(newest.id);
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        disk.active = Some(Active {
            file,
            written: newest.size,
        });
    }
    report.msgs = index.msgs();
    report.blocks = disk.blocks.len();
    Ok((disk, index, report))
}

/// Reads every block of `ids` in order into blocks and an index.
fn scan(
    dir: &Path,
    block_size: u64,
    ids: &[u32],
    report: &mut Recovery,
) -> Result<(Disk, Index<Loc>), StoreError> {
    let mut disk = Disk::new(dir.to_path_buf(), block_size);
    let mut index = Index::default();
    for (i, &id) in ids.iter().enumerate() {
        read_block(&mut disk, &mut index, id, i + 1 == ids.len(), report)?;
    }
    if let Some(&id) = ids.last() {
        disk.next_id = id.checked_add(1).ok_or_else(|| StoreError::Corrupt {
            path: dir.to_path_buf(),
            reason: "block numbers exhausted".into(),
        })?;
    }
    Ok((disk, index))
}

/// The numbers of the block files (`<10 digits>.blk`), in order. Leftover
/// temporary files of an interrupted rewrite are removed (the block they
/// were to replace is whole), and so is that of an interrupted snapshot;
/// the snapshot is left for [`snapshot::load`]; anything else is reported
/// and left alone.
fn block_ids(dir: &Path, report: &mut Recovery) -> Result<Vec<u32>, StoreError> {
    let mut ids = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_str().unwrap_or("");
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && (name.ends_with(".blk.tmp") || name == snapshot::TMP) {
            fs::remove_file(&path).map_err(io_err(&path))?;
            continue;
        }
        if name == snapshot::FILE {
            continue;
        }
        match block_id(name).filter(|_| is_file) {
            Some(id) => ids.push(id),
            None => report.ignored_files.push(path),
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

fn block_id(name: &str) -> Option<u32> {
    let digits = name.strip_suffix(".blk")?;
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Reads one block's records into the index, up to the first bad one.
fn read_block(
    disk: &mut Disk,
    index: &mut Index<Loc>,
    id: u32,
    newest: bool,
    report: &mut Recovery,
) -> Result<(), StoreError> {
    let path = disk.block_path(id);
    let file = File::open(&path).map_err(io_err(&path))?;
    let len = file.metadata().map_err(io_err(&path))?.len();
    disk.blocks.push_back(Block {
        id,
        floor: index.last() + 1,
        size: 0,
        live: 0,
        live_bytes: 0,
        pinned: 0,
    });
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut rec = Vec::new();
    let mut at = 0;
    let bad = loop {
        if at == len {
            break None;
        }
        match next_record(&mut reader, len - at, &mut rec).map_err(io_err(&path))? {
            Ok(head) => match apply(disk, index, &head, &rec, at) {
                Ok(sense) => {
                    if !sense {
                        report.skipped_records += 1;
                        tracing::warn!(path = %path.display(), offset = at, "record out of sequence ignored");
                    }
                    at += u64::from(head.len);
                }
                Err(reason) => break Some(reason),
            },
            Err(reason) => break Some(reason),
        }
    };
    if let Some(block) = disk.blocks.back_mut() {
        block.size = at;
    }
    if let Some(reason) = bad {
        let cut = Cut {
            path: path.clone(),
            offset: at,
            bytes: len - at,
            reason,
        };
        if newest {
            tracing::warn!(path = %path.display(), offset = at, bytes = len - at, reason, "torn tail cut at the last good record");
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io_err(&path))?;
            file.set_len(at).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
            report.truncated = Some(cut);
        } else {
            tracing::warn!(path = %path.display(), offset = at, bytes = len - at, reason, "bad record; rest of the block skipped");
            report.corrupt.push(cut);
        }
    }
    Ok(())
}

/// Reads the next record (of at most `remaining` bytes) into `rec`: its
/// head, or why it is bad. Only a failing read is an error.
fn next_record(
    reader: &mut impl Read,
    remaining: u64,
    rec: &mut Vec<u8>,
) -> io::Result<Result<Head, &'static str>> {
    if remaining < HEADER as u64 {
        return Ok(Err("short record header"));
    }
    rec.resize(HEADER, 0);
    reader.read_exact(rec)?;
    let head = match record::parse_head(rec) {
        Ok(head) => head,
        Err(reason) => return Ok(Err(reason)),
    };
    if u64::from(head.len) > remaining {
        return Ok(Err("record runs past the end of the file"));
    }
    rec.resize(head.len as usize, 0);
    reader.read_exact(&mut rec[HEADER..])?;
    Ok(record::verify(&head, rec).map(|()| head))
}

/// Applies one good record at `at` of the newest block read so far:
/// whether it made sense, or why the block cannot go on.
fn apply(
    disk: &mut Disk,
    index: &mut Index<Loc>,
    head: &Head,
    rec: &[u8],
    at: u64,
) -> Result<bool, &'static str> {
    match head.kind {
        Kind::Msg => {
            let seq = head.seq;
            let leap = index.msgs() > 0 && seq - index.last().min(seq) > MAX_GAP;
            if seq <= index.last() || seq > MAX_SEQ || leap {
                return Ok(false);
            }
            let off = u32::try_from(at).map_err(|_| "block larger than 4 GiB")?;
            let subject = rec.get(head.subject()).unwrap_or_default();
            let loc = Loc::new(off, head.len, head.headers_len > 0);
            if index.push_at(seq, subject, head.ts, loc).is_err() {
                return Ok(false);
            }
            if let Some(block) = disk.blocks.back_mut() {
                block.live += 1;
                block.live_bytes += u64::from(head.len);
            }
        }
        Kind::Delete => {
            if let Some(slot) = index.remove(head.seq) {
                disk.account(head.seq, &slot.data);
            }
            return Ok(observe(index, record::marker_last(rec), head.ts));
        }
        Kind::First => {
            let removed = index.remove_below(head.seq, |seq, slot| {
                disk.account(seq, &slot.data);
                Ok::<(), ()>(())
            });
            let observed = observe(index, record::marker_last(rec), head.ts);
            return Ok(removed.is_ok() && observed);
        }
    }
    Ok(true)
}

/// Takes a marker's last sequence and time, unless it leaps too far past
/// messages still held.
fn observe(index: &mut Index<Loc>, last_seq: u64, ts: i64) -> bool {
    if index.msgs() > 0 && last_seq.saturating_sub(index.last()) > MAX_GAP {
        return false;
    }
    index.observe_last(last_seq, ts);
    true
}
