"""What a user sees in JupyterLab: the live card, Cancel, the form, and the saved video."""

from __future__ import annotations

import re
import time
from typing import Any

import nbformat
import pytest

from seedance_jupyter.emulator import pricing
from seedance_jupyter.emulator.render import frame_size

from .conftest import DARK, LIGHT, Lab

pytestmark = pytest.mark.browser

LOAD = "%load_ext seedance_jupyter"
JOB_MS = 60_000
#: A 4 s 480p 16:9 clip, as the emulator renders it.
WIDE = frame_size("480p", "16:9")
CANCEL_WITHIN_S = 2.0

# The last <video> under an element: its state, as plain data.
JS_VIDEO = """(root) => {
  const all = root.querySelectorAll('video');
  const v = all[all.length - 1];
  if (!v) return null;
  return {src: v.getAttribute('src'), currentSrc: v.currentSrc, readyState: v.readyState,
          error: v.error ? v.error.code : null, duration: v.duration, width: v.videoWidth,
          height: v.videoHeight, currentTime: v.currentTime, count: all.length};
}"""
# True once the last <video> under root shows the downloaded file (its src no longer the
# service's URL, which comes first) and plays it, muted; or has failed (checked after).
JS_VIDEO_PLAYING = """([root, serviceUrl]) => {
  const all = root.querySelectorAll('video');
  const v = all[all.length - 1];
  if (!v || (v.getAttribute('src') || '').startsWith(serviceUrl)) return false;
  if (v.error) return true;
  window.__played = window.__played || new WeakSet();
  if (!window.__played.has(v)) {
    window.__played.add(v);
    v.muted = true;
    v.play().catch(() => {});
  }
  return v.readyState >= 2 && v.currentTime > 0.3;
}"""
# Pause the last <video> under root on a frame well inside the clip, for a screenshot.
JS_VIDEO_STILL = """async (root) => {
  const all = root.querySelectorAll('video');
  const v = all[all.length - 1];
  v.pause();
  await new Promise((done) => { v.addEventListener('seeked', done, {once: true});
                                v.currentTime = 1.5; });
}"""
JS_STATUS = """(root) => {
  const s = root.querySelector('.seedance-card .seedance-status')
            || root.querySelector('.seedance-result');
  return s ? s.textContent : '';
}"""


def card_status(lab: Lab, root: Any, pattern: str, timeout: float) -> None:
    """Wait until the status line of the card under ``root`` matches the JS regex ``pattern``."""
    lab.wait_for(
        f"(root) => /{pattern}/.test(({JS_STATUS})(root))", root, timeout=timeout,
        what=f"card status /{pattern}/", detail=lambda: lab.page.evaluate(JS_STATUS, root),
        polling=50,
    )


def playing_video(lab: Lab, root: Any) -> dict[str, Any]:
    """Wait for the downloaded video under ``root`` to play; its state."""
    lab.wait_for(
        JS_VIDEO_PLAYING, [root, lab.server.emulator.url], timeout=JOB_MS,
        what="a playing video of the downloaded file",
        detail=lambda: (lab.page.evaluate(JS_VIDEO, root), lab.page.evaluate(JS_STATUS, root)),
    )
    state: dict[str, Any] = lab.page.evaluate(JS_VIDEO, root)
    return state


def assert_plays(state: dict[str, Any], size: tuple[int, int]) -> None:
    """A 4 s clip of ``size``, playing from the downloaded file served by JupyterLab."""
    assert state["error"] is None, state
    assert state["readyState"] >= 2, state
    assert abs(state["duration"] - 4) <= 0.2, state
    assert (state["width"], state["height"]) == size, state
    assert re.search(r"/files/seedance_outputs/[\w-]+\.mp4(\?|$)", state["currentSrc"]), state


