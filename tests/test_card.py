"""The job card: one output per job, the saved card escaped, the live widget."""

from __future__ import annotations

import html
import re
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

from seedance_jupyter.api.types import JobError, JobState
from seedance_jupyter.catalog import GenerationRequest
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.handle import Job
from seedance_jupyter.jobs.summary import JobSummary
from seedance_jupyter.kernel.card import JOB_MIME, WIDGET_MIME, JobCard
from seedance_jupyter.kernel.card_render import render_html, render_text, safe_url, status_html
from seedance_jupyter.kernel.video import VideoSource

from .widget_comm import install_dummy_comm


# -- helpers -------------------------------------------------------------------
def make_job(
    status: str = "queued",
    *,
    request_id: str = "req_ab12",
    prompt: str = "a red fox running through snow",
    **state: Any,
) -> Job:
    request = GenerationRequest(
        prompt=prompt, model="seedance-2.0", duration=5, resolution="720p", aspect_ratio="16:9"
    )
    return Job(
        Client(base_url="http://127.0.0.1:9"),
        JobState(request_id=request_id, status=status, **state),
        request=request,
    )


def summary_of(job: Job, **changes: Any) -> JobSummary:
    """What a session would summarise for ``job``, submitted at 1000.0, on the emulator."""
    state, request = job.state, job.request
    assert request is not None
    base = JobSummary(
        request_id=job.request_id, client_token="tok", status=state.status,
        model=state.model or request.model, prompt=state.prompt or request.prompt,
        duration=state.duration or request.duration,
        aspect_ratio=state.aspect_ratio or request.aspect_ratio,
        resolution=state.resolution or request.resolution, media_urls=request.media_urls,
        estimated_usd=0.5, credits_charged=None, backend="emulator:embedded",
        is_emulator=True, notebook=None, created_at=1000.0, submitted_at=1000.0,
        finished_at=None, local_path=None, output_url=None, error=None,
    )
    summary = replace(base.with_state(state), local_path=job.local_path)
    return replace(summary, **changes)


def make_card(job: Job, cancels: list[Job] | None = None, **kwargs: Any) -> JobCard:
    calls = cancels if cancels is not None else []
    options: dict[str, Any] = {"on_cancel": calls.append}
    options.update(kwargs)
    card = JobCard(job, summary_of, **options)
    assert card.widget is not None  # build the live view, as show() does for a running job
    return card


def attrs(markup: str, name: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(rf'\b{name}="([^"]*)"', markup)]


PLAYER = VideoSource("seedance_outputs/req_ab12.mp4", "seedance_outputs/req_ab12.mp4")


