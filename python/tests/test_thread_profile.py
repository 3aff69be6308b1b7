"""The thread profile in a worker: runtime info, start-up warnings, the concurrency cap, checks, entry point."""
import sys
import sysconfig
import tempfile
import time

import pytest

from grpc_harness import pb2
from snakepit_bridge import grpc_server_threaded, server, thread_profile
from snakepit_bridge.serialization import pack, unpack

THREAD = "thread_adapter.ThreadAdapter"
RACE = "thread_adapter.RaceAdapter"
UNSAFE = "thread_adapter.NotThreadSafeAdapter"
UNDECLARED = "echo_adapter.EchoAdapter"


def answers(w, ids, timeout=30):
    """The answer frames (result or error) of calls `ids`, by id, in whatever order they come."""
    pending, out = set(ids), {}
    deadline = time.monotonic() + timeout
    while pending:
        frame = w.recv(max(0.1, deadline - time.monotonic()))
        if frame.get("id") in pending and frame["t"] in ("result", "error"):
            pending.discard(frame["id"])
            out[frame["id"]] = frame
    return out


def stderr_of(spawn, adapter, *args, env=None, calls=()):
    """Start a worker with stderr in a file, run `calls` all at once, shut it down; return (ready frame, stderr)."""
    with tempfile.TemporaryFile() as err:
        w = spawn(adapter, *args, env=env, stderr=err)
        frame = w.recv(20)
        if frame["t"] == "ready":
            ids = [w.call(tool, tool_args) for tool, tool_args in calls]
            assert all(a["t"] == "result" for a in answers(w, ids).values())
            w.send({"t": "shutdown"})
        w.wait(20)
        err.seek(0)
        return frame, err.read().decode()


# -- runtime detection -------------------------------------------------------------

def test_runtime_info_matches_the_interpreter():
    info = thread_profile.runtime_info()
    assert set(info) == {"version", "gil_enabled", "free_threading"}
    assert info["version"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}")
    expected_gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    assert info["gil_enabled"] is expected_gil
    assert info["free_threading"] is bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def test_ready_frame_and_describe_carry_the_runtime(spawn, grpc_spawn):
    w = spawn(THREAD, "--max-concurrency", "2")
    assert w.ready()["runtime"] == thread_profile.runtime_info()
    g = grpc_spawn(THREAD, "--max-workers", "2", mode="tcp")
    g.ready()
    d = g.stub.Describe(pb2.DescribeRequest(), timeout=10)
    assert d.concurrency == 2
    assert (d.runtime.version, d.runtime.gil_enabled, d.runtime.free_threading) == tuple(
        thread_profile.runtime_info().values())


# -- flags and environment -----------------------------------------------------------

@pytest.mark.parametrize("flag,env,expected", [
    (None, None, "off"), (None, "1", "warn"), (None, "true", "warn"), (None, "strict", "strict"),
    (None, "0", "off"), ("warn", "0", "warn"), ("strict", None, "strict"), ("off", "1", "off"),
])
def test_checks_mode(monkeypatch, flag, env, expected):
    if env is None:
        monkeypatch.delenv(thread_profile.ENV_CHECKS, raising=False)
    else:
        monkeypatch.setenv(thread_profile.ENV_CHECKS, env)
    assert thread_profile.checks_mode(flag) == expected


def test_thread_safety_check_flag(monkeypatch):
    monkeypatch.delenv(thread_profile.ENV_CHECKS, raising=False)
    assert server.parse_args([]).thread_safety_check == "off"
    assert server.parse_args(["--thread-safety-check"]).thread_safety_check == "warn"
    assert server.parse_args(["--thread-safety-check", "strict"]).thread_safety_check == "strict"
    assert server.parse_args(["--thread-safety-check", "--adapter", "a.B"]).adapter == "a.B"


def test_threaded_entry_point_delegates_to_the_server(monkeypatch):
    seen = []
    monkeypatch.setattr(grpc_server_threaded, "server_main", seen.append)
    grpc_server_threaded.main(["--port", "50052", "--adapter", "a.B", "--max-workers", "16",
                               "--thread-safety-check", "--elixir-address", "localhost:50051"])
    args = server.parse_args(seen[0])
    assert (args.transport, args.listen, args.max_concurrency, args.adapter) == (
        "grpc", "127.0.0.1:50052", 16, "a.B")
    assert args.thread_safety_check == "warn"
    grpc_server_threaded.main(["--adapter", "a.B"])
    assert server.parse_args(seen[1]).max_concurrency == grpc_server_threaded.DEFAULT_MAX_WORKERS


# -- start-up warnings ---------------------------------------------------------------

OPT_OUT = {thread_profile.ENV_REQUIRE_DECLARATION: "0"}  # requireThreadSafeAdapter: false


def test_thread_mode_refuses_an_undeclared_adapter(spawn):
    frame, _ = stderr_of(spawn, UNDECLARED, "--max-concurrency", "3")
    assert frame["t"] == "fatal"
    err = frame["error"]
    assert (err["type"], err["code"]) == ("AdapterNotThreadSafeError", "adapter_not_thread_safe")
    assert "echo_adapter.EchoAdapter" in err["message"] and "__thread_safe__ = True" in err["message"]


