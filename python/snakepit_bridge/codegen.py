"""Generates the gRPC stubs from ``proto/snakepit_bridge.proto``.

    python -m snakepit_bridge.codegen [--force]

Output: ``snakepit_bridge/generated/`` (gitignored) with ``snakepit_bridge_pb2.py``,
``snakepit_bridge_pb2_grpc.py`` and a stamp file. Idempotent: nothing happens
while the stamp matches the .proto's sha256 and the grpcio-tools version
(stubs must match the runtime grpcio/protobuf that tools pinned).

Run by ``scripts/setup-python.mjs`` after installing requirements, and lazily
by ``load()`` when a gRPC worker starts without stubs. An exclusive lock on a
file next to the output keeps workers that start together from writing over
each other; files are written aside and moved in, the stamp last.
"""
from __future__ import annotations

import hashlib
import importlib
import os
import re
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Optional, Tuple

PACKAGE_DIR = Path(__file__).resolve().parent
OUT_DIR = PACKAGE_DIR / "generated"
STAMP = OUT_DIR / ".proto.stamp"
PROTO_NAME = "snakepit_bridge.proto"
MODULES = ("snakepit_bridge_pb2", "snakepit_bridge_pb2_grpc")


def proto_path() -> Path:
    """The contract: ``SNAKEPIT_PROTO`` or ``<package root>/proto/snakepit_bridge.proto``."""
    override = os.environ.get("SNAKEPIT_PROTO")
    return Path(override) if override else PACKAGE_DIR.parents[1] / "proto" / PROTO_NAME


def _tools_version() -> Optional[str]:
    try:
        from importlib.metadata import version

        return version("grpcio-tools")
    except Exception:
        return None


def _wanted_stamp(proto: Path) -> str:
    digest = hashlib.sha256(proto.read_bytes()).hexdigest()
    return f"{digest} grpcio-tools={_tools_version()}\n"


def _current_stamp() -> str:
    try:
        return STAMP.read_text()
    except OSError:
        return ""


def up_to_date(proto: Optional[Path] = None) -> bool:
    proto = proto or proto_path()
    return all((OUT_DIR / f"{m}.py").exists() for m in MODULES) and _current_stamp() == _wanted_stamp(proto)


def _fix_imports(source: str) -> str:
    # protoc writes `import snakepit_bridge_pb2 as ...`, which only works with
    # the output folder on sys.path; make it package-relative instead.
    return re.sub(r"^import (snakepit_bridge_pb2) as ", r"from . import \1 as ", source, flags=re.M)


def generate(force: bool = False) -> bool:
    """Generate the stubs unless up to date; returns True if it (re)generated them."""
    proto = proto_path()
    if not proto.exists():
        raise FileNotFoundError(f"gRPC contract not found: {proto}")
    if not force and up_to_date(proto):
        return False
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with _locked(OUT_DIR / ".lock"):
        if not force and up_to_date(proto):  # another process did it while we waited
            return False
        try:
            from grpc_tools import protoc
        except ImportError as exc:
            raise ImportError(
                "grpcio-tools is needed to generate the gRPC stubs: run `node scripts/setup-python.mjs` "
                "or `pip install -r python/requirements.txt`") from exc
        with tempfile.TemporaryDirectory(dir=OUT_DIR) as tmp:
            include = Path(protoc.__file__).resolve().parent / "_proto"  # well-known types
            code = protoc.main(["grpc_tools.protoc", f"-I{proto.parent}", f"-I{include}",
                                f"--python_out={tmp}", f"--grpc_python_out={tmp}", str(proto)])
            if code != 0:
                raise RuntimeError(f"grpc_tools.protoc failed with exit code {code} on {proto}")
            for module in MODULES:
                text = (Path(tmp) / f"{module}.py").read_text()
                _write_atomic(OUT_DIR / f"{module}.py", _fix_imports(text))
        _write_atomic(OUT_DIR / "__init__.py", '"""Generated gRPC stubs (python -m snakepit_bridge.codegen)."""\n')
        _write_atomic(STAMP, _wanted_stamp(proto))
    importlib.invalidate_caches()
    return True


def load() -> Tuple[ModuleType, ModuleType]:
    """``(pb2, pb2_grpc)``, generating the stubs first if they are missing or stale."""
    try:
        generate()
    except (ImportError, OSError):
        # No grpcio-tools or a read-only install: stubs already there still serve.
        if not all((OUT_DIR / f"{m}.py").exists() for m in MODULES):
            raise
    pb2 = importlib.import_module("snakepit_bridge.generated.snakepit_bridge_pb2")
    pb2_grpc = importlib.import_module("snakepit_bridge.generated.snakepit_bridge_pb2_grpc")
    return pb2, pb2_grpc


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class _locked:
    """An exclusive ``flock`` on a file (no-op where fcntl is missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> "_locked":
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return self
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # releases the lock


def main(argv: Optional[list] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    force = "--force" in argv
    changed = generate(force=force)
    print(f"snakepit_bridge.codegen: stubs {'generated' if changed else 'up to date'} in {OUT_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
