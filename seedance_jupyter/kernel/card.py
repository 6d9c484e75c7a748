"""The job card: a live widget while the kernel runs, and a saved HTML result.

A card shows one job twice, on purpose. The widget (progress, Cancel) is live
but is gone when the notebook is reopened without a kernel or viewed on GitHub;
the persistent output (a ``text/html`` + ``text/plain`` bundle with a display
id) is what the ``.ipynb`` keeps, so it carries the prompt, parameters, cost and
the video. Both are rendered from one :class:`CardView` snapshot.

Updates come from the poller's threads or the kernel loop, never from the cell
that made the card, so the card changes only widget traits and calls
``update_display``: a ``print`` or ``display`` from a callback would land in
whatever cell happens to be running.
"""

from __future__ import annotations

import html
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import ipywidgets
from IPython.display import display, update_display

from ..jobs.handle import Job
from ..messages import (
    CARD_BACKEND,
    CARD_CANCEL_FAILED,
    CARD_CANCEL_LABEL,
    CARD_CANCEL_TOOLTIP,
    CARD_CREDITS,
    CARD_DOWNLOAD,
    CARD_EMULATOR_BADGE,
    CARD_ERROR,
    CARD_ESTIMATE,
    CARD_MEDIA,
    CARD_NO_REQUEST_ID,
    CARD_NOT_LINKED,
    CARD_OUTPUT_URL,
    CARD_TOOK,
    CARD_VIDEO_BELOW,
    TEXT_EMULATOR,
    TEXT_PROMPT,
    TEXT_SUMMARY,
    TEXT_VIDEO,
)
from ..status import CANCELLABLE, FINAL, SERVICE_TERMINAL, label

__all__ = ["CardView", "JobCard", "render_html", "render_text", "safe_url"]

_HEADER_PROMPT_CHARS = 300
_TEXT_PROMPT_CHARS = 120
_log = logging.getLogger("seedance_jupyter")

# Colours only through JupyterLab's theme variables, so light and dark themes both work.
_CARD_CSS = """
.seedance-card { border: 1px solid var(--jp-border-color2); border-radius: 4px;
  padding: 6px 10px; color: var(--jp-ui-font-color1); background: var(--jp-layout-color1);
  max-width: 720px; }
.seedance-card .seedance-prompt { font-weight: 600; white-space: pre-wrap;
  overflow-wrap: anywhere; }
.seedance-card .seedance-params, .seedance-card .seedance-request-id {
  color: var(--jp-ui-font-color2); font-size: var(--jp-ui-font-size1); }
.seedance-card .seedance-badge { display: inline-block; margin-left: 6px; padding: 0 4px;
  border-radius: 3px; border: 1px solid var(--jp-warn-color1); color: var(--jp-warn-color1);
  font-size: var(--jp-ui-font-size0); font-weight: 600; }
.seedance-card .seedance-status-word { font-weight: 600; }
.seedance-card .seedance-error { color: var(--jp-error-color1); overflow-wrap: anywhere; }
.seedance-card .seedance-notice { color: var(--jp-ui-font-color2); }
.seedance-progress .progress { overflow: hidden; background: var(--jp-layout-color2); }
.seedance-progress .progress-bar { background: var(--jp-brand-color1);
  animation: seedance-indeterminate 1.4s ease-in-out infinite; }
@keyframes seedance-indeterminate { from { left: -35%; } to { left: 100%; } }
@media (prefers-reduced-motion: reduce) {
  .seedance-progress .progress-bar { animation: none; opacity: 0.6; } }
"""

# Inline styles of the saved output: no stylesheet survives there, and GitHub or an
# untrusted notebook may drop them, so each variable has a plain fallback.
_BOX_STYLE = (
    "border:1px solid var(--jp-border-color2, #ccc);border-radius:4px;padding:6px 10px;"
    "color:var(--jp-ui-font-color1, inherit);max-width:720px"
)
_MUTED_STYLE = "color:var(--jp-ui-font-color2, #666)"
_ERROR_STYLE = "color:var(--jp-error-color1, #d32f2f)"
_BADGE_STYLE = (
    "border:1px solid var(--jp-warn-color1, #f57c00);color:var(--jp-warn-color1, #f57c00);"
    "border-radius:3px;padding:0 4px;margin-left:6px;font-size:85%;font-weight:600"
)


