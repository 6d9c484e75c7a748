"""SQLite record of every paid job, written before the create POST is sent.

The ledger is what lets a re-run, a retry or a kernel restart find a job that
was already paid for instead of paying again. Several kernels share one file,
so every write is a short ``BEGIN IMMEDIATE`` transaction on a WAL database, and
status changes are guarded in SQL so a late answer can never move a job back.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import messages
from ..api.types import JobError, JobState
from ..catalog import GenerationRequest
from ..errors import LedgerUnavailableError, SeedanceError
from ..paths import seedance_home
from ..status import API_STATUSES, FINAL, LOCAL_STATUSES, RANK

__all__ = [
    "MIN_RUNTIME_SAMPLES", "Claim", "JobRecord", "Ledger", "RuntimeWindow", "SpendRow", "state_of",
]


_BUSY_TIMEOUT_S = 10.0
_RUNTIME_SAMPLE = 20
#: Fewer alike successes than this teach no runtime window.
MIN_RUNTIME_SAMPLES = 5
_NEWER_SCHEMA = (
    "The ledger {path} was written by a newer seedance_jupyter (schema {found}, this "
    "version knows {known}); upgrade seedance_jupyter to use it."
)
_SHARED_ID_NOTE = (
    "another row of this ledger also had this request id, so it was kept there: "
)
_NO_SUCH_ROW = "no ledger row has client token {token!r}"
_NOT_A_SERVICE_STATUS = "{status!r} is a status only the ledger itself sets"

def _rank_sql(expr: str) -> str:
    cases = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in RANK.items())
    return f"(CASE {expr} {cases} ELSE {RANK['processing']} END)"


def _in_sql(statuses: frozenset[str]) -> str:
    return "(" + ", ".join(f"'{s}'" for s in sorted(statuses)) + ")"


_TERMINAL_SQL = _in_sql(FINAL)
_NOT_REUSABLE_SQL = _in_sql(FINAL - {"succeeded"})
#: What a row costs: what the service charged, converted at ``:rate`` credits per USD,
#: else (no charge known yet, or no rate given) its estimate.
_COST_SQL = (
    "(CASE WHEN credits_charged IS NOT NULL AND :rate IS NOT NULL "
    "THEN credits_charged * 1.0 / :rate ELSE estimated_usd END)"
)
#: ``:request_id`` is this row's to take: no other row of its backend has it.
_ID_FREE = (
    "NOT EXISTS (SELECT 1 FROM jobs AS other WHERE other.request_id = :request_id "
    "AND other.backend = jobs.backend AND other.client_token != jobs.client_token)"
)
_MOVES_FORWARD = f"(status = :status OR {_rank_sql(':status')} > {_rank_sql('status')})"
#: A paid video still to be saved: the job succeeded, no file is recorded, one is wanted.
_UNSAVED_SQL = (
    "(status = 'succeeded' AND local_path IS NULL AND no_download = 0 "
    "AND output_url IS NOT NULL)"
)

_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE jobs (
        client_token    TEXT PRIMARY KEY,
        request_id      TEXT,
        backend         TEXT NOT NULL,
        status          TEXT NOT NULL,
        model           TEXT NOT NULL,
        prompt          TEXT NOT NULL,
        duration        INTEGER,
        aspect_ratio    TEXT,
        resolution      TEXT,
        media_urls      TEXT NOT NULL DEFAULT '[]',
        webhook_url     TEXT,
        metadata        TEXT,
        fingerprint     TEXT NOT NULL,
        estimated_usd   REAL NOT NULL,
        credits_charged INTEGER,
        output_url      TEXT,
        local_path      TEXT,
        error_code      TEXT,
        error_message   TEXT,
        notebook        TEXT,
        created_at      REAL NOT NULL,
        submitted_at    REAL,
        updated_at      REAL NOT NULL,
        finished_at     REAL
    );
    CREATE INDEX jobs_request_id ON jobs (request_id);
    CREATE INDEX jobs_backend_fingerprint ON jobs (backend, fingerprint);
    CREATE INDEX jobs_created_at ON jobs (created_at);
    """,
    # When a job was last seen still running: with finished_at it brackets the
    # real finish, which is what the poller's schedule learns from.
    "ALTER TABLE jobs ADD COLUMN last_running_at REAL;",
    # Which process polls the job, until when: exactly one poller per job across
    # kernels and the server; updated_at feeds the server's change stream.
    """
    ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
    ALTER TABLE jobs ADD COLUMN lease_until REAL;
    CREATE INDEX jobs_updated_at ON jobs (updated_at);
    """,
    # A request id belongs to one row per backend: a replayed webhook or a lookup can
    # never give a paid job's id to a second row (the database refuses, not only a check).
    # Ledgers written before could hold such a pair; the row that recorded a charge
    # (else the older) keeps the id, and each other goes back to submission_uncertain
    # with a note naming the id, so nothing is lost and `%seedance reconcile` can settle it.
    f"""
    UPDATE jobs SET status = 'submission_uncertain',
        error_message = '{_SHARED_ID_NOTE}' || request_id, request_id = NULL
    WHERE request_id IS NOT NULL AND rowid != (
        SELECT keep.rowid FROM jobs AS keep
        WHERE keep.backend = jobs.backend AND keep.request_id = jobs.request_id
        ORDER BY keep.credits_charged IS NULL, keep.rowid LIMIT 1);
    DROP INDEX jobs_request_id;
    CREATE UNIQUE INDEX jobs_backend_request_id ON jobs (backend, request_id);
    """,  # noqa: S608
    # Which process claimed a pending row (host/pid/nonce, as leases name theirs): an
    # identical re-run settles at once when that process is gone.
    "ALTER TABLE jobs ADD COLUMN claimed_by TEXT;",
    # A succeeded job without its file is unfinished work: save_error says why the
    # last try failed (shown on cards and in the panel), no_download that the cell
    # asked for none (--no-download), so no process fetches it later.
    """
    ALTER TABLE jobs ADD COLUMN save_error TEXT;
    ALTER TABLE jobs ADD COLUMN no_download INTEGER NOT NULL DEFAULT 0;
    """,
    # Notebooks (or folders) renamed since their jobs were made: a kernel keeps the
    # path it was started with, so its later jobs follow the rename through here.
    """
    CREATE TABLE renames (
        old TEXT PRIMARY KEY,
        new TEXT NOT NULL,
        at  REAL NOT NULL
    );
    """,
)
#: How many renames of one path in a row are followed (a loop ends here).
_MAX_RENAMES = 16
_SCHEMA_VERSION = len(_MIGRATIONS)


