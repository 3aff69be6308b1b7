"""Graceful serialization: what a value with no wire mapping becomes (guides/graceful-serialization.md).

``SNAKEPIT_SERIALIZATION`` = ``graceful`` (default: a structured marker
``{"__snakepit_unserializable__": True, "type", "repr"}``), ``repr`` (the bare repr text) or
``strict`` (``SerializationError``, code ``unserializable``).
"""
from __future__ import annotations

import os
from typing import Any

from . import wire_errors
from .errors import SnakepitToolError

MARKER_KEY = "__snakepit_unserializable__"
_REPR_MAX = 500  # characters of repr kept in a marker


class SerializationError(SnakepitToolError, ValueError):
    """A value does not serialise and the policy is ``strict`` (code ``unserializable``)."""

    default_code = wire_errors.UNSERIALIZABLE


def policy() -> str:
    value = os.environ.get("SNAKEPIT_SERIALIZATION", "graceful")
    return value if value in ("graceful", "repr", "strict") else "graceful"


def public_fields(o: Any) -> Any:
    fields = {k: v for k, v in vars(o).items() if not k.startswith("_")}
    return fields if fields else unserializable(o)


def safe_repr(o: Any) -> str:
    try:
        return repr(o)
    except Exception:
        return f"<unrepresentable {type(o).__name__}>"


def unserializable(o: Any) -> Any:
    """What an object with no mapping becomes, by policy: marker, repr text, or an error."""
    mode = policy()
    text = safe_repr(o)
    if mode == "repr":
        return text
    kind = type(o)
    type_name = f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__qualname__
    if mode == "strict":
        raise SerializationError(f"{type_name} is not serialisable (SNAKEPIT_SERIALIZATION=strict)",
                                 details={"type": type_name})
    if len(text) > _REPR_MAX:
        text = text[:_REPR_MAX] + "..."
    return {MARKER_KEY: True, "type": type_name, "repr": text}
