"""Every pipe frame, both ways: its keys (TypedDicts), builders for the ones Python sends, the two name lists.

``python -m snakepit_bridge.pipe.frames`` prints the lists and every error ``code``
Python can send, as JSON, for the host's cross-language parity test:
``{"host_to_worker": [...], "worker_to_host": [...], "error_codes": [...], "compact": {...}}``.
"""
from __future__ import annotations

import json
import sys
from typing import Any, Callable, Dict, List, Literal, Optional, TypedDict

from .. import wire_errors

ErrorMap = Dict[str, Any]

# -- host -> worker (fd 3) ------------------------------------------------------------


class CallFrame(TypedDict, total=False):
    t: Literal["call"]
    id: int
    tool: str
    args: Dict[str, Any]
    session: Optional[str]
    meta: Optional[Dict[str, Any]]
    stream: bool
    window: int  # stream flow control: chunks Python may send before the first credit
    corr: str  # the call's correlation id
    traceparent: str
    restore: Dict[str, Any]  # session state for on_session_restore


class BatchFrame(TypedDict, total=False):
    """Many inputs of one tool, run back to back (``batch.py``): a call's keys with ``items`` for ``args``."""
    t: Literal["batch"]
    id: int
    tool: str
    items: List[Dict[str, Any]]  # one argument map per input, in order
    fail_fast: bool  # the first failing input ends the batch
    session: Optional[str]
    meta: Optional[Dict[str, Any]]
    corr: str
    traceparent: str
    restore: Dict[str, Any]


class CancelFrame(TypedDict):
    t: Literal["cancel"]
    id: int


class RecallFrame(TypedDict):
    """The host takes back a call it sent, if it has not started (another worker is free)."""
    t: Literal["recall"]
    id: int


class CreditFrame(TypedDict):
    t: Literal["credit"]
    id: int
    n: int


class PingFrame(TypedDict):
    t: Literal["ping"]
    id: int


class ShutdownFrame(TypedDict):
    t: Literal["shutdown"]


class TelemetryControlFrame(TypedDict, total=False):
    t: Literal["telemetry_control"]
    sampling: float
    allow: Optional[List[str]]
    deny: List[str]
    enabled: bool
    resourceIntervalMs: float


class HostReplyFrame(TypedDict, total=False):
    t: Literal["host_reply"]
    id: int
    value: Any
    error: ErrorMap


class SessionCleanupFrame(TypedDict):
    t: Literal["session_cleanup"]
    id: int
    session: str


# Compact forms (protocol 2, docs/protocol.md "Compact frames"): the two frames of nearly every
# call as msgpack arrays, whose first element names them. Decoding an array skips the keys of a
# map, the largest part of reading a small frame.
COMPACT_CALL = 0  # [0, id, tool, args, corr]: a call with no session, meta, stream, restore or window
COMPACT_RESULT = 1  # [1, id, value]: a result, sent once the host has sent a compact call
# ... or [1, id, value, flags, system_time_ns, duration_ns]: with its call's times (telemetry.call_events.carry)


INBOUND: Dict[str, type] = {
    "call": CallFrame, "batch": BatchFrame, "cancel": CancelFrame, "credit": CreditFrame, "ping": PingFrame,
    "shutdown": ShutdownFrame, "telemetry_control": TelemetryControlFrame,
    "host_reply": HostReplyFrame, "session_cleanup": SessionCleanupFrame, "recall": RecallFrame,
}

# -- worker -> host (fd 4) ------------------------------------------------------------


class ReadyFrame(TypedDict, total=False):
    t: Literal["ready"]
    protocol: int
    pid: int
    adapter: str
    tools: List[Dict[str, Any]]
    python: str
    concurrency: int
    runtime: Dict[str, Any]
    address: str  # gRPC workers: where to dial


class FatalFrame(TypedDict):
    t: Literal["fatal"]
    error: ErrorMap


class ResultFrame(TypedDict):
    t: Literal["result"]
    id: Any
    value: Any


class _ChunkKeys(TypedDict):
    t: Literal["chunk"]
    id: Any
    data: Any
    final: bool


