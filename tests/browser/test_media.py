"""Reference media on the lab card: a PIL image made in the notebook shows as its thumbnail."""

from __future__ import annotations

import pytest

from .conftest import Lab

pytestmark = [pytest.mark.browser, pytest.mark.labext]

LOAD = "%load_ext seedance_jupyter"
JOB_MS = 60_000
PICTURE = """from PIL import Image
picture = Image.new("RGB", (320, 180), "#e0a030")"""
# The thumbnails the lab card shows, decoded by the browser (naturalWidth > 0).
JS_THUMBS = """(root) => [...root.querySelectorAll('.seedance-lab-card .seedance-ref-thumb')]
  .map(img => ({src: img.getAttribute('src').slice(0, 23), alt: img.alt,
                decoded: img.complete && img.naturalWidth > 0}))"""


def test_the_lab_card_shows_a_decoded_thumbnail_of_an_image_reference(lab: Lab) -> None:
    lab.open([LOAD, PICTURE, "%%seedance -d 4 -r 480p --media {picture}\nA lantern at dusk"])
    lab.run_all()
    root = lab.cell(2).element_handle()
    lab.wait_for(
        f"(root) => ({JS_THUMBS})(root).some(t => t.decoded)", root, timeout=JOB_MS,
        what="a decoded thumbnail on the lab card",
        detail=lambda: lab.page.evaluate(
            "(root) => root.querySelector('.jp-OutputArea').innerHTML.slice(0, 1500)", root),
    )
    [thumb] = lab.page.evaluate(JS_THUMBS, root)
    assert thumb == {"src": "data:image/jpeg;base64,", "alt": "image PIL image 320x180",
                     "decoded": True}
