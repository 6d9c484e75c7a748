"""The lab extension against the real server extension, kernel and emulator: the MIME card
(one per job, a ticking clock, Cancel, the server's current state, the video even after its
kernel is gone) and the Seedance panel following a job live and cancelling it over REST."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from seedance_jupyter.emulator import start

from .conftest import API_KEY, DARK, LIGHT, Lab

pytestmark = [pytest.mark.browser, pytest.mark.labext]

LOAD = "%load_ext seedance_jupyter"
MIME = "application/vnd.seedance.job+json"
JOB_MS = 60_000
CANCEL_WITHIN_MS = 2_000
PANEL = "#seedance-jupyter-panel"
THEMES = ((LIGHT, "light"), (DARK, "dark"))

# The panel's item for the job whose prompt is the argument, as plain data.
JS_PANEL_ITEM = """(prompt) => {
  const li = [...document.querySelectorAll('#seedance-jupyter-panel .seedance-job')]
    .find(li => li.querySelector('.seedance-job-prompt').textContent === prompt);
  return li ? {status: li.dataset.status, text: li.textContent} : null;
}"""
JS_STATUS_ITEM = "() => document.querySelector('.seedance-status-item').textContent"
# The lab cards and any other Seedance card (the kernel's widget, the saved HTML) under root.
JS_LAB_CARDS = """(root) => {
  const cards = root.querySelectorAll('.seedance-lab-card');
  const c = cards[0];
  return {cards: cards.length,
          others: root.querySelectorAll('.seedance-card, .seedance-result').length,
          outputs: root.querySelectorAll('.jp-OutputArea-output').length,
          status: c ? c.querySelector('.seedance-status').textContent : null,
          elapsed: c ? c.querySelector('.seedance-elapsed').textContent : null};
}"""
# Plays the lab card's video, muted; true once it has a frame (or has failed).
JS_CARD_VIDEO_LOADED = """(root) => {
  const v = root.querySelector('.seedance-lab-card video');
  if (!v) return false;
  if (!v.dataset.played) { v.dataset.played = '1'; v.muted = true; v.play().catch(() => {}); }
  return v.readyState >= 2 || !!v.error;
}"""
# Pause the video under root on a frame well inside the clip, for a screenshot.
JS_VIDEO_STILL = """async (root) => {
  const v = root.querySelector('video');
  v.pause();
  await new Promise((done) => { v.addEventListener('seeked', done, {once: true});
                                v.currentTime = 1.5; });
}"""
# Put a saved output (only what a reopened notebook has) into cell i.
JS_ADD_SAVED_OUTPUT = """([i, mime, job]) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
  cell.model.outputs.add({output_type: 'display_data', metadata: {},
    data: {[mime]: job, 'text/html': '<b class="saved-html">the saved HTML card</b>'}});
}"""
JS_CARD = """(root) => {
  const card = root.querySelector('.seedance-lab-card');
  if (!card) return null;
  const v = card.querySelector('video');
  return {status: card.querySelector('.seedance-status').textContent,
          savedHtml: !!root.querySelector('.saved-html'),
          src: v ? v.getAttribute('src') : null, label: v ? v.getAttribute('aria-label') : null,
          readyState: v ? v.readyState : null, error: v && v.error ? v.error.code : null,
          width: v ? v.videoWidth : null};
}"""


def server_job(lab: Lab, prompt: str) -> dict[str, Any] | None:
    jobs: list[dict[str, Any]] = lab.server.api("GET", "/seedance/api/jobs")["jobs"]
    return next((j for j in jobs if j["prompt"] == prompt), None)


def cancel_on_server(lab: Lab, prompt: str) -> None:
    """Clean-up: stop a long job a test no longer needs, so the emulator stops rendering it."""
    job = server_job(lab, prompt)
    if job and job["requestId"] and job["status"] in ("queued", "processing"):
        lab.server.api("POST", f"/seedance/api/jobs/{job['requestId']}/cancel")


def wait_for_card(lab: Lab, root: Any, predicate: str, *, timeout: float, what: str) -> None:
    """Wait until ``predicate(card)`` holds for the lab card under ``root`` (see JS_LAB_CARDS)."""
    lab.wait_for(
        f"(root) => {{ const c = ({JS_LAB_CARDS})(root);"
        f" return c.cards > 0 && ({predicate})(c); }}",
        root, timeout=timeout, what=what, detail=lambda: lab.page.evaluate(JS_LAB_CARDS, root),
        polling=50,
    )


def clock_seconds(text: str) -> int:
    """Seconds on a card's clock (``0:07``, ``12:05``, ``1:02:03``)."""
    assert re.fullmatch(r"(\d+:)?\d+:\d\d", text), text
    seconds = 0
    for part in text.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


