"""End to end: a real worker whose tools call the host; the test plays the host.

Pipe: the test answers the worker's ``host`` frames with ``host_reply`` frames.
gRPC: the test runs a fake ``HostService`` (``fake_host.py``) and names it in
``Describe``. Adapter: ``test/fixtures/python/host_adapter.py``.
"""
import numpy as np
import pytest

from fake_host import FakeGrpcHost, HostLogic
from grpc_harness import pb2
from snakepit_bridge.serialization import pack, unpack

HOST_ADAPTER = "host_adapter.HostAdapter"
UNKNOWN = {"type": "HostToolError", "message": "no such host tool", "traceback": "at host",
           "code": "unknown_host_tool", "details": {"available": ["validate"]}}


def send_call(w, tool, args=None, session=None, restore=None):
    w._next_id += 1
    frame = {"t": "call", "id": w._next_id, "tool": tool, "args": args or {}, "session": session,
             "meta": None, "stream": False}
    if restore is not None:
        frame["restore"] = restore
    w.send(frame)
    return w._next_id


def play_host(w, cid, handle):
    """Answer ``host`` frames with ``handle(frame) -> (kind, body)`` until call ``cid`` answers.

    Returns (the call's result/error frame, the host frames seen).
    """
    seen = []
    while True:
        frame = w.recv()
        if frame["t"] == "host":
            seen.append(frame)
            kind, body = handle(frame)
            w.send({"t": "host_reply", "id": frame["id"], kind: body})
        elif frame.get("id") == cid and frame["t"] in ("result", "error"):
            return frame, seen


def echo_host(frame):
    if frame["op"] == "list":
        return "value", [{"name": "zeta", "description": "", "parameters": []},
                         {"name": "validate", "description": "checks", "parameters": []}]
    if frame["op"] == "call" and frame["tool"] == "validate":
        return "value", {"valid": True, "seen": frame["args"]}
    return "error", UNKNOWN


def test_pipe_tools_call_the_host(spawn):
    w = spawn(HOST_ADAPTER)
    w.ready()
    args = {"data": {"rows": [1, 2**70]}, "blob": b"\x00\x01", "arr": np.arange(3, dtype=np.float32)}
    cid = send_call(w, "call_host", {"name": "validate", "args": args, "timeout_ms": 500}, session="s1")
    answer, seen = play_host(w, cid, echo_host)
    (frame,) = seen
    assert (frame["op"], frame["call"], frame["tool"], frame["timeout_ms"]) == ("call", cid, "validate", 500)
    got = answer["value"]["seen"]
    np.testing.assert_array_equal(got.pop("arr"), args["arr"])
    assert answer["value"]["valid"] is True and got == {"data": {"rows": [1, 2**70]}, "blob": b"\x00\x01"}

    # The host's error reaches the host again as the call's error, code and details intact.
    answer, _ = play_host(w, send_call(w, "call_host", {"name": "nope"}), echo_host)
    err = answer["error"]
    assert (err["code"], err["type"], err["details"]) == ("unknown_host_tool", "HostToolError",
                                                          {"available": ["validate"]})

    answer, seen = play_host(w, send_call(w, "list_host_tools"), echo_host)
    assert answer["value"] == ["validate", "zeta"] and seen[0]["op"] == "list" and seen[0]["call"] is not None

    answer, seen = play_host(w, send_call(w, "elixir_style", {"data": {"x": 1}}), echo_host)
    assert [f["op"] for f in seen] == ["list", "call"]
    assert answer["value"] == {"tool": "validate", "result": {"valid": True, "seen": {"data": {"x": 1}}}}

    for tool in ("call_host_async", "call_host_from_thread"):
        cid = send_call(w, tool, {"name": "validate", "args": {"n": 1}})
        answer, seen = play_host(w, cid, echo_host)
        assert answer["value"] == {"valid": True, "seen": {"n": 1}} and seen[0]["call"] == cid


