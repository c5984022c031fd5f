//! The removals both stores share: deleting one message, purging, compacting,
//! expiring by age and applying the limits, decided on the index. A store
//! learns of each removal through a [`Sink`]: the memory store ignores it, the
//! file store writes its tombstones and markers and counts what each block
//! still holds.

use crate::index::{Data, Index, Matcher, Slot};
use crate::{Limits, Purge, StoreError};

/// Where a store hears of removals, in the order they happen.
pub(crate) trait Sink<D> {
    /// The message at `seq` left the index (for any reason).
    fn removed(&mut self, _seq: u64, _slot: &Slot<D>) -> Result<(), StoreError> {
        Ok(())
    }

    /// The message at `seq` was deleted on its own; `last_seq` and `last_ts`
    /// are the store's after it.
    fn deleted(&mut self, _seq: u64, _last_seq: u64, _last_ts: i64) -> Result<(), StoreError> {
        Ok(())
    }

    /// Every message below `first` is gone; `empty` when nothing is held.
    fn first_moved(
        &mut self,
        _first: u64,
        _last_seq: u64,
        _last_ts: i64,
        _empty: bool,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A sink that needs to hear nothing.
pub(crate) struct NoSink;

impl<D> Sink<D> for NoSink {}

/// Deletes one message; whether it was held.
pub(crate) fn delete<D: Data>(
    ix: &mut Index<D>,
    seq: u64,
    sink: &mut impl Sink<D>,
) -> Result<bool, StoreError> {
    let Some(slot) = ix.remove(seq) else {
        return Ok(false);
    };
    sink.removed(seq, &slot)?;
    sink.deleted(seq, ix.last(), ix.last_ts())?;
    Ok(true)
}

fn first_moved<D: Data>(ix: &Index<D>, sink: &mut impl Sink<D>) -> Result<(), StoreError> {
    sink.first_moved(ix.first(), ix.last(), ix.last_ts(), ix.msgs() == 0)
}

/// Removes every message below `seq` and makes `seq` the first sequence,
/// also past the last one. A `seq` at or below the first does nothing.
pub(crate) fn compact<D: Data>(
    ix: &mut Index<D>,
    seq: u64,
    sink: &mut impl Sink<D>,
) -> Result<u64, StoreError> {
    if seq <= ix.first() {
        return Ok(0);
    }
    let n = ix.remove_below(seq, |s, slot| sink.removed(s, slot))?;
    first_moved(ix, sink)?;
    Ok(n)
}

/// Removes the oldest messages while `more` says so.
fn remove_oldest_while<D: Data>(
    ix: &mut Index<D>,
    sink: &mut impl Sink<D>,
    mut more: impl FnMut(&Index<D>) -> bool,
) -> Result<u64, StoreError> {
    let mut n = 0;
    while ix.msgs() > 0 && more(ix) {
        let seq = ix.first();
        let Some(slot) = ix.remove(seq) else { break };
        n += 1;
        sink.removed(seq, &slot)?;
    }
    if n > 0 {
        first_moved(ix, sink)?;
    }
    Ok(n)
}

/// See [`crate::Store::purge`]: `up_to_seq` wins over `keep`; a filter of
/// `>` is no filter; `keep` of 0 keeps nothing.
pub(crate) fn purge<D: Data>(
    ix: &mut Index<D>,
    purge: &Purge,
    sink: &mut impl Sink<D>,
) -> Result<u64, StoreError> {
    let filter = purge
        .filter
        .as_ref()
        .filter(|f| !f.is_empty() && f.as_ref() != b">");
    let keep = purge.keep.filter(|&k| k > 0);
    match (filter, purge.up_to_seq, keep) {
        (None, Some(seq), _) => compact(ix, seq, sink),
        (None, None, Some(keep)) => remove_oldest_while(ix, sink, |ix| ix.msgs() > keep),
        (None, None, None) => compact(ix, ix.last() + 1, sink),
        (Some(filter), up_to, keep) => {
            let mut m = Matcher::one(filter, ix.subjects());
            let budget = match (up_to, keep) {
                (None, Some(keep)) => ix.num_pending(0, &mut m).saturating_sub(keep),
                _ => u64::MAX,
            };
            remove_matching(ix, &mut m, up_to.unwrap_or(u64::MAX), budget, sink)
        }
    }
}

/// Deletes the oldest messages matching `m` below `below`, at most `budget`.
fn remove_matching<D: Data>(
    ix: &mut Index<D>,
    m: &mut Matcher,
    below: u64,
    budget: u64,
    sink: &mut impl Sink<D>,
) -> Result<u64, StoreError> {
    let mut n = 0;
    let mut from = 0;
    while n < budget {
        let Some(seq) = ix.next_match(from, m).filter(|&s| s < below) else {
            break;
        };
        delete(ix, seq, sink)?;
        n += 1;
        from = seq + 1;
    }
    Ok(n)
}

/// Removes the oldest messages stored `max_age` or longer before `now`,
/// stopping at the first younger one.
pub(crate) fn expire<D: Data>(
    ix: &mut Index<D>,
    max_age: u64,
    now: i64,
    sink: &mut impl Sink<D>,
) -> Result<u64, StoreError> {
    if max_age == 0 {
        return Ok(0);
    }
    let old = |ix: &Index<D>| {
        ix.live(ix.first())
            .is_some_and(|s| i128::from(s.ts()) + i128::from(max_age) <= i128::from(now))
    };
    remove_oldest_while(ix, sink, old)
}

/// Applies the count limits (not the age): messages per subject (only for
/// subject `only` when given, after an append to it), then messages, then
/// bytes, each removing the oldest. How many went.
pub(crate) fn enforce<D: Data>(
    ix: &mut Index<D>,
    limits: &Limits,
    only: Option<u32>,
    sink: &mut impl Sink<D>,
) -> Result<u64, StoreError> {
    let mut n = 0;
    let per_subject = limits.max_msgs_per_subject;
    if per_subject > 0 {
        let over = |ix: &Index<D>, id: u32| {
            ix.subjects()
                .info(id)
                .is_some_and(|i| i.count > per_subject)
        };
        let ids: Vec<u32> = match only {
            Some(id) => vec![id],
            None => ix
                .subjects()
                .iter()
                .map(|(id, _)| id)
                .filter(|&id| over(ix, id))
                .collect(),
        };
        for id in ids {
            while over(ix, id) {
                let Some(seq) = ix.subject_first(id) else {
                    break;
                };
                if !delete(ix, seq, sink)? {
                    break;
                }
                n += 1;
            }
        }
    }
    if limits.max_msgs > 0 {
        n += remove_oldest_while(ix, sink, |ix| ix.msgs() > limits.max_msgs)?;
    }
    if limits.max_bytes > 0 {
        n += remove_oldest_while(ix, sink, |ix| ix.bytes() > limits.max_bytes)?;
    }
    Ok(n)
}
