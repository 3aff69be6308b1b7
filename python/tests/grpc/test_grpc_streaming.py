"""gRPC transport: streaming, cancellation (CancelTool and client side), liveness under load."""
import grpc
import pytest

from conftest import SHOWCASE
from grpc_harness import pb2, wait_for
from snakepit_bridge.serialization import pack, unpack

FIXTURE = "grpc_fixture_adapter.GrpcFixtureAdapter"


def request(call_id, tool, args=None):
    return pb2.ExecuteToolRequest(call_id=call_id, tool_name=tool, args=pack(args or {}))


def cancel(stub, call_id):
    return stub.CancelTool(pb2.CancelToolRequest(call_id=call_id), timeout=10).found


@pytest.fixture
def fixture_worker(grpc_spawn):
    w = grpc_spawn(FIXTURE)
    w.ready()
    return w


def test_chunks_arrive_while_the_generator_waits(grpc_spawn, tmp_path):
    w = grpc_spawn("stream_adapter.StreamAdapter")
    w.ready()
    stream = w.stub.ExecuteStreamingTool(request(1, "gated", {"n": 3, "gate_dir": str(tmp_path)}), timeout=30)
    for i in range(3):
        # The generator is parked until we open gate i: this chunk was not batched.
        chunk = next(stream)
        assert unpack(chunk.data) == {"i": i} and chunk.is_final == (i == 2)
        (tmp_path / str(i)).touch()
    assert list(stream) == []
    assert stream.code() == grpc.StatusCode.OK


def test_async_generator_stream(grpc_spawn):
    w = grpc_spawn("stream_adapter.StreamAdapter")
    w.ready()
    chunks = list(w.stub.ExecuteStreamingTool(request(1, "async_items", {"n": 3}), timeout=10))
    assert [unpack(c.data) for c in chunks] == [{"i": 0}, {"i": 1}, {"i": 2}]


def test_error_after_chunks_is_a_final_error_chunk(grpc_spawn):
    w = grpc_spawn("echo_adapter.EchoAdapter")
    w.ready()
    chunks = list(w.stub.ExecuteStreamingTool(request(1, "stream_items", {"count": 3, "fail_at": 2}), timeout=10))
    assert [c.WhichOneof("item") for c in chunks] == ["data", "data", "error"]
    assert chunks[-1].is_final and chunks[-1].error.type == "ValueError"
    assert chunks[-1].error.code == "python_error"
    unknown = list(w.stub.ExecuteStreamingTool(request(2, "nope"), timeout=10))
    assert len(unknown) == 1 and unknown[0].error.code == "unknown_tool"


def test_cancel_sync_polling_tool(fixture_worker, tmp_path):
    stub, marker = fixture_worker.stub, tmp_path / "started"
    future = stub.ExecuteTool.future(request(1, "busy", {"marker": str(marker)}), timeout=30)
    wait_for(marker.exists, what="the tool to start")
    assert cancel(stub, 1) is True
    err = future.result(10).error
    assert err.code == "cancelled" and err.type == "ToolCancelledError"
    assert cancel(stub, 1) is False  # finished: no longer known
    assert cancel(stub, 999) is False


def test_cancel_async_tool(fixture_worker, tmp_path):
    stub, marker = fixture_worker.stub, tmp_path / "started"
    future = stub.ExecuteTool.future(request(5, "sleep_async", {"marker": str(marker)}), timeout=30)
    wait_for(marker.exists, what="the tool to start")
    assert cancel(stub, 5) is True
    assert future.result(10).error.code == "cancelled"
    assert unpack(stub.ExecuteTool(request(6, "thread_name"), timeout=10).value)


def test_cancel_queued_call_in_process_profile(fixture_worker, tmp_path):
    """As over the pipe: a cancelled queued call answers `cancelled` when its turn comes, unrun."""
    stub, marker = fixture_worker.stub, tmp_path / "started"
    blocker = stub.ExecuteTool.future(request(1, "busy", {"marker": str(marker)}), timeout=30)
    wait_for(marker.exists, what="the blocker to start")
    queued = stub.ExecuteTool.future(request(2, "sessions_seen"), timeout=30)
    cancel(stub, 2)  # found or not (queued calls may not be in yet), the call is cancelled
    assert cancel(stub, 1)
    assert blocker.result(10).error.code == "cancelled"
    assert queued.result(10).error.code == "cancelled"


def test_cancel_queued_call_in_thread_profile_answers_at_once(grpc_spawn, tmp_path):
    w = grpc_spawn(FIXTURE, "--max-workers", "2")
    w.ready()
    stub, m1, m2 = w.stub, tmp_path / "one", tmp_path / "two"
    blockers = [stub.ExecuteTool.future(request(i, "busy", {"marker": str(m)}), timeout=30)
                for i, m in ((1, m1), (2, m2))]
    wait_for(lambda: m1.exists() and m2.exists(), what="both blockers to start")
    queued = stub.ExecuteTool.future(request(3, "thread_name"), timeout=30)
    cancel(stub, 3)
    assert queued.result(10).error.code == "cancelled"
    assert not any(b.done() for b in blockers)  # answered while both still run
    assert cancel(stub, 1) and cancel(stub, 2)
    assert all(b.result(10).error.code == "cancelled" for b in blockers)


