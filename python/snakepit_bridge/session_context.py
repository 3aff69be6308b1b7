"""Per-call context handed to adapters as ``self.session_context``."""
from __future__ import annotations

from typing import Any, Dict, Optional


class SessionContext:
    """What a tool knows about the call it is serving.

    ``cancelled`` turns true when the host sent a ``cancel`` frame for this
    call; long-running sync tools should poll it (generators and ``async``
    tools are stopped by the bridge itself).
    """

    def __init__(
        self,
        session_id: Optional[str] = None,
        request_metadata: Optional[Dict[str, Any]] = None,
        request_id: Optional[int] = None,
    ) -> None:
        self.session_id = session_id
        self.request_metadata: Dict[str, Any] = request_metadata if request_metadata is not None else {}
        self.request_id = request_id
        # A plain bool: written by the reader thread, read by tools. A single
        # attribute store is atomic, so no lock is needed.
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        """True once the host cancelled this call."""
        return self._cancelled

    def _mark_cancelled(self) -> None:
        self._cancelled = True

    def __repr__(self) -> str:
        return (
            f"SessionContext(session_id={self.session_id!r}, request_id={self.request_id!r}, "
            f"cancelled={self._cancelled})"
        )
