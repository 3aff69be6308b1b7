"""call_from_frame: a call frame's keys reach the Call and its context (a plain call, and each optional key)."""
import pytest

from snakepit_bridge.pipe.worker import call_from_frame

CORR = "0f3a1b2c-1d2e-4f5a-9b8c-000000000001"


def _plain(**extra):
    return {"t": "call", "id": 7, "tool": "echo", "args": {"value": 1}, "corr": CORR, **extra}


def test_a_plain_call_carries_its_correlation_id_and_nothing_else():
    call = call_from_frame(_plain(), out=None)
    assert (call.id, call.tool, call.args, call.stream, call.restore, call.batch, call.flow) == (7, "echo", {"value": 1}, False, None, None, None)
    assert call.ctx.session_id is None and call.ctx.request_id == 7
    assert call.ctx.request_metadata == {"correlation_id": CORR}


@pytest.mark.parametrize("extra, check", [
    ({"session": "s1"}, lambda c: c.ctx.session_id == "s1"),
    ({"meta": {"user": "u"}}, lambda c: c.ctx.request_metadata == {"user": "u", "correlation_id": CORR}),
    ({"stream": True}, lambda c: c.stream is True),
    ({"traceparent": "00-abc-def-01"}, lambda c: c.ctx.request_metadata["traceparent"] == "00-abc-def-01"),
    ({"restore": {"k": 1}}, lambda c: c.restore == {"k": 1}),
])
def test_any_other_key_is_read(extra, check):
    assert check(call_from_frame(_plain(**extra), out=None))


def test_a_frame_of_five_keys_without_a_correlation_id_is_read_in_full():
    # Five keys, but the fifth is a session: the short path must not take it.
    frame = {"t": "call", "id": 8, "tool": "echo", "args": {}, "session": "s2"}
    call = call_from_frame(frame, out=None)
    assert call.ctx.session_id == "s2" and call.ctx.request_metadata == {}
