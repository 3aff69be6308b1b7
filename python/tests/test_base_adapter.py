"""Tool discovery and specs built from signatures."""
import asyncio
import threading
from typing import Dict, List, Optional

import numpy as np
import pytest

from snakepit_bridge import BaseAdapter, SessionContext, StreamChunk, tool
from snakepit_bridge.adapters.showcase import ShowcaseAdapter
from snakepit_bridge.adapters.showcase.tool import StreamChunk as CompatStreamChunk


class Sample(BaseAdapter):
    @tool
    def bare(self, x):
        """Docstring becomes the description.

        More text.
        """
        return x

    @tool(description="typed", required_variables=["api_key"])
    def typed(self, s: str, i: int, f: float, b: bool, raw: bytes, items: List[int],
              mapping: Dict[str, int], arr: np.ndarray, maybe: Optional[int] = None,
              limit: int = 10, *rest, **extra) -> dict:
        return {}

    @tool(supports_streaming=True)
    def declared_stream(self):
        return [1]

    @tool
    def gen(self, n: int = 3):
        yield from range(n)

    @tool
    async def agen(self):
        yield 1

    @tool("positional description")
    def positional(self):
        return None

    def not_a_tool(self):
        return None


def specs_by_name(adapter):
    return {s["name"]: s for s in adapter.get_tools()}


def test_only_decorated_methods_are_tools():
    assert Sample.tool_names() == ["agen", "bare", "declared_stream", "gen", "positional", "typed"]


def test_description_defaults_to_docstring():
    spec = specs_by_name(Sample())["bare"]
    assert spec["description"] == "Docstring becomes the description.\n\nMore text."
    assert spec["parameters"] == [{"name": "x", "type": "any", "required": True}]
    assert spec["supports_streaming"] is False
    assert spec["required_variables"] == []


def test_parameters_come_from_type_hints_and_defaults():
    spec = specs_by_name(Sample())["typed"]
    assert spec["description"] == "typed"
    assert spec["required_variables"] == ["api_key"]
    params = {p["name"]: p for p in spec["parameters"]}
    assert list(params) == ["s", "i", "f", "b", "raw", "items", "mapping", "arr", "maybe", "limit"]
    types = {name: p["type"] for name, p in params.items()}
    assert types == {"s": "string", "i": "integer", "f": "float", "b": "boolean", "raw": "binary",
                     "items": "list", "mapping": "map", "arr": "tensor", "maybe": "integer",
                     "limit": "integer"}
    assert params["limit"] == {"name": "limit", "type": "integer", "required": False, "default": 10}
    assert params["maybe"]["default"] is None and params["maybe"]["required"] is False
    assert "default" not in params["s"] and params["s"]["required"] is True


def test_streaming_flag_declared_or_detected():
    specs = specs_by_name(Sample())
    assert specs["declared_stream"]["supports_streaming"] is True
    assert specs["gen"]["supports_streaming"] is True
    assert specs["agen"]["supports_streaming"] is True
    assert specs["positional"]["description"] == "positional description"


def test_showcase_specs():
    specs = specs_by_name(ShowcaseAdapter())
    assert {"ping", "echo", "add", "process_list", "stream_progress", "remember", "recall",
            "get_worker_info", "sleep", "async_sleep", "make_tensor", "raise_error"} <= set(specs)
    assert specs["stream_progress"]["supports_streaming"] is True
    assert [p["name"] for p in specs["process_list"]["parameters"]] == ["items", "operation"]


def test_stream_chunk_compat_import():
    assert CompatStreamChunk is StreamChunk
    assert StreamChunk({"a": 1}, is_final=True).is_final is True
    assert StreamChunk(1).is_final is False


