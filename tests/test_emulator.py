"""The local emulator, driven over real HTTP with ``requests``: no mocks."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import requests

from seedance_jupyter.emulator import Emulator, Faults

from .emulator import api
from .emulator.api import API, SHORT, T2V
from .helpers import WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[Callable[[list[int]], WebhookReceiver]]:
    made: list[WebhookReceiver] = []

    def make(statuses: list[int]) -> WebhookReceiver:
        made.append(WebhookReceiver(statuses))
        return made[-1]

    yield make
    for item in made:
        item.close()


def test_models_lists_three_models_with_prices_without_a_key(emulator: Emulator) -> None:
    answer = requests.get(f"{emulator.url}{API}/models", timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert body["success"] is True
    models = {entry["id"]: entry for entry in body["data"]}
    assert set(models) == {"seedance-2.0", "seedance-2.0-fast", "seedance-1.5-pro"}
    assert models["seedance-2.0"]["usdPerSecond"] == {"480p": 0.05, "720p": 0.1, "1080p": 0.2}
    assert models["seedance-1.5-pro"]["durations"] == [5, 10]
    assert models["seedance-2.0-fast"]["aspectRatios"] == ["16:9", "9:16", "1:1"]


def test_create_answers_queued_and_charges_40_credits_for_5s_720p(emulator: Emulator) -> None:
    before = emulator.credits()
    answer = api.create(emulator, T2V)
    assert answer.status_code == 200
    body = answer.json()
    assert body["success"] is True
    assert body["status"] == "queued"
    assert body["requestId"].startswith("req_")
    assert body["creditsCharged"] == 40
    assert emulator.credits() == before - 40


def test_omitted_fields_default_to_5s_720p_16_9(emulator: Emulator) -> None:
    answer = api.create(emulator, {"model": "seedance-2.0", "prompt": "Defaults"})
    assert answer.json()["creditsCharged"] == 40
    job = emulator.jobs(answer.json()["requestId"])
    assert (job["duration"], job["resolution"], job["aspect_ratio"]) == (5, "720p", "16:9")


def test_job_goes_queued_processing_succeeded_and_serves_an_mp4(
    own_emulator: Callable[..., Emulator],
) -> None:
    emu = own_emulator(speed=2.0)
    request_id = api.create(emu, SHORT).json()["requestId"]
    seen: list[str] = []
    while not seen or seen[-1] not in ("succeeded", "failed"):
        status = api.status(emu, request_id).json()["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        time.sleep(0.05)
    assert seen == ["queued", "processing", "succeeded"]
    body = api.status(emu, request_id).json()
    assert body["error"] is None
    video = requests.get(body["output"]["url"], timeout=10)
    assert video.status_code == 200
    assert video.headers["Content-Type"] == "video/mp4"
    assert int(video.headers["Content-Length"]) == len(video.content) > 1000
    assert video.headers["Accept-Ranges"] == "bytes"
    assert video.content[4:8] == b"ftyp"


def test_range_request_answers_206_with_those_bytes(emulator: Emulator) -> None:
    url = api.finished(emulator, api.create(emulator, SHORT).json()["requestId"])["output"]["url"]
    whole = requests.get(url, timeout=10).content
    part = requests.get(url, headers={"Range": "bytes=100-199"}, timeout=10)
    assert part.status_code == 206
    assert part.content == whole[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
    tail = requests.get(url, headers={"Range": "bytes=-10"}, timeout=10)
    assert tail.content == whole[-10:]
    beyond = requests.get(url, headers={"Range": f"bytes={len(whole)}-"}, timeout=10)
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(whole)}"


def test_head_of_an_output_sends_headers_only(emulator: Emulator) -> None:
    url = api.finished(emulator, api.create(emulator, SHORT).json()["requestId"])["output"]["url"]
    head = requests.head(url, timeout=10)
    assert head.status_code == 200
    assert int(head.headers["Content-Length"]) > 1000
    assert head.content == b""


def test_bad_or_missing_key_gets_401_envelope(emulator: Emulator) -> None:
    bad = api.create(emulator, T2V, key="sd2_live_wrong")
    missing = requests.post(f"{emulator.url}{API}/video/generations", json=T2V, timeout=10)
    for answer in (bad, missing):
        assert answer.status_code == 401
        assert answer.json() == {
            "success": False, "error": {"code": "unauthorized", "message": "Invalid API key"},
        }
    assert emulator.list_jobs() == []
    assert emulator.requests[-1].api_key_ok is False


def test_another_keys_job_is_404(emulator: Emulator) -> None:
    emulator.add_key("sd2_emu_other")
    request_id = api.create(emulator, T2V).json()["requestId"]
    answer = api.status(emulator, request_id, key="sd2_emu_other")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"duration": "five"}, "duration"),
        ({"duration": 3}, "duration"),
        ({"resolution": "4k"}, "resolution"),
        ({"aspectRatio": "4:3"}, "aspectRatio"),
        ({"mediaUrls": ["ftp://x/a.png"]}, "mediaUrls"),
        ({"colour": "red"}, "colour"),
        ({"model": None}, "model"),
    ],
)
def test_invalid_body_gets_400_naming_the_field(
    emulator: Emulator, change: dict[str, Any], field: str
) -> None:
    answer = api.create(emulator, {**T2V, **change})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert re.match(rf"{field}(\[\d+\])?: ", error["message"])
    assert emulator.list_jobs() == []


def test_402_when_the_balance_cannot_pay(own_emulator: Callable[..., Emulator]) -> None:
    emu = own_emulator(speed=20.0, credits=50)
    assert api.create(emu, T2V).status_code == 200
    answer = api.create(emu, T2V)
    assert answer.status_code == 402
    assert answer.json()["error"]["code"] == "insufficient_credits"
    assert emu.credits() == 10


def test_429_with_retry_after_past_the_rate_limit(own_emulator: Callable[..., Emulator]) -> None:
    emu = own_emulator(speed=20.0, rate_limit_per_minute=3)
    models = f"{emu.url}{API}/models"
    answers = [requests.get(models, headers=api.auth(emu.api_key), timeout=10) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["error"]["code"] == "rate_limited"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60


def test_injected_429_sends_the_given_retry_after(emulator: Emulator) -> None:
    emulator.inject("status", status=429, retry_after=2)
    answer = api.status(emulator, "req_whatever")
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "2"
    assert api.status(emulator, "req_whatever").status_code == 404


def test_cancel_of_a_processing_job(own_emulator: Callable[..., Emulator]) -> None:
    emu = own_emulator(speed=1.0)
    request_id = api.create(emu, SHORT).json()["requestId"]
    api.wait_for(lambda: api.status(emu, request_id).json()["status"] == "processing")
    answer = api.cancel(emu, request_id)
    assert answer.status_code == 200
    assert answer.json() == {"success": True, "requestId": request_id, "status": "cancelled"}
    assert api.status(emu, request_id).json()["status"] == "cancelled"


def test_cancel_of_a_finished_job_is_refused(emulator: Emulator) -> None:
    request_id = api.create(emulator, SHORT).json()["requestId"]
    api.finished(emulator, request_id)
    answer = api.cancel(emulator, request_id)
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "code": "invalid_request",
        "message": "Only queued or processing jobs can be cancelled; this one is succeeded.",
    }


def test_injected_500_does_not_create_a_job(emulator: Emulator) -> None:
    before = emulator.credits()
    emulator.inject("create", status=500)
    answer = api.create(emulator, T2V)
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert emulator.list_jobs() == []
    assert emulator.credits() == before


def test_dropped_create_still_created_and_charged_a_job(emulator: Emulator) -> None:
    before = emulator.credits()
    emulator.inject("create", drop=True)
    with pytest.raises(requests.ConnectionError):
        api.create(emulator, {**T2V, "metadata": {"token": "abc"}})
    [job] = emulator.list_jobs()
    assert job["metadata"] == {"token": "abc"}
    assert emulator.jobs(job["request_id"])["credits"] == 40
    assert emulator.credits() == before - 40
    assert emulator.requests[-1].status is None


def test_error_rate_answers_500_and_latency_slows_requests(emulator: Emulator) -> None:
    emulator.faults = Faults(error_rate=1.0, latency=0.2)
    started = time.monotonic()
    answer = requests.get(f"{emulator.url}{API}/models", timeout=10)
    assert answer.status_code == 500
    assert time.monotonic() - started >= 0.2


def test_fail_rate_jobs_end_failed_with_an_error(emulator: Emulator) -> None:
    emulator.faults.fail_rate = 1.0
    body = api.finished(emulator, api.create(emulator, SHORT).json()["requestId"])
    assert body["status"] == "failed"
    assert body["output"] is None
    assert body["error"]["code"] == "generation_failed"
    assert body["error"]["message"]


def test_webhook_is_delivered_with_a_valid_signature(
    own_emulator: Callable[..., Emulator], receiver: Callable[[list[int]], WebhookReceiver]
) -> None:
    hook = receiver([])
    emu = own_emulator(speed=20.0, webhook_secret="whsec_test")
    request_id = api.create(emu, {**SHORT, "webhookUrl": hook.url}).json()["requestId"]
    api.wait_for(lambda: emu.webhooks)
    headers, body = hook.received[0]
    expected = hmac.new(b"whsec_test", body, hashlib.sha256).hexdigest()
    assert headers["x-seedance-signature"] == expected
    payload = json.loads(body)
    assert payload["requestId"] == request_id
    assert payload["status"] == "succeeded"
    assert payload["output"]["url"].startswith(emu.url)
    assert payload["error"] is None
    assert emu.webhooks[0].ok


def test_webhook_goes_to_the_keys_default_url(
    own_emulator: Callable[..., Emulator], receiver: Callable[[list[int]], WebhookReceiver]
) -> None:
    hook = receiver([])
    emu = own_emulator(speed=20.0, default_webhook_url=hook.url)
    emu.faults.fail_rate = 1.0
    request_id = api.create(emu, SHORT).json()["requestId"]
    api.wait_for(lambda: hook.received)
    headers, body = hook.received[0]
    assert json.loads(body)["requestId"] == request_id
    assert headers["x-seedance-signature"] is None


def test_webhook_is_retried_after_a_failure(
    emulator: Emulator, receiver: Callable[[list[int]], WebhookReceiver]
) -> None:
    hook = receiver([500])
    api.create(emulator, {**SHORT, "webhookUrl": hook.url})
    attempts = api.wait_for(lambda: emulator.webhooks if len(emulator.webhooks) >= 2 else None)
    assert [a.status for a in attempts] == [500, 200]
    assert attempts[1].time - attempts[0].time >= 0.45
    assert hook.received[0][1] == hook.received[1][1]


def test_expired_output_url_is_403_then_a_fresh_url_works(emulator: Emulator) -> None:
    request_id = api.create(emulator, SHORT).json()["requestId"]
    old_url = api.finished(emulator, request_id)["output"]["url"]
    emulator.expire_outputs()
    expired = requests.get(old_url, timeout=10)
    assert expired.status_code == 403
    assert expired.json()["success"] is False
    fresh_url = api.status(emulator, request_id).json()["output"]["url"]
    assert fresh_url != old_url
    assert requests.get(fresh_url, timeout=10).status_code == 200


def test_output_url_expires_after_its_ttl(own_emulator: Callable[..., Emulator]) -> None:
    emu = own_emulator(speed=20.0, output_url_ttl=0.2)
    url = api.finished(emu, api.create(emu, SHORT).json()["requestId"])["output"]["url"]
    time.sleep(1.3)
    assert requests.get(url, timeout=10).status_code == 403


def test_state_dir_keeps_jobs_and_balance_across_a_restart(
    own_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    first = own_emulator(speed=20.0, state_dir=tmp_path / "state", output_dir=None)
    request_id = api.create(first, SHORT).json()["requestId"]
    api.finished(first, request_id)
    balance = first.credits()
    first.stop()
    second = own_emulator(speed=20.0, state_dir=tmp_path / "state", output_dir=None)
    assert second.url == first.url
    body = api.status(second, request_id).json()
    assert body["status"] == "succeeded"
    assert requests.get(body["output"]["url"], timeout=10).status_code == 200
    assert second.credits() == balance


def test_job_cut_off_by_a_stop_is_rendered_after_the_restart(
    own_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    first = own_emulator(speed=20.0, state_dir=tmp_path / "state", output_dir=None)
    request_id = api.create(first, SHORT).json()["requestId"]
    first.stop()
    second = own_emulator(speed=20.0, state_dir=tmp_path / "state", output_dir=None)
    assert api.finished(second, request_id)["status"] == "succeeded"
    assert second.jobs(request_id)["rendered"] is True


def test_image_to_video_charges_64_and_animates_the_sample(emulator: Emulator) -> None:
    body = {**T2V, "resolution": "480p", "duration": 4,
            "mediaUrls": [emulator.sample_url("checker")]}
    created = api.create(emulator, body).json()
    assert created["creditsCharged"] == round(0.05 * 4 * 80 * 1.6)
    url = api.finished(emulator, created["requestId"])["output"]["url"]
    with av.open(io.BytesIO(requests.get(url, timeout=10).content)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    green = first[..., 1].astype(np.int16)
    assert np.mean((green > 190) | (green < 70)) > 0.5  # the checker's two greens


def test_5s_720p_image_to_video_costs_64_credits(emulator: Emulator) -> None:
    created = api.create(emulator, {**T2V, "mediaUrls": [emulator.sample_url()]}).json()
    assert created["creditsCharged"] == 64


def test_unknown_path_is_404_envelope(emulator: Emulator) -> None:
    answer = requests.get(f"{emulator.url}/nowhere", timeout=10)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["error"]["code"] == "not_found"


def test_requests_are_recorded_without_the_key(emulator: Emulator) -> None:
    api.create(emulator, T2V)
    [recorded] = emulator.requests
    assert (recorded.method, recorded.path, recorded.status) == (
        "POST", f"{API}/video/generations", 200,
    )
    assert recorded.body == T2V
    assert recorded.api_key_ok is True
    assert emulator.api_key not in repr(recorded)
    emulator.clear_requests()
    assert emulator.requests == []


def test_api_keeps_answering_while_videos_render(emulator: Emulator) -> None:
    api.create(emulator, {**T2V, "resolution": "1080p", "duration": 10})
    time.sleep(0.3)
    slowest = 0.0
    for _ in range(20):
        started = time.monotonic()
        assert requests.get(f"{emulator.url}{API}/models", timeout=10).status_code == 200
        slowest = max(slowest, time.monotonic() - started)
    assert slowest < 0.5


def test_cli_prints_the_url_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "seedance_jupyter.emulator", "--port", "0",
         "--api-key", "sd2_emu_cli_secret", "--output-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("Seedance emulator at http://127.0.0.1:")
        url = line.removeprefix("Seedance emulator at ")
        assert requests.get(f"{url}{API}/models", timeout=10).status_code == 200
    finally:
        process.terminate()
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert out == ""
    assert "sd2_emu_cli_secret" not in err


def test_serving_the_api_does_not_import_pyav_or_numpy() -> None:
    code = (
        "import sys, requests\n"
        "from seedance_jupyter.emulator import start\n"
        "emu = start()\n"
        "requests.get(emu.url + '/api/open/v1/models', timeout=10)\n"
        "emu.stop()\n"
        "print(sorted({'av', 'numpy'} & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
