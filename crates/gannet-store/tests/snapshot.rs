//! The index snapshot a clean close writes: used by the next open when it
//! matches the blocks exactly, never when the store was written after it
//! (even when an old snapshot is put back), nor when it is damaged; removed
//! by every open.

use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use gannet_store::{FileStore, FileStoreConfig, Filter, Limits, Recovery, Store, StoreError};

const SNAP: &str = "index.snap";

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

fn subject(seq: u64) -> &'static str {
    if seq.is_multiple_of(2) {
        "even"
    } else {
        "odd"
    }
}

/// Appends messages numbered `from..=to` (their payload says their number).
fn fill(s: &mut FileStore, from: u64, to: u64) {
    for n in from..=to {
        let got = s
            .append(subject(n).as_bytes(), b"", &payload(n), n as i64)
            .unwrap();
        assert_eq!(got, n);
    }
}

/// Every message held, each checked against what `fill` wrote.
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
        assert_eq!(m.subject, Bytes::from_static(subject(m.seq).as_bytes()));
        out.push(m.seq);
        from = m.seq + 1;
    }
    out
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

/// Opens `dir`, which must not use its snapshot; why it did not.
fn open_rejecting(dir: &Path, block_size: u64) -> (FileStore, String) {
    let (s, rec) = open(dir, block_size);
    assert!(!rec.from_snapshot, "{rec:?}");
    assert!(
        !dir.join(SNAP).exists(),
        "a rejected snapshot is removed too"
    );
    let reason = rec.snapshot_rejected.expect("the rejection is reported");
    (s, reason)
}

#[test]
fn clean_close_opens_from_the_snapshot_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, rec) = open(dir.path(), 512);
    assert!(!rec.from_snapshot && rec.snapshot_rejected.is_none());
    fill(&mut s, 1, 50);
    s.delete(7).unwrap();
    let state = s.state();
    s.close().unwrap();
    assert!(dir.path().join(SNAP).exists());
    assert!(!dir.path().join("index.snap.tmp").exists());

    let (s, rec) = open(dir.path(), 512);
    assert!(rec.from_snapshot, "{rec:?}");
    assert_eq!((rec.msgs, rec.blocks), (49, blocks(dir.path()).len()));
    assert!(rec.ignored_files.is_empty(), "{:?}", rec.ignored_files);
    assert!(!dir.path().join(SNAP).exists(), "removed by the open");
    assert_eq!(s.state(), state);
    let want: Vec<u64> = (1..=50).filter(|&n| n != 7).collect();
    assert_eq!(held(&s), want);
    assert_eq!(s.subject_state(b"odd"), Some((24, 1, 49)));

    drop(s);
    let (s, rec) = open(dir.path(), 512);
    assert!(!rec.from_snapshot && rec.snapshot_rejected.is_none());
    assert_eq!(s.state(), state);
}

#[test]
fn empty_store_closes_and_opens_from_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path(), 512);
    s.close().unwrap();
    let (mut s, rec) = open(dir.path(), 512);
    assert!(rec.from_snapshot);
    assert_eq!((s.state().first_seq, s.state().last_seq), (1, 0));
    fill(&mut s, 1, 3);
    assert_eq!(s.compact(10).unwrap(), 3);
    s.close().unwrap();
    let (s, rec) = open(dir.path(), 512);
    assert!(rec.from_snapshot);
    let st = s.state();
    assert_eq!(
        (st.first_seq, st.last_seq, st.msgs, st.last_ts),
        (10, 9, 0, 3)
    );
}

