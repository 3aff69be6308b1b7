"""Compatibility path of the original: ``from snakepit_bridge.adapters.showcase.tool import Tool, StreamChunk``."""
from typing import Any, Callable

from ...base_adapter import tool
from ...streaming import StreamChunk

__all__ = ["StreamChunk", "Tool", "tool"]


class Tool:
    """A named function (the original showcase handlers' tool table entry): ``Tool(fn).func(ctx, **args)``."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.name = func.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)
