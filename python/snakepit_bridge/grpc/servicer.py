"""The gRPC front end: ``BridgeService`` over the same ``WorkerCore``/``ToolRunner`` as the pipe.

Threads (sync grpcio server; scheduling helpers in ``scheduling.py``):
- process profile (concurrency 1): tool code runs on the main thread, one
  call at a time in arrival order, as over the pipe. grpcio hands each
  ``ExecuteTool`` RPC straight to the main thread (``MainThreadRunner`` is
  that method's own pool); a stream's handler runs on the ``snakepit-grpc``
  pool and queues its producer for the main thread (the handler thread must
  be the one yielding chunks to gRPC, from a ``StreamReply``).
- thread profile (concurrency N > 1): handlers on the ``snakepit-grpc`` pool
  pass an admission ``Gate`` of N slots, then ``ExecuteTool`` runs the tool
  right there and a stream's producer runs on the ``snakepit-stream`` pool.
  Waiting calls each hold a pool thread, so the pool is sized well above N.
- the session RPCs run on the ``snakepit-grpc`` pool (their hooks on the main
  thread in the process profile).
- ``snakepit-service`` pool: ``Ping``, ``CancelTool``, ``GrantCredit``,
  ``Describe``, ``Shutdown``, ``ConfigureTelemetry``, so a pool full of waiting calls never delays them (grpcio's
  per-method ``experimental_thread_pool``; with a grpcio lacking it they share
  the big pool, which still leaves them threads in practice).
- asyncio loop: the main thread's in the process profile (as over the pipe),
  its own thread in the thread profile (``AdapterHost``).

Host calls: a call whose host opened ``HostStream`` names it
(``x-snakepit-host-stream``) and its host requests ride on that stream
(``host_stream.py``, no dial-back); otherwise ``Describe`` carries the host's
``HostService`` address and this worker's token, and tools call the host
through ``host_channel``. Keepalive: ``keepalive.py``.

Cancellation: ``CancelTool`` and a client that cancels its RPC (or whose
deadline passes) both end in ``Call.cancel()``, exactly what the pipe's
``cancel`` frame does. A ``CancelTool`` that overtakes its call is kept for
it (``call_table.EarlyCancels``).

Streams: chunks leave in ``ToolChunk`` messages of up to the request's
``chunk_batch`` chunks (``replies.StreamReply``); with a ``window`` the
generator waits for the host's ``GrantCredit`` as it waits for the pipe's
``credit`` frames (``streaming.StreamCredit``).
"""
from __future__ import annotations

import functools
import hmac
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import grpc

from .. import telemetry, wire_errors
from ..call import Call
from ..core import WorkerCore
from ..serialization import pack, unpack
from ..session_context import SessionContext
from ..shm import env_int
from .batch_reply import BatchReply, batch_from_request
from .host_stream import HostStreamServicer, host_for
from .keepalive import server_options as keepalive_options
from ..streaming import StreamCredit
from .replies import StreamReply, UnaryReply, error_message, unpack_map
from .scheduling import AnswerOrder, Gate, MainThreadRunner

log = logging.getLogger("snakepit_bridge.grpc")

TOKEN_HEADER = "x-snakepit-token"
CORRELATION_HEADER = "x-snakepit-correlation-id"
SERVICE = "snakepit.bridge.v1.BridgeService"
DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024
SERVICE_THREADS = 4


def max_message_bytes() -> int:
    """``SNAKEPIT_GRPC_MAX_MESSAGE_BYTES`` or 256 MiB (send and receive)."""
    return env_int("SNAKEPIT_GRPC_MAX_MESSAGE_BYTES", b"SNAKEPIT_GRPC_MAX_MESSAGE_BYTES") or DEFAULT_MAX_MESSAGE_BYTES


def handler_threads(concurrency: int) -> int:
    """``SNAKEPIT_GRPC_THREADS`` or enough for many queued calls beyond the running ones."""
    return env_int("SNAKEPIT_GRPC_THREADS", b"SNAKEPIT_GRPC_THREADS") or max(32, 4 * concurrency + 8)


