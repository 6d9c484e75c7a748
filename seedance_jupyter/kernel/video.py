"""Where a finished card's player loads the video from, so it plays where the notebook opens.

``SeedanceMagics.video`` picks one of: a relative path (JupyterLab serves it from
the notebook's folder), the mp4 inlined as a ``data:`` URI (Colab, VS Code, a
notebook sent on its own), or the service's https URL (it expires). A loopback
URL is never a source: it names the kernel's machine, not the browser's.
"""

from __future__ import annotations

import base64
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit

from ..catalog import is_loopback_url
from ..jobs.summary import JobSummary
from ..messages import (
    CARD_VIDEO_EXPIRES,
    CARD_VIDEO_MISSING,
    CARD_VIDEO_NOT_SERVED,
    CARD_VIDEO_TOO_BIG,
)
from .frontend import Frontend

__all__ = [
    "VideoMode", "VideoSource", "choose_video", "relative_src", "resolve_mode", "served_src",
]

#: How the player finds the video; ``text`` shows where it is and no player.
VideoMode = Literal["path", "data", "url", "text"]

_AUTO: dict[Frontend, VideoMode] = {
    "colab": "data", "vscode": "data", "jupyter": "path", "terminal": "text",
}
_MB = 1024 * 1024


@dataclass(frozen=True)
class VideoSource:
    """What a finished card shows of its video."""

    #: The ``<video src>``: a relative path, a data URI or an https URL; None: no player.
    src: str | None
    #: The file or URL a person reads (and the download link's target when there is a player).
    location: str
    #: One line about the source: it expires, it is too big to inline, the file is missing.
    note: str | None = None
    #: The downloaded file is named but not there (moved, or another machine).
    missing: bool = False


def resolve_mode(setting: str, frontend: Frontend) -> VideoMode:
    """The setting, with ``auto`` made concrete for ``frontend``."""
    setting = setting.lower()
    if setting == "auto":
        return _AUTO[frontend]
    if setting not in ("path", "data", "url"):
        raise ValueError(f"unknown video mode {setting!r}")
    return setting  # type: ignore[return-value]


def choose_video(
    summary: JobSummary, mode: VideoMode, *, data_max_mb: float, folder: Path | None = None,
    root: Path | None = None,
) -> VideoSource | None:
    """The source for a succeeded job's player; None before there is a video to name.

    ``folder`` is where relative paths are resolved (the kernel's working
    directory, which is the notebook's folder); ``root``, the folder the Jupyter
    server serves, when known: a file outside it cannot play from a saved card.
    """
    if summary.status != "succeeded":
        return None
    remote = _https(summary.output_url)
    local = summary.local_path
    if local is None:
        if remote is None:
            return None
        src = None if mode == "text" else remote
        return VideoSource(src, remote, CARD_VIDEO_EXPIRES)
    path = (folder or Path.cwd()) / local
    if not path.is_file():
        if mode == "url" and remote is not None:
            return VideoSource(remote, remote, CARD_VIDEO_EXPIRES)
        return VideoSource(None, local, CARD_VIDEO_MISSING.format(name=local), missing=True)
    if mode == "text":
        return VideoSource(None, local)
    if mode == "url" and remote is not None:
        return VideoSource(remote, remote, CARD_VIDEO_EXPIRES)
    if mode == "data":
        size = path.stat().st_size
        if size <= data_max_mb * _MB:
            return VideoSource(_data_uri(str(path.resolve()), path.stat().st_mtime_ns), local)
        note = CARD_VIDEO_TOO_BIG.format(mb=size / _MB, cap=data_max_mb)
        return VideoSource(served_src(path, folder or Path.cwd(), root), local, note)
    src = served_src(path, folder or Path.cwd(), root)
    if src is None:
        return VideoSource(None, local, CARD_VIDEO_NOT_SERVED.format(path=path, root=root))
    return VideoSource(src, local)


def _https(url: str | None) -> str | None:
    """``url`` if a browser anywhere can load it: https, with a host, not loopback."""
    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname or is_loopback_url(url):
        return None
    return url


def relative_src(local: str) -> str | None:
    """A percent-encoded relative URL for a path under the notebook's folder, else None."""
    if os.path.isabs(local) or "\\" in local:
        return None
    segments = local.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return None
    return "/".join(quote(segment, safe="") for segment in segments)


def served_src(path: Path, folder: Path, root: Path | None) -> str | None:
    """``path`` as a percent-encoded URL relative to the notebook's ``folder``, which the
    server resolves the way a saved notebook's ``<video src>`` is: ``..`` is allowed while
    the file stays inside the served ``root``. None when it would leave it (the server
    would refuse it); with ``root`` unknown the relative path is the best guess."""
    target = Path(os.path.realpath(path))
    relative = os.path.relpath(target, os.path.realpath(folder))
    if root is not None and not target.is_relative_to(os.path.realpath(root)):
        return None
    return "/".join(quote(segment, safe="") for segment in Path(relative).parts)


@functools.lru_cache(maxsize=4)
def _data_uri(path: str, _mtime_ns: int) -> str:
    """The file as ``data:video/mp4;base64,...`` (cached while the file is unchanged)."""
    encoded = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return "data:video/mp4;base64," + encoded
