"""Runs one call against the adapter and hands its answers to the call's sink.

Shared by both transports: the pipe (answers become frames on fd 4, see
``pipe_transport.PipeReplies``) and gRPC (answers become response messages,
see ``grpc_replies``). Each ``Call`` carries its sink as ``call.out``, an
object with ``result(call, value)``, ``chunk(call, data, final)``,
``end(call)`` and ``error(call, err_map)``; ``chunk`` may raise
``StreamAborted`` when the stream cannot go on (its error is already out).

``Dispatcher.execute`` runs in the executing thread (the main thread in the
pipe's process profile, a pool thread otherwise). Coroutines and async
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
from . import telemetry
from .session_context import SessionContext
from .streaming import StreamCredit, unwrap_chunk

log = logging.getLogger("snakepit_bridge.dispatcher")

_CANCELLED = (asyncio.CancelledError, concurrent.futures.CancelledError, ToolCancelledError)
_THIS_FILES = {__file__, os.path.abspath(__file__)}


class Call:
    """One in-flight call; another thread may cancel it at any time.

    ``restore``: the session state to hand to ``on_session_restore`` before
    the tool runs (None: no restore). ``tool`` is ``SESSION_CLEANUP`` for a
    pipe ``session_cleanup`` job, whose ``args`` hold ``session_id``.
    """

    __slots__ = ("id", "tool", "args", "stream", "ctx", "cancel_hook", "out", "restore", "flow")

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

    @classmethod
    def from_frame(cls, frame: Dict[str, Any], out: Any, host: Any = None) -> "Call":
        """A call from a pipe ``call`` frame; ``host``: the channel for its host requests."""
        get = frame.get
        call_id = get("id")
        meta = get("meta")
        meta = dict(meta) if type(meta) is dict else {}  # a copy: the ids below go in beside the caller's
        # The host's correlation id and W3C trace context ride beside the caller's metadata.
        corr = get("corr")
        if corr and "correlation_id" not in meta:
            meta["correlation_id"] = corr
        traceparent = get("traceparent")
        if traceparent and "traceparent" not in meta:
            meta["traceparent"] = traceparent
        restore = get("restore")
        ctx = SessionContext(get("session"), meta, call_id, host)
        stream = bool(get("stream"))
        call = cls(call_id, get("tool"), get("args") or {}, stream, ctx, out,
                   restore if type(restore) is dict else None)
        if stream:
            window = get("window")
            if type(window) is int and window > 0:
                call.flow = StreamCredit(window)
        return call

    @classmethod
    def session_cleanup(cls, frame: Dict[str, Any], out: Any, host: Any = None) -> "Call":
        """A job from a pipe ``session_cleanup`` frame: run the adapter's ``cleanup_session``."""
        session = frame.get("session")
        ctx = SessionContext(session, {}, frame.get("id"), host)
        return cls(frame.get("id"), SESSION_CLEANUP, {"session_id": session}, False, ctx, out)

    def cancel(self) -> None:
        """Mark cancelled (seen by polling tools and generators), cancel the task if any."""
        self.ctx._mark_cancelled()
        hook = self.cancel_hook
        if hook is not None:
            hook()
        flow = self.flow
        if flow is not None:  # a generator waiting for credit stops now
            flow.wake()


