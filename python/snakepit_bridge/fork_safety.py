"""Whether the fork template may fork: the reasons a forked worker could hang or break, checked once.

``fork()`` copies only the calling thread. A lock another thread held at that moment stays held
forever in the child (malloc, logging, a library's own), and a CUDA context cannot be used in a
child at all. So the template refuses to fork — and the host starts the pool's workers with spawn
instead — when, after the adapter's import and ``preload()``:

- ``platform``: this is not Linux (macOS forbids much after fork; PDEATHSIG and /proc are Linux's);
- ``threads``: a Python thread other than the main one runs (``threading.enumerate()``);
- ``cuda``: the CUDA driver is loaded (``libcuda`` mapped, or ``torch.cuda.is_initialized()``);
- ``native_threads``: an OS thread no Python code started (a C extension's pool) is still
  there after a probe fork. Libraries whose pools are fork-aware stop them in a
  ``pthread_atfork`` handler — OpenBLAS, numpy's default BLAS, does — and pass this check.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from typing import Dict, Optional

__all__ = ["fork_refusal", "os_thread_count"]

# How long the probe waits for threads that a fork handler stopped to leave /proc/self/task.
_SETTLE_S = 0.2


def os_thread_count() -> int:
    """Live OS threads of this process (Linux; 1 where unknown)."""
    count = 0
    try:
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/stat", "rb") as f:
                    state = f.read().rsplit(b") ", 1)[1][:1]
            except (OSError, IndexError):
                continue
            if state not in (b"Z", b"X"):
                count += 1
    except OSError:
        return 1
    return max(count, 1)


def _cuda_loaded() -> bool:
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_initialized():
                return True
        except Exception:  # noqa: BLE001 - a torch without CUDA support
            pass
    try:
        with open("/proc/self/maps", "r", encoding="utf-8", errors="replace") as f:
            return any("libcuda.so" in line for line in f)
    except OSError:
        return False


def _threads_after_probe_fork() -> int:
    """Fork a child that exits at once, then count the threads left: fork handlers ran meanwhile."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: "this process is multi-threaded"
        pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    deadline = time.monotonic() + _SETTLE_S
    count = os_thread_count()
    while count > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
        count = os_thread_count()
    return count


def fork_refusal() -> Optional[Dict[str, str]]:
    """``{code, message}`` saying why forking is unsafe here, or None when it is safe."""
    if not sys.platform.startswith("linux"):
        return {"code": "platform", "message": f"fork mode needs Linux, this is {sys.platform}"}
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if others:
        return {"code": "threads",
                "message": f"Python threads run in the template after preload(): {', '.join(sorted(others))}"}
    if _cuda_loaded():
        return {"code": "cuda", "message": "CUDA is initialised in the template (a forked child cannot use it): "
                                           "load models onto the GPU in initialize(), not in preload()"}
    if os_thread_count() > 1:
        left = _threads_after_probe_fork() - 1
        if left > 0:
            return {"code": "native_threads",
                    "message": f"{left} native thread(s) started by a C extension keep running across a fork"}
    return None
