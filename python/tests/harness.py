"""Test helper: spawn ``python -m snakepit_bridge.server`` with pipes on fds 3/4."""
from __future__ import annotations

import fcntl
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from snakepit_bridge.serialization import pack, unpack

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parent
FIXTURES = REPO / "test" / "fixtures" / "python"


class Worker:
    """A live worker process and the host ends of its pipes."""

    def __init__(self, adapter: str, *extra: str, env: Optional[Dict[str, str]] = None,
                 stdout: Any = subprocess.DEVNULL, stderr: Any = None,
                 argv: Optional[List[str]] = None) -> None:
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = os.pathsep.join([str(PYTHON_DIR), str(FIXTURES)])
        full_env["PYTHONUNBUFFERED"] = "1"
        full_env.update(env or {})
        if argv is None:  # a custom argv runs something else on the same pipes
            argv = [sys.executable, "-m", "snakepit_bridge.server", "--adapter", adapter, *extra]
        # Let bash move the pipe ends onto fds 3/4 and exec Python, as the Node
        # host's stdio array does (a preexec_fn dup2 would be undone by close_fds).
        # Park the ends on fds >= 10 first so the redirections cannot collide.
        r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)
        script = f'exec "$@" 3<&{r} 4>&{w} {r}<&- {w}>&-'
        self.proc = subprocess.Popen(
            ["/bin/bash", "-c", script, "bash", *argv],
            pass_fds=(r, w), env=full_env, stdout=stdout, stderr=stderr,
        )
        os.close(r)
        os.close(w)
        self._buf = b""
        self._next_id = 0

    # -- frames ----------------------------------------------------------------

    def send(self, frame: Dict[str, Any]) -> None:
        body = pack(frame)
        os.write(self.to_child, len(body).to_bytes(4, "big") + body)

    def send_raw(self, data: bytes) -> None:
        os.write(self.to_child, data)

    def _fill(self, deadline: float) -> bool:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([self.from_child], [], [], left)
        if not ready:
            return False
        data = os.read(self.from_child, 1 << 20)
        if not data:
            raise EOFError("worker closed fd 4")
        self._buf += data
        return True

    def recv(self, timeout: float = 10.0) -> Dict[str, Any]:
        """Next frame, or TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self._buf) >= 4:
                n = int.from_bytes(self._buf[:4], "big")
                if len(self._buf) >= 4 + n:
                    body, self._buf = self._buf[4 : 4 + n], self._buf[4 + n :]
                    return unpack(body)
            if not self._fill(deadline):
                raise TimeoutError("no frame from the worker in time")

    def recv_until(self, pred: Any, timeout: float = 10.0) -> List[Dict[str, Any]]:
        """Frames up to and including the first one matching ``pred``."""
        deadline = time.monotonic() + timeout
        out = []
        while True:
            frame = self.recv(max(0.0, deadline - time.monotonic()))
            out.append(frame)
            if pred(frame):
                return out

    def ready(self, timeout: float = 20.0) -> Dict[str, Any]:
        frame = self.recv(timeout)
        assert frame["t"] == "ready", frame
        return frame

    def call(self, tool: str, args: Optional[Dict[str, Any]] = None, *, stream: bool = False,
             session: Optional[str] = None, meta: Optional[Dict[str, Any]] = None) -> int:
        self._next_id += 1
        self.send({"t": "call", "id": self._next_id, "tool": tool, "args": args or {},
                   "session": session, "meta": meta, "stream": stream})
        return self._next_id

    def request(self, tool: str, args: Optional[Dict[str, Any]] = None, timeout: float = 10.0,
                **kw: Any) -> Dict[str, Any]:
        """Send a call and return its ``result``/``error`` frame."""
        cid = self.call(tool, args, **kw)
        frames = self.recv_until(lambda f: f.get("id") == cid and f["t"] in ("result", "error"), timeout)
        return frames[-1]

    # -- process ---------------------------------------------------------------

    def wait(self, timeout: float = 10.0) -> int:
        return self.proc.wait(timeout)

    def close(self) -> None:
        for fd in (self.to_child, self.from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def echo_args() -> Dict[str, Any]:
    """Values of every wire kind, for the echo round trips of both transports."""
    import numpy as np

    return {"i": 1, "f": 1.5, "big": 2**100, "neg": -(2**70), "b": b"\x00\x01",
            "nested": {"l": [1, None, True]}, "arr": np.arange(6, dtype=np.int16).reshape(2, 3)}


def assert_echoed(echoed: Dict[str, Any], args: Dict[str, Any]) -> None:
    """``echoed`` is ``args`` back: equal values, the array as an int16 ndarray."""
    import numpy as np

    arr = echoed.pop("arr")
    expected = dict(args)
    expected.pop("arr")
    assert echoed == expected
    assert isinstance(arr, np.ndarray) and arr.dtype == np.int16
    np.testing.assert_array_equal(arr, args["arr"])