def test_opted_out_thread_mode_warns_about_the_gil_and_an_undeclared_adapter(spawn):
    frame, err = stderr_of(spawn, UNDECLARED, "--max-concurrency", "3", env=OPT_OUT)
    assert frame["t"] == "ready"
    lines = [l for l in err.splitlines() if "snakepit_bridge.thread_profile" in l]
    assert len(lines) == (2 if thread_profile.gil_enabled() else 1)


def test_declared_adapter_warns_only_about_the_gil(spawn):
    _, err = stderr_of(spawn, THREAD, "--max-concurrency", "3")
    lines = [l for l in err.splitlines() if "snakepit_bridge.thread_profile" in l]
    assert len(lines) == (1 if thread_profile.gil_enabled() else 0)


def test_process_profile_warns_about_nothing(spawn):
    _, err = stderr_of(spawn, UNDECLARED)
    assert "snakepit_bridge.thread_profile" not in err


def test_adapter_marked_unsafe_is_refused_unless_opted_out_and_then_strictly(spawn):
    frame, _ = stderr_of(spawn, UNSAFE, "--max-concurrency", "2")
    assert (frame["t"], frame["error"]["code"]) == ("fatal", "adapter_not_thread_safe")
    frame, err = stderr_of(spawn, UNSAFE, "--max-concurrency", "2", env=OPT_OUT)
    assert frame["t"] == "ready" and "snakepit_bridge.thread_profile" in err
    frame, _ = stderr_of(spawn, UNSAFE, "--max-concurrency", "2", "--thread-safety-check", "strict", env=OPT_OUT)
    assert frame["t"] == "fatal"
    assert (frame["error"]["type"], frame["error"]["code"]) == ("AdapterNotThreadSafeError", "adapter_not_thread_safe")


# -- the concurrency cap ---------------------------------------------------------------

def test_pipe_runs_at_most_n_calls_at_once(spawn):
    w = spawn(THREAD, "--max-concurrency", "3")
    w.ready()
    ids = [w.call("work", {"n": i, "ms": 30}) for i in range(12)]  # 9 wait inside the worker
    results = [f["value"] for f in answers(w, ids).values()]
    assert sorted(r["n"] for r in results) == list(range(12))
    assert max(r["peak"] for r in results) == 3
    stats = w.request("stats")["value"]
    assert (stats["total_requests"], stats["active_requests"], stats["max_workers"]) == (12, 0, 3)


def test_grpc_runs_at_most_n_calls_at_once(grpc_spawn):
    g = grpc_spawn(THREAD, "--max-workers", "3", mode="tcp")
    g.ready()
    futures = [g.stub.ExecuteTool.future(pb2.ExecuteToolRequest(
        call_id=i + 1, tool_name="work", args=pack({"n": i, "ms": 30})), timeout=20) for i in range(12)]
    results = [unpack(f.result().value) for f in futures]
    assert sorted(r["n"] for r in results) == list(range(12))
    assert max(r["peak"] for r in results) == 3


# -- thread-safety checks in a worker ---------------------------------------------------

def test_checks_report_the_unlocked_write_at_exit(spawn):
    calls = [("increment", {"times": 20_000})] * 4
    frame, err = stderr_of(spawn, RACE, "--max-concurrency", "4", env={thread_profile.ENV_CHECKS: "1"},
                           calls=calls)
    assert frame["t"] == "ready"
    # Four calls sent together run on four pool threads: the unlocked counter has several writers.
    report = [l for l in err.splitlines() if "snakepit_bridge.thread_safety" in l]
    assert any("RaceAdapter.unlocked" in l for l in report)
    assert not any("RaceAdapter.locked " in l or "RaceAdapter.locked'" in l for l in report)


def test_checks_list_unsafe_libraries_loaded_by_the_adapter(spawn):
    frame, err = stderr_of(spawn, "thread_adapter.SqliteAdapter", "--max-concurrency", "2",
                           "--thread-safety-check")
    assert frame["t"] == "ready"
    assert any("unsafe" in l.lower() and "sqlite3" in l for l in err.splitlines()
               if "snakepit_bridge.thread_safety" in l)


def test_strict_checks_fail_a_call_that_writes_shared_state_unlocked(spawn):
    w = spawn(RACE, "--max-concurrency", "4", "--thread-safety-check", "strict")
    w.ready()
    ids = [w.call("increment", {"times": 20_000}) for _ in range(4)]
    errors = [a["error"] for a in answers(w, ids).values() if a["t"] == "error"]
    assert errors and {e["type"] for e in errors} == {"ThreadSafetyError"}


def test_strict_checks_refuse_a_known_unsafe_library_at_start(spawn):
    frame, _ = stderr_of(spawn, "thread_adapter.SqliteAdapter", "--max-concurrency", "2",
                         "--thread-safety-check", "strict")
    assert frame["t"] == "fatal"
    assert (frame["error"]["type"], frame["error"]["code"]) == ("ThreadSafetyError", "adapter_import")
