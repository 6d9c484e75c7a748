"""``ServerJobs``: what the handlers, change stream, webhook and watcher ask of the jobs layer.

Every method is blocking (SQLite, HTTP) and is called from a worker thread. It
answers wire JSON (:meth:`JobSummary.to_json`, with paths made relative to the
server's root so ``files/`` can serve them) or raises :class:`Refusal`, which
the handlers turn into the one error envelope ``{"error": {"code", "message"}}``.

The server's own :class:`~seedance_jupyter.jobs.service.JobService` (for cancels
and for jobs no kernel polls any more) is built on first use: with no
``SEEDANCE_API_KEY``/``SEEDANCE_BASE_URL`` that starts the embedded emulator.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import math
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from traitlets import dlink

from .. import messages
from ..errors import InvalidRequestError, NotFoundError, Refusal, SeedanceError
from ..jobs.backend import Backend, backend_key_from_env, resolve_backend
from ..jobs.leases import holder_gone
from ..jobs.ledger import JobRecord, Ledger, state_of
from ..jobs.poster import poster_data_uri
from ..jobs.reconciler import delivered_state
from ..jobs.service import JobService
from ..jobs.settings import JobSettings
from ..jobs.summary import JobSummary
from ..jobs.team import team_spend
from ..paths import GATEWAY_URL_ENV, folder_of
from ..status import RANK
from ..webhooks import verify_webhook_signature

__all__ = ["MAX_PAGE", "OTHER_SERVICE", "ServerConfig", "ServerJobs"]

#: The error code of a cancel this server cannot carry out: the job is another service's.
OTHER_SERVICE = "other_service"

_log = logging.getLogger("seedance_jupyter")
#: The largest page ``GET /seedance/api/jobs`` hands out.
MAX_PAGE = 200
_DEFAULT_PAGE = 50
#: Longer than any cursor this server hands out (base64 of a time and a client token).
_MAX_CURSOR = 512
#: How much of a refused value a 400 message repeats.
_SHOWN = 60
_FILTERABLE = tuple(status for status in RANK if status != "cancelling")


class ServerConfig(Protocol):
    """The server extension's settings this module reads, at each use (traits: the
    watcher's jobs settings follow its download_dir and requests_per_minute)."""

    @property
    def webhook_secret(self) -> str: ...

    @property
    def db_url(self) -> str: ...

    @property
    def budget_usd(self) -> float | None: ...

    @property
    def daily_budget_usd(self) -> float | None: ...

    @property
    def download_dir(self) -> str: ...

    @property
    def requests_per_minute(self) -> float: ...

    @property
    def credits_per_usd(self) -> float: ...


def _watcher_settings(config: ServerConfig) -> JobSettings:
    """The server's jobs settings: it polls and downloads, it never submits.

    The jobs defaults (no budget), with the folder, request rate and credit rate
    of the server's own settings, kept in step with them (``config`` is the
    extension app; the jobs settings validate them).
    """
    settings = JobSettings()
    for name in ("download_dir", "requests_per_minute", "credits_per_usd"):
        dlink((config, name), (settings, name))
    return settings


class _ServerJobService(JobService):
    """The jobs service of the server: a job's files go in the folder its kernel ran in."""

    def __init__(self, settings: JobSettings, root_dir: Path, **kwargs: Any) -> None:
        self._root_dir = root_dir
        super().__init__(settings, **kwargs)

    def job_folder(self, request_id: str) -> Path:
        record = self.ledger.get(request_id, backend=self.backend.key)
        if record is None or not record.notebook:
            return self._root_dir
        return folder_of(record.notebook)


