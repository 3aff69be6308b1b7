"""HTTP/2 keepalive of the worker's gRPC server, so dead peers are noticed in seconds, not TCP's minutes.

Both directions across a network:

- the host pings the worker (grpc-js keepalive at the pool's heartbeat
  cadence) to notice a dead pod or a partition while no answer is due. A
  gRPC server by default answers pings more often than every 5 minutes with
  GOAWAY ``too_many_pings``: these options accept them at any rate, with or
  without calls in flight (the host's heartbeat settings bound the rate);
- the worker pings its hosts every ``SNAKEPIT_KEEPALIVE_TIME_MS`` (10 s) and
  drops a connection whose ping is not answered within
  ``SNAKEPIT_KEEPALIVE_TIMEOUT_MS`` (5 s): the calls of a vanished host are
  cancelled (their RPCs end) and free the worker's capacity.
"""
from __future__ import annotations

from typing import Any, List, Tuple

from ..shm import env_int

DEFAULT_TIME_MS = 10_000
DEFAULT_TIMEOUT_MS = 5_000

__all__ = ["server_options"]


def server_options() -> List[Tuple[str, Any]]:
    """grpcio server options: accept the hosts' pings, ping the hosts."""
    return [
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 0),
        ("grpc.http2.max_ping_strikes", 0),  # 0: never GOAWAY a host for pinging often
        ("grpc.keepalive_time_ms", _setting("SNAKEPIT_KEEPALIVE_TIME_MS", DEFAULT_TIME_MS)),
        ("grpc.keepalive_timeout_ms", _setting("SNAKEPIT_KEEPALIVE_TIMEOUT_MS", DEFAULT_TIMEOUT_MS)),
    ]


def _setting(name: str, default: int) -> int:
    value = env_int(name, name.encode())
    return default if value is None else value
