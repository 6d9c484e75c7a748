"""A create body of the contract, read into the keyword fields of a request.

Only the shape is checked here (names and JSON types, one line naming the
field); what values are allowed is the catalogue's check, as for a kernel.
"""

from __future__ import annotations

from typing import Any

from .. import messages
from ..errors import ValidationError

__all__ = ["request_fields"]

#: Contract name -> (keyword, JSON type, what the message calls it).
_FIELDS: dict[str, tuple[str, type | tuple[type, ...], str]] = {
    "model": ("model", str, "a string"),
    "prompt": ("prompt", str, "a string"),
    "mediaUrls": ("media_urls", list, "a list of URLs"),
    "aspectRatio": ("aspect_ratio", str, "a string"),
    "duration": ("duration", int, "a whole number"),
    "resolution": ("resolution", str, "a string"),
    "webhookUrl": ("webhook_url", str, "a string"),
    "metadata": ("metadata", dict, "a JSON object"),
}


def request_fields(body: object) -> dict[str, Any]:
    """The create fields of ``body`` by keyword; ``prompt`` is always present."""
    if not isinstance(body, dict):
        raise ValidationError("body", body, "a JSON object", messages.GATEWAY_BAD_JSON)
    fields: dict[str, Any] = {}
    for name, value in body.items():
        if name not in _FIELDS:
            raise ValidationError(name, value, "a create field",
                                  messages.GATEWAY_UNKNOWN_FIELD.format(field=name))
        keyword, kind, said = _FIELDS[name]
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValidationError(name, value, said,
                                  messages.GATEWAY_BAD_FIELD.format(field=name, kind=said))
        fields[keyword] = value
    if "prompt" not in fields:
        raise ValidationError("prompt", None, "a string",
                              messages.GATEWAY_BAD_FIELD.format(field="prompt", kind="a string"))
    return fields
