"""msgpack encoding of values exchanged with the host (docs/protocol.md).

- ext 66 (0x42, msgpackr's big-integer extension): integers beyond 64 bits,
  payload = signed two's-complement big-endian bytes.
- ext 2: tensors, payload = msgpack ``[dtype, shape, data]`` (or
  ``[dtype, shape, data, "F"]`` for Fortran order) with little-endian raw bytes. Decoded to ``numpy.ndarray`` via ``np.frombuffer``
  (a read-only view over the received bytes: no per-element work; call
  ``.copy()`` to mutate), or to ``Tensor`` when numpy is not installed.
- ext 3: a binary or tensor in shared memory (``shm.py``), payload = msgpack
  ``[name, size, dtype|nil, shape|nil, order]``; dtype ``"arrow.stream"``: an Arrow table.
- ext 4: an Arrow table (``pyarrow.Table``/``RecordBatch``), payload = Arrow IPC
  stream bytes (``arrow.py``).
- Anything msgpack cannot encode degrades gracefully (``to_dict()``,
  ``_asdict()``, dataclass/public ``__dict__`` fields, else a structured marker
  ``{"__snakepit_unserializable__": True, "type", "repr"}``). The policy is
  ``SNAKEPIT_SERIALIZATION`` = ``graceful`` (default), ``repr`` (bare repr
  text) or ``strict`` (``SerializationError``, code ``unserializable``): ``graceful.py``.
"""
from __future__ import annotations

import dataclasses
import datetime
import enum
import os
import sys
import threading
import types
import uuid
from decimal import Decimal
from typing import Any, NoReturn, Sequence, Tuple, Union

from . import arrow, shm, wire_errors
from .errors import SnakepitToolError
from .graceful import MARKER_KEY, SerializationError
from .graceful import public_fields as _public_fields, safe_repr as _safe_repr, unserializable as _unserializable

import msgpack
from msgpack import ExtType

__all__ = ["Tensor", "TypeSerializer", "pack", "pack_checked", "unpack", "TENSOR_DTYPES", "EXT_BIGINT", "EXT_TENSOR",
           "to_wire_safe", "SerializationError", "PayloadTooLargeError", "MARKER_KEY"]

EXT_TENSOR = 2
# Big integers use msgpackr's own ext (``useBigIntExtension``): big-endian two's complement.
EXT_BIGINT = 0x42
TENSOR_DTYPES = frozenset(
    ["float16", "float32", "float64", "int8", "int16", "int32", "int64",
     "uint8", "uint16", "uint32", "uint64", "bool"]
)
_MAX_DEPTH = 100  # well under msgpack's nest limit (512)


class PayloadTooLargeError(SnakepitToolError, ValueError):
    """An encoded value is over ``SNAKEPIT_MAX_PAYLOAD_BYTES`` (code ``payload_too_large``)."""

    default_code = wire_errors.PAYLOAD_TOO_LARGE


@dataclasses.dataclass
class Tensor:
    """A tensor without numpy: dtype name, shape, little-endian bytes in ``order`` ("C" or "F")."""

    dtype: str
    shape: Tuple[int, ...]
    data: Union[bytes, memoryview]
    order: str = "C"

    def __post_init__(self) -> None:
        self.shape = tuple(int(d) for d in self.shape)


# -- encoding -----------------------------------------------------------------

# Types msgpack packs by itself (strict_types=True: exact types only, so
# subclasses such as namedtuples and IntEnums come to _default).
_NATIVE = (dict, list, tuple, str, bytes, bytearray, memoryview, int, float, bool, type(None), ExtType)


def _tensor_ext(dtype: str, shape: Sequence[int], data: Any, order: str = "C") -> ExtType:
    nbytes = memoryview(data).nbytes
    if shm.enabled(nbytes):
        name = shm.export(data)
        return ExtType(shm.EXT_SHM, msgpack.packb([name, nbytes, dtype, list(shape), order]))
    body = [dtype, list(shape), data] + (["F"] if order == "F" else [])
    return ExtType(EXT_TENSOR, msgpack.packb(body, use_bin_type=True))