def test_session_context_is_per_thread_and_per_task():
    adapter = Sample()
    adapter.session_context = None  # what original adapters do in __init__
    main_ctx = SessionContext("main")
    adapter.set_session_context(main_ctx)
    seen = {}

    def in_thread():
        adapter.set_session_context(SessionContext("thread"))
        seen["thread"] = adapter.session_context.session_id

    t = threading.Thread(target=in_thread)
    t.start()
    t.join()
    assert seen["thread"] == "thread"
    assert adapter.session_context is main_ctx

    async def task(name):
        adapter.set_session_context(SessionContext(name))
        await asyncio.sleep(0)
        return adapter.session_context.session_id

    async def both():
        return await asyncio.gather(task("a"), task("b"))

    assert asyncio.run(both()) == ["a", "b"]


def test_session_context_cancel_flag():
    ctx = SessionContext("s", {"k": 1}, 7)
    assert (ctx.session_id, ctx.request_metadata, ctx.request_id, ctx.cancelled) == ("s", {"k": 1}, 7, False)
    ctx._mark_cancelled()
    assert ctx.cancelled is True


# -- the original's shapes ------------------------------------------------------------------------


class Original(BaseAdapter):
    @tool("Search for items", True, ["index"])
    def search(self, query: str, limit: int = 10):
        """Docstring."""
        yield query

    @tool(description="")
    def documented(self):
        """Uses its docstring."""

    def helper(self):
        return "not a tool"


def test_positional_tool_arguments_and_the_originals_metadata():
    meta = Original.search._tool_metadata
    assert (meta.description, meta.supports_streaming, meta.required_variables, meta.parameters) == (
        "Search for items", True, ["index"], [])
    assert Original.documented._tool_metadata.description == "Uses its docstring."
    assert Original.search._snakepit_tool is meta  # ours is the same record


def test_a_method_carrying_only_the_originals_attribute_is_a_tool():
    from snakepit_bridge.base_adapter import ToolMetadata

    class Marked(BaseAdapter):
        def legacy(self, x: int):
            return x

        legacy._tool_metadata = ToolMetadata("set by hand")

    assert Marked.tool_names() == ["legacy"]
    assert Marked().get_tools()[0]["description"] == "set by hand"


def test_get_tools_entries_are_dicts_with_the_originals_attributes():
    [_documented, search] = Original().get_tools()  # in name order
    assert (search.name, search.description, search.supports_streaming) == ("search", "Search for items", True)
    assert [p.name for p in search.parameters] == ["query", "limit"]
    assert search.parameters[1].validation_json == '{"default": 10}' and search.parameters[0].description == ""
    assert search.metadata == {"adapter_class": "Original", "module": __name__, "required_variables": "index"}
    assert search["parameters"][1] == {"name": "limit", "type": "integer", "required": False, "default": 10}
    assert "metadata" not in search  # the wire spec stays ours


def test_call_tool_and_register_with_session():
    adapter = Original()
    assert adapter.call_tool("helper") == "not a tool"  # the original dispatched to any method
    with pytest.raises(AttributeError) as info:
        adapter.call_tool("nope", x=1)
    assert (info.value.code, info.value.details) == ("unknown_tool", {"available": ["documented", "search"]})
    assert adapter.register_with_session("s1", stub=object()) == ["documented", "search"]
    assert asyncio.run(adapter.register_with_session_async("s1", None)) == ["documented", "search"]


def test_context_setter_matches_set_session_context():
    from snakepit_bridge.base_adapter import context_setter

    adapter = Sample()
    setter = context_setter(adapter)
    assert setter is not None
    ctx = SessionContext("s1")
    setter(ctx)
    assert adapter.session_context is ctx
    # A thread the tool starts itself sees the last context set.
    seen = []
    t = threading.Thread(target=lambda: seen.append(adapter.session_context))
    t.start()
    t.join()
    assert seen == [ctx]


def test_context_setter_leaves_an_adapters_own_hooks_to_run():
    from snakepit_bridge.base_adapter import context_setter

    class OwnHook(BaseAdapter):
        def set_session_context(self, ctx):
            self.seen = ctx
            super().set_session_context(ctx)

    class OwnProperty(BaseAdapter):
        @property
        def session_context(self):
            return "mine"

        @session_context.setter
        def session_context(self, ctx):
            pass

    assert context_setter(OwnHook()) is None
    assert context_setter(OwnProperty()) is None
