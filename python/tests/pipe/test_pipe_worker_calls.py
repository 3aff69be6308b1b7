"""End to end, calls: results, errors, streaming, cancellation, liveness, threads."""
import os
import tempfile

import numpy as np
import pytest

from conftest import SHOWCASE
from harness import assert_echoed, echo_args


def is_answer(cid):
    return lambda f: f.get("id") == cid and f["t"] in ("result", "error", "end")


def test_unary_result(showcase):
    assert showcase.request("add", {"a": 10, "b": 25})["value"] == {
        "result": 35, "operation": "addition", "success": True}
    pong = showcase.request("ping", {"message": "hello"})["value"]
    assert pong["status"] == "ok" and pong["message"] == "pong"


def test_values_roundtrip_through_echo(showcase):
    args = echo_args()
    assert_echoed(showcase.request("echo", args)["value"]["echoed"], args)


def test_tensor_results_and_arguments(showcase):
    out = showcase.request("make_tensor", {"n": 6, "dtype": "float64", "shape": [2, 3]})["value"]
    np.testing.assert_array_equal(out, np.arange(6, dtype=np.float64).reshape(2, 3))
    info = showcase.request("tensor_info", {"tensor": np.ones((2, 2), np.uint8)})["value"]
    assert info == {"dtype": "uint8", "shape": [2, 2], "sum": 4, "type": "ndarray"}


def test_unknown_tool(showcase):
    err = showcase.request("nope")["error"]
    assert err["code"] == "unknown_tool"
    assert err["details"]["available"] == sorted(err["details"]["available"])
    assert "add" in err["details"]["available"]


def test_invalid_args(showcase):
    for args in ({"a": 1}, {"a": 1, "b": 2, "c": 3}):
        err = showcase.request("add", args)["error"]
        assert err["code"] == "invalid_args" and err["type"] == "TypeError"


def test_python_error_has_type_message_traceback(showcase):
    err = showcase.request("raise_error", {"message": "bad key", "type": "KeyError"})["error"]
    assert err["code"] == "python_error" and err["type"] == "KeyError"
    assert "bad key" in err["message"]
    assert "raise_error" in err["traceback"] and "tool_runner.py" not in err["traceback"]


def test_structured_tool_error(showcase):
    err = showcase.request("process_list", {"items": [1, 2], "operation": "avg"})["error"]
    assert err["code"] == "unknown_operation"
    assert err["details"]["available"] == ["count", "max", "min", "sum"]
    ok = showcase.request("process_list", {"items": [1, 2, 3], "operation": "sum"})["value"]
    assert ok["result"] == 6


def test_result_over_frame_limit_becomes_an_error(spawn):
    w = spawn(SHOWCASE, env={"SNAKEPIT_MAX_FRAME_BYTES": "20000"})
    w.ready()
    err = w.request("make_tensor", {"n": 10000})["error"]
    assert err["type"] == "FrameTooLargeError"
    assert w.request("add", {"a": 1, "b": 1})["value"]["result"] == 2


def test_session_and_meta_reach_the_tool(spawn):
    w = spawn("echo_adapter.EchoAdapter")
    w.ready()
    ctx = w.request("context", session="s-1", meta={"trace": "abc"})["value"]
    assert ctx == {"session_id": "s-1", "metadata": {"trace": "abc"}, "request_id": 1,
                   "cancelled": False}
    assert w.request("context")["value"]["session_id"] is None


def test_session_state_per_worker(showcase):
    stored = showcase.request("remember", {"key": "k", "value": 42}, session="s1")["value"]
    got = showcase.request("recall", {"key": "k"}, session="s1")["value"]
    assert got["found"] and got["value"] == 42 and got["pid"] == stored["pid"]
    assert showcase.request("recall", {"key": "k"}, session="s2")["value"]["found"] is False


def test_async_tool(showcase):
    assert showcase.request("async_sleep", {"ms": 1})["value"]["slept_ms"] == 1


def test_stream_chunks_then_end(showcase):
    cid = showcase.call("stream_progress", {"steps": 3, "delay_ms": 1}, stream=True)
    frames = showcase.recv_until(is_answer(cid))
    assert [f["t"] for f in frames] == ["chunk", "chunk", "chunk", "end"]
    assert [f["data"]["step"] for f in frames[:3]] == [1, 2, 3]
    assert all(f["final"] is False for f in frames[:3])


