"""Every error map Python sends to the host, and every ``code`` it can carry (docs/protocol.md).

An error map is ``{type, message, traceback, code, details?}``: ``type`` is the Python
exception class name, ``traceback`` the formatted traceback text ("" where the bridge's own
frames would only be noise). The builders below are the one place these maps are made, for
both transports (pipe ``error``/``fatal`` frames, gRPC ``ErrorInfo``); ``CODES`` lists every
code with when it is sent (``python -m snakepit_bridge.pipe.frames`` prints it for the
host's parity test). Codes of the host that Python passes on (a ``HostToolError`` left to
propagate out of a tool keeps the host's code) are the host's, not listed here.
"""
from __future__ import annotations

import os
import traceback as _traceback
from typing import Any, Dict, Optional

# -- calls ---------------------------------------------------------------------
PYTHON_ERROR = "python_error"
INVALID_ARGS = "invalid_args"
UNKNOWN_TOOL = "unknown_tool"
CANCELLED = "cancelled"
SESSION_RESTORE_FAILED = "session_restore_failed"
WRONG_TRANSPORT = "wrong_transport"
# -- values --------------------------------------------------------------------
PAYLOAD_TOO_LARGE = "payload_too_large"
UNSERIALIZABLE = "unserializable"
ARROW_UNAVAILABLE = "arrow_unavailable"
# -- start-up (the ``fatal`` frame) ---------------------------------------------
ADAPTER_IMPORT = "adapter_import"
ADAPTER_NOT_THREAD_SAFE = "adapter_not_thread_safe"
GRPC_UNAVAILABLE = "grpc_unavailable"
LISTEN_FAILED = "listen_failed"
# -- requests to the host, raised in the tool as HostToolError -------------------
HOST_TOOL_ERROR = "host_tool_error"
HOST_TOOL_TIMEOUT = "host_tool_timeout"
HOST_UNAVAILABLE = "host_unavailable"
INVALID_HOST_TOOL_ARGS = "invalid_host_tool_args"
NO_SESSION = "no_session"

CODES: Dict[str, str] = {
    PYTHON_ERROR: "the tool raised an exception (also an answer over the frame or message limit: type FrameTooLargeError)",
    INVALID_ARGS: "the arguments do not bind to the tool's signature (gRPC: or do not decode)",
    UNKNOWN_TOOL: "no tool of that name; details.available lists the tools",
    CANCELLED: "the call was cancelled",
    SESSION_RESTORE_FAILED: "the adapter's on_session_restore(state) raised",
    WRONG_TRANSPORT: "a call frame reached a gRPC worker's control pipe",
    PAYLOAD_TOO_LARGE: "a value is over SNAKEPIT_MAX_PAYLOAD_BYTES",
    UNSERIALIZABLE: "a value has no wire mapping and SNAKEPIT_SERIALIZATION is strict",
    ARROW_UNAVAILABLE: "an Arrow table met a side without its Arrow library",
    ADAPTER_IMPORT: "(fatal) the adapter could not be imported, instantiated or initialized",
    ADAPTER_NOT_THREAD_SAFE: "(fatal) a thread-profile worker's adapter does not declare __thread_safe__ = True",
    GRPC_UNAVAILABLE: "(fatal) the gRPC stubs cannot be generated or imported",
    LISTEN_FAILED: "(fatal) the gRPC address cannot be bound",
    HOST_TOOL_ERROR: "a host request failed without a code of the host's (an undecodable reply)",
    HOST_TOOL_TIMEOUT: "no answer from the host within the wait bound",
    HOST_UNAVAILABLE: "no connection to the host",
    INVALID_HOST_TOOL_ARGS: "a host request is over the frame or message limit",
    NO_SESSION: "session state asked for by a call without a session",
}

ErrorMap = Dict[str, Any]

# The bridge's own leading frames are cut from tracebacks (the tool's frames are what matter).
_HERE = os.path.dirname(os.path.abspath(__file__))
_BRIDGE_FILES = frozenset(os.path.join(_HERE, name) for name in ("tool_runner.py",))


def format_traceback(exc: BaseException) -> str:
    """Traceback text without the bridge's own leading frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) in _BRIDGE_FILES:
        tb = tb.tb_next
    return "".join(_traceback.format_exception(type(exc), exc, tb))


def _map(type_name: str, message: str, trace: str, code: str, details: Any = None) -> ErrorMap:
    err: ErrorMap = {"type": type_name, "message": message, "traceback": trace, "code": code}
    if details is not None:
        err["details"] = details
    return err


def from_exception(exc: BaseException, code: str = PYTHON_ERROR, details: Any = None, *,
                   with_traceback: bool = True) -> ErrorMap:
    """The map of an exception; a ``SnakepitToolError`` brings its own ``code`` and ``details``
    (and may name its ``type`` on the wire with ``wire_type``)."""
    from .errors import SnakepitToolError  # late: errors.py takes its codes from here

    if isinstance(exc, SnakepitToolError):
        code, details = exc.code, exc.details if details is None else details
        message = exc.message
    else:
        message = str(exc)
    type_name = getattr(exc, "wire_type", None) or type(exc).__name__
    return _map(type_name, message, format_traceback(exc) if with_traceback else "", code, details)


def invalid_args(exc: BaseException) -> ErrorMap:
    """Arguments that do not bind (or decode): the traceback would show only the bridge's frame."""
    return from_exception(exc, INVALID_ARGS, with_traceback=False)


def unknown_tool(name: Any, available: Any) -> ErrorMap:
    return _map("UnknownToolError", f"Unknown tool '{name}'", "", UNKNOWN_TOOL, {"available": sorted(available)})


def cancelled(call_id: Any, tool: Any, exc: Optional[BaseException] = None) -> ErrorMap:
    return _map(type(exc).__name__ if exc is not None else "CancelledError",
                f"call {call_id} ({tool}) was cancelled",
                format_traceback(exc) if exc is not None else "", CANCELLED)


def session_restore_failed(exc: BaseException) -> ErrorMap:
    err = from_exception(exc)
    err["code"] = SESSION_RESTORE_FAILED
    return err


def unsendable(exc: BaseException) -> ErrorMap:
    """An answer that cannot be sent: over the payload limit, strict serialization, or over the
    frame/message limit (a plain ``ValueError``: type ``FrameTooLargeError``)."""
    err = from_exception(exc, with_traceback=False)
    if err["code"] == PYTHON_ERROR:
        err["type"] = "FrameTooLargeError"
    return err


def too_large(size: int, limit: int, setting: str) -> ErrorMap:
    """An encoded value over the transport's own limit (``setting`` names the variable)."""
    return unsendable(ValueError(f"encoded value is {size} bytes, over the limit of {limit} ({setting})"))


def wrong_transport() -> ErrorMap:
    return _map("ProtocolError", "this worker serves calls over gRPC, not the pipe", "", WRONG_TRANSPORT)


def startup_failure(exc: BaseException, code: str) -> ErrorMap:
    """The map of a ``fatal`` frame (``ADAPTER_IMPORT``, ``GRPC_UNAVAILABLE``, ``LISTEN_FAILED``); an
    exception with a ``startup_code`` (``ADAPTER_NOT_THREAD_SAFE``) brings its own."""
    return _map(type(exc).__name__, str(exc), format_traceback(exc), getattr(exc, "startup_code", None) or code)
