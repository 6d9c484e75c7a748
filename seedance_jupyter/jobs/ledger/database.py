"""Where the ledger lives: one SQLAlchemy engine over SQLite (embedded) or PostgreSQL (team).

Writes are short explicit transactions. On SQLite ``BEGIN IMMEDIATE`` takes the
file's write lock up front (other kernels wait on the busy timeout); on
PostgreSQL a transaction that must not interleave with its like (the claim)
takes a transaction-scoped advisory lock (see :meth:`Database.serialize`).
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from ... import messages
from ...errors import LedgerUnavailableError, SeedanceError
from ...paths import seedance_home
from .mounts import unsafe_filesystem
from .schema import MIGRATIONS, PG_ROWID, SCHEMA_VERSION

__all__ = ["DB_URL_ENV", "LEDGER_ERRORS", "Database", "current_user", "resolve_url"]

#: Any failure of the ledger's database (locked, full, unreachable, refused): what a
#: caller that must not lose a paid job catches, to keep it in the journal instead.
LEDGER_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, LedgerUnavailableError)
#: The environment variable naming the ledger's database when no setting does.
DB_URL_ENV = "SEEDANCE_DB_URL"
_BUSY_TIMEOUT_S = 10.0
_CONNECT_TIMEOUT_S = 5
_MIGRATE_LOCK = "seedance-ledger-migrate"


def current_user() -> str:
    """Who this process works for: ``JUPYTERHUB_USER`` where set, else the OS user."""
    hub = os.environ.get("JUPYTERHUB_USER")
    if hub:
        return hub
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def resolve_url(target: str | os.PathLike[str] | None) -> str:
    """The database URL of a setting, a path, or (None/"") ``$SEEDANCE_DB_URL``, else
    ``ledger.sqlite3`` in ``$SEEDANCE_HOME``. ``postgresql://`` gets the psycopg 3 driver."""
    if target is None or target == "":
        target = os.environ.get(DB_URL_ENV) or seedance_home() / "ledger.sqlite3"
    text_ = os.fspath(target)
    if "://" not in text_:
        return "sqlite:///" + str(Path(text_).expanduser().absolute())
    try:
        url = make_url(text_)
    except ArgumentError:
        url = None
    if url is None or url.get_backend_name() not in ("sqlite", "postgresql", "postgres"):
        shown = text_ if url is None else url.render_as_string(hide_password=True)
        raise SeedanceError(messages.LEDGER_BAD_URL.format(url=shown), code="validation_error")
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock`` (Python's hash() is salted)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Database:
    """One ledger database: its engine, its transactions and its schema."""

    def __init__(
        self, target: str | os.PathLike[str] | None, *, user: str, clock: Any = time.time
    ) -> None:
        self.url = resolve_url(target)
        #: Whose rows a ledger from before users existed holds (one person's file: theirs).
        self.user = user
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.path = Path(parsed.database or "") if self.is_sqlite else None
        #: The database as a person may read it: never its password.
        self.name = str(self.path) if self.path is not None else parsed.render_as_string(
            hide_password=True).replace("+psycopg", "")
        self._clock = clock
        self.engine: Engine | None = None
        #: Where an unreadable SQLite file was moved before a fresh one was started.
        self.moved_aside: Path | None = None
        #: One line to show once: the SQLite file sits on a network or FUSE file system.
        self.warning: str | None = None
        self.ready = False
        self._local = threading.local()
        #: Why the database server cannot be used now, in one line (None: it can).
        self.unavailable: str | None = None
        #: Called once the schema is ready (at open, or when an unreachable server is back).
        self.on_ready: Callable[[], object] | None = None

    # Opening ----------------------------------------------------------------

    def open(self) -> None:
        """Connect and migrate. SQLite: a corrupt file is moved aside and started afresh."""
        if self.path is None:
            try:
                self.engine = create_engine(
                    self.url, pool_pre_ping=True,
                    connect_args={"connect_timeout": _CONNECT_TIMEOUT_S},
                )
            except ImportError as exc:
                raise SeedanceError(messages.LEDGER_NEEDS_DRIVER.format(name=self.name)) from exc
            return
        fs = unsafe_filesystem(self.path)
        if fs is not None:
            self.warning = messages.LEDGER_ON_NETWORK_FS.format(path=self.path, fs=fs)
        try:
            self._open_file()
        except (OSError, OperationalError) as exc:
            if _is_locked(exc):
                raise
            raise LedgerUnavailableError(messages.LEDGER_UNUSABLE.format(
                folder=self.path.parent, detail=_detail(exc))) from None

    def _open_file(self) -> None:
        """SQLite: a corrupt file is moved aside and a fresh one started."""
        assert self.path is not None
        _create_private_file(self.path)
        self.engine = _sqlite_engine(self.url)
        try:
            self.prepare()
        except DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
            self.close()
            self.moved_aside = self._move_aside()
            _create_private_file(self.path)
            self.engine = _sqlite_engine(self.url)
            self.prepare()

    def prepare(self) -> None:
        """Migrate once; a database that is unreachable now is tried again at next use."""
        if self.ready:
            return
        self._migrate()
        self.ready = True
        self.unavailable = None
        if self.on_ready is not None:
            self.on_ready()

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    @property
    def journal_path(self) -> Path:
        """Append-only file for request ids the database could not take (locked, full, down).

        Beside a SQLite file; in ``$SEEDANCE_HOME`` (named after the database) for a server.
        """
        if self.path is not None:
            return self.path.with_name(self.path.name + ".journal")
        digest = hashlib.sha256(self.name.encode()).hexdigest()[:12]
        return seedance_home() / f"ledger-{digest}.journal"

    # Transactions -----------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One short write transaction (SQLite: holding the write lock from its start)."""
        self.prepare()
        with self._transaction() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads (SQLite: autocommit, so a read never holds a lock)."""
        self.prepare()
        with self._connection() as conn:
            yield conn

    def serialize(self, conn: Connection, scope: str) -> None:
        """Let one transaction of ``scope`` at a time past this point, across every host.

        PostgreSQL: an advisory lock held until this transaction ends (commit or
        rollback, also when the client dies), so racing claims run one after the
        other, each seeing the rows the earlier ones wrote. It guards a *question*
        (is there an identical job? what did today cost?), which row locks cannot:
        the rows that would answer it may not exist yet. SQLite's BEGIN IMMEDIATE
        already serializes every write.
        """
        if not self.is_sqlite:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(scope)})

    def day_sql(self, column: str) -> str:
        """SQL for the local calendar day (``YYYY-MM-DD``) of a Unix time column."""
        if self.is_sqlite:
            return f"date({column}, 'unixepoch', 'localtime')"
        offset = time.localtime().tm_gmtoff
        return f"to_char(to_timestamp({column} + {offset}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"

    # Schema -----------------------------------------------------------------

    def _migrate(self) -> None:
        """Bring the schema up to date; take the write lock only when there is work."""
        with self._connection() as conn:
            if self._version(conn) == SCHEMA_VERSION:
                return
        with self._transaction() as conn:
            if not self.is_sqlite:
                self.serialize(conn, _MIGRATE_LOCK)
                conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS seedance_ledger_schema "
                                     "(version INTEGER NOT NULL)")
            self._apply(conn)

    def _apply(self, conn: Connection) -> None:
        version = self._version(conn)
        if version > SCHEMA_VERSION:
            raise SeedanceError(messages.LEDGER_NEWER_SCHEMA.format(
                path=self.name, found=version, known=SCHEMA_VERSION))
        rowid = "" if self.is_sqlite else PG_ROWID
        for script in MIGRATIONS[version:]:
            for statement in script.replace("{rowid}", rowid).split(";"):
                if statement.strip():
                    conn.execute(text(statement), {"user": self.user})
        if self.is_sqlite:
            conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
        else:
            conn.exec_driver_sql("DELETE FROM seedance_ledger_schema")
            conn.execute(text("INSERT INTO seedance_ledger_schema VALUES (:v)"),
                         {"v": SCHEMA_VERSION})

    def _version(self, conn: Connection) -> int:
        if self.is_sqlite:
            return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
        exists = conn.exec_driver_sql(
            "SELECT to_regclass('seedance_ledger_schema') IS NOT NULL").scalar_one()
        if not exists:
            return 0
        found = conn.exec_driver_sql("SELECT MAX(version) FROM seedance_ledger_schema").scalar()
        return int(found or 0)

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A pooled connection; a server that cannot be reached (or is lost meanwhile)
        raises :class:`LedgerUnavailableError`, naming the database, never its password."""
        if self.engine is None:
            raise SeedanceError(messages.LEDGER_CLOSED)
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            if self.is_sqlite:
                raise
            self.unavailable = messages.LEDGER_UNREACHABLE.format(
                name=self.name, detail=_first_line(exc))
            raise LedgerUnavailableError(self.unavailable) from exc

    @contextmanager
    def busy_timeout(self, seconds: float) -> Iterator[None]:
        """Within the block, this thread's writes wait at most ``seconds`` for another's
        lock (a background retry that must stop promptly when its service closes)."""
        self._local.busy = seconds
        try:
            yield
        finally:
            self._local.busy = None

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        busy: float | None = getattr(self._local, "busy", None)
        with self._connection() as conn:
            if self.is_sqlite:
                wait = _BUSY_TIMEOUT_S if busy is None else busy
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait * 1000)}")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif busy is not None:
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(busy * 1000)}ms'")
            try:
                yield conn
            except BaseException:
                with contextlib.suppress(SQLAlchemyError):
                    if self.is_sqlite:
                        conn.exec_driver_sql("ROLLBACK")
                    else:
                        conn.rollback()
                raise
            if self.is_sqlite:
                conn.exec_driver_sql("COMMIT")
            else:
                conn.commit()

    def _move_aside(self) -> Path:
        assert self.path is not None
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(self._clock())}")
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{self.path}{suffix}", f"{aside}{suffix}")
        return aside


