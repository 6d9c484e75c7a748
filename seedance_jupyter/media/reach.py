"""URLs the service cannot fetch, refused before anything is sent or paid for.

A service on the internet cannot read this machine, a private network or a
Jupyter server's own ``/files/`` and ``/api/`` URLs (they answer a login page):
sending one would pay for a video of nothing.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from .. import messages
from ..paths import announced_server
from .refs import refuse

__all__ = ["check_reachable", "jupyter_prefixes"]

_JUPYTER_ROUTES = ("files/", "api/")


def check_reachable(url: str, *, service_on_loopback: bool,
                    jupyter: Iterable[str] | None = None) -> None:
    """Refuse ``url`` when a service that is not on loopback could not fetch it.

    ``jupyter``: the base URLs of the Jupyter servers of this machine (found when None).
    """
    if service_on_loopback:
        return
    parts = urlsplit(url)
    if _is_local_host(parts.hostname or ""):
        raise refuse(url, messages.ALLOWED_MEDIA_UNREACHABLE.format(
            why=messages.MEDIA_WHY_LOCAL))
    bases = jupyter_prefixes() if jupyter is None else tuple(jupyter)
    lowered = url.lower()
    for base in bases:
        if any(lowered.startswith(base.lower() + route) for route in _JUPYTER_ROUTES):
            raise refuse(url, messages.ALLOWED_MEDIA_UNREACHABLE.format(
                why=messages.MEDIA_WHY_JUPYTER))


def _is_local_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (address.is_loopback or address.is_private or address.is_link_local
            or address.is_unspecified or address.is_reserved)


def jupyter_prefixes() -> tuple[str, ...]:
    """Where this machine's Jupyter servers answer (each ending in ``/``).

    From Jupyter's runtime files (``jpserver-*.json``), this extension's
    ``server.json`` (its ``public_url``) and JupyterHub's user prefix.
    """
    found: list[str] = []
    for info in _runtime_files():
        url = str(info.get("url") or "")
        if url:
            found.append(url.rstrip("/") + "/")
    announced = announced_server()
    if announced is not None:
        found.append(announced)
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    public = os.environ.get("JUPYTERHUB_PUBLIC_URL") or os.environ.get("JUPYTERHUB_PUBLIC_HUB_URL")
    if prefix and public:
        host = urlsplit(public)
        found.append(f"{host.scheme}://{host.netloc}/{prefix.strip('/')}/")
    return tuple(found)


def _runtime_files() -> list[dict[str, object]]:
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:
        return []
    infos = []
    for path in Path(jupyter_runtime_dir()).glob("jpserver-*.json"):
        try:
            value = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(value, dict):
            infos.append(value)
    return infos
