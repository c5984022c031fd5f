//! Unit tests of the file store: each operation on disk, across reopens.

use bytes::Bytes;

use super::*;
use crate::file_msg_size;

fn config(dir: &Path, block_size: u64) -> FileStoreConfig {
    FileStoreConfig {
        block_size,
        ..FileStoreConfig::new(dir)
    }
}

fn open(dir: &Path, block_size: u64) -> FileStore {
    FileStore::open(config(dir, block_size), Limits::default())
        .unwrap()
        .0
}

fn add(s: &mut FileStore, subject: &str, ts: i64) -> u64 {
    s.append(subject.as_bytes(), b"", b"data", ts).unwrap()
}

fn seqs(s: &FileStore) -> Vec<u64> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(m) = s.next_match(from, &Filter::all()).unwrap() {
        out.push(m.seq);
        from = m.seq + 1;
    }
    out
}

/// Opens the store again both ways, checking the state, the messages and
/// the files are the same: dropped (every block read), then closed (from
/// the snapshot, which the open removes).
fn reopen(s: FileStore, block_size: u64) -> FileStore {
    let dir = s.dir().to_path_buf();
    let before = s.state();
    let msgs = seqs(&s);
    drop(s);
    let (s, rec) = FileStore::open(config(&dir, block_size), Limits::default()).unwrap();
    assert!(!rec.from_snapshot && rec.snapshot_rejected.is_none());
    assert_eq!(s.state(), before, "state after reopen");
    assert_eq!(seqs(&s), msgs, "messages after reopen");
    let stats = s.stats();
    s.close().unwrap();
    assert!(dir.join(snapshot::FILE).exists());
    let (s, rec) = FileStore::open(config(&dir, block_size), Limits::default()).unwrap();
    assert!(rec.from_snapshot, "{rec:?}");
    assert!(!dir.join(snapshot::FILE).exists(), "removed at open");
    assert_eq!(rec.msgs, before.msgs);
    assert_eq!(s.state(), before, "state after reopen from the snapshot");
    assert_eq!(seqs(&s), msgs, "messages after reopen from the snapshot");
    let now = s.stats();
    assert_eq!((now.blocks, now.bytes), (stats.blocks, stats.bytes));
    s
}

#[test]
fn sizes_are_counted_as_file_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 1 << 20);
    s.append(b"a.b", b"", b"hello", 1).unwrap();
    s.append(b"a.b", b"NATS/1.0\r\n\r\n", b"hello", 2).unwrap();
    let want = file_msg_size(3, 0, 5) + file_msg_size(3, 12, 5);
    assert_eq!(s.state().bytes, want);
    let s = reopen(s, 1 << 20);
    assert_eq!(s.state().bytes, want);
}

#[test]
fn empty_store_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), 1024);
    assert_eq!(
        s.state(),
        State {
            first_seq: 1,
            ..State::default()
        }
    );
    assert_eq!(s.get(1).unwrap(), None);
    assert_eq!(s.seq_for_time(5), 1);
    assert_eq!(s.stats().blocks, 0);
    let s = reopen(s, 1024);
    assert_eq!(s.state().last_seq, 0);
}

#[test]
fn reads_buffered_and_written_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 100);
    for i in 0..20 {
        s.append(b"s", b"", format!("m{i}").as_bytes(), i).unwrap();
    }
    assert!(s.stats().blocks > 3);
    for i in 0..20u64 {
        let m = s.get(i + 1).unwrap().unwrap();
        assert_eq!(m.payload, Bytes::from(format!("m{i}")));
        assert_eq!(m.ts, i as i64);
        assert_eq!(m.subject, Bytes::from_static(b"s"));
    }
    s.sync().unwrap();
    assert_eq!(
        s.get(20).unwrap().unwrap().payload,
        Bytes::from_static(b"m19")
    );
}