def test_async_generator_stream(showcase):
    cid = showcase.call("async_stream", {"steps": 2, "delay_ms": 0}, stream=True)
    frames = showcase.recv_until(is_answer(cid))
    assert [f["t"] for f in frames] == ["chunk", "chunk", "end"]


def test_generator_called_unary_returns_list(showcase):
    value = showcase.request("stream_progress", {"steps": 2, "delay_ms": 0})["value"]
    assert [v["step"] for v in value] == [1, 2]


def test_non_generator_with_stream_true_returns_result(showcase):
    cid = showcase.call("add", {"a": 1, "b": 2}, stream=True)
    assert showcase.recv_until(is_answer(cid))[-1] == {"t": "result", "id": cid, "value": {
        "result": 3, "operation": "addition", "success": True}}


def test_chunk_arrives_while_generator_still_runs(spawn):
    w = spawn("slow_adapter.SlowAdapter")
    w.ready()
    cid = w.call("slow_stream", {"count": 3, "delay_ms": 60000}, stream=True)
    # The generator now sleeps a minute before its next yield: the chunk
    # must arrive anyway (no batching until the generator ends).
    assert w.recv(5) == {"t": "chunk", "id": cid, "data": {"i": 0, "count": 3}, "final": False}
    w.send({"t": "ping", "id": 1})
    assert w.recv(5) == {"t": "pong", "id": 1}


def test_cancel_sync_generator_stops_at_next_yield(spawn):
    w = spawn("slow_adapter.SlowAdapter")
    w.ready()
    cid = w.call("slow_stream", {"count": 1000, "delay_ms": 20}, stream=True)
    assert w.recv(5)["t"] == "chunk"
    w.send({"t": "cancel", "id": cid})
    frames = w.recv_until(is_answer(cid), timeout=10)
    assert frames[-1]["t"] == "error" and frames[-1]["error"]["code"] == "cancelled"
    progress = w.request("progress")["value"]
    assert progress["closed"] is True and progress["produced"] < 1000


def test_cancel_async_tool(showcase):
    cid = showcase.call("async_sleep", {"ms": 600000})
    showcase.send({"t": "cancel", "id": cid})
    err = showcase.recv_until(is_answer(cid), timeout=10)[-1]["error"]
    assert err["code"] == "cancelled"
    assert showcase.request("add", {"a": 1, "b": 2})["value"]["result"] == 3


def test_cancel_cooperative_sync_tool_and_queued_call(showcase):
    slow = showcase.call("sleep", {"ms": 600000})
    queued = showcase.call("add", {"a": 1, "b": 2})
    showcase.send({"t": "cancel", "id": queued})
    showcase.send({"t": "cancel", "id": slow})
    answers: dict = {}
    showcase.recv_until(lambda f: f["t"] == "error" and answers.setdefault(f["id"], f) is not None and len(answers) == 2, timeout=10)
    assert answers[slow]["error"]["code"] == "cancelled"
    assert answers[queued]["error"]["code"] == "cancelled"
    # The call still waiting is answered at once (it never runs), before the running one lets go.
    assert list(answers) == [queued, slow]


def test_recall_returns_a_waiting_call_and_leaves_a_running_one(showcase):
    # A stream that yields once, then sleeps 1.5 s (then sees its cancel): its first chunk proves it is running.
    slow = showcase.call("stream_progress", {"steps": 2, "delay_ms": 1500}, stream=True)
    showcase.recv_until(lambda f: f["t"] == "chunk" and f["id"] == slow)
    waiting = showcase.call("add", {"a": 1, "b": 2})
    showcase.send({"t": "recall", "id": waiting})
    assert showcase.recv_until(lambda f: f["t"] == "recalled")[-1] == {"t": "recalled", "id": waiting, "returned": True}
    showcase.send({"t": "recall", "id": slow})
    assert showcase.recv_until(lambda f: f["t"] == "recalled")[-1] == {"t": "recalled", "id": slow, "returned": False}
    showcase.send({"t": "cancel", "id": slow})
    showcase.recv_until(is_answer(slow))
    # The recalled call never runs and is never answered: the next answer is a new call's.
    follow = showcase.call("add", {"a": 2, "b": 2})
    answer = showcase.recv_until(lambda f: f["t"] in ("result", "error"))[-1]
    assert answer["id"] == follow and answer["value"]["result"] == 4


