"""gRPC transport, life cycle: control channel, attached mode, token, shutdown, health check, codegen."""
import os
import signal
import subprocess
import sys

import grpc
import pytest

from conftest import SHOWCASE
from grpc_harness import PYTHONPATH, SERVER, pb2, wait_for
from snakepit_bridge.serialization import pack, unpack

LIFECYCLE = "lifecycle_adapter.LifecycleAdapter"


def request(call_id, tool, args=None):
    return pb2.ExecuteToolRequest(call_id=call_id, tool_name=tool, args=pack(args or {}))


def run_server(*args, timeout=30):
    env = dict(os.environ, PYTHONPATH=PYTHONPATH)
    return subprocess.run([*SERVER, *args], env=env, capture_output=True, text=True, timeout=timeout)


# -- control channel (spawned by the host) --------------------------------------------


@pytest.mark.parametrize("adapter, err_type", [
    ("broken_import_adapter.BrokenImportAdapter", "ImportError"),
    ("lifecycle_adapter.FailingInitAdapter", "RuntimeError"),
])
def test_fatal_on_broken_adapter_via_control_channel(grpc_spawn, adapter, err_type):
    w = grpc_spawn(adapter, mode="control", stderr=subprocess.DEVNULL)
    frame = w.pipe.recv(20)
    assert frame["t"] == "fatal"
    assert frame["error"]["code"] == "adapter_import" and frame["error"]["type"] == err_type
    assert "Traceback" in frame["error"]["traceback"]
    assert w.wait(10) == 3


def test_listen_failure_is_fatal(grpc_spawn):
    w = grpc_spawn(SHOWCASE, "--listen", "unix:/nonexistent-dir/x/w.sock", mode="control",
                   stderr=subprocess.DEVNULL)
    frame = w.pipe.recv(20)
    assert frame["t"] == "fatal" and frame["error"]["code"] == "listen_failed"
    assert w.wait(10) == 3


def test_eof_on_fd3_exits_and_removes_the_socket(grpc_spawn):
    w = grpc_spawn(SHOWCASE, mode="control")
    address = w.ready()
    path = address[len("unix:"):]
    assert os.path.exists(path)
    os.close(w.pipe.to_child)
    assert w.wait(10) == 0
    assert not os.path.exists(os.path.dirname(path))


def test_control_frames_in_grpc_mode(grpc_spawn, tmp_path):
    marker = tmp_path / "marker"
    w = grpc_spawn(LIFECYCLE, mode="control", env={"SNAKEPIT_TEST_MARKER": str(marker)})
    w.ready()
    w.pipe.send({"t": "ping", "id": 7})
    assert w.pipe.recv(5) == {"t": "pong", "id": 7}
    # Calls go over gRPC only.
    w.pipe.send({"t": "call", "id": 1, "tool": "status", "args": {}, "stream": False})
    err = w.pipe.recv(5)
    assert err["t"] == "error" and err["id"] == 1 and err["error"]["code"] == "wrong_transport"
    assert unpack(w.stub.ExecuteTool(request(2, "status"), timeout=10).value)["initialized"] is True
    # A cancel frame reaches a gRPC call too (sent until it lands: the call may not be in yet).
    future = w.stub.ExecuteTool.future(request(3, "wait", {"ms": 600000}), timeout=30)

    def cancelled():
        w.pipe.send({"t": "cancel", "id": 3})
        return future.done()

    wait_for(cancelled, what="the cancel frame to stop the call")
    assert future.result(10).error.code == "cancelled"
    w.pipe.send({"t": "shutdown"})
    assert w.wait(10) == 0
    assert marker.read_text().splitlines() == ["initialize", "cleanup"]


# -- attached -----------------------------------------------------------------------------


def test_shutdown_rpc_runs_cleanup_and_exits(grpc_spawn, tmp_path):
    marker = tmp_path / "marker"
    w = grpc_spawn(LIFECYCLE, mode="unix", env={"SNAKEPIT_TEST_MARKER": str(marker)})
    address = w.ready()
    w.stub.Shutdown(pb2.ShutdownRequest(), timeout=10)
    assert w.wait(10) == 0
    assert marker.read_text().splitlines() == ["initialize", "cleanup"]
    assert not os.path.exists(address[len("unix:"):])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_call_runs_cleanup_and_exits_0(grpc_spawn, tmp_path, sig):
    marker = tmp_path / "marker"
    w = grpc_spawn(LIFECYCLE, env={"SNAKEPIT_TEST_MARKER": str(marker)})
    w.ready()
    w.stub.ExecuteTool.future(request(1, "async_wait", {"ms": 600000}), timeout=30)
    w.proc.send_signal(sig)
    assert w.wait(10) == 0
    assert marker.read_text().splitlines() == ["initialize", "cleanup"]


def test_attached_broken_adapter_exits_3_with_traceback(tmp_path):
    done = run_server("--transport", "grpc", "--listen", "127.0.0.1:0",
                      "--adapter", "broken_import_adapter.BrokenImportAdapter",
                      "--ready-file", str(tmp_path / "r.json"))
    assert done.returncode == 3
    assert "adapter_import" in done.stderr and "Traceback" in done.stderr
    assert not (tmp_path / "r.json").exists()


