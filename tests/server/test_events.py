"""The events stream: ledger changes by any process reach the browser, keepalives in between."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.server.events import ChangeFeed

from .conftest import Submitter, until

_OTHER_PROCESS = """
import sys
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.server.events import ChangeFeed
with Ledger(sys.argv[1]) as ledger:
    ledger.record_status(sys.argv[2], status="processing")
"""


class Stream:
    """An open ``GET /seedance/api/events``, its text collected as it arrives."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.text = ""
        self.response: asyncio.Future[Any] = asyncio.ensure_future(
            AsyncHTTPClient().fetch(HTTPRequest(
                url, headers=headers, request_timeout=60, streaming_callback=self._chunk)))

    def _chunk(self, chunk: bytes) -> None:
        self.text += chunk.decode()

    def events(self, name: str) -> list[Any]:
        found = []
        for block in self.text.split("\n\n"):
            lines = block.split("\n")
            if f"event: {name}" in lines:
                found += [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
        return found

    def close(self) -> None:
        self.response.cancel()


@pytest.fixture
def events_url(http_server_client: Any, jp_http_port: int, jp_base_url: str) -> str:
    """The stream's address on the listening test server."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}seedance/api/events"


@pytest.fixture
def open_stream(events_url: str, jp_auth_header: dict[str, str]) -> Iterator[Any]:
    opened: list[Stream] = []

    async def start() -> Stream:
        stream = Stream(events_url, jp_auth_header)
        opened.append(stream)
        assert await until(lambda: ": connected" in stream.text, 10)
        return stream

    yield start
    for stream in opened:
        stream.close()


@pytest.fixture
def seedance_config() -> dict[str, Any]:
    return {"watch_orphans": False, "events_interval": 0.2, "keepalive_interval": 0.5}


async def test_a_change_written_by_another_process_is_streamed(
    open_stream: Any, submitter: Submitter, ledger: Ledger
) -> None:
    stream = await open_stream()
    record = submitter.submit()
    assert record.request_id is not None
    subprocess.run([sys.executable, "-c", _OTHER_PROCESS, str(ledger.path), record.request_id],
                   check=True, timeout=30)

    def processing() -> bool:
        return any(job["requestId"] == record.request_id and job["status"] == "processing"
                   for job in stream.events("job"))

    assert await until(processing, 10)
    assert stream.events("spend")[-1]["todayUsd"] > 0


async def test_an_idle_stream_carries_keepalive_comments(open_stream: Any) -> None:
    stream = await open_stream()
    assert await until(lambda: stream.text.count(": keepalive") >= 2, 5)


async def test_the_stream_needs_authentication(events_url: str) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await AsyncHTTPClient().fetch(events_url, request_timeout=10)
    assert caught.value.code == 403


async def test_each_change_is_sent_once(open_stream: Any, submitter: Submitter) -> None:
    stream = await open_stream()
    record = submitter.submit()
    assert await until(lambda: len(stream.events("job")) >= 1, 5)
    await asyncio.sleep(1.5)  # the feed re-reads recent rows several times meanwhile
    assert [job["clientToken"] for job in stream.events("job")] == [record.client_token]


class SilentClient:
    """A real client that opens the stream and then never reads a byte."""

    def __init__(self, port: int, path: str, headers: dict[str, str]) -> None:
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.socket.connect(("127.0.0.1", port))
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.socket.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def close(self) -> None:
        self.socket.close()


class Counter:
    """An open stream that only counts the ``event: bulk`` events it has read."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.count = 0
        self.connected = False
        self._tail = ""
        self.response: asyncio.Future[Any] = asyncio.ensure_future(
            AsyncHTTPClient().fetch(HTTPRequest(
                url, headers=headers, request_timeout=300, streaming_callback=self._chunk)))

    def _chunk(self, chunk: bytes) -> None:
        text = self._tail + chunk.decode()
        self.connected = True
        self.count += text.count("event: bulk\n")
        self._tail = text[-12:]
        self.count -= self._tail.count("event: bulk\n")


@pytest.fixture
def backlog_limit(seedance_config: dict[str, Any]) -> int:
    return int(seedance_config["events_backlog_bytes"])


class TestAClientThatNeverReads:
    @pytest.fixture
    def seedance_config(self) -> dict[str, Any]:
        return {"watch_orphans": False, "events_interval": 0.2, "keepalive_interval": 60,
                "events_backlog_bytes": 256 * 1024}

    async def test_is_dropped_with_its_backlog_never_past_the_bound_while_others_are_served(
        self, extension: Any, events_url: str, jp_http_port: int,
        jp_auth_header: dict[str, str], backlog_limit: int,
    ) -> None:
        feed = extension.feed
        silent = SilentClient(jp_http_port, urlsplit(events_url).path, jp_auth_header)
        reader: Counter | None = None
        try:
            assert await until(lambda: len(feed.subscribers) == 1, 10)
            (never_reads,) = feed.subscribers
            reader = Counter(events_url, jp_auth_header)
            assert await until(lambda: len(feed.subscribers) == 2 and reader.connected, 10)
            batch = "event: bulk\ndata: " + json.dumps("x" * 32_000) + "\n\n"
            sent = peak = 0
            while not never_reads.dropped and sent < 64 * 1024 * 1024 // len(batch):
                feed.publish(batch)
                sent += 1
                peak = max(peak, never_reads.backlog)
                assert await until(lambda: reader.count == sent, 30)  # noqa: B023
            assert never_reads.dropped, f"kept after {sent} batches"
            assert peak <= backlog_limit
            assert never_reads not in feed.subscribers
            feed.publish(batch)
            assert await until(lambda: reader.count == sent + 1, 30)
        finally:
            silent.close()
            if reader is not None:
                reader.response.cancel()


class Rows:
    """A stand-in for ServerJobs' change list: ``changes(since)`` of rows written at set times."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, str, dict[str, Any]]] = []

    def write(self, at: float, token: str) -> None:
        self.rows.append((at, token, {"clientToken": token, "status": "queued"}))

    def changes(self, since: float) -> list[tuple[float, str, dict[str, Any]]]:
        return [row for row in self.rows if row[0] > since]

    def spend(self) -> dict[str, Any]:
        return {"todayUsd": 0.0}


def test_the_feed_remembers_only_rows_it_still_re_reads_not_every_job_ever_sent() -> None:
    rows = Rows()
    feed = ChangeFeed(rows)  # type: ignore[arg-type]
    start = time.time()
    for minute in range(60):
        for job in range(50):
            rows.write(start + minute * 60 + job * 0.01, f"tok{minute}-{job}")
        assert feed.poll_once().count("event: job") == 50
    assert feed.remembered == 50
