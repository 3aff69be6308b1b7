"""Python type hints -> the JSON type nodes of ``snakepit gen types`` (guides/typed-tools.md, "The spec format").

A node describes the *Python* type; the host maps it to what the wire carries
(``src/typegen/wire-types.ts``): ``{"kind": "int"}`` becomes ``number | bigint``
there. Named types (TypedDict, dataclass, namedtuple, Enum, pydantic model) go
once into ``definitions`` and are referenced as ``{"kind": "ref", "name": ...}``,
so recursive types end. A hint with no mapping becomes
``{"kind": "unknown", "reason": ...}``: never a guess.
"""
from __future__ import annotations

import collections
import collections.abc as cabc
import dataclasses
import datetime
import decimal
import enum
import inspect
import os
import sys
import typing
import uuid
from typing import Any, Dict, List, Optional

from .type_jsonschema import is_pydantic_model, pydantic_definition, union_of

__all__ = ["TypeMapper", "ITERATOR_ORIGINS", "Node"]

Node = Dict[str, Any]

ANY: Node = {"kind": "any"}

_SCALARS: Dict[Any, str] = {
    str: "str", int: "int", float: "float", bool: "bool", type(None): "none",
    bytes: "bytes", bytearray: "bytes", memoryview: "bytes",
    datetime.datetime: "datetime", datetime.date: "date", datetime.time: "time",
    datetime.timedelta: "timedelta", decimal.Decimal: "decimal", uuid.UUID: "uuid",
    object: "any",
}
_LIST_ORIGINS = {list, cabc.Sequence, cabc.MutableSequence, cabc.Collection, cabc.Iterable, collections.deque}
_SET_ORIGINS = {set, frozenset, cabc.Set, cabc.MutableSet}
_DICT_ORIGINS = {dict, cabc.Mapping, cabc.MutableMapping, collections.OrderedDict, collections.defaultdict}
# Return annotations of generator tools: the yielded type is the first argument.
ITERATOR_ORIGINS = {cabc.Iterator, cabc.Generator, cabc.AsyncIterator, cabc.AsyncGenerator, cabc.AsyncIterable, cabc.Iterable}
_TENSOR_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64",
                  "uint8", "uint16", "uint32", "uint64", "bool"}
_SAFE_INT = 2 ** 53


def unknown(reason: str) -> Node:
    return {"kind": "unknown", "reason": reason}


def qualified_name(cls: Any) -> str:
    module = getattr(cls, "__module__", None) or "?"
    name = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", None) or repr(cls)
    return name if module == "builtins" else f"{module}.{name}"


def is_stream_chunk(hint: Any) -> bool:
    """``StreamChunk`` from the bridge (or any class of that name: the original's compat alias)."""
    target = typing.get_origin(hint) or hint
    return getattr(target, "__name__", None) == "StreamChunk"


