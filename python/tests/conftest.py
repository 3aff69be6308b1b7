"""Shared pytest set-up: import paths, a worker factory that cleans up, a private shared-memory prefix."""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for path in (HERE.parent, HERE, HERE.parents[1] / "test" / "fixtures" / "python"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from harness import Worker  # noqa: E402
from snakepit_bridge import shm  # noqa: E402

SHOWCASE = "snakepit_bridge.adapters.showcase.ShowcaseAdapter"


@pytest.fixture(params=["leader", "thread"])
def reader_mode(request):
    """Every end-to-end test runs with both fd-3 reading strategies (pipe/inbox.py)."""
    return request.param


@pytest.fixture
def spawn(reader_mode):
    """spawn(adapter, *args, **kw) -> Worker; every worker is killed at teardown."""
    workers = []

    def _spawn(adapter=SHOWCASE, *args, env=None, **kw):
        env = dict(env or {}, SNAKEPIT_READER=reader_mode)
        w = Worker(adapter, *args, env=env, **kw)
        workers.append(w)
        return w

    yield _spawn
    for w in workers:
        w.close()


@pytest.fixture
def showcase(spawn):
    """A ready showcase worker (process profile)."""
    w = spawn(SHOWCASE)
    w.ready()
    return w


@pytest.fixture
def grpc_spawn(tmp_path):
    """grpc_spawn(adapter, *args, mode="tcp"|"unix"|"control", **kw) -> GrpcWorker, killed at teardown."""
    from grpc_harness import GrpcWorker

    workers = []

    def _spawn(adapter=SHOWCASE, *args, mode="tcp", **kw):
        folder = tmp_path / f"worker{len(workers)}"
        folder.mkdir()
        w = GrpcWorker(adapter, *args, mode=mode, tmp=folder, **kw)
        workers.append(w)
        return w

    yield _spawn
    for w in workers:
        w.close()


@pytest.fixture
def shm_prefix(monkeypatch):
    """SNAKEPIT_SHM_PREFIX for this test (a 7-character run id, as the host's); its files are removed after."""
    prefix = f"snakepit-t{os.getpid() % 1_000_000:06d}-"
    monkeypatch.setenv("SNAKEPIT_SHM_PREFIX", prefix)
    yield prefix
    for name in os.listdir(shm.SHM_DIR):
        if name.startswith(prefix):
            os.unlink(os.path.join(shm.SHM_DIR, name))