def test_pipe_initialize_calls_the_host_for_no_call(spawn):
    w = spawn(HOST_ADAPTER, env={"HOST_ADAPTER_INIT_TOOL": "validate"})
    frame = w.recv()  # before ready: initialize() waits for this answer
    assert (frame["t"], frame["op"], frame["call"], frame["args"]) == ("host", "call", None, {"from": "initialize"})
    w.send({"t": "host_reply", "id": frame["id"], "value": "global ok"})
    w.ready()
    assert w.request("init_result")["value"] == "global ok"


def test_pipe_cancel_while_waiting_for_the_host(spawn):
    w = spawn(HOST_ADAPTER)
    w.ready()
    cid = send_call(w, "call_host", {"name": "slow"})
    frame = w.recv()
    assert frame["t"] == "host" and frame["call"] == cid
    w.send({"t": "cancel", "id": cid})
    answer = w.recv(5)
    assert answer["id"] == cid and answer["error"]["code"] == "cancelled"
    w.send({"t": "host_reply", "id": frame["id"], "value": "too late"})  # dropped
    assert w.request("pid")["value"] == w.proc.pid


def test_pipe_restore_state_and_cleanup(spawn, tmp_path):
    log = tmp_path / "cleaned.log"
    w = spawn(HOST_ADAPTER, env={"HOST_ADAPTER_CLEANUP_LOG": str(log)})
    w.ready()
    no_host = lambda frame: pytest.fail(f"unexpected host request {frame}")  # noqa: E731

    # Restore: the hook sees the map, and the state cache is filled (no get_all).
    answer, _ = play_host(w, send_call(w, "state_get", {"key": "counter"}, "s1", {"counter": 3}), no_host)
    assert answer["value"] == 3
    assert w.request("restored")["value"] == {"counter": 3}

    cid = send_call(w, "state_set", {"key": "k", "value": b"v"}, "s1")
    answer, seen = play_host(w, cid, lambda f: ("value", None))
    assert answer["value"] is None
    assert [(f["op"], f["call"], f["action"], f["key"], f["value"]) for f in seen] == [
        ("state", cid, "set", "k", b"v")]
    answer, seen = play_host(w, send_call(w, "state_all", session="s1"), lambda f: ("value", {"k": b"v"}))
    assert answer["value"] == {"k": b"v"} and seen[0]["action"] == "get_all"

    err = w.request("state_get", {"key": "k"})["error"]  # no session: answered locally
    assert err["code"] == "no_session"

    err = play_host(w, send_call(w, "pid", session="s2", restore={"fail_restore": True}), no_host)[0]["error"]
    assert err["code"] == "session_restore_failed" and err["type"] == "RuntimeError"
    assert "on_session_restore" in err["traceback"]

    w.send({"t": "session_cleanup", "id": 1000, "session": "s1"})
    answer = w.recv()
    assert answer == {"t": "result", "id": 1000, "value": None}
    assert w.request("cleaned")["value"] == ["s1"]
    assert log.read_text() == "s1\n"


def test_pipe_thread_profile_host_calls(spawn):
    w = spawn(HOST_ADAPTER, "--max-concurrency", "3", env={"SNAKEPIT_REQUIRE_THREAD_SAFE": "0"})
    w.ready()
    ids = [send_call(w, tool, {"name": "validate", "args": {"i": i}})
           for i, tool in enumerate(["call_host", "call_host_async", "call_host_from_thread"])]
    answers = {}
    while len(answers) < len(ids):
        frame = w.recv()
        if frame["t"] == "host":
            w.send({"t": "host_reply", "id": frame["id"], "value": {"for": frame["call"], **frame["args"]}})
        else:
            answers[frame["id"]] = frame["value"]
    assert answers == {cid: {"for": cid, "i": i} for i, cid in enumerate(ids)}


# -- gRPC ------------------------------------------------------------------------------------


def grpc_call(w, call_id, tool, args=None, session="", restore=None):
    req = pb2.ExecuteToolRequest(call_id=call_id, tool_name=tool, args=pack(args or {}), session_id=session)
    if restore is not None:
        req.has_restore, req.restore_state = True, pack(restore)
    r = w.stub.ExecuteTool(req, timeout=10)
    if r.WhichOneof("outcome") == "error":
        return "error", r.error
    return "value", unpack(r.value)


