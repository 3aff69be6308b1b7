"""Per-call context handed to adapters as ``self.session_context``.

Besides what the call is (session, metadata, id, cancel flag), the context is
the tool's way back to the host (docs/protocol.md, "Calls from Python to the
host"): ``call_host_tool``/``acall_host_tool``, ``host_tools`` and ``state``.
Every host request names this call, so the host answers for this call's session.
"""
from __future__ import annotations

import asyncio
import functools
from typing import Any, Callable, Dict, Iterator, Mapping, MutableMapping, Optional, Tuple

from . import wire_errors
from .errors import HostToolError

__all__ = ["SessionContext", "HostTools", "SessionState"]

_new_object = object.__new__


class SessionContext:
    """What a tool knows about the call it is serving, and its way to the host.

    ``cancelled`` turns true when the host cancelled this call; long-running
    sync tools should poll it (generators and ``async`` tools are stopped by
    the bridge itself). A host request waiting when the call is cancelled
    raises ``ToolCancelledError`` at once.

    Without a host connection (unit tests, ``--health-check``, a gRPC worker
    whose host gave no address) host requests raise ``HostToolError`` with
    code ``host_unavailable``.

    Two constructors: ours, ``SessionContext(session_id=None, request_metadata=None,
    request_id=None, host=None)``, and the original's, ``SessionContext(stub, session_id,
    request_metadata=None)`` (recognised by a ``stub`` keyword, a first argument that is
    not a session id, or a second argument that is one), which keeps ``stub`` as
    ``.stub`` and has no host connection. ``.stub`` is None for ours.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "stub" in kwargs or (args and not (args[0] is None or isinstance(args[0], str))) \
                or (len(args) > 1 and isinstance(args[1], str)):
            given = _bind(("stub", "session_id", "request_metadata"), args, kwargs)
            self._setup(given.get("session_id"), dict(given.get("request_metadata") or {}), None, None)
            self.stub = given.get("stub")
        else:
            given = _bind(("session_id", "request_metadata", "request_id", "host"), args, kwargs)
            self._setup(given.get("session_id"), given.get("request_metadata"), given.get("request_id"),
                        given.get("host"))

    @classmethod
    def for_call(cls, session_id: Optional[str], request_metadata: Optional[Dict[str, Any]],
                 request_id: Any, host: Any) -> "SessionContext":
        """The bridge's constructor for each call (no argument parsing)."""
        ctx = _new_object(cls)
        # ``_setup``'s stores, inline: this runs for every call (one Python frame less).
        ctx.session_id = session_id
        ctx.request_metadata = request_metadata if request_metadata is not None else {}
        ctx.request_id = request_id
        ctx._host = host
        return ctx

    # Defaults as class attributes: a context is made for every call, and most are never
    # cancelled, watched, or asked for host tools or state (each is set on the instance when it is).
    stub: Any = None
    # A plain bool: written by the reader thread, read by tools. A single
    # attribute store is atomic, so no lock is needed.
    _cancelled = False
    # Events of host requests waiting on behalf of this call; a cancel sets them (a list once one waits).
    _wakers: "list | tuple" = ()
    _host_tools: Optional["HostTools"] = None
    _state: Optional["SessionState"] = None

    def _setup(self, session_id: Optional[str], request_metadata: Optional[Dict[str, Any]],
               request_id: Any, host: Any) -> None:
        self.session_id = session_id
        self.request_metadata: Dict[str, Any] = request_metadata if request_metadata is not None else {}
        self.request_id = request_id
        self._host = host  # a host_channel.HostChannel, or None

    @property
    def cancelled(self) -> bool:
        """True once the host cancelled this call."""
        return self._cancelled

    def _mark_cancelled(self) -> None:
        self._cancelled = True
        # Register (append, then read the flag) and this (write the flag, then
        # read the list) are ordered by the GIL: one always sees the other.
        for event in tuple(self._wakers):
            event.set()

    def _watch_cancel(self, event: Any) -> Callable[[], None]:
        """Set ``event`` when this call is cancelled; returns the function that stops watching."""
        wakers = self.__dict__.setdefault("_wakers", [])  # atomic: two threads get the same list
        wakers.append(event)
        if self._cancelled:
            event.set()
        return functools.partial(wakers.remove, event)

    # -- requests to the host ----------------------------------------------------

    def _request(self, op: str, payload: Dict[str, Any], timeout_ms: Optional[int] = None) -> Any:
        host = self._host
        if host is None:
            raise HostToolError("this worker has no connection to the host", code=wire_errors.HOST_UNAVAILABLE)
        return host.request(op, self.request_id, payload, host.wait_bound(timeout_ms), self)

    def call_host_tool(self, name: str, args: Optional[Mapping[str, Any]] = None, /, *,
                       timeout_ms: Optional[int] = None, **kwargs: Any) -> Any:
        """Call the host tool ``name`` and return its value (blocking).

        Arguments are ``args`` (a map, so that a parameter named ``timeout_ms``
        can be passed too) merged with ``kwargs``; they travel as full values
        (maps, lists, bytes, big ints, numpy arrays). ``timeout_ms``: the host's
        limit for the tool (None: the host default, its ``hostToolTimeoutMs``,
        30 s unless configured); Python gives up itself 5 s after it
        (``host_tool_timeout``).

        Works from sync tools and from threads they start. In an ``async`` tool
        it blocks the event loop while waiting: use ``acall_host_tool`` there.

        Raises ``HostToolError`` (``.code``, ``.message``, ``.details``) when
        the host answers with an error, and ``ToolCancelledError`` when the
        call is cancelled while waiting.
        """
        if args is not None and not isinstance(args, Mapping):
            raise TypeError(f"args must be a map of arguments, not {type(args).__name__}")
        merged = dict(args) if args else {}
        merged.update(kwargs)
        if timeout_ms is not None:
            timeout_ms = int(timeout_ms)
            if timeout_ms < 0:
                raise ValueError("timeout_ms must not be negative")
            timeout_ms = timeout_ms or None  # 0 is gRPC's "unset": the host default either way
        return self._request("call", {"tool": name, "args": merged, "timeout_ms": timeout_ms}, timeout_ms)

    async def acall_host_tool(self, name: str, args: Optional[Mapping[str, Any]] = None, /, *,
                              timeout_ms: Optional[int] = None, **kwargs: Any) -> Any:
        """``call_host_tool`` for ``async`` tools: waits in a thread, the loop keeps running."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self.call_host_tool, name, args, timeout_ms=timeout_ms, **kwargs)
        return await loop.run_in_executor(None, call)

    # The original (Elixir) Snakepit's names: adapters written for it run unchanged.
    call_elixir_tool = call_host_tool

    @property
    def host_tools(self) -> "HostTools":
        """The host tools this call may use: name -> spec map, loaded on first use in a call."""
        tools = self._host_tools
        if tools is None:
            tools = self._host_tools = HostTools(self)
        return tools

    @property
    def elixir_tools(self) -> Mapping[str, Dict[str, Any]]:
        """``host_tools`` as the original had it: ``{}`` when the host cannot be asked."""
        try:
            tools = self.host_tools
            len(tools)  # loads the list now, so a failure shows here
            return tools
        except HostToolError:
            return {}

    @property
    def state(self) -> "SessionState":
        """The session's state, kept on the host (see ``SessionState``)."""
        state = self._state
        if state is None:
            state = self._state = SessionState(self)
        return state

    def _restore_state(self, state: Mapping[str, Any]) -> None:
        """Session restore: the state the host sent is this call's cached state."""
        self.state._cache = dict(state)

    def cleanup(self) -> None:
        """Forget what this context loaded (host tool list, cached state). Best effort, as in the
        original: the host owns sessions and ends them itself (TTL, ``Session.delete``)."""
        self._host_tools = None
        self._state = None

    def __enter__(self) -> "SessionContext":
        return self

    def __exit__(self, *exc: Any) -> bool:
        self.cleanup()
        return False

    def __repr__(self) -> str:
        return (
            f"SessionContext(session_id={self.session_id!r}, request_id={self.request_id!r}, "
            f"cancelled={self._cancelled})"
        )


