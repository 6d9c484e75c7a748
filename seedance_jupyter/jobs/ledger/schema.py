"""The ledger's one schema and one list of migrations, for SQLite and PostgreSQL alike.

Each migration is portable SQL; the only per-database word is ``{rowid}``: SQLite
tables have an implicit ``rowid``, PostgreSQL gets a real column of that name, so
every query may order and match by ``rowid`` on both.
"""

from __future__ import annotations

from ...status import FINAL, RANK

__all__ = [
    "COST_SQL", "ID_FREE", "MIGRATIONS", "MOVES_FORWARD", "NOT_REUSABLE_SQL", "PG_ROWID",
    "SCHEMA_VERSION", "TERMINAL_SQL", "UNFINISHED", "UNSAVED", "rank_sql",
]


def rank_sql(expr: str) -> str:
    """SQL for the rank of a status expression in a job's life (see :data:`RANK`)."""
    cases = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in RANK.items())
    return f"(CASE {expr} {cases} ELSE {RANK['processing']} END)"


def _in_sql(statuses: frozenset[str]) -> str:
    return "(" + ", ".join(f"'{s}'" for s in sorted(statuses)) + ")"


TERMINAL_SQL = _in_sql(FINAL)
NOT_REUSABLE_SQL = _in_sql(FINAL - {"succeeded"})
#: The predicate of the partial index on unfinished jobs; queries repeat it word for
#: word, which is what lets SQLite use that index.
UNFINISHED = f"status NOT IN {TERMINAL_SQL}"
#: A paid video still to be saved: the job succeeded, no file is recorded, one is wanted
#: (the predicate of the partial index on such jobs, repeated word for word by queries).
UNSAVED = (
    "status = 'succeeded' AND local_path IS NULL AND no_download = 0 "
    "AND output_url IS NOT NULL"
)
MOVES_FORWARD = (
    f"(status = CAST(:status AS TEXT) OR {rank_sql('CAST(:status AS TEXT)')} > "
    f"{rank_sql('status')})"
)
#: What a row costs: what the service charged, converted at ``:rate`` credits per USD,
#: else (no charge known yet, or no rate given) its estimate.
COST_SQL = (
    "(CASE WHEN credits_charged IS NOT NULL AND CAST(:rate AS DOUBLE PRECISION) IS NOT NULL "
    "THEN credits_charged * 1.0 / CAST(:rate AS DOUBLE PRECISION) ELSE estimated_usd END)"
)
#: ``:request_id`` is this row's to take: no other row of its backend has it.
ID_FREE = (
    "NOT EXISTS (SELECT 1 FROM jobs AS other WHERE other.request_id = :request_id "
    "AND other.backend = jobs.backend AND other.client_token != jobs.client_token)"
)
_SHARED_ID_NOTE = (
    "another row of this ledger also had this request id, so it was kept there: "
)
#: PostgreSQL's stand-in for SQLite's implicit rowid (insertion order, unique).
PG_ROWID = "rowid BIGSERIAL UNIQUE,"

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE jobs (
        {rowid}
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
        estimated_usd   DOUBLE PRECISION NOT NULL,
        credits_charged BIGINT,
        output_url      TEXT,
        local_path      TEXT,
        error_code      TEXT,
        error_message   TEXT,
        notebook        TEXT,
        created_at      DOUBLE PRECISION NOT NULL,
        submitted_at    DOUBLE PRECISION,
        updated_at      DOUBLE PRECISION NOT NULL,
        finished_at     DOUBLE PRECISION
    );
    CREATE INDEX jobs_request_id ON jobs (request_id);
    CREATE INDEX jobs_backend_fingerprint ON jobs (backend, fingerprint);
    CREATE INDEX jobs_created_at ON jobs (created_at);
    """,
    # When a job was last seen still running: with finished_at it brackets the
    # real finish, which is what the poller's schedule learns from.
    "ALTER TABLE jobs ADD COLUMN last_running_at DOUBLE PRECISION;",
    # Which process polls the job, until when: exactly one poller per job across
    # kernels and the server; updated_at feeds the server's change stream.
    """
    ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
    ALTER TABLE jobs ADD COLUMN lease_until DOUBLE PRECISION;
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
    # Who submitted each job (a ledger so far was one person's: theirs), and the
    # indexes that keep every hot query flat as a team's history grows.
    f"""
    ALTER TABLE jobs ADD COLUMN user_name TEXT;
    UPDATE jobs SET user_name = :user WHERE user_name IS NULL;
    DROP INDEX jobs_created_at;
    CREATE INDEX jobs_page ON jobs (created_at, client_token);
    CREATE INDEX jobs_backend_created ON jobs (backend, created_at);
    CREATE INDEX jobs_user_created ON jobs (user_name, created_at);
    CREATE INDEX jobs_unfinished ON jobs (backend, created_at) WHERE {UNFINISHED};
    CREATE INDEX jobs_unsaved ON jobs (backend, created_at) WHERE {UNSAVED};
    CREATE INDEX jobs_succeeded_alike ON jobs (backend, model, resolution, duration, finished_at)
        WHERE status = 'succeeded';
    """,  # noqa: S608
    # Per reference medium: its name, kind, content hash and where it was published
    # (never its bytes), so a re-run is judged on content and a card can name it.
    "ALTER TABLE jobs ADD COLUMN media_refs TEXT NOT NULL DEFAULT '[]';",
    # Notebooks (or folders) renamed since their jobs were made: a kernel keeps the
    # path it was started with, so its later jobs follow the rename through here.
    # Per user: on a team's database two people may have notebooks at the same path.
    """
    CREATE TABLE renames (
        user_name TEXT NOT NULL,
        old       TEXT NOT NULL,
        new       TEXT NOT NULL,
        at        DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (user_name, old)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
