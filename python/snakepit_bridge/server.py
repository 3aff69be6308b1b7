"""Worker entry point: ``python -m snakepit_bridge.server --adapter pkg.mod.Class``.

Threads (docs/protocol.md, "Execution model"; details in ``inbox.py``):
- main thread: reads fd 3 while idle and runs calls one at a time in arrival
  order (process profile), or hands them to a thread pool
  (``--max-concurrency`` > 1, thread profile).
- watcher/reader thread: reads fd 3 whenever the main thread is busy, answers
  ``ping`` and marks cancellations itself, queues calls. EOF means the host
  is gone: exit at once.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import os
import platform
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

from .base_adapter import build_tool_spec, discover_tool_names
from .dispatcher import Call, Dispatcher, format_traceback
from .errors import ProtocolError
from .inbox import make_inbox
from .pipe_transport import FrameReader, FrameWriter, max_frame_bytes
from .shutdown import CLEANUP_TIMEOUT_S, Shutdown

log = logging.getLogger("snakepit_bridge.server")

PROTOCOL_VERSION = 1
READ_FD, WRITE_FD = 3, 4
DEFAULT_ADAPTER = "snakepit_bridge.adapters.showcase.ShowcaseAdapter"
EXIT_OK, EXIT_ADAPTER_IMPORT, EXIT_PROTOCOL_ERROR = 0, 3, 4
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "warn": logging.WARNING, "error": logging.ERROR, "none": logging.CRITICAL + 10}
_PARENT_PID = os.getppid()  # read as early as possible for the PDEATHSIG race check


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse our flags; unknown ones (e.g. ``--snakepit-run-id``) are ignored."""
    p = argparse.ArgumentParser(prog="snakepit_bridge.server", allow_abbrev=False)
    p.add_argument("--adapter", default=DEFAULT_ADAPTER)
    p.add_argument("--worker-id", default=None)
    p.add_argument("--run-id", default=None)
    # --max-workers: the original threaded server's name for the same thing.
    p.add_argument("--max-concurrency", "--max-workers", dest="max_concurrency", type=int, default=1)
    args, unknown = p.parse_known_args(argv)
    args.unknown = unknown
    args.max_concurrency = max(1, args.max_concurrency)
    return args


def configure_logging() -> None:
    """Logs go to stderr at ``SNAKEPIT_LOG_LEVEL`` (default warning)."""
    level = _LEVELS.get(os.environ.get("SNAKEPIT_LOG_LEVEL", "warning").strip().lower(), logging.WARNING)
    logging.basicConfig(stream=sys.stderr, level=level,
                        format="%(levelname)s %(name)s: %(message)s")
    # Line-buffer stdout so adapters' print() reach the host's log promptly
    # even without PYTHONUNBUFFERED; stdout never carries protocol.
    try:
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    except Exception:
        pass


