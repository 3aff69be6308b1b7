"""Tool type specs of an adapter, for ``snakepit gen types`` and the host's ``validateArgs``.

    python -m snakepit_bridge.type_specs --adapter pkg.mod.Class

prints one JSON object: ``{"version": 1, "adapter", "open", "tools": [...], "definitions": {...}}``
(guides/typed-tools.md, "The spec format"), or ``{"version": 1, "adapter", "error": {type, message,
traceback}}`` with exit code 3 when the adapter cannot be imported. The class is imported, not
instantiated, unless it lists its tools itself (``get_tools`` overridden): then an instance answers.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import math
import os
import re
import sys
import traceback
import typing
from typing import Any, Callable, Dict, List, Optional

from .base_adapter import TOOL_ATTR, discover_tool_names
from .type_jsonschema import union_of
from .type_nodes import ITERATOR_ORIGINS, Node, TypeMapper, is_stream_chunk, unknown

__all__ = ["SPEC_VERSION", "describe_adapter", "describe_class", "describe_tool", "wire_types"]

SPEC_VERSION = 1
_SAFE_INT = 2 ** 53
# The spec words of the handshake's ``parameters`` (base_adapter._TYPE_NAMES), for tools an adapter lists itself.
_TYPE_WORDS: Dict[str, Node] = {
    "string": {"kind": "str"}, "integer": {"kind": "int"}, "float": {"kind": "float"}, "boolean": {"kind": "bool"},
    "binary": {"kind": "bytes"}, "list": {"kind": "list", "items": {"kind": "any"}},
    "map": {"kind": "dict", "keys": {"kind": "str"}, "values": {"kind": "any"}}, "tensor": {"kind": "tensor", "dtype": None},
}

# Where the bridge's base classes live: their get_tools/execute_tool are the defaults.
_BASE_MODULES = {"snakepit_bridge.base_adapter", "snakepit_bridge.base_adapter_threaded", "builtins"}

T = typing.TypeVar("T")


class StreamChunk(typing.Generic[T]):
    """Stands in for ``StreamChunk[X]`` in string annotations while the bridge's class takes no type argument."""


def describe_adapter(spec: str) -> Dict[str, Any]:
    """Import ``pkg.mod.Class`` (or ``pkg.mod:Class``) and describe its tools."""
    module_name, _, attr = spec.replace(":", ".").rpartition(".")
    if not module_name:
        raise ImportError(f"adapter must be 'package.module.Class', got {spec!r}")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    return describe_class(target, spec)


def describe_class(cls: type, spec: str) -> Dict[str, Any]:
    """The type spec of every tool of ``cls``: ``@tool`` methods, and names it routes itself."""
    mapper = TypeMapper()
    localns = _class_namespace(cls)
    tools = []
    for name in discover_tool_names(cls):
        static = inspect.getattr_static(cls, name)
        fn = getattr(cls, name)
        # A plain function read from the class still has ``self`` (a classmethod comes bound).
        skip_self = not isinstance(static, (staticmethod, classmethod))
        tools.append(describe_tool(name, fn, mapper, localns, skip_self))
    routes = _overridden(cls, "execute_tool")
    if _overridden(cls, "get_tools"):
        declared = {t["name"] for t in tools}
        listed = [s for s in cls().get_tools() if isinstance(s, dict) and s.get("name") not in declared]
        tools.extend(_listed_tool(s) for s in listed)
        routes = False  # it said which names it has
    tools.sort(key=lambda t: t["name"])
    return {"version": SPEC_VERSION, "adapter": spec, "open": routes, "tools": tools,
            "definitions": {k: mapper.definitions[k] for k in sorted(mapper.definitions)}}


def wire_types(fn: Callable[..., Any]) -> Dict[str, Any]:
    """One bound tool's types for the worker's handshake (``types`` of a tool spec); never raises."""
    try:
        mapper = TypeMapper()
        owner = getattr(fn, "__self__", None)
        tool = describe_tool(fn.__name__, fn, mapper, _class_namespace(type(owner)) if owner is not None else {}, False)
        return {"params": tool["params"], "extra_params": tool["extra_params"], "definitions": mapper.definitions}
    except Exception as exc:  # a spec must never keep a worker from starting
        return {"error": f"{type(exc).__name__}: {exc}"}


def describe_tool(name: str, fn: Callable[..., Any], mapper: TypeMapper, localns: Dict[str, Any], skip_self: bool) -> Dict[str, Any]:
    """Parameters, ``**kwargs``, result and chunk type of one tool."""
    meta = getattr(fn, TOOL_ATTR, None)
    unwrapped = inspect.unwrap(fn)
    hints = _hints(fn, localns)
    doc = inspect.cleandoc(fn.__doc__) if fn.__doc__ else ""
    # The original's @tool keeps the raw docstring as its description; types show it dedented.
    described = getattr(meta, "description", None)
    described = inspect.cleandoc(described) if described else doc
    arg_docs = _arg_docs(doc)
    params: List[Dict[str, Any]] = []
    extra: Optional[Node] = None
    parameters = list(inspect.signature(fn).parameters.values())
    for p in parameters[1:] if skip_self and parameters else parameters:
        if p.kind is p.VAR_KEYWORD:
            extra = mapper.node(hints.get(p.name, p.annotation))
            continue
        if p.kind in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY):
            continue  # the bridge calls tools with keyword arguments only
        param: Dict[str, Any] = {"name": p.name, "type": mapper.node(hints.get(p.name, p.annotation)),
                                 "required": p.default is p.empty}
        if p.default is not p.empty and _json_safe(p.default):
            param["default"] = p.default
        if p.name in arg_docs:
            param["description"] = arg_docs[p.name]
        params.append(param)
    generator = inspect.isgeneratorfunction(unwrapped) or inspect.isasyncgenfunction(unwrapped)
    returned = hints.get("return", inspect.Parameter.empty)
    yielded = _yielded(returned)
    if yielded is None and generator:
        yielded = typing.Any
    streaming = bool(getattr(meta, "supports_streaming", False)) or generator
    if yielded is not None:
        chunk = _chunk_node(yielded, mapper)
        result: Node = {"kind": "list", "items": chunk}  # a generator called without streaming returns its items
    else:
        result = chunk = mapper.node(returned)
    return {"name": name, "description": described, "streaming": streaming,
            "params": params, "extra_params": extra, "result": result, "chunk": chunk, "declared": True}


