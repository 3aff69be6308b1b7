"""Adapters written the original's way (test/fixtures/python/original_style), unit-tested as the original's
users did (``SessionContext(stub, session_id)``, ``execute_tool`` called directly) and served by real workers."""
import subprocess
import sys

import pytest

from grpc_harness import PYTHONPATH, pb2
from harness import PYTHON_DIR
from original_style.showcase_adapter import ShowcaseAdapter
from original_style.template_adapter import TemplateAdapter
from snakepit_bridge import telemetry
from snakepit_bridge.serialization import pack, unpack
from snakepit_bridge.session_context import SessionContext
from snakepit_bridge.streaming import unwrap_chunk

SHOWCASE = "original_style.showcase_adapter.ShowcaseAdapter"
TEMPLATE = "original_style.template_adapter.TemplateAdapter"


class Stub:
    """The gRPC stub the original handed to SessionContext; adapter tests pass a fake."""


# -- unit tests, the original's way ---------------------------------------------------------------


def test_execute_tool_called_directly_with_the_originals_context():
    adapter = ShowcaseAdapter()
    stub = Stub()
    ctx = SessionContext(stub, "unit-1", request_metadata={"trace": "t"})
    adapter.set_session_context(ctx)
    assert adapter.execute_tool("increment_counter", {}, ctx) == {"value": 1, "session_id": "unit-1"}
    assert adapter.execute_tool("increment_counter", {}, ctx)["value"] == 2
    assert adapter.execute_tool("add", {"a": 1, "b": 2}, ctx) == 3
    assert adapter.describe_context() == {"session_id": "unit-1", "metadata": {"trace": "t"}, "stub": stub}
    assert adapter.execute_tool("process_text", {"text": "ab"}, ctx)["result"] == "AB"  # via call_tool
    with pytest.raises(AttributeError):
        adapter.execute_tool("nope", {}, ctx)


def test_tools_found_through_the_originals_metadata_attribute():
    stats = ShowcaseAdapter().get_stats()
    assert stats["adapter"]["registered_tools"] == 4 and stats["system"]["memory_usage_mb"] > 0


def test_private_chunks_unwrap_to_their_data():
    adapter = ShowcaseAdapter()
    ctx = SessionContext(Stub(), "s")
    chunks = [unwrap_chunk(c) for c in adapter.execute_tool("stream_data", {"count": 2}, ctx)]
    assert chunks == [({"index": 1, "total": 2, "message": "Chunk 1/2"}, False, {"chunk": 1}),
                      ({"index": 2, "total": 2, "message": "Chunk 2/2"}, True, {"chunk": 2})]


def test_the_three_argument_span_through_a_backend_of_the_tests():
    seen = []

    class Backend:
        def emit(self, event, measurements, metadata=None, correlation_id=None):
            seen.append((event, correlation_id))

    telemetry.set_backend(Backend())
    token = telemetry.bind_call("corr-u")
    try:
        out = ShowcaseAdapter().execute_tool("telemetry_demo", {"operation": "u"}, SessionContext(Stub(), "s"))
    finally:
        telemetry.reset_call(token)
        telemetry.set_backend(telemetry.host)
    assert out["correlation_id"] == "corr-u" and out["enabled"] is True
    assert seen == [("tool.execution.start", "corr-u")] * 2 + [("tool.execution.stop", "corr-u")]


def test_host_tools_without_a_host():
    ctx = SessionContext(Stub(), "s")
    assert ctx.elixir_tools == {}
    with pytest.raises(RuntimeError):  # no host to ask: a failure, not "not found"
        ShowcaseAdapter().execute_tool("call_elixir_demo", {"tool_name": "x"}, ctx)


# -- served by a pipe worker ---------------------------------------------------------------------


def test_pipe_worker_routes_names_to_execute_tool_and_says_so(spawn):
    w = spawn(SHOWCASE)
    ready = w.ready()
    assert ready["dynamic_tools"] is True
    assert [t["name"] for t in ready["tools"]] == ["adapter_info", "count_up", "get_stats", "process_text"]
    assert w.request("add", {"a": 2, "b": 3})["value"] == 5
    assert w.request("increment_counter", session="p-1")["value"]["value"] == 1
    err = w.request("nope")["error"]
    assert (err["code"], err["type"], err["details"]) == (
        "unknown_tool", "UnknownToolError", {"available": ["adapter_info", "count_up", "get_stats", "process_text"]})
    cid = w.call("stream_data", {"count": 2}, stream=True)
    frames = w.recv_until(lambda f: f.get("id") == cid and f["t"] in ("end", "error"))
    chunks = [(f["data"]["index"], f["final"], f.get("metadata")) for f in frames if f["t"] == "chunk"]
    assert chunks == [(1, False, {"chunk": 1}), (2, True, {"chunk": 2})]


def test_a_worker_without_execute_tool_reports_no_dynamic_tools(spawn):
    w = spawn("snakepit_bridge.adapters.showcase.ShowcaseAdapter")  # routes nothing itself
    assert "dynamic_tools" not in w.ready()
    assert w.request("nope")["error"]["code"] == "unknown_tool"


def test_pipe_template_adapter_and_call_events_on_request(spawn):
    w = spawn(TEMPLATE)
    ready = w.ready()
    assert (ready["tools"], ready["dynamic_tools"]) == ([], True)
    w.send({"t": "telemetry_control", "callEvents": True})
    cid = w.call("multiply", {"a": 6, "b": 7})
    seen = {"result": None, "events": []}

    def until_both(frame):
        if frame.get("id") == cid and frame["t"] == "result":
            seen["result"] = frame["value"]
        elif frame["t"] == "telemetry":
            seen["events"] += [e["name"] for e in frame["events"]]
        return seen["result"] is not None and "snakepit.python.call.stop" in seen["events"]

    w.recv_until(until_both)
    assert seen == {"result": {"result": 42}, "events": ["snakepit.python.call.start", "snakepit.python.call.stop"]}
    err = w.request("other")["error"]
    assert (err["code"], err["type"]) == ("python_error", "NotImplementedError")


# -- served over gRPC, from the original's script path --------------------------------------------


def test_grpc_worker_started_from_the_grpc_server_script(grpc_spawn):
    g = grpc_spawn(SHOWCASE, mode="tcp", server=[sys.executable, str(PYTHON_DIR / "grpc_server.py")])
    g.ready()
    described = g.stub.Describe(pb2.DescribeRequest(), timeout=10)
    assert described.dynamic_tools is True
    out = g.stub.ExecuteTool(pb2.ExecuteToolRequest(call_id=1, tool_name="add", args=pack({"a": 1, "b": 1})), timeout=10)
    assert unpack(out.value) == 2
    chunks = list(g.stub.ExecuteStreamingTool(pb2.ExecuteToolRequest(
        call_id=2, tool_name="stream_data", args=pack({"count": 2})), timeout=10))
    assert [(unpack(c.data)["index"], c.is_final, unpack(c.metadata)) for c in chunks] == [
        (1, False, {"chunk": 1}), (2, True, {"chunk": 2})]


@pytest.mark.parametrize("script", ["grpc_server.py", "grpc_server_threaded.py"])
def test_the_originals_scripts_health_check(script):
    out = subprocess.run([sys.executable, str(PYTHON_DIR / script), "--health-check", "--adapter", SHOWCASE,
                          "--elixir-address", "localhost:50051"], capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": PYTHONPATH}, cwd="/")
    assert (out.returncode, out.stdout.strip()) == (0, "OK"), out.stderr
