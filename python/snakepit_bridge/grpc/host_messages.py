"""Host requests as protobuf messages, the same for ``HostService`` (dial-back) and ``HostStream``.

``request_message`` builds the request of a host request (``op`` = ``call`` |
``list`` | ``state``), ``host_error`` and ``tool_spec`` read answers, and
``telemetry_messages`` turns a telemetry batch into ``TelemetryEvent`` messages.
No gRPC import: ``servicer`` (which serves ``HostStream``) can import it.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from ..errors import HostToolError
from ..serialization import pack, unpack

__all__ = ["host_error", "request_message", "telemetry_messages", "tool_spec"]

_UINT32_MAX = 2**32 - 1


def host_error(pb2_error: Any) -> HostToolError:
    """A ``HostToolError`` from an ``ErrorInfo`` message."""
    details = unpack(pb2_error.details) if pb2_error.details else None
    return HostToolError(pb2_error.message, code=pb2_error.code or None, details=details,
                         host_type=pb2_error.type or None, host_traceback=pb2_error.traceback or None)


def tool_spec(spec: Any) -> Dict[str, Any]:
    """A ``HostToolSpec`` message as the pipe's spec map."""
    params: List[Dict[str, Any]] = []
    for p in spec.parameters:
        param: Dict[str, Any] = {"name": p.name, "type": p.type or "any", "required": p.required}
        if p.has_default:
            param["default"] = unpack(p.default_value) if p.default_value else None
        if p.description:
            param["description"] = p.description
        params.append(param)
    return {"name": spec.name, "description": spec.description, "parameters": params}


def request_message(pb2: Any, op: str, call_id: Any, payload: Dict[str, Any]) -> Tuple[str, Any]:
    """``(op, message)``: the ``HostService`` request of a host request (also carried by ``HostStream``)."""
    cid = int(call_id or 0)
    if op == "call":
        return op, pb2.ExecuteHostToolRequest(
            call_id=cid, tool_name=payload["tool"], args=pack(payload.get("args") or {}),
            timeout_ms=min(int(payload.get("timeout_ms") or 0), _UINT32_MAX))
    if op == "list":
        return op, pb2.ListHostToolsRequest(call_id=cid)
    if op == "state":
        return op, pb2.SessionStateRequest(
            call_id=cid, action=payload["action"], key=payload.get("key") or "",
            value=pack(payload["value"]) if "value" in payload else b"")
    raise ValueError(f"unknown host op {op!r}")


def telemetry_messages(pb2: Any, events: List[Dict[str, Any]], worker_id: str) -> List[Any]:
    """A telemetry batch as ``TelemetryEvent`` messages."""
    return [pb2.TelemetryEvent(
        event=e["name"], measurements=pack(e["measurements"]),
        metadata=pack({**e["metadata"], "correlation_id": e.get("correlation_id")}),
        worker_id=worker_id, timestamp=e.get("ts") or 0.0) for e in events]