def set_parent_death_signal() -> None:
    """Linux: get SIGTERM when the host dies (best effort)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
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


def load_adapter(spec: str) -> Any:
    """Import ``pkg.mod.Class`` (or ``pkg.mod:Class``) and instantiate it."""
    if ":" in spec:
        module_name, attr = spec.split(":", 1)
    else:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise ImportError(f"adapter must be 'package.module.Class', got {spec!r}")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    return target()


class Worker:
    """One worker process: owns the pipes, the adapter and the threads."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.concurrency = args.max_concurrency
        limit = max_frame_bytes()
        self.writer = FrameWriter(WRITE_FD, limit)
        self.inbox = make_inbox(FrameReader(READ_FD, limit), self._handle_frame,
                                self._host_gone, self._read_failed)
        self.inflight: Dict[Any, Call] = {}
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.adapter: Any = None
        self.dispatcher: Optional[Dispatcher] = None
        self.shutdown = Shutdown(self._cleanup, self._cancel_all, hard_exit)

    # -- start-up -----------------------------------------------------------

    def start(self) -> None:
        for fd in (READ_FD, WRITE_FD):
            os.set_blocking(fd, True)  # the host may hand us non-blocking ends
            os.set_inheritable(fd, False)  # children of tools must not hold them
        self.shutdown.install()  # before PDEATHSIG, whose SIGTERM it handles
        set_parent_death_signal()
        # Start-up counts as busy: the watcher answers pings during a slow
        # import/initialize, and a dead host is noticed.
        self.inbox.start()
        self.inbox.begin_busy()
        try:
            self.adapter = load_adapter(self.args.adapter)
            self._run_hook("initialize", timeout=None)
            tools = self._tool_table()
            specs = self._tool_specs(tools)
        except BaseException as exc:  # noqa: BLE001 - report anything, even SystemExit
            self._fatal(exc)
        self.dispatcher = Dispatcher(self.adapter, tools, self.writer, self.loop, self.inflight,
                                     threaded=self.concurrency > 1, on_host_gone=self._host_gone)
        self._send({
            "t": "ready", "protocol": PROTOCOL_VERSION, "pid": os.getpid(),
            "adapter": self.args.adapter, "tools": specs,
            "python": platform.python_version(), "concurrency": self.concurrency,
        })
        self.inbox.end_busy()
        log.info("worker %s ready: %s (%d tools, concurrency %d)", self.args.worker_id,
                 self.args.adapter, len(specs), self.concurrency)

    def _tool_table(self) -> Dict[str, Any]:
        return {name: getattr(self.adapter, name) for name in discover_tool_names(type(self.adapter))}

    def _tool_specs(self, tools: Dict[str, Any]) -> List[Dict[str, Any]]:
        get_tools = getattr(self.adapter, "get_tools", None)
        if callable(get_tools):
            return list(get_tools())
        return [build_tool_spec(name, fn) for name, fn in sorted(tools.items())]

    def _fatal(self, exc: BaseException) -> None:
        log.error("adapter %s failed to start: %s: %s", self.args.adapter, type(exc).__name__, exc)
        try:
            self._send({"t": "fatal", "error": {
                "type": type(exc).__name__, "message": str(exc),
                "traceback": format_traceback(exc), "code": "adapter_import",
            }})
        finally:
            hard_exit(EXIT_ADAPTER_IMPORT)

    def _send(self, frame: Dict[str, Any]) -> None:
        try:
            self.writer.send(frame)
        except BrokenPipeError:
            self._host_gone()

    # -- serving ----------------------------------------------------------------

    def serve(self) -> None:
        """Run calls forever (until the process exits)."""
        inbox, execute = self.inbox, self.dispatcher.execute  # type: ignore[union-attr]
        if self.concurrency == 1:
            next_call, begin, end = inbox.next_call, inbox.begin_busy, inbox.end_busy
            while True:
                call = next_call()
                begin()
                try:
                    execute(call)
                finally:
                    end()
        # Thread profile: the main thread only reads and dispatches; the loop
        # runs in its own thread so async tools and pool threads run side by side.
        threading.Thread(target=self.loop.run_forever, name="snakepit-asyncio", daemon=True).start()
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="snakepit-tool")
        while True:
            pool.submit(execute, inbox.next_call())

    def _handle_frame(self, frame: Dict[str, Any]) -> Optional[Call]:
        """Answer a control frame; return a ``Call`` for a call frame."""
        kind = frame.get("t")
        if kind == "call":
            call = Call(frame)
            self.inflight[call.id] = call  # registered now, so a cancel can find it queued
            return call
        if kind == "ping":
            self.writer.send({"t": "pong", "id": frame.get("id")})
        elif kind == "cancel":
            call = self.inflight.get(frame.get("id"))
            if call is not None:
                call.cancel()
        elif kind == "shutdown":
            self.shutdown.request()
        else:
            log.warning("ignoring unknown frame type %r", kind)
        return None

    def _read_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ProtocolError):
            log.error("protocol error, exiting: %s", exc)
        else:
            log.error("reading fd %d failed: %s: %s", READ_FD, type(exc).__name__, exc)
        hard_exit(EXIT_PROTOCOL_ERROR)

    def _host_gone(self) -> None:
        # EOF on fd 3 (or a broken fd 4): nobody is listening, leave at once.
        log.info("host closed the pipe, exiting")
        hard_exit(EXIT_OK)

    # -- shutdown ------------------------------------------------------------------

    def _cancel_all(self) -> None:
        for call in list(self.inflight.values()):
            call.cancel()

    def _cleanup(self) -> None:
        if self.adapter is not None:
            self._run_hook("cleanup", timeout=CLEANUP_TIMEOUT_S)

    def _run_hook(self, name: str, timeout: Optional[float]) -> None:
        """Call ``adapter.<name>()``, awaiting it on the worker loop if async."""
        hook = getattr(self.adapter, name, None)
        if not callable(hook):
            return
        result = hook()
        if not inspect.isawaitable(result):
            return
        loop = self.loop
        if not loop.is_running():
            # Idle loop (from whichever thread): run the hook on it, so
            # resources created by initialize() on this loop can be closed.
            loop.run_until_complete(asyncio.wait_for(result, timeout))
        elif self.concurrency > 1:
            # Thread profile: the loop runs in its own thread; hand it over.
            asyncio.run_coroutine_threadsafe(result, loop).result(timeout)
        else:
            # Shutdown came while an async tool runs on the main thread's
            # loop, which cannot be re-entered: use a fresh loop aside.
            t = threading.Thread(target=asyncio.run, args=(result,), daemon=True)
            t.start()
            t.join(timeout)


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m snakepit_bridge.server``."""
    configure_logging()
    args = parse_args(argv)
    if args.unknown:
        log.debug("ignoring unknown arguments: %s", args.unknown)
    for fd in (READ_FD, WRITE_FD):
        try:
            os.fstat(fd)
        except OSError:
            sys.stderr.write(
                f"snakepit_bridge.server: fd {fd} is not open. Workers are started by the "
                "Snakepit host, which passes the protocol pipes as fds 3 and 4 "
                "(docs/protocol.md).\n")
            sys.exit(2)
    worker = Worker(args)
    worker.start()
    worker.serve()


if __name__ == "__main__":
    main()
