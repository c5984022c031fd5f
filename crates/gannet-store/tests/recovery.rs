//! Opening a file store whose files were cut, damaged or joined by strangers:
//! what was good before the damage is kept, the damage is reported, nothing
//! panics, and the store goes on with the right sequences.

use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use gannet_store::{FileStore, FileStoreConfig, Filter, Limits, Purge, Recovery, Store};
use proptest::prelude::*;

fn config(dir: &Path, block_size: u64) -> FileStoreConfig {
    FileStoreConfig {
        block_size,
        ..FileStoreConfig::new(dir)
    }
}

fn open(dir: &Path, block_size: u64) -> (FileStore, Recovery) {
    FileStore::open(config(dir, block_size), Limits::default()).expect("open")
}

fn payload(seq: u64) -> Vec<u8> {
    format!("payload of {seq}").into_bytes()
}

/// Appends messages numbered `from..=to` (their payload says their number).
fn fill(s: &mut FileStore, from: u64, to: u64) {
    for n in from..=to {
        let subject = if n % 2 == 0 { "even" } else { "odd" };
        assert_eq!(
            s.append(subject.as_bytes(), b"", &payload(n), n as i64)
                .unwrap(),
            n
        );
    }
}

fn blocks(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "blk"))
        .collect();
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

fn held(s: &FileStore) -> Vec<u64> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(m) = s.next_match(from, &Filter::all()).unwrap() {
        assert_eq!(
            m.payload,
            Bytes::from(payload(m.seq)),
            "payload of {}",
            m.seq
        );
        out.push(m.seq);
        from = m.seq + 1;
    }
    out
}

/// Cuts the newest block at every offset inside its last record; where that
/// record began.
fn torn_tail_at_every_offset(block_size: u64, before: u64) -> u64 {
    let pristine = tempfile::tempdir().unwrap();
    let (mut s, _) = open(pristine.path(), block_size);
    fill(&mut s, 1, before);
    s.sync().unwrap();
    let sizes: Vec<(PathBuf, u64)> = blocks(pristine.path())
        .into_iter()
        .map(|p| {
            let len = fs::metadata(&p).unwrap().len();
            (p, len)
        })
        .collect();
    fill(&mut s, before + 1, before + 1);
    s.sync().unwrap();
    drop(s);
    let newest = blocks(pristine.path()).pop().unwrap();
    let start = sizes
        .iter()
        .find(|(p, _)| *p == newest)
        .map_or(0, |(_, len)| *len);
    let whole = fs::read(&newest).unwrap();
    let end = whole.len() as u64;
    assert!(end > start);
    for cut in start..end {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), dir.path());
        let file = dir.path().join(newest.file_name().unwrap());
        fs::write(&file, &whole[..cut as usize]).unwrap();
        let (mut s, rec) = open(dir.path(), block_size);
        assert_eq!(rec.msgs, before, "cut at {cut}");
        if cut > start {
            let t = rec.truncated.as_ref().expect("the cut is reported");
            assert_eq!(
                (t.path.as_path(), t.offset, t.bytes),
                (file.as_path(), start, cut - start)
            );
        } else {
            assert_eq!(rec.truncated, None);
        }
        assert!(rec.corrupt.is_empty());
        assert_eq!(
            fs::metadata(&file).unwrap().len(),
            start,
            "the file is truncated"
        );
        assert_eq!(rec.blocks, blocks(dir.path()).len());
        assert_eq!(held(&s), (1..=before).collect::<Vec<_>>());
        assert_eq!(s.state().last_seq, before);
        fill(&mut s, before + 1, before + 2);
        s.sync().unwrap();
        drop(s);
        let (s, rec) = open(dir.path(), block_size);
        assert_eq!(rec.truncated, None);
        assert_eq!(held(&s), (1..=before + 2).collect::<Vec<_>>());
    }
    start
}

#[test]
fn torn_tail_of_a_single_block() {
    assert!(torn_tail_at_every_offset(1 << 20, 5) > 0);
}

#[test]
fn torn_tail_of_the_newest_of_many_blocks() {
    assert!(torn_tail_at_every_offset(200, 23) > 0);
}

