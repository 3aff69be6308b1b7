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


def test_measurements_keep_numbers_of_any_numeric_type_and_drop_the_rest(sent):
    import enum
    import fractions

    class Level(enum.IntEnum):
        HIGH = 3

    class Ratio(float):
        pass

    telemetry.emit("custom", {"i": 2, "f": 0.5, "enum": Level.HIGH, "sub": Ratio(1.5), "big": 2**70,
                              "flag": False, "s": "1", "none": None, "frac": fractions.Fraction(1, 2)})
    [event] = sent()
    assert event["measurements"] == {"i": 2, "f": 0.5, "enum": 3, "sub": 1.5, "big": 2**70}
    assert type(event["measurements"]["enum"]) is Level  # kept as given (msgpack writes it as an int)
    telemetry.emit("custom", {"only": 1, "plain": 2.5})  # plain numbers only: copied whole
    assert sent()[1]["measurements"] == {"only": 1, "plain": 2.5}
    telemetry.emit("custom", None)
    assert sent()[2]["measurements"] == {}


def test_full_names_are_the_same_from_the_cache(sent):
    from snakepit_bridge.telemetry.host_backend import full_name

    for _ in range(2):  # the second round reads the cache
        assert full_name("custom") == "snakepit.python.custom"
        assert full_name("python.call.start") == "snakepit.python.call.start"
        assert full_name("snakepit.python.gc.completed") == "snakepit.python.gc.completed"


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


# -- the original's API ---------------------------------------------------------------------------


def test_span_takes_the_originals_three_arguments_and_measures_in_ns(sent):
    with telemetry.span("tool.execution", {"tool": "predict"}, "corr-3"):
        pass
    start, stop = sent()
    assert start["correlation_id"] == stop["correlation_id"] == "corr-3"
    assert isinstance(start["measurements"]["system_time"], int)  # time.time_ns()
    assert stop["measurements"]["duration"] >= 0 and stop["measurements"]["duration_ms"] >= 0
    assert stop["metadata"]["tool"] == "predict"


def test_span_exception_carries_the_originals_error_fields(sent):
    with pytest.raises(ValueError):
        with telemetry.span("inference", None, None):
            raise ValueError("bad input")
    exc = sent()[1]
    assert exc["name"] == "snakepit.python.span.exception"
    assert (exc["metadata"]["error_type"], exc["metadata"]["error_message"]) == ("ValueError", "bad input")


class Recorder:
    def __init__(self):
        self.events = []

    def emit(self, event_name, measurements, metadata=None, correlation_id=None):
        self.events.append((event_name, measurements, metadata, correlation_id))


def test_backends_set_get_and_off(sent):
    assert telemetry.get_backend() is telemetry.host and telemetry.is_enabled()
    mine = Recorder()
    telemetry.set_backend(mine)
    try:
        telemetry.emit("custom", {"x": 1}, {"k": "v"}, correlation_id="c")
        assert mine.events == [("custom", {"x": 1}, {"k": "v"}, "c")] and sent() == []
        telemetry.set_backend(None)
        assert not telemetry.is_enabled()
        telemetry.emit("custom", {"x": 2})
        assert len(mine.events) == 1
    finally:
        telemetry.set_backend(telemetry.host)
    telemetry.configure({"enabled": False})
    assert not telemetry.is_enabled()


def test_stderr_backend_writes_json_lines(capsys):
    from snakepit_bridge.telemetry.backends import StderrBackend, TelemetryBackend

    backend = StderrBackend()
    assert isinstance(backend, TelemetryBackend)
    backend.emit("tool.execution.stop", {"duration": 5}, {"tool": "t"}, "c1")
    line = capsys.readouterr().err.strip()
    assert line.startswith("TELEMETRY:")
    import json

    payload = json.loads(line[len("TELEMETRY:"):])
    assert (payload["event"], payload["measurements"], payload["correlation_id"]) == ("tool.execution.stop", {"duration": 5}, "c1")


def test_correlation_ids_and_outgoing_metadata():
    assert telemetry.get_correlation_id() is None and telemetry.get_correlation_id("-") == "-"
    new = telemetry.new_correlation_id()
    assert len(new) == 32
    token = telemetry.set_correlation_id(new)
    assert telemetry.get_correlation_id() == new
    assert telemetry.outgoing_metadata([("a", "b")]) == [("a", "b"), (telemetry.CORRELATION_HEADER, new)]
    telemetry.reset_correlation_id(token)
    assert telemetry.get_correlation_id() is None and telemetry.outgoing_metadata() == []


def test_opentelemetry_helpers_without_the_sdk_are_working_no_ops():
    import logging

    telemetry.setup_tracing()
    assert telemetry.get_tracer() is None  # no opentelemetry-sdk here
    with telemetry.otel_span("BridgeService/ExecuteTool", context_metadata=[(telemetry.CORRELATION_HEADER, "from-header")],
                             attributes={"a": 1}) as current:
        assert current is None and telemetry.get_correlation_id() == "from-header"
    with telemetry.otel_span("x"):
        assert len(telemetry.get_correlation_id()) == 32  # a fresh id while inside
    assert telemetry.get_correlation_id() is None
    record = logging.makeLogRecord({})
    assert telemetry.correlation_filter().filter(record) and record.correlation_id == "-"


def test_call_events_are_off_until_the_host_asks(sent):
    from snakepit_bridge.telemetry import call_events

    assert telemetry.settings()["callEvents"] is False
    telemetry.configure({"callEvents": True})
    try:
        begun = call_events.begin("predict")
        call_events.end(begun, None)
        begun = call_events.begin("predict")
        call_events.end(begun, {"type": "KeyError", "code": "python_error"})
        assert call_events.begin(object()) is None  # a session-cleanup job is no call
    finally:
        telemetry.configure({"callEvents": False})
    names = [e["name"] for e in sent()]
    assert names == ["snakepit.python.call.start", "snakepit.python.call.stop", "snakepit.python.call.start",
                     "snakepit.python.call.exception"]
    stop, exc = sent()[1], sent()[3]
    assert stop["measurements"]["count"] == 1 and stop["measurements"]["duration"] >= 0
    assert stop["metadata"] == {"command": "predict", "tool": "predict"}
    assert (exc["metadata"]["error_type"], exc["metadata"]["code"]) == ("KeyError", "python_error")


def test_the_originals_module_paths():
    from snakepit_bridge.telemetry import manager
    from snakepit_bridge.telemetry.backends.base import TelemetryBackend
    from snakepit_bridge.telemetry.backends.stderr import StderrBackend

    assert manager.get_backend is telemetry.get_backend and issubclass(StderrBackend, TelemetryBackend)
