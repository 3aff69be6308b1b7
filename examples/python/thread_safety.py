"""The thread-safety samples of guides/threading.md.

`MyAdapter` runs in the `ml` pool of examples/threading.config.ts; `python examples/python/thread_safety.py`
runs the checker and the race-condition example and prints what they found (test/commands/examples-guides.test.ts).
"""
import threading

import numpy as np

from snakepit_bridge.base_adapter_threaded import ThreadSafeAdapter, thread_safe_method, tool
from snakepit_bridge.thread_safety_checker import ThreadSafetyChecker


class _LengthModel:
    """Stands in for a real model: loaded once, read-only afterwards."""

    def predict(self, input_data: str) -> int:
        return len(input_data)


def load_pretrained_model() -> _LengthModel:
    return _LengthModel()


# region adapter
class MyAdapter(ThreadSafeAdapter):
    __thread_safe__ = True                      # required declaration

    def __init__(self):
        super().__init__()
        self.model = load_pretrained_model()    # 1. shared read-only: loaded once, never modified
        self.config = {"timeout": 30}
        self.request_count = 0                  # 3. shared mutable: lock it

    @thread_safe_method
    @tool(description="Thread-safe prediction")
    def predict(self, input_data: str) -> dict:
        cache = self.get_thread_local("cache", {})   # 2. thread-local: per-thread cache, no lock
        if input_data not in cache:
            cache[input_data] = self.model.predict(input_data)
            self.set_thread_local("cache", cache)
        with self.acquire_lock():                    # 3. locked writes to shared state
            self.request_count += 1
        return {"prediction": cache[input_data]}
# endregion adapter

    @tool(description="Requests served by this worker, and the adapter's thread stats")
    def adapter_stats(self) -> dict:
        with self.acquire_lock():
            return {"request_count": self.request_count, **self.get_stats()}


# region hold-locks-briefly
class MatrixResults(ThreadSafeAdapter):
    def __init__(self):
        super().__init__()
        self.results = []

    # BAD: the lock is held during the computation, other threads wait
    def product_bad(self, a, b):
        with self.acquire_lock():
            result = np.dot(a, b)
            self.results.append(result)

    # GOOD: compute first, lock only to update shared state
    def product_good(self, a, b):
        result = np.dot(a, b)
        with self.acquire_lock():
            self.results.append(result)
# endregion hold-locks-briefly


class Counters(ThreadSafeAdapter):
    def __init__(self):
        super().__init__()
        self.counter = 0
        self.unlocked = 0


def check_concurrent_predictions() -> dict:
    # region checker
    checker = ThreadSafetyChecker(enabled=True, strict_mode=False)
    adapter = MyAdapter()
    threads = [threading.Thread(target=adapter.predict, args=(f"input_{i}",)) for i in range(100)]
    for t in threads: t.start()
    for t in threads: t.join()
    report = checker.get_report()
    # endregion checker
    checker.enabled = False  # stop observing: the next check has its own checker
    return {"request_count": adapter.request_count, "unsafe_writes": report["unsafe_writes"]}


# region race
def test_race_conditions():
    adapter = Counters()             # self.counter = 0, self.unlocked = 0 in __init__

    def increment():
        for _ in range(1000):
            with adapter.acquire_lock():
                adapter.counter += 1
            adapter.unlocked += 1    # this WILL race without the lock

    threads = [threading.Thread(target=increment) for _ in range(10)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert adapter.counter == 10_000
# endregion race


def check_race() -> dict:
    checker = ThreadSafetyChecker(enabled=True, strict_mode=False)
    test_race_conditions()
    report = checker.get_report()
    checker.enabled = False  # stop observing: the next check has its own checker
    return {"unsafe_writes": sorted(report["unsafe_writes"])}


def check_products() -> dict:
    adapter = MatrixResults()
    a = np.eye(3)
    threads = [threading.Thread(target=fn, args=(a, a)) for fn in (adapter.product_bad, adapter.product_good) * 4]
    for t in threads: t.start()
    for t in threads: t.join()
    return {"results": len(adapter.results)}


if __name__ == "__main__":
    print("checker", check_concurrent_predictions())
    print("race", check_race())
    print("products", check_products())
