"""What a user sees in Notebook 7, which serves the same lab extension as JupyterLab: one
live card per job, Cancel, a job that its card follows to the video after the kernel is
gone, literal dollars; and, without the lab extension, the kernel's own card."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from .conftest import Lab
from .test_lab import (
    CANCEL_WITHIN_S,
    JOB_MS,
    LOAD,
    WIDE,
    assert_plays,
    card_status,
    playing_video,
)
from .test_labext import (
    JS_CARD,
    PANEL,
    cancel_on_server,
    open_panel,
    play_lab_card,
    server_job,
)
from .test_panel import panel_item, wait_in_panel

pytestmark = [pytest.mark.browser, pytest.mark.notebook7]
with_labext = pytest.mark.labext

#: Every kind of card under a cell's output area: the lab extension's MIME card, the
#: kernel's live widget card and its saved HTML card.
JS_CARD_COUNT = """(root) => root.querySelectorAll(['.seedance-lab-card', '.seedance-card',
  '.seedance-result'].map((c) => `.jp-OutputArea ${c}`).join(', ')).length"""
JS_ELAPSED = "(root) => root.querySelector('.seedance-lab-card .seedance-elapsed').textContent"
#: The lab card's Cancel button once it can cancel: the job's id is in its label.
JS_CANCEL_LABEL = """(root) => {
  const b = root.querySelector('.seedance-lab-card .seedance-cancel');
  const label = b && !b.disabled && b.offsetParent !== null && b.getAttribute('aria-label');
  return label && label.startsWith('Cancel job ') ? label : null;
}"""
ELAPSED_TICKS_WITHIN_MS = 2_000
#: A kernel shut down cleanly gives up its leases at exit, and the lease of one that died is
#: taken over on sight; the wait still allows a lease (35 s by default) to run out.
ORPHAN_MS = 90_000


def lab_card_status(lab: Lab, root: Any, pattern: str, timeout: float) -> None:
    """Wait until the lab card's status under ``root`` matches the JS regex ``pattern``."""
    lab.wait_for(
        f"(root) => {{ const c = ({JS_CARD})(root); return !!c && /{pattern}/.test(c.status); }}",
        root, timeout=timeout, what=f"lab card status /{pattern}/",
        detail=lambda: lab.page.evaluate(JS_CARD, root), polling=50,
    )


@with_labext
def test_running_cell_shows_one_lab_card_whose_elapsed_time_ticks(lab: Lab) -> None:
    lab.open([LOAD, "%%seedance -d 15 -r 480p\nA slow pan over a salt flat, in Notebook 7"])
    lab.run_all()
    cell = lab.cell(1)
    root = cell.element_handle()
    lab_card_status(lab, root, "queued|processing", timeout=JOB_MS)
    lab.shot("running", cell)
    assert lab.page.evaluate(JS_CARD_COUNT, root) == 1
    assert cell.locator(".jp-OutputArea .seedance-lab-card").count() == 1

    before = lab.page.evaluate(JS_ELAPSED, root)
    lab.wait_for(
        f"([root, before]) => ({JS_ELAPSED})(root) !== before", [root, before],
        timeout=ELAPSED_TICKS_WITHIN_MS, what=f"the elapsed time to move on from {before!r}",
    )
    assert lab.page.evaluate(JS_CARD_COUNT, root) == 1


@with_labext
def test_cancel_on_the_lab_card_cancels_the_job_within_two_seconds(lab: Lab) -> None:
    lab.open([LOAD, "%%seedance -d 15 -r 480p\nA long tide, cancelled from Notebook 7"])
    lab.run_all()
    cell = lab.cell(1)
    root = cell.element_handle()
    lab.wait_for(JS_CANCEL_LABEL, root, timeout=JOB_MS, what="an enabled Cancel button")
    request_id = lab.page.evaluate(JS_CANCEL_LABEL, root).removeprefix("Cancel job ")
    assert re.fullmatch(r"[\w-]+", request_id), request_id

    cell.locator(".seedance-lab-card .seedance-cancel").click()
    clicked = time.monotonic()
    lab_card_status(lab, root, r"\bcancelled\b", timeout=CANCEL_WITHIN_S * 1000)
    took = time.monotonic() - clicked
    lab.shot("cancelled", cell)

    assert took < CANCEL_WITHIN_S
    assert lab.server.cancel_posts(request_id) == 1


@with_labext
def test_lab_card_reaches_the_video_after_the_kernel_is_shut_down(lab: Lab) -> None:
    lab.open([LOAD, "%%seedance -d 4 -r 480p\nA kite over dunes, finished with no kernel"])
    lab.run_all()
    root = lab.cell(1).element_handle()
    lab_card_status(lab, root, "queued|processing", timeout=JOB_MS)
    kernels = lab.server.kernel_ids()
    lab.server.shut_down(lab.notebook)
    assert lab.server.kernel_ids() < kernels

    lab_card_status(lab, root, r"\bsucceeded\b", timeout=ORPHAN_MS)
    card = play_lab_card(lab, root, timeout=JOB_MS)
    lab.shot("finished-without-kernel", lab.cell(1))
    assert card["error"] is None, card
    assert card["readyState"] >= 2, card
    assert card["width"] == WIDE[0], card


