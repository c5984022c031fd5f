//! The in-memory index both stores share: one slot per sequence, holding the
//! message's time, the id of its interned subject and what the store needs to
//! reach it (the message itself in memory, its place in a block on disk).
//!
//! Slots live in chunks of 1024 consecutive sequences. A chunk whose messages
//! are all gone is freed, so a long run of deleted sequences costs one empty
//! entry per 1024 sequences, and a chunk grows only as far as its last
//! sequence. The index keeps the counters of [`State`], the first sequence
//! held, and the subjects (see `subjects.rs`); it answers every read-only
//! question of the `Store` trait from memory.

use std::collections::VecDeque;

use bytes::Bytes;
use gannet_proto::subject::{is_literal, pattern_matches};

use crate::subjects::{Subjects, NO_SUBJECT};
use crate::{State, StoreError};

const CHUNK_BITS: u32 = 10;
const CHUNK: u64 = 1 << CHUNK_BITS;
const MASK: u64 = CHUNK - 1;

/// The highest sequence a message may get (so `last + 1` never overflows).
pub(crate) const MAX_SEQ: u64 = u64::MAX - 1;

/// What a store keeps per message besides its time and subject.
pub(crate) trait Data: Default {
    /// The bytes the message counts for in `State::bytes`, given the length
    /// of its subject.
    fn size(&self, subject_len: usize) -> u64;
}

/// One sequence: a message, or nothing (deleted, subject [`NO_SUBJECT`]).
/// The time is split in two halves so that a slot of 4-byte fields stays
/// 4-aligned (20 bytes for a file store's slot).
#[derive(Debug, Clone)]
pub(crate) struct Slot<D> {
    ts_lo: u32,
    ts_hi: u32,
    subject: u32,
    pub data: D,
}

impl<D: Default> Default for Slot<D> {
    fn default() -> Self {
        Slot {
            ts_lo: 0,
            ts_hi: 0,
            subject: NO_SUBJECT,
            data: D::default(),
        }
    }
}

impl<D> Slot<D> {
    fn new(ts: i64, subject: u32, data: D) -> Self {
        let ts = ts as u64;
        Slot {
            ts_lo: ts as u32,
            ts_hi: (ts >> 32) as u32,
            subject,
            data,
        }
    }

    pub fn ts(&self) -> i64 {
        ((u64::from(self.ts_hi) << 32) | u64::from(self.ts_lo)) as i64
    }

    pub fn subject(&self) -> u32 {
        self.subject
    }

    pub fn is_live(&self) -> bool {
        self.subject != NO_SUBJECT
    }
}

struct Chunk<D> {
    live: u32,
    slots: Vec<Slot<D>>,
}

/// Every sequence from the first held to the last assigned.
pub(crate) struct Index<D> {
    /// Chunk `base + i` covers sequences `(base + i) * CHUNK ..`.
    chunks: VecDeque<Option<Chunk<D>>>,
    base: u64,
    /// The first sequence held, or `last + 1` when none is.
    first: u64,
    last: u64,
    last_ts: i64,
    msgs: u64,
    bytes: u64,
    subjects: Subjects,
}

impl<D: Data> Default for Index<D> {
    fn default() -> Self {
        Index {
            chunks: VecDeque::new(),
            base: 0,
            first: 1,
            last: 0,
            last_ts: 0,
            msgs: 0,
            bytes: 0,
            subjects: Subjects::default(),
        }
    }
}

impl<D: Data> Index<D> {
    pub fn state(&self) -> State {
        State {
            msgs: self.msgs,
            bytes: self.bytes,
            first_seq: self.first,
            first_ts: self.live(self.first).map_or(0, Slot::ts),
            last_seq: self.last,
            last_ts: self.last_ts,
            num_deleted: (self.last + 1)
                .saturating_sub(self.first)
                .saturating_sub(self.msgs),
            num_subjects: self.subjects.len() as u64,
        }
    }

    pub fn first(&self) -> u64 {
        self.first
    }

    pub fn last(&self) -> u64 {
        self.last
    }

    pub fn last_ts(&self) -> i64 {
        self.last_ts
    }

