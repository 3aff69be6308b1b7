"""Streaming helpers: tools stream by being generators (sync or async).

Each yielded value becomes one ``chunk`` frame. Yield a plain value, or a
``StreamChunk`` to set the ``final`` flag explicitly (the original's API).
"""
from __future__ import annotations

from typing import Any


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