def test_grpc_tools_call_the_host(grpc_spawn):
    logic = HostLogic()
    host = FakeGrpcHost(logic)
    try:
        w = grpc_spawn(HOST_ADAPTER, mode="tcp")
        w.ready()
        kind, err = grpc_call(w, 1, "call_host", {"name": "echo"})
        assert kind == "error" and err.code == "host_unavailable"  # no Describe with an address yet

        w.stub.Describe(pb2.DescribeRequest(host_address=host.address, host_token="tok-w"), timeout=10)
        logic.calls.update({2: "s1", 3: "s1", 4: "s1"})
        args = {"deep": {"l": [b"\x00", 2**70]}}
        assert grpc_call(w, 2, "call_host", {"name": "echo", "args": args}, "s1") == ("value", args)
        assert logic.ops("call")[-1]["call"] == 2 and set(logic.tokens) == {"tok-w"}
        kind, err = grpc_call(w, 3, "call_host", {"name": "nope"}, "s1")
        assert kind == "error" and err.code == "unknown_host_tool"
        assert unpack(err.details)["available"] == ["echo", "fail", "hold", "never"]
        assert grpc_call(w, 3, "call_host_async", {"name": "echo", "args": {"a": 1}}) == ("value", {"a": 1})
        assert grpc_call(w, 4, "list_host_tools", session="s1") == ("value", ["echo", "fail", "hold", "never"])

        assert grpc_call(w, 4, "state_set", {"key": "k", "value": [1, b"2"]}, "s1") == ("value", None)
        assert logic.state["s1"] == {"k": [1, b"2"]}
        assert grpc_call(w, 4, "state_all", session="s1") == ("value", {"k": [1, b"2"]})

        assert grpc_call(w, 5, "state_get", {"key": "a"}, "s2", restore={"a": 1}) == ("value", 1)
        assert grpc_call(w, 6, "restored") == ("value", {"a": 1})
        kind, err = grpc_call(w, 7, "pid", session="s3", restore={"fail_restore": True})
        assert kind == "error" and err.code == "session_restore_failed" and err.type == "RuntimeError"

        w.stub.CleanupSession(pb2.SessionRequest(session_id="s2"), timeout=10)
        assert grpc_call(w, 8, "cleaned") == ("value", ["s2"])
    finally:
        host.close()


def test_showcase_validate_then_process_and_counter(spawn):
    from conftest import SHOWCASE

    w = spawn(SHOWCASE)
    w.ready()
    assert w.request("restored_state")["value"] is None
    state = {}

    def host(frame):
        if frame["op"] == "state":
            if frame["action"] == "get_all":
                return "value", dict(state)
            state[frame["key"]] = frame["value"]
            return "value", None
        if frame["tool"] == "validate_schema":
            ok = isinstance(frame["args"]["data"], list)
            return "value", {"valid": ok, "errors": [] if ok else ["data must be a list"]}
        assert frame["tool"] == "store_result"
        return "value", {"stored_id": 7, "result": frame["args"]["result"]}

    answer, seen = play_host(w, send_call(w, "process_with_validation", {"data": [1, 2, 3]}, "s"), host)
    assert [f["tool"] for f in seen] == ["validate_schema", "store_result"]
    result = {"kind": "list", "count": 3, "sum": 6, "mean": 2.0}
    assert answer["value"] == {"success": True, "result": result, "stored": {"stored_id": 7, "result": result}}
    answer, seen = play_host(w, send_call(w, "process_with_validation", {"data": "x"}, "s"), host)
    assert answer["value"] == {"error": "validation failed", "details": ["data must be a list"]}
    assert len(seen) == 1

    answer, _ = play_host(w, send_call(w, "counter_increment", {"by": 2}, "s", restore={"counter": 5}), host)
    assert answer["value"] == 7 and state == {"counter": 7}
    assert play_host(w, send_call(w, "counter_increment", session="s"), host)[0]["value"] == 8
    assert w.request("restored_state")["value"] == {"counter": 5}
