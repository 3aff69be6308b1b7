"""Streaming helpers: tools stream by being generators (sync or async).

Each yielded value becomes one ``chunk`` frame. Yield a plain value, or a
``StreamChunk`` to set the ``final`` flag explicitly (the original's API).
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, List, Tuple


class StreamChunk:
    """One streamed item with an explicit final marker."""

    __slots__ = ("data", "is_final")

    def __init__(self, data: Any = None, is_final: bool = False) -> None:
        self.data = data
        self.is_final = bool(is_final)

    def __repr__(self) -> str:
        return f"StreamChunk(data={self.data!r}, is_final={self.is_final})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, StreamChunk)
            and other.data == self.data
            and other.is_final == self.is_final
        )


def unwrap_chunk(item: Any) -> "tuple[Any, bool]":
    """Return ``(data, final)`` for a yielded item."""
    if isinstance(item, StreamChunk):
        return item.data, item.is_final
    return item, False


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
