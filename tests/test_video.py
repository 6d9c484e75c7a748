"""Where a finished card's player finds the video, by setting and front end; the poster."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import replace
from pathlib import Path

import av
import pytest

from seedance_jupyter.emulator.render import render_video
from seedance_jupyter.jobs.poster import poster_data_uri
from seedance_jupyter.jobs.summary import JobSummary
from seedance_jupyter.kernel.card_render import render_html
from seedance_jupyter.kernel.frontend import detect
from seedance_jupyter.kernel.video import choose_video, resolve_mode
from seedance_jupyter.paths import server_root

HTTPS = "https://cdn.example.com/out/v.mp4?sig=abc"
LOOPBACK = "http://127.0.0.1:8000/files/v.mp4"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("notebook")
    path = folder / "seedance outputs" / "req_1.mp4"
    path.parent.mkdir()
    render_video(path, prompt="a fox", duration=1, width=320, height=180)
    return path


def finished(local_path: str | None = None, output_url: str | None = HTTPS) -> JobSummary:
    return JobSummary(
        request_id="req_1", client_token="tok", status="succeeded", model="seedance-2.0",
        prompt="a fox", duration=4, aspect_ratio="16:9", resolution="480p", media_urls=(),
        estimated_usd=0.2, credits_charged=16, backend="emulator:embedded", is_emulator=True,
        notebook=None, created_at=1.0, submitted_at=1.0, finished_at=5.0,
        local_path=local_path, output_url=output_url, error=None,
    )


def frames_of(data: bytes) -> int:
    with av.open(io.BytesIO(data)) as container:
        return sum(1 for _ in container.decode(video=0))


# -- settings and front ends ---------------------------------------------------
@pytest.mark.parametrize(
    ("modules", "environ", "shell_module", "expected"),
    [
        ({"google.colab": object()}, {}, "ipykernel.zmqshell", "colab"),
        ({}, {"VSCODE_PID": "1"}, "ipykernel.zmqshell", "vscode"),
        ({}, {"PYDEVD_IPYTHON_COMPATIBLE_DEBUGGING": "1"}, "ipykernel.zmqshell", "vscode"),
        ({}, {}, "ipykernel.zmqshell", "jupyter"),
        ({}, {}, "IPython.terminal.interactiveshell", "terminal"),
    ],
)
def test_the_front_end_is_told_by_modules_environment_and_shell(
    modules: dict[str, object], environ: dict[str, str], shell_module: str, expected: str
) -> None:
    shell = type("Shell", (), {"__module__": shell_module})()
    assert detect(shell, modules=modules, environ=environ) == expected


@pytest.mark.parametrize(
    ("frontend", "mode"),
    [("colab", "data"), ("vscode", "data"), ("jupyter", "path"), ("terminal", "text")],
)
def test_auto_inlines_in_colab_and_vscode_links_under_jupyter_and_is_text_in_a_terminal(
    frontend: str, mode: str
) -> None:
    assert resolve_mode("auto", frontend) == mode  # type: ignore[arg-type]


def test_an_explicit_setting_wins_over_the_front_end() -> None:
    assert resolve_mode("URL", "colab") == "url"


# -- path ----------------------------------------------------------------------
def test_path_is_a_percent_encoded_link_relative_to_the_notebook(clip: Path) -> None:
    source = choose_video(finished("seedance outputs/req_1.mp4"), "path", data_max_mb=20,
                          folder=clip.parent.parent)
    assert source is not None
    assert source.src == "seedance%20outputs/req_1.mp4"
    assert source.note is None


def test_a_missing_file_has_no_player_and_one_line_naming_it(tmp_path: Path) -> None:
    source = choose_video(finished("seedance_outputs/gone.mp4"), "path", data_max_mb=20,
                          folder=tmp_path)
    assert source is not None
    assert source.src is None and source.missing
    assert source.note == "Video file not found here: seedance_outputs/gone.mp4"


# -- data ----------------------------------------------------------------------
def test_data_inlines_a_playable_mp4_on_the_video_src(clip: Path) -> None:
    source = choose_video(finished("seedance outputs/req_1.mp4"), "data", data_max_mb=20,
                          folder=clip.parent.parent)
    assert source is not None and source.src is not None
    prefix = "data:video/mp4;base64,"
    assert source.src.startswith(prefix)
    assert frames_of(base64.b64decode(source.src[len(prefix):])) > 0


def test_data_over_the_cap_falls_back_to_the_path_and_says_so(clip: Path) -> None:
    source = choose_video(finished("seedance outputs/req_1.mp4"), "data", data_max_mb=0.001,
                          folder=clip.parent.parent)
    assert source is not None
    assert source.src == "seedance%20outputs/req_1.mp4"
    assert source.note is not None and "video_data_max_mb" in source.note


# -- url -----------------------------------------------------------------------
def test_url_plays_the_service_url_and_says_it_expires(clip: Path) -> None:
    source = choose_video(finished("seedance outputs/req_1.mp4"), "url", data_max_mb=20,
                          folder=clip.parent.parent)
    assert source is not None
    assert source.src == HTTPS
    assert source.note is not None and "expires" in source.note


def test_a_video_not_downloaded_plays_from_https_and_says_it_expires(tmp_path: Path) -> None:
    source = choose_video(finished(None), "path", data_max_mb=20, folder=tmp_path)
    assert source is not None
    assert source.src == HTTPS
    assert source.note is not None and "expires" in source.note


@pytest.mark.parametrize("mode", ["path", "data", "url"])
def test_a_loopback_url_is_never_a_source(mode: str, tmp_path: Path) -> None:
    assert choose_video(finished(None, LOOPBACK), mode, data_max_mb=20,  # type: ignore[arg-type]
                        folder=tmp_path) is None
    local = choose_video(finished("gone.mp4", LOOPBACK), mode,  # type: ignore[arg-type]
                         data_max_mb=20, folder=tmp_path)
    assert local is not None and local.src is None


def test_no_source_before_the_job_succeeded(tmp_path: Path) -> None:
    running = replace(finished("x.mp4"), status="processing")
    assert choose_video(running, "path", data_max_mb=20, folder=tmp_path) is None


# -- poster --------------------------------------------------------------------
def test_the_poster_is_a_small_inline_jpeg_of_the_first_frame(clip: Path) -> None:
    uri = poster_data_uri(clip)
    assert uri is not None and uri.startswith("data:image/jpeg;base64,")
    jpeg = base64.b64decode(uri.split(",", 1)[1])
    assert jpeg[:2] == b"\xff\xd8"
    assert len(jpeg) < 16_000


def test_no_poster_for_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    bogus = tmp_path / "x.mp4"
    bogus.write_bytes(b"not a video")
    assert poster_data_uri(bogus) is None


def test_without_pyav_there_is_no_poster_and_no_error(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "av", None)
    assert poster_data_uri(clip) is None


# -- videos saved outside the notebook's folder --------------------------------
@pytest.fixture
def served(tmp_path: Path) -> tuple[Path, Path]:
    """A server root holding a notebook folder ``nb`` and a sibling ``shared videos``."""
    root = tmp_path / "root"
    (root / "nb").mkdir(parents=True)
    (root / "shared videos").mkdir()
    (root / "shared videos" / "req_1.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom")
    return root, root / "nb"


def test_a_video_in_a_sibling_folder_plays_by_a_relative_dotdot_src(
    served: tuple[Path, Path],
) -> None:
    root, notebook = served
    source = choose_video(finished("../shared videos/req_1.mp4"), "path", data_max_mb=20,
                          folder=notebook, root=root)
    assert source is not None
    assert source.src == "../shared%20videos/req_1.mp4"
    assert source.note is None


def test_an_absolute_download_dir_inside_the_root_plays_relative_to_the_notebook(
    served: tuple[Path, Path],
) -> None:
    root, notebook = served
    absolute = str(root / "shared videos" / "req_1.mp4")
    source = choose_video(finished(absolute), "path", data_max_mb=20, folder=notebook,
                          root=root)
    assert source is not None
    assert source.src == "../shared%20videos/req_1.mp4"


def test_a_video_outside_the_served_root_has_no_src_and_says_so_once(
    served: tuple[Path, Path],
) -> None:
    root, notebook = served
    inner = root / "nb"
    source = choose_video(finished("../shared videos/req_1.mp4"), "path", data_max_mb=20,
                          folder=notebook, root=inner)
    assert source is not None
    assert source.src is None and not source.missing
    assert source.note is not None and "outside the folder Jupyter serves" in source.note
    card = render_html(finished("../shared videos/req_1.mp4"), source)
    assert "<video" not in card
    assert card.count("outside the folder Jupyter serves") == 1


def test_with_the_root_unknown_a_sibling_folder_is_still_linked_relatively(
    served: tuple[Path, Path],
) -> None:
    _root, notebook = served
    source = choose_video(finished("../shared videos/req_1.mp4"), "path", data_max_mb=20,
                          folder=notebook)
    assert source is not None and source.src == "../shared%20videos/req_1.mp4"


def test_the_server_root_is_read_from_the_server_that_started_the_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    (runtime / "jpserver-4242.json").write_text(json.dumps({"root_dir": str(tmp_path)}))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("JPY_PARENT_PID", "4242")
    assert server_root() == tmp_path
    monkeypatch.setenv("JPY_PARENT_PID", "4243")
    assert server_root() is None
