"""The long-lived worker server for containers: ``python -m snakepit_bridge.serve`` (``snakepit-worker``).

    snakepit-worker --adapter pkg.mod.Class --listen 0.0.0.0:50051 \\
        --tls-cert /tls/tls.crt --tls-key /tls/tls.key [--tls-client-ca /tls/ca.crt] \\
        --token-file /token/token --health-listen 0.0.0.0:50052 --drain-timeout-s 25

The same ``BridgeService`` as ``server.py --transport grpc`` (docs/protocol.md),
for workers that something else starts (Kubernetes) and hosts attach to, plus:

- the gRPC health service (``grpc/health.py``) on the main port and, plaintext,
  on ``--health-listen`` (for the kubelet's probes, which speak no TLS);
- TLS, mutual with ``--tls-client-ca`` (``grpc/tls.py``);
- the token from ``--token-file`` or ``SNAKEPIT_TOKEN``, compared in constant
  time (``grpc.servicer.TokenInterceptor``);
- graceful drain on SIGTERM within ``--drain-timeout-s`` (``grpc/drain.py``).

Concurrency: ``--profile process`` runs one call at a time with tool code on
the main thread, as a spawned worker does (run more replicas for more);
``--profile thread --max-concurrency N`` runs N calls at once on threads.
Start-up problems exit 2 (a flag) or 3 (the adapter or the port).
"""
from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any, List, NoReturn, Optional

from . import wire_errors
from .adapter_host import DEFAULT_ADAPTER
from .core import WorkerCore
from .grpc.drain import Drain, DrainingShutdown, DrainInterceptor
from .grpc.health import WorkerHealth
from .grpc.scheduling import MainThreadRunner
from .grpc.tls import ConfigProblem, read_token, server_credentials
from .grpc.worker import install_host_channel, serve_forever, write_ready_file
from .logging_config import configure_logging
from .process import EXIT_ADAPTER_IMPORT, hard_exit

log = logging.getLogger("snakepit_bridge.serve")

DEFAULT_LISTEN = "0.0.0.0:50051"
DEFAULT_DRAIN_TIMEOUT_S = 25.0
DEFAULT_THREADS = 8
EXIT_USAGE = 2
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


