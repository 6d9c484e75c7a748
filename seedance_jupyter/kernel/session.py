"""What one kernel adds to the jobs service: cards for its front end.

The jobs logic lives in :class:`~seedance_jupyter.jobs.service.JobService`;
this subclass only wires it to the kernel's displays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..jobs.service import JobService, Submission
from ..jobs.settings import ServiceSettings
from ..paths import server_root
from .frontend import Frontend
from .video import VideoSource, choose_video, resolve_mode

if TYPE_CHECKING:
    from ..jobs.handle import Job
    from ..jobs.summary import JobSummary
    from .card import JobCard

__all__ = ["KernelSession", "KernelSettings", "Submission"]


class KernelSettings(ServiceSettings, Protocol):
    """The service's settings plus how cards show videos."""

    @property
    def video(self) -> str: ...

    @property
    def video_data_max_mb(self) -> float: ...


class KernelSession(JobService):
    """One per kernel; created on first use so ``%load_ext`` stays cheap."""

    settings: KernelSettings

    def __init__(
        self, settings: KernelSettings, *, frontend: Frontend = "jupyter", **kwargs: Any
    ) -> None:
        super().__init__(settings, **kwargs)
        self.frontend: Frontend = frontend
        #: The folder the Jupyter server that started this kernel serves, if known.
        self.server_root = server_root()
        self._cards: list[JobCard] = []
        self.on_notice(self._tell_cards)

    def card_for(self, job: Job, notice: str | None = None) -> JobCard:
        """A new card of ``job`` (the caller shows it from the cell's thread)."""
        from .card import JobCard

        def on_cancel(target: Job) -> None:
            self.cancel(target, on_error=lambda text: _cancel_failed(card, text))

        card = JobCard(
            job, self.summary, on_cancel=on_cancel, video=self.video_for,
            frontend=self.frontend, notice=notice,
        )
        self._cards.append(card)
        return card

    def video_for(self, summary: JobSummary) -> VideoSource | None:
        """Where a card's player finds the video, by ``SeedanceMagics.video``."""
        mode = resolve_mode(self.settings.video, self.frontend)
        return choose_video(
            summary, mode, data_max_mb=self.settings.video_data_max_mb, folder=self.folder,
            root=self.server_root,
        )

    def _tell_cards(self, job: Job, text: str) -> None:
        for card in self._cards:
            if card.job is job:
                card.set_notice(text)

    def close(self) -> None:
        for card in self._cards:
            card.close()
        super().close()


def _cancel_failed(card: JobCard, text: str) -> None:
    """Put the card back in the job's real state and say why the cancel did not land."""
    card.set_status_override(None)
    card.set_notice(text)
