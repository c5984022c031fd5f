//! Writing `MSG`/`HMSG` control lines, as the server does once per receiver of
//! every message: without and with a reply subject, and with headers; and for a
//! message to one and to five receivers, whole lines against a line end
//! formatted once with each receiver's ready-made start
//! ([`gannet_proto::msg_line`]).
use std::hint::black_box;

use bytes::{BufMut, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use gannet_proto::encode::{write_hmsg_header, write_msg_header};
use gannet_proto::msg_line::{LineEnd, LineStart};

/// Lines written per benchmark iteration, into one buffer cleared before each
/// iteration (as a receiver's outbound buffer is reused).
const LINES: usize = 1024;

/// Benchmarks `write_line` called [`LINES`] times into one reused buffer.
fn bench_lines(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    write_line: impl Fn(&mut BytesMut),
) {
    let mut out = BytesMut::with_capacity(LINES * 5 * 96);
    group.bench_function(name, |b| {
        b.iter(|| {
            out.clear();
            for _ in 0..LINES {
                write_line(&mut out);
            }
            black_box(&out);
        })
    });
}

fn bench_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(LINES as u64));
    bench_lines(&mut group, "msg_16b", |out| {
        write_msg_header(
            out,
            black_box(b"foo.bar.baz"),
            black_box(b"1"),
            None,
            black_box(16),
        )
    });
    bench_lines(&mut group, "msg_reply_1kib", |out| {
        write_msg_header(
            out,
            black_box(b"agent.7f3c2a90-1b2d"),
            black_box(b"42"),
            black_box(Some(b"_INBOX.Lx0rT5qZ3vYw.17")),
            black_box(1024),
        )
    });
    bench_lines(&mut group, "hmsg", |out| {
        write_hmsg_header(
            out,
            black_box(b"foo.bar.baz"),
            black_box(b"1"),
            None,
            black_box(34),
            black_box(50),
        )
    });
    group.finish();

    // One message to 1 and to 5 subscriptions: the lines of all of them per element.
    for receivers in [1, 5] {
        let mut group = c.benchmark_group(format!("encode_fan_out_{receivers}"));
        group.throughput(Throughput::Elements(LINES as u64));
        let sids: Vec<Vec<u8>> = (1..=receivers).map(|n: u32| n.to_string().into()).collect();
        bench_lines(&mut group, "whole_lines", |out| {
            for sid in &sids {
                write_msg_header(out, black_box(b"foo.bar.baz"), sid, None, black_box(16));
            }
        });
        let starts: Vec<LineStart> = sids
            .iter()
            .map(|sid| LineStart::new(b"foo.bar.baz", sid))
            .collect();
        bench_lines(&mut group, "shared_end", |out| {
            let end = LineEnd::msg(black_box(16));
            for start in &starts {
                out.put_slice(black_box(start).msg());
                out.put_slice(end.as_bytes());
            }
        });
        group.finish();
    }
}

criterion_group!(benches, bench_encode);
criterion_main!(benches);
