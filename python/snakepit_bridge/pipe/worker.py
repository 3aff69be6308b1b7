"""The pipe worker: fds 3/4 carry calls as frames; ``PipeWorker`` routes each inbound frame.

Threads (details in ``inbox.py``): the main thread reads fd 3 while idle and
runs calls one at a time in arrival order (process profile), or hands them to
a thread pool (``--max-concurrency`` > 1, thread profile); a watcher thread
reads fd 3 while the main thread is busy, answers ``ping`` and marks
cancellations itself, hands ``host_reply`` frames to the thread waiting for
them (``host_channel.py``), queues calls. EOF means the host is gone.
"""
from __future__ import annotations

import argparse
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional

from .. import telemetry
from ..batch import Batch
from ..call import SESSION_CLEANUP, Call
from ..core import WorkerCore
from ..process import set_parent_death_signal
from ..session_context import SessionContext
from ..streaming import StreamCredit
from . import frames
from .control import ControlChannel
from .host_channel import PipeHostChannel
from .inbox import make_inbox
from .replies import PipeReplies

log = logging.getLogger("snakepit_bridge.server")


def call_from_frame(frame: Dict[str, Any], out: Any, host: Any = None) -> Call:
    """A ``Call`` from a ``call`` or ``batch`` frame; ``host``: the channel for its host requests."""
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
    ctx = SessionContext.for_call(get("session"), meta, call_id, host)
    stream = bool(get("stream"))
    call = Call(call_id, get("tool"), get("args") or {}, stream, ctx, out,
                restore if type(restore) is dict else None)
    if get("t") == "batch":  # sp.map: `items` in place of `args`
        call.batch = Batch(get("items"), bool(get("fail_fast")))
    if stream:
        window = get("window")
        if type(window) is int and window > 0:
            call.flow = StreamCredit(window)
    return call


def call_from_compact(frame: List[Any], out: Any, host: Any = None) -> Call:
    """A ``Call`` from a compact call, ``[0, id, tool, args, corr]`` (no session, metadata or stream)."""
    _, call_id, tool, args, corr = frame
    ctx = SessionContext.for_call(None, {"correlation_id": corr} if corr else {}, call_id, host)
    return Call(call_id, tool, args if type(args) is dict else {}, False, ctx, out)


def cleanup_from_frame(frame: Dict[str, Any], out: Any, host: Any = None) -> Call:
    """A job from a ``session_cleanup`` frame: the runner calls the adapter's ``cleanup_session``."""
    session = frame.get("session")
    ctx = SessionContext.for_call(session, {}, frame.get("id"), host)
    return Call(frame.get("id"), SESSION_CLEANUP, {"session_id": session}, False, ctx, out)