def _bind(names: Tuple[str, ...], args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """Arguments by parameter name, as a call to a function with these parameters would bind them."""
    if len(args) > len(names):
        raise TypeError(f"SessionContext takes at most {len(names)} arguments ({len(args)} given)")
    given = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names:
            raise TypeError(f"SessionContext got an unexpected keyword argument {key!r}")
        if key in given:
            raise TypeError(f"SessionContext got multiple values for argument {key!r}")
        given[key] = value
    return given


class HostTools(Mapping):
    """Name -> spec of the host tools visible to the call (``{name, description, parameters}``).

    Loaded from the host on first use (``in``, ``[]``, iteration, ``len``,
    ``get``) and kept for the rest of the call; ``refresh()`` reloads.
    """

    def __init__(self, ctx: SessionContext) -> None:
        self._ctx = ctx
        self._specs: Optional[Dict[str, Dict[str, Any]]] = None

    def _load(self) -> Dict[str, Dict[str, Any]]:
        specs = self._specs
        if specs is None:
            listed = self._ctx._request("list", {}) or []
            specs = self._specs = {spec["name"]: spec for spec in listed
                                   if isinstance(spec, dict) and "name" in spec}
        return specs

    def refresh(self) -> None:
        """Forget the loaded list; the next use asks the host again."""
        self._specs = None

    def __getitem__(self, name: str) -> Dict[str, Any]:
        return self._load()[name]

    def __contains__(self, name: object) -> bool:
        return name in self._load()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._load()))

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return f"HostTools({sorted(self._specs) if self._specs is not None else '<not loaded>'})"


