"""The change stream: ``GET /seedance/api/events``, server-sent events for every ledger change.

Kernels write the shared ledger, so the server learns of changes by watching
it: one :class:`ChangeFeed` reads the rows written since it last looked (about
twice a second, in a worker thread) and sends each changed job to every open
stream as ``event: job``, then ``event: spend`` with the new totals. Idle
streams carry a ``: keepalive`` comment every 15 s. Nothing in the browser polls.

Each stream's backlog (events read from the ledger, not yet written to its
socket) is bounded in bytes: a client that falls that far behind is dropped, so
one client that never reads cannot grow the server's memory. The lab
extension reconnects and re-reads the jobs it shows, which resynchronises it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from .handlers import SeedanceHandler
from .service import ServerJobs

__all__ = ["ChangeFeed", "EventsHandler", "Subscriber", "sse"]

_log = logging.getLogger("seedance_jupyter")
#: Rows are re-read this long after their ``updated_at``: a writer stamps its row
#: before it waits for SQLite's write lock, so it may commit a little "in the past".
_LATE_COMMIT_S = 5.0


def sse(event: str, data: Any) -> str:
    """One server-sent event (JSON data never contains a newline)."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


class Subscriber:
    """One open stream's backlog: batches of events not yet written, at most ``limit`` bytes
    (plus the one batch a stream that has caught up always accepts)."""

    def __init__(self, limit: int, on_drop: Callable[[], None]) -> None:
        self.limit = limit
        self.backlog = 0
        self.dropped = False
        self._queue: asyncio.Queue[tuple[str, int] | None] = asyncio.Queue()
        self._on_drop = on_drop

    def offer(self, batch: str, size: int) -> None:
        """Queue ``batch`` (``size`` bytes), or drop this client when it would pass the limit."""
        if self.dropped:
            return
        if self.backlog and self.backlog + size > self.limit:
            self.drop()
            return
        self.backlog += size
        self._queue.put_nowait((batch, size))

    async def next(self, timeout: float) -> str | None:
        """The next batch, ``""`` after ``timeout`` s of silence, ``None`` once ended."""
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout)
        except asyncio.TimeoutError:
            return ""
        if item is None:
            return None
        batch, size = item
        self.backlog -= size
        return batch

    def end(self) -> None:
        self._queue.put_nowait(None)

    def drop(self) -> None:
        """Forget the backlog and close the client's connection (it may never read again)."""
        self.dropped = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self.backlog = 0
        self.end()
        self._on_drop()


class ChangeFeed:
    """One ledger watcher for every open stream, on the server's event loop."""

    def __init__(
        self, jobs: ServerJobs, *, interval: float = 0.5, keepalive: float = 15.0,
        backlog_bytes: int = 4 << 20,
    ) -> None:
        self.jobs = jobs
        self.interval = interval
        self.keepalive = keepalive
        self.backlog_bytes = backlog_bytes
        self.subscribers: set[Subscriber] = set()
        #: token -> (updated_at, digest of the summary last sent), for rows still re-read.
        self._sent: dict[str, tuple[float, bytes]] = {}
        self._spend: str | None = None
        self._since = time.time()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """End every stream and the watcher."""
        for subscriber in list(self.subscribers):
            subscriber.end()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def remembered(self) -> int:
        """How many rows the feed remembers sending (those it still re-reads)."""
        return len(self._sent)

    def subscribe(self, on_drop: Callable[[], None]) -> Subscriber:
        """A new stream; ``on_drop`` closes its connection if it falls too far behind."""
        subscriber = Subscriber(self.backlog_bytes, on_drop)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def publish(self, batch: str) -> None:
        """Send ``batch`` to every stream (on the event loop); drop those too far behind."""
        size = len(batch.encode())
        for subscriber in list(self.subscribers):
            subscriber.offer(batch, size)
            if subscriber.dropped:
                _log.warning("dropped an events client %d bytes behind", self.backlog_bytes)
                self.unsubscribe(subscriber)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.interval)
            if not self.subscribers:
                self._since = time.time() - _LATE_COMMIT_S
                continue
            try:
                batch = await loop.run_in_executor(None, self.poll_once)
            except Exception:  # a locked or moved ledger must not end the stream
                _log.exception("reading ledger changes failed")
                continue
            if batch:
                self.publish(batch)

    def poll_once(self) -> str:
        """The events of the rows written lately whose summary changed, as one batch."""
        events = []
        for updated_at, token, wire in self.jobs.changes(self._since - _LATE_COMMIT_S):
            self._since = max(self._since, updated_at)
            digest = hashlib.blake2b(json.dumps(wire).encode(), digest_size=16).digest()
            if self._sent.get(token, (0.0, b""))[1] != digest:
                events.append(sse("job", wire))
            self._sent[token] = (updated_at, digest)
        self._forget_before(self._since - 2 * _LATE_COMMIT_S)
        if events:
            spend = self.jobs.spend()
            text = json.dumps(spend)
            if text != self._spend:
                self._spend = text
                events.append(sse("spend", spend))
        return "".join(events)

    def _forget_before(self, cutoff: float) -> None:
        """Forget rows no longer re-read: the memory of what was sent stays as small as
        the re-read window, not one entry per job the server has ever seen."""
        for token in [t for t, (at, _) in self._sent.items() if at < cutoff]:
            del self._sent[token]


class EventsHandler(SeedanceHandler):
    """``GET /seedance/api/events``: ``text/event-stream`` of ``job`` and ``spend`` events."""

    def initialize(self, jobs: ServerJobs, feed: ChangeFeed) -> None:  # type: ignore[override]
        super().initialize(jobs)
        self.feed = feed
        self._subscriber: Subscriber | None = None

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        self._subscriber = subscriber = self.feed.subscribe(self._close)
        try:
            self.write(": connected\n\n")
            await self.flush()
            while (batch := await subscriber.next(self.feed.keepalive)) is not None:
                self.write(batch or ": keepalive\n\n")
                await self.flush()
        except StreamClosedError:
            return
        finally:
            self.feed.unsubscribe(subscriber)
        if not subscriber.dropped:
            self.finish()

    def _close(self) -> None:
        """Close the connection of a client that stopped reading: its pending write ends."""
        self.request.connection.close()  # type: ignore[union-attr]

    def on_connection_close(self) -> None:
        if self._subscriber is not None:
            self._subscriber.end()
