//! Behaviour tests for [`Sublist`]; the randomized comparison with a naive
//! matcher is in `reference.rs`.

use std::sync::atomic::AtomicBool;
use std::sync::Barrier;
use std::thread;

use super::*;

mod reference;

fn plain(r: &MatchResult<u32>) -> Vec<u32> {
    let mut v = r.plain.clone();
    v.sort_unstable();
    v
}

fn group(r: &MatchResult<u32>, name: &str) -> Option<Vec<u32>> {
    let mut groups = r.queues.iter().filter(|g| &*g.name == name.as_bytes());
    let g = groups.next()?;
    assert!(groups.next().is_none(), "queue group {name} listed twice");
    let mut v = g.members.clone();
    v.sort_unstable();
    Some(v)
}

fn both_modes() -> [Sublist<u32>; 2] {
    [Sublist::new(true), Sublist::new(false)]
}

#[test]
fn literal_subject_matches_only_itself() {
    for s in both_modes() {
        s.insert(b"foo.bar", None, 1).unwrap();
        s.insert(b"foo", None, 2).unwrap();
        s.insert(b"foo.bar.baz", None, 3).unwrap();
        assert_eq!(plain(&s.matches(b"foo.bar")), vec![1]);
        assert_eq!(plain(&s.matches(b"foo")), vec![2]);
        assert_eq!(plain(&s.matches(b"foo.bar.baz")), vec![3]);
        assert!(s.matches(b"foo.baz").is_empty());
        assert!(s.matches(b"bar").is_empty());
    }
}

#[test]
fn star_matches_exactly_one_token() {
    for s in both_modes() {
        s.insert(b"foo.*", None, 1).unwrap();
        s.insert(b"*.bar", None, 2).unwrap();
        s.insert(b"*", None, 3).unwrap();
        assert_eq!(plain(&s.matches(b"foo.bar")), vec![1, 2]);
        assert_eq!(plain(&s.matches(b"foo.x")), vec![1]);
        assert_eq!(plain(&s.matches(b"foo")), vec![3]);
        assert!(s.matches(b"foo.bar.baz").is_empty());
    }
}

#[test]
fn full_wildcard_matches_one_or_more_trailing_tokens() {
    for s in both_modes() {
        s.insert(b"foo.>", None, 1).unwrap();
        s.insert(b">", None, 2).unwrap();
        assert_eq!(plain(&s.matches(b"foo.bar")), vec![1, 2]);
        assert_eq!(plain(&s.matches(b"foo.bar.baz.qux")), vec![1, 2]);
        assert_eq!(plain(&s.matches(b"foo")), vec![2]);
        assert_eq!(plain(&s.matches(b"x.y")), vec![2]);
    }
}

#[test]
fn mixed_wildcards_combine() {
    for s in both_modes() {
        s.insert(b"a.*.c.>", None, 1).unwrap();
        s.insert(b"*.b.*", None, 2).unwrap();
        s.insert(b"a.b.c.d", None, 3).unwrap();
        s.insert(b"*.*.*.*", None, 4).unwrap();
        s.insert(b"a.>", None, 5).unwrap();
        assert_eq!(plain(&s.matches(b"a.b.c.d")), vec![1, 3, 4, 5]);
        assert_eq!(plain(&s.matches(b"a.x.c.d.e")), vec![1, 5]);
        assert_eq!(plain(&s.matches(b"z.b.c")), vec![2]);
        assert_eq!(plain(&s.matches(b"a.b.c")), vec![2, 5]);
    }
}

#[test]
fn wildcard_characters_inside_a_token_are_literal() {
    for s in both_modes() {
        s.insert(b"f*o", None, 1).unwrap();
        s.insert(b"foo.*bar", None, 2).unwrap();
        s.insert(b"a>.b", None, 3).unwrap();
        assert!(s.matches(b"foo").is_empty());
        assert_eq!(plain(&s.matches(b"f*o")), vec![1]);
        assert!(s.matches(b"foo.xbar").is_empty());
        assert_eq!(plain(&s.matches(b"foo.*bar")), vec![2]);
        assert_eq!(plain(&s.matches(b"a>.b")), vec![3]);
    }
}

