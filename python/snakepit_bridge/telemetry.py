"""Telemetry from Python tools, folded into the host's event bus (docs/protocol.md, "Telemetry").

    from snakepit_bridge import telemetry

    telemetry.emit("tool.execution.stop", {"duration_ms": 12.5}, {"tool": "predict"})
    with telemetry.span("tool.execution", {"model": "bert"}):
        ...   # start, then stop (with duration_ms) or exception
    telemetry.get_correlation_id()   # the host call's correlation id, inside a tool

Names are the host's catalog (``snakepit.python.*``; the prefix may be left
out); the host drops and counts anything else. Events are batched: inside a
call they leave with the call's answer (before it, so the host sees them
first), outside a call at once. The host may change the sampling rate and
filters at any time (a ``telemetry_control`` frame, or the ``ConfigureTelemetry``
RPC of gRPC workers); nothing restarts.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional

__all__ = ["emit", "span", "get_correlation_id", "set_sampling", "flush", "configure", "settings"]

_PREFIX = "snakepit.python."
_log = logging.getLogger("snakepit_bridge.telemetry")
_BATCH = 64  # events held before a flush even inside a call

# The call being served in this thread / task: its correlation id (None outside calls).
_correlation: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("snakepit_correlation_id", default=None)
_lock = threading.Lock()
_buffer: List[Dict[str, Any]] = []
_sink: Optional[Callable[[List[Dict[str, Any]]], None]] = None
_sampling = 1.0
_allow: Optional[frozenset] = None  # None: every name
_deny: frozenset = frozenset()
_enabled = True


def _full(name: str) -> str:
    if name.startswith(_PREFIX):
        return name
    return "snakepit." + name if name.startswith("python.") else _PREFIX + name


def get_correlation_id() -> Optional[str]:
    """The correlation id of the host call this code serves (None outside a call)."""
    return _correlation.get()


def settings() -> Dict[str, Any]:
    """Current sampling rate, filters, on/off switch and resource sampling interval."""
    return {"sampling": _sampling, "allow": sorted(_allow) if _allow is not None else None,
            "deny": sorted(_deny), "enabled": _enabled,
            "resourceIntervalMs": round(_sampler.interval_ms())}


def set_sampling(rate: float) -> None:
    """Keep each event with probability ``rate`` (0 silences, 1 keeps all)."""
    global _sampling
    _sampling = min(1.0, max(0.0, float(rate)))


def configure(control: Mapping[str, Any]) -> None:
    """Apply a host ``telemetry_control`` frame: ``sampling``, ``allow``, ``deny``, ``enabled``."""
    global _allow, _deny, _enabled
    if "sampling" in control and control["sampling"] is not None:
        set_sampling(control["sampling"])
    if "allow" in control:
        allow = control["allow"]
        _allow = None if allow is None else frozenset(_full(n) for n in allow)
    if "deny" in control and control["deny"] is not None:
        _deny = frozenset(_full(n) for n in control["deny"])
    if "enabled" in control and control["enabled"] is not None:
        _enabled = bool(control["enabled"])
    if "resourceIntervalMs" in control:
        _sampler.set_interval(control["resourceIntervalMs"])


class _ResourceSampler:
    """``memory.sampled`` (RSS bytes) and ``cpu.sampled`` (percent of one core since the last
    sample) every ``interval_ms``, from a daemon thread; off (0) by default."""

    def __init__(self) -> None:
        self._interval_s = 0.0
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def interval_ms(self) -> float:
        return self._interval_s * 1000.0

    def set_interval(self, interval_ms: Any) -> None:
        self._interval_s = max(0.0, float(interval_ms or 0)) / 1000.0
        self._wake.set()
        if self._interval_s > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="snakepit-telemetry-sampler", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        import os
        last_cpu, last_wall = time.process_time(), time.monotonic()
        page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        while True:
            self._wake.clear()
            interval = self._interval_s
            if interval <= 0:
                self._wake.wait()
                last_cpu, last_wall = time.process_time(), time.monotonic()
                continue
            if self._wake.wait(interval):
                continue  # the interval changed: start over
            cpu, wall = time.process_time(), time.monotonic()
            percent = 100.0 * (cpu - last_cpu) / max(wall - last_wall, 1e-9)
            last_cpu, last_wall = cpu, wall
            try:
                with open("/proc/self/statm") as f:
                    rss = int(f.read().split()[1]) * page
            except OSError:
                import resource  # macOS: ru_maxrss (bytes there), the peak rather than the current RSS
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            emit("memory.sampled", {"rss_bytes": rss}, {})
            emit("cpu.sampled", {"cpu_percent": percent}, {})


_sampler = _ResourceSampler()


def _wanted(full: str) -> bool:
    if not _enabled or full in _deny or (_allow is not None and full not in _allow):
        return False
    rate = _sampling
    return rate >= 1.0 or (rate > 0.0 and random.random() < rate)


def emit(name: str, measurements: Optional[Mapping[str, Any]] = None, metadata: Optional[Mapping[str, Any]] = None,
         correlation_id: Optional[str] = None) -> None:
    """Send one event (dropped by sampling/filters, or by the host if not catalogued)."""
    full = _full(name)
    if _sink is None or not _wanted(full):
        return
    event = {
        "name": full,
        "measurements": {k: v for k, v in (measurements or {}).items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
        "metadata": dict(metadata or {}),
        "correlation_id": correlation_id or _correlation.get(),
        "ts": time.time(),
    }
    with _lock:
        _buffer.append(event)
        full_batch = len(_buffer) >= _BATCH
    if full_batch or _correlation.get() is None:
        flush()


@contextlib.contextmanager
def span(name: str, attrs: Optional[Mapping[str, Any]] = None) -> Iterator[Dict[str, Any]]:
    """``name.start`` now, then ``name.stop`` with ``duration_ms`` (or ``name.exception`` with the
    error type, re-raised). Spans nest: each carries ``span_id`` and its parent's ``parent_span_id``.
    A bare name (``"load_model"``) becomes ``span.*`` with ``span: "load_model"`` in its metadata."""
    base = name[: -len(".start")] if name.endswith(".start") else name
    catalogued = _full(base) in (_PREFIX + "tool.execution", _PREFIX + "call", _PREFIX + "span")
    prefix = base if catalogued else "span"
    meta: Dict[str, Any] = dict(attrs or {})
    if not catalogued:
        meta["span"] = base
    parent = _span_stack.get()
    meta["span_id"] = f"{random.getrandbits(64):016x}"
    if parent:
        meta["parent_span_id"] = parent[-1]
    token = _span_stack.set(parent + (meta["span_id"],))
    started = time.perf_counter()
    emit(prefix + ".start", {"system_time": time.time()}, meta)
    try:
        yield meta
    except BaseException as exc:
        emit(prefix + ".exception", {"duration_ms": (time.perf_counter() - started) * 1000.0},
             {**meta, "kind": type(exc).__name__, "reason": str(exc)[:200]})
        raise
    finally:
        _span_stack.reset(token)
    emit(prefix + ".stop", {"duration_ms": (time.perf_counter() - started) * 1000.0}, meta)


_span_stack: contextvars.ContextVar[tuple] = contextvars.ContextVar("snakepit_span_stack", default=())


def flush() -> None:
    """Send what is buffered (the transport calls it before a call's answer)."""
    if not _buffer or _sink is None:
        return
    with _lock:
        batch = _buffer[:]
        del _buffer[:]
    if batch:
        try:
            _sink(batch)
        except Exception:  # noqa: BLE001 - telemetry never breaks a call
            _log.debug("telemetry batch lost", exc_info=True)


# -- for the transports -------------------------------------------------------


def install_sink(sink: Optional[Callable[[List[Dict[str, Any]]], None]]) -> None:
    """Where batches go: a pipe ``telemetry`` frame, or a gRPC ``StreamTelemetry`` call."""
    global _sink
    _sink = sink


def bind_call(correlation_id: Optional[str]) -> contextvars.Token:
    """Marks the current thread / task as serving a call (``reset_call`` undoes it)."""
    return _correlation.set(correlation_id)


def reset_call(token: contextvars.Token) -> None:
    _correlation.reset(token)
    flush()


def install_log_correlation() -> None:
    """Every log record gets ``snakepit_corr``: `` [correlation_id=…]`` inside a call, else "".
    The bridge's stderr format ends with it; the host moves it into the log record's context."""
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        cid = _correlation.get()
        record.snakepit_corr = f" [correlation_id={cid}]" if cid else ""
        return record

    logging.setLogRecordFactory(factory)
