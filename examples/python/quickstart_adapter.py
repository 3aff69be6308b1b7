# The quickstart's adapter: every @tool method is a tool Node can call.
# region adapter
from snakepit_bridge.base_adapter import BaseAdapter, tool


class QuickstartAdapter(BaseAdapter):
    @tool(description="Add two numbers")
    def add(self, a: float, b: float) -> dict:
        return {"result": a + b}

    @tool(description="Count to n, one chunk per step", supports_streaming=True)
    def count(self, n: int = 3):
        for i in range(1, n + 1):
            yield {"step": i, "of": n}
# endregion adapter