class ServerJobs:
    """The ledger as the server shows it, plus the server's own jobs service."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        root_dir: str | os.PathLike[str],
        ledger: Ledger | None = None,
        backend: Callable[[], Backend] = resolve_backend,
    ) -> None:
        self.config = config
        self.root_dir = Path(os.path.realpath(root_dir))
        self.ledger = ledger or Ledger(config.db_url or None)
        self.settings = _watcher_settings(config)
        if self.ledger.moved_aside is not None:
            _log.warning(messages.LEDGER_MOVED_ASIDE.format(
                path=self.ledger.path, aside=self.ledger.moved_aside))
        self._make_backend = backend
        self._service: JobService | None = None
        self._lock = threading.Lock()

    @property
    def service(self) -> JobService:
        """The server's jobs service, built on first use (it may start an emulator)."""
        with self._lock:
            if self._service is None:
                self._service = _ServerJobService(
                    self.settings, self.root_dir,
                    backend=self._make_backend(), ledger=Ledger(self.ledger.url),
                )
            return self._service

    def close(self) -> None:
        with self._lock:
            if self._service is not None:
                self._service.close()
                self._service = None
        self.ledger.close()

    # -- REST ----------------------------------------------------------------------
    def page(
        self,
        *,
        status: str | None = None,
        notebook: str | None = None,
        limit: str | None = None,
        before: str | None = None,
        team: str | None = None,
    ) -> dict[str, Any]:
        """``{"jobs": [...], "next": cursor or null}``, newest first: this user's jobs, or
        (``team``) everyone's on a shared ledger."""
        size = _limit(limit)
        records = self.ledger.page(
            limit=size + 1, user=None if _flag(team) else self.ledger.user,
            before=_decode_cursor(before) if before else None,
            statuses=_statuses(status) if status else None,
            notebook=self._origin_filter(notebook) if notebook else None,
        )
        more = len(records) > size
        records = records[:size]
        return {
            "jobs": [self.wire(record) for record in records],
            "next": _encode_cursor(records[-1]) if more else None,
        }

    def job(self, request_id: str) -> dict[str, Any]:
        return self.wire(self._record(request_id))

    def cancel(self, request_id: str) -> dict[str, Any]:
        """Cancel through the service; 409 when the job is final, or ``other_service``
        when it belongs to another service than this server's (the kernel that made it
        has that service's key: ``%seedance cancel ID`` there cancels it)."""
        record = self._record(request_id)
        if record.is_terminal:
            raise _already_final(request_id, record.status)
        service = self.service
        if record.backend != service.backend.key:
            raise Refusal(409, OTHER_SERVICE, messages.SERVER_OTHER_BACKEND.format(
                request_id=request_id, backend=record.backend, ours=service.backend.key))
        job = service.job_from_record(record)
        try:
            job.cancel()
        except InvalidRequestError as exc:
            job.refresh()
            if job.done:
                raise _already_final(request_id, job.status) from exc
            raise _cancel_failed(request_id, exc) from exc
        except NotFoundError as exc:
            raise Refusal(404, "not_found", messages.SERVER_CANCEL_FAILED.format(
                request_id=request_id, detail=exc.message)) from exc
        except SeedanceError as exc:
            raise _cancel_failed(request_id, exc) from exc
        return self.wire(self._record(request_id, backend=record.backend))

    def spend(self, team: str | None = None) -> dict[str, Any]:
        """This user's USD today and this month (charged, else estimated; possible charges
        included), by model; ``team``: everyone's on a shared ledger, with ``byUser``.
        With the team gateway, ``gateway`` holds its totals for this user and the team
        (None: it did not answer)."""
        month_start = datetime.combine(date.today().replace(day=1), datetime.min.time())
        everyone = _flag(team)
        rows = self.ledger.spend(
            since=month_start.timestamp(), backend=backend_key_from_env(),
            user=None if everyone else self.ledger.user, per_user=everyone,
            credits_per_usd=self.settings.credits_per_usd,
        )
        today = date.today().isoformat()
        by_model: dict[str, dict[str, Any]] = {}
        for row in rows:
            entry = by_model.setdefault(
                row.model, {"model": row.model, "jobs": 0, "usd": 0.0, "credits": 0})
            entry["jobs"] += row.jobs + row.uncertain_jobs
            entry["usd"] += row.usd + row.uncertain_usd
            entry["credits"] += row.credits
        by_user: dict[str, float] = {}
        for row in rows:
            name = row.user_name or self.ledger.user
            by_user[name] = by_user.get(name, 0.0) + row.usd + row.uncertain_usd
        answer: dict[str, Any] = {
            "user": self.ledger.user,
            "byUser": [{"user": n, "monthUsd": usd} for n, usd in sorted(by_user.items())],
            "todayUsd": sum(r.usd + r.uncertain_usd for r in rows if r.day == today),
            "monthUsd": sum(r.usd + r.uncertain_usd for r in rows),
            "budgetUsd": self.config.budget_usd,
            "dailyBudgetUsd": self.config.daily_budget_usd,
            "byModel": sorted(by_model.values(), key=lambda e: e["model"]),
        }
        if os.environ.get(GATEWAY_URL_ENV):  # only the gateway knows the team's spend
            found = team_spend()
            answer["gateway"] = found.to_json() if found is not None else None
        return answer

    # -- webhook -------------------------------------------------------------------
    def deliver(self, client_token: str, body: bytes, signature: str | None) -> dict[str, Any]:
        """A signed webhook for the job of ``client_token``: its state goes into the ledger."""
        secret = self.config.webhook_secret
        if not secret:
            raise Refusal(401, "unauthorized", messages.SERVER_WEBHOOK_UNSIGNED)
        if not verify_webhook_signature(body, signature, secret):
            raise Refusal(401, "unauthorized", messages.SERVER_WEBHOOK_BAD_SIGNATURE)
        record = self.ledger.by_token(client_token)
        if record is None:
            raise Refusal(404, "not_found", messages.SERVER_WEBHOOK_UNKNOWN_JOB)
        state = delivered_state(body)
        if record.request_id is not None and record.request_id != state.request_id:
            raise Refusal(409, "conflict", messages.SERVER_WEBHOOK_OTHER_JOB.format(
                sent=state.request_id, ours=record.request_id))
        updated = self.ledger.record_delivery(
            client_token, request_id=state.request_id, status=state.status,
            output_url=state.output_url,
            error_code=state.error.code if state.error else None,
            error_message=state.error.message if state.error else None,
        ) or record
        if updated.request_id != state.request_id:
            # Another row has this id: a genuine webhook of another job, replayed here.
            raise Refusal(409, "conflict", messages.SERVER_WEBHOOK_TAKEN.format(
                sent=state.request_id))
        if updated.status == "succeeded" and not updated.local_path:
            self._adopt(updated)
        return self.wire(updated)

    # -- the watcher -----------------------------------------------------------------
    def adopt_orphans(self) -> int:
        """Poll (under lease) every unfinished job of this user and our backend that no
        process polls. A colleague's job is left to their own server: its video belongs
        next to their notebook, which this server's disk need not have."""
        key = backend_key_from_env()
        orphans = self.ledger.unleased_unfinished(key, gone=holder_gone, user=self.ledger.user)
        for record in orphans:
            self._adopt(record)
        return len(orphans)

    def _adopt(self, record: JobRecord) -> None:
        """Hand a row to the server's service: it polls or downloads it under the lease."""
        if record.backend != backend_key_from_env() or record.request_id is None:
            return
        job = self.service.job_from_record(record)
        if record.is_terminal:
            job.update(state_of(record))

    # -- change stream ---------------------------------------------------------------
    def changes(self, since: float) -> list[tuple[float, str, dict[str, Any]]]:
        """``(updated_at, client_token, wire)`` of this user's rows written after ``since``
        (on a team's shared ledger, the panel follows its own user's jobs)."""
        return [
            (record.updated_at, record.client_token, self.wire(record))
            for record in self.ledger.changed_since(since, user=self.ledger.user)
        ]

    # -- wire ------------------------------------------------------------------------
    def wire(self, record: JobRecord) -> dict[str, Any]:
        """The JobSummary JSON of a row, its notebook and video relative to the server root."""
        folder = folder_of(record.notebook) if record.notebook else self.root_dir
        summary = JobSummary.from_record(record, credits_per_usd=self.settings.credits_per_usd)
        video = folder / record.local_path if record.local_path else None
        return replace(
            summary,
            notebook=self._shown_origin(record.notebook) if record.notebook else None,
            notebook_exists=os.path.exists(record.notebook) if record.notebook else None,
            local_path=self._relative(video) if video else None,
            poster_data_uri=_poster(video) if video else None,
        ).to_json()

    def renamed(self, old: str, new: str) -> int:
        """The contents manager renamed ``old`` to ``new`` (paths relative to the root):
        the jobs of that notebook, or of the notebooks in that folder, follow it."""
        return self.ledger.move_notebook(
            os.path.realpath(self.root_dir / old), os.path.realpath(self.root_dir / new)
        )

    def _shown_origin(self, origin: str) -> str | None:
        """A job's origin as the panel names it: a notebook relative to the root, a
        folder relative to the root ending in ``/``; None for the root itself or a
        place outside it, which Jupyter cannot open."""
        path = Path(origin)
        try:
            relative = Path(os.path.realpath(path)).relative_to(self.root_dir).as_posix()
        except ValueError:
            return None
        if path.suffix == ".ipynb":
            return relative
        return None if relative == "." else relative + "/"

    def _relative(self, path: Path) -> str:
        resolved = Path(os.path.realpath(path))
        try:
            return resolved.relative_to(self.root_dir).as_posix()
        except ValueError:
            return str(resolved)

    def _origin_filter(self, notebook: str) -> str:
        """The origin recorded for jobs of ``notebook``, a notebook or a folder as
        :meth:`wire` names it (root-relative or absolute)."""
        return os.path.realpath(self.root_dir / notebook)

    def _record(self, request_id: str, *, backend: str | None = None) -> JobRecord:
        record = self.ledger.get(request_id, backend=backend)
        if record is None:
            raise Refusal(404, "not_found",
                          messages.SERVER_JOB_NOT_FOUND.format(request_id=request_id))
        return record


