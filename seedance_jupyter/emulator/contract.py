"""The emulator's own copy of the API contract, read from ``contract.json``.

The emulator never borrows the client's catalogue or validation: it is meant to
check the client, so it keeps an independent description of the contract (the
create body's JSON Schema, the reference media kinds and the model catalogue).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any, Final
from urllib.parse import urlsplit

from .schema import check_schema

__all__ = ["CONTRACT", "CREATE_SCHEMA", "MEDIA_KINDS", "media_kind"]

#: Everything in ``contract.json``.
CONTRACT: Final[Mapping[str, Any]] = json.loads(
    resources.files(__package__).joinpath("contract.json").read_text(encoding="utf-8")
)
#: The JSON Schema of ``POST /video/generations`` bodies.
CREATE_SCHEMA: Final[Mapping[str, Any]] = CONTRACT["createBody"]
check_schema(CREATE_SCHEMA)
#: Reference media kind by file extension (``.png`` -> ``image``).
MEDIA_KINDS: Final[Mapping[str, str]] = {
    extension: kind
    for kind, extensions in CONTRACT["mediaKinds"].items()
    for extension in extensions
}


def media_kind(url: str) -> str | None:
    """``image``, ``video`` or ``audio`` from the URL path's extension; None if unknown."""
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    return MEDIA_KINDS.get(path[dot:]) if dot >= 0 else None