def test_quickstart_cell_shows_running_card_then_playing_video(lab: Lab) -> None:
    assert WIDE == (854, 480)
    lab.open([LOAD, "%%seedance -d 4 -r 480p\nA paper boat drifting down a rain gutter, "
                    "macro lens, golden hour"])
    lab.run_all()
    cell = lab.cell(1)
    root = cell.element_handle()

    card_status(lab, root, "queued|processing", timeout=JOB_MS)
    assert cell.locator(".seedance-card").is_visible()
    lab.shot("card-running", cell, doc="card-running.png")

    assert_plays(playing_video(lab, root), WIDE)
    assert "succeeded" in lab.page.evaluate(JS_STATUS, root)
    lab.page.evaluate(JS_VIDEO_STILL, root)
    lab.shot("card-finished", cell, doc="card-finished.png")


def test_cancel_button_cancels_running_job_within_two_seconds(lab: Lab) -> None:
    lab.open([LOAD, "%%seedance -d 15 -r 480p\nA long slow pan over a salt flat, to be cancelled"])
    lab.run_all()
    cell = lab.cell(1)
    root = cell.element_handle()
    lab.wait_for(
        "(root) => { const b = root.querySelector('.seedance-card .seedance-cancel');"
        " return !!b && !b.disabled && b.offsetParent !== null; }",
        root, timeout=JOB_MS, what="an enabled Cancel button",
    )
    request_id = cell.locator(".seedance-card .seedance-request-id").inner_text().strip()
    assert re.fullmatch(r"[\w-]+", request_id), request_id
    assert re.search("queued|processing", lab.page.evaluate(JS_STATUS, root))
    lab.shot("before-cancel", cell)

    cell.locator(".seedance-card .seedance-cancel").click()
    clicked = time.monotonic()
    card_status(lab, root, r"\bcancelled\b", timeout=CANCEL_WITHIN_S * 1000)
    took = time.monotonic() - clicked
    lab.shot("cancelled", cell)

    assert took < CANCEL_WITHIN_S
    assert lab.server.cancel_posts(request_id) == 1


def test_form_shows_cost_then_submits_chosen_settings_to_a_playing_video(lab: Lab) -> None:
    prompt = "A red kite over dunes, submitted from the form"
    model = "seedance-2.0-fast"
    rates = next(m for m in pricing.EMULATOR_MODELS if m.id == model).usd_per_second
    lab.page.set_viewport_size({"width": 1280, "height": 1800})  # the whole form in view
    lab.open([LOAD, "%seedance form"])
    lab.run_all()
    cell = lab.cell(1)
    root = cell.element_handle()
    lab.wait_for("(root) => !!root.querySelector('.seedance-form .seedance-submit')", root,
                 timeout=JOB_MS, what="the form")
    form = cell.locator(".seedance-form").first
    cost = form.locator(".seedance-cost")

    def cost_changes(before: str) -> str:
        lab.wait_for(
            "([el, before]) => el.textContent.trim() !== '' && el.textContent !== before",
            [cost.element_handle(), before], timeout=10_000, what="a new cost line",
            detail=cost.inner_text,
        )
        return str(cost.inner_text())

    form.locator(".seedance-prompt textarea").fill(prompt)
    initial = cost.inner_text()
    labels = form.locator(".seedance-model select option").all_inner_texts()
    form.locator(".seedance-model select").select_option(
        label=next(label for label in labels if label.split()[0] == model)
    )
    before = cost_changes(initial)
    form.locator(".seedance-duration select").select_option(label="4")
    after_duration = cost_changes(before)
    form.locator('.seedance-resolution button[data-value="480p"]').click()
    after_resolution = cost_changes(after_duration)
    form.locator('.seedance-ratio button[data-value="1%3A1"]').click()
    lab.wait_for(
        "(root) => !!root.querySelector('.seedance-ratio button.mod-active[data-value=\"1%3A1\"]')",
        root, timeout=10_000, what="1:1 chosen",
    )

    assert f"${rates['720p'] * 5:.2f}" in before, before
    assert " 4 s " in after_duration and f"${rates['720p'] * 4:.2f}" in after_duration
    assert " 4 s " in after_resolution and f"${rates['480p'] * 4:.2f}" in after_resolution
    lab.shot("filled", form)

    submit = form.locator(".seedance-submit")
    reason = form.locator(".seedance-reason")
    lab.wait_for("(b) => !b.disabled", submit.element_handle(), timeout=10_000,
                 what="Submit enabled", detail=reason.inner_text)
    submit.click()
    card_status(lab, root, "queued|processing", timeout=JOB_MS)
    lab.shot("form", cell, doc="form.png")

    bodies = [r.body for r in lab.server.emulator.requests
              if r.method == "POST" and r.path.endswith("/generations")
              and isinstance(r.body, dict) and r.body.get("prompt") == prompt]
    assert len(bodies) == 1, bodies
    sent = {name: bodies[0].get(name) for name in ("model", "duration", "aspectRatio",
                                                   "resolution")}
    assert sent == {"model": model, "duration": 4, "aspectRatio": "1:1", "resolution": "480p"}

    state = playing_video(lab, root)
    lab.shot("form-finished", cell)
    assert_plays(state, frame_size("480p", "1:1"))


