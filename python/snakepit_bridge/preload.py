"""The adapter class's optional ``preload()`` hook: run once per process before any instance exists.

``startMode: 'fork'``: the pool's template process runs it once, then forks every worker, so what
it loads (model weights, vocabularies, large arrays) is shared copy-on-write by all of them.
``startMode: 'spawn'``: each worker runs it itself, before ``initialize()``. An adapter therefore
behaves the same in both modes; only what the memory costs differs.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any, Set

from .base_adapter import ORIGINAL_TOOL_ATTR, TOOL_ATTR

__all__ = ["run_preload", "has_preload"]

log = logging.getLogger("snakepit_bridge.preload")

# Classes whose preload() ran in this process; a forked worker inherits the template's set.
_done: Set[Any] = set()
_warned: Set[Any] = set()


def has_preload(cls: Any) -> bool:
    """Whether ``cls`` defines (or inherits) a ``preload`` hook: a classmethod or staticmethod."""
    try:
        raw = inspect.getattr_static(cls, "preload")
    except AttributeError:
        return False
    if isinstance(raw, (classmethod, staticmethod)):
        return True
    # An instance method of that name (an adapter written before the hook, a @tool) is no hook:
    # the hook runs before any instance exists. Said once, so a misdeclared hook is noticed.
    if callable(raw) and not any(hasattr(raw, a) for a in (TOOL_ATTR, ORIGINAL_TOOL_ATTR)) and cls not in _warned:
        _warned.add(cls)
        log.warning("%s.preload is an instance method, not run as the preload hook: declare it "
                    "@classmethod (or @staticmethod) to run it once before the workers start", cls.__qualname__)
    return False


def run_preload(cls: Any) -> bool:
    """Run ``cls.preload()`` unless it already ran in this process; True when it ran now.

    The hook runs before any instance exists, so it is a ``@classmethod`` (it gets the class, e.g.
    to set ``cls.weights``) or a ``@staticmethod``; it may be ``async``.
    """
    if cls in _done or not has_preload(cls):
        return False
    result = cls.preload()
    if inspect.isawaitable(result):
        _run_coroutine(result)
    _done.add(cls)
    return True


def _run_coroutine(awaitable: Any) -> None:
    # A loop of its own, never made current: the worker's own loop (AdapterHost) is left alone, and
    # nothing of this one (its default executor's threads) outlives it into a fork.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(awaitable)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