class RecordingPublisher(DisplayPublisher):
    """Keeps every publish call instead of sending it to a frontend."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def publish(
        self,
        data: dict[str, Any],
        metadata: Any = None,
        *args: Any,
        transient: dict[str, Any] | None = None,
        update: bool = False,
        **kwargs: Any,
    ) -> None:
        with self.lock:
            self.calls.append({"data": data, "transient": transient or {}, "update": update})

    def updates(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["update"]]

    def new_displays(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if not c["update"]]


@pytest.fixture(autouse=True)
def dummy_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    install_dummy_comm(monkeypatch)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> RecordingPublisher:
    shell = InteractiveShell.instance()
    recorder = RecordingPublisher(shell=shell)
    monkeypatch.setattr(shell, "display_pub", recorder)
    return recorder


# -- safe_url ------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "//evil.example/x.mp4",
        "/etc/passwd",
        "../secret.mp4",
        "a/../../b.mp4",
        "a/%2e%2e/b.mp4",
        "seedance_outputs\\x.mp4",
        "https:evil.example",
        "http:///x.mp4",
        "",
        None,
    ],
)
def test_safe_url_rejects_scripts_other_schemes_and_escaping_paths(url: str | None) -> None:
    assert safe_url(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/out/v.mp4?sig=a&b=c",
        "http://127.0.0.1:8000/v.mp4",
        "seedance_outputs/req_ab12.mp4",
        "req_ab12.mp4",
    ],
)
def test_safe_url_keeps_http_urls_and_relative_paths(url: str) -> None:
    assert safe_url(url) == url


@given(st.text())
def test_safe_url_only_ever_returns_http_or_plain_relative(url: str) -> None:
    result = safe_url(url)
    if result is not None:
        lowered = result.lower()
        assert lowered.startswith(("http://", "https://")) or (
            ":" not in result.split("/", 1)[0]
            and not result.startswith("/")
            and ".." not in result.split("/")
        )


# -- render_html / render_text -------------------------------------------------
def test_html_escapes_a_prompt_with_script_and_quotes() -> None:
    prompt = "\"><script>alert('x')</script> & <img src=x onerror=alert(1)>"
    out = render_html(summary_of(make_job(prompt=prompt)))
    assert "<script" not in out
    assert "<img" not in out
    assert "onerror" not in out.replace("onerror=alert(1)&gt;", "")
    assert html.escape(prompt, quote=True) in out


@given(st.text(max_size=400), st.text(max_size=100), st.text(max_size=100))
def test_html_never_lets_user_or_server_text_open_a_tag(
    prompt: str, code: str, message: str
) -> None:
    job = make_job("failed", prompt=prompt, error=JobError(code=code, message=message))
    out = render_html(summary_of(job, notice=message))
    tags = set(re.findall(r"<\s*([a-zA-Z]+)", out))
    assert tags <= {"div", "span", "b", "code"}


def test_every_element_of_the_saved_card_is_inside_a_mathjax_ignored_root() -> None:
    out = render_html(summary_of(make_job(prompt="$5 and $10")), PLAYER)
    first = re.match(r'<div class="([^"]*)"', out)
    assert first is not None
    assert {"tex2jax_ignore", "mathjax_ignore"} <= set(first.group(1).split())
    assert out.endswith("</div>")


def test_every_var_style_follows_a_plain_declaration_of_the_same_property() -> None:
    out = render_html(summary_of(make_job("failed", error=JobError("e", "m"))), PLAYER)
    for style in attrs(out, "style"):
        declarations = [d for d in style.split(";") if d]
        for index, declaration in enumerate(declarations):
            prop, _, value = declaration.partition(":")
            if "var(" in value:
                before = declarations[index - 1].partition(":")
                assert index > 0 and before[0] == prop and "var(" not in before[2], style


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "data:video/mp4;base64,AAAA"])
def test_unsafe_video_location_is_never_a_src_or_href(url: str) -> None:
    out = render_html(summary_of(make_job("succeeded")), VideoSource(url, url))
    assert url not in attrs(out, "src") + attrs(out, "href") or url.startswith("data:video")
    if not url.startswith("data:"):
        assert "<video" not in out


def test_video_tag_has_controls_a_name_and_a_capped_height_and_no_source_tag() -> None:
    out = render_html(summary_of(make_job("succeeded")), PLAYER)
    video = re.search(r"<video [^>]*>", out)
    assert video is not None
    assert 'controls preload="metadata"' in video.group(0)
    label = "Generated video: a red fox running through snow"
    assert attrs(video.group(0), "aria-label") == [label]
    assert "max-height:480px" in video.group(0)
    assert "width:480px;" in video.group(0)  # not "auto": it would grow on Play
    assert "<source" not in out
    assert "<script" not in out
    assert not re.search(r"\son[a-z]+=", out)


def test_player_loads_the_chosen_source_and_offers_it_for_download() -> None:
    out = render_html(summary_of(make_job("succeeded")), PLAYER)
    assert attrs(out, "src") == ["seedance_outputs/req_ab12.mp4"]
    assert '<a href="seedance_outputs/req_ab12.mp4" download>' in out


def test_a_missing_file_shows_the_poster_and_names_the_file() -> None:
    poster = "data:image/jpeg;base64,/9j/AAAA"
    missing = VideoSource(None, "seedance_outputs/gone.mp4",
                          "Video file not found here: seedance_outputs/gone.mp4", missing=True)
    out = render_html(summary_of(make_job("succeeded"), poster_data_uri=poster), missing)
    assert "<video" not in out
    assert attrs(out, "src") == [poster]
    assert out.count("seedance_outputs/gone.mp4") == 1


def test_the_player_carries_the_poster_and_falls_back_to_it_where_video_is_stripped() -> None:
    poster = "data:image/jpeg;base64,/9j/AAAA"
    out = render_html(summary_of(make_job("succeeded"), poster_data_uri=poster), PLAYER)
    video = re.search(r"<video [^>]*>(.*)</video>", out)
    assert video is not None
    assert attrs(video.group(0), "poster") == [poster]
    assert attrs(video.group(1), "src") == [poster]
    assert "Video file not found here: seedance_outputs/req_ab12.mp4" in video.group(1)


def test_a_poster_that_is_not_an_inline_jpeg_is_left_out() -> None:
    out = render_html(summary_of(make_job("succeeded"), poster_data_uri="https://x/p.jpg"), PLAYER)
    assert "https://x/p.jpg" not in out


def test_a_note_about_the_source_is_one_line_of_the_card() -> None:
    url = "https://cdn.example/v.mp4"
    note = "Playing from the service's URL, which expires after about a day."
    out = render_html(summary_of(make_job("succeeded")), VideoSource(url, url, note))
    assert html.escape(note) in out
    assert note in render_text(summary_of(make_job("succeeded")), VideoSource(url, url, note))


def test_media_urls_are_links_only_when_safe() -> None:
    job = Job(
        Client(base_url="http://127.0.0.1:9"),
        JobState(request_id="req_m", status="queued"),
        request=GenerationRequest(
            prompt="p", media_urls=("https://cdn.example/a.png", "javascript:x.png")
        ),
    )
    out = render_html(summary_of(job))
    assert attrs(out, "href") == ["https://cdn.example/a.png"]
    assert "javascript:x.png" in out


def test_text_plain_says_emulator_and_gives_the_video_path() -> None:
    job = make_job("succeeded", request_id="req_x")
    first = render_text(summary_of(job), PLAYER).splitlines()[0]
    assert first == (
        "Seedance job req_x: succeeded (emulator) — seedance-2.0, 5 s, 720p, 16:9 — est. $0.50"
        " — video: seedance_outputs/req_ab12.mp4"
    )


def test_text_plain_of_a_real_service_does_not_say_emulator() -> None:
    summary = summary_of(make_job(), backend="https://www.seedance2.ink", is_emulator=False)
    assert "emulator" not in render_text(summary).lower()
    assert "backend: www.seedance2.ink" in render_html(summary)


def test_html_labels_the_emulator() -> None:
    assert "EMULATOR" in render_html(summary_of(make_job()))
    assert "EMULATOR" not in render_html(summary_of(make_job(), is_emulator=False))


def test_failed_job_shows_error_code_and_message_escaped() -> None:
    job = make_job("failed", error=JobError(code="content_<policy>", message='no "cats" & <b>'))
    out = render_html(summary_of(job))
    assert "content_&lt;policy&gt;" in out
    assert "no &quot;cats&quot; &amp; &lt;b&gt;" in out
    assert "content_<policy>" in render_text(summary_of(job))


def test_credits_charged_shown_once_known() -> None:
    job = make_job("processing")
    assert "credits" not in render_html(summary_of(job))
    job.update(JobState(request_id="req_ab12", status="processing", credits_charged=12))
    assert "12 credits charged" in render_html(summary_of(job))


@pytest.mark.parametrize(
    ("credits", "says"),
    [
        (240, " · 240 credits charged, not refunded by the service · req_ab12"),
        (0, " · no credits charged · req_ab12"),
        (None, " · est. $0.50 · the service did not say whether credits were charged · "),
    ],
)
def test_a_cancelled_card_says_whether_credits_were_refunded(
    credits: int | None, says: str
) -> None:
    summary = summary_of(make_job("cancelled", credits_charged=credits))
    assert says in html.unescape(re.sub(r"<[^>]+>", "", status_html(summary)))


def test_a_finished_card_with_a_known_charge_does_not_say_est() -> None:
    summary = summary_of(make_job("succeeded", credits_charged=40))
    text = html.unescape(re.sub(r"<[^>]+>", "", status_html(summary)))
    assert "40 credits charged" in text
    assert "est." not in text
    assert "est." not in render_text(summary)


def test_a_running_card_keeps_the_estimate_beside_the_charge() -> None:
    summary = summary_of(make_job("processing", credits_charged=40))
    assert summary.charge_label == "est. $0.50 · 40 credits charged"


def test_a_refused_job_says_it_was_not_charged() -> None:
    summary = summary_of(make_job("rejected"))
    assert summary.charge_label == "not charged: the service refused the job"


def test_the_charge_is_on_the_wire_for_the_lab_card_and_panel() -> None:
    summary = summary_of(make_job("cancelled", credits_charged=240))
    assert summary.to_json()["chargeLabel"] == (
        "240 credits charged, not refunded by the service"
    )


def test_every_wire_field_of_a_job_summary_is_mirrored_in_types_ts() -> None:
    source = (Path(__file__).parent.parent / "src" / "types.ts").read_text()
    interface = source[source.index("export interface IJobSummary {"):]
    interface = interface[:interface.index("\n}")]
    mirrored = set(re.findall(r"^  (\w+)\??:", interface, re.MULTILINE))
    assert set(summary_of(make_job()).to_json()) == mirrored


def test_the_request_id_is_small_and_selected_whole_by_one_click() -> None:
    out = status_html(summary_of(make_job("queued", request_id="req_77")))
    [code] = re.findall(r'<code class="seedance-request-id"[^>]*>req_77</code>', out)
    assert "user-select:all" in code and "font-size:85%" in code
    assert "%seedance status req_77" in code
def test_the_card_says_plainly_when_the_charge_differed_from_the_estimate() -> None:
    summary = summary_of(make_job("queued", credits_charged=64), credits_per_usd=80.0)
    says = "charged $0.80, 60 % more than the $0.50 estimated"
    assert says in html.unescape(re.sub(r"<[^>]+>", "", status_html(summary)))
    assert says in render_text(summary)


def test_the_lab_card_and_panel_get_the_same_difference_line_on_the_wire() -> None:
    summary = summary_of(make_job("succeeded", credits_charged=64), credits_per_usd=80.0)
    assert summary.to_json()["chargeLabel"] == (
        "64 credits charged · charged $0.80, 60 % more than the $0.50 estimated"
    )


def test_a_charge_like_the_estimate_gets_no_difference_line() -> None:
    summary = summary_of(make_job("queued", credits_charged=40), credits_per_usd=80.0)
    assert "estimated" not in render_text(summary)


def test_long_prompt_is_truncated_with_full_text_in_title() -> None:
    prompt = "word " * 200
    out = render_html(summary_of(make_job(prompt=prompt)))
    assert [t for t in attrs(out, "title") if "Request id" not in t] == [prompt]
    assert "…" in out


def test_running_job_html_does_not_change_with_the_clock() -> None:
    assert "00:" not in render_html(summary_of(make_job("processing")))


def test_a_finished_card_shows_its_run_time_from_submission_to_finish() -> None:
    summary = summary_of(make_job("succeeded"), submitted_at=1000.0, finished_at=1075.0)
    assert "took 01:15" in render_html(summary)


def test_the_status_line_is_a_polite_live_region() -> None:
    status = status_html(summary_of(make_job("processing")))
    assert attrs(status, "role") == ["status"]
    assert attrs(status, "aria-live") == ["polite"]


def test_emulator_badge_is_a_fixed_high_contrast_chip() -> None:
    out = render_html(summary_of(make_job()))
    [badge] = re.findall(r'<span class="seedance-badge" style="([^"]*)"', out)
    assert "var(" not in badge
    assert "background:#ffe0b2" in badge and "color:#4e2600" in badge


# -- the widget ----------------------------------------------------------------
def test_widget_has_card_and_status_classes(published: RecordingPublisher) -> None:
    job = make_job("queued")
    card = make_card(job)
    assert {"seedance-card", "seedance-status-queued"} <= set(card.widget._dom_classes)
    job.update(JobState(request_id="req_ab12", status="processing"))
    classes = set(card.widget._dom_classes)
    assert "seedance-status-processing" in classes
    assert "seedance-status-queued" not in classes


@pytest.mark.parametrize(
    ("status", "enabled"),
    [
        ("queued", True),
        ("processing", True),
        ("succeeded", False),
        ("failed", False),
        ("cancelled", False),
    ],
)
def test_cancel_enabled_only_while_queued_or_processing(
    published: RecordingPublisher, status: str, enabled: bool
) -> None:
    card = make_card(make_job(status))
    assert card.cancel_button.disabled is (not enabled)


def test_a_card_never_shown_live_opens_no_widget(published: RecordingPublisher) -> None:
    card = JobCard(make_job("processing"), summary_of, on_cancel=lambda _job: None)
    card.show(live=False)
    assert card._widget is None
    assert [WIDGET_MIME not in call["data"] for call in published.calls] == [True]


def test_progress_bar_shown_only_while_running(published: RecordingPublisher) -> None:
    job = make_job("processing")
    card = make_card(job)
    assert card._progress.layout.display is None
    job.update(JobState(request_id="req_ab12", status="succeeded", output_url="https://x/v.mp4"))
    assert card._progress.layout.display == "none"


def test_cancel_click_disables_and_calls_on_cancel_once_even_when_clicked_twice(
    published: RecordingPublisher,
) -> None:
    cancels: list[Job] = []
    job = make_job("processing")
    card = make_card(job, cancels)
    card.show()
    card.cancel_button.click()
    card.cancel_button.click()
    assert cancels == [job]
    assert card.cancel_button.disabled is True
    assert "cancelling" in card._status.value
    assert "cancelling" in published.updates()[-1]["data"]["text/plain"]


def test_concurrent_clicks_call_on_cancel_once(published: RecordingPublisher) -> None:
    cancels: list[Job] = []
    card = make_card(make_job("queued"), cancels)
    start = threading.Barrier(8)

    def click() -> None:
        start.wait()
        card.cancel_button.click()

    threads = [threading.Thread(target=click) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cancels) == 1


def test_cancelled_job_clears_the_cancelling_override(published: RecordingPublisher) -> None:
    job = make_job("processing")
    card = make_card(job)
    card.cancel_button.click()
    job.update(JobState(request_id="req_ab12", status="cancelled"))
    assert "seedance-status-cancelled" in card.widget._dom_classes
    assert card.cancel_button.disabled is True


def test_failed_cancel_re_enables_the_button_when_the_caller_clears_the_override(
    published: RecordingPublisher,
) -> None:
    card = make_card(make_job("processing"))
    card.cancel_button.click()
    card.set_status_override(None)
    card.set_notice("The service refused: already finishing")
    assert card.cancel_button.disabled is False
    assert "already finishing" in card._detail.value


def test_on_cancel_raising_prints_nothing_and_restores_the_card(
    published: RecordingPublisher, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(job: Job) -> None:
        raise RuntimeError("loop is gone")

    card = make_card(make_job("processing"), on_cancel=boom)
    card.cancel_button.click()
    assert card.cancel_button.disabled is False
    assert "loop is gone" in card._detail.value
    assert capsys.readouterr().out == ""


def test_progress_bar_is_an_indeterminate_progressbar(published: RecordingPublisher) -> None:
    card = make_card(make_job("processing"))
    bar = card._progress.value
    assert attrs(bar, "role") == ["progressbar"]
    assert "aria-valuenow" not in bar
    assert attrs(bar, "aria-label") == ["Generating the video"]


def test_cancel_button_is_named_without_an_icon(published: RecordingPublisher) -> None:
    card = make_card(make_job("processing"))
    assert card.cancel_button.description == "Cancel"
    assert card.cancel_button.icon == ""
    assert "seedance-cancel" in card.cancel_button._dom_classes


def test_cancel_button_has_a_visible_focus_ring(published: RecordingPublisher) -> None:
    style = make_card(make_job("processing")).widget.children[0].value
    assert re.search(r"\.seedance-cancel:focus-visible \{ outline: 2px solid", style)


def test_the_live_widget_ignores_mathjax(published: RecordingPublisher) -> None:
    card = make_card(make_job("processing", prompt="$5 and $10"))
    assert {"tex2jax_ignore", "mathjax_ignore"} <= set(card.widget._dom_classes)


# -- what IPython is sent ------------------------------------------------------
def test_a_running_card_is_one_output_with_widget_job_json_html_and_text(
    published: RecordingPublisher,
) -> None:
    card = make_card(make_job())
    card.show()
    [call] = published.calls
    assert set(call["data"]) == {WIDGET_MIME, JOB_MIME, "text/html", "text/plain"}
    assert call["data"][WIDGET_MIME]["model_id"] == card.widget.model_id
    assert call["data"][JOB_MIME]["requestId"] == "req_ab12"
    assert call["transient"] == {"display_id": card.display_id}
    assert call["update"] is False
    assert re.fullmatch(r"seedance-[0-9a-f]+", card.display_id)


def test_a_final_job_replaces_the_widget_with_the_saved_card_and_closes_it(
    published: RecordingPublisher,
) -> None:
    job = make_job("processing")
    card = make_card(job)
    card.show()
    widget_comm = card.widget.comm
    job.update(JobState(request_id="req_ab12", status="failed", error=JobError("e", "m")))
    [update] = published.updates()
    assert set(update["data"]) == {JOB_MIME, "text/html", "text/plain"}
    assert update["transient"] == {"display_id": card.display_id}
    assert widget_comm.closed


def test_change_from_a_background_thread_updates_the_same_display(
    published: RecordingPublisher,
) -> None:
    job = make_job("queued")
    card = make_card(job)
    card.show()
    shown = len(published.calls)
    worker = threading.Thread(
        target=job.update, args=(JobState(request_id="req_ab12", status="processing"),)
    )
    worker.start()
    worker.join()
    later = published.calls[shown:]
    assert len(later) == 1
    assert later[0]["update"] is True
    assert later[0]["transient"] == {"display_id": card.display_id}
    assert "processing" in later[0]["data"]["text/plain"]


def test_render_sends_nothing_when_nothing_changed(published: RecordingPublisher) -> None:
    card = make_card(make_job("processing"))
    card.show()
    shown = len(published.calls)
    card.render()
    card.render()
    assert len(published.calls) == shown


def test_render_before_show_sends_nothing(published: RecordingPublisher) -> None:
    job = make_job("queued")
    make_card(job)
    job.update(JobState(request_id="req_ab12", status="processing"))
    assert published.calls == []


def test_a_running_clock_ticks_in_the_browser_from_the_elapsed_time(
    published: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("seedance_jupyter.kernel.card.time.time", lambda: 1072.0)
    card = make_card(make_job("processing"))
    card.show()
    assert 'class="seedance-elapsed seedance-ticking" style="--seedance-since:-72s"' in (
        card._status.value)
    assert "@keyframes seedance-seconds" in card._style.value


def test_a_card_sends_no_widget_message_while_its_status_stays_the_same(
    published: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1005.0]
    monkeypatch.setattr("seedance_jupyter.kernel.card.time.time", lambda: clock[0])
    job = make_job("processing")
    card = make_card(job)
    card.show()
    widgets = [card.widget, *card.widget.children, card._progress.layout, card._detail.layout,
               card.cancel_button.layout]
    before = [len(w.comm.messages) for w in widgets]
    for second in range(1, 30):
        clock[0] = 1005.0 + second
        job.update(JobState(request_id="req_ab12", status="processing", received_at=clock[0]))
        card.render()
    assert [len(w.comm.messages) for w in widgets] == before
    assert published.updates() == []


def test_finished_card_stops_counting(published: RecordingPublisher) -> None:
    job = make_job("processing")
    card = make_card(job)
    job.update(
        JobState(
            request_id="req_ab12", status="failed", received_at=1030.0, error=JobError("e", "m")
        )
    )
    assert "took 00:30" in card._status.value
    assert "seedance-ticking" not in card._status.value


def test_notice_appears_in_both_views(published: RecordingPublisher) -> None:
    card = make_card(make_job(), notice="Re-attached to the job this cell already made.")
    card.show()
    assert "Re-attached" in card._detail.value
    assert "Re-attached" in published.calls[-1]["data"]["text/html"]


def test_close_stops_following_the_job(published: RecordingPublisher) -> None:
    job = make_job("queued")
    card = make_card(job)
    card.show()
    shown = len(published.calls)
    card.close()
    job.update(JobState(request_id="req_ab12", status="processing"))
    assert len(published.calls) == shown
    assert "seedance-status-queued" in card.widget._dom_classes


def test_callbacks_never_print(
    published: RecordingPublisher, capsys: pytest.CaptureFixture[str]
) -> None:
    job = make_job("queued")
    card = make_card(job)
    card.show()
    job.update(JobState(request_id="req_ab12", status="processing"))
    job.update(JobState(request_id="req_ab12", status="succeeded", output_url="https://x/v.mp4"))
    assert capsys.readouterr().out == ""
    assert len(published.new_displays()) == 1


# -- a terminal ----------------------------------------------------------------
def test_a_terminal_card_is_text_only_and_opens_no_widget(published: RecordingPublisher) -> None:
    card = JobCard(make_job("processing"), summary_of, on_cancel=lambda _job: None,
                   frontend="terminal")
    card.show()
    assert [set(call["data"]) for call in published.calls] == [{"text/plain"}]
    assert card._widget is None


def test_a_terminal_card_prints_one_line_per_change_and_the_video_path(
    published: RecordingPublisher,
) -> None:
    said: list[str] = []
    job = make_job("queued")
    card = JobCard(job, summary_of, on_cancel=lambda _job: None, frontend="terminal",
                   say=said.append, video=lambda s: PLAYER if s.status == "succeeded" else None)
    card.show()
    job.update(JobState(request_id="req_ab12", status="processing"))
    job.update(JobState(request_id="req_ab12", status="processing"))
    job.update(JobState(request_id="req_ab12", status="succeeded"))
    assert len(said) == 2
    assert said[0].startswith("Seedance job req_ab12: processing")
    assert said[1].endswith("video: seedance_outputs/req_ab12.mp4")
    assert published.updates() == []


def test_a_video_that_could_not_be_saved_is_said_once_on_the_card() -> None:
    lost = "The video could not be saved (the answer is not a video); %seedance resume retries."
    unsaved = summary_of(make_job("succeeded"), save_error=lost)
    assert html.escape(lost) in render_html(unsaved)
    assert render_text(unsaved).count(lost) == 1
    told = replace(unsaved, notice=lost)  # the live notice already says it
    assert render_html(told).count(html.escape(lost)) == 1
    assert render_text(told).count(lost) == 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("../videos/req_1.mp4", "../videos/req_1.mp4"),
        ("../../shared%20videos/req_1.mp4", "../../shared%20videos/req_1.mp4"),
        ("videos/../../x.mp4", None),
        ("../a/%2e%2e/x.mp4", None),
        ("/videos/req_1.mp4", None),
    ],
)
def test_a_video_src_may_climb_out_of_the_notebook_folder_only_at_its_start(
    url: str, expected: str | None
) -> None:
    assert safe_url(url, parents=True) == expected
    assert safe_url(url) is None
