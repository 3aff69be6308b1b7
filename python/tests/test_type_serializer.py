"""The original's TypeSerializer (from snakepit_bridge.serialization) and ZeroCopyRef."""
import math

import numpy as np
import pytest

from snakepit_bridge import ZeroCopyRef
from snakepit_bridge.serialization import TypeSerializer, pack, unpack


@pytest.mark.parametrize("value, var_type, expected", [
    (1.5, "float", 1.5), (2, "float", 2.0), (3.0, "integer", 3), ("x", "string", "x"), (True, "boolean", True),
    ("a", "choice", "a"), ([1, 2], "embedding", [1.0, 2.0]), ({"k": [1]}, "map", {"k": [1]}),
])
def test_round_trips(value, var_type, expected):
    message, binary = TypeSerializer.encode_any(value, var_type)
    assert binary is None and message.type_url == f"type.googleapis.com/snakepit.{var_type}"
    assert TypeSerializer.decode_any(message) == expected


def test_special_floats_and_type_errors():
    message, _ = TypeSerializer.encode_any(float("nan"), "float")
    assert math.isnan(TypeSerializer.decode_any(message))
    message, _ = TypeSerializer.encode_any(float("-inf"), "float")
    assert TypeSerializer.decode_any(message) == float("-inf")
    for value, var_type in ((True, "integer"), (2.5, "integer"), ("1", "float"), (1, "boolean"), ("x", "tensor")):
        with pytest.raises(ValueError):
            TypeSerializer.encode_any(value, var_type)


def test_tensors_small_inline_large_in_a_msgpack_binary_part():
    small = np.arange(6.0).reshape(2, 3)
    message, binary = TypeSerializer.encode_any(small, "tensor")
    assert binary is None
    np.testing.assert_array_equal(TypeSerializer.decode_any(message), small)
    big = np.arange(2000.0)
    message, binary = TypeSerializer.encode_any(big, "tensor")
    assert message.type_url.endswith("tensor.binary") and binary
    assert TypeSerializer.decode_any(message, binary) == {"shape": [2000], "data": big.tolist()}


def test_a_pickle_binary_part_is_refused():
    from google.protobuf import any_pb2

    message = any_pb2.Any(type_url="type.googleapis.com/snakepit.tensor.binary", value=b'{"shape": [1]}')
    with pytest.raises(ValueError):
        TypeSerializer.decode_any(message, b"\x80\x04K\x01.")


def test_validate_constraints():
    TypeSerializer.validate_constraints(5, "integer", {"min": 1, "max": 10})
    with pytest.raises(ValueError):
        TypeSerializer.validate_constraints(11, "integer", {"max": 10})
    with pytest.raises(ValueError):
        TypeSerializer.validate_constraints("abc", "string", {"max_length": 2})
    with pytest.raises(ValueError):
        TypeSerializer.validate_constraints("c", "choice", {"choices": ["a", "b"]})
    with pytest.raises(ValueError):
        TypeSerializer.validate_constraints([1.0], "embedding", {"dimensions": 2})
    with pytest.raises(ValueError):
        TypeSerializer.validate_constraints(np.ones((2, 2)), "tensor", {"shape": [4]})


def test_zero_copy_ref_keeps_its_payload():
    payload = {"kind": "dlpack", "device": "cpu", "dtype": "float32", "shape": [2], "ref": "r1", "bytes": 8}
    ref = ZeroCopyRef.from_payload(payload)
    assert (ref.kind, ref.device, ref.shape, ref.ref, ref.metadata) == ("dlpack", "cpu", [2], "r1", {})
    assert ref.to_payload() == payload and ref.to_payload() is not payload
    assert unpack(pack({"r": ref})) == {"r": payload}  # returned from a tool, the payload reaches the host
    message, _ = TypeSerializer.encode_any(ref, "map")
    assert TypeSerializer.decode_any(message) == payload
    marked, _ = TypeSerializer.encode_any({**payload, "__snakepit_zero_copy__": True}, "map")
    assert isinstance(TypeSerializer.decode_any(marked), ZeroCopyRef)
