//! Random operation sequences on a `MemStore`, a `FileStore` with tiny blocks
//! (reopened now and then, after a clean close from its index snapshot or
//! after a drop by reading every block) and a plain model of a stream (a
//! `BTreeMap`): the state must agree after every operation, and every query
//! at the end.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use gannet_proto::subject::pattern_matches;
use gannet_store::{
    file_msg_size, memory_msg_size, FileStore, FileStoreConfig, Filter, Limits, MemStore, Purge,
    Recovery, State, Store, StoredMsg,
};
use proptest::prelude::*;

const SUBJECTS: [&str; 4] = ["a", "b", "c.x", "c.y"];
const PATTERNS: [&str; 8] = ["a", "b", "c.x", "c.*", "c.>", ">", "*", "zz"];
const BLOCK_SIZE: u64 = 256;

#[derive(Debug, Clone)]
enum Op {
    Append {
        subject: usize,
        headers: bool,
        payload: Vec<u8>,
    },
    Delete(u64),
    Purge {
        filter: Option<usize>,
        up_to: Option<u64>,
        keep: Option<u64>,
    },
    Compact(u64),
    Expire(i64),
    SetLimits(Limits),
    Sync,
    /// Closed cleanly (`close`: the open uses the snapshot) or dropped.
    Reopen {
        close: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let limits = (
        0..8u64,
        prop_oneof![Just(0u64), 100..1500u64],
        prop_oneof![Just(0u64), 20..300u64],
        0..3u64,
    )
        .prop_map(
            |(max_msgs, max_bytes, max_age, max_msgs_per_subject)| Limits {
                max_msgs,
                max_bytes,
                max_age,
                max_msgs_per_subject,
            },
        );
    prop_oneof![
        12 => (0..SUBJECTS.len(), any::<bool>(), prop::collection::vec(any::<u8>(), 0..24))
            .prop_map(|(subject, headers, payload)| Op::Append { subject, headers, payload }),
        3 => any::<u64>().prop_map(Op::Delete),
        2 => (prop::option::of(0..PATTERNS.len()), prop::option::of(any::<u64>()), prop::option::of(0..4u64))
            .prop_map(|(filter, up_to, keep)| Op::Purge { filter, up_to, keep }),
        1 => any::<u64>().prop_map(Op::Compact),
        1 => (0..400i64).prop_map(Op::Expire),
        1 => limits.prop_map(Op::SetLimits),
        1 => Just(Op::Sync),
        2 => any::<bool>().prop_map(|close| Op::Reopen { close }),
    ]
}

#[derive(Debug, Clone, PartialEq)]
struct Msg {
    subject: &'static str,
    headers: Vec<u8>,
    payload: Vec<u8>,
    ts: i64,
}

/// A stream as plainly as it can be said.
struct Model {
    msgs: BTreeMap<u64, Msg>,
    last: u64,
    last_ts: i64,
    limits: Limits,
    size: fn(usize, usize, usize) -> u64,
}

impl Model {
    fn new(size: fn(usize, usize, usize) -> u64) -> Model {
        Model {
            msgs: BTreeMap::new(),
            last: 0,
            last_ts: 0,
            limits: Limits::default(),
            size,
        }
    }

    fn first(&self) -> u64 {
        self.msgs.keys().next().copied().unwrap_or(self.last + 1)
    }

    fn bytes(&self) -> u64 {
        self.msgs
            .values()
            .map(|m| (self.size)(m.subject.len(), m.headers.len(), m.payload.len()))
            .sum()
    }

    fn state(&self) -> State {
        let first = self.first();
        let mut subjects: Vec<_> = self.msgs.values().map(|m| m.subject).collect();
        subjects.sort();
        subjects.dedup();
        State {
            msgs: self.msgs.len() as u64,
            bytes: self.bytes(),
            first_seq: first,
            first_ts: self.msgs.values().next().map_or(0, |m| m.ts),
            last_seq: self.last,
            last_ts: self.last_ts,
            num_deleted: self.last + 1 - first - self.msgs.len() as u64,
            num_subjects: subjects.len() as u64,
        }
    }

    fn stored(&self, seq: u64) -> Option<StoredMsg> {
        self.msgs.get(&seq).map(|m| StoredMsg {
            seq,
            ts: m.ts,
            subject: Bytes::from_static(m.subject.as_bytes()),
            headers: Bytes::from(m.headers.clone()),
            payload: Bytes::from(m.payload.clone()),
        })
    }

    fn append(&mut self, msg: Msg) -> u64 {
        self.last += 1;
        self.last_ts = msg.ts;
        self.msgs.insert(self.last, msg);
        self.enforce();
        self.last
    }

    fn remove_first(&mut self) -> u64 {
        u64::from(self.msgs.pop_first().is_some())
    }

