//! Sublist benchmarks: literal match with a cache hit and a miss, a
//! wildcard-heavy index, insert+remove churn (with the cache invalidation it
//! triggers), a 1000-subscriber fan-out result, and replies to a fresh inbox
//! subject each time (a miss that walks the trie and stores the result).

use std::hint::black_box;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use gannet_sublist::{Sublist, CACHE_MAX};

/// 10 000 literal subscriptions plus a few wildcards, like a service mesh.
fn literal_index(cache: bool) -> Sublist<u64> {
    let s = Sublist::new(cache);
    for i in 0..10_000u64 {
        s.insert(format!("orders.{i}.created").as_bytes(), None, i)
            .unwrap();
    }
    s.insert(b"orders.*.deleted", None, 10_001).unwrap();
    s.insert(b"audit.>", None, 10_002).unwrap();
    s
}

/// 10 000 subscriptions mixing `*` and `>` at different depths.
fn wildcard_index(cache: bool) -> Sublist<u64> {
    let s = Sublist::new(cache);
    for i in 0..10_000u64 {
        let p = match i % 5 {
            0 => format!("t{}.t{}.*", i % 10, i % 100),
            1 => format!("t{}.*.t{}", i % 10, i % 1000),
            2 => format!("t{}.>", i % 10),
            3 => format!("*.t{}.>", i % 100),
            _ => format!("*.*.t{}", i % 1000),
        };
        let queue = (i % 7 == 0).then_some(&b"workers"[..]);
        s.insert(p.as_bytes(), queue, i).unwrap();
    }
    s
}

fn bench_literal(c: &mut Criterion) {
    let mut g = c.benchmark_group("literal_10k");
    let hit = literal_index(true);
    hit.matches(b"orders.42.created");
    g.bench_function("cache_hit", |b| {
        b.iter(|| black_box(hit.matches(black_box(b"orders.42.created"))))
    });
    let miss = literal_index(false);
    g.bench_function("cache_off", |b| {
        b.iter(|| black_box(miss.matches(black_box(b"orders.42.created"))))
    });
    g.bench_function("cache_off_no_match", |b| {
        b.iter(|| black_box(miss.matches(black_box(b"payments.42.created"))))
    });
    g.finish();
}

fn bench_wildcard(c: &mut Criterion) {
    let mut g = c.benchmark_group("wildcard_10k");
    let subject = b"t3.t43.t343";
    let miss = wildcard_index(false);
    let r = miss.matches(subject);
    eprintln!(
        "wildcard_10k: {} plain, {} queue members per match",
        r.plain.len(),
        r.queues.iter().map(|q| q.members.len()).sum::<usize>()
    );
    g.bench_function("cache_off", |b| {
        b.iter(|| black_box(miss.matches(black_box(subject))))
    });
    let hit = wildcard_index(true);
    hit.matches(subject);
    g.bench_function("cache_hit", |b| {
        b.iter(|| black_box(hit.matches(black_box(subject))))
    });
    g.finish();
}

fn bench_churn(c: &mut Criterion) {
    let mut g = c.benchmark_group("churn");
    for (name, cache) in [("cache_off", false), ("cache_full", true)] {
        let s = literal_index(cache);
        // Fill the cache so each change has a full cache to invalidate.
        for i in 0..CACHE_MAX as u64 {
            s.matches(format!("orders.{i}.created").as_bytes());
        }
        let inboxes: Vec<String> = (0..64).map(|i| format!("inbox.{i}")).collect();
        let mut n = 0u64;
        g.bench_function(format!("literal_{name}"), |b| {
            b.iter(|| {
                n += 1;
                let subject = inboxes[(n % 64) as usize].as_bytes();
                s.insert(subject, None, n).unwrap();
                s.remove(subject, None, &n).unwrap();
            })
        });
        g.bench_function(format!("wildcard_{name}"), |b| {
            b.iter(|| {
                n += 1;
                s.insert(b"orders.*.updated", Some(b"q"), n).unwrap();
                s.remove(b"orders.*.updated", Some(b"q"), &n).unwrap();
            })
        });
    }
    g.finish();
}

fn bench_fanout(c: &mut Criterion) {
    let mut g = c.benchmark_group("fanout_1000");
    for cache in [false, true] {
        let s = Sublist::new(cache);
        for i in 0..1000u64 {
            s.insert(b"fan.out", None, i).unwrap();
        }
        s.matches(b"fan.out");
        let name = if cache {
            "u64_cache_hit"
        } else {
            "u64_cache_off"
        };
        g.bench_function(name, |b| {
            b.iter(|| black_box(s.matches(black_box(b"fan.out"))))
        });
    }
    // Subscriptions as the server will likely hold them: shared pointers.
    let s = Sublist::new(false);
    for i in 0..1000u64 {
        s.insert(b"fan.out", None, Arc::new(i)).unwrap();
    }
    g.bench_function("arc_cache_off", |b| {
        b.iter(|| black_box(s.matches(black_box(b"fan.out"))))
    });
    g.finish();
}

/// Request/reply as clients do it: one wildcard subscription per requester
/// (`_INBOX.<id>.*`) and every reply sent to a subject never seen before, so
/// each lookup misses the cache, walks the trie and stores its result
/// (evicting a batch whenever the cache is full).
fn bench_reply_inbox(c: &mut Criterion) {
    let mut g = c.benchmark_group("reply_inbox");
    let s = literal_index(true);
    for i in 0..100u64 {
        s.insert(
            format!("_INBOX.requester{i}.*").as_bytes(),
            None,
            20_000 + i,
        )
        .unwrap();
    }
    let mut n = 0u64;
    let mut subject = Vec::with_capacity(64);
    g.bench_function("fresh_subject_cache_on", |b| {
        b.iter(|| {
            n += 1;
            subject.clear();
            write!(subject, "_INBOX.requester42.{n}").unwrap();
            black_box(s.matches(black_box(&subject)))
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_literal, bench_wildcard, bench_churn, bench_fanout, bench_reply_inbox
}
criterion_main!(benches);
