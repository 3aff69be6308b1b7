"""The pipe's frame lists (``pipe/frames.py``) match what the worker routes and sends; the manifest prints them."""
import ast
import inspect
import json
import subprocess
import sys
import typing
from pathlib import Path

from harness import PYTHON_DIR
from snakepit_bridge import wire_errors
from snakepit_bridge.pipe import frames, template_frames
from snakepit_bridge.pipe.control import ControlChannel
from snakepit_bridge.pipe.worker import PipeWorker

PACKAGE = PYTHON_DIR / "snakepit_bridge"


def _literal_t(typed_dict: type) -> str:
    (value,) = typing.get_args(typing.get_type_hints(typed_dict)["t"])
    return value


def test_host_to_worker_is_what_the_pipe_worker_routes():
    control, calls = set(ControlChannel.ROUTES), set(PipeWorker.ROUTES)
    assert not control & calls
    assert control | calls == set(frames.HOST_TO_WORKER)
    for cls in (ControlChannel, PipeWorker):
        for name in cls.ROUTES.values():
            assert callable(getattr(cls, name))


def test_every_frame_type_has_its_typed_keys():
    for kind, typed_dict in frames.INBOUND.items():
        assert _literal_t(typed_dict) == kind
    for kind, build in frames.OUTBOUND.items():
        assert _literal_t(typing.get_type_hints(build)["return"]) == kind


def test_builders_make_frames_of_their_own_type():
    for kind, build in [*frames.OUTBOUND.items(), *template_frames.TEMPLATE_TO_HOST.items()]:
        args = [{} if name in ("info", "payload", "err") else None for name in inspect.signature(build).parameters]
        assert build(*args)["t"] == kind


def _frame_literals(path: Path):
    """Dict literals with a ``"t"`` key in one source file."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "t" for k in node.keys):
            yield node.lineno


def test_outbound_frames_are_built_only_in_frames_py():
    # template_frames.py: the fork template's own protocol, typed the same way.
    homes = {PACKAGE / "pipe" / "frames.py", PACKAGE / "pipe" / "template_frames.py"}
    found = {f"{p.relative_to(PACKAGE)}:{line}" for p in PACKAGE.rglob("*.py")
             if "generated" not in p.parts and p not in homes
             for line in _frame_literals(p)}
    assert found == set()


def test_manifest_from_the_command_line():
    out = subprocess.run([sys.executable, "-m", "snakepit_bridge.pipe.frames"], cwd=PYTHON_DIR,
                         capture_output=True, text=True, check=True).stdout
    manifest = json.loads(out)
    assert manifest == {"host_to_worker": sorted(frames.INBOUND), "worker_to_host": sorted(frames.OUTBOUND),
                        "error_codes": sorted(wire_errors.CODES),
                        "compact": {"call": frames.COMPACT_CALL, "result": frames.COMPACT_RESULT}}
    assert "wrong_transport" in manifest["error_codes"]