/// After a clean close the blocks are not read: damage in a payload goes
/// unnoticed by the open and is found by the read of that message.
#[test]
fn open_from_the_snapshot_reads_no_block() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 64 * 1024);
    fill(&mut s, 1, 5000);
    s.close().unwrap();
    let files = blocks(dir.path());
    assert!(files.len() > 3);
    // The 10th record of the second block: a message (no deletes were made).
    let mut data = fs::read(&files[1]).unwrap();
    let mut at = 0;
    for _ in 0..9 {
        at += u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
    }
    let seq = u64::from_le_bytes(data[at + 9..at + 17].try_into().unwrap());
    let len = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
    data[at + len - 3] ^= 0x55;
    fs::write(&files[1], &data).unwrap();

    let (s, rec) = open(dir.path(), 64 * 1024);
    assert!(rec.from_snapshot, "{rec:?}");
    assert!(rec.corrupt.is_empty() && rec.truncated.is_none());
    assert_eq!(s.state().msgs, 5000);
    assert!(matches!(s.get(seq), Err(StoreError::Corrupt { .. })));
    assert_eq!(
        s.get(seq - 1).unwrap().unwrap().payload,
        Bytes::from(payload(seq - 1))
    );
    assert_eq!(
        s.get(seq + 1).unwrap().unwrap().payload,
        Bytes::from(payload(seq + 1))
    );

    // Dropped, the store is read whole next time, and the damage reported.
    drop(s);
    let (s, rec) = open(dir.path(), 64 * 1024);
    assert!(!rec.from_snapshot);
    assert_eq!(rec.corrupt.len(), 1);
    assert_eq!(rec.corrupt[0].path, files[1]);
    assert!(s.state().msgs < 5000);
}

/// A store whose open skipped damage closes without a snapshot, so that
/// every open finds and reports the damage again.
#[test]
fn damaged_store_closes_without_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 200);
    fill(&mut s, 1, 30);
    drop(s);
    let middle = &blocks(dir.path())[1];
    let mut data = fs::read(middle).unwrap();
    data[40] ^= 0xff;
    fs::write(middle, &data).unwrap();
    let (s, rec) = open(dir.path(), 200);
    assert_eq!(rec.corrupt.len(), 1);
    let state = s.state();
    s.close().unwrap();
    assert!(!dir.path().join(SNAP).exists());
    let (s, rec) = open(dir.path(), 200);
    assert!(!rec.from_snapshot && rec.snapshot_rejected.is_none());
    assert_eq!(rec.corrupt.len(), 1);
    assert_eq!(s.state(), state);
}

/// A block that grew after the close (here: the very next record another
/// store wrote) makes the open read every block.
#[test]
fn block_appended_to_after_the_close_is_read() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for (dir, to) in [(a.path(), 20), (b.path(), 21)] {
        let (mut s, _) = open(dir, 1 << 20);
        fill(&mut s, 1, to);
        s.close().unwrap();
    }
    let block = &blocks(a.path())[0];
    let mine = fs::read(block).unwrap();
    let longer = fs::read(b.path().join(block.file_name().unwrap())).unwrap();
    assert_eq!(&longer[..mine.len()], &mine[..]);
    fs::write(block, &longer).unwrap();

    let (s, reason) = open_rejecting(a.path(), 1 << 20);
    assert!(reason.contains("bytes, listed as"), "{reason}");
    assert_eq!(held(&s), (1..=21).collect::<Vec<_>>());
}

#[test]
fn block_files_not_listed_or_missing_make_the_open_read_every_block() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 200);
    fill(&mut s, 1, 20);
    s.close().unwrap();
    let snap = fs::read(dir.path().join(SNAP)).unwrap();

    fs::write(dir.path().join("0000000099.blk"), b"").unwrap();
    let (s, reason) = open_rejecting(dir.path(), 200);
    assert!(reason.contains("not listed"), "{reason}");
    assert_eq!(held(&s), (1..=20).collect::<Vec<_>>());
    drop(s);
    fs::remove_file(dir.path().join("0000000099.blk")).unwrap();

    let files = blocks(dir.path());
    let first = fs::read(&files[0]).unwrap();
    fs::remove_file(&files[0]).unwrap();
    fs::write(dir.path().join(SNAP), &snap).unwrap();
    let (s, reason) = open_rejecting(dir.path(), 200);
    assert!(reason.contains("missing"), "{reason}");
    assert!(!held(&s).contains(&1));
    drop(s);
    fs::write(&files[0], first).unwrap();
}

