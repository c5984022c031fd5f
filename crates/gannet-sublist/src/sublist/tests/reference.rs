//! Randomized comparison of [`Sublist`] (cache off, on, and tiny so it is
//! trimmed constantly) with a naive reference: a list of entries and a
//! token-by-token matcher written independently of the crate's code.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// Plain members and, per queue name, members; all sorted.
type Normal = (Vec<u32>, BTreeMap<Vec<u8>, Vec<u32>>);

#[derive(Default)]
struct Reference {
    entries: Vec<(String, Option<String>, u32)>,
}

fn naive_valid_pattern(pattern: &str) -> bool {
    let toks: Vec<&str> = pattern.split('.').collect();
    toks.iter().all(|t| !t.is_empty()) && toks.iter().take(toks.len() - 1).all(|t| *t != ">")
}

fn naive_match(pattern: &str, subject: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let s: Vec<&str> = subject.split('.').collect();
    for (i, tok) in p.iter().enumerate() {
        if *tok == ">" {
            return s.len() > i;
        }
        match s.get(i) {
            None => return false,
            Some(st) if *tok != "*" && tok != st => return false,
            Some(_) => {}
        }
    }
    p.len() == s.len()
}

impl Reference {
    fn insert(&mut self, p: &str, q: Option<&str>, item: u32) -> Result<bool, SublistError> {
        if !naive_valid_pattern(p) || q == Some("") {
            return Err(SublistError::InvalidSubject);
        }
        let entry = (p.to_owned(), q.map(str::to_owned), item);
        if self.entries.contains(&entry) {
            return Ok(false);
        }
        self.entries.push(entry);
        Ok(true)
    }

    fn remove(&mut self, p: &str, q: Option<&str>, item: u32) -> Result<(), SublistError> {
        if !naive_valid_pattern(p) || q == Some("") {
            return Err(SublistError::InvalidSubject);
        }
        let entry = (p.to_owned(), q.map(str::to_owned), item);
        let i = self
            .entries
            .iter()
            .position(|e| *e == entry)
            .ok_or(SublistError::NotFound)?;
        self.entries.swap_remove(i);
        Ok(())
    }

    fn matches(&self, subject: &str) -> Normal {
        let mut out: Normal = Default::default();
        if subject.split('.').any(str::is_empty) {
            return out;
        }
        for (p, q, item) in &self.entries {
            if naive_match(p, subject) {
                match q {
                    None => out.0.push(*item),
                    Some(q) => out.1.entry(q.as_bytes().to_vec()).or_default().push(*item),
                }
            }
        }
        out.0.sort_unstable();
        out.1.values_mut().for_each(|v| v.sort_unstable());
        out
    }
}

fn normalize(r: &MatchResult<u32>) -> Normal {
    let mut plain = r.plain.clone();
    plain.sort_unstable();
    let mut queues = BTreeMap::new();
    for g in &r.queues {
        assert!(!g.members.is_empty(), "empty queue group listed");
        let mut m = g.members.clone();
        m.sort_unstable();
        assert!(
            queues.insert(g.name.to_vec(), m).is_none(),
            "group listed twice"
        );
    }
    (plain, queues)
}

#[derive(Debug, Clone)]
enum Op {
    Insert(String, Option<&'static str>, u32),
    Remove(String, Option<&'static str>, u32),
    /// Remove the n-th (mod len) entry present in the reference.
    RemoveExisting(usize),
    Match(String),
}

fn join(tokens: Vec<&'static str>) -> String {
    tokens.join(".")
}

fn pattern() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        4 => Just("a"),
        4 => Just("b"),
        2 => Just("c"),
        3 => Just("*"),
        2 => Just(">"),
        1 => Just("a*"),
        1 => Just(""),
    ];
    prop::collection::vec(token, 1..=4).prop_map(join)
}

fn subject() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        6 => Just("a"),
        6 => Just("b"),
        3 => Just("c"),
        1 => Just("*"),
        1 => Just(">"),
        1 => Just("a*"),
        1 => Just(""),
    ];
    prop::collection::vec(token, 1..=5).prop_map(join)
}

