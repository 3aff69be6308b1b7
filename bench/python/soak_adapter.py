"""The soak's adapter: the showcase (execute, streams, sessions, host tools) plus a tool that holds memory."""
import os

from snakepit_bridge.adapters.showcase.showcase_adapter import ShowcaseAdapter
from snakepit_bridge.base_adapter import tool

# Module level, so the memory outlives the call that allocated it (until the worker is recycled).
_held = []


class SoakAdapter(ShowcaseAdapter):
    __thread_safe__ = True

    @tool(description="Allocate `mb` MiB, write every page (so it is resident), and keep it")
    def hold_memory(self, mb: int = 100):
        _held.append(b"\x01" * (mb * 1024 * 1024))
        return {"pid": os.getpid(), "held_mb": sum(len(b) for b in _held) // (1024 * 1024)}
