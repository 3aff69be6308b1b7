"""The original's threaded gRPC worker script: ``python path/to/grpc_server_threaded.py --port 50052
--adapter pkg.mod.Class --max-workers 16``: ``python -m snakepit_bridge.grpc_server_threaded``."""
from snakepit_bridge.grpc_server_threaded import main

if __name__ == "__main__":
    main()
