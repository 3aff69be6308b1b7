"""The adapter the benchmark calls through the full stack."""
from snakepit_bridge.base_adapter import BaseAdapter, tool


class BenchAdapter(BaseAdapter):
    @tool(description="Return the value unchanged")
    def echo(self, value=None):
        return value
