"""Host requests on ``BridgeService.HostStream``: the host opened the stream, the worker never dials it.

A real worker (``host_adapter.HostAdapter``) is attached over TCP and given no
``HostService`` address at all: the test plays the host on the stream
(``fake_host.FakeStreamHost``) and names the stream on each call.
"""
import grpc
import pytest

from fake_host import FakeStreamHost, HostLogic
from grpc_harness import pb2, wait_for
from snakepit_bridge.serialization import pack, unpack

HOST_ADAPTER = "host_adapter.HostAdapter"


def call(w, call_id, tool, args=None, session="", host=None, token=None):
    req = pb2.ExecuteToolRequest(call_id=call_id, tool_name=tool, args=pack(args or {}), session_id=session)
    metadata = (host.metadata() if host else ()) + ((("x-snakepit-token", token),) if token else ())
    r = w.stub.ExecuteTool(req, timeout=20, metadata=metadata)
    if r.WhichOneof("outcome") == "error":
        return "error", r.error
    return "value", unpack(r.value)


@pytest.fixture
def attached(grpc_spawn):
    """A worker attached over TCP, with hosts on its stream closed at teardown."""
    hosts = []

    def _start(*extra, env=None):
        w = grpc_spawn(HOST_ADAPTER, *extra, mode="tcp", env=env)
        w.ready()
        return w

    def _host(w, logic, token=None):
        host = FakeStreamHost(w.stub, logic, token)
        hosts.append(host)
        return host

    yield _start, _host
    for host in hosts:
        host.close()


def test_host_tools_list_and_state_travel_on_the_host_stream(attached):
    start, open_host = attached
    w = start()
    logic = HostLogic()
    host = open_host(w, logic)
    logic.calls.update({1: "s1", 2: "s1", 3: "s1", 4: "s1"})
    args = {"deep": {"l": [b"\x00", 2**70]}}
    assert call(w, 1, "call_host", {"name": "echo", "args": args}, "s1", host) == ("value", args)
    assert logic.ops("call")[-1]["call"] == 1  # scoped to the call that asked
    kind, err = call(w, 2, "call_host", {"name": "nope"}, "s1", host)
    assert kind == "error" and err.code == "unknown_host_tool"
    assert unpack(err.details)["available"] == ["echo", "fail", "hold", "never"]
    assert call(w, 3, "list_host_tools", session="s1", host=host) == ("value", ["echo", "fail", "hold", "never"])
    assert call(w, 4, "state_set", {"key": "k", "value": [1, b"2"]}, "s1", host) == ("value", None)
    assert logic.state["s1"] == {"k": [1, b"2"]}
    assert call(w, 4, "state_all", session="s1", host=host) == ("value", {"k": [1, b"2"]})
    assert call(w, 5, "call_host_async", {"name": "echo", "args": {"a": 1}}, host=host) == ("value", {"a": 1})


def test_a_call_without_the_stream_header_keeps_the_dial_back_path(attached):
    start, open_host = attached
    w = start()
    logic = HostLogic()
    open_host(w, logic)
    kind, err = call(w, 1, "call_host", {"name": "echo"})  # no header, no Describe address
    assert kind == "error" and err.code == "host_unavailable"
    assert logic.ops("call") == []


def test_each_call_reaches_the_host_whose_stream_it_names(attached):
    start, open_host = attached
    w = start()
    first, second = HostLogic(), HostLogic()
    a, b = open_host(w, first), open_host(w, second)
    assert a.stream_id != b.stream_id
    assert call(w, 1, "call_host", {"name": "echo", "args": {"to": "a"}}, host=a) == ("value", {"to": "a"})
    assert call(w, 1, "call_host", {"name": "echo", "args": {"to": "b"}}, host=b) == ("value", {"to": "b"})
    assert [r["args"] for r in first.ops("call")] == [{"to": "a"}]
    assert [r["args"] for r in second.ops("call")] == [{"to": "b"}]


def test_a_waiting_request_fails_host_unavailable_when_the_stream_ends(attached):
    start, open_host = attached
    w = start()
    logic = HostLogic()
    host = open_host(w, logic)
    req = pb2.ExecuteToolRequest(call_id=1, tool_name="call_host", args=pack({"name": "never"}))
    future = w.stub.ExecuteTool.future(req, timeout=20, metadata=host.metadata())
    wait_for(lambda: logic.ops("call"), what="the host request")
    host.hang_up()
    r = future.result()
    assert r.WhichOneof("outcome") == "error" and r.error.code == "host_unavailable"
    # The worker serves on; a new stream carries host requests again.
    again = open_host(w, logic)
    assert call(w, 2, "call_host", {"name": "echo", "args": {"n": 2}}, host=again) == ("value", {"n": 2})


def test_the_stream_needs_the_worker_token(attached):
    start, open_host = attached
    w = start(env={"SNAKEPIT_WORKER_TOKEN": "sesame"})
    with pytest.raises(grpc.RpcError) as refused:
        FakeStreamHost(w.stub, HostLogic())
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    logic = HostLogic()
    host = open_host(w, logic, token="sesame")
    assert call(w, 1, "call_host", {"name": "echo", "args": {"ok": True}}, host=host, token="sesame") == ("value", {"ok": True})


def test_a_request_over_the_message_limit_fails_alone_and_the_stream_serves_on(attached):
    start, open_host = attached
    w = start(env={"SNAKEPIT_GRPC_MAX_MESSAGE_BYTES": str(64 * 1024)})
    logic = HostLogic()
    host = open_host(w, logic)
    kind, err = call(w, 1, "call_host_blob", {"name": "echo", "size": 128 * 1024}, host=host)
    assert kind == "error" and err.code == "invalid_host_tool_args"
    assert call(w, 2, "call_host", {"name": "echo", "args": {"small": 1}}, host=host) == ("value", {"small": 1})


def test_telemetry_goes_up_the_newest_stream(grpc_spawn):
    w = grpc_spawn("telemetry_adapter.TelemetryAdapter", mode="tcp")
    w.ready()
    host = FakeStreamHost(w.stub, HostLogic())
    try:
        req = pb2.ExecuteToolRequest(call_id=1, tool_name="emit_many", args=pack({"n": 3}))
        assert w.stub.ExecuteTool(req, timeout=20, metadata=host.metadata()).WhichOneof("outcome") == "value"
        custom = lambda: [unpack(e.measurements)["i"] for e in host.telemetry if e.event == "snakepit.python.custom"]  # noqa: E731
        assert wait_for(lambda: len(custom()) == 3, what="three custom events") and custom() == [0, 1, 2]
    finally:
        host.close()