def play_lab_card(lab: Lab, root: Any, timeout: float = 10_000) -> dict[str, Any]:
    """Play the video of the lab card under ``root``; the card once it has a frame (or failed)."""
    lab.wait_for(JS_CARD_VIDEO_LOADED, root, timeout=timeout, what="the card's video loaded",
                 detail=lambda: lab.page.evaluate(JS_CARD, root))
    card: dict[str, Any] = lab.page.evaluate(JS_CARD, root)
    return card


def open_panel(lab: Lab) -> None:
    lab.page.evaluate("() => window.jupyterapp.commands.execute('seedance:open-panel')")
    lab.page.wait_for_selector(PANEL)


def themed_shots(lab: Lab, step: str, target: Any, doc: str) -> None:
    """Screenshots of ``target`` in the light and the dark theme (docs/{doc}-light.png, ...)."""
    for theme, suffix in THEMES:
        with lab.theme(theme):
            lab.shot(f"{step}-{suffix}", target, doc=f"{doc}-{suffix}.png")


def test_panel_follows_a_job_live_and_cancels_it(lab: Lab) -> None:
    prompt = "A long pan over a salt flat, cancelled from the Seedance panel"
    lab.open([LOAD, f"%%seedance -d 15 -r 480p\n{prompt}"])
    open_panel(lab)
    lab.run_all()

    lab.wait_for(
        f"(p) => {{ const i = ({JS_PANEL_ITEM})(p);"
        " return !!i && ['queued', 'processing'].includes(i.status); }",
        prompt, timeout=JOB_MS, what="the running job in the panel, without a reload",
        detail=lambda: lab.page.evaluate(JS_PANEL_ITEM, prompt),
    )
    assert re.search(r"\b1 running\b", lab.page.evaluate(JS_STATUS_ITEM))
    themed_shots(lab, "panel-running", lab.page.locator(PANEL), "lab-panel")

    item = lab.page.locator(f"{PANEL} .seedance-job", has_text=prompt)
    item.get_by_role("button", name=re.compile(r"^Cancel job ")).click()
    clicked = time.monotonic()
    card = lab.cell(1).element_handle()
    lab.wait_for(
        f"([p, root]) => ({JS_PANEL_ITEM})(p).status === 'cancelled'"
        f" && /\\bcancelled\\b/.test(({JS_LAB_CARDS})(root).status)",
        [prompt, card], timeout=CANCEL_WITHIN_MS, what="the panel and the card saying cancelled",
        detail=lambda: (lab.page.evaluate(JS_PANEL_ITEM, prompt),
                        lab.page.evaluate(JS_LAB_CARDS, card)),
        polling=50,
    )
    took = time.monotonic() - clicked
    assert took < CANCEL_WITHIN_MS / 1000, took
    job = server_job(lab, prompt)
    assert job is not None
    assert job["status"] == "cancelled"
    assert lab.server.cancel_posts(job["requestId"]) == 1
    assert "running" not in lab.page.evaluate(JS_STATUS_ITEM)


