"""The built-in default adapter (``snakepit_bridge.adapters.showcase.ShowcaseAdapter``)."""
from .showcase_adapter import ShowcaseAdapter

__all__ = ["ShowcaseAdapter"]
