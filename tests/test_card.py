"""The job card: escaped saved output, the live widget, and what IPython is sent."""

from __future__ import annotations

import html
import re
import threading
from typing import Any

import comm
import pytest
from hypothesis import given
from hypothesis import strategies as st
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

from seedance_jupyter.api.types import JobError, JobState
from seedance_jupyter.catalog import GenerationRequest
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.handle import Job
from seedance_jupyter.kernel.card import CardView, JobCard, render_html, render_text, safe_url

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


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


def view_of(job: Job, **kwargs: Any) -> CardView:
    options: dict[str, Any] = {
        "backend_label": "emulator",
        "is_emulator": True,
        "estimated_usd": 0.5,
        "started_at": None,
    }
    options.update(kwargs)
    return CardView.from_job(job, **options)


def make_card(job: Job, cancels: list[Job] | None = None, **kwargs: Any) -> JobCard:
    calls = cancels if cancels is not None else []
    options: dict[str, Any] = {
        "backend_label": "emulator",
        "is_emulator": True,
        "estimated_usd": 0.5,
        "started_at": 1000.0,
        "on_cancel": calls.append,
    }
    options.update(kwargs)
    card = JobCard(job, **options)
    assert card.widget is not None  # build the live view, as show() does for a running job
    return card


def attrs(markup: str, name: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(rf'\b{name}="([^"]*)"', markup)]


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


