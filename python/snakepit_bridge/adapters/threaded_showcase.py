"""ThreadedShowcaseAdapter: the three thread-safety patterns of guides/threading.md, runnable.

    { name: 'hpc', workerProfile: 'thread', poolSize: 2, threadsPerWorker: 8,
      adapter: 'snakepit_bridge.adapters.threaded_showcase.ThreadedShowcaseAdapter' }

1. shared read-only state (``self.config``), loaded once;
2. thread-local caches (``get_thread_local``);
3. shared mutable state behind the adapter lock (``acquire_lock()``).
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from typing import Any, Dict, List

from ..base_adapter_threaded import ThreadSafeAdapter, thread_safe_method, tool

try:  # numpy is optional; matrix_multiply needs it
    import numpy as np
except ImportError:  # pragma: no cover - exercised only without numpy
    np = None  # type: ignore[assignment]


class ThreadedShowcaseAdapter(ThreadSafeAdapter):
    """Thread-safe demo tools: CPU work, numpy products, batches, stats."""

    __thread_safe__ = True

    def __init__(self) -> None:
        super().__init__()
        self.config = {"hash_rounds_max": 1_000_000, "matrix_max": 2_000}  # pattern 1: read-only
        self.total_computations = 0  # pattern 3: shared, written under the lock
        self.results_log: List[Dict[str, Any]] = []

    def _record(self, kind: str, started: float) -> None:
        entry = {"kind": kind, "thread": threading.current_thread().name,
                 "ms": round((time.perf_counter() - started) * 1000, 3)}
        with self.acquire_lock():  # pattern 3: held only for the update, never for the work
            self.total_computations += 1
            self.results_log.append(entry)
            del self.results_log[:-100]

    @thread_safe_method
    @tool(description="Hash a string `rounds` times (pure-Python CPU work: parallel only without the GIL)")
    def compute_intensive(self, data: str = "snakepit", rounds: int = 10_000) -> Dict[str, Any]:
        started = time.perf_counter()
        cache = self.get_thread_local("digests", {})  # pattern 2: per-thread cache
        key = (data, rounds)
        if key not in cache:
            digest = data.encode()
            for _ in range(min(rounds, self.config["hash_rounds_max"])):
                digest = hashlib.sha256(digest).digest()
            cache[key] = digest.hex()
            self.set_thread_local("digests", cache)
        self._record("compute_intensive", started)
        return {"digest": cache[key], "thread": threading.current_thread().name, "pid": os.getpid()}

    @thread_safe_method
    @tool(description="Multiply two random n x n matrices (numpy releases the GIL: parallel on threads)")
    def matrix_multiply(self, n: int = 200, seed: int = 0) -> Dict[str, Any]:
        if np is None:
            raise RuntimeError("matrix_multiply needs numpy")
        started = time.perf_counter()
        n = min(n, self.config["matrix_max"])
        rng = np.random.default_rng(seed)
        product = rng.random((n, n)) @ rng.random((n, n))
        self._record("matrix_multiply", started)
        return {"shape": list(product.shape), "trace": float(np.trace(product)),
                "thread": threading.current_thread().name}

    @thread_safe_method
    @tool(description="Square each number of a batch")
    def batch_process(self, items: list) -> Dict[str, Any]:
        started = time.perf_counter()
        result = [x * x for x in items]
        self._record("batch_process", started)
        return {"results": result, "count": len(result)}

    @thread_safe_method
    @tool(description="Sleep `ms` milliseconds (the GIL is released): shows how many calls overlap")
    def stress_test(self, ms: float = 10.0) -> Dict[str, Any]:
        time.sleep(ms / 1000)
        return {"thread": threading.current_thread().name, "active": self.get_stats()["active_requests"]}

    @tool(description="Request counts, concurrency and the last results")
    def get_adapter_stats(self) -> Dict[str, Any]:
        with self.acquire_lock():
            recent = list(self.results_log[-10:])
            total = self.total_computations
        return {**self.get_stats(), "total_computations": total, "recent": recent}