#[test]
fn delete_first_last_middle_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 200);
    for subj in ["a", "b", "a", "b", "a"] {
        add(&mut s, subj, 10);
    }
    assert!(s.delete(1).unwrap());
    assert!(!s.delete(1).unwrap());
    assert!(s.delete(5).unwrap());
    assert_eq!(s.subject_state(b"a"), Some((1, 3, 3)));
    assert!(s.delete(3).unwrap());
    assert_eq!(s.subject_state(b"a"), None);
    let s = reopen(s, 200);
    assert_eq!(s.deleted(10), vec![3, 5]);
    assert_eq!(s.state().first_seq, 2);
    assert_eq!(s.state().last_seq, 5);
    assert_eq!(s.subject_state(b"b"), Some((2, 2, 4)));
}

#[test]
fn full_purge_keeps_last_seq_and_frees_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 200);
    for i in 0..30 {
        add(&mut s, "a", i);
    }
    assert_eq!(s.purge(&Purge::default()).unwrap(), 30);
    assert_eq!(
        s.stats().blocks,
        1,
        "only the block with the marker is left"
    );
    let mut s = reopen(s, 200);
    assert_eq!(
        (s.state().first_seq, s.state().last_seq, s.state().last_ts),
        (31, 30, 29)
    );
    assert_eq!(add(&mut s, "a", 99), 31);
    let s = reopen(s, 200);
    assert_eq!(seqs(&s), vec![31]);
}

#[test]
fn compact_past_last_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 200);
    add(&mut s, "a", 1);
    add(&mut s, "b", 2);
    assert_eq!(s.compact(100).unwrap(), 2);
    let mut s = reopen(s, 200);
    assert_eq!((s.state().first_seq, s.state().last_seq), (100, 99));
    assert_eq!(add(&mut s, "c", 3), 100);
    let s = reopen(s, 200);
    assert_eq!(seqs(&s), vec![100]);
    assert_eq!(s.state().first_seq, 100);
}

#[test]
fn purge_subject_keep_and_limits_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 150);
    for subj in ["a", "b", "a", "a", "b", "a"] {
        add(&mut s, subj, 1);
    }
    let p = Purge {
        filter: Some(Bytes::from_static(b"a")),
        keep: Some(1),
        ..Purge::default()
    };
    assert_eq!(s.purge(&p).unwrap(), 3);
    let mut s = reopen(s, 150);
    assert_eq!(seqs(&s), vec![2, 5, 6]);
    s.set_limits(Limits {
        max_msgs_per_subject: 1,
        max_msgs: 2,
        ..Limits::default()
    })
    .unwrap();
    assert_eq!(seqs(&s), vec![5, 6]);
    let s = reopen(s, 150);
    assert_eq!(
        s.subjects(b""),
        vec![(Bytes::from_static(b"a"), 1), (Bytes::from_static(b"b"), 1)]
    );
}

#[test]
fn limits_given_at_open_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 150);
    for i in 0..10 {
        add(&mut s, "a", i);
    }
    drop(s);
    let limits = Limits {
        max_msgs: 4,
        ..Limits::default()
    };
    let (s, rec) = FileStore::open(config(dir.path(), 150), limits).unwrap();
    assert_eq!(rec.msgs, 10);
    assert_eq!(seqs(&s), vec![7, 8, 9, 10]);
}

#[test]
fn expire_and_max_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_age: 100,
        max_bytes: 3 * file_msg_size(1, 0, 4),
        ..Limits::default()
    };
    let (mut s, _) = FileStore::open(config(dir.path(), 150), limits).unwrap();
    for ts in [0, 50, 100, 150] {
        add(&mut s, "a", ts);
    }
    assert_eq!(seqs(&s), vec![2, 3, 4]);
    assert_eq!(s.expire(200).unwrap(), 2);
    assert_eq!(seqs(&s), vec![4]);
    assert_eq!(s.expire(1000).unwrap(), 1);
    let s = reopen(s, 150);
    assert_eq!((s.state().first_seq, s.state().msgs), (5, 0));
}

#[test]
fn dead_oldest_blocks_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 100);
    for i in 0..20 {
        add(&mut s, "a", i);
    }
    let first_block = dir.path().join("0000000001.blk");
    assert!(first_block.exists());
    for seq in 1..=10 {
        s.delete(seq).unwrap();
    }
    assert!(!first_block.exists());
    let s = reopen(s, 100);
    assert_eq!(seqs(&s), (11..=20).collect::<Vec<_>>());
}

