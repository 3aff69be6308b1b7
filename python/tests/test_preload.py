"""The adapter class's preload() hook: once per process, before any instance, sync or async."""
import logging

import pytest

from snakepit_bridge import preload
from snakepit_bridge.adapter_host import AdapterHost
from snakepit_bridge.base_adapter import BaseAdapter, tool


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch):
    monkeypatch.setattr(preload, "_done", set())
    monkeypatch.setattr(preload, "_warned", set())


def make_adapter(kind):
    calls = []

    class Adapter(BaseAdapter):
        if kind == "classmethod":
            @classmethod
            def preload(cls):
                calls.append(cls)
                cls.loaded = "weights"
        elif kind == "staticmethod":
            @staticmethod
            def preload():
                calls.append("static")
        elif kind == "async":
            @classmethod
            async def preload(cls):
                calls.append(cls)
                cls.loaded = "weights"

    return Adapter, calls


@pytest.mark.parametrize("kind", ["classmethod", "staticmethod", "async"])
def test_runs_once_per_process(kind):
    cls, calls = make_adapter(kind)
    assert preload.run_preload(cls) is True
    assert preload.run_preload(cls) is False
    assert len(calls) == 1


def test_an_adapter_without_the_hook_is_left_alone():
    cls, _ = make_adapter("none")
    assert preload.has_preload(cls) is False
    assert preload.run_preload(cls) is False


def test_an_instance_method_named_preload_is_not_run_and_is_reported_once(caplog):
    calls = []

    class Adapter(BaseAdapter):
        def preload(self):
            calls.append(self)

    with caplog.at_level(logging.WARNING, logger="snakepit_bridge.preload"):
        assert preload.run_preload(Adapter) is False
        assert preload.run_preload(Adapter) is False
    assert calls == []
    assert len([r for r in caplog.records if "preload" in r.getMessage()]) == 1


def test_a_tool_named_preload_is_no_hook_and_no_warning(caplog):
    class Adapter(BaseAdapter):
        @tool
        def preload(self):
            return 1

    with caplog.at_level(logging.WARNING, logger="snakepit_bridge.preload"):
        assert preload.run_preload(Adapter) is False
    assert caplog.records == []


def test_the_adapter_host_runs_it_before_the_instance_exists(monkeypatch):
    order = []

    class Adapter(BaseAdapter):
        @classmethod
        def preload(cls):
            order.append("preload")

        def __init__(self):
            super().__init__()
            order.append("instance")

        def initialize(self):
            order.append("initialize")

    monkeypatch.setattr("snakepit_bridge.adapter_host.resolve_adapter_class", lambda spec: Adapter)
    host = AdapterHost("x.Adapter", 1, loop_threaded=False)
    host.load(None)
    assert order == ["preload", "instance", "initialize"]
    # Already preloaded in this process (a forked worker's template ran it): not again.
    AdapterHost("x.Adapter", 1, loop_threaded=False).load(None)
    assert order.count("preload") == 1
