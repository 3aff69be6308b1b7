"""The worker side of the thread profile: runtime detection, start-up warnings, thread-safety checks.

A worker is in the thread profile when its concurrency (``--max-concurrency``,
alias ``--max-workers``) is above 1: up to that many calls run at once on one
adapter instance. At start-up (``prepare``, before ``ready``) such a worker:

- warns when the interpreter runs with the GIL (only code that releases it,
  such as numpy/BLAS or I/O, runs in parallel);
- refuses an adapter that does not declare ``__thread_safe__ = True``
  (``AdapterNotThreadSafeError``, ``fatal`` code ``adapter_not_thread_safe``), as the
  original's threaded server did, unless ``SNAKEPIT_REQUIRE_THREAD_SAFE=0`` (the host
  sets it for a pool with ``requireThreadSafeAdapter: false``): then it only warns;
- with thread-safety checks on (``--thread-safety-check [warn|strict]`` or
  ``SNAKEPIT_THREAD_SAFETY_CHECKS=1|strict``, which the host sets when a
  pool has ``threadSafetyChecks: true``): enables the global
  ``ThreadSafetyChecker``, reports known thread-unsafe libraries and common
  pitfalls, monitors every tool call, and logs the checker's report at exit.
  ``strict`` refuses an adapter marked ``__thread_safe__ = False`` even with the opt-out.
"""
from __future__ import annotations

import logging
import os
import platform
import sys
import sysconfig
from typing import Any, Callable, Dict, List, Optional

from . import thread_safety_checker as checks
from . import wire_errors

log = logging.getLogger("snakepit_bridge.thread_profile")

ENV_CHECKS = "SNAKEPIT_THREAD_SAFETY_CHECKS"
ENV_REQUIRE_DECLARATION = "SNAKEPIT_REQUIRE_THREAD_SAFE"
CHECK_MODES = ("off", "warn", "strict")

_concurrency = 1


class AdapterNotThreadSafeError(RuntimeError):
    """The adapter does not declare ``__thread_safe__ = True`` but would run calls concurrently."""

    startup_code = wire_errors.ADAPTER_NOT_THREAD_SAFE  # the ``fatal`` frame's code


def gil_enabled() -> bool:
    """Whether the GIL is on now (always True before Python 3.13)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def free_threading_build() -> bool:
    """Whether this interpreter is a free-threaded build (``python3.13t`` and later)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def runtime_info() -> Dict[str, Any]:
    """``{version, gil_enabled, free_threading}``: the ``runtime`` of the ready frame / Describe."""
    return {"version": platform.python_version(), "gil_enabled": gil_enabled(),
            "free_threading": free_threading_build()}


def checks_mode(flag: Optional[str]) -> str:
    """``off``, ``warn`` or ``strict`` from the flag's value (None: absent), else the environment."""
    raw = flag if flag is not None else os.environ.get(ENV_CHECKS, "")
    value = raw.strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return "off"
    return "strict" if value == "strict" else "warn"


def current_concurrency() -> int:
    """This worker's concurrency (1 until a worker has prepared its adapter)."""
    return _concurrency


def prepare(adapter_host: Any, tools: Dict[str, Callable[..., Any]],
            on_exit: List[Callable[[], None]]) -> Dict[str, Callable[..., Any]]:
    """Start-up checks for a loaded ``adapter_host.AdapterHost``; returns the tools to run.

    ``on_exit``: where to add the checker's report at exit (checks on).
    """
    global _concurrency
    concurrency = _concurrency = adapter_host.concurrency
    mode = adapter_host.thread_safety
    adapter = adapter_host.adapter
    if concurrency > 1:
        _warn_gil(concurrency)
        _check_declaration(type(adapter), concurrency, mode)
    if mode == "off":
        return tools
    if adapter_host.route is not None:
        adapter_host.route = checks.monitored("execute_tool", adapter_host.route)
    checker = checks.enable_checking(strict_mode=mode == "strict")
    checker.check_library_safety()
    for hint in checks.check_common_pitfalls(adapter):
        log.warning("THREAD SAFETY: %s", hint)
    on_exit.append(_log_report)
    return {name: checks.monitored(name, fn) for name, fn in tools.items()}


def _warn_gil(concurrency: int) -> None:
    if not gil_enabled():
        return
    version = platform.python_version()
    if free_threading_build():
        why = (f"Python {version} is a free-threaded build but runs with the GIL enabled "
               "(PYTHON_GIL=1, or an extension module that does not support free-threading)")
    else:
        why = f"Python {version} has a GIL"
    log.warning(
        "Thread profile (%d calls at once per worker) on a GIL Python: %s. Threads run Python code "
        "one at a time, so only tools that spend their time in code that releases the GIL (numpy/BLAS, "
        "I/O, most C extensions) run in parallel. For pure-Python CPU work use workerProfile 'process' "
        "or a free-threaded Python (3.13t or later).", concurrency, why)


def declaration_required() -> bool:
    """Whether an adapter must declare thread safety to run in the thread profile (default yes)."""
    return os.environ.get(ENV_REQUIRE_DECLARATION, "1").strip().lower() not in ("0", "false", "no", "off")


def _check_declaration(adapter_cls: type, concurrency: int, mode: str) -> None:
    declared = getattr(adapter_cls, "__thread_safe__", None)
    if declared is True:
        return
    name = f"{adapter_cls.__module__}.{adapter_cls.__qualname__}"
    said = "does not declare thread safety" if declared is None else "declares __thread_safe__ = False"
    if declaration_required() or (declared is False and mode == "strict"):
        raise AdapterNotThreadSafeError(
            f"Adapter {name} {said} but would run up to {concurrency} calls at once (thread profile). "
            "Review it for shared mutable state, then set __thread_safe__ = True on the class (or subclass "
            "snakepit_bridge.base_adapter_threaded.ThreadSafeAdapter); or use workerProfile 'process'; "
            "or accept the risk with requireThreadSafeAdapter: false on the pool.")
    log.warning(
        "Adapter %s %s but runs up to %d calls at once (thread profile; requireThreadSafeAdapter is off). "
        "Review it for shared mutable state, then set __thread_safe__ = True, or use workerProfile 'process'.",
        name, said, concurrency)


def _log_report() -> None:
    checker = checks.get_global_checker()
    report = checker.get_report()
    # Findings at warning level (seen at the default log level); a clean run only at info.
    level = logging.WARNING if report["warnings_issued"] else logging.INFO
    for line in checks.report_lines(report):
        log.log(level, "%s", line)
