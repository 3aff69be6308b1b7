"""ThreadSafetyChecker: concurrent access, unlocked shared writes, unsafe libraries, strict mode, report."""
import asyncio
import threading

import pytest

from snakepit_bridge import thread_safety_checker as checks
from snakepit_bridge.base_adapter import BaseAdapter
from snakepit_bridge.base_adapter_threaded import ThreadSafeAdapter, thread_safe_method
from snakepit_bridge.thread_safety_checker import ThreadSafetyChecker, ThreadSafetyError

JOIN_S = 10


@pytest.fixture
def checker():
    c = ThreadSafetyChecker(enabled=True)
    yield c
    c.close()


def together(n, target):
    """Run `target(barrier)` on n threads; returns the exceptions they raised."""
    barrier = threading.Barrier(n, timeout=JOIN_S)
    errors = []

    def run():
        try:
            target(barrier)
        except Exception as exc:  # noqa: BLE001 - collected for the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_S)
        assert not t.is_alive()
    return errors


def test_overlapping_calls_are_reported(checker):
    def inside(barrier):
        with checker.track_execution("predict"):
            barrier.wait()  # all three inside at once
            barrier.wait()

    assert together(3, inside) == []
    report = checker.get_report()
    assert report["concurrent_accesses"] == {"predict": 3}
    assert report["threads_by_method"] == {"predict": 3}
    assert "predict_concurrent" in report["warnings"]
    assert report["total_threads_seen"] == 3


def test_sequential_calls_and_reentry_are_not_concurrency(checker):
    for _ in range(3):
        with checker.track_execution("f"):
            with checker.track_execution("f"):  # same thread, nested
                pass
    def access(barrier):
        barrier.wait()  # both alive: distinct thread idents
        checker.check_method_access("g")  # the original's API: records, tracks no overlap
        barrier.wait()

    together(2, access)
    report = checker.get_report()
    assert report["concurrent_accesses"] == {}
    assert report["threads_by_method"]["g"] == 2
    assert report["warnings_issued"] == 0
    assert report["thread_utilization"]


def test_strict_mode_raises_on_an_unlocked_shared_write_not_on_overlap():
    strict = ThreadSafetyChecker(enabled=True, strict_mode=True)
    try:
        class A(ThreadSafeAdapter):
            def __init__(self):
                super().__init__()
                self.n = 0

            @thread_safe_method
            def bump(self, barrier):
                barrier.wait()  # both inside at once: reported, not raised
                barrier.wait()
                self.n += 1  # unlocked: the second writer raises

        a = A()
        errors = together(2, a.bump)
        assert [type(e) for e in errors] == [ThreadSafetyError]
        report = strict.get_report()
        assert report["concurrent_accesses"] == {"bump": 2}
        assert set(report["unsafe_writes"]) == {"A.n"}
        assert a.get_stats()["active_requests"] == 0  # the failed call was released
    finally:
        strict.close()


def test_unsafe_libraries(checker):
    found = checker.check_library_safety({"pandas", "sqlite3", "numpy"})
    assert len(found) == 2
    report = checker.get_report()
    assert report["unsafe_libraries"] == ["pandas", "sqlite3"]
    assert {"unsafe_lib_pandas", "unsafe_lib_sqlite3"} <= set(report["warnings"])
    strict = ThreadSafetyChecker(enabled=True, strict_mode=True)
    try:
        with pytest.raises(ThreadSafetyError):
            strict.check_library_safety({"matplotlib"})
    finally:
        strict.close()
    assert ThreadSafetyChecker(enabled=False).check_library_safety({"pandas"}) == []


def test_first_assignment_initialises_and_locked_writes_are_fine(checker):
    class A(ThreadSafeAdapter):
        def __init__(self):
            super().__init__()
            self.total = 0  # the first assignment: not a shared write

    a = A()

    def bump(barrier):
        barrier.wait()
        with a.acquire_lock():
            a.total += 1

    together(4, bump)
    assert a.total == 4
    assert checker.get_report()["unsafe_writes"] == {}


