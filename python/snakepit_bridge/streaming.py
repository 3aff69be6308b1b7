"""Streaming helpers: tools stream by being generators (sync or async).

Each yielded value becomes one chunk. Yield a plain value, or a chunk object to
set the ``final`` flag and metadata explicitly: the bridge's ``StreamChunk`` or,
as in the original, any object with ``.data`` and ``.is_final`` (and optionally a
``.metadata`` map), such as an adapter's own ``StreamChunk`` class.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, List, Mapping, Optional, Tuple


class StreamChunk:
    """One streamed item with an explicit final marker and optional metadata (a map)."""

    __slots__ = ("data", "is_final", "metadata")

    def __init__(self, data: Any = None, is_final: bool = False, metadata: Optional[Dict[str, Any]] = None) -> None:
        self.data = data
        self.is_final = bool(is_final)
        self.metadata = metadata

    def __repr__(self) -> str:
        return f"StreamChunk(data={self.data!r}, is_final={self.is_final})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, StreamChunk)
            and other.data == self.data
            and other.is_final == self.is_final
        )


# Values that are never chunk objects, generators or awaitables (exact types: a subclass may be).
PLAIN_TYPES = frozenset((dict, list, tuple, str, bytes, int, float, bool, type(None)))
_PLAIN = PLAIN_TYPES
_MISSING = object()


def unwrap_chunk(item: Any) -> "tuple[Any, bool, Optional[Dict[str, Any]]]":
    """``(data, final, metadata)`` of a yielded item: a chunk object's fields, else ``(item, False, None)``."""
    if type(item) in _PLAIN:
        return item, False, None
    if isinstance(item, StreamChunk):
        return item.data, item.is_final, _as_metadata(item.metadata)
    data = getattr(item, "data", _MISSING)
    is_final = getattr(item, "is_final", _MISSING)
    if data is _MISSING or is_final is _MISSING:  # e.g. a numpy array: .data but no .is_final
        return item, False, None
    return data, bool(is_final), _as_metadata(getattr(item, "metadata", None))


def _as_metadata(value: Any) -> Optional[Dict[str, Any]]:
    return dict(value) if isinstance(value, Mapping) and value else None


class StreamCredit:
    """Pipe flow control of one stream: chunks it may still send before the host's consumer takes some.

    The ``call`` frame's ``window`` opens it; each ``credit`` frame (``grant``, on
    the reader thread) adds what the consumer took. A generator whose credit is
    spent waits before producing its next item, so the host never buffers more
    than ``window`` of its chunks. A cancel wakes the waiter (``wake``).
    """

    __slots__ = ("left", "_cond", "_async_waiters")

    def __init__(self, window: int) -> None:
        self.left = window
        self._cond = threading.Condition(threading.Lock())
        self._async_waiters: List[Tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]] = []

    def spend(self) -> bool:
        """One chunk went out; True when the credit is used up (the caller must wait)."""
        with self._cond:
            self.left -= 1
            return self.left <= 0

    def grant(self, n: int) -> None:
        with self._cond:
            self.left += n
            self._wake_locked()

    def wake(self) -> None:
        """Wake every waiter (the call was cancelled): they look at the context again."""
        with self._cond:
            self._wake_locked()

    def _wake_locked(self) -> None:
        self._cond.notify_all()
        waiters, self._async_waiters = self._async_waiters, []
        for loop, fut in waiters:
            loop.call_soon_threadsafe(_resolve, fut)

    def wait(self, ctx: Any) -> None:
        """Block until there is credit again, or the call is cancelled."""
        with self._cond:
            while self.left <= 0 and not ctx.cancelled:
                self._cond.wait()

    async def wait_async(self, ctx: Any) -> None:
        """``wait`` for an async generator: awaits, so the loop's other tasks go on."""
        loop = asyncio.get_running_loop()
        while True:
            with self._cond:
                if self.left > 0 or ctx.cancelled:
                    return
                fut: "asyncio.Future[None]" = loop.create_future()
                self._async_waiters.append((loop, fut))
            await fut


def _resolve(fut: "asyncio.Future[None]") -> None:
    if not fut.done():
        fut.set_result(None)
