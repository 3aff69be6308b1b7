"""Worker entry point: ``python -m snakepit_bridge.server --adapter pkg.mod.Class``.

Two transports over the same ``Runtime``/``Dispatcher`` (docs/protocol.md):

- ``--transport pipe`` (default): fds 3/4 carry calls as frames.
  Threads (details in ``inbox.py``): the main thread reads fd 3 while idle and
  runs calls one at a time in arrival order (process profile), or hands them
  to a thread pool (``--max-concurrency`` > 1, thread profile); a watcher
  thread reads fd 3 while the main thread is busy, answers ``ping`` and marks
  cancellations itself, hands ``host_reply`` frames to the thread waiting for
  them (``host_channel.py``), queues calls. EOF means the host is gone.
- ``--transport grpc``: a gRPC ``BridgeService`` (``grpc_worker.py``); fds
  3/4, when present, are only the control channel.
"""
from __future__ import annotations

import argparse
import logging
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

from .control import ControlChannel, control_fds_present
from .dispatcher import Call
from .host_channel import PipeHostChannel
from . import telemetry
from .inbox import make_inbox
from .pipe_transport import PipeReplies
from .runtime import DEFAULT_ADAPTER, Runtime, configure_logging, resolve_adapter_class, set_parent_death_signal
from .thread_profile import checks_mode

