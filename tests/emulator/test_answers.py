"""Answers carry exactly the fields the contract documents; metadata only when asked for."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from seedance_jupyter.emulator import Emulator

from ..helpers import WebhookReceiver, eventually
from . import api
from .api import SHORT

STATUS_KEYS = {"success", "requestId", "status", "model", "prompt", "duration", "aspectRatio",
               "output", "error"}
WEBHOOK_KEYS = {"success", "requestId", "status", "output", "error"}
WITH_METADATA = {**SHORT, "metadata": {"run": 7}}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver()
    try:
        yield hook
    finally:
        hook.close()


def test_create_answer_has_exactly_the_documented_keys(emulator: Emulator) -> None:
    body = api.create(emulator, WITH_METADATA).json()
    assert set(body) == {"success", "requestId", "status", "creditsCharged"}


def test_queued_status_answer_has_exactly_the_documented_keys(emulator: Emulator) -> None:
    # A loaded machine may read a fresh job after its short queue: the first of a few
    # fresh jobs read while still queued is the answer under test.
    answers = (api.status(emulator, api.create(emulator, WITH_METADATA).json()["requestId"])
               .json() for _ in range(10))
    body = next(answer for answer in answers if answer["status"] == "queued")
    assert set(body) == STATUS_KEYS
    assert (body["output"], body["error"]) == (None, None)


def test_succeeded_status_answer_has_exactly_the_documented_keys(emulator: Emulator) -> None:
    body = api.finished(emulator, api.create(emulator, WITH_METADATA).json()["requestId"])
    assert body["status"] == "succeeded"
    assert set(body) == STATUS_KEYS
    assert set(body["output"]) == {"type", "url"}


def test_failed_status_answer_has_exactly_the_documented_keys(emulator: Emulator) -> None:
    emulator.faults.fail_rate = 1.0
    body = api.finished(emulator, api.create(emulator, WITH_METADATA).json()["requestId"])
    assert body["status"] == "failed"
    assert set(body) == STATUS_KEYS
    assert set(body["error"]) == {"code", "message"}


def test_cancel_answer_has_exactly_the_documented_keys(emulator: Emulator) -> None:
    request_id = api.create(emulator, WITH_METADATA).json()["requestId"]
    assert set(api.cancel(emulator, request_id).json()) == {"success", "requestId", "status"}


def test_webhook_body_has_exactly_the_documented_keys(
    emulator: Emulator, receiver: WebhookReceiver
) -> None:
    api.create(emulator, {**WITH_METADATA, "webhookUrl": receiver.url})
    assert eventually(lambda: bool(receiver.received))
    assert set(json.loads(receiver.received[0][1])) == WEBHOOK_KEYS


def test_echo_metadata_sends_metadata_back_in_status_and_webhook(
    own_emulator: Callable[..., Emulator], receiver: WebhookReceiver
) -> None:
    emu = own_emulator(speed=20.0, echo_metadata=True)
    request_id = api.create(emu, {**WITH_METADATA, "webhookUrl": receiver.url}).json()["requestId"]
    assert api.status(emu, request_id).json()["metadata"] == {"run": 7}
    assert eventually(lambda: bool(receiver.received))
    assert json.loads(receiver.received[0][1])["metadata"] == {"run": 7}


def test_metadata_is_stored_even_when_not_sent_back(emulator: Emulator) -> None:
    request_id = api.create(emulator, WITH_METADATA).json()["requestId"]
    assert emulator.jobs(request_id)["metadata"] == {"run": 7}
