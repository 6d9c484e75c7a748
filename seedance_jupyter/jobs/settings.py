"""What the jobs service reads from its settings, apart from any one host's traitlets."""

from __future__ import annotations

from typing import Protocol

__all__ = ["ServiceSettings"]


class ServiceSettings(Protocol):
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
