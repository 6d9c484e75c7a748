"""The emulator reads every reference at create: unreadable or wrong-kind media fail the job,
and a good image is what the rendered video shows."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
import requests

from seedance_jupyter.emulator import Emulator
from seedance_jupyter.media.encode import array_png
from seedance_jupyter.media.refs import from_bytes
from seedance_jupyter.media.shelf import Shelf
from seedance_jupyter.media.stores import LoopbackStore

from ..media.conftest import LIMITS
from ..scripted import Answer, ScriptedServer
from . import api

T2V = {"model": "seedance-2.0", "prompt": "A slow push-in", "duration": 4,
       "resolution": "480p", "aspectRatio": "16:9"}
QUADRANTS = {"top-left": (230, 30, 30), "top-right": (30, 200, 40),
             "bottom-left": (40, 60, 220), "bottom-right": (240, 220, 30)}


@pytest.fixture
def store(tmp_path: Path) -> LoopbackStore:
    return LoopbackStore(3600, Shelf(tmp_path / "shelf"))


def quadrants() -> np.ndarray:
    """A 16:9 picture of four solid colours, easy to find again in a decoded frame."""
    picture = np.zeros((90, 160, 3), dtype=np.uint8)
    picture[:45, :80], picture[:45, 80:] = QUADRANTS["top-left"], QUADRANTS["top-right"]
    picture[45:, :80], picture[45:, 80:] = QUADRANTS["bottom-left"], QUADRANTS["bottom-right"]
    return picture


def first_frame(emulator: Emulator, request_id: str) -> np.ndarray:
    url = api.finished(emulator, request_id)["output"]["url"]
    with av.open(io.BytesIO(requests.get(url, timeout=30).content)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def test_a_good_image_is_the_first_frame_of_the_video(
    emulator: Emulator, store: LoopbackStore
) -> None:
    url = store.publish(from_bytes("quadrants", array_png(quadrants()), LIMITS))
    created = api.create(emulator, {**T2V, "mediaUrls": [url]}).json()
    frame = first_frame(emulator, created["requestId"]).astype(int)
    height, width = frame.shape[:2]
    # Away from the mark (middle), the caption band (bottom) and the counter (top-left corner).
    spots = {"top-left": (0.3, 0.3), "top-right": (0.3, 0.7),
             "bottom-left": (0.62, 0.3), "bottom-right": (0.62, 0.7)}
    for name, (down, across) in spots.items():
        y, x = int(height * down), int(width * across)
        patch = frame[y - 4 : y + 4, x - 4 : x + 4].reshape(-1, 3).mean(axis=0)
        assert np.abs(patch - QUADRANTS[name]).max() < 40, name


def test_an_unreachable_reference_fails_the_job_naming_it(emulator: Emulator) -> None:
    url = "http://127.0.0.1:9/gone.png"  # the discard port: nothing answers
    created = api.create(emulator, {**T2V, "mediaUrls": [url]}).json()
    answer = api.finished(emulator, created["requestId"])
    assert answer["status"] == "failed"
    assert answer["error"]["code"] == "media_unreadable"
    assert "mediaUrls[0]" in answer["error"]["message"] and url in answer["error"]["message"]
    assert answer["output"] is None


def test_a_missing_reference_fails_the_job(emulator: Emulator) -> None:
    url = emulator.url + "/samples/nothing-here.png"
    created = api.create(emulator, {**T2V, "mediaUrls": [url]}).json()
    answer = api.finished(emulator, created["requestId"])
    assert answer["status"] == "failed"
    assert "HTTP 404" in answer["error"]["message"]


def test_bytes_of_another_kind_than_the_url_claims_fail_the_job(emulator: Emulator) -> None:
    files = ScriptedServer(status=lambda seen: Answer(200, b"ID3\x04" + bytes(64)))
    try:
        disguised = files.url + "/song-named-as.png"
        png_url = emulator.sample_url("sunset")
        created = api.create(emulator, {**T2V, "mediaUrls": [png_url, disguised]}).json()
        answer = api.finished(emulator, created["requestId"])
    finally:
        files.close()
    assert answer["status"] == "failed"
    assert answer["error"]["message"].startswith(
        f"mediaUrls[1] {disguised} is named as image but its bytes are audio")
