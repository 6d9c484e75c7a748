"""The one renderer of a job card: a :class:`JobSummary` as HTML fragments and as text.

The saved card (``text/html`` of the cell's output) and the live widget are made
of the same fragments (header, status, detail), so they cannot disagree. The
saved card needs no kernel, script or stylesheet: its styles are inline, each
``var(...)`` after a plain declaration (see :mod:`.markup`), and the ``<video>``
has its ``src`` on the tag itself, because JupyterLab's sanitizer removes
``<source>`` children in untrusted notebooks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from ..jobs.backend import GATEWAY_URL_ENV, TEAM_LABEL, backend_key_from_env
from ..jobs.summary import JobSummary
from ..messages import (
    CARD_BACKEND,
    CARD_DOWNLOAD,
    CARD_EMULATOR_BADGE,
    CARD_ERROR,
    CARD_MEDIA,
    CARD_MEDIA_ITEM,
    CARD_NO_REQUEST_ID,
    CARD_NOT_LINKED,
    CARD_REQUEST_ID_TITLE,
    CARD_RUNNING,
    CARD_TOOK,
    CARD_VIDEO_LABEL,
    CARD_VIDEO_MISSING,
    TEXT_EMULATOR,
    TEXT_PROMPT,
    TEXT_SUMMARY,
    TEXT_VIDEO,
)
from ..status import FINAL
from .markup import esc, root, truncate
from .video import VideoSource

__all__ = [
    "CARD_CSS",
    "detail_html",
    "header_html",
    "progress_html",
    "render_html",
    "render_text",
    "safe_url",
    "status_html",
    "status_line",
]

_HEADER_PROMPT_CHARS = 300
_TEXT_PROMPT_CHARS = 120
_LABEL_PROMPT_CHARS = 80

# Inline styles: a plain declaration first, then the theme's variable.
_BOX_STYLE = (
    "border:1px solid #9e9e9e;border:1px solid var(--jp-border-color1,#9e9e9e);"
    "border-radius:4px;padding:6px 10px;max-width:720px;"
    "color:inherit;color:var(--jp-ui-font-color1,inherit)"
)
_PROMPT_STYLE = "font-weight:600;white-space:pre-wrap;overflow-wrap:anywhere"
_MUTED_STYLE = "color:inherit;color:var(--jp-ui-font-color2,inherit)"
_THUMB_STYLE = "height:48px;max-width:96px;vertical-align:middle;margin-right:4px;border-radius:2px"
_ERROR_STYLE = "color:#c62828;color:var(--jp-error-color1,#c62828);overflow-wrap:anywhere"
# A chip of fixed colours, the same in light and dark themes: 10.3:1 contrast.
_BADGE_STYLE = (
    "display:inline-block;margin-left:6px;padding:0 4px;border-radius:3px;"
    "border:1px solid #e65100;background:#ffe0b2;color:#4e2600;"
    "font-size:85%;font-weight:600;white-space:nowrap"
)
_REQUEST_ID_STYLE = "font-size:85%;user-select:all;-webkit-user-select:all"
# A fixed width: until it plays, a <video> takes its poster's size (a small frame),
# so with "width:auto" it would grow to the video's own size on Play.
_VIDEO_STYLE = (
    "display:block;width:480px;max-width:100%;height:auto;max-height:480px;"
    "object-fit:contain;margin-top:6px"
)
_POSTER_STYLE = "display:block;max-width:240px;max-height:240px;margin-top:6px"

#: The live widget's stylesheet (the saved card is styled inline).
CARD_CSS = """
.seedance-card { border: 1px solid #9e9e9e; border: 1px solid var(--jp-border-color1);
  border-radius: 4px; padding: 6px 10px; max-width: 720px; }
.seedance-card .seedance-progress { position: relative; overflow: hidden; height: 6px;
  margin: 4px 0; border-radius: 3px; background: #e0e0e0;
  background: var(--jp-layout-color2); }
.seedance-card .seedance-progress-bar { position: absolute; top: 0; bottom: 0; width: 35%;
  background: #1976d2; background: var(--jp-brand-color1);
  animation: seedance-indeterminate 1.4s ease-in-out infinite; }