def test_saved_video_still_plays_after_kernel_shutdown_and_reload(lab: Lab) -> None:
    lab.open([LOAD, "%%seedance -d 4 -r 480p\nA lighthouse beam sweeping over fog, "
                    "seen again after a reload"])
    lab.run_all()
    root = lab.cell(1).element_handle()
    played = playing_video(lab, root)
    assert_plays(played, WIDE)

    lab.save()
    saved = nbformat.read(str(lab.path), as_version=4)
    html = "".join(
        output.get("data", {}).get("text/html", "") for output in saved.cells[1].outputs
    )
    found = re.search(r'<video src="([^"]+)"', html)
    assert found, html
    src = found.group(1)
    assert re.fullmatch(r"seedance_outputs/[\w-]+\.mp4", src), src
    assert (lab.server.root / src).is_file()
    assert f"/files/{src}" in played["currentSrc"], played

    session_id = lab.session_id()
    assert session_id is not None
    kernel_id = lab.server.api("GET", f"/api/sessions/{session_id}")["kernel"]["id"]
    lab.server.api("DELETE", f"/api/sessions/{session_id}")
    assert kernel_id not in lab.server.kernel_ids()

    lab.open()  # the same notebook, loaded from the saved file
    root = lab.cell(1).element_handle()
    lab.wait_for(
        "(root) => { const v = root.querySelector('.jp-OutputArea-output video');"
        " return !!v && (v.readyState >= 1 || !!v.error); }",
        root, timeout=30_000, what="the saved video loading",
        detail=lambda: lab.page.evaluate(JS_VIDEO, root),
    )
    reopened = lab.page.evaluate(JS_VIDEO, root)
    lab.shot("reopened", lab.cell(1))
    assert reopened["error"] is None, reopened
    assert f"/files/{src}" in reopened["currentSrc"], reopened
    assert reopened["readyState"] >= 1, reopened
    assert abs(reopened["duration"] - 4) <= 0.2, reopened


