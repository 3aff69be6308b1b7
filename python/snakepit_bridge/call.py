"""One call in flight, whatever its transport, and the contract of its reply sink.

A transport turns its wire format into a ``Call`` (pipe: ``pipe.worker``; gRPC:
``grpc.servicer``) and hands it to the ``ToolRunner``. The call carries its sink as
``call.out``, an object with ``result(call, value)``, ``chunk(call, data, final,
metadata)`` (``metadata``: the chunk's map, or None), ``end(call)`` and
``error(call, err_map)``; ``chunk`` may raise ``StreamAborted`` when the stream cannot
go on (its error is already out). A batch's sink also has ``items(call, values, errors)``
(``batch.py``): the next results in input order, ``errors`` as ``[index in values, err_map]``.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from .session_context import SessionContext
from .streaming import StreamCredit

__all__ = ["Call", "SESSION_CLEANUP", "StreamAborted"]

# Marks a session_cleanup job (never a tool name: not a string).
SESSION_CLEANUP = object()


class StreamAborted(Exception):
    """A chunk could not be sent (too large, or nobody listens); the error is already out."""


class Call:
    """One in-flight call; another thread may cancel it at any time.

    ``restore``: the session state to hand to ``on_session_restore`` before
    the tool runs (None: no restore). ``tool`` is ``SESSION_CLEANUP`` for a
    pipe ``session_cleanup`` job, whose ``args`` hold ``session_id``.
    """

    __slots__ = ("id", "tool", "args", "stream", "ctx", "cancel_hook", "out", "restore", "flow", "failed", "batch")

    def __init__(self, call_id: Any, tool: Any, args: Dict[str, Any], stream: bool,
                 ctx: SessionContext, out: Any, restore: Optional[Dict[str, Any]] = None) -> None:
        self.id = call_id
        self.tool = tool
        self.args = args
        self.stream = stream
        self.ctx = ctx
        self.out = out  # the reply sink (see the module docstring)
        # Set while the call waits or runs somewhere cancellable (an asyncio
        # task, a gRPC admission queue): cancel() calls it.
        self.cancel_hook: Optional[Callable[[], Any]] = None
        self.restore = restore
        # Pipe streams of a consumer that buffers: the host's credit (see StreamCredit).
        self.flow: Optional[StreamCredit] = None
        # The error map the call was answered with, if it failed (for the bridge's call events).
        self.failed: Optional[Dict[str, Any]] = None
        # A batch (``sp.map``): many inputs of ``tool`` run back to back (``batch.Batch``); None for a call.
        self.batch: Any = None

    def cancel(self) -> None:
        """Mark cancelled (seen by polling tools and generators), cancel the task if any."""
        self.ctx._mark_cancelled()
        hook = self.cancel_hook
        if hook is not None:
            hook()
        flow = self.flow
        if flow is not None:  # a generator waiting for credit stops now
            flow.wake()