#[test]
fn published_wildcard_subject_is_routed_literally() {
    for s in both_modes() {
        s.insert(b"foo.*", None, 1).unwrap();
        s.insert(b">", None, 2).unwrap();
        s.insert(b"foo.bar", None, 3).unwrap();
        assert_eq!(plain(&s.matches(b"foo.*")), vec![1, 2]);
    }
}

#[test]
fn queue_members_are_grouped_by_name() {
    for s in both_modes() {
        s.insert(b"work", Some(b"g1"), 1).unwrap();
        s.insert(b"work", Some(b"g1"), 2).unwrap();
        s.insert(b"work", Some(b"g2"), 3).unwrap();
        s.insert(b"work", None, 4).unwrap();
        let r = s.matches(b"work");
        assert_eq!(plain(&r), vec![4]);
        assert_eq!(r.queues.len(), 2);
        assert_eq!(group(&r, "g1"), Some(vec![1, 2]));
        assert_eq!(group(&r, "g2"), Some(vec![3]));
    }
}

#[test]
fn queue_groups_from_different_patterns_merge() {
    for s in both_modes() {
        s.insert(b"orders.new", Some(b"svc"), 1).unwrap();
        s.insert(b"orders.*", Some(b"svc"), 2).unwrap();
        s.insert(b"orders.>", Some(b"svc"), 3).unwrap();
        s.insert(b">", Some(b"audit"), 4).unwrap();
        let r = s.matches(b"orders.new");
        assert!(r.plain.is_empty());
        assert_eq!(r.queues.len(), 2);
        assert_eq!(group(&r, "svc"), Some(vec![1, 2, 3]));
        assert_eq!(group(&r, "audit"), Some(vec![4]));
        let r = s.matches(b"orders.old");
        assert_eq!(group(&r, "svc"), Some(vec![2, 3]));
    }
}

#[test]
fn same_item_in_plain_and_queue_are_separate_entries() {
    let s = Sublist::new(true);
    s.insert(b"a", None, 7).unwrap();
    s.insert(b"a", Some(b"q"), 7).unwrap();
    assert_eq!(s.count(), 2);
    s.remove(b"a", None, &7).unwrap();
    let r = s.matches(b"a");
    assert!(r.plain.is_empty());
    assert_eq!(group(&r, "q"), Some(vec![7]));
    assert_eq!(
        s.remove(b"a", Some(b"other"), &7),
        Err(SublistError::NotFound)
    );
}

#[test]
fn duplicate_insert_is_stored_once() {
    let s = Sublist::new(true);
    s.insert(b"a.b", None, 1).unwrap();
    let generation = s.generation();
    s.insert(b"a.b", None, 1).unwrap();
    assert_eq!(s.count(), 1);
    assert_eq!(s.generation(), generation);
    assert_eq!(plain(&s.matches(b"a.b")), vec![1]);
    s.remove(b"a.b", None, &1).unwrap();
    assert!(s.matches(b"a.b").is_empty());
}

#[test]
fn removal_stops_matching_and_counts_down() {
    for s in both_modes() {
        s.insert(b"a.b", None, 1).unwrap();
        s.insert(b"a.*", None, 2).unwrap();
        s.insert(b"a.b", Some(b"q"), 3).unwrap();
        assert_eq!(s.count(), 3);
        s.remove(b"a.*", None, &2).unwrap();
        assert_eq!(plain(&s.matches(b"a.b")), vec![1]);
        s.remove(b"a.b", Some(b"q"), &3).unwrap();
        assert!(s.matches(b"a.b").queues.is_empty());
        assert_eq!(s.count(), 1);
    }
}