class SessionState(MutableMapping):
    """The session's state, a dict-like object kept on the host.

    The first read in a call fetches the whole state once and keeps it for
    the call; every write (``set``/``[k] = v``, ``delete``/``del``, ``clear``)
    goes to the host at once, one request each, so what was written before
    the worker dies is kept. Keys are strings; values are any wire value.
    A call without a session raises ``HostToolError`` code ``no_session``.
    """

    def __init__(self, ctx: SessionContext) -> None:
        self._ctx = ctx
        self._cache: Optional[Dict[str, Any]] = None

    def _request(self, payload: Dict[str, Any]) -> Any:
        if self._ctx.session_id is None:  # the host would say the same, a round trip later
            raise HostToolError("this call has no session, so no session state", code=wire_errors.NO_SESSION)
        return self._ctx._request("state", payload)

    def _load(self) -> Dict[str, Any]:
        cache = self._cache
        if cache is None:
            value = self._request({"action": "get_all"})
            cache = self._cache = dict(value) if isinstance(value, Mapping) else {}
        return cache

    @staticmethod
    def _check_key(key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(f"session state keys are strings, not {type(key).__name__}")
        return key

    def refresh(self) -> None:
        """Forget the cached state; the next read fetches it again."""
        self._cache = None

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` on the host (written through at once)."""
        self._request({"action": "set", "key": self._check_key(key), "value": value})
        if self._cache is not None:
            self._cache[key] = value

    def delete(self, key: str) -> None:
        """Remove ``key`` on the host; no error if it is not there."""
        self._request({"action": "delete", "key": self._check_key(key)})
        if self._cache is not None:
            self._cache.pop(key, None)

    def clear(self) -> None:
        """Remove every key (one request)."""
        self._request({"action": "clear"})
        self._cache = {}

    def to_dict(self) -> Dict[str, Any]:
        """A plain dict copy of the whole state."""
        return dict(self._load())

    def __getitem__(self, key: str) -> Any:
        return self._load()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value)

    def __delitem__(self, key: str) -> None:
        if key not in self._load():
            raise KeyError(key)
        self.delete(key)

    def __contains__(self, key: object) -> bool:
        return key in self._load()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._load()))

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return f"SessionState({self._cache!r})" if self._cache is not None else "SessionState(<not loaded>)"
