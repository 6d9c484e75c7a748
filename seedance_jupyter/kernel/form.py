"""The form: every option of the API in one panel, with cost and validation as you type.

The form knows no HTTP and keeps no copy of the rules: its widgets show and edit
a :class:`~.form_model.RequestDraft`, which has the session validate
(``prepare``) and price (``estimate``) it; the session submits the draft's
request and makes the cards, so the form cannot drift from ``%%seedance``.

A submission runs on a worker thread. The kernel then stays free to take the
second click of a double click, which finds the form busy and is dropped, and
the form never blocks the notebook while the POST is in flight. Everything done
from that thread (and from the poller, through the cards) is a widget trait
change, never a ``print`` or ``display``, which would land in whichever cell
happens to be running.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import ipywidgets
from IPython.display import display, update_display
from traitlets import Unicode
from typing_extensions import Unpack

from ..catalog import (
    MAX_MEDIA_URLS,
    GenerationRequest,
    ModelInfo,
    RequestFields,
    check_media_url,
    check_webhook_url,
)
from ..errors import SeedanceError, ValidationError
from ..messages import (
    FORM_ADVANCED,
    FORM_API_KEY_HINT,
    FORM_API_KEY_LABEL,
    FORM_API_KEY_PLACEHOLDER,
    FORM_API_KEY_SET,
    FORM_BACKEND,
    FORM_COPY,
    FORM_COPY_TOOLTIP,
    FORM_DURATION_LABEL,
    FORM_JOBS_TEXT,
    FORM_MAGIC_LABEL,
    FORM_MEDIA_ALT,
    FORM_MEDIA_HEADING,
    FORM_MEDIA_LABEL,
    FORM_MEDIA_PLACEHOLDER,
    FORM_METADATA_LABEL,
    FORM_METADATA_OK,
    FORM_METADATA_PLACEHOLDER,
    FORM_MODEL_LABEL,
    FORM_MODEL_OPTION,
    FORM_NEW_JOB_HINT,
    FORM_NEW_TAKE,
    FORM_PROMPT_LABEL,
    FORM_PROMPT_PLACEHOLDER,
    FORM_RATIO_LABEL,
    FORM_RATIO_TOOLTIPS,
    FORM_RESOLUTION_LABEL,
    FORM_SUBMIT,
    FORM_SUBMIT_FAILED,
    FORM_SUBMIT_TOOLTIP,
    FORM_SUBMIT_UNEXPECTED,
    FORM_SUBMITTED,
    FORM_TEXT,
    FORM_TITLE,
    FORM_WEBHOOK_LABEL,
    FORM_WEBHOOK_OK,
    FORM_WEBHOOK_PLACEHOLDER,
)
from ..status import FINAL
from .card import WIDGET_MIME, widget_view
from .form_media import MediaPicker
from .form_model import RequestDraft
from .keyboard import FormKeys
from .markup import NO_MATH, esc, root

if TYPE_CHECKING:
    from .card import JobCard
    from .session import KernelSession

__all__ = ["SeedanceForm"]

_log = logging.getLogger("seedance_jupyter")

#: The controls named like the draft's traits they show and edit (media rows aside).
_FIELDS = (
    "prompt", "model", "duration", "aspect_ratio", "resolution", "webhook_url", "metadata",
)
_STYLE = {"description_width": "110px"}
_WIDE = {"width": "100%"}

# Colours only through JupyterLab's theme variables, so light and dark themes both work.
_FORM_CSS = """
.seedance-form { border: 1px solid var(--jp-border-color2); border-radius: 4px;
  padding: 8px 10px; color: var(--jp-ui-font-color1); background: var(--jp-layout-color1);
  max-width: 760px; }
.seedance-form .seedance-form-title { font-weight: 600; font-size: var(--jp-ui-font-size2); }
.seedance-form .seedance-muted { color: var(--jp-ui-font-color2);
  font-size: var(--jp-ui-font-size1); }