#[test]
fn removing_an_absent_entry_is_not_found() {
    let s = Sublist::new(true);
    assert_eq!(s.remove(b"a", None, &1), Err(SublistError::NotFound));
    s.insert(b"a.b", None, 1).unwrap();
    let generation = s.generation();
    assert_eq!(s.remove(b"a.b", None, &2), Err(SublistError::NotFound));
    assert_eq!(s.remove(b"a", None, &1), Err(SublistError::NotFound));
    assert_eq!(s.remove(b"a.b.c", None, &1), Err(SublistError::NotFound));
    assert_eq!(s.remove(b"a.*", None, &1), Err(SublistError::NotFound));
    assert_eq!(
        s.remove(b"a.b", Some(b"q"), &1),
        Err(SublistError::NotFound)
    );
    assert_eq!(s.generation(), generation);
    assert_eq!(s.count(), 1);
    s.remove(b"a.b", None, &1).unwrap();
    assert_eq!(s.remove(b"a.b", None, &1), Err(SublistError::NotFound));
}

#[test]
fn removal_prunes_empty_nodes() {
    let s = Sublist::new(false);
    s.insert(b"a.b.c.d", None, 1).unwrap();
    assert_eq!(s.node_count(), 4);
    s.insert(b"a.b.x", None, 2).unwrap();
    s.insert(b"a.*.>", Some(b"q"), 3).unwrap();
    s.insert(b"a.b", None, 4).unwrap();
    assert_eq!(s.node_count(), 4 + 1 + 2);
    // a.b holds a sub, so only c.d goes.
    s.remove(b"a.b.c.d", None, &1).unwrap();
    assert_eq!(s.node_count(), 5);
    s.remove(b"a.b.x", None, &2).unwrap();
    assert_eq!(s.node_count(), 4);
    s.remove(b"a.b", None, &4).unwrap();
    assert_eq!(s.node_count(), 3);
    assert_eq!(plain(&s.matches(b"a.b.c")), Vec::<u32>::new());
    assert_eq!(group(&s.matches(b"a.b.c"), "q"), Some(vec![3]));
    s.remove(b"a.*.>", Some(b"q"), &3).unwrap();
    assert_eq!(s.node_count(), 0);
    assert!(s.is_empty());
}

#[test]
fn removing_an_inner_subscription_keeps_deeper_ones() {
    let s = Sublist::new(true);
    s.insert(b"a", None, 1).unwrap();
    s.insert(b"a.b.c", None, 2).unwrap();
    s.remove(b"a", None, &1).unwrap();
    assert_eq!(s.node_count(), 3);
    assert_eq!(plain(&s.matches(b"a.b.c")), vec![2]);
    s.remove(b"a.b.c", None, &2).unwrap();
    assert_eq!(s.node_count(), 0);
}

#[test]
fn churn_does_not_grow_the_trie() {
    let s = Sublist::new(true);
    s.insert(b"keep.me", None, 0).unwrap();
    let baseline = s.node_count();
    for i in 1..2000u32 {
        let subject = format!("inbox.{i}.reply.{}", i % 7);
        s.insert(subject.as_bytes(), None, i).unwrap();
        s.insert(b"inbox.*.reply.>", Some(b"q"), i).unwrap();
        s.matches(subject.as_bytes());
        s.remove(subject.as_bytes(), None, &i).unwrap();
        s.remove(b"inbox.*.reply.>", Some(b"q"), &i).unwrap();
    }
    assert_eq!(s.node_count(), baseline);
    assert_eq!(s.count(), 1);
}

#[test]
fn many_subscribers_on_one_subject_remove_quickly() {
    // Removal is O(1) per entry: 50k removes from one node would take
    // minutes if each scanned the node.
    let s = Sublist::new(true);
    let n = 50_000u32;
    for i in 0..n {
        s.insert(b"fan.out", None, i).unwrap();
    }
    assert_eq!(s.matches(b"fan.out").plain.len(), n as usize);
    for i in (0..n).rev() {
        s.remove(b"fan.out", None, &i).unwrap();
    }
    assert!(s.matches(b"fan.out").is_empty());
    assert_eq!(s.node_count(), 0);
}

