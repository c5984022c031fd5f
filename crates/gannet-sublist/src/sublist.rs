//! [`Sublist`]: the thread-safe subject index shared by all client tasks. It
//! owns the locking, the optional match cache and the generation counter,
//! and delegates the data structure to [`crate::trie`].
//!
//! Mirrors the `Sublist` type of nats-server's `sublist.go` (`Insert`,
//! `Remove`, `Match`, `genid`, `Count`).
//!
//! Locks: the trie is behind an `RwLock` (matches share it, changes take it
//! exclusively); the cache has its own `RwLock`. They are never held together
//! except in `matches` on a miss, trie first then cache, never the reverse
//! (changes release the trie before invalidating the cache). No lock is held
//! while calling back into caller code other than `T`'s `Clone`/`Hash`/`Eq`.

use std::fmt;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::cache::{MatchCache, CACHE_EVICT_BATCH, CACHE_MAX};
use crate::result::{build, MatchResult};
use crate::subject::{is_valid_literal, is_valid_pattern};
use crate::trie::{Matched, Trie};

/// Why an insert or remove was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SublistError {
    /// The pattern is empty, has an empty token, or has `>` before its last
    /// token; or the queue name is empty.
    #[error("invalid subject")]
    InvalidSubject,
    /// No such (pattern, queue, item) is stored.
    #[error("subscription not found")]
    NotFound,
}

/// A thread-safe subject index: subscriptions (`T`, e.g. a client and sid)
/// stored under patterns with `*`/`>` wildcards, optionally in queue groups,
/// and looked up by literal subject.
///
/// Entries are sets: one (pattern, queue, item) is stored at most once, by
/// `T`'s `Eq`/`Hash`. The same item may be stored under several patterns or
/// queues; each is a separate entry.
///
/// # Generation
///
/// [`generation`](Self::generation) is a counter that grows by at least one
/// after every insert or remove that changed the index (not after a duplicate
/// insert or a failed remove). A caller keeping its own small cache of match
/// results loads the generation *before* calling [`matches`](Self::matches),
/// stores the pair, and drops the stored result once `generation()` returns a
/// different value. That is safe: when a change is counted in the value
/// loaded, the change is already visible to `matches`; a change that is not
/// yet counted bumps the counter later, making the stored result stale.
/// What [`Sublist::stats`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SublistStats {
    pub inserts: u64,
    pub removes: u64,
    /// Lookups the index answered (a client's own cache answers most repeats).
    pub matches: u64,
    /// Share of those answered from the match cache.
    pub cache_hit_rate: f64,
}

pub struct Sublist<T> {
    trie: RwLock<Trie<T>>,
    cache: Option<MatchCache<T>>,
    generation: AtomicU64,
    count: AtomicUsize,
    /// Counters for monitoring: inserts, removes, matches asked, cache hits.
    inserts: AtomicU64,
    removes: AtomicU64,
    lookups: AtomicU64,
    hits: AtomicU64,
    /// Shared result for subjects nobody listens to, so those misses do not
    /// allocate.
    empty: Arc<MatchResult<T>>,
}

impl<T: Clone + Eq + Hash + Send + Sync> Sublist<T> {
    /// An empty index; `cache` turns on the match cache ([`CACHE_MAX`]
    /// subjects).
    pub fn new(cache: bool) -> Self {
        Self::with_cache(cache.then(|| MatchCache::new(CACHE_MAX, CACHE_EVICT_BATCH)))
    }

    fn with_cache(cache: Option<MatchCache<T>>) -> Self {
        Self {
            trie: RwLock::new(Trie::default()),
            cache,
            generation: AtomicU64::new(0),
            count: AtomicUsize::new(0),
            inserts: AtomicU64::new(0),
            removes: AtomicU64::new(0),
            lookups: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            empty: Arc::new(MatchResult::default()),
        }
    }

    /// Stores `item` under `subject` (a pattern, may hold `*`/`>`), in queue
    /// group `queue` if given. Storing an entry that is already present
    /// changes nothing and succeeds.
    pub fn insert(
        &self,
        subject: &[u8],
        queue: Option<&[u8]>,
        item: T,
    ) -> Result<(), SublistError> {
        self.insert_counted(subject, queue, item).map(|_| ())
    }

    /// [`insert`](Self::insert), telling how many entries share exactly this
    /// `subject` and `queue` now (1 = the first interest in it), or `None`
    /// when the entry was already stored.
    pub fn insert_counted(
        &self,
        subject: &[u8],
        queue: Option<&[u8]>,
        item: T,
    ) -> Result<Option<usize>, SublistError> {
        validate(subject, queue)?;
        let added = self
            .trie
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(subject, queue, item);
        if added.is_some() {
            self.count.fetch_add(1, Ordering::Relaxed);
            self.inserts.fetch_add(1, Ordering::Relaxed);
            self.changed(subject);
        }
        Ok(added)
    }

    /// Every stored pattern with its number of plain subscriptions, and each
    /// queue group on it with its number of members (what a new route is
    /// told of an account's interest).
    pub fn interest(&self) -> Vec<crate::Interest> {
        self.trie
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .interest()
    }

    /// How many entries are stored under exactly `subject` and `queue` (not
    /// the ones that match it: `a.*` does not count for `a.b`).
    pub fn count_exact(&self, subject: &[u8], queue: Option<&[u8]>) -> usize {
        self.trie
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .count_exact(subject, queue)
    }

