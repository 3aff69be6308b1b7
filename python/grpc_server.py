"""The original's gRPC worker script: ``python path/to/grpc_server.py --adapter pkg.mod.Class --port 50051``.

Runs ``python -m snakepit_bridge.server --transport grpc`` with the given flags (the
original's ``--port``, ``--adapter``, ``--heartbeat-*`` are understood; ``--elixir-address``
and ``--snakepit-run-id`` are accepted and ignored: the host sends its address with
``Describe``). The folder holding this script is the one holding ``snakepit_bridge``,
which Python puts first on ``sys.path`` for a script.
"""
import sys

from snakepit_bridge.server import main

if __name__ == "__main__":
    main(["--transport", "grpc", *sys.argv[1:]])