@dataclass(frozen=True)
class JobRecord:
    """One ledger row: a job from before its POST to its download."""

    client_token: str
    request_id: str | None
    backend: str
    status: str
    model: str
    prompt: str
    duration: int | None
    aspect_ratio: str | None
    resolution: str | None
    media_urls: tuple[str, ...]
    webhook_url: str | None
    metadata: dict[str, Any] | None = field(hash=False)
    fingerprint: str
    estimated_usd: float
    credits_charged: int | None
    output_url: str | None
    local_path: str | None
    error_code: str | None
    error_message: str | None
    notebook: str | None
    created_at: float
    submitted_at: float | None
    updated_at: float
    finished_at: float | None
    last_running_at: float | None = None
    lease_owner: str | None = None
    lease_until: float | None = None
    claimed_by: str | None = None
    save_error: str | None = None
    no_download: bool = False

    @property
    def is_terminal(self) -> bool:
        return self.status in FINAL

    @property
    def request(self) -> GenerationRequest:
        """The create request this row recorded."""
        return GenerationRequest(
            prompt=self.prompt, model=self.model, media_urls=self.media_urls,
            aspect_ratio=self.aspect_ratio, duration=self.duration,
            resolution=self.resolution, webhook_url=self.webhook_url, metadata=self.metadata,
        )

    @classmethod
    def _from_row(cls, row: sqlite3.Row) -> JobRecord:
        values = dict(zip(row.keys(), row, strict=True))
        values["media_urls"] = tuple(json.loads(values["media_urls"]))
        if values["metadata"] is not None:
            values["metadata"] = json.loads(values["metadata"])
        values["no_download"] = bool(values["no_download"])
        return cls(**values)


def state_of(record: JobRecord) -> JobState:
    """The service state a ledger row records (a local status reads as ``queued``)."""
    assert record.request_id is not None
    error = None
    if record.error_code is not None:
        error = JobError(record.error_code, record.error_message or "")
    return JobState(
        request_id=record.request_id,
        status=record.status if record.status in API_STATUSES else "queued",
        output_url=record.output_url, error=error, credits_charged=record.credits_charged,
        model=record.model, prompt=record.prompt, duration=record.duration,
        aspect_ratio=record.aspect_ratio, resolution=record.resolution,
    )


@dataclass(frozen=True)
class Claim:
    """What :meth:`Ledger.claim` found or wrote: an identical job to reuse, or a new row."""

    record: JobRecord
    reused: bool


@dataclass(frozen=True)
class SpendRow:
    """Spend of one local day, backend and model.

    ``jobs``/``credits``/``usd`` count jobs the service accepted (they have a
    request id), ``usd`` at what each was charged when the service said (converted
    at the rate the caller gave) and at its estimate until then; ``uncertain_*``
    count jobs whose POST may have been charged without an answer (pending or
    submission_uncertain), so possible charges stay visible. Rejected jobs cost
    nothing and appear nowhere.
    """

    day: str
    backend: str
    model: str
    jobs: int
    credits: int
    usd: float
    uncertain_jobs: int
    uncertain_usd: float


