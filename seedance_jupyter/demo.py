"""``python -m seedance_jupyter.demo NOTEBOOK``: run a demo notebook and say where the video is.

The notebook runs in a real kernel against the embedded emulator (no key, no
network) and is saved with its outputs, so opening it in JupyterLab shows the
cards and plays the videos.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)

    import nbformat
    from nbclient import NotebookClient

    path: Path = args.notebook
    notebook = nbformat.read(path, as_version=4)
    print(f"Running {path} against the local emulator ...", flush=True)
    NotebookClient(
        notebook, timeout=args.timeout, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    nbformat.write(notebook, path)
    videos = sorted((path.parent / "seedance_outputs").glob("*.mp4"))
    newest = max(videos, key=lambda p: p.stat().st_mtime) if videos else None
    print(f"Saved {path} with its outputs.")
    if newest is not None:
        print(f"Video: {newest} ({newest.stat().st_size:,} bytes)")
    print(f"Open it: {Path(sys.prefix) / 'bin' / 'jupyter'} lab {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
