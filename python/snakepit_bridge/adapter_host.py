"""The adapter inside a worker: import it, run its hooks, give each call its session context.

``AdapterHost`` imports the adapter class, runs its ``preload()`` once per process
(``preload.py``), instantiates it, runs ``initialize()``
(sync or async) on the worker's asyncio loop, discovers the ``@tool`` methods and
their specs, and is the one place that sets ``session_context`` on the adapter
(``set_context``) and calls its optional hooks (``call_hook``: ``initialize``,
``cleanup``, ``initialize_session``, ``cleanup_session``).
"""
from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import os
import platform
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional

from . import thread_profile
from .base_adapter import build_tool_spec, context_setter, discover_tool_names
from .preload import run_preload
from .session_context import SessionContext

log = logging.getLogger("snakepit_bridge.server")

PROTOCOL_VERSION = 2  # 2: compact call and result frames over the pipe
DEFAULT_ADAPTER = "snakepit_bridge.adapters.showcase.ShowcaseAdapter"


def resolve_adapter_class(spec: str) -> Any:
    """Import ``pkg.mod.Class`` (or ``pkg.mod:Class``) and return the class."""
    if ":" in spec:
        module_name, attr = spec.split(":", 1)
    else:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise ImportError(f"adapter must be 'package.module.Class', got {spec!r}")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"adapter {spec!r} is a {type(target).__name__}, not a class")
    return target


def wire_spec(spec: Any) -> Any:
    """A tool spec from ``get_tools()`` as plain data: a plain dict as it is, a ``ToolRegistration``
    (or any mapping, or an object with the original's attributes) as a plain dict."""
    if type(spec) is dict:
        return spec
    get = spec.get if isinstance(spec, Mapping) else (lambda key, default=None: getattr(spec, key, default))
    params = []
    for p in get("parameters", None) or []:
        pget = p.get if isinstance(p, Mapping) else (lambda key, default=None, p=p: getattr(p, key, default))
        param = {"name": str(pget("name", "")), "type": str(pget("type", None) or "any"),
                 "required": bool(pget("required", False))}
        if isinstance(p, Mapping) and "default" in p:
            param["default"] = p["default"]
        params.append(param)
    out = {"name": str(get("name", "")), "description": str(get("description", None) or ""),
           "parameters": params, "supports_streaming": bool(get("supports_streaming", False)),
           "required_variables": list(get("required_variables", None) or [])}
    types = get("types", None)  # parameter types, for the host's validateArgs (SNAKEPIT_TOOL_TYPES)
    if types is not None:
        out["types"] = types
    return out


class AdapterHost:
    """The adapter instance, its asyncio loop, its tools and specs.

    ``loop_threaded``: the asyncio loop runs in its own thread (every gRPC
    worker, the pipe's thread profile); otherwise the pipe's main thread runs
    it around each async call. ``thread_safety``: ``off``, ``warn`` or
    ``strict`` (``thread_profile.checks_mode``).
    """

    def __init__(self, adapter_spec: str, concurrency: int, loop_threaded: bool,
                 thread_safety: str = "off") -> None:
        self.adapter_spec = adapter_spec
        self.concurrency = concurrency
        self.loop_threaded = loop_threaded
        self.thread_safety = thread_safety
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.adapter: Any = None
        self.specs: List[Dict[str, Any]] = []
        # The adapter's own execute_tool(tool_name=, arguments=, context=), if it has one.
        self.route: Optional[Callable[..., Any]] = None
        self.set_context: Callable[[SessionContext], None] = self._set_context_attribute

    def load(self, host: Any) -> Dict[str, Callable[..., Any]]:
        """Import + instantiate the adapter, run ``initialize()``; return its tools (raises on failure).

        ``host``: the transport's host channel; ``initialize()`` may call the host for no call
        (global host tools only, no session state).
        """
        cls = resolve_adapter_class(self.adapter_spec)
        run_preload(cls)  # once per process: a forked worker's template already ran it
        adapter = self.adapter = cls()
        setter = getattr(adapter, "set_session_context", None)
        if callable(setter):  # resolved once: it runs before every call
            self.set_context = context_setter(adapter) or setter
        self.set_context(SessionContext.for_call(None, {}, None, host))
        self.call_hook("initialize", None)
        tools = {name: getattr(adapter, name) for name in discover_tool_names(type(adapter))}
        get_tools = getattr(adapter, "get_tools", None)
        if callable(get_tools):
            self.specs = [wire_spec(spec) for spec in get_tools()]
        else:
            self.specs = [build_tool_spec(name, fn) for name, fn in sorted(tools.items())]
        # The original's servers sent every call to execute_tool: one the adapter defines gets
        # each call whose name is not one of its @tool methods.
        route = getattr(adapter, "execute_tool", None)
        self.route = route if callable(route) and "execute_tool" not in tools else None
        return tools

    def start_loop(self) -> None:
        """Threaded loop: start it now (``initialize()`` ran on the idle loop, so what it made belongs to it)."""
        if self.loop_threaded:
            threading.Thread(target=self.loop.run_forever, name="snakepit-asyncio", daemon=True).start()

    def describe(self) -> Dict[str, Any]:
        """The ``ready`` frame's fields (also the gRPC ``Describe`` answer)."""
        info = {"protocol": PROTOCOL_VERSION, "pid": os.getpid(), "adapter": self.adapter_spec,
                "tools": self.specs, "python": platform.python_version(),
                "concurrency": self.concurrency, "runtime": thread_profile.runtime_info()}
        if self.route is not None:  # names beyond `tools` are routed by the adapter: the host must not refuse them
            info["dynamic_tools"] = True
        return info

    def _set_context_attribute(self, ctx: SessionContext) -> None:
        # An adapter without set_session_context (not a BaseAdapter) gets the attribute.
        try:
            setattr(self.adapter, "session_context", ctx)
        except Exception:  # noqa: BLE001 - an adapter that refuses the attribute
            log.debug("cannot set session_context on the adapter", exc_info=True)

    def call_hook(self, name: str, timeout: Optional[float], *args: Any) -> Any:
        """Call ``adapter.<name>(*args)`` if defined, awaiting it on the worker loop if async."""
        hook = getattr(self.adapter, name, None)
        if not callable(hook):
            return None
        result = hook(*args)
        if not inspect.isawaitable(result):
            return result
        loop = self.loop
        if not loop.is_running():
            # Idle loop (from whichever thread): run the hook on it, so
            # resources created by initialize() on this loop can be closed.
            return loop.run_until_complete(asyncio.wait_for(result, timeout))
        if self.loop_threaded:
            # The loop runs in its own thread; hand the coroutine over.
            return asyncio.run_coroutine_threadsafe(result, loop).result(timeout)
        # Shutdown came while an async tool runs on the main thread's loop,
        # which cannot be re-entered: use a fresh loop aside.
        t = threading.Thread(target=asyncio.run, args=(result,), daemon=True)
        t.start()
        t.join(timeout)
        return None