def test_card_shows_the_servers_state_not_the_saved_one_and_plays(lab: Lab) -> None:
    prompt = "A red kite over dunes, shown by the lab extension's card"
    lab.open([LOAD, f"%%seedance -d 4 -r 480p\n{prompt}", "'reopened'"])
    lab.run_all()
    deadline = time.monotonic() + JOB_MS / 1000
    job = server_job(lab, prompt)
    while not (job and job["status"] == "succeeded" and job["localPath"]):
        assert time.monotonic() < deadline, f"the job did not finish with a video: {job}"
        time.sleep(0.5)
        job = server_job(lab, prompt)

    # What a notebook saved while the job was queued, before the video existed.
    saved = {**job, "status": "queued", "statusLabel": "queued", "finishedAt": None,
             "localPath": None}
    lab.page.evaluate(JS_ADD_SAVED_OUTPUT, [2, MIME, saved])
    root = lab.cell(2).element_handle()
    lab.wait_for(
        f"(root) => {{ const c = ({JS_CARD})(root); return !!c && c.status === 'succeeded'"
        " && c.src !== null; }",
        root, timeout=10_000, what="the card with the server's state and the video",
        detail=lambda: lab.page.evaluate(JS_CARD, root),
    )
    card = play_lab_card(lab, root)
    lab.shot("lab-card", lab.cell(2))
    assert card["error"] is None, card
    assert card["width"] == 854, card
    assert card["src"].endswith("/files/" + "/".join(
        re.sub(r"[^A-Za-z0-9_.~-]", lambda m: f"%{ord(m.group()):02X}", part)
        for part in job["localPath"].split("/")
    )), card
    assert card["label"] == f"Generated video: {prompt}"
    assert not card["savedHtml"], "the saved HTML card was shown instead of the live card"


def test_a_running_cell_shows_exactly_one_card_whose_clock_ticks(lab: Lab) -> None:
    prompt = "A candle flame in a draughty room, one card only"
    lab.open([LOAD, f"%%seedance -d 15 -r 480p\n{prompt}"])
    lab.run_all()
    root = lab.cell(1).element_handle()
    try:
        wait_for_card(lab, root, "(c) => /queued|processing/.test(c.status) && c.elapsed !== ''",
                      timeout=JOB_MS, what="the running card with its clock")
        first = lab.page.evaluate(JS_LAB_CARDS, root)
        lab.wait_for(
            f"([root, before]) => ({JS_LAB_CARDS})(root).elapsed !== before",
            [root, first["elapsed"]], timeout=2_500, what="the clock ticking", polling=50,
        )
        later = lab.page.evaluate(JS_LAB_CARDS, root)
    finally:
        cancel_on_server(lab, prompt)
    assert (first["cards"], first["others"], first["outputs"]) == (1, 0, 1), first
    assert (later["cards"], later["others"], later["outputs"]) == (1, 0, 1), later
    assert clock_seconds(later["elapsed"]) > clock_seconds(first["elapsed"]), (first, later)


def test_cancel_on_the_card_cancels_the_job_within_two_seconds(lab: Lab) -> None:
    prompt = "A long dolly along a pier, cancelled from the lab card"
    lab.open([LOAD, f"%%seedance -d 15 -r 480p\n{prompt}"])
    lab.run_all()
    cell = lab.cell(1)
    lab.wait_for(
        "(root) => { const b = root.querySelector('.seedance-lab-card .seedance-cancel');"
        " return !!b && !b.disabled && b.offsetParent !== null; }",
        cell.element_handle(), timeout=JOB_MS, what="the card's Cancel button",
    )
    job = server_job(lab, prompt)
    assert job is not None and job["requestId"], job

    cell.locator(".seedance-lab-card .seedance-cancel").click()
    clicked = time.monotonic()
    wait_for_card(lab, cell.element_handle(), "(c) => /\\bcancelled\\b/.test(c.status)",
                  timeout=CANCEL_WITHIN_MS, what="the card saying cancelled")
    took = time.monotonic() - clicked

    assert took < CANCEL_WITHIN_MS / 1000, took
    assert lab.server.cancel_posts(job["requestId"]) == 1


def test_cancel_on_the_card_reaches_a_service_the_notebook_chose_itself(
    lab: Lab, tmp_path: Path
) -> None:
    """The README's Colab recipe: the notebook sets SEEDANCE_BASE_URL before %load_ext,
    so its jobs belong to another service than the server's; the server cannot cancel
    them (409), the notebook's kernel can."""
    chosen = start(api_key=API_KEY, speed=1.0, output_dir=tmp_path / "chosen")
    prompt = "A ferry leaving a harbour, cancelled through its own kernel"
    try:
        lab.open([f"import os\nos.environ['SEEDANCE_BASE_URL'] = '{chosen.url}'\n{LOAD}",
                  f"%%seedance -d 15 -r 480p\n{prompt}"])
        lab.run_all()
        cell = lab.cell(1)
        lab.wait_for(
            "(root) => { const b = root.querySelector('.seedance-lab-card .seedance-cancel');"
            " return !!b && !b.disabled && b.offsetParent !== null; }",
            cell.element_handle(), timeout=JOB_MS, what="the card's Cancel button",
        )
        job = server_job(lab, prompt)
        assert job is not None and job["backend"] == chosen.url, job

        cell.locator(".seedance-lab-card .seedance-cancel").click()
        wait_for_card(lab, cell.element_handle(), "(c) => /\\bcancelled\\b/.test(c.status)",
                      timeout=30_000, what="the card saying cancelled")

        cancels = [r for r in chosen.requests if r.method == "POST"
                   and r.path == f"/api/open/v1/video/generations/{job['requestId']}/cancel"]
        assert len(cancels) == 1
        assert lab.server.cancel_posts(job["requestId"]) == 0
    finally:
        chosen.stop()


