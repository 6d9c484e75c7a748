"""Files published from this machine: one blob per content hash, one grant per URL handed out.

The Jupyter server's media route and the loopback server both answer from it:
``<token>/<sha256><ext>`` is served only while its grant lasts, only for the file
it names, whatever else lies on the shelf. Tokens are 32 random bytes.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ..paths import seedance_home
from .refs import Media

__all__ = ["Grant", "Shelf"]

_NAME = re.compile(r"[0-9a-f]{64}\.[a-z0-9]{2,5}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")


@dataclass(frozen=True)
class Grant:
    """A published file a URL may read: where it is, its exact type, until when."""

    path: Path
    content_type: str
    expires: float


class Shelf:
    """Blobs under ``root/blobs``, grants under ``root/grants`` (private to this user)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or seedance_home() / "media"

    def put(self, media: Media, ttl: float) -> str:
        """Store ``media`` once and grant a new token for ``ttl`` s: ``token/sha.ext``."""
        blobs, grants = self.root / "blobs", self.root / "grants"
        for folder in (blobs, grants):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        blob = blobs / media.key
        if not blob.exists():
            _write(blob, media.data)
        token = secrets.token_urlsafe(32)
        grant = {"name": media.key, "type": media.content_type, "expires": time.time() + ttl}
        _write(grants / f"{token}.json", json.dumps(grant).encode())
        return f"{token}/{media.key}"

    def lookup(self, token: str, name: str, now: float | None = None) -> Grant | None:
        """The file ``token`` grants under ``name``, or None (unknown, expired, another file)."""
        if not _TOKEN.fullmatch(token) or not _NAME.fullmatch(name):
            return None
        try:
            grant = json.loads((self.root / "grants" / f"{token}.json").read_text())
            expires, granted, kind = float(grant["expires"]), grant["name"], str(grant["type"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        path = self.root / "blobs" / name
        if granted != name or expires <= (time.time() if now is None else now):
            return None
        return Grant(path, kind, expires) if path.is_file() else None


def _write(path: Path, data: bytes) -> None:
    """Write atomically and readable by this user only."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
