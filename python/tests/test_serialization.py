"""Value mapping of docs/protocol.md: round trips and graceful encoding."""
import collections
import dataclasses
import datetime
import enum

import msgpack
import numpy as np
import pytest

from snakepit_bridge import serialization
from snakepit_bridge.serialization import EXT_BIGINT, EXT_TENSOR, Tensor, pack, unpack


def roundtrip(value):
    return unpack(pack(value))


@pytest.mark.parametrize("value", [
    0, 1, -1, 2**31, 2**53 + 1, -(2**53) - 1, 2**63 - 1, -(2**63), 2**64 - 1,
    1.5, -0.25, float("inf"), "", "héllo", b"", b"\x00\xff", True, False, None,
    [1, [2, [3]]], {"a": {"b": [1, "x", None]}}, {1: "int key"},
])
def test_plain_values_roundtrip(value):
    assert roundtrip(value) == value


def test_ints_stay_ints_and_floats_stay_floats():
    assert type(roundtrip(3)) is int
    assert type(roundtrip(3.0)) is float


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 10**40, -(10**40)])
def test_big_ints_go_as_ext66_twos_complement(value):
    raw = msgpack.unpackb(pack(value), raw=False)
    assert raw.code == EXT_BIGINT == 0x42
    assert int.from_bytes(raw.data, "big", signed=True) == value
    assert roundtrip(value) == value


def test_msgpackr_bigint_extension_is_accepted():
    # What msgpackr's useBigIntExtension emits for 2n ** 70n and -(2n ** 100n).
    assert unpack(bytes.fromhex("d84200000000000000400000000000000000")) == 2**70
    assert unpack(bytes.fromhex("d842fffffff0000000000000000000000000")) == -(2**100)


def test_tuples_sets_bytearray_memoryview():
    assert roundtrip((1, 2)) == [1, 2]
    assert sorted(roundtrip({3, 1, 2})) == [1, 2, 3]
    assert sorted(roundtrip(frozenset({1}))) == [1]
    assert roundtrip(bytearray(b"ab")) == b"ab"
    assert roundtrip(memoryview(b"cd")) == b"cd"


@pytest.mark.parametrize("dtype", sorted(serialization.TENSOR_DTYPES))
def test_numpy_roundtrip_every_dtype(dtype):
    arr = (np.arange(12) % 2).astype(dtype).reshape(3, 4)
    out = roundtrip(arr)
    assert isinstance(out, np.ndarray)
    assert out.dtype == arr.dtype and out.shape == (3, 4)
    np.testing.assert_array_equal(out, arr)


def test_tensor_wire_format_is_little_endian_c_order():
    arr = np.arange(12, dtype=">i4").reshape(3, 4)[:, ::2]  # big-endian, strided
    ext = msgpack.unpackb(pack(arr), raw=False)
    assert ext.code == EXT_TENSOR
    dtype, shape, data = msgpack.unpackb(ext.data, raw=False)
    assert (dtype, shape) == ("int32", [3, 2])
    assert data == np.ascontiguousarray(arr).astype("<i4").tobytes()


def test_fortran_arrays_go_in_their_own_order():
    arr = np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3))
    ext = msgpack.unpackb(pack(arr), raw=False)
    dtype, shape, data, order = msgpack.unpackb(ext.data, raw=False)
    assert (dtype, shape, order) == ("float64", [2, 3], "F")
    assert data == arr.tobytes(order="F")
    out = roundtrip(arr)
    assert out.flags.f_contiguous and not out.flags.c_contiguous
    np.testing.assert_array_equal(out, arr)


@pytest.mark.parametrize("dtype", sorted(serialization.TENSOR_DTYPES))
@pytest.mark.parametrize("order", ["C", "F"])
def test_every_dtype_in_both_orders(dtype, order):
    arr = np.array((np.arange(24) % 3).astype(dtype).reshape(2, 3, 4), order=order)
    out = roundtrip(arr)
    assert out.dtype == arr.dtype and out.shape == arr.shape
    assert out.flags.f_contiguous if order == "F" else out.flags.c_contiguous
    np.testing.assert_array_equal(out, arr)


def test_tensor_from_host_is_a_view_without_per_element_work():
    payload = msgpack.packb(["float32", [2, 2], np.arange(4, dtype="<f4").tobytes()], use_bin_type=True)
    out = unpack(msgpack.packb(msgpack.ExtType(EXT_TENSOR, payload)))
    np.testing.assert_array_equal(out, np.arange(4, dtype=np.float32).reshape(2, 2))
    assert out.base is not None  # np.frombuffer over the received bytes


def test_zero_d_and_empty_arrays():
    assert roundtrip(np.array(2.5)).shape == ()
    assert roundtrip(np.zeros((0, 3), np.int16)).shape == (0, 3)


