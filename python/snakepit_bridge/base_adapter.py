"""Adapter base class and the ``@tool`` decorator (API of the original bridge).

    from snakepit_bridge.base_adapter import BaseAdapter, tool

    class MyAdapter(BaseAdapter):
        @tool(description="Add two numbers")
        def add(self, a: float, b: float) -> dict:
            return {"result": a + b}
"""
from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import inspect
import json
import logging
import os
import typing
from typing import Any, Callable, Dict, List, Optional

from .errors import UnknownToolError
from .session_context import SessionContext

__all__ = ["BaseAdapter", "tool", "ToolMetadata", "ToolRegistration", "ParameterSpec", "build_tool_spec",
           "discover_tool_names", "TOOL_ATTR"]

# Attributes the decorator sets on the function; discovery looks for either (the original's
# ``_tool_metadata`` too, so adapters that set or read it themselves see the same tools).
TOOL_ATTR = "_snakepit_tool"
ORIGINAL_TOOL_ATTR = "_tool_metadata"

log = logging.getLogger("snakepit_bridge.base_adapter")

# The current call's context. A ContextVar (not a plain attribute) so that
# concurrent calls (asyncio tasks, thread-profile pool threads) each see their
# own context through the same ``self.session_context``.
_CURRENT_CONTEXT: "contextvars.ContextVar[Optional[SessionContext]]" = contextvars.ContextVar(
    "snakepit_session_context"
)


@dataclasses.dataclass
class ToolMetadata:
    """What ``@tool`` records about a method (the original's fields)."""

    description: str = ""
    supports_streaming: bool = False
    parameters: List[Dict[str, Any]] = dataclasses.field(default_factory=list)
    required_variables: List[str] = dataclasses.field(default_factory=list)


def tool(description: Any = "", supports_streaming: bool = False,
         required_variables: Optional[List[str]] = None) -> Any:
    """Mark an adapter method as a tool: ``@tool``, ``@tool(...)`` or the original's positional
    ``@tool("description", supports_streaming, required_variables)``.

    ``description`` defaults to the method's docstring. Generator methods are
    reported as streaming even without ``supports_streaming=True``. Sets the
    original's ``_tool_metadata`` (a ``ToolMetadata``) on the method.
    """
    if callable(description):  # bare @tool
        return tool()(description)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        meta = ToolMetadata(description or fn.__doc__ or "", bool(supports_streaming), [],
                            list(required_variables or []))
        setattr(fn, ORIGINAL_TOOL_ATTR, meta)
        setattr(fn, TOOL_ATTR, meta)
        return fn

    return decorate


class ParameterSpec(dict):
    """One parameter of a tool spec: a dict (``name``, ``type``, ``required``, ``default``?) whose
    keys are also attributes, plus the original's ``description`` and ``validation_json``."""

    def __getattr__(self, name: str) -> Any:
        if name in self:
            return self[name]
        if name == "description":
            return ""
        if name == "validation_json":
            return json.dumps({"default": self["default"]}, default=repr) if "default" in self else ""
        raise AttributeError(name)


class ToolRegistration(dict):
    """One tool spec as ``get_tools`` returns it: a dict (``name``, ``description``, ``parameters``,
    ``supports_streaming``, ``required_variables``) whose keys are also attributes, plus the
    original's ``metadata`` (``adapter_class``, ``module``, ``required_variables``; not a key)."""

    def __getattr__(self, name: str) -> Any:
        if name in self:
            return self[name]
        if name == "metadata":
            return self.__dict__.get("origin", {})
        raise AttributeError(name)


_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "float",
    bool: "boolean",
    bytes: "binary",
    bytearray: "binary",
    list: "list",
    tuple: "list",
    set: "list",
    frozenset: "list",
    dict: "map",
}


