"""``%%seedance --media`` with what a notebook holds: files, PIL images, arrays, earlier takes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from PIL import Image

from seedance_jupyter.emulator import Emulator
from seedance_jupyter.errors import ValidationError
from seedance_jupyter.jobs.handle import Job
from seedance_jupyter.media.encode import array_png

from .media.conftest import pixels
from .test_magics import creates, shell  # noqa: F401 - the fixture

FLAGS = "-d 4 -r 480p --wait"


@pytest.fixture
def run(shell: InteractiveShell) -> object:  # noqa: F811
    def cell(line: str, prompt: str = "a slow push-in") -> Job:
        job = shell.run_cell_magic("seedance", line, prompt)
        assert isinstance(job, Job)
        return job

    return cell


def last_frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return frames[-1]


def test_a_file_beside_the_notebook_is_published_and_animated(
    run, tmp_path: Path
) -> None:
    (tmp_path / "frame.png").write_bytes(array_png(pixels(1, size=(36, 64))))
    job = run(f"{FLAGS} --media frame.png")
    assert job.status == "succeeded"
    [ref] = job.request.media_refs
    assert ref["sha256"] == hashlib.sha256(array_png(pixels(1, size=(36, 64)))).hexdigest()
    assert (ref["kind"], ref["where"]) == ("image", "loopback")


def test_a_pil_image_variable_is_a_reference(run, shell: InteractiveShell) -> None:  # noqa: F811
    shell.user_ns["picture"] = Image.fromarray(pixels(2, size=(36, 64)))
    job = run(f"{FLAGS} --media {{picture}}")
    assert job.status == "succeeded"
    assert job.request.media_refs[0]["name"] == "PIL image 64x36"


def test_the_last_frame_of_a_take_starts_the_next(
    run, shell: InteractiveShell, tmp_path: Path  # noqa: F811
) -> None:
    first = run(f"{FLAGS} -o first")
    assert first.local_path is not None
    expected = hashlib.sha256(array_png(last_frame(tmp_path / first.local_path))).hexdigest()
    by_text = run(f"{FLAGS} --media last-frame:{first.request_id}", "and on")
    shell.user_ns["tail"] = first.last_frame()
    by_handle = run(f"{FLAGS} --media {{tail}} --new", "and on")
    assert by_text.request.media_refs[0]["sha256"] == expected
    assert by_handle.request.media_refs[0]["sha256"] == expected


def test_rerunning_a_cell_with_the_same_file_pays_once(
    run, emulator: Emulator, tmp_path: Path
) -> None:
    (tmp_path / "frame.png").write_bytes(array_png(pixels(3)))
    first = run("-d 4 -r 480p --media frame.png")
    again = run("-d 4 -r 480p --media frame.png")
    assert again.request_id == first.request_id
    assert creates(emulator) == 1


def test_a_text_file_named_png_is_refused_before_anything_is_sent(
    shell: InteractiveShell, emulator: Emulator, tmp_path: Path  # noqa: F811
) -> None:
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ValidationError, match=r"^media: 'notes.png' is not allowed; "):
        shell.run_cell_magic("seedance", "--media notes.png", "a kite")
    assert creates(emulator) == 0


def test_the_card_shows_a_small_inline_thumbnail_of_an_image_reference(
    run, shell: InteractiveShell  # noqa: F811
) -> None:
    from seedance_jupyter.kernel.card_render import header_html

    from .test_magics import magics

    shell.user_ns["picture"] = Image.fromarray(pixels(5, size=(360, 640)))
    job = run(f"{FLAGS} --media {{picture}}")
    summary = magics(shell).session.summary(job)
    thumb = summary.media_refs[0]["thumbnail"]
    assert thumb.startswith("data:image/jpeg;base64,") and len(thumb) < 12_000
    html = header_html(summary)
    assert f'src="{thumb}"' in html and 'alt="PIL image 640x360"' in html
    assert job.request.media_urls[0] not in html  # the short-lived published URL is not saved


def test_a_finished_job_variable_is_its_video(
    run, shell: InteractiveShell, tmp_path: Path  # noqa: F811
) -> None:
    first = run(f"{FLAGS} -o take")
    assert first.local_path is not None
    video = (tmp_path / first.local_path).read_bytes()
    job = run(f"{FLAGS} --media {{take}}", "the same motion, in snow")
    [ref] = job.request.media_refs
    assert (ref["kind"], ref["sha256"]) == ("video", hashlib.sha256(video).hexdigest())
