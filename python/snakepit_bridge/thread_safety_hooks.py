"""Where thread-safety observations go: the registry of listening checkers and the call hooks.

``ThreadSafeAdapter``, ``@thread_safe_method`` and a worker's monitored tools
report here; every enabled ``ThreadSafetyChecker`` (thread_safety_checker.py)
registered at that moment receives the observation.
"""
from __future__ import annotations

import functools
import inspect
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, List, Tuple

if TYPE_CHECKING:
    from .thread_safety_checker import ThreadSafetyChecker

_registry_lock = threading.Lock()
# Copy-on-write tuple of weak references: hooks iterate it without a lock.
_registry: Tuple["weakref.ref[ThreadSafetyChecker]", ...] = ()


def register(checker: "ThreadSafetyChecker") -> None:
    global _registry
    with _registry_lock:
        live = tuple(r for r in _registry if r() is not None and r() is not checker)
        _registry = live + (weakref.ref(checker),)


def unregister(checker: "ThreadSafetyChecker") -> None:
    global _registry
    with _registry_lock:
        _registry = tuple(r for r in _registry if r() is not None and r() is not checker)


def active_checkers() -> List["ThreadSafetyChecker"]:
    """The enabled checkers that currently receive observations."""
    return [c for c in (r() for r in _registry) if c is not None and c.enabled]


def enter_method(name: str) -> None:
    """A monitored call starts on this thread (pair with ``exit_method``, in a ``finally``)."""
    for checker in active_checkers():
        checker._enter(name)


def exit_method(name: str) -> None:
    for checker in active_checkers():
        checker._exit(name)


def record_attribute_write(owner: str, name: str, locked: bool) -> None:
    """An adapter attribute was assigned on this thread."""
    for checker in active_checkers():
        checker.check_attribute_write(owner, name, locked)


def monitored(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` wrapped so that each call (or iteration, for generators) is a monitored request."""
    if inspect.isasyncgenfunction(fn):
        @functools.wraps(fn)
        async def agen(*args: Any, **kwargs: Any) -> Any:
            try:
                enter_method(name)
                async for item in fn(*args, **kwargs):
                    yield item
            finally:
                exit_method(name)
        return agen
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def coro(*args: Any, **kwargs: Any) -> Any:
            try:
                enter_method(name)
                return await fn(*args, **kwargs)
            finally:
                exit_method(name)
        return coro
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any) -> Any:
            try:
                enter_method(name)
                yield from fn(*args, **kwargs)
            finally:
                exit_method(name)
        return gen

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            enter_method(name)
            return fn(*args, **kwargs)
        finally:
            exit_method(name)
    return call
