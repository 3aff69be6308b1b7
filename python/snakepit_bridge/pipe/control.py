"""The host's pipes (fds 3/4) as the control channel every spawned worker has.

In pipe mode they carry calls too (``worker.PipeWorker`` routes ``call``,
``host_reply`` and ``session_cleanup`` on top of the routes here). In gRPC mode,
when the host spawned the worker, they carry only the life cycle: ``ready``
(with the bound ``address``) or ``fatal`` out, ``ping``/``cancel``/``shutdown``/
``telemetry_control`` in, and EOF on fd 3 meaning the host is gone.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Callable, Dict

from .. import telemetry, wire_errors
from ..errors import ProtocolError
from ..process import EXIT_ADAPTER_IMPORT, EXIT_OK, EXIT_PROTOCOL_ERROR, hard_exit
from . import frames
from .framing import FrameReader, FrameWriter, max_frame_bytes

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
    """Frame reader/writer on fds 3/4 and the control frames both modes answer.

    ``ROUTES``: frame type -> the method that handles it (``routes()`` binds them).
    """

    ROUTES = {"ping": "_on_ping", "cancel": "_on_cancel", "credit": "_on_credit",
              "shutdown": "_on_shutdown", "telemetry_control": "_on_telemetry_control"}

    def __init__(self, core: Any) -> None:
        self.core = core  # the worker's core.WorkerCore
        limit = max_frame_bytes()
        self.reader = FrameReader(READ_FD, limit)
        self.writer = FrameWriter(WRITE_FD, limit)

    def routes(self) -> Dict[str, Callable[[Any], Any]]:
        return {kind: getattr(self, name) for kind, name in self.ROUTES.items()}

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

    # -- inbound control frames (on the reading thread; they return no call) ----------

    def _on_ping(self, frame: Any) -> None:
        self.core.heartbeat.note_ping()
        self.writer.send(frames.pong(frame.get("id")))

    def _on_cancel(self, frame: Any) -> None:
        self.core.calls.cancel(frame.get("id"))

    def _on_credit(self, frame: Any) -> None:
        self.core.calls.grant(frame.get("id"), frame.get("n"))

    def _on_shutdown(self, frame: Any) -> None:
        self.core.shutdown.request()

    def _on_telemetry_control(self, frame: Any) -> None:
        telemetry.configure(frame)

    def on_unknown(self, frame: Any) -> None:
        log.warning("ignoring unknown frame type %r", frame.get("t"))

    # -- the worker's life ------------------------------------------------------------

    def fatal(self, exc: BaseException, code: str = wire_errors.ADAPTER_IMPORT) -> None:
        """Report a start-up failure as a ``fatal`` frame and exit 3."""
        err = wire_errors.startup_failure(exc, code)
        log.error("worker failed to start (%s): %s: %s", err["code"], type(exc).__name__, exc)
        try:
            self.send(frames.fatal(err))
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
        for release in self.core.on_exit:  # e.g. unlink the gRPC socket file
            try:
                release()
            except Exception:  # noqa: BLE001 - exiting anyway
                pass
        hard_exit(EXIT_OK)