def test_session_context_assignments_are_not_adapter_state(checker):
    a = ThreadSafeAdapter()
    together(3, lambda barrier: setattr(a, "session_context", None))
    assert checker.get_report()["unsafe_writes"] == {}


def test_disabled_checker_and_closed_checker_see_nothing():
    off = ThreadSafetyChecker(enabled=False)
    closed = ThreadSafetyChecker(enabled=True)
    closed.close()
    with checks.get_global_checker().track_execution("x"):
        pass

    class A(ThreadSafeAdapter):
        @thread_safe_method
        def f(self, barrier):
            barrier.wait()

    a = A()
    together(2, a.f)
    for c in (off, closed):
        report = c.get_report()
        assert report["total_methods_tracked"] == 0 and report["concurrent_accesses"] == {}


def test_context_manager_collects_only_inside():
    class A(ThreadSafeAdapter):
        @thread_safe_method
        def f(self, barrier):
            barrier.wait()

    a = A()
    with ThreadSafetyChecker(enabled=True) as c:
        together(2, a.f)
    together(2, a.f)  # after the block: not recorded
    assert c.get_report()["concurrent_accesses"] == {"f": 2}
    assert c.get_report()["threads_by_method"] == {"f": 2}


def test_global_checker_enable_disable():
    g = checks.enable_checking()
    try:
        assert g is checks.get_global_checker() and g.enabled and not g.strict_mode
        with g.track_execution("x"):
            pass
        assert g.get_report()["total_methods_tracked"] == 1
        assert checks.enable_checking(strict_mode=True).get_report()["total_methods_tracked"] == 0
        assert g.strict_mode
    finally:
        checks.disable_checking()
    assert not checks.get_global_checker().enabled


def test_monitored_wraps_every_kind_of_callable(checker):
    def plain(x):
        return x

    def gen(n):
        yield from range(n)

    async def coro(x):
        return x

    async def agen(n):
        for i in range(n):
            yield i

    assert checks.monitored("plain", plain)(1) == 1
    assert list(checks.monitored("gen", gen)(2)) == [0, 1]
    assert asyncio.run(checks.monitored("coro", coro)(3)) == 3

    async def drain():
        return [i async for i in checks.monitored("agen", agen)(2)]

    assert asyncio.run(drain()) == [0, 1]
    assert checker.get_report()["threads_by_method"] == {"plain": 1, "gen": 1, "coro": 1, "agen": 1}


def test_helpers_about_declarations():
    class Undeclared(BaseAdapter):
        def __init__(self):
            super().__init__()
            self.items = []

    class Unsafe(BaseAdapter):
        __thread_safe__ = False

    hints = checks.check_common_pitfalls(Undeclared())
    assert len(hints) == 2  # mutable state without a lock; no declaration
    assert checks.check_common_pitfalls(ThreadSafeAdapter()) == []
    assert checks.validate_adapter_thread_safety(ThreadSafeAdapter)
    assert not checks.validate_adapter_thread_safety(Undeclared)

    @checks.require_thread_safe_adapter
    def serve(adapter):
        return "ok"

    assert serve(ThreadSafeAdapter()) == "ok"
    for bad in (Undeclared(), Unsafe()):
        with pytest.raises(ValueError):
            serve(bad)


def test_report_shape_and_lines(checker):
    report = checker.get_report()
    for key in ("enabled", "strict_mode", "total_runtime", "warnings_issued", "warnings",
                "concurrent_accesses", "unsafe_writes", "unsafe_libraries", "total_methods_tracked",
                "total_threads_seen", "thread_utilization", "recommendations"):
        assert key in report
    assert report["recommendations"]
    assert checks.report_lines(report)[0] == "Thread safety report:"
    checker.reset()
    assert checker.get_report()["warnings_issued"] == 0