    /// Removes `item` stored under exactly `subject` and `queue`; nodes left
    /// empty are freed. `NotFound` if there is no such entry.
    pub fn remove(
        &self,
        subject: &[u8],
        queue: Option<&[u8]>,
        item: &T,
    ) -> Result<(), SublistError> {
        self.remove_counted(subject, queue, item).map(|_| ())
    }

    /// [`remove`](Self::remove), telling how many entries share exactly this
    /// `subject` and `queue` afterwards (0 = the last interest in it is gone).
    pub fn remove_counted(
        &self,
        subject: &[u8],
        queue: Option<&[u8]>,
        item: &T,
    ) -> Result<usize, SublistError> {
        validate(subject, queue)?;
        let left = self
            .trie
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(subject, queue, item)
            .ok_or(SublistError::NotFound)?;
        self.count.fetch_sub(1, Ordering::Relaxed);
        self.removes.fetch_add(1, Ordering::Relaxed);
        self.changed(subject);
        Ok(left)
    }

    /// Everyone interested in the literal `subject`. A subject with an empty
    /// token (or an empty subject) matches nothing; `*`/`>` tokens in it are
    /// taken literally.
    ///
    /// A cache hit costs a hash lookup and an `Arc` clone; a miss walks the
    /// trie and allocates the result once (no-match results are shared).
    pub fn matches(&self, subject: &[u8]) -> Arc<MatchResult<T>> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        if let Some(cache) = &self.cache {
            if let Some(hit) = cache.get(subject) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return hit;
            }
        }
        if !is_valid_literal(subject) {
            return Arc::clone(&self.empty);
        }
        let (result, computed_at) = self.walk(subject);
        if let Some(cache) = &self.cache {
            cache.store(subject, &result, computed_at, &self.generation);
        }
        result
    }

    /// The subscribers of `subject`, neither looked up in the cache nor kept
    /// there: for subjects used once (a JetStream acknowledgement names its
    /// message), which would only push useful entries out of it.
    pub fn matches_uncached(&self, subject: &[u8]) -> Arc<MatchResult<T>> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        self.walk(subject).0
    }

    /// Walks the trie for `subject`; the result and the generation it holds
    /// for.
    fn walk(&self, subject: &[u8]) -> (Arc<MatchResult<T>>, u64) {
        if !is_valid_literal(subject) {
            return (Arc::clone(&self.empty), self.generation());
        }
        let trie = self.trie.read().unwrap_or_else(PoisonError::into_inner);
        // Read under the trie lock: no change can land between this load and
        // the walk below without bumping the counter afterwards.
        let computed_at = self.generation.load(Ordering::Acquire);
        let mut nodes = Matched::new();
        trie.collect(subject, &mut nodes);
        let result = if nodes.is_empty() {
            Arc::clone(&self.empty)
        } else {
            Arc::new(build(&nodes))
        };
        (result, computed_at)
    }

    /// The change counter; see [the type docs](Self#generation).
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Number of stored entries (plain and queue).
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// Counters for monitoring (nats-server's `SublistStats`, less the fan-out
    /// figures, which need a walk of the cache).
    pub fn stats(&self) -> SublistStats {
        let lookups = self.lookups.load(Ordering::Relaxed);
        let hits = self.hits.load(Ordering::Relaxed);
        SublistStats {
            inserts: self.inserts.load(Ordering::Relaxed),
            removes: self.removes.load(Ordering::Relaxed),
            matches: lookups,
            cache_hit_rate: if lookups == 0 {
                0.0
            } else {
                hits as f64 / lookups as f64
            },
        }
    }

    /// Number of subjects in the match cache (0 when the cache is off).
    pub fn cache_len(&self) -> usize {
        self.cache.as_ref().map_or(0, MatchCache::len)
    }

    /// After a change to `pattern` (trie lock released): drop the cached
    /// results it affects and bump the generation.
    fn changed(&self, pattern: &[u8]) {
        match &self.cache {
            Some(cache) => cache.invalidate(pattern, &self.generation),
            None => {
                self.generation.fetch_add(1, Ordering::AcqRel);
            }
        }
    }
}

fn validate(subject: &[u8], queue: Option<&[u8]>) -> Result<(), SublistError> {
    if !is_valid_pattern(subject) || queue.is_some_and(<[u8]>::is_empty) {
        return Err(SublistError::InvalidSubject);
    }
    Ok(())
}

impl<T: Clone + Eq + Hash + Send + Sync> Default for Sublist<T> {
    /// An empty index with the match cache on.
    fn default() -> Self {
        Self::new(true)
    }
}

impl<T> fmt::Debug for Sublist<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sublist")
            .field("count", &self.count.load(Ordering::Relaxed))
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .field("cache", &self.cache.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
impl<T: Clone + Eq + Hash + Send + Sync> Sublist<T> {
    /// A sublist with a small cache, so tests can reach the cap.
    pub(crate) fn with_cache_limits(max: usize, evict_batch: usize) -> Self {
        Self::with_cache(Some(MatchCache::new(max, evict_batch)))
    }

    pub(crate) fn node_count(&self) -> usize {
        self.trie
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .node_count()
    }
}

#[cfg(test)]
mod tests;
