"""The form, driven through its widgets against a real emulator over HTTP."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipywidgets
import pytest

from seedance_jupyter.emulator import Emulator
from seedance_jupyter.emulator.server import RecordedRequest
from seedance_jupyter.errors import ValidationError
from seedance_jupyter.jobs.backend import Backend
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.kernel.config import SeedanceSettings
from seedance_jupyter.kernel.form import SeedanceForm
from seedance_jupyter.kernel.magics import SeedanceMagics, interpolate
from seedance_jupyter.kernel.session import KernelSession
from seedance_jupyter.messages import FORM_API_KEY_SET

from .helpers import eventually

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
JOB_MIME = "application/vnd.seedance.job+json"
JOBS_MIME = "application/vnd.seedance.jobs+json"
PNG = "https://example.com/fox.png"
MP4 = "https://example.com/run.mp4"
MP3 = "https://example.com/theme.mp3"
TIMES = "\N{MULTIPLICATION SIGN}"


# -- helpers -------------------------------------------------------------------
def make_session(
    emu: Emulator, tmp_path: Path, *, api_key: str | None = None, is_emulator: bool = True
) -> KernelSession:
    settings = SeedanceSettings()
    settings.download_dir = str(tmp_path / "videos")
    client = Client(api_key=emu.api_key if api_key is None else api_key, base_url=emu.url)
    backend = Backend(client=client, key=emu.url, label="emulator", is_emulator=is_emulator)
    return KernelSession(settings, backend=backend, ledger=Ledger(tmp_path / "ledger.sqlite3"))


@pytest.fixture
def session(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KernelSession]:
    monkeypatch.chdir(tmp_path)  # the notebook's folder: videos are linked relative to it
    kernel = make_session(emulator, tmp_path)
    try:
        yield kernel
    finally:
        kernel.close()


@pytest.fixture
def form(session: KernelSession) -> SeedanceForm:
    return SeedanceForm(session)


def shown(widget: Any) -> str:
    """What an HTML widget shows, as plain text."""
    return html.unescape(re.sub(r"<[^>]*>", "", widget.value))


def creates(emu: Emulator) -> list[RecordedRequest]:
    return [r for r in emu.requests if r.method == "POST" and r.path.endswith("/generations")]


def submit(form: SeedanceForm) -> None:
    form.submit_button.click()
    assert form.wait(15)


def tree(widget: Any) -> Iterator[Any]:
    """Every widget under ``widget``, itself included."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from tree(child)


def is_hidden(widget: Any) -> bool:
    return bool(widget.layout.display == "none")


# -- the request ---------------------------------------------------------------
def test_submit_sends_the_form_values_to_the_service(
    form: SeedanceForm, emulator: Emulator
) -> None:
    form.prompt.value = "a red fox running through snow"
    form.model.value = "seedance-2.0-fast"
    form.duration.value = 8
    form.aspect_ratio.value = "9:16"
    form.resolution.value = "1080p"
    form.media[0].value = PNG
    form.media[1].value = MP3
    form.metadata.value = '{"project": "demo", "take": 2}'

    submit(form)

    [create] = creates(emulator)
    body = create.body
    assert body["prompt"] == "a red fox running through snow"
    assert body["model"] == "seedance-2.0-fast"
    assert body["duration"] == 8
    assert body["aspectRatio"] == "9:16"
    assert body["resolution"] == "1080p"
    assert body["mediaUrls"] == [PNG, MP3]
    assert body["metadata"]["project"] == "demo"
    assert body["metadata"]["take"] == 2


def test_text_to_video_sends_no_media(form: SeedanceForm, emulator: Emulator) -> None:
    form.prompt.value = "waves at dusk"

    submit(form)

    [create] = creates(emulator)
    assert "mediaUrls" not in create.body


def test_presets_fill_the_controls(session: KernelSession) -> None:
    form = SeedanceForm(
        session, prompt="a kite", model="seedance-1.5-pro", duration=10, aspect_ratio="1:1",
        resolution="480p", media_urls=[PNG], webhook_url="https://example.com/hook",
        metadata={"k": 1},
    )

    assert form.prompt.value == "a kite"
    assert form.model.value == "seedance-1.5-pro"
    assert form.duration.value == 10
    assert form.aspect_ratio.value == "1:1"
    assert form.resolution.value == "480p"
    assert form.media[0].value == PNG
    assert form.webhook_url.value == "https://example.com/hook"
    assert form.metadata.value == '{"k": 1}'
    assert not form.submit_button.disabled


