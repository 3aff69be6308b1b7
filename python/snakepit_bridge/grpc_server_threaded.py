"""The original's threaded server entry point, on our server:

    python -m snakepit_bridge.grpc_server_threaded --port 50052 --adapter pkg.mod.Class \\
        --max-workers 16 --thread-safety-check

is ``python -m snakepit_bridge.server --transport grpc --max-workers 10 ...`` with the given
flags after those defaults (``--max-workers`` defaults to 10 as in the original; a later flag
wins). The original's ``--elixir-address`` is accepted and ignored: the host sends its address
with ``Describe``. See docs/protocol.md for every flag.
"""
from __future__ import annotations

import sys
from typing import List, Optional

from .server import main as server_main

DEFAULT_MAX_WORKERS = 10


def main(argv: Optional[List[str]] = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    server_main(["--transport", "grpc", "--max-workers", str(DEFAULT_MAX_WORKERS), *args])


if __name__ == "__main__":
    main()
