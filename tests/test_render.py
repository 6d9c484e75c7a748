"""The emulator's videos: real H.264 mp4s, decoded back with PyAV and checked."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from seedance_jupyter.emulator.font import text_mask
from seedance_jupyter.emulator.render import RenderCancelled, frame_size, render_video
from seedance_jupyter.emulator.samples import SAMPLE_NAMES, sample_png


def _render(path: Path, prompt: str = "A river at dawn", *, duration: int = 1,
            size: tuple[int, int] = (854, 480), reference: bytes | None = None) -> Path:
    width, height = size
    render_video(path, prompt=prompt, duration=duration, width=width, height=height,
                 reference=reference)
    return path


def _frames(path: Path) -> list[np.ndarray[Any, Any]]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def _difference(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize(
    ("resolution", "aspect", "expected"),
    [
        ("720p", "16:9", (1280, 720)),
        ("720p", "9:16", (720, 1280)),
        ("720p", "1:1", (720, 720)),
        ("480p", "16:9", (854, 480)),
        ("1080p", "16:9", (1920, 1080)),
    ],
)
def test_frame_size_short_side_is_the_resolution(
    resolution: str, aspect: str, expected: tuple[int, int]
) -> None:
    assert frame_size(resolution, aspect) == expected


def test_video_is_h264_yuv420p_with_exact_duration_and_size(tmp_path: Path) -> None:
    path = _render(tmp_path / "clip.mp4", duration=4)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert container.duration is not None
        assert abs(container.duration / av.time_base - 4.0) <= 0.1
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (854, 480)
        assert stream.frames == 4 * 24


def test_moov_atom_comes_first_for_streaming(tmp_path: Path) -> None:
    data = _render(tmp_path / "clip.mp4").read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")


@pytest.mark.parametrize("aspect", ["9:16", "1:1"])
def test_portrait_and_square_videos_have_their_sizes(tmp_path: Path, aspect: str) -> None:
    size = frame_size("480p", aspect)
    first = _frames(_render(tmp_path / "clip.mp4", size=size))[0]
    assert (first.shape[1], first.shape[0]) == size


def test_two_prompts_give_different_frames(tmp_path: Path) -> None:
    river = _frames(_render(tmp_path / "river.mp4", "A river at dawn"))[12]
    city = _frames(_render(tmp_path / "city.mp4", "A neon city at night"))[12]
    assert _difference(river, city) > 20


def test_the_same_prompt_gives_the_same_frames(tmp_path: Path) -> None:
    first = _frames(_render(tmp_path / "a.mp4"))[12]
    again = _frames(_render(tmp_path / "b.mp4"))[12]
    assert _difference(first, again) < 3  # encoder threads add a little noise


def test_frames_move_over_time(tmp_path: Path) -> None:
    frames = _frames(_render(tmp_path / "clip.mp4"))
    assert _difference(frames[0], frames[-1]) > 5


def test_image_to_video_starts_from_the_sample_image_and_pans(tmp_path: Path) -> None:
    png = sample_png("sunset")
    frames = _frames(_render(tmp_path / "i2v.mp4", reference=png))
    with av.open(io.BytesIO(png)) as container:
        picture = next(container.decode(video=0))
        sample = picture.reformat(854, 480, format="rgb24").to_ndarray()
    text_only = _frames(_render(tmp_path / "t2v.mp4"))[0]
    assert _difference(frames[0], sample) < 15
    assert _difference(text_only, sample) > 2 * _difference(frames[0], sample)
    assert _difference(frames[0], frames[-1]) > 3


def test_an_undecodable_reference_is_never_rendered(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="could not be decoded"):
        _render(tmp_path / "broken.mp4", reference=b"\x89PNG\r\n\x1a\n but no picture")


def test_cancel_callback_stops_the_render(tmp_path: Path) -> None:
    with pytest.raises(RenderCancelled):
        render_video(tmp_path / "clip.mp4", prompt="x", duration=5, width=854, height=480,
                     cancelled=lambda: True)


def test_samples_are_png_files() -> None:
    for name in SAMPLE_NAMES:
        assert sample_png(name).startswith(b"\x89PNG\r\n\x1a\n")


def test_text_mask_scales_the_5x7_font() -> None:
    mask = text_mask("Hé!", 3)
    assert mask.shape == (7 * 3, (3 * 6 - 1) * 3)
    assert mask.any()
