//! What a match returns: [`MatchResult`] (plain subscribers plus queue groups)
//! and the code that builds one from the matched trie nodes, merging queue
//! groups of the same name that come from different patterns.
//!
//! Mirrors `SublistResult` in nats-server's `sublist.go`. Results are shared
//! behind an `Arc` (by the match cache and by callers) and never mutated.

use std::hash::Hash;

use crate::trie::Matched;

/// The subscribers of one subject: every plain subscription, and per queue group
/// its members (one of which gets each message).
///
/// There is one entry per matching stored subscription: an item stored under
/// two patterns that both match appears twice. Order is unspecified. Each
/// queue group name appears once, holding the members from every matching
/// pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchResult<T> {
    pub plain: Vec<T>,
    pub queues: Vec<QueueGroup<T>>,
}

/// The members of one queue group that match a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueGroup<T> {
    pub name: Box<[u8]>,
    pub members: Vec<T>,
}

impl<T> MatchResult<T> {
    /// True when nobody is interested in the subject.
    pub fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.queues.is_empty()
    }
}

impl<T> Default for MatchResult<T> {
    fn default() -> Self {
        Self {
            plain: Vec::new(),
            queues: Vec::new(),
        }
    }
}

/// Builds the result for the matched `nodes`. Every vector is allocated once,
/// at its final size (the queue list at an upper bound when groups merge).
pub(crate) fn build<T: Clone + Eq + Hash>(nodes: &Matched<'_, T>) -> MatchResult<T> {
    let plain_len = nodes.iter().map(|n| n.plain.len()).sum();
    let mut plain = Vec::with_capacity(plain_len);
    for node in nodes.iter() {
        plain.extend(node.plain.iter().cloned());
    }

    let groups_bound = nodes.iter().map(|n| n.queue_count()).sum();
    let mut queues = Vec::with_capacity(groups_bound);
    if groups_bound > 0 {
        for (i, node) in nodes.iter().enumerate() {
            for (name, members) in node.queue_groups() {
                let name: &[u8] = name;
                // The first node holding a group name gathers it from all
                // later nodes, so later nodes skip names seen before them.
                if nodes.iter().take(i).any(|n| n.queue(name).is_some()) {
                    continue;
                }
                let later = || nodes.iter().skip(i + 1).filter_map(move |n| n.queue(name));
                let total = members.len() + later().map(|s| s.len()).sum::<usize>();
                let mut all = Vec::with_capacity(total);
                all.extend(members.iter().cloned());
                for set in later() {
                    all.extend(set.iter().cloned());
                }
                queues.push(QueueGroup {
                    name: name.into(),
                    members: all,
                });
            }
        }
    }
    MatchResult { plain, queues }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trie::Trie;

    fn matched(trie: &Trie<u32>, subject: &str) -> MatchResult<u32> {
        let mut nodes = Matched::new();
        trie.collect(subject.as_bytes(), &mut nodes);
        build(&nodes)
    }

    #[test]
    fn queue_groups_of_one_name_merge_across_patterns() {
        let mut trie = Trie::default();
        trie.insert(b"a.b", Some(b"q"), 1);
        trie.insert(b"a.*", Some(b"q"), 2);
        trie.insert(b">", Some(b"q"), 3);
        trie.insert(b"a.>", Some(b"r"), 4);
        trie.insert(b"a.b", None, 5);
        let r = matched(&trie, "a.b");
        assert_eq!(r.plain, vec![5]);
        assert_eq!(r.queues.len(), 2);
        let mut q = r
            .queues
            .iter()
            .find(|g| &*g.name == b"q")
            .map(|g| g.members.clone())
            .unwrap_or_default();
        q.sort_unstable();
        assert_eq!(q, vec![1, 2, 3]);
        let r_group = r.queues.iter().find(|g| &*g.name == b"r");
        assert_eq!(r_group.map(|g| g.members.clone()), Some(vec![4]));
    }

    #[test]
    fn result_vectors_are_allocated_at_their_final_size() {
        let mut trie = Trie::default();
        for i in 0..100 {
            trie.insert(b"a.b", None, i);
            trie.insert(b"a.*", None, 1000 + i);
            trie.insert(b"a.b", Some(b"q"), 2000 + i);
        }
        let r = matched(&trie, "a.b");
        assert_eq!(r.plain.len(), 200);
        assert_eq!(r.plain.capacity(), 200);
        assert_eq!(r.queues.capacity(), 1);
        assert_eq!(r.queues[0].members.capacity(), 100);
    }

    #[test]
    fn empty_result_reports_empty() {
        assert!(MatchResult::<u32>::default().is_empty());
        let r = MatchResult {
            plain: vec![1u32],
            queues: vec![],
        };
        assert!(!r.is_empty());
    }
}
