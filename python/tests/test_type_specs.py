"""Type specs of adapters (snakepit_bridge.type_specs): what each annotation becomes, routed names, the CLI entry."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from snakepit_bridge import BaseAdapter, tool
from snakepit_bridge.base_adapter import build_tool_spec
from snakepit_bridge.type_specs import describe_adapter, describe_class, wire_types

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "test" / "fixtures" / "python"

INT, STR, FLOAT, ANY = {"kind": "int"}, {"kind": "str"}, {"kind": "float"}, {"kind": "any"}


def ref(name):
    return {"kind": "ref", "name": f"typed_adapter.{name}"}


@pytest.fixture(scope="module")
def typed():
    spec = describe_adapter("typed_adapter.TypedAdapter")
    return spec, {t["name"]: t for t in spec["tools"]}


def params(tool):
    return {p["name"]: (p["type"], p["required"]) for p in tool["params"]}


@pytest.mark.parametrize("name, expected", [
    ("scalars", {"kind": "tuple", "items": [STR, INT, FLOAT, {"kind": "bool"}, {"kind": "bytes"}, {"kind": "none"}]}),
    ("big", INT),
    ("optional", {"kind": "union", "options": [STR, {"kind": "none"}]}),
    ("literal", {"kind": "literal", "values": ["ok", "no"]}),
    ("point", ref("Point")),
    ("tree", ref("Tree")),
    ("item", ref("Item")),
    ("pair", ref("Pair")),
    ("color", ref("Color")),
    ("level", ref("Level")),
    ("user", ref("User")),
    ("tensor", {"kind": "tensor", "dtype": "float32"}),
    ("scale", {"kind": "tensor", "dtype": None}),
    ("scalar64", FLOAT),
    ("when", {"kind": "tuple", "items": [{"kind": k} for k in ("datetime", "date", "timedelta", "decimal", "uuid")]}),
    ("opaque", {"kind": "opaque", "name": "typed_adapter.Thing"}),
    ("function", {"kind": "unserializable", "name": "collections.abc.Callable"}),
    ("coro", FLOAT),
    ("anything", ANY),
    ("untyped", ANY),
    ("unresolved", {"kind": "unknown", "reason": "unresolved forward reference 'AlsoMissing'"}),
    ("lists", {"kind": "list", "items": {"kind": "dict", "keys": STR, "values": {"kind": "list", "items": INT}}}),
])
def test_return_annotations_map_to_nodes(typed, name, expected):
    assert typed[1][name]["result"] == expected


def test_parameters_keep_order_requiredness_defaults_and_docs(typed):
    tools = typed[1]
    scalars = tools["scalars"]
    assert [p["name"] for p in scalars["params"]] == ["s", "i", "f", "b", "raw", "nothing"]
    assert scalars["params"][0]["description"] == "some text"
    assert scalars["description"].startswith("Every scalar back, in a tuple.")
    assert params(tools["containers"]) == {
        "xs": ({"kind": "list", "items": INT}, True),
        "m": ({"kind": "dict", "keys": STR, "values": FLOAT}, True),
        "t": ({"kind": "tuple", "items": [INT, STR]}, True),
        "s": ({"kind": "set", "items": STR}, True),
        "rest": ({"kind": "list", "items": INT}, False),
    }
    assert params(tools["optional"])["y"] == ({"kind": "union", "options": [INT, {"kind": "none"}]}, False)
    assert params(tools["literal"])["level"] == ({"kind": "literal", "values": [1, 2]}, False)
    assert tools["big"]["params"][0]["default"] == 3
    assert tools["big"]["description"] == "n * 2**60: beyond 2**53, so a bigint in JS"
    assert params(tools["unresolved"])["x"][0]["kind"] == "unknown"
    assert tools["kwargs"]["extra_params"] == STR and params(tools["kwargs"]) == {"a": (INT, True)}
    assert tools["scalars"]["extra_params"] is None


def test_named_types_are_defined_once(typed):
    defs = typed[0]["definitions"]
    assert defs["typed_adapter.Point"]["fields"] == [
        {"name": "x", "type": FLOAT, "required": True}, {"name": "y", "type": FLOAT, "required": True}]
    assert defs["typed_adapter.Point"]["doc"] == "A point in the plane."
    assert [f["required"] for f in defs["typed_adapter.Options"]["fields"]] == [False, False]
    assert defs["typed_adapter.Tree"]["fields"][1]["type"] == {"kind": "list", "items": ref("Tree")}
    assert [f["name"] for f in defs["typed_adapter.Item"]["fields"]] == ["name", "qty"]  # _secret is private
    assert defs["typed_adapter.Item"]["origin"] == "dataclass" and defs["typed_adapter.Pair"]["doc"] is None
    assert defs["typed_adapter.Color"] == {"kind": "enum", "name": "typed_adapter.Color", "values": ["red", "green"], "doc": None}
    assert defs["typed_adapter.Level"]["values"] == [1, 2]
    user = {f["name"]: f for f in defs["typed_adapter.User"]["fields"]}
    assert defs["typed_adapter.User"]["origin"] == "pydantic"
    assert user["age"] == {"name": "age", "type": INT, "required": False, "description": "Age in years", "default": 0}
    assert user["favourite"]["type"] == {"kind": "union", "options": [ref("Color"), {"kind": "none"}]}
    assert list(defs) == sorted(defs)


def test_streams_report_the_yielded_type(typed):
    tools = typed[1]
    assert tools["count"]["streaming"] and tools["count"]["chunk"] == INT
    assert tools["count"]["result"] == {"kind": "list", "items": INT}  # execute() of a generator: its items
    assert tools["acount"]["chunk"] == STR  # AsyncIterator[StreamChunk[str]] unwrapped
    assert tools["single"]["streaming"] and tools["single"]["chunk"] == tools["single"]["result"]
    assert not tools["big"]["streaming"]


class Routed(BaseAdapter):
    @tool
    def known(self, x: int) -> int:
        return x

    def execute_tool(self, tool_name, arguments, context):
        return arguments


class Listed(Routed):
    def get_tools(self):
        return super().get_tools() + [{"name": "dynamic", "description": "made at run time",
                                        "parameters": [{"name": "q", "type": "string", "required": True}],
                                        "supports_streaming": False}]


def test_routing_adapters_are_open_unless_they_list_their_tools():
    routed = describe_class(Routed, "x.Routed")
    assert routed["open"] is True and [t["name"] for t in routed["tools"]] == ["known"]
    listed = describe_class(Listed, "x.Listed")
    assert listed["open"] is False
    dynamic = {t["name"]: t for t in listed["tools"]}["dynamic"]
    assert dynamic["declared"] is False and dynamic["params"] == [{"name": "q", "type": STR, "required": True}]
    assert dynamic["result"]["kind"] == "unknown"
    assert describe_adapter("snakepit_bridge.adapters.showcase.ShowcaseAdapter")["open"] is False


def test_wire_types_are_self_contained_and_never_raise():
    from typed_adapter import TypedAdapter
    types = wire_types(TypedAdapter().point)
    assert [p["name"] for p in types["params"]] == ["p", "opts"]
    assert set(types["definitions"]) == {"typed_adapter.Point", "typed_adapter.Options"}
    assert "error" in wire_types(object())  # not a function: an error entry, no exception


def run_cli(adapter, *extra_path):
    env = {"PYTHONPATH": ":".join([str(ROOT / "python"), str(FIXTURES), *extra_path])}
    return subprocess.run([sys.executable, "-m", "snakepit_bridge.type_specs", "--adapter", adapter],
                          capture_output=True, text=True, env=env, timeout=60)


def test_cli_prints_json_even_when_the_adapter_prints(tmp_path):
    (tmp_path / "chatty.py").write_text(
        "import os\nprint('hello from import')\nos.write(1, b'raw fd write\\n')\n"
        "from snakepit_bridge.base_adapter import BaseAdapter, tool\n"
        "class Chatty(BaseAdapter):\n    @tool\n    def hi(self) -> str:\n        return 'hi'\n")
    r = run_cli("chatty.Chatty", str(tmp_path))
    assert r.returncode == 0, r.stderr
    spec = json.loads(r.stdout)
    assert spec["version"] == 1 and [t["name"] for t in spec["tools"]] == ["hi"]
    assert "hello from import" in r.stderr


def test_cli_reports_an_import_failure_with_its_traceback():
    r = run_cli("broken_import_adapter.BrokenAdapter")
    assert r.returncode == 3
    out = json.loads(r.stdout)
    assert out["adapter"] == "broken_import_adapter.BrokenAdapter"
    assert out["error"]["type"] and "Traceback" in out["error"]["traceback"]
    assert "broken_import_adapter" in out["error"]["traceback"]


class Documented(BaseAdapter):
    @tool
    def quote(self, sku: str) -> float:
        """Price a product.

        Args:
            sku: the product code
        """
        return 1.0


def test_docstring_descriptions_are_dedented_although_the_original_metadata_keeps_them_raw():
    # ToolMetadata keeps the raw docstring (the original's shape); generated types must not carry its indentation.
    assert "\n        Args:" in Documented.quote._tool_metadata.description
    quote = describe_class(Documented, "x.Documented")["tools"][0]
    assert quote["description"] == "Price a product.\n\nArgs:\n    sku: the product code"
    assert quote["params"][0]["description"] == "the product code"