def _listed_tool(spec: Dict[str, Any]) -> Dict[str, Any]:
    """A tool an adapter routes itself and lists in ``get_tools()``: its parameter words, an unknown result."""
    params = []
    for p in spec.get("parameters") or []:
        if isinstance(p, dict) and isinstance(p.get("name"), str):
            node = _TYPE_WORDS.get(str(p.get("type")), {"kind": "any"})
            params.append({"name": p["name"], "type": dict(node), "required": bool(p.get("required", True))})
    why = unknown("routed by execute_tool: no return annotation")
    return {"name": spec["name"], "description": str(spec.get("description") or ""),
            "streaming": bool(spec.get("supports_streaming")), "params": params, "extra_params": None,
            "result": why, "chunk": why, "declared": False}


def _chunk_node(yielded: Any, mapper: TypeMapper) -> Node:
    """What one chunk of a stream is: the yielded type, ``StreamChunk[X]`` unwrapped to ``X``."""
    parts = typing.get_args(yielded) if typing.get_origin(yielded) is typing.Union else (yielded,)
    nodes = []
    for part in parts:
        if not is_stream_chunk(part):
            nodes.append(mapper.node(part))
            continue
        args = typing.get_args(part)
        nodes.append(mapper.node(args[0]) if args else unknown("StreamChunk without a type argument"))
    return union_of(nodes)


def _yielded(returned: Any) -> Any:
    """The item type of an ``Iterator[X]``-like return annotation (also async), else None."""
    origin = typing.get_origin(returned)
    if origin is None and returned in ITERATOR_ORIGINS:
        return typing.Any
    if origin in ITERATOR_ORIGINS:
        args = typing.get_args(returned)
        return args[0] if args else typing.Any
    return None


def _hints(fn: Callable[..., Any], localns: Dict[str, Any]) -> Dict[str, Any]:
    """Resolved annotations; when one cannot be resolved the others still are (it stays a string)."""
    try:
        return typing.get_type_hints(fn, localns=localns, include_extras=True)
    except Exception:
        pass
    target = inspect.unwrap(fn)
    globalns = getattr(target, "__globals__", {})
    out: Dict[str, Any] = {}
    for name, annotation in (getattr(target, "__annotations__", None) or {}).items():
        def holder() -> None: ...
        holder.__annotations__ = {name: annotation}
        try:
            out.update(typing.get_type_hints(holder, globalns, localns, include_extras=True))
        except Exception:
            out[name] = annotation if isinstance(annotation, str) else repr(annotation)
    return out


def _class_namespace(cls: type) -> Dict[str, Any]:
    """Names a string annotation may use besides the module's: the class bodies', and ``StreamChunk[X]``."""
    namespace: Dict[str, Any] = {"StreamChunk": StreamChunk}
    for klass in reversed(cls.__mro__):
        namespace.update(vars(klass))
    return namespace


def _overridden(cls: type, method: str) -> bool:
    """Whether the adapter defines ``method`` itself (the base classes' own is no override)."""
    for klass in cls.__mro__:
        if method in vars(klass):
            return klass.__module__ not in _BASE_MODULES
    return False


def _arg_docs(doc: str) -> Dict[str, str]:
    """Parameter texts of a Google-style ``Args:`` section."""
    out: Dict[str, str] = {}
    section = re.search(r"^(?:Args|Arguments|Parameters):\s*\n((?:[ \t]+.*\n?|\s*\n)+)", doc, re.M)
    if not section:
        return out
    current = None
    for line in section.group(1).splitlines():
        m = re.match(r"^\s{1,8}(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$", line)
        if m:
            current = m.group(1).lstrip("*")
            out[current] = m.group(2).strip()
        elif current and line.strip():
            out[current] = f"{out[current]} {line.strip()}".strip()
    return out


def _json_safe(value: Any) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return abs(value) < _SAFE_INT
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_json_safe(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_safe(v) for k, v in value.items())
    return False


def _user_traceback(exc: BaseException) -> str:
    """The traceback without this module's and importlib's own frames: where the adapter failed."""
    tb = traceback.TracebackException.from_exception(exc)
    tb.stack = traceback.StackSummary.from_list(
        [f for f in tb.stack if f.filename != __file__ and "importlib" not in f.filename])
    return "".join(tb.format())


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snakepit_bridge.type_specs", description=__doc__.split("\n")[0])
    parser.add_argument("--adapter", required=True, help="adapter class, package.module.Class")
    args = parser.parse_args(argv)
    # Adapter imports may print: keep fd 1 for the JSON alone.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        result, code = describe_adapter(args.adapter), 0
    except BaseException as exc:  # SystemExit from an adapter module is an import failure too
        result = {"version": SPEC_VERSION, "adapter": args.adapter,
                  "error": {"type": type(exc).__name__, "message": str(exc), "traceback": _user_traceback(exc)}}
        code = 3
    out.write(json.dumps(result, sort_keys=True, default=repr))
    out.write("\n")
    out.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
