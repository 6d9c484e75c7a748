"""Streaming, resumable, atomic download of finished videos.

Output URLs expire, so results are saved locally. The bytes go to
``<dest>.part`` and are renamed onto ``dest`` only once complete and synced: a
truncated file is never presented as the video, and an interrupted download
resumes from the ``.part`` with a Range request.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

from ..errors import DownloadError, OutputExpiredError

__all__ = ["download", "output_filename"]

_EXPIRED_STATUSES = frozenset({403, 404, 410})
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_MAX_NAME = 200
_OUTPUT_EXPIRED = (
    "The video at {url} is no longer available; fetch the job again for a fresh URL."
)
_DOWNLOAD_FAILED = "Could not download {url} to {dest} ({detail})."


def output_filename(request_id: str) -> str:
    """``<request_id>.mp4`` with every character outside ``[A-Za-z0-9_-]`` replaced."""
    stem = _UNSAFE_NAME_CHARS.sub("_", request_id)[:_MAX_NAME]
    return f"{stem or 'video'}.mp4"


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    session: requests.Session | None = None,
    chunk_size: int = 1 << 20,
    timeout: tuple[float, float] = (5.0, 60.0),
) -> Path:
    """Save ``url`` at ``dest`` and return ``dest``; resumes an earlier ``.part``.

    Raises :class:`OutputExpiredError` on 403/404/410 and :class:`DownloadError`
    on anything else that goes wrong; either way nothing new appears at ``dest``.
    """
    target = Path(dest)
    part = target.with_name(target.name + ".part")
    http = requests.Session() if session is None else session
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # A first call that had to discard the .part asks for one fresh start.
        if not _fetch(http, url, part, chunk_size, timeout):
            _fetch(http, url, part, chunk_size, timeout)
        os.replace(part, target)
        _fsync_dir(target.parent)
    except (_IncompleteError, requests.RequestException, OSError) as exc:
        detail = str(exc) if isinstance(exc, _IncompleteError) else f"{type(exc).__name__}: {exc}"
        query = urlsplit(url).query
        if query:
            detail = detail.replace(query, "...")
        raise DownloadError(
            _DOWNLOAD_FAILED.format(url=_without_query(url), dest=target, detail=detail),
            status=exc.status if isinstance(exc, _IncompleteError) else None,
        ) from None
    finally:
        if session is None:
            http.close()
    return target


class _IncompleteError(Exception):
    """The answer was not the whole video; the .part is kept for a later resume."""

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.status = status


def _fetch(
    http: requests.Session, url: str, part: Path, chunk_size: int, timeout: tuple[float, float]
) -> bool:
    """Fill ``part`` with the whole body, resuming from its current size when possible.

    Returns False, with the ``.part`` removed, when the server cannot continue it.
    """
    offset = part.stat().st_size if part.exists() else 0
    # Storage URLs are presigned: a session's API key must never travel to them.
    headers: dict[str, str | None] = {"Accept-Encoding": "identity", "Authorization": None}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with http.get(url, headers=headers, stream=True, timeout=timeout) as resp:
        status = resp.status_code
        if status in _EXPIRED_STATUSES:
            raise OutputExpiredError(
                _OUTPUT_EXPIRED.format(url=_without_query(url)), status=status
            )
        if offset and (status == 416 or (status == 206 and not _continues_at(resp, offset))):
            part.unlink()
            return False
        if status not in (200, 206):
            raise _IncompleteError(f"the server answered {resp.reason or 'an error'}", status)
        resumed = status == 206
        expected = _expected_length(resp)
        written = _write_body(resp, part, append=resumed, chunk_size=chunk_size)
    if expected is not None and written != expected:
        start = offset if resumed else 0
        raise _IncompleteError(f"received {start + written} of {start + expected} bytes")
    return True


def _write_body(resp: requests.Response, part: Path, *, append: bool, chunk_size: int) -> int:
    """Stream the body into ``part`` (created 0600) and fsync it; returns the bytes written."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(part, flags, 0o600)
    written = 0
    with os.fdopen(fd, "ab" if append else "wb") as out:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
        for chunk in resp.iter_content(chunk_size):
            out.write(chunk)
            written += len(chunk)
        out.flush()
        os.fsync(fd)
    return written


def _continues_at(resp: requests.Response, offset: int) -> bool:
    """True if a 206 answer's ``Content-Range`` starts where the ``.part`` ends."""
    match = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range", ""))
    return match is not None and int(match.group(1)) == offset


def _expected_length(resp: requests.Response) -> int | None:
    """The body's length in bytes as sent, when it can be checked against what was written."""
    if resp.headers.get("Content-Encoding", "identity") != "identity":
        return None
    length = resp.headers.get("Content-Length", "")
    return int(length) if length.isdigit() else None


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; some platforms cannot open a directory, which is fine."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _without_query(url: str) -> str:
    """The URL without its query, fragment or credentials: signatures stay out of messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
