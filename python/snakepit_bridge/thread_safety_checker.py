"""Runtime thread-safety checks for adapters run in the thread profile (a development aid).

    from snakepit_bridge.thread_safety_checker import ThreadSafetyChecker

    checker = ThreadSafetyChecker(enabled=True, strict_mode=False)
    ...  # run adapter methods from several threads
    report = checker.get_report()

A checker created with ``enabled=True`` (or made so by ``enable_checking()``)
receives what ``ThreadSafeAdapter`` and ``@thread_safe_method`` observe, and,
in a worker started with ``--thread-safety-check``, every tool call:

- **concurrent access**: a method entered by a thread while another thread is
  still inside it (``concurrent_accesses``: the most threads seen inside at once);
- **unlocked shared writes**: an attribute of a ``ThreadSafeAdapter``
  reassigned by two or more threads, at least once without holding the
  adapter's lock (``acquire_lock()``) (``unsafe_writes``). An attribute's
  first assignment is its initialisation and does not count. Only
  assignments are seen (``self.x = ...``, ``self.x += 1``), not in-place
  mutation such as ``self.items.append(...)``, and only the adapter's own lock
  counts as a lock;
- **known thread-unsafe libraries** imported in the process
  (``UNSAFE_LIBRARIES``: pandas, matplotlib, sqlite3).

Each finding is logged once as a warning. ``strict_mode`` raises
``ThreadSafetyError`` instead, in the thread that caused it, for unlocked
shared writes and unsafe libraries; concurrent access itself is only
reported (running calls side by side is what the thread profile is for).
"""
from __future__ import annotations

import functools
import logging
import sys
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional, Set

# The hooks adapters report through; `monitored` is part of this module's API.
from .thread_safety_hooks import monitored, register, unregister

log = logging.getLogger("snakepit_bridge.thread_safety")

__all__ = [
    "ThreadSafetyChecker", "ThreadSafetyError", "enable_checking", "disable_checking",
    "get_global_checker", "check_thread_safe", "require_thread_safe_adapter",
    "validate_adapter_thread_safety", "check_common_pitfalls", "print_thread_safety_report",
    "monitored",
]


class ThreadSafetyError(RuntimeError):
    """A thread-safety finding, raised instead of logged in strict mode."""


