"""End to end, worker lifecycle: ready/fatal, shutdown, signals, EOF, bad frames."""
import os
import signal
import subprocess
import sys

import pytest

from conftest import SHOWCASE
from harness import PYTHON_DIR


def test_ready_frame(spawn):
    w = spawn(SHOWCASE, "--worker-id", "w1", "--snakepit-run-id", "r1", "--unknown-flag")
    ready = w.ready()
    assert ready["protocol"] == 2
    assert ready["pid"] == w.proc.pid
    assert ready["adapter"] == SHOWCASE
    assert ready["concurrency"] == 1
    assert ready["python"].count(".") == 2
    names = [t["name"] for t in ready["tools"]]
    assert names == sorted(names) and "stream_progress" in names
    info = w.request("get_worker_info")["value"]
    assert info["worker_id"] == "w1" and info["pid"] == w.proc.pid


@pytest.mark.parametrize("adapter, err_type", [
    ("broken_import_adapter.BrokenImportAdapter", "ImportError"),
    ("no_such_module_xyz.Adapter", "ModuleNotFoundError"),
    ("echo_adapter.NoSuchClass", "AttributeError"),
    ("lifecycle_adapter.FailingCtorAdapter", "ValueError"),
    ("lifecycle_adapter.FailingInitAdapter", "RuntimeError"),
])
def test_fatal_on_adapter_failure_exits_3(spawn, adapter, err_type):
    w = spawn(adapter, stderr=subprocess.DEVNULL)
    frame = w.recv(20)
    assert frame["t"] == "fatal"
    err = frame["error"]
    assert err["code"] == "adapter_import" and err["type"] == err_type
    assert err["message"] and "Traceback" in err["traceback"]
    assert w.wait(10) == 3


def test_initialize_runs_before_ready_and_cleanup_on_shutdown(spawn, tmp_path):
    marker = tmp_path / "marker"
    w = spawn("lifecycle_adapter.LifecycleAdapter", env={"SNAKEPIT_TEST_MARKER": str(marker)})
    w.ready()
    assert marker.read_text() == "initialize\n"
    assert w.request("status")["value"]["initialized"] is True
    w.send({"t": "shutdown"})
    assert w.wait(10) == 0
    assert marker.read_text() == "initialize\ncleanup\n"


def test_sigterm_mid_call_runs_cleanup_and_exits_0(spawn, tmp_path):
    marker = tmp_path / "marker"
    w = spawn("lifecycle_adapter.LifecycleAdapter", env={"SNAKEPIT_TEST_MARKER": str(marker)})
    w.ready()
    w.call("wait", {"ms": 60000})
    w.send({"t": "ping", "id": 1})  # ordered after the call: the call was read
    assert w.recv()["t"] == "pong"
    w.proc.send_signal(signal.SIGTERM)
    assert w.wait(10) == 0
    assert marker.read_text().splitlines() == ["initialize", "cleanup"]


def test_sigterm_during_uncooperative_tool_still_exits(spawn):
    w = spawn("hang_adapter.HangAdapter")
    w.ready()
    w.call("busy")
    w.send({"t": "ping", "id": 1})
    assert w.recv()["t"] == "pong"
    w.proc.send_signal(signal.SIGTERM)
    assert w.wait(10) == 0


def test_eof_on_fd3_exits(showcase):
    os.close(showcase.to_child)
    assert showcase.wait(10) == 0


def test_oversized_frame_is_a_protocol_error(spawn):
    w = spawn(SHOWCASE, env={"SNAKEPIT_MAX_FRAME_BYTES": "100000"}, stderr=subprocess.DEVNULL)
    w.ready()
    w.send_raw((200000).to_bytes(4, "big"))
    assert w.wait(10) == 4


def test_undecodable_frame_is_a_protocol_error(spawn):
    w = spawn(SHOWCASE, stderr=subprocess.DEVNULL)
    w.ready()
    w.send_raw(b"\x00\x00\x00\x01\xc1")  # 0xc1 is never valid msgpack
    assert w.wait(10) == 4


def test_sigterm_during_async_tool_runs_async_cleanup(spawn, tmp_path):
    marker = tmp_path / "marker"
    w = spawn("lifecycle_adapter.LifecycleAdapter", env={"SNAKEPIT_TEST_MARKER": str(marker)})
    w.ready()
    w.call("async_wait", {"ms": 60000})
    w.send({"t": "ping", "id": 1})
    assert w.recv()["t"] == "pong"
    w.proc.send_signal(signal.SIGTERM)
    assert w.wait(10) == 0
    assert marker.read_text().splitlines() == ["initialize", "cleanup"]


