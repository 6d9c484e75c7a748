"""What one kernel adds to the jobs service: cards, and their ticking clocks.

The jobs logic lives in :class:`~seedance_jupyter.jobs.service.JobService`;
this subclass only wires it to the kernel's displays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..jobs.service import JobService, ServiceSettings, Submission

if TYPE_CHECKING:
    from ..jobs.handle import Job
    from .card import JobCard

__all__ = ["KernelSession", "Submission"]


class KernelSession(JobService):
    """One per kernel; created on first use so ``%load_ext`` stays cheap."""

    def __init__(self, settings: ServiceSettings, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        self._cards: list[JobCard] = []
        self.poller.on_tick = self._tick
        self.on_notice(self._tell_cards)

    def card_for(self, job: Job, notice: str | None = None) -> JobCard:
        """A new card view of ``job`` (the caller shows it from the cell's thread)."""
        from .card import JobCard

        def on_cancel(target: Job) -> None:
            self.cancel(target, on_error=lambda text: _cancel_failed(card, text))

        card = JobCard(
            job,
            backend_label=self.backend.label,
            is_emulator=self.backend.is_emulator,
            estimated_usd=self.estimated_usd(job),
            started_at=self.started_at(job),
            on_cancel=on_cancel,
            notice=notice,
        )
        self._cards.append(card)
        return card

    def _tell_cards(self, job: Job, text: str) -> None:
        for card in self._cards:
            if card.job is job:
                card.set_notice(text)

    def _tick(self) -> None:
        for card in list(self._cards):
            card.tick()

    def close(self) -> None:
        for card in self._cards:
            card.close()
        super().close()


def _cancel_failed(card: JobCard, text: str) -> None:
    """Put the card back in the job's real state and say why the cancel did not land."""
    card.set_status_override(None)
    card.set_notice(text)