def test_a_preset_the_model_refuses_raises_naming_the_field(session: KernelSession) -> None:
    with pytest.raises(ValidationError) as caught:
        SeedanceForm(session, model="seedance-1.5-pro", duration=7)

    assert caught.value.field == "duration"


def test_a_bad_preset_url_is_shown_at_its_row_not_raised(session: KernelSession) -> None:
    form = SeedanceForm(session, prompt="a kite", duration=5, media_urls=["ftp://x/a.png"])

    assert shown(form.media_kinds[0]).startswith("media_urls:")
    assert form.submit_button.disabled


def test_more_than_five_preset_urls_raise(session: KernelSession) -> None:
    with pytest.raises(ValidationError) as caught:
        SeedanceForm(session, media_urls=[PNG] * 6)

    assert caught.value.field == "media_urls"


def test_preset_metadata_that_is_not_json_raises_naming_metadata(
    session: KernelSession,
) -> None:
    with pytest.raises(ValidationError) as caught:
        SeedanceForm(session, metadata={"tags": {"a", "b"}})

    assert caught.value.field == "metadata"


def test_without_presets_the_settings_defaults_are_used(session: KernelSession) -> None:
    session.settings.default_model = "seedance-2.0-fast"
    session.settings.default_duration = 6
    session.settings.default_resolution = "480p"

    form = SeedanceForm(session)

    assert (form.model.value, form.duration.value, form.resolution.value) == (
        "seedance-2.0-fast", 6, "480p"
    )


def test_model_options_come_from_the_catalogue_with_best_for(form: SeedanceForm) -> None:
    labels = {value: label for label, value in form.model.options}

    assert set(labels) == {"seedance-2.0", "seedance-2.0-fast", "seedance-1.5-pro"}
    assert "lower-cost fallback" in labels["seedance-1.5-pro"]


# -- cost ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "duration", "resolution", "expected"),
    [
        ("seedance-2.0", 5, "720p", f"$0.10/s {TIMES} 5 s = $0.50"),
        ("seedance-2.0", 12, "1080p", f"$0.20/s {TIMES} 12 s = $2.40"),
        ("seedance-2.0-fast", 4, "480p", f"$0.04/s {TIMES} 4 s = $0.16"),
        ("seedance-1.5-pro", 10, "480p", f"$0.03/s {TIMES} 10 s = $0.30"),
    ],
)
def test_cost_line_is_price_per_second_times_duration(
    form: SeedanceForm, model: str, duration: int, resolution: str, expected: str
) -> None:
    form.model.value = model
    form.duration.value = duration
    form.resolution.value = resolution

    assert shown(form.cost) == f"Estimated cost: {expected}"


def test_cost_line_follows_every_change(form: SeedanceForm) -> None:
    before = shown(form.cost)
    form.duration.value = 6
    after_duration = shown(form.cost)
    form.resolution.value = "480p"

    assert before != after_duration != shown(form.cost)
    assert shown(form.cost).endswith("= $0.30")


def test_cost_line_shows_the_budget_left(form: SeedanceForm, session: KernelSession) -> None:
    assert "budget" not in shown(form.cost)
    session.settings.budget_usd = 2.0
    form.prompt.value = "a lighthouse in fog"

    assert shown(form.cost).endswith("budget left: $2.00 of $2.00")
    submit(form)
    assert shown(form.cost).endswith("budget left: $1.50 of $2.00")


def test_a_job_over_budget_disables_submit(form: SeedanceForm, session: KernelSession) -> None:
    session.settings.budget_usd = 0.3
    form.prompt.value = "a lighthouse in fog"

    assert form.submit_button.disabled
    assert "budget" in shown(form.reason_line).lower()
    form.resolution.value = "480p"
    assert not form.submit_button.disabled


