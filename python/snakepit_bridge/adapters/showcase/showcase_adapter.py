"""ShowcaseAdapter: the default adapter used by the quickstart and the tests."""
from __future__ import annotations

import asyncio
import builtins
import os
import platform
import sys
import threading
import time
from typing import Any, Dict, List, Optional

from ...base_adapter import BaseAdapter, tool
from ...errors import SnakepitToolError, ToolCancelledError
from ...serialization import Tensor

try:  # numpy is optional: make_tensor falls back to a plain Tensor
    import numpy as np
except ImportError:  # pragma: no cover - exercised only without numpy
    np = None  # type: ignore[assignment]

_OPERATIONS = {"count": len, "sum": sum, "max": max, "min": min}
_ARRAY_CODES = {"float32": "f", "float64": "d", "int8": "b", "int16": "h", "int32": "i",
                "int64": "q", "uint8": "B", "uint16": "H", "uint32": "I", "uint64": "Q"}
_POLL_S = 0.005  # how often sleep() looks at the cancel flag


def _cli_flag(name: str) -> Optional[str]:
    argv = sys.argv
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


class ShowcaseAdapter(BaseAdapter):
    """Demo tools: ping/echo/add, lists, streaming, session state, tensors, errors, host tools."""

    # Reviewed for the thread profile: per-session state is locked, everything else is per call.
    __thread_safe__ = True

    def __init__(self) -> None:
        super().__init__()
        # Per-process session state: {session_id: {key: value}}.
        self._sessions: Dict[Optional[str], Dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.restored: Optional[Dict[str, Any]] = None  # what on_session_restore last got

    def on_session_restore(self, state: Dict[str, Any]) -> None:
        """The host restores a session on this worker (its previous worker is gone)."""
        self.restored = dict(state)

    @tool(description="Liveness check")
    def ping(self, message: str = "") -> Dict[str, Any]:
        return {"status": "ok", "message": "pong", "timestamp": time.time()}

    @tool(description="Echo a message back (and every other argument under 'echoed')")
    def echo(self, message: Any = None, **kwargs: Any) -> Dict[str, Any]:
        echoed = dict(kwargs)
        if message is not None:
            echoed["message"] = message
        return {"message": message, "timestamp": time.time(), "success": True, "echoed": echoed}

    @tool(description="Add two numbers")
    def add(self, a: float, b: float) -> Dict[str, Any]:
        return {"result": a + b, "operation": "addition", "success": True}

    @tool(description="Process a list with an operation: count, sum, max or min")
    def process_list(self, items: list, operation: str = "count") -> Dict[str, Any]:
        fn = _OPERATIONS.get(operation)
        if fn is None:
            raise SnakepitToolError(
                f"Unknown operation: {operation}",
                code="unknown_operation",
                details={"operation": operation, "available": sorted(_OPERATIONS)},
            )
        return {"result": fn(items), "operation": operation, "success": True}

    @tool(description="Stream progress updates", supports_streaming=True)
    def stream_progress(self, steps: int = 5, delay_ms: int = 100):
        start = time.monotonic()
        for i in range(1, steps + 1):
            if i > 1 and delay_ms > 0:
                time.sleep(delay_ms / 1000)
            yield {
                "step": i,
                "total": steps,
                "progress": round(i / steps * 100, 2),
                "elapsed_ms": round((time.monotonic() - start) * 1000, 3),
            }

    @tool(description="Async stream of numbered items", supports_streaming=True)
    async def async_stream(self, steps: int = 3, delay_ms: int = 10):
        for i in range(1, steps + 1):
            if i > 1 and delay_ms > 0:
                await asyncio.sleep(delay_ms / 1000)
            yield {"step": i, "total": steps}

    @tool(description="Store a value in this worker's state for the current session")
    def remember(self, key: str, value: Any) -> Dict[str, Any]:
        sid = self.session_context.session_id if self.session_context else None
        with self._lock:
            self._sessions.setdefault(sid, {})[key] = value
        return {"session_id": sid, "key": key, "stored": True, "pid": os.getpid()}

    @tool(description="Read a value stored with remember() for the current session")
    def recall(self, key: str) -> Dict[str, Any]:
        sid = self.session_context.session_id if self.session_context else None
        with self._lock:
            state = self._sessions.get(sid, {})
            found = key in state
            value = state.get(key)
        return {"session_id": sid, "key": key, "found": found, "value": value, "pid": os.getpid()}

    @tool(description="Facts about this worker process")
    def get_worker_info(self) -> Dict[str, Any]:
        ctx = self.session_context
        return {
            "pid": os.getpid(),
            "ppid": os.getppid(),
            "worker_id": _cli_flag("--worker-id"),
            "python": platform.python_version(),
            "executable": sys.executable,
            "thread": threading.current_thread().name,
            "session_id": ctx.session_id if ctx else None,
            "metadata": ctx.request_metadata if ctx else {},
        }

    @tool(description="Sleep for ms milliseconds; stops early when cancelled")
    def sleep(self, ms: float = 100) -> Dict[str, Any]:
        ctx = self.session_context
        deadline = time.monotonic() + ms / 1000
        while True:
            if ctx is not None and ctx.cancelled:
                raise ToolCancelledError(f"sleep({ms}) cancelled")
            left = deadline - time.monotonic()
            if left <= 0:
                return {"slept_ms": ms, "pid": os.getpid()}
            time.sleep(min(left, _POLL_S))

    @tool(description="asyncio sleep for ms milliseconds")
    async def async_sleep(self, ms: float = 100) -> Dict[str, Any]:
        await asyncio.sleep(ms / 1000)
        return {"slept_ms": ms, "pid": os.getpid()}

    @tool(description="Return arange(n) as a tensor of the given dtype (and shape)")
    def make_tensor(self, n: int = 8, dtype: str = "float32", shape: Optional[List[int]] = None) -> Any:
        shape = list(shape) if shape else [n]
        if np is not None:
            return np.arange(n, dtype=dtype).reshape(shape)
        import array

        if dtype not in _ARRAY_CODES:
            raise SnakepitToolError(f"dtype {dtype} needs numpy", code="invalid_args")
        values = array.array(_ARRAY_CODES[dtype], range(n))
        if sys.byteorder == "big":
            values.byteswap()
        return Tensor(dtype, tuple(shape), values.tobytes())

    @tool(description="Describe a received tensor: dtype, shape, sum")
    def tensor_info(self, tensor: Any) -> Dict[str, Any]:
        if np is not None and isinstance(tensor, np.ndarray):
            return {"dtype": tensor.dtype.name, "shape": list(tensor.shape),
                    "sum": tensor.sum().item(), "type": "ndarray"}
        if isinstance(tensor, Tensor):
            return {"dtype": tensor.dtype, "shape": list(tensor.shape), "sum": None, "type": "Tensor"}
        raise SnakepitToolError(f"not a tensor: {type(tensor).__name__}", code="invalid_args")

    @tool(description="Raise an exception of the given builtin type")
    def raise_error(self, message: str = "boom", type: str = "ValueError") -> None:
        exc_type = getattr(builtins, type, None)
        if not (isinstance(exc_type, builtins.type) and issubclass(exc_type, Exception)):
            exc_type = RuntimeError
        raise exc_type(message)

    # -- calls to the host (host tools and session state kept on the host) -------

    @tool(description="Validate data with host tool validate_schema, process it, store it with store_result")
    def process_with_validation(self, data: Any) -> Dict[str, Any]:
        ctx = self.session_context
        validation = ctx.call_host_tool("validate_schema", data=data)
        if not (isinstance(validation, dict) and validation.get("valid")):
            details = validation.get("errors", validation) if isinstance(validation, dict) else validation
            return {"error": "validation failed", "details": details}
        result = _summarize(data)
        stored = ctx.call_host_tool("store_result", result=result)
        return {"success": True, "result": result, "stored": stored}

    @tool(description="Add `by` to the session's counter (session state kept on the host); returns the new value")
    def counter_increment(self, by: int = 1) -> int:
        state = self.session_context.state
        value = state.get("counter", 0) + by
        state["counter"] = value  # written through to the host at once
        return value

    @tool(description="The state the last on_session_restore received (None if none)")
    def restored_state(self) -> Optional[Dict[str, Any]]:
        return self.restored


def _summarize(data: Any) -> Dict[str, Any]:
    """The "processing" step of process_with_validation: a small summary of the data."""
    if isinstance(data, dict):
        return {"kind": "map", "fields": sorted(str(k) for k in data), "count": len(data)}
    if isinstance(data, (list, tuple)):
        numbers = [x for x in data if isinstance(x, (int, float)) and not isinstance(x, bool)]
        summary: Dict[str, Any] = {"kind": "list", "count": len(data)}
        if numbers:
            summary.update(sum=sum(numbers), mean=sum(numbers) / len(numbers))
        return summary
    return {"kind": type(data).__name__, "value": data}