@dataclass(frozen=True)
class CardView:
    """Everything a card shows, as one immutable snapshot.

    Both views are rendered from it alone, so the widget and the saved output
    cannot disagree, and tests need no widgets or kernel to check the markup.
    """

    request_id: str | None
    status: str
    prompt: str
    model: str
    duration: int | None
    resolution: str | None
    aspect_ratio: str | None
    media_urls: tuple[str, ...]
    estimated_usd: float | None
    credits_charged: int | None
    backend_label: str
    is_emulator: bool
    elapsed: float | None
    output_url: str | None
    local_path: str | None
    error_code: str | None
    error_message: str | None
    notice: str | None

    @classmethod
    def from_job(
        cls,
        job: Job,
        *,
        backend_label: str,
        is_emulator: bool,
        estimated_usd: float | None,
        started_at: float | None,
        notice: str | None = None,
        status_override: str | None = None,
        now: float | None = None,
    ) -> CardView:
        """Snapshot ``job``; the service's answer wins over what was asked for.

        ``now`` is the clock reading elapsed is measured to; by default the time a
        terminal state was received (so a finished card stops counting), else
        the current time. An empty request id (a job not yet created) is None.
        """
        state = job.state
        request = job.request
        if now is None:
            now = state.received_at if job.done else time.time()
        error = job.error
        return cls(
            request_id=state.request_id or None,
            status=status_override or state.status,
            prompt=_first(state.prompt, request.prompt if request else None) or "",
            model=_first(state.model, request.model if request else None) or "",
            duration=_first(state.duration, request.duration if request else None),
            resolution=_first(state.resolution, request.resolution if request else None),
            aspect_ratio=_first(state.aspect_ratio, request.aspect_ratio if request else None),
            media_urls=tuple(request.media_urls) if request else (),
            estimated_usd=estimated_usd,
            credits_charged=job.credits_charged,
            backend_label=backend_label,
            is_emulator=is_emulator,
            elapsed=None if started_at is None else max(0.0, now - started_at),
            output_url=state.output_url,
            local_path=job.local_path,
            error_code=error.code if error else None,
            error_message=error.message if error else None,
            notice=notice,
        )

    @property
    def video_src(self) -> str | None:
        """Where the player loads from: the saved file (it outlives the service's URL)."""
        return safe_url(self.local_path) or safe_url(self.output_url)

    @property
    def is_active(self) -> bool:
        return self.status in CANCELLABLE


_T = TypeVar("_T")


def _first(*values: _T | None) -> _T | None:
    return next((v for v in values if v is not None), None)