#[test]
fn invalid_patterns_are_refused() {
    let s = Sublist::new(true);
    for p in ["", ".", "foo.", ".foo", "foo..bar", ">.foo", "foo.>.bar"] {
        assert_eq!(
            s.insert(p.as_bytes(), None, 1),
            Err(SublistError::InvalidSubject),
            "{p:?}"
        );
        assert_eq!(
            s.remove(p.as_bytes(), None, &1),
            Err(SublistError::InvalidSubject),
            "{p:?}"
        );
    }
    assert_eq!(
        s.insert(b"foo", Some(b""), 1),
        Err(SublistError::InvalidSubject)
    );
    assert_eq!(s.count(), 0);
    assert_eq!(s.generation(), 0);
}

#[test]
fn invalid_literal_subjects_match_nothing() {
    for s in both_modes() {
        s.insert(b">", None, 1).unwrap();
        s.insert(b"foo.*.bar", None, 2).unwrap();
        for subject in ["", ".", "foo..bar", ".foo", "foo."] {
            assert!(s.matches(subject.as_bytes()).is_empty(), "{subject:?}");
        }
        assert_eq!(s.cache_len(), 0);
    }
}

#[test]
fn cache_hit_returns_the_same_shared_result() {
    let s = Sublist::new(true);
    s.insert(b"a.b", None, 1).unwrap();
    let first = s.matches(b"a.b");
    let second = s.matches(b"a.b");
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(s.cache_len(), 1);
    let uncached = Sublist::new(false);
    uncached.insert(b"a.b", None, 1).unwrap();
    uncached.matches(b"a.b");
    assert_eq!(uncached.cache_len(), 0);
}

#[test]
fn uncached_matches_agree_and_leave_the_cache_alone() {
    let s = Sublist::new(true);
    s.insert(b"$JS.ACK.S.>", None, 1).unwrap();
    s.insert(b"$JS.ACK.*.C.>", Some(b"q".as_slice()), 2)
        .unwrap();
    let subject = b"$JS.ACK.S.C.1.2.3.4.5";
    let once = s.matches_uncached(subject);
    assert_eq!(plain(&once), vec![1]);
    assert_eq!(group(&once, "q"), Some(vec![2]));
    assert_eq!(s.cache_len(), 0);
    let cached = s.matches(subject);
    assert_eq!(
        (plain(&cached), group(&cached, "q")),
        (plain(&once), group(&once, "q"))
    );
    assert_eq!(s.cache_len(), 1);
    assert!(s.matches_uncached(b"$JS.ACK..x").is_empty());
    assert_eq!(s.stats().matches, 3);
}

#[test]
fn insert_after_a_cached_match_is_visible() {
    let s = Sublist::new(true);
    s.insert(b"a.b", None, 1).unwrap();
    assert_eq!(plain(&s.matches(b"a.b")), vec![1]);
    assert!(s.matches(b"x.y").is_empty());
    s.insert(b"a.*", None, 2).unwrap();
    assert_eq!(plain(&s.matches(b"a.b")), vec![1, 2]);
    s.insert(b">", Some(b"q"), 3).unwrap();
    assert_eq!(group(&s.matches(b"a.b"), "q"), Some(vec![3]));
    assert_eq!(group(&s.matches(b"x.y"), "q"), Some(vec![3]));
    s.insert(b"a.b", None, 4).unwrap();
    assert_eq!(plain(&s.matches(b"a.b")), vec![1, 2, 4]);
}

#[test]
fn remove_after_a_cached_match_is_visible() {
    let s = Sublist::new(true);
    s.insert(b"a.b", None, 1).unwrap();
    s.insert(b"a.>", None, 2).unwrap();
    s.insert(b"*.b", Some(b"q"), 3).unwrap();
    assert_eq!(plain(&s.matches(b"a.b")), vec![1, 2]);
    s.remove(b"a.>", None, &2).unwrap();
    assert_eq!(plain(&s.matches(b"a.b")), vec![1]);
    s.remove(b"*.b", Some(b"q"), &3).unwrap();
    assert!(s.matches(b"a.b").queues.is_empty());
    s.remove(b"a.b", None, &1).unwrap();
    assert!(s.matches(b"a.b").is_empty());
}

