# The adapter of guides/python-adapters.md, driven by examples/custom-adapter.ts.
# region header
from typing import List

from snakepit_bridge.base_adapter import BaseAdapter, tool
from snakepit_bridge.errors import SnakepitToolError
from snakepit_bridge.streaming import StreamChunk


class MyAdapter(BaseAdapter):
    """Tools of a small shop: arithmetic, statistics, a countdown and a priced basket."""

    def initialize(self):
        # Once per worker, before it reports ready (may be `async def`): load models, open clients.
        self.currency = "EUR"
    # endregion header

    # region tools
    @tool(description="Add two numbers")
    def add(self, a: float, b: float) -> dict:
        return {"result": a + b}

    @tool
    def mean(self, values: List[float]) -> float:
        """Arithmetic mean of a non-empty list."""  # the description, when @tool gives none
        if not values:
            raise ValueError("values must not be empty")  # Node: PythonValueError
        return sum(values) / len(values)

    @tool(description="Look up a discount code")
    def discount(self, code: str) -> dict:
        codes = {"WELCOME": 10}
        if code not in codes:
            # Node: error.details.code is "unknown_discount", error.details.known the list
            raise SnakepitToolError(f"unknown code {code}", code="unknown_discount", details={"known": sorted(codes)})
        return {"code": code, "percent": codes[code]}
    # endregion tools

    # region streaming
    @tool(description="Count down from n, one chunk per step", supports_streaming=True)
    def countdown(self, n: int = 3):
        for i in range(n, 0, -1):
            if self.session_context.cancelled:  # the caller broke out of its loop or aborted
                return
            yield StreamChunk({"left": i}, is_final=(i == 1))
    # endregion streaming

    # region host-tools
    @tool(description="Price a basket item by item, asking the host for each price", supports_streaming=True)
    def price_basket(self, items: List[str]):
        total = 0.0
        for item in items:
            price = self.session_context.call_host_tool("lookup_price", item=item)  # a tool registered in Node
            total += price["price"]
            yield {"item": item, "price": price["price"], "total": round(total, 2), "currency": self.currency}

    @tool(description="Price of one item, asked without blocking the event loop")
    async def price_of(self, item: str) -> dict:
        return await self.session_context.acall_host_tool("lookup_price", {"item": item})
    # endregion host-tools

    # region session
    @tool(description="Add an item to this session's cart")
    def cart_add(self, item: str) -> list:
        state = self.session_context.state  # lives on the host: survives this worker
        cart = state.get("cart", []) + [item]
        state["cart"] = cart
        return cart

    def on_session_restore(self, state):
        # A session's call reached a worker that has not served it (recycled or crashed worker).
        pass

    def cleanup_session(self, session_id):
        # The session ended (session.end()) or expired.
        pass
    # endregion session

    # region cleanup
    def cleanup(self):
        # The worker stops (stop(), recycling, SIGTERM): close what initialize() opened.
        pass
    # endregion cleanup
