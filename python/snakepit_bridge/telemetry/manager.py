"""The original's ``snakepit_bridge.telemetry.manager``: which backend events go to (the functions live in the package)."""
from . import get_backend, is_enabled, set_backend

__all__ = ["get_backend", "is_enabled", "set_backend"]
