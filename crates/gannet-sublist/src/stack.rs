//! A small stack that keeps its first few elements inline, so the match walk
//! (pending branches, matched nodes) does not allocate in the common case and
//! spills to a `Vec` only for unusually branchy subjects. No nats-server
//! counterpart (Go grows its stacks and uses fixed arrays instead).

/// Up to `N` elements live inline; the rest go to `spill`.
pub(crate) struct InlineStack<E: Copy, const N: usize> {
    inline: [Option<E>; N],
    len: usize,
    spill: Vec<E>,
}

impl<E: Copy, const N: usize> InlineStack<E, N> {
    pub(crate) fn new() -> Self {
        Self {
            inline: [None; N],
            len: 0,
            spill: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, e: E) {
        if let Some(slot) = self.inline.get_mut(self.len) {
            *slot = Some(e);
        } else {
            self.spill.push(e);
        }
        self.len += 1;
    }

    pub(crate) fn pop(&mut self) -> Option<E> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        match self.inline.get_mut(self.len) {
            Some(slot) => slot.take(),
            None => self.spill.pop(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Elements from the bottom of the stack up.
    pub(crate) fn iter(&self) -> impl Iterator<Item = E> + '_ {
        self.inline
            .iter()
            .take(self.len)
            .flatten()
            .copied()
            .chain(self.spill.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_pop_is_lifo_across_the_spill_boundary() {
        let mut s: InlineStack<u32, 2> = InlineStack::new();
        assert!(s.is_empty());
        for i in 0..5 {
            s.push(i);
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        for i in (0..5).rev() {
            assert_eq!(s.pop(), Some(i));
        }
        assert_eq!(s.pop(), None);
        s.push(7);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![7]);
    }
}
