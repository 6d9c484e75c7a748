"""The panel and the card as JupyterLab's own parts look and behave: the filters in the
interface font and not clipped, an icon-only sidebar tab, the request id on the card,
what a cancelled job was charged, and a renamed notebook's jobs following it."""

from __future__ import annotations

import re
import time

import pytest

from .conftest import Lab, write_notebook
from .test_labext import (
    CANCEL_WITHIN_MS,
    JOB_MS,
    LOAD,
    PANEL,
    cancel_on_server,
    open_panel,
    server_job,
    themed_shots,
    wait_for_card,
)
from .test_panel import panel_item, wait_in_panel

pytestmark = [pytest.mark.browser, pytest.mark.labext]

#: JupyterLab's interface font size (--jp-ui-font-size1).
UI_FONT_PX = 13.0
RAW_STATES = ("pending", "submission_uncertain", "submission uncertain", "queued", "processing",
              "cancelling", "succeeded", "failed", "cancelled", "rejected")

# Each filter: its font, whether its box clips its text (scrollWidth and the width the
# selected option's text needs in that font, against the room inside the box), its options.
JS_FILTERS = f"""() => [...document.querySelectorAll('{PANEL} select')].map(s => {{
  const style = getComputedStyle(s);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = `${{style.fontSize}} ${{style.fontFamily}}`;
  const room = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return {{label: s.getAttribute('aria-label'), fontPx: parseFloat(style.fontSize),
          scrollWidth: s.scrollWidth, clientWidth: s.clientWidth,
          textWidth: ctx.measureText(s.selectedOptions[0].textContent).width, room,
          inHtmlSelect: !!s.closest('.jp-HTMLSelect'),
          options: [...s.options].map(o => o.textContent)}};
}})"""
JS_SIDEBAR_TAB = f"""() => {{
  const tab = [...document.querySelectorAll('.jp-SideBar .lm-TabBar-tab')]
    .find(t => t.dataset.id === '{PANEL[1:]}');
  return tab ? {{label: tab.querySelector('.lm-TabBar-tabLabel').textContent,
                title: tab.getAttribute('title'),
                icon: !!tab.querySelector('.lm-TabBar-tabIcon svg')}} : null;
}}"""
JS_CARD_ID = """(root) => { const c = root.querySelector('.seedance-lab-card');
  const id = c && c.querySelector('.seedance-request-id');
  const copy = c && c.querySelector('.seedance-copy-id');
  return id && id.offsetParent !== null ? {id: id.textContent,
    fontPx: parseFloat(getComputedStyle(id).fontSize),
    select: getComputedStyle(id).userSelect, copy: copy.textContent} : null; }"""
JS_CARD_COST = """(root) => { const c = root.querySelector('.seedance-lab-card .seedance-cost');
  return c ? c.textContent : null; }"""
JS_CURRENT_PATH = """() => { const w = window.jupyterapp.shell.currentWidget;
  return w && w.context ? w.context.path : null; }"""


def test_panel_filters_are_jupyterlab_selects_in_the_ui_font_and_not_clipped(lab: Lab) -> None:
    prompt = "A lighthouse beam sweeping fog, listed under a long notebook name"
    lab.open([LOAD, f"%%seedance -d 4 -r 480p\n{prompt}", "%seedance wait"])
    lab.run_all()
    open_panel(lab)
    wait_in_panel(lab, prompt, "succeeded", JOB_MS, "the job in the panel")
    lab.page.locator(f"{PANEL} select[aria-label='Filter by notebook']").select_option(
        lab.notebook)
    filters = lab.page.evaluate(JS_FILTERS)

    assert [f["label"] for f in filters] == [
        "Show my jobs or the team's", "Filter by status", "Filter by notebook"], filters
    for box in filters:
        assert box["inHtmlSelect"], box
        assert box["fontPx"] == UI_FONT_PX, box
        assert box["scrollWidth"] <= box["clientWidth"], box
        assert box["textWidth"] <= box["room"], box
    status = filters[1]["options"]
    assert status[:3] == ["All statuses", "Running", "Finished"], status
    assert not set(status) & set(RAW_STATES), status
    assert all(label[0].isupper() for label in status), status
    themed_shots(lab, "filters", lab.page.locator(PANEL), "lab-panel-filters")


def test_the_seedance_sidebar_tab_shows_its_icon_and_a_tooltip_not_a_label(lab: Lab) -> None:
    lab.open(["'the sidebar'"])
    open_panel(lab)
    tab = lab.page.evaluate(JS_SIDEBAR_TAB)
    assert tab == {"label": "", "title": "Seedance Jobs", "icon": True}, tab