class ChunkFrame(_ChunkKeys, total=False):
    metadata: Dict[str, Any]  # a chunk object's .metadata, when it has one


class _ItemsKeys(TypedDict):
    t: Literal["items"]
    id: Any
    values: List[Any]  # the next results of a batch, in input order (None where an input failed)


class ItemsFrame(_ItemsKeys, total=False):
    errors: List[List[Any]]  # [index in values, error map] of the inputs that failed; left out when none


class EndFrame(TypedDict):
    t: Literal["end"]
    id: Any


class ErrorFrame(TypedDict):
    t: Literal["error"]
    id: Any
    error: ErrorMap


class PongFrame(TypedDict):
    t: Literal["pong"]
    id: Any


class RecalledFrame(TypedDict):
    """The answer to ``recall``: ``returned`` when the call had not started (it is gone from the
    worker, never to be answered), else it runs and ends as usual."""
    t: Literal["recalled"]
    id: Any
    returned: bool


class TelemetryFrame(TypedDict):
    t: Literal["telemetry"]
    events: List[Dict[str, Any]]


class HostFrame(TypedDict, total=False):
    t: Literal["host"]
    id: int
    call: Any  # the running call's id, or None
    op: str  # call | list | state
    tool: str
    args: Dict[str, Any]
    timeout_ms: Optional[int]
    action: str
    key: str
    value: Any


def ready(info: Dict[str, Any]) -> ReadyFrame:
    return {"t": "ready", **info}  # type: ignore[typeddict-item]


def fatal(err: ErrorMap) -> FatalFrame:
    return {"t": "fatal", "error": err}


def result(call_id: Any, value: Any) -> ResultFrame:
    return {"t": "result", "id": call_id, "value": value}


def chunk(call_id: Any, data: Any, final: bool, metadata: Optional[Dict[str, Any]] = None) -> ChunkFrame:
    if metadata is None:
        return {"t": "chunk", "id": call_id, "data": data, "final": final}
    return {"t": "chunk", "id": call_id, "data": data, "final": final, "metadata": metadata}


def items(call_id: Any, values: List[Any], errors: List[List[Any]]) -> ItemsFrame:
    if not errors:
        return {"t": "items", "id": call_id, "values": values}
    return {"t": "items", "id": call_id, "values": values, "errors": errors}


def end(call_id: Any) -> EndFrame:
    return {"t": "end", "id": call_id}


def error(call_id: Any, err: ErrorMap) -> ErrorFrame:
    return {"t": "error", "id": call_id, "error": err}


def pong(ping_id: Any) -> PongFrame:
    return {"t": "pong", "id": ping_id}


def recalled(call_id: Any, returned: bool) -> RecalledFrame:
    return {"t": "recalled", "id": call_id, "returned": returned}


def telemetry(events: List[Dict[str, Any]]) -> TelemetryFrame:
    return {"t": "telemetry", "events": events}


def host_request(request_id: int, call_id: Any, op: str, payload: Dict[str, Any]) -> HostFrame:
    frame: HostFrame = {"t": "host", "id": request_id, "call": call_id, "op": op}
    frame.update(payload)  # type: ignore[typeddict-item]
    return frame


OUTBOUND: Dict[str, Callable[..., Dict[str, Any]]] = {
    "ready": ready, "fatal": fatal, "result": result, "chunk": chunk, "items": items, "end": end,
    "error": error, "pong": pong, "telemetry": telemetry, "host": host_request, "recalled": recalled,
}

HOST_TO_WORKER = tuple(sorted(INBOUND))
WORKER_TO_HOST = tuple(sorted(OUTBOUND))


def manifest() -> Dict[str, Any]:
    """The frame names each way, every error code Python sends (sorted) and the compact forms' codes."""
    return {"host_to_worker": list(HOST_TO_WORKER), "worker_to_host": list(WORKER_TO_HOST),
            "error_codes": sorted(wire_errors.CODES),
            "compact": {"call": COMPACT_CALL, "result": COMPACT_RESULT}}


if __name__ == "__main__":
    json.dump(manifest(), sys.stdout)
    sys.stdout.write("\n")
