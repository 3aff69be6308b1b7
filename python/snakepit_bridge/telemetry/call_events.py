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

from .. import telemetry as _telemetry  # the package: its host backend and the backend in use, read per call
from ..otel_tracing import correlation_var
from . import emit
from .host_backend import PREFIX

_NAMES = ("python.call",)
# The event names, made once (not per call).
_STARTS = tuple(name + ".start" for name in _NAMES)
_STOPS = tuple(name + ".stop" for name in reversed(_NAMES))
_EXCEPTIONS = tuple(name + ".exception" for name in reversed(_NAMES))


_START = PREFIX + "call.start"
_STOP = PREFIX + "call.stop"
# Bits of a compact answer's call times (docs/protocol.md "Compact frames"): which events it carries.
CARRIES_START = 1
CARRIES_STOP = 2


class CallObservation:
    """One call's events in progress: ``begin`` makes it, ``carry`` or ``end`` finishes it."""

    __slots__ = ("meta", "started", "system_time", "deferred", "carried")

    def __init__(self, meta: Dict[str, Any], system_time: int, deferred: bool) -> None:
        self.meta = meta
        self.system_time = system_time  # time.time_ns() at the start
        self.deferred = deferred  # the start event is held back (HostBackend.defer), not settled yet
        self.carried = False  # the answer carried the times: ``end`` has nothing left to emit
        self.started = time.perf_counter_ns()


def begin(tool: Any, carriable: bool = False) -> Optional[CallObservation]:
    """Emit the ``start`` event; returns what ``end`` needs (None for a session-cleanup job).

    ``carriable``: the call's answer may carry its times (a pipe result on the process profile's
    thread): with the host's backend in use and ``callTimes`` on, the start is held back
    (``HostBackend.defer``) and ``carry`` hands both times to the answer when nothing was emitted
    between them. The host then builds the two events itself: no event maps, no telemetry frame.
    """
    if not isinstance(tool, str):
        return None
    meta = {"command": tool, "tool": tool}
    system_time = time.time_ns()
    host = _telemetry.host
    if carriable and host.carry_call_times and host.sink is not None and _telemetry._backend is host:
        deferred = host.wanted(_START)
        if deferred:
            host.defer(_START, {"count": 1, "system_time": system_time}, meta, correlation_var.get(), system_time / 1e9)
        return CallObservation(meta, system_time, deferred)
    measurements = {"count": 1, "system_time": system_time}
    for name in _STARTS:
        emit(name, measurements, meta)
    return CallObservation(meta, system_time, False)


def carry(observed: CallObservation) -> Optional[Tuple[int, int, int]]:
    """The answer's call times, ``(flags, system_time, duration)`` in ns, or None when it carries none
    (then ``end`` emits as usual). Once it returns times, ``end`` does nothing for the call."""
    host = _telemetry.host
    if observed.carried or not host.carry_call_times or host.sink is None or _telemetry._backend is not host:
        return None  # (a backend of the adapter's own gets its events from ``end``)
    flags = 0
    if observed.deferred:
        observed.deferred = False  # settled: in the answer, or in its place in the buffer
        if host.settle(True):
            flags = CARRIES_START
    if host.wanted(_STOP):
        flags |= CARRIES_STOP
    observed.carried = True
    return flags, observed.system_time, time.perf_counter_ns() - observed.started


def uncarry(observed: CallObservation, times: Tuple[int, int, int]) -> None:
    """The answer that was to carry ``times`` could not be sent (over the frame limit): emit them."""
    flags, system_time, elapsed = times
    if flags & CARRIES_START:
        emit(_START, {"count": 1, "system_time": system_time}, observed.meta)
    if flags & CARRIES_STOP:
        emit(_STOP, {"count": 1, "duration": elapsed, "duration_ms": elapsed / 1e6}, observed.meta)


def end(observed: CallObservation, failed: Optional[Dict[str, Any]]) -> None:
    """Emit the two ``stop`` events, or the two ``exception`` events when ``failed`` (its error map)."""
    if observed.carried:
        return
    if observed.deferred:  # the start was held back: it goes in its place, before anything that followed it
        observed.deferred = False
        _telemetry.host.settle(False)
    elapsed = time.perf_counter_ns() - observed.started
    measurements = {"count": 1, "duration": elapsed, "duration_ms": elapsed / 1e6}
    meta = observed.meta
    if failed is None:
        for name in _STOPS:
            emit(name, measurements, meta)
        return
    meta = {**meta, "error_type": failed.get("type"), "code": failed.get("code")}
    for name in _EXCEPTIONS:
        emit(name, measurements, meta)
