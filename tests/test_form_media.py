"""The form's file pickers: a picked file is checked, published and sent; a bad one sends none."""

from __future__ import annotations

import datetime

import requests

from seedance_jupyter.kernel.form import SeedanceForm
from seedance_jupyter.kernel.form_media import picked
from seedance_jupyter.media.refs import Named

from .media.conftest import png
from .test_form import creates, form, session, shown, submit  # noqa: F401 - fixtures


def upload(name: str, data: bytes) -> tuple[dict[str, object], ...]:
    """A FileUpload value as ipywidgets 8 holds it."""
    return ({"name": name, "type": "", "size": len(data), "content": memoryview(data),
             "last_modified": datetime.datetime.now(datetime.timezone.utc)},)


def pick(widget: object, name: str, data: bytes) -> None:
    """What the front end does when a file is picked, in the installed ipywidgets' shape
    (7's ``value`` is a read-only dict of name -> content, as the browser fills it)."""
    import ipywidgets

    if ipywidgets.__version__.startswith("7."):
        value: object = {name: {"content": data, "metadata": {"name": name}}}
    else:
        value = upload(name, data)
    widget.set_trait("value", value)  # type: ignore[attr-defined]


def test_a_picked_file_is_published_and_its_url_sent(form: SeedanceForm, emulator) -> None:  # noqa: F811
    form.prompt.value = "a fox turns its head"
    pick(form.picker.widgets[0], "fox.png", png(1))
    submit(form)
    [create] = creates(emulator)
    [url] = create.body["mediaUrls"]
    assert requests.get(url, timeout=30).content == png(1)


def test_a_picked_text_file_is_refused_in_one_line_and_nothing_is_sent(
    form: SeedanceForm, emulator  # noqa: F811
) -> None:
    form.prompt.value = "a fox turns its head"
    pick(form.picker.widgets[1], "notes.png", b"not a picture")
    submit(form)
    assert creates(emulator) == []
    assert "media: 'notes.png' is not allowed;" in shown(form.message)


def test_picked_reads_both_ipywidgets_shapes() -> None:
    seven = {"fox.png": {"content": png(2), "metadata": {"name": "fox.png"}}}
    assert picked(seven) == [Named("fox.png", png(2))]
    assert picked(upload("fox.png", png(2))) == [Named("fox.png", png(2))]
