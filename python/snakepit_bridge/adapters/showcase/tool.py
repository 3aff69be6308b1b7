"""Compatibility path of the original: ``from snakepit_bridge.adapters.showcase.tool import StreamChunk``."""
from ...base_adapter import tool
from ...streaming import StreamChunk

__all__ = ["StreamChunk", "tool"]
