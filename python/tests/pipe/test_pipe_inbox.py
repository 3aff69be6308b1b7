"""LeaderInbox hand-over between the main thread and the watcher (pipe/inbox.py)."""
import os
import select
import threading
import time

import pytest

from snakepit_bridge.pipe.framing import FrameReader
from snakepit_bridge.pipe.inbox import LeaderInbox
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


@pytest.fixture
def pipe():
    r, w = os.pipe()
    yield r, w
    os.close(w)
    os.close(r)


def _ping_inbox(r, seen, cls=LeaderInbox):
    def handle(f):
        if f.get("t") == "ping":
            seen.set()
        return None

    return cls(FrameReader(r), handle, lambda: None, lambda exc: None)


def _ping_answered_during_call(inbox, w, seen, ping_id, watch_now=False):
    """Start a call, send a ping while it runs; True if the watcher read it."""
    seen.clear()
    inbox.begin_busy()
    assert not inbox._watching  # each call starts unwatched (pipelined calls stay on the main thread)
    if watch_now:
        inbox.watch_now()
    os.write(w, frame({"t": "ping", "id": ping_id}))
    answered = seen.wait(2.0)
    inbox.end_busy()
    return answered


def test_watcher_reads_a_frame_already_waiting_when_a_call_starts(pipe):
    # A ping that lands between the main thread's read and begin_busy() must still be answered
    # while the call runs. (When the epoll one-shot was armed before the lock was released, the
    # watcher woke, found the lock taken, and slept on a spent one-shot: nothing read fd 3 until
    # the call ended, so host replies, cancels and pings all waited.)
    r, w = pipe
    seen = threading.Event()
    inbox = _ping_inbox(r, seen)
    inbox._read_lock = SlowReleaseLock(inbox._read_lock)
    inbox.start()
    os.write(w, frame({"t": "ping", "id": 1}))
    inbox.begin_busy()
    assert seen.wait(2.0)
    inbox.end_busy()


def test_a_long_call_gets_the_watcher_after_the_timer_ticks(pipe):
    # fd 3 is not watched when a call starts (pipelined calls would wake the watcher for
    # nothing); once the call has lasted a whole tick the watcher reads it.
    r, w = pipe
    seen = threading.Event()
    inbox = _ping_inbox(r, seen)
    assert inbox._timer is not None  # Linux: the timerfd is there
    inbox.start()
    assert _ping_answered_during_call(inbox, w, seen, 1)


class SlowTickInbox(LeaderInbox):
    TICK_S = 3600.0  # never ticks within the test: only watch_now() can arm the watch


def test_watch_now_lets_the_watcher_read_before_any_tick(pipe):
    # A busy main thread that writes (a host request, a chunk) may wait for input next:
    # the writer's hook (watch_now) arms the watch at once.
    r, w = pipe
    seen = threading.Event()
    inbox = _ping_inbox(r, seen, SlowTickInbox)
    inbox.start()
    assert _ping_answered_during_call(inbox, w, seen, 1, watch_now=True)
    # The next call starts unwatched again, and watch_now() arms it again.
    assert _ping_answered_during_call(inbox, w, seen, 2, watch_now=True)
