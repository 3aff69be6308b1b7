"""Arrow tables (ext 4): pyarrow.Table/RecordBatch <-> IPC stream bytes, inline and through shm."""
import os
import sys

import msgpack
import pytest

from snakepit_bridge import serialization, shm
from snakepit_bridge.serialization import ArrowUnavailableError, EXT_ARROW, pack, pack_checked, unpack

pa = pytest.importorskip("pyarrow", reason="pyarrow not installed (optional: pip install pyarrow)")


def table(n=3):
    return pa.table({"i": pa.array(range(n), pa.int64()), "f": [x / 2 for x in range(n)],
                     "s": [f"r{x}" for x in range(n)], "b": [x % 2 == 0 for x in range(n)], "z": pa.nulls(n)})


def test_table_round_trips_as_ext4():
    t = table()
    raw = msgpack.unpackb(pack({"t": t}), raw=False)["t"]
    assert isinstance(raw, msgpack.ExtType) and raw.code == EXT_ARROW
    assert unpack(pack({"t": t}))["t"].equals(t)


def test_record_batch_goes_as_one_batch_table():
    t = table()
    back = unpack(pack(t.to_batches()[0]))
    assert isinstance(back, pa.Table) and back.equals(t)


def test_large_table_goes_through_shm(monkeypatch):
    prefix = f"snakepit-a{os.getpid() % 1_000_000:06d}-"
    monkeypatch.setenv("SNAKEPIT_SHM_PREFIX", prefix)
    monkeypatch.setenv("SNAKEPIT_ZERO_COPY_THRESHOLD", "1024")
    try:
        body = pack_checked(table(5000))
        ref = msgpack.unpackb(body, raw=False)
        assert isinstance(ref, msgpack.ExtType) and ref.code == shm.EXT_SHM
        assert msgpack.unpackb(ref.data)[2] == "arrow.stream"
        assert unpack(body).equals(table(5000))
    finally:
        for name in os.listdir(shm.SHM_DIR):
            if name.startswith(prefix):
                os.unlink(os.path.join(shm.SHM_DIR, name))


def test_receiving_arrow_without_pyarrow_raises_typed_error(monkeypatch):
    body = pack(table())
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    with pytest.raises(ArrowUnavailableError) as info:
        unpack(body)
    assert info.value.code == "arrow_unavailable" and "pyarrow" in str(info.value)
