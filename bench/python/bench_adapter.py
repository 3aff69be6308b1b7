"""The adapter the benchmark calls through the full stack."""
import time

from snakepit_bridge.base_adapter import BaseAdapter, tool


class BenchAdapter(BaseAdapter):
    @tool(description="Return the value unchanged")
    def echo(self, value=None):
        return value

    @tool(description="Sleep for ms milliseconds (a long call among short ones)")
    def sleep(self, ms: int = 1000):
        time.sleep(ms / 1000)
        return ms

    @tool(description="Yield `n` chunks, each stamped with time.time_ns() as it is yielded; `spin_us`: "
                      "CPU-bound work (the GIL held) before each", supports_streaming=True)
    def stamped(self, n: int = 1000, spin_us: int = 0):
        spin_ns = spin_us * 1000
        for i in range(n):
            if spin_ns:
                until = time.perf_counter_ns() + spin_ns
                while time.perf_counter_ns() < until:
                    pass
            yield {"i": i, "t": time.time_ns()}

    @tool(description="Busy for `us` microseconds (CPU, not sleep), then return the value")
    def spin(self, us: float = 100, value=None):
        end = time.perf_counter() + us / 1e6
        while time.perf_counter() < end:
            pass
        return value