def test_port_flag_means_listen_on_loopback(grpc_spawn):
    # The original server's flag: --port N = --listen 127.0.0.1:N (0: any free port).
    w = grpc_spawn(SHOWCASE, "--port", "0", mode="control")
    host, _, port = w.ready().rpartition(":")
    assert host == "127.0.0.1" and int(port) > 0
    assert w.stub.Ping(pb2.PingRequest(), timeout=5).message == "pong"


def test_pipe_mode_without_fds_still_exits_2():
    done = run_server("--adapter", SHOWCASE, timeout=20)
    assert done.returncode == 2 and "fds 3/4" in done.stderr


# -- token --------------------------------------------------------------------------------


def test_token_is_required_on_every_call(grpc_spawn):
    w = grpc_spawn(SHOWCASE, env={"SNAKEPIT_WORKER_TOKEN": "s3cret"})
    w.ready()
    good = [("x-snakepit-token", "s3cret")]
    for metadata in (None, [("x-snakepit-token", "wrong")], [("x-snakepit-token", "")]):
        for call in (lambda: w.stub.Ping(pb2.PingRequest(), metadata=metadata, timeout=5),
                     lambda: w.stub.ExecuteTool(request(1, "add", {"a": 1, "b": 2}), metadata=metadata,
                                                timeout=5),
                     lambda: list(w.stub.ExecuteStreamingTool(request(2, "stream_progress"), metadata=metadata,
                                                              timeout=5))):
            with pytest.raises(grpc.RpcError) as info:
                call()
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert w.stub.Ping(pb2.PingRequest(), metadata=good, timeout=5).message == "pong"
    r = w.stub.ExecuteTool(request(3, "add", {"a": 1, "b": 2}), metadata=good, timeout=5)
    assert unpack(r.value)["result"] == 3


# -- health check and codegen ---------------------------------------------------------------


def test_health_check():
    ok = run_server("--health-check", "--adapter", SHOWCASE)
    assert ok.returncode == 0 and ok.stdout.strip() == "OK"
    ok = run_server("--health-check", "--transport", "grpc", "--adapter", "echo_adapter.EchoAdapter")
    assert ok.returncode == 0 and ok.stdout.strip() == "OK"
    bad = run_server("--health-check", "--adapter", "broken_import_adapter.BrokenImportAdapter")
    assert bad.returncode == 1 and "Traceback" in bad.stdout and "ImportError" in bad.stdout
    missing = run_server("--health-check", "--adapter", "echo_adapter.NoSuchClass")
    assert missing.returncode == 1 and "AttributeError" in missing.stdout


def test_codegen_is_idempotent_and_package_relative(tmp_path, monkeypatch):
    from snakepit_bridge import codegen

    proto = tmp_path / "snakepit_bridge.proto"
    proto.write_bytes(codegen.proto_path().read_bytes())
    out = tmp_path / "generated"
    monkeypatch.setenv("SNAKEPIT_PROTO", str(proto))
    monkeypatch.setattr(codegen, "OUT_DIR", out)
    monkeypatch.setattr(codegen, "STAMP", out / ".proto.stamp")
    assert codegen.generate() is True
    assert codegen.generate() is False
    grpc_stub = (out / "snakepit_bridge_pb2_grpc.py").read_text()
    assert "from . import snakepit_bridge_pb2 as" in grpc_stub
    assert "\nimport snakepit_bridge_pb2" not in grpc_stub
    proto.write_text(proto.read_text() + "\n// changed\n")
    assert codegen.generate() is True
    assert codegen.generate() is False


def test_codegen_cli_runs():
    done = subprocess.run([sys.executable, "-m", "snakepit_bridge.codegen"], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=PYTHONPATH), timeout=60)
    assert done.returncode == 0 and "stubs" in done.stdout


def test_flags():
    from snakepit_bridge.server import parse_args

    a = parse_args([])
    assert (a.transport, a.listen, a.max_concurrency) == ("pipe", None, 1)
    a = parse_args(["--port", "5000", "--max-workers", "3"])
    assert (a.transport, a.listen, a.max_concurrency) == ("grpc", "127.0.0.1:5000", 3)
    a = parse_args(["--host", "::1", "--port", "7"])
    assert a.listen == "[::1]:7" and a.transport == "grpc"
    a = parse_args(["--listen", "unix:/tmp/x.sock", "--ready-file", "/tmp/r.json", "--snakepit-run-id", "r"])
    assert (a.transport, a.listen, a.ready_file) == ("grpc", "unix:/tmp/x.sock", "/tmp/r.json")
    assert a.unknown == ["--snakepit-run-id", "r"]
    assert parse_args(["--transport", "grpc"]).listen is None


def test_reported_address():
    from snakepit_bridge.grpc.servicer import reported_address

    assert reported_address("127.0.0.1:0", 4321) == "127.0.0.1:4321"
    assert reported_address("0.0.0.0:0", 5) == "127.0.0.1:5"
    assert reported_address("[::]:0", 5) == "[::1]:5"
    assert reported_address("unix:///tmp/a.sock", 1) == "unix:/tmp/a.sock"
    assert reported_address("unix:rel.sock", 1) == "unix:" + os.path.abspath("rel.sock")
