"""The frames a fork template sends the host (docs/protocol.md, "Fork template"), typed and built here.

The template speaks the pipe's framing on fds 3/4 but a protocol of its own: it runs no tools, it
forks workers. ``ready`` and ``fatal`` are the worker's frames (``frames.py``) with other fields.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Literal, Optional, TypedDict

from .frames import fatal

__all__ = ["TEMPLATE_TO_HOST", "template_ready", "fatal", "forked", "fork_failed", "exited"]


class TemplateReadyFrame(TypedDict, total=False):
    t: Literal["ready"]
    pid: int
    python: str
    preloaded: bool
    importMs: float
    preloadMs: float
    refused: Dict[str, Any]


class ForkedFrame(TypedDict):
    t: Literal["forked"]
    id: Any
    pid: int


class ForkFailedFrame(TypedDict):
    t: Literal["fork_failed"]
    id: Any
    message: str


class ExitedFrame(TypedDict):
    t: Literal["exited"]
    pid: int
    code: Optional[int]
    signal: Optional[str]


def template_ready(pid: int, python: str, preloaded: bool, import_ms: float, preload_ms: float,
                   refused: Optional[Dict[str, Any]] = None) -> TemplateReadyFrame:
    frame: TemplateReadyFrame = {"t": "ready", "pid": pid, "python": python, "preloaded": preloaded,
                                 "importMs": import_ms, "preloadMs": preload_ms}
    if refused:
        frame["refused"] = refused
    return frame


def forked(request_id: Any, pid: int) -> ForkedFrame:
    return {"t": "forked", "id": request_id, "pid": pid}


def fork_failed(request_id: Any, message: str) -> ForkFailedFrame:
    return {"t": "fork_failed", "id": request_id, "message": message}


def exited(pid: int, code: Optional[int], signal: Optional[str]) -> ExitedFrame:
    return {"t": "exited", "pid": pid, "code": code, "signal": signal}


TEMPLATE_TO_HOST: Dict[str, Callable[..., Any]] = {
    "ready": template_ready, "fatal": fatal, "forked": forked, "fork_failed": fork_failed, "exited": exited,
}