    fn enforce(&mut self) -> u64 {
        let mut n = 0;
        let per = self.limits.max_msgs_per_subject;
        if per > 0 {
            for subject in SUBJECTS {
                let seqs: Vec<u64> = self.seqs_matching(subject);
                for seq in seqs.iter().take(seqs.len().saturating_sub(per as usize)) {
                    self.msgs.remove(seq);
                    n += 1;
                }
            }
        }
        while self.limits.max_msgs > 0 && self.msgs.len() as u64 > self.limits.max_msgs {
            n += self.remove_first();
        }
        while self.limits.max_bytes > 0 && self.bytes() > self.limits.max_bytes {
            n += self.remove_first();
        }
        n
    }

    fn seqs_matching(&self, filter: &str) -> Vec<u64> {
        self.msgs
            .iter()
            .filter(|(_, m)| {
                filter == ">" || pattern_matches(filter.as_bytes(), m.subject.as_bytes())
            })
            .map(|(&s, _)| s)
            .collect()
    }

    fn compact(&mut self, seq: u64) -> u64 {
        if seq <= self.first() {
            return 0;
        }
        let before = self.msgs.len();
        self.msgs = self.msgs.split_off(&seq);
        if seq > self.last + 1 {
            self.last = seq - 1;
        }
        (before - self.msgs.len()) as u64
    }

    fn purge(&mut self, filter: Option<&str>, up_to: Option<u64>, keep: Option<u64>) -> u64 {
        let filter = filter.filter(|f| *f != ">");
        let keep = keep.filter(|&k| k > 0);
        match (filter, up_to, keep) {
            (None, Some(seq), _) => self.compact(seq),
            (None, None, Some(keep)) => {
                let mut n = 0;
                while self.msgs.len() as u64 > keep {
                    n += self.remove_first();
                }
                n
            }
            (None, None, None) => self.compact(self.last + 1),
            (Some(f), up_to, keep) => {
                let mut seqs = self.seqs_matching(f);
                seqs.retain(|&s| up_to.is_none_or(|u| s < u));
                if let (None, Some(keep)) = (up_to, keep) {
                    seqs.truncate(seqs.len().saturating_sub(keep as usize));
                }
                for s in &seqs {
                    self.msgs.remove(s);
                }
                seqs.len() as u64
            }
        }
    }

    fn expire(&mut self, now: i64) -> u64 {
        let age = self.limits.max_age;
        if age == 0 {
            return 0;
        }
        let mut n = 0;
        while self
            .msgs
            .values()
            .next()
            .is_some_and(|m| i128::from(m.ts) + i128::from(age) <= i128::from(now))
        {
            n += self.remove_first();
        }
        n
    }

    fn next_match(&self, from: u64, filters: &[&str]) -> Option<u64> {
        self.msgs
            .range(from..)
            .find(|(_, m)| {
                filters.is_empty()
                    || filters
                        .iter()
                        .any(|f| *f == ">" || pattern_matches(f.as_bytes(), m.subject.as_bytes()))
            })
            .map(|(&s, _)| s)
    }