def test_card_finishes_and_plays_after_its_kernel_is_shut_down_mid_job(lab: Lab) -> None:
    prompt = "A tram crossing a bridge at dusk, finished by the server"
    lab.open([LOAD, f"%%seedance -d 15 -r 480p\n{prompt}"])
    lab.run_all()
    cell = lab.cell(1)
    root = cell.element_handle()
    wait_for_card(lab, root, "(c) => /queued|processing/.test(c.status)", timeout=JOB_MS,
                  what="the running card")
    session_id = lab.session_id()
    assert session_id is not None
    kernel_id = lab.server.api("GET", f"/api/sessions/{session_id}")["kernel"]["id"]
    lab.server.shut_down(lab.notebook)
    assert kernel_id not in lab.server.kernel_ids()
    job = server_job(lab, prompt)
    assert job is not None and job["status"] in ("queued", "processing"), job

    lab.wait_for(
        f"(root) => {{ const c = ({JS_CARD})(root); return !!c && c.status === 'succeeded'"
        " && c.src !== null; }",
        root, timeout=JOB_MS, what="the card succeeded with a video, without its kernel",
        detail=lambda: lab.page.evaluate(JS_CARD, root),
    )
    card = play_lab_card(lab, root)
    assert card["error"] is None, card
    assert card["readyState"] >= 2 and card["width"] == 854, card
    lab.page.set_viewport_size({"width": 900, "height": 900})  # a docs-sized card
    lab.page.evaluate(JS_VIDEO_STILL, root)
    themed_shots(lab, "lab-card", cell.locator(".seedance-lab-card"), "lab-card")


# True once cell i's last output (the form's job list) holds no live widget any more.
JS_LIST_SAVED = """(i) => {
  const outputs = window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs;
  const data = outputs.length ? outputs.get(outputs.length - 1).data : {};
  return 'application/vnd.seedance.jobs+json' in data
    && !('application/vnd.jupyter.widget-view+json' in data);
}"""


def test_a_form_job_shows_one_lab_card_while_it_runs_and_the_same_card_after(
    lab: Lab,
) -> None:
    prompt = "A paper crane unfolding, submitted from the form"
    lab.open([f"import seedance_jupyter\n"
              f"seedance_jupyter.form(prompt={prompt!r}, duration=4, resolution='480p')"])
    lab.run_all()
    root = lab.cell(0).element_handle()
    lab.wait_for("(root) => { const b = root.querySelector('.seedance-form .seedance-submit');"
                 " return !!b && !b.disabled; }", root, timeout=JOB_MS, what="the form")
    lab.cell(0).locator(".seedance-form .seedance-submit").click()

    wait_for_card(lab, root, "(c) => /queued|processing/.test(c.status)", timeout=JOB_MS,
                  what="the running job's card")
    running = lab.page.evaluate(JS_LAB_CARDS, root)
    wait_for_card(lab, root, "(c) => /succeeded/.test(c.status)", timeout=JOB_MS,
                  what="the finished job's card")
    lab.wait_for(JS_LIST_SAVED, 0, timeout=JOB_MS, what="the job list saved")
    card = play_lab_card(lab, root)
    ended = lab.page.evaluate(JS_LAB_CARDS, root)
    lab.shot("form-job-ended", lab.cell(0))

    assert (running["cards"], running["others"]) == (1, 0), running
    assert (ended["cards"], ended["others"]) == (1, 0), ended
    assert card["error"] is None and card["width"], card