    pub fn msgs(&self) -> u64 {
        self.msgs
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn subjects(&self) -> &Subjects {
        &self.subjects
    }

    fn chunk(&self, c: u64) -> Option<&Chunk<D>> {
        let pos = usize::try_from(c.checked_sub(self.base)?).ok()?;
        self.chunks.get(pos)?.as_ref()
    }

    fn end_chunk(&self) -> u64 {
        self.base + self.chunks.len() as u64
    }

    /// The message at `seq`, if held.
    pub fn live(&self, seq: u64) -> Option<&Slot<D>> {
        self.chunk(seq >> CHUNK_BITS)?
            .slots
            .get((seq & MASK) as usize)
            .filter(|s| s.is_live())
    }

    /// The message at `seq`, if held, to change what the store keeps of it.
    pub fn live_mut(&mut self, seq: u64) -> Option<&mut Slot<D>> {
        let pos = usize::try_from((seq >> CHUNK_BITS).checked_sub(self.base)?).ok()?;
        self.chunks
            .get_mut(pos)?
            .as_mut()?
            .slots
            .get_mut((seq & MASK) as usize)
            .filter(|s| s.is_live())
    }

    /// Adds the next message (at `last + 1`); its sequence.
    #[cfg(test)]
    pub fn push(&mut self, subject: &[u8], ts: i64, data: D) -> Result<u64, StoreError> {
        let seq = self.last + 1;
        self.push_at(seq, subject, ts, data)?;
        Ok(seq)
    }

    /// Adds a message at `seq`, past the last sequence; those between are
    /// missing. Recovery uses it with gaps; the caller bounds them.
    pub fn push_at(
        &mut self,
        seq: u64,
        subject: &[u8],
        ts: i64,
        data: D,
    ) -> Result<(), StoreError> {
        if seq <= self.last || seq > MAX_SEQ {
            return Err(StoreError::TooLarge);
        }
        let size = data.size(subject.len());
        let id = self
            .subjects
            .add(subject, seq)
            .ok_or(StoreError::TooLarge)?;
        self.place(seq, id, ts, data, size);
        Ok(())
    }

    /// An index without messages yet whose subjects are already as they
    /// will be once [`Index::restore_at`] has given it every message (a
    /// snapshot's restore).
    pub fn restoring(subjects: Subjects) -> Index<D> {
        Index {
            subjects,
            ..Index::default()
        }
    }

    /// Adds a message at `seq`, past the last sequence, on subject `id` (of
    /// `subject_len` bytes) without counting it there: see
    /// [`Index::restoring`]. The caller checks the subjects' counts and
    /// bounds against the messages given.
    pub fn restore_at(
        &mut self,
        seq: u64,
        id: u32,
        subject_len: usize,
        ts: i64,
        data: D,
    ) -> Result<(), StoreError> {
        if seq <= self.last || seq > MAX_SEQ || id == NO_SUBJECT {
            return Err(StoreError::TooLarge);
        }
        let size = data.size(subject_len);
        self.place(seq, id, ts, data, size);
        Ok(())
    }

    /// Puts a message of subject `id` (already counted there) at `seq`,
    /// past the last sequence.
    fn place(&mut self, seq: u64, id: u32, ts: i64, data: D, size: u64) {
        let c = seq >> CHUNK_BITS;
        if self.msgs == 0 {
            self.chunks.clear();
            self.base = c;
            self.first = seq;
        }
        while self.end_chunk() <= c {
            self.chunks.push_back(None);
        }
        let i = (seq & MASK) as usize;
        let pos = (c - self.base) as usize;
        if let Some(entry) = self.chunks.get_mut(pos) {
            let chunk = entry.get_or_insert_with(|| Chunk {
                live: 0,
                slots: Vec::new(),
            });
            if chunk.slots.len() <= i {
                chunk.slots.resize_with(i + 1, Slot::default);
            }
            if let Some(slot) = chunk.slots.get_mut(i) {
                *slot = Slot::new(ts, id, data);
                chunk.live += 1;
            }
        }
        self.msgs += 1;
        self.bytes += size;
        self.last = seq;
        self.last_ts = ts;
    }

    /// Removes the message at `seq`; what it held, if it was held.
    pub fn remove(&mut self, seq: u64) -> Option<Slot<D>> {
        let pos = usize::try_from((seq >> CHUNK_BITS).checked_sub(self.base)?).ok()?;
        let entry = self.chunks.get_mut(pos)?;
        let chunk = entry.as_mut()?;
        let slot = chunk.slots.get_mut((seq & MASK) as usize)?;
        if !slot.is_live() {
            return None;
        }
        let old = std::mem::take(slot);
        chunk.live -= 1;
        if chunk.live == 0 {
            *entry = None;
        }
        let subject_len = self
            .subjects
            .info(old.subject)
            .map_or(0, |i| i.subject.len());
        self.bytes = self.bytes.saturating_sub(old.data.size(subject_len));
        self.msgs -= 1;
        self.subjects.remove(old.subject, seq);
        if self.msgs == 0 {
            self.reset_empty();
        } else {
            if seq == self.first {
                self.first = self
                    .live_from(seq + 1)
                    .next()
                    .map_or(self.last + 1, |(s, _)| s);
            }
            while matches!(self.chunks.front(), Some(None)) {
                self.chunks.pop_front();
                self.base += 1;
            }
        }
        Some(old)
    }

    fn reset_empty(&mut self) {
        self.chunks.clear();
        self.first = self.last + 1;
        self.base = self.first >> CHUNK_BITS;
    }

    /// Removes every message below `seq`, calling `removed` for each, and
    /// when `seq` is past the last sequence makes it the next one. How many
    /// went.
    pub fn remove_below<E>(
        &mut self,
        seq: u64,
        mut removed: impl FnMut(u64, &Slot<D>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut n = 0;
        while self.msgs > 0 && self.first < seq {
            let s = self.first;
            let Some(slot) = self.remove(s) else { break };
            n += 1;
            removed(s, &slot)?;
        }
        if seq > self.last + 1 {
            self.last = seq - 1;
            self.reset_empty();
        }
        Ok(n)
    }

    /// Moves the last sequence up to `seq` (with `ts` as the last time)
    /// without a message: recovery learns of sequences whose messages are
    /// gone. Lower sequences are ignored.
    pub fn observe_last(&mut self, seq: u64, ts: i64) {
        let seq = seq.min(MAX_SEQ);
        if seq < self.last {
            return;
        }
        self.last = seq;
        self.last_ts = ts;
        if self.msgs == 0 {
            self.reset_empty();
        }
    }

    /// The messages held at or after `from`, oldest first.
    pub fn live_from(&self, from: u64) -> Live<'_, D> {
        Live {
            index: self,
            next: from.max(self.first),
        }
    }

    /// The messages held at or below `up_to`, newest first.
    pub fn live_back(&self, up_to: u64) -> LiveBack<'_, D> {
        LiveBack {
            index: self,
            next: (self.msgs > 0).then(|| up_to.min(self.last)),
        }
    }

