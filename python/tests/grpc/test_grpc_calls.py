"""gRPC transport, calls: Describe, values, errors, metadata; in all three start modes."""
import numpy as np
import pytest

from conftest import SHOWCASE
from grpc_harness import pb2
from harness import assert_echoed, echo_args
from snakepit_bridge.serialization import pack, unpack

FIXTURE = "grpc_fixture_adapter.GrpcFixtureAdapter"


def request(call_id, tool, args=None, session="", meta=None):
    return pb2.ExecuteToolRequest(call_id=call_id, tool_name=tool, args=pack(args or {}),
                                  session_id=session, metadata=pack(meta) if meta is not None else b"")


@pytest.fixture(params=["control", "tcp", "unix"])
def worker(request, grpc_spawn):
    """A ready showcase worker, started each way."""
    w = grpc_spawn(SHOWCASE, "--worker-id", "gw1", mode=request.param)
    w.ready()
    return w


def test_address_matches_mode(worker):
    if worker.mode == "tcp":
        host, _, port = worker.address.rpartition(":")
        assert host == "127.0.0.1" and int(port) > 0
    else:
        assert worker.address.startswith("unix:/")
    if worker.mode == "control":
        frame = worker.ready_frame
        assert frame["protocol"] == 2 and frame["pid"] == worker.proc.pid
        assert "add" in [t["name"] for t in frame["tools"]]


def test_describe(worker):
    d = worker.stub.Describe(pb2.DescribeRequest(), timeout=10)
    assert d.protocol == 2 and d.pid == worker.proc.pid
    assert d.adapter == SHOWCASE and d.worker_id == "gw1" and d.concurrency == 1
    assert d.python.count(".") == 2
    tools = {t.name: t for t in d.tools}
    assert tools["stream_progress"].supports_streaming and not tools["add"].supports_streaming
    steps = {p.name: p for p in tools["stream_progress"].parameters}["steps"]
    assert steps.type == "integer" and not steps.required
    assert steps.has_default and unpack(steps.default_value) == 5
    a = {p.name: p for p in tools["add"].parameters}["a"]
    assert a.required and not a.has_default and a.default_value == b""


def test_values_round_trip(worker):
    args = echo_args()
    r = worker.stub.ExecuteTool(request(1, "echo", args), timeout=10)
    assert r.WhichOneof("outcome") == "value"
    assert_echoed(unpack(r.value)["echoed"], args)
    out = worker.stub.ExecuteTool(request(2, "make_tensor", {"n": 6, "dtype": "float64", "shape": [2, 3]}))
    np.testing.assert_array_equal(unpack(out.value), np.arange(6, dtype=np.float64).reshape(2, 3))


def test_unknown_tool(worker):
    r = worker.stub.ExecuteTool(request(1, "nope"), timeout=10)
    assert r.WhichOneof("outcome") == "error"
    assert r.error.code == "unknown_tool" and r.error.type == "UnknownToolError"
    assert "add" in unpack(r.error.details)["available"]


def test_invalid_args_and_undecodable_args(worker):
    r = worker.stub.ExecuteTool(request(1, "add", {"a": 1}), timeout=10)
    assert r.error.code == "invalid_args" and r.error.type == "TypeError"
    bad = pb2.ExecuteToolRequest(call_id=2, tool_name="add", args=b"\xc1")
    assert worker.stub.ExecuteTool(bad, timeout=10).error.code == "invalid_args"
    not_a_map = pb2.ExecuteToolRequest(call_id=3, tool_name="add", args=pack([1, 2]))
    assert worker.stub.ExecuteTool(not_a_map, timeout=10).error.code == "invalid_args"


def test_python_exception_error_info(worker):
    r = worker.stub.ExecuteTool(request(1, "raise_error", {"message": "bad key", "type": "KeyError"}))
    err = r.error
    assert err.code == "python_error" and err.type == "KeyError" and "bad key" in err.message
    assert "raise_error" in err.traceback and "tool_runner.py" not in err.traceback
    assert err.details == b""
    r = worker.stub.ExecuteTool(request(2, "process_list", {"items": [1], "operation": "avg"}))
    assert r.error.code == "unknown_operation"
    assert unpack(r.error.details)["available"] == ["count", "max", "min", "sum"]


def test_ping(worker):
    pong = worker.stub.Ping(pb2.PingRequest(message="hi"), timeout=10)
    assert pong.message == "pong" and pong.server_time > 0