def safe_url(url: str | None) -> str | None:
    """``url`` if it may become an ``href``/``src``, else None.

    Only http(s) URLs with a host and plain relative paths pass. Anything with
    whitespace or control characters fails too, because browsers drop those
    inside a scheme (``java\\tscript:``), and ``..`` is judged after percent
    decoding, because browsers treat ``%2e%2e`` as ``..``.
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
    if any(segment == ".." for segment in unquote(parts.path).split("/")):
        return None
    return url


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _params(view: CardView) -> list[str]:
    parts = [view.model] if view.model else []
    if view.duration is not None:
        parts.append(f"{view.duration} s")
    parts += [p for p in (view.resolution, view.aspect_ratio) if p]
    return parts


def _link(url: str, label: str | None = None, *, download: bool = False) -> str:
    """An anchor for a safe URL; an unsafe one is shown as text, never linked."""
    safe = safe_url(url)
    if safe is None:
        return _esc(CARD_NOT_LINKED.format(url=url))
    extra = " download" if download else ' target="_blank" rel="noopener noreferrer"'
    return f'<a href="{_esc(safe)}"{extra}>{_esc(label or url)}</a>'


def _file_name(location: str) -> str:
    return urlsplit(location).path.rsplit("/", 1)[-1] or location


def _cost_parts(view: CardView) -> list[str]:
    parts = []
    if view.estimated_usd is not None:
        parts.append(CARD_ESTIMATE.format(usd=view.estimated_usd))
    if view.credits_charged is not None:
        parts.append(CARD_CREDITS.format(credits=view.credits_charged))
    return parts


def render_html(view: CardView) -> str:
    """The saved output: self-contained, escaped HTML that needs no kernel or script.

    The ``<video>`` has its ``src`` on the tag itself, because JupyterLab's
    sanitizer removes ``<source>`` children in untrusted notebooks. Elapsed time
    appears only once the job is over, so a running job's output does not change
    every second.
    """
    status = view.status
    badge = f'<span style="{_BADGE_STYLE}">{_esc(CARD_EMULATOR_BADGE)}</span>'
    rows = [
        f'<div class="seedance-result seedance-status-{_esc(status)}" style="{_BOX_STYLE}">',
        f'<div style="font-weight:600;white-space:pre-wrap;overflow-wrap:anywhere" '
        f'title="{_esc(view.prompt)}">{_esc(_truncate(view.prompt, _HEADER_PROMPT_CHARS))}'
        f"{badge if view.is_emulator else ''}</div>",
    ]
    params = [*_params(view), CARD_BACKEND.format(label=view.backend_label)]
    rows.append(f'<div style="{_MUTED_STYLE}">{_esc(" · ".join(params))}</div>')
    if view.media_urls:
        links = ", ".join(_link(url) for url in view.media_urls)
        rows.append(f'<div style="{_MUTED_STYLE}">{_esc(CARD_MEDIA)}: {links}</div>')
    status_parts = [f"<b>{_esc(label(status))}</b>"]
    if view.elapsed is not None and status in SERVICE_TERMINAL:
        status_parts.append(_esc(CARD_TOOK.format(elapsed=_clock(view.elapsed))))
    status_parts += [_esc(part) for part in _cost_parts(view)]
    status_parts.append(
        f'<code class="seedance-request-id">{_esc(view.request_id or CARD_NO_REQUEST_ID)}</code>'
    )
    rows.append(f"<div>{' · '.join(status_parts)}</div>")
    if view.notice:
        rows.append(f'<div style="{_MUTED_STYLE}">{_esc(view.notice)}</div>')
    if view.error_code is not None or view.error_message:
        error = CARD_ERROR.format(code=view.error_code or "", message=view.error_message or "")
        rows.append(f'<div class="seedance-error" style="{_ERROR_STYLE}">{_esc(error)}</div>')
    if status == "succeeded":
        rows.append(_video_html(view))
    rows.append("</div>")
    return "\n".join(rows)


def _video_html(view: CardView) -> str:
    src = view.video_src
    if src is None:
        shown = view.local_path or view.output_url
        return f"<div>{_esc(CARD_NOT_LINKED.format(url=shown))}</div>" if shown else ""
    parts = [
        f'<video src="{_esc(src)}" controls preload="metadata" width="100%" '
        f'style="max-width:640px;display:block;margin-top:6px"></video>',
        f"<div>{_link(src, CARD_DOWNLOAD, download=True)}",
    ]
    if view.output_url and view.output_url != src and safe_url(view.output_url):
        parts.append(f" · {_link(view.output_url, CARD_OUTPUT_URL)}")
    parts.append("</div>")
    return "".join(parts)


def render_text(view: CardView) -> str:
    """The saved output's plain text: what a terminal, nbval or a diff sees."""
    summary = TEXT_SUMMARY.format(
        request_id=view.request_id or f"({CARD_NO_REQUEST_ID})",
        status=label(view.status),
        emulator=TEXT_EMULATOR if view.is_emulator else "",
    )
    segments = [summary]
    params = ", ".join(_params(view))
    if params:
        segments.append(params)
    segments += _cost_parts(view)
    if view.status == "succeeded" and (view.local_path or view.output_url):
        segments.append(TEXT_VIDEO.format(location=view.local_path or view.output_url))
    lines = [" — ".join(segments)]
    if view.prompt:
        lines.append(
            TEXT_PROMPT.format(prompt=_truncate(" ".join(view.prompt.split()), _TEXT_PROMPT_CHARS))
        )
    if view.error_code is not None or view.error_message:
        lines.append(
            CARD_ERROR.format(code=view.error_code or "", message=view.error_message or "")
        )
    if view.notice:
        lines.append(view.notice)
    return "\n".join(lines)


def _bundle(view: CardView) -> dict[str, str]:
    return {"text/plain": render_text(view), "text/html": render_html(view)}


def _close_tree(widget: Any) -> None:
    """Close a widget, its children and their layout/style models (frees front-end state)."""
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
        if part is not None:
            part.close()
    widget.close()


def _as_outputs(bundle: dict[str, str]) -> tuple[dict[str, Any], ...]:
    """A bundle as the ``outputs`` of an ``Output`` widget (one display_data)."""
    return ({"output_type": "display_data", "data": bundle, "metadata": {}},)


def _header_html(view: CardView) -> str:
    badge = (
        f'<span class="seedance-badge">{_esc(CARD_EMULATOR_BADGE)}</span>'
        if view.is_emulator
        else ""
    )
    params = [*_params(view), CARD_BACKEND.format(label=view.backend_label)]
    return (
        f'<div class="seedance-prompt" title="{_esc(view.prompt)}">'
        f"{_esc(_truncate(view.prompt, _HEADER_PROMPT_CHARS))}{badge}</div>"
        f'<div class="seedance-params">{_esc(" · ".join(params))}</div>'
    )


