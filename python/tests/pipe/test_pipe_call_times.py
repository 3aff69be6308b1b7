"""Call times in compact answers (docs/protocol.md "Compact frames").

With the bridge's call events on and ``callTimes`` in the host's settings, a compact answer on the process
profile carries its call's times, ``[1, id, value, flags, system_time_ns, duration_ns]``, and the host builds
``python.call.start``/``stop`` itself: no event maps and no telemetry frame for a call that emitted nothing.
A call that emitted events keeps them in order after its start; errors, old hosts and filters keep the
telemetry frame.
"""
import threading
import time

from conftest import SHOWCASE

TELEMETRY = "telemetry_adapter.TelemetryAdapter"
START, STOP = "snakepit.python.call.start", "snakepit.python.call.stop"
BOTH, STOP_ONLY = 3, 2


def ready(spawn, adapter=TELEMETRY, call_times=True, *args, **control):
    w = spawn(adapter, *args, env={"SNAKEPIT_REQUIRE_THREAD_SAFE": "0"})
    w.ready()
    settings = {"t": "telemetry_control", "callEvents": True, **control}
    if call_times:
        settings["callTimes"] = True
    w.send(settings)
    return w


def answer_and_events(w, call_id):
    """The telemetry frames' event names before the compact answer of ``call_id``, and that answer."""
    names = []
    while True:
        frame = w.recv()
        if isinstance(frame, list):
            assert frame[1] == call_id
            return names, frame
        if frame.get("t") == "telemetry":
            names.extend(e["name"] for e in frame["events"])
        elif frame.get("id") == call_id:  # a map answer (an error)
            return names, frame


def test_a_call_that_emits_nothing_sends_its_times_in_its_answer_and_no_telemetry_frame(spawn):
    w = ready(spawn)
    before = time.time_ns()
    w.send([0, 1, "pid", {}, "corr-1"])
    names, answer = answer_and_events(w, 1)
    assert names == []
    assert len(answer) == 6 and answer[3] == BOTH
    system_time, duration = answer[4], answer[5]
    assert before <= system_time <= time.time_ns()
    assert 0 < duration < 10 * 10**9


def test_events_the_tool_emits_keep_the_start_before_them_and_the_answer_carries_the_stop(spawn):
    w = ready(spawn)
    w.send([0, 2, "emit_many", {"n": 2}, "corr-2"])
    names, answer = answer_and_events(w, 2)
    assert names == [START, "snakepit.python.custom", "snakepit.python.custom"]
    assert len(answer) == 6 and answer[3] == STOP_ONLY


def test_on_the_thread_profile_the_start_goes_in_the_telemetry_frame_and_the_answer_carries_the_stop(spawn):
    w = ready(spawn, TELEMETRY, True, "--max-concurrency", "2")
    w.send([0, 8, "pid", {}, "corr-8"])
    names, answer = answer_and_events(w, 8)
    assert names == [START]
    assert len(answer) == 6 and answer[3] == STOP_ONLY


def test_a_host_that_does_not_read_times_gets_the_telemetry_frame(spawn):
    w = ready(spawn, call_times=False)
    w.send([0, 3, "pid", {}, "corr-3"])
    names, answer = answer_and_events(w, 3)
    assert names == [START, STOP]
    assert len(answer) == 3


def test_a_failed_call_sends_start_and_exception_in_a_telemetry_frame(spawn):
    w = ready(spawn)
    w.send([0, 4, "failing_span", {}, "corr-4"])
    names, answer = answer_and_events(w, 4)
    assert answer["t"] == "error"
    assert names[0] == START and names[-1] == "snakepit.python.call.exception"


def test_a_filtered_start_is_neither_carried_nor_sent(spawn):
    w = ready(spawn, deny=[START])
    w.send([0, 5, "pid", {}, None])
    names, answer = answer_and_events(w, 5)
    assert names == []
    assert answer[3] == STOP_ONLY


def test_an_answer_over_the_frame_limit_sends_its_times_as_events_before_the_error(spawn):
    w = spawn(SHOWCASE, env={"SNAKEPIT_MAX_FRAME_BYTES": "20000"})
    w.ready()
    w.send({"t": "telemetry_control", "callEvents": True, "callTimes": True})
    w.send([0, 6, "make_tensor", {"n": 10000}, None])
    names, answer = answer_and_events(w, 6)
    assert answer["t"] == "error" and answer["error"]["type"] == "FrameTooLargeError"
    assert names == [START, STOP]


def test_a_flush_while_the_start_is_held_back_puts_it_first_in_its_place():
    """Another thread's event (no call bound) flushes the buffer: the held-back start leaves before the call's
    own events, and the answer can no longer carry it."""
    from snakepit_bridge import telemetry
    from snakepit_bridge.telemetry import call_events

    batches = []
    telemetry.install_sink(batches.append)
    host = telemetry.host
    host.configure({"callEvents": True, "callTimes": True})
    token = telemetry.bind_call("corr-7")
    try:
        begun = call_events.begin("tool_x", True)
        telemetry.emit("custom", {"i": 1})  # the call's own: buffered behind the held-back start
        other = threading.Thread(target=lambda: telemetry.emit("custom", {"i": 2}))  # no call bound: flushes
        other.start()
        other.join()
        flags, _, _ = call_events.carry(begun)
        call_events.end(begun, None)  # carried: nothing more
        telemetry.reset_call(token)
    finally:
        host.configure({"callEvents": False, "callTimes": False})
        telemetry.install_sink(None)
    sent = [(e["name"], e["measurements"].get("i")) for batch in batches for e in batch]
    assert sent == [(START, None), ("snakepit.python.custom", 1), ("snakepit.python.custom", 2)]
    assert flags == STOP_ONLY
    assert batches[0][0]["correlation_id"] == "corr-7"


def test_a_backend_of_the_adapters_own_gets_both_events_and_the_answer_carries_none():
    from snakepit_bridge import telemetry
    from snakepit_bridge.telemetry import call_events

    seen = []

    class Recorder:
        def emit(self, name, measurements=None, metadata=None, correlation_id=None):
            seen.append(name)

    host = telemetry.host
    host.configure({"callEvents": True, "callTimes": True})
    telemetry.install_sink(lambda batch: None)
    telemetry.set_backend(Recorder())
    try:
        begun = call_events.begin("tool_y", True)
        assert call_events.carry(begun) is None
        call_events.end(begun, None)
    finally:
        telemetry.set_backend(host)
        telemetry.install_sink(None)
        host.configure({"callEvents": False, "callTimes": False})
    assert seen == ["python.call.start", "python.call.stop"]
