"""SessionContext's way to the host (host tools, tool list, session state) against fake hosts.

Every test runs over both channels: frames on real pipes (``PipeHostChannel``)
and a gRPC ``HostService`` (``GrpcHostChannel``), see ``fake_host.py``.
"""
import asyncio
import threading
import time

import numpy as np
import pytest

from fake_host import TOOL_SPECS, FakeGrpcHost, FakePipeHost, HostLogic
from grpc_harness import pb2, pb2_grpc
from snakepit_bridge import host_channel
from snakepit_bridge.errors import HostToolError, SnakepitToolError, ToolCancelledError
from snakepit_bridge.grpc.host_channel import GrpcHostChannel
from snakepit_bridge.session_context import SessionContext

CALL_ID = 41


class Host:
    def __init__(self, kind):
        self.kind = kind
        self.logic = HostLogic()
        self.logic.calls[CALL_ID] = "s1"
        if kind == "pipe":
            self.fake = FakePipeHost(self.logic)
            self.channel = self.fake.channel
        else:
            self.fake = FakeGrpcHost(self.logic)
            self.channel = GrpcHostChannel(pb2, pb2_grpc)
            self.channel.configure(self.fake.address, "tok-1")

    def ctx(self, session="s1", call_id=CALL_ID):
        return SessionContext(session, {}, call_id, self.channel)

    def close(self):
        if self.kind == "grpc":
            self.channel.close()
        self.fake.close()


@pytest.fixture(params=["pipe", "grpc"])
def host(request):
    h = Host(request.param)
    yield h
    h.close()


def run_in_thread(fn):
    """Start ``fn`` in a thread; returns (thread, outcome dict with 'value' or 'error')."""
    outcome = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001
            outcome["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, outcome


# -- host tools ------------------------------------------------------------------


def test_call_round_trips_full_values(host):
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)
    args = {"nested": {"a": [1, {"b": None}], "t": True}, "blob": b"\x00\xff" * 3, "list": [1, 2.5, "x"],
            "big": 2**60 + 1, "huge": -(2**70), "arr": arr}
    out = host.ctx().call_host_tool("echo", args)
    np.testing.assert_array_equal(out.pop("arr"), arr)
    expected = dict(args)
    expected.pop("arr")
    assert out == expected
    (req,) = host.logic.ops("call")
    assert (req["call"], req["tool"], req["timeout_ms"]) == (CALL_ID, "echo", None)
    if host.kind == "pipe":  # the frame carries exactly the protocol's keys
        assert req["keys"] == ["args", "call", "id", "op", "t", "timeout_ms", "tool"]


def test_args_dict_merges_with_kwargs_and_timeout_is_separate(host):
    out = host.ctx().call_host_tool("echo", {"timeout_ms": 5, "a": 1}, a=2, b=3, timeout_ms=1500)
    assert out == {"timeout_ms": 5, "a": 2, "b": 3}
    assert host.logic.ops("call")[0]["timeout_ms"] == 1500
    assert host.ctx().call_host_tool("echo", name="n", args="a") == {"name": "n", "args": "a"}


def test_error_reply_raises_host_tool_error(host):
    with pytest.raises(HostToolError) as info:
        host.ctx().call_host_tool("fail", x=1)
    err = info.value
    assert isinstance(err, SnakepitToolError)
    assert err.code == "bad_input" and err.message == "input rejected"
    assert err.details == {"field": "x", "big": 2**70}
    assert err.host_type == "HostToolError" and err.host_traceback == "at host.ts:1"


def test_unknown_tool_passes_available(host):
    with pytest.raises(HostToolError) as info:
        host.ctx().call_host_tool("nope")
    assert info.value.code == "unknown_host_tool"
    assert info.value.details["available"] == ["echo", "fail", "hold", "never"]


def test_no_answer_times_out_then_late_reply_is_dropped(host):
    host.channel.grace_s = 0.05
    ctx = host.ctx()
    started = time.monotonic()
    with pytest.raises(HostToolError) as info:
        ctx.call_host_tool("hold", timeout_ms=100)
    assert info.value.code == "host_tool_timeout"
    assert time.monotonic() - started < 2
    host.logic.release()  # the late answer must not reach the next request
    assert ctx.call_host_tool("echo", n=1) == {"n": 1}
    with pytest.raises(HostToolError) as info:
        ctx.call_host_tool("never", timeout_ms=50)
    assert info.value.code == "host_tool_timeout"


@pytest.fixture(params=["pipe", "grpc"])
def make_host(request):
    """make_host() -> Host of the param's kind, made now (after the test set its environment)."""
    made = []

    def make():
        made.append(Host(request.param))
        return made[-1]

    yield make
    for h in made:
        h.close()


