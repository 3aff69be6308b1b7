"""What every worker does whatever its transport: host the adapter.

A ``Runtime`` imports and instantiates the adapter, runs its hooks
(``initialize``/``cleanup`` and, over gRPC, the session hooks), owns the
asyncio loop, the table of calls in flight and the one ``Dispatcher``, and
the shutdown path (SIGTERM/SIGINT, the pipe's ``shutdown`` frame, the gRPC
``Shutdown`` RPC all end up in ``Runtime.shutdown``). The transports
(``server.PipeWorker``, ``grpc_worker.GrpcWorker``) only turn their wire
format into ``Call`` objects and back.
"""
from __future__ import annotations

import asyncio
import collections
import importlib
import inspect
import logging
import os
import platform
import signal
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from . import thread_profile
from .base_adapter import build_tool_spec, discover_tool_names
from .dispatcher import Call, Dispatcher, format_traceback
from .heartbeat import HeartbeatSettings, Watchdog
from .session_context import SessionContext
from .shutdown import CLEANUP_TIMEOUT_S, Shutdown

log = logging.getLogger("snakepit_bridge.server")

PROTOCOL_VERSION = 1
DEFAULT_ADAPTER = "snakepit_bridge.adapters.showcase.ShowcaseAdapter"
EXIT_OK, EXIT_ADAPTER_IMPORT, EXIT_PROTOCOL_ERROR = 0, 3, 4
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "warn": logging.WARNING, "error": logging.ERROR, "none": logging.CRITICAL + 10}
_PARENT_PID = os.getppid()  # read as early as possible for the PDEATHSIG race check


def configure_logging() -> None:
    """Logs go to stderr at ``SNAKEPIT_LOG_LEVEL`` (default warning)."""
    level = _LEVELS.get(os.environ.get("SNAKEPIT_LOG_LEVEL", "warning").strip().lower(), logging.WARNING)
    from . import telemetry  # late: telemetry must not pull the runtime in

    telemetry.install_log_correlation()
    logging.basicConfig(stream=sys.stderr, level=level,
                        format="%(levelname)s %(name)s: %(message)s%(snakepit_corr)s")
    # Line-buffer stdout so adapters' print() reach the host's log promptly
    # even without PYTHONUNBUFFERED; stdout never carries protocol.
    try:
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    except Exception:
        pass


