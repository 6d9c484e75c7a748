"""A local emulator of the whole Seedance Open API, rendering real mp4 videos.

It lets notebooks and tests run with no network and no key::

    from seedance_jupyter.emulator import start
    emu = start(speed=10.0)          # emu.url, emu.api_key ("sd2_emu_local")
    ...
    emu.stop()

Jobs queue and process for times drawn from seeded distributions, as a real
service's vary (``runtime_cv``, ``queue_mean``, ``seed``; ``runtime_cv=0,
queue_mean=0`` fixes them). Processes that should share one emulator per state
directory call :func:`seedance_jupyter.emulator.shared.ensure_running`.

PyAV and NumPy (the ``emulator`` extra) are imported only when a video or a
sample image is first drawn, so importing this package stays light.
"""

from __future__ import annotations

from .app import Emulator, start
from .faults import Faults
from .server import RecordedRequest
from .webhooks import WebhookAttempt

__all__ = ["Emulator", "Faults", "RecordedRequest", "WebhookAttempt", "start"]
