"""pydantic models -> type nodes, through the model's own JSON schema (``model_json_schema``).

The schema already knows what pydantic's special types are (``EmailStr`` is a
string, ``conint`` an integer, ``bytes`` a binary string); walking the schema
rather than the annotations keeps that knowledge in pydantic. Field names, not
aliases: ``model_dump()`` (what a result becomes) and a dict built by the host
use the names.
"""
from __future__ import annotations

from typing import Any, Dict, List

__all__ = ["is_pydantic_model", "pydantic_definition", "union_of"]

Node = Dict[str, Any]

_SCHEMA_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "none"}


def union_of(options: List[Node]) -> Node:
    """One union node: nested unions flattened, duplicates dropped; ``any`` absorbs the rest."""
    flat: List[Node] = []
    for option in options:
        for o in option["options"] if option["kind"] == "union" else [option]:
            if o not in flat:
                flat.append(o)
    if any(o["kind"] == "any" for o in flat):
        return {"kind": "any"}
    return flat[0] if len(flat) == 1 else {"kind": "union", "options": flat}


def is_pydantic_model(cls: type) -> bool:
    """A pydantic v2 model class (checked by its API, so pydantic need not be imported here)."""
    return callable(getattr(cls, "model_json_schema", None)) and hasattr(cls, "model_fields")


def pydantic_definition(cls: Any, name: str, definitions: Dict[str, Node]) -> Node:
    """The object node of ``cls``; models and enums it nests go into ``definitions`` too."""
    schema = cls.model_json_schema(by_alias=False, ref_template="#/$defs/{model}")
    prefix = name.rsplit(".", 1)[0] + "." if "." in name else ""
    converter = _SchemaConverter(schema.get("$defs", {}), prefix, definitions)
    for key in sorted(converter.defs):
        converter.define(key)
    return converter.object(schema, name, "pydantic")


class _SchemaConverter:
    def __init__(self, defs: Dict[str, Any], prefix: str, definitions: Dict[str, Node]) -> None:
        self.defs = defs
        self.prefix = prefix
        self.definitions = definitions

    def define(self, key: str) -> str:
        name = self.prefix + key
        if name not in self.definitions:
            schema = self.defs[key]
            self.definitions[name] = {"kind": "unknown", "reason": "being defined"}
            if "enum" in schema and schema.get("type") != "object":
                self.definitions[name] = {"kind": "enum", "name": name, "values": list(schema["enum"]),
                                          "doc": schema.get("description")}
            else:
                self.definitions[name] = self.object(schema, name, "pydantic")
        return name

    def object(self, schema: Dict[str, Any], name: str, origin: str) -> Node:
        required = set(schema.get("required", []))
        fields = []
        for key, prop in schema.get("properties", {}).items():
            field: Node = {"name": key, "type": self.node(prop), "required": key in required}
            if prop.get("description"):
                field["description"] = prop["description"]
            if "default" in prop:
                field["default"] = prop["default"]
            fields.append(field)
        node: Node = {"kind": "object", "name": name, "origin": origin, "fields": fields, "doc": schema.get("description")}
        extra = schema.get("additionalProperties")
        if extra not in (None, False):
            node["extra"] = self.node(extra if isinstance(extra, dict) else {})
        return node

    def node(self, schema: Any) -> Node:
        if not isinstance(schema, dict):
            return {"kind": "any"}
        if "$ref" in schema:
            key = schema["$ref"].rsplit("/", 1)[-1]
            if key not in self.defs:
                return {"kind": "unknown", "reason": f"unresolved schema reference {schema['$ref']}"}
            return {"kind": "ref", "name": self.define(key)}
        if "const" in schema:
            return {"kind": "literal", "values": [schema["const"]]}
        if "enum" in schema:
            return {"kind": "literal", "values": list(schema["enum"])}
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return union_of([self.node(s) for s in schema[key]])
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.node(schema["allOf"][0])
        kind = schema.get("type")
        if isinstance(kind, list):
            return union_of([self.node(dict(schema, type=k)) for k in kind])
        if kind == "string" and schema.get("format") == "binary":
            return {"kind": "bytes"}
        if kind in _SCHEMA_TYPES:
            return {"kind": _SCHEMA_TYPES[kind]}
        if kind == "array":
            if "prefixItems" in schema:
                return {"kind": "tuple", "items": [self.node(s) for s in schema["prefixItems"]]}
            return {"kind": "set" if schema.get("uniqueItems") else "list", "items": self.node(schema.get("items", {}))}
        if kind == "object":
            if "properties" in schema:
                return self.object(schema, schema.get("title", "object"), "schema")
            extra = schema.get("additionalProperties", {})
            return {"kind": "dict", "keys": {"kind": "str"}, "values": self.node(extra if isinstance(extra, dict) else {})}
        if kind is None and not any(k in schema for k in ("properties", "items")):
            return {"kind": "any"}
        return {"kind": "unknown", "reason": f"JSON schema {kind!r} has no mapping"}
