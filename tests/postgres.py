"""A real PostgreSQL for the tests: a throwaway cluster started by the tests themselves.

Debian's ``postgresql`` package puts its binaries under ``/usr/lib/postgresql/N/bin``.
The server refuses to run as root, so as root the cluster belongs to the ``postgres``
user. Missing binaries skip the tests that need it, with the reason, unless
``SEEDANCE_REQUIRE_POSTGRES=1`` (CI), where they fail.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

__all__ = ["PostgresServer", "find_bin", "require_postgres"]

_MISSING = "PostgreSQL is not installed (apt-get install postgresql): {what}"


def find_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def require_postgres(what: str) -> Path:
    """The bin folder, else skip (or fail when SEEDANCE_REQUIRE_POSTGRES=1)."""
    bin_dir = find_bin()
    if bin_dir is None:
        reason = _MISSING.format(what=what)
        if os.environ.get("SEEDANCE_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return bin_dir


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One cluster on loopback with trust auth; :meth:`new_database` gives each test its own."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="seedance-pg-"))
        if self.as_root:
            shutil.chown(self.dir, "postgres")
        self.port = _free_port()
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off -c max_connections=200", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def new_database(self) -> str:
        """A fresh, empty database's URL."""
        name = f"t_{secrets.token_hex(6)}"
        self.sql(f"CREATE DATABASE {name}")
        return self.url(name)

    def sql(self, statement: str, database: str = "postgres") -> str:
        return self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                         "-d", database, "-tAc", statement)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> str:
        command: Sequence[str] = [str(self.bin / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False,
                              cwd=self.dir, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stderr or done.stdout}")
        return done.stdout
