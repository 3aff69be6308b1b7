"""gRPC streams with chunk_batch and window: batched messages from a real worker, credit, cancel mid-batch."""
import grpc

from grpc_harness import chunks_in, pb2, wait_for
from snakepit_bridge.serialization import pack, unpack

STREAMS = "stream_adapter.StreamAdapter"


def request(call_id, tool, args=None, chunk_batch=64, window=0):
    return pb2.ExecuteToolRequest(call_id=call_id, tool_name=tool, args=pack(args or {}),
                                  chunk_batch=chunk_batch, window=window)


def chunks_of(messages):
    """Each message's chunk, then those in its ``batch``."""
    for message in messages:
        yield from chunks_in(message)


def test_a_fast_stream_is_batched_in_order_with_final_flags_and_metadata(grpc_spawn):
    w = grpc_spawn(STREAMS)
    w.ready()
    count = 3_000
    messages = list(w.stub.ExecuteStreamingTool(request(1, "burst", {"count": count, "meta_every": 7}), timeout=60))
    chunks = list(chunks_of(messages))
    assert [c.value for c in chunks] == [{"i": i} for i in range(count)]
    assert [c.final for c in chunks] == [i == count - 1 for i in range(count)]
    assert [c.metadata for c in chunks] == [{"k": i} if i % 7 == 0 else None for i in range(count)]
    assert len(messages) < count  # chunks travelled together
    assert max(len(chunks_in(m)) for m in messages) <= 64


def test_without_chunk_batch_each_chunk_is_its_own_message(grpc_spawn):
    w = grpc_spawn(STREAMS)
    w.ready()
    messages = list(w.stub.ExecuteStreamingTool(request(1, "burst", {"count": 200}, chunk_batch=0), timeout=30))
    assert len(messages) == 200 and not any(m.batch for m in messages)


def test_a_chunk_leaves_while_its_generator_waits(grpc_spawn, tmp_path):
    w = grpc_spawn(STREAMS)
    w.ready()
    stream = w.stub.ExecuteStreamingTool(request(1, "gated", {"n": 3, "gate_dir": str(tmp_path)}), timeout=30)
    for i in range(3):
        message = next(stream)  # the generator is parked until gate i opens: nothing held it back
        assert unpack(message.data) == {"i": i} and not message.batch
        (tmp_path / str(i)).touch()
    assert list(stream) == []


def test_window_holds_the_generator_until_credit_is_granted(grpc_spawn, tmp_path):
    w = grpc_spawn(STREAMS)
    w.ready()
    progress = tmp_path / "produced"
    produced = lambda: int(progress.read_bytes() or b"0") if progress.exists() else 0  # noqa: E731
    stream = w.stub.ExecuteStreamingTool(
        request(1, "numbered", {"count": 1_000, "pad": 1, "progress_file": str(progress)}, window=8), timeout=30)
    received = chunks_of(stream)
    for i in range(8):
        assert next(received).value["i"] == i
    # All 8 are here; without credit the generator would be far ahead by now.
    assert produced() == 8
    assert w.stub.GrantCredit(pb2.GrantCreditRequest(call_id=1, n=4), timeout=5).found
    for i in range(8, 12):
        assert next(received).value["i"] == i
    wait_for(lambda: produced() == 12, what="the generator to use its credit")
    assert produced() == 12
    assert w.stub.CancelTool(pb2.CancelToolRequest(call_id=1), timeout=5).found
    rest = list(received)
    assert rest[-1].error.code == "cancelled"
    assert not w.stub.GrantCredit(pb2.GrantCreditRequest(call_id=1, n=4), timeout=5).found  # over
    assert not w.stub.GrantCredit(pb2.GrantCreditRequest(call_id=99, n=1), timeout=5).found


def test_describe_announces_stream_credit(grpc_spawn):
    w = grpc_spawn(STREAMS)
    w.ready()
    assert w.stub.Describe(pb2.DescribeRequest(), timeout=5).stream_credit


def test_cancel_mid_batch_ends_the_stream_after_whole_chunks(grpc_spawn):
    w = grpc_spawn(STREAMS)
    w.ready()
    stream = w.stub.ExecuteStreamingTool(request(1, "endless", {"pause_ms": 0}), timeout=30)
    received = chunks_of(stream)
    for n in range(1, 501):
        assert next(received).value == {"n": n}
    assert w.stub.CancelTool(pb2.CancelToolRequest(call_id=1), timeout=5).found
    rest = list(received)
    assert stream.code() == grpc.StatusCode.OK
    *data, last = rest
    # The chunks already yielded still arrive, in order and whole; then the final `cancelled` error.
    assert [c.value["n"] for c in data] == list(range(501, 501 + len(data)))
    assert last.error is not None and last.error.code == "cancelled" and last.final
    state = unpack(w.stub.ExecuteTool(request(2, "last_endless", chunk_batch=0), timeout=10).value)
    assert state["closed"] is True
