"""Base class and helpers for adapters that serve several calls at once (the thread profile).

    from snakepit_bridge.base_adapter_threaded import ThreadSafeAdapter, thread_safe_method, tool

    class MyAdapter(ThreadSafeAdapter):
        __thread_safe__ = True

        def __init__(self):
            super().__init__()
            self.model = load_model()      # shared read-only: no lock needed
            self.request_count = 0         # shared mutable: lock it

        @thread_safe_method
        @tool(description="Run inference")
        def predict(self, x: list) -> dict:
            cache = self.get_thread_local("cache", {})   # per thread
            result = self.model(x)
            with self.acquire_lock():                    # shared writes
                self.request_count += 1
            return {"prediction": result}

In the thread profile (``workerProfile: 'thread'``) one worker process runs up
to ``threadsPerWorker`` calls at once, each on its own thread, all on the same
adapter instance. See guides/threading.md.
"""
from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, Optional

from . import thread_profile
from . import thread_safety_hooks as hooks
from .base_adapter import BaseAdapter, ToolMetadata, tool

__all__ = [
    "ThreadSafeAdapter", "thread_safe_method", "tool", "ToolMetadata", "ThreadLocalStorage",
    "RequestTracker", "require_thread_safe", "validate_thread_safety",
]

log = logging.getLogger("snakepit_bridge.threaded")

# Attributes the bridge itself assigns: never shared state of the adapter's own.
_UNTRACKED = frozenset({"session_context"})


class ThreadLocalStorage:
    """Per-thread key/value storage (each thread sees only its own values)."""

    def __init__(self) -> None:
        self._storage = threading.local()

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self._storage, key, default)

    def set(self, key: str, value: Any) -> None:
        setattr(self._storage, key, value)

    def delete(self, key: str) -> None:
        try:
            delattr(self._storage, key)
        except AttributeError:
            pass

    def clear(self) -> None:
        """Clear the calling thread's values."""
        self._storage.__dict__.clear()


