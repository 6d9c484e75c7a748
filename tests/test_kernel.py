"""The kernel side in a real kernel (jupyter_client) against an emulator in this process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from seedance_jupyter.emulator import Emulator, Faults, start
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.status import FINAL

from .helpers import eventually
from .kernel_harness import Kernel, display_ids
from .scripted import Answer, ScriptedServer, accepted

pytestmark = pytest.mark.kernel
KEY = "sd2_live_kernel_test_key_0123456789"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
JOB_MIME = "application/vnd.seedance.job+json"
LOAD = "%load_ext seedance_jupyter"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Emulator]:
    """An emulator at real pace (a 6 s 480p job takes about 4 s)."""
    emu = start(api_key=KEY, speed=1.0, output_dir=tmp_path / "emulator")
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def env(service: Emulator, tmp_path: Path) -> dict[str, str]:
    return {
        "SEEDANCE_BASE_URL": service.url,
        "SEEDANCE_API_KEY": KEY,
        "SEEDANCE_HOME": str(tmp_path / "home"),
    }


@pytest.fixture
def kernel(env: dict[str, str], tmp_path: Path) -> Iterator[Kernel]:
    k = Kernel(tmp_path, env)
    try:
        yield k
    finally:
        k.shutdown()


def creates(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests
               if r.method == "POST" and r.path.endswith("/generations"))


def executed(cells: list[str], folder: Path, timeout: int) -> Any:
    """A notebook of ``cells`` run headless by nbclient in ``folder`` (as nbval and CI do)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def has_video_update(
    display_id: str, fragment: str = "<video src="
) -> Callable[[list[dict[str, Any]]], bool]:
    """A predicate: an update of ``display_id`` whose HTML holds ``fragment`` arrived."""

    def check(iopub: list[dict[str, Any]]) -> bool:
        return any(
            m["msg_type"] == "update_display_data"
            and m["content"].get("transient", {}).get("display_id") == display_id
            and fragment in m["content"]["data"].get("text/html", "")
            for m in iopub
        )

    return check


def test_cell_returns_while_the_job_runs_and_other_cells_still_work(
    kernel: Kernel, service: Emulator
) -> None:
    kernel.execute(LOAD)
    cell = kernel.execute("%%seedance -d 6 -r 480p -o clip\na paper boat on a pond")
    assert cell.reply["status"] == "ok"
    other = kernel.execute("print(clip.status)")
    assert other.reply["status"] == "ok"
    assert other.stdout().strip() in {"queued", "processing"}


def test_background_updates_reach_the_cell_that_showed_the_card(
    kernel: Kernel, service: Emulator
) -> None:
    kernel.execute(LOAD)
    cell = kernel.execute("%%seedance -d 4 -r 480p\na lantern in fog")
    [display_id] = display_ids(cell)
    kernel.execute("x = 1 + 1")
    assert kernel.wait_for(has_video_update(display_id), timeout=60)
    later_displays = [m for m in kernel.iopub if m["msg_type"] == "display_data"
                      and m["parent_header"].get("msg_id") != cell.msg_id
                      and m["content"].get("transient", {}).get("display_id") == display_id]
    assert later_displays == []


def test_the_cancel_button_cancels_the_remote_job(kernel: Kernel, service: Emulator) -> None:
    kernel.execute(LOAD)
    kernel.execute("%%seedance -d 15 -r 480p -o long\na very long take")
    click = kernel.execute(
        "m = get_ipython().magics_manager.registry['SeedanceMagics']\n"
        "[c for c in m.session._cards if c.job is long][0].cancel_button.click()"
    )
    assert click.reply["status"] == "ok"
    assert kernel.wait_for(
        lambda _: any(r.path.endswith("/cancel") for r in service.requests), timeout=5
    )
    status = kernel.execute("import time; time.sleep(0.5); print(long.status)")
    assert status.stdout().strip() == "cancelled"


def test_a_rerun_of_a_finished_cell_makes_no_second_post(
    kernel: Kernel, service: Emulator
) -> None:
    kernel.execute(LOAD)
    cell = "%%seedance -d 4 -r 480p --wait\nthe same prompt twice"
    first = kernel.execute(cell)
    second = kernel.execute(cell)
    assert first.reply["status"] == second.reply["status"] == "ok"
    assert creates(service) == 1
    assert "Re-attached" in second.html() + second.text()
    assert "<video src=" in second.html()


