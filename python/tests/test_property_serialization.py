"""Property tests (hypothesis) of the Python side of the wire: the value codec round trip, the fd-3
FrameReader under arbitrary chunking, and bad input (garbage, truncated, oversized frames) giving
``ProtocolError`` and nothing else; plus the server's exit code 4 on such input."""
from __future__ import annotations

import math
import os
import subprocess

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from snakepit_bridge.errors import ProtocolError
from snakepit_bridge.pipe.framing import FrameReader
from snakepit_bridge.serialization import TENSOR_DTYPES, pack, unpack

try:
    import numpy as np
except ImportError:  # numpy is optional for the bridge
    np = None

# Bounded: the whole file runs in a few seconds.
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- the value codec ------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # any size: int64/uint64 or ext 66 beyond
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.binary(max_size=64)
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


def same(a, b) -> bool:
    """Equality for the round trip: NaN equals NaN, -0.0 differs from 0.0, bool is not int."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


@FAST
@given(values)
def test_pack_unpack_round_trip(value):
    assert same(unpack(pack(value)), value)


@FAST
@given(st.integers(min_value=-(2**4096), max_value=2**4096))
def test_ints_of_any_size_round_trip(n):
    back = unpack(pack(n))
    assert type(back) is int and back == n


@settings(max_examples=60, deadline=None)
@given(st.lists(values, max_size=4))
def test_tuples_go_as_lists(items):
    assert same(unpack(pack(tuple(items))), list(items))


if np is not None:
    from hypothesis.extra import numpy as hnp

    def arrays():
        dtypes = st.sampled_from(sorted(TENSOR_DTYPES)).map(np.dtype)
        return st.tuples(dtypes, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), st.booleans()).flatmap(
            lambda t: hnp.arrays(t[0], t[1]).map(lambda a: np.asfortranarray(a) if t[2] else a)
        )

    @FAST
    @given(arrays())
    def test_numpy_arrays_round_trip(arr):
        back = unpack(pack({"a": arr}))["a"]
        assert isinstance(back, np.ndarray)
        assert back.dtype == arr.dtype and back.shape == arr.shape
        # Same elements (bitwise, so NaN payloads and -0.0 count) in logical order.
        assert np.ascontiguousarray(back).tobytes() == np.ascontiguousarray(arr).tobytes()
        # A Fortran-only array keeps its layout (no reordering copy on either side).
        if arr.ndim > 1 and arr.flags.f_contiguous and not arr.flags.c_contiguous:
            assert back.flags.f_contiguous

    @FAST
    @given(arrays())
    def test_big_endian_arrays_arrive_little_endian_with_the_same_values(arr):
        big = arr.astype(arr.dtype.newbyteorder(">"))
        back = unpack(pack(big))
        assert back.dtype == arr.dtype and back.shape == arr.shape
        assert np.ascontiguousarray(back).tobytes() == np.ascontiguousarray(arr).tobytes()


# -- FrameReader -----------------------------------------------------------------------------------

def frame(body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + body


def chunked(data: bytes, cuts) -> list:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:]) if b > a]


class Pipe:
    """A FrameReader on a real pipe; the test writes one chunk, then reads once: so each read_once
    sees exactly that chunk (chunks stay under the pipe's 64 KiB buffer)."""

    def __init__(self, max_bytes: int = 1 << 20) -> None:
        self.r, self.w = os.pipe()
        self.reader = FrameReader(self.r, max_bytes)

    def feed(self, chunk: bytes) -> list:
        os.write(self.w, chunk)
        return self.reader.read_once()

    def eof(self) -> None:
        os.close(self.w)
        self.w = -1

    def close(self) -> None:
        for fd in (self.r, self.w):
            if fd >= 0:
                os.close(fd)


@pytest.fixture
def pipe():
    pipes = []

    def make(max_bytes: int = 1 << 20) -> Pipe:
        p = Pipe(max_bytes)
        pipes.append(p)
        return p

    yield make
    for p in pipes:
        p.close()


frames_maps = st.lists(
    st.dictionaries(st.text(max_size=5), scalars, max_size=4).map(lambda m: {"t": "x", **m}), max_size=8
)
# >= _BIG_FRAME (64 KiB): the read-into-place path. Built from a short pattern: hypothesis dislikes
# drawing 100 KB of raw bytes.
big_frame = st.tuples(st.integers(min_value=70_000, max_value=140_000), st.binary(min_size=1, max_size=16)).map(
    lambda t: (t[1] * (t[0] // len(t[1]) + 1))[: t[0]])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(frames_maps, st.lists(st.integers(min_value=0), max_size=20), st.booleans(), big_frame)
def test_any_chunking_yields_the_same_frames(pipe, maps, cuts, with_big, big):
    bodies = [pack(m) for m in maps]
    if with_big:
        bodies.insert(len(bodies) // 2, pack({"t": "big", "data": big}))
    data = b"".join(frame(b) for b in bodies)
    p = pipe()
    got = []
    for chunk in chunked(data, cuts):
        while chunk:  # stay under the pipe buffer
            piece, chunk = chunk[:60_000], chunk[60_000:]
            got.extend(p.feed(piece))
    # The big-frame path reads no further than its frame: what follows stays in the pipe for the
    # next read_once (as the server's loop does). Drain to EOF.
    p.eof()
    with pytest.raises(EOFError):
        while True:
            got.extend(p.reader.read_once())
    assert [pack(f) for f in got] == bodies  # same maps (compared as their encodings: NaN-safe)


bad_bodies = st.one_of(
    st.sampled_from([b"", b"\xc1", b"\xc0", b"\x05", b"\x92\x01", b"\xdd\xff\xff\xff\xff",
                     b"\xdf\xff\xff\xff\xff", b"\xc6\x7f\xff\xff\xff", b"garbage",
                     b"\xd4\x02\x00",  # tensor ext with a junk payload
                     b"\xc7\x03\x02\x93\xa1x\x90",  # tensor ext: unknown dtype
                     b"\xc7\x02\x03\x90\x90"]),  # shm ext with a junk payload
    values.filter(lambda v: not isinstance(v, dict)).map(pack),  # valid msgpack, not a map
    st.tuples(st.dictionaries(st.text(max_size=4), scalars, max_size=3), st.binary(min_size=1, max_size=8)).map(
        lambda t: pack(t[0]) + t[1]),  # trailing bytes after a map
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad_bodies, st.lists(st.integers(min_value=0), max_size=6))
def test_bad_frame_bodies_raise_protocol_error_only(pipe, body, cuts):
    p = pipe()
    with pytest.raises(ProtocolError):
        for chunk in chunked(frame(body), cuts):
            p.feed(chunk)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=1001, max_value=2**32 - 1), st.binary(max_size=10), st.lists(st.integers(min_value=0), max_size=4))
def test_oversized_frames_raise_protocol_error(pipe, size, tail, cuts):
    p = pipe(max_bytes=1000)
    with pytest.raises(ProtocolError):
        for chunk in chunked(size.to_bytes(4, "big") + tail, cuts):
            p.feed(chunk)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300), st.lists(st.integers(min_value=0), max_size=8))
def test_garbage_then_eof_gives_frames_protocol_error_or_eof_only(pipe, data, cuts):
    """Arbitrary bytes, then EOF: read_once returns frames (maps), or raises ProtocolError or EOFError;
    never anything else."""
    p = pipe(max_bytes=100_000)
    try:
        for chunk in chunked(data, cuts):
            for f in p.feed(chunk):
                assert isinstance(f, dict)
        p.eof()
        while True:
            for f in p.reader.read_once():
                assert isinstance(f, dict)
    except (ProtocolError, EOFError):
        pass


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=5))
def test_garbage_bodies_with_valid_lengths_give_maps_or_protocol_error(pipe, bodies):
    p = pipe()
    try:
        for f in p.feed(b"".join(frame(b) for b in bodies)):
            assert isinstance(f, dict)
    except ProtocolError:
        pass


def test_truncated_frame_then_eof_is_eof_not_another_error(pipe):
    p = pipe()
    assert p.feed(frame(pack({"t": "ping", "id": 1}))[:-2]) == []
    p.eof()
    with pytest.raises(EOFError):
        p.reader.read_once()


# -- the server: bad input on fd 3 ends it with exit code 4 ----------------------------------------

SHOWCASE = "snakepit_bridge.adapters.showcase.ShowcaseAdapter"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\x00\x00\x00\x05garbage", id="garbage-body"),
        pytest.param(frame(pack([1, 2, 3])), id="not-a-map"),
        pytest.param(frame(pack({"t": "ping", "id": 1}) + b"\x00"), id="trailing-bytes"),
        pytest.param(frame(b"\xdd\xff\xff\xff\xff"), id="huge-array-header"),
        pytest.param(b"\xff\xff\xff\xff", id="oversized"),
    ],
)
def test_server_exits_4_on_bad_frames(spawn, raw):
    w = spawn(SHOWCASE, stderr=subprocess.DEVNULL)
    w.ready()
    w.send_raw(raw)
    assert w.wait(10) == 4