# Contrast of an element's text (or border, for a button) against its background, as WCAG 2.
JS_CONTRAST = """(el) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let node = el, bg = 'rgba(0, 0, 0, 0)';
  while (node && /rgba\\(0, 0, 0, 0\\)|transparent/.test(bg)) {
    bg = getComputedStyle(node).backgroundColor; node = node.parentElement;
  }
  const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(rgb(bg))];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_dollar_amounts_in_a_prompt_render_literally(lab: Lab) -> None:
    lab.open([LOAD, "%%seedance -d 4 -r 480p --wait\nA $5 and $10 bill on a table"])
    lab.run_all()
    root = lab.cell(1).element_handle()
    card_status(lab, root, r"\bsucceeded\b", timeout=JOB_MS)
    prompt = lab.cell(1).locator(".seedance-prompt").first
    assert "A $5 and $10 bill on a table" in prompt.inner_text()
    assert lab.cell(1).locator("mjx-container, .MathJax").count() == 0


@pytest.mark.parametrize("theme", [LIGHT, DARK])
def test_the_emulator_badge_status_and_cancel_button_meet_aa_contrast(
    lab: Lab, theme: str
) -> None:
    lab.open([LOAD, "%%seedance -d 15 -r 480p\nA slow tide, for a contrast check"])
    with lab.theme(theme):
        lab.run_all()
        cell = lab.cell(1)
        lab.wait_for(
            "(root) => !!root.querySelector('.seedance-card .seedance-cancel:not([disabled])')",
            cell.element_handle(), timeout=JOB_MS, what="the live card",
        )
        # In one call: the live card is re-rendered as its status changes.
        ratios = lab.page.evaluate(
            f"([root, names]) => Object.fromEntries(names.map((name) => [name, ({JS_CONTRAST})("
            "root.querySelector('.seedance-card .' + name))]))",
            [cell.element_handle(), ["seedance-badge", "seedance-status", "seedance-cancel"]],
        )
        lab.shot("contrast", cell)
        cell.locator(".seedance-card .seedance-cancel").first.click()
    assert all(ratio >= 4.5 for ratio in ratios.values()), ratios


def test_a_missing_video_shows_the_poster_and_names_the_file(lab: Lab) -> None:
    lab.open([
        LOAD,
        "%%seedance -d 4 -r 480p --wait -o clip\nA paper lantern, then its file goes away",
        "import os\nos.remove(clip.local_path)\n%seedance show {clip.request_id}",
    ])
    lab.run_all()
    shown = lab.cell(2).element_handle()
    lab.wait_for("(root) => !!root.querySelector('.seedance-result')", shown, timeout=JOB_MS,
                 what="the card of the missing video")
    card = lab.cell(2).locator(".seedance-result").first
    poster = card.locator("img").first
    assert poster.get_attribute("src").startswith("data:image/jpeg;base64,")
    assert lab.page.evaluate("(img) => img.complete && img.naturalWidth > 0",
                             poster.element_handle())
    assert card.locator("video").count() == 0
    assert "Video file not found here: seedance_outputs/" in card.inner_text()


def test_an_untrusted_copy_keeps_the_cards_border_and_badge(lab: Lab) -> None:
    lab.open([LOAD, "%%seedance -d 4 -r 480p --wait\nA card opened from an untrusted copy"])
    lab.run_all()
    card_status(lab, lab.cell(1).element_handle(), r"\bsucceeded\b", timeout=JOB_MS)
    lab.save()
    copy = nbformat.read(str(lab.path), as_version=4)
    lab.server.shut_down(lab.notebook)
    copy.metadata["copied_from"] = "elsewhere"  # a copy this server never signed
    nbformat.write(copy, str(lab.path))

    lab.open()
    card = lab.cell(1).locator(".seedance-result").first
    card.wait_for(timeout=30_000)
    style = lab.page.evaluate(
        "(el) => { const b = el.querySelector('.seedance-badge'); const c = getComputedStyle(el);"
        " const s = getComputedStyle(b); return [c.borderTopWidth, c.borderTopStyle,"
        " s.backgroundColor, s.color]; }",
        card.element_handle(),
    )
    assert style == ["1px", "solid", "rgb(255, 224, 178)", "rgb(78, 38, 0)"]
    assert not lab.page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.model.cells.get(1).trusted"
    )


JS_ACTIVE_CELL = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
JS_CELL_TYPE = "(i) => window.jupyterapp.shell.currentWidget.content.model.cells.get(i).type"
JS_FOCUS_IN = "(root) => !!document.activeElement && root.contains(document.activeElement)"


def open_form(lab: Lab) -> Any:
    """A notebook whose cell 1 shows the form and cell 2 follows it; the form's locator."""
    lab.page.set_viewport_size({"width": 1280, "height": 1800})  # the whole form in view
    lab.open([LOAD, "%seedance form", "1 + 1"])
    lab.run_all()
    root = lab.cell(1).element_handle()
    lab.wait_for("(root) => !!root.querySelector('.seedance-form .seedance-submit')", root,
                 timeout=JOB_MS, what="the form")
    return lab.cell(1).locator(".seedance-form").first


def test_arrow_keys_on_a_form_dropdown_change_its_value_not_the_cell_selection(lab: Lab) -> None:
    form = open_form(lab)
    duration = form.locator(".seedance-duration select")
    before = duration.input_value()
    duration.focus()
    active = lab.page.evaluate(JS_ACTIVE_CELL)

    lab.page.keyboard.press("ArrowDown")

    assert duration.input_value() != before
    assert lab.page.evaluate(JS_ACTIVE_CELL) == active == 1
    assert lab.page.evaluate(JS_FOCUS_IN, form.element_handle())


