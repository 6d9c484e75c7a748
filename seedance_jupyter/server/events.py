"""The change stream: ``GET /seedance/api/events``, server-sent events for every ledger change.

Kernels write the shared ledger, so the server learns of changes by watching
it: one :class:`ChangeFeed` reads the rows written since it last looked (about
twice a second, in a worker thread) and sends each changed job to every open
stream as ``event: job``, then ``event: spend`` with the new totals. Idle
streams carry a ``: keepalive`` comment every 15 s. Nothing in the browser polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from tornado import web
from tornado.iostream import StreamClosedError

from .handlers import SeedanceHandler
from .service import ServerJobs

__all__ = ["ChangeFeed", "EventsHandler", "sse"]

_log = logging.getLogger("seedance_jupyter")
#: Rows are re-read this long after their ``updated_at``: a writer stamps its row
#: before it waits for SQLite's write lock, so it may commit a little "in the past".
_LATE_COMMIT_S = 5.0

Stream = asyncio.Queue[str | None]


def sse(event: str, data: Any) -> str:
    """One server-sent event (JSON data never contains a newline)."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


class ChangeFeed:
    """One ledger watcher for every open stream, on the server's event loop."""

    def __init__(
        self, jobs: ServerJobs, *, interval: float = 0.5, keepalive: float = 15.0
    ) -> None:
        self.jobs = jobs
        self.interval = interval
        self.keepalive = keepalive
        self._streams: set[Stream] = set()
        self._sent: dict[str, str] = {}
        self._spend: str | None = None
        self._since = time.time()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """End every stream and the watcher."""
        for stream in list(self._streams):
            stream.put_nowait(None)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def subscribe(self) -> Stream:
        stream: Stream = asyncio.Queue()
        self._streams.add(stream)
        return stream

    def unsubscribe(self, stream: Stream) -> None:
        self._streams.discard(stream)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.interval)
            if not self._streams:
                self._since = time.time() - _LATE_COMMIT_S
                continue
            try:
                await loop.run_in_executor(None, self._poll_once)
            except Exception:  # a locked or moved ledger must not end the stream
                _log.exception("reading ledger changes failed")

    def _poll_once(self) -> None:
        """Read the rows written lately; broadcast those whose summary changed."""
        events = []
        for updated_at, token, wire in self.jobs.changes(self._since - _LATE_COMMIT_S):
            self._since = max(self._since, updated_at)
            text = json.dumps(wire)
            if self._sent.get(token) != text:
                self._sent[token] = text
                events.append(sse("job", wire))
        if events:
            spend = self.jobs.spend()
            text = json.dumps(spend)
            if text != self._spend:
                self._spend = text
                events.append(sse("spend", spend))
        for event in events:
            self._broadcast(event)

    def _broadcast(self, event: str) -> None:
        loop = self._task.get_loop() if self._task is not None else None
        if loop is None:
            return
        for stream in list(self._streams):
            loop.call_soon_threadsafe(stream.put_nowait, event)


class EventsHandler(SeedanceHandler):
    """``GET /seedance/api/events``: ``text/event-stream`` of ``job`` and ``spend`` events."""

    def initialize(self, jobs: ServerJobs, feed: ChangeFeed) -> None:  # type: ignore[override]
        super().initialize(jobs)
        self.feed = feed
        self._stream: Stream | None = None

    @web.authenticated
    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        self._stream = stream = self.feed.subscribe()
        try:
            self.write(": connected\n\n")
            await self.flush()
            while True:
                try:
                    event = await asyncio.wait_for(stream.get(), self.feed.keepalive)
                except asyncio.TimeoutError:
                    event = ": keepalive\n\n"
                if event is None:
                    break
                self.write(event)
                await self.flush()
        except StreamClosedError:
            return
        finally:
            self.feed.unsubscribe(stream)
        self.finish()

    def on_connection_close(self) -> None:
        if self._stream is not None:
            self._stream.put_nowait(None)
