"""Python's side of the heartbeat: a watchdog that notices when the host stops pinging.

The host pings every worker (pipe ``ping`` frame or gRPC ``Ping``) every
``interval`` ms. Every ping answered is recorded here (one attribute store,
from the thread that answers it). A ``snakepit-heartbeat`` thread checks the
silence since the last ping; past ``interval × max_missed + timeout`` ms the
host has stopped asking (hung, SIGSTOPped, or gone without closing the pipe):

- dependent (default): log an error and exit with code 5 (``EXIT_HEARTBEAT_LOST``)
  at once, without the adapter's ``cleanup()``, as on EOF of the control pipe;
- independent: log a warning once per silence and keep serving (debugging).

Settings come from the environment the host sets at spawn
(``SNAKEPIT_HEARTBEAT_INTERVAL_MS``, ``_TIMEOUT_MS``, ``_MAX_MISSED``,
``_INITIAL_DELAY_MS``, ``_DEPENDENT``); without them (heartbeats off, or a
worker started by hand) the watchdog does nothing. The original's flags
(``--heartbeat-enabled``, ``--heartbeat-interval-ms``, ``--heartbeat-timeout-ms``,
``--heartbeat-max-missed``, ``--heartbeat-initial-delay-ms``,
``--heartbeat-dependent``/``--heartbeat-independent``) and its
``SNAKEPIT_HEARTBEAT_CONFIG`` (JSON) adjust them (``HeartbeatSettings.resolve``).

The original's ``HeartbeatConfig`` and ``HeartbeatClient`` are importable from here
(``heartbeat_client.py``).

A process frozen as a whole (a C call holding the GIL, SIGSTOP) cannot answer
pings, but its watchdog cannot run either: when the watchdog wakes up much
later than it asked to, the frozen time is not counted as the host's silence,
so the pings that piled up meanwhile get answered before anyone gives up.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

from .heartbeat_client import HeartbeatClient, HeartbeatConfig

log = logging.getLogger("snakepit_bridge.heartbeat")

EXIT_HEARTBEAT_LOST = 5

ENV_INTERVAL_MS = "SNAKEPIT_HEARTBEAT_INTERVAL_MS"
ENV_TIMEOUT_MS = "SNAKEPIT_HEARTBEAT_TIMEOUT_MS"
ENV_MAX_MISSED = "SNAKEPIT_HEARTBEAT_MAX_MISSED"
ENV_INITIAL_DELAY_MS = "SNAKEPIT_HEARTBEAT_INITIAL_DELAY_MS"
ENV_DEPENDENT = "SNAKEPIT_HEARTBEAT_DEPENDENT"
ENV_CONFIG = "SNAKEPIT_HEARTBEAT_CONFIG"  # the original's JSON form

# A wake-up this much later than asked (beyond one check period) means the
# process was frozen, not that the host went quiet.
FROZEN_SLACK_S = 0.5


@dataclass(frozen=True)
class HeartbeatSettings:
    """What the host promised: a ping every ``interval_s``, each allowed ``timeout_s``."""

    interval_s: float
    timeout_s: float
    max_missed: int
    initial_delay_s: float = 0.0
    dependent: bool = True

    @property
    def silence_limit_s(self) -> float:
        """Silence after which the host counts as gone: ``interval × max_missed + timeout``."""
        return self.interval_s * self.max_missed + self.timeout_s

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Optional["HeartbeatSettings"]:
        """The settings in the environment, or None when heartbeats are off or the values are bad."""
        env = os.environ if environ is None else environ
        if ENV_INTERVAL_MS not in env:
            return None
        try:
            interval = int(env[ENV_INTERVAL_MS])
            timeout = int(env.get(ENV_TIMEOUT_MS, "10000"))
            max_missed = int(env.get(ENV_MAX_MISSED, "3"))
            initial = int(env.get(ENV_INITIAL_DELAY_MS, "0"))
        except ValueError:
            log.warning("ignoring malformed SNAKEPIT_HEARTBEAT_* settings; heartbeat watchdog off")
            return None
        if interval <= 0 or timeout <= 0 or max_missed <= 0 or initial < 0:
            log.warning("ignoring out-of-range SNAKEPIT_HEARTBEAT_* settings; heartbeat watchdog off")
            return None
        dependent = env.get(ENV_DEPENDENT, "1").strip().lower() not in ("0", "false", "no", "off")
        return cls(interval / 1000, timeout / 1000, max_missed, initial / 1000, dependent)

    @classmethod
    def resolve(cls, overrides: Optional[Mapping[str, Any]] = None,
                environ: Optional[Mapping[str, str]] = None) -> Optional["HeartbeatSettings"]:
        """The environment's settings adjusted by ``SNAKEPIT_HEARTBEAT_CONFIG`` (JSON) and then
        ``overrides`` (the original's ``--heartbeat-*`` flags, ``HeartbeatConfig`` keys). Without
        the environment's settings the watchdog stays off unless they say ``enabled``."""
        env = os.environ if environ is None else environ
        base = cls.from_env(env)
        options: dict = {}
        raw = env.get(ENV_CONFIG)
        if raw:
            try:
                loaded = json.loads(raw)
            except ValueError:
                loaded = None
            if isinstance(loaded, dict):
                options.update(loaded)
            else:
                log.warning("ignoring %s: not a JSON object", ENV_CONFIG)
        options.update(overrides or {})
        if not options:
            return base
        defaults = HeartbeatConfig(enabled=False) if base is None else HeartbeatConfig(
            True, round(base.interval_s * 1000), round(base.timeout_s * 1000), base.max_missed,
            round(base.initial_delay_s * 1000), 0, base.dependent)
        config = HeartbeatConfig.from_mapping(options, defaults=defaults)
        if not config.enabled:
            return None
        if config.interval_ms <= 0 or config.timeout_ms <= 0 or config.max_missed_heartbeats <= 0:
            log.warning("ignoring out-of-range heartbeat settings %s; heartbeat watchdog off", options)
            return None
        return cls(config.interval_ms / 1000, config.timeout_ms / 1000, config.max_missed_heartbeats,
                   max(config.initial_delay_ms, 0) / 1000, config.dependent)


class Watchdog:
    """Records pings; ``check()`` decides, the thread started by ``start()`` calls it.

    ``on_lost(silence_s)`` runs once per silence; the default logs and, in
    dependent mode, runs ``releases`` (e.g. ``WorkerCore.on_exit``: the gRPC
    socket file) and exits the process.
    """

    def __init__(self, settings: Optional[HeartbeatSettings],
                 on_lost: Optional[Callable[[float], None]] = None,
                 clock: Callable[[], float] = time.monotonic,
                 releases: Sequence[Callable[[], None]] = ()) -> None:
        self.settings = settings
        self._clock = clock
        self._on_lost = on_lost or self._default_on_lost
        self._releases = releases
        self._last = clock()
        self._seen_ping = False  # before the first ping the host may wait initial_delay more
        self._reported_for: Optional[float] = None  # the `_last` whose silence was reported
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    @property
    def enabled(self) -> bool:
        return self.settings is not None

    def note_ping(self) -> None:
        """A ping was answered: the host is there. Cheap; called from the answering thread."""
        self._last = self._clock()
        self._seen_ping = True

    def check(self, now: float) -> bool:
        """Whether the silence at ``now`` is past the limit; calls ``on_lost`` once per silence."""
        settings = self.settings
        if settings is None or self._stop.is_set():
            return False
        last = self._last
        limit = settings.silence_limit_s + (0.0 if self._seen_ping else settings.initial_delay_s)
        silence = now - last
        if silence <= limit:
            return False
        if self._reported_for != last:
            self._reported_for = last
            self._on_lost(silence)
        return True

    def forgive(self, now: float) -> None:
        """Do not count the time up to ``now`` as silence (the process was frozen)."""
        self._last = max(self._last, now)

    def start(self) -> None:
        """Start the clock (from now) and the checking thread; no-op when disabled or started."""
        if self.settings is None or self._thread is not None:
            return
        self._last = self._clock()
        self._thread = threading.Thread(target=self._run, name="snakepit-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stand down for good (shutdown in progress: the host stopped pinging on purpose)."""
        self._stop.set()

    def _run(self) -> None:
        settings = self.settings
        assert settings is not None
        # A few checks per limit, so the verdict comes soon after the limit passes.
        period = max(0.005, min(settings.interval_s, settings.silence_limit_s / 4))
        clock = self._clock
        before = clock()
        while not self._stop.wait(period):
            now = clock()
            if now - before > period + max(period, FROZEN_SLACK_S):
                self.forgive(now)
            before = now
            self.check(now)

    def _default_on_lost(self, silence_s: float) -> None:
        settings = self.settings
        assert settings is not None
        if not settings.dependent:
            log.warning("no heartbeat from the host for %.1f s (limit %.1f s); independent mode: "
                        "staying alive", silence_s, settings.silence_limit_s)
            return
        log.error("no heartbeat from the host for %.1f s (limit %.1f s): exiting with code %d",
                  silence_s, settings.silence_limit_s, EXIT_HEARTBEAT_LOST)
        for release in self._releases:
            try:
                release()
            except Exception:  # noqa: BLE001 - exiting anyway
                pass
        exit_now(EXIT_HEARTBEAT_LOST)


def exit_now(code: int) -> None:
    """Flush logs and leave (``process.hard_exit``)."""
    from .process import hard_exit

    hard_exit(code)
