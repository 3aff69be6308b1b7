"""snakepit_bridge.telemetry: emit, spans, correlation ids, sampling and filters."""
import pytest

from snakepit_bridge import telemetry


@pytest.fixture()
def sent():
    batches = []
    telemetry.install_sink(batches.append)
    telemetry.configure({"sampling": 1, "allow": None, "deny": [], "enabled": True})
    yield lambda: [e for b in batches for e in b]
    telemetry.install_sink(None)
    telemetry.configure({"sampling": 1, "allow": None, "deny": [], "enabled": True})


def test_emit_outside_a_call_is_sent_at_once_with_the_full_name(sent):
    telemetry.emit("custom", {"x": 1, "flag": True, "s": "no"}, {"k": "v"})
    [event] = sent()
    assert event["name"] == "snakepit.python.custom"
    assert event["measurements"] == {"x": 1}  # numbers only
    assert event["metadata"] == {"k": "v"} and event["correlation_id"] is None


def test_inside_a_call_events_wait_for_the_answer_and_carry_the_correlation_id(sent):
    token = telemetry.bind_call("corr-1")
    assert telemetry.get_correlation_id() == "corr-1"
    telemetry.emit("custom", {"x": 1})
    assert sent() == []
    telemetry.reset_call(token)  # the call ended: flushed
    assert [e["correlation_id"] for e in sent()] == ["corr-1"]
    assert telemetry.get_correlation_id() is None


def test_span_start_stop_nested(sent):
    with telemetry.span("tool.execution", {"a": 1}):
        with telemetry.span("inner"):
            pass
    names = [e["name"] for e in sent()]
    assert names == ["snakepit.python.tool.execution.start", "snakepit.python.span.start",
                     "snakepit.python.span.stop", "snakepit.python.tool.execution.stop"]
    outer, inner = sent()[0], sent()[1]
    assert inner["metadata"]["parent_span_id"] == outer["metadata"]["span_id"]
    assert inner["metadata"]["span"] == "inner"
    assert sent()[3]["measurements"]["duration_ms"] >= 0


def test_span_exception_is_reported_and_reraised(sent):
    with pytest.raises(KeyError):
        with telemetry.span("tool.execution"):
            raise KeyError("k")
    assert [e["name"] for e in sent()] == ["snakepit.python.tool.execution.start", "snakepit.python.tool.execution.exception"]
    assert sent()[1]["metadata"]["kind"] == "KeyError"


@pytest.mark.parametrize("control, kept", [
    ({"sampling": 0}, 0),
    ({"enabled": False}, 0),
    ({"deny": ["custom"]}, 0),
    ({"allow": ["memory.sampled"]}, 0),
    ({"allow": ["custom"]}, 3),
    ({"sampling": 1}, 3),
])
def test_sampling_and_filters(sent, control, kept):
    telemetry.configure(control)
    for _ in range(3):
        telemetry.emit("custom", {"x": 1})
    assert len(sent()) == kept


# -- over gRPC: the ConfigureTelemetry RPC (attached workers have no control pipe) ----------------


def test_configure_telemetry_rpc_applies_and_answers_the_settings(grpc_spawn):
    import grpc
    from grpc_harness import pb2
    from snakepit_bridge.serialization import pack, unpack

    w = grpc_spawn(mode="tcp")
    w.ready()
    answer = w.stub.ConfigureTelemetry(pb2.TelemetryControl(control=pack({"sampling": 0, "deny": ["memory.sampled"]})), timeout=10)
    assert unpack(answer.settings) == {"sampling": 0.0, "allow": None, "deny": ["snakepit.python.memory.sampled"],
                                       "enabled": True, "callEvents": False, "resourceIntervalMs": 0}
    # Keys left out keep their value; the worker keeps serving.
    kept = unpack(w.stub.ConfigureTelemetry(pb2.TelemetryControl(control=pack({"enabled": False})), timeout=10).settings)
    assert (kept["sampling"], kept["enabled"]) == (0.0, False)
    assert w.stub.Ping(pb2.PingRequest(), timeout=5).message == "pong"
    with pytest.raises(grpc.RpcError) as bad:
        w.stub.ConfigureTelemetry(pb2.TelemetryControl(control=pack([1, 2])), timeout=10)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
