"""Output URLs that behave like object storage: signed, expiring, byte-range capable.

A URL carries ``expires`` (Unix seconds) and ``sig``, an HMAC of the job id and
that time under the emulator's signing key. Rotating the key expires every URL
handed out so far, which is how the emulator imitates storage links going stale.
"""

from __future__ import annotations

import hashlib
import hmac
import re

__all__ = ["RangeNotSatisfiable", "parse_range", "signed_path", "verify"]

_RANGE = re.compile(r"(\d*)-(\d*)")


class RangeNotSatisfiable(ValueError):
    """The Range header asks for bytes the file does not have (answer 416)."""


def _signature(key: bytes, request_id: str, expires: int) -> str:
    return hmac.new(key, f"{request_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_path(key: bytes, request_id: str, expires: int) -> str:
    """The path and query of a job's output URL, valid until ``expires``."""
    sig = _signature(key, request_id, expires)
    return f"/outputs/{request_id}.mp4?expires={expires}&sig={sig}"


def verify(key: bytes, request_id: str, expires: str | None, sig: str | None, now: float) -> bool:
    """True if ``sig`` was made with ``key`` for this job and ``expires`` is still ahead."""
    if not expires or not sig or not expires.isdigit() or int(expires) < now:
        return False
    return hmac.compare_digest(sig, _signature(key, request_id, int(expires)))


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` byte of a single ``bytes=`` range, or None for all.

    Other units and multi-range requests get the whole file (as HTTP allows);
    a malformed or unsatisfiable byte range raises :class:`RangeNotSatisfiable`.
    """
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _RANGE.fullmatch(spec.strip())
    if match is None or match.group(1) == match.group(2) == "":
        raise RangeNotSatisfiable(header)
    first, last = match.groups()
    if first == "":
        count = int(last)
        if count == 0:
            raise RangeNotSatisfiable(header)
        start, end = max(0, size - count), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        raise RangeNotSatisfiable(header)
    return start, end