def test_shutdown_frame_in_thread_profile(spawn, tmp_path):
    marker = tmp_path / "marker"
    w = spawn("lifecycle_adapter.LifecycleAdapter", "--max-concurrency", "2",
              env={"SNAKEPIT_TEST_MARKER": str(marker), "SNAKEPIT_REQUIRE_THREAD_SAFE": "0"})
    w.ready()
    w.call("wait", {"ms": 60000})  # running in the pool when the shutdown lands
    w.send({"t": "shutdown"})
    assert w.wait(10) == 0
    assert marker.read_text().splitlines() == ["initialize", "cleanup"]


@pytest.mark.skipif(not os.path.exists("/proc/self"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_worker_dies_with_its_parent(tmp_path):
    """The parent (bash here) dies while fd 3 stays open: PDEATHSIG ends the worker."""
    import fcntl
    import sys

    from harness import FIXTURES, PYTHON_DIR

    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()
    r = fcntl.fcntl(to_r, fcntl.F_DUPFD_CLOEXEC, 10)
    w_ = fcntl.fcntl(from_w, fcntl.F_DUPFD_CLOEXEC, 10)
    for fd in (to_r, from_w):
        os.close(fd)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PYTHON_DIR), str(FIXTURES)]))
    script = (f'"$@" 3<&{r} 4>&{w_} {r}<&- {w_}>&- & '
              f'exec {r}<&- {w_}>&-; read line')  # parent waits for our go, then exits
    parent = subprocess.Popen(["/bin/bash", "-c", script, "bash", sys.executable, "-m",
                               "snakepit_bridge.server", "--adapter", SHOWCASE],
                              pass_fds=(r, w_), env=env, stdin=subprocess.PIPE)
    os.close(r)
    os.close(w_)
    try:
        from harness import Worker

        reader = Worker.__new__(Worker)  # reuse the frame reader on our fd
        reader.from_child, reader._buf = from_r, b""
        assert reader.ready()["t"] == "ready"
        parent.stdin.write(b"go\n")
        parent.stdin.close()
        assert parent.wait(10) == 0
        # The worker exits on its own (fd 3's writer, us, is still open):
        # its fd 4 closes, which reads as EOF here.
        with pytest.raises(EOFError):
            reader.recv(10)
    finally:
        os.close(to_w)
        os.close(from_r)


def _thread_policies(pid):
    return {os.sched_getscheduler(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


@pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="scheduling policies are Linux-only")
@pytest.mark.parametrize("env, policy", [
    ({"SNAKEPIT_SCHED_POLICY": "batch"}, "SCHED_BATCH"),
    ({"SNAKEPIT_SCHED_POLICY": "inherit"}, "SCHED_OTHER"),
    ({}, "SCHED_OTHER"),
])
def test_scheduling_policy_covers_every_thread(spawn, env, policy):
    w = spawn(SHOWCASE, env=env)
    w.ready()  # the watcher thread and the rest are started by now
    assert len(os.listdir(f"/proc/{w.proc.pid}/task")) > 1
    assert _thread_policies(w.proc.pid) == {getattr(os, policy)}


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="scheduling policies are Linux-only")
def test_scheduling_policy_keeps_one_the_user_chose():
    # A host run under `chrt --idle` keeps its workers idle too: only the default policy is changed.
    script = "from snakepit_bridge.process import apply_scheduling_policy as a; import os; print(a(), os.sched_getscheduler(0))"
    out = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, "SNAKEPIT_SCHED_POLICY": "batch"}, cwd=PYTHON_DIR,
        preexec_fn=lambda: os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0)),
        capture_output=True, text=True, check=True).stdout.split()
    assert out == ["other", str(os.SCHED_IDLE)]


_FAULTS_SCRIPT = """
import resource, sys
from snakepit_bridge.process import tune_malloc
tuned = tune_malloc()
def churn():
    for _ in range(3):  # a frame, a value, an answer: 8 MiB each, freed after the call
        bufs = [bytearray(8 << 20) for _ in range(3)]
        for b in bufs:
            b[::4096] = b"x" * len(b[::4096])  # touch every page
        del bufs
churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
churn()
print(tuned, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning is Linux-only")
@pytest.mark.parametrize("env, tuned", [
    ({}, True),
    ({"MALLOC_TRIM_THRESHOLD_": "131072"}, False),
    ({"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=131072"}, False),
])
def test_tune_malloc_keeps_large_buffers_without_page_faults(env, tuned):
    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", _FAULTS_SCRIPT], env={**base, **env}, cwd=PYTHON_DIR,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == str(tuned)
    faults = int(out[1])
    if tuned:
        assert faults < 500  # buffers reused from the heap
    else:
        assert faults > 3 * 3 * 2048 // 2  # the user's settings (small thresholds): fresh pages for each