def _type_name(annotation: Any) -> str:
    """Map a type hint to the spec's type word (``any`` when unknown)."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return "any"
    origin = typing.get_origin(annotation)
    if origin is typing.Union or type(annotation).__name__ == "UnionType":
        # Optional[X] -> X; a real union of several types stays "any".
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _type_name(args[0]) if len(args) == 1 else "any"
    target = origin or annotation
    if target in _TYPE_NAMES:
        return _TYPE_NAMES[target]
    if isinstance(target, type):
        if target.__module__ == "numpy" and target.__name__ == "ndarray":
            return "tensor"
        if target.__name__ == "Tensor":
            return "tensor"
        import collections.abc as cabc

        if issubclass(target, cabc.Mapping):
            return "map"
        if issubclass(target, (cabc.Sequence, cabc.Set)) and not issubclass(target, (str, bytes)):
            return "list"
    if isinstance(annotation, str):
        return annotation  # an unresolvable forward reference: keep its text
    return "any"


def build_tool_spec(name: str, fn: Callable[..., Any]) -> Dict[str, Any]:
    """Spec of one tool: ``{name, description, parameters, supports_streaming, required_variables}``."""
    meta = getattr(fn, TOOL_ATTR, None) or getattr(fn, ORIGINAL_TOOL_ATTR, None) or ToolMetadata()
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # unresolvable forward refs: fall back to raw annotations
        hints = getattr(fn, "__annotations__", {}) or {}
    params: List[Dict[str, Any]] = []
    for p in inspect.signature(fn).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        spec: Dict[str, Any] = {
            "name": p.name,
            "type": _type_name(hints.get(p.name, p.annotation)),
            "required": p.default is p.empty,
        }
        if p.default is not p.empty:
            spec["default"] = p.default
        params.append(spec)
    description = inspect.cleandoc(getattr(meta, "description", "") or fn.__doc__ or "")
    unwrapped = inspect.unwrap(fn)
    streaming = (
        bool(getattr(meta, "supports_streaming", False))
        or inspect.isgeneratorfunction(unwrapped)
        or inspect.isasyncgenfunction(unwrapped)
    )
    spec = {
        "name": name,
        "description": description,
        "parameters": params,
        "supports_streaming": streaming,
        "required_variables": list(getattr(meta, "required_variables", None) or []),
    }
    if os.environ.get("SNAKEPIT_TOOL_TYPES") == "1":  # the host validates arguments (validateArgs)
        from .type_specs import wire_types  # imports this module: imported when first needed
        spec["types"] = wire_types(fn)
    return spec


def discover_tool_names(cls: type) -> List[str]:
    """Names of the ``@tool`` methods of a class (any class), sorted."""
    names = []
    for name in dir(cls):
        if name.startswith("__"):
            continue
        try:
            attr = inspect.getattr_static(cls, name)
        except AttributeError:
            continue
        if isinstance(attr, (staticmethod, classmethod)):
            attr = attr.__func__
        if getattr(attr, TOOL_ATTR, None) is not None or getattr(attr, ORIGINAL_TOOL_ATTR, None) is not None:
            names.append(name)
    return sorted(names)


class BaseAdapter:
    """Base class of every adapter: tool discovery plus the session context.

    Optional lifecycle hooks (sync or ``async``): ``initialize()`` runs once
    before the worker reports ready; ``cleanup()`` runs on shutdown/SIGTERM.
    Session hooks: ``on_session_restore(state)`` runs before the first call
    of a session that the host moves to this worker (its state as a dict),
    in that call's context; ``cleanup_session(session_id)`` runs when the
    session ends. Tools reach the host through ``self.session_context``
    (``call_host_tool``, ``host_tools``, ``state``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Accept and ignore arguments so subclasses calling super().__init__(x)
        # the way some original adapters did keep working.
        pass

    # -- session context ---------------------------------------------------

    @property
    def session_context(self) -> Optional[SessionContext]:
        """The context of the call being served by this thread/task."""
        ctx = _CURRENT_CONTEXT.get(None)
        if ctx is not None:
            return ctx
        # Outside any call's context (e.g. a thread the tool started itself):
        # fall back to the most recently set context.
        return self.__dict__.get("_snakepit_last_context")

    @session_context.setter
    def session_context(self, ctx: Optional[SessionContext]) -> None:
        _CURRENT_CONTEXT.set(ctx)
        self.__dict__["_snakepit_last_context"] = ctx

    def set_session_context(self, ctx: Optional[SessionContext]) -> None:
        """Called by the bridge before each call (the original's hook name)."""
        self.session_context = ctx

    # -- discovery -----------------------------------------------------------

    @classmethod
    def tool_names(cls) -> List[str]:
        """Names of the methods marked with ``@tool``, sorted."""
        return discover_tool_names(cls)

    def get_tools(self) -> List[ToolRegistration]:
        """Tool specs of this adapter, in name order: dicts whose keys are also attributes
        (``spec["name"]`` and the original's ``spec.name``, ``spec.parameters[0].name``)."""
        cls = type(self)
        origin = {"adapter_class": cls.__name__, "module": cls.__module__}
        tools = []
        for name in self.tool_names():
            spec = ToolRegistration(build_tool_spec(name, getattr(self, name)))
            spec["parameters"] = [ParameterSpec(p) for p in spec["parameters"]]
            extra = {"required_variables": ",".join(spec["required_variables"])} if spec["required_variables"] else {}
            # Not a key: the spec goes on the wire as it is; only the attribute shows it.
            spec.origin = {**origin, **extra}
            tools.append(spec)
        return tools

    def call_tool(self, tool_name: str, **kwargs: Any) -> Any:
        """Call the method ``tool_name`` with ``kwargs`` (the original's dispatch helper, e.g. from
        an ``execute_tool`` router). Raises ``UnknownToolError`` (an ``AttributeError``, code
        ``unknown_tool``, ``details["available"]``: the ``@tool`` methods) when there is none."""
        method = getattr(self, tool_name, None) if not tool_name.startswith("_") else None
        if method is None or not callable(method):
            available = self.tool_names()
            raise UnknownToolError(f"Tool '{tool_name}' not found in {type(self).__name__}",
                                   details={"available": available})
        return method(**kwargs)

    def register_with_session(self, session_id: str, stub: Any = None) -> List[str]:
        """The original registered the tools with its host for ``session_id``; here the host knows
        every worker's tools from its start-up handshake, so this only returns their names."""
        names = [spec["name"] for spec in self.get_tools()]
        if not names:
            log.warning("no tools found in adapter %s", type(self).__name__)
        return names

    async def register_with_session_async(self, session_id: str, stub: Any = None) -> List[str]:
        """``register_with_session`` for async code (never blocks the loop)."""
        await asyncio.sleep(0)
        return self.register_with_session(session_id, stub)


def context_setter(adapter: Any) -> Optional[Callable[[Optional[SessionContext]], None]]:
    """What ``adapter.set_session_context`` does, as one function, when the adapter keeps
    ``BaseAdapter``'s own hook and property (it runs before every call: two Python frames
    fewer); None when its class changes either, whose own code must then run."""
    cls = type(adapter)
    if getattr(cls, "set_session_context", None) is not BaseAdapter.set_session_context:
        return None
    prop = next((k.__dict__["session_context"] for k in cls.__mro__ if "session_context" in k.__dict__), None)
    if prop is not BaseAdapter.__dict__["session_context"]:
        return None
    set_current, attrs = _CURRENT_CONTEXT.set, adapter.__dict__

    def set_context(ctx: Optional[SessionContext]) -> None:
        set_current(ctx)
        attrs["_snakepit_last_context"] = ctx

    return set_context
