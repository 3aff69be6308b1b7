"""The gRPC transport, worker side: ``BridgeService`` served over the shared worker core (docs/protocol.md).

``worker`` (start-up, addresses, the control pipe when spawned), ``servicer``
(the RPC methods, token check, server start), ``scheduling`` (where and when
calls run), ``replies`` (a call's answers as response messages) and
``host_channel`` (requests to the host's ``HostService``).

Inside this package ``import grpc`` is still grpcio: imports are absolute.
"""