@dataclass(frozen=True)
class RuntimeWindow:
    """Where alike jobs finish, in seconds from submission: from ``low`` (p5) to
    ``high`` (p95), learnt from ``samples`` finished jobs."""

    low: float
    high: float
    samples: int

    @classmethod
    def of(cls, brackets: Sequence[tuple[float, float]]) -> RuntimeWindow | None:
        """The window of finish brackets ``(last seen running, first seen done)``.

        Each job's finish is taken at the point of its bracket nearest the median
        of all the brackets' midpoints (the least spread the answers allow), give
        or take half a bracket: the window runs from the 5th to the 95th
        percentile of those points (linear interpolation between order
        statistics), widened by the median half-width. So wide brackets (jobs
        polled sparsely, before anything was learnt) do not stretch the window of
        jobs that all take the same time. None with too few brackets.
        """
        if len(brackets) < MIN_RUNTIME_SAMPLES:
            return None
        centre = statistics.median((low + high) / 2 for low, high in brackets)
        finishes = sorted(min(max(centre, low), high) for low, high in brackets)
        half = statistics.median((high - low) / 2 for low, high in brackets)
        return cls(_quantile(finishes, 0.05) - half, _quantile(finishes, 0.95) + half,
                   len(brackets))


def _quantile(ordered: Sequence[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


class Ledger:
    """The job ledger at ``path``; safe to share between threads and processes."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path) if path is not None else self.default_path()
        self._clock = clock
        self._lock = threading.RLock()
        #: Where an unreadable ledger file was moved before a fresh one was started.
        self.moved_aside: Path | None = None
        self._conn: sqlite3.Connection | None = None
        try:
            try:
                self._open()
            except sqlite3.DatabaseError as exc:
                if not _is_corrupt(exc):
                    raise
                self.close()
                self.moved_aside = self._move_aside()
                self._open()
        except (OSError, sqlite3.OperationalError) as exc:
            if _is_locked(exc):
                raise
            raise LedgerUnavailableError(messages.LEDGER_UNUSABLE.format(
                folder=self.path.parent, detail=_detail(exc))) from None
        self.merge_journal()

    def _open(self) -> None:
        _create_private_file(self.path)
        # timeout= is SQLite's busy timeout: wait for another kernel's write, do not fail.
        self._conn = sqlite3.connect(
            self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            self._conn.row_factory = sqlite3.Row
            (mode,) = self._conn.execute("PRAGMA journal_mode").fetchone()
            if mode != "wal":
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except BaseException:
            self.close()
            raise

    def _move_aside(self) -> Path:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(self._clock())}")
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{self.path}{suffix}", f"{aside}{suffix}")
        return aside

    @property
    def journal_path(self) -> Path:
        """Append-only file for request ids the database could not take (locked, disk full)."""
        return self.path.with_name(self.path.name + ".journal")

    def journal_submitted(
        self, client_token: str, *, request_id: str, status: str, credits_charged: int | None
    ) -> None:
        """Keep a paid job's request id in a plain file when the database refuses it."""
        line = json.dumps({
            "client_token": client_token, "request_id": request_id, "status": status,
            "credits_charged": credits_charged,
        })
        fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def merge_journal(self) -> int:
        """Write journalled request ids into the database, then drop the journal."""
        try:
            lines = self.journal_path.read_text().splitlines()
        except FileNotFoundError:
            return 0
        merged = 0
        for line in lines:
            try:
                entry = json.loads(line)
                self.record_submitted(
                    entry["client_token"], request_id=entry["request_id"],
                    status=entry["status"], credits_charged=entry["credits_charged"],
                )
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line of a crash: nothing to recover from it
            except sqlite3.Error:
                return merged  # still locked or full: the journal stays for next time
            merged += 1
        self.journal_path.unlink()
        return merged

    @staticmethod
    def default_path() -> Path:
        """``ledger.sqlite3`` in ``$SEEDANCE_HOME``, else in Jupyter's data directory."""
        return seedance_home() / "ledger.sqlite3"

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def busy_timeout(self, seconds: float) -> Iterator[None]:
        """Within the block, this process's writes wait at most ``seconds`` for another's
        lock (a background retry that must stop promptly when its service closes)."""
        with self._lock:
            conn = self._connection()
            conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
            try:
                yield
            finally:
                conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")

    # Writes -----------------------------------------------------------------

    def claim(
        self,
        *,
        client_token: str,
        backend: str,
        request: GenerationRequest,
        fingerprint: str,
        estimated_usd: float,
        notebook: str | None = None,
        reuse: bool = True,
        reuse_from: str | None = None,
        check_budget: Callable[[float], None] | None = None,
        day_start: float | None = None,
        credits_per_usd: float | None = None,
        claimed_by: str | None = None,
    ) -> Claim:
        """Reuse an identical job, or check the daily budget and write a pending row.

        All in one ``BEGIN IMMEDIATE`` transaction, so of N identical submissions
        racing from any number of kernels and threads exactly one claims a row
        (and may POST), and racing submissions can never overrun a budget: the
        estimate is reserved by the pending row itself, which names the process
        that claimed it (``claimed_by``, host/pid/nonce). ``check_budget(spent)``
        raises to refuse; it sees every non-rejected row since ``day_start``, each at
        what it was charged (at ``credits_per_usd``) or, until the service said, its estimate.
        """
        with self._write() as conn:
            notebook = self._current_origin(conn, notebook)
            reuse_from = self._current_origin(conn, reuse_from)
            if reuse:
                row = conn.execute(
                    "SELECT * FROM jobs WHERE backend = :backend AND "  # noqa: S608
                    f"fingerprint = :fingerprint AND status NOT IN {_NOT_REUSABLE_SQL} "
                    "AND (:origin IS NULL OR notebook = :origin) "
                    "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                    {"backend": backend, "fingerprint": fingerprint, "origin": reuse_from},
                ).fetchone()
                if row is not None:
                    return Claim(JobRecord._from_row(row), reused=True)
            if check_budget is not None and day_start is not None:
                (spent,) = conn.execute(
                    f"SELECT COALESCE(SUM({_COST_SQL}), 0.0) "  # noqa: S608
                    "FROM jobs WHERE status != 'rejected' AND created_at >= :since "
                    "AND backend = :backend",
                    {"since": day_start, "backend": backend, "rate": credits_per_usd},
                ).fetchone()
                check_budget(float(spent))
            self._insert_pending(
                conn, client_token=client_token, backend=backend, request=request,
                fingerprint=fingerprint, estimated_usd=estimated_usd, notebook=notebook,
                claimed_by=claimed_by,
            )
            row = conn.execute(
                "SELECT * FROM jobs WHERE client_token = ?", (client_token,)
            ).fetchone()
        return Claim(JobRecord._from_row(row), reused=False)

    def move_notebook(self, old: str, new: str) -> int:
        """A notebook or folder was renamed: its jobs (and those under the folder) follow,
        and so will jobs a kernel still started for ``old`` makes later (see :meth:`claim`).

        Returns how many jobs moved.
        """
        now = self._clock()
        params = {"old": old, "new": new, "now": now, "prefix": old.rstrip("/") + "/"}
        with self._write() as conn:
            moved = conn.execute(
                "UPDATE jobs SET updated_at = :now, notebook = CASE WHEN notebook = :old "
                "THEN :new ELSE :new || substr(notebook, length(:old) + 1) END "
                "WHERE notebook = :old OR substr(notebook, 1, length(:prefix)) = :prefix",
                params,
            ).rowcount
            conn.execute("UPDATE renames SET new = :new WHERE new = :old", params)
            conn.execute("DELETE FROM renames WHERE old = :new", params)
            conn.execute(
                "INSERT INTO renames (old, new, at) VALUES (:old, :new, :now) "
                "ON CONFLICT (old) DO UPDATE SET new = excluded.new, at = excluded.at",
                params,
            )
        return int(moved)

    def current_origin(self, origin: str | None) -> str | None:
        """Where the notebook (or folder) ``origin`` is now, after any renames."""
        with self._lock:
            return self._current_origin(self._connection(), origin)

    @staticmethod
    def _current_origin(conn: sqlite3.Connection, origin: str | None) -> str | None:
        """``origin`` after the renames recorded for it or for a folder above it.

        A path that exists is where it is: a new notebook may take an old name.
        """
        for _ in range(_MAX_RENAMES):
            if origin is None or os.path.exists(origin):
                return origin
            path = Path(origin)
            for above in (path, *path.parents):
                row = conn.execute(
                    "SELECT new FROM renames WHERE old = ?", (str(above),)
                ).fetchone()
                if row is not None:
                    rest = path.relative_to(above)
                    origin = str(Path(row[0]) / rest) if rest.parts else row[0]
                    break
            else:
                return origin
        return origin

    def _insert_pending(
        self,
        conn: sqlite3.Connection,
        *,
        client_token: str,
        backend: str,
        request: GenerationRequest,
        fingerprint: str,
        estimated_usd: float,
        notebook: str | None,
        claimed_by: str | None,
    ) -> None:
        now = self._clock()
        metadata = dict(request.metadata) if request.metadata is not None else None
        row = {
            "client_token": client_token, "backend": backend, "status": "pending",
            "model": request.model, "prompt": request.prompt, "duration": request.duration,
            "aspect_ratio": request.aspect_ratio, "resolution": request.resolution,
            "media_urls": json.dumps(list(request.media_urls)),
            "webhook_url": request.webhook_url,
            "metadata": json.dumps(metadata) if metadata is not None else None,
            "fingerprint": fingerprint, "estimated_usd": float(estimated_usd),
            "notebook": notebook, "created_at": now, "updated_at": now,
            "claimed_by": claimed_by,
        }
        columns = ", ".join(row)
        placeholders = ", ".join(f":{name}" for name in row)
        conn.execute(f"INSERT INTO jobs ({columns}) VALUES ({placeholders})", row)  # noqa: S608

    def record_submitted(
        self, client_token: str, *, request_id: str, status: str, credits_charged: int | None
    ) -> JobRecord:
        """The service accepted the job (and charged it)."""
        return self._require(client_token, self._advance(
            "client_token = :token AND (request_id IS NULL OR request_id = :request_id)",
            {"token": client_token, "request_id": request_id, "credits": credits_charged},
            _service_status(status),
            "request_id = :request_id, credits_charged = COALESCE(:credits, credits_charged), "
            "submitted_at = COALESCE(submitted_at, :now)",
        ))

    def record_uncertain(self, client_token: str, *, detail: str) -> JobRecord:
        """The POST may have reached the service and been charged; its answer was lost."""
        return self._require(client_token, self._advance(
            "client_token = :token", {"token": client_token, "detail": detail},
            "submission_uncertain",
            "error_message = :detail, submitted_at = COALESCE(submitted_at, :now)",
        ))

    def record_abandoned(self, client_token: str, *, claimed_by: str, detail: str) -> JobRecord:
        """A pending row whose claiming process died mid-create: its POST may have been
        charged, so it becomes uncertain (never resent). Only while ``claimed_by`` holds it."""
        return self._require(client_token, self._advance(
            "client_token = :token AND claimed_by = :owner",
            {"token": client_token, "owner": claimed_by, "detail": detail},
            "submission_uncertain",
            "error_message = :detail, submitted_at = COALESCE(submitted_at, :now)",
        ))

    def record_rejected(self, client_token: str, *, code: str | None, message: str) -> JobRecord:
        """The service definitely refused the POST (400/401/402...): nothing was charged."""
        return self._require(client_token, self._advance(
            "client_token = :token AND request_id IS NULL",
            {"token": client_token, "code": code, "message": message},
            "rejected",
            "error_code = :code, error_message = :message",
        ))

    def reconcile(self, client_token: str, *, request_id: str, status: str) -> JobRecord | None:
        """A job whose POST answer was lost learns its request id (webhook or lookup).

        None, and nothing written, when the row has another id or another row has this one.
        """
        return self._advance(
            "client_token = :token AND (request_id IS NULL OR request_id = :request_id) "
            f"AND {_ID_FREE}",
            {"token": client_token, "request_id": request_id},
            _service_status(status),
            "request_id = :request_id, error_message = NULL, "
            "submitted_at = COALESCE(submitted_at, created_at)",
        )

    def record_status(
        self,
        request_id: str,
        *,
        status: str,
        output_url: str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        credits_charged: int | None = None,
        last_running_at: float | None = None,
        backend: str | None = None,
    ) -> JobRecord | None:
        """Store a status answer; stale answers leave the row as it was. None if unknown."""
        return self._advance(
            _newest_with_request_id(backend),
            {
                "request_id": request_id, "backend": backend, "output_url": output_url,
                "code": error_code, "message": error_message, "credits": credits_charged,
                "running": last_running_at,
            },
            _service_status(status),
            "output_url = COALESCE(:output_url, output_url), "
            "error_code = COALESCE(:code, error_code), "
            "error_message = COALESCE(:message, error_message), "
            "credits_charged = COALESCE(:credits, credits_charged), "
            "last_running_at = COALESCE(:running, last_running_at)",
        )

    def record_download(
        self, request_id: str, local_path: str, *, backend: str | None = None,
        releasing: str | None = None,
    ) -> None:
        """Remember where the video was saved, and give up ``releasing``'s lease.

        One write, so no reader ever sees a saved video whose job is still leased.
        """
        with self._write() as conn:
            conn.execute(
                "UPDATE jobs SET local_path = :path, updated_at = :now, save_error = NULL, "  # noqa: S608
                "lease_until = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_until END, "
                "lease_owner = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_owner END "
                f"WHERE {_newest_with_request_id(backend)}",
                {"path": local_path, "now": self._clock(), "request_id": request_id,
                 "backend": backend, "owner": releasing},
            )

    def record_save_failed(
        self, request_id: str, detail: str, *, backend: str | None = None,
        releasing: str | None = None,
    ) -> None:
        """Remember why the video could not be saved (the job stays to be saved), and
        give up ``releasing``'s lease so another process may try."""
        with self._write() as conn:
            conn.execute(
                "UPDATE jobs SET save_error = :detail, updated_at = :now, "  # noqa: S608
                "lease_until = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_until END, "
                "lease_owner = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_owner END "
                f"WHERE {_newest_with_request_id(backend)} AND local_path IS NULL",
                {"detail": detail, "now": self._clock(), "request_id": request_id,
                 "backend": backend, "owner": releasing},
            )

    def record_no_download(self, request_id: str, *, backend: str | None = None) -> None:
        """The cell asked for no download (``--no-download``): no process saves this video."""
        with self._write() as conn:
            conn.execute(
                f"UPDATE jobs SET no_download = 1 WHERE {_newest_with_request_id(backend)}",  # noqa: S608
                {"request_id": request_id, "backend": backend},
            )

    def record_delivery(
        self,
        client_token: str,
        *,
        request_id: str,
        status: str,
        output_url: str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> JobRecord | None:
        """Store a webhook's final answer on the row of ``client_token``.

        An uncertain submission learns its request id here, unless another row has
        it (a genuine webhook of another job replayed to this one's URL). A row that
        is already final is left exactly as it is (a replayed delivery changes
        nothing), and so is a row with another request id. None if no row has the token.
        """
        values = {
            "token": client_token, "request_id": request_id, "status": _service_status(status),
            "output_url": output_url, "code": error_code, "message": error_message,
            "now": self._clock(),
        }
        with self._write() as conn:
            conn.execute(
                f"UPDATE jobs SET status = :status, updated_at = :now, "  # noqa: S608
                f"finished_at = CASE WHEN :status IN {_TERMINAL_SQL} "
                "THEN COALESCE(finished_at, :now) ELSE finished_at END, "
                "request_id = :request_id, "
                "submitted_at = COALESCE(submitted_at, created_at), "
                "output_url = COALESCE(:output_url, output_url), "
                "error_code = COALESCE(:code, error_code), "
                "error_message = CASE WHEN :message IS NOT NULL THEN :message "
                "WHEN status = 'submission_uncertain' THEN NULL ELSE error_message END "
                "WHERE client_token = :token AND "
                "(request_id IS NULL OR request_id = :request_id) AND "
                f"{_ID_FREE} AND status NOT IN {_TERMINAL_SQL} AND {_MOVES_FORWARD}",
                values,
            )
            row = conn.execute(
                "SELECT * FROM jobs WHERE client_token = :token", values
            ).fetchone()
        return JobRecord._from_row(row) if row is not None else None

    # Leases -----------------------------------------------------------------

    def try_lease(
        self, request_id: str, owner: str, seconds: float, *, backend: str | None = None,
        replacing: str | None = None,
    ) -> bool:
        """Take or renew the right to poll this job for ``seconds``; False if another holds it.

        ``replacing``: a holder known to be gone, whose lease is taken before it runs
        out. One ``BEGIN IMMEDIATE`` transaction, so of several processes racing for
        a free, expired or abandoned lease exactly one wins.
        """
        with self._write() as conn:
            now = self._clock()
            cursor = conn.execute(
                "UPDATE jobs SET lease_owner = :owner, lease_until = :until "  # noqa: S608
                f"WHERE {_newest_with_request_id(backend)} AND (lease_owner IS NULL "
                "OR lease_owner = :owner OR lease_owner = :replacing "
                "OR lease_until IS NULL OR lease_until < :now)",
                {"owner": owner, "until": now + seconds, "now": now, "replacing": replacing,
                 "request_id": request_id, "backend": backend},
            )
            return cursor.rowcount == 1

    def renew(
        self, request_id: str, owner: str, seconds: float, *, backend: str | None = None
    ) -> bool:
        """Extend a lease ``owner`` still holds; False if it was lost meanwhile."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET lease_until = :until "  # noqa: S608
                f"WHERE {_newest_with_request_id(backend)} AND lease_owner = :owner",
                {"owner": owner, "until": self._clock() + seconds,
                 "request_id": request_id, "backend": backend},
            )
            return cursor.rowcount == 1

    def release(
        self, request_id: str | None, owner: str, *, backend: str | None = None
    ) -> None:
        """Give up ``owner``'s lease on one job, or on every job when ``request_id`` is None."""
        where = "lease_owner = :owner"
        if request_id is not None:
            where += f" AND {_newest_with_request_id(backend)}"
        with self._write() as conn:
            conn.execute(
                f"UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE {where}",  # noqa: S608
                {"owner": owner, "request_id": request_id, "backend": backend},
            )

    # Reads ------------------------------------------------------------------

    def get(self, request_id: str, *, backend: str | None = None) -> JobRecord | None:
        """The newest row with this request id (ids are unique per backend only)."""
        return self._select_one(_newest_with_request_id(backend),
                                {"request_id": request_id, "backend": backend})

    def by_token(self, client_token: str) -> JobRecord | None:
        return self._select_one("client_token = :token", {"token": client_token})

    def find_reusable(self, backend: str, fingerprint: str) -> JobRecord | None:
        """The newest same-request job that is in flight or succeeded: re-runs reuse it."""
        return self._select_one(
            "rowid = (SELECT rowid FROM jobs WHERE backend = :backend AND "  # noqa: S608
            f"fingerprint = :fingerprint AND status NOT IN {_NOT_REUSABLE_SQL} "
            "ORDER BY created_at DESC, rowid DESC LIMIT 1)",
            {"backend": backend, "fingerprint": fingerprint},
        )

    def unfinished(self, backend: str | None = None) -> list[JobRecord]:
        """Jobs not yet terminal, oldest first: what a poller resumes after a restart."""
        return self._select(
            f"status NOT IN {_TERMINAL_SQL} AND (:backend IS NULL OR backend = :backend) "
            "ORDER BY created_at, rowid",
            {"backend": backend},
        )

    def unsaved(self, backend: str | None = None) -> list[JobRecord]:
        """Succeeded jobs whose video is still to be saved, oldest first: a cut or failed
        download is unfinished work until the file is there."""
        return self._select(
            f"{_UNSAVED_SQL} AND (:backend IS NULL OR backend = :backend) "
            "ORDER BY created_at, rowid",
            {"backend": backend},
        )

    def jobs(self, *, limit: int = 50, backend: str | None = None) -> list[JobRecord]:
        """The newest ``limit`` jobs, newest first."""
        return self._select(
            "(:backend IS NULL OR backend = :backend) "
            "ORDER BY created_at DESC, rowid DESC LIMIT :limit",
            {"backend": backend, "limit": limit},
        )

    def page(
        self,
        *,
        limit: int,
        before: tuple[float, str] | None = None,
        statuses: frozenset[str] | None = None,
        notebook: str | None = None,
    ) -> list[JobRecord]:
        """Up to ``limit`` jobs older than the ``(created_at, client_token)`` cursor, newest first.

        ``statuses`` and ``notebook`` (a working directory, as recorded) narrow the list.
        """
        where = ["1 = 1"]
        params: dict[str, Any] = {"limit": limit, "notebook": notebook}
        if before is not None:
            where.append("(created_at < :at OR (created_at = :at AND client_token < :token))")
            params.update(at=before[0], token=before[1])
        if statuses is not None:
            names = {f"s{i}": status for i, status in enumerate(sorted(statuses))}
            where.append(f"status IN ({', '.join(':' + n for n in names)})")
            params.update(names)
        if notebook is not None:
            where.append("notebook = :notebook")
        return self._select(
            " AND ".join(where) + " ORDER BY created_at DESC, client_token DESC LIMIT :limit",
            params,
        )

    def changed_since(self, since: float) -> list[JobRecord]:
        """Rows written after ``since`` (their ``updated_at``), oldest change first."""
        return self._select(
            "updated_at > :since ORDER BY updated_at, rowid", {"since": since}
        )

    def unleased_unfinished(
        self, backend: str, *, gone: Callable[[str], bool] | None = None
    ) -> list[JobRecord]:
        """Jobs of ``backend`` the service accepted, not final or succeeded with their video
        still to save, that no live process polls or downloads: unleased, their lease run
        out, or (``gone(owner)``) held by a process that is gone."""
        records = self._select(
            f"(status NOT IN {_TERMINAL_SQL} OR {_UNSAVED_SQL}) AND request_id IS NOT NULL "
            "AND backend = :backend ORDER BY created_at, rowid",
            {"backend": backend},
        )
        now = self._clock()
        return [
            r for r in records
            if r.lease_owner is None or r.lease_until is None or r.lease_until < now
            or (gone is not None and gone(r.lease_owner))
        ]

    def spend(
        self, *, since: float | None = None, backend: str | None = None,
        credits_per_usd: float | None = None,
    ) -> list[SpendRow]:
        """Spend per local day, backend and model, oldest day first.

        A job counts at what it was charged, converted at ``credits_per_usd``
        (at its estimate until the service said, or when no rate is given).
        """
        with self._lock:
            rows = self._connection().execute(
                f"""
                SELECT date(created_at, 'unixepoch', 'localtime') AS day, backend, model,
                    SUM(request_id IS NOT NULL) AS jobs,
                    COALESCE(SUM(CASE WHEN request_id IS NOT NULL
                                 THEN credits_charged END), 0) AS credits,
                    COALESCE(SUM(CASE WHEN request_id IS NOT NULL
                                 THEN {_COST_SQL} END), 0.0) AS usd,
                    SUM(request_id IS NULL) AS uncertain_jobs,
                    COALESCE(SUM(CASE WHEN request_id IS NULL
                                 THEN estimated_usd END), 0.0) AS uncertain_usd
                FROM jobs
                WHERE status != 'rejected'
                    AND (:since IS NULL OR created_at >= :since)
                    AND (:backend IS NULL OR backend = :backend)
                GROUP BY day, backend, model
                ORDER BY day, backend, model
                """,  # noqa: S608
                {"since": since, "backend": backend, "rate": credits_per_usd},
            ).fetchall()
        return [SpendRow(**dict(zip(row.keys(), row, strict=True))) for row in rows]

    def spent_usd_since(
        self, since: float, *, backend: str | None = None, credits_per_usd: float | None = None
    ) -> float:
        """USD of jobs submitted, or possibly submitted, since ``since``: what each was
        charged (at ``credits_per_usd``), its estimate until the service said.

        Pending rows count: another kernel's POST may be in flight right now.
        """
        with self._lock:
            (total,) = self._connection().execute(
                f"SELECT COALESCE(SUM({_COST_SQL}), 0.0) FROM jobs "  # noqa: S608
                "WHERE status != 'rejected' "
                "AND created_at >= :since AND (:backend IS NULL OR backend = :backend)",
                {"since": since, "backend": backend, "rate": credits_per_usd},
            ).fetchone()
        return float(total)

    def runtime_window(
        self,
        *,
        backend: str,
        model: str,
        resolution: str | None,
        duration: int | None,
        media: bool,
    ) -> RuntimeWindow | None:
        """Where the last alike successes finished, in seconds from submission.

        Alike: same backend, model, resolution, duration, and with or without
        reference media. Each success brackets its real finish between the last
        answer that still said running and the first that said done; the window
        runs from the 5th percentile of the brackets' starts to the 95th of their
        ends. None with fewer than :data:`MIN_RUNTIME_SAMPLES` successes.
        """
        media_sql = "media_urls != '[]'" if media else "media_urls = '[]'"
        with self._lock:
            rows = self._connection().execute(
                "SELECT COALESCE(last_running_at, finished_at) - submitted_at, "  # noqa: S608
                "finished_at - submitted_at FROM jobs WHERE status = 'succeeded' "
                f"AND backend = ? AND model = ? AND resolution IS ? AND duration IS ? "
                f"AND {media_sql} "
                "AND submitted_at IS NOT NULL AND finished_at IS NOT NULL "
                "ORDER BY finished_at DESC LIMIT ?",
                (backend, model, resolution, duration, _RUNTIME_SAMPLE),
            ).fetchall()
        return RuntimeWindow.of([(float(low), float(high)) for low, high in rows])

    # Internals --------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError("the ledger is closed")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; IMMEDIATE takes the write lock up front."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _migrate(self) -> None:
        """Take the write lock only when there is something to migrate."""
        (version,) = self._connection().execute("PRAGMA user_version").fetchone()
        if version == _SCHEMA_VERSION:
            return
        with self._write() as conn:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version > _SCHEMA_VERSION:
                raise SeedanceError(_NEWER_SCHEMA.format(
                    path=self.path, found=version, known=_SCHEMA_VERSION))
            for script in _MIGRATIONS[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def _advance(
        self, where: str, params: Mapping[str, Any], status: str, assignments: str
    ) -> JobRecord | None:
        """Move the row matched by ``where`` to ``status`` unless that would go backwards.

        Returns the row as it stands afterwards (unchanged if the move was stale),
        or None when ``where`` matches no row.
        """
        values = {**params, "status": status, "now": self._clock()}
        with self._write() as conn:
            conn.execute(
                f"UPDATE jobs SET status = :status, updated_at = :now, "  # noqa: S608
                f"finished_at = CASE WHEN :status IN {_TERMINAL_SQL} "
                f"THEN COALESCE(finished_at, :now) ELSE finished_at END, {assignments} "
                f"WHERE {where} AND {_MOVES_FORWARD}",
                values,
            )
            row = conn.execute(f"SELECT * FROM jobs WHERE {where}", values).fetchone()  # noqa: S608
        return JobRecord._from_row(row) if row is not None else None

    def _require(self, client_token: str, record: JobRecord | None) -> JobRecord:
        if record is None:
            record = self.by_token(client_token)
        if record is None:
            raise KeyError(_NO_SUCH_ROW.format(token=client_token))
        return record

    def _select_one(self, where: str, params: Mapping[str, Any]) -> JobRecord | None:
        records = self._select(where, params)
        return records[0] if records else None

    def _select(self, where_and_order: str, params: Mapping[str, Any]) -> list[JobRecord]:
        with self._lock:
            rows = self._connection().execute(
                f"SELECT * FROM jobs WHERE {where_and_order}", params  # noqa: S608
            ).fetchall()
        return [JobRecord._from_row(row) for row in rows]


def _service_status(status: str) -> str:
    """Refuse a local status in a service answer: "rejected" would hide a paid job."""
    if status in LOCAL_STATUSES:
        raise ValueError(_NOT_A_SERVICE_STATUS.format(status=status))
    return status


def _newest_with_request_id(backend: str | None) -> str:
    """SQL matching the newest row with ``:request_id`` (and ``:backend`` when given)."""
    scope = " AND backend = :backend" if backend is not None else ""
    return (
        "rowid = (SELECT rowid FROM jobs WHERE request_id = :request_id"  # noqa: S608
        f"{scope} ORDER BY created_at DESC, rowid DESC LIMIT 1)"
    )


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    """An unreadable file (not a lock or a full disk, which pass)."""
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def _is_locked(exc: OSError | sqlite3.OperationalError) -> bool:
    """Another process holds the database (it passes): not a folder this one cannot use."""
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc).lower()


def _detail(exc: OSError | sqlite3.OperationalError) -> str:
    """What went wrong, without the path the message already names."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _create_private_file(path: Path) -> None:
    """Create the folder (0700) and the file (0600) so they are never readable by others.

    An existing file is never opened here: closing any descriptor of a database
    drops every POSIX lock this process holds on it, under SQLite's other
    connections (another Ledger of the same process, such as the server's).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.exists():
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