#[test]
fn change_invalidates_only_the_cached_subjects_it_matches() {
    let s = Sublist::new(true);
    s.insert(b"a.b", None, 1).unwrap();
    s.insert(b"c.d", None, 2).unwrap();
    let ab = s.matches(b"a.b");
    let cd = s.matches(b"c.d");
    s.insert(b"a.*", None, 3).unwrap();
    assert!(Arc::ptr_eq(&cd, &s.matches(b"c.d")));
    assert!(!Arc::ptr_eq(&ab, &s.matches(b"a.b")));
    let ab = s.matches(b"a.b");
    s.insert(b"c.d", None, 4).unwrap();
    assert!(Arc::ptr_eq(&ab, &s.matches(b"a.b")));
    assert_eq!(plain(&s.matches(b"c.d")), vec![2, 4]);
}

#[test]
fn cache_is_trimmed_in_batches_when_full() {
    let s = Sublist::new(true);
    s.insert(b">", None, 1).unwrap();
    for i in 0..CACHE_MAX {
        s.matches(format!("subject.{i}").as_bytes());
    }
    assert_eq!(s.cache_len(), CACHE_MAX);
    s.matches(b"one.more");
    assert_eq!(s.cache_len(), CACHE_MAX - CACHE_EVICT_BATCH + 1);
    for i in 0..CACHE_MAX * 3 {
        s.matches(format!("other.{i}").as_bytes());
        assert!(s.cache_len() <= CACHE_MAX);
    }
    // Trimmed results are recomputed correctly.
    assert_eq!(plain(&s.matches(b"subject.0")), vec![1]);
}

#[test]
fn small_cache_stays_correct_through_eviction() {
    let s = Sublist::with_cache_limits(4, 2);
    for i in 0..10u32 {
        s.insert(format!("s.{i}").as_bytes(), None, i).unwrap();
    }
    for round in 0..3 {
        for i in 0..10u32 {
            assert_eq!(
                plain(&s.matches(format!("s.{i}").as_bytes())),
                vec![i],
                "{round}"
            );
            assert!(s.cache_len() <= 4);
        }
    }
}

#[test]
fn generation_bumps_on_every_change() {
    for s in both_modes() {
        assert_eq!(s.generation(), 0);
        s.insert(b"a", None, 1).unwrap();
        assert_eq!(s.generation(), 1);
        s.insert(b"a.*", Some(b"q"), 2).unwrap();
        assert_eq!(s.generation(), 2);
        s.matches(b"a");
        assert_eq!(s.generation(), 2);
        s.remove(b"a", None, &1).unwrap();
        assert_eq!(s.generation(), 3);
        assert!(s.remove(b"a", None, &1).is_err());
        assert!(s.insert(b"a..b", None, 1).is_err());
        assert_eq!(s.generation(), 3);
    }
}

#[test]
fn generation_lets_a_caller_cache_safely() {
    let s = Sublist::new(false);
    s.insert(b"a", None, 1).unwrap();
    let seen = s.generation();
    let mine = s.matches(b"a");
    s.insert(b">", None, 2).unwrap();
    assert_ne!(
        s.generation(),
        seen,
        "caller must notice its result is stale"
    );
    assert_ne!(plain(&mine), plain(&s.matches(b"a")));
}

#[test]
fn deep_subjects_do_not_exhaust_the_stack() {
    // Run on a small stack: every walk is iterative, and dropping a long
    // chain must not recurse dangerously either.
    let handle = thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let deep: Vec<&str> = std::iter::repeat_n("t", 2000).collect();
            let literal = deep.join(".");
            let stars = std::iter::repeat_n("*", 1999).collect::<Vec<_>>().join(".") + ".>";
            let s = Sublist::new(true);
            s.insert(literal.as_bytes(), None, 1u32).unwrap();
            s.insert(stars.as_bytes(), None, 2).unwrap();
            assert_eq!(plain(&s.matches(literal.as_bytes())), vec![1, 2]);
            s.remove(literal.as_bytes(), None, &1).unwrap();
            s.remove(stars.as_bytes(), None, &2).unwrap();
            assert_eq!(s.node_count(), 0);
        })
        .unwrap();
    handle.join().unwrap();
}

