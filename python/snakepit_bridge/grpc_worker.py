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

from . import telemetry
from .control import ControlChannel
from .grpc_scheduling import MainThreadRunner
from .inbox import ThreadInbox
from .runtime import EXIT_ADAPTER_IMPORT, Runtime, hard_exit, set_parent_death_signal

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


def install_host_channel(runtime: Runtime, pb2: Any, pb2_grpc: Any) -> None:
    """Host requests and telemetry go to the host's ``HostService`` (addressed by its ``Describe``)."""
    from .grpc_host_channel import GrpcHostChannel
    from .host_stream import telemetry_sink

    # Until the host's Describe names its address, host requests fail (host_unavailable); calls
    # whose host opened a HostStream use that instead (host_stream.py).
    runtime.host = host = GrpcHostChannel(pb2, pb2_grpc)
    # Telemetry goes up the host's stream, else HostService.StreamTelemetry (batched; see telemetry.py).
    telemetry.install_sink(telemetry_sink(host, runtime.worker_id or ""))


def serve_forever(runner: Optional[MainThreadRunner]) -> None:
    """The main thread's life once serving: tool code (process profile) or waiting; the shutdown path exits."""
    if runner is not None:
        try:
            runner.serve_forever()
        except SystemExit as exc:  # a tool called sys.exit(): leave now, as over the pipe
            hard_exit(exc.code if isinstance(exc.code, int) else 1)
    forever = threading.Event()
    while True:
        forever.wait()


class GrpcWorker:
    def __init__(self, args: argparse.Namespace, control: bool) -> None:
        self.args = args
        # Process profile: tools and the asyncio loop on the main thread, as
        # over the pipe; thread profile: tools on gRPC threads, loop in its own.
        process_profile = args.max_concurrency == 1
        self.runner = MainThreadRunner() if process_profile else None
        self.runtime = Runtime(args.adapter, args.max_concurrency, loop_threaded=not process_profile,
                               worker_id=args.worker_id,
                               thread_safety=getattr(args, "thread_safety_check", "off"))
        self.runtime.remember_early_cancels()
        self.control: Optional[ControlChannel] = ControlChannel(self.runtime) if control else None
        self._owned_paths: list = []  # socket file / folder to remove on exit

    def run(self) -> None:
        runtime, control = self.runtime, self.control
        runtime.on_exit.append(self._remove_owned)
        if control is not None:
            control.prepare_fds()
        runtime.shutdown.install()  # SIGTERM/SIGINT from the host's stop() run cleanup()
        if control is not None:
            set_parent_death_signal()
            # Reads fd 3 from now on: pings are answered and a dead host is
            # noticed during a slow import/initialize too.
            ThreadInbox(control.reader, self._handle_frame, control.host_gone, control.read_failed).start()
        try:
            from . import codegen

            pb2, pb2_grpc = codegen.load()
            install_host_channel(runtime, pb2, pb2_grpc)
        except BaseException as exc:  # noqa: BLE001
            self._fatal(exc, "grpc_unavailable")
        try:
            runtime.load(self._host_gone)
        except BaseException as exc:  # noqa: BLE001 - report anything, even SystemExit
            self._fatal(exc, "adapter_import")
        try:
            from .grpc_transport import start_server

            listen = self._listen_address()
            self.server, address, _ = start_server(runtime, pb2, pb2_grpc, listen,
                                                   os.environ.get("SNAKEPIT_WORKER_TOKEN") or None,
                                                   self.runner)
            if address.startswith("unix:"):  # bound by us now: ours to remove on exit
                self._owned_paths.append(address[len("unix:"):])
        except BaseException as exc:  # noqa: BLE001
            self._fatal(exc, "listen_failed")
        if self.args.ready_file:
            write_ready_file(self.args.ready_file, {
                "address": address, "pid": os.getpid(), "worker_id": runtime.worker_id})
        if control is not None:
            control.send({"t": "ready", **runtime.describe(), "address": address})
        else:
            sys.stderr.write(f"snakepit_bridge.server: {runtime.adapter_spec} serving gRPC on {address}\n")
            sys.stderr.flush()
        log.info("worker %s ready on %s: %s (%d tools, concurrency %d)", runtime.worker_id, address,
                 runtime.adapter_spec, len(runtime.specs), runtime.concurrency)
        serve_forever(self.runner)

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

    def _handle_frame(self, frame: Dict[str, Any]) -> None:
        control = self.control
        assert control is not None
        if frame.get("t") == "call":
            control.unexpected_call(frame)
        else:
            control.handle_control(frame)

    def _host_gone(self) -> None:
        # Only the pipe sink raises BrokenPipeError out of the dispatcher; over gRPC nothing does.
        log.warning("dispatcher reported a broken pipe in gRPC mode; ignoring")

    def _fatal(self, exc: BaseException, code: str) -> None:
        if self.control is not None:
            self._remove_owned()
            self.control.fatal(exc, code)  # exits 3
        sys.stderr.write(f"snakepit_bridge.server: failed to start ({code}):\n")
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        self._remove_owned()
        hard_exit(EXIT_ADAPTER_IMPORT)
