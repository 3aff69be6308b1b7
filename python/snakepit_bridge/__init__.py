"""snakepit_bridge: the Python half of Snakepit for Node.js.

Adapters subclass ``BaseAdapter`` and mark methods with ``@tool``; the host
runs them through ``python -m snakepit_bridge.server --adapter pkg.mod.Class``.
"""
from .base_adapter import BaseAdapter, tool
from .errors import HostToolError, SnakepitToolError, ToolCancelledError
from .serialization import Tensor
from .session_context import SessionContext
from .streaming import StreamChunk

__all__ = [
    "BaseAdapter",
    "tool",
    "SessionContext",
    "StreamChunk",
    "SnakepitToolError",
    "HostToolError",
    "ToolCancelledError",
    "Tensor",
]
__version__ = "0.1.0"
