"""Arrow tables (ext 4): pyarrow.Table/RecordBatch <-> IPC stream bytes, inline and through shm,
and the paths without pyarrow (worker) or apache-arrow (host)."""
import datetime
import os
import sys

import msgpack
import pytest

from snakepit_bridge import arrow, shm
from snakepit_bridge.arrow import ARROW_SHM_DTYPE, EXT_ARROW, ArrowIPC, ArrowUnavailableError
from snakepit_bridge.serialization import pack, pack_checked, unpack

pa = pytest.importorskip("pyarrow", reason="pyarrow not installed (optional: pip install pyarrow)")


def table(n=3):
    when = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)
    return pa.table({
        "i": pa.array(range(n), pa.int64()),
        "f": pa.array([x / 2 if x % 3 else None for x in range(n)], pa.float64()),
        "s": [f"r{x}" for x in range(n)],
        "z": pa.nulls(n),
        "t": pa.array([when + datetime.timedelta(seconds=x) for x in range(n)], pa.timestamp("ms", tz="UTC")),
        "d": pa.array([["a", "b"][x % 2] for x in range(n)]).dictionary_encode(),
    })


@pytest.fixture
def zero_copy(shm_prefix, monkeypatch):
    monkeypatch.setenv("SNAKEPIT_ZERO_COPY_THRESHOLD", "4096")  # a few-row table's IPC stream is over 1 KiB: it stays inline
    return shm_prefix


def left(prefix):
    return [n for n in os.listdir(shm.SHM_DIR) if n.startswith(prefix)]


def test_table_goes_as_ext4_ipc_stream_and_back():
    t = table()
    raw = msgpack.unpackb(pack({"t": t}), raw=False)["t"]
    assert isinstance(raw, msgpack.ExtType) and raw.code == EXT_ARROW
    assert pa.ipc.open_stream(raw.data).read_all().equals(t)  # the body is a plain IPC stream
    back = unpack(pack({"t": t}))["t"]
    assert isinstance(back, pa.Table) and back.equals(t)
    assert back.schema.field("d").type == pa.dictionary(pa.int32(), pa.string())
    assert back.column("f").null_count == 1 and back.column("z").null_count == 3


def test_record_batch_goes_as_a_one_batch_table():
    t = table()
    back = unpack(pack(t.to_batches()[0]))
    assert isinstance(back, pa.Table) and back.equals(t)


def test_large_table_is_written_straight_into_shm_and_read_over_the_mapping(zero_copy):
    t = table(5000)
    body = pack_checked(t)
    ref = msgpack.unpackb(body, raw=False)
    assert isinstance(ref, msgpack.ExtType) and ref.code == shm.EXT_SHM
    name, size, dtype, shape, _ = msgpack.unpackb(ref.data)
    assert dtype == ARROW_SHM_DTYPE and shape is None and size == os.path.getsize(os.path.join(shm.SHM_DIR, name))
    assert unpack(body).equals(t)


def test_small_table_stays_inline_with_zero_copy_on(zero_copy):
    raw = msgpack.unpackb(pack_checked(table(3)), raw=False)
    assert raw.code == EXT_ARROW and left(zero_copy) == []


def test_a_refused_frame_leaves_no_arrow_file(zero_copy, monkeypatch):
    monkeypatch.setenv("SNAKEPIT_MAX_PAYLOAD_BYTES", "1000")
    with pytest.raises(Exception) as info:
        pack_checked(table(5000))
    assert info.value.code == "payload_too_large" and left(zero_copy) == []


def test_host_without_apache_arrow_refuses_before_sending(zero_copy, monkeypatch):
    monkeypatch.setenv("SNAKEPIT_HOST_ARROW", "0")
    for n in (3, 5000):
        with pytest.raises(ArrowUnavailableError) as info:
            pack_checked({"t": table(n)})
        assert info.value.code == "arrow_unavailable" and info.value.details == {"package": "apache-arrow"}
    assert left(zero_copy) == []


def test_without_pyarrow_a_table_arrives_as_arrow_ipc_and_goes_back_unchanged(monkeypatch):
    t = table()
    body = pack({"t": t})
    monkeypatch.setattr(arrow, "_pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    held = unpack(body)["t"]
    assert isinstance(held, ArrowIPC)
    with pytest.raises(ArrowUnavailableError) as info:
        held.num_rows  # noqa: B018 - any use of the table says what is missing
    assert info.value.code == "arrow_unavailable" and info.value.details == {"package": "pyarrow"}
    assert "pip install pyarrow" in repr(held)
    echoed = msgpack.unpackb(pack({"t": held}), raw=False)["t"]
    monkeypatch.undo()
    assert echoed.code == EXT_ARROW and pa.ipc.open_stream(echoed.data).read_all().equals(t)


def test_without_pyarrow_a_table_in_shm_is_held_too(zero_copy, monkeypatch):
    body = pack_checked(table(5000))
    monkeypatch.setattr(arrow, "_pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert isinstance(unpack(body), ArrowIPC)
