"""Host requests on a stream the host opened (``BridgeService.HostStream``): no dial-back.

A worker in a cluster often cannot reach its host's address. So the host opens
``HostStream`` on the connection it already has; the worker's first message is
``opened`` with a random id, and the host sends that id with each call
(``x-snakepit-host-stream``). That call's ``SessionContext`` gets the stream's
``StreamHostChannel``: its host requests (host tools, their list, session
state) go up the stream as ``HostStreamRequest`` messages and their answers
come down matched by ``request_id``. The host still takes the session from the
call the request names, so a request reaches only its own call's session, as
over ``HostService``. Calls without the header (a spawned worker, a host that
predates the stream) keep the dial-back channel (``grpc/host_channel.py``).

Threads: the RPC's handler thread yields what the stream's queue holds; a
reader thread takes the answers and wakes their waiters. When the stream ends
(host gone, connection lost, server stopping) every waiting request fails with
``host_unavailable``. Telemetry goes up the newest open stream, else dial-back.
"""
from __future__ import annotations

import itertools
import logging
import queue
import secrets
import threading
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from .. import wire_errors
from ..errors import HostToolError
from ..host_channel import HostChannel, Pending, unavailable
from ..serialization import unpack
from .host_messages import host_error, request_message, telemetry_messages, tool_spec

log = logging.getLogger("snakepit_bridge.host_stream")

__all__ = ["STREAM_HEADER", "STREAMS", "HostStreamServicer", "StreamHostChannel", "host_for", "telemetry_sink"]

STREAM_HEADER = "x-snakepit-host-stream"
_END = object()  # the queue's end marker: the handler stops yielding


class StreamHostChannel(HostChannel):
    """One open ``HostStream``: requests queued for the handler to send, answers delivered by id."""

    def __init__(self, pb2: Any, stream_id: str, limit: int) -> None:
        super().__init__()
        self.pb2 = pb2
        self.stream_id = stream_id
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: Dict[int, Tuple[Pending, str]] = {}
        self._out: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._closed = False
        self._limit = limit  # the server's largest message

    @property
    def closed(self) -> bool:
        return self._closed

    def _start(self, op: str, call_id: Any, payload: Dict[str, Any], timeout_s: float) -> Pending:
        kind, request = request_message(self.pb2, op, call_id, payload)
        with self._lock:
            if self._closed:
                raise unavailable("the host's stream has ended")
            rid = next(self._ids)
            pending = Pending(rid)
            self._pending[rid] = (pending, kind)
        message = self.pb2.HostStreamRequest(request_id=rid, **{kind: request})
        # One message over the limit would end the whole stream (every caller's requests): refuse it alone.
        if message.ByteSize() > self._limit:
            self._forget(rid)
            raise HostToolError(f"host request of {message.ByteSize()} bytes is over the limit of {self._limit}",
                                code=wire_errors.INVALID_HOST_TOOL_ARGS)
        self._out.put(message)
        return pending

    def _forget(self, rid: Any) -> Optional[Tuple[Pending, str]]:
        with self._lock:
            return self._pending.pop(rid, None)

    def _abandon(self, pending: Pending) -> None:
        self._forget(pending.key)

    def deliver(self, answer: Any) -> None:
        """An answer from the host (on the reader thread)."""
        entry = self._forget(answer.request_id)
        if entry is None:  # its waiter timed out or was cancelled
            log.debug("dropping host answer for unknown request %r", answer.request_id)
            return
        pending, kind = entry
        try:
            which = answer.WhichOneof("answer")
            if which == "error":
                return pending.finish(error=host_error(answer.error))
            if which == "tools":
                return pending.finish([tool_spec(t) for t in answer.tools.tools])
            pending.finish(unpack(answer.value) if which == "value" and answer.value else None)
        except Exception as exc:  # noqa: BLE001 - an undecodable answer belongs to its waiter
            pending.finish(error=HostToolError(f"undecodable host answer: {type(exc).__name__}: {exc}",
                                               code=wire_errors.HOST_TOOL_ERROR))

    def send_telemetry(self, events: List[Dict[str, Any]], worker_id: str) -> None:
        if not self._closed:
            batch = self.pb2.TelemetryBatch(events=telemetry_messages(self.pb2, events, worker_id))
            self._out.put(self.pb2.HostStreamRequest(telemetry=batch))

    def outgoing(self) -> Iterator[Any]:
        """What the handler sends: queued messages until the stream closes."""
        while True:
            message = self._out.get()
            if message is _END:
                return
            yield message

    def close(self) -> None:
        """The stream ended: fail every waiting request; the handler stops."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            waiting, self._pending = list(self._pending.values()), {}
        for pending, _kind in waiting:
            pending.finish(error=unavailable("the host's stream ended"))
        self._out.put(_END)


class HostStreams:
    """The open streams by id (process-wide: one worker process serves one adapter)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: Dict[str, StreamHostChannel] = {}

    def open(self, pb2: Any, limit: int) -> StreamHostChannel:
        channel = StreamHostChannel(pb2, secrets.token_hex(16), limit)
        with self._lock:
            self._streams[channel.stream_id] = channel
        return channel

    def get(self, stream_id: str) -> Optional[StreamHostChannel]:
        with self._lock:
            return self._streams.get(stream_id)

    def latest(self) -> Optional[StreamHostChannel]:
        with self._lock:
            return next(reversed(self._streams.values()), None) if self._streams else None

    def remove(self, channel: StreamHostChannel) -> None:
        with self._lock:
            if self._streams.get(channel.stream_id) is channel:
                del self._streams[channel.stream_id]


STREAMS = HostStreams()


def host_for(context: Any, fallback: Any) -> Any:
    """The host channel of a call: the stream its host named (``x-snakepit-host-stream``), else ``fallback``."""
    for key, value in context.invocation_metadata() or ():
        if key == STREAM_HEADER:
            channel = STREAMS.get(value)
            if channel is not None and not channel.closed:
                return channel
            break
    return fallback


def telemetry_sink(fallback: Any, worker_id: str) -> Callable[[List[Dict[str, Any]]], None]:
    """Telemetry batches up the newest open stream, else to ``fallback`` (dial-back ``HostService``)."""
    def sink(events: List[Dict[str, Any]]) -> None:
        channel = STREAMS.latest()
        (channel if channel is not None else fallback).send_telemetry(events, worker_id)
    return sink


def _read_answers(answers: Iterator[Any], channel: StreamHostChannel) -> None:
    try:
        for answer in answers:
            channel.deliver(answer)
    except Exception as exc:  # noqa: BLE001 - grpc.RpcError when the host goes away
        log.debug("host stream %s ended: %s", channel.stream_id, exc)
    finally:
        channel.close()


class HostStreamServicer:
    """Mixin of ``BridgeServicer``: the ``HostStream`` RPC (needs ``self.pb2`` and ``self.limit``)."""

    pb2: Any
    limit: int

    def HostStream(self, request_iterator: Iterator[Any], context: Any) -> Iterator[Any]:
        channel = STREAMS.open(self.pb2, self.limit)
        if not context.add_callback(channel.close):  # the RPC ended in any way
            channel.close()
        threading.Thread(target=_read_answers, args=(request_iterator, channel),
                         name="snakepit-host-stream", daemon=True).start()
        try:
            yield self.pb2.HostStreamRequest(opened=self.pb2.HostStreamOpened(stream_id=channel.stream_id))
            yield from channel.outgoing()
        finally:
            STREAMS.remove(channel)
            channel.close()
