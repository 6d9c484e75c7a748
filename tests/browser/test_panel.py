"""The Seedance panel, its gallery, compare and the status bar, in JupyterLab with our lab
extension, against the real server extension, kernels and emulator."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from seedance_jupyter.jobs.poster import POSTER_MAX_SIDE

from .conftest import ARTIFACTS, DARK, Lab, LabServer
from .test_lab import JS_CONTRAST
from .test_labext import (
    CANCEL_WITHIN_MS,
    JOB_MS,
    JS_PANEL_ITEM,
    JS_STATUS_ITEM,
    LOAD,
    PANEL,
    cancel_on_server,
    open_panel,
    server_job,
    themed_shots,
    wait_for_card,
)

pytestmark = [pytest.mark.browser, pytest.mark.labext]

APPEAR_WITHIN_MS = 2_000
#: Three takes of one idea, submitted in this order, so the gallery shows them reversed.
IDEA = "A paper crane unfolding itself on a desk"
TAKES = [f"{IDEA}, take {n}: {light}" for n, light in
         enumerate(["morning light", "neon light", "candle light"], start=1)]
SYNC_S = 0.1
FINAL = ("succeeded", "failed", "cancelled", "rejected")

JS_RUNNING_IN_PANEL = f"""() => [...document.querySelectorAll('{PANEL} .seedance-job')]
  .filter(li => !{list(FINAL)!r}.includes(li.dataset.status)).length"""
# The panel's running jobs and today's spend beside the status bar's text, read at once.
JS_COUNTS = f"""() => ({{running: ({JS_RUNNING_IN_PANEL})(),
  today: document.querySelector('{PANEL} .seedance-spend dd').textContent,
  bar: ({JS_STATUS_ITEM})()}})"""
GALLERY = ".jp-MainAreaWidget .seedance-gallery-view"
# The gallery's tiles in page order: prompt and the state of the poster image.
JS_TILES = f"""() => [...document.querySelectorAll('{GALLERY} .seedance-tile')].map(t => {{
  const img = t.querySelector('.seedance-tile-play img');
  return {{prompt: t.querySelector('.seedance-tile-prompt').textContent,
          caption: [...t.querySelectorAll('.seedance-tile-caption')].map(c => c.textContent),
          left: t.getBoundingClientRect().left,
          src: img ? img.getAttribute('src').slice(0, 23) : null,
          loaded: !!img && img.complete && img.naturalWidth > 0,
          width: img ? img.naturalWidth : 0}};
}})"""
# The gallery's viewer: its video's state and width.
JS_VIEWER = f"""() => {{ const v = document.querySelector('{GALLERY} .seedance-viewer video');
  return v ? {{readyState: v.readyState, error: v.error ? v.error.code : null,
             width: v.getBoundingClientRect().width,
             label: v.getAttribute('aria-label')}} : null; }}"""
JS_COMPARE_VIDEOS = """() => [...document.querySelectorAll('.seedance-compare video')].map(v => ({
  t: v.currentTime, paused: v.paused, seeking: v.seeking, readyState: v.readyState,
  error: v.error ? v.error.code : null, label: v.getAttribute('aria-label')}))"""


def open_gallery(lab: Lab) -> None:
    """The gallery, from the panel's toolbar button."""
    open_panel(lab)
    lab.page.locator(PANEL).get_by_role("button", name="Gallery").click()
    lab.page.wait_for_selector(GALLERY)


def close_notebook(lab: Lab) -> None:
    """Save and close the notebook's tab (closing alone keeps the kernel running)."""
    lab.save()
    lab.page.evaluate("() => window.jupyterapp.shell.currentWidget.close()")
    lab.page.wait_for_selector(".jp-NotebookPanel", state="detached")


def panel_item(lab: Lab, prompt: str) -> Any:
    return lab.page.locator(f"{PANEL} .seedance-job", has_text=prompt)


def wait_in_panel(lab: Lab, prompt: str, statuses: str, timeout: float, what: str) -> None:
    """Wait until the panel lists ``prompt`` with a status matching the JS regex ``statuses``."""
    lab.wait_for(
        f"(p) => {{ const i = ({JS_PANEL_ITEM})(p);"
        f" return !!i && /^({statuses})$/.test(i.status); }}",
        prompt, timeout=timeout, what=what, polling=50,
        detail=lambda: lab.page.evaluate(JS_PANEL_ITEM, prompt),
    )


