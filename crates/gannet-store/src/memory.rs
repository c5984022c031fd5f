//! [`MemStore`]: a stream's messages held in memory. The index (see
//! `index.rs`) keeps each message's headers and payload in its slot; the
//! subject is interned once. Nothing survives the process.

use bytes::Bytes;

use crate::index::{Data, Index, Matcher};
use crate::policy::{self, NoSink};
use crate::{memory_msg_size, Filter, Limits, Purge, State, Store, StoreError, StoredMsg};

/// What the memory store keeps per message besides time and subject.
#[derive(Debug, Default, Clone)]
struct Held {
    headers: Bytes,
    payload: Bytes,
}

impl Data for Held {
    fn size(&self, subject_len: usize) -> u64 {
        memory_msg_size(subject_len, self.headers.len(), self.payload.len())
    }
}

/// A stream's messages in memory.
pub struct MemStore {
    index: Index<Held>,
    limits: Limits,
}

impl MemStore {
    pub fn new(limits: Limits) -> MemStore {
        MemStore {
            index: Index::default(),
            limits,
        }
    }

    fn msg(&self, seq: u64) -> Option<StoredMsg> {
        let slot = self.index.live(seq)?;
        Some(StoredMsg {
            seq,
            ts: slot.ts(),
            subject: self.index.subjects().name(slot.subject()),
            headers: slot.data.headers.clone(),
            payload: slot.data.payload.clone(),
        })
    }
}

impl Store for MemStore {
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
        let mut both = Vec::with_capacity(headers.len() + payload.len());
        both.extend_from_slice(headers);
        both.extend_from_slice(payload);
        let both = Bytes::from(both);
        let held = Held {
            headers: both.slice(..headers.len()),
            payload: both.slice(headers.len()..),
        };
        self.index.push_at(seq, subject, ts, held)?;
        let id = self.index.live(seq).map(|s| s.subject());
        policy::enforce(&mut self.index, &self.limits, id, &mut NoSink)?;
        Ok(seq)
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    fn get(&self, seq: u64) -> Result<Option<StoredMsg>, StoreError> {
        Ok(self.msg(seq))
    }

    fn next_match(&self, from: u64, filter: &Filter) -> Result<Option<StoredMsg>, StoreError> {
        let mut m = Matcher::new(&filter.0, self.index.subjects());
        Ok(self
            .index
            .next_match(from, &mut m)
            .and_then(|seq| self.msg(seq)))
    }

    fn last_match(
        &self,
        filter: &[u8],
        up_to: Option<u64>,
    ) -> Result<Option<StoredMsg>, StoreError> {
        let mut m = Matcher::one(filter, self.index.subjects());
        Ok(self
            .index
            .last_match(up_to.unwrap_or(u64::MAX), &mut m)
            .and_then(|seq| self.msg(seq)))
    }

    fn num_pending(&self, from: u64, filter: &Filter) -> u64 {
        let mut m = Matcher::new(&filter.0, self.index.subjects());
        self.index.num_pending(from, &mut m)
    }

    fn delete(&mut self, seq: u64) -> Result<bool, StoreError> {
        policy::delete(&mut self.index, seq, &mut NoSink)
    }

    fn purge(&mut self, purge: &Purge) -> Result<u64, StoreError> {
        policy::purge(&mut self.index, purge, &mut NoSink)
    }

    fn compact(&mut self, seq: u64) -> Result<u64, StoreError> {
        policy::compact(&mut self.index, seq, &mut NoSink)
    }

    fn expire(&mut self, now: i64) -> Result<u64, StoreError> {
        policy::expire(&mut self.index, self.limits.max_age, now, &mut NoSink)
    }