    /// How many messages are held at or after `from`.
    pub fn count_from(&self, from: u64) -> u64 {
        if from <= self.first {
            return self.msgs;
        }
        let c0 = from >> CHUNK_BITS;
        let mut n = 0;
        for (pos, chunk) in self.chunks.iter().enumerate() {
            let c = self.base + pos as u64;
            let Some(chunk) = chunk.as_ref().filter(|_| c >= c0) else {
                continue;
            };
            if c > c0 {
                n += u64::from(chunk.live);
            } else {
                let start = (from & MASK) as usize;
                n += chunk
                    .slots
                    .iter()
                    .skip(start)
                    .filter(|s| s.is_live())
                    .count() as u64;
            }
        }
        n
    }

    /// The exact first sequence held on subject `id`.
    pub fn subject_first(&self, id: u32) -> Option<u64> {
        let info = self.subjects.info(id)?;
        let lo = info.first.get();
        if self.live(lo).is_some_and(|s| s.subject == id) {
            return Some(lo);
        }
        let (seq, _) = self.live_from(lo).find(|(_, s)| s.subject == id)?;
        info.first.set(seq);
        Some(seq)
    }

    /// The exact last sequence held on subject `id`.
    pub fn subject_last(&self, id: u32) -> Option<u64> {
        let info = self.subjects.info(id)?;
        let hi = info.last.get();
        if self.live(hi).is_some_and(|s| s.subject == id) {
            return Some(hi);
        }
        let (seq, _) = self.live_back(hi).find(|(_, s)| s.subject == id)?;
        info.last.set(seq);
        Some(seq)
    }

