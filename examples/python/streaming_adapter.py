"""The streaming guide's adapter (guides/streaming.md): generators, async generators, errors and cancellation."""
import asyncio
import time

from snakepit_bridge.base_adapter import BaseAdapter, tool
from snakepit_bridge.streaming import StreamChunk


class StreamingAdapter(BaseAdapter):
    def __init__(self):
        super().__init__()
        self.last_ticker = {"yielded": 0, "closed": False}

    # region train
    @tool(description="Train with streaming progress", supports_streaming=True)
    def train_model(self, epochs: int = 5, delay_ms: int = 20):
        loss, accuracy = 1.0, 0.5
        for epoch in range(1, epochs + 1):
            time.sleep(delay_ms / 1000)  # one epoch of work
            loss, accuracy = loss * 0.8, min(0.99, accuracy + 0.05)
            yield {"type": "progress", "epoch": epoch, "loss": round(loss, 4), "accuracy": round(accuracy, 4)}
        # StreamChunk marks the last chunk explicitly: the host sees `final: true`.
        yield StreamChunk({"type": "complete", "final_loss": round(loss, 4)}, is_final=True)
    # endregion train

    # region ticker
    @tool(description="Yield a tick every delay_ms until cancelled", supports_streaming=True)
    def ticker(self, delay_ms: int = 10):
        self.last_ticker = {"yielded": 0, "closed": False}
        try:
            n = 0
            while True:  # endless: the consumer decides when to stop
                n += 1
                yield {"tick": n}
                self.last_ticker["yielded"] = n
                time.sleep(delay_ms / 1000)
        finally:  # runs when the bridge closes the generator after a cancel
            self.last_ticker["closed"] = True

    @tool(description="What the last ticker did before it stopped")
    def last_ticker_stats(self):
        return self.last_ticker
    # endregion ticker

    # region may_fail
    @tool(description="Yield items, then raise at fail_at", supports_streaming=True)
    def may_fail(self, count: int = 5, fail_at: int = 3):
        for i in range(1, count + 1):
            if i == fail_at:
                raise ValueError(f"item {i} is corrupt")
            yield {"item": i}
    # endregion may_fail

    # region async
    @tool(description="Fetch pages concurrently, yield each as it arrives", supports_streaming=True)
    async def fetch_pages(self, pages: int = 3):
        async def fetch(page):
            await asyncio.sleep(0.01 * (pages - page))  # later pages answer sooner
            return {"page": page, "rows": page * 10}

        for next_done in asyncio.as_completed([fetch(p) for p in range(1, pages + 1)]):
            yield await next_done
    # endregion async

    # region running_total
    @tool(description="Add values one by one to the session's total; yield each running total", supports_streaming=True)
    def running_total(self, values: list):
        state = self.session_context.state  # kept on the host, per session
        for value in values:
            state["total"] = state.get("total", 0) + value
            yield {"added": value, "total": state["total"]}
    # endregion running_total

    # region burst
    @tool(description="Yield count small chunks as fast as possible", supports_streaming=True)
    def burst(self, count: int = 100):
        for i in range(count):
            yield {"i": i}
    # endregion burst
