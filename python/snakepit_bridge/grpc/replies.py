"""A gRPC call's reply sinks (the contract is in ``call.py``): answers become response messages.

- ``UnaryReply``: the sink of one ``ExecuteTool``: keeps the response message.
- ``StreamReply``: the sink of one ``ExecuteStreamingTool``: hands chunks from
  the thread running the tool to the gRPC thread that yields the messages.
  With ``batch`` 1 (a host that predates batching) in lockstep: the tool
  resumes once gRPC has sent the chunk (the way a pipe ``write`` returns once
  the frame is in the pipe). With ``batch`` > 1, the chunks a fast generator
  yields while a message is being sent wait and leave together in the next
  message (``ToolChunk.batch``): a message costs ~100 µs of grpcio thread
  hand-offs, a chunk a few µs. A chunk yielded while no message is on its
  way leaves at once, and a slow generator's chunks still leave one by one in
  lockstep (``SLOW_CHUNK_S``, ``HOLD_S``). A slow reader holds a fast generator back (at
  most ``batch`` chunks wait in the sink); the reader side closes the sink
  when the client goes away, which makes the producer stop.

Values are packed here (``serialization.pack``), on the thread running the
tool; a value over the message limit becomes a ``FrameTooLargeError`` error,
as over the pipe.
"""
from __future__ import annotations

import collections
import threading
import time
from typing import Any, Deque, Dict, Iterator, List, Optional, Tuple

from .. import wire_errors
from ..call import StreamAborted
from ..serialization import PayloadTooLargeError, SerializationError, pack, pack_checked

# Room for the response message's own field tags and lengths around a value.
_ENVELOPE_BYTES = 16


def error_message(pb2: Any, err: Dict[str, Any]) -> Any:
    """An ``ErrorInfo`` from an error map (``wire_errors``)."""
    details = err.get("details")
    return pb2.ErrorInfo(
        type=str(err.get("type") or ""), message=str(err.get("message") or ""),
        traceback=str(err.get("traceback") or ""), code=str(err.get("code") or ""),
        details=pack(details) if details is not None else b"")


def _too_large(size: int, limit: int) -> Dict[str, Any]:
    return wire_errors.too_large(size, limit, "SNAKEPIT_GRPC_MAX_MESSAGE_BYTES")


def _pack_value(value: Any) -> Any:
    """``(body, None)`` or ``(None, error map)`` for the payload limit / strict policy."""
    try:
        return pack_checked(value), None
    except (PayloadTooLargeError, SerializationError) as exc:
        return None, wire_errors.unsendable(exc)


class UnaryReply:
    """Sink of one unary call; ``response`` is set once the tool runner answered."""

    __slots__ = ("pb2", "limit", "response")

    def __init__(self, pb2: Any, limit: int) -> None:
        self.pb2 = pb2
        self.limit = limit
        self.response: Any = None

    def result(self, call: Any, value: Any) -> None:
        body, err = _pack_value(value)
        if err is not None:
            return self.error(call, err)
        if len(body) + _ENVELOPE_BYTES > self.limit:
            return self.error(call, _too_large(len(body), self.limit))
        self.response = self.pb2.ExecuteToolResponse(value=body)

    def error(self, call: Any, err: Dict[str, Any]) -> None:
        self.response = self.pb2.ExecuteToolResponse(error=error_message(self.pb2, err))

    def chunk(self, call: Any, data: Any, final: bool, metadata: Any = None) -> None:  # pragma: no cover - unary calls collect
        raise AssertionError("a unary call does not stream")

    def end(self, call: Any) -> None:  # pragma: no cover
        raise AssertionError("a unary call does not stream")


# The most chunks one message carries, whatever the host asks: what a stream may hold unsent.
MAX_CHUNKS_PER_MESSAGE = 1024
# A message takes no further chunk once its chunks' bytes reach this (its first chunk always goes).
BATCH_BYTES = 256 * 1024
# A generator that took longer than this to make a chunk waits until the chunk is sent, as without
# batching: it would gain little, and a thread running Python keeps the GIL from gRPC's sending
# threads for up to a switch interval (5 ms) unless it waits.
SLOW_CHUNK_S = 0.0002
# A faster one runs on while the message on its way left less than this long ago; then it waits
# until the reader took its chunk (which gives gRPC's threads the GIL). Measured on the 2-vCPU VM
# with a generator of ~3 µs per chunk: 0.2 ms made messages of ~20 chunks (~110k chunks/s), 1 ms
# of ~30-250 (~145k/s); a generator of 50 µs per chunk waits up to this long more per chunk.
HOLD_S = 0.001

# A queued chunk: packed data, is_final, packed metadata (b"": none), ErrorInfo or None.
_Item = Tuple[bytes, bool, bytes, Any]