# -- validation ----------------------------------------------------------------
def test_a_blank_form_shows_no_error_before_the_first_edit(form: SeedanceForm) -> None:
    assert shown(form.reason_line) == ""
    assert is_hidden(form.reason_line)
    assert form.submit_button.disabled
    assert form.submit_button.tooltip.startswith("prompt:")
    assert not any("is not allowed" in shown(w) for w in tree(form.widget)
                   if isinstance(w, ipywidgets.HTML))


def test_submit_on_a_blank_form_names_the_prompt_and_sends_nothing(
    form: SeedanceForm, emulator: Emulator
) -> None:
    submit(form)

    assert shown(form.reason_line).startswith("prompt:")
    assert not is_hidden(form.reason_line)
    assert form.submit_button.disabled
    assert creates(emulator) == []


def test_after_the_first_edit_an_empty_prompt_disables_submit_naming_it(
    form: SeedanceForm,
) -> None:
    form.prompt.value = "a paper boat"
    assert not form.submit_button.disabled
    assert is_hidden(form.reason_line)

    form.prompt.value = ""
    assert form.submit_button.disabled
    assert shown(form.reason_line).startswith("prompt:")
    assert form.submit_button.tooltip == shown(form.reason_line)


def error_lines(form: SeedanceForm) -> list[str]:
    """Every error line the form shows, as text: beside the fields, and beside Submit."""
    beside_fields = [shown(w) for w in tree(form.widget) if isinstance(w, ipywidgets.HTML)
                     and 'class="seedance-field-error' in w.value]
    return beside_fields + ([shown(form.reason_line)] if shown(form.reason_line) else [])


def test_bad_media_url_disables_submit_naming_media_urls(form: SeedanceForm) -> None:
    form.prompt.value = "a paper boat"
    form.media[0].value = "http://example.com/boat.png"

    assert form.submit_button.disabled
    assert form.submit_button.tooltip.startswith("media_urls:")
    assert error_lines(form) == [shown(form.media_kinds[0])]
    assert shown(form.media_kinds[0]).startswith("media_urls:")
    form.media[0].value = "https://example.com/boat.png"
    assert not form.submit_button.disabled


def test_bad_metadata_json_disables_submit_naming_metadata(form: SeedanceForm) -> None:
    form.prompt.value = "a paper boat"
    form.metadata.value = '{"project": '

    assert form.submit_button.disabled
    assert form.submit_button.tooltip.startswith("metadata:")
    assert error_lines(form) == [shown(form.metadata_check)]
    assert "not valid JSON" in shown(form.metadata_check)
    form.metadata.value = '{"project": "boats"}'
    assert not form.submit_button.disabled
    assert "accepted" in shown(form.metadata_check)


def test_metadata_that_is_not_an_object_is_refused(form: SeedanceForm) -> None:
    form.prompt.value = "a paper boat"
    form.metadata.value = "[1, 2]"

    assert form.submit_button.disabled
    assert shown(form.metadata_check).startswith("metadata:")


def test_bad_webhook_url_disables_submit_naming_it(form: SeedanceForm) -> None:
    form.prompt.value = "a paper boat"
    form.webhook_url.value = "ftp://example.com/hook"

    assert form.submit_button.disabled
    assert error_lines(form) == [shown(form.webhook_check)]
    assert "webhook_url" in shown(form.webhook_check)
    form.webhook_url.value = "https://example.com/hook"
    assert not form.submit_button.disabled


def test_first_invalid_field_in_layout_order_is_the_reason(form: SeedanceForm) -> None:
    form.metadata.value = "{"
    form.media[0].value = "nope"

    assert form.submit_button.tooltip.startswith("prompt:")
    form.prompt.value = "a paper boat"
    assert form.submit_button.tooltip.startswith("media_urls:")
    form.media[0].value = ""
    assert form.submit_button.tooltip.startswith("metadata:")


def test_advanced_section_is_folded_by_default(form: SeedanceForm) -> None:
    assert form.advanced.selected_index is None
    assert form.advanced.get_title(0) == "Advanced"


