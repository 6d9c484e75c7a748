"""The form's file pickers: one ipywidgets ``FileUpload`` beside each reference URL box.

Kept apart from the form's layout: the form places :attr:`MediaPicker.widgets`
and, on Submit (on its worker thread), lets :meth:`MediaPicker.publish` add the
picked files to the request; they are checked and published like ``--media``
paths, so nothing is uploaded while the user types. ``FileUpload`` also works in
Colab and Voila; its ``value`` is a dict in ipywidgets 7 and a tuple in 8.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..catalog import GenerationRequest
from ..media.refs import Named
from ..messages import FORM_MEDIA_PICK

if TYPE_CHECKING:
    from ..jobs.service import JobService

__all__ = ["MediaPicker", "picked"]

_ACCEPT = "image/*,video/*,audio/*"


def picked(value: Any) -> list[Named]:
    """The files of one ``FileUpload`` value, in either ipywidgets' shape."""
    entries = value.items() if isinstance(value, dict) else (
        (entry.get("name", ""), entry) for entry in value or ())
    return [Named(str(name), bytes(entry["content"])) for name, entry in entries]


class MediaPicker:
    """``count`` pickers; :meth:`publish` returns the request with their files added."""

    def __init__(self, count: int) -> None:
        import ipywidgets

        self.widgets = [
            # No icon: an icon font's glyph would be read out as part of the button's name.
            ipywidgets.FileUpload(accept=_ACCEPT, multiple=False, description=FORM_MEDIA_PICK,
                                  icon="")
            for _ in range(count)
        ]
        for index, widget in enumerate(self.widgets):
            widget.add_class(f"seedance-media-pick-{index}")

    def files(self) -> list[Named]:
        return [named for widget in self.widgets for named in picked(widget.value)]

    def publish(self, session: JobService, request: GenerationRequest) -> GenerationRequest:
        """The request with the picked files checked, published and appended (the same
        request when none is picked); raises ValidationError naming a bad file."""
        files = self.files()
        if not files:
            return request
        return session.prepare(
            request.prompt, model=request.model, duration=request.duration,
            aspect_ratio=request.aspect_ratio, resolution=request.resolution,
            media_urls=request.media_urls, media=files, webhook_url=request.webhook_url,
            metadata=request.metadata,
        )
