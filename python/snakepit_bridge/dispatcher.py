"""Runs one ``call`` frame against the adapter and writes its answer frames.

``Dispatcher.execute`` runs in the executing thread (the main thread in the
process profile, a pool thread in the thread profile). Coroutines and async
generators go to the worker's asyncio loop; sync generators are stepped here.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import os
import traceback
import types
from typing import Any, Callable, Dict, List, Optional

from .errors import SnakepitToolError, ToolCancelledError
from .session_context import SessionContext
from .streaming import unwrap_chunk

log = logging.getLogger("snakepit_bridge.dispatcher")

_CANCELLED = (asyncio.CancelledError, concurrent.futures.CancelledError, ToolCancelledError)
_THIS_FILES = {__file__, os.path.abspath(__file__)}


class Call:
    """One in-flight call; the reader thread may cancel it at any time."""

    __slots__ = ("id", "tool", "args", "stream", "ctx", "cancel_hook")

    def __init__(self, frame: Dict[str, Any]) -> None:
        self.id = frame.get("id")
        self.tool = frame.get("tool")
        self.args = frame.get("args") or {}
        self.stream = bool(frame.get("stream"))
        meta = frame.get("meta")
        self.ctx = SessionContext(frame.get("session"), meta if isinstance(meta, dict) else {}, self.id)
        # Set while the call runs as an asyncio task: cancels that task.
        self.cancel_hook: Optional[Callable[[], Any]] = None

    def cancel(self) -> None:
        """Mark cancelled (seen by polling tools and generators), cancel the task if any."""
        self.ctx._mark_cancelled()
        hook = self.cancel_hook
        if hook is not None:
            hook()


def format_traceback(exc: BaseException) -> str:
    """Traceback text without the bridge's own leading frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code.co_filename in _THIS_FILES:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def error_map(exc: BaseException, code: str = "python_error", details: Any = None) -> Dict[str, Any]:
    """The protocol's error map for an exception."""
    if isinstance(exc, SnakepitToolError):
        code, details = exc.code, exc.details if details is None else details
        message = exc.message
    else:
        message = str(exc)
    err: Dict[str, Any] = {
        "type": type(exc).__name__,
        "message": message,
        "traceback": format_traceback(exc),
        "code": code,
    }
    if details is not None:
        err["details"] = details
    return err