def test_m_on_a_focused_form_dropdown_leaves_the_cell_a_code_cell(lab: Lab) -> None:
    form = open_form(lab)
    form.locator(".seedance-model select").focus()

    lab.page.keyboard.press("m")

    assert lab.page.evaluate(JS_CELL_TYPE, 1) == "code"
    assert lab.page.evaluate(JS_FOCUS_IN, form.element_handle())


def test_tab_reaches_the_advanced_sections_controls(lab: Lab) -> None:
    form = open_form(lab)
    webhook = form.locator(".seedance-webhook input")
    form.locator(".seedance-media-0 input").focus()

    for _ in range(6):  # past its file picker to the Advanced toggle, open it, on into it
        lab.page.keyboard.press("Tab")
        if lab.page.evaluate("(el) => document.activeElement === el", webhook.element_handle()):
            break
        focused = lab.page.evaluate("() => document.activeElement.textContent")
        if "Advanced" in focused:
            lab.page.keyboard.press("Enter")

    assert lab.page.evaluate("(el) => document.activeElement === el", webhook.element_handle())


def test_focus_stays_on_submit_after_submitting_from_the_keyboard(lab: Lab) -> None:
    form = open_form(lab)
    form.locator(".seedance-prompt textarea").fill("A heron lifting off a pond, sent by keyboard")
    submit = form.locator(".seedance-submit")
    lab.wait_for("(b) => !b.disabled", submit.element_handle(), timeout=10_000,
                 what="Submit enabled")
    submit.focus()

    lab.page.keyboard.press("Enter")
    card_status(lab, lab.cell(1).element_handle(), "queued|processing", timeout=JOB_MS)
    lab.wait_for("(b) => !b.disabled", submit.element_handle(), timeout=10_000,
                 what="Submit enabled again")

    assert lab.page.evaluate("(el) => document.activeElement === el", submit.element_handle())


#: Private-use code points: where icon fonts put their glyphs.
PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def test_a_running_cards_accessibility_tree_has_a_progressbar_and_a_polite_status(
    lab: Lab,
) -> None:
    lab.open([LOAD, "%%seedance -d 15 -r 480p\nA windmill turning, read by a screen reader"])
    lab.run_all()
    cell = lab.cell(1)
    root = cell.element_handle()
    card_status(lab, root, "queued|processing", timeout=JOB_MS)
    output = cell.locator(".jp-OutputArea")

    tree = output.aria_snapshot()
    polite = output.locator('.seedance-card [role="status"][aria-live="polite"]').count()
    cell.locator(".seedance-card .seedance-cancel").click()  # the job is no longer needed

    assert "- progressbar" in tree, tree
    assert "- status" in tree, tree
    assert polite == 1
    assert re.search(r'- button "Cancel[^"]*"', tree), tree
    assert not PRIVATE_USE.search(tree), tree


def test_the_forms_accessibility_tree_shows_pressed_toggles_and_plain_button_names(
    lab: Lab,
) -> None:
    form = open_form(lab)
    form.locator('.seedance-resolution button[data-value="480p"]').click()
    lab.wait_for(
        "(b) => b.getAttribute('aria-pressed') === 'true'",
        form.locator('.seedance-resolution button[data-value="480p"]').element_handle(),
        timeout=10_000, what="480p pressed",
    )

    tree = form.aria_snapshot()

    assert re.search(r'- button "480p" \[pressed\]', tree), tree
    assert re.search(r'- button "720p"(?! \[pressed\])', tree), tree
    assert re.search(r'- button "Advanced"$', tree, re.MULTILINE), tree
    header = form.locator('[role="button"]', has_text="Advanced")
    assert header.get_attribute("aria-expanded") == "false"
    assert re.search(r'- button "Submit', tree), tree
    assert not PRIVATE_USE.search(tree), tree