    /// The first message at or after `from` matching `m`. Literal filters
    /// scan only between their subjects' first and last messages.
    pub fn next_match(&self, from: u64, m: &mut Matcher) -> Option<u64> {
        let (from, hi) = match m {
            Matcher::Nothing => return None,
            Matcher::Ids(ids) => {
                let lo = ids.iter().filter_map(|&id| self.subject_first(id)).min()?;
                let hi = ids.iter().filter_map(|&id| self.subject_last(id)).max()?;
                (from.max(lo), hi)
            }
            _ => (from, self.last),
        };
        let subjects = &self.subjects;
        self.live_from(from)
            .take_while(|&(seq, _)| seq <= hi)
            .find(|(_, s)| m.matches(s.subject, subjects))
            .map(|(seq, _)| seq)
    }

    /// The last message at or below `up_to` matching `m`.
    pub fn last_match(&self, up_to: u64, m: &mut Matcher) -> Option<u64> {
        let (lo, up_to) = match m {
            Matcher::Nothing => return None,
            Matcher::Ids(ids) => {
                let lo = ids.iter().filter_map(|&id| self.subject_first(id)).min()?;
                let hi = ids.iter().filter_map(|&id| self.subject_last(id)).max()?;
                (lo, up_to.min(hi))
            }
            _ => (self.first, up_to),
        };
        let subjects = &self.subjects;
        self.live_back(up_to)
            .take_while(|&(seq, _)| seq >= lo)
            .find(|(_, s)| m.matches(s.subject, subjects))
            .map(|(seq, _)| seq)
    }

    /// How many messages at or after `from` match `m`: from the subject
    /// counts when no matching subject has messages on both sides of `from`,
    /// else by scanning the index.
    pub fn num_pending(&self, from: u64, m: &mut Matcher) -> u64 {
        match m {
            Matcher::All => return self.count_from(from),
            Matcher::Nothing => return 0,
            _ => {}
        }
        let mut total = 0;
        let mut straddles = false;
        for (id, info) in self.subjects.iter() {
            if !m.matches(id, &self.subjects) {
                continue;
            }
            if from <= self.first || self.subject_first(id).is_some_and(|f| f >= from) {
                total += info.count;
            } else if self.subject_last(id).is_some_and(|l| l >= from) {
                straddles = true;
                break;
            }
        }
        if !straddles {
            return total;
        }
        let subjects = &self.subjects;
        self.live_from(from)
            .filter(|(_, s)| m.matches(s.subject, subjects))
            .count() as u64
    }

    /// Each subject held matching `filter` (empty: all), with its count,
    /// sorted by subject.
    pub fn subject_counts(&self, filter: &[u8]) -> Vec<(Bytes, u64)> {
        let mut m = Matcher::one(filter, &self.subjects);
        let mut out: Vec<(Bytes, u64)> = self
            .subjects
            .iter()
            .filter(|&(id, _)| m.matches(id, &self.subjects))
            .map(|(_, info)| (info.subject.clone(), info.count))
            .collect();
        out.sort();
        out
    }

    /// (count, first, last) of one subject.
    pub fn subject_state(&self, subject: &[u8]) -> Option<(u64, u64, u64)> {
        let id = self.subjects.id(subject)?;
        let count = self.subjects.info(id)?.count;
        Some((count, self.subject_first(id)?, self.subject_last(id)?))
    }

