"""Paid videos in real processes killed at the wrong moment, and a ledger that cannot be used.

The API is a scripted server and the storage a slow scripted file server, both in
this process; the kernels and IPython sessions are real processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from seedance_jupyter.jobs.ledger import Ledger

from .helpers import eventually
from .kernel_harness import Kernel
from .scripted import ScriptedServer
from .slowfiles import SlowFile, SlowFileServer, mp4_body, one_video_api

pytestmark = pytest.mark.kernel

KEY = "sd2_live_videos_kept_test_key_0123456789"
VIDEO = mp4_body(600_000)
FAST = "%config SeedanceMagics.first_poll_delay = 0.2"


@pytest.fixture
def api(storage: SlowFileServer) -> Iterator[ScriptedServer]:
    server = one_video_api(storage, "req_cut")
    try:
        yield server
    finally:
        server.close()


def test_a_download_cut_by_a_killed_kernel_is_resumed_with_a_range_request(
    api: ScriptedServer, storage: SlowFileServer, tmp_path: Path
) -> None:
    storage.files["/req_cut.mp4"] = SlowFile(VIDEO, piece=8192, pause=0.1)  # about 8 s
    home = tmp_path / "home"
    kernel = Kernel(tmp_path, {"SEEDANCE_BASE_URL": api.url, "SEEDANCE_API_KEY": KEY,
                               "SEEDANCE_HOME": str(home)})
    part = tmp_path / "seedance_outputs" / "req_cut.mp4.part"
    try:
        kernel.execute("%load_ext seedance_jupyter")
        kernel.execute(FAST)
        assert kernel.execute("%%seedance -d 5\na kite").reply["status"] == "ok"
        assert eventually(lambda: part.exists() and part.stat().st_size > 0)

        kernel.kill()  # SIGKILL mid-download, then a new kernel in its place

        cut = storage.served[0]
        assert eventually(lambda: cut.ended)
        assert not cut.complete
        loaded = kernel.execute("%load_ext seedance_jupyter").stdout()
        assert "1 unfinished" in loaded
        storage.files["/req_cut.mp4"].pause = 0.0
        kernel.execute("%seedance resume")
        with Ledger(home / "ledger.sqlite3") as ledger:
            assert eventually(lambda: saved_path(ledger) is not None)
    finally:
        kernel.shutdown()
    resumed = storage.served[-1]
    assert resumed.range is not None and resumed.range != "bytes=0-" and resumed.complete
    assert (tmp_path / "seedance_outputs" / "req_cut.mp4").read_bytes() == VIDEO
    assert not part.exists()


def saved_path(ledger: Ledger) -> str | None:
    record = ledger.get("req_cut")
    return None if record is None else record.local_path


@pytest.fixture
def readonly_home(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    """A ``SEEDANCE_HOME`` this test's IPython cannot write, and the command prefix to run it.

    Root passes every mode bit, so as root IPython runs without the capabilities that
    let it (``setpriv``, util-linux): the folder is then read-only to it too.
    """
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o555)
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    try:
        yield home, prefix
    finally:
        home.chmod(0o755)


def test_a_read_only_seedance_home_is_one_line_and_nothing_is_submitted(
    api: ScriptedServer, readonly_home: tuple[Path, list[str]]
) -> None:
    home, prefix = readonly_home
    env = {"SEEDANCE_HOME": str(home), "SEEDANCE_BASE_URL": api.url,
           "SEEDANCE_API_KEY": KEY, "HOME": str(home.parent),
           "JUPYTER_DATA_DIR": str(home.parent / "data")}
    out = run_ipython(["%load_ext seedance_jupyter", "%%seedance -d 5\na kite"], env,
                      home.parent, tuple(prefix))
    assert "Traceback" not in out and "OperationalError" not in out, out
    loaded, refused = [text for text in out.splitlines() if "ledger cannot be written" in text]
    assert str(home) in loaded and "SEEDANCE_HOME" in loaded
    assert refused.startswith("UsageError")
    assert api.posts == 0


def run_ipython(cells: list[str], env: dict[str, str], cwd: Path,
                prefix: tuple[str, ...] = ()) -> str:
    """Run ``cells`` one by one in a real IPython, as a notebook would; its whole output."""
    script = cwd / "session.py"
    script.write_text("".join(f"get_ipython().run_cell({cell!r})\n" for cell in cells))
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "IPython", "--no-banner", "--colors=NoColor",
         str(script)],
        env={**os.environ, "IPYTHONDIR": str(cwd / "ipython"), **env}, cwd=cwd,
        capture_output=True, text=True, timeout=120,
    )
    return done.stdout + done.stderr


def test_a_corrupt_ledger_moved_aside_is_announced_once_with_how_to_read_it(
    api: ScriptedServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "ledger.sqlite3").write_bytes(b"this is not a database" * 100)
    env = {"SEEDANCE_HOME": str(home), "SEEDANCE_BASE_URL": api.url, "SEEDANCE_API_KEY": KEY}

    out = run_ipython(["%load_ext seedance_jupyter", "%unload_ext seedance_jupyter",
                       "%load_ext seedance_jupyter"], env, tmp_path)

    [aside] = home.glob("ledger.sqlite3.corrupt-*")
    [line] = [text for text in out.splitlines() if str(aside) in text]
    assert "could not be read" in line and f"sqlite3 {aside} .recover" in line
    assert "Traceback" not in out
    assert aside.read_bytes().startswith(b"this is not a database")


def test_a_saved_card_plays_a_video_saved_in_a_sibling_folder_of_the_served_root(
    api: ScriptedServer, storage: SlowFileServer, tmp_path: Path
) -> None:
    storage.files["/req_cut.mp4"] = SlowFile(VIDEO, pause=0.0)
    root, notebook = tmp_path / "root", tmp_path / "root" / "my notebooks"
    notebook.mkdir(parents=True)
    runtime = tmp_path / "runtime"  # the server that started the kernel says what it serves
    runtime.mkdir()
    (runtime / f"jpserver-{os.getpid()}.json").write_text(json.dumps({"root_dir": str(root)}))
    kernel = Kernel(notebook, {"SEEDANCE_BASE_URL": api.url, "SEEDANCE_API_KEY": KEY,
                               "SEEDANCE_HOME": str(tmp_path / "home"),
                               "JUPYTER_RUNTIME_DIR": str(runtime)})
    try:
        kernel.execute("%load_ext seedance_jupyter")
        kernel.execute(FAST)
        kernel.execute("%config SeedanceMagics.download_dir = '../videos'")
        card = kernel.execute("%%seedance -d 5 --wait\na kite").html()
    finally:
        kernel.shutdown()
    assert (root / "videos" / "req_cut.mp4").read_bytes() == VIDEO
    assert 'src="../videos/req_cut.mp4"' in card, card
    assert "outside the folder Jupyter serves" not in card