def test_generator_tool_called_unary_returns_list_and_plain_tool_streams_one_chunk(worker):
    r = worker.stub.ExecuteTool(request(1, "stream_progress", {"steps": 2, "delay_ms": 0}))
    assert [v["step"] for v in unpack(r.value)] == [1, 2]
    chunks = list(worker.stub.ExecuteStreamingTool(request(2, "add", {"a": 1, "b": 2}), timeout=10))
    assert len(chunks) == 1 and chunks[0].is_final and unpack(chunks[0].data)["result"] == 3


def test_session_metadata_and_correlation_reach_the_tool(grpc_spawn):
    w = grpc_spawn(FIXTURE)
    w.ready()
    r = w.stub.ExecuteTool(request(7, "context", session="s-1", meta={"trace": "abc"}),
                           metadata=[("x-snakepit-correlation-id", "corr-1")], timeout=10)
    assert unpack(r.value) == {"session_id": "s-1", "request_id": 7,
                               "metadata": {"trace": "abc", "correlation_id": "corr-1"}}
    # An explicit correlation_id in the metadata wins; no session -> None.
    r = w.stub.ExecuteTool(request(8, "context", meta={"correlation_id": "mine"}),
                           metadata=[("x-snakepit-correlation-id", "corr-2")], timeout=10)
    assert unpack(r.value) == {"session_id": None, "request_id": 8, "metadata": {"correlation_id": "mine"}}


def test_sessions_table_and_hooks(grpc_spawn):
    w = grpc_spawn(FIXTURE)
    w.ready()
    s = w.stub
    got = s.GetSession(pb2.SessionRequest(session_id="a"), timeout=10)
    assert not got.found and got.metadata == b""
    init = s.InitializeSession(pb2.SessionRequest(session_id="a", metadata=pack({"user": "u1"})), timeout=10)
    assert init.found and unpack(init.metadata) == {"user": "u1"}
    got = s.GetSession(pb2.SessionRequest(session_id="a"), timeout=10)
    assert got.found and unpack(got.metadata) == {"user": "u1"}
    gone = s.CleanupSession(pb2.SessionRequest(session_id="a"), timeout=10)
    assert gone.found and unpack(gone.metadata) == {"user": "u1"}
    assert not s.GetSession(pb2.SessionRequest(session_id="a"), timeout=10).found
    assert not s.CleanupSession(pb2.SessionRequest(session_id="never"), timeout=10).found
    seen = unpack(s.ExecuteTool(request(1, "sessions_seen")).value)
    assert seen == {"initialized": [["a", {"user": "u1"}]], "cleaned": ["a", "never"]}


def test_process_profile_runs_tools_on_the_main_thread(grpc_spawn):
    """As over the pipe: signal.signal works, thread-bound objects from initialize() stay usable."""
    w = grpc_spawn(FIXTURE)
    w.ready()
    assert unpack(w.stub.ExecuteTool(request(1, "thread_name"), timeout=10).value) == "MainThread"
    assert unpack(w.stub.ExecuteTool(request(2, "where"), timeout=10).value) == {
        "thread": "MainThread", "signals": True}


def test_thread_profile_runs_calls_on_grpc_threads_concurrently(grpc_spawn, tmp_path):
    w = grpc_spawn(FIXTURE, "--max-workers", "3")
    w.ready()
    assert w.stub.Describe(pb2.DescribeRequest(), timeout=10).concurrency == 3
    marker = tmp_path / "busy"
    busy = w.stub.ExecuteTool.future(request(1, "busy", {"marker": str(marker)}), timeout=30)
    asleep = tmp_path / "asleep"
    slow = w.stub.ExecuteTool.future(request(2, "sleep_async", {"marker": str(asleep)}), timeout=30)
    from grpc_harness import wait_for

    wait_for(lambda: marker.exists() and asleep.exists(), what="both tools to start")
    # Both still run, yet a third call is answered: calls run side by side.
    name = unpack(w.stub.ExecuteTool(request(3, "thread_name"), timeout=10).value)
    assert name.startswith("snakepit-grpc")
    assert unpack(w.stub.ExecuteTool(request(4, "where"), timeout=10).value)["thread"] == "snakepit-asyncio"
    assert w.stub.CancelTool(pb2.CancelToolRequest(call_id=1), timeout=10).found
    assert w.stub.CancelTool(pb2.CancelToolRequest(call_id=2), timeout=10).found
    assert busy.result(10).error.code == "cancelled"
    assert slow.result(10).error.code == "cancelled"
