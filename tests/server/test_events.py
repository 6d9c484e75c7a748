"""The events stream: ledger changes by any process reach the browser, keepalives in between."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from seedance_jupyter.jobs.ledger import Ledger

from .conftest import Submitter, until

_OTHER_PROCESS = """
import sys
from seedance_jupyter.jobs.ledger import Ledger
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


async def test_a_change_written_by_another_process_is_streamed_within_2_seconds(
    open_stream: Any, submitter: Submitter, ledger: Ledger
) -> None:
    stream = await open_stream()
    record = submitter.submit()
    assert record.request_id is not None
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", _OTHER_PROCESS, str(ledger.path), record.request_id],
                   check=True, timeout=30)
    written = time.monotonic()

    def processing() -> bool:
        return any(job["requestId"] == record.request_id and job["status"] == "processing"
                   for job in stream.events("job"))

    assert await until(processing, 10)
    assert time.monotonic() - written < 2.0, time.monotonic() - started
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
