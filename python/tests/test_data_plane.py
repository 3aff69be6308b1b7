"""Graceful serialization policy, payload limit and shared-memory transfers (ext 3)."""
import dataclasses
import datetime
import decimal
import os
import uuid

import msgpack
import numpy as np
import pytest

from snakepit_bridge import serialization, shm
from snakepit_bridge.serialization import (MARKER_KEY, PayloadTooLargeError, SerializationError, pack,
                                           pack_checked, unpack)

def roundtrip(value):
    return unpack(pack(value))


@pytest.fixture
def zero_copy(shm_prefix, monkeypatch):
    monkeypatch.setenv("SNAKEPIT_ZERO_COPY_THRESHOLD", "1024")
    return shm_prefix


@dataclasses.dataclass
class Sample:
    when: datetime.datetime
    price: decimal.Decimal
    ident: uuid.UUID
    tags: set


def test_sensible_mappings():
    ident = uuid.UUID(int=7)
    when = datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc)
    out = roundtrip(Sample(when, decimal.Decimal("1.10"), ident, {"a"}))
    assert out == {"when": "2024-05-01T12:30:00+00:00", "price": "1.10", "ident": str(ident), "tags": ["a"]}
    assert roundtrip(frozenset([1])) == [1]
    assert roundtrip(datetime.timedelta(seconds=1.5)) == 1.5
    assert roundtrip([np.float64(0.5), np.int32(2), np.bool_(False)]) == [0.5, 2, False]


def test_marker_carries_type_and_truncated_repr():
    class Big:
        __slots__ = ()

        def __repr__(self):
            return "x" * 10_000

    out = roundtrip({"v": Big()})["v"]
    assert out[MARKER_KEY] is True
    assert out["type"].endswith("Big")
    assert len(out["repr"]) <= 503


def test_policy_repr_and_strict(monkeypatch):
    monkeypatch.setenv("SNAKEPIT_SERIALIZATION", "repr")
    assert roundtrip(object()).startswith("<object object at")
    monkeypatch.setenv("SNAKEPIT_SERIALIZATION", "strict")
    with pytest.raises(SerializationError) as info:
        pack_checked({"v": object()})
    assert info.value.code == "unserializable"
    assert roundtrip(uuid.UUID(int=1)) == str(uuid.UUID(int=1))  # mapped types still map


def test_payload_limit_names_size_and_limit(monkeypatch):
    monkeypatch.setenv("SNAKEPIT_MAX_PAYLOAD_BYTES", "1000")
    assert unpack(pack_checked(b"x" * 500)) == b"x" * 500
    with pytest.raises(PayloadTooLargeError) as info:
        pack_checked(b"x" * 2000)
    assert info.value.code == "payload_too_large"
    assert info.value.details["limitBytes"] == 1000 and info.value.details["sizeBytes"] > 2000


def test_large_values_go_through_shared_memory(zero_copy):
    arr = np.arange(1000, dtype=np.float64).reshape(10, 100)
    frame = {"t": "result", "id": 1, "value": {"arr": arr, "blob": b"y" * 4096, "small": b"z"}}
    body = pack_checked(frame)
    files = [n for n in os.listdir(shm.SHM_DIR) if n.startswith(zero_copy)]
    assert len(files) == 2 and len(body) < 1024
    raw = msgpack.unpackb(body, raw=False)["value"]
    assert raw["arr"].code == shm.EXT_SHM and raw["blob"].code == shm.EXT_SHM
    out = unpack(body)["value"]  # Python reading its own refs (the host does this in Node)
    np.testing.assert_array_equal(out["arr"], arr)
    assert not out["arr"].flags.writeable  # a view over the read-only mapping
    assert out["blob"] == b"y" * 4096 and out["small"] == b"z"


def test_fortran_array_through_shared_memory(zero_copy):
    arr = np.asfortranarray(np.arange(2000, dtype=np.int16).reshape(40, 50))
    out = unpack(pack_checked(arr))
    assert out.flags.f_contiguous
    np.testing.assert_array_equal(out, arr)


def test_over_limit_removes_exported_files(zero_copy, monkeypatch):
    monkeypatch.setenv("SNAKEPIT_MAX_PAYLOAD_BYTES", "5000")
    with pytest.raises(PayloadTooLargeError):
        pack_checked([b"a" * 4000, b"b" * 4000])
    assert [n for n in os.listdir(shm.SHM_DIR) if n.startswith(zero_copy)] == []


def test_refs_must_name_snakepit_files():
    with pytest.raises(ValueError):
        shm.read_ref("../etc/passwd", 10)
    bad = msgpack.packb(["other-file", 10, None, None, "C"])
    with pytest.raises(ValueError):
        unpack(msgpack.packb(msgpack.ExtType(shm.EXT_SHM, bad)))


def test_payload_limit_follows_env_changes(monkeypatch):
    # The parsed limit is cached per env value: a new value applies to the next frame.
    monkeypatch.setenv("SNAKEPIT_MAX_PAYLOAD_BYTES", "100000")
    assert unpack(pack_checked(b"x" * 5000)) == b"x" * 5000
    monkeypatch.setenv("SNAKEPIT_MAX_PAYLOAD_BYTES", "1000")
    with pytest.raises(PayloadTooLargeError):
        pack_checked(b"x" * 5000)
    monkeypatch.delenv("SNAKEPIT_MAX_PAYLOAD_BYTES")
    assert unpack(pack_checked(b"x" * 5000)) == b"x" * 5000
