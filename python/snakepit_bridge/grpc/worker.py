"""``--transport grpc``: a worker serving ``BridgeService`` (docs/protocol.md, "gRPC mode").

Two ways to run:
- spawned by the host (fds 3/4 open): they are the control channel. The
  worker sends ``ready`` with an extra ``address`` once the server is serving
  (or ``fatal`` and exits 3), answers ``ping``, obeys ``shutdown`` and
  ``cancel``, and exits when fd 3 reaches EOF. Default address: a unix socket
  in a fresh private temporary folder.
- attached (no fds 3/4): started by someone else; serves until SIGTERM/SIGINT
  or the ``Shutdown`` RPC. Default address ``127.0.0.1:0`` (any free port);
  ``--ready-file`` tells a launcher where it listens.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import traceback
from typing import Any, Dict, Optional

from .. import telemetry, wire_errors
from ..core import WorkerCore
from ..pipe import frames
from ..pipe.control import ControlChannel
from ..pipe.inbox import ThreadInbox
from ..process import EXIT_ADAPTER_IMPORT, hard_exit, set_parent_death_signal
from .scheduling import MainThreadRunner

log = logging.getLogger("snakepit_bridge.server")


def write_ready_file(path: str, info: Dict[str, Any]) -> None:
    """Write JSON atomically: a reader sees nothing or the whole file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".ready-", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(info, f)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def install_host_channel(core: WorkerCore, pb2: Any, pb2_grpc: Any) -> None:
    """Host requests and telemetry go to the host's ``HostService`` (addressed by its ``Describe``)."""
    from .host_channel import GrpcHostChannel
    from .host_stream import telemetry_sink

    # Until the host's Describe names its address, host requests fail (host_unavailable); calls
    # whose host opened a HostStream use that instead (host_stream.py).
    core.host = host = GrpcHostChannel(pb2, pb2_grpc)
    # Telemetry goes up the host's stream, else HostService.StreamTelemetry (batched; see telemetry/host_backend.py).
    telemetry.install_sink(telemetry_sink(host, core.worker_id or ""))


def serve_forever(main_thread: Optional[MainThreadRunner]) -> None:
    """The main thread's life once serving: tool code (process profile) or waiting; the shutdown path exits."""
    if main_thread is not None:
        try:
            main_thread.serve_forever()
        except SystemExit as exc:  # a tool called sys.exit(): leave now, as over the pipe
            hard_exit(exc.code if isinstance(exc.code, int) else 1)
    forever = threading.Event()
    while True:
        forever.wait()


class GrpcWorker:
    """A worker serving ``BridgeService``; ``control``: the host spawned it (fds 3/4 open)."""

    def __init__(self, args: argparse.Namespace, control: bool) -> None:
        self.args = args
        # Process profile: tools and the asyncio loop on the main thread, as
        # over the pipe; thread profile: tools on gRPC threads, loop in its own.
        process_profile = args.max_concurrency == 1
        self.main_thread = MainThreadRunner() if process_profile else None
        self.core = WorkerCore(args.adapter, args.max_concurrency, loop_threaded=not process_profile,
                               worker_id=args.worker_id,
                               thread_safety=getattr(args, "thread_safety_check", "off"),
                               heartbeat=getattr(args, "heartbeat", None))
        self.core.calls.remember_early_cancels()
        self.control: Optional[ControlChannel] = ControlChannel(self.core) if control else None
        self._owned_paths: list = []  # socket file / folder to remove on exit

    def run(self) -> None:
        core, control = self.core, self.control
        core.on_exit.append(self._remove_owned)
        if control is not None:
            control.prepare_fds()
        core.shutdown.install()  # SIGTERM/SIGINT from the host's stop() run cleanup()
        if control is not None:
            set_parent_death_signal()
            # Reads fd 3 from now on: pings are answered and a dead host is
            # noticed during a slow import/initialize too.
            routes = {**control.routes(), "call": self._on_call_frame}
            ThreadInbox(control.reader, lambda frame: self._route(routes, frame),
                        control.host_gone, control.read_failed).start()
        try:
            from .. import codegen

            pb2, pb2_grpc = codegen.load()
            install_host_channel(core, pb2, pb2_grpc)
        except BaseException as exc:  # noqa: BLE001
            self._fatal(exc, wire_errors.GRPC_UNAVAILABLE)
        try:
            core.load(self._host_gone)
        except BaseException as exc:  # noqa: BLE001 - report anything, even SystemExit
            self._fatal(exc, wire_errors.ADAPTER_IMPORT)
        try:
            from .servicer import start_server

            listen = self._listen_address()
            self.server, address, _ = start_server(core, pb2, pb2_grpc, listen,
                                                   os.environ.get("SNAKEPIT_WORKER_TOKEN") or None,
                                                   self.main_thread)
            if address.startswith("unix:"):  # bound by us now: ours to remove on exit
                self._owned_paths.append(address[len("unix:"):])
        except BaseException as exc:  # noqa: BLE001
            self._fatal(exc, wire_errors.LISTEN_FAILED)
        spec = core.adapter_host.adapter_spec
        if self.args.ready_file:
            write_ready_file(self.args.ready_file, {
                "address": address, "pid": os.getpid(), "worker_id": core.worker_id})
        if control is not None:
            control.send(frames.ready({**core.describe(), "address": address}))
        else:
            sys.stderr.write(f"snakepit_bridge.server: {spec} serving gRPC on {address}\n")
            sys.stderr.flush()
        log.info("worker %s ready on %s: %s (%d tools, concurrency %d)", core.worker_id, address,
                 spec, len(core.adapter_host.specs), core.concurrency)
        serve_forever(self.main_thread)

    def _listen_address(self) -> str:
        listen = self.args.listen
        if listen:
            return listen
        if self.control is None:
            return "127.0.0.1:0"
        # Spawned by the host: a socket only we and our user can reach, with a
        # short path (sun_path holds ~100 bytes).
        folder = tempfile.mkdtemp(prefix="snakepit-")
        self._owned_paths.append(folder)
        return f"unix:{folder}/worker.sock"

    def _remove_owned(self) -> None:
        for path in self._owned_paths:
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass

    def _route(self, routes: Dict[str, Any], frame: Dict[str, Any]) -> None:
        route = routes.get(frame.get("t"))  # type: ignore[arg-type]
        if route is None:
            self.control.on_unknown(frame)  # type: ignore[union-attr]
        else:
            route(frame)

    def _on_call_frame(self, frame: Dict[str, Any]) -> None:
        """Calls go over gRPC: a ``call`` frame on the control pipe is answered with an error."""
        self.control.send(frames.error(frame.get("id"), wire_errors.wrong_transport()))  # type: ignore[union-attr]

    def _host_gone(self) -> None:
        # Only the pipe sink raises BrokenPipeError out of the tool runner; over gRPC nothing does.
        log.warning("the tool runner reported a broken pipe in gRPC mode; ignoring")

    def _fatal(self, exc: BaseException, code: str) -> None:
        """Report a start-up failure (``fatal`` frame, or stderr when attached) and exit 3."""
        code = getattr(exc, "startup_code", None) or code
        if self.control is not None:
            self._remove_owned()
            self.control.fatal(exc, code)  # exits 3
        sys.stderr.write(f"snakepit_bridge.server: failed to start ({code}):\n")
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        self._remove_owned()
        hard_exit(EXIT_ADAPTER_IMPORT)
