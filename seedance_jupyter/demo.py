"""``python -m seedance_jupyter.demo NOTEBOOK [--out DIR]``: run a tutorial, say where the video is.

The notebook runs in a real kernel against the embedded emulator (no key, no
network). The executed copy is written to ``DIR`` (``demo-output`` by default),
with the helpers beside the tutorial and the videos, so the tracked tutorial is
never rewritten and opening the copy in JupyterLab shows the cards and plays
the videos. The emulator the run started is stopped at the end: nothing is
left running.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

__all__ = ["DEFAULT_OUT", "main"]

#: Where the executed copy, its helpers and its videos go, relative to the working directory.
DEFAULT_OUT = Path("demo-output")
_STOP_WAIT_S = 15.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder for the executed copy and its videos")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)

    import nbformat
    from nbclient import NotebookClient

    source: Path = args.notebook
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for helper in source.parent.glob("*.py"):
        shutil.copy2(helper, out / helper.name)
    path = out / source.name
    notebook = nbformat.read(source, as_version=4)
    # The kernel inherits this environment: the demo never reaches the real, paid service.
    for name in ("SEEDANCE_BASE_URL", "SEEDANCE_API_KEY"):
        os.environ.pop(name, None)
    print(f"Running {source} against the local emulator ...", flush=True)
    before = _emulator_pid()
    try:
        NotebookClient(
            notebook, timeout=args.timeout, kernel_name="python3",
            resources={"metadata": {"path": str(out)}},
        ).execute()
    finally:
        _stop_started_emulator(before)
    nbformat.write(notebook, path)
    videos = sorted((out / "seedance_outputs").glob("*.mp4"))
    newest = max(videos, key=lambda p: p.stat().st_mtime) if videos else None
    print(f"Saved the executed notebook to {path} ({source} is unchanged).")
    if newest is not None:
        print(f"Video: {newest} ({newest.stat().st_size:,} bytes)")
    print(f"Open it: {Path(sys.prefix) / 'bin' / 'jupyter'} lab {path}")
    return 0


def _emulator_pid() -> int | None:
    """The process id of the embedded emulator of ``SEEDANCE_HOME``, if one is recorded."""
    from .emulator.shared import PORT_FILE
    from .paths import seedance_home

    try:
        recorded = json.loads((seedance_home() / "emulator" / PORT_FILE).read_text("utf-8"))
        return int(recorded["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _stop_started_emulator(before: int | None) -> None:
    """Stop the embedded emulator if this run started it (one already serving is left be)."""
    pid = _emulator_pid()
    if pid is None or pid == before:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + _STOP_WAIT_S
    while _emulator_pid() == pid and time.monotonic() < deadline:
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
