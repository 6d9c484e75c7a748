"""Faults: the network, the service and its storage misbehave; no paid job is lost."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from seedance_jupyter.emulator import Emulator, Faults
from seedance_jupyter.errors import AmbiguousSubmitError, SeedanceError
from seedance_jupyter.jobs.backend import Backend
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.handle import Job
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.kernel.config import SeedanceSettings
from seedance_jupyter.kernel.session import KernelSession
from seedance_jupyter.retry import Backoff
from seedance_jupyter.webhooks import sign_webhook_body

from .helpers import WebhookReceiver, eventually

SECRET = "whsec_test"
KEY = "sd2_faults"


def make_session(url: str, tmp_path: Path) -> KernelSession:
    settings = SeedanceSettings(download_dir=str(tmp_path / "videos"), first_poll_delay=0.2,
                                max_poll_interval=1.0)
    client = Client(api_key=KEY, base_url=url, backoff=Backoff(base=0.05))
    backend = Backend(client, url, "emulator", True)
    return KernelSession(settings, backend=backend, ledger=Ledger(tmp_path / "ledger.sqlite3"))


@pytest.fixture
def session(emulator: Emulator, tmp_path: Path) -> Iterator[KernelSession]:
    emulator.add_key(KEY, webhook_secret=SECRET)
    s = make_session(emulator.url, tmp_path)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    try:
        yield r
    finally:
        r.close()


def submit(session: KernelSession, prompt: str, **fields: object) -> Job:
    request = session.prepare(prompt, duration=4, resolution="480p", **fields)
    return session.submit(request).job


def test_status_500s_and_dropped_connections_do_not_stop_any_job(
    session: KernelSession, emulator: Emulator
) -> None:
    emulator.faults = Faults(error_rate=0.3, drop_rate=0.2, routes=("status",))
    jobs = [submit(session, f"stormy {i}") for i in range(4)]
    assert eventually(lambda: all(j.local_path for j in jobs))
    assert {j.status for j in jobs} == {"succeeded"}
    assert any(r.status == 500 for r in emulator.requests)


def test_a_429_storm_slows_polling_and_loses_no_job(
    session: KernelSession, emulator: Emulator
) -> None:
    jobs = [submit(session, f"throttled {i}") for i in range(3)]
    emulator.inject("status", status=429, retry_after=1, times=6)
    assert eventually(lambda: all(j.local_path for j in jobs))
    limited = [r.time for r in emulator.requests if r.status == 429]
    after = [r.time for r in emulator.requests
             if r.method == "GET" and r.status == 200 and r.time > limited[0]]
    assert after[0] - limited[0] >= 0.9


def test_a_lost_create_answer_is_reconciled_by_the_token_in_its_webhook_url(
    session: KernelSession, emulator: Emulator, receiver: WebhookReceiver
) -> None:
    emulator.inject("create", drop=True)
    request = session.prepare("lost answer", duration=4, resolution="480p",
                              webhook_url=receiver.url + "/{token}")
    with pytest.raises(AmbiguousSubmitError) as info:
        session.submit(request)
    [row] = session.ledger.unfinished()
    assert row.status == "submission_uncertain"
    assert row.client_token == info.value.client_token
    assert len([r for r in emulator.requests if r.method == "POST"]) == 1
    assert eventually(lambda: bool(receiver.received))
    headers, body = receiver.received[0]
    token = receiver.paths[0].rsplit("/", 1)[-1]
    job = session.apply_webhook(body, headers.get("x-seedance-signature"), SECRET,
                                client_token=token)
    reconciled = session.ledger.by_token(info.value.client_token)
    assert reconciled is not None
    assert reconciled.request_id == job.request_id
    assert job.status == "succeeded"


def test_a_lost_create_answer_is_reconciled_from_the_dashboard_id_without_metadata(
    session: KernelSession, emulator: Emulator
) -> None:
    emulator.inject("create", drop=True)
    with pytest.raises(AmbiguousSubmitError) as info:
        session.submit(session.prepare("seen on the dashboard", duration=4, resolution="480p"))
    [remote] = emulator.list_jobs()
    job = session.reconcile(remote["request_id"])
    reconciled = session.ledger.by_token(info.value.client_token)
    assert reconciled is not None and reconciled.request_id == job.request_id


def test_two_alike_uncertain_submissions_are_never_guessed_between(
    session: KernelSession, emulator: Emulator
) -> None:
    emulator.inject("create", drop=True, times=2)
    for _ in range(2):
        with pytest.raises(AmbiguousSubmitError):
            session.submit(session.prepare("twice lost", duration=4, resolution="480p"),
                           force_new=True)
    first = emulator.list_jobs()[0]
    with pytest.raises(SeedanceError, match="not matched"):
        session.reconcile(first["request_id"])


def test_a_replayed_webhook_changes_nothing(
    session: KernelSession, receiver: WebhookReceiver
) -> None:
    job = submit(session, "replayed", webhook_url=receiver.url)
    assert eventually(lambda: bool(receiver.received) and job.local_path is not None)
    before = session.ledger.get(job.request_id)
    headers, body = receiver.received[0]
    signature = headers.get("x-seedance-signature")
    session.apply_webhook(body, signature, SECRET)
    session.apply_webhook(body, signature, SECRET)
    after = session.ledger.get(job.request_id)
    assert after is not None
    assert before is not None
    assert (after.status, after.output_url, after.local_path) == (
        before.status, before.output_url, before.local_path)


@pytest.mark.parametrize("signature", [None, "", "zz", "0" * 64])
def test_a_webhook_without_a_valid_signature_is_rejected(
    session: KernelSession, signature: str | None
) -> None:
    body = b'{"success": true, "requestId": "req_x", "status": "succeeded"}'
    with pytest.raises(SeedanceError, match="Webhook rejected"):
        session.apply_webhook(body, signature, SECRET)


def test_a_webhook_for_a_job_that_is_not_ours_matches_nothing(
    session: KernelSession, emulator: Emulator
) -> None:
    stranger = Client(api_key=KEY, base_url=emulator.url).submit("not via the ledger",
                                                                 duration=4, resolution="480p")
    body = (b'{"success": true, "requestId": "%s", "status": "queued"}'
            % stranger.request_id.encode())
    with pytest.raises(SeedanceError, match="no client token"):
        session.apply_webhook(body, sign_webhook_body(body, SECRET), SECRET)


def test_an_expired_output_url_is_fetched_again(
    session: KernelSession, emulator: Emulator
) -> None:
    job = submit(session, "expires")
    # Off once submitted (not --no-download): the finished job waits to be saved.
    session.settings.download = False
    job.wait(timeout=60)
    emulator.expire_outputs()
    session.settings.download = True
    session.saver.ensure(job).result(timeout=60)  # type: ignore[union-attr]
    assert job.local_path is not None
    assert Path(job.local_path).stat().st_size > 0


def test_polling_recovers_when_the_emulator_process_restarts(tmp_path: Path) -> None:
    state = tmp_path / "state"

    def launch(port: int) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "seedance_jupyter.emulator", "--port", str(port),
             "--api-key", KEY, "--speed", "2", "--state-dir", str(state)],
            stdout=subprocess.PIPE, text=True,
        )
        assert proc.stdout is not None
        return proc, proc.stdout.readline().strip().rsplit(" ", 1)[-1]

    first, url = launch(0)
    port = int(url.rsplit(":", 1)[-1])
    session = make_session(url, tmp_path)
    second = None
    try:
        job = submit(session, "survives the service restarting")
        first.kill()
        first.wait()
        time.sleep(1.0)
        second, _ = launch(port)
        assert eventually(lambda: job.local_path is not None)
        assert job.status == "succeeded"
    finally:
        session.close()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def test_once_webhooks_arrive_a_job_that_asked_for_one_is_polled_only_as_a_safety_net(
    session: KernelSession, emulator: Emulator, receiver: WebhookReceiver
) -> None:
    submit(session, "the first delivery", webhook_url=receiver.url)
    assert eventually(lambda: len(receiver.received) == 1)
    headers, body = receiver.received[0]
    session.apply_webhook(body, headers.get("x-seedance-signature"), SECRET)
    request = session.prepare("then trusted", duration=15, resolution="480p",
                              webhook_url=receiver.url)  # about 5 s: 5 checks if polled
    second = session.submit(request).job
    assert eventually(lambda: len(receiver.received) == 2)
    headers, body = receiver.received[1]
    session.apply_webhook(body, headers.get("x-seedance-signature"), SECRET)
    assert second.status == "succeeded"
    assert eventually(lambda: second.local_path is not None, timeout=10)
    polls = [r for r in emulator.requests
             if r.method == "GET" and r.path.endswith("/" + second.request_id)]
    assert len(polls) <= 1  # the first check only; the webhook did the rest
