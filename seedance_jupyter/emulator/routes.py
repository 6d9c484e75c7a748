"""The route table: method, path pattern, name, handler and what the route asks of the key.

Names are what faults and recorded requests call the routes (``models``,
``create``, ``status``, ``cancel``, ``output``, ``sample``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from . import endpoints
from .endpoints import Call
from .replies import Reply
from .service import Service

__all__ = ["ROUTES", "Auth", "Endpoint", "Route", "match"]

#: ``required``: 401 without a valid key, rate limited; ``optional``: answered without
#: a key, rate limited with one; ``none``: storage and samples, no key asked.
Auth = Literal["required", "optional", "none"]
Endpoint = Callable[[Service, Call, str], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    name: str
    handler: Endpoint
    auth: Auth


_API = "/api/open/v1"
ROUTES: tuple[Route, ...] = (
    Route("GET", re.compile(rf"{_API}/models"), "models", endpoints.models, "optional"),
    Route("POST", re.compile(rf"{_API}/video/generations"), "create", endpoints.create,
          "required"),
    Route("GET", re.compile(rf"{_API}/video/generations/([\w-]+)"), "status", endpoints.status,
          "required"),
    Route("POST", re.compile(rf"{_API}/video/generations/([\w-]+)/cancel"), "cancel",
          endpoints.cancel, "required"),
    Route("GET", re.compile(r"/outputs/([\w-]+)\.mp4"), "output", endpoints.output, "none"),
    Route("GET", re.compile(r"/samples/([\w-]+)\.png"), "sample", endpoints.sample, "none"),
)


def match(method: str, path: str) -> tuple[Route, str] | None:
    """The route for ``method path`` (HEAD as GET) and the id captured from the path."""
    method = "GET" if method == "HEAD" else method
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found and route.method == method:
            return route, found.group(1) if found.groups() else ""
    return None
