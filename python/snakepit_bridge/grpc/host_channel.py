"""Host requests over gRPC: a client of the host's ``HostService``.

The host says where to call it in the ``DescribeRequest`` (``host_address``,
``host_token``; ``configure``). Each request is one RPC started as a future, so
the waiting thread can give up on it (timeout, cancel) like on a pipe reply;
its gRPC deadline is the same wait bound. RPC failures become
``HostToolError``: ``DEADLINE_EXCEEDED`` -> ``host_tool_timeout``,
``RESOURCE_EXHAUSTED`` (message over the limit) -> ``invalid_host_tool_args``,
anything else (``UNAVAILABLE``, ``UNAUTHENTICATED``...) -> ``host_unavailable``.
"""
from __future__ import annotations

import threading
from typing import Any, Dict, List, Tuple

import grpc

from .. import wire_errors
from ..errors import HostToolError
from ..host_channel import HostChannel, Pending, unavailable
from ..serialization import unpack
from .host_messages import host_error, request_message, telemetry_messages, tool_spec
from .servicer import TOKEN_HEADER, max_message_bytes

__all__ = ["GrpcHostChannel", "host_error", "tool_spec"]


def _decode_outcome(response: Any) -> Any:
    kind = response.WhichOneof("outcome")
    if kind == "error":
        raise host_error(response.error)
    if kind == "value" and response.value:
        return unpack(response.value)
    return None


def _decode_list(response: Any) -> Any:
    return [tool_spec(t) for t in response.tools]


def _rpc_error(exc: grpc.RpcError) -> HostToolError:
    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else str(exc)
    name = code.name if code is not None else "UNKNOWN"
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return HostToolError(f"the host did not answer in time ({details})", code=wire_errors.HOST_TOOL_TIMEOUT)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return HostToolError(f"request refused: {details}", code=wire_errors.INVALID_HOST_TOOL_ARGS)
    return unavailable(f"HostService call failed: {name}: {details}")


class GrpcHostChannel(HostChannel):
    """Calls ``HostService`` at the address the host gave in ``Describe``."""

    def __init__(self, pb2: Any, pb2_grpc: Any) -> None:
        super().__init__()
        self.pb2 = pb2
        self.pb2_grpc = pb2_grpc
        self._lock = threading.Lock()
        self._address = ""
        self._token = ""
        self._channel: Any = None
        self._stub: Any = None
        self._metadata: Tuple[Tuple[str, str], ...] = ()
        self._telemetry_calls: set = set()

    @property
    def address(self) -> str:
        """The host's ``HostService`` address ("" = none)."""
        return self._address

    def configure(self, address: str, token: str) -> None:
        """Use ``address`` (``unix:/path`` or ``host:port``; "" = no host calls) and ``token``."""
        with self._lock:
            if (address, token) == (self._address, self._token):
                return  # Describe is also a plain handshake: repeated with the same values
            old = self._channel
            self._address, self._token = address, token
            self._metadata = ((TOKEN_HEADER, token),) if token else ()
            if address:
                limit = max_message_bytes()
                self._channel = grpc.insecure_channel(address, options=[
                    ("grpc.max_send_message_length", limit), ("grpc.max_receive_message_length", limit)])
                self._stub = self.pb2_grpc.HostServiceStub(self._channel)
            else:
                self._channel = self._stub = None
        if old is not None:
            old.close()  # a new host address: the old host is gone

    def _start(self, op: str, call_id: Any, payload: Dict[str, Any], timeout_s: float) -> Pending:
        with self._lock:
            stub, metadata = self._stub, self._metadata
        if stub is None:
            raise unavailable("the host gave no HostService address (DescribeRequest.host_address)")
        kind, request = request_message(self.pb2, op, call_id, payload)
        method = {"call": stub.ExecuteHostTool, "list": stub.ListHostTools, "state": stub.SessionState}[kind]
        decode = _decode_list if kind == "list" else _decode_outcome
        future = method.future(request, timeout=timeout_s, metadata=metadata)
        pending = Pending(future)
        future.add_done_callback(lambda f: self._finished(pending, f, decode))
        return pending

    @staticmethod
    def _finished(pending: Pending, future: Any, decode: Any) -> None:
        # On a gRPC thread (or inline if already done); decoding errors belong to the waiter.
        try:
            response = future.result()
            value = decode(response)
        except HostToolError as exc:
            return pending.finish(error=exc)
        except grpc.RpcError as exc:
            return pending.finish(error=_rpc_error(exc))
        except grpc.FutureCancelledError:
            return pending.finish(error=unavailable("the request was cancelled"))
        except Exception as exc:  # noqa: BLE001 - an undecodable reply
            return pending.finish(error=HostToolError(
                f"undecodable host reply: {type(exc).__name__}: {exc}", code=wire_errors.HOST_TOOL_ERROR))
        pending.finish(value)

    def _abandon(self, pending: Pending) -> None:
        pending.key.cancel()  # the RPC, if still running: the host sees CANCELLED

    def send_telemetry(self, events: List[Dict[str, Any]], worker_id: str) -> None:
        """One ``StreamTelemetry`` call per batch, not waited for (dropped without a host)."""
        with self._lock:
            stub, metadata = self._stub, self._metadata
        if stub is None:
            return
        messages = telemetry_messages(self.pb2, events, worker_id)
        future = stub.StreamTelemetry.future(iter(messages), timeout=10.0, metadata=metadata)
        # A dropped future cancels its RPC: hold it until it is done.
        self._telemetry_calls.add(future)
        future.add_done_callback(self._telemetry_calls.discard)

    def close(self) -> None:
        self.configure("", "")
