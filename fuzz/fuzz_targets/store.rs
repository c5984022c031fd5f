//! A file store with tiny blocks, driven by the input as a sequence of
//! operations (append, delete, purge, compact, expire, limits, sync, reopen,
//! queries), some of which write raw input bytes into its block files and
//! reopen it. Nothing may panic; opening damaged files must succeed. Until the
//! first raw write, the store must agree with a memory store given the same
//! operations (sequences and counts; bytes are counted differently), and a
//! reopen must give back the same state.
#![no_main]

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use gannet_store::{FileStore, FileStoreConfig, Filter, Limits, MemStore, Purge, State, Store};
use libfuzzer_sys::fuzz_target;

const SUBJECTS: [&[u8]; 4] = [b"a", b"b", b"c.x", b"c.y"];
const PATTERNS: [&[u8]; 5] = [b"a", b"c.*", b">", b"b", b"zz"];

/// The input, consumed a byte or a slice at a time (zeros once it runs out).
struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// A fresh directory of its own, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("gannet-fuzz-store-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        Dir(path)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn open(dir: &Path, block_size: u64, limits: Limits) -> FileStore {
    let config = FileStoreConfig {
        block_size,
        ..FileStoreConfig::new(dir)
    };
    match FileStore::open(config, limits) {
        Ok((store, _)) => store,
        Err(e) => panic!("open failed: {e}"),
    }
}

/// What both stores must agree on (not bytes, counted differently).
fn counts(s: &State) -> (u64, u64, u64, u64, i64, u64) {
    (
        s.msgs,
        s.first_seq,
        s.last_seq,
        s.num_deleted,
        s.last_ts,
        s.num_subjects,
    )
}

fn block_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Writes raw input bytes into a block file: appended to one, over part of
/// one, or as a new newest block.
fn scribble(dir: &Path, input: &mut Input) {
    let how = input.byte();
    let len = usize::from(input.byte());
    let raw = input.bytes(len);
    let files = block_files(dir);
    let pick = files.get(usize::from(input.byte()) % files.len().max(1));
    match (how % 3, pick) {
        (0, Some(path)) => {
            if let Ok(mut f) = OpenOptions::new().append(true).open(path) {
                let _ = f.write_all(raw);
            }
        }
        (1, Some(path)) => {
            if let Ok(mut data) = fs::read(path) {
                let at = usize::from(input.byte()) % (data.len() + 1);
                let end = (at + raw.len()).min(data.len());
                data.splice(at..end, raw.iter().copied());
                let _ = fs::write(path, data);
            }
        }
        _ => {
            let _ = fs::write(dir.join(format!("{:010}.blk", 1000 + u32::from(how))), raw);
        }
    }
}

fn query(store: &dyn Store, input: &mut Input) {
    let st = store.state();
    assert!(st.first_seq <= st.last_seq + 1);
    assert!(st.msgs <= st.last_seq + 1 - st.first_seq);
    let seq = u64::from(input.byte()) % (st.last_seq + 3);
    let pattern = PATTERNS[usize::from(input.byte()) % PATTERNS.len()];
    let filter = Filter::one(Bytes::from_static(pattern));
    let _ = store.get(seq);
    if let Ok(Some(m)) = store.next_match(seq, &filter) {
        assert!(m.seq >= seq && filter.matches(&m.subject));
    }
    if let Ok(Some(m)) = store.last_match(pattern, Some(seq)) {
        assert!(m.seq <= seq);
    }
    assert!(store.num_pending(seq, &filter) <= st.msgs);
    let _ = store.subjects(pattern);
    let _ = store.subject_state(pattern);
    let _ = store.seq_for_time(i64::from(input.byte()) * 10);
    assert!(store.deleted(8).len() <= 8);
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input { data };
    let block_size = 48 + u64::from(input.byte()) * 4;
    let dir = Dir::new();
    let mut limits = Limits::default();
    let mut file = open(&dir.0, block_size, limits);
    let mut mem = MemStore::new(limits);
    let mut pristine = true;
    let mut clock = 0i64;
    let mut steps = 0;
    while !input.is_empty() && steps < 200 {
        steps += 1;
        let last = file.state().last_seq;
        let seq = |b: u8| u64::from(b) % (last + 4);
        match input.byte() % 11 {
            0..=2 => {
                clock += 10;
                let subject = SUBJECTS[usize::from(input.byte()) % SUBJECTS.len()];
                let headers: &[u8] = if input.byte() % 4 == 0 {
                    b"NATS/1.0\r\n\r\n"
                } else {
                    b""
                };
                let len = usize::from(input.byte() % 40);
                let payload = input.bytes(len);
                let a = file.append(subject, headers, payload, clock);
                let b = mem.append(subject, headers, payload, clock);
                if pristine {
                    assert_eq!(a.ok(), b.ok());
                }
            }
            3 => {
                let s = seq(input.byte());
                let a = file.delete(s);
                let b = mem.delete(s);
                if pristine {
                    assert_eq!(a.ok(), b.ok());
                }
            }
            4 => {
                let flags = input.byte();
                let purge = Purge {
                    filter: (flags & 1 != 0).then(|| {
                        Bytes::from_static(PATTERNS[usize::from(flags >> 4) % PATTERNS.len()])
                    }),
                    up_to_seq: (flags & 2 != 0).then(|| seq(input.byte())),
                    keep: (flags & 4 != 0).then(|| u64::from(input.byte() % 5)),
                };
                let a = file.purge(&purge);
                let b = mem.purge(&purge);
                if pristine {
                    assert_eq!(a.ok(), b.ok());
                }
            }
            5 => {
                let s = seq(input.byte());
                let a = file.compact(s);
                let b = mem.compact(s);
                if pristine {
                    assert_eq!(a.ok(), b.ok());
                }
            }
            6 => {
                let now = clock - i64::from(input.byte());
                let a = file.expire(now);
                let b = mem.expire(now);
                if pristine {
                    assert_eq!(a.ok(), b.ok());
                }
            }
            7 => {
                limits = Limits {
                    max_msgs: u64::from(input.byte() % 12),
                    max_bytes: 0,
                    max_age: u64::from(input.byte()) * 5,
                    max_msgs_per_subject: u64::from(input.byte() % 4),
                };
                let _ = file.set_limits(limits);
                let _ = mem.set_limits(limits);
            }
            8 => {
                let _ = file.sync();
                let before = file.state();
                drop(file);
                file = open(&dir.0, block_size, limits);
                if pristine {
                    assert_eq!(file.state(), before, "state after reopen");
                }
            }
            9 => {
                let _ = file.sync();
                drop(file);
                scribble(&dir.0, &mut input);
                file = open(&dir.0, block_size, limits);
                pristine = false;
            }
            _ => query(&file, &mut input),
        }
        if pristine {
            assert_eq!(counts(&file.state()), counts(&mem.state()));
        }
    }
    query(&file, &mut input);
    query(&mem, &mut input);
});
