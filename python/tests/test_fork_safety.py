"""Fork safety: what the template checks before it forks."""
import json
import subprocess
import sys
import threading

import pytest

from harness import PYTHON_DIR
from snakepit_bridge import fork_safety


def fresh_python(code):
    """Runs ``code`` in a new interpreter (this one's threads are pytest's business); its JSON output."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                         env={"PYTHONPATH": str(PYTHON_DIR)})
    return json.loads(out.stdout)


def test_a_single_threaded_process_may_fork_even_with_numpy_loaded():
    # numpy's OpenBLAS starts a thread pool at import and stops it in its fork handler.
    result = fresh_python("import json, numpy; from snakepit_bridge.fork_safety import fork_refusal, os_thread_count;"
                          "numpy.ones((200, 200)) @ numpy.ones((200, 200));"
                          "print(json.dumps([fork_refusal(), os_thread_count()]))")
    assert result == [None, 1]


def test_a_python_thread_refuses_fork_and_is_named():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="loader", daemon=True)
    thread.start()
    try:
        refusal = fork_safety.fork_refusal()
        assert refusal is not None and refusal["code"] == "threads" and "loader" in refusal["message"]
    finally:
        stop.set()
        thread.join()


@pytest.fixture
def no_other_threads(monkeypatch):
    """This process as the template sees itself: other tests' threads left in pytest's process are not its own."""
    monkeypatch.setattr(fork_safety.threading, "enumerate", lambda: [threading.main_thread()])


def test_a_loaded_cuda_driver_refuses_fork(monkeypatch, no_other_threads):
    monkeypatch.setattr(fork_safety, "_cuda_loaded", lambda: True)
    assert fork_safety.fork_refusal()["code"] == "cuda"


def test_torch_with_cuda_initialised_counts_as_loaded(monkeypatch):
    class Cuda:
        initialized = False

        @classmethod
        def is_initialized(cls):
            return cls.initialized

    torch = type(sys)("torch")
    torch.cuda = Cuda
    monkeypatch.setitem(sys.modules, "torch", torch)
    assert fork_safety._cuda_loaded() is False  # imported, no context: forking is fine
    Cuda.initialized = True
    assert fork_safety._cuda_loaded() is True


def test_a_native_thread_that_survives_the_probe_fork_refuses_it(monkeypatch, no_other_threads):
    monkeypatch.setattr(fork_safety, "os_thread_count", lambda: 2)
    monkeypatch.setattr(fork_safety, "_threads_after_probe_fork", lambda: 2)
    assert fork_safety.fork_refusal()["code"] == "native_threads"


def test_a_native_pool_stopped_by_its_fork_handler_passes(monkeypatch, no_other_threads):
    monkeypatch.setattr(fork_safety, "os_thread_count", lambda: 3)
    monkeypatch.setattr(fork_safety, "_threads_after_probe_fork", lambda: 1)
    assert fork_safety.fork_refusal() is None


def test_os_thread_count_counts_a_running_thread():
    before = fork_safety.os_thread_count()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert fork_safety.os_thread_count() == before + 1
    finally:
        stop.set()
        thread.join()
