"""The adapter the benchmark calls through the full stack."""
import time

from snakepit_bridge.base_adapter import BaseAdapter, tool


class BenchAdapter(BaseAdapter):
    @tool(description="Return the value unchanged")
    def echo(self, value=None):
        return value

    @tool(description="Yield `n` chunks, each stamped with time.time_ns() as it is yielded", supports_streaming=True)
    def stamped(self, n: int = 1000):
        for i in range(n):
            yield {"i": i, "t": time.time_ns()}

    @tool(description="Busy for `us` microseconds (CPU, not sleep), then return the value")
    def spin(self, us: float = 100, value=None):
        end = time.perf_counter() + us / 1e6
        while time.perf_counter() < end:
            pass
        return value
