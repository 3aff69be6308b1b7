"""The default telemetry backend: events batched to the host, with the host's sampling and filters.

Events are batched: inside a call they leave with the call's answer (before it,
so the host sees them first), outside a call at once. Where a batch goes is the
transport's sink (``install_sink``): a pipe ``telemetry`` frame or a gRPC
``StreamTelemetry`` call. The host may change the sampling rate, filters, the
on/off switch, resource sampling and the bridge's own call events at any time
(``configure``: a ``telemetry_control`` frame, or the ``ConfigureTelemetry`` RPC).
"""
from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Optional

from ..otel_tracing import correlation_var
from .resources import ResourceSampler

PREFIX = "snakepit.python."
_log = logging.getLogger("snakepit_bridge.telemetry")
_BATCH = 64  # events held before a flush even inside a call

_lock = threading.Lock()
# Read by the pipe's reply sink before each answer (a list mutated in place, never replaced).
buffer: List[Dict[str, Any]] = []


def full_name(name: str) -> str:
    """``custom`` -> ``snakepit.python.custom`` (``python.x`` and full names kept)."""
    full = _full_names.get(name)
    if full is None:
        full = name if name.startswith(PREFIX) else "snakepit." + name if name.startswith("python.") else PREFIX + name
        if len(_full_names) < _FULL_NAMES_KEPT:
            _full_names[name] = full
    return full


# Names seen -> full names: an event is named for every emit (a few per call with call events on).
_full_names: Dict[str, str] = {}
_FULL_NAMES_KEPT = 1024
_NUMBERS = (int, float)


def _measured(measurements: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """The numeric measurements (booleans left out)."""
    if not measurements:
        return {}
    for value in measurements.values():
        if type(value) not in _NUMBERS:
            break
    else:  # plain ints and floats only (the usual case): a copy
        return dict(measurements)
    return {k: v for k, v in measurements.items() if isinstance(v, _NUMBERS) and not isinstance(v, bool)}


def _deferred_event(deferred: List[Any]) -> Dict[str, Any]:
    _, name, measurements, metadata, correlation_id, ts = deferred
    return {"name": name, "measurements": measurements, "metadata": metadata, "correlation_id": correlation_id, "ts": ts}


class HostBackend:
    """Batches events for the host; ``emit`` has the original backends' signature."""

    def __init__(self) -> None:
        self.sink: Optional[Callable[[List[Dict[str, Any]]], None]] = None
        self.sampling = 1.0
        self.allow: Optional[frozenset] = None  # None: every name
        self.deny: frozenset = frozenset()
        self.enabled = True
        # The bridge's own python.call.* / tool.execution.* around every call: off until the host
        # asks (it does while a handler listens), so calls pay nothing for events nobody reads.
        self.call_events = False
        # The host reads a call's times in its compact answer (pipe: ``callTimes`` in its settings), so the
        # bridge's start/stop events of a call with nothing emitted between them need not be built here.
        self.carry_call_times = False
        # A call's start event held back (``defer``): [its place in the buffer, its fields]; None when none.
        self._deferred: Optional[List[Any]] = None
        self.sampler = ResourceSampler(self._emit_resource)

    def wanted(self, full: str) -> bool:
        if not self.enabled or full in self.deny or (self.allow is not None and full not in self.allow):
            return False
        rate = self.sampling
        return rate >= 1.0 or (rate > 0.0 and random.random() < rate)

    def emit(self, event_name: str, measurements: Optional[Mapping[str, Any]] = None,
             metadata: Optional[Mapping[str, Any]] = None, correlation_id: Optional[str] = None) -> None:
        """Queue one event (dropped by sampling/filters, or by the host if not catalogued)."""
        full = full_name(event_name)
        if self.sink is None or not self.wanted(full):
            return
        current = correlation_var.get()
        event = {
            "name": full,
            "measurements": _measured(measurements),
            "metadata": dict(metadata) if metadata else {},
            "correlation_id": correlation_id or current,
            "ts": time.time(),
        }
        _lock.acquire()  # not ``with``: ~110 ns less per event (the context manager protocol)
        try:
            buffer.append(event)
            full_batch = len(buffer) >= _BATCH
        finally:
            _lock.release()
        if full_batch or current is None:
            self.flush()

    def defer(self, name: str, measurements: Dict[str, Any], metadata: Dict[str, Any],
              correlation_id: Optional[str], ts: float) -> None:
        """Hold back an event that ``emit`` would buffer now (a call's start): it takes its place in the
        buffer only if something must follow it (a flush, or ``settle(False)``). One at a time: the
        process profile's calls run one after the other on one thread."""
        _lock.acquire()
        try:
            self._deferred = [len(buffer), name, measurements, metadata, correlation_id, ts]
        finally:
            _lock.release()

    def settle(self, carried: bool) -> bool:
        """The held-back event's call is answering. ``carried``: the answer can carry it instead. True
        when it does: the event was never buffered and nothing was buffered after its place; otherwise
        it is put in its place (if a flush has not already)."""
        _lock.acquire()
        try:
            deferred = self._deferred
            if deferred is None:
                return False
            self._deferred = None
            if carried and deferred[0] == len(buffer):
                return True
            buffer.insert(deferred[0], _deferred_event(deferred))
            return False
        finally:
            _lock.release()

    def flush(self) -> None:
        """Send what is buffered (the transport calls it before a call's answer)."""
        sink = self.sink
        if not buffer or sink is None:
            return
        with _lock:
            deferred = self._deferred
            if deferred is not None:  # events after it leave now: it goes first, in its place
                self._deferred = None
                buffer.insert(min(deferred[0], len(buffer)), _deferred_event(deferred))
            batch = buffer[:]
            del buffer[:]
        if batch:
            try:
                sink(batch)
            except Exception:  # noqa: BLE001 - telemetry never breaks a call
                _log.debug("telemetry batch lost", exc_info=True)

    def close(self) -> None:
        self.flush()

    def set_sampling(self, rate: float) -> None:
        self.sampling = min(1.0, max(0.0, float(rate)))

    def configure(self, changes: Mapping[str, Any]) -> None:
        """Apply a host ``telemetry_control`` map; a key left out keeps its value."""
        if changes.get("sampling") is not None:
            self.set_sampling(changes["sampling"])
        if "allow" in changes:
            allow = changes["allow"]
            self.allow = None if allow is None else frozenset(full_name(n) for n in allow)
        if changes.get("deny") is not None:
            self.deny = frozenset(full_name(n) for n in changes["deny"])
        if changes.get("enabled") is not None:
            self.enabled = bool(changes["enabled"])
        if changes.get("callEvents") is not None:
            self.call_events = bool(changes["callEvents"])
        if changes.get("callTimes") is not None:
            self.carry_call_times = bool(changes["callTimes"])
        if "resourceIntervalMs" in changes:
            self.sampler.set_interval(changes["resourceIntervalMs"])

    def settings(self) -> Dict[str, Any]:
        """Sampling rate, filters, on/off switch, call events and resource sampling interval now."""
        return {"sampling": self.sampling, "allow": sorted(self.allow) if self.allow is not None else None,
                "deny": sorted(self.deny), "enabled": self.enabled, "callEvents": self.call_events,
                "resourceIntervalMs": round(self.sampler.interval_ms())}

    def _emit_resource(self, name: str, measurements: Dict[str, Any]) -> None:
        self.emit(name, measurements, {})