    fn set_limits(&mut self, limits: Limits) -> Result<(), StoreError> {
        self.limits = limits;
        policy::enforce(&mut self.index, &self.limits, None, &mut NoSink)?;
        Ok(())
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

    fn destroy(self: Box<Self>) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> MemStore {
        MemStore::new(Limits::default())
    }

    fn add(s: &mut MemStore, subject: &str, ts: i64) -> u64 {
        s.append(subject.as_bytes(), b"", b"data", ts).unwrap()
    }

    fn filled(subjects: &[&str]) -> MemStore {
        let mut s = store();
        for (i, subj) in subjects.iter().enumerate() {
            add(&mut s, subj, (i as i64 + 1) * 100);
        }
        s
    }

    fn seqs(s: &MemStore) -> Vec<u64> {
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(m) = s.next_match(from, &Filter::all()).unwrap() {
            out.push(m.seq);
            from = m.seq + 1;
        }
        out
    }

    #[test]
    fn empty_store() {
        let s = store();
        let st = s.state();
        assert_eq!(
            st,
            State {
                first_seq: 1,
                ..State::default()
            }
        );
        assert_eq!(s.get(1).unwrap(), None);
        assert_eq!(s.next_match(0, &Filter::all()).unwrap(), None);
        assert_eq!(s.last_match(b">", None).unwrap(), None);
        assert_eq!(s.num_pending(0, &Filter::all()), 0);
        assert_eq!(s.seq_for_time(0), 1);
        assert!(s.deleted(10).is_empty());
        assert!(s.subjects(b">").is_empty());
    }

    #[test]
    fn append_at_leaves_a_gap_of_deleted_sequences() {
        let mut s = filled(&["a"]);
        assert_eq!(s.append_at(5, b"b", b"", b"x", 9).unwrap(), 5);
        let st = s.state();
        assert_eq!(
            (st.first_seq, st.last_seq, st.msgs, st.num_deleted),
            (1, 5, 2, 3)
        );
        assert_eq!(s.deleted(10), vec![2, 3, 4]);
        assert!(
            s.append_at(5, b"b", b"", b"x", 9).is_err(),
            "not past the last"
        );
        assert_eq!(add(&mut s, "c", 10), 6);
    }

    #[test]
    fn append_get_and_sizes() {
        let mut s = store();
        assert_eq!(s.append(b"a.b", b"NATS/1.0\r\n\r\n", b"hi", 7).unwrap(), 1);
        let m = s.get(1).unwrap().unwrap();
        assert_eq!(m.subject, Bytes::from_static(b"a.b"));
        assert_eq!(m.headers, Bytes::from_static(b"NATS/1.0\r\n\r\n"));
        assert_eq!(m.payload, Bytes::from_static(b"hi"));
        assert_eq!(m.ts, 7);
        let st = s.state();
        assert_eq!(st.bytes, memory_msg_size(3, 12, 2));
        assert_eq!((st.first_ts, st.last_ts, st.num_subjects), (7, 7, 1));
    }

    #[test]
    fn delete_first_last_middle_updates_subjects() {
        let mut s = filled(&["a", "b", "a", "b", "a"]);
        assert!(s.delete(1).unwrap());
        assert!(!s.delete(1).unwrap());
        assert_eq!(s.subject_state(b"a"), Some((2, 3, 5)));
        assert!(s.delete(5).unwrap());
        assert_eq!(s.subject_state(b"a"), Some((1, 3, 3)));
        assert!(s.delete(3).unwrap());
        assert_eq!(s.subject_state(b"a"), None);
        let st = s.state();
        assert_eq!(
            (st.first_seq, st.last_seq, st.msgs, st.num_deleted),
            (2, 5, 2, 2)
        );
        assert_eq!(s.deleted(10), vec![3, 5]);
        assert_eq!(s.deleted(1), vec![3]);
        assert_eq!(st.num_subjects, 1);
        assert_eq!(
            st.last_ts, 500,
            "the last time stays after its message goes"
        );
    }

    #[test]
    fn compact_past_last() {
        let mut s = filled(&["a", "b"]);
        assert_eq!(s.compact(10).unwrap(), 2);
        let st = s.state();
        assert_eq!((st.first_seq, st.last_seq, st.msgs), (10, 9, 0));
        assert_eq!(add(&mut s, "c", 1), 10);
        assert_eq!(s.state().first_seq, 10);
        assert_eq!(s.compact(5).unwrap(), 0, "first never goes back");
        assert_eq!(s.state().first_seq, 10);
    }

    #[test]
    fn compact_within() {
        let mut s = filled(&["a", "b", "c", "d"]);
        s.delete(3).unwrap();
        assert_eq!(s.compact(3).unwrap(), 2);
        assert_eq!(s.state().first_seq, 4);
        assert_eq!(seqs(&s), vec![4]);
    }

    #[test]
    fn purge_everything_then_append() {
        let mut s = filled(&["a", "b", "c"]);
        assert_eq!(s.purge(&Purge::default()).unwrap(), 3);
        let st = s.state();
        assert_eq!((st.first_seq, st.last_seq, st.msgs, st.bytes), (4, 3, 0, 0));
        assert_eq!(add(&mut s, "d", 1), 4);
        assert_eq!(s.state().first_seq, 4);
    }

    #[test]
    fn purge_by_subject_with_keep() {
        let mut s = filled(&["a", "b", "a", "a", "b", "a"]);
        let p = Purge {
            filter: Some(Bytes::from_static(b"a")),
            keep: Some(1),
            ..Purge::default()
        };
        assert_eq!(s.purge(&p).unwrap(), 3);
        assert_eq!(seqs(&s), vec![2, 5, 6]);
        assert_eq!(s.subject_state(b"a"), Some((1, 6, 6)));
        assert_eq!(s.purge(&p).unwrap(), 0);
    }

    #[test]
    fn purge_keep_without_filter() {
        let mut s = filled(&["a", "b", "c", "d"]);
        let p = Purge {
            keep: Some(2),
            ..Purge::default()
        };
        assert_eq!(s.purge(&p).unwrap(), 2);
        assert_eq!(seqs(&s), vec![3, 4]);
        assert_eq!(s.state().first_seq, 3);
    }

    #[test]
    fn purge_filter_up_to_and_precedence() {
        let mut s = filled(&["a.1", "b", "a.2", "a.1", "b"]);
        let p = Purge {
            filter: Some(Bytes::from_static(b"a.*")),
            up_to_seq: Some(4),
            keep: Some(100),
        };
        assert_eq!(s.purge(&p).unwrap(), 2, "up_to wins over keep");
        assert_eq!(seqs(&s), vec![2, 4, 5]);
        let p = Purge {
            up_to_seq: Some(5),
            ..Purge::default()
        };
        assert_eq!(s.purge(&p).unwrap(), 2);
        assert_eq!(s.state().first_seq, 5);
        let p = Purge {
            filter: Some(Bytes::from_static(b">")),
            ..Purge::default()
        };
        assert_eq!(s.purge(&p).unwrap(), 1);
        assert_eq!(s.state().first_seq, 6);
    }

    #[test]
    fn per_subject_limit() {
        let mut s = MemStore::new(Limits {
            max_msgs_per_subject: 2,
            ..Limits::default()
        });
        for subj in ["a", "b", "a", "a", "b", "a"] {
            add(&mut s, subj, 1);
        }
        assert_eq!(seqs(&s), vec![2, 4, 5, 6]);
        assert_eq!(s.subject_state(b"a"), Some((2, 4, 6)));
        s.set_limits(Limits {
            max_msgs_per_subject: 1,
            ..Limits::default()
        })
        .unwrap();
        assert_eq!(seqs(&s), vec![5, 6]);
    }

    #[test]
    fn max_msgs_and_max_bytes() {
        let mut s = MemStore::new(Limits {
            max_msgs: 3,
            ..Limits::default()
        });
        for i in 0..5 {
            add(&mut s, "a", i);
        }
        assert_eq!(seqs(&s), vec![3, 4, 5]);
        let one = memory_msg_size(1, 0, 4);
        s.set_limits(Limits {
            max_bytes: 2 * one,
            ..Limits::default()
        })
        .unwrap();
        assert_eq!(seqs(&s), vec![4, 5]);
        s.set_limits(Limits {
            max_bytes: one - 1,
            ..Limits::default()
        })
        .unwrap();
        assert_eq!(s.state().msgs, 0);
        add(&mut s, "a", 9);
        assert_eq!(s.state().msgs, 0, "a message over max_bytes goes at once");
        assert_eq!(s.state().first_seq, 7);
    }

    #[test]
    fn expire_stops_at_the_first_young_message() {
        let mut s = MemStore::new(Limits {
            max_age: 50,
            ..Limits::default()
        });
        for ts in [100, 200, 120, 300] {
            add(&mut s, "a", ts);
        }
        assert_eq!(s.expire(149).unwrap(), 0);
        assert_eq!(s.expire(150).unwrap(), 1);
        assert_eq!(
            s.expire(260).unwrap(),
            2,
            "the older one behind a young one waits"
        );
        assert_eq!(seqs(&s), vec![4]);
        assert_eq!(s.expire(i64::MAX).unwrap(), 1);
        assert_eq!(s.state().first_seq, 5);
    }

    #[test]
    fn seq_for_time_and_matches() {
        let mut s = filled(&["a", "b", "a", "c"]);
        assert_eq!(s.seq_for_time(0), 1);
        assert_eq!(s.seq_for_time(250), 3);
        assert_eq!(s.seq_for_time(401), 5);
        s.delete(3).unwrap();
        assert_eq!(s.seq_for_time(250), 4);
        assert_eq!(s.last_match(b"a", None).unwrap().unwrap().seq, 1);
        assert_eq!(s.last_match(b"*", Some(2)).unwrap().unwrap().seq, 2);
        assert_eq!(s.last_match(b"", None).unwrap().unwrap().seq, 4);
        let f = Filter(vec![Bytes::from_static(b"b"), Bytes::from_static(b"c")]);
        assert_eq!(s.next_match(0, &f).unwrap().unwrap().seq, 2);
        assert_eq!(s.num_pending(3, &f), 1);
        assert_eq!(s.num_pending(0, &Filter::one("a")), 1);
        assert_eq!(
            s.subjects(b">"),
            vec![
                (Bytes::from_static(b"a"), 1),
                (Bytes::from_static(b"b"), 1),
                (Bytes::from_static(b"c"), 1)
            ]
        );
    }
}
