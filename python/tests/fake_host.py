"""Fake hosts answering Python's host requests: over pipes (frames) and as a gRPC HostService.

Both share ``HostLogic``: a few host tools, per-session state, a call id ->
session table, and a record of every request (normalized to the pipe's keys:
``op, call, tool, args, timeout_ms, action, key, value``). Host tools:

- ``echo``: returns its args; ``fail``: an error with code ``bad_input`` and details;
- ``hold``: answers (its args) only once ``logic.release()`` was called;
- ``never``: never answers (over gRPC: until the client gives up).

``logic.received`` is set whenever a request arrives (tests wait on it).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Tuple

import grpc

from grpc_harness import pb2, pb2_grpc
from snakepit_bridge.pipe.framing import FrameReader, FrameWriter
from snakepit_bridge.pipe.host_channel import PipeHostChannel
from snakepit_bridge.serialization import pack, unpack

HOLD = object()  # handle(): answer only once released
NEVER = object()  # handle(): never answer

TOOL_SPECS = [
    {"name": "echo", "description": "Returns its arguments",
     "parameters": [{"name": "message", "type": "string", "required": False, "default": "hi",
                     "description": "what to echo"}]},
    {"name": "fail", "description": "Always fails", "parameters": []},
    {"name": "hold", "description": "Answers when released", "parameters": []},
    {"name": "never", "description": "Never answers", "parameters": []},
]


def error(code: str, message: str, details: Any = None) -> Dict[str, Any]:
    err = {"type": "HostToolError", "message": message, "traceback": "at host.ts:1", "code": code}
    if details is not None:
        err["details"] = details
    return err


class HostLogic:
    """What the host answers, whatever the transport."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Dict[Any, str] = {}  # running call id -> its session
        self.state: Dict[str, Dict[str, Any]] = {}
        self.requests: List[Dict[str, Any]] = []
        self.received = threading.Event()
        self.released = False
        self._held: List[threading.Event] = []
        self.tokens: List[Optional[str]] = []
        self.closing: List[threading.Event] = []  # set at teardown: unblocks held RPCs

    def hold(self) -> threading.Event:
        """An event set by ``release()`` (at once if already released)."""
        event = threading.Event()
        with self.lock:
            self._held.append(event)
            if self.released:
                event.set()
        return event

    def release(self) -> None:
        """Let every ``hold`` request (and later ones) answer."""
        with self.lock:
            self.released = True
            held = list(self._held)
        for event in held:
            event.set()

    def ops(self, op: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["op"] == op]

    def handle(self, req: Dict[str, Any]) -> Any:
        """``("value", v)``, ``("error", err)``, ``HOLD`` or ``NEVER``."""
        with self.lock:
            self.requests.append(req)
        self.received.set()
        op = req["op"]
        if op == "list":
            return "value", TOOL_SPECS
        if op == "call":
            tool = req["tool"]
            if tool == "echo":
                return "value", req["args"]
            if tool == "fail":
                return "error", error("bad_input", "input rejected", {"field": "x", "big": 2**70})
            if tool == "hold":
                return HOLD
            if tool == "never":
                return NEVER
            return "error", error("unknown_host_tool", f"no host tool {tool}",
                                  {"available": sorted(t["name"] for t in TOOL_SPECS)})
        if op == "state":
            session = self.calls.get(req["call"])
            if session is None:
                return "error", error("no_session", "no session for this call")
            with self.lock:
                state = self.state.setdefault(session, {})
                action = req["action"]
                if action == "get_all":
                    return "value", dict(state)
                if action == "set":
                    state[req["key"]] = req["value"]
                elif action == "delete":
                    state.pop(req["key"], None)
                elif action == "clear":
                    state.clear()
                else:
                    return "error", error("invalid_state_action", action)
            return "value", None
        return "error", error("unknown_op", op)