/// Sets the flag when dropped, including while unwinding.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[test]
fn concurrent_changes_and_matches_stay_consistent() {
    const WRITERS: u32 = 3;
    const READERS: usize = 3;
    const ROUNDS: u32 = 3000;
    let patterns: [&[u8]; 6] = [b"a.b.c", b"a.*.c", b"a.>", b">", b"*.b.*", b"a.b"];
    let subjects: [&[u8]; 4] = [b"a.b.c", b"a.b", b"x.b.y", b"a.z.c"];
    for cache in [true, false] {
        let s = Sublist::new(cache);
        // A permanent subscriber every reader must always see.
        s.insert(b">", Some(b"always"), u32::MAX).unwrap();
        let done = AtomicBool::new(false);
        let start = Barrier::new(WRITERS as usize + READERS);
        thread::scope(|scope| {
            let mut writers = Vec::new();
            for w in 0..WRITERS {
                let (s, start) = (&s, &start);
                writers.push(scope.spawn(move || {
                    start.wait();
                    for round in 0..ROUNDS {
                        let item = w * ROUNDS + round;
                        let pattern = patterns[(item as usize) % patterns.len()];
                        let queue: Option<&[u8]> = (round % 3 == 0).then_some(b"q");
                        let subject = subjects[(round as usize) % subjects.len()];
                        let expect = crate::subject::pattern_matches(pattern, subject);
                        s.insert(pattern, queue, item).unwrap();
                        // Read-your-writes through the cache.
                        let r = s.matches(subject);
                        let seen = r.plain.contains(&item)
                            || r.queues.iter().any(|g| g.members.contains(&item));
                        assert_eq!(seen, expect, "after insert of {item}");
                        s.remove(pattern, queue, &item).unwrap();
                        let r = s.matches(subject);
                        let seen = r.plain.contains(&item)
                            || r.queues.iter().any(|g| g.members.contains(&item));
                        assert!(!seen, "after remove of {item}");
                    }
                }));
            }
            for _ in 0..READERS {
                let (s, start, done) = (&s, &start, &done);
                scope.spawn(move || {
                    start.wait();
                    while !done.load(Ordering::Relaxed) {
                        for subject in subjects {
                            let r = s.matches(subject);
                            // group() also checks each name is listed once.
                            let always = group(&r, "always");
                            assert_eq!(always, Some(vec![u32::MAX]));
                            // Each writer item is stored once at a time.
                            let mut all: Vec<u32> = r.plain.clone();
                            for g in &r.queues {
                                group(&r, std::str::from_utf8(&g.name).unwrap());
                                all.extend(&g.members);
                            }
                            let n = all.len();
                            all.sort_unstable();
                            all.dedup();
                            assert_eq!(all.len(), n);
                        }
                    }
                });
            }
            // Stop the readers even if a writer panics, or the scope would
            // wait for them forever.
            let _stop = StopOnDrop(&done);
            for w in writers {
                w.join().unwrap();
            }
        });
        assert_eq!(s.count(), 1);
        assert_eq!(s.node_count(), 1);
        for subject in subjects {
            let r = s.matches(subject);
            assert!(r.plain.is_empty());
            assert_eq!(r.queues.len(), 1);
            assert_eq!(group(&r, "always"), Some(vec![u32::MAX]));
        }
    }
}

#[test]
fn stats_count_changes_lookups_and_cache_hits() {
    let sl: Sublist<u32> = Sublist::new(true);
    sl.insert(b"a.b", None, 1).unwrap();
    sl.insert(b"a.*", None, 2).unwrap();
    sl.remove(b"a.*", None, &2).unwrap();
    let _ = sl.matches(b"a.b");
    let _ = sl.matches(b"a.b");
    let st = sl.stats();
    assert_eq!((st.inserts, st.removes, st.matches), (2, 1, 2));
    assert!((st.cache_hit_rate - 0.5).abs() < 1e-9, "{st:?}");
}