fn queue() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![3 => Just(None), 1 => Just(Some("q1")), 1 => Just(Some("q2"))]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (pattern(), queue(), 0..6u32).prop_map(|(p, q, i)| Op::Insert(p, q, i)),
        1 => (pattern(), queue(), 0..6u32).prop_map(|(p, q, i)| Op::Remove(p, q, i)),
        2 => any::<usize>().prop_map(Op::RemoveExisting),
        4 => subject().prop_map(Op::Match),
    ]
}

/// Every literal subject of 1 to 3 tokens over the alphabet.
fn sweep_subjects() -> Vec<String> {
    let alphabet = ["a", "b", "c", "*"];
    let mut all: Vec<String> = alphabet.iter().map(|s| s.to_string()).collect();
    let mut last = all.clone();
    for _ in 1..3 {
        last = last
            .iter()
            .flat_map(|p| alphabet.iter().map(move |t| format!("{p}.{t}")))
            .collect();
        all.extend(last.iter().cloned());
    }
    all
}

fn check_all(reference: &Reference, lists: &[Sublist<u32>], subject: &str) {
    let want = reference.matches(subject);
    for (i, s) in lists.iter().enumerate() {
        let got = normalize(&s.matches(subject.as_bytes()));
        assert_eq!(got, want, "sublist #{i}, subject {subject:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sublist_agrees_with_naive_matcher(ops in prop::collection::vec(op(), 1..120)) {
        let mut reference = Reference::default();
        let lists = [
            Sublist::new(false),
            Sublist::new(true),
            Sublist::with_cache_limits(4, 2),
        ];
        for op in &ops {
            let before: Vec<u64> = lists.iter().map(Sublist::generation).collect();
            let (changed, results): (bool, Vec<Result<(), SublistError>>) = match op {
                Op::Insert(p, q, item) => {
                    let want = reference.insert(p, *q, *item);
                    let got: Vec<_> = lists
                        .iter()
                        .map(|s| s.insert(p.as_bytes(), q.map(str::as_bytes), *item))
                        .collect();
                    for g in &got {
                        prop_assert_eq!(*g, want.map(|_| ()), "insert {:?} {:?} {}", p, q, item);
                    }
                    (want == Ok(true), got)
                }
                Op::Remove(p, q, item) => {
                    let want = reference.remove(p, *q, *item);
                    let got: Vec<_> = lists
                        .iter()
                        .map(|s| s.remove(p.as_bytes(), q.map(str::as_bytes), item))
                        .collect();
                    (want.is_ok(), std::iter::repeat_n(want, 1).chain(got).collect())
                }
                Op::RemoveExisting(n) => {
                    if reference.entries.is_empty() {
                        continue;
                    }
                    let (p, q, item) = reference.entries[n % reference.entries.len()].clone();
                    reference.remove(&p, q.as_deref(), item).unwrap();
                    let got = lists
                        .iter()
                        .map(|s| s.remove(p.as_bytes(), q.as_deref().map(str::as_bytes), &item))
                        .collect();
                    (true, got)
                }
                Op::Match(subject) => {
                    check_all(&reference, &lists, subject);
                    (false, Vec::new())
                }
            };
            // Removes: the reference's answer first, then each sublist's.
            if let Op::Remove(..) = op {
                for g in &results[1..] {
                    prop_assert_eq!(*g, results[0], "{:?}", op);
                }
            } else if let Op::RemoveExisting(_) = op {
                for g in &results {
                    prop_assert_eq!(*g, Ok(()), "{:?}", op);
                }
            }
            for (s, b) in lists.iter().zip(before) {
                if changed {
                    prop_assert!(s.generation() > b, "generation not bumped by {:?}", op);
                } else {
                    prop_assert_eq!(s.generation(), b, "generation bumped by {:?}", op);
                }
                prop_assert_eq!(s.count(), reference.entries.len());
            }
        }
        for subject in sweep_subjects() {
            check_all(&reference, &lists, &subject);
        }
        for (p, q, item) in std::mem::take(&mut reference.entries) {
            for s in &lists {
                s.remove(p.as_bytes(), q.as_deref().map(str::as_bytes), &item).unwrap();
            }
        }
        for s in &lists {
            prop_assert_eq!(s.count(), 0);
            prop_assert_eq!(s.node_count(), 0);
        }
    }
}
