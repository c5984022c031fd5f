//! The subject index (skeleton; mirrors nats-server's `sublist.go`).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(unreachable_pub)]

use std::hash::Hash;
use std::sync::Arc;

/// Why an insert or remove was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SublistError {
    #[error("invalid subject")]
    InvalidSubject,
    #[error("subscription not found")]
    NotFound,
}

/// The subscribers of one subject: every plain subscription, and per queue group
/// its members (one of which gets each message).
#[derive(Debug)]
pub struct MatchResult<T> {
    pub plain: Vec<T>,
    pub queues: Vec<QueueGroup<T>>,
}

/// The members of one queue group that match a subject.
#[derive(Debug)]
pub struct QueueGroup<T> {
    pub name: Box<[u8]>,
    pub members: Vec<T>,
}

/// A thread-safe subject index.
pub struct Sublist<T> {
    _t: std::marker::PhantomData<T>,
}

impl<T: Clone + Eq + Hash + Send + Sync> Sublist<T> {
    pub fn new(cache: bool) -> Self {
        let _ = cache;
        todo!()
    }
    pub fn insert(&self, subject: &[u8], queue: Option<&[u8]>, item: T) -> Result<(), SublistError> {
        let _ = (subject, queue, item);
        todo!()
    }
    pub fn remove(&self, subject: &[u8], queue: Option<&[u8]>, item: &T) -> Result<(), SublistError> {
        let _ = (subject, queue, item);
        todo!()
    }
    pub fn matches(&self, subject: &[u8]) -> Arc<MatchResult<T>> {
        let _ = subject;
        todo!()
    }
    pub fn generation(&self) -> u64 {
        todo!()
    }
    pub fn count(&self) -> usize {
        todo!()
    }
}