    /// The first message stored at or after `ts`, or `last + 1`. Times grow
    /// with sequences (appends give them so), so whole chunks whose newest
    /// message is older are skipped.
    pub fn seq_for_time(&self, ts: i64) -> u64 {
        for (pos, chunk) in self.chunks.iter().enumerate() {
            let Some(chunk) = chunk else { continue };
            let newest = chunk.slots.iter().rev().find(|s| s.is_live());
            if newest.is_none_or(|s| s.ts() < ts) {
                continue;
            }
            if let Some(i) = chunk.slots.iter().position(|s| s.is_live() && s.ts() >= ts) {
                return ((self.base + pos as u64) << CHUNK_BITS) + i as u64;
            }
        }
        self.last + 1
    }

    /// The sequences between first and last not held, at most `limit`.
    pub fn deleted(&self, limit: usize) -> Vec<u64> {
        let mut out = Vec::new();
        let mut seq = self.first;
        while seq <= self.last && out.len() < limit {
            if self.live(seq).is_none() {
                out.push(seq);
            }
            seq += 1;
        }
        out
    }
}

/// See [`Index::live_from`].
pub(crate) struct Live<'a, D> {
    index: &'a Index<D>,
    next: u64,
}

impl<'a, D: Data> Iterator for Live<'a, D> {
    type Item = (u64, &'a Slot<D>);

    fn next(&mut self) -> Option<Self::Item> {
        let index = self.index;
        while self.next <= index.last {
            let seq = self.next;
            let c = seq >> CHUNK_BITS;
            let slot = index
                .chunk(c)
                .and_then(|chunk| chunk.slots.get((seq & MASK) as usize));
            match slot {
                Some(slot) => {
                    self.next = seq + 1;
                    if slot.is_live() {
                        return Some((seq, slot));
                    }
                }
                None if c + 1 >= index.end_chunk() => break,
                None => match (c + 1).checked_mul(CHUNK) {
                    Some(next) => self.next = next,
                    None => break,
                },
            }
        }
        self.next = index.last + 1;
        None
    }
}

/// See [`Index::live_back`].
pub(crate) struct LiveBack<'a, D> {
    index: &'a Index<D>,
    next: Option<u64>,
}

impl<'a, D: Data> Iterator for LiveBack<'a, D> {
    type Item = (u64, &'a Slot<D>);

    fn next(&mut self) -> Option<Self::Item> {
        let index = self.index;
        while let Some(seq) = self.next.filter(|&s| s >= index.first) {
            let c = seq >> CHUNK_BITS;
            let chunk = index.chunk(c);
            match chunk.and_then(|chunk| chunk.slots.get((seq & MASK) as usize)) {
                Some(slot) => {
                    self.next = seq.checked_sub(1);
                    if slot.is_live() {
                        return Some((seq, slot));
                    }
                }
                None => {
                    let top = chunk.map_or(0, |chunk| chunk.slots.len() as u64);
                    self.next = if top > 0 {
                        Some((c << CHUNK_BITS) + top - 1)
                    } else {
                        (c << CHUNK_BITS).checked_sub(1)
                    };
                    if c < index.base {
                        self.next = None;
                    }
                }
            }
        }
        self.next = None;
        None
    }
}

/// Which subject ids a filter matches, decided once per id per call.
pub(crate) enum Matcher {
    All,
    Nothing,
    /// Literal filters: the ids of the subjects they name.
    Ids(Vec<u32>),
    /// 0: not decided yet, 1: matches, 2: does not.
    Patterns {
        patterns: Vec<Bytes>,
        seen: Vec<u8>,
    },
}

impl Matcher {
    /// A consumer's filter set (see `Filter`): empty or `>` matches all.
    pub fn new(filters: &[Bytes], subjects: &Subjects) -> Matcher {
        if filters.is_empty() || filters.iter().any(|f| f.as_ref() == b">") {
            return Matcher::All;
        }
        if filters.iter().all(|f| is_literal(f)) {
            let mut ids: Vec<u32> = filters.iter().filter_map(|f| subjects.id(f)).collect();
            ids.sort_unstable();
            ids.dedup();
            return if ids.is_empty() {
                Matcher::Nothing
            } else {
                Matcher::Ids(ids)
            };
        }
        Matcher::Patterns {
            patterns: filters.to_vec(),
            seen: vec![0; subjects.id_bound()],
        }
    }