#[test]
fn mostly_dead_middle_block_is_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 2000);
    for i in 0..60 {
        add(&mut s, if i % 3 == 0 { "keep" } else { "drop" }, i);
    }
    assert!(s.stats().blocks >= 2);
    let bytes = s.stats().bytes;
    let p = Purge {
        filter: Some(Bytes::from_static(b"drop")),
        ..Purge::default()
    };
    assert_eq!(s.purge(&p).unwrap(), 40);
    assert!(s.stats().rewrites > 0, "{:?}", s.stats());
    assert!(s.stats().bytes < bytes);
    assert_eq!(s.get(4).unwrap().unwrap().seq, 4);
    let mut s = reopen(s, 2000);
    assert_eq!(
        seqs(&s),
        (1..=60).filter(|i| (i - 1) % 3 == 0).collect::<Vec<_>>()
    );
    assert!(s.delete(4).unwrap());
    let s = reopen(s, 2000);
    assert_eq!(s.subject_state(b"keep"), Some((19, 1, 58)));
}

/// Every message from `from` on, as (seq, payload), read in order: the
/// reads a consumer makes, which the store serves from its read-ahead.
fn payloads(s: &FileStore, from: u64) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut at = from;
    while let Some(m) = s.next_match(at, &Filter::all()).unwrap() {
        out.push((m.seq, String::from_utf8(m.payload.to_vec()).unwrap()));
        at = m.seq + 1;
    }
    out
}

#[test]
fn reads_in_order_see_rewritten_blocks_and_new_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 1500);
    let put = |s: &mut FileStore, i: u64| {
        let subject = if i.is_multiple_of(3) { "keep" } else { "drop" };
        s.append(
            subject.as_bytes(),
            b"",
            format!("m{i}").as_bytes(),
            i as i64,
        )
        .unwrap()
    };
    for i in 0..120 {
        put(&mut s, i);
    }
    s.sync().unwrap();
    assert!(s.stats().blocks >= 3);
    let all: Vec<(u64, String)> = (0..120).map(|i| (i + 1, format!("m{i}"))).collect();
    assert_eq!(payloads(&s, 1), all);
    // Blocks rewritten under the reader: what it read ahead is dropped.
    for seq in 1..=10 {
        assert_eq!(s.get(seq).unwrap().unwrap().seq, seq);
    }
    let p = Purge {
        filter: Some(Bytes::from_static(b"drop")),
        ..Purge::default()
    };
    assert_eq!(s.purge(&p).unwrap(), 80);
    assert!(s.stats().rewrites > 0, "{:?}", s.stats());
    let kept: Vec<(u64, String)> = all
        .iter()
        .filter(|(q, _)| (q - 1) % 3 == 0)
        .cloned()
        .collect();
    assert_eq!(payloads(&s, 1), kept);
    // The newest block grows past what was read ahead of it: buffered,
    // then written.
    let before = payloads(&s, 100);
    for i in 120..130 {
        put(&mut s, i);
        let got = payloads(&s, 100);
        assert_eq!(got.last(), Some(&(i + 1, format!("m{i}"))));
        assert_eq!(got.len(), before.len() + (i - 119) as usize);
        s.sync().unwrap();
    }
    assert_eq!(
        payloads(&s, 121),
        (120..130)
            .map(|i| (i + 1, format!("m{i}")))
            .collect::<Vec<_>>()
    );
    // Random reads among ordered ones.
    for seq in [127, 1, 130, 4, 121] {
        let m = s.get(seq).unwrap().unwrap();
        assert_eq!(m.payload, Bytes::from(format!("m{}", seq - 1)));
    }
}

#[test]
fn corrupted_record_is_reported_on_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 1 << 20);
    add(&mut s, "a", 1);
    s.sync().unwrap();
    let path = dir.path().join("0000000001.blk");
    let mut data = std::fs::read(&path).unwrap();
    let last = data.len() - 1;
    data[last] ^= 1;
    std::fs::write(&path, data).unwrap();
    assert!(matches!(s.get(1), Err(StoreError::Corrupt { .. })));
}

