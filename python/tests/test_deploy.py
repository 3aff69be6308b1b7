"""deploy/kubernetes/*.yaml: valid against the Kubernetes API schemas (offline, kubernetes-validate), and
consistent with the worker server (its flags, ports, the drain bound within the termination grace period)."""
import copy
import re
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from serve_harness import PYTHONPATH, REPO

MANIFESTS = sorted((REPO / "deploy" / "kubernetes").glob("*.yaml"))
# The oldest release we document (gRPC probes are GA since 1.27) and the newest the package knows.
VERSIONS = ["1.27.0", kubernetes_validate.latest_version()]


def load(name):
    return yaml.safe_load((REPO / "deploy" / "kubernetes" / name).read_text())


def test_the_manifests_are_there():
    assert {m.name for m in MANIFESTS} >= {"deployment.yaml", "service.yaml", "secret.yaml", "pdb.yaml"}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda m: m.name)
def test_manifest_is_valid_against_the_kubernetes_schemas(manifest, version):
    for doc in yaml.safe_load_all(manifest.read_text()):
        kubernetes_validate.validate(doc, version, strict=True)  # raises ValidationError


@pytest.mark.parametrize("mutate", [
    lambda d: d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"].update(port="health"),
    lambda d: d["spec"]["template"]["spec"].update(terminationGracePeriod=30),
    lambda d: d["spec"].pop("selector"),
])
def test_the_validator_rejects_a_broken_deployment(mutate):
    broken = copy.deepcopy(load("deployment.yaml"))
    mutate(broken)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def _container():
    return load("deployment.yaml")["spec"]["template"]["spec"]["containers"][0]


def _flags():
    return dict(re.match(r"(--[\w-]+)(?:=(.*))?$", arg).groups() for arg in _container()["args"])


def test_every_flag_of_the_deployment_is_one_the_server_has():
    help_text = subprocess.run([sys.executable, "-m", "snakepit_bridge.serve", "--help"], capture_output=True,
                               text=True, env={"PYTHONPATH": PYTHONPATH}, check=True).stdout
    known = set(re.findall(r"(--[\w-]+)", help_text))
    assert set(_flags()) <= known


def test_the_grace_period_covers_the_drain_bound_and_cleanup():
    pod = load("deployment.yaml")["spec"]["template"]["spec"]
    drain_s = float(_flags()["--drain-timeout-s"])
    # drain.py: the bound, a flush of the last answers, then cleanup() bounded by shutdown.py.
    from snakepit_bridge.grpc.drain import FLUSH_S
    from snakepit_bridge.shutdown import CLEANUP_TIMEOUT_S

    assert pod["terminationGracePeriodSeconds"] >= drain_s + FLUSH_S + CLEANUP_TIMEOUT_S + 1


def test_probes_ask_the_health_port_and_the_service_targets_the_grpc_port():
    container = _container()
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["readinessProbe"]["grpc"] == {"port": ports["health"]}  # "" = the whole server
    assert container["livenessProbe"]["grpc"] == {"port": ports["health"], "service": "liveness"}
    service = load("service.yaml")
    assert service["spec"]["clusterIP"] == "None"  # headless: one A record per ready pod
    assert service["spec"]["ports"][0]["targetPort"] == "grpc" and ports["grpc"] == 50051
    labels = load("deployment.yaml")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert load("pdb.yaml")["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_the_mounted_secrets_are_the_files_the_flags_name():
    pod = load("deployment.yaml")["spec"]["template"]["spec"]
    mounts = {m["name"]: m["mountPath"] for m in _container()["volumeMounts"]}
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    flags = _flags()
    assert Path(flags["--token-file"]).parent == Path(mounts["token"])
    assert secrets["token"] == load("secret.yaml")["metadata"]["name"]
    for flag in ("--tls-cert", "--tls-key", "--tls-client-ca"):
        assert Path(flags[flag]).parent == Path(mounts["tls"])
