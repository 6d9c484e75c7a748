"""The REST handlers: parse the request, call :class:`ServerJobs` in a worker thread, answer JSON.

Every endpoint is authenticated and authorised like any Jupyter API (token
header or cookie plus XSRF); every error, including Jupyter's own 403, answers
the envelope ``{"error": {"code", "message"}}``, never an HTML page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from http.client import responses
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from .. import messages
from ..errors import Refusal
from .service import ServerJobs

__all__ = [
    "AUTH_RESOURCE",
    "CancelHandler",
    "JobHandler",
    "JobsHandler",
    "NotFoundHandler",
    "SeedanceHandler",
    "SpendHandler",
]

#: The resource name a custom Jupyter authorizer sees for these endpoints.
AUTH_RESOURCE = "seedance"

_CODES = {
    400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict",
}


class SeedanceHandler(APIHandler):
    """The base of every Seedance endpoint: one error envelope, blocking calls off the loop."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, jobs: ServerJobs) -> None:
        self.jobs = jobs

    async def answer(self, call: Callable[..., dict[str, Any]], *args: Any) -> None:
        """Run ``call(*args)`` in a worker thread and finish with its JSON or its refusal."""
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, call, *args)
        except Refusal as refusal:
            self.set_status(refusal.status)
            self.finish(refusal.to_json())
            return
        self.finish(result)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Tornado's and Jupyter's errors (403, 404, 500...) in the same envelope."""
        message = responses.get(status_code, "Unknown HTTP Error")
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if isinstance(error, web.HTTPError) and error.log_message:
            message = error.log_message % error.args if error.args else error.log_message
        code = _CODES.get(status_code, "internal_error" if status_code >= 500 else "error")
        self.set_header("Content-Type", "application/json")
        self.finish(Refusal(status_code, code, message).to_json())


class JobsHandler(SeedanceHandler):
    """``GET /seedance/api/jobs?status=&notebook=&limit=&before=&team=``: a page, newest
    first (this user's jobs; ``team=1``: everyone's)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = {
            name: self.get_query_argument(name, None)
            for name in ("status", "notebook", "limit", "before", "team")
        }
        await self.answer(lambda: self.jobs.page(**query))


class JobHandler(SeedanceHandler):
    """``GET /seedance/api/jobs/{requestId}``: one JobSummary."""

    @web.authenticated
    @authorized
    async def get(self, request_id: str) -> None:
        await self.answer(self.jobs.job, request_id)


class CancelHandler(SeedanceHandler):
    """``POST /seedance/api/jobs/{requestId}/cancel``: the JobSummary after the cancel."""

    @web.authenticated
    @authorized
    async def post(self, request_id: str) -> None:
        await self.answer(self.jobs.cancel, request_id)


class SpendHandler(SeedanceHandler):
    """``GET /seedance/api/spend?team=``: this user's spend today and this month, budgets,
    by model (``team=1``: everyone's, with ``byUser``)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        team = self.get_query_argument("team", None)
        await self.answer(lambda: self.jobs.spend(team))


class NotFoundHandler(SeedanceHandler):
    """Any other path under ``/seedance/api/``: 404 in the envelope."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self._not_found()

    @web.authenticated
    @authorized
    async def post(self) -> None:
        self._not_found()

    def _not_found(self) -> None:
        message = messages.SERVER_ROUTE_NOT_FOUND.format(path=self.request.path)
        self.set_status(404)
        self.finish(Refusal(404, "not_found", message).to_json())