# -- duration follows the model --------------------------------------------------
def test_switching_to_15_pro_offers_5_or_10_and_back_offers_4_to_15(
    form: SeedanceForm,
) -> None:
    form.duration.value = 12
    form.model.value = "seedance-1.5-pro"

    assert tuple(form.duration.options) == (5, 10)
    assert form.duration.value == 10
    form.model.value = "seedance-2.0"
    assert tuple(form.duration.options) == tuple(range(4, 16))
    assert form.duration.value == 10


def test_a_duration_the_new_model_lacks_is_changed_saying_so_beside_the_field(
    form: SeedanceForm,
) -> None:
    form.duration.value = 12
    form.model.value = "seedance-1.5-pro"

    assert shown(form.duration_note) == "12 s is not offered by seedance-1.5-pro: set to 10 s."
    assert not is_hidden(form.duration_note)
    form.duration.value = 5
    assert shown(form.duration_note) == ""
    assert is_hidden(form.duration_note)


def test_a_model_switch_that_keeps_the_duration_says_nothing(form: SeedanceForm) -> None:
    form.duration.value = 10
    form.model.value = "seedance-1.5-pro"

    assert is_hidden(form.duration_note)


def test_switching_model_picks_the_nearest_allowed_duration(form: SeedanceForm) -> None:
    form.duration.value = 7
    form.model.value = "seedance-1.5-pro"

    assert form.duration.value == 5


def test_switching_model_keeps_an_allowed_duration_and_the_other_choices(
    form: SeedanceForm,
) -> None:
    form.duration.value = 10
    form.aspect_ratio.value = "1:1"
    form.resolution.value = "1080p"
    form.model.value = "seedance-1.5-pro"

    assert (form.duration.value, form.aspect_ratio.value, form.resolution.value) == (
        10, "1:1", "1080p"
    )
    assert shown(form.cost).endswith("= $1.20")


# -- submitting ----------------------------------------------------------------
def test_double_click_makes_one_job(form: SeedanceForm, emulator: Emulator) -> None:
    form.prompt.value = "a hummingbird"

    form.submit_button.click()
    form.submit_button.click()
    assert form.wait(15)

    assert len(creates(emulator)) == 1
    assert len(form.jobs.children) == 1


def test_clicks_from_two_threads_make_one_job(form: SeedanceForm, emulator: Emulator) -> None:
    form.prompt.value = "a hummingbird"
    barrier = threading.Barrier(2)

    def click() -> None:
        barrier.wait()
        form.submit_button.click()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert form.wait(15)

    assert len(creates(emulator)) == 1
    assert len(form.jobs.children) == 1


def test_submit_is_disabled_while_the_post_is_in_flight(
    form: SeedanceForm, session: KernelSession
) -> None:
    form.prompt.value = "a hummingbird"
    release = threading.Event()
    seen: list[bool] = []
    real_submit = session.submit

    def slow_submit(*args: Any, **kwargs: Any) -> Any:
        seen.append(form.submit_button.disabled)
        release.wait(10)
        return real_submit(*args, **kwargs)

    session.submit = slow_submit  # type: ignore[method-assign]
    form.submit_button.click()
    assert eventually(lambda: bool(seen))
    assert form.submit_button.disabled
    release.set()
    assert form.wait(15)

    assert seen == [True]
    assert not form.submit_button.disabled


def test_new_card_appears_first_in_the_job_list(form: SeedanceForm) -> None:
    form.prompt.value = "first prompt"
    submit(form)
    form.prompt.value = "second prompt"
    submit(form)

    first, second = form.jobs.children
    assert "second prompt" in result_html(first)
    assert "first prompt" in result_html(second)
    assert "Submitted: job req_" in shown(form.message)


def result_html(output: Any) -> str:
    """The HTML an embedded card's Output widget shows."""
    return "".join(o["data"].get("text/html", "") for o in output.outputs)


def live_card(form: SeedanceForm, output: Any) -> Any:
    """The live widget an embedded card's output shows (the magic's card), or None."""
    [data] = [o["data"] for o in output.outputs]
    view = data.get(WIDGET_MIME)
    if view is None:
        return None
    [card] = [c for c in form._session._cards if c.widget.model_id == view["model_id"]]
    return card.widget


