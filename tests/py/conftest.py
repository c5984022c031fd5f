"""Starts the real gannet-server binary for the Python client tests.

The binary is target/debug/gannet-server (under $CARGO_TARGET_DIR when set;
built by `cargo build` in scripts/test.sh), or $GANNET_TEST_SERVER, so the same tests can run against
nats-server to check that they test the reference's behaviour.
"""
import json
import os
import pathlib
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def server_binary():
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return os.environ.get("GANNET_TEST_SERVER", str(target / "debug" / "gannet-server"))


class Server:
    def __init__(self, config):
        self.dir = tempfile.TemporaryDirectory()
        conf = pathlib.Path(self.dir.name) / "server.conf"
        conf.write_text(config)
        self.log = open(pathlib.Path(self.dir.name) / "server.log", "w")
        self.proc = subprocess.Popen(
            [server_binary(), "-c", str(conf), "-a", "127.0.0.1", "-p", "-1",
             "--ports_file_dir", self.dir.name],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            ports = list(pathlib.Path(self.dir.name).glob("*.ports"))
            if ports:
                try:
                    self.url = json.loads(ports[0].read_text())["nats"][0]
                    return
                except (ValueError, KeyError):
                    pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("server did not start: " +
                           (pathlib.Path(self.dir.name) / "server.log").read_text())

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        self.dir.cleanup()


@pytest.fixture
def seed_server():
    s = Server("""
accounts {
  USERS: { users: [{user: a, password: a}] }
  SYS: { users: [{user: admin, password: changeit}] }
}
system_account: SYS
""")
    yield s
    s.stop()