def test_numpy_scalars_and_unsupported_dtypes():
    assert roundtrip(np.int64(7)) == 7 and type(roundtrip(np.int64(7))) is int
    assert roundtrip(np.float32(0.5)) == 0.5
    assert roundtrip(np.bool_(True)) is True
    half = roundtrip(np.array([1, 2], dtype=np.float16))
    assert half.dtype == np.float16 and half.tolist() == [1.0, 2.0]


def test_tensor_without_numpy(monkeypatch):
    monkeypatch.setattr(serialization, "_numpy", False)
    payload = msgpack.packb(["int16", [2], b"\x01\x00\x02\x00"], use_bin_type=True)
    out = unpack(msgpack.packb(msgpack.ExtType(EXT_TENSOR, payload)))
    assert isinstance(out, Tensor)
    assert (out.dtype, out.shape, bytes(out.data)) == ("int16", (2,), b"\x01\x00\x02\x00")
    # A Tensor encodes back to the same ext.
    assert msgpack.unpackb(pack(out), raw=False) == msgpack.ExtType(EXT_TENSOR, payload)


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


@dataclasses.dataclass
class Point:
    x: int
    y: int
    _hidden: int = 0


class WithToDict:
    def to_dict(self):
        return {"kind": "to_dict"}


class Plain:
    def __init__(self):
        self.public = 1
        self._private = 2


class Cyclic:
    def __init__(self):
        self.me = self


class BadRepr:
    __slots__ = ()

    def __repr__(self):
        raise RuntimeError("no repr")


def test_graceful_encoding_never_crashes():
    nt = collections.namedtuple("NT", "a b")
    assert roundtrip(nt(1, 2)) == {"a": 1, "b": 2}
    assert roundtrip(Point(1, 2)) == {"x": 1, "y": 2}
    assert roundtrip(WithToDict()) == {"kind": "to_dict"}
    assert roundtrip(Plain()) == {"public": 1}
    assert roundtrip(Color.RED) == "red"
    assert roundtrip(Level.HIGH) == 3
    assert roundtrip(collections.OrderedDict(a=1)) == {"a": 1}
    assert roundtrip(datetime.date(2024, 1, 2)) == "2024-01-02"
    marker = roundtrip(object())
    assert marker[serialization.MARKER_KEY] is True and marker["type"] == "object"
    assert marker["repr"].startswith("<object object at")
    assert roundtrip(BadRepr())["repr"] == "<unrepresentable BadRepr>"
    assert roundtrip(BadRepr())["type"].endswith("BadRepr")
    assert roundtrip(Cyclic()) == {"me": "<cycle>"}
    loop = []
    loop.append(loop)
    assert roundtrip(loop) == ["<cycle>"]
    assert roundtrip({"deep": [Plain(), {1, 2}, np.int8(3)]}) == {"deep": [{"public": 1}, [1, 2], 3]}


def test_host_timestamp_and_undefined():
    ts = msgpack.packb(msgpack.Timestamp(1_700_000_000, 0))
    assert unpack(ts) == datetime.datetime.fromtimestamp(1_700_000_000, datetime.timezone.utc)
    assert unpack(b"\xd4\x00\x00") is None  # msgpackr's `undefined`


class _PacksWhileConverted:
    """A value whose conversion (msgpack's ``default`` hook) packs another value mid-pack."""

    def to_dict(self):
        return {"inner": unpack(pack({"nested": [1, 2, 3]}))}


def test_a_value_that_packs_while_being_packed_gets_its_own_packer():
    body = pack({"outer": _PacksWhileConverted(), "after": "x" * 100})
    assert unpack(body) == {"outer": {"inner": {"nested": [1, 2, 3]}}, "after": "x" * 100}
    # The shared packers are all back and reset: the next value packs alone.
    assert unpack(pack([1, "two"])) == [1, "two"]
    assert 1 <= len(serialization._packers) <= serialization._MAX_PACKERS


def test_threads_packing_at_once_never_mix_their_bytes():
    import threading

    errors = []
    barrier = threading.Barrier(4)

    def worker(n):
        barrier.wait()
        for i in range(2000):
            value = {"thread": n, "i": i, "blob": str(n) * (i % 50)}
            if unpack(pack(value)) != value:
                errors.append((n, i))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(serialization._packers) <= serialization._MAX_PACKERS


def test_a_packer_that_packed_a_large_value_is_let_go_with_its_buffer():
    small = serialization._packers[-1]
    unpack(pack({"a": 1}))
    assert serialization._packers[-1] is small  # kept: it packed a small value
    big = b"x" * (serialization._KEEP_PACKER_BYTES + 1)
    assert unpack(pack({"big": big})) == {"big": big}
    assert small not in serialization._packers  # it packed the large value: let go
    assert unpack(pack([1, 2])) == [1, 2]  # a fresh one serves the next value