class FakePipeHost:
    """A ``PipeHostChannel`` on real pipes, a host thread answering, a reader thread delivering."""

    def __init__(self, logic: HostLogic) -> None:
        self.logic = logic
        self.up_r, self.up_w = os.pipe()  # Python -> host (fd 4's role)
        self.down_r, self.down_w = os.pipe()  # host -> Python (fd 3's role)
        self.channel = PipeHostChannel(FrameWriter(self.up_w))
        self.host_writer = FrameWriter(self.down_w)
        self.threads = [threading.Thread(target=self._host, daemon=True),
                        threading.Thread(target=self._reader, daemon=True)]
        for t in self.threads:
            t.start()

    def _host(self) -> None:
        reader = FrameReader(self.up_r)
        while True:
            try:
                frames = reader.read_once()
            except (EOFError, OSError):
                return
            for frame in frames:
                assert frame["t"] == "host", frame
                req = {"op": frame["op"], "call": frame["call"], "tool": frame.get("tool"),
                       "args": frame.get("args"), "timeout_ms": frame.get("timeout_ms"),
                       "action": frame.get("action"), "key": frame.get("key"),
                       "value": frame.get("value"), "keys": sorted(frame)}
                self._answer(frame["id"], req, self.logic.handle(req))

    def _answer(self, rid: int, req: Dict[str, Any], outcome: Any) -> None:
        if outcome is NEVER:
            return
        if outcome is HOLD:
            released = self.logic.hold()

            def later() -> None:
                if released.wait(10):
                    self._reply(rid, ("value", req["args"]))
            threading.Thread(target=later, daemon=True).start()
            return
        self._reply(rid, outcome)

    def _reply(self, rid: int, outcome: Tuple[str, Any]) -> None:
        kind, body = outcome
        try:
            self.host_writer.send({"t": "host_reply", "id": rid, kind: body})
        except OSError:
            pass  # hung up

    def _reader(self) -> None:
        # The worker's fd-3 reader: host_reply frames go to the channel; EOF releases waiters.
        reader = FrameReader(self.down_r)
        while True:
            try:
                frames = reader.read_once()
            except (EOFError, OSError):
                self.channel.close()
                return
            for frame in frames:
                self.channel.deliver(frame)

    def hang_up(self) -> None:
        """The host goes away: EOF on the Python side's read end."""
        _close(self.down_w)

    def close(self) -> None:
        self.logic.release()
        for fd in (self.down_w, self.up_w):
            _close(fd)
        for t in self.threads:
            t.join(5)
        for fd in (self.down_r, self.up_r):
            _close(fd)


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _error_info(err: Dict[str, Any]) -> Any:
    return pb2.ErrorInfo(type=err["type"], message=err["message"], traceback=err["traceback"],
                         code=err["code"], details=pack(err["details"]) if "details" in err else b"")


def _spec_message(spec: Dict[str, Any]) -> Any:
    params = [pb2.ParameterSpec(name=p["name"], type=p["type"], required=p["required"],
                                has_default="default" in p,
                                default_value=pack(p["default"]) if "default" in p else b"",
                                description=p.get("description", ""))
              for p in spec["parameters"]]
    return pb2.HostToolSpec(name=spec["name"], description=spec["description"], parameters=params)


class FakeHostService(pb2_grpc.HostServiceServicer):
    """``HostService`` over ``HostLogic``."""

    def __init__(self, logic: HostLogic) -> None:
        self.logic = logic

    def _handle(self, req: Dict[str, Any], context: Any) -> Any:
        token = dict(context.invocation_metadata()).get("x-snakepit-token")
        with self.logic.lock:
            self.logic.tokens.append(token)
        outcome = self.logic.handle(req)
        if outcome is HOLD or outcome is NEVER:
            # Answer once released (HOLD) or never; either way stop when the
            # client cancels or its deadline passes (the callback), or at teardown.
            wake = self.logic.hold() if outcome is HOLD else threading.Event()
            context.add_callback(wake.set)
            self.logic.closing.append(wake)
            wake.wait(10)
            outcome = ("value", req["args"])
        return outcome

    def ExecuteHostTool(self, request: Any, context: Any) -> Any:
        req = {"op": "call", "call": request.call_id or None, "tool": request.tool_name,
               "args": unpack(request.args) if request.args else {},
               "timeout_ms": request.timeout_ms or None}
        kind, body = self._handle(req, context)
        if kind == "error":
            return pb2.ExecuteHostToolResponse(error=_error_info(body))
        return pb2.ExecuteHostToolResponse(value=pack(body))

    def ListHostTools(self, request: Any, context: Any) -> Any:
        _, specs = self._handle({"op": "list", "call": request.call_id or None}, context)
        return pb2.ListHostToolsResponse(tools=[_spec_message(s) for s in specs])

    def SessionState(self, request: Any, context: Any) -> Any:
        req = {"op": "state", "call": request.call_id or None, "action": request.action,
               "key": request.key, "value": unpack(request.value) if request.value else None}
        kind, body = self._handle(req, context)
        if kind == "error":
            return pb2.SessionStateResponse(error=_error_info(body))
        return pb2.SessionStateResponse(value=pack(body))