class ThreadSafetyChecker:
    """Collects thread-safety findings while enabled. See the module docstring.

    ``enabled`` (default True): receive observations; ``strict_mode`` (default
    False): raise ``ThreadSafetyError`` instead of logging a warning.
    """

    UNSAFE_LIBRARIES: Dict[str, Dict[str, str]] = {
        "pandas": {
            "reason": "DataFrame operations are not thread-safe",
            "safe_pattern": "lock around DataFrame use (acquire_lock()) or use the process profile",
        },
        "matplotlib": {
            "reason": "pyplot keeps global figure state",
            "safe_pattern": "one Figure per call via the object API, or the process profile",
        },
        "sqlite3": {
            "reason": "connections refuse other threads by default (check_same_thread=True)",
            "safe_pattern": "one connection per thread (get_thread_local) or the process profile",
        },
    }

    def __init__(self, enabled: bool = True, strict_mode: bool = False) -> None:
        self.enabled = enabled
        self.strict_mode = strict_mode
        self._lock = threading.Lock()
        self.reset()
        if enabled:
            register(self)

    # -- observations ---------------------------------------------------------

    def check_method_access(self, method_name: str, caller_frame: Any = None) -> None:
        """Record that this thread accessed ``method_name`` (the original API; no overlap tracking)."""
        if self.enabled:
            with self._lock:
                self.access_map[method_name].add(threading.get_ident())
                self._thread_stats(method_name)["calls"] += 1

    @contextmanager
    def track_execution(self, method_name: str) -> Iterator[None]:
        """Run a block as one execution of ``method_name``: overlap detection and time per thread."""
        try:
            self._enter(method_name)
            yield
        finally:
            self._exit(method_name)

    def _enter(self, name: str) -> None:
        if not self.enabled:
            return
        ident = threading.get_ident()
        finding = None
        with self._lock:
            self.access_map[name].add(ident)
            stats = self._thread_stats(name)
            stats["calls"] += 1
            stats["_started"].append(time.perf_counter())
            active = self._active[name]
            active[ident] = active.get(ident, 0) + 1
            inside = len(active)  # threads, not nesting depth: re-entry is not concurrency
            if inside > self.peak_overlap.get(name, 1):
                self.peak_overlap[name] = inside
            if inside > 1:
                finding = self._note(f"{name}_concurrent", (
                    f"THREAD SAFETY: Method '{name}' accessed by {inside} different threads concurrently "
                    f"(current thread: {threading.current_thread().name}). Make sure shared mutable state "
                    "is locked (acquire_lock()) or thread-local."))
        if finding is not None:  # never raised, even in strict mode: overlap is not a fault
            log.warning("%s", finding)

    def _exit(self, name: str) -> None:
        if not self.enabled:
            return
        ident = threading.get_ident()
        with self._lock:
            active = self._active.get(name)
            if active and ident in active:
                active[ident] -= 1
                if active[ident] <= 0:
                    del active[ident]
            stats = self.thread_stats.get(ident)
            if stats and stats["_started"]:
                stats["total_time"] += time.perf_counter() - stats["_started"].pop()

    def check_attribute_write(self, owner: str, name: str, locked: bool) -> None:
        """An attribute ``owner.name`` was assigned by this thread (the first assignment initialises it)."""
        if not self.enabled:
            return
        key = f"{owner}.{name}"
        finding = None
        with self._lock:
            record = self._writes.get(key)
            if record is None:  # e.g. in __init__, before any other thread can see the object
                self._writes[key] = {"threads": set(), "unlocked_writes": 0}
                return
            record["threads"].add(threading.get_ident())
            if not locked:
                record["unlocked_writes"] += 1
            if len(record["threads"]) > 1 and record["unlocked_writes"] > 0:
                finding = self._note(f"{key}_unlocked_write", (
                    f"THREAD SAFETY: attribute '{key}' is written by {len(record['threads'])} threads, "
                    f"{record['unlocked_writes']} time(s) without the adapter lock. Wrap the update in "
                    "'with self.acquire_lock():' or keep the value thread-local."))
        self._raise_or_log(finding)

    def check_library_safety(self, imported_modules: Optional[Set[str]] = None) -> List[str]:
        """Warn about known thread-unsafe libraries among ``imported_modules`` (default: ``sys.modules``)."""
        if not self.enabled:
            return []
        modules = set(sys.modules) if imported_modules is None else set(imported_modules)
        found: List[str] = []
        for lib, info in self.UNSAFE_LIBRARIES.items():
            if lib not in modules:
                continue
            message = (f"THREAD SAFETY: Unsafe library '{lib}' detected. Reason: {info['reason']}. "
                       f"Safe pattern: {info['safe_pattern']}.")
            found.append(message)
            with self._lock:
                self.unsafe_libraries[lib] = dict(info)
                finding = self._note(f"unsafe_lib_{lib}", message)
            self._raise_or_log(finding)
        return found

    # -- findings ---------------------------------------------------------------

    def _thread_stats(self, method: str) -> Dict[str, Any]:
        stats = self.thread_stats[threading.get_ident()]
        stats.setdefault("name", threading.current_thread().name)
        stats["methods"].add(method)
        return stats

    def _note(self, key: str, message: str) -> Optional[str]:
        """Record a finding (lock held); the message the first time, else None."""
        if key in self.warnings_issued:
            return None
        self.warnings_issued.add(key)
        self.messages.append(message)
        return message

    def _raise_or_log(self, message: Optional[str]) -> None:
        if message is None:
            return
        if self.strict_mode:
            raise ThreadSafetyError(message)
        log.warning("%s", message)

    def get_report(self) -> Dict[str, Any]:
        """Everything observed so far, with recommendations."""
        with self._lock:
            concurrent = {m: n for m, n in self.peak_overlap.items() if n > 1}
            unsafe_writes = {
                key: {"threads": len(r["threads"]), "unlocked_writes": r["unlocked_writes"]}
                for key, r in self._writes.items() if len(r["threads"]) > 1 and r["unlocked_writes"] > 0
            }
            utilization = {
                ident: {"name": s.get("name"), "calls": s["calls"], "total_time": s["total_time"],
                        "methods": sorted(s["methods"]),
                        "avg_time_per_call": s["total_time"] / s["calls"] if s["calls"] else 0.0}
                for ident, s in self.thread_stats.items()
            }
            return {
                "enabled": self.enabled,
                "strict_mode": self.strict_mode,
                "total_runtime": time.time() - self.start_time,
                "warnings_issued": len(self.warnings_issued),
                "warnings": sorted(self.warnings_issued),
                "messages": list(self.messages),
                "concurrent_accesses": concurrent,
                "threads_by_method": {m: len(t) for m, t in self.access_map.items()},
                "unsafe_writes": unsafe_writes,
                "unsafe_libraries": sorted(self.unsafe_libraries),
                "total_methods_tracked": len(self.access_map),
                "total_threads_seen": len(self.thread_stats),
                "thread_utilization": utilization,
                "recommendations": self._recommendations(concurrent, unsafe_writes),
            }

    def _recommendations(self, concurrent: Dict[str, int], unsafe_writes: Dict[str, Any]) -> List[str]:
        out = []
        if unsafe_writes:
            out.append(f"{len(unsafe_writes)} attribute(s) written by several threads without the lock: "
                       f"{', '.join(sorted(unsafe_writes))}. Use 'with self.acquire_lock():'.")
        if concurrent:
            out.append(f"{len(concurrent)} method(s) ran on several threads at once: make sure their "
                       "shared mutable state is locked or thread-local.")
        if self.unsafe_libraries:
            out.append(f"Thread-unsafe libraries loaded: {', '.join(sorted(self.unsafe_libraries))}. "
                       "Lock around them or use the process profile.")
        if len(self.thread_stats) == 1:
            out.append("Only one thread seen: test with threadsPerWorker > 1 and concurrent calls.")
        if not self.warnings_issued:
            out.append("No thread safety issues detected.")
        return out

    def reset(self) -> None:
        """Forget everything observed."""
        with self._lock:
            self.access_map: Dict[str, Set[int]] = defaultdict(set)
            self._active: Dict[str, Dict[int, int]] = defaultdict(dict)
            self.peak_overlap: Dict[str, int] = {}
            self._writes: Dict[str, Dict[str, Any]] = {}
            self.unsafe_libraries: Dict[str, Dict[str, str]] = {}
            self.warnings_issued: Set[str] = set()
            self.messages: List[str] = []
            self.thread_stats: Dict[int, Dict[str, Any]] = defaultdict(
                lambda: {"calls": 0, "total_time": 0.0, "methods": set(), "_started": []})
            self.start_time = time.time()

    def close(self) -> None:
        """Stop receiving observations (the findings stay readable)."""
        unregister(self)

    def __enter__(self) -> "ThreadSafetyChecker":
        self.reset()
        if self.enabled:
            register(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
        if self.enabled:
            for line in report_lines(self.get_report()):
                log.info("%s", line)


# -- the worker's global checker (``--thread-safety-check``) ------------------

_global_checker = ThreadSafetyChecker(enabled=False)


def enable_checking(strict_mode: bool = False) -> ThreadSafetyChecker:
    """Enable the global checker (fresh findings); returns it."""
    _global_checker.reset()
    _global_checker.enabled = True
    _global_checker.strict_mode = strict_mode
    register(_global_checker)
    log.info("thread safety checking enabled%s", " (strict mode)" if strict_mode else "")
    return _global_checker


def disable_checking() -> None:
    """Disable the global checker."""
    _global_checker.enabled = False
    unregister(_global_checker)


def get_global_checker() -> ThreadSafetyChecker:
    return _global_checker

def check_thread_safe(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: calls of ``func`` are monitored requests (concurrent access detection)."""
    return monitored(func.__name__, func)


def require_thread_safe_adapter(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for ``func(adapter, ...)``: ValueError unless the adapter sets ``__thread_safe__ = True``."""
    @functools.wraps(func)
    def wrapper(adapter: Any, *args: Any, **kwargs: Any) -> Any:
        declared = getattr(adapter, "__thread_safe__", None)
        if declared is None:
            raise ValueError(f"Adapter {type(adapter).__name__} does not declare thread safety; "
                             "set __thread_safe__ = True if it is thread-safe.")
        if declared is not True:
            raise ValueError(f"Adapter {type(adapter).__name__} is marked as not thread-safe; "
                             "use the process profile.")
        return func(adapter, *args, **kwargs)
    return wrapper


def validate_adapter_thread_safety(adapter_class: type) -> bool:
    """True if the class declares ``__thread_safe__ = True`` (ValueError instead when the global checker is strict)."""
    safe = getattr(adapter_class, "__thread_safe__", None) is True
    if not safe and _global_checker.enabled and _global_checker.strict_mode:
        raise ValueError(f"Adapter {adapter_class.__name__} is not thread-safe: set __thread_safe__ = True")
    return safe


def check_common_pitfalls(adapter: Any) -> List[str]:
    """Static hints about an adapter instance: public mutable containers without a lock, no declaration."""
    hints = []
    mutable = sorted(name for name, value in vars(adapter).items()
                     if not name.startswith("_") and isinstance(value, (list, dict, set)))
    if mutable and not hasattr(adapter, "_lock") and not hasattr(adapter, "acquire_lock"):
        hints.append(f"Adapter has shared mutable state {mutable} but no lock: subclass ThreadSafeAdapter "
                     "and use acquire_lock(), or add a threading.Lock.")
    if getattr(type(adapter), "__thread_safe__", None) is None:
        hints.append("Adapter does not declare __thread_safe__: set it to True (after review) or False.")
    return hints


def report_lines(report: Dict[str, Any]) -> List[str]:
    """A report as log lines."""
    lines = [
        "Thread safety report:",
        f"  runtime {report['total_runtime']:.2f}s, threads {report['total_threads_seen']}, "
        f"methods {report['total_methods_tracked']}, warnings {report['warnings_issued']}",
    ]
    for method, threads in sorted(report["concurrent_accesses"].items()):
        lines.append(f"  concurrent: {method} ({threads} threads at once)")
    for key, info in sorted(report["unsafe_writes"].items()):
        lines.append(f"  unlocked shared write: {key} ({info['threads']} threads, "
                     f"{info['unlocked_writes']} unlocked writes)")
    lines.extend(f"  {rec}" for rec in report["recommendations"])
    return lines


def print_thread_safety_report() -> None:
    """Log the global checker's report at info level."""
    for line in report_lines(_global_checker.get_report()):
        log.info("%s", line)
