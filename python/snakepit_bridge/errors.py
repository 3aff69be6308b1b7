"""Exceptions a tool can raise to shape the error map the host receives."""
from __future__ import annotations

from typing import Any, Mapping, Optional

from . import wire_errors


class SnakepitToolError(Exception):
    """A tool failure with a stable ``code`` and structured ``details``.

    The server copies ``code`` and ``details`` into the error map verbatim, so
    host code can branch on them instead of parsing messages::

        raise SnakepitToolError("Unknown operation: avg", code="unknown_operation",
                                details={"available": ["count", "sum"]})
    """

    default_code = wire_errors.PYTHON_ERROR

    def __init__(
        self,
        message: str = "",
        *,
        code: Optional[str] = None,
        details: Optional[Mapping[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = dict(details) if details else None


class ToolCancelledError(SnakepitToolError):
    """Raised by a cooperative tool that noticed ``session_context.cancelled``."""

    default_code = wire_errors.CANCELLED

    def __init__(self, message: str = "the call was cancelled", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class ProtocolError(Exception):
    """The host sent something that is not a valid frame; the worker must end."""


class HostToolError(SnakepitToolError):
    """A request to the host (host tool, tool list, session state) failed.

    ``code`` is the host's code (``unknown_host_tool``, ``invalid_host_tool_args``,
    ``host_tool_timeout``, ``no_session``, ``unknown_call``, ``reentrant_deadlock``,
    a host tool's own code, ``host_tool_error``) or one raised here:
    ``host_tool_timeout`` (no answer in time), ``host_unavailable`` (no host
    connection), ``no_session`` (state of a call without a session).
    Left to propagate out of a tool, it reaches the host with that code and
    ``details`` (e.g. ``details["available"]`` for ``unknown_host_tool``).
    ``host_type``/``host_traceback``: the host error's class name and stack text.

    What is raised is one of two subclasses, also the exception types the original
    documented: ``HostToolNotFoundError`` (a ``ValueError``) for ``unknown_host_tool``,
    ``HostToolFailedError`` (a ``RuntimeError``) for every other failure.
    """

    default_code = wire_errors.HOST_TOOL_ERROR

    def __new__(cls, *args: Any, **kwargs: Any) -> "HostToolError":
        if cls is HostToolError:  # picked by code, so every raise site gets the original's type too
            cls = HostToolNotFoundError if kwargs.get("code") == UNKNOWN_HOST_TOOL else HostToolFailedError
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, message: str = "", *, code: Optional[str] = None, details: Any = None,
                 host_type: Optional[str] = None, host_traceback: Optional[str] = None) -> None:
        super().__init__(message, code=code)
        # The host may send details that are not a map: keep them as they came.
        self.details = dict(details) if isinstance(details, Mapping) else details
        self.host_type = host_type
        self.host_traceback = host_traceback

    @classmethod
    def from_error_map(cls, err: Any) -> "HostToolError":
        """From the protocol's error map ``{type, message, traceback, code, details?}``."""
        if not isinstance(err, Mapping):
            return cls(f"malformed host error: {err!r}")
        return cls(str(err.get("message") or ""), code=err.get("code") or None,
                   details=err.get("details"), host_type=err.get("type"),
                   host_traceback=err.get("traceback"))


# The host's code for "no visible host tool of that name".
UNKNOWN_HOST_TOOL = "unknown_host_tool"


class HostToolNotFoundError(HostToolError, ValueError):
    """No host tool of that name is visible to the call (code ``unknown_host_tool``); a ``ValueError``
    as in the original."""

    wire_type = "HostToolError"  # the error map's ``type`` when it leaves a tool


class HostToolFailedError(HostToolError, RuntimeError):
    """A host request failed for any other reason; a ``RuntimeError`` as in the original."""

    wire_type = "HostToolError"


class UnknownToolError(SnakepitToolError, AttributeError):
    """No tool of that name on the adapter (code ``unknown_tool``, ``details["available"]``: its
    tools); an ``AttributeError`` as the original's ``BaseAdapter.call_tool`` raised."""

    default_code = wire_errors.UNKNOWN_TOOL