def _sqlite_engine(url: str) -> Engine:
    """SQLite in WAL mode, with the driver's own transactions off: :meth:`Database.write`
    says BEGIN IMMEDIATE itself, and reads run in autocommit."""
    # timeout= is SQLite's busy timeout: wait for another kernel's write, do not fail.
    engine = create_engine(
        url, connect_args={"timeout": _BUSY_TIMEOUT_S, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi: Any, _record: ConnectionPoolEntry) -> None:
        dbapi.isolation_level = None
        cursor = dbapi.cursor()
        try:
            _use_wal(cursor)
        finally:
            cursor.close()

    return engine


def _use_wal(cursor: Any) -> None:
    """Switch a new file to WAL. Two processes opening it at once can find it busy without
    SQLite's busy handler waiting (the switch takes an exclusive lock): retry until the
    busy timeout, as any other write would wait."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    while True:
        try:
            (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
            if mode != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _is_locked(exc: OSError | OperationalError) -> bool:
    """Another process holds the database (it passes): not a folder this one cannot use."""
    return isinstance(exc, OperationalError) and "locked" in str(exc).lower()


def _detail(exc: OSError | OperationalError) -> str:
    """What went wrong, without the path the message already names."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def _is_corrupt(exc: DatabaseError) -> bool:
    """An unreadable file (not a lock or a full disk, which pass)."""
    message = str(exc).lower()
    return "not a database" in message or "malformed" in message


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
