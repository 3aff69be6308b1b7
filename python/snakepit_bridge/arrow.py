"""Arrow tables on the wire (docs/protocol.md, ext 4).

A ``pyarrow.Table`` (a ``RecordBatch`` goes as a table of one batch) is sent as
Arrow IPC stream bytes: inline as ext 4, or, with zero-copy on and a table of at
least the threshold, streamed straight into a ``/dev/shm`` file sent as an ext 3
reference with dtype ``"arrow.stream"``. Received tables are read without a
copy (over the ext bytes or the shm mapping).

pyarrow is optional. A pyarrow value only exists if pyarrow was imported, so
encoding looks in ``sys.modules``; receiving a table without pyarrow gives an
``ArrowIPC`` holding the bytes, whose use raises ``ArrowUnavailableError``
(code ``arrow_unavailable``) in the tool, and which goes back as it came. When
the host says it has no apache-arrow (``SNAKEPIT_HOST_ARROW=0``), sending a
table raises ``ArrowUnavailableError`` before anything is sent.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Optional

import msgpack
from msgpack import ExtType

from . import shm, wire_errors
from .errors import SnakepitToolError

__all__ = ["EXT_ARROW", "ARROW_SHM_DTYPE", "ArrowIPC", "ArrowUnavailableError", "arrow_module", "to_ext", "from_ipc"]

EXT_ARROW = 4
ARROW_SHM_DTYPE = "arrow.stream"


class ArrowUnavailableError(SnakepitToolError, ImportError):
    """An Arrow table met a side without its Arrow library (code ``arrow_unavailable``);
    ``details["package"]`` names what to install (``pyarrow`` here, ``apache-arrow`` on the host)."""

    default_code = wire_errors.ARROW_UNAVAILABLE


def _no_pyarrow() -> ArrowUnavailableError:
    return ArrowUnavailableError(
        "an Arrow table arrived but pyarrow is not installed in the worker: pip install pyarrow",
        details={"package": "pyarrow"})


class ArrowIPC:
    """An Arrow table received without pyarrow: its IPC stream bytes (``.data``).

    Any other attribute raises ``ArrowUnavailableError``, so a tool that uses it
    fails with ``arrow_unavailable``; returned as it is, it goes back unchanged.
    """

    __slots__ = ("data",)

    def __init__(self, data: Any) -> None:
        self.data = data

    def __getattr__(self, name: str) -> Any:
        raise _no_pyarrow()

    def __repr__(self) -> str:
        return f"<ArrowIPC {memoryview(self.data).nbytes} bytes: pip install pyarrow to read it>"


def arrow_module(value: Any) -> Optional[Any]:
    """pyarrow when ``value`` is a pyarrow Table or RecordBatch (or an ``ArrowIPC``: True), else None."""
    if isinstance(value, ArrowIPC):
        return True
    pa = sys.modules.get("pyarrow")
    if pa is not None and isinstance(value, (pa.Table, pa.RecordBatch)):
        return pa
    return None


def _write_stream(pa: Any, sink: Any, table: Any) -> None:
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)


def to_ext(value: Any, pa: Any) -> ExtType:
    """The ext (4, or 3 through shared memory) of a Table/RecordBatch/ArrowIPC."""
    if os.environ.get("SNAKEPIT_HOST_ARROW") == "0":
        raise ArrowUnavailableError(
            "this result holds an Arrow table but the host has no apache-arrow: npm install apache-arrow",
            details={"package": "apache-arrow"})
    if pa is True:
        return ExtType(EXT_ARROW, bytes(value.data))
    table = pa.Table.from_batches([value]) if isinstance(value, pa.RecordBatch) else value
    # The buffers' size decides (known before writing): a large table is written once, into the file.
    if shm.enabled(table.nbytes):
        try:
            name, size = shm.export_with(lambda path: _write_file(pa, path, table))
        except OSError:
            pass  # /dev/shm full or not writable: the table still gets there, inline
        else:
            return ExtType(shm.EXT_SHM, msgpack.packb([name, size, ARROW_SHM_DTYPE, None, "C"]))
    sink = pa.BufferOutputStream()
    _write_stream(pa, sink, table)
    return ExtType(EXT_ARROW, sink.getvalue().to_pybytes())


def _write_file(pa: Any, path: str, table: Any) -> None:
    with pa.OSFile(path, "wb") as sink:
        _write_stream(pa, sink, table)


_pyarrow: Any = None


def _load_pyarrow() -> Any:
    global _pyarrow
    if _pyarrow is None:
        try:
            import pyarrow
            import pyarrow.ipc  # noqa: F401
        except ImportError:
            return False  # not cached: a later install in a long-lived worker still counts
        _pyarrow = pyarrow
    return _pyarrow


def from_ipc(data: Any) -> Any:
    """A ``pyarrow.Table`` over ``data`` (IPC stream bytes or a mapping; no copy), or ``ArrowIPC`` without pyarrow."""
    pa = _load_pyarrow()
    if not pa:
        return ArrowIPC(data)
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()
