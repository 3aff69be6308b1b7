"""snakepit_bridge: the Python half of Snakepit for Node.js.

Adapters subclass ``BaseAdapter`` and mark methods with ``@tool`` (or route names
in their own ``execute_tool``); the host runs them through ``python -m
snakepit_bridge.server --adapter pkg.mod.Class``. The names the original's package
exported are exported here too.
"""
from .base_adapter import BaseAdapter, tool
from .errors import HostToolError, SnakepitToolError, ToolCancelledError
from .heartbeat import HeartbeatClient, HeartbeatConfig
from .logging_config import configure_logging, get_logger
from .serialization import Tensor
from .session_context import SessionContext
from .streaming import StreamChunk
from .zero_copy import ZeroCopyRef

__all__ = [
    "BaseAdapter",
    "tool",
    "SessionContext",
    "StreamChunk",
    "SnakepitToolError",
    "HostToolError",
    "ToolCancelledError",
    "Tensor",
    "HeartbeatClient",
    "HeartbeatConfig",
    "configure_logging",
    "get_logger",
    "ZeroCopyRef",
    "__version__",
]
__version__ = "0.1.0"