def test_the_lab_card_shows_the_request_id_small_and_copies_it(lab: Lab) -> None:
    prompt = "A paper lantern rising, its request id on the card"
    lab.open([LOAD, f"%%seedance -d 4 -r 480p\n{prompt}"])
    lab.run_all()
    root = lab.cell(1).element_handle()
    lab.wait_for(f"(root) => ({JS_CARD_ID})(root) !== null", root, timeout=JOB_MS,
                 what="the request id on the card")
    shown = lab.page.evaluate(JS_CARD_ID, root)
    job = server_job(lab, prompt)
    assert job is not None and shown["id"] == job["requestId"], (shown, job)
    assert shown["fontPx"] < UI_FONT_PX and shown["select"] == "all", shown

    lab.cell(1).get_by_role("button", name=f"Copy request id {job['requestId']}").click()
    lab.wait_for(f"(root) => ({JS_CARD_ID})(root).copy === 'Copied'", root, timeout=2_000,
                 what="the Copied feedback")


def test_a_cancelled_card_and_the_panel_say_what_was_charged_and_not_refunded(
    lab: Lab,
) -> None:
    prompt = "A long crane shot over rooftops, cancelled and its charge shown"
    lab.open([LOAD, f"%%seedance -d 15 -r 480p\n{prompt}"])
    open_panel(lab)
    lab.run_all()
    cell = lab.cell(1)
    wait_for_card(lab, cell.element_handle(), "(c) => /queued|processing/.test(c.status)",
                  timeout=JOB_MS, what="the running card")
    cell.locator(".seedance-lab-card .seedance-cancel").click()
    wait_for_card(lab, cell.element_handle(), "(c) => /\\bcancelled\\b/.test(c.status)",
                  timeout=CANCEL_WITHIN_MS, what="the card saying cancelled")
    job = server_job(lab, prompt)
    assert job is not None and job["creditsCharged"], job
    said = f"{job['creditsCharged']} credits charged, not refunded by the service"

    lab.wait_for(f"(root) => ({JS_CARD_COST})(root) === {said!r}", cell.element_handle(),
                 timeout=5_000, what="the card's charge line",
                 detail=lambda: lab.page.evaluate(JS_CARD_COST, cell.element_handle()))
    wait_in_panel(lab, prompt, "cancelled", 5_000, "the panel saying cancelled")
    meta = panel_item(lab, prompt).locator(".seedance-job-meta").text_content()
    assert meta is not None and meta.startswith(said), meta
    assert "est." not in meta


def test_a_renamed_notebooks_jobs_follow_it_and_its_link_opens_it(lab: Lab) -> None:
    first = "A swallow over a wheat field, made before the rename"
    later = "A swallow at dusk, made after the rename by the same kernel"
    lab.open([LOAD, f"%%seedance -d 4 -r 480p\n{first}", "%seedance wait"])
    lab.run_all()
    open_panel(lab)
    wait_in_panel(lab, first, "succeeded", JOB_MS, "the first job in the panel")
    renamed = f"renamed-{lab.name}.ipynb"
    lab.page.evaluate(
        "([a, b]) => window.jupyterapp.serviceManager.contents.rename(a, b)",
        [lab.notebook, renamed])
    link = panel_item(lab, first).get_by_role("button", name=f"Open notebook {renamed}")
    link.wait_for(timeout=10_000)

    write_notebook(lab.server.root / "other.ipynb", ["'elsewhere'"])
    lab.page.evaluate("() => window.jupyterapp.commands.execute("
                      "'docmanager:open', {path: 'other.ipynb'})")
    lab.wait_for(f"() => ({JS_CURRENT_PATH})() === 'other.ipynb'", None, timeout=10_000,
                 what="another notebook in front")
    link.click()
    lab.wait_for(f"(p) => ({JS_CURRENT_PATH})() === p", renamed, timeout=10_000,
                 what="the renamed notebook opened from the panel",
                 detail=lambda: lab.page.evaluate(JS_CURRENT_PATH))

    # The kernel was started for the old name; its next job is listed under the new one.
    lab.page.evaluate(
        "(code) => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        ".requestExecute({code}).done", f"%%seedance -d 4 -r 480p\n{later}")
    try:
        wait_in_panel(lab, later, "\\w+", JOB_MS, "the later job in the panel")
        deadline = time.monotonic() + 10
        job = server_job(lab, later)
        while not (job and job["notebook"] == renamed):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
            job = server_job(lab, later)
    finally:
        cancel_on_server(lab, later)
        lab.server.shut_down(renamed)
    old = [j for j in lab.server.api("GET", "/seedance/api/jobs")["jobs"]
           if j["notebook"] == lab.notebook]
    assert old == [], old
    assert re.search(renamed, panel_item(lab, later).text_content() or "")

