"""The container worker server (snakepit_bridge.serve): health, token, TLS/mTLS, drain, start-up refusals."""
import os
import shutil
import signal
import subprocess
import sys

import grpc
import pytest

from grpc_harness import pb2, wait_for
from serve_harness import PYTHONPATH, TOKEN, Served, make_certs, request, token_metadata
from snakepit_bridge.serialization import unpack

GATE = "gate_adapter.GateAdapter"
ECHO = "echo_adapter.EchoAdapter"


@pytest.fixture
def serve(tmp_path):
    """serve(adapter, *flags, env=...) -> a ready Served; every one is killed at teardown."""
    started = []

    def _serve(adapter=GATE, *extra, env=None):
        s = Served(tmp_path, adapter, *extra, env=env)
        started.append(s)
        s.ready()
        return s

    yield _serve
    for s in started:
        s.close()


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A CA with server/client pairs for 127.0.0.1, pairs from another CA, expired pairs from the first CA."""
    root = tmp_path_factory.mktemp("certs")
    good = make_certs(root / "good", "127.0.0.1", "localhost")
    other = make_certs(root / "other", "127.0.0.1")
    expired = make_certs(root / "expired", "127.0.0.1", days=-1, ca_dir=good)
    return {"good": good, "other": other, "expired": expired}


def tls_flags(d, client_ca=None):
    flags = ["--tls-cert", str(d / "server.crt"), "--tls-key", str(d / "server.key")]
    return flags + (["--tls-client-ca", str(client_ca)] if client_ca else [])


def call_echo(stub, value="hi", token=TOKEN, timeout=10):
    r = stub.ExecuteTool(request(1, "echo_value", {"value": value}), metadata=token_metadata(token), timeout=timeout)
    return unpack(r.value)


# -- health ----------------------------------------------------------------------------------


def test_health_on_the_main_port_and_the_health_only_port(serve):
    s = serve(GATE, "--health-listen", "127.0.0.1:0", env={"SNAKEPIT_TOKEN": TOKEN})
    main, probe = s.channel(), s.channel(address=s.info["health_address"])
    for channel in (main, probe):
        assert s.health(channel) == "SERVING"
        assert s.health(channel, "snakepit.bridge.v1.BridgeService") == "SERVING"
        assert s.health(channel, "liveness") == "SERVING"
    # The health-only port serves nothing else, and asks no token.
    with pytest.raises(grpc.RpcError) as err:
        s.bridge(probe).Ping(pb2.PingRequest(message="x"), metadata=token_metadata(), timeout=10)
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    with pytest.raises(grpc.RpcError) as err:
        s.health(main, "no.such.Service")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


# -- token -----------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["file", "env"])
def test_token_is_required_from_file_or_env(serve, tmp_path, source):
    if source == "file":
        token_file = tmp_path / "token"
        token_file.write_text(TOKEN + "\n")  # a Secret's file may end in a newline
        s = serve(ECHO, "--token-file", str(token_file))
    else:
        s = serve(ECHO, env={"SNAKEPIT_TOKEN": TOKEN})
    stub = s.bridge(s.channel())
    assert call_echo(stub, "ok") == "ok"
    for wrong in ("", "s3cret-tokem", TOKEN + "x"):
        with pytest.raises(grpc.RpcError) as err:
            call_echo(stub, token=wrong)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert s.health(s.channel()) == "SERVING"  # probes carry no token


# -- TLS -------------------------------------------------------------------------------------


def test_tls_serves_clients_that_trust_its_ca_only(serve, certs):
    s = serve(ECHO, *tls_flags(certs["good"]), env={"SNAKEPIT_TOKEN": TOKEN})
    assert call_echo(s.bridge(s.channel(ca=certs["good"] / "ca.crt")), "tls") == "tls"
    for channel in (s.channel(ca=certs["other"] / "ca.crt"), s.channel()):  # wrong CA; plaintext
        with pytest.raises(grpc.RpcError) as err:
            call_echo(s.bridge(channel), timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_mtls_requires_a_client_certificate_from_the_client_ca(serve, certs):
    good, other, expired = certs["good"], certs["other"], certs["expired"]
    s = serve(ECHO, *tls_flags(good, client_ca=good / "ca.crt"), env={"SNAKEPIT_TOKEN": TOKEN})
    ok = s.channel(ca=good / "ca.crt", cert=good / "client.crt", key=good / "client.key")
    assert call_echo(s.bridge(ok), "mtls") == "mtls"
    refused = [
        s.channel(ca=good / "ca.crt"),  # no client certificate
        s.channel(ca=good / "ca.crt", cert=other / "client.crt", key=other / "client.key"),  # another CA
        s.channel(ca=good / "ca.crt", cert=expired / "client.crt", key=expired / "client.key"),  # expired
    ]
    for channel in refused:
        with pytest.raises(grpc.RpcError) as err:
            call_echo(s.bridge(channel), timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_renewed_certificate_files_serve_new_connections_without_a_restart(serve, certs, tmp_path):
    live = tmp_path / "live"
    shutil.copytree(certs["good"], live)
    s = serve(ECHO, *tls_flags(live), env={"SNAKEPIT_TOKEN": TOKEN})
    assert call_echo(s.bridge(s.channel(ca=certs["good"] / "ca.crt")), 1) == 1
    for name in ("server.crt", "server.key"):  # rotated to a pair of the other CA
        shutil.copy(certs["other"] / name, live / f".{name}.new")
        (live / f".{name}.new").replace(live / name)
    assert call_echo(s.bridge(s.channel(ca=certs["other"] / "ca.crt")), 2) == 2


# -- drain -----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", [["--profile", "process"], ["--profile", "thread", "--max-concurrency", "4"]])
def test_sigterm_drains_in_flight_calls_refuses_new_ones_and_exits_0(serve, tmp_path, profile):
    s = serve(GATE, *profile, "--drain-timeout-s", "30", env={"SNAKEPIT_TOKEN": TOKEN})
    channel = s.channel()
    stub = s.bridge(channel)
    held = stub.ExecuteTool.future(request(1, "hold", {"gate_dir": str(tmp_path), "name": "a"}),
                                   metadata=token_metadata(), timeout=60)
    wait_for(lambda: (tmp_path / "a.started").exists(), 20, "the held call to start")
    s.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: s.health(channel) == "NOT_SERVING", 10, "NOT_SERVING")
    assert s.health(channel, "liveness") == "SERVING"
    with pytest.raises(grpc.RpcError) as err:
        call_echo(stub)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert ("x-snakepit-refused", "draining") in tuple(err.value.trailing_metadata())
    with pytest.raises(grpc.RpcError) as err:  # nor does a new host attach
        stub.Describe(pb2.DescribeRequest(), metadata=token_metadata(), timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert stub.Ping(pb2.PingRequest(message="x"), metadata=token_metadata(), timeout=10).message == "pong"
    assert s.proc.poll() is None and not held.done()
    (tmp_path / "a.open").touch()
    assert unpack(held.result(timeout=20).value)["name"] == "a"
    assert s.proc.wait(20) == 0


def test_drain_is_bounded_calls_still_running_then_are_cancelled(serve, tmp_path):
    s = serve(GATE, "--drain-timeout-s", "0.2", env={"SNAKEPIT_TOKEN": TOKEN})
    held = s.bridge(s.channel()).ExecuteTool.future(
        request(1, "hold", {"gate_dir": str(tmp_path), "name": "b"}), metadata=token_metadata(), timeout=60)
    wait_for(lambda: (tmp_path / "b.started").exists(), 20, "the held call to start")
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(20) == 0  # the gate never opened: the bound ended the drain
    with pytest.raises(grpc.RpcError):
        held.result(timeout=20)


def test_idle_worker_exits_0_on_sigterm(serve):
    s = serve(ECHO, env={"SNAKEPIT_TOKEN": TOKEN})
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(20) == 0


# -- start-up refusals -------------------------------------------------------------------------


@pytest.mark.parametrize("flags,env", [
    (["--listen", "0.0.0.0:0"], {"SNAKEPIT_TOKEN": TOKEN}),  # plaintext off loopback without --insecure
    (["--listen", "127.0.0.1:0"], {}),  # no token and no --no-token
    (["--listen", "127.0.0.1:0", "--profile", "process", "--max-concurrency", "2"], {"SNAKEPIT_TOKEN": TOKEN}),
    (["--listen", "127.0.0.1:0", "--tls-cert", "/nonexistent.crt"], {"SNAKEPIT_TOKEN": TOKEN}),
    (["--listen", "127.0.0.1:0", "--tls-cert", "/nonexistent.crt", "--tls-key", "/nonexistent.key"],
     {"SNAKEPIT_TOKEN": TOKEN}),
    (["--listen", "127.0.0.1:0", "--token-file", "/nonexistent-token"], {}),
])
def test_unusable_flags_exit_2_before_loading_anything(flags, env):
    base = {k: v for k, v in os.environ.items() if k != "SNAKEPIT_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "snakepit_bridge.serve", "--adapter", ECHO, *flags],
                          env=dict(base, PYTHONPATH=PYTHONPATH, **env), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
