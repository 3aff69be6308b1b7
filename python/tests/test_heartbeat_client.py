"""The original's HeartbeatConfig and HeartbeatClient (importable from snakepit_bridge.heartbeat)."""
import asyncio

import pytest

from snakepit_bridge import HeartbeatClient, HeartbeatConfig
from snakepit_bridge.heartbeat import HeartbeatClient as FromHeartbeat


def test_config_defaults_and_from_mapping():
    assert FromHeartbeat is HeartbeatClient
    assert HeartbeatConfig() == HeartbeatConfig(True, 2000, 10000, 3, 0, 0, True)
    config = HeartbeatConfig.from_mapping({"intervalMs": "500", "max_missed_heartbeats": -1, "dependent": "no",
                                           "unknown": 1, "timeout_ms": "soon"})
    assert (config.interval_ms, config.max_missed_heartbeats, config.dependent, config.timeout_ms) == (500, 3, False, 10000)
    assert HeartbeatConfig.from_mapping(None, defaults=config) == config


class Stub:
    def __init__(self, outcomes):
        self.outcomes = list(outcomes)
        self.requests = []

    def Heartbeat(self, request, timeout=None, metadata=None):
        self.requests.append((request.session_id, timeout))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def test_ping_once_counts_misses_and_calls_the_threshold_handler():
    reached = []

    async def on_threshold(missed):
        reached.append(missed)

    stub = Stub([RuntimeError("down"), RuntimeError("down"), "pong"])
    client = HeartbeatClient(stub, "s1", HeartbeatConfig(max_missed_heartbeats=2, timeout_ms=1500),
                             on_threshold_exceeded=on_threshold)

    async def run():
        return [await client.ping_once() for _ in range(3)]

    assert asyncio.run(run()) == [None, None, "pong"]
    assert reached == [2] and client.status()["missed_heartbeats"] == 0
    assert stub.requests == [("s1", 1.5)] * 3


def test_disabled_client_does_nothing():
    client = HeartbeatClient(Stub([]), "s", HeartbeatConfig(enabled=False))
    assert client.start() is False
    assert asyncio.run(client.ping_once()) is None


def test_loop_pings_until_stopped():
    stub = Stub(["pong"] * 100)
    client = HeartbeatClient(stub, "s", HeartbeatConfig(interval_ms=1, dependent=False))

    async def run():
        assert client.start() is True
        while len(stub.requests) < 3:
            await asyncio.sleep(0.001)
        await client.stop()
        return client.status()["running"]

    assert asyncio.run(asyncio.wait_for(run(), 10)) is False
