"""SIGTERM / SIGINT / ``shutdown`` frame: run cleanup (bounded), then exit 0.

Python runs signal handlers on the main thread between bytecodes. That alone
is not reliable: a signal that lands just before the main thread enters a
blocking call (``read``, ``epoll_wait`` of the asyncio loop, a lock wait)
sets a flag nobody looks at until the call returns, which may be never.
So the C-level handler also writes to a wake-up pipe (``signal.set_wakeup_fd``)
and a small thread watching that pipe runs the shutdown itself when the
main-thread handler has not started shortly after.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any, Callable

log = logging.getLogger("snakepit_bridge.shutdown")

CLEANUP_TIMEOUT_S = 2.0  # the bound on cleanup(), after which we exit anyway
HANDLER_GRACE_S = 0.25  # how long the watcher lets the main-thread handler start
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Shutdown:
    """Runs ``cleanup`` once, from whichever thread gets there first, then exits."""

    def __init__(self, cleanup: Callable[[], None], cancel_all: Callable[[], None],
                 exit_now: Callable[[int], None]) -> None:
        self._cleanup = cleanup
        self._cancel_all = cancel_all
        self._exit = exit_now
        self._once = threading.Lock()
        self._started = threading.Event()

    def install(self) -> None:
        """Install the handlers (main thread only, before other threads start)."""
        r, w = os.pipe()
        os.set_blocking(w, False)  # the C handler must never block on it
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        for sig in _SIGNALS:
            signal.signal(sig, self._on_signal)
        threading.Thread(target=self._watch, args=(r,), name="snakepit-signals", daemon=True).start()

    def request(self) -> None:
        """Shut down from any thread (the ``shutdown`` frame)."""
        self._cancel_all()  # cooperative tools stop now instead of at the bound
        signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)  # type: ignore[arg-type]

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.run(f"signal {signum}")

    def _watch(self, fd: int) -> None:
        wanted = {int(s) for s in _SIGNALS}
        while True:
            data = os.read(fd, 64)
            if not data:
                return
            if wanted.intersection(data) and not self._started.wait(HANDLER_GRACE_S):
                self.run("signal (main thread unresponsive)")

    def run(self, reason: str) -> None:
        """Cancel calls, run cleanup bounded by ``CLEANUP_TIMEOUT_S``, exit 0."""
        if not self._once.acquire(blocking=False):
            return  # another thread is already shutting down
        self._started.set()
        log.info("%s: cleaning up and exiting", reason)
        timer = threading.Timer(CLEANUP_TIMEOUT_S, self._exit, (0,))
        timer.daemon = True
        timer.start()
        try:
            self._cancel_all()
            self._cleanup()
        except BaseException:  # noqa: BLE001 - we exit anyway
            log.exception("adapter cleanup failed")
        self._exit(0)