def _env(name: str, default: Optional[str] = None) -> Optional[str]:
    return os.environ.get(name) or default


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Flags; the container-friendly ones also read ``SNAKEPIT_*`` variables (the flag wins)."""
    p = argparse.ArgumentParser(prog="snakepit-worker", allow_abbrev=False,
                                description="Serve a Snakepit adapter over gRPC for remote hosts.")
    p.add_argument("--adapter", default=_env("SNAKEPIT_ADAPTER", DEFAULT_ADAPTER),
                   help="adapter class, package.module.Class (env SNAKEPIT_ADAPTER)")
    p.add_argument("--listen", default=_env("SNAKEPIT_LISTEN", DEFAULT_LISTEN),
                   help=f"host:port to serve on (env SNAKEPIT_LISTEN; default {DEFAULT_LISTEN})")
    p.add_argument("--profile", choices=("process", "thread"), default=_env("SNAKEPIT_PROFILE"),
                   help="process: one call at a time on the main thread; thread: --max-concurrency "
                        "calls at once (default: thread when --max-concurrency > 1)")
    p.add_argument("--max-concurrency", type=int, default=None,
                   help=f"calls at once in the thread profile (default {DEFAULT_THREADS})")
    p.add_argument("--worker-id", default=_env("SNAKEPIT_WORKER_ID", socket.gethostname()),
                   help="name in logs and telemetry (default: the host name, a pod's name)")
    p.add_argument("--tls-cert", default=None, help="PEM certificate chain of this server")
    p.add_argument("--tls-key", default=None, help="PEM private key of --tls-cert")
    p.add_argument("--tls-client-ca", default=None,
                   help="PEM CA bundle: clients must present a certificate it signed (mTLS)")
    p.add_argument("--token-file", default=None,
                   help="file holding the token every call must carry (else env SNAKEPIT_TOKEN)")
    p.add_argument("--no-token", action="store_true",
                   help="serve without a token (only where something else authenticates callers)")
    p.add_argument("--insecure", action="store_true",
                   help="allow plaintext on a non-loopback address (e.g. behind a service mesh's mTLS)")
    p.add_argument("--health-listen", default=_env("SNAKEPIT_HEALTH_LISTEN"),
                   help="also serve grpc.health.v1 alone, plaintext, here (for kubelet gRPC probes)")
    p.add_argument("--drain-timeout-s", type=float,
                   default=float(_env("SNAKEPIT_DRAIN_TIMEOUT_S", str(DEFAULT_DRAIN_TIMEOUT_S)) or 0),
                   help=f"on SIGTERM, how long calls in flight may take to finish (default {DEFAULT_DRAIN_TIMEOUT_S:g})")
    p.add_argument("--ready-file", default=None, help="write {address, pid, worker_id} as JSON here once serving")
    args = p.parse_args(argv)
    try:
        _check(args)
    except ConfigProblem as exc:
        p.error(str(exc))  # exits 2 with the usage line
    return args


def _check(args: argparse.Namespace) -> None:
    """Combinations argparse cannot see; fills ``args.concurrency``."""
    if args.max_concurrency is not None and args.max_concurrency < 1:
        raise ConfigProblem(f"--max-concurrency: expected an integer >= 1, got {args.max_concurrency}")
    if args.profile is None:
        args.profile = "thread" if (args.max_concurrency or 1) > 1 else "process"
    if args.profile == "process":
        if (args.max_concurrency or 1) > 1:
            raise ConfigProblem("--max-concurrency: the process profile runs one call at a time per "
                                f"process, got {args.max_concurrency}; run more replicas or use --profile thread")
        args.concurrency = 1
    else:
        args.concurrency = args.max_concurrency or DEFAULT_THREADS
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ConfigProblem("--tls-cert and --tls-key: expected both or neither")
    if args.tls_client_ca and not args.tls_cert:
        raise ConfigProblem("--tls-client-ca: needs --tls-cert and --tls-key (mTLS is TLS with client certificates)")
    if args.drain_timeout_s < 0:
        raise ConfigProblem(f"--drain-timeout-s: expected a number >= 0, got {args.drain_timeout_s:g}")
    host = args.listen.rpartition(":")[0]
    if not args.tls_cert and not args.insecure and not args.listen.startswith("unix") and host not in _LOOPBACK_HOSTS:
        raise ConfigProblem(f"--listen {args.listen}: plaintext on a non-loopback address; give --tls-cert/--tls-key, "
                            "or --insecure where the network is protected otherwise")
    args.credentials = server_credentials(args.tls_cert, args.tls_key, args.tls_client_ca) if args.tls_cert else None
    args.token = None if args.no_token else read_token(args.token_file)
    if args.token is None and not args.no_token:
        raise ConfigProblem("no token: give --token-file or SNAKEPIT_TOKEN, or --no-token where something "
                            "else authenticates callers")


class ServeWorker:
    """One container worker: its core, health, drain, the server, the main thread's loop."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        process_profile = args.profile == "process"
        self.main_thread = MainThreadRunner() if process_profile else None
        self.core = WorkerCore(args.adapter, args.concurrency, loop_threaded=not process_profile,
                               worker_id=args.worker_id)
        self.core.calls.remember_early_cancels()
        self.health = WorkerHealth()
        self.drain = Drain()
        core = self.core
        self.shutdown = core.shutdown = DrainingShutdown(
            core._cleanup, core.calls.cancel_all, hard_exit, self.drain, args.drain_timeout_s,
            on_drain=self.health.draining)

    def run(self) -> NoReturn:
        args, core = self.args, self.core
        self.shutdown.install()  # SIGTERM/SIGINT drain from now on
        health_address = self._serve_health() if args.health_listen else None
        try:
            from . import codegen

            pb2, pb2_grpc = codegen.load()
            install_host_channel(core, pb2, pb2_grpc)
            core.load(lambda: None)  # over gRPC no host pipe can break
        except BaseException as exc:  # noqa: BLE001 - report anything, even SystemExit
            self._fatal(exc, wire_errors.ADAPTER_IMPORT)
        try:
            from .grpc.servicer import start_server

            server, address, _ = start_server(
                core, pb2, pb2_grpc, args.listen, args.token, self.main_thread, credentials=args.credentials,
                interceptors=[DrainInterceptor(self.drain)], register=self.health.add_to)
        except BaseException as exc:  # noqa: BLE001
            self._fatal(exc, wire_errors.LISTEN_FAILED)
        self.shutdown.stop_server = server.stop
        core.on_exit.append(lambda: server.stop(0))
        self.health.serving()
        if args.ready_file:
            write_ready_file(args.ready_file, {"address": address, "health_address": health_address,
                                               "pid": os.getpid(), "worker_id": core.worker_id})
        spec = core.adapter_host.adapter_spec
        log.info("worker %s serving %s on %s (%s, profile %s, concurrency %d, %s, %s)", core.worker_id,
                 spec, address, "TLS" if args.credentials else "plaintext", args.profile,
                 core.concurrency, "mTLS" if args.tls_client_ca else "no client certificates",
                 "token" if args.token else "no token")
        sys.stderr.write(f"snakepit-worker: {spec} serving on {address}\n")
        sys.stderr.flush()
        serve_forever(self.main_thread)
        raise AssertionError("unreachable")  # serve_forever only ends by exiting

    def _serve_health(self) -> str:
        """The plaintext health-only server, up before the adapter loads (liveness answers meanwhile)."""
        import grpc

        server = grpc.server(ThreadPoolExecutor(2, thread_name_prefix="snakepit-health-port"),
                             options=[("grpc.so_reuseport", 0)])
        self.health.add_to(server)
        try:
            port = server.add_insecure_port(self.args.health_listen)
        except RuntimeError as exc:
            self._fatal(exc, wire_errors.LISTEN_FAILED)
        if not port:
            self._fatal(OSError(f"cannot listen on {self.args.health_listen!r}"), wire_errors.LISTEN_FAILED)
        server.start()
        self.core.on_exit.append(lambda: server.stop(0))
        from .grpc.servicer import reported_address

        return reported_address(self.args.health_listen, port)

    def _fatal(self, exc: BaseException, code: str) -> NoReturn:
        code = getattr(exc, "startup_code", None) or code
        sys.stderr.write(f"snakepit-worker: failed to start ({code}):\n")
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        hard_exit(EXIT_ADAPTER_IMPORT)
        raise AssertionError("unreachable")


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``snakepit-worker`` and ``python -m snakepit_bridge.serve``."""
    configure_logging()
    ServeWorker(parse_args(argv)).run()


if __name__ == "__main__":
    main()
