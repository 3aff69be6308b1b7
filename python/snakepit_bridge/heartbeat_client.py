"""The original's ``HeartbeatConfig`` and ``HeartbeatClient`` (imported from ``snakepit_bridge.heartbeat``).

Here liveness runs the other way: the host pings every worker and the worker's
watchdog (``heartbeat.Watchdog``) notices when it stops. ``HeartbeatConfig`` is the
original's settings object; the worker reads one from its ``--heartbeat-*`` flags
and ``SNAKEPIT_HEARTBEAT_CONFIG`` (JSON) to adjust its watchdog. ``HeartbeatClient``
keeps the original's client loop for code that drives a heartbeat RPC of its own:
``stub`` is any object with ``Heartbeat(request, timeout=..., metadata=...)`` (plain,
future-like or awaitable).
"""
from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import os
import random
import re
import signal
import time
import types
from typing import Any, Awaitable, Callable, Mapping, Optional

__all__ = ["HeartbeatConfig", "HeartbeatClient"]

log = logging.getLogger("snakepit_bridge.heartbeat")

_BOOLS = ("enabled", "dependent")


@dataclasses.dataclass(frozen=True)
class HeartbeatConfig:
    """Heartbeat settings with the original's fields and defaults."""

    enabled: bool = True
    interval_ms: int = 2_000
    timeout_ms: int = 10_000
    max_missed_heartbeats: int = 3
    initial_delay_ms: int = 0
    jitter_ms: int = 0
    dependent: bool = True

    @classmethod
    def from_mapping(cls, options: Optional[Mapping[str, Any]], *,
                     defaults: Optional["HeartbeatConfig"] = None) -> "HeartbeatConfig":
        """From a map (snake_case or camelCase keys; unknown keys ignored, values coerced)."""
        data = dataclasses.asdict(defaults or cls())
        for key, value in (options or {}).items():
            name = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), str(key)).lower()
            if name in data:
                data[name] = _coerce(name, value, data[name])
        return cls(**data)


def _coerce(name: str, value: Any, default: Any) -> Any:
    if name in _BOOLS:
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "t", "yes", "y", "on")
        return bool(value)
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    if name == "max_missed_heartbeats" and number < 0:
        return default
    return number


class HeartbeatClient:
    """The original's async heartbeat loop: ``Heartbeat`` every ``interval_ms`` (plus jitter), a miss
    per failed call, and at ``max_missed_heartbeats`` misses ``on_threshold_exceeded(missed)``
    (dependent default: SIGTERM to this process, ``os._exit(70)`` 5 s later)."""

    def __init__(self, stub: Any, session_id: str, config: Optional[HeartbeatConfig] = None, *,
                 loop: Optional[asyncio.AbstractEventLoop] = None,
                 on_threshold_exceeded: Optional[Callable[[int], Awaitable[None]]] = None) -> None:
        self._stub = stub
        self._session_id = session_id
        self._config = config or HeartbeatConfig()
        self._loop = loop
        default = self._terminate if self._config.dependent else None
        self._on_threshold_exceeded = on_threshold_exceeded or default
        self._task: Optional[asyncio.Task] = None
        self._running = False
        self._missed = 0
        self._last_ping: Optional[float] = None
        self._last_success: Optional[float] = None

    @property
    def config(self) -> HeartbeatConfig:
        return self._config

    def start(self) -> bool:
        """Schedule the loop on the running (or given) event loop; False when disabled or running."""
        if not self._config.enabled or self._running:
            return False
        loop = self._loop or _current_loop()
        if loop is None:
            log.warning("no event loop: cannot start the heartbeat client")
            return False
        self._running = True
        self._task = loop.create_task(self._run(), name="snakepit-heartbeat-client")
        return True

    async def stop(self) -> None:
        self._running = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    def status(self) -> Mapping[str, Any]:
        return {"enabled": self._config.enabled, "missed_heartbeats": self._missed,
                "last_ping_monotonic": self._last_ping, "last_success_monotonic": self._last_success,
                "running": self._running, "dependent": self._config.dependent}

    async def ping_once(self) -> Any:
        """One heartbeat now: the stub's response, or None (disabled, or the call failed)."""
        return await self._send_ping() if self._config.enabled else None

    async def _run(self) -> None:
        try:
            if self._config.initial_delay_ms > 0:
                await asyncio.sleep(self._config.initial_delay_ms / 1000)
            while self._running:
                await self._send_ping()
                jitter = random.uniform(0, self._config.jitter_ms / 1000) if self._config.jitter_ms > 0 else 0
                await asyncio.sleep(self._config.interval_ms / 1000 + jitter)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the loop ends, the worker carries on
            log.exception("heartbeat loop crashed")
        finally:
            self._running = False

    async def _send_ping(self) -> Any:
        from . import telemetry  # late: telemetry is not needed to build a config

        self._last_ping = time.monotonic()
        request = types.SimpleNamespace(session_id=self._session_id, client_time=time.time())
        try:
            call = self._stub.Heartbeat(request, timeout=max(self._config.timeout_ms, 0) / 1000,
                                        metadata=telemetry.outgoing_metadata())
            if inspect.isawaitable(call):
                response = await call
            elif callable(getattr(call, "result", None)):
                response = await asyncio.get_running_loop().run_in_executor(None, call.result)
            else:
                response = call
        except Exception as exc:  # noqa: BLE001 - a failed heartbeat is a miss
            log.warning("heartbeat for session %s failed: %s", self._session_id, exc)
        else:
            self._missed = 0
            self._last_success = time.monotonic()
            return response
        self._missed += 1
        if self._missed >= self._config.max_missed_heartbeats and self._on_threshold_exceeded is not None:
            try:
                await self._on_threshold_exceeded(self._missed)
            except Exception:  # noqa: BLE001
                log.exception("heartbeat threshold handler raised")
        return None

    async def _terminate(self, missed: int) -> None:
        log.error("heartbeat threshold exceeded for session %s (missed=%s); terminating", self._session_id, missed)
        loop = asyncio.get_running_loop()
        loop.call_soon(os.kill, os.getpid(), signal.SIGTERM)
        loop.call_later(5.0, os._exit, 70)


def _current_loop() -> Optional[asyncio.AbstractEventLoop]:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
