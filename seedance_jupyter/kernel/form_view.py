"""The form's widgets: built in layout order, and the lines shown beside them.

:class:`FormView` only makes and labels the controls and shows per-field checks;
what the controls mean (the draft, Submit, the job list) is
:class:`~.form.SeedanceForm`'s, which builds on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ipywidgets
from traitlets import Unicode

from ..catalog import MAX_MEDIA_URLS, ModelInfo, check_media_url, check_webhook_url
from ..errors import ValidationError
from ..messages import (
    FORM_ADVANCED,
    FORM_API_KEY_HINT,
    FORM_API_KEY_LABEL,
    FORM_API_KEY_PLACEHOLDER,
    FORM_BACKEND,
    FORM_COPY,
    FORM_COPY_TOOLTIP,
    FORM_DURATION_LABEL,
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
    FORM_NEW_TAKE,
    FORM_PROMPT_LABEL,
    FORM_PROMPT_PLACEHOLDER,
    FORM_RATIO_LABEL,
    FORM_RESOLUTION_LABEL,
    FORM_SUBMIT,
    FORM_SUBMIT_TOOLTIP,
    FORM_TITLE,
    FORM_WEBHOOK_LABEL,
    FORM_WEBHOOK_OK,
    FORM_WEBHOOK_PLACEHOLDER,
)
from .form_media import MediaPicker
from .keyboard import FormKeys
from .markup import NO_MATH, esc, root

__all__ = ["FormView", "error_html", "muted_html", "ok_html", "plain_html"]

#: Every label beside its field, at one width, so the fields line up in one column.
_STYLE = {"description_width": "110px"}
#: A field as wide as the form; "auto" and flex keep its border inside the form's.
_WIDE = {"width": "auto", "flex": "1 1 auto"}
#: Choices as narrow buttons, so they stay on the label's line.
_CHOICES = {"description_width": "110px", "button_width": "88px"}

# Colours only through JupyterLab's theme variables, so light and dark themes both work.
_FORM_CSS = """
.seedance-form { border: 1px solid var(--jp-border-color2); border-radius: 4px;
  padding: 8px 10px; color: var(--jp-ui-font-color1); background: var(--jp-layout-color1);
  max-width: 760px; box-sizing: border-box; }
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
.seedance-form .seedance-field-note { margin-left: 118px; }
.seedance-form .seedance-ratio, .seedance-form .seedance-resolution { display: flex;
  align-items: center; }
.seedance-form .seedance-ratio > .widget-label,
.seedance-form .seedance-resolution > .widget-label { flex: 0 0 auto; text-align: right;
  margin-right: 8px; }
