"""The seed walkthrough with the nats-py client: the system account's user sees
another account's connect, disconnect and failed login; the application sees
its own messages and no system subject."""
import asyncio
import json

import nats
import pytest


async def collect(sub, seconds):
    got = []
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            return got
        try:
            got.append(await sub.next_msg(timeout=left))
        except nats.errors.TimeoutError:
            return got


def test_admin_sees_events_and_user_sees_no_sys(seed_server):
    async def run():
        admin = await nats.connect(seed_server.url, user="admin", password="changeit")
        events = await admin.subscribe(">")
        await admin.flush()

        a = await nats.connect(seed_server.url, user="a", password="a", name="py-agent")
        mine = await a.subscribe(">")
        await a.flush()
        await a.publish("foo", b"bar")
        await a.flush()
        msg = await mine.next_msg(timeout=5)
        assert (msg.subject, msg.data) == ("foo", b"bar")
        rest = await collect(mine, 0.5)
        assert not [m.subject for m in rest if m.subject.startswith("$SYS")]
        await a.close()

        with pytest.raises(Exception):
            await nats.connect(seed_server.url, user="a", password="wrong",
                               allow_reconnect=False, max_reconnect_attempts=0,
                               connect_timeout=2)

        got = [m for m in await collect(events, 3) if not m.subject.endswith(".STATSZ")]
        subjects = [m.subject for m in got]
        assert "$SYS.SERVER.ACCOUNT.USERS.CONNS" in subjects
        assert "$SYS.ACCOUNT.USERS.SERVER.CONNS" in subjects
        assert "$SYS.ACCOUNT.USERS.CONNECT" in subjects
        assert "$SYS.ACCOUNT.USERS.DISCONNECT" in subjects
        assert "foo" not in subjects, "the system account saw another account's message"
        connect = json.loads(next(m for m in got if m.subject.endswith("USERS.CONNECT")).data)
        assert connect["client"]["user"] == "a"
        assert connect["client"]["name"] == "py-agent"
        assert connect["client"]["lang"] == "python3"
        disconnect = json.loads(
            next(m for m in got if m.subject.endswith("USERS.DISCONNECT")).data)
        assert disconnect["reason"] == "Client Closed"
        assert disconnect["sent"] == {"msgs": 1, "bytes": 3}
        auth_err = [m for m in got if m.subject.endswith(".CLIENT.AUTH.ERR")]
        assert auth_err, subjects
        body = json.loads(auth_err[0].data)
        assert body["reason"] == "Authentication Failure"
        assert body["client"]["acc"] == "$G"
        await admin.close()

    asyncio.run(run())
