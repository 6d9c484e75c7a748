"""The client against the emulator over real loopback HTTP: endpoints, errors, retries."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from seedance_jupyter.api.transport import CLIENT_TOKEN_KEY
from seedance_jupyter.catalog import GenerationRequest
from seedance_jupyter.emulator import Emulator, Faults
from seedance_jupyter.errors import (
    AmbiguousSubmitError,
    InsufficientCreditsError,
    InvalidRequestError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    SeedanceError,
    UnauthorizedError,
    ValidationError,
    WaitTimeoutError,
)
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.retry import Backoff

FAST = {"duration": 4, "resolution": "480p"}


@pytest.fixture
def client(emulator: Emulator) -> Client:
    return Client(api_key=emulator.api_key, base_url=emulator.url, backoff=Backoff(base=0.01))


def posts(emulator: Emulator) -> list[object]:
    return [r for r in emulator.requests if r.method == "POST" and r.path.endswith("generations")]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_models_lists_the_emulator_catalogue(client: Client) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids == ["seedance-2.0", "seedance-2.0-fast", "seedance-1.5-pro"]
    assert client.models.catalog().live


def test_catalog_falls_back_to_documented_models_when_unreachable() -> None:
    client = Client(api_key="k", base_url=f"http://127.0.0.1:{closed_port()}", max_retries=0)
    catalog = client.models.catalog()
    assert not catalog.live
    assert catalog.models["seedance-1.5-pro"].durations == (5, 10)


def test_estimate_cost_uses_usd_per_second(client: Client) -> None:
    assert client.estimate_cost("seedance-2.0", 5, "720p") == pytest.approx(0.5)


def test_submit_sends_camel_case_body_with_client_token(
    client: Client, emulator: Emulator
) -> None:
    job = client.submit("a red kite", aspect_ratio="9:16", metadata={"run": 1}, **FAST)
    body = posts(emulator)[0].body
    assert body["aspectRatio"] == "9:16"
    assert body["metadata"] == {"run": 1, CLIENT_TOKEN_KEY: job.client_token}
    assert "mediaUrls" not in body
    assert job.status == "queued"
    assert job.credits_charged is not None and job.credits_charged > 0


def test_wait_reaches_succeeded_with_an_output_url(client: Client) -> None:
    job = client.submit("a lighthouse at dusk", **FAST).wait(timeout=60)
    assert job.status == "succeeded"
    assert job.output_url is not None and job.output_url.startswith(client.base_url)


def test_get_returns_the_same_job(client: Client) -> None:
    job = client.submit("waves", **FAST)
    assert client.get(job.request_id).request_id == job.request_id


def test_cancel_a_queued_job(client: Client) -> None:
    job = client.submit("slow clouds", duration=15, resolution="1080p")
    assert job.cancel().status == "cancelled"


def test_cancel_of_a_finished_job_is_refused(client: Client) -> None:
    job = client.submit("a short one", **FAST).wait(timeout=60)
    with pytest.raises(InvalidRequestError):
        client.cancel(job.request_id)


def test_wait_times_out_with_a_clear_error(client: Client) -> None:
    job = client.submit("never mind", duration=15, resolution="1080p")
    with pytest.raises(WaitTimeoutError, match=job.request_id):
        job.wait(timeout=0.2)


def test_bad_key_raises_unauthorized(emulator: Emulator) -> None:
    client = Client(api_key="sd2_wrong", base_url=emulator.url)
    with pytest.raises(UnauthorizedError) as info:
        client.submit("x", **FAST)
    assert info.value.status == 401 and info.value.code == "unauthorized"
    assert len(posts(emulator)) == 1


def test_another_keys_job_is_not_found(client: Client, emulator: Emulator) -> None:
    job = client.submit("mine", **FAST)
    emulator.add_key("sd2_other")
    other = Client(api_key="sd2_other", base_url=emulator.url)
    with pytest.raises(NotFoundError):
        other.get(job.request_id)


def test_insufficient_credits_raises_and_is_not_retried(emulator: Emulator) -> None:
    emulator.add_key("sd2_poor", credits=1)
    client = Client(api_key="sd2_poor", base_url=emulator.url)
    with pytest.raises(InsufficientCreditsError):
        client.submit("expensive", **FAST)
    assert len(posts(emulator)) == 1


def test_server_side_400_raises_invalid_request_without_retry(
    client: Client, emulator: Emulator
) -> None:
    emulator.inject("create", status=400)
    with pytest.raises(InvalidRequestError):
        client.submit("x", **FAST)
    assert len(posts(emulator)) == 1


def test_invalid_input_never_reaches_the_server(client: Client, emulator: Emulator) -> None:
    client.models.list()
    emulator.clear_requests()
    with pytest.raises(ValidationError, match="duration"):
        client.submit("x", model="seedance-1.5-pro", duration=7)
    assert emulator.requests == []


def test_create_500_is_not_retried_and_is_ambiguous(client: Client, emulator: Emulator) -> None:
    emulator.inject("create", status=500)
    with pytest.raises(AmbiguousSubmitError) as info:
        client.submit("x", **FAST)
    assert info.value.client_token.startswith("sjt_")
    assert len(posts(emulator)) == 1


def test_create_with_lost_answer_is_ambiguous_and_the_job_exists(
    client: Client, emulator: Emulator
) -> None:
    emulator.inject("create", drop=True)
    with pytest.raises(AmbiguousSubmitError) as info:
        client.submit("x", **FAST)
    assert len(posts(emulator)) == 1
    body = posts(emulator)[0].body
    assert body["metadata"][CLIENT_TOKEN_KEY] == info.value.client_token


def test_create_read_timeout_is_ambiguous(emulator: Emulator) -> None:
    client = Client(api_key=emulator.api_key, base_url=emulator.url, timeout=(2.0, 0.3))
    client.models.list()
    emulator.faults = Faults(latency=1.0, routes=("create",))
    with pytest.raises(AmbiguousSubmitError):
        client.submit("x", **FAST)


def test_create_429_is_retried_after_retry_after(client: Client, emulator: Emulator) -> None:
    emulator.inject("create", status=429, retry_after=1)
    job = client.submit("x", **FAST)
    first, second = posts(emulator)
    assert job.status == "queued"
    assert second.time - first.time >= 0.9


def test_create_is_retried_when_the_connection_is_refused() -> None:
    client = Client(api_key="k", base_url=f"http://127.0.0.1:{closed_port()}",
                    max_retries=2, backoff=Backoff(base=0.01))
    with pytest.raises(SeedanceError) as info:
        client.create(client.prepare("x", **FAST))
    assert not isinstance(info.value, AmbiguousSubmitError)
    assert info.value.code == "network_error"


def test_get_survives_a_burst_of_500s_and_dropped_connections(
    client: Client, emulator: Emulator
) -> None:
    job = client.submit("x", **FAST)
    emulator.inject("status", status=500, times=2)
    emulator.inject("status", drop=True, times=2)
    assert client.get(job.request_id).request_id == job.request_id


def test_get_gives_up_on_persistent_429_with_the_advertised_wait(emulator: Emulator) -> None:
    client = Client(api_key=emulator.api_key, base_url=emulator.url, max_retries=1)
    job = client.submit("x", **FAST)
    emulator.inject("status", status=429, retry_after=0.2, times=2)
    with pytest.raises(RateLimitedError) as info:
        client.get(job.request_id)
    assert info.value.retry_after == pytest.approx(0.2)


def test_not_found_is_never_retried(client: Client, emulator: Emulator) -> None:
    with pytest.raises(NotFoundError):
        client.get("req_missing")
    assert len([r for r in emulator.requests if "req_missing" in r.path]) == 1


def test_api_key_is_absent_from_repr_errors_and_logs(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sd2_live_do_not_print_me"
    client = Client(api_key=secret, base_url=emulator.url, max_retries=0)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(UnauthorizedError) as info:
        client.submit("x", **FAST)
    assert secret not in repr(client)
    assert secret not in str(info.value) and secret not in repr(info.value)
    assert secret not in caplog.text


# -- hostile answers from a server that is not the emulator ------------------------------------
class Hostile:
    """A loopback server answering every request with ``reply`` = (status, type, body)."""

    def __init__(self) -> None:
        self.reply: tuple[int, str, bytes] = (200, "application/json", b"{}")
        self.url = ""

    def client(self) -> Client:
        return Client(api_key="k", base_url=self.url, max_retries=0)


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = Hostile()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, kind, body = state.reply
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _reply

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "reply",
    [
        (200, "text/html", b"<html><body>Bad gateway</body></html>"),
        (200, "application/json", b"[1, 2, 3]"),
        (200, "application/json", b'{"success": true}'),
        (200, "application/json", b'{"success": true, "requestId": 5, "status": "queued"}'),
        (200, "application/json", b'{"success": true, "requestId": "r", "status": "odd"}'),
        (200, "application/json", b'{"success": true, "requestId": "r", "status": "succeeded",'
                                  b' "output": "nope"}'),
    ],
    ids=["html", "list", "missing-fields", "wrong-type", "unknown-status", "bad-output"],
)
def test_malformed_status_answers_raise_a_clear_error(
    hostile: Hostile, reply: tuple[int, str, bytes]
) -> None:
    hostile.reply = reply
    with pytest.raises(MalformedResponseError, match="cannot read"):
        hostile.client().get("req_1")


def test_an_html_error_page_becomes_a_server_error(hostile: Hostile) -> None:
    hostile.reply = (502, "text/html", b"<html>proxy error</html>")
    with pytest.raises(SeedanceError) as info:
        hostile.client().get("req_1")
    assert info.value.status == 502
    assert "text/html" in str(info.value)


def test_a_huge_body_is_refused(hostile: Hostile) -> None:
    hostile.reply = (200, "application/json", b"[" + b"0," * 1_500_000 + b"0]")
    with pytest.raises(MalformedResponseError, match="larger"):
        hostile.client().get("req_1")


def test_a_malformed_create_answer_is_ambiguous(hostile: Hostile) -> None:
    hostile.reply = (200, "text/html", b"<html>ok?</html>")
    with pytest.raises(AmbiguousSubmitError):
        hostile.client().create(GenerationRequest("x"))