/// Any byte flipped, and any cut, and the snapshot is not used; the store
/// opened is the same.
#[test]
fn damaged_snapshot_is_not_used() {
    let pristine = tempfile::tempdir().unwrap();
    let (mut s, _) = open(pristine.path(), 200);
    fill(&mut s, 1, 12);
    s.delete(4).unwrap();
    let state = s.state();
    s.close().unwrap();
    let snap = fs::read(pristine.path().join(SNAP)).unwrap();
    let want: Vec<u64> = (1..=12).filter(|&n| n != 4).collect();

    let mut damaged: Vec<Vec<u8>> = (0..snap.len())
        .map(|i| {
            let mut bad = snap.clone();
            bad[i] ^= 0x01;
            bad
        })
        .collect();
    damaged.extend([0, 8, 16, snap.len() / 2, snap.len() - 1].map(|n| snap[..n].to_vec()));
    let mut longer = snap.clone();
    longer.push(0);
    damaged.push(longer);
    for (i, bad) in damaged.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), dir.path());
        fs::write(dir.path().join(SNAP), bad).unwrap();
        let (s, reason) = open_rejecting(dir.path(), 200);
        assert!(!reason.is_empty());
        assert_eq!(s.state(), state, "damage {i}: {reason}");
        assert_eq!(held(&s), want, "damage {i}");
    }

    // And the one untouched is used.
    let (s, rec) = open(pristine.path(), 200);
    assert!(rec.from_snapshot);
    assert_eq!(held(&s), want);
}

/// The snapshot of an older close, put back after the store was written
/// and dropped without a close, is never used.
#[test]
fn stale_snapshot_put_back_after_more_writes_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 200);
    fill(&mut s, 1, 20);
    s.close().unwrap();
    let old = fs::read(dir.path().join(SNAP)).unwrap();

    // Appends.
    let (mut s, rec) = open(dir.path(), 200);
    assert!(rec.from_snapshot);
    fill(&mut s, 21, 25);
    s.sync().unwrap();
    drop(s);
    fs::write(dir.path().join(SNAP), &old).unwrap();
    let (s, reason) = open_rejecting(dir.path(), 200);
    assert!(!reason.is_empty());
    assert_eq!(held(&s), (1..=25).collect::<Vec<_>>());
    drop(s);

    // One delete: a marker of its own in the newest block.
    let (s, _) = open(dir.path(), 200);
    s.close().unwrap();
    let old = fs::read(dir.path().join(SNAP)).unwrap();
    let (mut s, rec) = open(dir.path(), 200);
    assert!(rec.from_snapshot);
    assert!(s.delete(24).unwrap());
    drop(s);
    fs::write(dir.path().join(SNAP), &old).unwrap();
    let (s, _) = open_rejecting(dir.path(), 200);
    assert_eq!(held(&s), (1..=25).filter(|&n| n != 24).collect::<Vec<_>>());
    drop(s);

    // Deletes that remove the oldest blocks.
    let (s, _) = open(dir.path(), 200);
    s.close().unwrap();
    let old = fs::read(dir.path().join(SNAP)).unwrap();
    let (mut s, _) = open(dir.path(), 200);
    for seq in 1..=10 {
        s.delete(seq).unwrap();
    }
    drop(s);
    fs::write(dir.path().join(SNAP), &old).unwrap();
    let (s, reason) = open_rejecting(dir.path(), 200);
    assert!(reason.contains("missing"), "{reason}");
    assert_eq!(held(&s), (11..=25).filter(|&n| n != 24).collect::<Vec<_>>());
}

