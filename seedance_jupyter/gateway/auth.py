"""Who is calling: a Bearer token to a user name, swappable by a Type trait.

:class:`JupyterHubAuthenticator` is the default (as dask-gateway's): the token is
a JupyterHub API token, checked by the Hub once and then cached by ``HubAuth``,
and it must carry the scope that grants access to this service.
"""

from __future__ import annotations

from typing import Any

from traitlets import Dict, Float
from traitlets.config import LoggingConfigurable

__all__ = ["Authenticator", "JupyterHubAuthenticator", "StaticTokenAuthenticator"]


class Authenticator(LoggingConfigurable):
    """Maps the Bearer token of a request to its user's name (None: refused)."""

    def user_for_token(self, token: str) -> str | None:
        """The user ``token`` belongs to, or None when it grants no access here."""
        raise NotImplementedError


class JupyterHubAuthenticator(Authenticator):
    """A JupyterHub API token with ``access:services!service=<this service>``."""

    cache_max_age = Float(
        300.0,
        help="Seconds the Hub's answer about a token is kept, so not every request asks the "
        "Hub (a revoked token keeps working at most this long).",
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from jupyterhub.services.auth import HubAuth

        self.hub_auth = HubAuth(cache_max_age=int(self.cache_max_age))

    def user_for_token(self, token: str) -> str | None:
        model = self.hub_auth.user_for_token(token, use_cache=True, sync=True)
        if not model or model.get("kind", "user") != "user":
            return None
        if not self.hub_auth.check_scopes(self.hub_auth.access_scopes, model):
            return None
        name = model.get("name")
        return name if isinstance(name, str) else None


class StaticTokenAuthenticator(Authenticator):
    """Fixed tokens per user, for a gateway run on its own (benchmarks, one machine)."""

    tokens = Dict(
        {}, help="Bearer token -> user name. Anyone holding a token acts as its user."
    ).tag(config=True)

    def user_for_token(self, token: str) -> str | None:
        name = self.tokens.get(token)
        return name if isinstance(name, str) else None
