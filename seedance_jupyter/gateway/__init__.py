"""The team gateway: a JupyterHub service holding the team's key, budgets and webhooks."""

from __future__ import annotations

from .app import SeedanceGateway, main

__all__ = ["SeedanceGateway", "main"]