.seedance-form .seedance-field-ok { color: var(--jp-success-color1); }
.seedance-form .seedance-field-error, .seedance-form .seedance-reason {
  color: var(--jp-error-color1); overflow-wrap: anywhere; }
.seedance-form .seedance-cost { font-weight: 600; }
.seedance-form .seedance-thumb { max-height: 64px; max-width: 160px; display: block;
  border: 1px solid var(--jp-border-color2); border-radius: 3px; }
.seedance-form .seedance-message { overflow-wrap: anywhere; }
"""


class SeedanceForm:
    """A panel that submits generations and lists their cards below it, newest first.

    It displays as two outputs: the form (``widget``), and its job list, which
    is kept like a job card: live widgets while one of its jobs runs, the saved
    cards (``text/html``, ``text/plain``) once all are over, so a saved
    notebook keeps them. ``%seedance form`` and ``seedance_jupyter.form()``
    return it. The keyword arguments preset the controls; ``None`` takes the
    settings' default.
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
        self._worker: threading.Thread | None = None
        self._quiet = False
        self._cards: dict[str, tuple[JobCard, Any]] = {}
        self.jobs_display_id = "seedance-form-jobs-" + secrets.token_hex(8)
        self._jobs_shown = False
        self._jobs_sent: dict[str, Any] | None = None

        self._build()
        self._show_inputs()
        self._show_verdict()
        for name in _FIELDS:
            getattr(self, name).observe(partial(self._edited, name), "value")
        for control in self.media:
            control.observe(self._media_edited, "value")
        self.draft.observe(self._show_inputs, names=[*_FIELDS, "media_urls"])
        self.draft.observe(self._show_verdict, names=["reason", "cost", "cell"])
        self.api_key.observe(self._key_entered, "value")
        self.magic_text.observe(self._magic_edited, "value")
        self.submit_button.on_click(self._clicked)
        self.copy_button.on_click(self._copy_clicked)

    # -- public --------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        """Show the form, then its job list (the output the saved cards stay in)."""
        display(self.form_bundle(), raw=True)  # type: ignore[no-untyped-call]
        with self._lock:
            self._jobs_sent = self.jobs_bundle()
            display(  # type: ignore[no-untyped-call]
                self._jobs_sent, raw=True, display_id=self.jobs_display_id
            )
            self._jobs_shown = True

    def form_bundle(self) -> dict[str, Any]:
        """The form's output: the widget, and a sentence for where widgets do not run."""
        text = FORM_TEXT.format(label=self._session.backend.label)
        return {
            WIDGET_MIME: widget_view(self.widget),
            "text/plain": text,
            "text/html": root("seedance-form-saved", esc(text)),
        }

    def jobs_bundle(self) -> dict[str, Any]:
        """The job list's output: live while a job runs, the saved cards in any case."""
        with self._lock:
            cards = [card for card, _view in self._listed()]
            if not cards:
                return {"text/plain": ""}
            saved = [card.saved_bundle() for card in cards]
            bundle: dict[str, Any] = {
                "text/plain": "\n".join([FORM_JOBS_TEXT, *(s["text/plain"] for s in saved)]),
                "text/html": root("seedance-form-jobs", "".join(s["text/html"] for s in saved)),
            }
            if any(card.summary().status not in FINAL for card in cards):
                bundle[WIDGET_MIME] = widget_view(self.jobs)
            return bundle

    def _listed(self) -> list[tuple[JobCard, Any]]:
        """The cards in the order the list shows them (newest first)."""
        by_view = {id(view): (card, view) for card, view in self._cards.values()}
        return [by_view[id(child)] for child in self.jobs.children if id(child) in by_view]

    def _jobs_changed(self, _job: Any = None) -> None:
        """Keep the job list's output current; from any thread (an update, not a display)."""
        with self._lock:
            if not self._jobs_shown:
                return
            bundle = self.jobs_bundle()
            if bundle == self._jobs_sent:
                return
            self._jobs_sent = bundle
            update_display(  # type: ignore[no-untyped-call]
                bundle, raw=True, display_id=self.jobs_display_id
            )

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the submission in flight (if any) is over; False on timeout.

        For scripts and tests: a click returns at once and submits in the background.
        """
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
            return not worker.is_alive()
        return True

    # -- building ------------------------------------------------------------------
    def _build(self) -> None:
        """Create the controls in layout order, which is also the keyboard's tab order."""
        backend = self._session.backend
        style = ipywidgets.HTML(value=f"<style>{_FORM_CSS}</style>")
        title = ipywidgets.HTML(
            value=f'<div class="seedance-form-title {NO_MATH}">{esc(FORM_TITLE)} '
            f'<span class="seedance-muted">'
            f"{esc(FORM_BACKEND.format(label=backend.label))}</span></div>"
        )

        self.api_key = _KeyField(
            description=FORM_API_KEY_LABEL, placeholder=FORM_API_KEY_PLACEHOLDER,
            continuous_update=False, style=_STYLE, layout=_WIDE,
        )
        self.api_key.add_class("seedance-api-key")
        self.api_key_note = ipywidgets.HTML(value=_muted(FORM_API_KEY_HINT))
        self.api_key_note.add_class("seedance-api-key-note")
        key_box = ipywidgets.VBox([self.api_key, self.api_key_note])
        key_box.layout.display = None if self.draft.key_needed else "none"

        self.prompt = ipywidgets.Textarea(
            description=FORM_PROMPT_LABEL, placeholder=FORM_PROMPT_PLACEHOLDER, rows=4,
            style=_STYLE, layout=_WIDE,
        )
        self.prompt.add_class("seedance-prompt")
        self.model = ipywidgets.Dropdown(
            description=FORM_MODEL_LABEL,
            options=_model_options(self.draft.catalog.models.values()),
            style=_STYLE, layout={"width": "auto"},
        )
        self.model.add_class("seedance-model")
        self.duration = ipywidgets.Dropdown(description=FORM_DURATION_LABEL, style=_STYLE)
        self.duration.add_class("seedance-duration")
        self.aspect_ratio = ipywidgets.ToggleButtons(description=FORM_RATIO_LABEL, style=_STYLE)
        self.aspect_ratio.add_class("seedance-ratio")
        self.resolution = ipywidgets.ToggleButtons(
            description=FORM_RESOLUTION_LABEL, style=_STYLE
        )
        self.resolution.add_class("seedance-resolution")

        media_heading = ipywidgets.HTML(
            value=_muted(FORM_MEDIA_HEADING.format(maximum=MAX_MEDIA_URLS))
        )
        self.media: list[Any] = []
        self.media_kinds: list[Any] = []
        self.media_thumbs: list[Any] = []
        self.media_rows: list[Any] = []
        self.picker = MediaPicker(MAX_MEDIA_URLS)
        for index in range(MAX_MEDIA_URLS):
            url = ipywidgets.Text(
                description=FORM_MEDIA_LABEL.format(number=index + 1),
                placeholder=FORM_MEDIA_PLACEHOLDER, style=_STYLE, layout=_WIDE,
            )
            url.add_class(f"seedance-media-{index}")
            kind = ipywidgets.HTML()
            kind.add_class(f"seedance-media-kind-{index}")
            thumb = ipywidgets.HTML()
            thumb.add_class(f"seedance-media-thumb-{index}")
            self.media.append(url)
            self.media_kinds.append(kind)
            self.media_thumbs.append(thumb)
            self.media_rows.append(ipywidgets.VBox([
                ipywidgets.HBox([url, self.picker.widgets[index]]), kind, thumb,
            ]))

        self.webhook_url = ipywidgets.Text(
            description=FORM_WEBHOOK_LABEL, placeholder=FORM_WEBHOOK_PLACEHOLDER,
            style=_STYLE, layout=_WIDE,
        )
        self.webhook_url.add_class("seedance-webhook")
        self.webhook_check = ipywidgets.HTML()
        self.webhook_check.add_class("seedance-webhook-check")
        self.metadata = ipywidgets.Textarea(
            description=FORM_METADATA_LABEL, placeholder=FORM_METADATA_PLACEHOLDER, rows=3,
            style=_STYLE, layout=_WIDE,
        )
        self.metadata.add_class("seedance-metadata")
        self.metadata_check = ipywidgets.HTML()
        self.metadata_check.add_class("seedance-metadata-check")
        self.advanced = ipywidgets.Accordion(
            children=[ipywidgets.VBox(
                [self.webhook_url, self.webhook_check, self.metadata, self.metadata_check]
            )],
            selected_index=None,
        )
        self.advanced.set_title(0, FORM_ADVANCED)
        self.advanced.add_class("seedance-advanced")

        self.cost = ipywidgets.HTML()
        self.cost.add_class("seedance-cost")
        self.submit_button = ipywidgets.Button(
            description=FORM_SUBMIT, tooltip=FORM_SUBMIT_TOOLTIP, button_style="primary",
        )
        self.submit_button.add_class("seedance-submit")
        self.new_take = ipywidgets.Checkbox(
            description=FORM_NEW_TAKE, indent=False, layout={"width": "auto"},
        )
        self.new_take.add_class("seedance-new-take")
        self.reason_line = ipywidgets.HTML()
        self.reason_line.add_class("seedance-reason")
        self.message = ipywidgets.HTML()
        self.message.add_class("seedance-message")
        self.copy_button = ipywidgets.Button(
            description=FORM_COPY, tooltip=FORM_COPY_TOOLTIP, layout={"width": "auto"}
        )
        self.copy_button.add_class("seedance-copy")
        self.magic_text = ipywidgets.Textarea(
            description=FORM_MAGIC_LABEL, rows=3, style=_STYLE, layout=_WIDE
        )
        self.magic_text.add_class("seedance-magic-text")
        self.magic_text.layout.display = "none"
        self.jobs = ipywidgets.VBox()
        self.jobs.add_class("seedance-jobs")

        self.api_key_box = key_box
        keys = FormKeys(layout={"display": "none"})
        self.widget = ipywidgets.VBox([
            style, keys, title, key_box, self.prompt, self.model, self.duration, self.aspect_ratio,
            self.resolution, media_heading, *self.media_rows, self.advanced, self.cost,
            ipywidgets.HBox([self.submit_button, self.new_take, self.reason_line]), self.message,
            self.copy_button, self.magic_text,
        ])
        for widget in (self.widget, self.jobs):
            for name in NO_MATH.split():
                widget.add_class(name)
        self.widget.add_class("seedance-form")

    # -- widgets and draft ------------------------------------------------------------
    # ``_quiet`` marks the form's own control changes; it is read under the lock, so
    # a change the frontend makes meanwhile on the kernel thread waits, not vanishes.
    def _edited(self, name: str, change: Mapping[str, Any]) -> None:
        with self._lock:
            if not self._quiet:
                setattr(self.draft, name, change["new"])

    def _media_edited(self, _change: Mapping[str, Any]) -> None:
        with self._lock:
            if not self._quiet:
                self.draft.media_urls = [str(control.value) for control in self.media]

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
            self._check_media()
            self._check_advanced()

    def _show_verdict(self, _change: Any = None) -> None:
        """Show the cost line, whether Submit may be pressed (and why not), and the cell."""
        with self._lock:
            reason = self.draft.reason
            self.cost.value = _plain(self.draft.cost)
            self.submit_button.disabled = self._submitting or reason is not None
            self.submit_button.tooltip = reason or FORM_SUBMIT_TOOLTIP
            self.reason_line.value = _plain(reason) if reason else ""
            self.reason_line.layout.display = None if reason else "none"
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
        self.api_key_note.value = _muted(FORM_API_KEY_SET)
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
        """Submit once per click however fast clicks come: later ones find the form busy."""
        with self._lock:
            if self._submitting:
                return
            self.draft.check()
            request = self.draft.request
            if request is None:
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
            self._show_job_card(submission.job, submission.notice)
            self._jobs_changed()
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

    def _show_job_card(self, job: Any, notice: str | None) -> None:
        """Put the job's card first in the list; a job already listed moves up, not twice."""
        with self._lock:
            known = self._cards.get(job.request_id)
            if known is None:
                card = self._session.card_for(job, notice)
                known = (card, card.embedded())
                self._cards[job.request_id] = known
                job.on_change(self._jobs_changed)
            elif notice:
                known[0].set_notice(notice)
            rest = tuple(child for child in self.jobs.children if child is not known[1])
            self.jobs.children = (known[1], *rest)

    def _say(self, text: str, *, error: bool = False) -> None:
        kind = "seedance-field-error" if error else "seedance-muted"
        self.message.value = (
            f'<div role="status" aria-live="polite" class="{kind} {NO_MATH}">{esc(text)}</div>'
            if text else ""
        )

    # -- field checks --------------------------------------------------------------
    def _check_media(self) -> None:
        """Label each URL as it is typed, show image thumbnails, reveal one more empty row."""
        loopback = self._session.backend.client.is_loopback
        typed = list(self.draft.media_urls)
        typed += [""] * (len(self.media_rows) - len(typed))
        previous_filled = True
        for index, (text, kind, thumb, row) in enumerate(
            zip(typed, self.media_kinds, self.media_thumbs, self.media_rows, strict=True)
        ):
            url = text.strip()
            row.layout.display = None if previous_filled or url else "none"
            previous_filled = bool(url)
            if not url:
                kind.value = thumb.value = ""
                continue
            try:
                media = check_media_url(url, allow_loopback_http=loopback)
            except ValidationError as exc:
                kind.value = _error(exc.message)
                thumb.value = ""
                continue
            kind.value = _ok(media)
            thumb.value = (
                f'<img class="seedance-thumb" src="{esc(url)}" '
                f'alt="{esc(FORM_MEDIA_ALT.format(number=index + 1))}" loading="lazy">'
                if media == "image" else ""
            )

    def _check_advanced(self) -> None:
        webhook = self.draft.webhook_url.strip()
        if not webhook:
            self.webhook_check.value = ""
        else:
            try:
                check_webhook_url(webhook)
            except ValidationError as exc:
                self.webhook_check.value = _error(exc.message)
            else:
                self.webhook_check.value = _ok(FORM_WEBHOOK_OK)
        _parsed, error = self.draft.parsed_metadata()
        if not self.draft.metadata.strip():
            self.metadata_check.value = ""
        else:
            self.metadata_check.value = _error(error) if error else _ok(FORM_METADATA_OK)


class _KeyField(ipywidgets.Password):  # type: ignore[misc]
    """A password field whose typed value is never echoed back to the front ends.

    ipywidgets 8 sends every value a front end sets back to all of them
    (``echo_update``); a key must travel once, to the kernel, and no further.
    """

    value = Unicode("", help="The typed key (cleared once read).").tag(
        sync=True, echo_update=False
    )


def _model_options(models: Iterable[ModelInfo]) -> list[tuple[str, str]]:
    return [
        (FORM_MODEL_OPTION.format(id=m.id, best_for=m.best_for) if m.best_for else m.id, m.id)
        for m in models
    ]


def _plain(text: str) -> str:
    return root("seedance-text", esc(text), tag="span")


def _muted(text: str) -> str:
    return root("seedance-muted", esc(text), tag="span")


def _ok(text: str) -> str:
    return root("seedance-field-ok", esc(text), tag="span")


def _error(text: str) -> str:
    return root("seedance-field-error", esc(text), tag="span")