#[test]
fn torn_tail_of_a_block_with_only_its_first_record() {
    // Records are 48 or 49 bytes: the fourth fills a 190-byte block, so the
    // fifth begins a new one.
    assert_eq!(torn_tail_at_every_offset(190, 4), 0);
}

#[test]
fn flipped_byte_in_a_middle_block_skips_the_rest_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 200);
    fill(&mut s, 1, 30);
    s.sync().unwrap();
    drop(s);
    let files = blocks(dir.path());
    assert!(files.len() >= 4);
    let middle = &files[1];
    let mut data = fs::read(middle).unwrap();
    let first_len = u32::from_le_bytes(data[0..4].try_into().unwrap()) as usize;
    let at = first_len + 40;
    data[at] ^= 0xff;
    fs::write(middle, &data).unwrap();

    let (mut s, rec) = open(dir.path(), 200);
    assert_eq!(rec.truncated, None);
    assert_eq!(rec.corrupt.len(), 1);
    let cut = &rec.corrupt[0];
    assert_eq!((&cut.path, cut.offset), (middle, first_len as u64));
    assert_eq!(cut.bytes, data.len() as u64 - first_len as u64);
    let got = held(&s);
    assert!(got.len() < 30 && got.len() >= 30 - 4, "{got:?}");
    assert_eq!(s.state().last_seq, 30);
    fill(&mut s, 31, 32);
    assert_eq!(s.get(32).unwrap().unwrap().seq, 32);
    drop(s);
    let (s, rec) = open(dir.path(), 200);
    assert_eq!(rec.corrupt.len(), 1, "the damaged block is left as it was");
    assert_eq!(held(&s).len(), got.len() + 2);
}

#[test]
fn damage_in_the_first_record_of_an_old_block() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 120);
    fill(&mut s, 1, 12);
    drop(s);
    let files = blocks(dir.path());
    fs::write(&files[0], b"not a record at all, just some words").unwrap();
    let (s, rec) = open(dir.path(), 120);
    assert_eq!(rec.corrupt.len(), 1);
    assert_eq!(rec.corrupt[0].offset, 0);
    assert!(held(&s).ends_with(&[12]));
    assert_eq!(s.state().last_seq, 12);
}

#[test]
fn strangers_in_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 200);
    fill(&mut s, 1, 10);
    drop(s);
    fs::write(dir.path().join("notes.txt"), b"hello").unwrap();
    fs::write(dir.path().join("12.blk"), b"short name").unwrap();
    fs::create_dir(dir.path().join("0000000050.blk")).unwrap();
    fs::write(dir.path().join("0000000099.blk"), [0xAB; 300]).unwrap();
    let (mut s, rec) = open(dir.path(), 200);
    assert_eq!(held(&s), (1..=10).collect::<Vec<_>>());
    assert_eq!(rec.ignored_files.len(), 3, "{:?}", rec.ignored_files);
    let t = rec.truncated.expect("the garbage newest block is cut");
    assert_eq!((t.offset, t.bytes), (0, 300));
    fill(&mut s, 11, 12);
    drop(s);
    let (s, rec) = open(dir.path(), 200);
    assert_eq!(rec.truncated, None);
    assert_eq!(held(&s), (1..=12).collect::<Vec<_>>());
}

#[test]
fn leftover_rewrite_file_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 200);
    fill(&mut s, 1, 10);
    drop(s);
    let tmp = dir.path().join("0000000001.blk.tmp");
    fs::write(&tmp, b"half a rewrite").unwrap();
    let (s, rec) = open(dir.path(), 200);
    assert!(!tmp.exists());
    assert!(rec.ignored_files.is_empty());
    assert_eq!(held(&s), (1..=10).collect::<Vec<_>>());
}

#[test]
fn full_purge_keeps_the_last_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 200);
    fill(&mut s, 1, 40);
    assert_eq!(s.purge(&Purge::default()).unwrap(), 40);
    s.sync().unwrap();
    drop(s);
    assert_eq!(blocks(dir.path()).len(), 1);
    let (mut s, rec) = open(dir.path(), 200);
    assert_eq!(rec.msgs, 0);
    let st = s.state();
    assert_eq!(
        (st.first_seq, st.last_seq, st.last_ts, st.msgs),
        (41, 40, 40, 0)
    );
    fill(&mut s, 41, 45);
    assert_eq!(s.purge(&Purge::default()).unwrap(), 5);
    drop(s);
    let (s, _) = open(dir.path(), 200);
    assert_eq!((s.state().first_seq, s.state().last_seq), (46, 45));
}

