"""``wire_errors``: the one home of error maps and codes; its ``CODES`` cannot rot."""
import ast
import collections
import importlib
import pkgutil

import snakepit_bridge
from harness import PYTHON_DIR
from snakepit_bridge import wire_errors
from snakepit_bridge.errors import HostToolError, SnakepitToolError

PACKAGE = PYTHON_DIR / "snakepit_bridge"
CONSTANTS = {name: value for name, value in vars(wire_errors).items()
             if name.isupper() and isinstance(value, str) and value in wire_errors.CODES}


def _sources():
    """The bridge's own modules (not the example adapters, not generated stubs)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if parts[0] not in ("adapters", "generated"):
            yield path, ast.parse(path.read_text(), str(path))


def _docstrings(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                yield body[0].value


def test_every_code_has_a_constant_and_a_when():
    assert set(CONSTANTS.values()) == set(wire_errors.CODES)
    assert all(when for when in wire_errors.CODES.values())


def test_no_code_is_written_as_a_literal_outside_wire_errors():
    found = []
    for path, tree in _sources():
        if path.name == "wire_errors.py":
            continue
        docs = {id(d) for d in _docstrings(tree)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and id(node) not in docs and node.value in wire_errors.CODES:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value!r}")
            if isinstance(node, ast.keyword) and node.arg == "code" and isinstance(node.value, ast.Constant):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} code={node.value.value!r}")
    assert found == []


def test_every_code_is_used():
    loads = collections.Counter()
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "wire_errors":
                loads[node.attr] += 1
            elif path.name == "wire_errors.py" and isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                loads[node.id] += 1
    # In wire_errors.py each constant is loaded once as a key of CODES: a use is any other load.
    assert {name for name in CONSTANTS if loads[name] < 2} == set()


def test_exception_classes_default_to_listed_codes():
    for info in pkgutil.walk_packages(snakepit_bridge.__path__, "snakepit_bridge."):
        if ".generated" not in info.name and ".adapters" not in info.name:
            importlib.import_module(info.name)
    seen, stack = set(), [SnakepitToolError]
    while stack:
        cls = stack.pop()
        seen.add(cls.default_code)
        stack.extend(cls.__subclasses__())
    assert seen <= set(wire_errors.CODES)
    assert {"python_error", "cancelled", "host_tool_error", "payload_too_large", "unserializable",
            "arrow_unavailable"} <= seen


def _is_error_map(err):
    return set(err) - {"details"} == {"type", "message", "traceback", "code"} and err["code"] in wire_errors.CODES


def test_builders_make_error_maps():
    try:
        raise KeyError("k")
    except KeyError as exc:
        raised = exc
    maps = [wire_errors.from_exception(raised), wire_errors.invalid_args(TypeError("x")),
            wire_errors.unknown_tool("nope", {"b": 1, "a": 2}), wire_errors.cancelled(7, "t"),
            wire_errors.session_restore_failed(raised), wire_errors.unsendable(ValueError("big")),
            wire_errors.too_large(10, 5, "SNAKEPIT_X"), wire_errors.wrong_transport(),
            wire_errors.startup_failure(raised, wire_errors.ADAPTER_IMPORT),
            wire_errors.from_exception(HostToolError("h", code=wire_errors.NO_SESSION))]
    assert all(_is_error_map(err) for err in maps)
    assert maps[0]["code"] == "python_error" and "raise KeyError" in maps[0]["traceback"]
    assert maps[2]["details"] == {"available": ["a", "b"]}
    assert [m["type"] for m in maps[5:7]] == ["FrameTooLargeError", "FrameTooLargeError"]
    assert maps[-1]["code"] == "no_session"