class BridgeServicer(HostStreamServicer):
    """The ``BridgeService`` methods (registered by the generated ``add_..._to_server``); ``HostStream`` in ``host_stream.py``."""

    def __init__(self, core: WorkerCore, pb2: Any, limit: int, service_pool: ThreadPoolExecutor,
                 main_thread: Optional[MainThreadRunner]) -> None:
        self.core = core
        self.pb2 = pb2
        self.limit = limit
        self.inflight = core.calls.inflight
        run = core.runner.run  # type: ignore[union-attr]
        start = core.calls.start

        def run_call(call: Call) -> None:
            # A call the host took back (RecallTool) while it waited is cancelled: the runner answers
            # `cancelled` (to an RPC the host dropped) without running it. Popping it here settles
            # the race with a recall: exactly one of them gets it.
            start(call)
            run(call)

        self.run_call = run_call
        self.main_thread = main_thread  # process profile: tool code runs on the main thread
        # Thread profile: admission; admitted streams run on the stream pool (at
        # most `concurrency`, plus one spare for a stream whose predecessor's
        # thread is on its way back).
        self.gate = Gate(core.concurrency) if main_thread is None else None
        self.stream_pool = ThreadPoolExecutor(core.concurrency + 1, thread_name_prefix="snakepit-stream")
        self._main_ident = threading.main_thread().ident
        if main_thread is not None:
            behavior = functools.partial(type(self).ExecuteTool, self)
            behavior.experimental_thread_pool = main_thread  # type: ignore[attr-defined]
            self.ExecuteTool = behavior  # type: ignore[method-assign]
        self._answers = AnswerOrder()  # process profile: a call starts once the previous answer left
        self.sessions: Dict[str, Dict[str, Any]] = {}
        self.sessions_lock = threading.Lock()
        self.described = self._describe_message()
        for name in ("Ping", "CancelTool", "RecallTool", "GrantCredit", "Describe", "Shutdown", "ConfigureTelemetry"):
            # partial objects take attributes, bound methods do not.
            behavior = functools.partial(getattr(type(self), name), self)
            behavior.experimental_thread_pool = service_pool  # type: ignore[attr-defined]
            setattr(self, name, behavior)

    # -- calls ------------------------------------------------------------------

    def _new_call(self, request: Any, context: Any, out: Any, stream: bool) -> Tuple[Optional[Call], Any]:
        """A registered ``Call``, or ``(None, error map)`` when args/metadata do not decode."""
        try:
            args = unpack_map(unpack, request.args, "args")
            meta = unpack_map(unpack, request.metadata, "metadata")
            restore = unpack_map(unpack, request.restore_state, "restore_state") if request.has_restore else None
        except Exception as exc:  # noqa: BLE001 - any decoding failure is the caller's
            return None, wire_errors.invalid_args(exc)
        if "correlation_id" not in meta:
            for key, value in context.invocation_metadata():
                if key == CORRELATION_HEADER:
                    meta["correlation_id"] = value
                    break
        ctx = SessionContext.for_call(request.session_id or None, meta, request.call_id, host_for(context, self.core.host))
        call = Call(request.call_id, request.tool_name, args, stream, ctx, out, restore)
        self.core.calls.register(call)  # now CancelTool finds it (waiting at the gate, or running)
        # Fires when the RPC ends for any reason; only matters while the call
        # is still ours (the client cancelled, or its deadline passed).
        gone = functools.partial(self._rpc_ended, call)
        if not context.add_callback(gone):
            gone()  # already over
        return call, None

    def _rpc_ended(self, call: Call) -> None:
        if self.inflight.get(call.id) is call:
            call.cancel()
        if isinstance(call.out, StreamReply):
            call.out.close()

    def ExecuteTool(self, request: Any, context: Any) -> Any:
        call, err = self._new_call(request, context, UnaryReply(self.pb2, self.limit), False)
        if call is None:
            return self.pb2.ExecuteToolResponse(error=error_message(self.pb2, err))
        gate = self.gate
        if gate is None:  # process profile
            self._answers.next(context)
            if threading.get_ident() == self._main_ident:
                self.run_call(call)  # grpcio handed us the RPC on the main thread
            else:  # a grpcio without per-method pools: hand the call over
                self.main_thread.run(self.run_call, call)  # type: ignore[union-attr]
        elif gate.enter(call):
            try:
                self.run_call(call)
            finally:
                gate.leave()
        else:
            self.run_call(call)  # cancelled while queued: answers `cancelled` at once, runs nothing
        return call.out.response

    def ExecuteStreamingTool(self, request: Any, context: Any) -> Iterator[Any]:
        out = StreamReply(self.pb2, self.limit, request.chunk_batch)
        call, err = self._new_call(request, context, out, True)
        if call is None:
            yield self.pb2.ToolChunk(error=error_message(self.pb2, err), is_final=True)
            return
        if request.window > 0:  # the host's consumer buffers: it grants credit as it takes chunks
            call.flow = StreamCredit(request.window)
        yield from self._streamed(call, out)

    def ExecuteBatch(self, request: Any, context: Any) -> Iterator[Any]:
        """Many inputs of one tool, back to back (``batch.py``); results stream back like chunks."""
        out = BatchReply(self.pb2, self.limit)
        batch, err = batch_from_request(request)
        call = None
        if batch is not None:
            call, err = self._new_call(request.call, context, out, False)
        if call is None:
            yield self.pb2.BatchResults(error=error_message(self.pb2, err))
            return
        call.batch = batch
        yield from self._streamed(call, out)

    def _streamed(self, call: Call, out: StreamReply) -> Iterator[Any]:
        """Run a call whose answers are several messages (a stream, a batch) and yield them."""
        gate = self.gate
        if gate is None:  # process profile: in line with the unary calls on the main thread
            self.main_thread.submit(self._produce, call, False)  # type: ignore[union-attr]
        elif gate.enter(call):
            self.stream_pool.submit(self._produce, call, True)
        else:
            out.lockstep = False  # answered right here, before anyone reads
            self._produce(call, False)
        yield from out.messages()

    def _produce(self, call: Call, admitted: bool) -> None:
        try:
            self.run_call(call)
        finally:
            if admitted:
                self.gate.leave()  # type: ignore[union-attr]
            call.out.finish()

    def CancelTool(self, request: Any, context: Any) -> Any:
        return self.pb2.CancelToolResponse(found=self.core.calls.cancel(request.call_id))

    def RecallTool(self, request: Any, context: Any) -> Any:
        return self.pb2.RecallToolResponse(returned=self.core.calls.recall(request.call_id))
    def GrantCredit(self, request: Any, context: Any) -> Any:
        return self.pb2.GrantCreditResponse(found=self.core.calls.grant(request.call_id, request.n))

    # -- service RPCs (on their own pool) -------------------------------------------

    def Ping(self, request: Any, context: Any) -> Any:
        self.core.heartbeat.note_ping()
        return self.pb2.PingResponse(message="pong", server_time=time.time())

    def _describe_message(self) -> Any:
        pb2, info = self.pb2, self.core.describe()
        tools = []
        for spec in info["tools"]:
            params = []
            for p in spec.get("parameters") or []:
                has_default = "default" in p
                params.append(pb2.ParameterSpec(
                    name=str(p.get("name", "")), type=str(p.get("type") or "any"),
                    required=bool(p.get("required")), has_default=has_default,
                    default_value=pack(p["default"]) if has_default else b"",
                    description=str(p.get("description") or "")))
            tools.append(pb2.ToolSpec(
                name=str(spec.get("name", "")), description=str(spec.get("description") or ""),
                parameters=params, supports_streaming=bool(spec.get("supports_streaming")),
                required_variables=[str(v) for v in spec.get("required_variables") or []],
                types=pack(spec["types"]) if "types" in spec else b""))
        return pb2.DescribeResponse(
            protocol=info["protocol"], pid=info["pid"], adapter=info["adapter"], tools=tools,
            python=info["python"], concurrency=info["concurrency"],
            worker_id=self.core.worker_id or "", runtime=pb2.PythonRuntime(**info["runtime"]),
            dynamic_tools=bool(info.get("dynamic_tools")), zone=os.environ.get("SNAKEPIT_ZONE", ""),
            stream_credit=True)

    def Describe(self, request: Any, context: Any) -> Any:
        host = self.core.host
        if host is not None:  # where tools call the host from now on ("" = nowhere)
            host.configure(request.host_address, request.host_token)
        return self.described

    def ConfigureTelemetry(self, request: Any, context: Any) -> Any:
        """The pipe's ``telemetry_control`` frame as an RPC: apply, answer the settings now in force."""
        try:
            changes = unpack_map(unpack, request.control, "control")
        except Exception as exc:  # noqa: BLE001
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        telemetry.configure(changes)
        return self.pb2.TelemetryControlResponse(settings=pack(telemetry.settings()))

    def Shutdown(self, request: Any, context: Any) -> Any:
        # The same path as the pipe's `shutdown` frame, once this answer is out.
        if not context.add_callback(self.core.shutdown.request):
            self.core.shutdown.request()
        return self.pb2.ShutdownResponse()

    # -- sessions -----------------------------------------------------------------

    def _session_answer(self, found: bool, metadata: Optional[Dict[str, Any]]) -> Any:
        return self.pb2.SessionResponse(found=found, metadata=pack(metadata) if metadata is not None else b"")

    def InitializeSession(self, request: Any, context: Any) -> Any:
        try:
            metadata = unpack_map(unpack, request.metadata, "metadata")
        except Exception as exc:  # noqa: BLE001
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        self._hook(context, "initialize_session", request.session_id, metadata)
        with self.sessions_lock:
            self.sessions[request.session_id] = metadata
        return self._session_answer(True, metadata)

    def GetSession(self, request: Any, context: Any) -> Any:
        with self.sessions_lock:
            metadata = self.sessions.get(request.session_id)
        return self._session_answer(metadata is not None, metadata)

    def CleanupSession(self, request: Any, context: Any) -> Any:
        with self.sessions_lock:
            metadata = self.sessions.pop(request.session_id, None)
        # Always: tools may hold per-session state without InitializeSession.
        self._hook(context, "cleanup_session", request.session_id)
        return self._session_answer(metadata is not None, metadata)

    def _hook(self, context: Any, name: str, *args: Any) -> None:
        """Run an optional adapter session hook; its failure fails the RPC (INTERNAL)."""
        try:
            if self.main_thread is not None:  # with the tools, on the main thread
                self.main_thread.run(self.core.adapter_host.call_hook, name, None, *args)
            else:
                self.core.adapter_host.call_hook(name, None, *args)
        except Exception as exc:  # noqa: BLE001
            log.warning("adapter %s(%r) failed: %s: %s", name, args[0], type(exc).__name__, exc)
            context.abort(grpc.StatusCode.INTERNAL, f"{name} failed: {type(exc).__name__}: {exc}")


