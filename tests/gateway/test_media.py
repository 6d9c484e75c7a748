"""The gateway serves its users' media: published with the hub token, read with none.

A real gateway process (tokens from ``StaticTokenAuthenticator``) over real HTTP,
in front of a scripted upstream that is never asked anything here; the kernel's
side is the media layer's ``GatewayStore``, chosen by ``SEEDANCE_GATEWAY_URL``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from seedance_jupyter.errors import ValidationError
from seedance_jupyter.media.refs import from_bytes
from seedance_jupyter.media.stores import GatewayStore, choose_store
from tests.gateway.hub import wait_for
from tests.gateway.standalone import Gateway, running_gateway
from tests.media.conftest import LIMITS, png
from tests.scripted import ScriptedServer

pytestmark = pytest.mark.timeout(120)

@dataclass
class Settings:
    media_store: str = ""
    media_store_endpoint: str = ""
    media_url_ttl: float = 3600.0


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory,
            upstream: ScriptedServer) -> Iterator[Gateway]:
    yield from running_gateway(tmp_path_factory, upstream, 3600.0)


@pytest.fixture(scope="module")
def brief_gateway(tmp_path_factory: pytest.TempPathFactory,
                  upstream: ScriptedServer) -> Iterator[Gateway]:
    yield from running_gateway(tmp_path_factory, upstream, 1.0)


def test_a_kernel_using_the_gateway_publishes_through_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDANCE_GATEWAY_URL", "https://hub.example.org/services/seedance")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "hub-token-of-ana")
    store = choose_store(Settings(), service_on_loopback=True)
    assert store == GatewayStore("https://hub.example.org/services/seedance/", "hub-token-of-ana")


def test_a_bucket_setting_still_wins_over_the_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDANCE_GATEWAY_URL", "https://hub.example.org/services/seedance/")
    store = choose_store(Settings(media_store="s3://team-bucket/refs"),
                         service_on_loopback=False)
    assert store is not None and store.where == "s3://team-bucket/refs/"


def test_a_published_reference_is_served_at_the_public_url_with_no_login(
        gateway: Gateway) -> None:
    data = png(1)
    url = gateway.store().publish(from_bytes("kite.png", data, LIMITS))
    sha = hashlib.sha256(data).hexdigest()
    assert url.startswith(f"{gateway.url}media/") and url.endswith(f"/{sha}.png")
    answer = requests.get(url, timeout=30)
    assert answer.status_code == 200
    assert answer.content == data
    assert answer.headers["Content-Type"] == "image/png"


def test_head_answers_the_type_and_length_without_a_body(gateway: Gateway) -> None:
    data = png(2)
    url = gateway.store().publish(from_bytes("a.png", data, LIMITS))
    answer = requests.head(url, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "image/png"
    assert answer.headers["Content-Length"] == str(len(data))
    assert answer.content == b""


def test_a_range_request_gets_that_range(gateway: Gateway) -> None:
    data = png(3)
    url = gateway.store().publish(from_bytes("a.png", data, LIMITS))
    answer = requests.get(url, headers={"Range": "bytes=4-11"}, timeout=30)
    assert answer.status_code == 206
    assert answer.content == data[4:12]


def test_a_token_reads_only_the_file_it_was_granted_for(gateway: Gateway) -> None:
    first = gateway.store().publish(from_bytes("a.png", png(4), LIMITS))
    second = gateway.store().publish(from_bytes("b.png", png(5), LIMITS))
    token = first.split("/")[-2]
    other = second.split("/")[-1]
    assert requests.get(f"{gateway.url}media/{token}/{other}", timeout=30).status_code == 404


def test_a_held_file_without_a_grant_is_not_served(gateway: Gateway) -> None:
    url = gateway.store().publish(from_bytes("a.png", png(6), LIMITS))
    name = url.split("/")[-1]
    made_up = "x" * 43
    assert requests.get(f"{gateway.url}media/{made_up}/{name}", timeout=30).status_code == 404


def test_content_the_gateway_holds_is_not_uploaded_again(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    media = from_bytes("a.png", png(7), LIMITS)
    gateway.store().publish(media)
    methods: list[str] = []
    send = requests.request

    def spy(method: str, url: str, **kwargs: Any) -> requests.Response:
        methods.append(method)
        return send(method, url, **kwargs)

    monkeypatch.setattr(requests, "request", spy)
    again = gateway.store(bearer="tok-ben").publish(media)
    assert methods == ["POST"]
    assert requests.get(again, timeout=30).content == media.data


def test_an_upload_without_a_valid_token_is_refused_and_keeps_nothing(
        gateway: Gateway) -> None:
    media = from_bytes("secret.png", png(8), LIMITS)
    with pytest.raises(ValidationError, match=r"media.*refused it \(.*token"):
        gateway.store(bearer="tok-nobody").publish(media)
    assert media.key not in gateway.blobs()


def test_an_upload_whose_name_is_not_its_hash_is_400_and_kept_nowhere(
        gateway: Gateway) -> None:
    name = "0" * 64 + ".png"
    answer = requests.put(gateway.url + "media/" + name, data=png(9), timeout=30,
                          headers={"Authorization": "Bearer tok-ana"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_request"
    assert name not in gateway.blobs()


def test_an_upload_that_is_no_media_is_400(gateway: Gateway) -> None:
    data = b"#!/bin/sh\necho hi\n"
    name = hashlib.sha256(data).hexdigest() + ".png"
    answer = requests.put(gateway.url + "media/" + name, data=data, timeout=30,
                          headers={"Authorization": "Bearer tok-ana"})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith("media:")


def test_a_url_stops_working_when_its_lifetime_ends(brief_gateway: Gateway) -> None:
    url = brief_gateway.store().publish(from_bytes("a.png", png(10), LIMITS))
    wait_for(lambda: requests.get(url, timeout=30).status_code == 404, 30,
             "the one-second URL expiring")
