#!/usr/bin/env python3
"""Server CPU at a fixed rate of round trips: what a light, steady load costs.

    scripts/rate-cpu.py [-r ROUNDS] [-t SECONDS] [--rates 100,1000,5000,20000]
                        [--mode ping|request] [--pin] [--json FILE] SERVER...

Each SERVER is a server binary that takes nats-server's `-a HOST -p PORT`
flags, with any extra arguments in the same word ("gannet-server --idle_spin
100us"); the last one is the reference the others are compared with. For every
rate and server a fresh server is started on its own port, and one client,
paced on a fixed schedule (open loop: a late reply does not delay the next
send), does RATE round trips a second for a warm-up second and then for
SECONDS (default 5) more. The server's CPU time over those SECONDS is read from
/proc: the run time of its threads (/proc/PID/task/*/schedstat, nanoseconds);
/proc/PID/stat's utime+stime is printed beside it per run as a check (in clock
ticks of 10 ms, too coarse for the lowest rates).

A round trip (--mode):
  ping     (default) one connection sends `PUB <subject> 16` with a 16-byte
           payload and a `PING` in one write and waits for the `PONG`: a
           publish followed by a flush. No subscribers.
  request  a requester publishes 16 bytes with a reply subject; a responder (a
           second connection of the same client, subscribed) answers with 16
           bytes; the requester receives the answer: request/reply through the
           server, two messages in and two out per round trip.

By default nothing is pinned: server and client share the machine's CPUs, as
on an operator's machine. --pin runs the server on CPU 0 and the client on CPU
1, as compare.sh does: then every message wakes a thread on the other CPU, and
on a virtual machine the sender pays for that wake-up (an interrupt through the
hypervisor) inside its send, the same for any server, which raises both
servers' figures and brings their ratio towards 1.

Servers alternate in order from round to round. Like compare.sh, the script
estimates what other processes used during each run (the machine's busy time
from /proc/stat less the server's and the client's) and repeats a run, up to
--retries times, when that exceeds --max-other cores. It prints one line per
run, then per rate the medians over the rounds: each server's CPU in % of one
core, its ratio to the reference, and the round trip's p50/p99 in µs. The
client is raw sockets and Python's standard library; it holds 20,000 round
trips a second on one core (the summary says what it held and used).
"""
import argparse
import ctypes
import json
import os
import select
import shlex
import socket
import statistics
import subprocess
import sys
import time

PAYLOAD = b"0123456789abcdef"
CLK_TCK = os.sysconf("SC_CLK_TCK")
WARMUP = 1.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ns(pid):
    """Run time of every thread of `pid`, in nanoseconds, by thread id."""
    times = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                times[tid] = int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return times


def cpu_ticks(pid):
    """utime + stime of process `pid` (all its threads, live or gone), in ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def machine_busy():
    """CPU time used on the whole machine so far, in seconds (all CPUs)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