@keyframes seedance-indeterminate { from { left: -35%; } to { left: 100%; } }
@media (prefers-reduced-motion: reduce) {
  .seedance-card .seedance-progress-bar { animation: none; left: 0; width: 100%;
    opacity: 0.5; } }
.seedance-card .seedance-cancel { border: 1px solid #c62828;
  border: 1px solid var(--jp-error-color1); }
.seedance-card .seedance-cancel:focus-visible { outline: 2px solid #1976d2;
  outline: 2px solid var(--jp-brand-color1); outline-offset: 2px; }
@property --seedance-s { syntax: "<integer>"; inherits: false; initial-value: 0; }
@property --seedance-m { syntax: "<integer>"; inherits: false; initial-value: 0; }
.seedance-card .seedance-ticking::after {
  counter-reset: seedance-m var(--seedance-m) seedance-s var(--seedance-s);
  content: counter(seedance-m, decimal-leading-zero) ":" counter(seedance-s, decimal-leading-zero);
  animation: seedance-seconds 60s steps(60) infinite, seedance-minutes 360000s steps(6000);
  animation-delay: var(--seedance-since); }
@keyframes seedance-seconds { from { --seedance-s: 0; } to { --seedance-s: 60; } }
@keyframes seedance-minutes { from { --seedance-m: 0; } to { --seedance-m: 6000; } }
"""


def safe_url(url: str | None, *, parents: bool = False) -> str | None:
    """``url`` if it may become an ``href``/``src``, else None.

    Only http(s) URLs with a host and plain relative paths pass. Anything with
    whitespace or control characters fails too, because browsers drop those
    inside a scheme (``java\\tscript:``), and ``..`` is judged after percent
    decoding, because browsers treat ``%2e%2e`` as ``..``. ``parents``: leading
    ``..`` segments may climb out of the notebook's folder (a video the kernel
    saved beside it, checked to stay inside the served root); never ``..`` later.
    """
    if not url or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme or ":" in url.split("/", 1)[0]:
        if parts.scheme.lower() in ("http", "https") and parts.netloc and parts.hostname:
            return url
        return None
    if url.startswith("/") or "\\" in url or "\\" in unquote(url):
        return None
    segments = unquote(parts.path).split("/")
    if parents:
        while segments[:1] == [".."]:
            segments = segments[1:]
    if any(segment == ".." for segment in segments):
        return None
    return url


def _clock(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _params(summary: JobSummary) -> list[str]:
    parts = [summary.model] if summary.model else []
    if summary.duration is not None:
        parts.append(f"{summary.duration} s")
    return parts + [p for p in (summary.resolution, summary.aspect_ratio) if p]


def _link(url: str, label: str | None = None, *, download: bool = False) -> str:
    """An anchor for a safe URL; an unsafe one is shown as text, never linked."""
    safe = safe_url(url)
    if safe is None:
        return esc(CARD_NOT_LINKED.format(url=url))
    extra = " download" if download else ' target="_blank" rel="noopener noreferrer"'
    return f'<a href="{esc(safe)}"{extra}>{esc(label or url)}</a>'


def _reference(ref: Mapping[str, Any]) -> str:
    """A thumbnail of an image reference, else its kind and name (a published URL is
    short-lived and not for the saved notebook: only a URL the user gave is linked)."""
    name = str(ref.get("name") or "")
    thumb = ref.get("thumbnail")
    if isinstance(thumb, str) and thumb.startswith("data:image/jpeg;base64,"):
        return (f'<img class="seedance-media-thumb" src="{esc(thumb)}" alt="{esc(name)}" '
                f'title="{esc(name)}" style="{_THUMB_STYLE}">')
    if ref.get("where") == "url":
        return _link(name)
    return esc(CARD_MEDIA_ITEM.format(kind=ref.get("kind") or "", name=name))


def status_line(summary: JobSummary) -> list[str]:
    """The status line's parts, as text: status, run time once final, cost, request id."""
    parts = [summary.status_label]
    took = summary.run_seconds if summary.status in FINAL else None
    if took is not None:
        parts.append(CARD_TOOK.format(elapsed=_clock(took)))
    return parts + summary.charge_parts + [summary.request_id or CARD_NO_REQUEST_ID]


