"""The worker as an operating-system process: exit codes, leaving at once, dying with the host."""
from __future__ import annotations

import os
import signal
import sys
import threading

# Worker exit codes (docs/protocol.md): 0 orderly, 2 pipe mode without fds 3/4, 3 start-up
# failure (``fatal``), 4 protocol error on fd 3, 5 heartbeat lost (``heartbeat.EXIT_HEARTBEAT_LOST``).
EXIT_OK, EXIT_NO_PIPES, EXIT_ADAPTER_IMPORT, EXIT_PROTOCOL_ERROR = 0, 2, 3, 4

_PARENT_PID = os.getppid()  # read as early as possible for the PDEATHSIG race check

# Set by the host from the pool's `schedulingPolicy` (docs/protocol.md): `batch` or `inherit`.
SCHED_POLICY_ENV = "SNAKEPIT_SCHED_POLICY"


def adopt_parent(pid: int) -> None:
    """A forked worker: its parent is the template ``pid`` (read before the fork), not the host."""
    global _PARENT_PID
    _PARENT_PID = pid


def hard_exit(code: int) -> None:
    """Flush the log streams and leave now, without waiting for other threads."""
    if threading.current_thread() is not threading.main_thread():
        # Another thread may hold a stream's lock (blocked in print()):
        # never let a flush keep a worker of a dead host alive.
        timer = threading.Timer(0.5, os._exit, (code,))
        timer.daemon = True
        timer.start()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


def apply_scheduling_policy() -> str:
    """Linux: with ``SNAKEPIT_SCHED_POLICY=batch``, run this process under ``SCHED_BATCH``.

    A worker is a batch job for its host: under ``SCHED_BATCH`` its wake-ups (a call arriving)
    do not preempt the task that is running on that CPU, most often the host that just wrote the
    call and has more to write, while its share of CPU (its nice value) stays the same. Only the
    default policy is changed: one the user chose for the host (``chrt``) is inherited as it is.
    Call it before any thread starts: threads inherit the policy of the thread that starts them.
    Returns the policy the process runs under: ``batch``, ``normal`` or ``other``.
    """
    getter = getattr(os, "sched_getscheduler", None)
    if getter is None:  # not Linux
        return "other"
    try:
        current = getter(0)
        if os.environ.get(SCHED_POLICY_ENV) == "batch" and current == os.SCHED_OTHER:
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
            current = os.SCHED_BATCH
    except OSError:  # a sandbox that forbids it: the worker runs as it is
        return "other"
    return {os.SCHED_BATCH: "batch", os.SCHED_OTHER: "normal"}.get(current, "other")


# glibc malloc: buffers up to this size come from the heap instead of their own mmap, and this much
# freed memory may stay at the heap's top (see ``tune_malloc``).
MALLOC_MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
MALLOC_TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
# A user who set any of these chose the allocator's behaviour: it is left alone.
_MALLOC_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


def tune_malloc() -> bool:
    """glibc: keep large buffers (up to 32 MiB) on the heap and up to 64 MiB of freed memory there.

    A call with megabytes of payload allocates several such buffers (the frame read, the unpacked
    value, the packed answer). Left to glibc each one is a fresh ``mmap``: the kernel zero-fills it
    page by page on first touch and takes it back at ``free``, ~2,000 page faults per 8 MiB buffer,
    every call (measured: 6,100 faults and 13 ms of worker CPU per 8 MiB echo). These settings are
    what glibc's own adaptive thresholds move towards, set from the start. Larger buffers (a 256 MiB
    array) still get their own mapping. Returns whether they were set: not when the environment
    already tunes malloc (``MALLOC_*_`` variables, ``glibc.malloc`` tunables) or off glibc.
    """
    if not sys.platform.startswith("linux") or any(name in os.environ for name in _MALLOC_ENV):
        return False
    if "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt  # glibc (musl has none)
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD_BYTES))


def set_parent_death_signal() -> None:
    """Linux: get SIGKILL when the parent dies (best effort; only for workers the host started).

    The parent is the host, or for a forked worker the pool's fork template, which itself dies
    with the host (``fork_template.py``).

    SIGKILL, not SIGTERM: a dead host cannot wait for ``cleanup()``, and an adapter that ignores
    or blocks SIGTERM (or a C extension holding the GIL) must not outlive it. The orderly path,
    with ``cleanup()``, is the host's ``stop()``. Note the kernel sends it when the host *thread*
    that spawned us exits (for Node, the thread whose event loop ran the spawn).
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except Exception:
        return
    if os.getppid() != _PARENT_PID:  # the parent died before prctl took effect
        hard_exit(EXIT_OK)


def set_process_name(name: str) -> None:
    """Linux: the name ``ps -o comm`` and ``top`` show (15 bytes); the command line is unchanged."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        PR_SET_NAME = 15
        ctypes.CDLL(None).prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)
    except Exception:
        return
