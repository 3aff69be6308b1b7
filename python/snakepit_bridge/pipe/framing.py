"""Length-prefixed msgpack frames over the two pipes (docs/protocol.md).

Each frame: 4-byte big-endian length N, then N bytes of one msgpack map.
"""
from __future__ import annotations

import os
import struct
import threading
from typing import Any, Callable, List, Optional

from ..errors import ProtocolError
from ..serialization import pack_checked, unpack
from ..shm import env_int
from .frames import COMPACT_CALL

__all__ = ["FrameReader", "FrameWriter", "DEFAULT_MAX_FRAME_BYTES", "max_frame_bytes"]

DEFAULT_MAX_FRAME_BYTES = 256 * 1024 * 1024
# 64 KiB per read: fds 3/4 are Unix socketpairs (Node's stdio 'pipe'), which may hold ~256 KiB,
# but a larger request costs more than the extra read: glibc serves >= 128 KiB with mmap, so every
# read would mmap, mremap and munmap.
_READ_SIZE = 64 * 1024
# Frames larger than this are read straight into their own buffer instead of
# being accumulated through small reads.
_BIG_FRAME = 64 * 1024
# Frames up to this size are written as one buffer (header + body copied together).
_SMALL_FRAME = 16 * 1024
_HEADER = struct.Struct(">I")


def max_frame_bytes() -> int:
    """The frame size limit: ``SNAKEPIT_MAX_FRAME_BYTES`` or 256 MiB."""
    return env_int("SNAKEPIT_MAX_FRAME_BYTES", b"SNAKEPIT_MAX_FRAME_BYTES") or DEFAULT_MAX_FRAME_BYTES


class FrameReader:
    """Decodes frames from one fd, one ``read`` syscall per ``read_once``.

    Not thread-safe: callers that share it serialise access themselves.
    """

    def __init__(self, fd: int, max_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.fd = fd
        self.max_bytes = max_bytes
        self._pending = b""  # the start of an incomplete small frame
        self._big: Optional[bytearray] = None  # a large frame being filled in place
        self._big_filled = 0
        # Arrays are compact frames (frames.py): only a pipe worker's reader takes them (compact calls).
        self.accept_compact = False

    def read_once(self) -> List[Any]:
        """Read once (blocking if nothing is there) and return the complete frames.

        Raises ``EOFError`` at end of input and ``ProtocolError`` on a bad frame.
        """
        if self._big is not None:
            # Read straight into the frame's own buffer: no intermediate copies.
            n = os.readv(self.fd, [memoryview(self._big)[self._big_filled :]])
            if n == 0:
                raise EOFError
            self._big_filled += n
            if self._big_filled < len(self._big):
                return []
            body, self._big = self._big, None
            return [self._decode(body)]
        data = os.read(self.fd, _READ_SIZE)
        if not data:
            raise EOFError
        if self._pending:
            data = self._pending + data
            self._pending = b""
        frames: List[Any] = []
        pos, end_of_data, limit = 0, len(data), self.max_bytes
        view, header, decode = memoryview(data), _HEADER.unpack_from, self._decode
        while end_of_data - pos >= 4:
            (size,) = header(data, pos)
            if size > limit:
                raise ProtocolError(f"frame of {size} bytes exceeds the limit of {limit}")
            end = pos + 4 + size
            if end <= end_of_data:
                frames.append(decode(view[pos + 4 : end]))
                pos = end
                continue
            if size >= _BIG_FRAME:
                self._big = bytearray(size)
                self._big_filled = end_of_data - pos - 4
                self._big[: self._big_filled] = view[pos + 4 :]
                pos = end_of_data
            break
        if pos < end_of_data:
            self._pending = data[pos:]
        return frames

    def _decode(self, buf: Any) -> Any:
        try:
            frame = unpack(buf)
        except Exception as exc:
            raise ProtocolError(f"undecodable frame: {type(exc).__name__}: {exc}") from exc
        if type(frame) is list:  # a compact call (frames.py), if this reader takes them
            if self.accept_compact and len(frame) == 5 and frame[0] == COMPACT_CALL:
                return frame
        elif isinstance(frame, dict):
            return frame
        raise ProtocolError(f"frame is not a map (nor a compact call) but {type(frame).__name__}")


def _nothing() -> None:
    pass


class FrameWriter:
    """Thread-safe writer: one lock, whole frames, written immediately."""

    def __init__(self, fd: int, max_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.fd = fd
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        # Called after each write (the inbox's watch_now: a busy writer may wait for input next).
        self.on_write: Callable[[], None] = _nothing

    def encode(self, frame: Any) -> bytes:
        """Encode one frame body; raises ``ValueError`` if it is over the limit
        (``PayloadTooLargeError``/``SerializationError`` for the payload limit and strict policy)."""
        body = pack_checked(frame)
        if len(body) > self.max_bytes:
            raise ValueError(
                f"encoded frame is {len(body)} bytes, over the limit of {self.max_bytes}"
                " (SNAKEPIT_MAX_FRAME_BYTES)"
            )
        return body

    def write_body(self, body: bytes, watch: bool = True) -> None:
        """Write an encoded body with its length prefix; ``watch``: call ``on_write`` after (False
        for a call's last frame, after which the writer awaits no input). Raises ``BrokenPipeError``."""
        size = len(body)
        if size <= _SMALL_FRAME:
            # One buffer: a plain write is cheaper than a two-part writev for small frames.
            self._write_all(size.to_bytes(4, "big") + body)
        else:
            fd = self.fd
            with self._lock:
                # writev: header and body leave in one syscall, no concatenation copy.
                header = size.to_bytes(4, "big")
                sent = os.writev(fd, (header, body))
                if sent < size + 4:  # a socket takes large frames in pieces
                    rest = memoryview(header + body if sent < 4 else body)[sent if sent < 4 else sent - 4 :]
                    while len(rest):
                        rest = rest[os.write(fd, rest):]
        if watch:
            self.on_write()

    def write_bodies(self, bodies: List[bytes], watch: bool = True) -> None:
        """``write_body`` of several bodies in order: small ones leave in one write (one wake-up
        of the host instead of one each). Raises ``BrokenPipeError``."""
        if sum(map(len, bodies)) > _SMALL_FRAME:
            for body in bodies:
                self.write_body(body, False)
        else:
            self._write_all(b"".join([len(body).to_bytes(4, "big") + body for body in bodies]))
        if watch:
            self.on_write()

    def _write_all(self, data: bytes) -> None:
        """Write ``data`` whole under the lock (a blocking socket may still take it in pieces)."""
        fd, lock = self.fd, self._lock
        # acquire/release, not ``with``: ~110 ns less per frame here (the context manager protocol).
        lock.acquire()
        try:
            sent = os.write(fd, data)
            if sent < len(data):
                rest = memoryview(data)[sent:]
                while len(rest):
                    rest = rest[os.write(fd, rest):]
        finally:
            lock.release()

    def send(self, frame: Any) -> None:
        """Encode and write one frame."""
        self.write_body(self.encode(frame))