    fn last_match(&self, filter: &str, up_to: u64) -> Option<u64> {
        self.msgs
            .range(..=up_to)
            .rev()
            .find(|(_, m)| {
                filter == ">" || pattern_matches(filter.as_bytes(), m.subject.as_bytes())
            })
            .map(|(&s, _)| s)
    }
}

/// An operation with its sequences and times decided.
#[derive(Debug)]
enum Step {
    Append(Msg),
    Delete(u64),
    Purge(Purge),
    Compact(u64),
    Expire(i64),
    SetLimits(Limits),
    Sync,
}

/// Applies one step to a store and its model; the results must agree.
fn step(store: &mut dyn Store, model: &mut Model, step: &Step) {
    match step {
        Step::Append(msg) => {
            let got = store
                .append(msg.subject.as_bytes(), &msg.headers, &msg.payload, msg.ts)
                .unwrap();
            assert_eq!(got, model.append(msg.clone()));
        }
        Step::Delete(seq) => {
            let want = model.msgs.remove(seq).is_some();
            assert_eq!(store.delete(*seq).unwrap(), want);
        }
        Step::Purge(p) => {
            let filter = p.filter.as_ref().map(|f| {
                PATTERNS
                    .iter()
                    .find(|&&x| x.as_bytes() == f.as_ref())
                    .copied()
                    .unwrap_or("")
            });
            let want = model.purge(filter, p.up_to_seq, p.keep);
            assert_eq!(store.purge(p).unwrap(), want, "{p:?}");
        }
        Step::Compact(seq) => assert_eq!(store.compact(*seq).unwrap(), model.compact(*seq)),
        Step::Expire(now) => assert_eq!(store.expire(*now).unwrap(), model.expire(*now)),
        Step::SetLimits(limits) => {
            model.limits = *limits;
            model.enforce();
            store.set_limits(*limits).unwrap();
        }
        Step::Sync => store.sync().unwrap(),
    }
}

/// The two stores and their models, run side by side.
struct Run {
    mem: MemStore,
    mem_model: Model,
    file: Option<FileStore>,
    file_model: Model,
    /// The file store's directory, removed when the run ends.
    _dir: tempfile::TempDir,
    clock: i64,
}

fn open_file(dir: &Path, limits: Limits) -> (FileStore, Recovery) {
    let config = FileStoreConfig {
        block_size: BLOCK_SIZE,
        ..FileStoreConfig::new(dir)
    };
    let (store, recovery) = FileStore::open(config, limits).expect("open");
    assert_eq!(recovery.truncated, None);
    assert!(recovery.corrupt.is_empty());
    assert_eq!(recovery.snapshot_rejected, None);
    assert_eq!(recovery.msgs, store.state().msgs);
    (store, recovery)
}

/// Closes the store (cleanly or by dropping it) and opens it again; after a
/// clean close the open must use the snapshot and agree with an open of a
/// copy of the blocks alone, which reads them all.
fn close_and_open(store: FileStore, close: bool, limits: Limits) -> FileStore {
    let dir = store.dir().to_path_buf();
    if !close {
        drop(store);
        let (store, recovery) = open_file(&dir, limits);
        assert!(!recovery.from_snapshot, "no snapshot after a drop");
        return store;
    }
    store.close().expect("close");
    let copy = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(&dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "blk") {
            std::fs::copy(&path, copy.path().join(path.file_name().expect("name"))).expect("copy");
        }
    }
    let (store, recovery) = open_file(&dir, limits);
    assert!(recovery.from_snapshot, "{recovery:?}");
    let (scanned, recovery) = open_file(copy.path(), limits);
    assert!(!recovery.from_snapshot);
    assert_eq!(store.state(), scanned.state(), "snapshot and scan");
    // (Their files may differ: an open that reads the blocks may rewrite
    // some at once, one from the snapshot only when they change again.)
    assert_eq!(store.deleted(usize::MAX), scanned.deleted(usize::MAX));
    assert_eq!(store.subjects(b">"), scanned.subjects(b">"));
    store
}

impl Run {
    fn new() -> Run {
        let dir = tempfile::tempdir().expect("tempdir");
        let (file, _) = open_file(dir.path(), Limits::default());
        Run {
            mem: MemStore::new(Limits::default()),
            mem_model: Model::new(memory_msg_size),
            file: Some(file),
            file_model: Model::new(file_msg_size),
            _dir: dir,
            clock: 0,
        }
    }

    fn file(&mut self) -> &mut FileStore {
        self.file.as_mut().expect("file store open")
    }

    /// Maps a raw number onto sequences around the current range.
    fn seq(&self, raw: u64) -> u64 {
        raw % (self.mem_model.last + 6)
    }

    fn apply(&mut self, op: &Op) {
        let st = match op {
            Op::Reopen { close } => return self.reopen(*close),
            Op::Append {
                subject,
                headers,
                payload,
            } => {
                self.clock += 10;
                Step::Append(Msg {
                    subject: SUBJECTS[*subject],
                    headers: if *headers {
                        b"NATS/1.0\r\nk: v\r\n\r\n".to_vec()
                    } else {
                        Vec::new()
                    },
                    payload: payload.clone(),
                    ts: self.clock,
                })
            }
            Op::Delete(raw) => Step::Delete(self.seq(*raw)),
            Op::Purge {
                filter,
                up_to,
                keep,
            } => Step::Purge(Purge {
                filter: filter.map(|i| Bytes::from_static(PATTERNS[i].as_bytes())),
                up_to_seq: up_to.map(|raw| self.seq(raw)),
                keep: *keep,
            }),
            Op::Compact(raw) => Step::Compact(self.seq(*raw)),
            Op::Expire(back) => Step::Expire(self.clock - back),
            Op::SetLimits(limits) => Step::SetLimits(*limits),
            Op::Sync => Step::Sync,
        };
        step(&mut self.mem, &mut self.mem_model, &st);
        let file = self.file.as_mut().expect("file store open");
        step(file, &mut self.file_model, &st);
    }

    fn reopen(&mut self, close: bool) {
        let file = self.file.take().expect("file store open");
        self.file = Some(close_and_open(file, close, self.file_model.limits));
    }

    fn check_state(&mut self, after: &Op) {
        assert_eq!(
            self.mem.state(),
            self.mem_model.state(),
            "memory store after {after:?}"
        );
        let file_state = self.file().state();
        assert_eq!(
            file_state,
            self.file_model.state(),
            "file store after {after:?}"
        );
        let first = self.mem_model.first();
        let last = self.mem_model.last;
        for seq in [first, last] {
            assert_eq!(self.mem.get(seq).unwrap(), self.mem_model.stored(seq));
            assert_eq!(self.file().get(seq).unwrap(), self.file_model.stored(seq));
        }
    }

