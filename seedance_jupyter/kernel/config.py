"""Settings of the extension, as traitlets, so ``%config`` and ``ipython_config.py`` work.

``%config SeedanceMagics.default_model = "seedance-2.0-fast"`` changes them in a
running kernel. The jobs settings are declared once, in :class:`JobSettings`.
"""

from __future__ import annotations

from traitlets import CaselessStrEnum, Float

from ..jobs.settings import JobSettings

__all__ = ["SeedanceSettings"]


class SeedanceSettings(JobSettings):
    """Defaults for ``%%seedance`` and the form, budget and polling limits, and the player."""

    video = CaselessStrEnum(
        ("auto", "path", "data", "url"),
        default_value="auto",
        help="How a finished card's player finds the video, so it plays wherever the "
        "notebook is opened. 'path': a relative link to the downloaded file, resolved from "
        "the notebook's folder (JupyterLab, Notebook 7, VS Code with the file alongside). "
        "'data': the mp4 itself inlined in the notebook as a data: URI, so it plays with no "
        "file at all (Colab, VS Code, a notebook sent by mail), up to video_data_max_mb; a "
        "bigger file is linked by path and the card says so. 'url': the service's https "
        "URL, which expires after about a day (the card says so); never a loopback URL. "
        "'auto': 'data' in Colab and VS Code, 'path' under a Jupyter server, and text only "
        "with no front end (terminal IPython).",
    ).tag(config=True)
    video_data_max_mb = Float(
        20.0,
        help="Largest video, in MB, that video='data' (or 'auto' in Colab and VS Code) "
        "inlines into the notebook; above it the card links the file by path instead.",
    ).tag(config=True)