def test_wait_leaves_the_video_in_the_cells_output(kernel: Kernel, service: Emulator) -> None:
    kernel.execute(LOAD)
    cell = kernel.execute("%%seedance -d 4 -r 480p --wait\na kite over dunes")
    [display_id] = display_ids(cell)
    finals = [m for m in cell.outputs + kernel.updates(display_id)
              if "<video src=" in m["content"].get("data", {}).get("text/html", "")]
    assert finals


@pytest.mark.parametrize("end", ["restart", "kill"])
def test_a_restarted_or_killed_kernel_resumes_the_job_from_the_ledger(
    kernel: Kernel, service: Emulator, tmp_path: Path, end: str
) -> None:
    kernel.execute(LOAD)
    kernel.execute("%%seedance -d 6 -r 480p\nsurvives the kernel ending")
    getattr(kernel, end)()
    loaded = kernel.execute(LOAD)
    assert "1 unfinished" in loaded.text()
    resumed = kernel.execute("%seedance resume")
    [display_id] = display_ids(resumed)
    local = '<video src="seedance_outputs/'
    assert kernel.wait_for(has_video_update(display_id, local), timeout=60)
    assert creates(service) == 1
    assert list((tmp_path / "seedance_outputs").glob("*.mp4"))


def test_the_api_key_is_nowhere_in_the_saved_notebook_or_the_ledger(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    nb = executed([
        LOAD,
        "%%seedance -d 4 -r 480p --wait -o job\na secret-free clip",
        "import seedance_jupyter\nseedance_jupyter.current_session().backend.client",
        "%seedance jobs",
    ], tmp_path, timeout=120)
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    assert "<video src=" in path.read_text()
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert any(f.suffix == ".sqlite3" for f in files)
    assert any(f.suffix == ".mp4" for f in files)
    for file in files:
        assert KEY.encode() not in file.read_bytes(), file
    assert KEY not in json.dumps(nb)


def test_one_output_holds_the_live_widget_then_the_saved_card(
    kernel: Kernel, service: Emulator
) -> None:
    kernel.execute(LOAD)
    cell = kernel.execute("%%seedance -d 4 -r 480p\nthe widget steps aside")
    [display_id] = display_ids(cell)
    [shown] = [m for m in cell.outputs if m["msg_type"] == "display_data"]
    assert WIDGET_MIME in shown["content"]["data"]
    assert JOB_MIME in shown["content"]["data"]
    assert kernel.wait_for(has_video_update(display_id), timeout=60)
    final = kernel.updates(display_id)[-1]["content"]["data"]
    assert set(final) == {JOB_MIME, "text/html", "text/plain"}


def test_a_wait_cell_shows_the_result_without_a_live_widget(
    kernel: Kernel, service: Emulator
) -> None:
    kernel.execute(LOAD)
    cell = kernel.execute("%%seedance -d 4 -r 480p --wait\nno widget needed")
    kinds = [set(m["content"]["data"]) for m in cell.outputs if m["msg_type"] == "display_data"]
    assert kinds
    assert all(WIDGET_MIME not in k for k in kinds)


    assert all("application/vnd.jupyter.widget-view+json" not in k for k in kinds)


def test_a_blocking_cell_does_not_freeze_the_card(kernel: Kernel, service: Emulator) -> None:
    kernel.execute(LOAD)
    kernel.execute("%config SeedanceMagics.poll_latency = 1.0")
    cell = kernel.execute("%%seedance -d 6 -r 480p\nfinishes while another cell sleeps")
    [display_id] = display_ids(cell)
    [job] = service.list_jobs()
    blocking = kernel.client.execute("import time; time.sleep(15)")
    local = '<video src="seedance_outputs/'
    assert kernel.wait_for(has_video_update(display_id, local), timeout=30)
    [update] = [m for m in kernel.updates(display_id) if local in m["content"]["data"]["text/html"]]
    assert "succeeded" in update["content"]["data"]["text/plain"]
    snapshot = service.jobs(job["request_id"])
    completed = max(float(snapshot["due_at"]), os.path.getmtime(snapshot["output_path"]))
    shown = update["header"]["date"].timestamp()
    assert shown - completed <= 3.0
    started = next(m for m in kernel.iopub if m["parent_header"].get("msg_id") == blocking
                   and m["msg_type"] == "status")["header"]["date"].timestamp()
    assert shown < started + 15
    kernel.wait_for(lambda iopub: any(
        m["parent_header"].get("msg_id") == blocking and m["msg_type"] == "status"
        and m["content"]["execution_state"] == "idle" for m in iopub), timeout=30)


@pytest.fixture
def slow_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An emulator so slow that jobs stay queued for minutes, rendering nothing."""
    emu = start(api_key=KEY, speed=0.01, output_dir=tmp_path / "emulator",
                faults=Faults(fail_rate=1.0))
    try:
        yield {"SEEDANCE_BASE_URL": emu.url, "SEEDANCE_API_KEY": KEY,
               "SEEDANCE_HOME": str(tmp_path / "home")}
    finally:
        emu.stop()


def test_fifty_live_cards_send_no_widget_message_while_no_status_changes(
    slow_env: dict[str, str], tmp_path: Path
) -> None:
    kernel = Kernel(tmp_path, slow_env)
    try:
        kernel.execute(LOAD)
        cell = kernel.execute(
            "for i in range(50):\n"
            "    get_ipython().run_cell_magic('seedance', '-d 4 -r 480p --new', f'job {i}')\n"
            "m = get_ipython().magics_manager.registry['SeedanceMagics']\n"
            "print(m.session.poller.active)"
        )
        assert cell.stdout().strip().endswith("50")
        kernel.drain(2)
        seen = len(kernel.iopub)
        kernel.drain(10)
        assert [m for m in kernel.iopub[seen:] if m["msg_type"] == "comm_msg"] == []
    finally:
        kernel.shutdown()


def test_wait_settles_every_background_job_of_a_notebook(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    nb = executed([
        LOAD,
        "%%seedance -d 4 -r 480p\na heron takes off",
        "%%seedance -d 5 -r 480p\na heron lands",
        "%seedance wait --timeout 120",
    ], tmp_path, timeout=180)
    lines = "".join(o.get("text", "") for o in nb.cells[-1].outputs).splitlines()
    assert len(lines) == 2
    for line in lines:
        assert ": succeeded, saved to seedance_outputs/" in line
        assert (tmp_path / line.rsplit(" ", 1)[-1]).stat().st_size > 0


def test_ipython_exiting_with_a_running_job_says_resume_picks_it_up(
    slow_env: dict[str, str], tmp_path: Path
) -> None:
    code = (
        "ip = get_ipython(); ip.run_line_magic('load_ext', 'seedance_jupyter'); "
        "ip.run_cell_magic('seedance', '-d 4 -r 480p', 'left running')"
    )
    ipython = Path(sys.executable).with_name("ipython")
    done = subprocess.run(
        [str(ipython), "--quick", "--no-banner", "-c", code], cwd=tmp_path,
        env={**os.environ, **slow_env, "IPYTHONDIR": str(tmp_path / "ipython")},
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    [line] = [x for x in done.stdout.splitlines() if "still running" in x]
    assert "1 Seedance job(s) still running" in line
    assert "%seedance resume" in line


def test_a_cd_during_a_job_does_not_move_the_video_away_from_its_link(
    kernel: Kernel, service: Emulator, tmp_path: Path
) -> None:
    (tmp_path / "elsewhere").mkdir()
    kernel.execute(LOAD)
    cell = kernel.execute("%%seedance -d 4 -r 480p -o clip\na heron at dawn")
    [display_id] = display_ids(cell)
    kernel.execute("%cd elsewhere")
    assert kernel.wait_for(has_video_update(display_id, "seedance_outputs/"), timeout=60)
    path = kernel.execute("print(clip.local_path)").stdout().strip()
    assert path.startswith("seedance_outputs/")
    assert (tmp_path / path).is_file()
    assert not (tmp_path / "elsewhere" / "seedance_outputs").exists()


def test_ctrl_c_during_a_create_under_verbose_tracebacks_shows_no_key_and_no_resend(
    tmp_path: Path,
) -> None:
    server = ScriptedServer(create=lambda seen: Answer(body=accepted().body, delay=20))
    kernel = Kernel(tmp_path, {"SEEDANCE_BASE_URL": server.url, "SEEDANCE_API_KEY": KEY,
                               "SEEDANCE_HOME": str(tmp_path / "home")})
    cell = "%%seedance -d 5 -r 480p\na create interrupted on the wire"
    try:
        kernel.execute("%xmode Verbose")
        kernel.execute(LOAD)
        msg_id = kernel.client.execute(cell)
        assert eventually(lambda: server.posts == 1, timeout=30)
        kernel.manager.interrupt_kernel()
        assert kernel.wait_for(lambda iopub: any(
            m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "error"
            for m in iopub), timeout=10)
        kernel.drain(0.5)  # past the kernel's abort of requests queued behind the error
        again = kernel.execute(cell)
        outputs = json.dumps([m["content"] for m in kernel.iopub])
        assert KEY not in outputs
        assert "may have reached the service" in outputs
        assert "may have been charged" in again.text()
        assert server.posts == 1
        errors = [m["content"] for m in kernel.iopub if m["msg_type"] == "error"]
        assert [len(e["traceback"]) for e in errors] == [1, 1]  # one line, even when Verbose
    finally:
        kernel.shutdown()
        server.close()


def test_a_kernel_shut_down_cleanly_gives_up_its_jobs_leases(
    slow_env: dict[str, str], tmp_path: Path
) -> None:
    ledger = Ledger(Path(slow_env["SEEDANCE_HOME"]) / "ledger.sqlite3")
    kernel = Kernel(tmp_path, slow_env)
    try:
        kernel.execute(LOAD)
        kernel.execute("%%seedance -d 4 -r 480p\nleft to the server")
        assert eventually(lambda: any(r.lease_owner for r in ledger.jobs()), timeout=30)
    finally:
        kernel.client.stop_channels()
        kernel.manager.shutdown_kernel(now=False)  # as closing a notebook's session does
    (record,) = ledger.jobs()
    assert record.status not in FINAL
    assert record.lease_owner is None


def test_a_kernel_records_the_notebook_jupyter_named_for_its_jobs(
    env: dict[str, str], tmp_path: Path
) -> None:
    film = tmp_path / "film.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), film)
    kernel = Kernel(tmp_path, {**env, "JPY_SESSION_NAME": str(film)})
    try:
        kernel.execute(LOAD)
        kernel.execute("%%seedance -d 4 -r 480p\na job that knows its notebook")
    finally:
        kernel.shutdown()
    (record,) = Ledger(Path(env["SEEDANCE_HOME"]) / "ledger.sqlite3").jobs()
    assert record.notebook == os.path.realpath(film)


def inserted_cell() -> str:
    """The text "Insert Seedance Cell" inserts, as the lab extension defines it."""
    source = (Path(__file__).parents[1] / "src" / "messages.ts").read_text(encoding="utf-8")
    match = re.search(r"newCell:\s*((?:'[^']*'\s*\+?\s*)+),", source)
    assert match is not None, "MSG.newCell not found in src/messages.ts"
    parts = re.findall(r"'([^']*)'", match.group(1))
    return "".join(parts).replace("\\n", "\n")


def test_the_inserted_cell_run_as_is_is_refused_in_one_line_without_paying(
    kernel: Kernel, service: Emulator
) -> None:
    kernel.execute(LOAD)
    cell = kernel.execute(inserted_cell())
    assert cell.reply["status"] == "error"
    [error] = [m["content"] for m in cell.outputs if m["msg_type"] == "error"]
    assert error["traceback"] == [
        "ValidationError: prompt: '' is not allowed; the prompt must contain some text."
    ]
    assert creates(service) == 0


def test_the_form_opens_without_load_ext_and_shows_its_job_list_as_a_widget(
    kernel: Kernel, service: Emulator
) -> None:
    cell = kernel.execute("import seedance_jupyter\nseedance_jupyter.form()")
    assert cell.reply["status"] == "ok", cell.text()
    shown = [m["content"]["data"] for m in cell.outputs if m["msg_type"] == "display_data"]
    assert [WIDGET_MIME in data for data in shown] == [True, True]  # the form, its job list
    loaded = kernel.execute("%load_ext seedance_jupyter")
    assert "already loaded" in loaded.stdout() + loaded.text()
