"""The OpenAPI document and a small JSON Schema check of values against its schemas."""

from __future__ import annotations

import re
from typing import Any

import orjson

from tests.api.conftest import OPENAPI

DOCUMENT: dict[str, Any] = orjson.loads(OPENAPI.read_bytes())
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
}


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), ref
        node: Any = DOCUMENT
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def problems(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """A small JSON Schema check: the keywords this document uses, nothing more."""
    schema = resolve(schema)
    found: list[str] = []
    if "oneOf" in schema:
        matching = sum(not problems(value, option, where) for option in schema["oneOf"])
        if matching != 1:
            found.append(f"{where}: matches {matching} of oneOf")
    if "anyOf" in schema and all(problems(value, option, where) for option in schema["anyOf"]):
        found.append(f"{where}: matches nothing in anyOf")
    kind = schema.get("type")
    if kind is not None:
        if kind == "null":
            ok = value is None
        elif kind in ("integer", "number"):
            ok = isinstance(value, TYPES[kind]) and not isinstance(value, bool)
        else:
            ok = isinstance(value, TYPES[kind])
        if not ok:
            return [*found, f"{where}: not {kind}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{where}: not {schema['const']!r}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        found.append(f"{where}: does not match {schema['pattern']}")
    if "minimum" in schema and value < schema["minimum"]:
        found.append(f"{where}: below minimum")
    if "maximum" in schema and value > schema["maximum"]:
        found.append(f"{where}: above maximum")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += problems(item, schema["items"], f"{where}[{i}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{where}: missing {name}")
        for name, item in value.items():
            if name in properties:
                found += problems(item, properties[name], f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: unexpected {name}")
    return found


def response_problems(command: str, body: Any) -> list[str]:
    """What is wrong with ``body`` as the 200 answer to ``command``, per the document."""
    return problems(
        body, {"$ref": f"#/components/schemas/{command[0].upper()}{command[1:]}Response"}
    )
