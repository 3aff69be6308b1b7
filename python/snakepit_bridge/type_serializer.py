"""The original's ``TypeSerializer`` (imported from ``snakepit_bridge.serialization``): typed values in protobuf ``Any``.

The bridge itself does not use it (values travel as msgpack, docs/protocol.md); it is
here for adapter code written against the original that encodes, decodes or validates
typed values itself. ``encode_any(value, var_type)`` gives an ``Any`` whose
``type_url`` is ``type.googleapis.com/snakepit.<var_type>`` and whose value is JSON;
tensors and embeddings past ``BINARY_THRESHOLD`` bytes go in a separate binary part
(``...<var_type>.binary``), which here is msgpack, not the original's pickle: a
pickle part is refused on decoding (unpickling runs code).
"""
from __future__ import annotations

import json
import math
from typing import Any, Dict, Optional, Tuple

import msgpack

from .zero_copy import ZeroCopyRef

__all__ = ["TypeSerializer", "BINARY_THRESHOLD"]

BINARY_THRESHOLD = 10_240  # bytes (estimated at 8 per element), as in the original
_PREFIX = "type.googleapis.com/snakepit."


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        return None
    return numpy


class TypeSerializer:
    """Typed values to and from protobuf ``Any`` (types: float, integer, string, boolean, choice,
    module, embedding, tensor; anything else is JSON as it is)."""

    @staticmethod
    def encode_any(value: Any, var_type: str) -> Tuple[Any, Optional[bytes]]:
        """``(Any message, binary part or None)``; raises ``ValueError`` for a value of the wrong type."""
        from google.protobuf import any_pb2

        normalized = TypeSerializer._normalize(value, var_type)
        message = any_pb2.Any()
        if TypeSerializer._binary(normalized, var_type):
            data = normalized["data"] if var_type == "tensor" else normalized
            shape = normalized.get("shape", []) if var_type == "tensor" else [len(normalized)]
            meta = {"shape": shape, "dtype": "float32", "binary_format": "msgpack", "type": var_type}
            message.type_url = f"{_PREFIX}{var_type}.binary"
            message.value = json.dumps(meta).encode()
            return message, msgpack.packb(data, use_bin_type=True)
        message.type_url = f"{_PREFIX}{var_type}"
        message.value = json.dumps(TypeSerializer._json_safe(normalized, var_type)).encode()
        return message, None

    @staticmethod
    def decode_any(any_msg: Any, binary_data: Optional[bytes] = None) -> Any:
        """The Python value of an ``Any`` made by ``encode_any`` (or by the original, JSON form)."""
        if any_msg.type_url.endswith(".binary") and binary_data is not None:
            return TypeSerializer._decode_binary(any_msg, binary_data)
        var_type = any_msg.type_url.rsplit("/", 1)[-1].rsplit(".", 1)[-1]
        value = TypeSerializer._typed(json.loads(any_msg.value.decode()), var_type)
        if isinstance(value, dict) and value.get("__snakepit_zero_copy__"):
            return ZeroCopyRef.from_payload(value)
        return value

    @staticmethod
    def validate_constraints(value: Any, var_type: str, constraints: Dict[str, Any]) -> None:
        """Raise ``ValueError`` when ``value`` breaks ``constraints`` (min/max, min_length/max_length,
        choices, allowed_modules, dimensions, shape)."""
        if var_type in ("float", "integer"):
            low, high = constraints.get("min"), constraints.get("max")
            if low is not None and value < low:
                raise ValueError(f"Value {value} is below minimum {low}")
            if high is not None and value > high:
                raise ValueError(f"Value {value} is above maximum {high}")
        elif var_type == "string":
            length, low, high = len(value), constraints.get("min_length", 0), constraints.get("max_length")
            if length < low:
                raise ValueError(f"String too short: {length} < {low}")
            if high and length > high:
                raise ValueError(f"String too long: {length} > {high}")
        elif var_type in ("choice", "module"):
            allowed = constraints.get("choices" if var_type == "choice" else "allowed_modules") or []
            if allowed and value not in allowed:
                raise ValueError(f"Value {value} not in allowed {'choices' if var_type == 'choice' else 'modules'}: {allowed}")
        elif var_type == "embedding":
            dimensions = constraints.get("dimensions")
            if dimensions and len(value) != dimensions:
                raise ValueError(f"Wrong dimensions: {len(value)} != {dimensions}")
        elif var_type == "tensor":
            expected = constraints.get("shape")
            actual = value.get("shape") if isinstance(value, dict) else list(getattr(value, "shape", []))
            if expected and list(actual) != list(expected):
                raise ValueError(f"Wrong shape: {actual} != {expected}")

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _normalize(value: Any, var_type: str) -> Any:
        if isinstance(value, ZeroCopyRef):
            return value.to_payload()
        np = _numpy()
        is_array = np is not None and isinstance(value, np.ndarray)
        if var_type == "float":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            raise ValueError(f"Expected number, got {type(value)}")
        if var_type == "integer":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    isinstance(value, float) and not value.is_integer()):
                raise ValueError(f"Expected integer, got {value}")
            return int(value)
        if var_type == "boolean":
            if isinstance(value, bool):
                return value
            raise ValueError(f"Expected boolean, got {type(value)}")
        if var_type in ("string", "choice", "module"):
            return str(value)
        if var_type == "embedding":
            if is_array:
                return value.tolist()
            if isinstance(value, list):
                return [float(x) for x in value]
            raise ValueError(f"Expected array/list, got {type(value)}")
        if var_type == "tensor":
            if is_array:
                return {"shape": list(value.shape), "data": value.tolist()}
            if isinstance(value, dict) and "shape" in value and "data" in value:
                return value
            raise ValueError(f"Expected tensor, got {type(value)}")
        return value

    @staticmethod
    def _json_safe(value: Any, var_type: str) -> Any:
        if var_type == "float" and isinstance(value, float) and not math.isfinite(value):
            return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return value

    @staticmethod
    def _typed(value: Any, var_type: str) -> Any:
        if var_type == "float":
            return float({"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}.get(value, value))
        if var_type == "integer":
            return int(value)
        if var_type == "tensor" and isinstance(value, dict) and "data" in value and "shape" in value:
            np = _numpy()
            return np.array(value["data"]).reshape(value["shape"]) if np is not None else value
        return value

    @staticmethod
    def _binary(value: Any, var_type: str) -> bool:
        if var_type == "tensor" and isinstance(value, dict) and isinstance(value.get("data"), list):
            return len(value["data"]) * 8 > BINARY_THRESHOLD
        if var_type == "embedding" and isinstance(value, list):
            return len(value) * 8 > BINARY_THRESHOLD
        return False

    @staticmethod
    def _decode_binary(any_msg: Any, binary_data: bytes) -> Any:
        meta = json.loads(any_msg.value.decode())
        var_type = any_msg.type_url.split(".")[-2]
        if meta.get("binary_format", "pickle") != "msgpack":
            raise ValueError(f"binary format {meta.get('binary_format', 'pickle')!r} is not read: only "
                             "msgpack parts (unpickling data runs code)")
        data = msgpack.unpackb(binary_data, raw=False)
        if var_type == "tensor":
            return {"shape": meta.get("shape", []), "data": data}
        if var_type == "embedding":
            return data
        raise ValueError(f"Binary decoding not supported for type: {var_type}")
