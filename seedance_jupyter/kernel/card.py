"""The job card: one output per job, live while the job runs, saved once it is over.

A card is ONE cell output with ONE display id. While the job runs, its bundle
holds the live widget's view (progress, Cancel), the job's
``application/vnd.seedance.job+json`` (:meth:`JobSummary.to_json`, which
JupyterLab's own renderer takes), the saved card as ``text/html`` and
``text/plain``. Once the job is final, ``update_display`` replaces it with the
saved parts only and the widget's models are closed, so a reopened notebook
(or GitHub, nbviewer, an HTML export) shows the saved card and no "model not
found" placeholder. In a terminal there is no widget and no HTML: the card is
its text, and each change of status is one printed line.

Updates come from the poller's thread or its workers, never from the cell
that made the card, so the card changes only widget traits and calls
``update_display`` (or, in a terminal, prints one line): a ``display`` from a
callback would land in whatever cell happens to be running.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import ipywidgets
from IPython.display import display, update_display

from ..jobs.handle import Job
from ..jobs.summary import JobSummary
from ..messages import CARD_CANCEL_FAILED, CARD_CANCEL_LABEL, CARD_CANCEL_TOOLTIP
from ..status import CANCELLABLE, FINAL
from .card_render import (
    CARD_CSS,
    detail_html,
    header_html,
    progress_html,
    render_html,
    render_text,
    status_html,
)
from .frontend import Frontend, shows_widgets
from .markup import NO_MATH
from .video import VideoSource

__all__ = ["JOB_MIME", "WIDGET_MIME", "JobCard", "close_tree", "widget_view"]

#: The job's own MIME type, rendered by the lab extension.
JOB_MIME = "application/vnd.seedance.job+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_log = logging.getLogger("seedance_jupyter")

Summarize = Callable[[Job], JobSummary]
ChooseVideo = Callable[[JobSummary], VideoSource | None]


def widget_view(widget: Any) -> dict[str, Any]:
    """The widget-view MIME data of ``widget``, as ipywidgets 7 and 8 both write it."""
    return {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}


def close_tree(widget: Any) -> None:
    """Close a widget, its children and their layout/style models (frees front-end state)."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
        if part is not None:
            part.close()
    widget.close()