class Dispatcher:
    """Executes calls; ``threaded`` picks how coroutines reach the loop."""

    def __init__(
        self,
        adapter: Any,
        tools: Dict[str, Callable[..., Any]],
        writer: Any,
        loop: asyncio.AbstractEventLoop,
        inflight: Dict[Any, Call],
        threaded: bool,
        on_host_gone: Callable[[], None],
    ) -> None:
        self.adapter = adapter
        self.tools = tools
        self.writer = writer
        self.loop = loop
        self.inflight = inflight
        self.threaded = threaded
        self.on_host_gone = on_host_gone
        setter = getattr(adapter, "set_session_context", None)
        self._set_context = setter if callable(setter) else self._set_attr_context

    def _set_attr_context(self, ctx: SessionContext) -> None:
        setattr(self.adapter, "session_context", ctx)

    # -- frames out -------------------------------------------------------

    def _send(self, frame: Dict[str, Any]) -> None:
        try:
            body = self.writer.encode(frame)
        except ValueError as exc:  # over the frame limit: answer with an error instead
            if frame["t"] == "error":
                raise
            err = error_map(exc)
            err["type"] = "FrameTooLargeError"
            body = self.writer.encode({"t": "error", "id": frame["id"], "error": err})
            if frame["t"] == "chunk":
                # The stream cannot go on; tell the caller through the generator.
                self.writer.write_body(body)
                raise _StreamAborted() from exc
        self.writer.write_body(body)

    def _send_error(self, call: Call, err: Dict[str, Any]) -> None:
        self._send({"t": "error", "id": call.id, "error": err})

    def _send_cancelled(self, call: Call, exc: Optional[BaseException] = None) -> None:
        self._send_error(call, {
            "type": type(exc).__name__ if exc is not None else "CancelledError",
            "message": f"call {call.id} ({call.tool}) was cancelled",
            "traceback": format_traceback(exc) if exc is not None else "",
            "code": "cancelled",
        })

    # -- execution ------------------------------------------------------------

    def execute(self, call: Call) -> None:
        """Run one call to completion and write its answer(s)."""
        try:
            self._execute(call)
        except BrokenPipeError:
            self.on_host_gone()
        except Exception:  # a bug of ours: log it, keep serving
            log.exception("failed to answer call %r", call.id)
        finally:
            self.inflight.pop(call.id, None)

    def _execute(self, call: Call) -> None:
        ctx = call.ctx
        if ctx.cancelled:  # cancelled while queued
            return self._send_cancelled(call)
        fn = self.tools.get(call.tool)
        if fn is None:
            return self._send_error(call, {
                "type": "UnknownToolError",
                "message": f"Unknown tool '{call.tool}'",
                "traceback": "",
                "code": "unknown_tool",
                "details": {"available": sorted(self.tools)},
            })
        try:
            self._set_context(ctx)
            try:
                result = fn(**call.args)
            except TypeError as exc:
                # Only check binding on failure: free on the fast path, and a
                # TypeError raised inside the tool stays a python_error.
                if not _binds(fn, call.args):
                    err = error_map(exc, "invalid_args")
                    err["traceback"] = ""  # only the bridge's own frame: noise
                    return self._send_error(call, err)
                raise
            if isinstance(result, types.GeneratorType):
                result = self._iterate_sync(call, result)
            elif isinstance(result, types.AsyncGeneratorType):
                result = self._run_coroutine(call, self._iterate_async(call, result))
            elif inspect.isawaitable(result):
                result = self._run_coroutine(call, result)
            if result is _STREAMED:
                return None
            if ctx.cancelled:  # finished anyway, but the host no longer wants it
                return self._send_cancelled(call)
            self._send({"t": "result", "id": call.id, "value": result})
        except _StreamAborted:
            pass
        except _CANCELLED as exc:
            self._send_cancelled(call, exc)
        except BrokenPipeError:
            raise
        except Exception as exc:
            if ctx.cancelled:
                return self._send_cancelled(call, exc)
            self._send_error(call, error_map(exc))

    # -- coroutines -------------------------------------------------------------

    def _run_coroutine(self, call: Call, awaitable: Any) -> Any:
        wrapped = self._with_context(call.ctx, awaitable)
        loop = self.loop
        if self.threaded:
            fut = asyncio.run_coroutine_threadsafe(wrapped, loop)
            call.cancel_hook = fut.cancel  # thread-safe: schedules task.cancel()
            if call.ctx.cancelled:
                fut.cancel()
            return fut.result()
        task = loop.create_task(wrapped)
        call.cancel_hook = lambda: loop.call_soon_threadsafe(task.cancel)
        if call.ctx.cancelled:  # the cancel frame may have raced the hook
            task.cancel()
        return loop.run_until_complete(task)

    async def _with_context(self, ctx: SessionContext, awaitable: Any) -> Any:
        # Runs inside the task's own context copy: concurrent tasks keep theirs.
        self._set_context(ctx)
        return await awaitable

    # -- streaming ------------------------------------------------------------

    def _emitter(self, call: Call) -> "tuple[Callable[[Any], None], List[Any]]":
        collected: List[Any] = []
        if not call.stream:
            # A unary call of a generator tool: its result is the list of items.
            return (lambda item: collected.append(unwrap_chunk(item)[0])), collected
        send, cid = self._send, call.id

        def emit(item: Any) -> None:
            data, final = unwrap_chunk(item)
            send({"t": "chunk", "id": cid, "data": data, "final": final})

        return emit, collected

    def _finish_stream(self, call: Call, collected: List[Any]) -> Any:
        if not call.stream:
            return collected
        self._send({"t": "end", "id": call.id})
        return _STREAMED

    def _iterate_sync(self, call: Call, gen: Any) -> Any:
        ctx = call.ctx
        emit, collected = self._emitter(call)
        try:
            for item in gen:
                if ctx.cancelled:  # stop at the first yield after the cancel
                    raise ToolCancelledError()
                emit(item)
            if ctx.cancelled:
                raise ToolCancelledError()
        finally:
            gen.close()
        return self._finish_stream(call, collected)

    async def _iterate_async(self, call: Call, agen: Any) -> Any:
        ctx = call.ctx
        emit, collected = self._emitter(call)
        try:
            async for item in agen:
                if ctx.cancelled:
                    raise ToolCancelledError()
                emit(item)
            if ctx.cancelled:
                raise ToolCancelledError()
        finally:
            await agen.aclose()
        return self._finish_stream(call, collected)


class _StreamAborted(Exception):
    """A chunk could not be sent; the error frame is already out."""


_STREAMED = object()  # marker: the answer went out as chunks + end


def _binds(fn: Callable[..., Any], args: Dict[str, Any]) -> bool:
    try:
        inspect.signature(fn).bind(**args)
        return True
    except TypeError:
        return False
