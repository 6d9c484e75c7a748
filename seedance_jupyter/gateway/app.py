"""``seedance-gateway``: one door to the service for a whole JupyterHub.

It alone holds the team's key (``SEEDANCE_API_KEY``/``SEEDANCE_BASE_URL`` in its
environment; the embedded emulator when unset). Run by the Hub as a managed
service it listens on ``JUPYTERHUB_SERVICE_URL`` under
``JUPYTERHUB_SERVICE_PREFIX``; on its own, on ``--ip``/``--port``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tornado import web
from tornado.httpserver import HTTPServer
from traitlets import Float, Int, List, Type, Unicode, default, validate
from traitlets.config import Application

from ..jobs.settings import MEDIA_TTL_DEFAULT, JobSettings
from ..media.refs import Limits
from ..media.serve import ShelfFileHandler
from ..media.shelf import Shelf
from ..media.stores import GATEWAY_MEDIA_ROUTE
from ..paths import seedance_home
from .auth import Authenticator, JupyterHubAuthenticator
from .handlers import (
    CancelHandler,
    CreateHandler,
    ModelsHandler,
    NotFoundHandler,
    StatusHandler,
    WebhookHandler,
)
from .media import GatewayMedia, MediaUploadHandler
from .service import GatewayConfig, GatewayService
from .spend import SpendHandler

__all__ = ["SeedanceGateway", "main"]

_MAX_BODY = 512 * 1024 * 1024


def _budget(name: str, scope: str) -> Float[int | None, int | float | None]:
    return Float(None, allow_none=True, help=(
        f"Most USD {scope}, counted from the ledger (charges; estimates until the service "
        "answers); a create that would pass it is answered 402 insufficient_credits naming "
        f"this budget and what is left, and nothing is sent. None: no limit. ({name})"
    )).tag(config=True)


class SeedanceGateway(Application):
    """The gateway application: settings, the tornado app, and its service."""

    name = "seedance-gateway"
    description = "The Seedance team gateway: the team's key, budgets and webhooks in one place."
    aliases = {"config": "SeedanceGateway.config_file", "port": "SeedanceGateway.port",
               "ip": "SeedanceGateway.ip", "db-url": "SeedanceGateway.db_url"}

    config_file = Unicode("", help="A Python config file (c.SeedanceGateway.…).").tag(config=True)
    db_url = Unicode(
        "", help="The ledger: postgresql://USER@HOST/DB for a team (needs the [postgres] "
        "extra), sqlite:///PATH for one machine. Empty: SEEDANCE_DB_URL, else SQLite in "
        "SEEDANCE_HOME.",
    ).tag(config=True)
    team_daily_budget_usd = _budget("team_daily_budget_usd", "per day for the whole team")
    team_monthly_budget_usd = _budget("team_monthly_budget_usd", "per month for the whole team")
    user_daily_budget_usd = _budget("user_daily_budget_usd", "per day for each user")
    user_monthly_budget_usd = _budget("user_monthly_budget_usd", "per month for each user")
    admin_users = List(
        Unicode(), help="JupyterHub user names who see every user's jobs and spend (and "
        "may cancel any job); others see only their own.",
    ).tag(config=True)
    public_url = Unicode(
        "", help="How the service reaches this gateway from outside, ending in '/' (e.g. "
        "https://hub.example.org/services/seedance/): jobs get webhookUrl "
        "{public_url}webhook/<token>. Empty: no webhooks, jobs are polled.",
    ).tag(config=True)
    webhook_secret = Unicode(
        "", help="The API key's webhook secret: deliveries must carry its "
        "x-seedance-signature. Empty: SEEDANCE_WEBHOOK_SECRET.",
    ).tag(config=True)
    fallback_poll_s = Float(
        30.0, help="With webhooks (public_url set): seconds before a job's first status "
        "request, the fallback for a delivery that never comes.",
    ).tag(config=True)
    media_dir = Unicode(
        "", help="Where users' published reference media is kept (one file per content "
        "hash, one grant per URL). Empty: gateway-media in SEEDANCE_HOME.",
    ).tag(config=True)
    media_url_ttl = Float(
        MEDIA_TTL_DEFAULT, help="Seconds a published reference's URL "
        "{public_url}media/<token>/<sha>.<ext> stays readable by the service.",
    ).tag(config=True)
    ip = Unicode("127.0.0.1", help="Address to listen on when not run by JupyterHub.").tag(
        config=True)
    port = Int(8765, help="Port to listen on when not run by JupyterHub.").tag(config=True)
    authenticator_class = Type(
        JupyterHubAuthenticator, klass=Authenticator,
        help="Maps a request's Bearer token to a user (default: JupyterHub API tokens).",
    ).tag(config=True)

    @default("webhook_secret")
    def _secret_from_env(self) -> str:
        return os.environ.get("SEEDANCE_WEBHOOK_SECRET", "")

    @validate("public_url")
    def _slash(self, proposal: Any) -> str:
        value = str(proposal["value"])
        return value if not value or value.endswith("/") else value + "/"

    @property
    def prefix(self) -> str:
        """The URL prefix the Hub's proxy forwards to us (``/`` on our own)."""
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
        return prefix if prefix.endswith("/") else prefix + "/"

    def listen_address(self) -> tuple[str, int]:
        """``JUPYTERHUB_SERVICE_URL``'s host and port, else ``ip``/``port``."""
        url = os.environ.get("JUPYTERHUB_SERVICE_URL")
        if url:
            parts = urlsplit(url)
            return parts.hostname or self.ip, parts.port or 80
        return self.ip, self.port

    def initialize(self, argv: list[str] | None = None) -> None:
        self.parse_command_line(argv)
        if self.config_file:
            self.load_config_file(self.config_file)
            self.parse_command_line(argv)  # the command line wins over the file

    def make_service(self) -> GatewayService:
        """The service over the team's backend (the environment's; the emulator if none)."""
        from ..jobs.backend import resolve_backend

        budgets = {
            "user_daily": self.user_daily_budget_usd, "user_monthly": self.user_monthly_budget_usd,
            "team_daily": self.team_daily_budget_usd, "team_monthly": self.team_monthly_budget_usd,
        }
        config = GatewayConfig(
            db_url=self.db_url, budgets=budgets, admin_users=frozenset(self.admin_users),
            public_url=self.public_url, webhook_secret=self.webhook_secret,
            fallback_poll_s=self.fallback_poll_s,
        )
        return GatewayService(config, resolve_backend())

    def make_media(self) -> GatewayMedia:
        """Users' media, checked under the kernels' default size limits."""
        settings = JobSettings()
        limits = Limits(settings.media_max_image_mb, settings.media_max_video_mb,
                        settings.media_max_audio_mb)
        root = Path(self.media_dir) if self.media_dir else seedance_home() / "gateway-media"
        return GatewayMedia(Shelf(root), self.public_url, self.media_url_ttl, limits)

    def make_app(self, service: GatewayService) -> web.Application:
        """The routes under :attr:`prefix`."""
        args = {"service": service, "authenticator": self.authenticator_class(parent=self)}
        media = self.make_media()
        api = self.prefix + "api/open/v1"
        routes: list[Any] = [
            (api + "/models", ModelsHandler, args),
            (api + "/video/generations", CreateHandler, args),
            (api + r"/video/generations/([^/]+)", StatusHandler, args),
            (api + r"/video/generations/([^/]+)/cancel", CancelHandler, args),
            (self.prefix + r"webhook/([^/]+)", WebhookHandler, args),
            (self.prefix + "api/spend", SpendHandler, args),
            (self.prefix + GATEWAY_MEDIA_ROUTE + r"([^/]+)", MediaUploadHandler,
             {**args, "media": media}),
            (self.prefix + GATEWAY_MEDIA_ROUTE + r"([^/]+)/([^/]+)", ShelfFileHandler,
             {"shelf": media.shelf}),
        ]
        from .admin import admin_routes

        routes += admin_routes(self.prefix, service, frozenset(self.admin_users))
        # The admin page's login cookie: a new secret per start (a restart asks the
        # browser to log in again through the Hub, which is silent while the Hub's own
        # session lasts).
        return web.Application(routes, default_handler_class=NotFoundHandler,
                               default_handler_args=args, cookie_secret=secrets.token_bytes(32))

    def start(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        service = await asyncio.get_running_loop().run_in_executor(None, self.make_service)
        # Room for the largest video reference a kernel may publish.
        server = HTTPServer(self.make_app(service), xheaders=True, max_body_size=_MAX_BODY)
        ip, port = self.listen_address()
        server.listen(port, ip)
        resumed = await asyncio.get_running_loop().run_in_executor(None, service.resume)
        self.log.info("seedance-gateway on %s:%s%s (%d unfinished jobs resumed)",
                      ip, port, self.prefix, resumed)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await stop.wait()
        server.stop()
        service.close()


def main(argv: list[str] | None = None) -> None:
    """The console script."""
    app = SeedanceGateway.instance()
    app.initialize(argv)
    app.start()
