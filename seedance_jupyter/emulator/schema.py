"""A small JSON Schema validator: the subset of keywords ``contract.json`` uses.

Written here rather than depending on ``jsonschema`` for a dozen keywords. A schema
using any other keyword is refused when checked, so no rule is ever silently skipped.
Complaints name the JSON path of the offending value, e.g. ``mediaUrls[2]: ...``.
One deliberate strictness: ``5.0`` is a number, never an integer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["KEYWORDS", "SchemaError", "check_schema", "validate"]

#: The keywords understood; annotations (``$comment``, ``description``...) are ignored.
KEYWORDS = frozenset({
    "type", "required", "properties", "additionalProperties", "enum", "minItems", "maxItems",
    "items", "pattern", "minimum", "maximum",
})
_ANNOTATIONS = frozenset({"$schema", "$comment", "title", "description"})
_TYPES: Mapping[str, str] = {
    "object": "an object", "array": "an array", "string": "a string", "integer": "an integer",
    "number": "a number", "boolean": "a boolean", "null": "null",
}


class SchemaError(ValueError):
    """A value breaks the schema; the message starts with its path (``duration: ...``)."""


def check_schema(schema: Mapping[str, Any]) -> None:
    """Raise ValueError if ``schema`` uses a keyword :func:`validate` does not understand."""
    unknown = set(schema) - KEYWORDS - _ANNOTATIONS
    if unknown:
        raise ValueError(f"unsupported schema keywords: {', '.join(sorted(unknown))}")
    for sub in schema.get("properties", {}).values():
        check_schema(sub)
    if "items" in schema:
        check_schema(schema["items"])


def validate(value: Any, schema: Mapping[str, Any], path: str = "") -> None:
    """Raise :class:`SchemaError` for the first rule ``value`` breaks."""
    expected = schema.get("type")
    if expected is not None and _json_type(value) != expected and not (
        expected == "number" and _json_type(value) == "integer"
    ):
        raise SchemaError(f"{_at(path)}expected {_TYPES[expected]}, got {_described(value)}.")
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(choice) for choice in schema["enum"])
        raise SchemaError(f"{_at(path)}{value!r} is not one of {choices}.")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        raise SchemaError(f"{_at(path)}{value!r} does not match {schema['pattern']}.")
    if _json_type(value) in ("integer", "number"):
        _check_bounds(value, schema, path)
    if isinstance(value, list):
        _check_array(value, schema, path)
    if isinstance(value, dict):
        _check_object(value, schema, path)


def _check_bounds(value: float, schema: Mapping[str, Any], path: str) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        raise SchemaError(f"{_at(path)}{value} is below the minimum, {schema['minimum']}.")
    if "maximum" in schema and value > schema["maximum"]:
        raise SchemaError(f"{_at(path)}{value} is above the maximum, {schema['maximum']}.")


def _check_array(value: list[Any], schema: Mapping[str, Any], path: str) -> None:
    if len(value) < schema.get("minItems", 0):
        raise SchemaError(f"{_at(path)}needs at least {schema['minItems']} items.")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise SchemaError(f"{_at(path)}takes at most {schema['maxItems']} items.")
    if "items" in schema:
        for index, item in enumerate(value):
            validate(item, schema["items"], f"{path}[{index}]")


def _check_object(value: dict[str, Any], schema: Mapping[str, Any], path: str) -> None:
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            raise SchemaError(f"{_join(path, name)}: required.")
    for name, item in value.items():
        if name in properties:
            validate(item, properties[name], _join(path, name))
        elif schema.get("additionalProperties", True) is False:
            raise SchemaError(
                f"{_join(path, name)}: unknown field; the fields are {', '.join(properties)}."
            )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _described(value: Any) -> str:
    kind = _json_type(value)
    return _TYPES.get(kind, kind)


def _at(path: str) -> str:
    return f"{path}: " if path else ""


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
