"""Telemetry from Python tools, folded into the host's event bus (the original's ``snakepit_bridge.telemetry``).

    from snakepit_bridge import telemetry

    telemetry.emit("tool.execution.stop", {"duration_ms": 12.5}, {"tool": "predict"})
    with telemetry.span("tool.execution", {"model": "bert"}):
        ...   # start, then stop (with duration) or exception
    telemetry.get_correlation_id()   # the host call's correlation id, inside a tool

Names are the host's catalog (``snakepit.python.*``; the prefix may be left out);
the host drops and counts anything else. The default backend batches events to the
host (``host_backend.py``: inside a call they leave with its answer); ``set_backend``
replaces it (``backends.StderrBackend``, or your own ``TelemetryBackend``), ``None``
turns telemetry off. The OpenTelemetry and correlation helpers come from
``otel_tracing`` (``otel_span`` is its span). See docs/protocol.md, "Telemetry".
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import time
from typing import Any, Dict, Iterator, List, Mapping, Optional

from ..otel_tracing import (CORRELATION_HEADER, correlation_filter, correlation_var, get_correlation_id,
                            get_tracer, new_correlation_id, outgoing_metadata, reset_correlation_id,
                            set_correlation_id, setup_tracing)
from ..otel_tracing import span as otel_span
from .host_backend import PREFIX, HostBackend, full_name
from .host_backend import buffer as _buffer

__all__ = ["emit", "span", "set_backend", "get_backend", "is_enabled", "setup_tracing", "get_tracer",
           "correlation_filter", "new_correlation_id", "set_correlation_id", "reset_correlation_id",
           "get_correlation_id", "outgoing_metadata", "CORRELATION_HEADER", "otel_span",
           "set_sampling", "flush", "configure", "settings"]

host = HostBackend()
_backend: Any = host


def set_backend(backend: Any) -> None:
    """Send events to ``backend`` (an object with ``emit(event, measurements, metadata, correlation_id)``);
    None turns telemetry off. The host's own backend is ``telemetry.host``."""
    global _backend
    _backend = backend


def get_backend() -> Any:
    """The backend events go to now (None: off)."""
    return _backend


def is_enabled() -> bool:
    """Whether events go anywhere: a backend is set (and, for the host's, the host has not switched it off)."""
    backend = _backend
    return backend is not None and (backend is not host or host.enabled)


def emit(event: str, measurements: Optional[Mapping[str, Any]] = None, metadata: Optional[Mapping[str, Any]] = None,
         correlation_id: Optional[str] = None) -> None:
    """Send one event (dropped by sampling/filters, or by the host if not catalogued)."""
    backend = _backend
    if backend is not None:
        backend.emit(event, measurements or {}, metadata, correlation_id)


_CATALOGUED_SPANS = (PREFIX + "tool.execution", PREFIX + "call", PREFIX + "python.call", PREFIX + "span")
_span_stack: contextvars.ContextVar[tuple] = contextvars.ContextVar("snakepit_span_stack", default=())


@contextlib.contextmanager
def span(operation: str, metadata: Optional[Mapping[str, Any]] = None,
         correlation_id: Optional[str] = None) -> Iterator[Dict[str, Any]]:
    """``operation.start`` now, then ``operation.stop`` (``duration`` in ns and ``duration_ms``) or
    ``operation.exception`` (with ``error_type``/``error_message``, re-raised).

    Spans nest: each carries ``span_id`` and its parent's ``parent_span_id``. A name outside the
    catalog (``"inference"``) becomes ``span.*`` with ``span: "inference"`` in its metadata.
    """
    base = operation[: -len(".start")] if operation.endswith(".start") else operation
    catalogued = full_name(base) in _CATALOGUED_SPANS
    prefix = base if catalogued else "span"
    meta: Dict[str, Any] = dict(metadata or {})
    if not catalogued:
        meta["span"] = base
    parent = _span_stack.get()
    meta["span_id"] = f"{random.getrandbits(64):016x}"
    if parent:
        meta["parent_span_id"] = parent[-1]
    token = _span_stack.set(parent + (meta["span_id"],))
    started = time.perf_counter_ns()
    emit(prefix + ".start", {"system_time": time.time_ns()}, meta, correlation_id)
    try:
        yield meta
    except BaseException as exc:
        elapsed = time.perf_counter_ns() - started
        emit(prefix + ".exception", {"duration": elapsed, "duration_ms": elapsed / 1e6},
             {**meta, "error_type": type(exc).__name__, "error_message": str(exc)[:200],
              "kind": type(exc).__name__, "reason": str(exc)[:200]}, correlation_id)
        raise
    finally:
        _span_stack.reset(token)
    elapsed = time.perf_counter_ns() - started
    emit(prefix + ".stop", {"duration": elapsed, "duration_ms": elapsed / 1e6}, meta, correlation_id)


# -- the host backend's controls ---------------------------------------------------------


def set_sampling(rate: float) -> None:
    """Keep each event with probability ``rate`` (0 silences, 1 keeps all)."""
    host.set_sampling(rate)


def configure(changes: Mapping[str, Any]) -> None:
    """Apply a host ``telemetry_control`` map: ``sampling``, ``allow``, ``deny``, ``enabled``,
    ``callEvents``, ``resourceIntervalMs``."""
    host.configure(changes)


def settings() -> Dict[str, Any]:
    """The host backend's settings now."""
    return host.settings()


def flush() -> None:
    """Send what is buffered (the transport calls it before a call's answer)."""
    host.flush()


# -- for the transports -------------------------------------------------------------------


def install_sink(sink: Any) -> None:
    """Where the host backend's batches go: a pipe ``telemetry`` frame, or a gRPC ``StreamTelemetry`` call."""
    host.sink = sink


def bind_call(correlation_id: Optional[str]) -> contextvars.Token:
    """Marks the current thread / task as serving a call (``reset_call`` undoes it)."""
    return correlation_var.set(correlation_id)


def reset_call(token: contextvars.Token) -> None:
    correlation_var.reset(token)
    if _buffer:
        host.flush()


def install_log_correlation() -> None:
    """Every log record gets ``snakepit_corr`` (`` [correlation_id=…]`` inside a call, else "") and
    ``correlation_id`` (``-`` outside calls, as the original's). The bridge's stderr format ends
    with ``snakepit_corr``; the host moves it into the log record's context."""
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        cid = correlation_var.get()
        record.snakepit_corr = f" [correlation_id={cid}]" if cid else ""
        if not getattr(record, "correlation_id", None):
            record.correlation_id = cid or "-"
        return record

    logging.setLogRecordFactory(factory)


def _pending() -> List[Dict[str, Any]]:
    return _buffer
