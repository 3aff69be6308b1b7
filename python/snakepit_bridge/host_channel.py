"""Requests from Python to the host: host tools, their list, session state.

docs/protocol.md, "Calls from Python to the host". A ``HostChannel`` sends one
request (``op`` = ``call`` | ``list`` | ``state``) on behalf of a running call
and blocks the calling thread until the answer, the wait bound, or the call's
cancellation, whichever comes first. Two transports:

- ``PipeHostChannel`` (here): ``host`` frames out on fd 4, ``host_reply``
  frames handed in by the thread reading fd 3 (``deliver``).
- ``GrpcHostChannel`` (``grpc_host_channel.py``): the host's ``HostService``.

Waiting is on a ``threading.Event`` that the reply (or the RPC's completion)
sets, and that the call's cancel also sets (``SessionContext._watch_cancel``):
no polling, so neither answers nor cancels wait for a tick.
"""
from __future__ import annotations

import itertools
import logging
import threading
from typing import Any, Callable, Dict, Optional

from .errors import HostToolError, ToolCancelledError

log = logging.getLogger("snakepit_bridge.host")

__all__ = ["HostChannel", "PipeHostChannel", "Pending", "DEFAULT_HOST_TIMEOUT_MS", "GRACE_S"]

# The host's default timeout for a host tool (timeout_ms nil / 0).
DEFAULT_HOST_TIMEOUT_MS = 30_000
# Python waits this much longer than the host's own timeout before giving up
# on its own: the host's host_tool_timeout answer normally comes first.
GRACE_S = 5.0


def unavailable(why: str) -> HostToolError:
    return HostToolError(f"no connection to the host: {why}", code="host_unavailable")


class Pending:
    """One request in flight: ``event`` is set once ``done`` (answered or failed)."""

    __slots__ = ("event", "done", "value", "error", "key")

    def __init__(self, key: Any = None) -> None:
        self.key = key  # the transport's handle: request id (pipe), RPC future (gRPC)
        self.event = threading.Event()
        self.done = False
        self.value: Any = None
        self.error: Optional[HostToolError] = None

    def finish(self, value: Any = None, error: Optional[HostToolError] = None) -> None:
        self.value, self.error = value, error
        self.done = True  # before set(): a woken waiter must see it
        self.event.set()

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class HostChannel:
    """Base class: the waiting logic; subclasses send (``_start``) and forget (``_abandon``)."""

    grace_s = GRACE_S

    def wait_bound(self, timeout_ms: Optional[int]) -> float:
        """Seconds to wait for an answer: the host's timeout plus the grace."""
        ms = timeout_ms if timeout_ms else DEFAULT_HOST_TIMEOUT_MS
        return ms / 1000 + self.grace_s

    def request(self, op: str, call_id: Any, payload: Dict[str, Any], timeout_s: float,
                ctx: Any = None) -> Any:
        """Send ``op`` for call ``call_id`` (None: no call) and return the reply's value.

        Raises ``HostToolError`` on an error reply, on no reply within
        ``timeout_s`` (code ``host_tool_timeout``) and when there is no host
        (``host_unavailable``); ``ToolCancelledError`` as soon as ``ctx`` (the
        call's ``SessionContext``) is cancelled while waiting.
        """
        if ctx is not None and ctx.cancelled:
            raise ToolCancelledError("the call was cancelled before its host request")
        pending = self._start(op, call_id, payload, timeout_s)
        unwatch: Optional[Callable[[], None]] = None
        if ctx is not None:
            unwatch = ctx._watch_cancel(pending.event)
        try:
            pending.event.wait(timeout_s)
        finally:
            if unwatch is not None:
                unwatch()
        if pending.done:
            return pending.outcome()
        self._abandon(pending)
        if ctx is not None and ctx.cancelled:
            raise ToolCancelledError(f"the call was cancelled while waiting for the host ({op})")
        raise HostToolError(f"no answer from the host to {op!r} within {timeout_s:.1f} s",
                            code="host_tool_timeout")

    def _start(self, op: str, call_id: Any, payload: Dict[str, Any], timeout_s: float) -> Pending:
        raise NotImplementedError

    def _abandon(self, pending: Pending) -> None:
        """The waiter gave up: a late answer must be dropped (and the request cancelled if possible)."""

    def close(self) -> None:
        """The host is gone: fail every waiting request with ``host_unavailable``."""


class PipeHostChannel(HostChannel):
    """Host requests as ``host`` frames on fd 4; ``deliver`` takes ``host_reply`` frames from fd 3."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer  # the thread-safe FrameWriter shared with call answers
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: Dict[int, Pending] = {}
        self._closed = False

    def _start(self, op: str, call_id: Any, payload: Dict[str, Any], timeout_s: float) -> Pending:
        with self._lock:
            if self._closed:
                raise unavailable("the host closed the pipe")
            rid = next(self._ids)
            pending = self._pending[rid] = Pending(rid)
        frame = {"t": "host", "id": rid, "call": call_id, "op": op}
        frame.update(payload)
        try:
            self.writer.send(frame)
        except ValueError as exc:  # over the frame limit: nothing was written
            self._forget(rid)
            raise HostToolError(str(exc), code="invalid_host_tool_args") from exc
        except OSError as exc:  # BrokenPipeError: the host is gone
            self._forget(rid)
            raise unavailable(f"{type(exc).__name__}: {exc}") from exc
        return pending

    def _forget(self, rid: Any) -> Optional[Pending]:
        with self._lock:
            return self._pending.pop(rid, None)

    def _abandon(self, pending: Pending) -> None:
        self._forget(pending.key)

    def deliver(self, frame: Dict[str, Any]) -> None:
        """A ``host_reply`` frame (called by the thread reading fd 3)."""
        pending = self._forget(frame.get("id"))
        if pending is None:  # its waiter timed out or was cancelled
            log.debug("dropping host_reply for unknown request %r", frame.get("id"))
            return
        err = frame.get("error")
        if err is not None:
            pending.finish(error=HostToolError.from_error_map(err))
        else:
            pending.finish(frame.get("value"))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            waiting, self._pending = list(self._pending.values()), {}
        for pending in waiting:
            pending.finish(error=unavailable("the host closed the pipe"))
