"""One vocabulary for a job's status, shared by the API types, the ledger, the cards and REST.

The service has five statuses; this package adds four of its own for the moments
the service cannot describe (before and around the create POST, and a Cancel in
flight). A status only ever moves forward in :data:`RANK`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from .messages import STATUS_LABELS

__all__ = [
    "API_STATUSES",
    "CANCELLABLE",
    "FINAL",
    "LOCAL_STATUSES",
    "RANK",
    "SERVICE_TERMINAL",
    "Status",
    "is_final",
    "label",
]

Status = Literal[
    "pending", "submission_uncertain", "queued", "processing", "cancelling",
    "succeeded", "failed", "cancelled", "rejected",
]

#: What the service's answers may say.
API_STATUSES: Final = ("queued", "processing", "succeeded", "failed", "cancelled")
#: What only this package says: before/around the POST, and a Cancel on its way.
LOCAL_STATUSES: Final = ("pending", "submission_uncertain", "rejected", "cancelling")
#: The service's final statuses: nothing about the remote job changes after them.
SERVICE_TERMINAL: Final = frozenset({"succeeded", "failed", "cancelled"})
#: Final for this package too: a rejected create never became a job.
FINAL: Final = SERVICE_TERMINAL | {"rejected"}
#: What the service lets a client cancel.
CANCELLABLE: Final = frozenset({"queued", "processing"})

#: The order of a job's life. Statuses the service may add later rank with
#: ``processing`` (still in flight); ``cancelling`` is never stored.
RANK: Final[Mapping[str, int]] = {
    "pending": 0, "submission_uncertain": 1, "queued": 2, "processing": 3, "cancelling": 3,
    "succeeded": 4, "failed": 4, "cancelled": 4, "rejected": 4,
}

def is_final(status: str) -> bool:
    """True once nothing about the job can change any more."""
    return status in FINAL


def label(status: str) -> str:
    """The words a person reads for ``status`` (cards, tables, the panel)."""
    return STATUS_LABELS.get(status, status.replace("_", " "))
