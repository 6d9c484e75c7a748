"""The webhook receiver: only signed deliveries for known client tokens change the ledger."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from seedance_jupyter.emulator import Emulator
from seedance_jupyter.jobs.ledger import JobRecord, Ledger
from seedance_jupyter.webhooks import sign_webhook_body

from .conftest import SECRET, Submitter, body, until

OUTPUT = "https://cdn.example/req.mp4"


def delivery(request_id: str, status: str = "succeeded", url: str = OUTPUT) -> bytes:
    return json.dumps({
        "success": True, "requestId": request_id, "status": status,
        "output": {"type": "video", "url": url} if status == "succeeded" else None,
        "error": None,
    }).encode()


async def post(fetch: Any, token: str, payload: bytes, signature: str | None) -> Any:
    """POST a delivery as the service does: no Jupyter token, no cookie."""
    headers = {"Authorization": "", "Content-Type": "application/json"}
    if signature is not None:
        headers["x-seedance-signature"] = signature
    return await fetch("seedance", "webhook", token, method="POST", body=payload,
                       headers=headers)


async def refused(fetch: Any, token: str, payload: bytes, signature: str | None) -> int:
    with pytest.raises(HTTPClientError) as caught:
        await post(fetch, token, payload, signature)
    response = caught.value.response
    assert response is not None
    assert "error" in json.loads(response.body)
    return caught.value.code


def unchanged(ledger: Ledger, record: JobRecord) -> bool:
    return ledger.by_token(record.client_token) == record


async def test_a_signed_webhook_finishes_the_job_in_the_ledger(
    jp_fetch: Any, submitter: Submitter, ledger: Ledger
) -> None:
    record = submitter.submit()
    assert record.request_id is not None
    payload = delivery(record.request_id)
    job = body(await post(jp_fetch, record.client_token, payload,
                          sign_webhook_body(payload, SECRET)))
    assert job["status"] == "succeeded"
    stored = ledger.by_token(record.client_token)
    assert stored is not None
    assert (stored.status, stored.output_url) == ("succeeded", OUTPUT)
    assert stored.finished_at is not None


async def test_the_service_webhook_reaches_the_server(
    jp_fetch: Any, submitter: Submitter, ledger: Ledger, emulator: Emulator,
    jp_http_port: int, jp_base_url: str,
) -> None:
    token = "tok_service_webhook"
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}seedance/webhook/{token}"
    record = submitter.submit(webhook_url=url, client_token=token)
    assert await until(lambda: any(a.ok for a in emulator.webhooks))
    stored = ledger.by_token(token)
    assert stored is not None
    assert (stored.status, stored.request_id) == ("succeeded", record.request_id)


@pytest.mark.parametrize("signature", ["0" * 64, "not-hex", "", None])
async def test_a_webhook_with_a_wrong_or_missing_signature_is_refused(
    jp_fetch: Any, submitter: Submitter, ledger: Ledger, signature: str | None
) -> None:
    record = submitter.submit()
    assert record.request_id is not None
    code = await refused(jp_fetch, record.client_token, delivery(record.request_id), signature)
    assert code == 401
    assert unchanged(ledger, record)


async def test_a_webhook_is_refused_while_no_secret_is_configured(
    jp_fetch: Any, submitter: Submitter, ledger: Ledger, extension: Any
) -> None:
    extension.webhook_secret = ""
    record = submitter.submit()
    assert record.request_id is not None
    payload = delivery(record.request_id)
    code = await refused(jp_fetch, record.client_token, payload, sign_webhook_body(payload, ""))
    assert code == 401
    assert unchanged(ledger, record)


async def test_a_webhook_for_an_unknown_token_is_a_404(
    jp_fetch: Any, submitter: Submitter, ledger: Ledger
) -> None:
    record = submitter.submit()
    assert record.request_id is not None
    payload = delivery(record.request_id)
    code = await refused(jp_fetch, "tok_unknown", payload, sign_webhook_body(payload, SECRET))
    assert code == 404
    assert unchanged(ledger, record)


async def test_a_replayed_final_webhook_changes_nothing(
    jp_fetch: Any, submitter: Submitter, ledger: Ledger
) -> None:
    record = submitter.submit()
    assert record.request_id is not None
    first = delivery(record.request_id)
    await post(jp_fetch, record.client_token, first, sign_webhook_body(first, SECRET))
    final = ledger.by_token(record.client_token)
    assert final is not None
    for replay in (first, delivery(record.request_id, url="https://cdn.example/older.mp4"),
                   delivery(record.request_id, status="processing")):
        await post(jp_fetch, record.client_token, replay, sign_webhook_body(replay, SECRET))
        assert ledger.by_token(record.client_token) == final


async def test_a_webhook_reconciles_an_uncertain_submission(
    jp_fetch: Any, submitter: Submitter, ledger: Ledger
) -> None:
    record = submitter.submit()
    assert record.request_id is not None
    token = "tok_uncertain"
    ledger.claim(client_token=token, backend=record.backend, request=record.request, reuse=False,
                          fingerprint="uncertain", estimated_usd=0.25)
    ledger.record_uncertain(token, detail="the answer was lost")
    payload = delivery("req_learnt_by_webhook")
    job = body(await post(jp_fetch, token, payload, sign_webhook_body(payload, SECRET)))
    assert (job["requestId"], job["status"]) == ("req_learnt_by_webhook", "succeeded")
    stored = ledger.by_token(token)
    assert stored is not None
    assert (stored.request_id, stored.status, stored.error_message) == (
        "req_learnt_by_webhook", "succeeded", None)


async def test_a_replayed_webhook_of_another_job_cannot_take_over_an_uncertain_submission(
    jp_fetch: Any, submitter: Submitter, ledger: Ledger, emulator: Emulator,
    jp_http_port: int, jp_base_url: str,
) -> None:
    token = "tok_job_a"
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}seedance/webhook/{token}"
    job_a = submitter.submit(webhook_url=url, client_token=token)
    assert await until(lambda: any(a.ok for a in emulator.webhooks))
    genuine = next(a for a in emulator.webhooks if a.ok)  # signed by the service itself
    uncertain = "tok_lost_answer"
    ledger.claim(client_token=uncertain, backend=job_a.backend, request=job_a.request,
                 reuse=False, fingerprint="lost", estimated_usd=0.25)
    ledger.record_uncertain(uncertain, detail="the answer was lost")
    before = ledger.by_token(uncertain)

    code = await refused(jp_fetch, uncertain, genuine.body, genuine.signature)

    assert code == 409
    assert ledger.by_token(uncertain) == before
    owner = ledger.get(genuine.request_id)
    assert owner is not None and owner.client_token == token


async def test_a_webhook_naming_another_job_is_a_409(
    jp_fetch: Any, submitter: Submitter, ledger: Ledger
) -> None:
    record = submitter.submit()
    payload = delivery("req_someone_else")
    code = await refused(jp_fetch, record.client_token, payload,
                         sign_webhook_body(payload, SECRET))
    assert code == 409
    assert unchanged(ledger, record)


async def test_a_webhook_that_is_not_a_job_status_is_a_400(
    jp_fetch: Any, submitter: Submitter, ledger: Ledger
) -> None:
    record = submitter.submit()
    payload = b'{"requestId": 7}'
    code = await refused(jp_fetch, record.client_token, payload,
                         sign_webhook_body(payload, SECRET))
    assert code == 400
    assert unchanged(ledger, record)