def _ndarray_ext(arr: Any, np: Any) -> Any:
    name = arr.dtype.name
    if name not in TENSOR_DTYPES:
        return arr.tolist()  # complex, object, datetime64...: no wire dtype, send values
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and sys.byteorder == "big"):
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    # A Fortran-ordered array goes as its own memory with order "F": no reordering copy.
    if arr.ndim > 1 and arr.flags.f_contiguous and not arr.flags.c_contiguous:
        return _tensor_ext(name, arr.shape, memoryview(arr.T.reshape(-1).view(np.uint8)), "F")
    flat = np.ascontiguousarray(arr).reshape(-1).view(np.uint8)
    return _tensor_ext(name, arr.shape, memoryview(flat))


def _convert(o: Any) -> Any:
    """One step towards something msgpack packs natively."""
    if isinstance(o, int):
        if isinstance(o, bool):
            return bool(o)
        if -(1 << 63) <= o < (1 << 64):
            return int(o)  # an int subclass (IntEnum...) within range
        n = int(o)
        return ExtType(EXT_BIGINT, n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True))
    np = sys.modules.get("numpy")  # numpy values only exist if numpy was imported
    if np is not None:
        if isinstance(o, np.ndarray):
            return _ndarray_ext(o, np)
        if isinstance(o, np.generic):
            return o.item()
    pa = arrow.arrow_module(o)
    if pa is not None:
        return arrow.to_ext(o, pa)
    if isinstance(o, float):
        return float(o)
    if isinstance(o, str):
        return str(o)
    if isinstance(o, Tensor):
        return _tensor_ext(o.dtype, o.shape, o.data, o.order)
    if isinstance(o, tuple) and hasattr(o, "_asdict"):
        return dict(o._asdict())  # namedtuple -> map of its fields
    if isinstance(o, dict):
        return dict(o)
    if isinstance(o, (list, tuple, set, frozenset, range)):
        return list(o)
    if isinstance(o, (bytes, bytearray)):
        return bytes(o)
    if isinstance(o, (datetime.datetime, datetime.date, datetime.time)):
        return o.isoformat()
    if isinstance(o, datetime.timedelta):
        return o.total_seconds()
    if isinstance(o, enum.Enum):
        return o.value
    if isinstance(o, (Decimal, uuid.UUID)):
        return str(o)
    if isinstance(o, os.PathLike):
        return os.fspath(o)
    if isinstance(o, (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return _unserializable(o)
    for method in ("model_dump", "to_dict", "_asdict"):
        fn = getattr(o, method, None)
        if callable(fn):
            try:
                value = fn()
            except Exception:
                continue
            if isinstance(value, dict):
                return value
    if dataclasses.is_dataclass(o):
        return {f.name: getattr(o, f.name) for f in dataclasses.fields(o) if not f.name.startswith("_")}
    if hasattr(o, "__dict__"):
        try:
            return _public_fields(o)
        except TypeError:
            pass
    return _unserializable(o)


def _default(o: Any) -> Any:
    """msgpack ``default`` hook: never raises, always returns a packable value."""
    try:
        for _ in range(4):  # msgpack calls default once per value: loop here
            o = _convert(o)
            if type(o) in _NATIVE:
                return o
        return _unserializable(o)
    except (SerializationError, arrow.ArrowUnavailableError):
        raise
    except Exception:
        return _unserializable(o)


def to_wire_safe(value: Any, _depth: int = 0, _seen: Any = None) -> Any:
    """Rebuild ``value`` from natively packable parts (cycles, deep nesting).

    Only used when the fast path fails, so its cost does not matter.
    """
    if _seen is None:
        _seen = set()
    if _depth > _MAX_DEPTH:
        return _safe_repr(value)
    if type(value) in (str, bytes, int, float, bool, type(None), ExtType):
        return value
    # Track the original object too: converting an object yields a fresh
    # dict each time, so only the object's own id reveals a cycle through it.
    key = id(value)
    if key in _seen:
        return "<cycle>"
    _seen.add(key)
    try:
        if type(value) not in _NATIVE:
            value = _default(value)
        if isinstance(value, dict):
            return {
                (k if type(k) in (str, int, float, bool, bytes) else _safe_repr(k)):
                    to_wire_safe(v, _depth + 1, _seen)
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [to_wire_safe(v, _depth + 1, _seen) for v in value]
        return value
    finally:
        _seen.discard(key)


def _new_packer() -> Any:
    return msgpack.Packer(default=_default, use_bin_type=True, strict_types=True)


# Packers to reuse: msgpack.packb builds a new one per call (~1 µs here, for every frame). A
# Packer is not reentrant, so each use takes one off this list and puts it back after: a
# ``list.pop`` is atomic, so no two threads (nor a ``default`` hook that packs again while
# one is in use) ever share one. One is made per concurrent use, at most _MAX_PACKERS kept.
# A Packer keeps the buffer of the largest value it packed, so one that packed more than
# _KEEP_PACKER_BYTES (or raised) is let go rather than kept.
_packers = [_new_packer()]
_MAX_PACKERS = 8
_KEEP_PACKER_BYTES = 1024 * 1024


def pack(value: Any) -> bytes:
    """Encode one value. Never raises for unusual values."""
    try:
        packer = _packers.pop()
    except IndexError:
        packer = _new_packer()
    try:
        body = packer.pack(value)  # resets itself when it raises
    except (TypeError, ValueError, OverflowError, RecursionError):
        body = packer.pack(to_wire_safe(value))
    if len(body) <= _KEEP_PACKER_BYTES and len(_packers) < _MAX_PACKERS:
        _packers.append(packer)
    return body


_LIMIT_KEY = b"SNAKEPIT_MAX_PAYLOAD_BYTES"
_ZERO_COPY_KEY = b"SNAKEPIT_ZERO_COPY_THRESHOLD"
# (env value, parsed limit): parsed again only when the value changes (a new bytes object).
_limit: Any = (None, 0)


def _max_payload() -> int:
    global _limit
    env = shm._ENV_BYTES
    raw = env.get(_LIMIT_KEY) if env is not None else object()  # no env dict: parse each time
    if raw is not _limit[0]:
        _limit = (raw, shm.env_int("SNAKEPIT_MAX_PAYLOAD_BYTES", b"SNAKEPIT_MAX_PAYLOAD_BYTES") or 0)
    return _limit[1]


_WALK_MAX_ITEMS = 4096  # longer lists are not searched for large binaries (walking them costs)


def _export_binaries(value: Any, threshold: int, depth: int = 0) -> Any:
    """``value`` with binaries of at least ``threshold`` bytes replaced by shm refs.

    msgpack packs ``bytes`` natively (no ``default`` hook), so they are found by
    walking containers; unchanged containers are returned as they are.
    """
    kind = type(value)
    if kind in (bytes, bytearray, memoryview):
        size = memoryview(value).nbytes
        if size < threshold:
            return value
        name = shm.export(value)
        return ExtType(shm.EXT_SHM, msgpack.packb([name, size, None, None, "C"]))
    if depth > 8:
        return value
    if kind is dict:
        out = None
        for k, v in value.items():
            nv = _export_binaries(v, threshold, depth + 1)
            if nv is not v:
                out = dict(value) if out is None else out
                out[k] = nv
        return value if out is None else out
    if kind in (list, tuple) and len(value) <= _WALK_MAX_ITEMS:
        items = [_export_binaries(v, threshold, depth + 1) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    return value


def pack_checked(value: Any) -> bytes:
    """``pack`` for frames that leave the process: large buffers go to shared memory
    (when enabled) and the total (frame + shared memory) is checked against
    ``SNAKEPIT_MAX_PAYLOAD_BYTES`` before anything is sent. Raises
    ``PayloadTooLargeError`` (its shm files removed) or ``SerializationError``.
    """
    env = shm._ENV_BYTES
    if env is not None and _ZERO_COPY_KEY not in env:
        # Zero-copy off (the default; no threshold in the env): every answer and streamed chunk
        # comes this way, so the limit check is inline (the cached limit while the env value is the same).
        body = pack(value)
        limit = _limit[1] if env.get(_LIMIT_KEY) is _limit[0] else _max_payload()
        if limit and len(body) > limit:
            _too_large(len(body), limit)
        return body
    threshold = shm.threshold()
    if threshold is None:
        body = pack(value)
        _check_payload(len(body))
        return body
    exports = shm.track()
    try:
        body = pack(_export_binaries(value, threshold))
        _check_payload(len(body) + sum(n for _, n in exports))
    except BaseException:
        shm.discard(exports)
        raise
    shm.untrack()
    return body


def _check_payload(size: int) -> None:
    limit = _max_payload()
    if limit and size > limit:
        _too_large(size, limit)


def _too_large(size: int, limit: int) -> NoReturn:
    raise PayloadTooLargeError(
        f"payload of {size} bytes is over the limit of {limit} bytes (maxPayloadBytes)",
        details={"sizeBytes": size, "limitBytes": limit, "side": "python"})


# -- decoding -----------------------------------------------------------------

_numpy: Any = None  # imported on the first tensor: numpy costs ~100 ms at start-up


def _load_numpy() -> Any:
    global _numpy
    if _numpy is None:
        try:
            import numpy

            _numpy = numpy
        except ImportError:
            _numpy = False
    return _numpy


def _decode_tensor(payload: bytes) -> Any:
    # Parse the header by hand so the data stays a view over ``payload``
    # (unpackb would copy the bin into a new bytes object).
    u = msgpack.Unpacker(raw=False)
    u.feed(payload)
    n = u.read_array_header()
    if n not in (3, 4):
        raise ValueError("tensor ext payload must be [dtype, shape, data, order?]")
    dtype, shape = u.unpack(), u.unpack()
    off = u.tell()
    marker = payload[off]
    width = {0xC4: 1, 0xC5: 2, 0xC6: 4}.get(marker)
    order = "C"
    if width is None:
        data: Any = u.unpack()  # not a bin: tolerate whatever it is
        if n > 3:
            order = u.unpack()
    else:
        size = int.from_bytes(payload[off + 1 : off + 1 + width], "big")
        start = off + 1 + width
        data = memoryview(payload)[start : start + size]
        if n > 3:
            order = msgpack.unpackb(payload[start + size :], raw=False)
    return _as_array(dtype, shape, data, order)


def _decode_shm(payload: bytes) -> Any:
    name, size, dtype, shape, order = msgpack.unpackb(payload, raw=False)
    mapping = shm.read_ref(name, size)
    if dtype == arrow.ARROW_SHM_DTYPE:
        return arrow.from_ipc(mapping)
    if dtype is None:
        return bytes(mapping)  # tools expect ``bytes``: one memcpy out of the mapping
    return _as_array(dtype, shape, mapping, order)


def _as_array(dtype: str, shape: Any, data: Any, order: str) -> Any:
    if dtype not in TENSOR_DTYPES:
        raise ValueError(f"unsupported tensor dtype {dtype!r}")
    np = _load_numpy()
    if not np:
        return Tensor(dtype, tuple(shape), data, order)
    arr = np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"))
    return arr.reshape(shape, order="F" if order == "F" else "C")


def _ext_hook(code: int, data: bytes) -> Any:
    if code == EXT_TENSOR:
        return _decode_tensor(data)
    if code == arrow.EXT_ARROW:
        return arrow.from_ipc(data)
    if code == shm.EXT_SHM:
        return _decode_shm(data)
    if code == EXT_BIGINT:
        return int.from_bytes(data, "big", signed=True)
    if code == 0 and data == b"\x00":
        return None  # msgpackr's encoding of a bare `undefined`
    return ExtType(code, data)


def unpack(data: Any) -> Any:
    """Decode one msgpack value (bytes or any buffer)."""
    return msgpack.unpackb(
        data, raw=False, strict_map_key=False, ext_hook=_ext_hook, timestamp=3
    )

# The original's typed-Any serializer, for adapter code that imports it from here.
from .type_serializer import TypeSerializer  # noqa: E402