class RequestTracker:
    """Counts requests: total, active now (per thread), the peak of simultaneously active ones."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total_requests = 0
        self.peak_active = 0
        self._active_total = 0
        self.requests_by_thread: Dict[int, int] = defaultdict(int)
        self.active_requests: Dict[int, int] = defaultdict(int)
        self._names: Dict[int, str] = {}

    def start_request(self, thread_id: Optional[int] = None) -> int:
        """Count a request as started; returns its number (1, 2, ...)."""
        thread_id = threading.get_ident() if thread_id is None else thread_id
        with self.lock:
            self.total_requests += 1
            self.requests_by_thread[thread_id] += 1
            self.active_requests[thread_id] += 1
            self._names.setdefault(thread_id, threading.current_thread().name)
            self._active_total += 1
            if self._active_total > self.peak_active:
                self.peak_active = self._active_total
            return self.total_requests

    def end_request(self, thread_id: Optional[int] = None) -> None:
        thread_id = threading.get_ident() if thread_id is None else thread_id
        with self.lock:
            if self.active_requests[thread_id] > 0:
                self.active_requests[thread_id] -= 1
                self._active_total -= 1

    def get_stats(self) -> Dict[str, Any]:
        with self.lock:
            return {
                "total_requests": self.total_requests,
                "active_threads": sum(1 for n in self.active_requests.values() if n > 0),
                "total_active_requests": self._active_total,
                "peak_active_requests": self.peak_active,
                "threads_seen": len(self.requests_by_thread),
            }

    def utilization(self) -> Dict[str, int]:
        """Requests served per thread name."""
        with self.lock:
            return {self._names.get(t, str(t)): n for t, n in self.requests_by_thread.items()}


def _begin(adapter: "ThreadSafeAdapter", name: str) -> int:
    number = adapter._tracker.start_request()
    if log.isEnabledFor(logging.DEBUG):
        log.debug("[%s] request #%d starting: %s", threading.current_thread().name, number, name)
    hooks.enter_method(name)
    return number


def _end(adapter: "ThreadSafeAdapter", name: str) -> None:
    hooks.exit_method(name)
    adapter._tracker.end_request()


def thread_safe_method(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a method as safe to run on several threads at once, and track its calls.

    Each call counts in ``get_stats()`` (total, active, peak) and, with thread
    safety checks on, is watched for concurrent access and unlocked shared
    writes. Works above or below ``@tool``, on plain, generator and async
    methods. On an object that is not a ``ThreadSafeAdapter`` it just calls.
    """
    name = func.__name__

    if inspect.isasyncgenfunction(func):
        @functools.wraps(func)
        async def agen(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(self, ThreadSafeAdapter):
                async for item in func(self, *args, **kwargs):
                    yield item
                return
            try:
                _begin(self, name)
                async for item in func(self, *args, **kwargs):
                    yield item
            finally:
                _end(self, name)
        wrapper: Callable[..., Any] = agen
    elif inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def coro(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(self, ThreadSafeAdapter):
                return await func(self, *args, **kwargs)
            try:
                _begin(self, name)
                return await func(self, *args, **kwargs)
            finally:
                _end(self, name)
        wrapper = coro
    elif inspect.isgeneratorfunction(func):
        @functools.wraps(func)
        def gen(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(self, ThreadSafeAdapter):
                return (yield from func(self, *args, **kwargs))
            try:
                _begin(self, name)
                return (yield from func(self, *args, **kwargs))
            finally:
                _end(self, name)
        wrapper = gen
    else:
        @functools.wraps(func)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(self, ThreadSafeAdapter):
                return func(self, *args, **kwargs)
            started = time.perf_counter()
            try:
                _begin(self, name)
                return func(self, *args, **kwargs)
            except Exception:
                log.debug("[%s] %s failed after %.3fs", threading.current_thread().name, name,
                          time.perf_counter() - started, exc_info=True)
                raise
            finally:
                _end(self, name)
        wrapper = call
    wrapper.__thread_safe__ = True  # type: ignore[attr-defined]
    return wrapper


class ThreadSafeAdapter(BaseAdapter):
    """Base class of adapters that declare themselves safe for concurrent calls.

    Provides a reentrant adapter lock (``acquire_lock()``), thread-local storage
    (``get_thread_local``/``set_thread_local``/``clear_thread_local``), request
    tracking (``track_request()``, ``@thread_safe_method``) and ``get_stats()``.
    Its infrastructure exists even when a subclass's ``__init__`` forgets
    ``super().__init__()``. Set ``__thread_safe__ = True`` on your class after
    reviewing it (inherited here as True; ``False`` makes the thread profile warn).
    """

    __thread_safe__ = True

    def __new__(cls, *args: Any, **kwargs: Any) -> "ThreadSafeAdapter":
        self = super().__new__(cls)
        # Straight into __dict__: before any __init__, and unseen by __setattr__'s tracking.
        state = self.__dict__
        state["_lock"] = threading.RLock()
        state["_thread_local"] = ThreadLocalStorage()
        state["_tracker"] = RequestTracker()
        state["_lock_depth"] = threading.local()
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if hooks._registry and name not in _UNTRACKED and not isinstance(
                getattr(type(self), name, None), property):
            hooks.record_attribute_write(type(self).__name__, name, self.holds_lock())

    # -- locking -----------------------------------------------------------------

    @contextmanager
    def acquire_lock(self) -> Iterator[None]:
        """Hold the adapter's reentrant lock for a block: ``with self.acquire_lock(): ...``."""
        depth = self.__dict__["_lock_depth"]
        with self._lock:
            depth.n = getattr(depth, "n", 0) + 1
            try:
                yield
            finally:
                depth.n -= 1

    def holds_lock(self) -> bool:
        """True if the calling thread is inside ``acquire_lock()``."""
        return getattr(self.__dict__["_lock_depth"], "n", 0) > 0

    # -- thread-local storage ---------------------------------------------------

    def get_thread_local(self, key: str, default: Any = None) -> Any:
        """This thread's value for ``key`` (``default`` if unset)."""
        return self._thread_local.get(key, default)

    def set_thread_local(self, key: str, value: Any) -> None:
        """Set this thread's value for ``key``."""
        self._thread_local.set(key, value)

    def clear_thread_local(self, key: Optional[str] = None) -> None:
        """Clear this thread's value for ``key``, or all of this thread's values."""
        if key is None:
            self._thread_local.clear()
        else:
            self._thread_local.delete(key)

    # -- tracking -----------------------------------------------------------------

    @contextmanager
    def track_request(self, request_id: Optional[str] = None) -> Iterator[int]:
        """Count a block as one request (what ``@thread_safe_method`` does for a method)."""
        name = request_id or "track_request"
        try:
            yield _begin(self, name)
        finally:
            _end(self, name)

    def get_stats(self) -> Dict[str, Any]:
        """Request counts of this adapter instance.

        ``total_requests``, ``active_requests``, ``peak_active_requests`` (most
        tracked requests running at once), ``max_workers`` (this worker's
        concurrency), ``thread_utilization`` (requests per thread name), and
        the original's nested ``tracker`` dict.
        """
        tracker = self._tracker.get_stats()
        return {
            "adapter_class": type(self).__name__,
            "thread_safe": getattr(type(self), "__thread_safe__", None) is True,
            "total_requests": tracker["total_requests"],
            "active_requests": tracker["total_active_requests"],
            "peak_active_requests": tracker["peak_active_requests"],
            "max_workers": thread_profile.current_concurrency(),
            "thread_utilization": self._tracker.utilization(),
            "tracker": tracker,
        }


def require_thread_safe(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for ``func(adapter, ...)``: ValueError unless the adapter declares ``__thread_safe__ = True``."""
    @functools.wraps(func)
    def wrapper(adapter: Any, *args: Any, **kwargs: Any) -> Any:
        if not validate_thread_safety(type(adapter)):
            raise ValueError(f"Adapter {type(adapter).__name__} is not thread-safe. "
                             "Set __thread_safe__ = True if it supports concurrent access.")
        return func(adapter, *args, **kwargs)
    return wrapper


def validate_thread_safety(adapter_class: type) -> bool:
    """True if the class declares ``__thread_safe__ = True``."""
    return getattr(adapter_class, "__thread_safe__", None) is True