def _poster(video: Path) -> str | None:
    """The poster of a saved video: the ledger keeps none, and the panel's gallery shows it."""
    try:
        stat = video.stat()
    except OSError:
        return None
    return _poster_of(str(video), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=512)
def _poster_of(video: str, mtime_ns: int, size: int) -> str | None:
    """Decoded once per file version (its mtime and size are part of the key)."""
    return poster_data_uri(video)


def _already_final(request_id: str, status: str) -> Refusal:
    return Refusal(409, "conflict",
                   messages.SERVER_ALREADY_FINAL.format(request_id=request_id, status=status))


def _cancel_failed(request_id: str, exc: SeedanceError) -> Refusal:
    return Refusal(502, exc.code or "upstream_error", messages.SERVER_CANCEL_FAILED.format(
        request_id=request_id, detail=exc.message))



def _shown(value: str) -> str:
    """A refused value as a message repeats it: its start, not a crafted megabyte."""
    return value if len(value) <= _SHOWN else value[:_SHOWN] + "…"


def _limit(value: str | None) -> int:
    if value is None or value == "":
        return _DEFAULT_PAGE
    try:
        size = int(value)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE:
        raise Refusal(400, "invalid_request",
                      messages.SERVER_BAD_LIMIT.format(value=_shown(value), maximum=MAX_PAGE))
    return size