"""


class FormView:
    """The controls of the form, named like the draft's traits they show and edit."""

    def _build(self, backend_label: str, models: Iterable[ModelInfo]) -> None:
        """Create the controls in layout order, which is also the keyboard's tab order."""
        style = ipywidgets.HTML(value=f"<style>{_FORM_CSS}</style>")
        title = ipywidgets.HTML(
            value=f'<div class="seedance-form-title {NO_MATH}">{esc(FORM_TITLE)} '
            f'<span class="seedance-muted">'
            f"{esc(FORM_BACKEND.format(label=backend_label))}</span></div>"
        )
        self._build_key()
        self._build_choices(models)
        media = self._build_media()
        self._build_advanced()
        actions = self._build_actions()
        self.jobs = ipywidgets.VBox()
        self.jobs.add_class("seedance-jobs")
        keys = FormKeys(layout={"display": "none"})
        self.widget = ipywidgets.VBox([
            style, keys, title, self.api_key_box, self.prompt, self.model,
            ipywidgets.VBox([self.duration, self.duration_note]), self.aspect_ratio,
            self.resolution, media, self.advanced, *actions,
        ])
        for widget in (self.widget, self.jobs):
            for name in NO_MATH.split():
                widget.add_class(name)
        self.widget.add_class("seedance-form")

    def _build_key(self) -> None:
        self.api_key = _KeyField(
            description=FORM_API_KEY_LABEL, placeholder=FORM_API_KEY_PLACEHOLDER,
            continuous_update=False, style=_STYLE, layout=_WIDE,
        )
        self.api_key.add_class("seedance-api-key")
        self.api_key_note = ipywidgets.HTML(value=muted_html(FORM_API_KEY_HINT))
        self.api_key_note.add_class("seedance-api-key-note")
        self.api_key_box = ipywidgets.VBox([self.api_key, self.api_key_note])

    def _build_choices(self, models: Iterable[ModelInfo]) -> None:
        self.prompt = _classed(ipywidgets.Textarea(
            description=FORM_PROMPT_LABEL, placeholder=FORM_PROMPT_PLACEHOLDER, rows=4,
            style=_STYLE, layout=_WIDE,
        ), "seedance-prompt")
        self.model = _classed(ipywidgets.Dropdown(
            description=FORM_MODEL_LABEL, options=_model_options(models),
            style=_STYLE, layout={"width": "auto"},
        ), "seedance-model")
        self.duration = _classed(
            ipywidgets.Dropdown(description=FORM_DURATION_LABEL, style=_STYLE),
            "seedance-duration",
        )
        self.duration_note = _classed(_note(), "seedance-duration-note")
        # "auto": at the default width the buttons wrap below their label.
        self.aspect_ratio = _classed(ipywidgets.ToggleButtons(
            description=FORM_RATIO_LABEL, style=_CHOICES, layout={"width": "auto"},
        ), "seedance-ratio")
        self.resolution = _classed(ipywidgets.ToggleButtons(
            description=FORM_RESOLUTION_LABEL, style=_CHOICES, layout={"width": "auto"},
        ), "seedance-resolution")

    def _build_media(self) -> Any:
        """One row per reference: the URL, its kind (or why not) and an image's thumbnail."""
        heading = ipywidgets.HTML(value=muted_html(FORM_MEDIA_HEADING.format(
            maximum=MAX_MEDIA_URLS)))
        self.media: list[Any] = []
        self.media_kinds: list[Any] = []
        self.media_thumbs: list[Any] = []
        self.media_rows: list[Any] = []
        self.picker = MediaPicker(MAX_MEDIA_URLS)
        for index in range(MAX_MEDIA_URLS):
            url = _classed(ipywidgets.Text(
                description=FORM_MEDIA_LABEL.format(number=index + 1),
                placeholder=FORM_MEDIA_PLACEHOLDER, style=_STYLE, layout=_WIDE,
            ), f"seedance-media-{index}")
            kind = _classed(_note(), f"seedance-media-kind-{index}")
            thumb = _classed(_note(), f"seedance-media-thumb-{index}")
            self.media.append(url)
            self.media_kinds.append(kind)
            self.media_thumbs.append(thumb)
            self.media_rows.append(ipywidgets.VBox(
                [ipywidgets.HBox([url, self.picker.widgets[index]]), kind, thumb],
                layout={"width": "100%"},
            ))
        return ipywidgets.VBox([heading, *self.media_rows], layout={"width": "100%"})

    def _build_advanced(self) -> None:
        self.webhook_url = _classed(ipywidgets.Text(
            description=FORM_WEBHOOK_LABEL, placeholder=FORM_WEBHOOK_PLACEHOLDER,
            style=_STYLE, layout=_WIDE,
        ), "seedance-webhook")
        self.webhook_check = _classed(_note(), "seedance-webhook-check")
        self.metadata = _classed(ipywidgets.Textarea(
            description=FORM_METADATA_LABEL, placeholder=FORM_METADATA_PLACEHOLDER, rows=3,
            style=_STYLE, layout=_WIDE,
        ), "seedance-metadata")
        self.metadata_check = _classed(_note(), "seedance-metadata-check")
        self.advanced = ipywidgets.Accordion(
            children=[ipywidgets.VBox(
                [self.webhook_url, self.webhook_check, self.metadata, self.metadata_check]
            )],
            selected_index=None,
        )
        self.advanced.set_title(0, FORM_ADVANCED)
        self.advanced.add_class("seedance-advanced")

    def _build_actions(self) -> list[Any]:
        """The cost, Submit with the reason it is off, the message, and the cell to copy."""
        self.cost = _classed(ipywidgets.HTML(), "seedance-cost")
        # Submit never shrinks for a long reason beside it: the reason wraps instead.
        self.submit_button = _classed(ipywidgets.Button(
            description=FORM_SUBMIT, tooltip=FORM_SUBMIT_TOOLTIP, button_style="primary",
            layout={"flex": "0 0 auto"},
        ), "seedance-submit")
        self.new_take = _classed(ipywidgets.Checkbox(
            description=FORM_NEW_TAKE, indent=False, layout={"width": "auto", "flex": "0 0 auto"},
        ), "seedance-new-take")
        self.reason_line = _classed(
            ipywidgets.HTML(layout={"flex": "1 1 0", "min_width": "0"}), "seedance-reason"
        )
        self.message = _classed(ipywidgets.HTML(), "seedance-message")
        self.copy_button = _classed(ipywidgets.Button(
            description=FORM_COPY, tooltip=FORM_COPY_TOOLTIP, layout={"width": "auto"}
        ), "seedance-copy")
        self.magic_text = _classed(ipywidgets.Textarea(
            description=FORM_MAGIC_LABEL, rows=3, style=_STYLE, layout=_WIDE
        ), "seedance-magic-text")
        self.magic_text.layout.display = "none"
        submit_row = ipywidgets.HBox([self.submit_button, self.new_take, self.reason_line])
        return [self.cost, submit_row, self.message, self.copy_button, self.magic_text]

    # -- lines beside the fields -----------------------------------------------------
    def _show_media_checks(self, typed: list[str], *, loopback: bool) -> None:
        """Label each URL as it is typed, show image thumbnails, reveal one more empty row."""
        typed = typed + [""] * (len(self.media_rows) - len(typed))
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
                kind.value = error_html(exc.message)
                thumb.value = ""
                continue
            kind.value = ok_html(media)
            thumb.value = (
                f'<img class="seedance-thumb" src="{esc(url)}" '
                f'alt="{esc(FORM_MEDIA_ALT.format(number=index + 1))}" loading="lazy">'
                if media == "image" else ""
            )

    def _show_advanced_checks(self, webhook: str, metadata: str, error: str | None) -> None:
        """The webhook URL's and the metadata's verdicts (``error``: the metadata's)."""
        if not webhook:
            self.webhook_check.value = ""
        else:
            try:
                check_webhook_url(webhook)
            except ValidationError as exc:
                self.webhook_check.value = error_html(exc.message)
            else:
                self.webhook_check.value = ok_html(FORM_WEBHOOK_OK)
        if not metadata:
            self.metadata_check.value = ""
        else:
            self.metadata_check.value = error_html(error) if error else ok_html(FORM_METADATA_OK)


