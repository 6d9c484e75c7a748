"""Background work: a small pool rendering mp4s, and a ticker that fires webhooks.

Videos render on worker threads, never on request threads, so the API keeps
answering. The ticker notices jobs reaching a terminal status so webhooks fire
even when nobody polls.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from .bodies import generation_failed, webhook_body
from .service import Service
from .state import write_private
from .webhooks import WebhookAttempt, WebhookSender

__all__ = ["RENDER_WORKERS", "TICK", "Workers"]

RENDER_WORKERS = 2
TICK = 0.1


class Workers:
    """The render pool and the ticker of one service; ``stop`` ends them and webhook retries."""

    def __init__(self, service: Service, record_webhook: Callable[[WebhookAttempt], None]) -> None:
        self._service = service
        self._stopping = threading.Event()
        self._sender = WebhookSender(record_webhook, self._stopping)
        self._threads = [
            threading.Thread(target=self._tick_loop, name="seedance-emu-ticker", daemon=True),
            *(
                threading.Thread(target=self._render_loop, name=f"seedance-emu-render-{n}",
                                 daemon=True)
                for n in range(RENDER_WORKERS)
            ),
        ]
        for thread in self._threads:
            thread.start()

    def resume(self) -> None:
        """After a restart: note which outputs exist and queue the jobs still to render."""
        store = self._service.store
        for job in store.all():
            rendered = self._service.output_path(job.request_id).exists()
            if job.rendered != rendered:
                store.update(job.request_id, rendered=rendered)
            if not rendered and job.error is None and job.cancelled_at is None:
                self._service.render_queue.put(job.request_id)

    def stop(self) -> None:
        self._stopping.set()
        for _ in range(RENDER_WORKERS):
            self._service.render_queue.put(None)
        for thread in self._threads:
            thread.join(timeout=10)

    def _tick_loop(self) -> None:
        store = self._service.store
        while not self._stopping.wait(TICK):
            now = time.time()
            for job in store.newly_terminal(now):
                account = store.account_of(job)
                url = job.webhook_url or (account.webhook_url if account else None)
                if url:
                    secret = account.webhook_secret if account else None
                    body = webhook_body(self._service.status_answer(job, now))
                    self._sender.send(job.request_id, url, body, secret)

    def _render_loop(self) -> None:
        while (request_id := self._service.render_queue.get()) is not None:
            self._render(request_id)

    def _reference(self, request_id: str) -> bytes | None:
        """The picture read at create (None for text-to-video)."""
        try:
            return self._service.reference_path(request_id).read_bytes()
        except FileNotFoundError:
            return None

    def _render(self, request_id: str) -> None:
        """Render one job's mp4 to a 0600 ``.part`` file, renamed when complete."""
        store = self._service.store
        job = store.get(request_id)
        if job is None or job.error is not None or job.cancelled_at is not None:
            return
        target = self._service.output_path(request_id)
        partial = target.with_name(target.name + ".part")

        def cancelled() -> bool:
            current = store.get(request_id)
            return self._stopping.is_set() or current is None or current.cancelled_at is not None

        try:
            from .render import RenderCancelled, frame_size, render_video
        except ImportError as exc:
            message = (
                f"Rendering needs PyAV and NumPy: pip install 'seedance-jupyter[emulator]' ({exc})."
            )
            store.update(request_id, error=generation_failed(message))
            return
        width, height = frame_size(job.resolution, job.aspect_ratio)
        try:
            write_private(partial, b"")
            render_video(
                partial, prompt=job.prompt, duration=job.duration, width=width, height=height,
                reference=self._reference(request_id), cancelled=cancelled,
            )
        except RenderCancelled:
            partial.unlink(missing_ok=True)
            return
        except Exception as exc:  # any failure must end the job, not leave it processing forever
            partial.unlink(missing_ok=True)
            message = f"The emulator could not render this video ({type(exc).__name__}: {exc})."
            store.update(request_id, error=generation_failed(message))
            return
        os.replace(partial, target)
        store.update(request_id, rendered=True)
