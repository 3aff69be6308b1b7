"""Test helper: start ``snakepit_bridge.server --transport grpc`` and talk to it with the stubs.

Modes: ``control`` (spawned like the host does: fds 3/4 are the control
channel, the ready frame names the address), ``tcp`` and ``unix`` (attached:
no fds 3/4, ``--ready-file`` names the address; ``server`` replaces the
``python -m snakepit_bridge.server`` command, e.g. with a script path).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional

import grpc

from harness import FIXTURES, PYTHON_DIR, Worker
from snakepit_bridge import codegen
from snakepit_bridge.serialization import unpack

pb2, pb2_grpc = codegen.load()
TESTS_DIR = Path(__file__).resolve().parent
PYTHONPATH = os.pathsep.join([str(PYTHON_DIR), str(FIXTURES), str(TESTS_DIR)])
SERVER = [sys.executable, "-m", "snakepit_bridge.server"]


class Chunk(NamedTuple):
    """One streamed chunk as the host reads it: a message's own, or one of its ``batch``."""

    value: Any
    final: bool
    metadata: Optional[Dict[str, Any]]
    error: Any  # an ErrorInfo, or None


def chunks_in(message: Any) -> List[Chunk]:
    """A ``ToolChunk``'s chunks: its own (data or error), then those in its ``batch``, in order."""
    if message.WhichOneof("item") == "error":
        return [Chunk(None, message.is_final, None, message.error)]
    out = [Chunk(unpack(message.data), message.is_final, unpack(message.metadata) if message.metadata else None, None)]
    for entry in unpack(message.batch) if message.batch else ():
        out.append(Chunk(entry[0], entry[1], entry[2] if len(entry) > 2 else None, None))
    return out


def wait_for(predicate: Any, timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.005)


class GrpcWorker:
    """One gRPC worker process plus a client stub."""

    def __init__(self, adapter: str, *extra: str, mode: str = "tcp", tmp: Path,
                 env: Optional[Dict[str, str]] = None, stderr: Any = None,
                 server: Optional[List[str]] = None) -> None:
        self.mode = mode
        self.pipe: Optional[Worker] = None
        self.channel: Any = None
        self.address: Optional[str] = None
        full_env = dict(env or {}, PYTHONPATH=PYTHONPATH)
        if mode == "control":
            self.pipe = Worker(adapter, "--transport", "grpc", *extra, env=full_env, stderr=stderr)
            self.proc = self.pipe.proc
            return
        # Socket paths must stay short (sun_path): not under pytest's long tmp_path.
        listen = f"unix:{tempfile.mkdtemp(prefix='sp-')}/w.sock" if mode == "unix" else "127.0.0.1:0"
        self.ready_file = tmp / "ready.json"
        self.proc = subprocess.Popen(
            [*(server or SERVER), "--transport", "grpc", "--adapter", adapter, "--listen", listen,
             "--ready-file", str(self.ready_file), *extra],
            env=dict(os.environ, **full_env), stdout=subprocess.DEVNULL, stderr=stderr)

    def ready(self, timeout: float = 30.0) -> str:
        """Wait until serving; connect the stub; return the address."""
        if self.pipe is not None:
            frame = self.pipe.ready(timeout)
            self.ready_frame = frame
            self.address = frame["address"]
        else:
            def read() -> Optional[str]:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"worker exited with {self.proc.returncode} before serving")
                if self.ready_file.exists():
                    return json.loads(self.ready_file.read_text())["address"]
                return None

            self.address = wait_for(read, timeout, "the ready file")
        self.channel = grpc.insecure_channel(self.address, options=[
            ("grpc.max_send_message_length", 256 << 20), ("grpc.max_receive_message_length", 256 << 20)])
        self.stub = pb2_grpc.BridgeServiceStub(self.channel)
        return self.address

    def wait(self, timeout: float = 10.0) -> int:
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.pipe is not None:
            self.pipe.close()
        elif self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
