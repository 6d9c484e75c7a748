"""Fixtures of the browser tests: Jupyter servers, one Chromium, a page per test.

The servers are JupyterLab 4 and Notebook 7, each with or without our lab extension
(markers ``labext`` and ``notebook7`` choose; the default is JupyterLab without it).
Each runs on loopback with every Jupyter folder isolated in a temporary
directory, and its kernels talk to an emulator started in *this* process, so a
test can check what the service received (``lab.server.emulator.requests``).
Each test gets a fresh browser context and page and its own notebook; its kernel
is shut down when the test ends.

Without Chromium the tests skip with the reason, unless ``SEEDANCE_REQUIRE_BROWSER=1``
(set by CI), in which case they fail with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
import requests

from seedance_jupyter.emulator import Emulator, start

from ..normalise_tutorials import KERNELSPEC

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
DOCS = REPO / "docs"
#: Set to 1 to also copy the screenshots the README shows into docs/.
UPDATE_DOCS_ENV = "SEEDANCE_UPDATE_DOC_SCREENSHOTS"
REQUIRE_ENV = "SEEDANCE_REQUIRE_BROWSER"
#: Without the networking flags Chromium keeps trying to reach outside hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]
API_KEY = "sd2_live_browser_test_key_0123456789"
#: Per-user settings of the isolated lab: no news toast, no update check, a kernel at once.
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "autoStartDefaultKernel": True,
    },
}
#: The npm name of our lab extension (see package.json).
LABEXT_NAME = "seedance-jupyter"
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
KERNEL_START_MS = 60_000
SERVER_START_S = 60.0


@dataclass(frozen=True)
class Frontend:
    """What differs between the apps that serve our lab extension: how one starts, and
    where a notebook's page is. Both share page_config.json, the settings folder,
    ``--expose-app-in-browser`` (``window.jupyterapp``) and the notebook's DOM."""

    name: str
    module: str
    args: tuple[str, ...]
    #: A notebook's page, with ``{notebook}`` and ``{token}``.
    page: str


JUPYTERLAB = Frontend(
    "jupyter lab", "jupyterlab",
    ("--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"),
    # ?reset: JupyterLab would otherwise reopen the tabs of the workspace.
    "/lab/tree/{notebook}?reset&token={token}",
)
#: Notebook 7 opens one document per page and has no workspace to reset.
NOTEBOOK7 = Frontend("jupyter notebook", "notebook", (), "/notebooks/{notebook}?token={token}")

# Browser-side snippets. The app is exposed by --expose-app-in-browser.
JS_KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session
    && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && k.connectionStatus === 'connected';
}"""
JS_RUN_ALL = """() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"""
JS_SAVE = """async () => {
  await window.jupyterapp.commands.execute('docmanager:save');
  return window.jupyterapp.shell.currentWidget.context.model.dirty;
}"""
#: The text of the first error output in the notebook, or null.
JS_CELL_ERROR = """() => {
  const e = document.querySelector(
    '.jp-NotebookPanel .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]');
  return e ? e.textContent : null;
}"""
JS_SET_THEME = """async (theme) => {
  await window.jupyterapp.commands.execute('apputils:change-theme', {theme});
}"""
JS_THEME_IS = """(theme) => document.body.dataset.jpThemeName === theme
  && getComputedStyle(document.body).getPropertyValue('--jp-layout-color0').trim() !== ''"""
LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"
JS_SESSION_ID = """() => {
  const s = window.jupyterapp.shell.currentWidget.sessionContext.session;
  return s ? s.id : null;
}"""


def chromium_executable() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def unavailable(reason: str) -> None:
    """Skip, or fail loudly when the environment requires the browser tests to run."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_notebook(path: Path, cells: list[str]) -> None:
    """A notebook with kernelspec metadata, so no kernel-choice dialog opens."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, str(path))


@dataclass
class LabServer:
    """A running ``jupyter lab`` or ``jupyter notebook`` and the emulator its kernels use."""

    frontend: Frontend
    url: str
    token: str
    root: Path
    emulator: Emulator
    log: Path
    process: subprocess.Popen[bytes]

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(
            method, f"{self.url}{path}",
            headers={"Authorization": f"token {self.token}"}, timeout=30, **kwargs,
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def page_url(self, notebook: str) -> str:
        return self.url + self.frontend.page.format(notebook=notebook, token=self.token)

    def sessions(self, notebook: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.api("GET", "/api/sessions")
        return [s for s in found if notebook is None or s.get("path") == notebook]

    def cancel_posts(self, request_id: str) -> int:
        """How many cancel POSTs for ``request_id`` the emulator received."""
        path = f"/api/open/v1/video/generations/{request_id}/cancel"
        return sum(1 for r in self.emulator.requests if r.method == "POST" and r.path == path)

    def kernel_ids(self) -> set[str]:
        return {k["id"] for k in self.api("GET", "/api/kernels")}

    def shut_down(self, notebook: str | None = None) -> None:
        """Delete the sessions (and so the kernels) of ``notebook``, or all of them."""
        for session in self.sessions(notebook):
            with contextlib.suppress(requests.HTTPError):  # already gone
                self.api("DELETE", f"/api/sessions/{session['id']}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable, checked once; also needs the playwright package."""
    path = chromium_executable()
    if path is None:
        unavailable("Chromium is not installed (/usr/bin/chromium; `apt-get install chromium`)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the playwright Python package is not installed (test extra)")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="package")
