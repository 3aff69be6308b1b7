"""The standard gRPC health service (``grpc.health.v1``) of the container worker server.

Kubernetes' native gRPC probes (and any load balancer that speaks the
protocol) ask it. Three service names answer:

- ``""`` (the whole server) and ``snakepit.bridge.v1.BridgeService``: the
  readiness of the worker. ``NOT_SERVING`` while the adapter loads and from
  the start of a drain on; ``SERVING`` in between.
- ``liveness``: ``SERVING`` as long as the process answers at all, also
  while it loads and drains (a liveness probe must not kill a worker that is
  finishing its calls).

The servicer can be added to several servers: the main port (TLS or not)
and a plaintext health-only port (``--health-listen``), since the kubelet's
gRPC probe speaks no TLS.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from grpc_health.v1 import health, health_pb2, health_pb2_grpc

BRIDGE_SERVICE = "snakepit.bridge.v1.BridgeService"
LIVENESS_SERVICE = "liveness"
_READINESS = (health.OVERALL_HEALTH, BRIDGE_SERVICE)
_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class WorkerHealth:
    """The health servicer and the worker's three states: loading, serving, draining."""

    def __init__(self) -> None:
        # Watch streams are answered from their own small pool, never a call's thread.
        self.servicer = health.HealthServicer(
            experimental_non_blocking=True,
            experimental_thread_pool=ThreadPoolExecutor(2, thread_name_prefix="snakepit-health"))
        self.servicer.set(LIVENESS_SERVICE, _SERVING)
        self._set_readiness(_NOT_SERVING)

    def add_to(self, server: Any) -> None:
        """Serve ``grpc.health.v1.Health`` on ``server`` (before it starts)."""
        health_pb2_grpc.add_HealthServicer_to_server(self.servicer, server)

    def serving(self) -> None:
        """The adapter is loaded and the port is open: ready for calls."""
        self._set_readiness(_SERVING)

    def draining(self) -> None:
        """No new calls from now on; liveness stays ``SERVING``."""
        self._set_readiness(_NOT_SERVING)

    def _set_readiness(self, status: Any) -> None:
        for name in _READINESS:
            self.servicer.set(name, status)