#[test]
fn counted_changes_tell_first_and_last_interest() {
    for s in both_modes() {
        assert_eq!(s.insert_counted(b"a.b", None, 1), Ok(Some(1)));
        assert_eq!(s.insert_counted(b"a.b", None, 2), Ok(Some(2)));
        assert_eq!(s.insert_counted(b"a.b", None, 2), Ok(None), "duplicate");
        // Queue groups count apart from plain entries and from each other.
        assert_eq!(s.insert_counted(b"a.b", Some(b"q"), 3), Ok(Some(1)));
        assert_eq!(s.insert_counted(b"a.b", Some(b"q"), 4), Ok(Some(2)));
        assert_eq!(s.insert_counted(b"a.b", Some(b"r"), 5), Ok(Some(1)));
        assert_eq!(s.insert_counted(b"a.*", None, 6), Ok(Some(1)));

        assert_eq!(s.remove_counted(b"a.b", Some(b"q"), &3), Ok(1));
        assert_eq!(s.remove_counted(b"a.b", Some(b"q"), &4), Ok(0));
        assert_eq!(
            s.remove_counted(b"a.b", Some(b"q"), &4),
            Err(SublistError::NotFound)
        );
        assert_eq!(s.remove_counted(b"a.b", None, &1), Ok(1));
        assert_eq!(s.remove_counted(b"a.b", None, &2), Ok(0));
        assert_eq!(s.remove_counted(b"a.b", Some(b"r"), &5), Ok(0));
        // The last entry of a whole branch is pruned with it.
        assert_eq!(s.remove_counted(b"a.*", None, &6), Ok(0));
        assert!(s.is_empty());
    }
}

#[test]
fn interest_lists_every_pattern_and_queue_with_counts() {
    let s = Sublist::new(true);
    s.insert(b"foo", None, 1).unwrap();
    s.insert(b"foo", None, 2).unwrap();
    s.insert(b"foo.*", Some(b"q"), 3).unwrap();
    s.insert(b"foo.*", Some(b"q"), 4).unwrap();
    s.insert(b"foo.*", Some(b"r"), 5).unwrap();
    s.insert(b">", None, 6).unwrap();
    s.insert(b"a.b.c", None, 7).unwrap();
    s.remove(b"a.b.c", None, &7).unwrap();
    let mut got: Vec<(String, Option<String>, usize)> = s
        .interest()
        .into_iter()
        .map(|i| {
            (
                String::from_utf8(i.pattern).unwrap(),
                i.queue.map(|q| String::from_utf8(q.into()).unwrap()),
                i.count,
            )
        })
        .collect();
    got.sort();
    let want = vec![
        (">".to_string(), None, 1),
        ("foo".to_string(), None, 2),
        ("foo.*".to_string(), Some("q".to_string()), 2),
        ("foo.*".to_string(), Some("r".to_string()), 1),
    ];
    assert_eq!(got, want);
}

#[test]
fn count_exact_counts_one_pattern_only() {
    let s = Sublist::new(false);
    s.insert(b"a.b", None, 1).unwrap();
    s.insert(b"a.b", None, 2).unwrap();
    s.insert(b"a.*", None, 3).unwrap();
    s.insert(b"a.b", Some(b"q"), 4).unwrap();
    assert_eq!(s.count_exact(b"a.b", None), 2);
    assert_eq!(s.count_exact(b"a.*", None), 1);
    assert_eq!(s.count_exact(b"a.b", Some(b"q")), 1);
    assert_eq!(s.count_exact(b"a.b", Some(b"r")), 0);
    assert_eq!(s.count_exact(b"a", None), 0);
    assert_eq!(s.count_exact(b"a.b.c", None), 0);
}