/// The one change that keeps every block's length: the newest block's
/// last record cut off at an open (damage), then as many bytes written
/// again. The checksum of the newest block's tail catches it.
#[test]
fn stale_snapshot_with_every_length_the_same_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 1 << 20);
    fill(&mut s, 1, 10);
    s.close().unwrap();
    let old = fs::read(dir.path().join(SNAP)).unwrap();
    let block = blocks(dir.path()).pop().unwrap();
    let len = fs::metadata(&block).unwrap().len();

    // Damage in the last record (message 10): the next open cuts it.
    let (s, rec) = open(dir.path(), 1 << 20);
    assert!(rec.from_snapshot);
    drop(s);
    let mut data = fs::read(&block).unwrap();
    let n = data.len();
    data[n - 1] ^= 0xff;
    fs::write(&block, &data).unwrap();
    let (mut s, rec) = open(dir.path(), 1 << 20);
    assert!(rec.truncated.is_some());
    assert_eq!(s.state().last_seq, 9);
    // Message 10 again, of the same size, another subject, another time.
    s.append(b"EVEN", b"", &payload(10), 99).unwrap();
    s.sync().unwrap();
    drop(s);
    assert_eq!(fs::metadata(&block).unwrap().len(), len, "the same length");

    fs::write(dir.path().join(SNAP), &old).unwrap();
    let (s, reason) = open_rejecting(dir.path(), 1 << 20);
    assert!(reason.contains("newest block"), "{reason}");
    assert_eq!(s.subject_state(b"EVEN"), Some((1, 10, 10)));
    assert_eq!(s.subject_state(b"even"), Some((4, 2, 8)));
    assert_eq!(s.state().last_ts, 99);
}

/// Every field changed, with the checksum made to match: the open never
/// panics; what the checks catch makes it read every block, and a store
/// opened either way can be read and appended to.
#[test]
fn any_field_changed_under_a_good_checksum() {
    let pristine = tempfile::tempdir().unwrap();
    let (mut s, _) = open(pristine.path(), 200);
    fill(&mut s, 1, 12);
    s.delete(4).unwrap();
    s.delete(12).unwrap();
    s.close().unwrap();
    let snap = fs::read(pristine.path().join(SNAP)).unwrap();
    let mut rejected = 0;
    for i in 16..snap.len() {
        let mut bad = snap.clone();
        bad[i] ^= 1 << (i % 8);
        let crc = crc32fast::hash(&bad[16..]);
        bad[12..16].copy_from_slice(&crc.to_le_bytes());
        let dir = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), dir.path());
        fs::write(dir.path().join(SNAP), &bad).unwrap();
        let (mut s, rec) = open(dir.path(), 200);
        assert!(!dir.path().join(SNAP).exists());
        if rec.from_snapshot {
            let st = s.state();
            for seq in st.first_seq..=st.last_seq.min(st.first_seq + 100) {
                let _ = s.get(seq);
            }
        } else {
            rejected += 1;
            assert!(rec.snapshot_rejected.is_some());
            assert_eq!(held(&s), (1..=11).filter(|&n| n != 4).collect::<Vec<_>>());
        }
        let last = s.state().last_seq;
        if last < u64::MAX - 2 {
            assert_eq!(s.append(b"x", b"", b"y", 0).unwrap(), last + 1, "byte {i}");
        }
    }
    // Times, subject names and a rewrite's pinned bytes are not checked
    // against the blocks (reads check the records); most of the rest is.
    assert!(rejected * 2 > snap.len(), "{rejected} of {}", snap.len());
}

#[test]
fn leftover_snapshot_tmp_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 200);
    fill(&mut s, 1, 5);
    drop(s);
    let tmp = dir.path().join("index.snap.tmp");
    fs::write(&tmp, b"half a snapshot").unwrap();
    let (s, rec) = open(dir.path(), 200);
    assert!(!tmp.exists());
    assert!(rec.ignored_files.is_empty(), "{:?}", rec.ignored_files);
    assert!(!rec.from_snapshot && rec.snapshot_rejected.is_none());
    assert_eq!(held(&s), (1..=5).collect::<Vec<_>>());
}