def test_a_form_job_is_one_output_holding_the_magics_card(form: SeedanceForm) -> None:
    form.prompt.value = "a paper boat"
    form.duration.value = 15
    submit(form)

    [output] = form.jobs.children
    [item] = output.outputs
    [card] = form._session._cards
    assert item["data"] == card._bundle(card.summary(), True)
    assert set(item["data"]) == {WIDGET_MIME, JOB_MIME, "text/html", "text/plain"}


def test_card_in_the_list_has_cancel_and_shows_the_video_when_done(
    form: SeedanceForm,
) -> None:
    form.prompt.value = "a spinning top"
    form.duration.value = 4
    form.resolution.value = "480p"
    submit(form)

    [output] = form.jobs.children
    card = live_card(form, output)
    assert any(getattr(w, "description", "") == "Cancel" for w in tree(card))
    assert eventually(lambda: "<video" in result_html(output))
    assert live_card(form, output) is None


def test_resubmitting_identical_values_moves_the_card_up_without_a_new_job(
    form: SeedanceForm, emulator: Emulator
) -> None:
    form.prompt.value = "same prompt"
    submit(form)
    original = form.jobs.children[0]
    form.prompt.value = "other prompt"
    submit(form)
    form.prompt.value = "same prompt"
    submit(form)

    assert len(creates(emulator)) == 2
    assert len(form.jobs.children) == 2
    assert form.jobs.children[0] is original
    assert "Re-attached" in shown(form.message)


def test_a_refused_submission_is_shown_and_submit_comes_back(
    form: SeedanceForm, emulator: Emulator
) -> None:
    form.prompt.value = "an expensive dream"
    emulator.inject("create", status=402)

    submit(form)

    assert shown(form.message).startswith("Not submitted:")
    assert form.jobs.children == ()
    assert not form.submit_button.disabled


# -- reference media ---------------------------------------------------------------
@pytest.mark.parametrize(("url", "kind"), [(PNG, "image"), (MP4, "video"), (MP3, "audio")])
def test_media_urls_are_labelled_with_their_kind(
    form: SeedanceForm, url: str, kind: str
) -> None:
    form.media[0].value = url

    assert shown(form.media_kinds[0]) == kind
    assert ("<img" in form.media_thumbs[0].value) == (kind == "image")


def test_image_thumbnail_shows_the_url_escaped(form: SeedanceForm) -> None:
    url = 'https://example.com/a"onerror="alert(1).png'
    form.media[0].value = url

    thumb = form.media_thumbs[0].value
    assert 'src="https://example.com/a&quot;onerror=&quot;alert(1).png"' in thumb
    assert 'alt="Reference image 1"' in thumb
    assert "onerror=" not in html.unescape(thumb).replace(url, "")


def test_a_bad_media_url_is_flagged_at_its_row_without_thumbnail(form: SeedanceForm) -> None:
    form.media[0].value = "http://example.com/fox.png"

    assert shown(form.media_kinds[0]).startswith("media_urls:")
    assert "seedance-field-error" in form.media_kinds[0].value
    assert form.media_thumbs[0].value == ""


def test_one_more_media_row_appears_as_each_is_filled(form: SeedanceForm) -> None:
    def visible() -> list[bool]:
        return [not is_hidden(row) for row in form.media_rows]

    assert visible() == [True, False, False, False, False]
    form.media[0].value = PNG
    assert visible() == [True, True, False, False, False]
    form.media[1].value = MP4
    assert visible() == [True, True, True, False, False]


# -- copy as %%seedance ------------------------------------------------------------
def parse_cell(text: str) -> tuple[Any, str]:
    """Parse a cell as the magic does: its own argument parser and ``{name}`` rules."""
    line, _, body = text.partition("\n")
    assert line.startswith("%%seedance ")
    args = SeedanceMagics(shell=None)._parse_cell(line[len("%%seedance "):])
    return args, interpolate(body.strip(), {})


