"""Requests from Python to the host (host tools, their list, session state): the waiting, for both transports.

docs/protocol.md, "Calls from Python to the host". A ``HostChannel`` sends one
request (``op`` = ``call`` | ``list`` | ``state``) on behalf of a running call
and blocks the calling thread until the answer, the wait bound, or the call's
cancellation, whichever comes first. Two transports:

- ``pipe.host_channel.PipeHostChannel``: ``host`` frames out on fd 4,
  ``host_reply`` frames handed in by the thread reading fd 3 (``deliver``).
- ``grpc.host_channel.GrpcHostChannel``: the host's ``HostService``.

The wait bound of a request without its own ``timeout_ms`` follows the host's
``hostToolTimeoutMs``, which spawned workers get as ``SNAKEPIT_HOST_TOOL_TIMEOUT_MS``
(30 s when unset, e.g. attached workers), plus a grace: the host's own
``host_tool_timeout`` answer normally comes first.

Waiting is on a ``threading.Event`` that the reply (or the RPC's completion)
sets, and that the call's cancel also sets (``SessionContext._watch_cancel``):
no polling, so neither answers nor cancels wait for a tick.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Optional

from . import wire_errors
from .errors import HostToolError, ToolCancelledError
from .shm import env_int

__all__ = ["HostChannel", "Pending", "DEFAULT_HOST_TIMEOUT_MS", "ENV_HOST_TOOL_TIMEOUT_MS", "GRACE_S",
           "default_timeout_ms", "unavailable"]

# The host's default timeout for a host tool (timeout_ms nil / 0) when it did not say.
DEFAULT_HOST_TIMEOUT_MS = 30_000
# Set by the host at spawn from its ``hostToolTimeoutMs``.
ENV_HOST_TOOL_TIMEOUT_MS = "SNAKEPIT_HOST_TOOL_TIMEOUT_MS"
# Python waits this much longer than the host's own timeout before giving up
# on its own: the host's host_tool_timeout answer normally comes first.
GRACE_S = 5.0


def default_timeout_ms() -> int:
    """The host's timeout for a request without its own: ``SNAKEPIT_HOST_TOOL_TIMEOUT_MS`` or 30 s."""
    return env_int(ENV_HOST_TOOL_TIMEOUT_MS, ENV_HOST_TOOL_TIMEOUT_MS.encode()) or DEFAULT_HOST_TIMEOUT_MS


def unavailable(why: str) -> HostToolError:
    return HostToolError(f"no connection to the host: {why}", code=wire_errors.HOST_UNAVAILABLE)


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
    """Base class: the waiting logic; subclasses send (``_start``) and forget (``_abandon``).

    ``default_timeout_ms``: the host's timeout for requests without their own, read from
    the environment when the channel is made (the host sets it at spawn).
    """

    grace_s = GRACE_S
    default_timeout_ms = DEFAULT_HOST_TIMEOUT_MS

    def __init__(self) -> None:
        self.default_timeout_ms = default_timeout_ms()

    def wait_bound(self, timeout_ms: Optional[int]) -> float:
        """Seconds to wait for an answer: the host's timeout plus the grace."""
        ms = timeout_ms if timeout_ms else self.default_timeout_ms
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
                            code=wire_errors.HOST_TOOL_TIMEOUT)

    def _start(self, op: str, call_id: Any, payload: Dict[str, Any], timeout_s: float) -> Pending:
        raise NotImplementedError

    def _abandon(self, pending: Pending) -> None:
        """The waiter gave up: a late answer must be dropped (and the request cancelled if possible)."""

    def close(self) -> None:
        """The host is gone: fail every waiting request with ``host_unavailable``."""
