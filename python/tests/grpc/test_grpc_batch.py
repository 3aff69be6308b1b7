"""gRPC transport: ExecuteBatch (``batch.py``): results in order, per-input errors, fail-fast,
cancellation, a batch whose items do not decode, the thread profile."""
import pytest

from grpc_harness import pb2
from snakepit_bridge.serialization import pack, unpack

MAP = "map_adapter.MapAdapter"


def batch(call_id, tool, items, fail_fast=False, raw_items=None):
    call = pb2.ExecuteToolRequest(call_id=call_id, tool_name=tool)
    return pb2.ExecuteBatchRequest(call=call, items=raw_items if raw_items is not None else pack(items), fail_fast=fail_fast)


def results(messages):
    """Values in order, error maps by overall index, and the batch's own error (or None)."""
    values, errors, failure = [], {}, None
    for m in messages:
        if m.HasField("error"):
            failure = m.error
            continue
        for e in m.errors:
            errors[len(values) + e.index] = e.error
        values.extend(unpack(m.values))
    return values, errors, failure


@pytest.fixture
def worker(grpc_spawn):
    w = grpc_spawn(MAP)
    w.ready()
    return w


def test_results_in_order_with_each_inputs_error(worker):
    items = [{"x": i, "bad": [2]} for i in range(5)] + [{"y": 1}]
    values, errors, failure = results(worker.stub.ExecuteBatch(batch(1, "square_unless", items), timeout=10))
    assert failure is None
    assert values == [0, 1, None, 9, 16, None]
    assert {i: (e.code, e.type) for i, e in errors.items()} == {2: ("python_error", "ValueError"), 5: ("invalid_args", "TypeError")}


def test_fail_fast_stops_at_the_first_failure(worker):
    items = [{"x": i, "bad": [1]} for i in range(4)]
    values, errors, _ = results(worker.stub.ExecuteBatch(batch(1, "square_unless", items, fail_fast=True), timeout=10))
    assert values == [0, None] and list(errors) == [1]


def test_cancel_tool_stops_the_batch_before_its_next_input(worker):
    stream = worker.stub.ExecuteBatch(batch(7, "slow", [{"x": i, "ms": 30} for i in range(100)]), timeout=30)
    first = next(stream)
    assert unpack(first.values)[0] == 0
    assert worker.stub.CancelTool(pb2.CancelToolRequest(call_id=7), timeout=10).found
    values, _, failure = results([first, *stream])
    assert failure is not None and failure.code == "cancelled"
    assert values == list(range(len(values))) and len(values) < 100


def test_items_that_are_not_an_array(worker):
    messages = list(worker.stub.ExecuteBatch(batch(1, "square", None, raw_items=pack({"x": 1})), timeout=10))
    assert len(messages) == 1 and messages[0].error.code == "invalid_args"


def test_unknown_tool_fails_the_batch(worker):
    _, _, failure = results(worker.stub.ExecuteBatch(batch(1, "nope", [{"x": 1}]), timeout=10))
    assert failure.code == "unknown_tool"


def test_thread_profile_runs_batches_side_by_side(grpc_spawn):
    w = grpc_spawn(MAP, "--max-concurrency", "2", env={"SNAKEPIT_REQUIRE_THREAD_SAFE": "0"})
    w.ready()
    slow = w.stub.ExecuteBatch(batch(1, "slow", [{"x": i, "ms": 20} for i in range(50)]), timeout=30)
    first = next(slow)  # the slow batch holds one slot ...
    values, _, failure = results(w.stub.ExecuteBatch(batch(2, "square", [{"x": 3}]), timeout=10))
    assert failure is None and values == [9]  # ... the other runs meanwhile
    assert w.stub.CancelTool(pb2.CancelToolRequest(call_id=1), timeout=10).found
    assert results([first, *slow])[2].code == "cancelled"
