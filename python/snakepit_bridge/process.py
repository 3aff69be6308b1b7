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