class PipeWorker:
    """Pipe mode: fds 3/4 carry calls as well as control frames.

    ``ROUTES``: the frame types routed here (beside ``ControlChannel.ROUTES``) -> method.
    A route returns the ``Call`` to run, or None when the frame is fully handled.
    """

    ROUTES = {"call": "_on_call", "batch": "_on_call", "host_reply": "_on_host_reply", "session_cleanup": "_on_session_cleanup"}

    def __init__(self, args: argparse.Namespace) -> None:
        self.concurrency = args.max_concurrency
        self.core = WorkerCore(args.adapter, self.concurrency, loop_threaded=self.concurrency > 1,
                               worker_id=args.worker_id, thread_safety=args.thread_safety_check,
                               heartbeat=getattr(args, "heartbeat", None))
        self.control = ControlChannel(self.core)
        writer = self.control.writer
        self.replies = PipeReplies(writer)
        # Telemetry batches share fd 4 with the answers (a call's events go out before its answer,
        # in the same write when the answer is held: PipeReplies.telemetry).
        telemetry.install_sink(self.replies.telemetry)
        # Host requests share fd 4 with the answers; their replies come on fd 3.
        self.host = self.core.host = PipeHostChannel(writer)
        self._enqueue = self.core.calls.enqueue
        self._routes: Dict[str, Callable[[Any], Optional[Call]]] = {
            **self.control.routes(), **{kind: getattr(self, name) for kind, name in self.ROUTES.items()}}
        self.control.reader.accept_compact = True
        self.inbox = make_inbox(self.control.reader, self._route,
                                self._host_gone, self.control.read_failed)
        # A busy main thread that writes (a host request, a chunk) may wait for input next.
        writer.on_write = self.inbox.watch_now

    def start(self) -> None:
        core, control = self.core, self.control
        control.prepare_fds()
        core.shutdown.install()  # SIGTERM/SIGINT from the host's stop() run cleanup()
        set_parent_death_signal()
        # Start-up counts as busy: the watcher answers pings during a slow
        # import/initialize, and a dead host is noticed.
        self.inbox.start()
        self.inbox.begin_busy()
        try:
            core.load(self._host_gone)
        except BaseException as exc:  # noqa: BLE001 - report anything, even SystemExit
            control.fatal(exc)
        control.send(frames.ready(core.describe()))
        self.inbox.end_busy()
        log.info("worker %s ready: %s (%d tools, concurrency %d)", core.worker_id,
                 core.adapter_host.adapter_spec, len(core.adapter_host.specs), self.concurrency)

    def serve(self) -> None:
        """Run calls forever (until the process exits)."""
        inbox, run = self.inbox, self.core.runner.run  # type: ignore[union-attr]
        if self.concurrency == 1:
            next_call, next_waiting = inbox.next_call, inbox.next_waiting
            begin, end = inbox.begin_busy, inbox.end_busy
            # A call's last frame is written before the next call starts (a crash then fails only
            # the call that ran), and when no call waits, once this thread is back at reading.
            replies = self.replies
            replies.hold_final(threading.get_ident())
            release = replies.release_final
            start = self.core.calls.start
            while True:
                call = next_call()
                if not start(call):  # recalled or cancelled while it waited: already answered
                    continue
                begin()
                try:
                    # Calls already received run back to back, busy all along (no read lock
                    # hand-over, no watcher re-arming between them).
                    while call is not None:
                        run(call)
                        call = next_waiting()
                        if call is None:
                            break
                        try:
                            release(watch=False)  # no input is awaited after an answer
                        except BrokenPipeError:
                            self._host_gone()
                        while call is not None and not start(call):
                            call = next_waiting()
                finally:
                    end()
                    try:
                        release()
                    except BrokenPipeError:
                        self._host_gone()
        # Thread profile: the main thread only reads and dispatches; the loop
        # runs in its own thread (AdapterHost.start_loop) so async tools and pool
        # threads run side by side.
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="snakepit-tool")
        start = self.core.calls.start

        def start_and_run(call: Call) -> None:
            if start(call):  # not recalled or cancelled while it waited in the pool's queue
                run(call)

        while True:
            pool.submit(start_and_run, inbox.next_call())

    # -- routing (on the thread reading fd 3) -------------------------------------------

    def _route(self, frame: Any) -> Optional[Call]:
        """Handle one inbound frame; return the ``Call`` for the executor, if it is one."""
        if type(frame) is list:  # a compact call (frames.py; the reader checked its shape): nearly every call
            self.replies.compact = True  # a host that sends compact calls reads compact results
            call = call_from_compact(frame, self.replies, self.host)
            self._enqueue(call)
            return call
        route = self._routes.get(frame.get("t"))  # type: ignore[arg-type]
        if route is None:
            self.control.on_unknown(frame)
            return None
        return route(frame)

    def _on_call(self, frame: Dict[str, Any]) -> Call:
        call = call_from_frame(frame, self.replies, self.host)
        self._enqueue(call)  # registered now, so a cancel or a recall can find it waiting
        return call

    def _on_session_cleanup(self, frame: Dict[str, Any]) -> Call:
        # Runs like a call: in order, on the executor.
        call = cleanup_from_frame(frame, self.replies, self.host)
        self._enqueue(call)
        return call

    def _on_host_reply(self, frame: Dict[str, Any]) -> None:
        self.host.deliver(frame)  # wakes the thread waiting for it

    def _host_gone(self) -> None:
        self.host.close()  # release threads waiting for host replies
        self.control.host_gone()