def test_copy_shows_a_cell_that_round_trips_through_the_magic_parser(
    form: SeedanceForm,
) -> None:
    prompt = "it's a {literal} \"quoted\" $HOME prompt\nover two lines"
    form.prompt.value = prompt
    form.model.value = "seedance-1.5-pro"
    form.duration.value = 10
    form.aspect_ratio.value = "9:16"
    form.resolution.value = "1080p"
    form.media[0].value = PNG
    form.media[1].value = MP3
    form.webhook_url.value = "https://example.com/hook?a=1&b=2"
    form.metadata.value = '{"note": "it\'s {x}"}'
    assert is_hidden(form.magic_text)

    form.copy_button.click()

    assert not is_hidden(form.magic_text)
    args, parsed_prompt = parse_cell(form.magic_text.value)
    assert parsed_prompt == prompt
    assert (args.model, args.duration, args.aspect_ratio, args.resolution) == (
        "seedance-1.5-pro", 10, "9:16", "1080p"
    )
    assert args.media == (PNG, MP3)
    assert args.webhook == "https://example.com/hook?a=1&b=2"
    assert args.metadata == {"note": "it's {x}"}


def test_copy_text_doubles_the_prompt_braces(form: SeedanceForm) -> None:
    form.prompt.value = "a {red} fox"
    form.copy_button.click()

    assert form.magic_text.value.split("\n", 1)[1] == "a {{red}} fox"


def test_copy_text_follows_later_changes(form: SeedanceForm) -> None:
    form.copy_button.click()
    form.duration.value = 9

    assert form.magic_text.value.startswith("%%seedance -m seedance-2.0 -d 9 ")


def test_copy_text_stays_read_only(form: SeedanceForm) -> None:
    form.copy_button.click()
    original = form.magic_text.value
    form.magic_text.value = "edited"

    assert form.magic_text.value == original


# -- API key -------------------------------------------------------------------
def test_no_api_key_field_with_the_emulator(form: SeedanceForm) -> None:
    assert is_hidden(form.api_key_box)


def test_no_api_key_field_when_the_real_service_has_a_key(
    emulator: Emulator, tmp_path: Path
) -> None:
    kernel = make_session(emulator, tmp_path, is_emulator=False)
    try:
        assert is_hidden(SeedanceForm(kernel).api_key_box)
    finally:
        kernel.close()


@pytest.fixture
def keyless(emulator: Emulator, tmp_path: Path) -> Iterator[KernelSession]:
    """A real-service backend (as far as the form can tell) with no key yet."""
    kernel = make_session(emulator, tmp_path, api_key="", is_emulator=False)
    try:
        yield kernel
    finally:
        kernel.close()


def test_api_key_field_asks_for_a_missing_key_and_blocks_submit(
    keyless: KernelSession,
) -> None:
    form = SeedanceForm(keyless, prompt="a paper boat")

    assert not is_hidden(form.api_key_box)
    assert "seedance-api-key" in form.api_key._dom_classes
    assert form.submit_button.disabled
    assert shown(form.reason_line).startswith("API key:")


def test_entered_key_reaches_the_client_and_no_widget_keeps_it(
    keyless: KernelSession, emulator: Emulator, tmp_path: Path
) -> None:
    form = SeedanceForm(keyless, prompt="a paper boat")

    form.api_key.set_state({"value": emulator.api_key})

    assert keyless.backend.client.has_api_key
    assert form.api_key.value == ""
    assert shown(form.api_key_note) == FORM_API_KEY_SET
    for widget in tree(form.widget):
        assert emulator.api_key not in repr(widget.get_state())
    submit(form)
    [create] = creates(emulator)
    assert create.api_key_ok
    for widget in tree(form.widget):
        assert emulator.api_key not in repr(widget.get_state())
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert emulator.api_key.encode() not in path.read_bytes()


# -- display, labels and selectors -----------------------------------------------
def test_form_displays_as_its_widget_with_readable_text(form: SeedanceForm) -> None:
    bundle = form.form_bundle()

    assert bundle[WIDGET_MIME]["model_id"] == form.widget.model_id
    assert bundle["text/plain"].startswith("Seedance form (backend: emulator)")
    assert "VBox" not in bundle["text/plain"] + bundle["text/html"]


