#!/usr/bin/env python3
"""Many connections on one server: memory per connection and PING latency.

    scripts/scale.py SERVER_BINARY [--conns 19000] [--subs 10] [--samples 2000]

Starts SERVER_BINARY (any NATS server taking `-a` and `-p`) on a free
loopback port, opens --conns client connections, each sending CONNECT, --subs
subscriptions to subjects of its own (`scale.<conn>.<n>`) and a PING, and
holds them. Then it reports:

  * the server's resident memory (VmRSS) before and after, per connection,
    and that figure projected to 100,000 connections (this machine allows
    20,000 open files per process, so more cannot be opened here);
  * the round trip of --samples PINGs, one after another, on one more
    connection while the others are held: p50, p99 and the worst;
  * every held connection sending a PING at once: how long until the last
    PONG came back, and the p99 of the probe connection's PINGs meanwhile.

One JSON object on stdout, a summary on stderr. The client side is one
Python process; it needs as many open files as connections.
"""
import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]


async def expect(reader, want, timeout=30):
    """Reads lines until one starts with `want` (PINGs are answered by the
    caller's protocol; here none are expected)."""
    while True:
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise ConnectionError("closed")
        if line.startswith(want):
            return line
        if line.startswith(b"-ERR"):
            raise ConnectionError(line.decode().strip())


async def open_one(port, index, subs, gate):
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await expect(reader, b"INFO")
        lines = [b'CONNECT {"verbose":false,"pedantic":false}\r\n']
        lines += [f"SUB scale.{index}.{n} {n + 1}\r\n".encode() for n in range(subs)]
        lines.append(b"PING\r\n")
        writer.write(b"".join(lines))
        await writer.drain()
        await expect(reader, b"PONG")
        return reader, writer


async def probe(port, samples):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await expect(reader, b"INFO")
    writer.write(b'CONNECT {"verbose":false}\r\nPING\r\n')
    await expect(reader, b"PONG")
    rtts = []
    for _ in range(samples):
        start = time.perf_counter()
        writer.write(b"PING\r\n")
        await expect(reader, b"PONG")
        rtts.append((time.perf_counter() - start) * 1000)
    writer.close()
    return rtts


async def everyone_pings(conns):
    start = time.perf_counter()
    for _, writer in conns:
        writer.write(b"PING\r\n")

    async def pong(reader):
        await expect(reader, b"PONG")

    await asyncio.gather(*(pong(r) for r, _ in conns))
    return (time.perf_counter() - start) * 1000


async def main(args):
    port = free_port()
    server = subprocess.Popen(
        [args.server, "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        await asyncio.sleep(1)
        before = rss_kib(server.pid)
        gate = asyncio.Semaphore(args.concurrency)
        started = time.perf_counter()
        conns = await asyncio.gather(
            *(open_one(port, i, args.subs, gate) for i in range(args.conns))
        )
        connect_secs = time.perf_counter() - started
        await asyncio.sleep(args.settle)
        after = rss_kib(server.pid)
        per_conn = (after - before) / args.conns
        quiet = await probe(port, args.samples)
        burst_task = asyncio.ensure_future(everyone_pings(conns))
        during = await probe(port, min(args.samples, 500))
        burst_ms = await burst_task
        out = {
            "server": os.path.basename(args.server),
            "conns": args.conns,
            "subs_per_conn": args.subs,
            "connect_secs": round(connect_secs, 2),
            "rss_before_kib": before,
            "rss_after_kib": after,
            "rss_per_conn_kib": round(per_conn, 2),
            "projected_100k_mib": round((before + per_conn * 100_000) / 1024, 1),
            "ping_p50_ms": round(statistics.median(quiet), 3),
            "ping_p99_ms": round(percentile(quiet, 99), 3),
            "ping_max_ms": round(max(quiet), 3),
            "all_ping_last_pong_ms": round(burst_ms, 1),
            "ping_p99_during_all_ms": round(percentile(during, 99), 3),
        }
        print(json.dumps(out))
        print(
            f"{out['server']}: {args.conns} conns x {args.subs} subs in {connect_secs:.1f}s; "
            f"{per_conn:.2f} KiB/conn ({before} -> {after} KiB), "
            f"100k projected {out['projected_100k_mib']} MiB; "
            f"PING p50 {out['ping_p50_ms']} p99 {out['ping_p99_ms']} max {out['ping_max_ms']} ms; "
            f"all {args.conns} pinging: last PONG after {burst_ms:.0f} ms, "
            f"probe p99 meanwhile {out['ping_p99_during_all_ms']} ms",
            file=sys.stderr,
        )
        for _, writer in conns:
            writer.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("server")
    parser.add_argument("--conns", type=int, default=19_000)
    parser.add_argument("--subs", type=int, default=10)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--settle", type=float, default=2.0)
    asyncio.run(main(parser.parse_args()))
