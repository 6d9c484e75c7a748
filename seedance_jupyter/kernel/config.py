"""Settings of the extension, as traitlets, so ``%config`` and ``ipython_config.py`` work.

``%config SeedanceMagics.default_model = "seedance-2.0-fast"`` changes them in a
running kernel.
"""

from __future__ import annotations

from traitlets import Bool, CaselessStrEnum, Float, Int, Unicode
from traitlets.config import Configurable

from ..catalog import ASPECT_RATIOS, RESOLUTIONS

__all__ = ["SeedanceSettings"]


class SeedanceSettings(Configurable):
    """Defaults for ``%%seedance`` and the form, budget and polling limits."""

    default_model = Unicode(
        "seedance-2.0", help="Model used when a cell gives no -m/--model."
    ).tag(config=True)
    default_duration = Int(
        5, help="Seconds of video when a cell gives no -d/--duration."
    ).tag(config=True)
    default_resolution = CaselessStrEnum(
        RESOLUTIONS, default_value="720p", help="Resolution when a cell gives no -r."
    ).tag(config=True)
    default_aspect_ratio = CaselessStrEnum(
        ASPECT_RATIOS, default_value="16:9", help="Aspect ratio when a cell gives no -a."
    ).tag(config=True)
    download = Bool(
        True,
        help="Download finished videos next to the notebook, so they outlive the "
        "output URL's expiry (--no-download turns it off for one cell).",
    ).tag(config=True)
    download_dir = Unicode(
        "seedance_outputs",
        help="Folder for downloaded videos, relative to the kernel's working directory "
        "(the notebook's folder), so saved notebooks can play them.",
    ).tag(config=True)
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
    budget_usd = Float(
        None,
        allow_none=True,
        help="Most USD this kernel session may spend (estimated); a submission that would "
        "pass it is refused before anything is sent. None means no limit.",
    ).tag(config=True)
    daily_budget_usd = Float(
        None,
        allow_none=True,
        help="Most USD per calendar day across all kernels, from the ledger. None: no limit.",
    ).tag(config=True)
    requests_per_minute = Float(
        240.0,
        help="Status requests per minute shared by all jobs of this kernel.",
    ).tag(config=True)
    first_poll_delay = Float(
        1.0, help="Seconds from submission to the first status check."
    ).tag(config=True)
    max_poll_interval = Float(
        15.0, help="Longest pause between two status checks of one job."
    ).tag(config=True)
    poll_latency = Float(
        2.0,
        help="Seconds a finished job may wait before its card shows it, while the job is "
        "in the time window where alike jobs usually finish (learnt from the ledger: the "
        "5th to the 95th percentile of their runtimes). Smaller values see results sooner "
        "at the cost of more status requests; larger values send fewer requests. Before "
        "that window, checks are sparse; with fewer than 5 alike jobs in the ledger, or "
        "past the window, the pause grows with the job's age (up to max_poll_interval). "
        "A job with a --webhook is checked only every 60 s once webhooks arrive.",
    ).tag(config=True)
