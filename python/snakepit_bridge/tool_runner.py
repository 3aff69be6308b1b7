"""Runs one call against the adapter and hands its answers to the call's reply sink.

Shared by both transports (the sink contract is in ``call.py``). ``ToolRunner.run``
runs in the executing thread (the main thread in the process profile, a pool thread
otherwise). Coroutines and async generators go to the worker's asyncio loop; sync
generators are stepped here.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import types
from typing import Any, Callable, Dict, List, Optional

from . import telemetry, wire_errors
from .telemetry import call_events
from .call import SESSION_CLEANUP, Call, StreamAborted
from .batch import run_batch
from .call_table import CallTable
from .errors import ToolCancelledError
from .session_context import SessionContext
from .streaming import PLAIN_TYPES, unwrap_chunk

log = logging.getLogger("snakepit_bridge.tool_runner")

_CANCELLED = (asyncio.CancelledError, concurrent.futures.CancelledError, ToolCancelledError)
_bind_correlation = telemetry.correlation_var.set
_reset_correlation = telemetry.correlation_var.reset
_telemetry_host = telemetry.host
_telemetry_buffer = telemetry._buffer  # the backend's buffer (one list, filled and emptied in place)


class ToolRunner:
    """Runs calls; with ``adapter_host.loop_threaded`` the loop runs in its own thread (else here)."""

    def __init__(self, adapter_host: Any, tools: Dict[str, Callable[..., Any]], calls: CallTable,
                 on_host_gone: Callable[[], None]) -> None:
        self.adapter = adapter_host.adapter
        self.tools = tools
        self.loop = adapter_host.loop
        self.inflight = calls.inflight
        self.done = calls.done
        self.threaded = adapter_host.loop_threaded
        self.on_host_gone = on_host_gone
        # The session hooks run through the same code for both transports.
        self.call_hook = adapter_host.call_hook
        self._set_context = adapter_host.set_context
        # The adapter's execute_tool: it gets every call whose name is not one of `tools`.
        self.route = adapter_host.route

    # -- answers out ---------------------------------------------------------

    @staticmethod
    def _send_error(call: Call, err: Dict[str, Any]) -> None:
        call.failed = err
        call.out.error(call, err)

    def _send_cancelled(self, call: Call, exc: Optional[BaseException] = None) -> None:
        self._send_error(call, wire_errors.cancelled(call.id, call.tool, exc))

    # -- execution ------------------------------------------------------------

    def run(self, call: Call) -> None:
        """Run one call to completion and write its answer(s)."""
        ctx = call.ctx
        # telemetry.bind_call / reset_call, inline: this runs for every call.
        token = _bind_correlation(ctx.request_metadata.get("correlation_id"))
        # The bridge's own call events, only while the host asks for them (one attribute read otherwise).
        observed = carrying = None
        if _telemetry_host.call_events:
            # A pipe answer may carry the call's times (PipeReplies.observed_result); on the process
            # profile's thread, its start too (call_events.begin).
            carrying = getattr(call.out, "carrying", None)
            observed = call_events.begin(
                call.tool, carrying is not None and not call.stream and call.batch is None and carrying())
        try:
            if ctx._cancelled:  # cancelled while queued (the flag itself: no property call per call)
                return self._send_cancelled(call)
            if call.restore is not None and not self._restore(call):
                return None
            fn = self.tools.get(call.tool)
            route = None
            if fn is None:
                if call.tool is SESSION_CLEANUP:
                    return self._cleanup_session(call)
                route = self.route
                if route is None:
                    return self._send_error(call, wire_errors.unknown_tool(call.tool, self.tools))
            try:
                self._set_context(ctx)
                if call.batch is not None:  # many inputs, back to back (sp.map)
                    return run_batch(self, call, fn, route)
                try:
                    result = self.invoke(call, fn, route, call.args)
                except _Unbound as exc:
                    return self._send_error(call, wire_errors.invalid_args(exc.error))
                if result is _STREAMED:
                    return None
                if ctx._cancelled:  # finished anyway, but the host no longer wants it
                    return self._send_cancelled(call)
                if observed is not None and carrying is not None:
                    call.out.observed_result(call, result, observed)
                else:
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
                self._send_error(call, wire_errors.from_exception(exc))
        except BrokenPipeError:  # only the pipe sink raises it (the answer's own handlers let it pass)
            self.on_host_gone()
        except Exception:  # a bug of ours: log it, keep serving
            log.exception("failed to answer call %r", call.id)
        finally:
            self.done(call.id)
            if observed is not None:
                call_events.end(observed, call.failed)
            _reset_correlation(token)
            if _telemetry_buffer:  # events of the call still buffered (telemetry.reset_call, inline)
                _telemetry_host.flush()

    def invoke(self, call: Call, fn: Optional[Callable[..., Any]], route: Optional[Callable[..., Any]],
               args: Dict[str, Any]) -> Any:
        """Run the tool once with ``args`` in ``call``'s context (set by the caller) and return its
        value: a coroutine's result, a generator's items (a list, or ``_STREAMED`` once streamed).
        Raises ``_Unbound`` when ``args`` do not bind to the tool's signature."""
        if route is not None:  # the adapter routes this name itself (its "not found" is its own)
            result = route(tool_name=call.tool, arguments=args, context=call.ctx)
        else:
            try:
                result = fn(**args)  # type: ignore[misc]
            except TypeError as exc:
                # Only check binding on failure: free on the fast path, and a
                # TypeError raised inside the tool stays a python_error.
                if not _binds(fn, args):  # type: ignore[arg-type]
                    raise _Unbound(exc) from exc
                raise
        if type(result) not in _PLAIN:  # the usual answer (a dict, a str...) skips these checks
            if isinstance(result, types.GeneratorType):
                result = self._iterate_sync(call, result)
            elif isinstance(result, types.AsyncGeneratorType):
                result = self._run_coroutine(call, self._iterate_async(call, result))
            elif inspect.isawaitable(result):
                result = self._run_coroutine(call, result)
        return result

    def item(self, call: Call, fn: Optional[Callable[..., Any]], route: Optional[Callable[..., Any]],
             args: Any) -> "tuple[Any, Optional[Dict[str, Any]]]":
        """One input of a batch: ``(value, None)`` or ``(None, error map)``; raises
        ``ToolCancelledError`` once the batch is cancelled (the rest must not run)."""
        if type(args) is not dict:
            return None, wire_errors.invalid_args(TypeError(f"an input must be a map of arguments, got {type(args).__name__}"))
        try:
            return self.invoke(call, fn, route, args), None
        except _Unbound as exc:
            return None, wire_errors.invalid_args(exc.error)
        except _CANCELLED:
            raise ToolCancelledError() from None
        except Exception as exc:
            if call.ctx.cancelled:
                raise ToolCancelledError() from exc
            return None, wire_errors.from_exception(exc)

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
                self._send_error(call, wire_errors.session_restore_failed(exc))
        return False

    def _cleanup_session(self, call: Call) -> None:
        """A pipe ``session_cleanup`` job: the adapter's optional ``cleanup_session(session_id)``."""
        try:
            self.call_hook("cleanup_session", None, call.args["session_id"])
        except Exception as exc:
            return self._send_error(call, wire_errors.from_exception(exc))
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
            data, final, metadata = unwrap_chunk(item)
            chunk(call, data, final, metadata)

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


_STREAMED = object()  # marker: the answer went out as chunks + end


class _Unbound(Exception):
    """The arguments do not bind to the tool's signature (``error``: the tool's TypeError)."""

    def __init__(self, error: TypeError) -> None:
        super().__init__(str(error))
        self.error = error

_PLAIN = PLAIN_TYPES  # results that skip the generator/awaitable checks


def _binds(fn: Callable[..., Any], args: Dict[str, Any]) -> bool:
    try:
        inspect.signature(fn).bind(**args)
        return True
    except TypeError:
        return False