class TypeMapper:
    """Maps hints to nodes, collecting named types in ``definitions``."""

    def __init__(self) -> None:
        self.definitions: Dict[str, Node] = {}

    def node(self, hint: Any) -> Node:
        try:
            return self._node(hint)
        except RecursionError:
            return unknown("nested too deeply")
        except Exception as exc:  # a hint that breaks introspection must not break generation
            return unknown(f"cannot inspect {hint!r}: {type(exc).__name__}")

    def _node(self, hint: Any) -> Node:
        if hint is inspect.Parameter.empty or hint is Any:
            return dict(ANY)
        if hint is None:
            return {"kind": "none"}
        if isinstance(hint, (str, typing.ForwardRef)):
            text = hint if isinstance(hint, str) else hint.__forward_arg__
            return unknown(f"unresolved forward reference {text!r}")
        if isinstance(hint, typing.TypeVar):
            bound = hint.__bound__
            return self._node(bound) if bound is not None else unknown(f"type variable {hint.__name__}")
        supertype = getattr(hint, "__supertype__", None)  # typing.NewType
        if supertype is not None:
            return self._node(supertype)
        origin = typing.get_origin(hint)
        if origin is not None:
            return self._generic(hint, origin, typing.get_args(hint))
        if isinstance(hint, type):
            return self._class(hint)
        return unknown(f"no mapping for {hint!r}")

    def _generic(self, hint: Any, origin: Any, args: tuple) -> Node:
        if origin is typing.Annotated:
            return self._node(args[0])
        if origin is typing.Union or type(hint).__name__ == "UnionType":
            return union_of([self._node(a) for a in args])
        if origin is typing.Literal:
            return self._literal(args)
        if origin in (typing.ClassVar, getattr(typing, "Final", None), getattr(typing, "Required", None),
                      getattr(typing, "NotRequired", None), getattr(typing, "ReadOnly", None)):
            return self._node(args[0]) if args else dict(ANY)
        if origin in _LIST_ORIGINS:
            return {"kind": "list", "items": self._node(args[0]) if args else dict(ANY)}
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return {"kind": "list", "items": self._node(args[0])}
            if args == ((),):  # Tuple[()] before 3.11
                args = ()
            return {"kind": "tuple", "items": [self._node(a) for a in args]}
        if origin in _SET_ORIGINS:
            return {"kind": "set", "items": self._node(args[0]) if args else dict(ANY)}
        if origin in _DICT_ORIGINS:
            keys, values = (args + (Any, Any))[:2] if args else (Any, Any)
            return {"kind": "dict", "keys": self._node(keys), "values": self._node(values)}
        if origin is type or origin is cabc.Callable:
            return {"kind": "unserializable", "name": qualified_name(origin)}
        if origin in (cabc.Awaitable, cabc.Coroutine):
            return self._node(args[-1]) if args else dict(ANY)
        if origin in ITERATOR_ORIGINS:
            return unknown("an iterator outside a generator tool's return")
        if is_stream_chunk(hint):
            return unknown("StreamChunk outside a generator tool's yield")
        numpy = sys.modules.get("numpy")
        if numpy is not None and origin is numpy.ndarray:
            return self._ndarray(args)
        if isinstance(origin, type):
            return self._class(origin)
        return unknown(f"no mapping for {hint!r}")

    def _literal(self, values: tuple) -> Node:
        out: List[Any] = []
        for v in values:
            if isinstance(v, enum.Enum):
                v = v.value
            if v is None or isinstance(v, (str, bool)) or (isinstance(v, int) and abs(v) < _SAFE_INT):
                out.append(v)
            elif isinstance(v, int):
                return {"kind": "int"}  # a literal beyond 2^53 arrives as a bigint: keep it broad
            else:
                return unknown(f"Literal of {type(v).__name__}")
        return {"kind": "literal", "values": out}

    def _ndarray(self, args: tuple) -> Node:
        dtype = None
        if len(args) == 2:
            scalar = typing.get_args(args[1])
            if scalar and isinstance(scalar[0], type):
                try:
                    dtype = sys.modules["numpy"].dtype(scalar[0]).name
                except TypeError:
                    dtype = None
        if dtype is not None and dtype not in _TENSOR_DTYPES:
            return unknown(f"an ndarray of {dtype} goes as nested lists")
        return {"kind": "tensor", "dtype": dtype}

    def _class(self, cls: type) -> Node:
        scalar = _SCALARS.get(cls)
        if scalar is not None:
            return {"kind": scalar}
        if issubclass(cls, enum.Enum):
            return self._named(cls, self._enum)
        if issubclass(cls, dict) and hasattr(cls, "__required_keys__"):
            return self._named(cls, self._typed_dict)
        if issubclass(cls, tuple) and hasattr(cls, "_fields"):
            return self._named(cls, self._namedtuple)
        if dataclasses.is_dataclass(cls):
            return self._named(cls, self._dataclass)
        if is_pydantic_model(cls):
            return self._named(cls, lambda c: pydantic_definition(c, qualified_name(c), self.definitions))
        module = cls.__module__ or ""
        if module == "numpy" or module.startswith("numpy."):
            return self._numpy_class(cls)
        if module.startswith("pyarrow") and cls.__name__ in ("Table", "RecordBatch"):
            return {"kind": "arrow_table"}
        if qualified_name(cls) == "snakepit_bridge.serialization.Tensor":
            return {"kind": "tensor", "dtype": None}
        if issubclass(cls, os.PathLike):
            return {"kind": "path"}
        for base, kind in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (bytes, "bytes")):
            if issubclass(cls, base):
                return {"kind": kind}
        if issubclass(cls, (list, tuple)):
            return {"kind": "list", "items": dict(ANY)}
        if issubclass(cls, (set, frozenset)):
            return {"kind": "set", "items": dict(ANY)}
        if issubclass(cls, dict):
            return {"kind": "dict", "keys": {"kind": "str"}, "values": dict(ANY)}
        if isinstance(cls, type) and issubclass(cls, type):
            return {"kind": "unserializable", "name": "type"}
        return {"kind": "opaque", "name": qualified_name(cls)}

    def _numpy_class(self, cls: type) -> Node:
        numpy = sys.modules["numpy"]
        if cls is numpy.ndarray:
            return {"kind": "tensor", "dtype": None}
        for base, kind in ((numpy.bool_, "bool"), (numpy.integer, "int"), (numpy.floating, "float")):
            if issubclass(cls, base):
                return {"kind": kind}  # numpy scalars go as their .item()
        return unknown(f"no mapping for numpy.{cls.__name__}")

    def _named(self, cls: type, build: Any) -> Node:
        name = qualified_name(cls)
        if name not in self.definitions:
            self.definitions[name] = unknown("being defined")  # a recursive reference finds the name
            self.definitions[name] = build(cls)
        return {"kind": "ref", "name": name}

    def _hints(self, cls: type) -> Dict[str, Any]:
        try:
            return typing.get_type_hints(cls, include_extras=True)
        except Exception:
            return dict(getattr(cls, "__annotations__", {}))

    def _typed_dict(self, cls: type) -> Node:
        required = set(getattr(cls, "__required_keys__", ()))
        fields = [{"name": k, "type": self.node(h), "required": k in required} for k, h in self._hints(cls).items()]
        return {"kind": "object", "name": qualified_name(cls), "origin": "typeddict", "fields": fields,
                "doc": _doc(cls)}

    def _dataclass(self, cls: type) -> Node:
        hints = self._hints(cls)
        fields = []
        for f in dataclasses.fields(cls):
            if f.name.startswith("_"):
                continue  # results leave out private fields (serialization.py)
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            fields.append({"name": f.name, "type": self.node(hints.get(f.name, f.type)), "required": required})
        return {"kind": "object", "name": qualified_name(cls), "origin": "dataclass", "fields": fields, "doc": _doc(cls)}

    def _namedtuple(self, cls: type) -> Node:
        hints = self._hints(cls)
        defaults = getattr(cls, "_field_defaults", {})
        fields = [{"name": f, "type": self.node(hints.get(f, Any)), "required": f not in defaults} for f in cls._fields]
        return {"kind": "object", "name": qualified_name(cls), "origin": "namedtuple", "fields": fields, "doc": _doc(cls)}

    def _enum(self, cls: type) -> Node:
        values = [m.value for m in cls]  # type: ignore[attr-defined]
        literal = self._literal(tuple(values))
        if literal["kind"] != "literal":
            return unknown(f"enum {cls.__name__} has values of no literal type")
        return {"kind": "enum", "name": qualified_name(cls), "values": literal["values"], "doc": _doc(cls)}


def _doc(cls: type) -> Optional[str]:
    doc = cls.__dict__.get("__doc__")
    if not doc or doc.startswith(cls.__name__ + "("):
        return None  # dataclasses and namedtuples invent a signature docstring
    return inspect.cleandoc(doc)
