"""URLs a service on the internet cannot fetch are refused before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seedance_jupyter.errors import ValidationError
from seedance_jupyter.media.reach import check_reachable


@pytest.mark.parametrize("url", [
    "http://localhost:8888/files/photo.png",
    "https://127.0.0.1/photo.png",
    "https://10.1.2.3/photo.png",
    "https://192.168.1.20/photo.png",
    "https://169.254.169.254/photo.png",
    "https://[::1]/photo.png",
])
def test_a_local_or_private_host_is_refused_for_a_remote_service(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_reachable(url, service_on_loopback=False, jupyter=())
    text = str(caught.value)
    assert "\n" not in text and text.startswith(f"media: {url!r} is not allowed;")
    assert "media_store" in text


def test_a_local_host_is_fine_for_a_service_on_loopback() -> None:
    check_reachable("http://127.0.0.1:9/photo.png", service_on_loopback=True, jupyter=())


@pytest.mark.parametrize("route", ["files/photo.png", "api/contents/photo.png"])
def test_the_jupyter_servers_own_public_urls_are_refused(
    route: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDANCE_HOME", str(tmp_path))
    (tmp_path / "server.json").write_text(json.dumps(
        {"publicUrl": "https://hub.example.org", "pid": 1, "baseUrl": "/user/ada/"}))
    url = f"https://hub.example.org/user/ada/{route}"
    with pytest.raises(ValidationError) as caught:
        check_reachable(url, service_on_loopback=False)
    assert "login" in str(caught.value)


def test_a_public_https_url_is_fine() -> None:
    check_reachable("https://cdn.example.com/files/photo.png", service_on_loopback=False,
                    jupyter=("https://hub.example.org/user/ada/",))
