"""Adapter base class and the ``@tool`` decorator (API of the original bridge).

    from snakepit_bridge.base_adapter import BaseAdapter, tool

    class MyAdapter(BaseAdapter):
        @tool(description="Add two numbers")
        def add(self, a: float, b: float) -> dict:
            return {"result": a + b}
"""
from __future__ import annotations

import contextvars
import inspect
import os
import typing
from typing import Any, Callable, Dict, List, Optional

from .session_context import SessionContext

__all__ = ["BaseAdapter", "tool", "ToolMetadata", "build_tool_spec", "discover_tool_names", "TOOL_ATTR"]

# Attribute the decorator sets on the function; discovery looks for it.
TOOL_ATTR = "_snakepit_tool"

# The current call's context. A ContextVar (not a plain attribute) so that
# concurrent calls (asyncio tasks, thread-profile pool threads) each see their
# own context through the same ``self.session_context``.
_CURRENT_CONTEXT: "contextvars.ContextVar[Optional[SessionContext]]" = contextvars.ContextVar(
    "snakepit_session_context"
)


class ToolMetadata:
    """What ``@tool`` records about a method."""

    __slots__ = ("description", "supports_streaming", "required_variables")

    def __init__(
        self,
        description: Optional[str],
        supports_streaming: bool,
        required_variables: Optional[List[str]],
    ) -> None:
        self.description = description
        self.supports_streaming = bool(supports_streaming)
        self.required_variables = list(required_variables or [])


def tool(
    func: Optional[Callable[..., Any]] = None,
    *,
    description: Optional[str] = None,
    supports_streaming: bool = False,
    required_variables: Optional[List[str]] = None,
) -> Any:
    """Mark an adapter method as a tool. Usable as ``@tool`` or ``@tool(...)``.

    ``description`` defaults to the method's docstring. Generator methods are
    reported as streaming even without ``supports_streaming=True``.
    """
    if isinstance(func, str) and description is None:
        # @tool("text") — the original accepted the description positionally.
        description, func = func, None

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        setattr(fn, TOOL_ATTR, ToolMetadata(description, supports_streaming, required_variables))
        return fn

    if func is not None:
        return decorate(func)
    return decorate


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
    meta: Optional[ToolMetadata] = getattr(fn, TOOL_ATTR, None)
    if meta is None:
        meta = ToolMetadata(None, False, None)
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
    description = meta.description
    if description is None:
        description = inspect.cleandoc(fn.__doc__) if fn.__doc__ else ""
    unwrapped = inspect.unwrap(fn)
    streaming = (
        meta.supports_streaming
        or inspect.isgeneratorfunction(unwrapped)
        or inspect.isasyncgenfunction(unwrapped)
    )
    spec = {
        "name": name,
        "description": description,
        "parameters": params,
        "supports_streaming": streaming,
        "required_variables": list(meta.required_variables),
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
        if getattr(attr, TOOL_ATTR, None) is not None:
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

    def get_tools(self) -> List[Dict[str, Any]]:
        """Tool specs of this adapter, in name order."""
        return [build_tool_spec(name, getattr(self, name)) for name in self.tool_names()]
