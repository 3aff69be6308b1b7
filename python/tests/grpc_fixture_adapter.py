"""Fixture for the gRPC tests: tools that announce they started (marker files), session hooks."""
import asyncio
import signal
import threading

from snakepit_bridge.base_adapter import BaseAdapter, tool
from snakepit_bridge.errors import ToolCancelledError


def _touch(path):
    with open(path, "w"):
        pass


class GrpcFixtureAdapter(BaseAdapter):
    # Reviewed for the thread profile: the only shared state is two lists appended to.
    __thread_safe__ = True

    def __init__(self):
        super().__init__()
        self.initialized = []
        self.cleaned = []

    def initialize_session(self, session_id, metadata):
        self.initialized.append([session_id, metadata])

    async def cleanup_session(self, session_id):  # async on purpose: awaited on the worker loop
        await asyncio.sleep(0)
        self.cleaned.append(session_id)

    @tool(description="Touch `marker`, then burn CPU in pure Python until cancelled")
    def busy(self, marker: str):
        ctx = self.session_context
        _touch(marker)
        n = 0
        while not ctx.cancelled:
            n += 1
        raise ToolCancelledError(f"busy loop cancelled after {n} rounds")

    @tool(description="Touch `marker`, then asyncio-sleep `seconds`")
    async def sleep_async(self, marker: str, seconds: float = 600):
        _touch(marker)
        await asyncio.sleep(seconds)
        return "slept"

    @tool(description="What the session hooks saw")
    def sessions_seen(self):
        return {"initialized": self.initialized, "cleaned": self.cleaned}

    @tool(description="Name of the thread running this call")
    def thread_name(self):
        return threading.current_thread().name

    @tool(description="Thread names of a sync and an async step, and whether signal.signal works here")
    async def where(self):
        sync_thread = threading.current_thread().name  # async tools: on the loop's thread
        try:
            signal.signal(signal.SIGUSR2, signal.getsignal(signal.SIGUSR2))
            signals = True
        except ValueError:  # "signal only works in main thread"
            signals = False
        return {"thread": sync_thread, "signals": signals}

    @tool(description="The call's session context")
    def context(self):
        ctx = self.session_context
        return {"session_id": ctx.session_id, "metadata": ctx.request_metadata,
                "request_id": ctx.request_id}