/// After an open from the snapshot the store works as after a scan: limits
/// given at open apply, appends go on in the newest block, and a purge of
/// everything and more closes survive.
#[test]
fn store_opened_from_the_snapshot_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = open(dir.path(), 300);
    fill(&mut s, 1, 40);
    s.close().unwrap();
    let limits = Limits {
        max_msgs: 30,
        ..Limits::default()
    };
    let (mut s, rec) = FileStore::open(config(dir.path(), 300), limits).unwrap();
    assert!(rec.from_snapshot);
    assert_eq!(rec.msgs, 40, "what the snapshot held, before the limits");
    assert_eq!(held(&s), (11..=40).collect::<Vec<_>>());
    fill(&mut s, 41, 45);
    assert_eq!(held(&s), (16..=45).collect::<Vec<_>>());
    s.close().unwrap();
    let (mut s, rec) = FileStore::open(config(dir.path(), 300), limits).unwrap();
    assert!(rec.from_snapshot);
    assert_eq!(held(&s), (16..=45).collect::<Vec<_>>());
    assert_eq!(s.purge(&gannet_store::Purge::default()).unwrap(), 30);
    s.close().unwrap();
    let (mut s, rec) = open(dir.path(), 300);
    assert!(rec.from_snapshot);
    assert_eq!((s.state().first_seq, s.state().last_seq), (46, 45));
    fill(&mut s, 46, 47);
    drop(s);
    let (s, rec) = open(dir.path(), 300);
    assert!(!rec.from_snapshot);
    assert_eq!(held(&s), vec![46, 47]);
}

/// Open times of a 1 GiB store (16,000 messages of 64 KiB) and of one of
/// 2,000,000 small messages, from the snapshot and by reading every block,
/// with the files in the page cache. A measurement, not a check: run it by
/// hand, in release mode:
/// `cargo test --release -p gannet-store --test snapshot -- --ignored --nocapture open_times`
#[test]
#[ignore]
fn open_times() {
    use std::time::{Duration, Instant};

    fn timed(dir: &Path, snapshot: bool) -> Duration {
        let start = Instant::now();
        let (s, rec) = open(dir, FileStoreConfig::DEFAULT_BLOCK_SIZE);
        let took = start.elapsed();
        assert_eq!(rec.from_snapshot, snapshot);
        if snapshot {
            s.close().unwrap();
        } else {
            drop(s);
        }
        took
    }

    for (count, size) in [(16_000u64, 64 * 1024usize), (2_000_000, 100)] {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _) = open(dir.path(), FileStoreConfig::DEFAULT_BLOCK_SIZE);
        let body = vec![0x5a; size];
        for n in 1..=count {
            let subject = format!("orders.{}", n % 100);
            s.append(subject.as_bytes(), b"", &body, n as i64).unwrap();
        }
        let bytes = s.stats().bytes;
        let start = Instant::now();
        s.close().unwrap();
        let close = start.elapsed();
        let snap = fs::metadata(dir.path().join(SNAP)).unwrap().len();
        // Closed: each open uses the snapshot and closes again; then
        // dropped: each open reads every block.
        let via_snapshot: Vec<Duration> = (0..5).map(|_| timed(dir.path(), true)).collect();
        let (s, _) = open(dir.path(), FileStoreConfig::DEFAULT_BLOCK_SIZE);
        drop(s);
        let via_scan: Vec<Duration> = (0..5).map(|_| timed(dir.path(), false)).collect();
        let median = |mut v: Vec<Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        println!(
            "{count} messages of {size} bytes, {} MiB in blocks, snapshot {} KiB written in {close:?}: \
             open from the snapshot {:?}, by reading every block {:?} (medians of 5, warm cache)",
            bytes >> 20,
            snap >> 10,
            median(via_snapshot),
            median(via_scan),
        );
    }
}