def lab_server(
    chromium: str, artifacts: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabServer]:
    """JupyterLab without our lab extension: the kernel's own card, as front ends
    without the extension (VS Code, Colab, an older install) show it."""
    yield from _run_lab(artifacts, tmp_path_factory, JUPYTERLAB, with_labext=False)


@pytest.fixture(scope="package")
def labext_server(
    chromium: str, artifacts: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabServer]:
    """JupyterLab with our lab extension: its MIME card, panel and status bar."""
    yield from _run_lab(artifacts, tmp_path_factory, JUPYTERLAB, with_labext=True)


@pytest.fixture(scope="package")
def notebook7_server(
    chromium: str, artifacts: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabServer]:
    """Notebook 7 with our lab extension, which it loads like JupyterLab does."""
    yield from _run_lab(artifacts, tmp_path_factory, NOTEBOOK7, with_labext=True)


@pytest.fixture(scope="package")
def notebook7_plain_server(
    chromium: str, artifacts: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabServer]:
    """Notebook 7 without our lab extension: the kernel's own card."""
    yield from _run_lab(artifacts, tmp_path_factory, NOTEBOOK7, with_labext=False)


#: The server fixture for a test, by its markers: (labext, notebook7).
SERVER_FIXTURES = {
    (False, False): "lab_server",
    (True, False): "labext_server",
    (False, True): "notebook7_plain_server",
    (True, True): "notebook7_server",
}


def _run_lab(
    artifacts: Path, tmp_path_factory: pytest.TempPathFactory, frontend: Frontend, *,
    with_labext: bool,
) -> Iterator[LabServer]:
    """A Jupyter front end on loopback, isolated, its kernels pointed at an emulator in
    this process. Our lab extension is switched off, when asked, in page_config.json,
    which JupyterLab and Notebook 7 both read.

    At speed 1 a 4 s 480p job takes about 3 s and a 15 s one about 9 s.
    """
    base = tmp_path_factory.mktemp(f"{frontend.module}{'-labext' if with_labext else ''}")
    dirs = {name: base / name for name in ("config", "runtime", "data", "settings",
                                           "workspaces", "ipython", "home", "notebooks")}
    for folder in dirs.values():
        folder.mkdir()
    (dirs["config"] / "labconfig").mkdir()
    page_config = json.loads(json.dumps(PAGE_CONFIG))
    if not with_labext:
        page_config["disabledExtensions"][LABEXT_NAME] = True
    (dirs["config"] / "labconfig" / "page_config.json").write_text(json.dumps(page_config))
    for name, value in USER_SETTINGS.items():
        target = dirs["settings"] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))

    emulator = start(api_key=API_KEY, speed=1.0, output_dir=base / "emulator")
    token = secrets.token_hex(16)
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        "SEEDANCE_BASE_URL": emulator.url,
        "SEEDANCE_API_KEY": emulator.api_key,
        "SEEDANCE_HOME": str(dirs["home"]),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("JUPYTER_TOKEN", None)
    command = [
        sys.executable, "-m", frontend.module, "--no-browser", "--allow-root",
        f"--IdentityProvider.token={token}", f"--port={port}", "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1", f"--notebook-dir={dirs['notebooks']}",
        "--expose-app-in-browser", *frontend.args,
    ]
    log = base / "jupyter-server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, env=env, cwd=dirs["notebooks"], stdout=sink, stderr=subprocess.STDOUT
        )
    server = LabServer(frontend, f"http://127.0.0.1:{port}", token, dirs["notebooks"], emulator,
                       log, process)
    try:
        _wait_until_up(server)
        yield server
    finally:
        try:
            if process.poll() is None:
                server.shut_down()
        except requests.RequestException:
            pass
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # SIGINT would ask for confirmation
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        emulator.stop()
        shutil.copyfile(log, artifacts / f"{base.name}-jupyter-server.log")


def _wait_until_up(server: LabServer) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"{server.frontend.name} exited with {server.process.returncode}:\n"
                        f"{server.log_tail()}", pytrace=False)
        try:
            server.api("GET", "/api/status")
            return
        except requests.RequestException:
            time.sleep(0.25)
    pytest.fail(f"{server.frontend.name} did not answer within {SERVER_START_S:.0f} s:\n"
                f"{server.log_tail()}", pytrace=False)


