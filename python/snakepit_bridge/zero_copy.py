"""``ZeroCopyRef`` (the original's ``snakepit_bridge.zero_copy``): a description of a buffer held elsewhere.

The original used it for DLPack/Arrow handles named in a payload. Here large binaries,
tensors and Arrow tables travel through shared memory by themselves (``zeroCopy`` in
the config, docs/protocol.md ext 3): a tool receives a ``numpy.ndarray`` or ``bytes``
view, never a reference to resolve. A ``ZeroCopyRef`` is kept as what it was: the
payload map and its fields, round-tripping through ``to_payload``.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping

__all__ = ["ZeroCopyRef"]


class ZeroCopyRef:
    """A reference payload (``kind``, ``device``, ``dtype``, ``shape``, ``owner``, ``ref``, ``copy``,
    ``bytes``, ``metadata``) with each key as an attribute."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.payload: Dict[str, Any] = dict(payload)
        get = self.payload.get
        self.kind = get("kind")
        self.device = get("device")
        self.dtype = get("dtype")
        self.shape = get("shape")
        self.owner = get("owner")
        self.ref = get("ref")
        self.copy = get("copy")
        self.bytes = get("bytes")
        self.metadata = get("metadata", {})

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> "ZeroCopyRef":
        return cls(payload)

    def to_payload(self) -> Dict[str, Any]:
        """The payload map (a copy): what goes on the wire when a tool returns the ref."""
        return dict(self.payload)

    def to_dict(self) -> Dict[str, Any]:
        # Graceful serialization picks this up: a returned ref reaches the host as its payload.
        return self.to_payload()

    def __repr__(self) -> str:
        return f"<ZeroCopyRef kind={self.kind} device={self.device} ref={self.ref}>"