#[test]
fn sync_always_and_destroy() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("stream");
    let cfg = FileStoreConfig {
        sync_always: true,
        ..config(&sub, 128)
    };
    let (mut s, _) = FileStore::open(cfg, Limits::default()).unwrap();
    add(&mut s, "a", 1);
    assert!(sub.join("0000000001.blk").exists());
    Box::new(s).destroy().unwrap();
    assert!(!sub.exists());
}

#[test]
fn loc_size_matches_file_msg_size() {
    for (s, h, p) in [(1, 0, 0), (3, 12, 5), (10, 0, 100)] {
        let len = (record::HEADER + s + h + p) as u32;
        let loc = Loc::new(0, len, h > 0);
        assert_eq!(crate::index::Data::size(&loc, s), file_msg_size(s, h, p));
    }
}

#[test]
fn index_costs_20_bytes_per_message() {
    assert_eq!(std::mem::size_of::<crate::index::Slot<Loc>>(), 20);
}

#[test]
fn append_at_keeps_its_gap_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 256);
    add(&mut s, "a", 1);
    assert_eq!(s.append_at(7, b"b", b"", b"x", 2).unwrap(), 7);
    assert!(s.append_at(3, b"b", b"", b"x", 2).is_err());
    s.sync().unwrap();
    let s = reopen(s, 256);
    assert_eq!(seqs(&s), vec![1, 7]);
    let st = s.state();
    assert_eq!((st.last_seq, st.num_deleted), (7, 5));
}

#[test]
fn close_through_the_trait_writes_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 256);
    add(&mut s, "a", 1);
    let boxed: Box<dyn Store> = Box::new(s);
    boxed.close().unwrap();
    let (s, rec) = FileStore::open(config(dir.path(), 256), Limits::default()).unwrap();
    assert!(rec.from_snapshot);
    assert_eq!(seqs(&s), vec![1]);
}

fn blocks_of(s: &FileStore) -> Vec<(u32, u64, u64, u64, u64, u64)> {
    s.disk
        .blocks
        .iter()
        .map(|b| (b.id, b.floor, b.size, b.live, b.live_bytes, b.pinned))
        .collect()
}

#[test]
fn snapshot_keeps_the_blocks_as_the_store_had_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 300);
    // Messages of 38 bytes, markers of 41: eight records fill a block.
    for i in 1..=8 {
        add(&mut s, "a", i);
    }
    add(&mut s, "b", 9);
    s.delete(2).unwrap();
    for i in 10..=15 {
        add(&mut s, "b", i);
    }
    assert_eq!(s.append_at(20, b"c", b"", b"data", 20).unwrap(), 20);
    // Block 2 loses its messages and is rewritten to the delete of 2 alone.
    for seq in 9..=15 {
        s.delete(seq).unwrap();
    }
    assert!(s.stats().rewrites > 0);
    let blocks = blocks_of(&s);
    let (id, floor, _, live, _, pinned) = blocks[1];
    assert_eq!((id, floor, live), (2, 9, 0), "{blocks:?}");
    assert_eq!(pinned, 41, "the rewrite kept the delete of 2: {blocks:?}");
    assert_eq!(blocks[2].1, 20, "the floor of a block begun by append_at");
    let state = s.state();
    s.close().unwrap();
    let (mut s, rec) = FileStore::open(config(dir.path(), 300), Limits::default()).unwrap();
    assert!(rec.from_snapshot);
    assert_eq!(blocks_of(&s), blocks);
    assert_eq!(s.disk.next_id, 4);
    assert_eq!(s.state(), state);
    // And the store goes on: appends to the newest block, deletes, purges.
    let seq = add(&mut s, "new", 100);
    assert_eq!(seq, 21);
    assert_eq!(s.get(seq).unwrap().unwrap().ts, 100);
    assert_eq!(s.stats().blocks, 4, "the newest was full: a new one begun");
    assert!(s.delete(1).unwrap());
    let mut s = reopen(s, 300);
    assert_eq!(seqs(&s), vec![3, 4, 5, 6, 7, 8, 20, 21]);
    s.purge(&Purge::default()).unwrap();
    let s = reopen(s, 300);
    assert_eq!(s.state().msgs, 0);
    assert_eq!(s.state().last_seq, seq);
}
