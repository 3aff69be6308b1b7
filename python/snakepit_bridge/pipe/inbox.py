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
  The one-shot is armed lazily: by a ticking timer (``WatchTimer``, every
  ``TICK_S`` while calls run) once one call has lasted a whole tick (so after
  1-2 ticks), or at once when the busy main thread writes a frame (a host
  request or a chunk: it may wait for a reply or credit next). Calls
  that the host pipelines behind a short call so wait for the main thread
  instead of waking the watcher (a GIL hand-off: measured 13.8 -> 12.9 µs of
  worker CPU per call, 2 workers with 8 calls in flight each).
- ``ThreadInbox`` (portable fallback): a reader thread reads everything and
  hands calls over through a ``SimpleQueue``.

``SNAKEPIT_READER=thread`` forces the fallback (used by the tests).
"""
from __future__ import annotations

import collections
import ctypes
import os
import queue
import select
import threading
from typing import Any, Callable, Deque, List

from .framing import FrameReader

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

    def next_waiting(self) -> Any:
        """While busy: the next call already received (the main thread runs it without going back
        to reading), or None."""
        raise NotImplementedError

    def end_busy(self) -> None:
        """The main thread is back and may read again."""

    def watch_now(self) -> None:
        """The busy main thread may soon wait for input (a host reply, stream credit):
        have it read by another thread now."""


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

    def next_waiting(self) -> Any:
        try:
            return self._calls.get_nowait()
        except queue.Empty:
            return None


class WatchTimer:
    """A periodic Linux timerfd (through libc; ``os.timerfd_*`` needs Python 3.13).
    ``create()`` is None where unavailable."""

    class _Spec(ctypes.Structure):
        _fields_ = [("interval_s", ctypes.c_long), ("interval_ns", ctypes.c_long),
                    ("value_s", ctypes.c_long), ("value_ns", ctypes.c_long)]

    def __init__(self, settime: Any, fd: int, period_s: float) -> None:
        self.fd = fd
        self._settime = settime
        s, ns = int(period_s), int(period_s % 1 * 1e9)
        self._on = ctypes.byref(self._Spec(s, ns, s, ns))
        self._off = ctypes.byref(self._Spec(0, 0, 0, 0))

    @classmethod
    def create(cls, period_s: float) -> "WatchTimer | None":
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            settime = libc.timerfd_settime
            fd = libc.timerfd_create(1, os.O_NONBLOCK | os.O_CLOEXEC)  # CLOCK_MONOTONIC
        except Exception:  # noqa: BLE001 - no timerfd: the watch is armed at once instead
            return None
        return cls(settime, fd, period_s) if fd >= 0 else None

    def start(self) -> None:
        self._settime(self.fd, 0, self._on, None)

    def stop(self) -> None:
        self._settime(self.fd, 0, self._off, None)

    def clear(self) -> None:
        try:
            os.read(self.fd, 8)
        except BlockingIOError:
            pass


class LeaderInbox(_Inbox):
    """The main thread reads while idle; a watcher thread reads while it is busy."""

    _ARMED = select.EPOLLIN | select.EPOLLONESHOT if hasattr(select, "epoll") else 0
    # Disarmed = one-shot with no events: a hang-up is then reported at most
    # once instead of waking the watcher in a loop.
    _DISARMED = select.EPOLLONESHOT if hasattr(select, "epoll") else 0

    # A call that runs one to two ticks gets the watcher (pings, cancels are read); host replies
    # and stream credit do not wait for it (watch_now). Arming a timer per call costs more than
    # the wake-ups it saves (a VM timer write), and so do 1 ms ticks: each wake-up takes the GIL
    # from the busy main thread (measured +2 µs of worker CPU per call at 8 calls in flight).
    TICK_S = 0.01

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._fd = self.reader.fd
        self._calls: Deque[Any] = collections.deque()
        # Held by the thread allowed to read: the main thread except while busy.
        self._read_lock = threading.Lock()
        self._read_lock.acquire()
        self._busy = False
        self._watching = False  # fd 3's one-shot may be armed
        self._seq = 0  # calls begun
        self._seen_seq = -1  # _seq at the previous tick
        self._ticking = False
        self._epoll = select.epoll()
        self._epoll.register(self._fd, self._DISARMED)
        self._timer = WatchTimer.create(self.TICK_S)
        if self._timer is not None:
            self._epoll.register(self._timer.fd, select.EPOLLIN)

    def start(self) -> None:
        threading.Thread(target=self._watch, name="snakepit-watcher", daemon=True).start()

    def next_call(self) -> Any:
        calls = self._calls
        while not calls:  # calls queued by the watcher come first: arrival order
            self._pump(calls.append)
        return calls.popleft()

    def next_waiting(self) -> Any:
        calls = self._calls
        if not calls:
            return None
        self._seq += 1  # another call begins: the tick sees progress
        return calls.popleft()

    def begin_busy(self) -> None:
        # Reset here, not only in end_busy: a watch_now() racing end_busy may have left it
        # set with the one-shot since spent (a wake-up while idle finds the lock held).
        self._watching = False
        self._busy = True
        self._seq += 1
        # Release first, then arm (which fires at once if data is waiting): armed first, the
        # watcher could wake, find the lock still held, and sleep on the spent one-shot while
        # frames wait unread for the whole call (host replies, cancels, pings).
        self._read_lock.release()
        timer = self._timer
        if timer is None:
            self.watch_now()
        elif not self._ticking:  # read after _busy is set: see _tick
            self._ticking = True
            timer.start()

    def watch_now(self) -> None:
        """While busy: let the watcher read fd 3 from now on (any thread may call it)."""
        if self._busy and not self._watching:
            self._watching = True
            self._epoll.modify(self._fd, self._ARMED)

    def end_busy(self) -> None:
        if self._watching:
            # A watch_now() racing this may leave fd 3 armed: its wake-up finds the lock held.
            self._watching = False
            self._epoll.modify(self._fd, self._DISARMED)
        self._read_lock.acquire()  # waits while the watcher finishes a read
        self._busy = False

    def _tick(self) -> None:
        timer = self._timer
        if not self._busy:  # idle: stop ticking until the next call begins
            self._ticking = False
            timer.stop()  # type: ignore[union-attr]
            # begin_busy sets _busy before it reads _ticking: one of the two restarts it.
            if self._busy and not self._ticking:
                self._ticking = True
                timer.start()  # type: ignore[union-attr]
        elif self._seq == self._seen_seq:  # one call for a whole tick: watch fd 3 from now on
            self.watch_now()
        else:
            self._seen_seq = self._seq

    def _watch(self) -> None:
        fd, poll = self._fd, self._epoll.poll
        timer = self._timer
        timer_fd = timer.fd if timer is not None else -1
        while True:
            events = poll()
            fd_ready = False
            for ready, _ in events:
                if ready == timer_fd:
                    timer.clear()  # type: ignore[union-attr]
                    self._tick()
                else:
                    fd_ready = True
            if not fd_ready:
                continue
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