def test_cancel_that_overtakes_its_call_still_cancels_it(fixture_worker):
    """gRPC orders nothing between RPCs: a host may cancel before its call got in."""
    stub = fixture_worker.stub
    assert cancel(stub, 77) is False  # not known yet: noted
    err = stub.ExecuteTool(request(77, "thread_name"), timeout=10).error
    assert err.code == "cancelled"
    # The note was used up: the id does not stay cancelled.
    assert stub.ExecuteTool(request(77, "thread_name"), timeout=10).WhichOneof("outcome") == "value"
    assert cancel(stub, 78) is False
    chunks = list(stub.ExecuteStreamingTool(request(78, "thread_name"), timeout=10))
    assert len(chunks) == 1 and chunks[0].error.code == "cancelled"


def test_cancel_stream_with_cancel_tool(grpc_spawn):
    w = grpc_spawn("slow_adapter.SlowAdapter")
    w.ready()
    stream = w.stub.ExecuteStreamingTool(request(1, "slow_stream", {"count": 1000, "delay_ms": 20}), timeout=30)
    assert next(stream).WhichOneof("item") == "data"
    assert cancel(w.stub, 1)
    chunks = list(stream)
    assert chunks[-1].error.code == "cancelled" and chunks[-1].is_final
    assert stream.code() == grpc.StatusCode.OK
    progress = unpack(w.stub.ExecuteTool(request(2, "progress"), timeout=10).value)
    assert progress["closed"] is True and progress["produced"] < 1000


def test_client_cancelling_a_stream_stops_the_generator(grpc_spawn):
    w = grpc_spawn("slow_adapter.SlowAdapter")
    w.ready()
    stream = w.stub.ExecuteStreamingTool(request(1, "slow_stream", {"count": 1000, "delay_ms": 20}), timeout=30)
    assert next(stream).WhichOneof("item") == "data"
    stream.cancel()
    with pytest.raises(grpc.RpcError) as info:
        list(stream)
    assert info.value.code() == grpc.StatusCode.CANCELLED
    # Process profile: `progress` runs only once the stream's generator let go.
    progress = unpack(w.stub.ExecuteTool(request(2, "progress"), timeout=10).value)
    assert progress["closed"] is True and progress["produced"] < 1000


def test_client_deadline_cancels_a_unary_call(grpc_spawn):
    w = grpc_spawn(SHOWCASE)
    w.ready()
    with pytest.raises(grpc.RpcError) as info:
        w.stub.ExecuteTool(request(1, "sleep", {"ms": 600000}), timeout=0.5)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # The sleep saw its cancel flag, so the next call (process profile) runs now.
    assert unpack(w.stub.ExecuteTool(request(2, "add", {"a": 1, "b": 2}), timeout=10).value)["result"] == 3


def test_ping_answered_while_a_sync_tool_busy_loops(fixture_worker, tmp_path):
    stub, marker = fixture_worker.stub, tmp_path / "started"
    future = stub.ExecuteTool.future(request(1, "busy", {"marker": str(marker)}), timeout=60)
    wait_for(marker.exists, what="the tool to start")
    for _ in range(3):
        assert stub.Ping(pb2.PingRequest(), timeout=5).message == "pong"
    assert not future.done()
    assert cancel(stub, 1)
    assert future.result(10).error.code == "cancelled"


def test_control_rpcs_need_no_free_handler_thread(grpc_spawn, tmp_path):
    """Every handler thread is taken by a running tool: Ping/Describe/CancelTool still pass."""
    w = grpc_spawn(FIXTURE, "--max-workers", "2", env={"SNAKEPIT_GRPC_THREADS": "2"})
    w.ready()
    stub, busy_marker, sleep_marker = w.stub, tmp_path / "busy", tmp_path / "sleep"
    busy = stub.ExecuteTool.future(request(1, "busy", {"marker": str(busy_marker)}), timeout=60)
    asleep = stub.ExecuteTool.future(request(2, "sleep_async", {"marker": str(sleep_marker)}), timeout=60)
    wait_for(lambda: busy_marker.exists() and sleep_marker.exists(), what="both tools to start")
    assert stub.Ping(pb2.PingRequest(), timeout=5).message == "pong"
    assert stub.Describe(pb2.DescribeRequest(), timeout=5).pid == w.proc.pid
    assert cancel(stub, 1) and cancel(stub, 2)
    assert busy.result(10).error.code == "cancelled"
    assert asleep.result(10).error.code == "cancelled"


def test_value_over_message_limit_becomes_an_error(grpc_spawn):
    w = grpc_spawn(SHOWCASE, env={"SNAKEPIT_GRPC_MAX_MESSAGE_BYTES": "20000"})
    w.ready()
    err = w.stub.ExecuteTool(request(1, "make_tensor", {"n": 10000}), timeout=10).error
    assert err.type == "FrameTooLargeError"
    chunks = list(w.stub.ExecuteStreamingTool(request(2, "make_tensor", {"n": 10000}), timeout=10))
    assert chunks[-1].error.type == "FrameTooLargeError"
    assert unpack(w.stub.ExecuteTool(request(3, "add", {"a": 1, "b": 1})).value)["result"] == 2


def test_large_values_both_ways(grpc_spawn):
    w = grpc_spawn(SHOWCASE, mode="unix")
    w.ready()
    blob = bytes(range(256)) * (20 << 12)  # 20 MiB
    r = w.stub.ExecuteTool(request(1, "echo", {"blob": blob}), timeout=60)
    assert unpack(r.value)["echoed"]["blob"] == blob
