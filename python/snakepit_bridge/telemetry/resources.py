"""Resource samples of the worker process: ``memory.sampled`` and ``cpu.sampled``, off by default."""
from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable, Dict, Optional


class ResourceSampler:
    """``memory.sampled`` (RSS bytes) and ``cpu.sampled`` (percent of one core since the last
    sample) every ``interval_ms``, from a daemon thread, through ``emit(name, measurements)``."""

    def __init__(self, emit: Callable[[str, Dict[str, Any]], None]) -> None:
        self._emit = emit
        self._interval_s = 0.0
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def interval_ms(self) -> float:
        return self._interval_s * 1000.0

    def set_interval(self, interval_ms: Any) -> None:
        self._interval_s = max(0.0, float(interval_ms or 0)) / 1000.0
        self._wake.set()
        if self._interval_s > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="snakepit-telemetry-sampler", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        last_cpu, last_wall = time.process_time(), time.monotonic()
        page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        while True:
            self._wake.clear()
            interval = self._interval_s
            if interval <= 0:
                self._wake.wait()
                last_cpu, last_wall = time.process_time(), time.monotonic()
                continue
            if self._wake.wait(interval):
                continue  # the interval changed: start over
            cpu, wall = time.process_time(), time.monotonic()
            percent = 100.0 * (cpu - last_cpu) / max(wall - last_wall, 1e-9)
            last_cpu, last_wall = cpu, wall
            try:
                with open("/proc/self/statm") as f:
                    rss = int(f.read().split()[1]) * page
            except OSError:
                import resource  # macOS: ru_maxrss (bytes there), the peak rather than the current RSS
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self._emit("memory.sampled", {"rss_bytes": rss})
            self._emit("cpu.sampled", {"cpu_percent": percent})
