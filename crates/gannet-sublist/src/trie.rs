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

/// Where a pattern ends: its subscriptions, and the level below it.
pub(crate) struct Node<T> {
    pub(crate) plain: Set<T>,
    pub(crate) queues: ByName<Set<T>>,
    next: Option<Box<Level<T>>>,
}

impl<T> Default for Node<T> {
    fn default() -> Self {
        Self {
            plain: Set::default(),
            queues: ByName::default(),
            next: None,
        }
    }
}

impl<T> Node<T> {
    fn has_subs(&self) -> bool {
        !self.plain.is_empty() || !self.queues.is_empty()
    }
}

impl<T: Eq + Hash> Node<T> {
    /// Adds `item`: how many entries the (pattern, queue) has now, or `None`
    /// if it was already there.
    fn add(&mut self, queue: Option<&[u8]>, item: T) -> Option<usize> {
        let set = match queue {
            None => &mut self.plain,
            Some(q) => entry_or_default(&mut self.queues, q),
        };
        set.insert(item).then_some(set.len())
    }

    fn contains(&self, queue: Option<&[u8]>, item: &T) -> bool {
        match queue {
            None => self.plain.contains(item),
            Some(q) => self.queues.get(q).is_some_and(|s| s.contains(item)),
        }
    }

    /// Would the node hold nothing once `item` (known present) is gone?
    fn empty_without_one(&self, queue: Option<&[u8]>) -> bool {
        self.next.is_none()
            && match queue {
                None => self.plain.len() == 1 && self.queues.is_empty(),
                Some(q) => {
                    self.plain.is_empty()
                        && self.queues.len() == 1
                        && self.queues.get(q).is_some_and(|s| s.len() == 1)
                }
            }
    }

    /// Removes `item`, dropping its queue group if that leaves it empty: how
    /// many entries the (pattern, queue) has left, or `None` if it was not there.
    fn take(&mut self, queue: Option<&[u8]>, item: &T) -> Option<usize> {
        match queue {
            None => self.plain.remove(item).then_some(self.plain.len()),
            Some(q) => {
                let set = self.queues.get_mut(q)?;
                let removed = set.remove(item);
                let left = set.len();
                if left == 0 {
                    self.queues.remove(q);
                }
                removed.then_some(left)
            }
        }
    }
}

/// One token position: literal tokens, `*` and `>`.
struct Level<T> {
    literals: ByName<Node<T>>,
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
            literal => self.literals.get(literal),
        }
    }

    fn child_mut(&mut self, token: &[u8]) -> Option<&mut Node<T>> {
        match token {
            STAR => self.star.as_deref_mut(),
            FULL => self.full.as_deref_mut(),
            literal => self.literals.get_mut(literal),
        }
    }

    fn child_or_insert(&mut self, token: &[u8]) -> &mut Node<T> {
        match token {
            STAR => self.star.get_or_insert_with(Box::default),
            FULL => self.full.get_or_insert_with(Box::default),
            literal => entry_or_default(&mut self.literals, literal),
        }
    }

    /// Detaches the child for `token`, returning it for [`dismantle`].
    fn remove_child(&mut self, token: &[u8]) -> Option<Node<T>> {
        match token {
            STAR => self.star.take().map(|b| *b),
            FULL => self.full.take().map(|b| *b),
            literal => self.literals.remove(literal),
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
            .map(|(_, node)| node)
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
                    Some(q) => node.queues.get(q).map_or(0, |set| set.len()),
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
                .map(|(token, node)| (&token[..], node))
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
                for (queue, members) in &node.queues {
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