# Marks a session_cleanup job (never a tool name: not a string).
SESSION_CLEANUP = object()


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
    """Executes calls; ``threaded``: the loop runs in its own thread (else the caller runs it)."""

    def __init__(
        self,
        adapter: Any,
        tools: Dict[str, Callable[..., Any]],
        loop: asyncio.AbstractEventLoop,
        inflight: Dict[Any, Call],
        threaded: bool,
        on_host_gone: Callable[[], None],
        call_hook: Optional[Callable[..., Any]] = None,
    ) -> None:
        self.adapter = adapter
        self.tools = tools
        self.loop = loop
        self.inflight = inflight
        self.threaded = threaded
        self.on_host_gone = on_host_gone
        # Runtime.call_hook: the session hooks run through the same code for both transports.
        self.call_hook = call_hook
        setter = getattr(adapter, "set_session_context", None)
        self._set_context = setter if callable(setter) else self._set_attr_context

    def _set_attr_context(self, ctx: SessionContext) -> None:
        setattr(self.adapter, "session_context", ctx)

    # -- answers out ---------------------------------------------------------

    @staticmethod
    def _send_error(call: Call, err: Dict[str, Any]) -> None:
        call.out.error(call, err)

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
        token = telemetry.bind_call(call.ctx.request_metadata.get("correlation_id"))
        try:
            self._execute(call)
        except BrokenPipeError:  # only the pipe sink raises it out of _execute
            self.on_host_gone()
        except Exception:  # a bug of ours: log it, keep serving
            log.exception("failed to answer call %r", call.id)
        finally:
            self.inflight.pop(call.id, None)
            telemetry.reset_call(token)

    def _execute(self, call: Call) -> None:
        ctx = call.ctx
        if ctx.cancelled:  # cancelled while queued
            return self._send_cancelled(call)
        if call.restore is not None and not self._restore(call):
            return None
        fn = self.tools.get(call.tool)
        if fn is None:
            if call.tool is SESSION_CLEANUP:
                return self._cleanup_session(call)
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
            if type(result) not in _PLAIN:  # the usual answer (a dict, a str...) skips these checks
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
            call.out.result(call, result)
        except StreamAborted:
            pass
        except _CANCELLED as exc:
            self._send_cancelled(call, exc)
        except Exception as exc:
            # A tool's own BrokenPipeError is a tool error like any other; one
            # from the sink (the host is gone) is raised again by this send.
            if ctx.cancelled:
                return self._send_cancelled(call, exc)
            self._send_error(call, error_map(exc))

    # -- session hooks ----------------------------------------------------------

    def _restore(self, call: Call) -> bool:
        """Run ``on_session_restore(state)`` in the call's context; False if it failed (answered)."""
        ctx, state = call.ctx, call.restore
        ctx._restore_state(state)  # the tool's first state read needs no round trip
        hook = getattr(self.adapter, "on_session_restore", None)
        if not callable(hook):
            return True
        try:
            self._set_context(ctx)
            result = hook(dict(state))  # a copy: the hook may keep or change it
            if inspect.isawaitable(result):
                self._run_coroutine(call, result)
                call.cancel_hook = None  # the tool sets its own
            return True
        except _CANCELLED as exc:
            self._send_cancelled(call, exc)
        except Exception as exc:
            if ctx.cancelled:
                self._send_cancelled(call, exc)
            else:
                err = error_map(exc)
                err["code"] = "session_restore_failed"
                self._send_error(call, err)
        return False

    def _cleanup_session(self, call: Call) -> None:
        """A pipe ``session_cleanup`` job: the adapter's optional ``cleanup_session(session_id)``."""
        try:
            if self.call_hook is not None:
                self.call_hook("cleanup_session", None, call.args["session_id"])
        except Exception as exc:
            return self._send_error(call, error_map(exc))
        call.out.result(call, None)

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
        telemetry.bind_call(ctx.request_metadata.get("correlation_id"))
        return await awaitable

    # -- streaming ------------------------------------------------------------

    def _emitter(self, call: Call) -> "tuple[Callable[[Any], None], List[Any]]":
        collected: List[Any] = []
        if not call.stream:
            # A unary call of a generator tool: its result is the list of items.
            return (lambda item: collected.append(unwrap_chunk(item)[0])), collected
        chunk = call.out.chunk

        def emit(item: Any) -> None:
            data, final = unwrap_chunk(item)
            chunk(call, data, final)

        return emit, collected

    def _finish_stream(self, call: Call, collected: List[Any]) -> Any:
        if not call.stream:
            return collected
        call.out.end(call)
        return _STREAMED

    def _iterate_sync(self, call: Call, gen: Any) -> Any:
        ctx = call.ctx
        emit, collected = self._emitter(call)
        flow = call.flow
        try:
            for item in gen:
                if ctx.cancelled:  # stop at the first yield after the cancel
                    raise ToolCancelledError()
                emit(item)
                # Flow control: with the host's credit spent, the next item waits for its consumer.
                if flow is not None and flow.spend():
                    flow.wait(ctx)
                    if ctx.cancelled:
                        raise ToolCancelledError()
            if ctx.cancelled:
                raise ToolCancelledError()
        finally:
            gen.close()
        return self._finish_stream(call, collected)

    async def _iterate_async(self, call: Call, agen: Any) -> Any:
        ctx = call.ctx
        emit, collected = self._emitter(call)
        flow = call.flow
        try:
            async for item in agen:
                if ctx.cancelled:
                    raise ToolCancelledError()
                emit(item)
                if flow is not None and flow.spend():
                    await flow.wait_async(ctx)
                    if ctx.cancelled:
                        raise ToolCancelledError()
            if ctx.cancelled:
                raise ToolCancelledError()
        finally:
            await agen.aclose()
        return self._finish_stream(call, collected)


class StreamAborted(Exception):
    """A chunk could not be sent (too large, or nobody listens); the error is already out."""


_STREAMED = object()  # marker: the answer went out as chunks + end
# Result types that are never a generator or an awaitable (exact types: a subclass may be).
_PLAIN = frozenset((dict, list, tuple, str, bytes, int, float, bool, type(None)))


def _binds(fn: Callable[..., Any], args: Dict[str, Any]) -> bool:
    try:
        inspect.signature(fn).bind(**args)
        return True
    except TypeError:
        return False
