"""An untrusted notebook's job card (lab extension): it never makes the browser fetch a remote
URL by itself, and a request id the server does not know gets no Cancel."""

from __future__ import annotations

import time
from typing import Any

import nbformat
import pytest

from .conftest import KERNELSPEC, Lab

pytestmark = [pytest.mark.browser, pytest.mark.labext]

MIME = "application/vnd.seedance.job+json"
TRACKER = "https://tracker.example"
#: A 1x1 PNG: the saved poster, inline, which the card may show.
POSTER = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42m"
          "NkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
UNKNOWN_JOB = "The server has no record of this job"
JS_CARD = """(root) => {
  const card = root.querySelector('.seedance-lab-card');
  if (!card) return null;
  const cancel = card.querySelector('.seedance-cancel');
  const load = card.querySelector('.seedance-load-remote');
  return {status: card.querySelector('.seedance-status').textContent,
          note: card.querySelector('.seedance-note').textContent,
          videos: [...card.querySelectorAll('video')].map((v) => v.getAttribute('src')),
          posters: [...card.querySelectorAll('img')].map((i) => i.getAttribute('src')),
          cancel: !!cancel && cancel.offsetParent !== null,
          load: load ? load.textContent : null};
}"""


def saved_job(**fields: Any) -> dict[str, Any]:
    """A JobSummary as a kernel saves it in a notebook; ``fields`` say what the test is about."""
    return {
        "requestId": "req_shared_by_someone_else", "clientToken": "tok_shared",
        "status": "succeeded", "statusLabel": "succeeded", "model": "seedance-2.0",
        "prompt": "A shared notebook's video", "duration": 5, "aspectRatio": "16:9",
        "resolution": "720p", "mediaUrls": [], "estimatedUsd": 0.5, "creditsCharged": 40,
        "backend": "https://www.seedance2.ink", "isEmulator": False, "notebook": None,
        "createdAt": time.time() - 3600, "finishedAt": time.time() - 3500, "localPath": None,
        "outputUrl": f"{TRACKER}/v/req_shared.mp4?who=reader", "posterDataUri": POSTER,
        "error": None, "notice": None, **fields,
    }


def open_untrusted(lab: Lab, job: dict[str, Any]) -> list[str]:
    """Write a notebook holding ``job``'s saved output, unsigned (so untrusted), and open it.
    Returns the list every request the page makes to the remote host is appended to."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    cell = nbformat.v4.new_code_cell("%%seedance\nA shared notebook's video")
    cell.outputs = [nbformat.v4.new_output("display_data", data={MIME: job})]
    nb.cells = [cell]
    nbformat.write(nb, str(lab.path))
    remote: list[str] = []
    lab.page.on("request", lambda request: remote.append(request.url)
                if request.url.startswith(TRACKER) else None)
    lab.page.route(f"{TRACKER}/**", lambda route: route.fulfill(status=404, body=""))
    lab.open()
    return remote


def settled_card(lab: Lab) -> dict[str, Any]:
    """The card once the server has answered for its job (here: it does not know it)."""
    root = lab.cell(0).element_handle()
    lab.wait_for(f"(root) => {{ const c = ({JS_CARD})(root); return !!c"
                 f" && c.note.startsWith({UNKNOWN_JOB!r}); }}",
                 root, timeout=30_000, what="the card with the server's answer",
                 detail=lambda: lab.page.evaluate(JS_CARD, root))
    card: dict[str, Any] = lab.page.evaluate(JS_CARD, root)
    return card


def test_an_untrusted_card_shows_the_poster_and_loads_remote_media_only_on_request(
    lab: Lab,
) -> None:
    remote = open_untrusted(lab, saved_job())
    card = settled_card(lab)
    lab.shot("untrusted-card", lab.cell(0))
    assert card["status"] == "succeeded", card
    assert card["videos"] == [] and card["posters"] == [POSTER], card
    assert card["load"] == "Load the video from tracker.example", card
    assert remote == []

    with lab.page.expect_request(lambda request: request.url.startswith(TRACKER),
                                 timeout=10_000) as asked:
        lab.cell(0).locator(".seedance-load-remote").click()
    assert asked.value.url == f"{TRACKER}/v/req_shared.mp4?who=reader"
    assert lab.page.evaluate(JS_CARD, lab.cell(0).element_handle())["videos"] == [
        asked.value.url]


@pytest.mark.parametrize("request_id", ["..", "req_nobody_knows"])
def test_a_card_for_a_job_the_server_does_not_know_offers_no_cancel(
    lab: Lab, request_id: str
) -> None:
    open_untrusted(lab, saved_job(requestId=request_id, status="processing",
                                  statusLabel="processing", finishedAt=None, outputUrl=None))
    card = settled_card(lab)
    assert card["status"] == "processing", card
    assert not card["cancel"], card
