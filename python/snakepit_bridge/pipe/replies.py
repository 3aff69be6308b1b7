"""The reply sink of pipe calls: a call's answers become ``result``/``chunk``/``items``/``end``/``error`` frames on fd 4."""
from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional

from .. import telemetry, wire_errors
from ..batch import encode_items
from ..call import StreamAborted
from ..telemetry import call_events
from . import frames
from .framing import FrameWriter

__all__ = ["PipeReplies"]

_thread_id = threading.get_ident
_telemetry_buffer = telemetry._buffer  # the backend's buffer (one list, filled and emptied in place)
_COMPACT_RESULT = frames.COMPACT_RESULT


class PipeReplies:
    """The reply sink of calls that arrived as ``call`` frames: answers go out as frames.

    Shared by every pipe call (stateless but for the writer). ``BrokenPipeError``
    propagates: the tool runner treats it as "host gone".

    ``hold_final(thread_id)``: that thread's last frame of a call (result, end or error) is kept
    until ``release_final()``. The process profile's loop releases it once the main thread is
    back at reading: sent earlier, the host's next call could arrive while the call still
    counts as running and wake the inbox's watcher thread for nothing (a thread hand-off).
    The call's telemetry flushed from then on (``telemetry``, the backend's sink: the events
    buffered during the call, and the bridge's ``python.call.stop``) is kept too and leaves in
    the same write, before the answer: one wake-up of the host instead of up to three.
    """

    __slots__ = ("writer", "_hold_thread", "_held", "compact", "_held_events")

    def __init__(self, writer: FrameWriter) -> None:
        self.writer = writer
        self._hold_thread: Optional[int] = None
        self._held: Optional[bytes] = None
        # Telemetry frames flushed while a last frame is held: written before it, in the same write.
        self._held_events: List[bytes] = []
        # Results go out compact (frames.py) once the host has sent a compact call: it reads them.
        self.compact = False

    def hold_final(self, thread_id: int) -> None:
        self._hold_thread = thread_id

    def release_final(self, watch: bool = True) -> None:
        """Write the held last frame, if any, after the held telemetry frames (``watch``: see
        ``FrameWriter.write_body``). Raises ``BrokenPipeError``."""
        body = self._held
        if body is not None and _telemetry_buffer:
            telemetry.flush()  # events still buffered go before the answer (into _held_events)
        events = self._held_events
        if events:
            self._held_events = []
            if body is not None:
                self._held = None
                events.append(body)
            self.writer.write_bodies(events, watch)
        elif body is not None:
            self._held = None
            self.writer.write_body(body, watch)

    def telemetry(self, events: List[Dict[str, Any]]) -> None:
        """The telemetry backend's sink: a ``telemetry`` frame now, or, for a call whose last frame
        is held, with that frame (before it)."""
        body = self.writer.encode(frames.telemetry(events))
        if self._held is not None and _thread_id() == self._hold_thread:
            self._held_events.append(body)
        else:
            self.writer.write_body(body)

    def carrying(self) -> bool:
        """Whether this thread's answers may carry their call's start too (``call_events.begin``):
        compact results, held until the thread is back at reading (the process profile)."""
        return self.compact and self._hold_thread == _thread_id()

    def _send(self, frame: Any, call_id: Any, is_error: bool = False) -> bool:
        """A call's last frame (result, end or error; chunks go out in ``chunk``). False when it was over
        the frame limit and an error went instead."""
        writer = self.writer
        sent = True
        try:
            body = writer.encode(frame)
        except ValueError as exc:  # over the frame limit: answer with an error instead
            if is_error:
                raise
            body = writer.encode(frames.error(call_id, wire_errors.unsendable(exc)))
            sent = False
        hold = self._hold_thread
        if hold is not None and _thread_id() == hold:
            # The call's telemetry waits with it (``telemetry``): the events buffered until its
            # release leave as one frame, before the answer (``release_final`` flushes them).
            self._held = body
            return sent
        if _telemetry_buffer:
            telemetry.flush()  # the call's events reach the host before its answer
        writer.write_body(body)
        return sent

    def result(self, call: Any, value: Any) -> None:
        call_id = call.id
        # A compact result (frames.COMPACT_RESULT) for a host that sends compact calls.
        self._send([_COMPACT_RESULT, call_id, value] if self.compact else frames.result(call_id, value), call_id)

    def observed_result(self, call: Any, value: Any, observed: Any) -> None:
        """``result`` of a call whose events the host wants (``call_events.begin``): a compact answer
        carries the call's times when the host reads them there (``call_events.carry``)."""
        times = call_events.carry(observed) if self.compact else None
        if times is None:
            return self.result(call, value)
        call_id = call.id
        if not self._send([_COMPACT_RESULT, call_id, value, *times], call_id):
            call_events.uncarry(observed, times)  # the error that went instead carries none

    def chunk(self, call: Any, data: Any, final: bool, metadata: Optional[Dict[str, Any]] = None) -> None:
        # `_send` for the one frame a stream sends per item: no telemetry flush, never held.
        writer = self.writer
        try:
            body = writer.encode(frames.chunk(call.id, data, final, metadata))
        except ValueError as exc:  # over the frame limit: the stream ends with that error
            writer.write_body(writer.encode(frames.error(call.id, wire_errors.unsendable(exc))))
            raise StreamAborted() from exc
        writer.write_body(body)

    def items(self, call: Any, values: Any, errors: Any) -> None:
        """A batch's next results (``batch.py``); never held: the batch's last frame is its ``end``."""
        writer = self.writer
        for body in encode_items(lambda v, e: writer.encode(frames.items(call.id, v, e)), values, errors):
            writer.write_body(body)

    def end(self, call: Any) -> None:
        self._send(frames.end(call.id), call.id)

    def error(self, call: Any, err: Dict[str, Any]) -> None:
        self._send(frames.error(call.id, err), call.id, True)