log = logging.getLogger("snakepit_bridge.server")


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse our flags; unknown ones (e.g. ``--snakepit-run-id``) are ignored."""
    p = argparse.ArgumentParser(prog="snakepit_bridge.server", allow_abbrev=False)
    p.add_argument("--adapter", default=DEFAULT_ADAPTER)
    p.add_argument("--worker-id", default=None)
    p.add_argument("--run-id", default=None)
    # --max-workers: the original threaded server's name for the same thing.
    p.add_argument("--max-concurrency", "--max-workers", dest="max_concurrency", type=int, default=1)
    # The original threaded server's flag; without it SNAKEPIT_THREAD_SAFETY_CHECKS decides.
    p.add_argument("--thread-safety-check", nargs="?", const="warn", default=None,
                   choices=("warn", "strict", "off"),
                   help="thread profile: runtime thread-safety checks (warn, the default, or strict)")
    p.add_argument("--transport", choices=("pipe", "grpc"), default=None,
                   help="pipe (default) or grpc; --listen/--port imply grpc")
    p.add_argument("--listen", default=None,
                   help="gRPC address: unix:/path.sock or host:port (port 0: any free port)")
    # The original gRPC server's flags: --port N (and --host H) mean --listen H:N.
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--host", default=None)
    p.add_argument("--ready-file", default=None,
                   help="gRPC: write {address, pid, worker_id} as JSON here once serving")
    p.add_argument("--health-check", action="store_true",
                   help="import the adapter, print OK (exit 0) or the traceback (exit 1)")
    args, unknown = p.parse_known_args(argv)
    args.unknown = unknown
    args.max_concurrency = max(1, args.max_concurrency)
    args.thread_safety_check = checks_mode(args.thread_safety_check)
    if args.listen is None and (args.port is not None or args.host is not None):
        host = args.host or "127.0.0.1"
        args.listen = f"[{host}]:{args.port or 0}" if ":" in host else f"{host}:{args.port or 0}"
    if args.transport is None:
        args.transport = "grpc" if args.listen is not None else "pipe"
    return args


class PipeWorker:
    """Pipe mode: fds 3/4 carry calls as well as control frames."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.concurrency = args.max_concurrency
        self.runtime = Runtime(args.adapter, self.concurrency, loop_threaded=self.concurrency > 1,
                               worker_id=args.worker_id, thread_safety=args.thread_safety_check)
        self.control = ControlChannel(self.runtime)
        self.replies = PipeReplies(self.control.writer)
        # Telemetry batches share fd 4 with the answers (a call's events go out before its answer).
        writer = self.control.writer
        telemetry.install_sink(lambda events: writer.send({"t": "telemetry", "events": events}))
        # Host requests share fd 4 with the answers; their replies come on fd 3.
        self.host = self.runtime.host = PipeHostChannel(self.control.writer)
        self.inbox = make_inbox(self.control.reader, self._handle_frame,
                                self._host_gone, self.control.read_failed)
        # A busy main thread that writes (a host request, a chunk) may wait for input next.
        writer.on_write = self.inbox.watch_now

    def start(self) -> None:
        runtime, control = self.runtime, self.control
        control.prepare_fds()
        runtime.shutdown.install()  # SIGTERM/SIGINT from the host's stop() run cleanup()
        set_parent_death_signal()
        # Start-up counts as busy: the watcher answers pings during a slow
        # import/initialize, and a dead host is noticed.
        self.inbox.start()
        self.inbox.begin_busy()
        try:
            runtime.load(self._host_gone)
        except BaseException as exc:  # noqa: BLE001 - report anything, even SystemExit
            control.fatal(exc)
        control.send({"t": "ready", **runtime.describe()})
        self.inbox.end_busy()
        log.info("worker %s ready: %s (%d tools, concurrency %d)", runtime.worker_id,
                 runtime.adapter_spec, len(runtime.specs), self.concurrency)

    def serve(self) -> None:
        """Run calls forever (until the process exits)."""
        inbox, execute = self.inbox, self.runtime.dispatcher.execute  # type: ignore[union-attr]
        if self.concurrency == 1:
            next_call, begin, end = inbox.next_call, inbox.begin_busy, inbox.end_busy
            # Each call's last frame leaves once this thread is back at reading (PipeReplies).
            replies = self.replies
            replies.hold_final(threading.get_ident())
            release = replies.release_final
            while True:
                call = next_call()
                begin()
                try:
                    execute(call)
                finally:
                    end()
                    try:
                        release()
                    except BrokenPipeError:
                        self._host_gone()
        # Thread profile: the main thread only reads and dispatches; the loop
        # runs in its own thread (Runtime.load) so async tools and pool threads
        # run side by side.
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="snakepit-tool")
        while True:
            pool.submit(execute, inbox.next_call())

    def _handle_frame(self, frame: Dict[str, Any]) -> Optional[Call]:
        """Answer a control frame, deliver a host reply; return a ``Call`` for the executor."""
        kind = frame.get("t")
        if kind == "call":
            call = Call.from_frame(frame, self.replies, self.host)
        elif kind == "host_reply":
            self.host.deliver(frame)  # wakes the thread waiting for it
            return None
        elif kind == "session_cleanup":  # runs like a call: in order, on the executor
            call = Call.session_cleanup(frame, self.replies, self.host)
        else:
            self.control.handle_control(frame)
            return None
        self.runtime.inflight[call.id] = call  # registered now, so a cancel can find it queued
        return call

    def _host_gone(self) -> None:
        self.host.close()  # release threads waiting for host replies
        self.control.host_gone()


def health_check(args: argparse.Namespace) -> int:
    """Import the adapter class (and the gRPC stubs for --transport grpc) without serving."""
    try:
        resolve_adapter_class(args.adapter)
        if args.transport == "grpc":
            from . import codegen

            codegen.load()
    except BaseException:  # noqa: BLE001 - report anything, even SystemExit
        traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
        return 1
    print("OK", flush=True)
    return 0


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m snakepit_bridge.server``."""
    configure_logging()
    args = parse_args(argv)
    if args.unknown:
        log.debug("ignoring unknown arguments: %s", args.unknown)
    if args.health_check:
        sys.exit(health_check(args))
    if args.transport == "grpc":
        from .grpc_worker import GrpcWorker

        GrpcWorker(args, control=control_fds_present()).run()
        return
    if not control_fds_present():
        sys.stderr.write(
            "snakepit_bridge.server: fds 3/4 are not open. Pipe workers are started by the "
            "Snakepit host, which passes the protocol pipes as fds 3 and 4 "
            "(docs/protocol.md); use --transport grpc --listen ADDRESS for a worker of your own.\n")
        sys.exit(2)
    worker = PipeWorker(args)
    worker.start()
    worker.serve()


if __name__ == "__main__":
    main()
