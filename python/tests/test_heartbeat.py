"""The heartbeat watchdog: settings from the environment, the silence rule, and real workers."""
import os
import select
import subprocess
import time

import pytest

from snakepit_bridge.heartbeat import EXIT_HEARTBEAT_LOST, HeartbeatSettings, Watchdog

SHOWCASE = "snakepit_bridge.adapters.showcase.ShowcaseAdapter"
# Limit = 50 ms × 2 + 100 ms = 0.2 s of silence.
TINY = {"SNAKEPIT_HEARTBEAT_INTERVAL_MS": "50", "SNAKEPIT_HEARTBEAT_TIMEOUT_MS": "100",
        "SNAKEPIT_HEARTBEAT_MAX_MISSED": "2"}


# -- settings -------------------------------------------------------------------


def test_no_settings_without_the_environment():
    assert HeartbeatSettings.from_env({}) is None


def test_settings_from_the_environment():
    s = HeartbeatSettings.from_env({**TINY, "SNAKEPIT_HEARTBEAT_INITIAL_DELAY_MS": "30"})
    assert s == HeartbeatSettings(0.05, 0.1, 2, 0.03, True)
    assert s.silence_limit_s == pytest.approx(0.2)


@pytest.mark.parametrize("value,dependent", [("1", True), ("true", True), ("0", False), ("false", False), ("off", False)])
def test_dependent_flag(value, dependent):
    assert HeartbeatSettings.from_env({**TINY, "SNAKEPIT_HEARTBEAT_DEPENDENT": value}).dependent is dependent


@pytest.mark.parametrize("bad", [{"SNAKEPIT_HEARTBEAT_INTERVAL_MS": "soon"}, {"SNAKEPIT_HEARTBEAT_MAX_MISSED": "0"}])
def test_malformed_settings_turn_the_watchdog_off(bad):
    assert HeartbeatSettings.from_env({**TINY, **bad}) is None


# -- the silence rule (fake clock) ----------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def watchdog(**kw):
    clock, lost = Clock(), []
    settings = HeartbeatSettings(interval_s=1.0, timeout_s=2.0, max_missed=3, **kw)  # limit 5 s
    return Watchdog(settings, on_lost=lost.append, clock=clock), clock, lost


def test_silence_past_the_limit_is_reported_once():
    w, clock, lost = watchdog()
    assert not w.check(clock.now + 5.0)
    assert w.check(clock.now + 5.5)
    assert w.check(clock.now + 9.0)
    assert lost == [5.5]


def test_pings_reset_the_silence_and_a_new_silence_is_reported_again():
    w, clock, lost = watchdog()
    for _ in range(10):  # pinged every second for 10 s: never silent
        clock.now += 1.0
        w.note_ping()
        assert not w.check(clock.now + 0.5)
    assert w.check(clock.now + 6.0)
    clock.now += 7.0
    w.note_ping()
    assert not w.check(clock.now)
    assert w.check(clock.now + 6.0)
    assert len(lost) == 2


def test_initial_delay_counts_only_before_the_first_ping():
    w, clock, lost = watchdog(initial_delay_s=10.0)
    assert not w.check(clock.now + 14.0)
    w.note_ping()
    assert w.check(clock.now + 6.0)


def test_frozen_time_is_forgiven_and_a_stopped_watchdog_says_nothing():
    w, clock, lost = watchdog()
    w.forgive(clock.now + 20.0)
    assert not w.check(clock.now + 24.0)
    w.stop()
    assert not w.check(clock.now + 100.0)
    assert lost == []


def test_disabled_watchdog_never_fires():
    w = Watchdog(None)
    w.start()
    assert not w.enabled and not w.check(1e12)


# -- real workers -----------------------------------------------------------------------


def ping_for(w, seconds, every=0.03):
    """Ping (and wait for each pong) for ``seconds``."""
    deadline, n = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        n += 1
        w.send({"t": "ping", "id": n})
        assert w.recv_until(lambda f: f["t"] == "pong" and f["id"] == n, 5)
        time.sleep(every)  # the host's cadence, not synchronisation


def read_stderr_until(proc, needle, timeout=10.0):
    """stderr lines up to the first containing ``needle``; TimeoutError otherwise."""
    deadline, buf = time.monotonic() + timeout, b""
    fd = proc.stderr.fileno()
    while needle.encode() not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError(f"no {needle!r} on stderr; got {buf!r}")
        chunk = os.read(fd, 65536)
        if not chunk:
            raise EOFError(f"stderr closed; got {buf!r}")
        buf += chunk
    return buf.decode()


def test_dependent_worker_lives_while_pinged_and_exits_5_when_pings_stop(spawn):
    w = spawn(SHOWCASE, env=TINY, stderr=subprocess.DEVNULL)
    w.ready()
    ping_for(w, 0.6)  # three silence limits, pinged throughout
    assert w.proc.poll() is None
    assert w.wait(10) == EXIT_HEARTBEAT_LOST


