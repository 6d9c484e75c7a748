"""Answers as values: a :class:`Reply` (JSON, bytes or a file span) and the API's error envelope."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CODES", "Reply", "error_reply", "json_reply"]

#: The error code of each HTTP status, as the contract names them (403 and 416 are storage's).
CODES: Mapping[int, str] = {
    400: "invalid_request", 401: "unauthorized", 402: "insufficient_credits",
    403: "forbidden", 404: "not_found", 416: "range_not_satisfiable", 429: "rate_limited",
}


@dataclass
class Reply:
    """An answer, ready to write: a body in memory, or a byte span of a file."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None
    start: int = 0
    length: int = 0


def json_reply(
    status: int, payload: Mapping[str, Any], headers: dict[str, str] | None = None
) -> Reply:
    return Reply(status, json.dumps(payload).encode(), headers=headers or {})


def error_reply(
    status: int, message: str, *, code: str | None = None, headers: dict[str, str] | None = None
) -> Reply:
    """The API's error envelope: ``{"success": false, "error": {"code", "message"}}``."""
    code = code or CODES.get(status, "internal_error")
    envelope = {"success": False, "error": {"code": code, "message": message}}
    return json_reply(status, envelope, headers)
