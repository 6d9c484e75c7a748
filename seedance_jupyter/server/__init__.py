"""The Jupyter server extension: REST and live events over the shared ledger, webhooks, orphans.

Never imported by kernels: ``seedance_jupyter._jupyter_server_extension_points``
imports it lazily, so ``%load_ext seedance_jupyter`` stays cheap. Roles, one
module each: :mod:`.app` (settings, wiring, the ``server.json`` contract),
:mod:`.handlers` (REST), :mod:`.events` (the change stream), :mod:`.webhook`
(the webhook receiver), :mod:`.orphans` (the watcher), :mod:`.service` (the
facade over the ledger and the jobs service they all use).
"""

from __future__ import annotations

from typing import Any

from .app import SeedanceServerApp

__all__ = ["SeedanceServerApp"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """So ``jpserver_extensions = {"seedance_jupyter.server": True}`` works too."""
    return [{"module": "seedance_jupyter.server", "app": SeedanceServerApp}]
