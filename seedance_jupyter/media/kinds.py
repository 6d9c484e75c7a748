"""A reference's kind from its first bytes (magic numbers), never from its file name."""

from __future__ import annotations

from dataclasses import dataclass

from ..catalog import MediaKind

__all__ = ["Sniffed", "sniff"]


@dataclass(frozen=True)
class Sniffed:
    """What the content is: its kind, the extension the service expects and its MIME type."""

    kind: MediaKind
    extension: str
    content_type: str


_PNG = Sniffed("image", ".png", "image/png")
_JPEG = Sniffed("image", ".jpg", "image/jpeg")
_WEBP = Sniffed("image", ".webp", "image/webp")
_GIF = Sniffed("image", ".gif", "image/gif")
_BMP = Sniffed("image", ".bmp", "image/bmp")
_MP4 = Sniffed("video", ".mp4", "video/mp4")
_MOV = Sniffed("video", ".mov", "video/quicktime")
_MP3 = Sniffed("audio", ".mp3", "audio/mpeg")
_WAV = Sniffed("audio", ".wav", "audio/wav")
#: QuickTime files may start with one of these atoms instead of ``ftyp``.
_QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip")


def sniff(data: bytes) -> Sniffed | None:
    """The kind of ``data`` by its signature, or None for anything else (text, zip...)."""
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _PNG
    if head.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _GIF
    if head.startswith(b"RIFF") and len(head) >= 12:
        return {b"WEBP": _WEBP, b"WAVE": _WAV}.get(head[8:12])
    if head.startswith(b"BM") and len(head) >= 14:
        return _BMP
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _MOV if head[8:12] == b"qt  " else _MP4
    if len(head) >= 8 and head[4:8] in _QUICKTIME_ATOMS:
        return _MOV
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return _MP3
    return None
