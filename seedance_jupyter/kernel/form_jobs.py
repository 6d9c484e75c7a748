"""The form's job list: one card per job, the same card ``%%seedance`` shows.

The list is one cell output with one display id, and a widget (a ``VBox`` of
each card's :meth:`~.card.JobCard.embedded` output) from the first moment,
so front ends that only render widgets after the cell ran (Voilà) show the
jobs submitted later. Its bundle also carries every job's summary under
:data:`JOBS_MIME`, which the lab extension renders as its own cards (ranked
above the widget, so the kernel's card is never shown beside them), and the
saved cards, which replace the widget once every job is over so a saved
notebook keeps them.
"""

from __future__ import annotations

import secrets
import threading
from typing import TYPE_CHECKING, Any

from IPython.display import display, update_display

from ..messages import FORM_JOBS_TEXT
from ..status import FINAL
from .card import WIDGET_MIME, widget_view
from .markup import root

if TYPE_CHECKING:
    from ..jobs.handle import Job
    from .card import JobCard
    from .session import KernelSession

__all__ = ["JOBS_MIME", "FormJobs"]

#: A list of jobs (``{"jobs": [JobSummary JSON, ...]}``, newest first), for the lab extension.
JOBS_MIME = "application/vnd.seedance.jobs+json"


class FormJobs:
    """The cards of the jobs one form submitted, newest first; safe from any thread."""

    def __init__(self, session: KernelSession, widget: Any) -> None:
        self._session = session
        #: The live list: a ``VBox`` of the cards' outputs.
        self.widget = widget
        self.display_id = "seedance-form-jobs-" + secrets.token_hex(8)
        self._lock = threading.RLock()
        self._cards: dict[str, tuple[JobCard, Any]] = {}
        self._shown = False
        self._sent: dict[str, Any] | None = None

    def show(self) -> None:
        """Display the list's one output (from the cell that shows the form)."""
        with self._lock:
            self._sent = self.bundle()
            display(self._sent, raw=True, display_id=self.display_id)  # type: ignore[no-untyped-call]
            self._shown = True

    def bundle(self) -> dict[str, Any]:
        """The list's output: live while a job runs (or none was sent yet), saved otherwise."""
        with self._lock:
            cards = [card for card, _view in self._listed()]
            summaries = [card.summary() for card in cards]
            saved = [card.saved_bundle() for card in cards]
            bundle: dict[str, Any] = {
                JOBS_MIME: {"jobs": [summary.to_json() for summary in summaries]},
                "text/plain": "\n".join([FORM_JOBS_TEXT, *(s["text/plain"] for s in saved)])
                if cards else "",
            }
            if cards:
                bundle["text/html"] = root(
                    "seedance-form-jobs", "".join(s["text/html"] for s in saved)
                )
            if not cards or any(s.status not in FINAL for s in summaries):
                bundle[WIDGET_MIME] = widget_view(self.widget)
            return bundle

    def add(self, job: Job, notice: str | None) -> None:
        """Put the job's card first; a job already listed moves up, not twice."""
        with self._lock:
            known = self._cards.get(job.request_id)
            if known is None:
                card = self._session.card_for(job, notice)
                known = (card, card.embedded())
                self._cards[job.request_id] = known
                job.on_change(self.changed)
            elif notice:
                known[0].set_notice(notice)
            rest = tuple(child for child in self.widget.children if child is not known[1])
            self.widget.children = (known[1], *rest)
        self.changed()

    def changed(self, _job: Any = None) -> None:
        """Keep the list's output current; from any thread (an update, not a display)."""
        with self._lock:
            if not self._shown:
                return
            bundle = self.bundle()
            if bundle == self._sent:
                return
            self._sent = bundle
            update_display(  # type: ignore[no-untyped-call]
                bundle, raw=True, display_id=self.display_id
            )

    def _listed(self) -> list[tuple[JobCard, Any]]:
        """The cards in the order the list shows them (newest first)."""
        by_view = {id(view): (card, view) for card, view in self._cards.values()}
        return [by_view[id(child)] for child in self.widget.children if id(child) in by_view]