def set_parent_death_signal() -> None:
    """Linux: get SIGKILL when the host dies (best effort; only for workers the host spawned).

    SIGKILL, not SIGTERM: a dead host cannot wait for ``cleanup()``, and an adapter that ignores
    or blocks SIGTERM (or a C extension holding the GIL) must not outlive it. The orderly path,
    with ``cleanup()``, is the host's ``stop()``. Note the kernel sends it when the host *thread*
    that spawned us exits (for Node, the thread whose event loop ran the spawn).
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except Exception:
        return
    if os.getppid() != _PARENT_PID:  # the parent died before prctl took effect
        hard_exit(EXIT_OK)


def hard_exit(code: int) -> None:
    """Flush the log streams and leave now, without waiting for other threads."""
    if threading.current_thread() is not threading.main_thread():
        # Another thread may hold a stream's lock (blocked in print()):
        # never let a flush keep a worker of a dead host alive.
        timer = threading.Timer(0.5, os._exit, (code,))
        timer.daemon = True
        timer.start()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


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


def load_adapter(spec: str) -> Any:
    """Import the adapter class and instantiate it."""
    return resolve_adapter_class(spec)()


def startup_error(exc: BaseException, code: str) -> Dict[str, Any]:
    """The error map of a start-up failure (the ``fatal`` frame's ``error``)."""
    return {"type": type(exc).__name__, "message": str(exc),
            "traceback": format_traceback(exc), "code": code}


class EarlyCancels:
    """Cancels of call ids not (yet) known.

    Over gRPC, ``CancelTool`` and the ``ExecuteTool`` it names are separate
    RPCs handled by different threads, so the cancel can overtake its call
    (the host cancels right after sending). Its id is kept here and the call
    is born cancelled. Ids are unique per host connection, so a note for a
    call that already finished never matches again; notes expire after
    ``TTL_S`` and at most ``CAP`` are kept.
    """

    TTL_S = 60.0
    CAP = 4096

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._ids: "collections.OrderedDict[Any, float]" = collections.OrderedDict()

    def add(self, call_id: Any) -> None:
        now = time.monotonic()
        ids = self._ids
        ids[call_id] = now + self.TTL_S
        ids.move_to_end(call_id)
        while ids and (len(ids) > self.CAP or next(iter(ids.values())) < now):
            ids.popitem(last=False)

    def take(self, call_id: Any) -> bool:
        if not self._ids:  # the usual case: nothing noted
            return False
        deadline = self._ids.pop(call_id, None)
        return deadline is not None and deadline >= time.monotonic()


class Runtime:
    """The adapter, its loop, the calls in flight, the dispatcher, the shutdown path.

    ``loop_threaded``: the asyncio loop runs in its own thread (every gRPC
    worker, the pipe's thread profile); otherwise the pipe's main thread runs
    it around each async call. ``thread_safety``: ``off``, ``warn`` or
    ``strict`` (``thread_profile.checks_mode``).
    """

    def __init__(self, adapter_spec: str, concurrency: int, loop_threaded: bool,
                 worker_id: Optional[str] = None, thread_safety: str = "off") -> None:
        self.adapter_spec = adapter_spec
        self.concurrency = concurrency
        self.thread_safety = thread_safety
        self.loop_threaded = loop_threaded
        self.worker_id = worker_id
        self.inflight: Dict[Any, Call] = {}
        self._early: Optional[EarlyCancels] = None
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.adapter: Any = None
        # The transport's host_channel.HostChannel (set by the worker before load()).
        self.host: Any = None
        self.dispatcher: Optional[Dispatcher] = None
        self.specs: List[Dict[str, Any]] = []
        # Transport resources to release after the adapter's cleanup() (a gRPC
        # server, its socket file); run on every orderly exit.
        self.on_exit: List[Callable[[], None]] = []
        self.shutdown = Shutdown(self._cleanup, self.cancel_all, hard_exit)
        # Fed by whoever answers pings (control.py, grpc_transport.py); off without the env vars.
        self.heartbeat = Watchdog(HeartbeatSettings.from_env(), releases=self.on_exit)

    # -- start-up -----------------------------------------------------------

    def load(self, on_host_gone: Callable[[], None]) -> None:
        """Import + instantiate the adapter, run ``initialize()``; raises on failure."""
        self.adapter = load_adapter(self.adapter_spec)
        # initialize() is no call: its host requests go out with no call id
        # (global host tools only, no session state).
        self._set_context(SessionContext(None, {}, None, self.host))
        self.call_hook("initialize", None)
        tools = {name: getattr(self.adapter, name) for name in discover_tool_names(type(self.adapter))}
        get_tools = getattr(self.adapter, "get_tools", None)
        if callable(get_tools):
            self.specs = list(get_tools())
        else:
            self.specs = [build_tool_spec(name, fn) for name, fn in sorted(tools.items())]
        # Thread profile warnings (GIL, undeclared thread safety) and checks (may wrap the tools).
        tools = thread_profile.prepare(self, tools)
        if self.loop_threaded:
            # Started only now: initialize() above ran on the idle loop, so
            # resources it created belong to this same loop.
            threading.Thread(target=self.loop.run_forever, name="snakepit-asyncio", daemon=True).start()
        self.dispatcher = Dispatcher(self.adapter, tools, self.loop, self.inflight,
                                     threaded=self.loop_threaded, on_host_gone=on_host_gone,
                                     call_hook=self.call_hook)
        # The host pings from readiness on: a slow import/initialize is not silence.
        self.heartbeat.start()

    def describe(self) -> Dict[str, Any]:
        """The ``ready`` frame's fields (also the gRPC ``Describe`` answer)."""
        return {"protocol": PROTOCOL_VERSION, "pid": os.getpid(), "adapter": self.adapter_spec,
                "tools": self.specs, "python": platform.python_version(),
                "concurrency": self.concurrency, "runtime": thread_profile.runtime_info()}

    # -- calls ----------------------------------------------------------------

    def remember_early_cancels(self) -> None:
        """gRPC: a cancel may arrive before its call (see ``EarlyCancels``); keep it for then."""
        self._early = EarlyCancels()

    def cancel(self, call_id: Any) -> bool:
        """Cooperatively cancel a queued or running call; False if unknown."""
        early = self._early
        if early is None:  # pipe: a cancel frame always follows its call frame
            call = self.inflight.get(call_id)
            if call is None:
                return False
            call.cancel()
            return True
        with early.lock:  # keeps a concurrent register() from slipping between look-up and note
            call = self.inflight.get(call_id)
            if call is None:
                early.add(call_id)
                return False
        call.cancel()
        return True

    def grant(self, call_id: Any, n: Any) -> None:
        """Pipe flow control: the host's consumer took ``n`` chunks of stream ``call_id``."""
        call = self.inflight.get(call_id)
        flow = call.flow if call is not None else None
        if flow is not None and type(n) is int and n > 0:
            flow.grant(n)

    def register(self, call: Call) -> None:
        """Make a call known to ``cancel`` (gRPC), applying a cancel that came first."""
        early = self._early
        if early is None:
            self.inflight[call.id] = call
            return
        with early.lock:
            self.inflight[call.id] = call
            cancelled = early.take(call.id)
        if cancelled:
            call.cancel()

    def cancel_all(self) -> None:
        for call in list(self.inflight.values()):
            call.cancel()

    # -- hooks ------------------------------------------------------------------

    def _set_context(self, ctx: SessionContext) -> None:
        setter = getattr(self.adapter, "set_session_context", None)
        if callable(setter):
            setter(ctx)
        else:
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

    def _cleanup(self) -> None:
        self.heartbeat.stop()  # shutting down: the host stops pinging on purpose
        try:
            if self.adapter is not None:
                self.call_hook("cleanup", CLEANUP_TIMEOUT_S)
        finally:
            for release in self.on_exit:
                try:
                    release()
                except Exception:  # noqa: BLE001 - exiting anyway
                    log.debug("release on exit failed", exc_info=True)