def _request_id_html(request_id: str) -> str:
    """The request id, small and selected whole by one click (what support and
    ``%seedance status`` need); "no request id yet" stays plain text."""
    if request_id == CARD_NO_REQUEST_ID:
        return esc(request_id)
    return (
        f'<code class="seedance-request-id" style="{_REQUEST_ID_STYLE}" '
        f'title="{esc(CARD_REQUEST_ID_TITLE.format(request_id=request_id))}">'
        f"{esc(request_id)}</code>"
    )


def header_html(summary: JobSummary) -> str:
    """The prompt (with the emulator badge) and the parameters."""
    badge = (
        f'<span class="seedance-badge" style="{_BADGE_STYLE}">{esc(CARD_EMULATOR_BADGE)}</span>'
        if summary.is_emulator else ""
    )
    params = " · ".join([*_params(summary), CARD_BACKEND.format(label=_backend(summary))])
    rows = [
        f'<div class="seedance-prompt" style="{_PROMPT_STYLE}" title="{esc(summary.prompt)}">'
        f"{esc(truncate(summary.prompt, _HEADER_PROMPT_CHARS))}{badge}</div>",
        f'<div class="seedance-params" style="{_MUTED_STYLE}">{esc(params)}</div>',
    ]
    if summary.media_urls:
        links = (
            " ".join(_reference(ref) for ref in summary.media_refs) if summary.media_refs
            else ", ".join(_link(url) for url in summary.media_urls)
        )
        rows.append(f'<div class="seedance-media" style="{_MUTED_STYLE}">'
                    f"{esc(CARD_MEDIA)}: {links}</div>")
    return root("seedance-header", "\n".join(rows))


def status_html(summary: JobSummary, now: float | None = None) -> str:
    """The status line, a polite live region: screen readers hear each change.

    Given ``now`` (the live widget), a running job's clock ticks in the browser: a
    CSS animation (:data:`CARD_CSS`) started the elapsed seconds in, so the
    kernel sends nothing each second.
    """
    word, *rest = status_line(summary)
    request_id = rest.pop()
    parts = [f'<b class="seedance-status-word">{esc(word)}</b>']
    if now is not None and summary.status not in FINAL and summary.submitted_at is not None:
        since = int(max(0.0, now - summary.submitted_at))
        parts.append(f'<span class="seedance-elapsed seedance-ticking" '
                     f'style="--seedance-since:-{since}s"></span>')
    inner = " · ".join(
        [*parts, *map(esc, rest), _request_id_html(request_id)]
    )
    return (
        f'<div class="seedance-status tex2jax_ignore mathjax_ignore" role="status" '
        f'aria-live="polite">{inner}</div>'
    )


def detail_html(summary: JobSummary) -> str:
    """The notice and the error, or nothing."""
    rows = []
    if summary.notice:
        rows.append(f'<div class="seedance-notice" style="{_MUTED_STYLE}">'
                    f"{esc(summary.notice)}</div>")
    if summary.error is not None:
        error = CARD_ERROR.format(code=summary.error.code, message=summary.error.message)
        rows.append(f'<div class="seedance-error" style="{_ERROR_STYLE}">{esc(error)}</div>')
    lost = _save_error(summary)
    if lost:
        rows.append(f'<div class="seedance-save-error" style="{_ERROR_STYLE}">{esc(lost)}</div>')
    return root("seedance-detail", "\n".join(rows)) if rows else ""


def _save_error(summary: JobSummary) -> str | None:
    """Why the paid video is not saved, unless the notice already says it."""
    if summary.save_error and summary.save_error != summary.notice:
        return summary.save_error
    return None


def progress_html() -> str:
    """An indeterminate bar: the service gives no percentage, so none is shown."""
    return (
        f'<div class="seedance-progress tex2jax_ignore mathjax_ignore" role="progressbar" '
        f'aria-label="{esc(CARD_RUNNING)}"><div class="seedance-progress-bar"></div></div>'
    )


