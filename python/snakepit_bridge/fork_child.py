"""A worker forked from the fork template: from ``fork()`` to a worker indistinguishable from a spawned one.

The child leads its own process group, dies with the template (PDEATHSIG; the template dies with
the host), connects three times to the host's per-pool Unix socket (0600, in the run's 0700
folder) — the protocol stream, stdout, stderr — each opened by the one-time token of its fork
request, and puts them where a spawned worker has its pipes: fds 3 and 4 (one full-duplex socket
on both), 1 and 2. Then it runs ``server.main`` with the argv a spawned worker would have had:
``initialize()``, the ``ready`` frame and everything after are the spawned worker's code.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import traceback
from typing import Any, Dict, Iterable, List, Optional

from . import process

__all__ = ["become_worker", "HELLO_ROLES"]

# The hello on each connection: the 32-character token, then one byte naming the stream.
HELLO_ROLES = (b"p", b"o", b"e")  # protocol (fds 3/4), stdout (fd 1), stderr (fd 2)


def _flag(argv: List[str], name: str) -> Optional[str]:
    for i, arg in enumerate(argv[:-1]):
        if arg == name:
            return argv[i + 1]
    return None


def _connect(path: str, token: str) -> List[socket.socket]:
    conns = []
    for role in HELLO_ROLES:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(path)
        conn.sendall(token.encode("ascii") + role)
        conns.append(conn)
    return conns


def _install(conns: List[socket.socket]) -> None:
    """The streams go where a spawned worker has its pipes."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    proto, out, err = (c.fileno() for c in conns)
    for fd, target in ((proto, 3), (proto, 4), (out, 1), (err, 2)):
        os.dup2(fd, target)
    for conn in conns:
        conn.close()


def become_worker(request: Dict[str, Any], parent_pid: int, inherited_fds: Iterable[int]) -> None:
    """Turn this freshly forked child into the worker ``request`` describes; never returns."""
    code = 1
    try:
        try:
            os.setpgid(0, 0)  # its own group, as a spawned worker: stop() signals the group
        except OSError:
            pass  # the template set it first
        process.adopt_parent(parent_pid)
        process.set_parent_death_signal()  # exits at once if the template is already gone
        # The template's wake-up pipe and SIGCHLD handler are not the worker's.
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in inherited_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        argv = [str(a) for a in request["argv"]]
        process.set_process_name(_flag(argv, "--worker-id") or "snakepit-worker")
        _install(_connect(str(request["socket"]), str(request["token"])))
        from . import server

        sys.argv = [server.__file__, *argv]  # what a spawned worker's sys.argv holds
        server.main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - report anything: a child must never return into the template
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - exiting anyway
                pass
        os._exit(code)
