"""Unary ExecuteTool latency: the bridge's gRPC server vs the raw grpcio floor.

    .venv/bin/python python/tests/bench_grpc_roundtrip.py [N] [ROUNDS]

Same Python grpc client (generated stubs, one channel per server, sequential
blocking calls) against:
- ``bench/python/raw_grpc_echo.py``: echoes the args bytes, no decode/dispatch;
- the bridge (``--transport grpc``) running a tiny echo tool.
Each over TCP loopback and a unix socket. Prints the median over ROUNDS of
the mean microseconds per round trip (rounds interleaved so drift hits all).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import grpc  # noqa: E402

from grpc_harness import PYTHONPATH, SERVER, pb2, pb2_grpc, wait_for  # noqa: E402
from snakepit_bridge.serialization import pack  # noqa: E402

RAW = str(HERE.parents[1] / "bench" / "python" / "raw_grpc_echo.py")


def start(argv, ready_file):
    proc = subprocess.Popen(argv, env=dict(os.environ, PYTHONPATH=PYTHONPATH),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = wait_for(lambda: ready_file.exists() and json.loads(ready_file.read_text())["address"],
                       30, str(argv))
    return proc, address


def measure(stub, n, tool, args):
    body = pack(args)
    req = pb2.ExecuteToolRequest(call_id=0, tool_name=tool, args=body, session_id="")
    call = stub.ExecuteTool
    for i in range(300):  # warm-up
        req.call_id = i
        call(req)
    start = time.perf_counter()
    for i in range(n):
        req.call_id = i
        reply = call(req)
    elapsed = time.perf_counter() - start
    assert reply.WhichOneof("outcome") == "value", reply
    return elapsed / n * 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    tmp = Path(tempfile.mkdtemp(prefix="spb-"))
    cases = []
    for transport in ("tcp", "unix"):
        for kind in ("raw", "bridge"):
            listen = "127.0.0.1:0" if transport == "tcp" else f"unix:{tmp}/{kind}.sock"
            ready = tmp / f"{kind}-{transport}.json"
            if kind == "raw":
                argv = [sys.executable, RAW, listen, str(ready)]
                name, tool, args = f"raw_grpc_echo ({transport})", "echo", {"value": "hi"}
            else:
                argv = [*SERVER, "--transport", "grpc", "--listen", listen, "--ready-file", str(ready),
                        "--adapter", "echo_adapter.EchoAdapter"]
                name, tool, args = f"bridge echo_value ({transport})", "echo_value", {"value": "hi"}
            proc, address = start(argv, ready)
            channel = grpc.insecure_channel(address)
            cases.append((name, proc, channel, pb2_grpc.BridgeServiceStub(channel), tool, args))
    results = {c[0]: [] for c in cases}
    try:
        for _ in range(rounds):
            for name, _, _, stub, tool, args in cases:
                results[name].append(measure(stub, n, tool, args))
    finally:
        for _, proc, channel, *_ in cases:
            channel.close()
            proc.kill()
            proc.wait()
    for transport in ("tcp", "unix"):
        base = statistics.median(results[f"raw_grpc_echo ({transport})"])
        for name, values in results.items():
            if transport in name:
                med = statistics.median(values)
                print(f"{name:30s} median {med:7.1f} µs/call  (min {min(values):6.1f}, max {max(values):6.1f};"
                      f" +{med - base:5.1f} µs over raw)")


if __name__ == "__main__":
    main()
