#!/usr/bin/env python3
"""What loopback carries on this machine: a plain byte relay, the ceiling for a
server forwarding large messages from one connection to another.

    scripts/loopback-relay.py [BYTES]      (default 4 GiB)

A sender process writes BYTES in 1 MiB writes to the relay, which copies them
to a receiver socket as they come (no parsing); prints the bytes per second
end to end and the same as 64 KiB messages per second, to set beside
`compare.sh -g raw ... pubsub64k`.
"""
import socket, threading, time, os, sys
TOTAL = int(sys.argv[1]) if len(sys.argv) > 1 else 4 << 30
CHUNK = 1 << 20
def listener():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1); return s
ls_in, ls_out = listener(), listener()
def relay():
    a, _ = ls_in.accept(); b, _ = ls_out.accept()
    buf = bytearray(CHUNK); mv = memoryview(buf)
    while True:
        n = a.recv_into(buf)
        if n == 0: break
        b.sendall(mv[:n])
    b.close()
threading.Thread(target=relay, daemon=True).start()
# The relay runs in this process's thread; sender and receiver are separate processes.
pid = os.fork()
if pid == 0:
    s = socket.create_connection(ls_in.getsockname()); data = b"x" * CHUNK; sent = 0
    time.sleep(0.2)
    while sent < TOTAL: s.sendall(data); sent += CHUNK
    s.close(); os._exit(0)
r = socket.create_connection(ls_out.getsockname())
got = 0; buf = bytearray(CHUNK); t0 = None
while True:
    n = r.recv_into(buf)
    if n == 0: break
    if t0 is None: t0 = time.time()
    got += n
dt = time.time() - t0
print(f"relayed {got/1e9:.2f} GB in {dt:.2f} s: {got/dt/1e9:.2f} GB/s = {got/dt/65536:,.0f} msgs/s of 64 KiB")
