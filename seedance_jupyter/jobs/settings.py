"""The jobs service's settings: what it reads, and their one traitlets declaration.

:class:`JobSettings` declares them (defaults and ``help=``) once for every host:
the kernel's ``SeedanceMagics`` adds how cards show videos, the server extension
runs its watcher on them. Traitlets needs no IPython, so the jobs layer may hold it.
"""

from __future__ import annotations

import math
import os
from typing import Any, Protocol

from traitlets import (
    Bool,
    Bunch,
    CaselessStrEnum,
    Float,
    Int,
    TraitError,
    Unicode,
    default,
    validate,
)
from traitlets.config import Configurable

from ..catalog import ASPECT_RATIOS, CREDITS_PER_USD, RESOLUTIONS
from ..media.stores import MediaSettings
from ..messages import CREDITS_PER_USD_INVALID, MEDIA_URL_TTL_INVALID

__all__ = ["DB_URL_HELP", "MEDIA_TTL_MAX", "JobSettings", "ServiceSettings"]

MEDIA_TTL_DEFAULT = 24 * 3600.0
MEDIA_TTL_MIN = 60.0
#: Presigned URLs on S3 and R2 live at most 7 days.
MEDIA_TTL_MAX = 7 * 24 * 3600.0


class ServiceSettings(MediaSettings, Protocol):
    """What the service reads from its settings, at each use (``%config`` applies at once)."""

    @property
    def default_model(self) -> str: ...

    @property
    def default_duration(self) -> int: ...

    @property
    def default_resolution(self) -> str: ...

    @property
    def default_aspect_ratio(self) -> str: ...

    @property
    def download(self) -> bool: ...

    @property
    def download_dir(self) -> str: ...

    @property
    def budget_usd(self) -> float | None: ...

    @property
    def daily_budget_usd(self) -> float | None: ...

    @property
    def requests_per_minute(self) -> float: ...

    @property
    def first_poll_delay(self) -> float: ...

    @property
    def max_poll_interval(self) -> float: ...

    @property
    def poll_latency(self) -> float: ...

    @property
    def reuse_across_notebooks(self) -> bool: ...

    @property
    def credits_per_usd(self) -> float: ...

    @property
    def db_url(self) -> str: ...

    @property
    def team_daily_budget_usd(self) -> float | None: ...

    @property
    def team_monthly_budget_usd(self) -> float | None: ...


#: The ``db_url`` setting's help, shared by every application that opens a ledger.
DB_URL_HELP = (
    "The ledger's database: sqlite:///PATH (one person; the default is "
    "ledger.sqlite3 in SEEDANCE_HOME) or postgresql://USER@HOST/DB (a team's shared "
    "ledger: one budget, who spent what, jobs any server can finish; needs the "
    "[postgres] extra). Empty: the SEEDANCE_DB_URL environment variable, else the default."
)


class JobSettings(Configurable):
    """Defaults for new jobs, budgets, polling and downloads (a :class:`ServiceSettings`)."""

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
    budget_usd = Float(
        None,
        allow_none=True,
        help="Most USD this kernel session may spend (estimated); a submission that would "
        "pass it is refused before anything is sent. None means no limit.",
    ).tag(config=True)
    daily_budget_usd = Float(
        None,
        allow_none=True,
        help="Most USD per calendar day for this user across all their kernels, from the "
        "ledger. None: no limit.",
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
    db_url = Unicode("", help=DB_URL_HELP).tag(config=True)
    team_daily_budget_usd = Float(
        None,
        allow_none=True,
        help="Most USD per calendar day for the whole team sharing the ledger (every user, "
        "every kernel), beside daily_budget_usd, which is this user's. None: no limit.",
    ).tag(config=True)
    team_monthly_budget_usd = Float(
        None,
        allow_none=True,
        help="Most USD per calendar month for the whole team sharing the ledger. None: no limit.",
    ).tag(config=True)
    reuse_across_notebooks = Bool(
        False,
        help="Re-running an identical cell re-attaches to the job it already made instead of "
        "paying again. By default only jobs made from the same notebook are re-used; True "
        "re-uses an identical job made from any notebook on this machine (the card says "
        "which).",
    ).tag(config=True)

    media_store = Unicode(
        help="Where local reference media (paths, images, arrays, earlier takes) is published "
        "for a service that is not on this machine: s3://bucket/prefix of an S3-compatible "
        "bucket (AWS S3, Cloudflare R2, MinIO, GCS interoperability), credentials from "
        "boto3's standard chain (AWS_* variables, profiles). Empty: the Jupyter server's "
        "media route when its public_url is set; with neither, such media is refused before "
        "anything is paid. Env: SEEDANCE_MEDIA_STORE.",
    ).tag(config=True)
    media_store_endpoint = Unicode(
        help="The S3 API endpoint of a bucket that is not on AWS, e.g. "
        "https://<account>.r2.cloudflarestorage.com for R2. Env: SEEDANCE_MEDIA_ENDPOINT.",
    ).tag(config=True)
    media_url_ttl = Float(
        MEDIA_TTL_DEFAULT,
        help="Seconds a published reference's URL stays readable (a presigned GET, or the "
        "server route's token): default 24 h, at most 7 days (flex-tier queues can be long; "
        "S3 and R2 presign at most 7 days).",
    ).tag(config=True)
    media_max_image_mb = Float(
        30.0,
        help="Largest image reference in MB, refused before upload. The service publishes "
        "no limit of its own; this is this project's guess.",
    ).tag(config=True)
    media_max_video_mb = Float(
        200.0,
        help="Largest video reference in MB (the service's own limit is not published).",
    ).tag(config=True)
    media_max_audio_mb = Float(
        50.0,
        help="Largest audio reference in MB (the service's own limit is not published).",
    ).tag(config=True)

    @default("media_store")
    def _media_store_default(self) -> str:
        return os.environ.get("SEEDANCE_MEDIA_STORE", "")

    @default("media_store_endpoint")
    def _media_store_endpoint_default(self) -> str:
        return os.environ.get("SEEDANCE_MEDIA_ENDPOINT", "")

    @validate("media_url_ttl")
    def _check_media_url_ttl(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not MEDIA_TTL_MIN <= value <= MEDIA_TTL_MAX:
            raise TraitError(MEDIA_URL_TTL_INVALID.format(
                value=value, low=MEDIA_TTL_MIN, high=MEDIA_TTL_MAX))
        return value

    credits_per_usd = Float(
        CREDITS_PER_USD,
        help="Credits the service charges per USD of its published price: spend and budgets "
        "count what a job was charged (its creditsCharged) converted at this rate, and the "
        "estimate only until the service answers. The contract does not state the rate; "
        "80 is what the service's own examples imply (40 credits for a 5 s 720p job, priced "
        "0.10 USD/s x 5 s = 0.50 USD). Set it if your account's rate differs.",
    ).tag(config=True)

    @validate("credits_per_usd")
    def _positive_rate(self, proposal: Bunch) -> float:
        """A rate that can convert a charge: 0, negative or infinite would hide it."""
        value = float(proposal["value"])
        if not 0 < value < math.inf:
            raise TraitError(CREDITS_PER_USD_INVALID.format(value=value))
        return value