def test_default_wait_bound_follows_the_hosts_setting(make_host, monkeypatch):
    monkeypatch.delenv(host_channel.ENV_HOST_TOOL_TIMEOUT_MS, raising=False)
    assert make_host().channel.wait_bound(None) == 30 + host_channel.GRACE_S  # unset: 30 s (attached workers)
    monkeypatch.setenv(host_channel.ENV_HOST_TOOL_TIMEOUT_MS, "60000")
    channel = make_host().channel
    assert channel.wait_bound(None) == 60 + host_channel.GRACE_S
    assert channel.wait_bound(1500) == 1.5 + host_channel.GRACE_S  # a call's own timeout_ms wins
    monkeypatch.setenv(host_channel.ENV_HOST_TOOL_TIMEOUT_MS, "soon")
    assert make_host().channel.wait_bound(None) == 30 + host_channel.GRACE_S


def test_an_answer_after_the_old_fixed_bound_arrives_within_the_hosts_timeout(make_host, monkeypatch):
    # Scaled down: the old fixed bound (30 s + grace) becomes 0.2 s + 0.05 s, the host's
    # hostToolTimeoutMs (60 s in the bug report) 30 s; the answer comes after the old bound.
    monkeypatch.setattr(host_channel, "DEFAULT_HOST_TIMEOUT_MS", 200)
    monkeypatch.setenv(host_channel.ENV_HOST_TOOL_TIMEOUT_MS, "30000")
    host = make_host()
    host.channel.grace_s = 0.05
    old_bound_s = 0.2 + 0.05
    t, outcome = run_in_thread(lambda: host.ctx().call_host_tool("hold", n=1))
    assert host.logic.received.wait(5)
    t.join(old_bound_s * 2)
    assert t.is_alive() and not outcome  # still waiting past the old bound
    host.logic.release()
    t.join(5)
    assert outcome == {"value": {"n": 1}}


def test_no_answer_within_the_hosts_timeout_is_host_tool_timeout(make_host, monkeypatch):
    monkeypatch.setenv(host_channel.ENV_HOST_TOOL_TIMEOUT_MS, "200")
    host = make_host()
    host.channel.grace_s = 0.05
    with pytest.raises(HostToolError) as info:
        host.ctx().call_host_tool("never")
    assert info.value.code == "host_tool_timeout"
    assert host.logic.ops("call")[0]["timeout_ms"] is None  # the bound came from the environment


def test_cancel_while_waiting_raises_at_once(host):
    ctx = host.ctx()
    t, outcome = run_in_thread(lambda: ctx.call_host_tool("hold"))
    assert host.logic.received.wait(5)
    cancelled_at = time.monotonic()
    ctx._mark_cancelled()
    t.join(5)
    assert not t.is_alive() and time.monotonic() - cancelled_at < 1
    assert isinstance(outcome.get("error"), ToolCancelledError)
    with pytest.raises(ToolCancelledError):  # a cancelled call sends nothing more
        ctx.call_host_tool("echo")
    assert len(host.logic.ops("call")) == 1


def test_concurrent_requests_from_threads_get_their_own_answers(host):
    ctx = host.ctx()
    runs = [run_in_thread(lambda i=i: ctx.call_host_tool("echo", i=i)) for i in range(8)]
    for t, _ in runs:
        t.join(10)
    assert [outcome["value"] for _, outcome in runs] == [{"i": i} for i in range(8)]


def test_acall_does_not_block_the_loop(host):
    ctx = host.ctx()

    async def main():
        task = asyncio.ensure_future(ctx.acall_host_tool("hold", {"k": 1}, z=2))
        # This coroutine runs while the request waits: the loop is free.
        assert await asyncio.get_running_loop().run_in_executor(None, host.logic.received.wait, 5)
        assert not task.done()
        host.logic.release()
        return await task

    assert asyncio.run(main()) == {"k": 1, "z": 2}


# -- host tool list ---------------------------------------------------------------


def test_host_tools_load_once_and_elixir_aliases(host):
    ctx = host.ctx()
    tools = ctx.host_tools
    assert host.logic.ops("list") == []  # lazy: nothing asked yet
    assert "echo" in tools and "nope" not in tools
    assert sorted(tools) == ["echo", "fail", "hold", "never"] and len(tools) == 4
    assert tools["echo"] == TOOL_SPECS[0]  # parameters with default and description
    assert tools.get("nope") is None
    assert ctx.elixir_tools is tools
    assert len(host.logic.ops("list")) == 1
    assert host.logic.ops("list")[0]["call"] == CALL_ID
    assert ctx.call_elixir_tool("echo", data={"d": 1}) == {"data": {"d": 1}}
    host.ctx().host_tools.get("echo")  # a new call loads its own list
    assert len(host.logic.ops("list")) == 2