#[test]
fn rewritten_middle_block_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 600);
    fill(&mut s, 1, 60);
    let files_before = blocks(dir.path());
    // Delete most odd messages (every block keeps some live ones), and one
    // even message whose delete must survive the rewrite of a later block.
    for n in (1..=60).step_by(2) {
        if n % 10 != 1 {
            s.delete(n).unwrap();
        }
    }
    s.delete(4).unwrap();
    let want: Vec<u64> = (1..=60)
        .filter(|n| (n % 2 == 0 || n % 10 == 1) && *n != 4)
        .collect();
    assert_eq!(held(&s), want);
    assert_eq!(
        s.state().num_deleted,
        60 - want.len() as u64 - (60 - s.state().last_seq)
    );
    let before = s.state();
    let _ = files_before;
    // Enough dead bytes for the older blocks to be rewritten.
    let p = Purge {
        filter: Some(Bytes::from_static(b"even")),
        up_to_seq: Some(40),
        keep: None,
    };
    let purged = s.purge(&p).unwrap();
    assert!(purged > 0);
    assert!(s.stats().rewrites > 0, "{:?}", s.stats());
    let want: Vec<u64> = want
        .into_iter()
        .filter(|n| n % 2 == 1 || *n >= 40)
        .collect();
    assert_eq!(held(&s), want);
    assert!(s.state().bytes < before.bytes);
    let state = s.state();
    drop(s);
    let (s, rec) = open(dir.path(), 600);
    assert!(rec.corrupt.is_empty() && rec.truncated.is_none());
    assert_eq!(s.state(), state);
    assert_eq!(held(&s), want);
    assert_eq!(s.subject_state(b"odd").map(|(n, _, _)| n), Some(6));
}

#[test]
fn appended_but_unsynced_records_survive_a_clean_close() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 1 << 20);
    fill(&mut s, 1, 3);
    drop(s);
    let (s, _) = open(dir.path(), 1 << 20);
    assert_eq!(held(&s), vec![1, 2, 3]);
}

#[test]
fn read_of_a_damaged_record_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 1 << 20);
    fill(&mut s, 1, 3);
    s.sync().unwrap();
    let file = &blocks(dir.path())[0];
    let mut data = fs::read(file).unwrap();
    let n = data.len();
    data[n - 2] ^= 0x10;
    fs::write(file, &data).unwrap();
    assert!(s.get(1).unwrap().is_some());
    assert!(s.get(3).is_err());
    assert!(s.next_match(3, &Filter::all()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Raw bytes as block files (and spliced into real ones) never make
    /// opening panic, and the store opened works.
    #[test]
    fn any_bytes_as_blocks(
        garbage in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..4),
        splice in any::<prop::sample::Index>(),
        keep_real in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        if keep_real {
            let (mut s, _) = open(dir.path(), 128);
            fill(&mut s, 1, 8);
            drop(s);
            let files = blocks(dir.path());
            let victim = splice.get(&files);
            let mut data = fs::read(victim).unwrap();
            let at = splice.index(data.len() + 1);
            data.splice(at..at, garbage[0].iter().copied());
            fs::write(victim, data).unwrap();
        }
        for (i, g) in garbage.iter().enumerate() {
            fs::write(dir.path().join(format!("{:010}.blk", 20 + i)), g).unwrap();
        }
        let (mut s, _) = open(dir.path(), 128);
        let st = s.state();
        let _ = held_loosely(&s);
        let seq = s.append(b"after", b"", b"x", 1_000).unwrap();
        prop_assert_eq!(seq, st.last_seq + 1);
        prop_assert!(s.get(seq).unwrap().is_some());
        drop(s);
        let (s, rec) = open(dir.path(), 128);
        prop_assert!(rec.truncated.is_none());
        prop_assert_eq!(s.state().last_seq, seq);
    }
}

/// Every message held, reading past damaged ones.
fn held_loosely(s: &FileStore) -> usize {
    let st = s.state();
    (st.first_seq..=st.last_seq)
        .filter(|&q| matches!(s.get(q), Ok(Some(_))))
        .count()
}
