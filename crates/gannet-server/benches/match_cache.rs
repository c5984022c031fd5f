//! A publisher's own subject cache (`MatchCache`): the lookup every PUB makes
//! before delivery. `hit` repeats one subject, `hit_8` cycles through eight, as
//! a client publishing to a few subjects does; `miss` looks up a new subject
//! each time and so also pays for the shared index and the insert.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gannet_server::client::cache::MatchCache;
use gannet_server::subscription::SubRef;
use gannet_sublist::Sublist;

fn bench_lookup(c: &mut Criterion) {
    let sublist: Sublist<SubRef> = Sublist::new(true);
    let subjects: Vec<Vec<u8>> = (0..8)
        .map(|i| format!("hm.agent.heartbeat.{i:08}").into_bytes())
        .collect();
    let mut g = c.benchmark_group("match_cache");
    g.throughput(Throughput::Elements(1));

    let mut cache = MatchCache::default();
    g.bench_function("hit", |b| {
        b.iter(|| black_box(cache.lookup(&sublist, black_box(&subjects[0])).is_some()))
    });

    let mut cache = MatchCache::default();
    let mut next = 0;
    g.bench_function("hit_8", |b| {
        b.iter(|| {
            next = (next + 1) % subjects.len();
            black_box(cache.lookup(&sublist, black_box(&subjects[next])).is_some())
        })
    });

    let mut cache = MatchCache::default();
    let mut n: u64 = 0;
    g.bench_function("miss", |b| {
        b.iter(|| {
            n += 1;
            let subject = format!("agent.{n}");
            black_box(cache.lookup(&sublist, subject.as_bytes()).is_some())
        })
    });
    g.finish();
}

criterion_group!(benches, bench_lookup);
criterion_main!(benches);
