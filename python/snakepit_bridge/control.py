"""The host's pipes (fds 3/4) seen as a control channel.

In pipe mode they carry everything (``server.PipeWorker`` adds ``call``
frames on top of this). In gRPC mode, when the host spawned the worker, they
carry only the life cycle: ``ready`` (with the bound ``address``) or
``fatal`` out, ``ping``/``cancel``/``shutdown`` in, and EOF on fd 3 meaning
the host is gone.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Dict, Optional

from . import telemetry
from .errors import ProtocolError
from .pipe_transport import FrameReader, FrameWriter, max_frame_bytes
from .runtime import EXIT_ADAPTER_IMPORT, EXIT_OK, EXIT_PROTOCOL_ERROR, Runtime, hard_exit, startup_error

log = logging.getLogger("snakepit_bridge.server")

READ_FD, WRITE_FD = 3, 4


def control_fds_present() -> bool:
    """Whether fds 3 and 4 are open (the host spawned us with its pipes)."""
    for fd in (READ_FD, WRITE_FD):
        try:
            os.fstat(fd)
        except OSError:
            return False
    return True


class ControlChannel:
    """Frame reader/writer on fds 3/4 plus the control-frame handling both modes share."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        limit = max_frame_bytes()
        self.reader = FrameReader(READ_FD, limit)
        self.writer = FrameWriter(WRITE_FD, limit)

    @staticmethod
    def prepare_fds() -> None:
        for fd in (READ_FD, WRITE_FD):
            os.set_blocking(fd, True)  # the host may hand us non-blocking ends
            os.set_inheritable(fd, False)  # children of tools must not hold them

    def send(self, frame: Dict[str, Any]) -> None:
        try:
            self.writer.send(frame)
        except BrokenPipeError:
            self.host_gone()

    def handle_control(self, frame: Dict[str, Any]) -> None:
        """Answer ``ping``, mark ``cancel``, add ``credit``, start ``shutdown``; warn about anything else."""
        kind = frame.get("t")
        if kind == "ping":
            self.runtime.heartbeat.note_ping()
            self.writer.send({"t": "pong", "id": frame.get("id")})
        elif kind == "cancel":
            self.runtime.cancel(frame.get("id"))
        elif kind == "credit":
            self.runtime.grant(frame.get("id"), frame.get("n"))
        elif kind == "shutdown":
            self.runtime.shutdown.request()
        elif kind == "telemetry_control":
            telemetry.configure(frame)
        else:
            log.warning("ignoring unknown frame type %r", kind)

    def fatal(self, exc: BaseException, code: str = "adapter_import") -> None:
        """Report a start-up failure as a ``fatal`` frame and exit 3."""
        log.error("worker failed to start (%s): %s: %s", code, type(exc).__name__, exc)
        try:
            self.send({"t": "fatal", "error": startup_error(exc, code)})
        finally:
            hard_exit(EXIT_ADAPTER_IMPORT)

    def read_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ProtocolError):
            log.error("protocol error, exiting: %s", exc)
        else:
            log.error("reading fd %d failed: %s: %s", READ_FD, type(exc).__name__, exc)
        hard_exit(EXIT_PROTOCOL_ERROR)

    def host_gone(self) -> None:
        # EOF on fd 3 (or a broken fd 4): nobody is listening, leave at once.
        log.info("host closed the pipe, exiting")
        for release in self.runtime.on_exit:  # e.g. unlink the gRPC socket file
            try:
                release()
            except Exception:  # noqa: BLE001 - exiting anyway
                pass
        hard_exit(EXIT_OK)

    def unexpected_call(self, frame: Dict[str, Any]) -> Optional[Any]:
        """gRPC mode: calls go over gRPC, a ``call`` frame is answered with an error."""
        self.send({"t": "error", "id": frame.get("id"), "error": {
            "type": "ProtocolError", "message": "this worker serves calls over gRPC, not the pipe",
            "traceback": "", "code": "wrong_transport"}})
        return None