class FakeGrpcHost:
    """A HostService server on 127.0.0.1 (any port) over ``HostLogic``."""

    def __init__(self, logic: HostLogic) -> None:
        self.logic = logic
        self.server = grpc.server(ThreadPoolExecutor(16))
        pb2_grpc.add_HostServiceServicer_to_server(FakeHostService(logic), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.address = f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.logic.release()
        for event in self.logic.closing:
            event.set()
        self.server.stop(0)


class FakeStreamHost:
    """A host on ``BridgeService.HostStream``: opens the stream on the worker's own connection and
    answers its requests over ``HostLogic``; ``metadata()`` names the stream for calls."""

    def __init__(self, stub: Any, logic: HostLogic, token: Optional[str] = None) -> None:
        import queue

        self.logic = logic
        self.telemetry: List[Any] = []
        self._answers: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        auth = (("x-snakepit-token", token),) if token else ()
        self.responses = stub.HostStream(self._outgoing(), metadata=auth)
        first = next(self.responses)
        assert first.WhichOneof("request") == "opened", first
        self.stream_id = first.opened.stream_id
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def metadata(self) -> Tuple[Tuple[str, str], ...]:
        return (("x-snakepit-host-stream", self.stream_id),)

    def _outgoing(self) -> Any:
        while True:
            answer = self._answers.get()
            if answer is None:
                return
            yield answer

    def _serve(self) -> None:
        try:
            for message in self.responses:
                kind = message.WhichOneof("request")
                if kind == "telemetry":
                    self.telemetry.extend(message.telemetry.events)
                    continue
                threading.Thread(target=self._answer, args=(message, kind), daemon=True).start()
        except grpc.RpcError:
            pass
        finally:
            self.ended.set()

    def _answer(self, message: Any, kind: str) -> None:
        body = getattr(message, kind)
        if kind == "call":
            req = {"op": "call", "call": body.call_id or None, "tool": body.tool_name,
                   "args": unpack(body.args) if body.args else {}, "timeout_ms": body.timeout_ms or None}
        elif kind == "list":
            req = {"op": "list", "call": body.call_id or None}
        else:
            req = {"op": "state", "call": body.call_id or None, "action": body.action, "key": body.key,
                   "value": unpack(body.value) if body.value else None}
        outcome = self.logic.handle(req)
        if outcome is NEVER:
            return
        if outcome is HOLD:
            if not self.logic.hold().wait(10):
                return
            outcome = ("value", req["args"])
        rid = message.request_id
        answer_kind, value = outcome
        if answer_kind == "error":
            self._answers.put(pb2.HostStreamAnswer(request_id=rid, error=_error_info(value)))
        elif kind == "list":
            tools = pb2.ListHostToolsResponse(tools=[_spec_message(s) for s in value])
            self._answers.put(pb2.HostStreamAnswer(request_id=rid, tools=tools))
        else:
            self._answers.put(pb2.HostStreamAnswer(request_id=rid, value=pack(value)))

    def hang_up(self) -> None:
        """The host goes away: the stream is cancelled."""
        self.responses.cancel()

    def close(self) -> None:
        self.logic.release()
        self._answers.put(None)
        self.responses.cancel()
        self.thread.join(5)
