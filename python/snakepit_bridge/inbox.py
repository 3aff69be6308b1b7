"""Who reads fd 3, and how ``call`` frames reach the main thread.

Control frames (``ping``, ``cancel``, ``shutdown``) must be handled even while
a tool blocks the main thread, so some other thread has to be able to read.
Two strategies, same interface:

- ``LeaderInbox`` (Linux, default): the main thread reads fd 3 itself while
  idle, so a call costs no thread hand-off (measured ~20 µs less per round
  trip here than a queue hand-off: one cross-CPU wake-up fewer). While a call
  runs, an epoll one-shot armed on fd 3 wakes a watcher thread, which then
  reads, answers control frames and queues calls until the main thread is
  back. A lock held by whichever thread may read keeps them apart.
- ``ThreadInbox`` (portable fallback): a reader thread reads everything and
  hands calls over through a ``SimpleQueue``.

``SNAKEPIT_READER=thread`` forces the fallback (used by the tests).
"""
from __future__ import annotations

import collections
import os
import queue
import select
import threading
from typing import Any, Callable, Deque, List

from .pipe_transport import FrameReader

# handle(frame) answers control frames itself and returns the Call for a call.
Handler = Callable[[Any], Any]


class _Inbox:
    def __init__(self, reader: FrameReader, handle: Handler,
                 on_eof: Callable[[], None], on_error: Callable[[BaseException], None]) -> None:
        self.reader = reader
        self.handle = handle
        self.on_eof = on_eof
        self.on_error = on_error

    def _read(self) -> List[Any]:
        try:
            return self.reader.read_once()
        except (EOFError, BrokenPipeError):
            self.on_eof()
        except BaseException as exc:  # noqa: BLE001 - ProtocolError, OSError...
            self.on_error(exc)
        return []  # pragma: no cover - both callbacks exit the process

    def _pump(self, sink: Callable[[Any], None]) -> None:
        handle = self.handle
        for frame in self._read():
            try:
                call = handle(frame)
            except BrokenPipeError:
                self.on_eof()
                return
            if call is not None:
                sink(call)

    def start(self) -> None:
        """Start helper threads."""

    def next_call(self) -> Any:
        """Block until the next call (main thread only)."""
        raise NotImplementedError

    def begin_busy(self) -> None:
        """The main thread is about to run a call (or start-up work)."""

    def end_busy(self) -> None:
        """The main thread is back and may read again."""


class ThreadInbox(_Inbox):
    """A dedicated reader thread; calls reach the main thread via a queue."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._calls: "queue.SimpleQueue[Any]" = queue.SimpleQueue()

    def start(self) -> None:
        threading.Thread(target=self._run, name="snakepit-reader", daemon=True).start()

    def _run(self) -> None:
        put = self._calls.put
        while True:
            self._pump(put)

    def next_call(self) -> Any:
        return self._calls.get()


class LeaderInbox(_Inbox):
    """The main thread reads while idle; a watcher thread reads while it is busy."""

    _ARMED = select.EPOLLIN | select.EPOLLONESHOT if hasattr(select, "epoll") else 0
    # Disarmed = one-shot with no events: a hang-up is then reported at most
    # once instead of waking the watcher in a loop.
    _DISARMED = select.EPOLLONESHOT if hasattr(select, "epoll") else 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._fd = self.reader.fd
        self._calls: Deque[Any] = collections.deque()
        # Held by the thread allowed to read: the main thread except while busy.
        self._read_lock = threading.Lock()
        self._read_lock.acquire()
        self._busy = False
        self._epoll = select.epoll()
        self._epoll.register(self._fd, self._DISARMED)

    def start(self) -> None:
        threading.Thread(target=self._watch, name="snakepit-watcher", daemon=True).start()

    def next_call(self) -> Any:
        calls = self._calls
        while not calls:  # calls queued by the watcher come first: arrival order
            self._pump(calls.append)
        return calls.popleft()

    def begin_busy(self) -> None:
        self._busy = True
        # Release first, then arm (which fires at once if data is waiting): armed first, the
        # watcher could wake, find the lock still held, and sleep on the spent one-shot while
        # frames wait unread for the whole call (host replies, cancels, pings).
        self._read_lock.release()
        self._epoll.modify(self._fd, self._ARMED)

    def end_busy(self) -> None:
        self._epoll.modify(self._fd, self._DISARMED)
        self._read_lock.acquire()  # waits while the watcher finishes a read
        self._busy = False

    def _watch(self) -> None:
        fd, poll = self._fd, self._epoll.poll
        while True:
            poll()
            # Failing to get the lock means the main thread is reading again;
            # the one-shot is spent, so just wait for the next arming.
            if not self._read_lock.acquire(blocking=False):
                continue
            try:
                if not self._busy:
                    continue
                # Only read what is there: a stale wake-up must not block
                # while holding the lock.
                if select.select([fd], [], [], 0)[0]:
                    self._pump(self._calls.append)
                self._epoll.modify(fd, self._ARMED)  # keep watching while busy
            finally:
                self._read_lock.release()


def make_inbox(reader: FrameReader, handle: Handler, on_eof: Callable[[], None],
               on_error: Callable[[BaseException], None]) -> _Inbox:
    """The best inbox for this platform (``SNAKEPIT_READER`` overrides)."""
    choice = os.environ.get("SNAKEPIT_READER", "").strip().lower()
    if choice != "thread" and hasattr(select, "epoll"):
        return LeaderInbox(reader, handle, on_eof, on_error)
    return ThreadInbox(reader, handle, on_eof, on_error)
