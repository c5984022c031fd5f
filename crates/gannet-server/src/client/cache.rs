//! A client's own cache of subject matches (nats-server's per-client `readCache`):
//! a publisher that keeps sending to the same subjects finds their subscribers
//! without touching the shared index, and so without any lock. One atomic load of
//! the index generation tells when the cache is stale.
use std::sync::Arc;

use gannet_proto::subject;
use gannet_sublist::{MatchResult, Sublist};
use rustc_hash::FxHashMap;

use crate::subscription::SubRef;

/// Most subjects one client caches; past this the cache starts over.
pub const CLIENT_CACHE_MAX: usize = 128;

/// What the cache keeps per subject.
#[derive(Debug, Clone)]
pub struct Cached {
    pub result: Arc<MatchResult<SubRef>>,
    /// The subject has a `*` or `>` token (a pedantic client gets an error for it).
    pub wildcard: bool,
}

#[derive(Debug, Default)]
pub struct MatchCache {
    generation: u64,
    entries: FxHashMap<Box<[u8]>, Cached>,
}

impl MatchCache {
    /// The subscribers of a published `subject`, or `None` when the subject is not
    /// valid (empty tokens). A subject with wildcard tokens is valid here: it is
    /// routed as literal text, as in the reference.
    #[inline]
    pub fn lookup(&mut self, sublist: &Sublist<SubRef>, subject: &[u8]) -> Option<&Cached> {
        let generation = sublist.generation();
        if generation != self.generation {
            self.entries.clear();
            self.generation = generation;
        }
        if !self.entries.contains_key(subject) {
            if !subject::is_valid_subscribe_subject(subject) {
                return None;
            }
            if self.entries.len() >= CLIENT_CACHE_MAX {
                self.entries.clear();
            }
            let cached = Cached {
                result: sublist.matches(subject),
                wildcard: !subject::is_literal(subject),
            };
            self.entries.insert(subject.into(), cached);
        }
        // Present: it was there or has just been inserted.
        self.entries.get(subject)
    }
}
