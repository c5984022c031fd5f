//! The bounded match cache: literal subject → shared [`MatchResult`].
//!
//! Mirrors the result cache of nats-server's `sublist.go` (its size cap and
//! sweep, and per-change invalidation), with the sweep done inline in batches
//! instead of on a background task.
//!
//! Correctness rests on the generation counter owned by [`crate::Sublist`]:
//! a change bumps it while holding the cache's write lock (after removing the
//! entries it affects), and a result is only stored if the counter still has
//! the value it had when the result was computed. So a result computed
//! before a change can never be stored after that change's invalidation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::hasher::KeyedHasher;
use crate::result::MatchResult;
use crate::subject::{is_literal_pattern, tokens, tokens_match};

/// Most subjects the cache holds. Enough for the hot subjects of a busy
/// account while keeping the per-change invalidation scan short.
pub const CACHE_MAX: usize = 1024;

/// Entries evicted at once when a store finds the cache full, so the trim
/// cost (a scan of the map) is paid once per this many misses. Eviction picks
/// arbitrary entries (hash order), not least-recently-used ones: tracking
/// recency would put a write on every cache hit.
pub const CACHE_EVICT_BATCH: usize = 256;

type Entries<T> = hashbrown::HashMap<Box<[u8]>, Arc<MatchResult<T>>, KeyedHasher>;

pub(crate) struct MatchCache<T> {
    entries: RwLock<Entries<T>>,
    max: usize,
    evict_batch: usize,
}

impl<T> MatchCache<T> {
    pub(crate) fn new(max: usize, evict_batch: usize) -> Self {
        Self {
            entries: RwLock::new(Entries::default()),
            max: max.max(1),
            evict_batch: evict_batch.clamp(1, max.max(1)),
        }
    }

    /// The cached result for `subject`, if any. No allocation.
    #[inline]
    pub(crate) fn get(&self, subject: &[u8]) -> Option<Arc<MatchResult<T>>> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.get(subject).cloned()
    }

    /// Stores `result` for `subject` unless the index changed (the generation
    /// moved on from `computed_at`) since the result was computed.
    pub(crate) fn store(
        &self,
        subject: &[u8],
        result: &Arc<MatchResult<T>>,
        computed_at: u64,
        generation: &AtomicU64,
    ) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if generation.load(Ordering::Acquire) != computed_at {
            return;
        }
        if entries.len() >= self.max && !entries.contains_key(subject) {
            let mut evict = self.evict_batch;
            entries.retain(|_, _| {
                if evict == 0 {
                    return true;
                }
                evict -= 1;
                false
            });
        }
        entries.insert(subject.into(), Arc::clone(result));
    }

    /// Drops every entry whose subject `pattern` matches, then bumps
    /// `generation`, both under the write lock (see the module doc).
    pub(crate) fn invalidate(&self, pattern: &[u8], generation: &AtomicU64) {
        // Split before locking: hit readers wait while the scan runs.
        let wildcard_tokens: Option<Vec<&[u8]>> =
            (!is_literal_pattern(pattern)).then(|| tokens(pattern).collect());
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        match &wildcard_tokens {
            None => {
                entries.remove(pattern);
            }
            Some(pattern) => entries.retain(|subject, _| !tokens_match(pattern, subject)),
        }
        generation.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(n: u32) -> Arc<MatchResult<u32>> {
        Arc::new(MatchResult {
            plain: vec![n],
            queues: vec![],
        })
    }

    #[test]
    fn stored_result_is_returned_by_get() {
        let cache = MatchCache::new(8, 2);
        let generation = AtomicU64::new(0);
        let r = result(1);
        cache.store(b"a.b", &r, 0, &generation);
        let got = cache.get(b"a.b");
        assert!(got.is_some_and(|g| Arc::ptr_eq(&g, &r)));
        assert!(cache.get(b"a.c").is_none());
    }

    #[test]
    fn store_is_skipped_when_generation_moved() {
        let cache = MatchCache::new(8, 2);
        let generation = AtomicU64::new(5);
        cache.store(b"a.b", &result(1), 4, &generation);
        assert!(cache.get(b"a.b").is_none());
    }

    #[test]
    fn invalidate_drops_only_entries_the_pattern_matches() {
        let cache = MatchCache::new(16, 2);
        let generation = AtomicU64::new(0);
        for s in ["a.b", "a.c", "x.b", "a.b.c"] {
            cache.store(s.as_bytes(), &result(0), 0, &generation);
        }
        cache.invalidate(b"a.*", &generation);
        assert_eq!(generation.load(Ordering::Acquire), 1);
        assert!(cache.get(b"a.b").is_none());
        assert!(cache.get(b"a.c").is_none());
        assert!(cache.get(b"x.b").is_some());
        assert!(cache.get(b"a.b.c").is_some());
        cache.invalidate(b"x.b", &generation);
        assert!(cache.get(b"x.b").is_none());
        assert!(cache.get(b"a.b.c").is_some());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn full_cache_evicts_a_batch_not_one_entry() {
        let cache = MatchCache::new(10, 4);
        let generation = AtomicU64::new(0);
        for i in 0..10 {
            cache.store(format!("s.{i}").as_bytes(), &result(i), 0, &generation);
        }
        assert_eq!(cache.len(), 10);
        // Re-storing a present subject does not trim.
        cache.store(b"s.3", &result(3), 0, &generation);
        assert_eq!(cache.len(), 10);
        cache.store(b"s.new", &result(99), 0, &generation);
        assert_eq!(cache.len(), 10 - 4 + 1);
        assert!(cache.get(b"s.new").is_some());
        // The next few stores fit without another trim.
        for i in 0..3 {
            cache.store(format!("t.{i}").as_bytes(), &result(i), 0, &generation);
        }
        assert_eq!(cache.len(), 10);
    }
}
