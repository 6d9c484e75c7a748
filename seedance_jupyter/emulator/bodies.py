"""The create body: camelCase JSON checked for names and types, then a GenerationRequest.

Values are then validated by the package's own :class:`~seedance_jupyter.catalog.Catalog`;
every complaint starts with the API's name of the field, e.g. ``aspectRatio: ...``.
"""

from __future__ import annotations

from typing import Any

from ..catalog import GenerationRequest
from ..errors import ValidationError

__all__ = ["BadField", "api_message", "generation_request"]

_FIELDS: dict[str, tuple[str, type, str]] = {
    "model": ("model", str, "a string"),
    "prompt": ("prompt", str, "a string"),
    "mediaUrls": ("media_urls", list, "an array of strings"),
    "aspectRatio": ("aspect_ratio", str, "a string"),
    "duration": ("duration", int, "an integer"),
    "resolution": ("resolution", str, "a string"),
    "webhookUrl": ("webhook_url", str, "a string"),
    "metadata": ("metadata", dict, "an object"),
}
_API_NAMES = {python: api for api, (python, _, _) in _FIELDS.items()}


class BadField(ValueError):
    """A create body field that is unknown, missing or of the wrong JSON type."""


def generation_request(body: dict[str, Any]) -> GenerationRequest:
    """Map the camelCase JSON body to a request, checking names and JSON types."""
    for name in body:
        if name not in _FIELDS:
            raise BadField(f"{name}: unknown field; the fields are {', '.join(_FIELDS)}.")
    for name in ("model", "prompt"):
        if body.get(name) is None:
            raise BadField(f"{name}: required.")
    values: dict[str, Any] = {}
    for name, value in body.items():
        if value is None:
            continue
        attribute, kind, described = _FIELDS[name]
        problem = _type_problem(value, kind)
        if problem is not None:
            raise BadField(f"{name}: expected {described}, got {problem}.")
        values[attribute] = tuple(value) if name == "mediaUrls" else value
    return GenerationRequest(**values)


def _type_problem(value: object, kind: type) -> str | None:
    """The JSON type ``value`` has instead of ``kind`` (arrays: of strings), or None if right."""
    if isinstance(value, bool) or not isinstance(value, kind):
        return _json_type(value)
    if isinstance(value, list):
        odd = [item for item in value if not isinstance(item, str)]
        if odd:
            return f"an array holding {_json_type(odd[0])}"
    return None


def _json_type(value: object) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
             list: "an array", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def api_message(error: ValidationError) -> str:
    """The catalogue's complaint, naming the field as the API does (``mediaUrls``)."""
    name = _API_NAMES.get(error.field, error.field)
    return f"{name}: {error.message.removeprefix(f'{error.field}: ')}"
