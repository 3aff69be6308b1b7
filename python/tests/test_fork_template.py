"""End to end, the fork template: load once, fork on request, report exits; the forked child as a worker."""
import os
import secrets
import signal
import socket
import subprocess
import sys
import time

import pytest

from harness import Worker

ADAPTER = "fork_adapter.ForkAdapter"
HELLO_BYTES = 33  # a 32-character token and one role byte


class Stream(Worker):
    """The host end of a forked worker's protocol socket, with the harness's frame helpers."""

    def __init__(self, conn: socket.socket) -> None:  # noqa: super().__init__ would spawn
        self.conn = conn
        self.to_child = self.from_child = conn.fileno()
        self._buf = b""
        self._next_id = 0

    def close(self) -> None:
        self.conn.close()


class Template:
    """A template process (a harness Worker running fork_template) and the host's fork socket."""

    def __init__(self, tmp_path, env=None):
        self.path = str(tmp_path / "fork.sock")
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(16)
        self.proc = Worker(ADAPTER, env=env, stderr=subprocess.DEVNULL,
                           argv=[sys.executable, "-m", "snakepit_bridge.fork_template", "--adapter", ADAPTER,
                                 "--snakepit-run-id", "abcdefg"])
        self.streams = []
        self._next = 0

    def fork(self, worker_id):
        """Ask for a worker; returns (pid, its protocol Stream, its stdout and stderr sockets)."""
        self._next += 1
        token = secrets.token_hex(16)
        argv = ["--adapter", ADAPTER, "--worker-id", worker_id, "--snakepit-run-id", "abcdefg"]
        self.proc.send({"t": "fork", "id": self._next, "argv": argv, "token": token, "socket": self.path})
        forked = self.proc.recv()
        assert forked == {"t": "forked", "id": self._next, "pid": forked["pid"]}
        conns = {}
        self.server.settimeout(10)
        while len(conns) < 3:
            conn, _ = self.server.accept()
            hello = b""
            while len(hello) < HELLO_BYTES:
                hello += conn.recv(HELLO_BYTES - len(hello))
            assert hello[:32].decode() == token
            conns[hello[32:]] = conn
        stream = Stream(conns[b"p"])
        self.streams.append(stream)
        return forked["pid"], stream, conns[b"o"], conns[b"e"]

    def close(self):
        for s in self.streams:
            s.close()
        self.proc.close()
        self.server.close()


@pytest.fixture
def template(tmp_path):
    made = []

    def make(**env):
        t = Template(tmp_path, env={"FORK_MARKER": str(tmp_path / "marker"), **env})
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()


def marks(tmp_path):
    return [line.split() for line in (tmp_path / "marker").read_text().splitlines()]


def gone(pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(") ", 1)[1][0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def test_preload_runs_once_and_every_forked_worker_shares_it(template, tmp_path):
    t = template()
    ready = t.proc.ready()
    assert ready["pid"] == t.proc.proc.pid and ready["preloaded"] is True and "refused" not in ready
    workers = [t.fork(f"w{i}") for i in range(2)]
    for pid, stream, _, _ in workers:
        assert stream.ready()["pid"] == pid
        info = stream.request("info")["value"]
        assert info == {"pid": pid, "ppid": t.proc.proc.pid, "pgid": pid, "preload_pid": t.proc.proc.pid,
                        "shared_bytes": 1024 * 1024, "shared_sum_sample": 7}
    lines = marks(tmp_path)
    assert lines[0] == ["preload", str(t.proc.proc.pid)]  # before any fork, once
    assert sorted(lines[1:]) == sorted(["initialize", str(w[0])] for w in workers)  # each child, in any order
    with open(f"/proc/{workers[0][0]}/comm") as f:
        assert f.read().strip() == "w0"


def test_forked_stdout_and_stderr_reach_their_own_sockets(template):
    t = template()
    t.proc.ready()
    _, stream, out, err = t.fork("w1")
    stream.ready()
    assert stream.request("speak", {"text": "hi"})["value"] is True
    out.settimeout(5)
    err.settimeout(5)
    assert b"out: hi\n" in out.recv(4096)
    text = b""
    while b"err: hi\n" not in text:
        text += err.recv(4096)


def test_a_killed_child_is_reported_and_touches_neither_the_template_nor_its_sibling(template):
    t = template()
    t.proc.ready()
    victim, vstream, _, _ = t.fork("w1")
    sibling, sstream, _, _ = t.fork("w2")
    vstream.ready()
    sstream.ready()
    os.kill(victim, signal.SIGKILL)
    assert t.proc.recv() == {"t": "exited", "pid": victim, "code": None, "signal": "SIGKILL"}
    assert sstream.request("info")["value"]["pid"] == sibling
    # The template still forks.
    pid, stream, _, _ = t.fork("w3")
    assert stream.ready()["pid"] == pid


def test_an_orderly_exit_is_reported_with_its_code(template):
    t = template()
    t.proc.ready()
    pid, stream, _, _ = t.fork("w1")
    stream.ready()
    stream.send({"t": "shutdown"})
    assert t.proc.recv() == {"t": "exited", "pid": pid, "code": 0, "signal": None}


def test_the_host_gone_ends_the_template_and_its_children(template):
    t = template()
    t.proc.ready()
    pid, stream, _, _ = t.fork("w1")
    stream.ready()
    os.close(t.proc.to_child)  # EOF on the template's fd 3: the host is gone
    assert t.proc.wait(10) == 0
    assert gone(pid)  # PDEATHSIG from the template, and EOF on its own socket once the test closes it


def test_fork_is_refused_when_preload_started_a_thread(template):
    t = template(FORK_PRELOAD_THREAD="1")
    ready = t.proc.ready()
    assert ready["refused"]["code"] == "threads" and "preload-poller" in ready["refused"]["message"]


def test_a_failing_preload_is_fatal_with_its_traceback(template):
    t = template(FORK_PRELOAD_FAIL="1")
    frame = t.proc.recv(20)
    assert frame["t"] == "fatal"
    assert frame["error"]["code"] == "adapter_import" and frame["error"]["type"] == "RuntimeError"
    assert "preload" in frame["error"]["traceback"]
    assert t.proc.wait(10) == 3
