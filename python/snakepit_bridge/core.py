"""What every worker has whatever its transport: the adapter, its calls, shutdown and heartbeat.

The transports (``pipe.worker.PipeWorker``, ``grpc.worker.GrpcWorker``) only turn
their wire format into ``Call`` objects and back; the ``WorkerCore`` they share
holds the ``AdapterHost``, the ``CallTable``, the one ``ToolRunner``, the shutdown
path (SIGTERM/SIGINT, the pipe's ``shutdown`` frame and the gRPC ``Shutdown`` RPC
all end in ``WorkerCore.shutdown``) and the heartbeat watchdog.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Mapping, Optional

from . import thread_profile
from .adapter_host import AdapterHost
from .call_table import CallTable
from .heartbeat import HeartbeatSettings, Watchdog
from .process import hard_exit
from .shutdown import CLEANUP_TIMEOUT_S, Shutdown
from .tool_runner import ToolRunner

log = logging.getLogger("snakepit_bridge.server")


class WorkerCore:
    """One worker's adapter, calls, runner, shutdown path and watchdog."""

    def __init__(self, adapter_spec: str, concurrency: int, loop_threaded: bool,
                 worker_id: Optional[str] = None, thread_safety: str = "off",
                 heartbeat: Optional[Mapping[str, Any]] = None) -> None:
        self.worker_id = worker_id
        self.concurrency = concurrency
        self.adapter_host = AdapterHost(adapter_spec, concurrency, loop_threaded, thread_safety)
        self.calls = CallTable()
        # The transport's host channel (set by the worker before load()).
        self.host: Any = None
        self.runner: Optional[ToolRunner] = None
        # Transport resources to release after the adapter's cleanup() (a gRPC
        # server, its socket file); run on every orderly exit.
        self.on_exit: List[Callable[[], None]] = []
        self.shutdown = Shutdown(self._cleanup, self.calls.cancel_all, hard_exit)
        # Fed by whoever answers pings (pipe/control.py, grpc/servicer.py); off without the env vars.
        # ``heartbeat``: the original's --heartbeat-* flags, adjusting the host's settings.
        self.heartbeat = Watchdog(HeartbeatSettings.resolve(heartbeat), releases=self.on_exit)

    def load(self, on_host_gone: Callable[[], None]) -> None:
        """Load the adapter, prepare the thread profile, start the runner; raises on failure."""
        adapter = self.adapter_host
        tools = adapter.load(self.host)
        # Thread profile warnings (GIL, undeclared thread safety) and checks (may wrap the tools).
        tools = thread_profile.prepare(adapter, tools, self.on_exit)
        adapter.start_loop()
        self.runner = ToolRunner(adapter, tools, self.calls, on_host_gone)
        # The host pings from readiness on: a slow import/initialize is not silence.
        self.heartbeat.start()

    def describe(self) -> Dict[str, Any]:
        """The ``ready`` frame's fields (also the gRPC ``Describe`` answer)."""
        return self.adapter_host.describe()

    def _cleanup(self) -> None:
        self.heartbeat.stop()  # shutting down: the host stops pinging on purpose
        try:
            if self.adapter_host.adapter is not None:
                self.adapter_host.call_hook("cleanup", CLEANUP_TIMEOUT_S)
        finally:
            for release in self.on_exit:
                try:
                    release()
                except Exception:  # noqa: BLE001 - exiting anyway
                    log.debug("release on exit failed", exc_info=True)