def test_the_job_list_is_live_while_a_job_runs(form: SeedanceForm) -> None:
    form.prompt.value = "a long take"
    form.duration.value = 15
    submit(form)

    bundle = form.jobs_bundle()

    assert bundle[WIDGET_MIME]["model_id"] == form.jobs.model_id
    assert "a long take" in bundle["text/html"]


def test_the_job_list_keeps_the_saved_cards_once_every_job_is_over(form: SeedanceForm) -> None:
    form.prompt.value = "a spinning top"
    form.duration.value = 4
    form.resolution.value = "480p"
    submit(form)

    assert eventually(lambda: "<video" in form.jobs_bundle()["text/html"])
    bundle = form.jobs_bundle()
    assert WIDGET_MIME not in bundle
    assert "a spinning top" in bundle["text/plain"]


def test_the_job_list_is_a_widget_before_any_job_so_later_jobs_show_anywhere(
    form: SeedanceForm,
) -> None:
    bundle = form.jobs_bundle()

    assert bundle[WIDGET_MIME]["model_id"] == form.jobs.model_id
    assert bundle[JOBS_MIME] == {"jobs": []}
    assert bundle["text/plain"] == ""


def test_the_job_list_gives_the_lab_extension_every_jobs_summary_newest_first(
    form: SeedanceForm,
) -> None:
    form.prompt.value = "first prompt"
    submit(form)
    form.prompt.value = "second prompt"
    submit(form)

    jobs = form.jobs_bundle()[JOBS_MIME]["jobs"]

    assert [job["prompt"] for job in jobs] == ["second prompt", "first prompt"]
    assert all(job["requestId"].startswith("req_") for job in jobs)


def test_every_input_has_a_visible_label(form: SeedanceForm) -> None:
    inputs = [
        w for w in tree(form.widget)
        if isinstance(w, (ipywidgets.Text, ipywidgets.Textarea, ipywidgets.Dropdown,
                          ipywidgets.ToggleButtons))
    ]

    assert len(inputs) >= 13
    assert all(w.description for w in inputs)


def test_controls_carry_stable_css_classes(form: SeedanceForm) -> None:
    classes = {c for w in [*tree(form.widget), form.jobs] for c in w._dom_classes}

    expected = {
        "seedance-form", "seedance-prompt", "seedance-model", "seedance-duration",
        "seedance-ratio", "seedance-resolution", "seedance-cost", "seedance-submit",
        "seedance-reason", "seedance-copy", "seedance-magic-text",
        "seedance-api-key", "seedance-jobs", *(f"seedance-media-{i}" for i in range(5)),
    }
    assert expected <= classes


def test_the_form_and_its_job_list_ignore_mathjax(form: SeedanceForm) -> None:
    for widget in (form.widget, form.jobs):
        assert {"tex2jax_ignore", "mathjax_ignore"} <= set(widget._dom_classes)
    assert "tex2jax_ignore" in form.cost.value


def test_the_advanced_section_is_titled_without_the_titles_argument(form: SeedanceForm) -> None:
    assert form.advanced.get_title(0) == "Advanced"


def test_styles_use_theme_variables_not_fixed_colours(form: SeedanceForm) -> None:
    css = form.widget.children[0].value

    assert "var(--jp-error-color1)" in css
    assert not re.search(r"#[0-9a-fA-F]{3,6}\b|rgb\(", css)


def test_a_typed_key_is_not_echoed_back_to_the_front_ends(form: SeedanceForm) -> None:
    assert form.api_key.trait_metadata("value", "echo_update") is False
    assert form.api_key.trait_metadata("value", "sync") is True


def test_a_new_take_pays_for_a_fresh_job_once_then_the_box_clears(
    form: SeedanceForm, emulator: Emulator
) -> None:
    form.prompt.value = "same prompt"
    submit(form)
    form.new_take.value = True
    submit(form)
    assert len(creates(emulator)) == 2
    assert form.new_take.value is False
    submit(form)
    assert len(creates(emulator)) == 2


def test_the_forms_reattach_notice_names_its_own_control_not_the_magics_flag(
    form: SeedanceForm,
) -> None:
    form.prompt.value = "same prompt"
    submit(form)
    submit(form)
    assert "New take" in shown(form.message)
    assert "--new" not in shown(form.message)
