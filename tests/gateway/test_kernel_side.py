"""The kernel's side of the gateway: the backend it picks and the create's Idempotency-Key."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from seedance_jupyter.api.client import APIClient
from seedance_jupyter.catalog import GenerationRequest
from seedance_jupyter.errors import AmbiguousSubmitError, NotFoundError
from seedance_jupyter.jobs.backend import resolve_backend
from seedance_jupyter.retry import Backoff
from tests.scripted import Answer, ScriptedServer, Seen, accepted

REQUEST = GenerationRequest(prompt="a gull", duration=5, resolution="720p")


@pytest.fixture
def lost_once() -> Iterator[ScriptedServer]:
    """A gateway whose proxy loses the first create's answer (502), then answers."""
    calls = itertools.count()

    def create(seen: Seen) -> Answer:
        if next(calls) == 0:
            return Answer(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"})
        return accepted("req_7")

    server = ScriptedServer(create=create)
    yield server
    server.close()


def client(url: str, *, idempotent: bool) -> APIClient:
    return APIClient(api_key="hub-token", base_url=url, idempotent_create=idempotent,
                     backoff=Backoff(base=0.01, cap=0.01))


def test_a_create_to_the_gateway_carries_its_client_token_as_idempotency_key(
        lost_once: ScriptedServer) -> None:
    client(lost_once.url, idempotent=True).generations.create(REQUEST, client_token="sjt_abc")
    assert {seen.headers.get("Idempotency-Key") for seen in lost_once.seen
            if seen.method == "POST"} == {"sjt_abc"}


def test_a_lost_answer_from_the_gateway_is_resent_with_the_same_key(
        lost_once: ScriptedServer) -> None:
    state = client(lost_once.url, idempotent=True).generations.create(
        REQUEST, client_token="sjt_abc")
    assert state.request_id == "req_7"
    assert lost_once.posts == 2


def test_a_lost_answer_from_the_service_itself_is_never_resent(
        lost_once: ScriptedServer) -> None:
    with pytest.raises(AmbiguousSubmitError):
        client(lost_once.url, idempotent=False).generations.create(
            REQUEST, client_token="sjt_abc")
    assert lost_once.posts == 1
    assert all("Idempotency-Key" not in seen.headers for seen in lost_once.seen)


def test_the_gateway_url_makes_the_hub_token_the_bearer_and_the_label_team(
        lost_once: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDANCE_GATEWAY_URL", lost_once.url + "/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "hub-token-of-judy")
    monkeypatch.setenv("SEEDANCE_API_KEY", "sk-should-not-be-used")
    backend = resolve_backend()
    assert backend.label == "team"
    assert backend.key == lost_once.url
    assert backend.client.base_url == lost_once.url
    with pytest.raises(NotFoundError):  # the scripted status answers 404
        backend.client.generations.get("req_1", retry=False)
    assert lost_once.seen[-1].authorization == "Bearer hub-token-of-judy"