@with_labext
def test_dollar_amounts_in_a_prompt_render_literally_in_the_lab_card(lab: Lab) -> None:
    lab.open([LOAD, "%%seedance -d 4 -r 480p --wait\nA $5 and $10 bill on a table"])
    lab.run_all()
    root = lab.cell(1).element_handle()
    lab_card_status(lab, root, r"\bsucceeded\b", timeout=JOB_MS)
    prompt = lab.cell(1).locator(".seedance-lab-card .seedance-prompt")
    assert prompt.inner_text() == "A $5 and $10 bill on a table"
    assert lab.cell(1).locator("mjx-container, .MathJax").count() == 0


def test_dollar_amounts_in_a_prompt_render_literally_in_the_kernels_card(lab: Lab) -> None:
    lab.open([LOAD, "%%seedance -d 4 -r 480p --wait\nA $5 and $10 bill on a table"])
    lab.run_all()
    root = lab.cell(1).element_handle()
    card_status(lab, root, r"\bsucceeded\b", timeout=JOB_MS)
    prompt = lab.cell(1).locator(".seedance-result .seedance-prompt")
    assert "A $5 and $10 bill on a table" in prompt.inner_text()  # beside the badge
    assert lab.cell(1).locator("mjx-container, .MathJax").count() == 0


def test_without_the_lab_extension_the_kernels_card_is_alone_and_plays(lab: Lab) -> None:
    lab.open([LOAD, "%%seedance -d 4 -r 480p\nA lighthouse beam over fog, in plain Notebook 7"])
    lab.run_all()
    cell = lab.cell(1)
    root = cell.element_handle()
    card_status(lab, root, "queued|processing", timeout=JOB_MS)
    assert lab.page.evaluate(JS_CARD_COUNT, root) == 1
    assert cell.locator(".jp-OutputArea .seedance-card").count() == 1

    assert_plays(playing_video(lab, root), WIDE)
    lab.shot("finished", cell)
    assert lab.page.evaluate(JS_CARD_COUNT, root) == 1


@with_labext
def test_the_seedance_panel_opens_in_notebook7_and_cancels_a_job(lab: Lab) -> None:
    prompt = "A night ferry, followed from the Seedance panel in Notebook 7"
    lab.open([LOAD, f"%%seedance -d 15 -r 480p\n{prompt}"])
    open_panel(lab)
    lab.run_all()
    try:
        wait_in_panel(lab, prompt, "queued|processing", JOB_MS, "the running job in the panel")
        lab.shot("panel", lab.page.locator(PANEL))
        panel_item(lab, prompt).get_by_role("button", name=re.compile(r"^Cancel job ")).click()
        wait_in_panel(lab, prompt, "cancelled", CANCEL_WITHIN_S * 1000, "the job cancelled")
    finally:
        cancel_on_server(lab, prompt)


@with_labext
def test_notebook7_card_shows_the_request_id_and_a_cancelled_jobs_charge(lab: Lab) -> None:
    prompt = "A harbour crane turning, its id and charge on the Notebook 7 card"
    lab.open([LOAD, f"%%seedance -d 15 -r 480p\n{prompt}"])
    lab.run_all()
    cell = lab.cell(1)
    root = cell.element_handle()
    label = None
    try:
        lab.wait_for(JS_CANCEL_LABEL, root, timeout=JOB_MS, what="the card's Cancel button")
        label = lab.page.evaluate(JS_CANCEL_LABEL, root)
        request_id = label.removeprefix("Cancel job ")
        shown = cell.locator(".seedance-lab-card .seedance-request-id").text_content()
        assert shown == request_id, (shown, label)
        cell.locator(".seedance-lab-card .seedance-cancel").click()
        lab_card_status(lab, root, "cancelled", CANCEL_WITHIN_S * 1000)
    finally:
        cancel_on_server(lab, prompt)
    job = server_job(lab, prompt)
    assert job is not None and job["creditsCharged"], job
    said = f"{job['creditsCharged']} credits charged, not refunded by the service"
    lab.wait_for(
        "([root, said]) => root.querySelector('.seedance-lab-card .seedance-cost')"
        ".textContent === said", [root, said], timeout=5_000, what="the card's charge line")


@with_labext
def test_notebook7_lists_the_seedance_panel_once_in_the_palette(lab: Lab) -> None:
    lab.open(["'the palette'"])
    lab.page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:activate-command-palette')")
    lab.page.wait_for_selector(".lm-CommandPalette-item", state="attached")
    labels = lab.page.evaluate(
        "() => [...document.querySelectorAll('.lm-CommandPalette-itemLabel')]"
        ".map(l => l.textContent)")
    panel = [label for label in labels if re.search(r"seedance (jobs|panel)", label, re.I)]
    assert panel == ["Show Seedance Jobs"], labels
