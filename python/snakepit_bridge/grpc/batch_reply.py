"""The reply sink of one ``ExecuteBatch`` (``batch.py``): results become ``BatchResults`` messages.

A ``StreamReply`` (lockstep: the batch goes on once gRPC has sent a message) whose messages
carry a group of results each: ``values`` (msgpack array) and the failed inputs' errors, or the
batch's own failure as the last message.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from .. import wire_errors
from ..batch import Batch, encode_items
from ..call import StreamAborted
from ..serialization import pack_checked, unpack
from .replies import _ENVELOPE_BYTES, StreamReply, _too_large, error_message

__all__ = ["BatchReply", "batch_from_request"]


def batch_from_request(request: Any) -> "tuple[Optional[Batch], Optional[Dict[str, Any]]]":
    """The ``Batch`` of an ``ExecuteBatchRequest``, or ``(None, error map)`` when ``items`` is not a msgpack array."""
    try:
        items = unpack(request.items) if request.items else []
        if not isinstance(items, list):
            raise ValueError(f"items must be a msgpack array, got {type(items).__name__}")
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the caller's
        return None, wire_errors.invalid_args(exc)
    return Batch(items, request.fail_fast), None


class BatchReply(StreamReply):
    """Sink of one batch: ``items`` per group of results, ``error`` for the batch; no chunks.

    Each queued item carries its finished ``BatchResults`` in the error slot (one per message:
    a batch reply never groups, ``batch`` stays 1)."""

    def _message(self, taken: List[Any]) -> Any:
        return taken[0][3]

    def _send(self, message: Any) -> None:
        self._put((b"", False, b"", message))

    def _results(self, values: List[Any], errors: List[List[Any]]) -> Any:
        body = pack_checked(values)
        if len(body) + _ENVELOPE_BYTES > self.limit:
            raise ValueError(_too_large(len(body), self.limit)["message"])
        pb2 = self.pb2
        return pb2.BatchResults(values=body, errors=[
            pb2.BatchItemError(index=at, error=error_message(pb2, err)) for at, err in errors])

    def items(self, call: Any, values: List[Any], errors: List[List[Any]]) -> None:
        for message in encode_items(self._results, values, errors):
            self._send(message)

    def error(self, call: Any, err: Dict[str, Any]) -> None:
        try:
            self._send(self.pb2.BatchResults(error=error_message(self.pb2, err)))
        except StreamAborted:
            pass  # nobody is listening any more

    def result(self, call: Any, value: Any) -> None:  # pragma: no cover - a batch answers with items
        raise AssertionError("a batch answers with items")

    def chunk(self, call: Any, data: Any, final: bool, metadata: Any = None) -> None:  # pragma: no cover
        raise AssertionError("a batch does not stream chunks")