class TokenInterceptor(grpc.ServerInterceptor):
    """Every ``BridgeService`` call must carry ``x-snakepit-token`` = ``SNAKEPIT_WORKER_TOKEN``."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

        def deny(request: Any, context: Any) -> Any:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, f"missing or wrong {TOKEN_HEADER}")

        self._deny_unary = grpc.unary_unary_rpc_method_handler(deny)
        self._deny_stream = grpc.unary_stream_rpc_method_handler(deny)
        self._deny_bidi = grpc.stream_stream_rpc_method_handler(deny)

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        method = details.method
        if not method.startswith(f"/{SERVICE}/"):
            return continuation(details)
        for key, value in details.invocation_metadata or ():
            if key == TOKEN_HEADER:
                given = value.encode() if isinstance(value, str) else value
                if hmac.compare_digest(given, self._token):
                    return continuation(details)
                break
        if method.endswith("/HostStream"):
            return self._deny_bidi
        return self._deny_stream if method.endswith(("/ExecuteStreamingTool", "/ExecuteBatch")) else self._deny_unary


def reported_address(listen: str, port: int) -> str:
    """The address a client should dial: the real port, a loopback host for a wildcard one."""
    if listen.startswith("unix:"):
        path = listen[len("unix:"):]
        if path.startswith("//"):  # unix:///abs/path
            path = path[2:]
        return "unix:" + os.path.abspath(path)
    if listen.startswith("unix-abstract:"):
        return listen
    host = listen.rpartition(":")[0]
    if host in ("", "0.0.0.0", "*"):
        host = "127.0.0.1"
    elif host in ("[::]", "::"):
        host = "[::1]"
    return f"{host}:{port}"


def start_server(core: WorkerCore, pb2: Any, pb2_grpc: Any, listen: str, token: Optional[str],
                 main_thread: Optional[MainThreadRunner], credentials: Any = None,
                 interceptors: Sequence[Any] = (),
                 register: Optional[Callable[[Any], None]] = None) -> Tuple[Any, str, BridgeServicer]:
    """Build, bind and start the server; returns ``(server, reported address, servicer)``.

    ``credentials`` (``grpc.ServerCredentials``): TLS on the port instead of plaintext;
    ``interceptors`` run after the token check; ``register(server)`` adds further services
    before the start (the container server's health service, ``serve.py``).
    """
    limit = max_message_bytes()
    options: List[Tuple[str, Any]] = [
        ("grpc.max_send_message_length", limit),
        ("grpc.max_receive_message_length", limit),
        # A fixed port taken by another process must fail, not be shared.
        ("grpc.so_reuseport", 0),
        *keepalive_options(),
    ]
    service_pool = ThreadPoolExecutor(SERVICE_THREADS, thread_name_prefix="snakepit-service")
    servicer = BridgeServicer(core, pb2, limit, service_pool, main_thread)
    server = grpc.server(
        ThreadPoolExecutor(handler_threads(core.concurrency), thread_name_prefix="snakepit-grpc"),
        interceptors=([TokenInterceptor(token)] if token else []) + list(interceptors) or None,
        options=options)
    pb2_grpc.add_BridgeServiceServicer_to_server(servicer, server)
    if register is not None:
        register(server)
    # Both raise (recent grpcio) or return 0 on failure.
    port = server.add_secure_port(listen, credentials) if credentials is not None else server.add_insecure_port(listen)
    if not port:
        raise OSError(f"cannot listen on {listen!r}")
    server.start()
    return server, reported_address(listen, port), servicer
