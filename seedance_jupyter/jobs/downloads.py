"""Streaming, resumable, atomic download of finished videos.

Output URLs expire, so results are saved locally. The bytes go to
``<dest>.part`` and are renamed onto ``dest`` only once complete and synced: a
truncated file is never presented as the video, and an interrupted download
resumes from the ``.part`` with a Range request. What is saved must be a video
by its content (an ``ftyp`` box first, or WebM's EBML header), whatever the
declared type: a body of zeros labelled ``video/mp4`` is not the paid video.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

from ..errors import DownloadError, OutputExpiredError

__all__ = [
    "DEFAULT_MAX_BYTES", "DownloadStopped", "Stop", "discard_part", "download",
    "looks_like_video", "output_filename",
]

_EXPIRED_STATUSES = frozenset({403, 404, 410})
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_MAX_NAME = 200
_OUTPUT_EXPIRED = (
    "The video at {url} is no longer available; fetch the job again for a fresh URL."
)
_DOWNLOAD_FAILED = "Could not download {url} to {dest} ({detail})."
_NOT_A_VIDEO = (
    "the answer is not a video (declared {kind}, but it starts with neither an MP4/MOV "
    "ftyp box nor a WebM header); nothing was saved"
)
_TOO_LARGE = "the video is larger than the {limit} byte download cap"
_STOPPED = "stopped before the end; the part saved so far is kept to resume from"
#: WebM (Matroska) files start with the EBML magic number.
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_HEAD_BYTES = 12
DEFAULT_MAX_BYTES = 2 << 30
#: Bytes read at a time: small enough that a stop is seen within a fraction of a second.
_CHUNK = 64 << 10


class DownloadStopped(DownloadError):
    """The download was stopped (the process is shutting down); its ``.part`` is kept."""


def output_filename(request_id: str) -> str:
    """``<request_id>.mp4``; an id that had to be changed gets a short hash of itself.

    Characters outside ``[A-Za-z0-9_-]`` are replaced, so two ids that differ only
    there would share a name: the hash keeps the mapping one-to-one.
    """
    stem = _UNSAFE_NAME_CHARS.sub("_", request_id)[:_MAX_NAME]
    if stem != request_id or not stem:
        digest = hashlib.sha256(request_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        stem = f"{stem or 'video'}-{digest}"
    return f"{stem}.mp4"


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    session: requests.Session | None = None,
    chunk_size: int = _CHUNK,
    timeout: tuple[float, float] = (5.0, 60.0),
    max_bytes: int = DEFAULT_MAX_BYTES,
    stop: Stop | None = None,
    progress: Callable[[], None] | None = None,
) -> Path:
    """Save ``url`` at ``dest`` and return ``dest``; resumes an earlier ``.part``.

    Raises :class:`OutputExpiredError` on 403/404/410 and :class:`DownloadError`
    on anything else that goes wrong; either way nothing new appears at ``dest``.
    A body that is not a video, or larger than ``max_bytes``, is refused and its
    ``.part`` removed (as after a disk error); a cut connection keeps the ``.part``
    so the next call resumes it, and so does ``stop`` (:class:`DownloadStopped`).
    ``progress()`` is called after each chunk written (a lease renews itself there).
    """
    target = Path(dest)
    part = target.with_name(target.name + ".part")
    http = requests.Session() if session is None else session
    reading = _Reading(stop or Stop(), progress)
    stop = reading.stop
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # A first call that had to discard the .part asks for one fresh start.
        if not _fetch(http, url, part, chunk_size, timeout, max_bytes, reading):
            _fetch(http, url, part, chunk_size, timeout, max_bytes, reading)
        os.replace(part, target)
        _fsync_dir(target.parent)
    except (_IncompleteError, requests.RequestException, OSError) as exc:
        if stop.is_set():
            raise DownloadStopped(_DOWNLOAD_FAILED.format(
                url=_without_query(url), dest=target, detail=_STOPPED)) from None
        if not isinstance(exc, (_IncompleteError, requests.RequestException)) or (
            isinstance(exc, _IncompleteError) and exc.discard
        ):
            with contextlib.suppress(OSError):
                part.unlink()
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


def discard_part(dest: str | os.PathLike[str]) -> None:
    """Remove what a download given up on left behind (its ``.part``)."""
    target = Path(dest)
    with contextlib.suppress(OSError):
        target.with_name(target.name + ".part").unlink()


class Stop:
    """Stops the downloads it is given, from any thread, within a fraction of a second.

    Setting it cuts the connection of the body being read (a read blocked on a
    slow server returns at once) and every later chunk check sees it.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._open: set[requests.Response] = set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Pause up to ``seconds`` (between tries); True, at once, when stopped."""
        return self._event.wait(seconds)

    def set(self) -> None:
        self._event.set()
        with self._lock:
            open_now = list(self._open)
        for resp in open_now:
            _cut(resp)

    @contextlib.contextmanager
    def watching(self, resp: requests.Response) -> Iterator[None]:
        """While the body of ``resp`` is read, :meth:`set` cuts its connection."""
        with self._lock:
            self._open.add(resp)
        try:
            if self._event.is_set():
                _cut(resp)
            yield
        finally:
            with self._lock:
                self._open.discard(resp)


def _cut(resp: requests.Response) -> None:
    """Shut the answer's socket down, which wakes a read blocked on it in another thread."""
    with contextlib.suppress(Exception):  # already closed, or a transport without a socket
        resp.raw.shutdown()


