"""The fork template of a pool with ``startMode: 'fork'``: ``python -m snakepit_bridge.fork_template --adapter pkg.mod.Class``.

Started by the host like a worker (fds 3/4 are its pipes, the same framing, its own process
group, the run id on its command line, PDEATHSIG: it dies with the host). It imports the bridge
and the adapter's module, runs the adapter class's ``preload()`` once, collects and freezes the
GC (so the collector never writes to the shared objects' pages), checks that forking is safe
(``fork_safety.py``) and reports ``ready``. Then it only waits — one thread, never more — for
the host's ``fork`` requests, forks a worker for each (``fork_child.py``) and reports each
child's exit, which only a parent can see. Frames (docs/protocol.md, "Fork template"):

- host -> template: ``fork {id, argv, token, socket}``, ``shutdown {}``
- template -> host: ``ready {pid, python, preloaded, importMs, preloadMs, refused?}``,
  ``fatal {error}``, ``forked {id, pid}``, ``fork_failed {id, message}``, ``exited {pid, code, signal}``
"""
from __future__ import annotations

import argparse
import gc
import logging
import os
import platform
import select
import signal
import sys
import time
from typing import Any, Dict, List, Optional

from . import wire_errors
from .adapter_host import DEFAULT_ADAPTER, resolve_adapter_class
from .errors import ProtocolError
from .pipe import template_frames
from .fork_safety import fork_refusal
from .logging_config import configure_logging
from .pipe.framing import FrameReader, FrameWriter, max_frame_bytes
from .preload import run_preload
from .process import EXIT_ADAPTER_IMPORT, EXIT_OK, EXIT_PROTOCOL_ERROR, apply_scheduling_policy, hard_exit, set_parent_death_signal, tune_malloc

log = logging.getLogger("snakepit_bridge.fork_template")

READ_FD, WRITE_FD = 3, 4


def _import_worker_modules() -> None:
    """What every worker imports (and caches), done once here: the children skip it. Not gRPC:
    grpcio starts threads of its own and is not fork-safe, so gRPC workers import it after the fork."""
    import ctypes  # noqa: F401 - PDEATHSIG and the process name, set by every child

    from . import fork_child, server, thread_profile  # noqa: F401
    from .pipe import worker  # noqa: F401

    # What a child would otherwise load on its first use, ~15 ms in all: sysconfig's data module
    # (the runtime info of the ready frame) and argparse's formatter imports (shutil, bz2, lzma).
    thread_profile.runtime_info()
    server.parse_args([])


def _exit_fields(status: int) -> "tuple[Optional[int], Optional[str]]":
    """(exit code, signal name) of a wait status: one of them is None."""
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        try:
            return None, signal.Signals(-code).name
        except ValueError:
            return None, str(-code)
    return code, None


class ForkTemplate:
    """Loads once, then forks on request and reports its children's exits."""

    def __init__(self, adapter: str) -> None:
        self.adapter = adapter
        self.pid = os.getpid()
        limit = max_frame_bytes()
        self.reader = FrameReader(READ_FD, limit)
        self.writer = FrameWriter(WRITE_FD, limit)
        self.children: set = set()
        self._wake: List[int] = []

    def send(self, frame: Dict[str, Any]) -> None:
        try:
            self.writer.send(frame)
        except BrokenPipeError:
            hard_exit(EXIT_OK)  # the host is gone; the children go with us (PDEATHSIG)

    def load(self) -> None:
        """Import, preload, freeze; ``ready`` (with the refusal, if forking is unsafe) or ``fatal``."""
        for fd in (READ_FD, WRITE_FD):
            os.set_blocking(fd, True)
            os.set_inheritable(fd, False)
        set_parent_death_signal()
        started = time.monotonic()
        try:
            _import_worker_modules()
            cls = resolve_adapter_class(self.adapter)
            imported = time.monotonic()
            preloaded = run_preload(cls)
        except BaseException as exc:  # noqa: BLE001 - report anything, even SystemExit
            err = wire_errors.startup_failure(exc, wire_errors.ADAPTER_IMPORT)
            log.error("fork template failed to load %s: %s: %s", self.adapter, type(exc).__name__, exc)
            try:
                self.writer.send(template_frames.fatal(err))
            finally:
                hard_exit(EXIT_ADAPTER_IMPORT)
        done = time.monotonic()
        gc.collect()
        gc.freeze()  # what exists now is shared by every child: the GC never touches it again
        refused = fork_refusal()
        if refused:
            log.warning("fork refused (%s): %s", refused["code"], refused["message"])
        self.send(template_frames.template_ready(self.pid, platform.python_version(), preloaded,
                                                 (imported - started) * 1000, (done - imported) * 1000, refused))

    def serve(self) -> None:
        """Wait for requests and children's exits, forever (until the host goes)."""
        wake_r, wake_w = os.pipe()
        for fd in (wake_r, wake_w):
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)
        self._wake = [wake_r, wake_w]
        # SIGCHLD only writes to the wake-up pipe: no Python code runs at odd moments.
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(wake_w)
        while True:
            readable, _, _ = select.select([READ_FD, wake_r], [], [])
            if wake_r in readable:
                try:
                    while os.read(wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
            self._reap()
            if READ_FD in readable:
                self._read()

    def _read(self) -> None:
        try:
            frames = self.reader.read_once()
        except EOFError:
            log.info("host closed the pipe, exiting")
            hard_exit(EXIT_OK)
        except (ProtocolError, OSError) as exc:
            log.error("reading fd %d failed: %s: %s", READ_FD, type(exc).__name__, exc)
            hard_exit(EXIT_PROTOCOL_ERROR)
        for frame in frames:
            kind = frame.get("t")
            if kind == "fork":
                self._fork(frame)
            elif kind == "shutdown":
                hard_exit(EXIT_OK)
            else:
                log.warning("ignoring unknown frame type %r", kind)

    def _fork(self, request: Dict[str, Any]) -> None:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # or the child writes the template's buffered text again
        try:
            pid = os.fork()
        except OSError as exc:
            self.send(template_frames.fork_failed(request.get("id"), f"fork() failed: {exc}"))
            return
        if pid == 0:
            from .fork_child import become_worker

            become_worker(request, self.pid, self._wake)  # never returns
        try:
            os.setpgid(pid, pid)  # the child does it too: whichever runs first, no signal misses it
        except OSError:
            pass
        self.children.add(pid)
        self.send(template_frames.forked(request.get("id"), pid))

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            self.send(template_frames.exited(pid, *_exit_fields(status)))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """``--adapter``; the rest (the run id, the adapter's own arguments) is ignored."""
    p = argparse.ArgumentParser(prog="snakepit_bridge.fork_template", allow_abbrev=False)
    p.add_argument("--adapter", default=DEFAULT_ADAPTER)
    args, _ = p.parse_known_args(argv)
    return args


def main(argv: Optional[List[str]] = None) -> None:
    apply_scheduling_policy()  # first: the template's threads and the workers it forks inherit it
    tune_malloc()  # the forked workers inherit the allocator's settings
    configure_logging()
    template = ForkTemplate(parse_args(argv).adapter)
    template.load()
    template.serve()


if __name__ == "__main__":
    main()