    /// One subject or pattern; empty matches all.
    pub fn one(filter: &[u8], subjects: &Subjects) -> Matcher {
        if filter.is_empty() {
            return Matcher::All;
        }
        Matcher::new(&[Bytes::copy_from_slice(filter)], subjects)
    }

    pub fn matches(&mut self, id: u32, subjects: &Subjects) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Nothing => false,
            Matcher::Ids(ids) => ids.contains(&id),
            Matcher::Patterns { patterns, seen } => {
                let decide = || {
                    subjects.info(id).is_some_and(|info| {
                        patterns.iter().any(|p| pattern_matches(p, &info.subject))
                    })
                };
                match seen.get_mut(id as usize) {
                    Some(s) => {
                        if *s == 0 {
                            *s = if decide() { 1 } else { 2 };
                        }
                        *s == 1
                    }
                    None => decide(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message of a fixed size.
    #[derive(Debug, Default, Clone, PartialEq)]
    struct Unit(u64);

    impl Data for Unit {
        fn size(&self, subject_len: usize) -> u64 {
            self.0 + subject_len as u64
        }
    }

    fn index_of(subjects: &[&str]) -> Index<Unit> {
        let mut ix = Index::default();
        for (i, s) in subjects.iter().enumerate() {
            ix.push(s.as_bytes(), i as i64 * 10, Unit(1)).unwrap();
        }
        ix
    }

    fn all(ix: &Index<Unit>) -> Vec<u64> {
        ix.live_from(0).map(|(s, _)| s).collect()
    }

    #[test]
    fn empty_index() {
        let ix = Index::<Unit>::default();
        let st = ix.state();
        assert_eq!(
            (st.first_seq, st.last_seq, st.msgs, st.num_deleted),
            (1, 0, 0, 0)
        );
        assert_eq!(ix.live_from(0).count(), 0);
        assert_eq!(ix.live_back(u64::MAX).count(), 0);
        assert_eq!(ix.seq_for_time(0), 1);
        assert!(ix.deleted(10).is_empty());
        assert_eq!(ix.count_from(0), 0);
    }

    #[test]
    fn push_and_remove_keep_counters() {
        let mut ix = index_of(&["a", "b", "a", "c"]);
        assert_eq!(ix.state().bytes, 8);
        assert!(ix.remove(1).is_some());
        assert!(ix.remove(1).is_none());
        let st = ix.state();
        assert_eq!(
            (st.first_seq, st.msgs, st.bytes, st.first_ts),
            (2, 3, 6, 10)
        );
        assert!(ix.remove(3).is_some());
        assert_eq!(ix.state().num_deleted, 1);
        assert_eq!(ix.deleted(10), vec![3]);
        assert_eq!(all(&ix), vec![2, 4]);
        assert_eq!(
            ix.live_back(10).map(|(s, _)| s).collect::<Vec<_>>(),
            vec![4, 2]
        );
    }

    #[test]
    fn removing_everything_moves_first_past_last() {
        let mut ix = index_of(&["a", "b"]);
        ix.remove(2);
        ix.remove(1);
        let st = ix.state();
        assert_eq!(
            (st.first_seq, st.last_seq, st.msgs, st.num_subjects),
            (3, 2, 0, 0)
        );
        assert_eq!(ix.push(b"x", 99, Unit(1)).unwrap(), 3);
        assert_eq!(ix.state().first_seq, 3);
    }

    #[test]
    fn spans_many_chunks_and_frees_empty_ones() {
        let mut ix = Index::<Unit>::default();
        for i in 0..5000 {
            ix.push(if i % 2 == 0 { b"even" } else { b"odd" }, i, Unit(0))
                .unwrap();
        }
        for seq in 1..=4000 {
            if seq != 2500 {
                ix.remove(seq);
            }
        }
        assert_eq!(ix.state().first_seq, 2500);
        assert_eq!(ix.state().msgs, 1001);
        assert_eq!(ix.count_from(2501), 1000);
        assert_eq!(ix.count_from(4500), 501);
        assert_eq!(all(&ix).len(), 1001);
        assert_eq!(ix.live_back(4000).next().map(|(s, _)| s), Some(2500));
        assert!(
            ix.chunks.len() <= 4,
            "freed chunks are dropped from the front"
        );
        ix.remove(2500);
        assert_eq!(ix.state().first_seq, 4001);
    }

    #[test]
    fn remove_below_past_last_moves_both_ends() {
        let mut ix = index_of(&["a", "b", "c"]);
        let mut gone = Vec::new();
        let n = ix
            .remove_below(10, |s, _| {
                gone.push(s);
                Ok::<(), ()>(())
            })
            .unwrap();
        assert_eq!((n, gone), (3, vec![1, 2, 3]));
        let st = ix.state();
        assert_eq!((st.first_seq, st.last_seq, st.msgs), (10, 9, 0));
        assert_eq!(ix.push(b"a", 1, Unit(1)).unwrap(), 10);
    }

    #[test]
    fn subject_bounds_are_found_again_after_deletes() {
        let mut ix = index_of(&["a", "b", "a", "b", "a"]);
        let a = ix.subjects().id(b"a").unwrap();
        ix.remove(1);
        assert_eq!(ix.subject_first(a), Some(3));
        ix.remove(5);
        assert_eq!(ix.subject_last(a), Some(3));
        assert_eq!(ix.subject_state(b"a"), Some((1, 3, 3)));
        assert_eq!(ix.subject_state(b"b"), Some((2, 2, 4)));
        ix.remove(3);
        assert_eq!(ix.subject_state(b"a"), None);
    }

    #[test]
    fn matching_and_pending() {
        let ix = index_of(&["a.1", "b.1", "a.2", "a.1", "c"]);
        let f = |v: &[&str]| {
            v.iter()
                .map(|s| Bytes::copy_from_slice(s.as_bytes()))
                .collect::<Vec<_>>()
        };
        let subjects = ix.subjects();
        let mut m = Matcher::new(&f(&["a.*"]), subjects);
        assert_eq!(ix.next_match(2, &mut m), Some(3));
        assert_eq!(ix.num_pending(2, &mut m), 2);
        assert_eq!(ix.num_pending(0, &mut m), 3);
        assert_eq!(ix.last_match(3, &mut m), Some(3));
        let mut m = Matcher::new(&f(&["a.1", "c"]), subjects);
        assert_eq!(ix.next_match(2, &mut m), Some(4));
        assert_eq!(ix.num_pending(2, &mut m), 2);
        assert_eq!(ix.last_match(u64::MAX, &mut m), Some(5));
        let mut m = Matcher::new(&f(&["zz"]), subjects);
        assert_eq!(ix.next_match(0, &mut m), None);
        let mut m = Matcher::new(&[], subjects);
        assert_eq!(ix.num_pending(3, &mut m), 3);
        assert_eq!(
            ix.subject_counts(b"a.>"),
            vec![
                (Bytes::from_static(b"a.1"), 2),
                (Bytes::from_static(b"a.2"), 1)
            ]
        );
    }

    #[test]
    fn time_lookup() {
        let ix = index_of(&["a", "b", "c"]);
        assert_eq!(ix.seq_for_time(-5), 1);
        assert_eq!(ix.seq_for_time(10), 2);
        assert_eq!(ix.seq_for_time(11), 3);
        assert_eq!(ix.seq_for_time(21), 4);
    }

    #[test]
    fn observe_last_and_gaps() {
        let mut ix = Index::<Unit>::default();
        ix.observe_last(5, 7);
        assert_eq!((ix.first(), ix.last(), ix.last_ts()), (6, 5, 7));
        ix.push_at(9, b"a", 8, Unit(0)).unwrap();
        assert_eq!(ix.first(), 9);
        ix.push_at(9000, b"a", 9, Unit(0)).unwrap();
        assert_eq!(ix.state().num_deleted, 9000 - 9 - 1);
        assert_eq!(all(&ix), vec![9, 9000]);
        assert!(ix.push_at(9000, b"a", 9, Unit(0)).is_err());
        assert!(ix.push_at(u64::MAX, b"a", 9, Unit(0)).is_err());
    }
}