def _statuses(value: str) -> frozenset[str]:
    names = frozenset(part.strip() for part in value.split(",") if part.strip())
    if not names or not names <= set(_FILTERABLE):
        raise Refusal(400, "invalid_request", messages.SERVER_BAD_STATUS.format(
            value=_shown(value), choices=", ".join(_FILTERABLE)))
    return names


def _encode_cursor(record: JobRecord) -> str:
    raw = json.dumps([record.created_at, record.client_token]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[float, str]:
    """The ``(created_at, client_token)`` of a cursor; anything else, however crafted
    (too long to nest deeply, huge numbers, lone surrogates), is a 400."""
    if len(cursor) <= _MAX_CURSOR:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            created_at, token = json.loads(raw)
            if (
                isinstance(created_at, (int, float)) and not isinstance(created_at, bool)
                and math.isfinite(created_at) and isinstance(token, str) and token.isascii()
            ):
                return float(created_at), token
        except (ValueError, TypeError, OverflowError, binascii.Error):
            pass
    raise Refusal(400, "invalid_request", messages.SERVER_BAD_CURSOR.format(value=_shown(cursor)))


def _flag(value: str | None) -> bool:
    """A query flag: ``1``/``true``/``yes`` (any case) is on."""
    return value is not None and value.lower() in ("1", "true", "yes")
