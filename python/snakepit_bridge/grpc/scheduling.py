"""Where and when gRPC calls run: the admission gate and the main-thread runner.

- ``Gate``: at most ``slots`` calls run at once (``--max-concurrency``), the
  others wait in arrival order. A queued call that is cancelled leaves the
  queue at once (it then answers ``cancelled`` without running).
- ``AnswerOrder``: in the process profile a unary call starts once the
  previous call's answer has left (the host's count of which call runs).
- ``MainThreadRunner``: in the process profile (concurrency 1) tool code runs
  on the main thread, one call at a time in arrival order, as over the pipe:
  ``initialize()``, tools, async tools (on the main thread's loop) and
  session hooks share one thread. Some code needs that: ``signal.signal``
  works only there, and objects such as sqlite connections made in
  ``initialize()`` refuse other threads.
"""
from __future__ import annotations

import collections
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Deque


class _Waiter:
    __slots__ = ("lock", "admitted")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()  # released by leave() (admitted) or a cancel (not admitted)
        self.admitted = False


class Gate:
    """A FIFO admission gate with ``slots`` places; a slot is handed over directly on leave."""

    __slots__ = ("_lock", "_free", "_waiting")

    def __init__(self, slots: int) -> None:
        self._lock = threading.Lock()
        self._free = slots
        self._waiting: Deque[_Waiter] = collections.deque()

    def enter(self, call: Any) -> bool:
        """Wait for a slot; False if the call was cancelled while waiting (no slot taken)."""
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return True
            waiter = _Waiter()
            self._waiting.append(waiter)
        # A cancel pulls the waiter out of the queue and wakes it without a slot.
        call.cancel_hook = lambda: self._abandon(waiter)
        if call.ctx.cancelled:  # the cancel may have come before the hook was set
            self._abandon(waiter)
        waiter.lock.acquire()
        call.cancel_hook = None
        return waiter.admitted

    def _abandon(self, waiter: _Waiter) -> None:
        with self._lock:
            try:
                self._waiting.remove(waiter)
            except ValueError:
                return  # already admitted: the call runs and sees its cancel flag
        waiter.lock.release()

    def leave(self) -> None:
        with self._lock:
            if self._waiting:
                waiter = self._waiting.popleft()
                waiter.admitted = True
                waiter.lock.release()
            else:
                self._free += 1


# Longest wait for the previous call's answer to leave before the next call starts (it takes microseconds;
# the bound only keeps a call from waiting on an RPC whose end grpcio never reports).
ANSWER_WAIT_S = 1.0


class AnswerOrder:
    """Process profile: a unary call starts only once the previous one's RPC has ended (grpcio sent
    its answer). The host counts its oldest unanswered call as the one running, so when a call
    crashes the worker every earlier answer must be out: else a call that ran would fail and the one
    that crashed would run again elsewhere. Used by the main thread only."""

    __slots__ = ("_previous",)

    def __init__(self) -> None:
        self._previous: "threading.Event | None" = None

    def next(self, context: Any) -> None:
        """Wait for the previous call's RPC to end, then note when this one (``context``) ends."""
        previous = self._previous
        if previous is not None:
            previous.wait(ANSWER_WAIT_S)
        ended = threading.Event()
        if not context.add_callback(ended.set):
            ended.set()  # already over
        self._previous = ended


class MainThreadRunner(ThreadPoolExecutor):
    """An executor whose work runs on the thread calling ``serve_forever`` (the main thread).

    A ``ThreadPoolExecutor`` subclass (that starts no threads) so grpcio takes
    it as a method's own pool (``experimental_thread_pool``): the serving
    thread then hands a whole ``ExecuteTool`` RPC straight to the main thread,
    one thread switch, as many as grpcio's own pool costs. Its FIFO queue is
    the process profile's order; ``run``/``submit`` hand over other work
    (stream producers, session hooks).
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="snakepit-unused")
        self._jobs: "queue.SimpleQueue[Any]" = queue.SimpleQueue()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> "Future[Any]":
        future: "Future[Any]" = Future()
        self._jobs.put((future, fn, args, kwargs))
        return future

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` on the main thread; wait and return its result (or raise)."""
        return self.submit(fn, *args).result()

    def serve_forever(self) -> None:
        """The main thread's loop (signal handlers run between jobs and inside them)."""
        get = self._jobs.get
        while True:
            future, fn, args, kwargs = get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                future.set_exception(exc)
                if isinstance(exc, SystemExit):  # a tool's sys.exit(): leave, as over the pipe
                    raise
            else:
                future.set_result(result)