@pytest.fixture(scope="package")
def browser(chromium: str) -> Iterator[Any]:
    """One browser for this package only: Playwright's sync API keeps an event loop
    marked running on the main thread until it stops, which would mislead the
    poller's loop detection in the tests that run after these."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield instance
        finally:
            instance.close()


@dataclass
class Lab:
    """One test's page in JupyterLab or Notebook 7 and its notebook."""

    page: Any
    server: LabServer
    name: str
    artifacts: Path
    console: list[str] = field(default_factory=list)
    shots: int = 0

    @property
    def notebook(self) -> str:
        return f"{self.name}.ipynb"

    @property
    def path(self) -> Path:
        return self.server.root / self.notebook

    def open(self, cells: list[str] | None = None) -> None:
        """Write the notebook (when ``cells`` are given), open it, wait for an idle kernel."""
        if cells is not None:
            write_notebook(self.path, cells)
        self.page.goto(self.server.page_url(self.notebook))
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=KERNEL_START_MS)
        self.page.wait_for_function(JS_KERNEL_IDLE, timeout=KERNEL_START_MS)

    def cell(self, index: int) -> Any:
        return self.page.locator(".jp-NotebookPanel .jp-Cell").nth(index)

    def run_all(self) -> None:
        """Start every cell; returns at once (the command's promise waits for all)."""
        self.page.evaluate(JS_RUN_ALL)

    def wait_for(
        self, predicate: str, arg: Any = None, *, timeout: float, what: str,
        detail: Callable[[], object] | None = None, polling: float | str = "raf",
    ) -> None:
        """Wait until the JS ``predicate(arg)`` is true; fail at once if a cell fails.

        ``timeout`` is in milliseconds; ``detail`` adds the page's state to a timeout.
        """
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        combined = f"(arg) => ({JS_CELL_ERROR})() !== null || !!({predicate})(arg)"
        try:
            self.page.wait_for_function(combined, arg=arg, timeout=timeout, polling=polling)
        except PlaywrightTimeout as exc:
            extra = f": {detail()!r}" if detail else ""
            raise AssertionError(f"{what}: not within {timeout / 1000:g} s{extra}") from exc
        error = self.page.evaluate(JS_CELL_ERROR)
        if error is not None:
            raise AssertionError(f"a cell failed while waiting for {what}:\n{error[-3000:]}")

    def save(self, timeout: float = 10.0) -> None:
        """Save until the notebook is clean: an output that changes while it is being
        saved (a card's last update) makes it dirty again, and is saved by the next try."""
        deadline = time.monotonic() + timeout
        while self.page.evaluate(JS_SAVE):
            assert time.monotonic() < deadline, f"still dirty after saving for {timeout:g} s"
            time.sleep(0.5)

    @contextlib.contextmanager
    def theme(self, name: str) -> Iterator[None]:
        """Switch to the theme ``name`` for a block; the light theme comes back after it,
        even on failure, since the setting outlives the page (and would reach later tests)."""
        try:
            self._set_theme(name)
            yield
        finally:
            self._set_theme(LIGHT)

    def _set_theme(self, name: str) -> None:
        self.page.evaluate(JS_SET_THEME, name)
        self.wait_for(JS_THEME_IS, name, timeout=10_000, what=f"the {name} theme")

    def session_id(self) -> str | None:
        result: str | None = self.page.evaluate(JS_SESSION_ID)
        return result

    def shot(self, step: str, target: Any = None, doc: str | None = None) -> Path:
        """Screenshot the page (or one element) into the artifacts folder.

        ``doc`` names the copy in docs/ made when SEEDANCE_UPDATE_DOC_SCREENSHOTS=1.
        """
        self.shots += 1
        path = self.artifacts / f"{self.name}-{self.shots:02d}-{step}.png"
        (target or self.page).screenshot(path=str(path))
        if doc and os.environ.get(UPDATE_DOCS_ENV) == "1":
            DOCS.mkdir(exist_ok=True)
            shutil.copyfile(path, DOCS / doc)
        return path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def lab(request: pytest.FixtureRequest, browser: Any, artifacts: Path) -> Iterator[Lab]:
    """A fresh context, page and notebook; the notebook's kernel is shut down afterwards.

    Tests marked ``labext`` run with our lab extension, the others without it; tests
    marked ``notebook7`` run in Notebook 7, the others in JupyterLab.
    """
    def marked(name: str) -> bool:
        return request.node.get_closest_marker(name) is not None

    lab_server: LabServer = request.getfixturevalue(
        SERVER_FIXTURES[marked("labext"), marked("notebook7")]
    )
    name = re.sub(r"\W+", "_", request.node.name).strip("_")
    for old in artifacts.glob(f"{name}-*"):
        old.unlink()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    current = Lab(page, lab_server, name, artifacts)
    page.on("console", lambda msg: current.console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: current.console.append(f"pageerror: {exc}"))
    try:
        yield current
    finally:
        report = getattr(request.node, "report_call", None)
        if report is None or report.failed:
            try:
                page.screenshot(path=str(artifacts / f"{name}-failure.png"))
            except Exception as exc:  # best effort: the failure itself is reported
                current.console.append(f"(no failure screenshot: {exc})")
            (artifacts / f"{name}-console.log").write_text("\n".join(current.console))
        context.close()
        lab_server.shut_down(current.notebook)