# -- session state -------------------------------------------------------------------


def test_state_writes_through_and_reads_once(host):
    host.logic.state["s1"] = {"seed": b"\x01"}
    state = host.ctx().state
    state["n"] = {"deep": [1, 2**64 + 3]}
    assert host.logic.state["s1"]["n"] == {"deep": [1, 2**64 + 3]}  # written before returning
    assert state.get("seed") == b"\x01" and state["n"] == {"deep": [1, 2**64 + 3]}
    assert "n" in state and len(state) == 2 and sorted(state) == ["n", "seed"]
    assert state.get("missing", 7) == 7
    assert len([r for r in host.logic.ops("state") if r["action"] == "get_all"]) == 1
    state.set("m", 1)
    assert state.to_dict() == {"seed": b"\x01", "n": {"deep": [1, 2**64 + 3]}, "m": 1}
    state.delete("seed")
    del state["m"]
    with pytest.raises(KeyError):
        del state["m"]
    assert host.logic.state["s1"] == {"n": {"deep": [1, 2**64 + 3]}}
    assert dict(state.items()) == {"n": {"deep": [1, 2**64 + 3]}}
    state.clear()
    assert host.logic.state["s1"] == {} and len(state) == 0
    actions = [r["action"] for r in host.logic.ops("state")]
    assert actions == ["set", "get_all", "set", "delete", "delete", "clear"]
    assert {r["call"] for r in host.logic.ops("state")} == {CALL_ID}
    with pytest.raises(TypeError):
        state[1] = 2


def test_state_is_shared_by_calls_of_the_session(host):
    host.ctx().state["k"] = "v"
    host.logic.calls[42] = "s1"
    assert host.ctx(call_id=42).state.to_dict() == {"k": "v"}


def test_state_without_session(host):
    ctx = host.ctx(session=None)
    for use in (lambda: ctx.state.get("k"), lambda: ctx.state.set("k", 1), ctx.state.clear):
        with pytest.raises(HostToolError) as info:
            use()
        assert info.value.code == "no_session"
    assert host.logic.ops("state") == []  # answered locally
    # A session the host does not know for this call: the host says no_session.
    with pytest.raises(HostToolError) as info:
        host.ctx(call_id=99).state.to_dict()
    assert info.value.code == "no_session"


def test_restore_prefills_the_state_cache(host):
    ctx = host.ctx()
    ctx._restore_state({"counter": 3})
    assert ctx.state["counter"] == 3 and ctx.state.to_dict() == {"counter": 3}
    assert host.logic.ops("state") == []


# -- no host ---------------------------------------------------------------------------


def test_without_a_host_everything_is_host_unavailable():
    ctx = SessionContext("s1", {}, 1)
    uses = [lambda: ctx.call_host_tool("echo"), lambda: "x" in ctx.host_tools,
            lambda: ctx.state.get("k"), lambda: asyncio.run(ctx.acall_host_tool("echo"))]
    for use in uses:
        with pytest.raises(HostToolError) as info:
            use()
        assert info.value.code == "host_unavailable"


def test_grpc_without_or_with_a_dead_address():
    channel = GrpcHostChannel(pb2, pb2_grpc)
    ctx = SessionContext("s1", {}, 1, channel)
    with pytest.raises(HostToolError) as info:
        ctx.call_host_tool("echo")
    assert info.value.code == "host_unavailable"
    channel.configure("unix:/nonexistent/snakepit-host.sock", "t")
    try:
        with pytest.raises(HostToolError) as info:
            ctx.call_host_tool("echo")
        assert info.value.code == "host_unavailable"
    finally:
        channel.close()


def test_grpc_sends_the_token_and_no_call_as_zero():
    h = Host("grpc")
    try:
        assert h.ctx(call_id=None).call_host_tool("echo", a=1) == {"a": 1}
        assert h.logic.ops("call")[0]["call"] is None  # call_id 0 on the wire
        assert h.logic.tokens == ["tok-1"]
    finally:
        h.close()


def test_pipe_hang_up_releases_waiters():
    h = Host("pipe")
    try:
        ctx = h.ctx()
        t, outcome = run_in_thread(lambda: ctx.call_host_tool("never"))
        assert h.logic.received.wait(5)
        h.fake.hang_up()
        t.join(5)
        assert outcome["error"].code == "host_unavailable"
        with pytest.raises(HostToolError) as info:  # and later requests fail at once
            ctx.call_host_tool("echo")
        assert info.value.code == "host_unavailable"
    finally:
        h.close()