# The form's layout under root, as plain data (widths and edges in CSS pixels).
JS_FORM_LAYOUT = """(root) => {
  const form = root.querySelector('.seedance-form');
  const box = (sel) => form.querySelector(sel).getBoundingClientRect();
  const visible = (e) => e.offsetParent !== null && e.textContent.trim() !== '';
  const errors = [...form.querySelectorAll('.seedance-field-error, .seedance-reason')]
    .filter(visible).map(e => e.textContent.trim());
  const labelled = (sel) => {
    const label = box(`${sel} .widget-label`), first = box(`${sel} button`);
    const middle = (b) => b.top + b.height / 2;
    return label.right <= first.left && Math.abs(middle(label) - middle(first)) < first.height / 2;
  };
  return {form: form.getBoundingClientRect().right, submit: box('.seedance-submit').width,
          media: box('.seedance-media-0 input').right, errors,
          labelsBeside: [labelled('.seedance-ratio'), labelled('.seedance-resolution')],
          note: form.querySelector('.seedance-duration-note').textContent.trim()};
}"""


def test_form_validation_shows_each_error_once_after_an_edit_and_keeps_its_layout(
    lab: Lab,
) -> None:
    lab.page.set_viewport_size({"width": 1280, "height": 1400})
    lab.open([LOAD, "%seedance form"])
    lab.run_all()
    cell = lab.cell(1)
    root = cell.element_handle()
    lab.wait_for("(root) => !!root.querySelector('.seedance-form .seedance-submit')", root,
                 timeout=JOB_MS, what="the form")
    form = cell.locator(".seedance-form").first
    blank = lab.page.evaluate(JS_FORM_LAYOUT, root)

    form.locator(".seedance-prompt textarea").fill("a paper boat")
    form.locator(".seedance-media-0 input").fill("http://example.com/boat.png")
    form.locator(".seedance-media-0 input").press("Enter")
    lab.wait_for(f"(root) => ({JS_FORM_LAYOUT})(root).errors.length > 0", root,
                 timeout=10_000, what="the bad URL's message")
    bad = lab.page.evaluate(JS_FORM_LAYOUT, root)
    form.locator(".seedance-duration select").select_option(label="12")
    labels = form.locator(".seedance-model select option").all_inner_texts()
    form.locator(".seedance-model select").select_option(
        label=next(label for label in labels if label.split()[0] == "seedance-1.5-pro")
    )
    lab.wait_for(f"(root) => ({JS_FORM_LAYOUT})(root).note !== ''", root,
                 timeout=10_000, what="the note beside the duration")
    clamped = lab.page.evaluate(JS_FORM_LAYOUT, root)
    lab.shot("validation", form)

    assert blank["errors"] == [], blank
    assert len(bad["errors"]) == 1 and bad["errors"][0].startswith("media_urls:"), bad
    assert bad["submit"] == blank["submit"], (blank, bad)
    assert blank["media"] <= blank["form"], blank
    assert blank["labelsBeside"] == [True, True], blank
    assert clamped["note"] == "12 s is not offered by seedance-1.5-pro: set to 10 s.", clamped


# The on-page size of the last <video> under root, once it shows the downloaded file.
JS_VIDEO_BOX = """([root, serviceUrl]) => {
  const all = root.querySelectorAll('video');
  const v = all[all.length - 1];
  if (!v || (v.getAttribute('src') || '').startsWith(serviceUrl) || v.readyState < 1) return null;
  const box = v.getBoundingClientRect();
  return {width: Math.round(box.width), height: Math.round(box.height), poster: !!v.poster};
}"""


def test_a_played_video_keeps_the_size_it_had_before_play(lab: Lab) -> None:
    lab.open([LOAD, "%%seedance -d 4 -r 480p\nA kite over a beach, played in place"])
    lab.run_all()
    root = lab.cell(1).element_handle()
    args = [root, lab.server.emulator.url]
    lab.wait_for(f"(args) => ({JS_VIDEO_BOX})(args) !== null", args, timeout=JOB_MS,
                 what="the saved card's video")
    before = lab.page.evaluate(JS_VIDEO_BOX, args)

    assert_plays(playing_video(lab, root), WIDE)
    after = lab.page.evaluate(JS_VIDEO_BOX, args)

    assert before["poster"], before
    assert after["width"] == before["width"], (before, after)
    # The poster is the frame scaled down, rounded to whole pixels: its height may differ
    # by a pixel or two from the video's at the same width.
    assert abs(after["height"] - before["height"]) <= 3, (before, after)