@dataclass(frozen=True)
class _Reading:
    """What a download checks as it reads: whether to stop, and whom to tell of progress."""

    stop: Stop
    progress: Callable[[], None] | None


class _IncompleteError(Exception):
    """The answer was not the whole video; the .part is kept for a later resume,
    unless ``discard`` (the bytes are not a video, or too many)."""

    def __init__(self, detail: str, status: int | None = None, *, discard: bool = False) -> None:
        super().__init__(detail)
        self.status = status
        self.discard = discard


def _fetch(
    http: requests.Session,
    url: str,
    part: Path,
    chunk_size: int,
    timeout: tuple[float, float],
    max_bytes: int,
    reading: _Reading,
) -> bool:
    """Fill ``part`` with the whole body, resuming from its current size when possible.

    Returns False, with the ``.part`` removed, when the server cannot continue it.
    """
    offset = part.stat().st_size if part.exists() else 0
    # Storage URLs are presigned: a session's API key must never travel to them.
    headers: dict[str, str | None] = {"Accept-Encoding": "identity", "Authorization": None}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    if reading.stop.is_set():
        raise _IncompleteError(_STOPPED)
    with (
        http.get(url, headers=headers, stream=True, timeout=timeout) as resp,
        reading.stop.watching(resp),
    ):
        return _save(resp, part, offset, chunk_size, max_bytes, reading)


def _save(
    resp: requests.Response, part: Path, offset: int, chunk_size: int, max_bytes: int,
    reading: _Reading,
) -> bool:
    """The answer to a (ranged) GET into ``part``; False when it cannot continue the part."""
    status = resp.status_code
    if status in _EXPIRED_STATUSES:
        raise OutputExpiredError(
            _OUTPUT_EXPIRED.format(url=_without_query(resp.url)), status=status
        )
    if offset and (status == 416 or (status == 206 and not _continues_at(resp, offset))):
        part.unlink()
        return False
    if status not in (200, 206):
        raise _IncompleteError(f"the server answered {resp.reason or 'an error'}", status)
    resumed = status == 206
    start = offset if resumed else 0
    expected = _expected_length(resp)
    if (expected or 0) + start > max_bytes:
        raise _IncompleteError(_TOO_LARGE.format(limit=max_bytes), discard=True)
    written = _write_body(
        resp, part, append=resumed, chunk_size=chunk_size, room=max_bytes - start, reading=reading,
    )
    if expected is not None and written != expected:
        raise _IncompleteError(f"received {start + written} of {start + expected} bytes")
    return True


def _write_body(
    resp: requests.Response,
    part: Path,
    *,
    append: bool,
    chunk_size: int,
    room: int,
    reading: _Reading,
) -> int:
    """Stream the body into ``part`` (created 0600) and fsync it; returns the bytes written.

    A fresh body must be a video by its first bytes before one is written: an HTML
    "access denied" page, a JSON error or zeros saved as the video would hide the
    loss of the real one once its URL expires.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    chunks = resp.iter_content(chunk_size)
    head = b""
    if not append:
        for chunk in chunks:
            head += chunk
            if len(head) >= _HEAD_BYTES:
                break
        if not looks_like_video(head):
            declared = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
            raise _IncompleteError(_NOT_A_VIDEO.format(kind=declared or "no type"),
                                   discard=True)
    fd = os.open(part, flags, 0o600)
    written = 0
    with os.fdopen(fd, "ab" if append else "wb") as out:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
        for chunk in itertools.chain([head] if head else [], chunks):
            if reading.stop.is_set():
                raise _IncompleteError(_STOPPED)
            written += len(chunk)
            if written > room:
                raise _IncompleteError(_TOO_LARGE.format(limit=room), discard=True)
            out.write(chunk)
            if reading.progress is not None:
                reading.progress()
        if reading.stop.is_set():  # a cut connection can read as a short, complete body
            raise _IncompleteError(_STOPPED)
        out.flush()
        os.fsync(fd)
    return written


def looks_like_video(head: bytes) -> bool:
    """An ISO media file (MP4/MOV: an ``ftyp`` box first) or WebM (its EBML header),
    by the first bytes alone: a declared type proves nothing."""
    if head.startswith(_EBML_MAGIC):
        return True
    return head[4:8] == b"ftyp" and int.from_bytes(head[:4], "big") >= 8


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
