"""PipeReplies: a held answer leaves in one write with the telemetry its call flushed after it was held."""
import os
import threading
from types import SimpleNamespace

import pytest

from snakepit_bridge.pipe.framing import FrameReader, FrameWriter
from snakepit_bridge.pipe.replies import PipeReplies


@pytest.fixture
def wire(monkeypatch):
    """A PipeReplies writing into a pipe, the list of os.write payloads, and a reader of the frames."""
    r, w = os.pipe()
    writes = []
    real_write = os.write

    def counting_write(fd, data):
        if fd == w:
            writes.append(bytes(data))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", counting_write)
    replies = PipeReplies(FrameWriter(w))
    reader = FrameReader(r)

    def frames(expected):
        got = []
        while len(got) < expected:
            got.extend(reader.read_once())
        return got

    yield replies, writes, frames
    os.close(r)
    os.close(w)


def names(frame):
    return [e["name"] for e in frame["events"]]


def test_held_answer_and_its_telemetry_leave_in_one_write_events_first(wire):
    replies, writes, frames = wire
    replies.hold_final(threading.get_ident())
    replies.telemetry([{"name": "during"}])  # nothing held: written at once
    assert len(writes) == 1
    replies.result(SimpleNamespace(id=7), "value")  # held
    replies.telemetry([{"name": "stop"}])  # flushed after the answer was held: kept with it
    assert len(writes) == 1
    replies.release_final(watch=False)
    assert len(writes) == 2
    during, stop, answer = frames(3)
    assert (names(during), names(stop)) == (["during"], ["stop"])
    assert answer == {"t": "result", "id": 7, "value": "value"}
    # Released: the next telemetry goes out at once again.
    replies.telemetry([{"name": "after"}])
    assert len(writes) == 3
    assert names(frames(1)[0]) == ["after"]


def test_telemetry_of_another_thread_is_not_held(wire):
    replies, writes, frames = wire
    replies.hold_final(threading.get_ident())
    replies.result(SimpleNamespace(id=1), "x")
    other = threading.Thread(target=replies.telemetry, args=([{"name": "other"}],))
    other.start()
    other.join()
    assert len(writes) == 1
    replies.release_final(watch=False)
    first, answer = frames(2)
    assert names(first) == ["other"] and answer["id"] == 1


def test_a_large_answer_after_held_telemetry_keeps_the_order(wire):
    replies, writes, frames = wire
    replies.hold_final(threading.get_ident())
    big = "x" * 40_000  # over the one-write size (16 KiB), within what the pipe holds unread
    replies.result(SimpleNamespace(id=2), big)
    replies.telemetry([{"name": "stop"}])
    replies.release_final(watch=False)
    stop, answer = frames(2)
    assert names(stop) == ["stop"] and answer == {"t": "result", "id": 2, "value": big}


def test_without_hold_every_frame_is_written_at_once(wire):
    replies, writes, frames = wire
    replies.result(SimpleNamespace(id=3), "v")
    replies.telemetry([{"name": "late"}])
    assert len(writes) == 2
    answer, late = frames(2)
    assert answer["id"] == 3 and names(late) == ["late"]


def test_a_held_calls_events_from_before_and_after_its_answer_leave_as_one_frame(wire):
    """The answer is held without flushing: the runner's flush at the end of the call takes the
    events of the whole call, so one telemetry frame goes out, then the answer, in one write."""
    from snakepit_bridge import telemetry

    replies, writes, frames = wire
    telemetry.install_sink(replies.telemetry)
    try:
        replies.hold_final(threading.get_ident())
        token = telemetry.bind_call("corr-9")
        telemetry.emit("python.call.start", {"count": 1})
        replies.result(SimpleNamespace(id=3), "ok")  # held; the start event stays buffered
        telemetry.emit("python.call.stop", {"count": 1})
        telemetry.reset_call(token)  # the call ended: its events flush, and wait with the answer
        assert writes == []
        replies.release_final(watch=False)
    finally:
        telemetry.install_sink(None)
    assert len(writes) == 1
    events, answer = frames(2)
    assert names(events) == ["snakepit.python.call.start", "snakepit.python.call.stop"]
    assert [e["correlation_id"] for e in events["events"]] == ["corr-9", "corr-9"]
    assert answer == {"t": "result", "id": 3, "value": "ok"}


def test_release_sends_events_still_buffered_before_the_answer(wire):
    """The hold itself keeps the order: events nobody flushed before the release go first."""
    from snakepit_bridge import telemetry

    replies, writes, frames = wire
    telemetry.install_sink(replies.telemetry)
    token = telemetry.bind_call("corr-10")
    try:
        replies.hold_final(threading.get_ident())
        telemetry.emit("python.call.start", {"count": 1})
        replies.result(SimpleNamespace(id=4), "ok")
        telemetry.emit("python.call.stop", {"count": 1})
        replies.release_final(watch=False)  # no flush before it
    finally:
        telemetry.correlation_var.reset(token)
        telemetry.install_sink(None)
    assert len(writes) == 1
    assert b"python.call.stop" in writes[0]  # the events went with the answer (checked before a blocking read)
    events, answer = frames(2)
    assert names(events) == ["snakepit.python.call.start", "snakepit.python.call.stop"]
    assert answer == {"t": "result", "id": 4, "value": "ok"}
