"""Test helper: run ``python -m snakepit_bridge.serve`` and reach it over plaintext, TLS or mTLS."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from grpc_harness import FIXTURES, PYTHON_DIR, TESTS_DIR, pb2, pb2_grpc, wait_for
from snakepit_bridge.serialization import pack

REPO = PYTHON_DIR.parent
DEV_CERTS = REPO / "deploy" / "dev-certs.sh"
PYTHONPATH = os.pathsep.join([str(PYTHON_DIR), str(FIXTURES), str(TESTS_DIR)])
TOKEN = "s3cret-token"


def make_certs(out: Path, *names: str, days: int = 365, ca_dir: Optional[Path] = None) -> Path:
    """deploy/dev-certs.sh: ca.crt, server.{crt,key}, client.{crt,key} in ``out``."""
    args = ["bash", str(DEV_CERTS), "--days", str(days)]
    if ca_dir is not None:
        args += ["--ca-dir", str(ca_dir)]
    subprocess.run([*args, str(out), *names], check=True, stdout=subprocess.DEVNULL)
    return out


def request(call_id: int, tool: str, args: Optional[Dict[str, Any]] = None) -> Any:
    return pb2.ExecuteToolRequest(call_id=call_id, tool_name=tool, args=pack(args or {}))


class Served:
    """One ``snakepit_bridge.serve`` process on 127.0.0.1 (any free port) with a ready file."""

    def __init__(self, tmp: Path, adapter: str, *extra: str, env: Optional[Dict[str, str]] = None) -> None:
        tag = os.urandom(4).hex()
        self.ready_file = tmp / f"ready-{tag}.json"
        self.log = tmp / f"serve-{tag}.log"
        self._log_file = open(self.log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "snakepit_bridge.serve", "--adapter", adapter, "--listen", "127.0.0.1:0",
             "--ready-file", str(self.ready_file), *extra],
            env=dict(os.environ, PYTHONPATH=PYTHONPATH, **(env or {})),
            stdout=subprocess.DEVNULL, stderr=self._log_file)
        self.channels: List[Any] = []

    def ready(self, timeout: float = 30.0) -> Dict[str, Any]:
        def read() -> Optional[Dict[str, Any]]:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log.read_text()}")
            return json.loads(self.ready_file.read_text()) if self.ready_file.exists() else None

        self.info = wait_for(read, timeout, "the ready file")
        self.address = self.info["address"]
        return self.info

    def channel(self, ca: Optional[Path] = None, cert: Optional[Path] = None, key: Optional[Path] = None,
                address: Optional[str] = None) -> Any:
        """A plaintext channel, or TLS trusting ``ca`` (with a client pair for mTLS)."""
        target = address or self.address
        if ca is None:
            channel = grpc.insecure_channel(target)
        else:
            creds = grpc.ssl_channel_credentials(
                root_certificates=ca.read_bytes(),
                private_key=key.read_bytes() if key else None,
                certificate_chain=cert.read_bytes() if cert else None)
            channel = grpc.secure_channel(target, creds)
        self.channels.append(channel)
        return channel

    def bridge(self, channel: Any) -> Any:
        return pb2_grpc.BridgeServiceStub(channel)

    def health(self, channel: Any, service: str = "") -> Any:
        """The health status of ``service`` (``SERVING``, ``NOT_SERVING``)."""
        stub = health_pb2_grpc.HealthStub(channel)
        answer = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)

    def close(self) -> None:
        for channel in self.channels:
            channel.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log_file.close()


def token_metadata(token: str = TOKEN) -> List[Any]:
    return [("x-snakepit-token", token)]