def _status_html(view: CardView) -> str:
    parts = [f'<span class="seedance-status-word">{_esc(label(view.status))}</span>']
    if view.elapsed is not None:
        clock = _clock(view.elapsed)
        shown = CARD_TOOK.format(elapsed=clock) if view.status in SERVICE_TERMINAL else clock
        parts.append(f'<span class="seedance-elapsed">{_esc(shown)}</span>')
    parts += [_esc(part) for part in _cost_parts(view)]
    parts.append(
        f'<code class="seedance-request-id">{_esc(view.request_id or CARD_NO_REQUEST_ID)}</code>'
    )
    return " · ".join(parts)


def _detail_html(view: CardView) -> str:
    lines = []
    if view.notice:
        lines.append(f'<div class="seedance-notice">{_esc(view.notice)}</div>')
    if view.error_code is not None or view.error_message:
        error = CARD_ERROR.format(code=view.error_code or "", message=view.error_message or "")
        lines.append(f'<div class="seedance-error">{_esc(error)}</div>')
    location = view.local_path or view.output_url
    if view.status == "succeeded" and location:
        lines.append(f"<div>{_esc(CARD_VIDEO_BELOW.format(name=_file_name(location)))}</div>")
    return "".join(lines)


class JobCard:
    """The live card of one job, and the persistent output it keeps current.

    Safe to drive from any thread: :meth:`render` builds the view, updates the
    widget and sends ``update_display`` under one lock, so updates reach the page
    in order, and only when the saved bundle actually changed.
    """

    def __init__(
        self,
        job: Job,
        *,
        backend_label: str,
        is_emulator: bool,
        estimated_usd: float | None,
        started_at: float | None,
        on_cancel: Callable[[Job], None],
        notice: str | None = None,
    ) -> None:
        self.job = job
        self.display_id = "seedance-" + secrets.token_hex(8)
        self.widget_display_id = self.display_id + "-live"
        self._widget_shown = False
        self._backend_label = backend_label
        self._is_emulator = is_emulator
        self._estimated_usd = estimated_usd
        self._started_at = started_at
        self._on_cancel = on_cancel
        self._notice = notice
        self._override: str | None = None
        self._finished_at: float | None = None
        self._lock = threading.RLock()
        self._shown = False
        self._sent: dict[str, str] | None = None
        self._status_class: str | None = None
        self._embedded: Any = None
        self._embedded_result: Any = None

        self._widget: Any = None
        self._unsubscribe: Callable[[], None] | None = job.on_change(self._job_changed)

    # -- public --------------------------------------------------------------
    @property
    def widget(self) -> Any:
        """The live view, built on first use: a card that is never shown live (a
        ``--wait`` cell, a finished job) opens no widget models at all."""
        with self._lock:
            if self._widget is None:
                self._build()
            return self._widget

    @property
    def cancel_button(self) -> Any:
        return self.widget.children[-1]

    def _build(self) -> None:
        self._style = ipywidgets.HTML(value=f"<style>{_CARD_CSS}</style>")
        self._header = ipywidgets.HTML()
        self._status = ipywidgets.HTML()
        self._status.add_class("seedance-status")
        self._progress = ipywidgets.IntProgress(value=35, min=0, max=100, bar_style="info")
        self._progress.add_class("seedance-progress")
        self._detail = ipywidgets.HTML()
        cancel = ipywidgets.Button(
            description=CARD_CANCEL_LABEL,
            tooltip=CARD_CANCEL_TOOLTIP,
            button_style="warning",
            icon="stop",
        )
        cancel.add_class("seedance-cancel")
        cancel.on_click(self._clicked)
        self._widget = ipywidgets.VBox(
            [self._style, self._header, self._status, self._progress, self._detail, cancel]
        )
        self._widget.add_class("seedance-card")
        self._update_widget(self._view())

    def show(self, *, live: bool = True) -> None:
        """Put the widget (while the job runs) and the persistent output into the cell.

        The live widget is only useful until the job is final; it is then replaced
        by an empty output and its models are closed, so a reopened notebook shows
        the saved result alone (no "model not found" placeholder) and saved widget
        state does not grow with every job. ``live=False`` (a ``--wait`` cell,
        whose Cancel button could not be clicked anyway) shows the output alone.
        """
        with self._lock:
            view = self._view()
            self._update_widget(view)
            bundle = _bundle(view)
            if live and view.status not in FINAL:
                display(  # type: ignore[no-untyped-call]
                    self.widget, display_id=self.widget_display_id
                )
                self._widget_shown = True
            display(bundle, raw=True, display_id=self.display_id)  # type: ignore[no-untyped-call]
            self._sent = bundle
            self._shown = True

    def embedded(self) -> ipywidgets.Widget:
        """The card for a widget container, such as the form's job list.

        A ``display_id`` output cannot live inside a widget, so the saved output's
        bundle (inline video included) is mirrored in an ``Output`` widget's
        ``outputs``: the front end renders it like any cell output, so relative
        video paths are served through ``/files/``. It is kept current by
        :meth:`render` through trait changes only, safe from any thread.
        """
        with self._lock:
            if self._embedded is None:
                self._embedded_result = ipywidgets.Output()
                self._embedded_result.outputs = _as_outputs(_bundle(self._view()))
                self._embedded_result.add_class("seedance-embedded-result")
                self._embedded = ipywidgets.VBox([self.widget, self._embedded_result])
                self._embedded.add_class("seedance-embedded-card")
            return self._embedded

    def render(self) -> None:
        """Bring widget and persistent output up to date; skip unchanged output."""
        with self._lock:
            view = self._view()
            self._update_widget(view)
            if self._embedded_result is not None:
                outputs = _as_outputs(_bundle(view))
                if self._embedded_result.outputs != outputs:
                    self._embedded_result.outputs = outputs
            if not self._shown:
                return
            if self._widget_shown and view.status in FINAL:
                update_display(  # type: ignore[no-untyped-call]
                    {"text/plain": ""}, raw=True, display_id=self.widget_display_id
                )
                self._widget_shown = False
                if self._embedded is None:
                    _close_tree(self._widget)
            bundle = _bundle(view)
            if bundle == self._sent:
                return
            update_display(  # type: ignore[no-untyped-call]
                bundle, raw=True, display_id=self.display_id
            )
            self._sent = bundle

    def tick(self) -> None:
        """Refresh the elapsed time shown in the widget; the saved output is untouched."""
        with self._lock:
            if self._widget is not None and not self.job.done:
                self._status.value = _status_html(self._view())

    def set_notice(self, text: str | None) -> None:
        with self._lock:
            self._notice = text
        self.render()

    def set_status_override(self, status: str | None) -> None:
        """Show a local status (``cancelling``, ``submission_uncertain``...) over the job's."""
        with self._lock:
            self._override = status
        self.render()

    def close(self) -> None:
        """Stop following the job; the widget and the saved output stay as they are."""
        with self._lock:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()

    # -- internals -----------------------------------------------------------
    def _view(self) -> CardView:
        job = self.job
        if job.done and self._finished_at is None:
            self._finished_at = job.state.received_at
        return CardView.from_job(
            job,
            backend_label=self._backend_label,
            is_emulator=self._is_emulator,
            estimated_usd=self._estimated_usd,
            started_at=self._started_at,
            notice=self._notice,
            status_override=self._override,
            now=self._finished_at,
        )

    def _job_changed(self, job: Job) -> None:
        """A cancel in flight is over once the job is over, whatever it ended as."""
        with self._lock:
            if job.done and self._override == "cancelling":
                self._override = None
        self.render()

    def _update_widget(self, view: CardView) -> None:
        if self._widget is None:
            return
        status_class = f"seedance-status-{view.status}"
        if status_class != self._status_class:
            if self._status_class is not None:
                self.widget.remove_class(self._status_class)
            self.widget.add_class(status_class)
            self._status_class = status_class
        self._header.value = _header_html(view)
        self._status.value = _status_html(view)
        self._progress.layout.display = None if view.is_active else "none"
        detail = _detail_html(view)
        self._detail.value = detail
        self._detail.layout.display = None if detail else "none"
        self.cancel_button.disabled = not (view.is_active and self.job.can_cancel)
        self.cancel_button.layout.display = "none" if view.status in FINAL else None

    def _clicked(self, _button: Any) -> None:
        """Disable at once and call ``on_cancel`` once, however fast the clicks come."""
        with self._lock:
            if self._override is not None or not self.job.can_cancel:
                return
            self.cancel_button.disabled = True
            self._override = "cancelling"
        self.render()
        try:
            self._on_cancel(self.job)
        except Exception as exc:  # a raise here would print into whichever cell runs
            _log.exception("cancel callback failed for %s", self.job.request_id)
            with self._lock:
                self._override = None
                self._notice = CARD_CANCEL_FAILED.format(detail=str(exc)[:200])
            self.render()