class JobCard:
    """The card of one job, and the one output it keeps current.

    Safe to drive from any thread: :meth:`render` builds the summary, updates the
    widget and sends ``update_display`` under one lock, so updates reach the page
    in order, and only when the output actually changed.
    """

    def __init__(
        self,
        job: Job,
        summarize: Summarize,
        *,
        on_cancel: Callable[[Job], None],
        video: ChooseVideo = lambda _summary: None,
        frontend: Frontend = "jupyter",
        notice: str | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.job = job
        self.display_id = "seedance-" + secrets.token_hex(8)
        self._summarize = summarize
        self._video = video
        self._frontend = frontend
        self._on_cancel = on_cancel
        self._say = say
        self._notice = notice
        self._override: str | None = None
        self._lock = threading.RLock()
        self._shown = False
        self._live = False
        self._sent: dict[str, Any] | None = None
        self._said: str | None = None
        self._status_class: str | None = None
        self._embedded: Any = None
        self._embedded_live = False
        self._widget: Any = None
        self._status_steady: str | None = None
        self._unsubscribe: Callable[[], None] | None = job.on_change(self._job_changed)

    # -- public --------------------------------------------------------------
    @property
    def widget(self) -> Any:
        """The live view, built on first use: a card that is never shown live (a
        ``--wait`` cell, a finished job, a terminal) opens no widget models at all."""
        with self._lock:
            if self._widget is None:
                self._build()
            return self._widget

    @property
    def cancel_button(self) -> Any:
        return self.widget.children[-1]

    def summary(self) -> JobSummary:
        """What the card shows now: the job's summary with this card's notice and override."""
        summary = self._summarize(self.job)
        return replace(
            summary,
            status=self._override or summary.status,
            notice=self._notice or summary.notice,
        )

    def show(self, *, live: bool = True) -> None:
        """Put the card's one output into the cell.

        ``live=False`` (a ``--wait`` cell, whose Cancel button could not be
        clicked anyway) shows the saved card alone, as does a finished job.
        """
        with self._lock:
            summary = self.summary()
            self._live = live and shows_widgets(self._frontend) and summary.status not in FINAL
            bundle = self._bundle(summary, self._live)
            display(bundle, raw=True, display_id=self.display_id)  # type: ignore[no-untyped-call]
            self._sent = bundle
            self._said = self._line(summary)
            self._shown = True

    def saved_bundle(self) -> dict[str, Any]:
        """The saved card (``text/html``, ``text/plain``, the job's JSON), as of now."""
        with self._lock:
            summary = self.summary()
            return self._saved(summary, self._video(summary))

    def embedded(self) -> Any:
        """The card for a widget container, such as the form's job list.

        A ``display_id`` output cannot live inside a widget, so the card's one
        output (the same bundle :meth:`show` displays) is an ``Output`` widget's
        ``outputs``: the front end renders it like any cell output, so the lab
        extension's card takes it where it runs, the live widget elsewhere, and
        relative video paths are served through ``/files/``. :meth:`render`
        keeps it current through trait changes only.
        """
        with self._lock:
            if self._embedded is None:
                summary = self.summary()
                self._embedded_live = (
                    shows_widgets(self._frontend) and summary.status not in FINAL
                )
                self._embedded = ipywidgets.Output()
                self._embedded.add_class("seedance-embedded-card")
                self._embedded.outputs = _as_outputs(self._bundle(summary, self._embedded_live))
            return self._embedded

    def render(self) -> None:
        """Bring the widget and the outputs up to date; skip an unchanged output."""
        with self._lock:
            summary = self.summary()
            was_live = self._live or self._embedded_live
            self._update_widget(summary)
            self._render_embedded(summary)
            if self._shown:
                if self._frontend == "terminal":
                    self._print_change(summary)
                    return
                self._live = self._live and summary.status not in FINAL
                bundle = self._bundle(summary, self._live)
                if bundle != self._sent:
                    update_display(  # type: ignore[no-untyped-call]
                        bundle, raw=True, display_id=self.display_id
                    )
                    self._sent = bundle
            if was_live and not (self._live or self._embedded_live):
                close_tree(self._widget)

    def _render_embedded(self, summary: JobSummary) -> None:
        if self._embedded is None:
            return
        self._embedded_live = self._embedded_live and summary.status not in FINAL
        outputs = _as_outputs(self._bundle(summary, self._embedded_live))
        if self._embedded.outputs != outputs:
            self._embedded.outputs = outputs

    def set_notice(self, text: str | None) -> None:
        with self._lock:
            self._notice = text
        self.render()

    def set_status_override(self, status: str | None) -> None:
        """Show a local status (``cancelling``...) over the job's."""
        with self._lock:
            self._override = status
        self.render()

    def close(self) -> None:
        """Stop following the job; the widget and the output stay as they are."""
        with self._lock:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()

    # -- internals -----------------------------------------------------------
    def _build(self) -> None:
        self._style = ipywidgets.HTML(value=f"<style>{CARD_CSS}</style>")
        self._header = ipywidgets.HTML()
        self._status = ipywidgets.HTML()
        self._progress = ipywidgets.HTML(value=progress_html())
        self._detail = ipywidgets.HTML()
        cancel = ipywidgets.Button(description=CARD_CANCEL_LABEL, tooltip=CARD_CANCEL_TOOLTIP)
        cancel.add_class("seedance-cancel")
        cancel.on_click(self._clicked)
        self._widget = ipywidgets.VBox(
            [self._style, self._header, self._status, self._progress, self._detail, cancel]
        )
        for name in ("seedance-card", *NO_MATH.split()):
            self._widget.add_class(name)
        self._update_widget(self.summary())

    def _saved(self, summary: JobSummary, video: VideoSource | None) -> dict[str, Any]:
        return {
            "text/plain": render_text(summary, video),
            "text/html": render_html(summary, video),
            JOB_MIME: summary.to_json(),
        }

    def _bundle(self, summary: JobSummary, live: bool) -> dict[str, Any]:
        """The card's one output: the saved card, plus the live widget's view if ``live``."""
        video = self._video(summary)
        if self._frontend == "terminal":
            return {"text/plain": render_text(summary, video)}
        bundle = self._saved(summary, video)
        if live:
            bundle[WIDGET_MIME] = widget_view(self.widget)
        return bundle

    def _line(self, summary: JobSummary) -> str:
        """The terminal's one line for the card's present state."""
        return render_text(summary, self._video(summary)).splitlines()[0]

    def _print_change(self, summary: JobSummary) -> None:
        line = self._line(summary)
        if line != self._said:
            self._said = line
            self._say(line)

    def _job_changed(self, job: Job) -> None:
        """A cancel in flight is over once the job is over, whatever it ended as."""
        with self._lock:
            if job.done and self._override == "cancelling":
                self._override = None
        self.render()

    def _update_widget(self, summary: JobSummary) -> None:
        if self._widget is None:
            return
        status_class = f"seedance-status-{summary.status}"
        if status_class != self._status_class:
            if self._status_class is not None:
                self._widget.remove_class(self._status_class)
            self._widget.add_class(status_class)
            self._status_class = status_class
        active = summary.status in CANCELLABLE
        self._header.value = header_html(summary)
        # The clock ticks in the browser: the line is sent again only when
        # something else on it changed, never for the clock alone.
        steady = status_html(summary)
        if steady != self._status_steady:
            self._status_steady = steady
            self._status.value = status_html(summary, now=time.time())
        self._progress.layout.display = None if active else "none"
        detail = detail_html(summary)
        self._detail.value = detail
        self._detail.layout.display = None if detail else "none"
        self.cancel_button.disabled = not (active and self.job.can_cancel)
        self.cancel_button.layout.display = "none" if summary.status in FINAL else None

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


def _as_outputs(bundle: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """A bundle as the ``outputs`` of an ``Output`` widget (one display_data)."""
    return ({"output_type": "display_data", "data": bundle, "metadata": {}},)

