"""StreamReply on its own: how chunks are batched into messages, the bound on what waits, closing."""
import threading

import pytest

from grpc_harness import chunks_in, pb2, wait_for
from snakepit_bridge.call import StreamAborted
from snakepit_bridge.grpc import replies
from snakepit_bridge.grpc.replies import StreamReply
from snakepit_bridge.serialization import pack, unpack

LIMIT = 1 << 20


def produce(reply, items, fail_with=None):
    """Run the producer side in a thread: ``items`` as (data, final, metadata), then an optional error map."""
    outcome = {"sent_on_return": []}  # chunks gRPC had sent when each chunk() returned

    def run():
        try:
            for data, final, metadata in items:
                reply.chunk(None, data, final, metadata)
                outcome["sent_on_return"].append(reply._sent_count)
            if fail_with is not None:
                reply.error(None, fail_with)
        except StreamAborted:
            outcome["aborted"] = True
        finally:
            reply.finish()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def relaxed(monkeypatch):
    """No chunk counts as slow to make, no message as old: only the reader and the room decide."""
    monkeypatch.setattr(replies, "SLOW_CHUNK_S", 60.0)
    monkeypatch.setattr(replies, "HOLD_S", 60.0)


def test_chunks_yielded_while_a_message_is_on_its_way_leave_together(monkeypatch):
    relaxed(monkeypatch)
    reply = StreamReply(pb2, LIMIT, batch=4)
    items = [({"i": i}, i == 9, {"k": i} if i % 3 == 0 else None) for i in range(10)]
    messages = reply.messages()
    thread, outcome = produce(reply, items)
    first = next(messages)  # chunk 0 left alone: nothing was on its way
    assert [c.value for c in chunks_in(first)] == [{"i": 0}]
    # While it is "being sent" (the next message is not asked for), the producer runs on until
    # `batch` chunks wait, and no further.
    wait_for(lambda: len(reply._items) == 4, what="four chunks to wait")
    assert reply._put_count == 5
    second = next(messages)
    assert [c.value for c in chunks_in(second)] == [{"i": i} for i in range(1, 5)]
    rest = list(messages)
    thread.join(10)
    chunks = [c for m in (first, second, *rest) for c in chunks_in(m)]
    assert [c.value for c in chunks] == [{"i": i} for i in range(10)]
    assert [c.final for c in chunks] == [i == 9 for i in range(10)]
    assert [c.metadata for c in chunks] == [{"k": i} if i % 3 == 0 else None for i in range(10)]
    assert all(len(chunks_in(m)) <= 4 for m in (first, second, *rest))
    assert "aborted" not in outcome


def test_a_slow_generator_keeps_lockstep(monkeypatch):
    monkeypatch.setattr(replies, "SLOW_CHUNK_S", -1.0)  # every chunk took "long" to make
    reply = StreamReply(pb2, LIMIT, batch=64)
    messages = reply.messages()
    thread, outcome = produce(reply, [(i, False, None) for i in range(5)])
    got = list(messages)
    thread.join(10)
    assert [len(chunks_in(m)) for m in got] == [1] * 5
    assert outcome["sent_on_return"] == [1, 2, 3, 4, 5]  # each chunk was sent before the generator went on


def test_batch_one_is_one_chunk_per_message_as_before():
    reply = StreamReply(pb2, LIMIT, batch=0)  # a host that sends no chunk_batch
    assert reply.batch == 1
    messages = reply.messages()
    thread, _ = produce(reply, [(i, i == 19, None) for i in range(20)])
    got = list(messages)
    thread.join(10)
    assert [unpack(m.data) for m in got] == list(range(20)) and not any(m.batch for m in got)


def test_an_error_after_chunks_is_the_last_chunk(monkeypatch):
    relaxed(monkeypatch)
    reply = StreamReply(pb2, LIMIT, batch=8)
    messages = reply.messages()
    err = {"type": "ValueError", "message": "boom", "traceback": "", "code": "python_error"}
    thread, _ = produce(reply, [(i, False, None) for i in range(3)], fail_with=err)
    got = list(messages)
    thread.join(10)
    chunks = [c for m in got for c in chunks_in(m)]
    assert [c.value for c in chunks[:-1]] == [0, 1, 2]
    assert chunks[-1].final and chunks[-1].error.code == "python_error"
    assert got[-1].WhichOneof("item") == "error" and not got[-1].batch  # an error travels alone


def test_a_message_stops_growing_at_batch_bytes(monkeypatch):
    relaxed(monkeypatch)
    monkeypatch.setattr(replies, "BATCH_BYTES", 2_000)
    reply = StreamReply(pb2, LIMIT, batch=64)
    messages = reply.messages()
    thread, _ = produce(reply, [("x" * 900, False, None) for _ in range(12)])
    first = next(messages)
    wait_for(lambda: len(reply._items) >= 6, what="chunks to wait")
    second = next(messages)
    assert len(chunks_in(first)) == 1
    assert len(chunks_in(second)) == 3  # ~900, ~1800 bytes: under 2000, so a third goes in; then full
    list(messages)
    thread.join(10)


def test_closing_stops_a_producer_that_waits():
    reply = StreamReply(pb2, LIMIT, batch=4)
    thread, outcome = produce(reply, [(i, False, None) for i in range(100)])
    # Nobody reads: the first chunk waits for the reader to take it.
    wait_for(lambda: reply._put_count == 1, what="the first chunk")
    reply.close()
    thread.join(10)
    assert outcome["aborted"] is True
    with pytest.raises(StreamAborted):
        reply.chunk(None, 1, False)
    assert list(reply.messages()) == []


def test_metadata_and_batch_limits_of_the_wire():
    reply = StreamReply(pb2, LIMIT, batch=10_000)
    assert reply.batch == replies.MAX_CHUNKS_PER_MESSAGE
    items = [(pack(i), i == 19, pack({"a": i}) if i % 2 else b"", None) for i in range(20)]  # 19 batched: array16
    message = reply._message(items)
    assert chunks_in(message) == [(i, i == 19, {"a": i} if i % 2 else None, None) for i in range(20)]
