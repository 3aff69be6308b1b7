"""A gRPC call's reply sinks (the contract is in ``call.py``): answers become response messages.

- ``UnaryReply``: the sink of one ``ExecuteTool``: keeps the response message.
- ``StreamReply``: the sink of one ``ExecuteStreamingTool``: hands each
  ``ToolChunk`` from the thread running the tool to the gRPC thread that
  yields it, in lockstep: the tool resumes once gRPC has sent the chunk (the
  way a pipe ``write`` returns once the frame is in the pipe). So a chunk
  yielded before the process dies has left it, and a slow reader holds a fast
  generator back. Closed by the reader side when the client goes away, which
  makes the producer stop.

Values are packed here (``serialization.pack``), on the thread running the
tool; a value over the message limit becomes a ``FrameTooLargeError`` error,
as over the pipe.
"""
from __future__ import annotations

import collections
import threading
from typing import Any, Deque, Dict, Iterator, Optional

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


class StreamReply:
    """Sink of one streaming call: the producer puts messages, the gRPC thread iterates them."""

    def __init__(self, pb2: Any, limit: int) -> None:
        self.pb2 = pb2
        self.limit = limit
        # False for a call answered on the gRPC thread itself (cancelled while
        # queued): nobody reads until it returns, so it must not wait.
        self.lockstep = True
        self._cond = threading.Condition(threading.Lock())
        self._items: Deque[Any] = collections.deque()
        self._put_count = 0
        self._sent_count = 0  # messages gRPC has sent (the reader asked for the next one)
        self._finished = False  # the producer is done: nothing more will come
        self._closed = False  # the reader is gone: drop everything, stop the producer

    # -- producer side (the tool runner) ---------------------------------------

    def _put(self, message: Any) -> None:
        with self._cond:
            if self._closed:
                raise StreamAborted()
            self._items.append(message)
            self._put_count += 1
            mine = self._put_count
            self._cond.notify_all()
            if not self.lockstep:
                return
            while self._sent_count < mine and not self._closed:
                self._cond.wait()
            if self._sent_count < mine:
                raise StreamAborted()  # closed before it went out

    def chunk(self, call: Any, data: Any, final: bool, metadata: Optional[Dict[str, Any]] = None) -> None:
        body, err = _pack_value(data)
        if err is not None:
            self.error(call, err)
            raise StreamAborted()
        if len(body) + _ENVELOPE_BYTES > self.limit:
            self.error(call, _too_large(len(body), self.limit))
            raise StreamAborted()  # the stream cannot go on
        extra = pack(metadata) if metadata else b""
        self._put(self.pb2.ToolChunk(data=body, is_final=final, metadata=extra))

    def result(self, call: Any, value: Any) -> None:
        # A non-generator tool called as a stream: its value is the one, final chunk.
        self.chunk(call, value, True)

    def end(self, call: Any) -> None:
        pass  # the stream ends when the producer finishes

    def error(self, call: Any, err: Dict[str, Any]) -> None:
        try:
            self._put(self.pb2.ToolChunk(error=error_message(self.pb2, err), is_final=True))
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

    def messages(self) -> Iterator[Any]:
        cond, items = self._cond, self._items
        while True:
            with cond:
                while not items and not self._finished and not self._closed:
                    cond.wait()
                if self._closed or not items:
                    return
                message = items.popleft()
            # gRPC asks for the next message only once this one is sent.
            yield message
            with cond:
                self._sent_count += 1
                cond.notify_all()


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
