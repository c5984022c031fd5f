//! The subscription trie: one [`Level`] per token position, each mapping a
//! literal token to a [`Node`] plus one node for `*` and one for `>`. A node
//! holds the plain subscriptions and, grouped by queue name, the queue
//! subscriptions whose pattern ends there, and the next level.
//!
//! Mirrors the `level`/`node` part of nats-server's `sublist.go`. The trie is
//! not synchronised; [`crate::Sublist`] wraps it in a lock. Patterns passed in
//! are already validated. Every walk is iterative, so a subject with thousands
//! of tokens cannot exhaust the stack.
//!
//! Subscriptions at a node are hash sets, so removing one is O(1) however many
//! share the subject; removal prunes nodes that are left empty, so memory
//! follows the live subscriptions, not the churn.

use std::hash::Hash;

use hashbrown::hash_map::EntryRef;

use crate::hasher::KeyedHasher;
use crate::stack::InlineStack;
use crate::subject::{split_first, tokens, FULL, STAR};

/// A set of subscriptions. A keyed hash keeps client-chosen subjects from
/// being used to force hash collisions.
pub(crate) type Set<T> = hashbrown::HashSet<T, KeyedHasher>;
/// Keyed by a token or a queue name.
pub(crate) type ByName<V> = hashbrown::HashMap<Box<[u8]>, V, KeyedHasher>;

/// Pending branches kept inline during a match walk; a walk needs one slot
/// per `*` branch still to visit, so 16 covers all but pathological indexes.
const WALK_INLINE: usize = 16;
/// Matched nodes kept inline before spilling to the heap. One node per
/// distinct matching pattern shape (`a.b`, `a.*`, `a.>`, `>`…).
pub(crate) const MATCHED_INLINE: usize = 16;

/// The nodes (with at least one subscription) whose pattern matched a subject.
pub(crate) type Matched<'a, T> = InlineStack<&'a Node<T>, MATCHED_INLINE>;

/// The value under `key`, inserted if missing; the owned key is allocated
/// only when it is.
fn entry_or_default<'m, V: Default>(map: &'m mut ByName<V>, key: &[u8]) -> &'m mut V {
    match map.entry_ref(key) {
        EntryRef::Occupied(e) => e.into_mut(),
        EntryRef::Vacant(e) => e.insert_with_key(Box::from(key), V::default()),
    }
}

/// The plain subscriptions of a node. Most nodes hold one (each client
/// subscribes its own subjects), and one needs no set.
pub(crate) enum Plain<T> {
    Empty,
    One(T),
    Many(Box<Set<T>>),
}

