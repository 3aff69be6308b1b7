"""The bridge's own events around every tool call: ``python.call.start|stop|exception``.

As the original catalogued them: ``start`` with ``count`` (and ``system_time``, ns),
``stop`` with ``duration`` (ns), ``duration_ms`` and ``count``, ``exception`` with
``duration``, ``duration_ms``, ``count`` and the error's ``error_type``/``code`` in the
metadata (``command`` and ``tool`` name the tool). Sent only while the host asks for
them (``callEvents`` in its telemetry settings, which it sets while a handler listens
to one of them): each call then carries two more events. ``tool.execution.*`` stay the
adapter's own (``telemetry.span("tool.execution", ...)``), as in the original, whose
showcase emitted them itself: a bridge copy would count such tools twice.
"""
from __future__ import annotations

import time
from typing import Any, Dict, Optional, Tuple

from . import emit

_NAMES = ("python.call",)
# The event names, made once (not per call).
_STARTS = tuple(name + ".start" for name in _NAMES)
_STOPS = tuple(name + ".stop" for name in reversed(_NAMES))
_EXCEPTIONS = tuple(name + ".exception" for name in reversed(_NAMES))


def begin(tool: Any) -> Optional[Tuple[Dict[str, Any], int]]:
    """Emit the two ``start`` events; returns what ``end`` needs (None for a session-cleanup job)."""
    if not isinstance(tool, str):
        return None
    meta = {"command": tool, "tool": tool}
    measurements = {"count": 1, "system_time": time.time_ns()}
    for name in _STARTS:
        emit(name, measurements, meta)
    return meta, time.perf_counter_ns()


def end(begun: Tuple[Dict[str, Any], int], failed: Optional[Dict[str, Any]]) -> None:
    """Emit the two ``stop`` events, or the two ``exception`` events when ``failed`` (its error map)."""
    meta, started = begun
    elapsed = time.perf_counter_ns() - started
    measurements = {"count": 1, "duration": elapsed, "duration_ms": elapsed / 1e6}
    if failed is None:
        for name in _STOPS:
            emit(name, measurements, meta)
        return
    meta = {**meta, "error_type": failed.get("type"), "code": failed.get("code")}
    for name in _EXCEPTIONS:
        emit(name, measurements, meta)
