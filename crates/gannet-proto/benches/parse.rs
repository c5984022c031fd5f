//! Parse throughput, in input bytes per second, of pipelined client streams:
//! small and 1 KiB PUBs, HPUBs, SUB lines, and a PUB stream arriving in
//! 4096-byte reads through the caller's keep-the-tail-and-append loop.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gannet_proto::{Limits, Parser};

/// Bytes of pipelined input per benchmark iteration (about).
const STREAM_BYTES: usize = 256 * 1024;
/// Size of one simulated socket read in the split benchmark.
const READ_SIZE: usize = 4096;

fn repeat_until_full(op: &[u8]) -> Vec<u8> {
    let mut stream = Vec::with_capacity(STREAM_BYTES + op.len());
    while stream.len() < STREAM_BYTES {
        stream.extend_from_slice(op);
    }
    stream
}

fn pub_op(payload_len: usize) -> Vec<u8> {
    let mut op = format!("PUB foo.bar.baz {payload_len}\r\n").into_bytes();
    op.extend((0..payload_len).map(|i| b'a' + (i % 26) as u8));
    op.extend_from_slice(b"\r\n");
    op
}

fn hpub_op() -> Vec<u8> {
    let headers = b"NATS/1.0\r\nNats-Msg-Id: 123456\r\n\r\n";
    let payload = b"0123456789abcdef";
    let mut op = format!(
        "HPUB foo.bar.baz _INBOX.abcdef.1 {} {}\r\n",
        headers.len(),
        headers.len() + payload.len()
    )
    .into_bytes();
    op.extend_from_slice(headers);
    op.extend_from_slice(payload);
    op.extend_from_slice(b"\r\n");
    op
}

fn sub_stream() -> Vec<u8> {
    let mut stream = Vec::with_capacity(STREAM_BYTES + 64);
    let mut sid = 0u32;
    while stream.len() < STREAM_BYTES {
        sid += 1;
        stream.extend(format!("SUB orders.eu.{sid}.> workers {sid}\r\n").into_bytes());
    }
    stream
}

/// Parses every op of a stream that is entirely in memory; returns the count.
fn parse_all(stream: &[u8]) -> usize {
    let mut parser = Parser::new(Limits::default());
    let mut at = 0;
    let mut ops = 0;
    while let Ok(Some((op, n))) = parser.parse(&stream[at..]) {
        black_box(op);
        at += n;
        ops += 1;
    }
    assert_eq!(at, stream.len(), "stream should parse completely");
    ops
}

/// Feeds `stream` in `READ_SIZE` reads, keeping the unconsumed tail.
fn parse_in_reads(stream: &[u8], pending: &mut Vec<u8>) -> usize {
    let mut parser = Parser::new(Limits::default());
    pending.clear();
    let mut ops = 0;
    for read in stream.chunks(READ_SIZE) {
        pending.extend_from_slice(read);
        let mut at = 0;
        while let Ok(Some((op, n))) = parser.parse(&pending[at..]) {
            black_box(op);
            at += n;
            ops += 1;
        }
        pending.drain(..at);
    }
    assert!(pending.is_empty(), "stream should parse completely");
    ops
}

fn bench_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    let streams = [
        ("pub_16b", repeat_until_full(&pub_op(16))),
        ("pub_1kib", repeat_until_full(&pub_op(1024))),
        ("hpub", repeat_until_full(&hpub_op())),
        ("sub", sub_stream()),
    ];
    for (name, stream) in &streams {
        group.throughput(Throughput::Bytes(stream.len() as u64));
        group.bench_function(*name, |b| b.iter(|| parse_all(black_box(stream))));
    }

    let stream = repeat_until_full(&pub_op(16));
    let mut pending = Vec::with_capacity(2 * READ_SIZE);
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("pub_16b_reads_of_4096", |b| {
        b.iter(|| parse_in_reads(black_box(&stream), &mut pending))
    });
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
