"""Every paid video is kept, resumed, or reported lost: the service against a scripted API
and slow scripted storage (not the emulator, whose storage always behaves)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seedance_jupyter.jobs.backend import Backend
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.jobs.service import JobService
from seedance_jupyter.retry import Backoff

from ..helpers import Settings, eventually
from ..scripted import ScriptedServer
from ..slowfiles import SlowFile, SlowFileServer, mp4_body, one_video_api

VIDEO = mp4_body(400_000)


@pytest.fixture
def api(storage: SlowFileServer) -> Iterator[ScriptedServer]:
    """Every job is accepted as ``req_v`` and has succeeded by its first status check."""
    server = one_video_api(storage, "req_v")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def service(api: ScriptedServer, tmp_path: Path) -> Iterator[JobService]:
    made = service_for(api, tmp_path)
    try:
        yield made
    finally:
        made.close()


def service_for(api: ScriptedServer, tmp_path: Path, *, download: bool = True) -> JobService:
    client = Client(api_key="sd2_test", base_url=api.url, backoff=Backoff(base=0.01),
                    max_retries=2)
    return JobService(
        Settings(download=download, first_poll_delay=0.1, max_poll_interval=0.5),  # type: ignore[arg-type]
        backend=Backend(client, api.url, "scripted", False),
        ledger=Ledger(tmp_path / "home" / "ledger.sqlite3"), folder=tmp_path / "nb",
    )


def saved_row(service: JobService) -> bool:
    record = service.ledger.get("req_v")
    return record is not None and record.local_path is not None


def save_error(service: JobService) -> str | None:
    record = service.ledger.get("req_v")
    return None if record is None else record.save_error


def test_a_body_that_is_not_a_video_is_reported_lost_and_stays_to_be_saved(
    service: JobService, storage: SlowFileServer, tmp_path: Path
) -> None:
    storage.files["/req_v.mp4"] = SlowFile(bytes(300_000), pause=0.0)
    job = service.submit(service.prepare("a kite")).job

    assert eventually(lambda: save_error(service) is not None)
    record = service.ledger.get("req_v")
    assert record is not None and record.local_path is None
    assert record.save_error is not None and "not a video" in record.save_error
    assert "%seedance resume" in record.save_error
    assert service.summary(job).to_json()["saveError"] == record.save_error
    assert [r.request_id for r in service.ledger.unsaved()] == ["req_v"]
    assert not list((tmp_path / "nb" / "videos").glob("*.part"))


def test_a_download_cut_on_every_try_is_given_up_with_its_part_removed_and_said(
    service: JobService, storage: SlowFileServer, tmp_path: Path
) -> None:
    storage.files["/req_v.mp4"] = SlowFile(VIDEO, pause=0.0, cut_after=100_000)
    service.submit(service.prepare("a kite"))

    assert eventually(lambda: save_error(service) is not None)
    assert len(storage.served) == 3
    assert [s.range is None for s in storage.served] == [True, False, False]  # resumed
    assert "could not be saved" in (save_error(service) or "")
    assert list((tmp_path / "nb" / "videos").iterdir()) == []


def test_resume_saves_a_video_whose_earlier_save_failed(
    service: JobService, storage: SlowFileServer, tmp_path: Path
) -> None:
    storage.files["/req_v.mp4"] = SlowFile(bytes(300_000), pause=0.0)
    service.submit(service.prepare("a kite"))
    assert eventually(lambda: save_error(service) is not None)
    storage.files["/req_v.mp4"] = SlowFile(VIDEO, pause=0.0)

    [job] = service.resume()

    assert eventually(lambda: saved_row(service))
    record = service.ledger.get("req_v")
    assert record is not None and record.save_error is None and record.local_path is not None
    assert (tmp_path / "nb" / record.local_path).read_bytes() == VIDEO
    assert service.summary(job).save_error is None
    assert service.ledger.unsaved() == []


def test_closing_stops_a_running_download_and_keeps_its_part_for_a_resume(
    api: ScriptedServer, storage: SlowFileServer, tmp_path: Path
) -> None:
    storage.files["/req_v.mp4"] = SlowFile(VIDEO, piece=4096, pause=0.1)  # about 10 s
    first = service_for(api, tmp_path)
    first.submit(first.prepare("a kite"))
    part = tmp_path / "nb" / "videos" / "req_v.mp4.part"
    assert eventually(lambda: part.exists() and part.stat().st_size > 0)

    first.close()

    [served] = storage.served
    assert eventually(lambda: served.ended)
    assert not served.complete
    assert part.exists()
    again = service_for(api, tmp_path)
    try:
        record = again.ledger.get("req_v")
        assert record is not None and record.local_path is None and record.save_error is None
        storage.files["/req_v.mp4"].pause = 0.0
        again.resume()
        assert eventually(lambda: saved_row(again))
    finally:
        again.close()
    resumed = storage.served[-1]
    assert resumed.range is not None and resumed.range != "bytes=0-"
    assert (tmp_path / "nb" / "videos" / "req_v.mp4").read_bytes() == VIDEO
    assert not part.exists()


@pytest.mark.parametrize("how", ["--no-download", "download = False"])
def test_a_job_submitted_without_download_is_not_unsaved_work(
    api: ScriptedServer, storage: SlowFileServer, tmp_path: Path, how: str
) -> None:
    storage.files["/req_v.mp4"] = SlowFile(VIDEO, pause=0.0)
    service = service_for(api, tmp_path, download=how != "download = False")
    try:
        job = service.submit(service.prepare("a kite"), download=how != "--no-download").job
        assert eventually(lambda: job.status == "succeeded")

        assert service.ledger.unsaved() == []
        assert service.ledger.unleased_unfinished("scripted") == []
        assert storage.served == []
    finally:
        service.close()


def test_closing_while_a_whole_video_is_being_recorded_leaves_it_named_in_the_ledger(
    api: ScriptedServer, storage: SlowFileServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage.files["/req_v.mp4"] = SlowFile(VIDEO, pause=0.0)
    service = service_for(api, tmp_path)
    reached, closing = threading.Event(), threading.Event()
    record = service.ledger.record_download

    def record_when_closing(*args: Any, **kwargs: Any) -> None:
        reached.set()  # the file is whole and renamed; the ledger is not told yet
        closing.wait(30)
        record(*args, **kwargs)

    close_saver = service.saver.close

    def close_while_recording() -> None:
        closing.set()
        close_saver()

    monkeypatch.setattr(service.ledger, "record_download", record_when_closing)
    monkeypatch.setattr(service.saver, "close", close_while_recording)
    service.submit(service.prepare("a kite"))
    assert reached.wait(30)

    service.close()

    with Ledger(tmp_path / "home" / "ledger.sqlite3") as reopened:
        saved = reopened.get("req_v")
        assert saved is not None and saved.local_path == "videos/req_v.mp4"
