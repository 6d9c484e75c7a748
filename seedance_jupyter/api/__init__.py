"""The HTTP client of the Seedance Open API; it knows nothing of jobs, ledgers or IPython."""

from __future__ import annotations

from .client import APIClient
from .generations import Generations
from .models import Models
from .transport import CLIENT_TOKEN_KEY, DEFAULT_BASE_URL, Transport, new_client_token
from .types import JobError, JobState

__all__ = [
    "CLIENT_TOKEN_KEY",
    "DEFAULT_BASE_URL",
    "APIClient",
    "Generations",
    "JobError",
    "JobState",
    "Models",
    "Transport",
    "new_client_token",
]