def connect(port, subs=(), deadline=10.0):
    """A client connection, handshake done and subscriptions in place."""
    end = time.monotonic() + deadline
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=1)
            break
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.02)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    while b"\r\n" not in buf:
        buf += sock.recv(4096)
    hello = b'CONNECT {"verbose":false,"pedantic":false}\r\n'
    hello += b"".join(f"SUB {subject} {sid}\r\n".encode() for sid, subject in enumerate(subs, 1))
    sock.sendall(hello + b"PING\r\n")
    buf = b""
    while not buf.endswith(b"PONG\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    sock.setblocking(False)
    return sock


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def frames(buf):
    """Splits whole `PING`, `PONG` and `MSG` frames off `buf` (a bytearray):
    returns the number of replies (PONG or MSG) and of server PINGs."""
    replies = pings = 0
    pos = 0
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            break
        if buf.startswith(b"MSG ", pos):
            size = int(buf[pos:eol].rsplit(b" ", 1)[1])
            if len(buf) < eol + 2 + size + 2:
                break
            eol += size + 2
            replies += 1
        elif buf.startswith(b"PONG", pos):
            replies += 1
        elif buf.startswith(b"PING", pos):
            pings += 1
        elif not buf.startswith(b"+OK", pos):
            raise RuntimeError(f"unexpected {bytes(buf[pos:eol + 2])!r}")
        pos = eol + 2
    del buf[:pos]
    return replies, pings


def drive(port, rate, seconds, mode, on_start):
    """Round trips at `rate` for WARMUP + `seconds`; calls `on_start` when the
    measured part begins and returns its figures."""
    if mode == "ping":
        req = connect(port)
        frame = b"PUB bench.rate 16\r\n" + PAYLOAD + b"\r\nPING\r\n"
        resp = None
    else:
        req = connect(port, subs=["_INBOX.rate"])
        resp = connect(port, subs=["bench.rate"])
        frame = b"PUB bench.rate _INBOX.rate 16\r\n" + PAYLOAD + b"\r\n"
        answer = b"PUB _INBOX.rate 16\r\n" + PAYLOAD + b"\r\n"
    sockets = [req] if resp is None else [req, resp]
    period = 1.0 / rate
    start = time.monotonic()
    measure_from = start + WARMUP
    end = measure_from + seconds
    next_send = start
    sent_at = []  # send times, in order; replies come back in the same order
    replies = 0
    bufs = {sock: bytearray() for sock in sockets}
    latencies = []
    started = False
    cpu0 = None
    while True:
        now = time.monotonic()
        if not started and now >= measure_from:
            started = True
            on_start()
            cpu0 = os.times()
            sent_before = len(sent_at)
        if now >= end:
            break
        if now >= next_send:
            req.send(frame)
            sent_at.append(now)
            next_send += period
            continue
        readable, _, _ = select.select(sockets, [], [], next_send - now)
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the connection")
            buf = bufs[sock]
            buf += data
            n, pings = frames(buf)
            if pings:
                sock.send(b"PONG\r\n" * pings)
            if sock is req:
                got_at = time.monotonic()
                for i in range(replies, replies + n):
                    if sent_at[i] >= measure_from:
                        latencies.append(got_at - sent_at[i])
                replies += n
            elif n:
                resp.send(answer * n)
    cpu1 = os.times()
    sent_measured = len(sent_at) - sent_before
    for sock in sockets:
        sock.close()
    latencies.sort()
    client_cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return {
        "held_rate": sent_measured / seconds,
        "replied": len(latencies) / max(1, sent_measured),
        "client_cpu": client_cpu / seconds,
        "p50_us": percentile(latencies, 0.50) * 1e6,
        "p99_us": percentile(latencies, 0.99) * 1e6,
    }


def run(server, rate, args):
    port = free_port()
    cmd = shlex.split(server) + ["-a", "127.0.0.1", "-p", str(port)]
    if args.pin:
        cmd = ["taskset", "-c", "0"] + cmd
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # taskset execs the server: the pid is the server's.
        marks = {}

        def on_start():
            marks["ns"], marks["ticks"] = cpu_ns(proc.pid), cpu_ticks(proc.pid)
            marks["busy"] = machine_busy()

        result = drive(port, rate, args.seconds, args.mode, on_start)
        ns1, ticks1, busy1 = cpu_ns(proc.pid), cpu_ticks(proc.pid), machine_busy()
        ns = sum(t - marks["ns"].get(tid, 0) for tid, t in ns1.items())
        result["server_cpu"] = ns / 1e9 / args.seconds
        result["server_cpu_ticks"] = (ticks1 - marks["ticks"]) / CLK_TCK / args.seconds
        # What the rest of the machine used meanwhile, in cores.
        busy = (busy1 - marks["busy"]) / args.seconds
        result["other"] = max(0.0, busy - result["server_cpu"] - result["client_cpu"])
        if proc.poll() is not None:
            raise RuntimeError(f"{server} exited during the run")
        return result
    finally:
        proc.terminate()
        proc.wait()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("servers", nargs="+", metavar="SERVER")
    parser.add_argument("-r", "--rounds", type=int, default=3)
    parser.add_argument("-t", "--seconds", type=float, default=5.0)
    parser.add_argument("--rates", default="100,1000,5000,20000")
    parser.add_argument("--mode", choices=["ping", "request"], default="ping")
    parser.add_argument("--pin", action="store_true",
                        help="server on CPU 0, client on CPU 1 (as compare.sh)")
    parser.add_argument("--max-other", type=float, default=0.25,
                        help="repeat a run when other processes used more cores than this")
    parser.add_argument("--retries", type=int, default=3)
    parser.add_argument("--json", help="append every run to this file, one JSON line each")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    if args.pin:
        os.sched_setaffinity(0, {1})
    # Sleep to the microsecond rather than to the default 50 µs timer slack.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(29, 1, 0, 0, 0)  # PR_SET_TIMERSLACK
    except (OSError, AttributeError):
        pass

    runs = []
    for round_no in range(args.rounds):
        for rate in rates:
            order = args.servers if round_no % 2 == 0 else args.servers[::-1]
            for server in order:
                result = run(server, rate, args)
                for _ in range(args.retries):
                    if result["other"] <= args.max_other:
                        break
                    print(f"  (repeating: other processes used {result['other']:.2f} cores)",
                          file=sys.stderr, flush=True)
                    time.sleep(2)
                    result = run(server, rate, args)
                result.update(server=server, rate=rate, round=round_no + 1, mode=args.mode)
                runs.append(result)
                r = result
                print(
                    f"round {round_no + 1} {rate:>6}/s  server {r['server_cpu'] * 100:6.2f}% "
                    f"(ticks {r['server_cpu_ticks'] * 100:6.2f}%)  "
                    f"held {r['held_rate']:8.0f}/s  client {r['client_cpu'] * 100:5.1f}%  "
                    f"p50 {r['p50_us']:7.1f} µs  p99 {r['p99_us']:7.1f} µs  "
                    f"other {r['other']:.2f}  {server}",
                    file=sys.stderr,
                    flush=True,
                )
                if args.json:
                    with open(args.json, "a") as out:
                        out.write(json.dumps(result) + "\n")

    def med(server, rate, key):
        mine = [r[key] for r in runs if r["server"] == server and r["rate"] == rate]
        return statistics.median(mine)

    names = {s: chr(ord("A") + i) for i, s in enumerate(args.servers)}
    ref = args.servers[-1]
    print(f"mode: {args.mode}, {args.seconds:g} s per run, median of {args.rounds} rounds")
    for server, name in names.items():
        print(f"{name} = {server}")
    head = f"{'rate/s':>7} {'held/s':>7}"
    for server, name in names.items():
        head += f" {name + ' CPU %':>9}"
    for server, name in names.items():
        if server != ref:
            head += f" {name + '/' + names[ref]:>6}"
    for server, name in names.items():
        head += f" {name + ' p50/p99 µs':>16}"
    print(head)
    for rate in rates:
        line = f"{rate:>7} {min(med(s, rate, 'held_rate') for s in args.servers):>7.0f}"
        for server in args.servers:
            line += f" {med(server, rate, 'server_cpu') * 100:>9.2f}"
        for server in args.servers:
            if server != ref:
                line += f" {med(server, rate, 'server_cpu') / med(ref, rate, 'server_cpu'):>6.2f}"
        for server in args.servers:
            line += f" {med(server, rate, 'p50_us'):>7.0f}/{med(server, rate, 'p99_us'):<8.0f}"
        print(line)
    worst_client = max(r["client_cpu"] for r in runs)
    worst_held = min(r["held_rate"] / r["rate"] for r in runs)
    worst_replied = min(r["replied"] for r in runs)
    print(
        f"client: at most {worst_client * 100:.0f}% of its core; held at least "
        f"{worst_held:.3f} of each rate; replies to at least {worst_replied:.3f} of its sends"
    )
    if worst_held < 0.98:
        print("warning: the client did not hold every rate; its figures are not comparable")
    print(f"other processes: at most {max(r['other'] for r in runs):.2f} cores during a run")


if __name__ == "__main__":
    main()
