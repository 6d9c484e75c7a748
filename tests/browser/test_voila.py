"""The form in Voilà: a notebook served as an app, where only widgets are live after the
notebook ran. A job submitted from the form must show in the form's job list there."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from seedance_jupyter.emulator import Emulator, start

from .conftest import API_KEY, SERVER_START_S, free_port, write_notebook

pytestmark = pytest.mark.browser

PROMPT = "A lighthouse beam sweeping fog, submitted in Voila"
NOTEBOOK = "form-app.ipynb"
JOB_MS = 60_000
APP_MS = 90_000
# The form's job list and its first card, as plain data.
JS_JOBS = """() => {
  const list = document.querySelector('.seedance-jobs');
  if (!list) return null;
  const live = list.querySelector('.seedance-card .seedance-status');
  const saved = list.querySelector('.seedance-result');
  return {text: list.textContent, live: live ? live.textContent : null,
          saved: saved ? saved.className : null,
          message: (document.querySelector('.seedance-message') || {}).textContent || ''};
}"""


class VoilaApp:
    """``voila NOTEBOOK`` on loopback, its kernels pointed at an emulator in this process."""

    def __init__(self, base: Path, emulator: Emulator) -> None:
        self.emulator = emulator
        self.root = base / "notebooks"
        self.root.mkdir()
        write_notebook(self.root / NOTEBOOK, [
            "import seedance_jupyter\n"
            f"seedance_jupyter.form(prompt={PROMPT!r}, duration=4, resolution='480p')",
        ])
        env = {**os.environ, "SEEDANCE_BASE_URL": emulator.url, "SEEDANCE_API_KEY": API_KEY,
               "SEEDANCE_HOME": str(base / "home"), "PYTHONUNBUFFERED": "1"}
        for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
            env[name] = str(base / name.lower())
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/"
        self.log = base / "voila.log"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "voila", NOTEBOOK, "--no-browser", f"--port={port}",
                 "--Voila.ip=127.0.0.1"],
                env=env, cwd=self.root, stdout=sink, stderr=subprocess.STDOUT,
            )

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"voila exited with {self.process.returncode}:\n"
                            f"{self.log.read_text()[-3000:]}", pytrace=False)
            try:
                if requests.get(self.url + "api/kernels", timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        pytest.fail(f"voila did not start:\n{self.log.read_text()[-3000:]}", pytrace=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def voila(tmp_path: Path, artifacts: Path) -> Iterator[VoilaApp]:
    emulator = start(api_key=API_KEY, speed=1.0, output_dir=tmp_path / "emulator")
    app = VoilaApp(tmp_path, emulator)
    try:
        app.wait_until_up()
        yield app
    finally:
        app.stop()
        emulator.stop()
        shutil.copyfile(app.log, artifacts / "voila.log")


def creates(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests
               if r.method == "POST" and r.path.endswith("/generations"))


def test_a_job_submitted_from_the_form_in_voila_shows_in_its_list_until_it_ends(
    voila: VoilaApp, browser: Any, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    try:
        page.goto(voila.url)
        page.wait_for_function(
            "() => { const b = document.querySelector('.seedance-form .seedance-submit');"
            " return !!b && !b.disabled; }", timeout=APP_MS)
        page.locator(".seedance-form .seedance-submit").click()
        page.wait_for_function(
            f"() => {{ const j = ({JS_JOBS})(); return !!j && /queued|processing/.test(j.live); }}",
            timeout=JOB_MS)
        running = page.evaluate(JS_JOBS)
        page.wait_for_function(
            f"() => {{ const j = ({JS_JOBS})(); return !!j && !!j.saved; }}", timeout=JOB_MS)
        ended = page.evaluate(JS_JOBS)
        page.screenshot(path=str(artifacts / "voila-form-job-ended.png"))
    finally:
        context.close()

    assert PROMPT in running["text"], running
    assert "seedance-status-succeeded" in ended["saved"], ended
    assert PROMPT in ended["text"], ended
    assert creates(voila.emulator) == 1
