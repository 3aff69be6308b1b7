"""ThreadSafeAdapter and @thread_safe_method (base_adapter_threaded), and the guide's race example."""
import asyncio
import threading

import pytest

from snakepit_bridge.base_adapter import BaseAdapter, build_tool_spec, discover_tool_names
from snakepit_bridge.base_adapter_threaded import (
    ThreadSafeAdapter, require_thread_safe, thread_safe_method, tool, validate_thread_safety)
from snakepit_bridge.thread_safety_checker import ThreadSafetyChecker
from thread_adapter import RaceAdapter

JOIN_S = 10


def run_threads(target, n, *args):
    threads = [threading.Thread(target=target, args=args) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_S)
        assert not t.is_alive()


class Overlapping(ThreadSafeAdapter):
    """Every call waits at a barrier: `parties` calls are provably inside at once."""

    def __init__(self, parties):
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=JOIN_S)

    @thread_safe_method
    @tool(description="meet")
    def meet(self, x: int = 0) -> int:
        self.barrier.wait()
        return x


def test_declares_thread_safety():
    assert ThreadSafeAdapter.__thread_safe__ is True
    assert validate_thread_safety(ThreadSafeAdapter)
    assert not validate_thread_safety(BaseAdapter)


def test_lock_is_reentrant_and_known_to_its_holder():
    a = ThreadSafeAdapter()
    assert not a.holds_lock()
    with a.acquire_lock():
        with a.acquire_lock():
            assert a.holds_lock()
        assert a.holds_lock()
    assert not a.holds_lock()
    seen = []
    with a.acquire_lock():
        run_threads(lambda: seen.append(a.holds_lock()), 1)
    assert seen == [False]  # another thread does not hold it


def test_thread_local_values_are_per_thread():
    a = ThreadSafeAdapter()
    a.set_thread_local("k", "main")
    other = {}

    def work():
        other["before"] = a.get_thread_local("k", "unset")
        a.set_thread_local("k", "worker")
        other["after"] = a.get_thread_local("k")

    run_threads(work, 1)
    assert other == {"before": "unset", "after": "worker"}
    assert a.get_thread_local("k") == "main"
    a.set_thread_local("j", 1)
    a.clear_thread_local("k")
    assert a.get_thread_local("k") is None and a.get_thread_local("j") == 1
    a.clear_thread_local("missing")  # no error
    a.clear_thread_local()
    assert a.get_thread_local("j", "gone") == "gone"


def test_tracking_counts_total_active_and_peak():
    a = Overlapping(4)
    run_threads(a.meet, 4)
    stats = a.get_stats()
    assert stats["total_requests"] == 4
    assert stats["active_requests"] == 0
    assert stats["peak_active_requests"] == 4
    assert stats["thread_safe"] is True and stats["adapter_class"] == "Overlapping"
    assert sum(stats["thread_utilization"].values()) == 4
    assert stats["tracker"]["threads_seen"] == 4
    assert isinstance(stats["max_workers"], int)


def test_track_request_counts_a_block():
    a = ThreadSafeAdapter()
    with a.track_request("manual") as number:
        assert number == 1
        assert a.get_stats()["active_requests"] == 1
    assert a.get_stats()["active_requests"] == 0


def test_infrastructure_exists_without_super_init():
    class Forgetful(ThreadSafeAdapter):
        def __init__(self):  # no super().__init__()
            self.x = 1

    a = Forgetful()
    with a.acquire_lock():
        a.set_thread_local("k", 2)
    assert a.get_thread_local("k") == 2 and a.get_stats()["total_requests"] == 0


@pytest.mark.parametrize("order", ["above", "below"])
def test_tool_specs_survive_the_decorator_in_either_order(order):
    if order == "above":
        class A(ThreadSafeAdapter):
            @thread_safe_method
            @tool(description="add")
            def add(self, a: int, b: int = 2) -> int:
                return a + b
    else:
        class A(ThreadSafeAdapter):
            @tool(description="add")
            @thread_safe_method
            def add(self, a: int, b: int = 2) -> int:
                return a + b

    a = A()
    assert discover_tool_names(A) == ["add"]
    spec = build_tool_spec("add", a.add)
    assert spec["description"] == "add"
    assert [(p["name"], p["type"], p["required"]) for p in spec["parameters"]] == [
        ("a", "integer", True), ("b", "integer", False)]
    assert a.add(1) == 3 and a.get_stats()["total_requests"] == 1
    assert A.add.__thread_safe__ is True


def test_generator_and_async_methods_count_until_done():
    class A(ThreadSafeAdapter):
        @thread_safe_method
        def gen(self, n):
            for i in range(n):
                yield i

        @thread_safe_method
        async def coro(self, x):
            await asyncio.sleep(0)
            return x

        @thread_safe_method
        async def agen(self, n):
            for i in range(n):
                yield i

    a = A()
    g = a.gen(3)
    assert next(g) == 0 and a.get_stats()["active_requests"] == 1
    assert list(g) == [1, 2] and a.get_stats()["active_requests"] == 0
    assert asyncio.run(a.coro(5)) == 5

    async def drain():
        return [i async for i in a.agen(2)]

    assert asyncio.run(drain()) == [0, 1]
    stats = a.get_stats()
    assert stats["total_requests"] == 3 and stats["active_requests"] == 0


def test_a_failing_method_is_counted_and_released():
    class A(ThreadSafeAdapter):
        @thread_safe_method
        def boom(self):
            raise ValueError("no")

    a = A()
    with pytest.raises(ValueError):
        a.boom()
    assert a.get_stats()["total_requests"] == 1 and a.get_stats()["active_requests"] == 0


def test_decorator_on_other_objects_just_calls():
    class Plain:
        @thread_safe_method
        def f(self, x):
            return x * 2

    assert Plain().f(4) == 8


def test_require_thread_safe():
    @require_thread_safe
    def serve(adapter):
        return "ok"

    assert serve(ThreadSafeAdapter()) == "ok"
    with pytest.raises(ValueError):
        serve(BaseAdapter())


# -- the threading guide's race-condition example -----------------------------

def test_race_example_locked_counter_is_exact_and_checker_reports_the_unlocked_one():
    checker = ThreadSafetyChecker(enabled=True, strict_mode=False)
    try:
        adapter = RaceAdapter()
        barrier = threading.Barrier(10, timeout=JOIN_S)

        def increment():
            barrier.wait()  # all ten threads start together
            for _ in range(1000):
                with adapter.acquire_lock():
                    adapter.locked += 1
                adapter.unlocked += 1  # this WILL race without the lock

        run_threads(increment, 10)
        assert adapter.locked == 10_000
        report = checker.get_report()
        assert "RaceAdapter.unlocked" in report["unsafe_writes"]
        assert "RaceAdapter.locked" not in report["unsafe_writes"]
        assert report["unsafe_writes"]["RaceAdapter.unlocked"]["threads"] == 10
        assert report["unsafe_writes"]["RaceAdapter.unlocked"]["unlocked_writes"] == 10_000
    finally:
        checker.close()


def test_race_through_the_tool_method():
    checker = ThreadSafetyChecker(enabled=True)
    try:
        adapter = RaceAdapter()
        run_threads(adapter.increment, 10, 500)
        assert adapter.locked == 5_000
        assert set(checker.get_report()["unsafe_writes"]) == {"RaceAdapter.unlocked"}
        assert adapter.get_stats()["total_requests"] == 10
    finally:
        checker.close()
