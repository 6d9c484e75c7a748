"""Which store publishes: the bucket when set, loopback for a local service, else the server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from traitlets import TraitError

from seedance_jupyter.errors import ValidationError
from seedance_jupyter.jobs.settings import JobSettings
from seedance_jupyter.media.refs import from_bytes
from seedance_jupyter.media.shelf import Shelf
from seedance_jupyter.media.stores import LoopbackStore, S3Store, ServerStore, choose_store

from .conftest import LIMITS, png


@dataclass
class Settings:
    media_store: str = ""
    media_store_endpoint: str = ""
    media_url_ttl: float = 3600.0


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SEEDANCE_HOME", str(tmp_path))
    return tmp_path


def announce(home: Path) -> None:
    (home / "server.json").write_text(json.dumps(
        {"publicUrl": "https://nb.example.org", "pid": 1, "baseUrl": "/user/ada/"}))


def test_a_bucket_setting_wins(home: Path) -> None:
    announce(home)
    store = choose_store(Settings(media_store="s3://b/p", media_store_endpoint="http://127.0.0.1:9"),
                         service_on_loopback=True)
    assert isinstance(store, S3Store) and store.where == "s3://b/p/"


def test_a_service_on_loopback_is_served_by_this_process(home: Path) -> None:
    announce(home)
    store = choose_store(Settings(), service_on_loopback=True)
    assert isinstance(store, LoopbackStore)
    media = from_bytes("frame.png", png(1), LIMITS)
    answer = requests.get(store.publish(media), timeout=10)
    assert answer.content == media.data and answer.headers["Content-Type"] == "image/png"


def test_a_remote_service_uses_the_servers_route_when_announced(home: Path) -> None:
    announce(home)
    store = choose_store(Settings(), service_on_loopback=False)
    assert isinstance(store, ServerStore)
    assert store.where == "https://nb.example.org/user/ada/seedance/media/"


def test_a_remote_service_with_no_store_gets_none(home: Path) -> None:
    assert choose_store(Settings(), service_on_loopback=False) is None


def test_a_media_store_that_is_not_an_s3_url_is_refused(home: Path) -> None:
    with pytest.raises(ValidationError, match=r"^media: 'r2://b' is not allowed; .*s3://"):
        choose_store(Settings(media_store="r2://b"), service_on_loopback=False)


def test_the_loopback_server_serves_only_granted_files(home: Path) -> None:
    store = LoopbackStore(3600, Shelf(home / "media"))
    url = store.publish(from_bytes("frame.png", png(2), LIMITS))
    other = from_bytes("other.png", png(3), LIMITS)
    store.publish(other)
    forged = url.rsplit("/", 1)[0] + "/" + other.key
    assert requests.get(forged, timeout=10).status_code == 404


def test_the_url_lifetime_is_at_most_seven_days() -> None:
    settings = JobSettings()
    settings.media_url_ttl = 7 * 24 * 3600
    with pytest.raises(TraitError, match="media_url_ttl"):
        settings.media_url_ttl = 7 * 24 * 3600 + 1


def test_the_store_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDANCE_MEDIA_STORE", "s3://bucket/prefix")
    monkeypatch.setenv("SEEDANCE_MEDIA_ENDPOINT", "https://acct.r2.cloudflarestorage.com")
    settings = JobSettings()
    assert settings.media_store == "s3://bucket/prefix"
    assert settings.media_store_endpoint == "https://acct.r2.cloudflarestorage.com"
