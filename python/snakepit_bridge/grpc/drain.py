"""Graceful drain of the container worker server on SIGTERM (what Kubernetes sends a pod it stops).

The order (``DrainingShutdown``):

1. the health service says ``NOT_SERVING`` (readiness probes fail, the pod
   leaves its Service's endpoints; ``liveness`` stays ``SERVING``);
2. new calls are refused at once with ``UNAVAILABLE`` and the trailing
   metadata ``x-snakepit-refused: draining``, a refusal the host recognises
   (``worker_draining``): such a call never started, so the host may send it
   elsewhere even when it is not idempotent. ``Ping`` and ``CancelTool``
   keep working, so the host neither declares the worker dead nor loses the
   way to cancel what still runs;
3. the calls in flight finish, up to ``--drain-timeout-s``; those still
   running then are cancelled (they answer ``cancelled``); then refusals go on
   until none came for ``QUIET_S`` (hosts have heard: a call sent after the
   connection closed could not be told from one lost mid-way);
4. the server stops (a short grace flushes the last answers), the adapter's
   ``cleanup()`` runs (bounded, ``shutdown.py``), the process exits 0.

The signal handler only starts a drain thread and returns: in the process
profile tool code runs on the main thread, where the handler runs too, so a
handler that waited for the calls would wait for itself.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any, Callable, Dict, Optional

import grpc

from ..shutdown import Shutdown

log = logging.getLogger("snakepit_bridge.drain")

REFUSED_HEADER = "x-snakepit-refused"
REFUSED_DRAINING = "draining"
SERVICE = "snakepit.bridge.v1.BridgeService"
# Calls whose end the drain waits for.
COUNTED = frozenset(("ExecuteTool", "ExecuteStreamingTool", "ExecuteBatch"))
# Refused once draining: a host must not start work (or attach) on a worker that is leaving.
REFUSED = COUNTED | {"Describe", "InitializeSession"}
# After the wait, the server gets this long to send the last answers.
FLUSH_S = 1.0
# The connection closes only once no call was refused for this long (from the drain's start on).
QUIET_S = 0.5


class Drain:
    """Admission of calls and the wait for those in flight."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.draining = False
        self.active = 0
        self._last_refusal = 0.0

    def admit(self, counted: bool) -> bool:
        """False once draining; else the call is in (counted ones until ``release``)."""
        with self._cond:
            if self.draining:
                self._last_refusal = time.monotonic()
                return False
            if counted:
                self.active += 1
            return True

    def release(self) -> None:
        with self._cond:
            self.active -= 1
            if self.active == 0:
                self._cond.notify_all()

    def begin(self) -> None:
        with self._cond:
            self.draining = True
            self._last_refusal = time.monotonic()

    def wait_quiet(self, quiet_s: float, timeout_s: float) -> None:
        """Until no call was refused for ``quiet_s`` (hosts stopped sending), at most ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                now = time.monotonic()
                until = min(self._last_refusal + quiet_s, deadline)
                if now >= until:
                    return
                self._cond.wait(until - now)

    def wait_idle(self, timeout_s: float) -> bool:
        """True once no counted call runs; False if some still run after ``timeout_s``."""
        with self._cond:
            return self._cond.wait_for(lambda: self.active == 0, timeout_s)


def _refuse(context: Any) -> None:
    context.set_trailing_metadata(((REFUSED_HEADER, REFUSED_DRAINING),))
    context.abort(grpc.StatusCode.UNAVAILABLE, "worker is draining: it takes no new calls")


def _unary(drain: Drain, counted: bool, behavior: Callable[..., Any], request: Any, context: Any) -> Any:
    if not drain.admit(counted):
        _refuse(context)
    if not counted:
        return behavior(request, context)
    try:
        return behavior(request, context)
    finally:
        drain.release()


def _stream(drain: Drain, behavior: Callable[..., Any], request: Any, context: Any) -> Any:
    if not drain.admit(True):
        _refuse(context)
    try:
        yield from behavior(request, context)
    finally:  # also when the client goes away and grpcio closes the generator
        drain.release()


class DrainInterceptor(grpc.ServerInterceptor):
    """Counts the calls in flight and refuses new ones once draining (wrapped handlers cached per method)."""

    def __init__(self, drain: Drain) -> None:
        self._drain = drain
        self._wrapped: Dict[str, Any] = {}

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        method = details.method
        handler = continuation(details)
        service, _, name = method[1:].partition("/")
        if handler is None or service != SERVICE or name not in REFUSED:
            return handler
        wrapped = self._wrapped.get(method)
        if wrapped is None:
            wrapped = self._wrapped[method] = self._wrap(handler, name in COUNTED)
        return wrapped

    def _wrap(self, handler: Any, counted: bool) -> Any:
        if handler.unary_unary is not None:
            behavior = handler.unary_unary
            wrapped = functools.partial(_unary, self._drain, counted, behavior)
            make = grpc.unary_unary_rpc_method_handler
        else:
            behavior = handler.unary_stream
            wrapped = functools.partial(_stream, self._drain, behavior)
            make = grpc.unary_stream_rpc_method_handler
        # The wrapper drops the process profile's `experimental_thread_pool` (the main thread) on
        # purpose: admission must be decided on a gRPC thread as the call arrives, not once the
        # main thread is free (a refusal would wait for the calls it drains). ExecuteTool then
        # hands the call to the main thread itself (one more thread switch per call).
        return make(wrapped, request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer)


class DrainingShutdown(Shutdown):
    """``Shutdown`` whose signal path drains first (see the module docstring)."""

    def __init__(self, cleanup: Callable[[], None], cancel_all: Callable[[], None],
                 exit_now: Callable[[int], None], drain: Drain, timeout_s: float,
                 on_drain: Callable[[], None]) -> None:
        super().__init__(cleanup, cancel_all, exit_now)
        self._drain = drain
        self._timeout_s = timeout_s
        self._on_drain = on_drain
        self._cancel_remaining = cancel_all
        self._begun = threading.Lock()
        # Set once the server is up: stops it with a grace (returns grpcio's "stopped" event).
        self.stop_server: Optional[Callable[[float], Any]] = None

    def run(self, reason: str) -> None:
        """Start the drain in its own thread (once) and return at once."""
        self._started.set()  # the base watcher: a handler is on it
        if not self._begun.acquire(blocking=False):
            return
        threading.Thread(target=self._drain_then_exit, args=(reason,), name="snakepit-drain",
                         daemon=True).start()

    def _drain_then_exit(self, reason: str) -> None:
        started = time.monotonic()
        log.info("%s: draining (up to %.1f s for %d call(s) in flight)", reason, self._timeout_s,
                 self._drain.active)
        self._on_drain()
        self._drain.begin()
        if not self._drain.wait_idle(self._timeout_s):
            log.warning("drain bound of %.1f s passed with %d call(s) still running: cancelling them",
                        self._timeout_s, self._drain.active)
            self._cancel_remaining()
            self._drain.wait_idle(FLUSH_S)  # cooperative tools answer `cancelled` now
        self._drain.wait_quiet(QUIET_S, max(0.0, started + self._timeout_s - time.monotonic()))
        stop = self.stop_server
        if stop is not None:
            stop(FLUSH_S).wait(FLUSH_S + 0.5)
        log.info("drained in %.2f s", time.monotonic() - started)
        Shutdown.run(self, reason)  # cleanup() (bounded), then exit 0