@pytest.fixture(scope="module")
def takes(browser: Any, labext_server: LabServer) -> list[dict[str, Any]]:
    """The three takes, finished and downloaded (the server's JobSummaries, in order)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    maker = Lab(context.new_page(), labext_server, "takes", ARTIFACTS)
    try:
        maker.open([LOAD, *(f"%%seedance -d 4 -r 480p\n{p}" for p in TAKES), "%seedance wait"])
        maker.run_all()
        deadline = time.monotonic() + 2 * JOB_MS / 1000
        jobs = [server_job(maker, p) for p in TAKES]
        while not all(j and j["status"] == "succeeded" and j["localPath"] for j in jobs):
            assert time.monotonic() < deadline, f"the takes did not finish: {jobs}"
            time.sleep(0.5)
            jobs = [server_job(maker, p) for p in TAKES]
    finally:
        context.close()
        labext_server.shut_down(maker.notebook)
    return [j for j in jobs if j]


def test_a_submitted_job_appears_in_the_panel_within_two_seconds(lab: Lab) -> None:
    prompt = "A heron lifting off a canal, listed at once"
    lab.open([LOAD, f"%%seedance -d 15 -r 480p\n{prompt}"])
    open_panel(lab)
    lab.run_all()
    try:
        wait_for_card(lab, lab.cell(1).element_handle(), "(c) => true", timeout=JOB_MS,
                      what="the cell's card")
        submitted = time.monotonic()
        wait_in_panel(lab, prompt, "\\w+", APPEAR_WITHIN_MS, "the job in the panel")
        took = time.monotonic() - submitted
    finally:
        cancel_on_server(lab, prompt)
    assert took < APPEAR_WITHIN_MS / 1000, took


def test_a_job_whose_notebook_is_closed_is_listed_and_cancelled_from_the_panel(
    lab: Lab,
) -> None:
    prompt = "A ferry leaving harbour, its notebook closed"
    lab.open([LOAD, f"%%seedance -d 15 -r 480p\n{prompt}"])
    open_panel(lab)
    lab.run_all()
    wait_in_panel(lab, prompt, "queued|processing", JOB_MS, "the running job in the panel")
    close_notebook(lab)
    lab.server.shut_down(lab.notebook)
    assert lab.server.sessions(lab.notebook) == []

    wait_in_panel(lab, prompt, "queued|processing", 5_000, "the job still listed")
    job = server_job(lab, prompt)
    assert job is not None and job["requestId"], job
    panel_item(lab, prompt).get_by_role("button", name=re.compile(r"^Cancel job ")).click()
    wait_in_panel(lab, prompt, "cancelled", CANCEL_WITHIN_MS, "the job cancelled")

    assert lab.server.cancel_posts(job["requestId"]) == 1
    after = server_job(lab, prompt)
    assert after is not None and after["status"] == "cancelled", after


def test_status_bar_counts_match_the_panel(lab: Lab) -> None:
    prompts = [f"A windmill turning, counted {n}" for n in (1, 2)]
    lab.open([LOAD, *(f"%%seedance -d 15 -r 480p\n{p}" for p in prompts)])
    open_panel(lab)
    lab.run_all()
    try:
        for prompt in prompts:
            wait_in_panel(lab, prompt, "queued|processing", JOB_MS, "a running job in the panel")
        during = lab.page.evaluate(JS_COUNTS)
    finally:
        for prompt in prompts:
            cancel_on_server(lab, prompt)
    for prompt in prompts:
        wait_in_panel(lab, prompt, "cancelled", 10_000, "the job cancelled")
    after = lab.page.evaluate(JS_COUNTS)

    assert during["running"] >= 2, during
    for counts in (during, after):
        running = rf"\b{counts['running']} running\b" if counts["running"] else "running"
        assert bool(re.search(running, counts["bar"])) == (counts["running"] > 0), counts
        spent = re.match(r"\$\d+\.\d\d", counts["today"])
        assert spent and f"{spent.group()} today" in counts["bar"], counts


@pytest.mark.usefixtures("takes")
def test_gallery_opens_in_the_main_area_with_posters_newest_first_and_their_details(
    lab: Lab,
) -> None:
    lab.open(["'the gallery'"])
    open_gallery(lab)
    lab.wait_for(
        f"(prompts) => {{ const t = ({JS_TILES})().filter(t => prompts.includes(t.prompt));"
        " return t.length === prompts.length && t.every(t => t.loaded); }",
        TAKES, timeout=10_000, what="the takes' posters loaded",
        detail=lambda: lab.page.evaluate(JS_TILES),
    )
    tiles = lab.page.evaluate(JS_TILES)
    ours = [t for t in tiles if t["prompt"] in TAKES]
    assert [t["prompt"] for t in ours] == TAKES[::-1]
    assert all(t["src"] == "data:image/jpeg;base64," and t["width"] == POSTER_MAX_SIDE
               for t in ours), ours
    assert all(t["caption"][0].startswith("seedance-2.0 · 4 s")
               and re.fullmatch(r"\d+ credits charged", t["caption"][1]) for t in ours), ours
    assert len({t["left"] for t in ours}) == 3, "the takes are not side by side in a grid"

    server = {j["prompt"]: j for j in lab.server.api("GET", "/seedance/api/jobs")["jobs"]}
    created = [server[t["prompt"]]["createdAt"] for t in tiles]
    assert created == sorted(created, reverse=True), tiles
    assert all(server[t["prompt"]]["status"] == "succeeded" for t in tiles), tiles
    themed_shots(lab, "gallery", lab.page.locator(GALLERY), "lab-gallery")


@pytest.mark.usefixtures("takes")
def test_a_take_plays_in_the_gallerys_viewer_in_the_main_area(lab: Lab) -> None:
    lab.open(["'the viewer'"])
    open_gallery(lab)
    lab.page.locator(GALLERY).get_by_role("button", name=f"Play: {TAKES[0]}").click()
    lab.wait_for(
        f"() => {{ const v = ({JS_VIEWER})(); return !!v && (v.readyState >= 2 || !!v.error); }}",
        None, timeout=10_000, what="the take playing in the viewer",
        detail=lambda: lab.page.evaluate(JS_VIEWER),
    )
    viewer = lab.page.evaluate(JS_VIEWER)
    assert viewer["error"] is None, viewer
    assert viewer["label"] == f"Generated video: {TAKES[0]}"
    assert viewer["width"] > 480, viewer


@pytest.mark.usefixtures("takes")
def test_compare_plays_two_takes_in_sync_through_play_and_seek(lab: Lab) -> None:
    lab.open(["'compare'"])
    open_gallery(lab)
    gallery = lab.page.locator(GALLERY)
    for prompt in TAKES[:2]:
        gallery.get_by_role("checkbox", name=f"Select for compare: {prompt}").check()
    lab.page.locator(PANEL).get_by_role("button", name="Compare").click()
    view = lab.page.locator(".seedance-compare")
    view.wait_for()
    lab.wait_for(
        f"() => {{ const v = ({JS_COMPARE_VIDEOS})(); return v.length === 2"
        " && v.every(v => v.readyState >= 2 || v.error !== null); }",
        None, timeout=10_000, what="both takes loaded",
        detail=lambda: lab.page.evaluate(JS_COMPARE_VIDEOS),
    )
    videos = lab.page.evaluate(JS_COMPARE_VIDEOS)
    assert [v["error"] for v in videos] == [None, None], videos
    assert [v["label"] for v in videos] == [f"Generated video: {p}" for p in TAKES[:2]]

    view.get_by_role("button", name="Play all").click()
    lab.wait_for(
        f"() => ({JS_COMPARE_VIDEOS})().every(v => !v.paused && v.t > 1.0)",
        None, timeout=5_000, what="both takes playing past 1 s",
        detail=lambda: lab.page.evaluate(JS_COMPARE_VIDEOS),
    )
    played = lab.page.evaluate(JS_COMPARE_VIDEOS)
    assert abs(played[0]["t"] - played[1]["t"]) <= SYNC_S, played

    view.get_by_role("slider", name="Position").fill("0.5")
    lab.wait_for(
        f"() => ({JS_COMPARE_VIDEOS})().every(v => !v.paused && !v.seeking && v.t > 0.8"
        " && v.t < 2.5)",
        None, timeout=5_000, what="both takes playing on from the seek",
        detail=lambda: lab.page.evaluate(JS_COMPARE_VIDEOS),
    )
    sought = lab.page.evaluate(JS_COMPARE_VIDEOS)
    assert abs(sought[0]["t"] - sought[1]["t"]) <= SYNC_S, sought

    view.get_by_role("button", name="Pause all").click()
    lab.page.set_viewport_size({"width": 960, "height": 560})  # a docs-sized view
    themed_shots(lab, "compare", view, "lab-compare")


def test_a_running_jobs_status_chip_meets_aa_contrast_in_the_dark_theme(lab: Lab) -> None:
    prompt = "A slow tide at night, its chip read in the dark theme"
    lab.open([LOAD, f"%%seedance -d 15 -r 480p\n{prompt}"])
    open_panel(lab)
    lab.run_all()
    try:
        wait_in_panel(lab, prompt, "queued|processing", JOB_MS, "the running job in the panel")
        chip = panel_item(lab, prompt).locator(".seedance-job-status").element_handle()
        with lab.theme(DARK):
            dark = lab.page.evaluate(JS_CONTRAST, chip)
    finally:
        cancel_on_server(lab, prompt)
    assert dark >= 4.5, dark


@pytest.mark.usefixtures("takes")
def test_team_view_names_each_rows_user_and_the_teams_spend_per_user(lab: Lab) -> None:
    user = lab.server.api("GET", "/seedance/api/spend")["user"]
    lab.open(["'the team'"])
    open_panel(lab)
    scope = lab.page.locator(f"{PANEL} .seedance-scope select")
    meta = panel_item(lab, TAKES[0]).locator(".seedance-job-meta")
    by_user = lab.page.locator(f"{PANEL} .seedance-spend-users")
    meta.wait_for()
    assert scope.input_value() == "mine"
    assert not meta.inner_text().startswith("by ")
    assert by_user.is_hidden()

    scope.select_option("team")
    lab.wait_for("(u) => [...document.querySelectorAll('.seedance-job-meta')]"
                 ".some(m => m.textContent.startsWith(`by ${u} · `))", user,
                 timeout=5_000, what="the team's rows naming their user")
    by_user.wait_for(state="visible", timeout=5_000)
    assert re.fullmatch(rf"This month by user: .*\b{re.escape(user)} \$\d+\.\d+.*",
                        by_user.inner_text()), by_user.inner_text()

    scope.select_option("mine")
    by_user.wait_for(state="hidden", timeout=5_000)
    assert not meta.inner_text().startswith("by ")
