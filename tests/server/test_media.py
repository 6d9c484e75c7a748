"""The server's media route: published files only, no login, exact type, Range, expiry."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
from tornado.httpclient import HTTPClientError

from seedance_jupyter.media.refs import Limits, Media, from_bytes
from seedance_jupyter.media.shelf import Shelf
from seedance_jupyter.media.stores import ServerStore, choose_store

LIMITS = Limits(30, 200, 50)
PUBLIC = "https://notebooks.example.org"
NO_LOGIN = {"Authorization": ""}


@pytest.fixture
def seedance_config() -> dict[str, Any]:
    return {"watch_orphans": False, "public_url": PUBLIC}


@pytest.fixture
def shelf(seedance_home: Path) -> Shelf:
    return Shelf(seedance_home / "media")


def picture(seed: int) -> Media:
    pixels = np.random.default_rng(seed).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    from seedance_jupyter.media.encode import array_png

    return from_bytes(f"picture {seed}", array_png(pixels), LIMITS)


class Settings:
    media_store = ""
    media_store_endpoint = ""
    media_url_ttl = 3600.0


def path_parts(url: str, base_url: str) -> list[str]:
    path = urlsplit(url).path
    assert path.startswith(base_url)
    return path[len(base_url):].split("/")


async def test_a_published_image_is_served_without_login_with_its_exact_type(
    jp_fetch: Any, jp_base_url: str, extension: Any, shelf: Shelf
) -> None:
    media = picture(1)
    store = choose_store(Settings(), service_on_loopback=False, shelf=shelf)
    assert isinstance(store, ServerStore)
    url = store.publish(media)
    assert url.startswith(PUBLIC + jp_base_url + "seedance/media/")
    response = await jp_fetch(*path_parts(url, jp_base_url), headers=NO_LOGIN)
    assert response.code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.body == media.data


async def test_a_range_request_gets_just_those_bytes(
    jp_fetch: Any, jp_base_url: str, extension: Any, shelf: Shelf
) -> None:
    media = picture(2)
    url = ServerStore(PUBLIC + jp_base_url, 3600, shelf).publish(media)
    response = await jp_fetch(*path_parts(url, jp_base_url),
                              headers={**NO_LOGIN, "Range": "bytes=8-23"})
    assert response.code == 206
    assert response.body == media.data[8:24]


async def test_head_answers_the_length_without_the_body(
    jp_fetch: Any, jp_base_url: str, extension: Any, shelf: Shelf
) -> None:
    media = picture(3)
    url = ServerStore(PUBLIC + jp_base_url, 3600, shelf).publish(media)
    response = await jp_fetch(*path_parts(url, jp_base_url), method="HEAD", headers=NO_LOGIN)
    assert int(response.headers["Content-Length"]) == len(media.data)
    assert response.body == b""


async def test_an_expired_grant_is_not_served(
    jp_fetch: Any, jp_base_url: str, extension: Any, shelf: Shelf
) -> None:
    media = picture(4)
    url = ServerStore(PUBLIC + jp_base_url, -1.0, shelf).publish(media)
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(*path_parts(url, jp_base_url), headers=NO_LOGIN)
    assert caught.value.code == 404


async def test_a_token_reads_only_the_file_it_was_granted_for(
    jp_fetch: Any, jp_base_url: str, extension: Any, shelf: Shelf
) -> None:
    store = ServerStore(PUBLIC + jp_base_url, 3600, shelf)
    first, second = picture(5), picture(6)
    token = path_parts(store.publish(first), jp_base_url)[2]
    store.publish(second)
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("seedance", "media", token, second.key, headers=NO_LOGIN)
    assert caught.value.code == 404


async def test_an_unpublished_file_on_the_shelf_is_not_served(
    jp_fetch: Any, jp_base_url: str, extension: Any, shelf: Shelf
) -> None:
    media = picture(7)
    ServerStore(PUBLIC + jp_base_url, 3600, shelf).publish(media)
    made_up = "A" * 43
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("seedance", "media", made_up, media.key, headers=NO_LOGIN)
    assert caught.value.code == 404
