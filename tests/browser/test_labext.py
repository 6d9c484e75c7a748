"""The lab extension against the real server extension, kernel and emulator: the Seedance
panel follows a job live from the event stream and cancels it over REST; the MIME card
shows the server's current state of a job, not the saved one, and plays its video."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from .conftest import Lab

pytestmark = [pytest.mark.browser, pytest.mark.labext]

LOAD = "%load_ext seedance_jupyter"
MIME = "application/vnd.seedance.job+json"
JOB_MS = 60_000
PANEL = "#seedance-jupyter-panel"

# The panel's item for the job whose prompt is the argument, as plain data.
JS_PANEL_ITEM = """(prompt) => {
  const li = [...document.querySelectorAll('#seedance-jupyter-panel .seedance-job')]
    .find(li => li.querySelector('.seedance-job-prompt').textContent === prompt);
  return li ? {status: li.dataset.status, text: li.textContent} : null;
}"""
JS_STATUS_ITEM = "() => document.querySelector('.seedance-status-item').textContent"
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


def test_panel_follows_a_job_live_and_cancels_it(lab: Lab) -> None:
    prompt = "A long pan over a salt flat, cancelled from the Seedance panel"
    lab.open([LOAD, f"%%seedance -d 15 -r 480p\n{prompt}"])
    lab.page.evaluate("() => window.jupyterapp.commands.execute('seedance:open-panel')")
    lab.page.wait_for_selector(PANEL)
    lab.run_all()

    lab.wait_for(
        f"(p) => {{ const i = ({JS_PANEL_ITEM})(p);"
        " return !!i && ['queued', 'processing'].includes(i.status); }",
        prompt, timeout=JOB_MS, what="the running job in the panel, without a reload",
        detail=lambda: lab.page.evaluate(JS_PANEL_ITEM, prompt),
    )
    assert re.search(r"\b1 running\b", lab.page.evaluate(JS_STATUS_ITEM))
    lab.shot("panel-running", lab.page.locator(PANEL))

    item = lab.page.locator(f"{PANEL} .seedance-job", has_text=prompt)
    item.get_by_role("button", name=re.compile(r"^Cancel job ")).click()
    lab.wait_for(
        f"(p) => ({JS_PANEL_ITEM})(p).status === 'cancelled'", prompt, timeout=10_000,
        what="the job cancelled in the panel",
        detail=lambda: lab.page.evaluate(JS_PANEL_ITEM, prompt),
    )
    job = server_job(lab, prompt)
    assert job is not None
    assert job["status"] == "cancelled"
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
    lab.page.evaluate("(root) => { const v = root.querySelector('.seedance-lab-card video');"
                      " v.muted = true; v.play().catch(() => {}); }", root)
    lab.wait_for(
        f"(root) => {{ const c = ({JS_CARD})(root); return c.readyState >= 2 || !!c.error; }}",
        root, timeout=10_000, what="the card's video loaded",
    )
    card = lab.page.evaluate(JS_CARD, root)
    lab.shot("lab-card", lab.cell(2))
    assert card["error"] is None, card
    assert card["width"] == 854, card
    assert card["src"].endswith("/files/" + "/".join(
        re.sub(r"[^A-Za-z0-9_.~-]", lambda m: f"%{ord(m.group()):02X}", part)
        for part in job["localPath"].split("/")
    )), card
    assert card["label"] == f"Generated video: {prompt}"
    assert not card["savedHtml"], "the saved HTML card was shown instead of the live card"
