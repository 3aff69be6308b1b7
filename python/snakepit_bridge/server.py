"""Worker entry point: ``python -m snakepit_bridge.server --adapter pkg.mod.Class``.

Parses the flags (docs/protocol.md, "Flags") and starts one of two transports
over the same ``core.WorkerCore``:

- ``--transport pipe`` (default): fds 3/4 carry calls as frames (``pipe.worker``).
- ``--transport grpc``: a gRPC ``BridgeService`` (``grpc.worker``); fds 3/4,
  when present, are only the control channel.
"""
from __future__ import annotations

import argparse
import logging
import sys
import traceback
from typing import List, Optional

from .adapter_host import DEFAULT_ADAPTER, resolve_adapter_class
from .logging_config import configure_logging
from .pipe.control import control_fds_present
from .process import EXIT_NO_PIPES, apply_scheduling_policy, tune_malloc
from .thread_profile import checks_mode

log = logging.getLogger("snakepit_bridge.server")


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse our flags; unknown ones (e.g. ``--snakepit-run-id``) are ignored."""
    p = argparse.ArgumentParser(prog="snakepit_bridge.server", allow_abbrev=False)
    p.add_argument("--adapter", default=DEFAULT_ADAPTER)
    p.add_argument("--worker-id", default=None)
    p.add_argument("--run-id", default=None)
    # --max-workers: the original threaded server's name for the same thing.
    p.add_argument("--max-concurrency", "--max-workers", dest="max_concurrency", type=int, default=1)
    # The original threaded server's flag; without it SNAKEPIT_THREAD_SAFETY_CHECKS decides.
    p.add_argument("--thread-safety-check", nargs="?", const="warn", default=None,
                   choices=("warn", "strict", "off"),
                   help="thread profile: runtime thread-safety checks (warn, the default, or strict)")
    p.add_argument("--transport", choices=("pipe", "grpc"), default=None,
                   help="pipe (default) or grpc; --listen/--port imply grpc")
    p.add_argument("--listen", default=None,
                   help="gRPC address: unix:/path.sock or host:port (port 0: any free port)")
    # The original gRPC server's flags: --port N (and --host H) mean --listen H:N.
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--host", default=None)
    p.add_argument("--ready-file", default=None,
                   help="gRPC: write {address, pid, worker_id} as JSON here once serving")
    p.add_argument("--health-check", action="store_true",
                   help="import the adapter, print OK (exit 0) or the traceback (exit 1)")
    _add_heartbeat_flags(p)
    args, unknown = p.parse_known_args(argv)
    args.heartbeat = {key: value for key, value in (
        ("enabled", True if args.heartbeat_enabled else None), ("interval_ms", args.heartbeat_interval_ms),
        ("timeout_ms", args.heartbeat_timeout_ms), ("max_missed_heartbeats", args.heartbeat_max_missed),
        ("initial_delay_ms", args.heartbeat_initial_delay_ms), ("dependent", args.heartbeat_dependent),
    ) if value is not None} or None
    args.unknown = unknown
    args.max_concurrency = max(1, args.max_concurrency)
    args.thread_safety_check = checks_mode(args.thread_safety_check)
    if args.listen is None and (args.port is not None or args.host is not None):
        host = args.host or "127.0.0.1"
        args.listen = f"[{host}]:{args.port or 0}" if ":" in host else f"{host}:{args.port or 0}"
    if args.transport is None:
        args.transport = "grpc" if args.listen is not None else "pipe"
    return args


def _add_heartbeat_flags(p: argparse.ArgumentParser) -> None:
    """The original gRPC server's heartbeat flags: they adjust the watchdog (heartbeat.py)."""
    p.add_argument("--heartbeat-enabled", action="store_true", help="watch for the host's pings")
    for name in ("interval-ms", "timeout-ms", "max-missed", "initial-delay-ms"):
        p.add_argument(f"--heartbeat-{name}", type=int, default=None)
    p.add_argument("--heartbeat-dependent", dest="heartbeat_dependent", action="store_true", default=None,
                   help="exit (code 5) when the host stops pinging (the default)")
    p.add_argument("--heartbeat-independent", dest="heartbeat_dependent", action="store_false",
                   help="keep serving when the host stops pinging")


def health_check(args: argparse.Namespace) -> int:
    """Import the adapter class (and the gRPC stubs for --transport grpc) without serving."""
    try:
        resolve_adapter_class(args.adapter)
        if args.transport == "grpc":
            from . import codegen

            codegen.load()
    except BaseException:  # noqa: BLE001 - report anything, even SystemExit
        traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
        return 1
    print("OK", flush=True)
    return 0


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m snakepit_bridge.server``."""
    apply_scheduling_policy()  # first: every thread started later inherits it
    tune_malloc()
    configure_logging()
    args = parse_args(argv)
    if args.unknown:
        log.debug("ignoring unknown arguments: %s", args.unknown)
    if args.health_check:
        sys.exit(health_check(args))
    if args.transport == "grpc":
        from .grpc.worker import GrpcWorker

        GrpcWorker(args, control=control_fds_present()).run()
        return
    if not control_fds_present():
        sys.stderr.write(
            "snakepit_bridge.server: fds 3/4 are not open. Pipe workers are started by the "
            "Snakepit host, which passes the protocol pipes as fds 3 and 4 "
            "(docs/protocol.md); use --transport grpc --listen ADDRESS for a worker of your own.\n")
        sys.exit(EXIT_NO_PIPES)
    from .pipe.worker import PipeWorker

    worker = PipeWorker(args)
    worker.start()
    worker.serve()


if __name__ == "__main__":
    main()
