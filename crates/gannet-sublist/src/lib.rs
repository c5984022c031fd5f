//! The subject index: which subscriptions are interested in a published
//! subject. Mirrors nats-server's `sublist.go`.
//!
//! A [`Sublist`] stores subscriptions (any `T`, typically a client and sid)
//! under patterns whose tokens may be `*` (one token) or `>` (one or more
//! trailing tokens), optionally in queue groups, and answers
//! [`Sublist::matches`] for literal subjects with a shared [`MatchResult`].
//!
//! Modules:
//! - `subject`: token splitting, validation, single-pattern matching;
//! - `trie`: the levels and nodes holding subscriptions;
//! - `result`: [`MatchResult`] and building it from matched nodes;
//! - `cache`: the bounded subject → result cache;
//! - `hasher`: the keyed hash of every map above;
//! - `sublist`: [`Sublist`], the locking and generation counter.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(unreachable_pub)]

mod cache;
mod hasher;
mod result;
mod stack;
mod subject;
mod sublist;
mod trie;

pub use cache::{CACHE_EVICT_BATCH, CACHE_MAX};
pub use result::{MatchResult, QueueGroup};
pub use subject::pattern_matches;
pub use sublist::{Sublist, SublistError, SublistStats};

/// One stored pattern's interest: its plain subscriptions (`queue` = `None`)
/// or one queue group on it, and how many entries that is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interest {
    pub pattern: Vec<u8>,
    pub queue: Option<Box<[u8]>>,
    pub count: usize,
}