def test_cancel_of_unknown_call_is_ignored(showcase):
    showcase.send({"t": "cancel", "id": 12345})
    assert showcase.request("add", {"a": 1, "b": 1})["value"]["result"] == 2


@pytest.mark.parametrize("tool", ["busy", "hang"])
def test_ping_answered_while_sync_tool_blocks(spawn, tool):
    w = spawn("hang_adapter.HangAdapter")
    w.ready()
    w.call(tool)
    for i in range(3):
        w.send({"t": "ping", "id": 100 + i})
        assert w.recv(5) == {"t": "pong", "id": 100 + i}


def test_stdout_noise_does_not_corrupt_frames(spawn):
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        w = spawn("noisy_adapter.NoisyAdapter", stdout=out, stderr=err)
        w.ready()
        for i in range(5):
            assert w.request("echo", {"i": i, "b": b"\x00\x00\x00\x08"})["value"] == {
                "i": i, "b": b"\x00\x00\x00\x08"}
        cid = w.call("shout", {"lines": 50}, stream=True)
        assert [f["t"] for f in w.recv_until(is_answer(cid))] == ["chunk"] * 5 + ["end"]
        w.send({"t": "shutdown"})
        assert w.wait(10) == 0
        out.seek(0)
        err.seek(0)
        assert b"hello from print()" in out.read()
        assert b"some stderr text" in err.read()


def test_thread_profile_runs_calls_concurrently(spawn):
    w = spawn(SHOWCASE, "--max-concurrency", "4")
    assert w.ready()["concurrency"] == 4
    slow = w.call("sleep", {"ms": 600000})
    async_slow = w.call("async_sleep", {"ms": 600000})
    # Both still run, yet a third call is answered: calls run side by side.
    assert w.request("add", {"a": 2, "b": 3})["value"]["result"] == 5
    info = w.request("get_worker_info")["value"]
    assert info["thread"].startswith("snakepit-tool")
    cid = w.call("stream_progress", {"steps": 2, "delay_ms": 0}, stream=True)
    assert [f["t"] for f in w.recv_until(is_answer(cid)) if f.get("id") == cid] == ["chunk", "chunk", "end"]
    w.send({"t": "cancel", "id": slow})
    w.send({"t": "cancel", "id": async_slow})
    frames = w.recv_until(lambda f: f["t"] == "error", timeout=10)
    frames += w.recv_until(lambda f: f["t"] == "error", timeout=10)
    errors = {f["id"]: f["error"]["code"] for f in frames if f["t"] == "error"}
    assert errors == {slow: "cancelled", async_slow: "cancelled"}


def test_calls_pipelined_during_a_busy_call_keep_arrival_order(showcase):
    blocker = showcase.call("sleep", {"ms": 600000})
    queued = [showcase.call("add", {"a": i, "b": 0}) for i in range(3)]
    big = showcase.call("echo", {"blob": b"\x07" * (3 << 20)})  # read in place while busy
    queued.append(showcase.call("add", {"a": 3, "b": 0}))
    showcase.send({"t": "ping", "id": 1})  # behind everything above in the pipe
    assert showcase.recv(10) == {"t": "pong", "id": 1}
    showcase.send({"t": "cancel", "id": blocker})
    frames = showcase.recv_until(lambda f: f.get("id") == queued[-1], timeout=20)
    assert [f["id"] for f in frames] == [blocker, *queued[:3], big, queued[-1]]
    assert frames[0]["error"]["code"] == "cancelled"
    assert [f["value"]["result"] for f in frames if f["id"] in queued] == [0, 1, 2, 3]
    assert frames[4]["value"]["echoed"]["blob"] == b"\x07" * (3 << 20)


def test_large_frames_both_ways(showcase):
    blob = os.urandom(5 << 20)
    assert showcase.request("echo", {"blob": blob}, timeout=30)["value"]["echoed"]["blob"] == blob
    arr = showcase.request("make_tensor", {"n": 1 << 20, "dtype": "float64"}, timeout=30)["value"]
    assert arr.shape == (1 << 20,) and arr[-1] == (1 << 20) - 1


