//! Cost of permission checks on the publish/subscribe hot path: a BOSH
//! agent's four-entry allow list and a 64-entry list, each checked directly
//! and through the per-client `PublishCache` (a hit should cost one hash
//! lookup whatever the list length).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use gannet_auth::{Permissions, PublishCache};
use gannet_config::options::{Permissions as ConfigPermissions, SubjectPermission};

const AGENT: &str = "0e2a7f3c-1111-4b8e-9d2a-5f5e5e5e5e5e";

fn agent() -> Permissions {
    let allow = |v: &[&str]| SubjectPermission {
        allow: Some(v.iter().map(|s| s.to_string()).collect()),
        deny: None,
    };
    let cfg = ConfigPermissions {
        publish: Some(allow(&[
            "hm.agent.heartbeat._CLIENT_ID",
            "hm.agent.alert._CLIENT_ID",
            "hm.agent.shutdown._CLIENT_ID",
            "director.*._CLIENT_ID.*",
        ])),
        subscribe: Some(allow(&["agent._CLIENT_ID"])),
        allow_responses: None,
    };
    Permissions::compile(&cfg, Some(AGENT), true).unwrap_or_else(|e| panic!("{e}"))
}

fn many() -> Permissions {
    let subjects: Vec<String> = (0..64).map(|i| format!("svc.{i}.*.>")).collect();
    let cfg = ConfigPermissions {
        publish: Some(SubjectPermission {
            allow: Some(subjects),
            deny: Some(vec!["svc.*.secret.>".to_string()]),
        }),
        subscribe: None,
        allow_responses: None,
    };
    Permissions::compile(&cfg, None, false).unwrap_or_else(|e| panic!("{e}"))
}

fn bench(c: &mut Criterion) {
    let agent = agent();
    let reply = format!("director.3c5b.{AGENT}.6a1f-req");
    let mut g = c.benchmark_group("publish");
    g.bench_function("agent_direct", |b| {
        b.iter(|| black_box(agent.can_publish(black_box(reply.as_bytes()))))
    });
    let mut cache = PublishCache::new();
    g.bench_function("agent_cached", |b| {
        b.iter(|| black_box(cache.check(&agent, black_box(reply.as_bytes()))))
    });

    let many = many();
    let last = b"svc.63.x.y";
    g.bench_function("64_patterns_direct", |b| {
        b.iter(|| black_box(many.can_publish(black_box(last))))
    });
    let mut cache = PublishCache::new();
    g.bench_function("64_patterns_cached", |b| {
        b.iter(|| black_box(cache.check(&many, black_box(last))))
    });
    g.finish();

    let mut g = c.benchmark_group("subscribe");
    let own = format!("agent.{AGENT}");
    g.bench_function("agent_allowed", |b| {
        b.iter(|| black_box(agent.can_subscribe(black_box(own.as_bytes()), None)))
    });
    g.bench_function("agent_refused_wildcard", |b| {
        b.iter(|| black_box(agent.can_subscribe(black_box(b"agent.>"), None)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
