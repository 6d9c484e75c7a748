"""The form: every option of the API in one panel, with cost and validation as you type.

The form knows no HTTP and keeps no copy of the rules: its widgets
(:class:`~.form_view.FormView`) show and edit a
:class:`~.form_model.RequestDraft`, which has the session validate
(``prepare``) and price (``estimate``) it; the session submits the draft's
request and makes the cards (:class:`~.form_jobs.FormJobs`), so the form
cannot drift from ``%%seedance``.

A submission runs on a worker thread. The kernel then stays free to take the
second click of a double click, which finds the form busy and is dropped, and
the form never blocks the notebook while the POST is in flight. Everything done
from that thread (and from the poller, through the cards) is a widget trait
change, never a ``print`` or ``display``, which would land in whichever cell
happens to be running.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from IPython.display import display
from typing_extensions import Unpack

from ..catalog import GenerationRequest, RequestFields
from ..errors import SeedanceError
from ..messages import (
    FORM_API_KEY_SET,
    FORM_NEW_JOB_HINT,
    FORM_RATIO_TOOLTIPS,
    FORM_SUBMIT_FAILED,
    FORM_SUBMIT_TOOLTIP,
    FORM_SUBMIT_UNEXPECTED,
    FORM_SUBMITTED,
    FORM_TEXT,
)
from .card import WIDGET_MIME, widget_view
from .form_jobs import FormJobs
from .form_model import RequestDraft
from .form_view import FormView, muted_html, plain_html
from .markup import NO_MATH, esc, root

if TYPE_CHECKING:
    from .session import KernelSession

__all__ = ["SeedanceForm"]

_log = logging.getLogger("seedance_jupyter")

#: The controls named like the draft's traits they show and edit (media rows aside).
_FIELDS = (
    "prompt", "model", "duration", "aspect_ratio", "resolution", "webhook_url", "metadata",
)
#: Inputs that show their own verdict beside them: the reason line does not repeat it.
_CHECKED_IN_PLACE = frozenset({"media_urls", "webhook_url", "metadata"})


class SeedanceForm(FormView):
    """A panel that submits generations and lists their cards below it, newest first.

    It displays as two outputs: the form (``widget``), and its job list
    (:class:`~.form_jobs.FormJobs`). ``%seedance form`` and
    ``seedance_jupyter.form()`` return it. The keyword arguments preset the
    controls; ``None`` takes the settings' default. No reason is shown in
    the form before the first edit or Submit (Submit's tooltip has it): a
    blank form is not an error.
    """

    def __init__(
        self,
        session: KernelSession,
        *,
        prompt: str = "",
        **presets: Unpack[RequestFields],
    ) -> None:
        self._session = session
        #: The request being drafted: the widgets show and edit it; Submit sends its request.
        self.draft = RequestDraft(session, prompt=prompt, **presets)
        self._lock = threading.RLock()
        self._submitting = False
        # Presets were typed, in code: their verdict shows at once, a blank form's does not.
        self._touched = bool(prompt) or any(value is not None for value in presets.values())
        self._worker: threading.Thread | None = None
        self._quiet = False

        self._build(session.backend.label, self.draft.catalog.models.values())
        self.api_key_box.layout.display = None if self.draft.key_needed else "none"
        self._list = FormJobs(session, self.jobs)
        self.jobs_display_id = self._list.display_id
        self._show_inputs()
        self._show_verdict()
        for name in _FIELDS:
            getattr(self, name).observe(partial(self._edited, name), "value")
        for control in self.media:
            control.observe(self._media_edited, "value")
        self.draft.observe(self._show_inputs, names=[*_FIELDS, "media_urls"])
        self.draft.observe(self._show_verdict, names=["reason", "cost", "cell", "clamped"])
        self.api_key.observe(self._key_entered, "value")
        self.magic_text.observe(self._magic_edited, "value")
        self.submit_button.on_click(self._clicked)
        self.copy_button.on_click(self._copy_clicked)

    # -- public --------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        """Show the form, then its job list (the output the saved cards stay in)."""
        display(self.form_bundle(), raw=True)  # type: ignore[no-untyped-call]
        self._list.show()

    def form_bundle(self) -> dict[str, Any]:
        """The form's output: the widget, and a sentence for where widgets do not run."""
        text = FORM_TEXT.format(label=self._session.backend.label)
        return {
            WIDGET_MIME: widget_view(self.widget),
            "text/plain": text,
            "text/html": root("seedance-form-saved", esc(text)),
        }

    def jobs_bundle(self) -> dict[str, Any]:
        """The job list's output (see :class:`~.form_jobs.FormJobs`)."""
        return self._list.bundle()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the submission in flight (if any) is over; False on timeout.

        For scripts and tests: a click returns at once and submits in the background.
        """
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
            return not worker.is_alive()
        return True

    # -- widgets and draft ------------------------------------------------------------
    # ``_quiet`` marks the form's own control changes; it is read under the lock, so
    # a change the frontend makes meanwhile on the kernel thread waits, not vanishes.
    def _edited(self, name: str, change: Mapping[str, Any]) -> None:
        with self._lock:
            if not self._quiet:
                self._touch()
                setattr(self.draft, name, change["new"])

    def _media_edited(self, _change: Mapping[str, Any]) -> None:
        with self._lock:
            if not self._quiet:
                self._touch()
                self.draft.media_urls = [str(control.value) for control in self.media]

    def _touch(self) -> None:
        """The first edit: from now on the verdict is shown."""
        if not self._touched:
            self._touched = True
            self._show_verdict()

    def _show_inputs(self, _change: Any = None) -> None:
        """Show the draft's values, each choice among the ones its model offers."""
        with self._lock:
            draft = self.draft
            info = draft.info
            self._quiet = True
            try:
                self.model.value = draft.model
                if tuple(self.duration.options) != info.durations:
                    self.duration.options = list(info.durations)
                if tuple(self.aspect_ratio.options) != info.aspect_ratios:
                    self.aspect_ratio.options = list(info.aspect_ratios)
                    self.aspect_ratio.tooltips = [
                        FORM_RATIO_TOOLTIPS.get(ratio, ratio) for ratio in info.aspect_ratios
                    ]
                if tuple(self.resolution.options) != info.resolutions:
                    self.resolution.options = list(info.resolutions)
                for name in _FIELDS:
                    getattr(self, name).value = getattr(draft, name)
                rows = list(draft.media_urls)
                for index, control in enumerate(self.media):
                    control.value = rows[index] if index < len(rows) else ""
            finally:
                self._quiet = False
            loopback = self._session.backend.client.is_loopback
            self._show_media_checks(list(draft.media_urls), loopback=loopback)
            _parsed, error = draft.parsed_metadata()
            self._show_advanced_checks(
                draft.webhook_url.strip(), draft.metadata.strip(), error
            )

    def _show_verdict(self, _change: Any = None) -> None:
        """Show the cost line, whether Submit may be pressed (and why not), and the cell.

        A reason is shown once: beside its input where that input has a line of
        its own, else beside Submit.
        """
        with self._lock:
            reason = self.draft.reason
            self.cost.value = plain_html(self.draft.cost)
            # Off while nothing can be sent, also on a blank form: a click racing the
            # typed text to the kernel would find the prompt still empty.
            self.submit_button.disabled = self._submitting or reason is not None
            self.submit_button.tooltip = reason or FORM_SUBMIT_TOOLTIP
            shown = reason if self._touched else None
            beside = shown if self.draft.reason_field not in _CHECKED_IN_PLACE else None
            self.reason_line.value = plain_html(beside) if beside else ""
            self.reason_line.layout.display = None if beside else "none"
            clamped = self.draft.clamped
            self.duration_note.value = muted_html(clamped) if clamped else ""
            self.duration_note.layout.display = None if clamped else "none"
            if self.magic_text.layout.display != "none":
                self.magic_text.value = self.draft.cell

    def _refresh(self) -> None:
        """Re-check the draft for what no input shows (money spent, a key), then show it."""
        with self._lock:
            self.draft.check()
            self._show_verdict()

    # -- events --------------------------------------------------------------------
    def _key_entered(self, change: Mapping[str, Any]) -> None:
        """Hand the key to the client, then clear the field so no widget state keeps it."""
        key = str(change["new"]).strip()
        if not key:
            return
        self._session.backend.client.set_api_key(key)
        self.api_key.value = ""
        self.api_key.layout.display = "none"
        self.api_key_note.value = muted_html(FORM_API_KEY_SET)
        self._refresh()

    def _magic_edited(self, change: Mapping[str, Any]) -> None:
        """Keep the cell text read-only while leaving it selectable (``disabled`` is not)."""
        with self._lock:
            if change["new"] != self.draft.cell:
                self.magic_text.value = self.draft.cell

    def _copy_clicked(self, _button: Any) -> None:
        with self._lock:
            self.magic_text.layout.display = None
            self.magic_text.value = self.draft.cell

    def _clicked(self, _button: Any) -> None:
        """Submit once per click however fast clicks come: later ones find the form busy.

        A click on a form that cannot be sent (from code: the button is off)
        shows why and sends nothing.
        """
        with self._lock:
            if self._submitting:
                return
            self._touched = True
            self.draft.check()
            request = self.draft.request
            if request is None:
                self._show_verdict()
                return
            self._submitting = True
            self.submit_button.disabled = True
            self.message.value = ""
            # A new take pays once: the next click re-attaches again unless ticked anew.
            fresh, self.new_take.value = self.new_take.value, False
            self._worker = threading.Thread(
                target=self._submit, args=(request, fresh), name="seedance-form-submit",
                daemon=True,
            )
            self._worker.start()

    def _submit(self, request: GenerationRequest, fresh: bool) -> None:
        """Runs on the worker thread: widget trait changes only."""
        try:
            request = self.picker.publish(self._session, request)
            submission = self._session.submit(
                request, force_new=fresh, announce=self._say, hint=FORM_NEW_JOB_HINT
            )
            self._list.add(submission.job, submission.notice)
            self._say(submission.notice or FORM_SUBMITTED.format(
                request_id=submission.job.request_id))
        except SeedanceError as exc:
            self._say(FORM_SUBMIT_FAILED.format(detail=exc.message), error=True)
        except Exception as exc:  # a raise here would print into whichever cell runs
            _log.exception("form submission failed")
            self._say(FORM_SUBMIT_UNEXPECTED.format(detail=type(exc).__name__), error=True)
        finally:
            with self._lock:
                self._submitting = False
            self._refresh()

    def _say(self, text: str, *, error: bool = False) -> None:
        kind = "seedance-field-error" if error else "seedance-muted"
        self.message.value = (
            f'<div role="status" aria-live="polite" class="{kind} {NO_MATH}">{esc(text)}</div>'
            if text else ""
        )
