"""The page at ``{prefix}``: spend against the budgets, running jobs (with Cancel), last jobs.

Logged in with JupyterHub's OAuth (a browser session, not a token): admins see
the team and every user; anyone else sees their own. Server-rendered, no script.
"""

from __future__ import annotations

import asyncio
from html import escape
from typing import Any

from tornado import web

from ..jobs.ledger import JobRecord
from .service import GatewayService
from .spend import TEAM, spend_by_user

__all__ = ["admin_routes"]

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Seedance gateway</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 8px;text-align:left}}</style>
</head><body><h1>Seedance gateway</h1><p>Signed in as {user}{role}.</p>
<h2>Spend (USD)</h2><table><tr><th>who</th><th>today</th><th>this month</th></tr>{spend}</table>
<h2>Running jobs</h2><table>{running}</table>
<h2>Last jobs</h2><table><tr><th>request</th><th>user</th><th>status</th><th>prompt</th>
</tr>{last}</table></body></html>"""


def admin_routes(prefix: str, service: GatewayService, admins: frozenset[str]) -> list[Any]:
    """The page and its Cancel, behind HubOAuth (only when the Hub runs us)."""
    try:
        from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
    except ImportError:
        return []

    class AdminPage(HubOAuthenticated, web.RequestHandler):  # type: ignore[misc]
        def initialize(self) -> None:
            self.service = service

        def who(self) -> tuple[str, bool]:
            user = self.current_user
            name = str(user["name"]) if user else ""
            return name, name in admins

        @web.authenticated
        async def get(self) -> None:
            name, admin = self.who()
            page = await asyncio.get_running_loop().run_in_executor(
                None, self.render_page, name, admin)
            self.finish(page)

        def render_page(self, name: str, admin: bool) -> str:
            records = self.service.records(None if admin else name, limit=50)
            xsrf = self.xsrf_form_html()
            return _PAGE.format(
                user=escape(name), role=" (admin)" if admin else "",
                spend=_spend_rows(self.service, None if admin else name),
                running="".join(_running_row(prefix, r, xsrf) for r in records
                                if r.status in ("queued", "processing")),
                last="".join(_row(r) for r in records),
            )

        @web.authenticated
        async def post(self, request_id: str) -> None:
            self.check_xsrf_cookie()
            name, _ = self.who()
            await asyncio.get_running_loop().run_in_executor(
                None, self.service.cancel, name, request_id)
            self.redirect(prefix)

    return [
        (prefix, AdminPage),
        (prefix + r"cancel/([^/]+)", AdminPage),
        (prefix + "oauth_callback", HubOAuthCallbackHandler),
    ]


def _spend_rows(service: GatewayService, user: str | None) -> str:
    """One row for the team (admins) or the user, and one per user (admins)."""
    today, month = spend_by_user(service, user)
    budgets = service.config.budgets

    def cell(value: float, budget: float | None) -> str:
        return f"{value:.2f}" + (f" of {budget:.2f}" if budget is not None else "")

    names = [TEAM] if user is None else []
    names += sorted(n for n in set(today) | set(month) if n != TEAM)
    rows = []
    for who in names:
        scope = "team" if who == TEAM else "user"
        day = cell(today[who], budgets.get(scope + "_daily"))
        whole_month = cell(month[who], budgets.get(scope + "_monthly"))
        rows.append(f"<tr><td>{escape(who)}</td><td>{day}</td><td>{whole_month}</td></tr>")
    return "".join(rows)


def _row(record: JobRecord) -> str:
    return (f"<tr><td>{escape(record.request_id or record.client_token)}</td>"
            f"<td>{escape(record.user_name or '')}</td><td>{escape(record.status)}</td>"
            f"<td>{escape(record.prompt[:80])}</td></tr>")


def _running_row(prefix: str, record: JobRecord, xsrf: str) -> str:
    action = f"{prefix}cancel/{escape(record.request_id or '')}"
    return (_row(record)[:-5] + f"<td><form method='post' action='{action}'>{xsrf}"
            "<button>Cancel</button></form></td></tr>")