impl<T> Plain<T> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Plain::Empty => 0,
            Plain::One(_) => 1,
            Plain::Many(set) => set.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Plain::Empty)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        let (one, many) = match self {
            Plain::Empty => (None, None),
            Plain::One(item) => (Some(item), None),
            Plain::Many(set) => (None, Some(set.iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

impl<T: Eq + Hash> Plain<T> {
    /// Adds `item`; false if it was there already.
    fn insert(&mut self, item: T) -> bool {
        match std::mem::replace(self, Plain::Empty) {
            Plain::Empty => {
                *self = Plain::One(item);
                true
            }
            Plain::One(first) if first == item => {
                *self = Plain::One(first);
                false
            }
            Plain::One(first) => {
                let mut set = Set::default();
                set.insert(first);
                set.insert(item);
                *self = Plain::Many(Box::new(set));
                true
            }
            Plain::Many(mut set) => {
                let added = set.insert(item);
                *self = Plain::Many(set);
                added
            }
        }
    }

    fn contains(&self, item: &T) -> bool {
        match self {
            Plain::Empty => false,
            Plain::One(one) => one == item,
            Plain::Many(set) => set.contains(item),
        }
    }

    /// Removes `item`; false if it was not there. A set left with one item
    /// goes back to holding it alone.
    fn remove(&mut self, item: &T) -> bool {
        match self {
            Plain::Empty => false,
            Plain::One(one) => {
                let found = one == item;
                if found {
                    *self = Plain::Empty;
                }
                found
            }
            Plain::Many(set) => {
                let found = set.remove(item);
                if set.len() <= 1 {
                    let last = set.drain().next();
                    *self = match last {
                        Some(last) => Plain::One(last),
                        None => Plain::Empty,
                    };
                }
                found
            }
        }
    }
}

/// Where a pattern ends: its subscriptions, and the level below it. Kept
/// small, as there is one per distinct subject token: queue groups, which
/// most nodes do not have, are boxed.
pub(crate) struct Node<T> {
    pub(crate) plain: Plain<T>,
    queues: Option<Box<ByName<Set<T>>>>,
    next: Option<Box<Level<T>>>,
}

impl<T> Default for Node<T> {
    fn default() -> Self {
        Self {
            plain: Plain::Empty,
            queues: None,
            next: None,
        }
    }
}

impl<T> Node<T> {
    fn has_subs(&self) -> bool {
        !self.plain.is_empty() || self.queues.is_some()
    }

    /// The queue groups whose pattern ends here, by name.
    pub(crate) fn queue_groups(&self) -> impl Iterator<Item = (&Box<[u8]>, &Set<T>)> {
        self.queues.iter().flat_map(|groups| groups.iter())
    }

    /// The members of queue group `name` here.
    pub(crate) fn queue(&self, name: &[u8]) -> Option<&Set<T>> {
        self.queues.as_ref()?.get(name)
    }

    /// How many queue groups end here.
    pub(crate) fn queue_count(&self) -> usize {
        self.queues.as_ref().map_or(0, |groups| groups.len())
    }
}

impl<T: Eq + Hash> Node<T> {
    /// Adds `item`: how many entries the (pattern, queue) has now, or `None`
    /// if it was already there.
    fn add(&mut self, queue: Option<&[u8]>, item: T) -> Option<usize> {
        match queue {
            None => self.plain.insert(item).then_some(self.plain.len()),
            Some(q) => {
                let groups = self.queues.get_or_insert_with(Box::default);
                let set = entry_or_default(groups, q);
                set.insert(item).then_some(set.len())
            }
        }
    }

    fn contains(&self, queue: Option<&[u8]>, item: &T) -> bool {
        match queue {
            None => self.plain.contains(item),
            Some(q) => self.queue(q).is_some_and(|s| s.contains(item)),
        }
    }

    /// Would the node hold nothing once `item` (known present) is gone?
    fn empty_without_one(&self, queue: Option<&[u8]>) -> bool {
        self.next.is_none()
            && match queue {
                None => self.plain.len() == 1 && self.queues.is_none(),
                Some(q) => {
                    self.plain.is_empty()
                        && self.queue_count() == 1
                        && self.queue(q).is_some_and(|s| s.len() == 1)
                }
            }
    }

    /// Removes `item`, dropping its queue group if that leaves it empty: how
    /// many entries the (pattern, queue) has left, or `None` if it was not there.
    fn take(&mut self, queue: Option<&[u8]>, item: &T) -> Option<usize> {
        match queue {
            None => self.plain.remove(item).then_some(self.plain.len()),
            Some(q) => {
                let groups = self.queues.as_mut()?;
                let set = groups.get_mut(q)?;
                let removed = set.remove(item);
                let left = set.len();
                if left == 0 {
                    groups.remove(q);
                    if groups.is_empty() {
                        self.queues = None;
                    }
                }
                removed.then_some(left)
            }
        }
    }
}

/// One token position: literal tokens, `*` and `>`. The literal nodes are
/// boxed, so that a map's empty slots cost a pointer, not a node.
struct Level<T> {
    literals: ByName<Box<Node<T>>>,
    star: Option<Box<Node<T>>>,
    full: Option<Box<Node<T>>>,
}

impl<T> Default for Level<T> {
    fn default() -> Self {
        Self {
            literals: ByName::default(),
            star: None,
            full: None,
        }
    }
}

impl<T> Level<T> {
    fn child(&self, token: &[u8]) -> Option<&Node<T>> {
        match token {
            STAR => self.star.as_deref(),
            FULL => self.full.as_deref(),
            literal => self.literals.get(literal).map(|node| &**node),
        }
    }

    fn child_mut(&mut self, token: &[u8]) -> Option<&mut Node<T>> {
        match token {
            STAR => self.star.as_deref_mut(),
            FULL => self.full.as_deref_mut(),
            literal => self.literals.get_mut(literal).map(|node| &mut **node),
        }
    }

    fn child_or_insert(&mut self, token: &[u8]) -> &mut Node<T> {
        match token {
            STAR => self.star.get_or_insert_with(Box::default),
            FULL => self.full.get_or_insert_with(Box::default),
            literal => entry_or_default::<Box<Node<T>>>(&mut self.literals, literal),
        }
    }

    /// Detaches the child for `token`, returning it for [`dismantle`].
    fn remove_child(&mut self, token: &[u8]) -> Option<Node<T>> {
        match token {
            STAR => self.star.take().map(|b| *b),
            FULL => self.full.take().map(|b| *b),
            literal => self.literals.remove(literal).map(|node| *node),
        }
    }

    fn child_count(&self) -> usize {
        self.literals.len() + usize::from(self.star.is_some()) + usize::from(self.full.is_some())
    }

    fn is_empty(&self) -> bool {
        self.child_count() == 0
    }
}

/// Frees a detached branch level by level. Dropping a long chain of nested
/// levels the ordinary way would recurse once per token.
fn dismantle<T>(node: Option<Node<T>>) {
    let mut levels: Vec<Box<Level<T>>> = node.and_then(|mut n| n.next.take()).into_iter().collect();
    while let Some(mut level) = levels.pop() {
        let children = level
            .literals
            .drain()
            .map(|(_, node)| *node)
            .chain(level.star.take().map(|b| *b))
            .chain(level.full.take().map(|b| *b));
        for mut child in children {
            if let Some(next) = child.next.take() {
                levels.push(next);
            }
        }
    }
}

/// The whole index: the root level.
pub(crate) struct Trie<T> {
    root: Level<T>,
}

impl<T> Drop for Trie<T> {
    fn drop(&mut self) {
        let root = std::mem::take(&mut self.root);
        dismantle(Some(Node {
            next: Some(Box::new(root)),
            ..Node::default()
        }));
    }
}

impl<T> Default for Trie<T> {
    fn default() -> Self {
        Self {
            root: Level::default(),
        }
    }
}

impl<T: Eq + Hash> Trie<T> {
    /// Adds `item` under the valid `pattern`: how many entries the (pattern,
    /// queue) has now, or `None` if it was already there.
    pub(crate) fn insert(
        &mut self,
        pattern: &[u8],
        queue: Option<&[u8]>,
        item: T,
    ) -> Option<usize> {
        let mut level = &mut self.root;
        let mut toks = tokens(pattern).peekable();
        while let Some(token) = toks.next() {
            let node = level.child_or_insert(token);
            if toks.peek().is_none() {
                return node.add(queue, item);
            }
            level = node.next.get_or_insert_with(Box::default);
        }
        None
    }

    /// Removes `item` from the valid `pattern`, pruning nodes left empty: how
    /// many entries the (pattern, queue) has left, or `None` if it was not there.
    pub(crate) fn remove(
        &mut self,
        pattern: &[u8],
        queue: Option<&[u8]>,
        item: &T,
    ) -> Option<usize> {
        // Pass 1 (shared borrow): check the item is there and find the
        // shallowest node on the path that holds nothing but this one item's
        // chain; that whole branch can go in one cut.
        let mut prune_from: Option<usize> = None;
        {
            let mut level = &self.root;
            let mut toks = tokens(pattern).enumerate().peekable();
            loop {
                let (depth, token) = toks.next()?;
                let node = level.child(token)?;
                if toks.peek().is_none() {
                    if !node.contains(queue, item) {
                        return None;
                    }
                    if !node.empty_without_one(queue) {
                        prune_from = None;
                    } else if prune_from.is_none() {
                        prune_from = Some(depth);
                    }
                    break;
                }
                let next = node.next.as_deref()?;
                if node.has_subs() || next.child_count() != 1 {
                    prune_from = None;
                } else if prune_from.is_none() {
                    prune_from = Some(depth);
                }
                level = next;
            }
        }
        // Pass 2 (exclusive borrow): cut the branch, or take the item out.
        match prune_from {
            // The item was the node's only entry: none are left.
            Some(depth) => self.cut(pattern, depth).then_some(0),
            None => self.node_mut(pattern)?.take(queue, item),
        }
    }

    /// Removes the node for token `depth` of `pattern` (and all below it),
    /// and drops the level that held it if that leaves the level empty.
    fn cut(&mut self, pattern: &[u8], depth: usize) -> bool {
        let mut toks = tokens(pattern);
        let Some(parent_depth) = depth.checked_sub(1) else {
            return toks.next().is_some_and(|t| {
                dismantle(self.root.remove_child(t));
                true
            });
        };
        let mut level = &mut self.root;
        for _ in 0..parent_depth {
            let Some(node) = toks.next().and_then(|t| level.child_mut(t)) else {
                return false;
            };
            let Some(next) = node.next.as_deref_mut() else {
                return false;
            };
            level = next;
        }
        let Some(parent) = toks.next().and_then(|t| level.child_mut(t)) else {
            return false;
        };
        let (Some(token), Some(next)) = (toks.next(), parent.next.as_deref_mut()) else {
            return false;
        };
        let removed = next.remove_child(token);
        dismantle(removed);
        if next.is_empty() {
            parent.next = None;
        }
        true
    }

    /// How many entries are stored under exactly `pattern` and `queue`.
    pub(crate) fn count_exact(&self, pattern: &[u8], queue: Option<&[u8]>) -> usize {
        let mut level = &self.root;
        let mut toks = tokens(pattern).peekable();
        loop {
            let Some(node) = toks.next().and_then(|t| level.child(t)) else {
                return 0;
            };
            if toks.peek().is_none() {
                return match queue {
                    None => node.plain.len(),
                    Some(q) => node.queue(q).map_or(0, |set| set.len()),
                };
            }
            let Some(next) = node.next.as_deref() else {
                return 0;
            };
            level = next;
        }
    }

    fn node_mut(&mut self, pattern: &[u8]) -> Option<&mut Node<T>> {
        let mut level = &mut self.root;
        let mut toks = tokens(pattern).peekable();
        loop {
            let node = level.child_mut(toks.next()?)?;
            if toks.peek().is_none() {
                return Some(node);
            }
            level = node.next.as_deref_mut()?;
        }
    }
}

impl<T> Trie<T> {
    /// Appends to `out` every node with subscriptions whose pattern matches
    /// the valid literal `subject`.
    pub(crate) fn collect<'a>(&'a self, subject: &'a [u8], out: &mut Matched<'a, T>) {
        let mut work: InlineStack<(&'a Level<T>, &'a [u8]), WALK_INLINE> = InlineStack::new();
        work.push((&self.root, subject));
        while let Some((level, rest)) = work.pop() {
            let (token, tail) = split_first(rest);
            if let Some(full) = level.full.as_deref() {
                // `>` takes this token and everything after it.
                if full.has_subs() {
                    out.push(full);
                }
            }
            if let Some(star) = level.star.as_deref() {
                descend(star, tail, &mut work, out);
            }
            if !level.literals.is_empty() {
                if let Some(node) = level.literals.get(token) {
                    descend(node, tail, &mut work, out);
                }
            }
        }
    }

    /// Every pattern that has subscriptions, with how many it has plain and
    /// per queue group: `(pattern, queue, count)`, in no particular order.
    pub(crate) fn interest(&self) -> Vec<crate::Interest> {
        let mut out = Vec::new();
        let mut work: Vec<(&Level<T>, Vec<u8>)> = vec![(&self.root, Vec::new())];
        while let Some((level, prefix)) = work.pop() {
            let children = level
                .literals
                .iter()
                .map(|(token, node)| (&token[..], &**node))
                .chain(level.star.as_deref().map(|n| (STAR, n)))
                .chain(level.full.as_deref().map(|n| (FULL, n)));
            for (token, node) in children {
                let mut pattern = prefix.clone();
                if !pattern.is_empty() {
                    pattern.push(b'.');
                }
                pattern.extend_from_slice(token);
                if !node.plain.is_empty() {
                    out.push(crate::Interest {
                        pattern: pattern.clone(),
                        queue: None,
                        count: node.plain.len(),
                    });
                }
                for (queue, members) in node.queue_groups() {
                    out.push(crate::Interest {
                        pattern: pattern.clone(),
                        queue: Some(queue.clone()),
                        count: members.len(),
                    });
                }
                if let Some(next) = node.next.as_deref() {
                    work.push((next, pattern));
                }
            }
        }
        out
    }

    /// Number of nodes in the trie (tests check pruning with it).
    #[cfg(test)]
    pub(crate) fn node_count(&self) -> usize {
        let mut count = 0;
        let mut work = vec![&self.root];
        while let Some(level) = work.pop() {
            let children = level
                .literals
                .values()
                .map(|node| &**node)
                .chain(level.star.as_deref())
                .chain(level.full.as_deref());
            for node in children {
                count += 1;
                if let Some(next) = node.next.as_deref() {
                    work.push(next);
                }
            }
        }
        count
    }
}

/// The pattern token for `node` matched; record it if the subject ends here,
/// else continue with the rest of the subject one level down.
#[inline]
fn descend<'a, T>(
    node: &'a Node<T>,
    tail: Option<&'a [u8]>,
    work: &mut InlineStack<(&'a Level<T>, &'a [u8]), WALK_INLINE>,
    out: &mut Matched<'a, T>,
) {
    match tail {
        None => {
            if node.has_subs() {
                out.push(node);
            }
        }
        Some(rest) => {
            if let Some(next) = node.next.as_deref() {
                work.push((next, rest));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_holds_one_item_without_a_set_and_goes_back_to_one() {
        let mut plain = Plain::Empty;
        assert!(plain.insert(1u32));
        assert!(matches!(plain, Plain::One(1)));
        assert!(!plain.insert(1));
        assert!(plain.insert(2));
        assert!(plain.insert(3));
        assert!(matches!(plain, Plain::Many(_)));
        assert_eq!(plain.len(), 3);
        let mut items: Vec<u32> = plain.iter().copied().collect();
        items.sort_unstable();
        assert_eq!(items, [1, 2, 3]);
        assert!(plain.remove(&1));
        assert!(!plain.remove(&1));
        assert!(plain.remove(&3));
        assert!(matches!(plain, Plain::One(2)));
        assert!(plain.contains(&2) && !plain.contains(&3));
        assert!(plain.remove(&2));
        assert!(plain.is_empty());
        assert_eq!(plain.iter().count(), 0);
    }

    #[test]
    fn a_node_is_small() {
        // A pointer each for the plain subscriber, the queue groups and the
        // next level, and the plain variant's tag.
        assert!(std::mem::size_of::<Node<std::sync::Arc<u8>>>() <= 32);
    }
}
