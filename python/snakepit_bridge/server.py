"""Worker entry point: ``python -m snakepit_bridge.server --adapter pkg.mod.Class``.

Threads (docs/protocol.md, "Execution model"):
- reader thread: blocking reads on fd 3; answers ``ping`` itself, marks
  cancellations itself, queues ``call`` frames; EOF means the host is gone.
- main thread: takes calls off a SimpleQueue in arrival order and runs them
  (process profile), or hands them to a thread pool (``--max-concurrency`` > 1).
  A SimpleQueue hand-off measured faster here than waking an asyncio loop
  with ``call_soon_threadsafe``; async tools still run on one persistent loop.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import os
import platform
import queue
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

from .base_adapter import build_tool_spec, discover_tool_names
from .dispatcher import Call, Dispatcher, format_traceback
from .errors import ProtocolError
from .pipe_transport import FrameReader, FrameWriter, max_frame_bytes

log = logging.getLogger("snakepit_bridge.server")

PROTOCOL_VERSION = 1
READ_FD, WRITE_FD = 3, 4
DEFAULT_ADAPTER = "snakepit_bridge.adapters.showcase.ShowcaseAdapter"
EXIT_OK, EXIT_ADAPTER_IMPORT, EXIT_PROTOCOL_ERROR = 0, 3, 4
CLEANUP_TIMEOUT_S = 2.0
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
        self.reader = FrameReader(READ_FD, limit)
        self.writer = FrameWriter(WRITE_FD, limit)
        self.calls: "queue.SimpleQueue[Call]" = queue.SimpleQueue()
        self.inflight: Dict[Any, Call] = {}
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.adapter: Any = None
        self.dispatcher: Optional[Dispatcher] = None
        self._shutting_down = False

    # -- start-up -----------------------------------------------------------

    def start(self) -> None:
        for fd in (READ_FD, WRITE_FD):
            os.set_blocking(fd, True)  # the host may hand us non-blocking ends
            os.set_inheritable(fd, False)  # children of tools must not hold them
        set_parent_death_signal()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        # Start reading before the adapter loads: pings are answered during a
        # slow import/initialize, and a dead host is noticed.
        threading.Thread(target=self._read_loop, name="snakepit-reader", daemon=True).start()
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
        get, execute = self.calls.get, self.dispatcher.execute  # type: ignore[union-attr]
        if self.concurrency == 1:
            while True:
                execute(get())
        # Thread profile: the loop runs in its own thread so async tools and
        # the pool's sync tools run side by side.
        threading.Thread(target=self.loop.run_forever, name="snakepit-asyncio", daemon=True).start()
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="snakepit-tool")
        while True:
            pool.submit(execute, get())

    def _read_loop(self) -> None:
        inflight, put = self.inflight, self.calls.put
        try:
            for frame in self.reader:
                kind = frame.get("t")
                if kind == "call":
                    call = Call(frame)
                    inflight[call.id] = call
                    put(call)
                elif kind == "ping":
                    self.writer.send({"t": "pong", "id": frame.get("id")})
                elif kind == "cancel":
                    call = inflight.get(frame.get("id"))
                    if call is not None:
                        call.cancel()
                elif kind == "shutdown":
                    self._request_shutdown()
                else:
                    log.warning("ignoring unknown frame type %r", kind)
        except ProtocolError as exc:
            log.error("protocol error, exiting: %s", exc)
            hard_exit(EXIT_PROTOCOL_ERROR)
        except BrokenPipeError:
            pass
        except Exception:
            log.exception("reader thread failed")
            hard_exit(EXIT_PROTOCOL_ERROR)
        self._host_gone()

    def _host_gone(self) -> None:
        # EOF on fd 3 (or a broken fd 4): nobody is listening, leave at once.
        log.info("host closed the pipe, exiting")
        hard_exit(EXIT_OK)

    # -- shutdown ------------------------------------------------------------------

    def _request_shutdown(self) -> None:
        """``shutdown`` frame: stop running calls, run cleanup on the main thread."""
        for call in list(self.inflight.values()):
            call.cancel()
        # The signal handler runs on the main thread even while a tool runs
        # there, so the same path serves SIGTERM and the shutdown frame.
        signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)  # type: ignore[arg-type]

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if self._shutting_down:
            return
        self._shutting_down = True
        log.info("signal %d: cleaning up and exiting", signum)
        for call in list(self.inflight.values()):
            call.cancel()
        # Bound the whole cleanup: a hanging cleanup() must not keep us alive.
        watchdog = threading.Timer(CLEANUP_TIMEOUT_S, hard_exit, (EXIT_OK,))
        watchdog.daemon = True
        watchdog.start()
        try:
            if self.adapter is not None:
                self._run_hook("cleanup", timeout=CLEANUP_TIMEOUT_S)
        except BaseException:  # noqa: BLE001 - we exit anyway
            log.exception("adapter cleanup failed")
        hard_exit(EXIT_OK)

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
            loop.run_until_complete(asyncio.wait_for(result, timeout))
        elif self.concurrency > 1:
            # Thread profile: the loop runs in its own thread; hand it over.
            asyncio.run_coroutine_threadsafe(result, loop).result(timeout)
        else:
            # A signal interrupted an async tool on the main thread's loop,
            # which cannot be re-entered: run the hook on a fresh loop aside.
            t = threading.Thread(target=asyncio.run, args=(result,), daemon=True)
            t.start()
            t.join(timeout)


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m snakepit_bridge.server``."""
    configure_logging()
    args = parse_args(argv)
    if args.unknown:
        log.debug("ignoring unknown arguments: %s", args.unknown)
    worker = Worker(args)
    worker.start()
    worker.serve()


if __name__ == "__main__":
    main()
