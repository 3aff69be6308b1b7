"""Exceptions a tool can raise to shape the error map the host receives."""
from __future__ import annotations

from typing import Any, Mapping, Optional


class SnakepitToolError(Exception):
    """A tool failure with a stable ``code`` and structured ``details``.

    The server copies ``code`` and ``details`` into the error map verbatim, so
    host code can branch on them instead of parsing messages::

        raise SnakepitToolError("Unknown operation: avg", code="unknown_operation",
                                details={"available": ["count", "sum"]})
    """

    default_code = "python_error"

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

    default_code = "cancelled"

    def __init__(self, message: str = "the call was cancelled", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class ProtocolError(Exception):
    """The host sent something that is not a valid frame; the worker must end."""
