"""The worker-profiles guide's adapter (guides/worker-profiles.md): where a call runs, and what it may use."""
import os
import threading

from snakepit_bridge.base_adapter import BaseAdapter, tool

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


# region adapter
class ProfilesAdapter(BaseAdapter):
    # Reviewed for the thread profile: the only shared state is guarded by a lock.
    __thread_safe__ = True

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()
        self._barriers = {}

    @tool(description="Wait until `parties` calls are inside this process at once (or time out)")
    def rendezvous(self, parties: int, timeout_s: float = 5.0):
        with self._lock:  # one barrier per size, shared by every thread of this process
            barrier = self._barriers.setdefault(parties, threading.Barrier(parties))
        barrier.wait(timeout_s)  # raises BrokenBarrierError if fewer calls run at once
        return {"pid": os.getpid(), "thread": threading.current_thread().name}
    # endregion adapter

    @tool(description="Which process and thread ran this call")
    def whoami(self):
        return {"pid": os.getpid(), "thread": threading.current_thread().name}

    @tool(description="The BLAS/OpenMP thread variables this worker started with")
    def thread_limits(self):
        return {name: os.environ.get(name) for name in THREAD_VARS}
