"""The adapter of guides/map.md: small per-input tools that sp.map runs many times, back to back."""
import time

from snakepit_bridge.base_adapter import BaseAdapter, tool


# region adapter
class BatchAdapter(BaseAdapter):
    @tool(description="A tiny 'embedding' of a text: its length, vowels and words")
    def embed(self, text: str) -> list:
        return [len(text), sum(c in "aeiou" for c in text.lower()), len(text.split())]

    @tool(description="A price such as '$4.20' as a number; raises ValueError for anything else")
    def parse_price(self, text: str) -> float:
        return float(text.removeprefix("$"))
# endregion adapter

    @tool(description="embed(), slowly (ms per text); stops when cancelled")
    def slow_embed(self, text: str, ms: float = 20) -> list:
        deadline = time.monotonic() + ms / 1000
        while time.monotonic() < deadline and not self.session_context.cancelled:
            time.sleep(0.002)
        return self.embed(text)

    @tool(description="The texts this worker embedded for the current session so far")
    def session_count(self, text: str) -> dict:
        counts = self.__dict__.setdefault("_counts", {})
        session = self.session_context.session_id
        counts[session] = counts.get(session, 0) + 1
        return {"session": session, "seen": counts[session]}