class _KeyField(ipywidgets.Password):  # type: ignore[misc]
    """A password field whose typed value is never echoed back to the front ends.

    ipywidgets 8 sends every value a front end sets back to all of them
    (``echo_update``); a key must travel once, to the kernel, and no further.
    """

    value = Unicode("", help="The typed key (cleared once read).").tag(
        sync=True, echo_update=False
    )


def _classed(widget: Any, name: str) -> Any:
    """``widget`` with CSS class ``name``: the selector tests and styles use."""
    widget.add_class(name)
    return widget


def _note() -> Any:
    """A line under a field, starting where the field does (after the labels' column)."""
    return _classed(ipywidgets.HTML(), "seedance-field-note")


def _model_options(models: Iterable[ModelInfo]) -> list[tuple[str, str]]:
    return [
        (FORM_MODEL_OPTION.format(id=m.id, best_for=m.best_for) if m.best_for else m.id, m.id)
        for m in models
    ]


def plain_html(text: str) -> str:
    return root("seedance-text", esc(text), tag="span")


def muted_html(text: str) -> str:
    return root("seedance-muted", esc(text), tag="span")


def ok_html(text: str) -> str:
    return root("seedance-field-ok", esc(text), tag="span")


def error_html(text: str) -> str:
    return root("seedance-field-error", esc(text), tag="span")
