"""The gRPC floor: the least a Python grpcio round trip can cost.

    PYTHONPATH=python python bench/python/raw_grpc_echo.py ADDRESS READY_FILE

Serves the same generated ``BridgeService`` stubs as the bridge, but only
``ExecuteTool`` (answers ``value=request.args``: the msgpack bytes echoed
unchanged, no decode, no dispatcher, no adapter) and ``Ping``. ADDRESS is
``unix:/path.sock`` or ``host:port`` (port 0: any free port); the bound
address is written to READY_FILE once serving, as JSON ``{"address", "pid", "worker_id"}``
(the same shape as the bridge's ``--ready-file``; written aside and renamed in).
"""
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import grpc

from snakepit_bridge import codegen

MAX_MESSAGE_BYTES = 256 * 1024 * 1024


def main() -> None:
    address, ready_file = sys.argv[1], sys.argv[2]
    pb2, pb2_grpc = codegen.load()

    class Echo(pb2_grpc.BridgeServiceServicer):
        def ExecuteTool(self, request, context):
            return pb2.ExecuteToolResponse(value=request.args)

        def Ping(self, request, context):
            return pb2.PingResponse(message="pong", server_time=time.time())

    server = grpc.server(ThreadPoolExecutor(8), options=[
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ])
    pb2_grpc.add_BridgeServiceServicer_to_server(Echo(), server)
    port = server.add_insecure_port(address)
    server.start()
    bound = address if address.startswith("unix") else f"{address.rpartition(':')[0]}:{port}"
    tmp = f"{ready_file}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump({"address": bound, "pid": os.getpid(), "worker_id": "raw-grpc-echo"}, f)
    os.replace(tmp, ready_file)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
