"""Requests to the host over the pipe: ``host`` frames out on fd 4, ``host_reply`` frames in from fd 3."""
from __future__ import annotations

import itertools
import logging
import threading
from typing import Any, Dict, Optional

from .. import wire_errors
from ..errors import HostToolError
from ..host_channel import HostChannel, Pending, unavailable
from . import frames

log = logging.getLogger("snakepit_bridge.host")

__all__ = ["PipeHostChannel"]


class PipeHostChannel(HostChannel):
    """Host requests as ``host`` frames on fd 4; ``deliver`` takes ``host_reply`` frames from fd 3."""

    def __init__(self, writer: Any) -> None:
        super().__init__()
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
        try:
            self.writer.send(frames.host_request(rid, call_id, op, payload))
        except ValueError as exc:  # over the frame limit: nothing was written
            self._forget(rid)
            raise HostToolError(str(exc), code=wire_errors.INVALID_HOST_TOOL_ARGS) from exc
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