    /// Every query against the model, for one store.
    fn check_queries(store: &dyn Store, model: &Model) {
        let last = model.last;
        for seq in 0..=last + 2 {
            assert_eq!(store.get(seq).unwrap(), model.stored(seq), "get {seq}");
        }
        let filter_sets: [&[&str]; 6] =
            [&[], &["a"], &["a", "c.x"], &["c.*"], &["zz"], &["*", "b"]];
        for filters in filter_sets {
            let filter = Filter(
                filters
                    .iter()
                    .map(|f| Bytes::from_static(f.as_bytes()))
                    .collect(),
            );
            for from in 0..=last + 2 {
                let want = model.next_match(from, filters);
                let got = store.next_match(from, &filter).unwrap();
                assert_eq!(
                    got,
                    want.and_then(|s| model.stored(s)),
                    "next_match {from} {filters:?}"
                );
                let pending = model
                    .msgs
                    .range(from..)
                    .filter(|(&s, _)| model.next_match(s, filters) == Some(s))
                    .count() as u64;
                assert_eq!(
                    store.num_pending(from, &filter),
                    pending,
                    "num_pending {from} {filters:?}"
                );
            }
        }
        for pattern in PATTERNS {
            for up_to in [None, Some(0), Some(last / 2), Some(last + 3)] {
                let want = model.last_match(pattern, up_to.unwrap_or(u64::MAX));
                let got = store.last_match(pattern.as_bytes(), up_to).unwrap();
                assert_eq!(
                    got,
                    want.and_then(|s| model.stored(s)),
                    "last_match {pattern} {up_to:?}"
                );
            }
            let mut want: Vec<(Bytes, u64)> = SUBJECTS
                .iter()
                .map(|s| {
                    (
                        Bytes::from_static(s.as_bytes()),
                        model.seqs_matching(s).len() as u64,
                    )
                })
                .filter(|(s, n)| {
                    *n > 0 && (pattern == ">" || pattern_matches(pattern.as_bytes(), s))
                })
                .collect();
            want.sort();
            assert_eq!(
                store.subjects(pattern.as_bytes()),
                want,
                "subjects {pattern}"
            );
        }
        for subject in SUBJECTS {
            let seqs = model.seqs_matching(subject);
            let want = seqs
                .first()
                .map(|&f| (seqs.len() as u64, f, *seqs.last().unwrap_or(&f)));
            assert_eq!(
                store.subject_state(subject.as_bytes()),
                want,
                "subject_state {subject}"
            );
        }
        let max_ts = model.last_ts + 20;
        for ts in (-10..=max_ts).step_by(7) {
            let want = model
                .msgs
                .iter()
                .find(|(_, m)| m.ts >= ts)
                .map_or(last + 1, |(&s, _)| s);
            assert_eq!(store.seq_for_time(ts), want, "seq_for_time {ts}");
        }
        let first = model.first();
        let deleted: Vec<u64> = (first..=last)
            .filter(|s| !model.msgs.contains_key(s))
            .collect();
        assert_eq!(store.deleted(usize::MAX), deleted);
        assert_eq!(
            store.deleted(2),
            deleted.iter().take(2).copied().collect::<Vec<_>>()
        );
    }
}

fn run(ops: &[Op]) {
    let mut run = Run::new();
    for op in ops {
        run.apply(op);
        run.check_state(op);
    }
    Run::check_queries(&run.mem, &run.mem_model);
    let mut file = run.file.take().expect("file store");
    Run::check_queries(&file, &run.file_model);
    for close in [true, false] {
        file = close_and_open(file, close, run.file_model.limits);
        assert_eq!(
            file.state(),
            run.file_model.state(),
            "after the last reopen (close: {close})"
        );
        Run::check_queries(&file, &run.file_model);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn stores_agree_with_the_model(ops in prop::collection::vec(op(), 1..80)) {
        run(&ops);
    }
}

#[test]
fn long_append_heavy_run() {
    let mut ops = Vec::new();
    for i in 0..600u64 {
        ops.push(Op::Append {
            subject: (i % 4) as usize,
            headers: i % 5 == 0,
            payload: vec![i as u8; (i % 17) as usize],
        });
        match i % 50 {
            10 => ops.push(Op::Purge {
                filter: Some(1),
                up_to: None,
                keep: Some(2),
            }),
            20 => ops.push(Op::Delete(i / 2)),
            30 => ops.push(Op::Reopen {
                close: i % 100 == 30,
            }),
            40 => ops.push(Op::SetLimits(Limits {
                max_msgs_per_subject: 40,
                ..Limits::default()
            })),
            _ => {}
        }
    }
    run(&ops);
}
