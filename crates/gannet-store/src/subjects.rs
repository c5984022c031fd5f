//! The subjects a store holds, each interned once: a small id per distinct
//! subject, its message count and the bounds of its first and last sequence.
//!
//! The index keeps only the id per message. `first` and `last` are bounds that
//! deletions move inward without looking at the index (a deleted first message
//! makes `first` its successor, a deleted last one makes `last` its
//! predecessor); the index turns them into exact sequences when asked (see
//! `Index::subject_first`). An id is freed when its count reaches 0 and may be
//! given to another subject afterwards: no live message carries it then.

use std::cell::Cell;
use std::collections::HashMap;

use bytes::Bytes;

/// The id no subject gets: it marks a deleted slot in the index.
pub(crate) const NO_SUBJECT: u32 = u32::MAX;

/// One subject held.
#[derive(Debug)]
pub(crate) struct SubjectInfo {
    pub subject: Bytes,
    /// Messages held on this subject; 0 for a free id.
    pub count: u64,
    /// At or below the first sequence held on this subject.
    pub first: Cell<u64>,
    /// At or above the last sequence held on this subject.
    pub last: Cell<u64>,
}

/// Every subject held, by id and by name.
#[derive(Debug, Default)]
pub(crate) struct Subjects {
    ids: HashMap<Bytes, u32>,
    infos: Vec<SubjectInfo>,
    free: Vec<u32>,
}

impl Subjects {
    /// The id of `subject`, if held.
    pub fn id(&self, subject: &[u8]) -> Option<u32> {
        self.ids.get(subject).copied()
    }

    /// The subject behind `id` (a live one; a free id gives an empty entry).
    pub fn info(&self, id: u32) -> Option<&SubjectInfo> {
        self.infos.get(id as usize).filter(|i| i.count > 0)
    }

    /// The subject of `id`, or empty bytes for an unknown id.
    pub fn name(&self, id: u32) -> Bytes {
        self.info(id).map(|i| i.subject.clone()).unwrap_or_default()
    }

    /// Counts one more message on `subject` at `seq` (the newest); its id, or
    /// `None` when every id is taken.
    pub fn add(&mut self, subject: &[u8], seq: u64) -> Option<u32> {
        if let Some(&id) = self.ids.get(subject) {
            let info = self.infos.get_mut(id as usize)?;
            info.count += 1;
            info.last.set(seq);
            return Some(id);
        }
        let name = Bytes::copy_from_slice(subject);
        let info = SubjectInfo {
            subject: name.clone(),
            count: 1,
            first: Cell::new(seq),
            last: Cell::new(seq),
        };
        let id = match self.free.pop() {
            Some(id) => {
                *self.infos.get_mut(id as usize)? = info;
                id
            }
            None => {
                let id = u32::try_from(self.infos.len())
                    .ok()
                    .filter(|&id| id < NO_SUBJECT)?;
                self.infos.push(info);
                id
            }
        };
        self.ids.insert(name, id);
        Some(id)
    }

    /// The subjects a snapshot lists, with ids 0.. in its order: each with
    /// its count and exact first and last sequence. `None` when one is
    /// listed twice or without messages, or when there are too many.
    pub fn restore(listed: Vec<(Bytes, u64, u64, u64)>) -> Option<Subjects> {
        let mut ids = HashMap::with_capacity(listed.len());
        let mut infos = Vec::with_capacity(listed.len());
        for (subject, count, first, last) in listed {
            let id = u32::try_from(infos.len())
                .ok()
                .filter(|&id| id < NO_SUBJECT)?;
            if count == 0 || ids.insert(subject.clone(), id).is_some() {
                return None;
            }
            infos.push(SubjectInfo {
                subject,
                count,
                first: Cell::new(first),
                last: Cell::new(last),
            });
        }
        Some(Subjects {
            ids,
            infos,
            free: Vec::new(),
        })
    }

    /// Counts one message less on `id`, the one at `seq`.
    pub fn remove(&mut self, id: u32, seq: u64) {
        let Some(info) = self.infos.get_mut(id as usize) else {
            return;
        };
        if info.count == 0 {
            return;
        }
        info.count -= 1;
        if info.count == 0 {
            self.ids.remove(&info.subject);
            info.subject = Bytes::new();
            self.free.push(id);
            return;
        }
        if info.first.get() == seq {
            info.first.set(seq.saturating_add(1));
        }
        if info.last.get() == seq {
            info.last.set(seq.saturating_sub(1));
        }
    }

    /// How many distinct subjects are held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// One past the highest id ever given (the size of a per-id table).
    pub fn id_bound(&self) -> usize {
        self.infos.len()
    }

    /// Every subject held, with its id.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &SubjectInfo)> {
        self.infos
            .iter()
            .enumerate()
            .filter(|(_, i)| i.count > 0)
            .map(|(id, i)| (id as u32, i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once_and_counts() {
        let mut s = Subjects::default();
        let a = s.add(b"a", 1).unwrap();
        let b = s.add(b"b", 2).unwrap();
        assert_ne!(a, b);
        assert_eq!(s.add(b"a", 3), Some(a));
        let info = s.info(a).unwrap();
        assert_eq!((info.count, info.first.get(), info.last.get()), (2, 1, 3));
        assert_eq!(s.len(), 2);
        assert_eq!(s.id(b"a"), Some(a));
        assert_eq!(s.id(b"c"), None);
    }

    #[test]
    fn removal_moves_bounds_and_frees_the_id() {
        let mut s = Subjects::default();
        let a = s.add(b"a", 1).unwrap();
        s.add(b"a", 5).unwrap();
        s.add(b"a", 9).unwrap();
        s.remove(a, 1);
        assert_eq!(s.info(a).unwrap().first.get(), 2);
        s.remove(a, 9);
        assert_eq!(s.info(a).unwrap().last.get(), 8);
        s.remove(a, 5);
        assert!(s.info(a).is_none());
        assert_eq!(s.id(b"a"), None);
        assert_eq!(s.len(), 0);
        let b = s.add(b"b", 10).unwrap();
        assert_eq!(b, a, "a freed id is given again");
        assert_eq!(s.name(b), Bytes::from_static(b"b"));
    }

    #[test]
    fn restored_subjects_take_ids_in_order_and_go_on() {
        let b = |s: &'static str| Bytes::from_static(s.as_bytes());
        let mut s = Subjects::restore(vec![(b("x"), 2, 3, 9), (b("y"), 1, 5, 5)]).unwrap();
        assert_eq!((s.id(b"x"), s.id(b"y"), s.len()), (Some(0), Some(1), 2));
        let x = s.info(0).unwrap();
        assert_eq!((x.count, x.first.get(), x.last.get()), (2, 3, 9));
        assert_eq!(s.add(b"y", 10), Some(1));
        s.remove(1, 5);
        s.remove(1, 10);
        assert_eq!(s.id(b"y"), None);
        assert_eq!(s.add(b"z", 11), Some(1), "the freed id");
        assert!(Subjects::restore(vec![(b("x"), 1, 1, 1), (b("x"), 1, 2, 2)]).is_none());
        assert!(Subjects::restore(vec![(b("x"), 0, 1, 1)]).is_none());
    }

    #[test]
    fn removing_unknown_ids_is_harmless() {
        let mut s = Subjects::default();
        s.remove(7, 1);
        let a = s.add(b"a", 1).unwrap();
        s.remove(a, 1);
        s.remove(a, 1);
        assert_eq!(s.len(), 0);
        assert_eq!(s.iter().count(), 0);
    }
}
