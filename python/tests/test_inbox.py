"""LeaderInbox hand-over between the main thread and the watcher (inbox.py)."""
import os
import select
import threading
import time

import pytest

from snakepit_bridge.inbox import LeaderInbox
from snakepit_bridge.pipe_transport import FrameReader
from snakepit_bridge.serialization import pack

pytestmark = pytest.mark.skipif(not hasattr(select, "epoll"), reason="LeaderInbox needs epoll")


class SlowReleaseLock:
    """A lock whose release() dawdles, widening the window between arming and releasing."""

    def __init__(self, lock):
        self._lock = lock

    def acquire(self, blocking=True):
        return self._lock.acquire(blocking)

    def release(self):
        time.sleep(0.05)
        self._lock.release()


def frame(obj):
    body = pack(obj)
    return len(body).to_bytes(4, "big") + body


def test_watcher_reads_a_frame_already_waiting_when_a_call_starts():
    # A ping that lands between the main thread's read and begin_busy() must still be answered
    # while the call runs. (When the epoll one-shot was armed before the lock was released, the
    # watcher woke, found the lock taken, and slept on a spent one-shot: nothing read fd 3 until
    # the call ended, so host replies, cancels and pings all waited.)
    r, w = os.pipe()
    seen = threading.Event()

    def handle(f):
        if f.get("t") == "ping":
            seen.set()
        return None

    inbox = LeaderInbox(FrameReader(r), handle, lambda: None, lambda exc: None)
    inbox._read_lock = SlowReleaseLock(inbox._read_lock)
    inbox.start()
    try:
        os.write(w, frame({"t": "ping", "id": 1}))
        inbox.begin_busy()
        assert seen.wait(2.0)
        inbox.end_busy()
    finally:
        os.close(w)
        os.close(r)
