"""Round-trip cost of the bridge vs a raw read-echo loop on the same pipes.

    .venv/bin/python python/tests/bench_roundtrip.py [N] [ROUNDS]

Both children get fds 3/4 the same way. The raw child echoes each frame's
bytes back (no decode); the bridge child decodes, dispatches a tiny tool and
encodes a result frame. The client side (pack/unpack) is the same for both.
Prints the median over ROUNDS of the mean microseconds per round trip.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import Worker  # noqa: E402

RAW_ECHO = r"""
import os
buf = b""
while True:
    data = os.read(3, 1 << 16)
    if not data:
        os._exit(0)
    buf += data
    while len(buf) >= 4:
        n = int.from_bytes(buf[:4], "big")
        if len(buf) < 4 + n:
            break
        os.write(4, buf[:4 + n])
        buf = buf[4 + n:]
"""


def measure(worker: Worker, n: int, raw: bool, tool: str, args: dict) -> float:
    frame = {"t": "call", "id": 0, "tool": tool, "args": args, "session": None, "meta": None,
             "stream": False}
    for i in range(200):  # warm-up
        frame["id"] = i
        worker.send(frame)
        worker.recv(10)
    start = time.perf_counter()
    for i in range(n):
        frame["id"] = i
        worker.send(frame)
        reply = worker.recv(10)
    elapsed = time.perf_counter() - start
    assert reply["id"] == n - 1 and (raw or reply["t"] == "result"), reply
    return elapsed / n * 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    cases = [
        ("raw read-echo loop", lambda: Worker("", argv=[sys.executable, "-c", RAW_ECHO]), True, "echo_value", {"value": "hi"}),
        ("bridge echo_value (EchoAdapter)", lambda: Worker("echo_adapter.EchoAdapter"), False,
         "echo_value", {"value": "hi"}),
        ("bridge echo_value, SNAKEPIT_READER=thread",
         lambda: Worker("echo_adapter.EchoAdapter", env={"SNAKEPIT_READER": "thread"}), False,
         "echo_value", {"value": "hi"}),
        ("bridge echo (ShowcaseAdapter)", lambda: Worker("snakepit_bridge.adapters.showcase.ShowcaseAdapter"),
         False, "echo", {"message": "hi"}),
    ]
    workers = []
    for _, make, raw, _, _ in cases:
        w = make()
        if not raw:
            w.ready()
        workers.append(w)
    results = {name: [] for name, *_ in cases}
    try:
        for _ in range(rounds):  # interleave the cases so drift hits all alike
            for (name, _, raw, tool, args), w in zip(cases, workers):
                results[name].append(measure(w, n, raw, tool, args))
    finally:
        for w in workers:
            w.close()
    base = statistics.median(results[cases[0][0]])
    for name, values in results.items():
        med = statistics.median(values)
        print(f"{name:42s} median {med:7.1f} µs/round trip  (min {min(values):6.1f}, "
              f"max {max(values):6.1f}; +{med - base:5.1f} µs over raw)")


if __name__ == "__main__":
    main()