def render_html(summary: JobSummary, video: VideoSource | None = None) -> str:
    """The saved card: self-contained, escaped HTML that needs no kernel or script.

    A running job's card does not change with the clock: its run time appears
    once it is over.
    """
    parts = [header_html(summary), status_html(summary), detail_html(summary)]
    if video is not None:
        parts.append(_video_html(summary, video))
    inner = "\n".join(part for part in parts if part)
    classes = f"seedance-result seedance-status-{esc(summary.status)}"
    return root(classes, inner, style=_BOX_STYLE)


def _video_html(summary: JobSummary, video: VideoSource) -> str:
    """The player, or the poster and one line where there is none.

    The poster and a line naming the file are also the player's fallback content,
    which shows where a sanitizer removes ``<video>`` and keeps what is inside it.
    """
    poster = summary.poster_data_uri if _is_inline_jpeg(summary.poster_data_uri) else None
    still = (
        f'<img src="{esc(poster)}" alt="{esc(_video_label(summary))}" style="{_POSTER_STYLE}">'
        if poster else ""
    )
    note = (
        f'<div class="seedance-video-note" style="{_MUTED_STYLE}">{esc(video.note)}</div>'
        if video.note else ""
    )
    src = (safe_url(video.src, parents=True) if video.src and not video.src.startswith("data:")
           else video.src)
    if src is None:
        where = esc(TEXT_VIDEO.format(location=video.location))
        shown = "" if video.missing else f'<div class="seedance-video-location">{where}</div>'
        return root("seedance-video", still + shown + note)
    poster_attr = f' poster="{esc(poster)}"' if poster else ""
    elsewhere = esc(CARD_VIDEO_MISSING.format(name=video.location))
    player = (
        f'<video src="{esc(src)}"{poster_attr} controls preload="metadata" playsinline '
        f'aria-label="{esc(_video_label(summary))}" style="{_VIDEO_STYLE}">'
        f"{still}<div>{elsewhere}</div></video>"
    )
    download = f"<div>{_link(video.location, CARD_DOWNLOAD, download=True)}</div>"
    return root("seedance-video", player + download + note)


def _video_label(summary: JobSummary) -> str:
    return CARD_VIDEO_LABEL.format(prompt=truncate(" ".join(summary.prompt.split()),
                                                  _LABEL_PROMPT_CHARS))


def _is_inline_jpeg(uri: str | None) -> bool:
    return bool(uri) and str(uri).startswith("data:image/jpeg;base64,")


def _backend(summary: JobSummary) -> str:
    """The backend as people read it: ``emulator``, ``team`` (the gateway) or the host."""
    if summary.backend.startswith("emulator:"):
        return "emulator"
    if summary.backend == backend_key_from_env() and os.environ.get(GATEWAY_URL_ENV):
        return TEAM_LABEL
    host = urlsplit(summary.backend).netloc or summary.backend
    return f"emulator at {host}" if summary.is_emulator else host


def render_text(summary: JobSummary, video: VideoSource | None = None) -> str:
    """The saved card's plain text: what a terminal, nbval or a diff sees."""
    head = TEXT_SUMMARY.format(
        request_id=summary.request_id or f"({CARD_NO_REQUEST_ID})",
        status=summary.status_label,
        emulator=TEXT_EMULATOR if summary.is_emulator else "",
    )
    segments = [head]
    params = ", ".join(_params(summary))
    if params:
        segments.append(params)
    segments += summary.charge_parts
    if video is not None:
        segments.append(TEXT_VIDEO.format(location=video.location))
    lines = [" — ".join(segments)]
    if summary.prompt:
        prompt = truncate(" ".join(summary.prompt.split()), _TEXT_PROMPT_CHARS)
        lines.append(TEXT_PROMPT.format(prompt=prompt))
    if summary.error is not None:
        lines.append(CARD_ERROR.format(code=summary.error.code, message=summary.error.message))
    if summary.notice:
        lines.append(summary.notice)
    lost = _save_error(summary)
    if lost:
        lines.append(lost)
    if video is not None and video.note:
        lines.append(video.note)
    return "\n".join(lines)