class StreamReply:
    """Sink of one streaming call: the producer queues chunks, the gRPC thread yields messages."""

    def __init__(self, pb2: Any, limit: int, batch: int = 1) -> None:
        self.pb2 = pb2
        self.limit = limit
        self.batch = min(max(1, batch), MAX_CHUNKS_PER_MESSAGE)
        # False for a call answered on the gRPC thread itself (cancelled while
        # queued): nobody reads until it returns, so it must not wait.
        self.lockstep = True
        self._cond = threading.Condition(threading.Lock())
        self._items: Deque[_Item] = collections.deque()
        self._put_count = 0
        self._taken_count = 0  # chunks the reader took into messages
        self._sent_count = 0  # chunks gRPC has sent (it asked for the next message)
        self._taken_at = 0.0  # perf_counter() when the reader last took chunks
        self._resumed_at = time.perf_counter()  # when the producer last went on after a chunk
        self._reader_idle = False  # the reader waits for a chunk: wake it
        self._finished = False  # the producer is done: nothing more will come
        self._closed = False  # the reader is gone: drop everything, stop the producer

    # -- producer side (the tool runner) ---------------------------------------

    def _put(self, item: _Item) -> None:
        now = time.perf_counter()
        cond = self._cond
        with cond:
            if self._closed:
                raise StreamAborted()
            self._items.append(item)
            self._put_count += 1
            mine = self._put_count
            if self._reader_idle:
                cond.notify_all()
            if not self.lockstep:
                return
            if self.batch == 1 or now - self._resumed_at > SLOW_CHUNK_S:
                while self._sent_count < mine and not self._closed:
                    cond.wait()
                if self._sent_count < mine:
                    raise StreamAborted()  # closed before it went out
            elif (self._taken_count == self._sent_count or len(self._items) >= self.batch
                  or now - self._taken_at > HOLD_S):
                # Nothing on its way (this chunk leaves at once), no room, or an old message.
                while self._taken_count < mine and not self._closed:
                    cond.wait()
                if self._closed:
                    raise StreamAborted()
        self._resumed_at = time.perf_counter()

    def chunk(self, call: Any, data: Any, final: bool, metadata: Optional[Dict[str, Any]] = None) -> None:
        body, err = _pack_value(data)
        if err is not None:
            self.error(call, err)
            raise StreamAborted()
        if len(body) + _ENVELOPE_BYTES > self.limit:
            self.error(call, _too_large(len(body), self.limit))
            raise StreamAborted()  # the stream cannot go on
        self._put((body, final, pack(metadata) if metadata else b"", None))

    def result(self, call: Any, value: Any) -> None:
        # A non-generator tool called as a stream: its value is the one, final chunk.
        self.chunk(call, value, True)

    def end(self, call: Any) -> None:
        pass  # the stream ends when the producer finishes

    def error(self, call: Any, err: Dict[str, Any]) -> None:
        try:
            self._put((b"", True, b"", error_message(self.pb2, err)))
        except StreamAborted:
            pass  # nobody is listening any more

    def finish(self) -> None:
        """The producer is done (called after the tool runner returned)."""
        with self._cond:
            self._finished = True
            self._cond.notify_all()

    # -- reader side (the gRPC handler thread) ----------------------------------

    def close(self) -> None:
        """The client went away: wake both sides; later puts raise ``StreamAborted``."""
        with self._cond:
            self._closed = True
            self._items.clear()
            self._cond.notify_all()

    def _take(self) -> List[_Item]:
        """The next message's chunks (under the lock): up to ``batch`` and ``BATCH_BYTES``; an
        error chunk only alone."""
        items = self._items
        taken = [items.popleft()]
        size = len(taken[0][0])
        room = self.batch - 1
        while (items and room and size < BATCH_BYTES and items[0][3] is None
               and size + len(items[0][0]) + len(items[0][2]) + 2 * _ENVELOPE_BYTES <= self.limit):
            item = items.popleft()
            taken.append(item)
            size += len(item[0]) + len(item[2]) + _ENVELOPE_BYTES
            room -= 1
        self._taken_count += len(taken)
        self._taken_at = time.perf_counter()
        return taken

    def _message(self, taken: List[_Item]) -> Any:
        """One ``ToolChunk``: the first chunk, the others in ``batch``."""
        data, final, metadata, error = taken[0]
        if error is not None:
            return self.pb2.ToolChunk(error=error, is_final=final)
        if len(taken) == 1:
            return self.pb2.ToolChunk(data=data, is_final=final, metadata=metadata)
        return self.pb2.ToolChunk(data=data, is_final=final, metadata=metadata, batch=_batch(taken, 1))

    def messages(self) -> Iterator[Any]:
        cond = self._cond
        while True:
            with cond:
                while not self._items and not self._finished and not self._closed:
                    self._reader_idle = True
                    cond.wait()
                self._reader_idle = False
                if self._closed or not self._items:
                    return
                taken = self._take()
                cond.notify_all()  # a producer waiting for the hand-over or for room
            # gRPC asks for the next message only once this one is sent.
            yield self._message(taken)
            with cond:
                self._sent_count += len(taken)
                cond.notify_all()


def _batch(items: List[_Item], start: int) -> bytes:
    """``items[start:]`` as one msgpack array of ``[value, is_final(, metadata)]``, from the values
    already packed: only headers are written around them, nothing is packed again."""
    parts = [_array_header(len(items) - start)]
    append = parts.append
    for data, final, metadata, _error in items[start:]:
        if metadata:
            append(b"\x93")
            append(data)
            append(b"\xc3" if final else b"\xc2")
            append(metadata)
        else:
            append(b"\x92")
            append(data)
            append(b"\xc3" if final else b"\xc2")
    return b"".join(parts)


def _array_header(n: int) -> bytes:
    if n < 16:
        return bytes((0x90 | n,))
    if n < 0x10000:
        return b"\xdc" + n.to_bytes(2, "big")
    return b"\xdd" + n.to_bytes(4, "big")


def unpack_map(unpack: Any, data: bytes, what: str) -> Dict[str, Any]:
    """Decode an optional msgpack map field (empty bytes: empty map); raise ValueError otherwise."""
    if not data:
        return {}
    value = unpack(data)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a msgpack map, got {type(value).__name__}")
    return value
