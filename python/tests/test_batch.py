"""Batches over the pipe (``batch.py``): inputs run back to back, results in order, per-input errors,
fail-fast, cancellation, streaming of results as they finish, session restore, unsendable values."""
from conftest import SHOWCASE

MAP = "map_adapter.MapAdapter"


def send_batch(w, tool, items, *, fail_fast=False, **extra):
    w._next_id += 1
    w.send({"t": "batch", "id": w._next_id, "tool": tool, "items": items, "fail_fast": fail_fast,
            "session": None, "meta": None, **extra})
    return w._next_id


def run_batch(w, tool, items, timeout=10.0, **kw):
    """Send a batch; return (its items frames, its last frame: end or error)."""
    bid = send_batch(w, tool, items, **kw)
    frames = [f for f in w.recv_until(lambda f: f.get("id") == bid and f["t"] in ("end", "error"), timeout)
              if f.get("id") == bid]
    return frames[:-1], frames[-1]


def results(items_frames):
    """The values of every items frame in order, and the error maps by overall index."""
    values, errors = [], {}
    for frame in items_frames:
        assert frame["t"] == "items"
        for at, err in frame.get("errors", []):
            errors[len(values) + at] = err
        values.extend(frame["values"])
    return values, errors


def test_results_in_input_order(spawn):
    w = spawn(MAP)
    w.ready()
    frames, last = run_batch(w, "square", [{"x": i} for i in range(500)])
    assert last["t"] == "end"
    values, errors = results(frames)
    assert values == [i * i for i in range(500)] and errors == {}
    # Tiny inputs go out together, not one frame each.
    assert len(frames) < 50


def test_settle_runs_past_failures_with_each_error_map(spawn):
    w = spawn(MAP)
    w.ready()
    items = [{"x": i, "bad": [1, 3]} for i in range(5)] + [{"y": 1}, "not a map"]
    frames, last = run_batch(w, "square_unless", items)
    assert last["t"] == "end"
    values, errors = results(frames)
    assert values == [0, None, 4, None, 16, None, None]
    assert {i: (e["code"], e["type"]) for i, e in errors.items()} == {
        1: ("python_error", "ValueError"), 3: ("python_error", "ValueError"),
        5: ("invalid_args", "TypeError"), 6: ("invalid_args", "TypeError")}
    assert "bad input 1" in errors[1]["message"] and "square_unless" in errors[1]["traceback"]
    assert "tool_runner.py" not in errors[1]["traceback"]


def test_fail_fast_stops_at_the_first_failure(spawn):
    w = spawn(MAP)
    w.ready()
    frames, last = run_batch(w, "square_unless", [{"x": i, "bad": [2]} for i in range(6)], fail_fast=True)
    assert last["t"] == "end"
    values, errors = results(frames)
    assert values == [0, 1, None] and list(errors) == [2]
    assert w.request("seen_inputs")["value"] == [0, 1, 2]


def test_results_stream_back_as_inputs_finish(spawn):
    w = spawn(MAP)
    w.ready()
    bid = send_batch(w, "slow", [{"x": i, "ms": 40} for i in range(3)])
    first = w.recv()
    assert first["t"] == "items" and first["id"] == bid and first["values"] == [0]
    rest = w.recv_until(lambda f: f.get("id") == bid and f["t"] == "end")
    values, _ = results([first, *rest[:-1]])
    assert values == [0, 1, 2] and len(rest) - 1 >= 1


def test_cancel_stops_before_the_next_input(spawn):
    w = spawn(MAP)
    w.ready()
    bid = send_batch(w, "slow", [{"x": i, "ms": 30} for i in range(100)])
    first = w.recv()
    assert first["t"] == "items"
    w.send({"t": "cancel", "id": bid})
    rest = w.recv_until(lambda f: f.get("id") == bid and f["t"] in ("end", "error"))
    assert rest[-1]["t"] == "error" and rest[-1]["error"]["code"] == "cancelled"
    values, _ = results([first, *rest[:-1]])
    assert values == list(range(len(values))) and len(values) < 100
    # The worker let go: it serves the next call, and ran no input after the cancel.
    seen = w.request("seen_inputs")["value"]
    assert seen[: len(values)] == values and len(seen) <= len(values) + 1


def test_async_and_generator_tools(spawn):
    w = spawn(MAP)
    w.ready()
    frames, _ = run_batch(w, "async_square", [{"x": i} for i in range(4)])
    assert results(frames)[0] == [0, 1, 4, 9]
    frames, _ = run_batch(w, "upto", [{"x": i} for i in range(3)])
    assert results(frames)[0] == [[], [0], [0, 1]]


def test_items_that_are_not_an_array_fail_the_batch(spawn):
    w = spawn(MAP)
    w.ready()
    frames, last = run_batch(w, "square", {"x": 1})
    assert frames == [] and last["t"] == "error" and last["error"]["code"] == "invalid_args"


def test_unknown_tool_fails_the_batch(spawn):
    w = spawn(MAP)
    w.ready()
    frames, last = run_batch(w, "nope", [{"x": 1}])
    assert frames == [] and last["t"] == "error" and last["error"]["code"] == "unknown_tool"


def test_session_restore_runs_once_before_the_inputs(spawn):
    w = spawn(SHOWCASE)
    w.ready()
    frames, last = run_batch(w, "restored_state", [{}, {}], session="s1", restore={"k": 1})
    assert last["t"] == "end" and results(frames)[0] == [{"k": 1}, {"k": 1}]


def test_an_unsendable_result_is_that_inputs_error(spawn):
    w = spawn(MAP, env={"SNAKEPIT_SERIALIZATION": "strict"})
    w.ready()
    frames, last = run_batch(w, "unsendable_at", [{"x": i, "at": 1} for i in range(3)])
    assert last["t"] == "end"
    values, errors = results(frames)
    assert values == [0, None, 2] and errors[1]["code"] == "unserializable"
