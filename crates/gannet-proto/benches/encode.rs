//! Writing `MSG`/`HMSG` control lines, as the server does once per receiver of
//! every message: without and with a reply subject, and with headers.
use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gannet_proto::encode::{write_hmsg_header, write_msg_header};

/// Lines written per benchmark iteration, into one buffer cleared before each
/// iteration (as a receiver's outbound buffer is reused).
const LINES: usize = 1024;

fn bench_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(LINES as u64));
    let mut out = BytesMut::with_capacity(LINES * 96);
    group.bench_function("msg_16b", |b| {
        b.iter(|| {
            out.clear();
            for _ in 0..LINES {
                write_msg_header(
                    &mut out,
                    black_box(b"foo.bar.baz"),
                    black_box(b"1"),
                    None,
                    black_box(16),
                );
            }
            black_box(&out);
        })
    });
    group.bench_function("msg_reply_1kib", |b| {
        b.iter(|| {
            out.clear();
            for _ in 0..LINES {
                write_msg_header(
                    &mut out,
                    black_box(b"agent.7f3c2a90-1b2d"),
                    black_box(b"42"),
                    black_box(Some(b"_INBOX.Lx0rT5qZ3vYw.17")),
                    black_box(1024),
                );
            }
            black_box(&out);
        })
    });
    group.bench_function("hmsg", |b| {
        b.iter(|| {
            out.clear();
            for _ in 0..LINES {
                write_hmsg_header(
                    &mut out,
                    black_box(b"foo.bar.baz"),
                    black_box(b"1"),
                    None,
                    black_box(34),
                    black_box(50),
                );
            }
            black_box(&out);
        })
    });
    group.finish();
}

criterion_group!(benches, bench_encode);
criterion_main!(benches);
