"""What a user holds becomes checked media; anything else is one refusal line, sending nothing."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seedance_jupyter.errors import ValidationError
from seedance_jupyter.media.kinds import sniff
from seedance_jupyter.media.refs import JobMedia, Limits, Media, load, load_all

from .conftest import LIMITS, pixels, png, wav


def pil_bytes(image: Image.Image, kind: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kind)
    return buffer.getvalue()


def one_line_refusal(caught: pytest.ExceptionInfo[ValidationError], name: str) -> str:
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"media: {name!r} is not allowed; ")
    return text


@pytest.mark.parametrize(("kind", "extension", "content_type"), [
    ("PNG", ".png", "image/png"), ("JPEG", ".jpg", "image/jpeg"), ("WEBP", ".webp", "image/webp"),
    ("GIF", ".gif", "image/gif"), ("BMP", ".bmp", "image/bmp"),
])
def test_an_image_kind_is_told_from_its_bytes(kind: str, extension: str, content_type: str) -> None:
    data = pil_bytes(Image.new("RGB", (8, 8), "red"), kind)
    found = sniff(data)
    assert found is not None
    assert (found.kind, found.extension, found.content_type) == ("image", extension, content_type)


@pytest.mark.parametrize(("head", "extension"), [
    (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", ".mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00", ".mov"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00", ".mp3"),
])
def test_video_and_audio_kinds_are_told_from_their_bytes(head: bytes, extension: str) -> None:
    found = sniff(head + b"\x00" * 32)
    assert found is not None
    assert found.extension == extension


def test_a_wav_file_is_audio() -> None:
    found = sniff(wav())
    assert found is not None
    assert (found.kind, found.content_type) == ("audio", "audio/wav")


def test_a_text_file_named_png_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ValidationError) as caught:
        load("notes.png", folder=tmp_path, limits=LIMITS)
    assert "PNG, JPEG" in one_line_refusal(caught, "notes.png")


def test_a_missing_path_is_refused_naming_the_notebook_folder(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        load("frame.png", folder=tmp_path, limits=LIMITS)
    assert str(tmp_path) in one_line_refusal(caught, "frame.png")


def test_a_path_is_read_relative_to_the_notebook_folder(tmp_path: Path) -> None:
    (tmp_path / "frame.png").write_bytes(png(1))
    media = load("frame.png", folder=tmp_path, limits=LIMITS)
    assert isinstance(media, Media)
    assert media.data == png(1)
    assert media.key.endswith(".png") and len(media.sha256) == 64


def test_a_path_with_a_tilde_is_read_from_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "frame.png").write_bytes(png(2))
    media = load("~/frame.png", folder=tmp_path / "elsewhere", limits=LIMITS)
    assert isinstance(media, Media) and media.data == png(2)


def test_an_empty_array_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        load(np.zeros((0, 4, 3), dtype=np.uint8), folder=Path(), limits=LIMITS)
    assert "HxWx3" in one_line_refusal(caught, "array 0x4x3 uint8")


def test_a_float_array_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        load(np.zeros((4, 4, 3)), folder=Path(), limits=LIMITS)
    one_line_refusal(caught, "array 4x4x3 float64")


def test_a_sixth_reference_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        load_all([png(n) for n in range(6)], folder=Path(), limits=LIMITS)
    assert str(caught.value) == (
        "media: you gave 6; give at most 5 references (images, videos and audio together)."
    )


def test_media_over_its_kind_limit_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValidationError) as caught:
        load(png(3), folder=Path(), limits=Limits(image_mb=0.0001, video_mb=1, audio_mb=1))
    assert "media_max_image_mb" in one_line_refusal(caught, "bytes (" + str(len(png(3))) + ")")


def test_an_unknown_object_is_refused_naming_what_is_allowed() -> None:
    with pytest.raises(ValidationError) as caught:
        load(3.5, folder=Path(), limits=LIMITS)
    assert "PIL image" in one_line_refusal(caught, "float")


@pytest.mark.parametrize("channels", [3, 4])
def test_an_array_round_trips_pixel_exact(channels: int) -> None:
    array = pixels(4, channels)
    media = load(array, folder=Path(), limits=LIMITS)
    assert isinstance(media, Media) and media.content_type == "image/png"
    decoded = np.asarray(Image.open(io.BytesIO(media.data)))
    assert np.array_equal(decoded, array)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_a_pil_image_round_trips_pixel_exact(mode: str) -> None:
    image = Image.fromarray(pixels(5, 4)).convert(mode)
    media = load(image, folder=Path(), limits=LIMITS)
    assert isinstance(media, Media) and media.kind == "image"
    decoded = Image.open(io.BytesIO(media.data))
    assert decoded.mode == mode
    assert np.array_equal(np.asarray(decoded), np.asarray(image))


def test_last_frame_text_names_an_earlier_job() -> None:
    assert load("last-frame:req_42", folder=Path(), limits=LIMITS) == JobMedia("req_42", True)


def test_an_https_url_stays_a_url() -> None:
    url = "https://example.com/cat.png"
    assert load(url, folder=Path(), limits=LIMITS) == url


def test_the_same_bytes_hash_the_same_and_changed_bytes_do_not() -> None:
    first = load(png(6), folder=Path(), limits=LIMITS)
    again = load(png(6), folder=Path(), limits=LIMITS)
    other = load(png(7), folder=Path(), limits=LIMITS)
    assert isinstance(first, Media) and isinstance(again, Media) and isinstance(other, Media)
    assert first.sha256 == again.sha256 != other.sha256


def test_a_file_over_every_limit_is_refused_without_being_read_whole(tmp_path: Path) -> None:
    big = tmp_path / "huge.png"
    with big.open("wb") as handle:
        handle.write(png(8))
        handle.truncate(3_000_000)  # sparse: 3 MB that were never written
    with pytest.raises(ValidationError) as caught:
        load("huge.png", folder=tmp_path, limits=Limits(image_mb=1, video_mb=2, audio_mb=1))
    assert "3.0 MB" in one_line_refusal(caught, "huge.png")