def test_echo_fixture_reports_python_types(spawn):
    w = spawn("echo_adapter.EchoAdapter")
    w.ready()
    types = w.request("types_of", {"i": 3, "f": 3.5, "big": 2**70, "b": b"x", "t": np.ones(2)})["value"]
    assert types == {"types": {"i": "int", "f": "float", "big": "int", "b": "bytes", "t": "ndarray"}}
    described = w.request("describe_array", {"value": np.arange(6, dtype=np.float32).reshape(2, 3)})
    assert described["value"] == {"type": "ndarray", "dtype": "float32", "shape": [2, 3], "sum": 15.0}


def test_stream_final_flag_and_error_after_chunks(spawn):
    w = spawn("echo_adapter.EchoAdapter")
    w.ready()
    cid = w.call("stream_items", {"count": 3}, stream=True)
    frames = w.recv_until(is_answer(cid))
    assert [(f["t"], f.get("data"), f.get("final")) for f in frames] == [
        ("chunk", 0, False), ("chunk", 1, False), ("chunk", 2, True), ("end", None, None)]
    cid = w.call("stream_items", {"count": 3, "fail_at": 2}, stream=True)
    frames = w.recv_until(is_answer(cid))
    assert [f["t"] for f in frames] == ["chunk", "chunk", "error"]
    assert frames[-1]["error"]["type"] == "ValueError"
    assert frames[-1]["error"]["code"] == "python_error"


def test_cancel_async_generator(showcase):
    cid = showcase.call("async_stream", {"steps": 3, "delay_ms": 600000}, stream=True)
    assert showcase.recv(5)["t"] == "chunk"
    showcase.send({"t": "cancel", "id": cid})
    assert showcase.recv_until(is_answer(cid), timeout=10)[-1]["error"]["code"] == "cancelled"
    assert showcase.request("add", {"a": 1, "b": 1})["value"]["result"] == 2


@pytest.mark.parametrize("concurrency", ["1", "2"])
@pytest.mark.parametrize("tool", ["stream_progress", "async_stream"])
def test_stream_window_holds_the_generator_until_credit(spawn, tool, concurrency):
    # Flow control (docs/protocol.md): `window` chunks, then nothing until the host's `credit`.
    # Both profiles: the process profile's main thread, the thread profile's pool and shared loop.
    showcase = spawn(SHOWCASE, "--max-concurrency", concurrency)
    showcase.ready()
    showcase.send({"t": "call", "id": 900, "tool": tool, "args": {"steps": 10, "delay_ms": 0},
                   "session": None, "meta": None, "stream": True, "window": 3})
    assert [showcase.recv(5)["t"] for _ in range(3)] == ["chunk"] * 3
    showcase.send({"t": "ping", "id": 901})
    assert showcase.recv(5) == {"t": "pong", "id": 901}  # held: no 4th chunk came first
    showcase.send({"t": "credit", "id": 900, "n": 2})
    assert [showcase.recv(5)["data"]["step"] for _ in range(2)] == [4, 5]
    showcase.send({"t": "ping", "id": 902})
    assert showcase.recv(5) == {"t": "pong", "id": 902}
    showcase.send({"t": "cancel", "id": 900})  # a cancel wakes the waiting generator
    frames = showcase.recv_until(is_answer(900), timeout=10)
    assert frames[-1]["t"] == "error" and frames[-1]["error"]["code"] == "cancelled"
    assert all(f["t"] != "chunk" for f in frames)


def test_compact_calls_get_compact_results(showcase):
    # Map calls get map results until the host sends a compact call (protocol 2); then results are compact.
    assert showcase.request("add", {"a": 1, "b": 2})["t"] == "result"
    showcase.send([0, 900, "add", {"a": 10, "b": 25}, "corr-900"])
    assert showcase.recv() == [1, 900, {"result": 35, "operation": "addition", "success": True}]
    # Errors, and calls with more than a compact call carries, keep their maps.
    showcase.send([0, 901, "no_such_tool", {}, None])
    error = showcase.recv()
    assert error["t"] == "error" and error["id"] == 901 and error["error"]["code"] == "unknown_tool"
    cid = showcase.call("add", {"a": 2, "b": 3}, session="s1")
    assert showcase.recv_until(lambda f: isinstance(f, list) and f[1] == cid)[-1][2]["result"] == 5


def test_a_compact_call_carries_its_correlation_id_and_no_session(showcase):
    showcase.send([0, 902, "get_worker_info", {}, "corr-902"])
    frame = showcase.recv()
    assert frame[:2] == [1, 902]
    assert frame[2]["metadata"] == {"correlation_id": "corr-902"} and frame[2]["session_id"] is None