class DummyComm:
    """Stands in for a kernel comm, as ipywidgets' own tests do; records state syncs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.comm_id = "comm-" + str(id(self))
        self.kernel = "Truthy"
        self.messages: list[Any] = []

    def open(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_msg(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        self.messages.append(data)

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture(autouse=True)
def dummy_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", lambda **kwargs: DummyComm())


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
    out = render_html(view_of(make_job(prompt=prompt)))
    assert "<script" not in out
    assert "<img" not in out
    assert "onerror" not in out.replace("onerror=alert(1)&gt;", "")
    assert html.escape(prompt, quote=True) in out


@given(st.text(max_size=400), st.text(max_size=100), st.text(max_size=100))
def test_html_never_lets_user_or_server_text_open_a_tag(
    prompt: str, code: str, message: str
) -> None:
    job = make_job("failed", prompt=prompt, error=JobError(code=code, message=message))
    out = render_html(view_of(job, notice=message))
    tags = set(re.findall(r"<\s*([a-zA-Z]+)", out))
    assert tags <= {"div", "span", "b", "code"}


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "data:video/mp4;base64,AAAA"])
def test_unsafe_output_url_is_never_a_src_or_href(url: str) -> None:
    out = render_html(view_of(make_job("succeeded", output_url=url)))
    assert url not in attrs(out, "src") + attrs(out, "href")
    assert "<video" not in out
    assert html.escape(url, quote=True) in out


def test_video_tag_has_controls_and_metadata_preload_and_no_source_tag() -> None:
    out = render_html(view_of(make_job("succeeded", output_url="https://cdn.example/v.mp4")))
    video = re.search(r"<video [^>]*>", out)
    assert video is not None
    assert 'controls preload="metadata"' in video.group(0)
    assert "<source" not in out
    assert "<script" not in out
    assert not re.search(r"\son[a-z]+=", out)


def test_local_path_is_preferred_over_the_output_url() -> None:
    job = make_job("succeeded", output_url="https://cdn.example/v.mp4")
    job.local_path = "seedance_outputs/req_ab12.mp4"
    out = render_html(view_of(job))
    video = re.search(r'<video src="([^"]*)"', out)
    assert video is not None
    assert video.group(1) == "seedance_outputs/req_ab12.mp4"
    assert '<a href="seedance_outputs/req_ab12.mp4" download>' in out


def test_media_urls_are_links_only_when_safe() -> None:
    job = Job(
        Client(base_url="http://127.0.0.1:9"),
        JobState(request_id="req_m", status="queued"),
        request=GenerationRequest(
            prompt="p", media_urls=("https://cdn.example/a.png", "javascript:x.png")
        ),
    )
    out = render_html(view_of(job))
    assert attrs(out, "href") == ["https://cdn.example/a.png"]
    assert "javascript:x.png" in out


def test_text_plain_says_emulator_and_gives_the_video_path() -> None:
    job = make_job("succeeded", request_id="req_x", output_url="https://cdn.example/v.mp4")
    job.local_path = "seedance_outputs/req_x.mp4"
    first = render_text(view_of(job)).splitlines()[0]
    assert first == (
        "Seedance job req_x: succeeded (emulator) — seedance-2.0, 5 s, 720p, 16:9 — est. $0.50"
        " — video: seedance_outputs/req_x.mp4"
    )


def test_text_plain_of_a_real_service_does_not_say_emulator() -> None:
    text = render_text(view_of(make_job(), backend_label="www.seedance2.ink", is_emulator=False))
    assert "emulator" not in text.lower()


def test_html_labels_the_emulator() -> None:
    assert "EMULATOR" in render_html(view_of(make_job()))
    assert "EMULATOR" not in render_html(view_of(make_job(), is_emulator=False))


def test_failed_job_shows_error_code_and_message_escaped() -> None:
    job = make_job("failed", error=JobError(code="content_<policy>", message='no "cats" & <b>'))
    out = render_html(view_of(job))
    assert "content_&lt;policy&gt;" in out
    assert "no &quot;cats&quot; &amp; &lt;b&gt;" in out
    assert "content_<policy>" in render_text(view_of(job))


def test_credits_charged_shown_once_known() -> None:
    job = make_job("processing")
    assert "credits" not in render_html(view_of(job))
    job.update(JobState(request_id="req_ab12", status="processing", credits_charged=12))
    assert "12 credits charged" in render_html(view_of(job))


def test_job_without_request_uses_the_state_parameters() -> None:
    job = Job(
        Client(base_url="http://127.0.0.1:9"),
        JobState(
            request_id="req_s",
            status="queued",
            prompt="from state",
            model="seedance-2.0",
            duration=10,
            resolution="1080p",
            aspect_ratio="9:16",
        ),
    )
    view = view_of(job)
    assert (view.prompt, view.duration, view.resolution, view.aspect_ratio) == (
        "from state",
        10,
        "1080p",
        "9:16",
    )


def test_long_prompt_is_truncated_with_full_text_in_title() -> None:
    prompt = "word " * 200
    out = render_html(view_of(make_job(prompt=prompt)))
    assert attrs(out, "title") == [prompt]
    assert "…" in out


def test_running_job_html_does_not_change_with_the_clock() -> None:
    job = make_job("processing")
    assert render_html(view_of(job, started_at=0.0, now=10.0)) == render_html(
        view_of(job, started_at=0.0, now=70.0)
    )


def test_css_uses_theme_variables_and_no_hex_colours_outside_var_fallbacks(
    published: RecordingPublisher,
) -> None:
    card = make_card(make_job("succeeded", output_url="https://cdn.example/v.mp4"))
    style = card.widget.children[0].value
    saved = render_html(view_of(card.job))
    for css in (style, saved):
        assert "var(--jp-" in css
        without_vars = re.sub(r"var\(--[\w-]+(?:,\s*#[0-9a-fA-F]{3,8})?\s*\)", "", css)
        assert not re.search(r"#[0-9a-fA-F]{3,8}\b", without_vars)
        assert not re.search(r"\b(?:rgb|hsl)a?\(", without_vars)
    assert re.search(r"@keyframes seedance-", style)


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
    card = JobCard(make_job("processing"), backend_label="emulator", is_emulator=True,
                   estimated_usd=0.5, started_at=1000.0, on_cancel=lambda _job: None)
    card.show(live=False)
    card.tick()
    assert card._widget is None
    assert [WIDGET_MIME not in call["data"] for call in published.calls] == [True]


def test_progress_bar_shown_only_while_running(published: RecordingPublisher) -> None:
    job = make_job("processing")
    card = make_card(job)
    assert card._progress.layout.display is None
    assert card._progress.bar_style == "info"
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


def test_widget_shows_the_file_name_not_a_second_player(published: RecordingPublisher) -> None:
    job = make_job("succeeded", output_url="https://cdn.example/v.mp4")
    job.local_path = "seedance_outputs/req_ab12.mp4"
    card = make_card(job)
    widget_html = "".join(
        getattr(child, "value", "")
        for child in card.widget.children[1:]
        if isinstance(getattr(child, "value", None), str)
    )
    assert "req_ab12.mp4" in widget_html
    assert "<video" not in widget_html


# -- what IPython is sent ------------------------------------------------------
def test_show_displays_the_widget_then_the_persistent_bundle(
    published: RecordingPublisher,
) -> None:
    card = make_card(make_job())
    card.show()
    widget_call, bundle_call = published.calls
    assert WIDGET_MIME in widget_call["data"]
    assert set(bundle_call["data"]) == {"text/plain", "text/html"}
    assert bundle_call["transient"] == {"display_id": card.display_id}
    assert bundle_call["update"] is False
    assert re.fullmatch(r"seedance-[0-9a-f]+", card.display_id)


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


def test_tick_changes_the_elapsed_text_without_update_display(
    published: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1005.0]
    monkeypatch.setattr("seedance_jupyter.kernel.card.time.time", lambda: clock[0])
    card = make_card(make_job("processing"), started_at=1000.0)
    card.show()
    shown = len(published.calls)
    assert "00:05" in card._status.value
    clock[0] = 1072.0
    card.tick()
    assert "01:12" in card._status.value
    assert len(published.calls) == shown
    assert any("01:12" in str(m) for m in card._status.comm.messages)


def test_finished_card_stops_counting(
    published: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1010.0]
    monkeypatch.setattr("seedance_jupyter.kernel.card.time.time", lambda: clock[0])
    job = make_job("processing")
    card = make_card(job, started_at=1000.0)
    job.update(
        JobState(
            request_id="req_ab12", status="failed", received_at=1030.0, error=JobError("e", "m")
        )
    )
    clock[0] = 5000.0
    card.tick()
    assert "took 00:30" in card._status.value


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
    card.tick()
    job.update(JobState(request_id="req_ab12", status="succeeded", output_url="https://x/v.mp4"))
    assert capsys.readouterr().out == ""
    assert len(published.new_displays()) == 2
