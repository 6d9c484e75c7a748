"""Reference media and money: published once per content, re-used on content, refused before paying.

Against a scripted service on loopback and an S3-compatible bucket on loopback:
the service reads the media some seconds after the create, as a real one would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from seedance_jupyter.errors import ValidationError
from seedance_jupyter.jobs.backend import Backend
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.jobs.service import JobService
from seedance_jupyter.retry import Backoff

from ..conftest import S3Bucket
from ..helpers import Settings, eventually
from ..media.conftest import png
from ..scripted import Answer, ScriptedServer, Seen, accepted

#: How long after the create the scripted service reads the media (as queues do).
FETCH_AFTER_S = 2.0


class FetchingService(ScriptedServer):
    """Accepts every create and, with ``fetch``, reads each of its mediaUrls a little later."""

    def __init__(self, *, fetch: bool = False) -> None:
        self.fetch = fetch
        self.fetched: list[bytes | int] = []
        self._count = 0
        super().__init__(create=self._create)

    def _create(self, seen: Seen) -> Answer:
        self._count += 1
        urls = list(seen.body.get("mediaUrls", []))
        if self.fetch:
            threading.Thread(target=self._fetch_later, args=(urls,), daemon=True).start()
        return accepted(f"req_{self._count}")

    def _fetch_later(self, urls: list[str]) -> None:
        time.sleep(FETCH_AFTER_S)
        for url in urls:
            response = requests.get(url, timeout=30)
            self.fetched.append(response.content if response.ok else response.status_code)


@pytest.fixture
def make(tmp_path: Path, s3_bucket: S3Bucket) -> Iterator[Callable[..., tuple[Any, JobService]]]:
    made: list[tuple[ScriptedServer, JobService]] = []
    ledger_path = tmp_path / "ledger.sqlite3"

    def build(*, fetch: bool = False, **settings: Any) -> tuple[FetchingService, JobService]:
        settings.setdefault("media_store", f"s3://{s3_bucket.name}/media")
        settings.setdefault("media_store_endpoint", s3_bucket.endpoint)
        server = FetchingService(fetch=fetch)
        client = Client(api_key="sd2_test", base_url=server.url, backoff=Backoff(base=0.01),
                        max_retries=2)
        service = JobService(Settings(**settings),  # type: ignore[arg-type]
                             backend=Backend(client, "scripted", "scripted", False),
                             ledger=Ledger(ledger_path), folder=tmp_path)
        made.append((server, service))
        return server, service

    yield build
    for server, service in made:
        service.close()
        server.close()


def test_the_service_reads_the_published_bytes_seconds_after_the_create(make) -> None:
    server, service = make(fetch=True)
    service.submit(service.prepare("a kite", media=[png(1)]))
    assert eventually(lambda: len(server.fetched) == 1, timeout=60)
    assert server.fetched == [png(1)]


def test_an_identical_rerun_posts_once_and_uploads_once(make, s3_bucket: S3Bucket,
                                                        tmp_path: Path) -> None:
    (tmp_path / "frame.png").write_bytes(png(2))
    server, service = make()
    first = service.submit(service.prepare("a kite", media=["frame.png"]))
    again = service.submit(service.prepare("a kite", media=["frame.png"]))
    assert server.posts == 1
    assert again.job.request_id == first.job.request_id
    assert len(s3_bucket.puts) == 1 and len(s3_bucket.keys()) == 1


def test_changed_bytes_at_the_same_path_are_a_new_job(make, tmp_path: Path) -> None:
    server, service = make()
    (tmp_path / "frame.png").write_bytes(png(3))
    service.submit(service.prepare("a kite", media=["frame.png"]))
    (tmp_path / "frame.png").write_bytes(png(4))
    service.submit(service.prepare("a kite", media=["frame.png"]))
    assert server.posts == 2


def test_a_new_presigned_url_for_the_same_bytes_is_still_the_same_job(make) -> None:
    server, service = make(media_url_ttl=3600.0)
    first = service.prepare("a kite", media=[png(5)])
    service.submit(first)
    service.settings.media_url_ttl = 7200.0  # as when the first URL has expired
    second = service.prepare("a kite", media=[png(5)])
    assert second.media_urls != first.media_urls
    service.submit(second)
    assert server.posts == 1


def test_the_ledger_keeps_each_references_hash_kind_and_place_but_no_bytes(
    make, s3_bucket: S3Bucket
) -> None:
    import hashlib

    _server, service = make()
    url = "https://cdn.example.com/style.jpg"
    job = service.submit(service.prepare("a kite", media=[png(6), url])).job
    record = service.ledger.get(job.request_id)
    assert record is not None
    assert record.media_refs == (
        {"name": f"bytes ({len(png(6))})", "kind": "image",
         "sha256": hashlib.sha256(png(6)).hexdigest(), "where": f"s3://{s3_bucket.name}/media/"},
        {"name": url, "kind": "image", "sha256": None, "where": "url"},
    )


def test_no_store_for_a_remote_service_is_refused_before_paying(make) -> None:
    server, service = make(media_store="")
    service.references.service_on_loopback = False  # a service on the internet
    with pytest.raises(ValidationError) as caught:
        service.submit(service.prepare("a kite", media=[png(7)]))
    text = str(caught.value)
    assert "\n" not in text and "media_store" in text and "media_store_endpoint" in text
    assert server.posts == 0


@pytest.mark.parametrize("bad", ["missing.png", "notes.png", "http://localhost:8888/files/a.png"])
def test_a_bad_reference_sends_and_uploads_nothing(
    make, bad: str, tmp_path: Path, s3_bucket: S3Bucket
) -> None:
    (tmp_path / "notes.png").write_text("not a picture")
    server, service = make()
    service.references.service_on_loopback = False
    with pytest.raises(ValidationError) as caught:
        service.prepare("a kite", media=[png(8), bad])
    assert str(caught.value).startswith(f"media: {bad!r} is not allowed;")
    assert server.posts == 0 and s3_bucket.puts == []


def test_client_submit_takes_the_same_media(s3_bucket: S3Bucket,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDANCE_MEDIA_STORE", f"s3://{s3_bucket.name}/sdk")
    monkeypatch.setenv("SEEDANCE_MEDIA_ENDPOINT", s3_bucket.endpoint)
    server = FetchingService(fetch=True)
    client = Client(api_key="sd2_test", base_url=server.url)
    try:
        client.submit("a kite", media=[png(9)])
        assert eventually(lambda: len(server.fetched) == 1, timeout=60)
        assert server.fetched == [png(9)]
    finally:
        client.close()
        server.close()


def test_local_media_is_estimated_at_the_image_to_video_price(make) -> None:
    _server, service = make()
    with_media = service.estimate(service.prepare("a kite", media=[png(10)]))
    text_only = service.estimate(service.prepare("a kite"))
    assert with_media == pytest.approx(text_only * 1.6)
