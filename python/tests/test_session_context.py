"""SessionContext: both constructors (ours and the original's), cleanup, context manager, the original's host errors."""
import pytest

from snakepit_bridge.errors import HostToolError, HostToolFailedError, HostToolNotFoundError, SnakepitToolError
from snakepit_bridge.session_context import SessionContext
from snakepit_bridge.wire_errors import from_exception


class Stub:
    """Stands in for the original's gRPC stub in adapter unit tests."""


def test_ours_positional_and_keywords():
    ctx = SessionContext("s", {"k": 1}, 7)
    assert (ctx.session_id, ctx.request_metadata, ctx.request_id, ctx.stub) == ("s", {"k": 1}, 7, None)
    ctx = SessionContext(session_id="s2", request_metadata=None)
    assert (ctx.session_id, ctx.request_metadata) == ("s2", {})
    assert SessionContext().session_id is None


@pytest.mark.parametrize("make", [
    lambda stub: SessionContext(stub, "s1"),
    lambda stub: SessionContext(stub, "s1", {"trace": "t"}),
    lambda stub: SessionContext(stub, "s1", request_metadata={"trace": "t"}),
    lambda stub: SessionContext(stub=stub, session_id="s1", request_metadata={"trace": "t"}),
])
def test_the_originals_constructor_keeps_the_stub(make):
    stub = Stub()
    ctx = make(stub)
    assert ctx.stub is stub and ctx.session_id == "s1"
    assert ctx.request_metadata in ({}, {"trace": "t"})


def test_the_originals_constructor_with_a_none_stub():
    ctx = SessionContext(None, "s1")
    assert (ctx.stub, ctx.session_id, ctx.request_metadata) == (None, "s1", {})


def test_bad_arguments_are_type_errors():
    with pytest.raises(TypeError):
        SessionContext(Stub(), "s1", {}, request_metadata={})
    with pytest.raises(TypeError):
        SessionContext("s", nope=1)


def test_without_a_host_elixir_tools_is_empty_and_calls_fail_as_runtime_errors():
    ctx = SessionContext(Stub(), "s1")
    assert ctx.elixir_tools == {}
    with pytest.raises(RuntimeError) as info:
        ctx.call_elixir_tool("anything", x=1)
    assert isinstance(info.value, HostToolError) and info.value.code == "host_unavailable"
    with pytest.raises(HostToolError):  # ours keeps raising: a missing host is worth knowing
        len(ctx.host_tools)


def test_cleanup_forgets_what_was_loaded_and_works_as_a_context_manager():
    with SessionContext(Stub(), "s1") as ctx:
        ctx._restore_state({"a": 1})
        assert ctx.state.to_dict() == {"a": 1}
    assert ctx._state is None and ctx._host_tools is None


def test_host_errors_are_the_originals_exception_types():
    missing = HostToolError("no such host tool", code="unknown_host_tool", details={"available": ["a"]})
    failed = HostToolError("boom", code="bad_input")
    assert isinstance(missing, HostToolNotFoundError) and isinstance(missing, ValueError)
    assert isinstance(failed, HostToolFailedError) and isinstance(failed, RuntimeError)
    assert not isinstance(failed, ValueError) and not isinstance(missing, RuntimeError)
    for err in (missing, failed, HostToolError.from_error_map({"message": "m", "code": "unknown_host_tool"})):
        assert isinstance(err, SnakepitToolError) and isinstance(err, HostToolError)
    assert type(HostToolError.from_error_map({"message": "m", "code": "unknown_host_tool"})) is HostToolNotFoundError
    # Leaving a tool, they keep the documented wire type.
    assert from_exception(missing)["type"] == "HostToolError" and from_exception(missing)["code"] == "unknown_host_tool"


def test_contexts_share_no_mutable_defaults():
    # Defaults live on the class: a context's wakers, host tools and state are its own.
    import threading
    a, b = SessionContext.for_call(None, {}, 1, None), SessionContext.for_call(None, {}, 2, None)
    event_a, event_b = threading.Event(), threading.Event()
    stop_a = a._watch_cancel(event_a)
    b._watch_cancel(event_b)
    a._mark_cancelled()
    assert event_a.is_set() and not event_b.is_set()
    assert a.cancelled and not b.cancelled
    stop_a()
    assert a._wakers == [] and b._wakers == [event_b]


def test_a_watch_after_the_cancel_is_set_at_once():
    import threading
    ctx = SessionContext.for_call("s", {}, 1, None)
    ctx._mark_cancelled()
    event = threading.Event()
    ctx._watch_cancel(event)
    assert event.is_set()