def test_dependent_worker_exits_while_a_tool_runs(spawn):
    w = spawn("hang_adapter.HangAdapter", env=TINY, stderr=subprocess.DEVNULL)
    w.ready()
    w.call("hang")
    assert w.wait(10) == EXIT_HEARTBEAT_LOST


def test_independent_worker_warns_and_keeps_serving(spawn):
    w = spawn(SHOWCASE, env={**TINY, "SNAKEPIT_HEARTBEAT_DEPENDENT": "0"}, stderr=subprocess.PIPE)
    w.ready()
    assert "independent mode" in read_stderr_until(w.proc, "independent mode")
    assert w.proc.poll() is None
    w.send({"t": "ping", "id": 1})
    assert w.recv()["t"] == "pong"
    assert w.request("ping")["t"] == "result"


def test_shutdown_stands_the_watchdog_down(spawn):
    # cleanup() takes three silence limits: the worker must still exit 0, not 5.
    w = spawn("heartbeat_adapter.SlowCleanupAdapter", env={**TINY, "SNAKEPIT_TEST_SLOW_CLEANUP_MS": "600"})
    w.ready()
    w.send({"t": "shutdown"})
    assert w.wait(10) == 0


def test_no_watchdog_without_the_environment(spawn):
    w = spawn(SHOWCASE)
    w.ready()
    time.sleep(0.5)  # longer than TINY's limit: nothing may happen
    assert w.proc.poll() is None


def test_grpc_ping_feeds_the_watchdog(grpc_spawn):
    from grpc_harness import pb2

    w = grpc_spawn(SHOWCASE, env=TINY, stderr=subprocess.DEVNULL)
    w.ready()
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        w.stub.Ping(pb2.PingRequest(message="ping"), timeout=5)
        time.sleep(0.03)
    assert w.proc.poll() is None
    assert w.wait(10) == EXIT_HEARTBEAT_LOST


# -- the original's flags and SNAKEPIT_HEARTBEAT_CONFIG adjust the host's settings ---------------------

ENV = {"SNAKEPIT_HEARTBEAT_INTERVAL_MS": "100", "SNAKEPIT_HEARTBEAT_TIMEOUT_MS": "200"}


@pytest.mark.parametrize("overrides, environ, expected", [
    (None, ENV, HeartbeatSettings(0.1, 0.2, 3, 0.0, True)),
    ({"dependent": False}, ENV, HeartbeatSettings(0.1, 0.2, 3, 0.0, False)),
    ({"dependent": False}, {}, None),  # no settings from the host, not enabled: still off
    ({"enabled": True, "interval_ms": 50}, {}, HeartbeatSettings(0.05, 10.0, 3, 0.0, True)),
    ({"enabled": False}, ENV, None),
    ({"max_missed_heartbeats": 0}, ENV, None),
    (None, {**ENV, "SNAKEPIT_HEARTBEAT_CONFIG": '{"dependent": false, "maxMissedHeartbeats": 5}'},
     HeartbeatSettings(0.1, 0.2, 5, 0.0, False)),
    ({"dependent": True}, {**ENV, "SNAKEPIT_HEARTBEAT_CONFIG": '{"dependent": false}'}, HeartbeatSettings(0.1, 0.2, 3, 0.0, True)),
    (None, {**ENV, "SNAKEPIT_HEARTBEAT_CONFIG": "[1]"}, HeartbeatSettings(0.1, 0.2, 3, 0.0, True)),
])
def test_resolve(overrides, environ, expected):
    assert HeartbeatSettings.resolve(overrides, environ) == expected


def test_server_flags_become_overrides():
    from snakepit_bridge import server

    assert server.parse_args([]).heartbeat is None
    assert server.parse_args(["--heartbeat-independent"]).heartbeat == {"dependent": False}
    args = server.parse_args(["--heartbeat-enabled", "--heartbeat-interval-ms", "100", "--heartbeat-timeout-ms", "50",
                              "--heartbeat-max-missed", "4", "--heartbeat-initial-delay-ms", "7", "--heartbeat-dependent"])
    assert args.heartbeat == {"enabled": True, "interval_ms": 100, "timeout_ms": 50, "max_missed_heartbeats": 4,
                              "initial_delay_ms": 7, "dependent": True}


def test_an_independent_flag_keeps_a_silent_worker_alive(spawn):
    w = spawn("snakepit_bridge.adapters.showcase.ShowcaseAdapter", "--heartbeat-independent",
              env={"SNAKEPIT_HEARTBEAT_INTERVAL_MS": "20", "SNAKEPIT_HEARTBEAT_TIMEOUT_MS": "20",
                   "SNAKEPIT_HEARTBEAT_MAX_MISSED": "1"}, stderr=subprocess.PIPE)
    w.ready()
    # No pings: the limit (40 ms) passes many times over while this call runs; a dependent worker would exit 5.
    assert w.request("sleep", {"ms": 400})["t"] == "result"
    assert w.proc.poll() is None
