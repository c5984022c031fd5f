#!/usr/bin/env python3
"""Resident memory per connection before, right after and some time after a burst
of large messages, for one or more servers in turn (nats-py clients).

    scripts/burst-memory.py [--clients N] [--size BYTES] [--burst N] [--settle S]
                            SERVER [SERVER ...]

SERVER is a server binary that takes nats-server's `-a HOST -p PORT` flags, with
any extra arguments in the same word. For each server: start it on a free port,
open N connections with 10 subscriptions each plus one on `burst`, read VmRSS;
every connection publishes 3 messages of SIZE bytes (to no one: its read buffer
grows), one publishes BURST messages of SIZE bytes to `burst` (every connection
receives them: its outbound buffers grow), read VmRSS; then nobody sends
anything for S seconds and VmRSS is read again. Prints KiB per connection above
the bare server's VmRSS at each point.
"""
import argparse
import asyncio
import os
import socket
import subprocess
import time

import nats


def resident_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def measure(server, args):
    port = free_port()
    proc = subprocess.Popen(
        server.split() + ["-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"nats://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        bare = resident_kib(proc.pid)
        received = 0

        async def count(_msg):
            nonlocal received
            received += 1

        conns = []
        for i in range(args.clients):
            nc = await nats.connect(url, pending_size=1 << 30)
            for j in range(10):
                await nc.subscribe(f"idle.{i}.{j}", cb=count)
            await nc.subscribe("burst", cb=count)
            conns.append(nc)
        for nc in conns:
            await nc.flush()
        await asyncio.sleep(1)
        idle = resident_kib(proc.pid)

        payload = b"x" * args.size
        for nc in conns:
            for k in range(3):
                await nc.publish(f"nobody.{k}", payload)
        for _ in range(args.burst):
            await conns[0].publish("burst", payload)
        for nc in conns:
            await nc.flush()
        while received < args.clients * args.burst:
            await asyncio.sleep(0.1)
        after = resident_kib(proc.pid)
        await asyncio.sleep(args.settle)
        settled = resident_kib(proc.pid)
        for nc in conns:
            await nc.close()

        def per_conn(kib):
            return (kib - bare) / args.clients

        print(
            f"{os.path.basename(server.split()[0])}: KiB per connection: "
            f"idle {per_conn(idle):.1f}, right after the burst {per_conn(after):.1f}, "
            f"{args.settle:g} s later {per_conn(settled):.1f}"
        )
    finally:
        proc.kill()
        proc.wait()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--size", type=int, default=64 * 1024)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--settle", type=float, default=20)
    parser.add_argument("servers", nargs="+")
    args = parser.parse_args()
    for server in args.servers:
        await measure(server, args)


asyncio.run(main())
