"""Validation before the network: clear messages naming the field, and nothing else raised."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seedance_jupyter.catalog import Catalog, GenerationRequest, media_kind
from seedance_jupyter.errors import ValidationError
from seedance_jupyter.jobs.client import Client

OFFLINE = Client(api_key="k", base_url="http://127.0.0.1:9", max_retries=0)
OFFLINE._catalog = Catalog.documented()


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"prompt": "  "}, "prompt", "some text"),
        ({"model": "seedance-3"}, "model", "seedance-2.0"),
        ({"model": "seedance-1.5-pro", "duration": 6}, "duration", "5 or 10"),
        ({"duration": 16}, "duration", "from 4 to 15"),
        ({"duration": True}, "duration", "from 4 to 15"),
        ({"aspect_ratio": "4:3"}, "aspect_ratio", "16:9"),
        ({"resolution": "4k"}, "resolution", "1080p"),
        ({"media_urls": ["http://example.com/a.png"]}, "media_urls", "https://"),
        ({"media_urls": ["https://example.com/a.txt"]}, "media_urls", ".png"),
        ({"media_urls": ["https://e.com/a.png"] * 6}, "media_urls", "between 1 and 5"),
        ({"webhook_url": "ftp://e.com/hook"}, "webhook_url", "http"),
        ({"metadata": {"a": float("nan")}}, "metadata", "JSON object"),
        ({"metadata": [1]}, "metadata", "JSON object"),
    ],
)
def test_each_bad_field_is_named_with_what_is_allowed(
    fields: dict[str, Any], field: str, fragment: str
) -> None:
    values = {"prompt": "a fox"} | fields
    with pytest.raises(ValidationError) as info:
        OFFLINE.prepare(**values)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert fragment in str(info.value)


def test_media_urls_with_query_strings_are_accepted() -> None:
    request = OFFLINE.prepare("a fox", media_urls=["https://cdn.example.com/a.JPG?sig=1&x=2"])
    assert request.media_urls == ("https://cdn.example.com/a.JPG?sig=1&x=2",)


def test_loopback_http_media_is_accepted_only_for_a_loopback_service() -> None:
    url = "http://127.0.0.1:8000/samples/a.png"
    assert OFFLINE.prepare("a fox", media_urls=[url]).media_urls == (url,)
    remote = Client(api_key="k", base_url="https://www.seedance2.ink")
    remote._catalog = Catalog.documented()
    with pytest.raises(ValidationError, match="media_urls"):
        remote.prepare("a fox", media_urls=[url])


@pytest.mark.parametrize(
    ("url", "kind"),
    [("https://a.com/x.webp", "image"), ("https://a.com/x.m4v?t=1", "video"),
     ("https://a.com/x.wav", "audio"), ("https://a.com/x", None)],
)
def test_media_kind_follows_the_extension(url: str, kind: str | None) -> None:
    assert media_kind(url) == kind


def test_fingerprint_ignores_whitespace_and_the_client_token() -> None:
    a = GenerationRequest("a  fox\n jumps", metadata={"k": 1, "seedance_jupyter_token": "t1"})
    b = GenerationRequest("a fox jumps", metadata={"k": 1, "seedance_jupyter_token": "t2"})
    ignore = ["seedance_jupyter_token"]
    assert a.fingerprint(ignore) == b.fingerprint(ignore)
    assert a.fingerprint() != GenerationRequest("a fox leaps").fingerprint()


anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
    st.lists(st.text(max_size=20), max_size=7), st.dictionaries(st.text(max_size=5),
                                                                 st.integers(), max_size=3),
    st.sampled_from(["seedance-2.0", "720p", "16:9", "https://a.com/x.png", 5, 10]),
)


@settings(max_examples=300, deadline=None)
@given(prompt=anything, model=anything, media=anything, ratio=anything, duration=anything,
       resolution=anything, webhook=anything, metadata=anything)
def test_random_input_raises_only_validation_error(
    prompt: Any, model: Any, media: Any, ratio: Any, duration: Any, resolution: Any,
    webhook: Any, metadata: Any,
) -> None:
    fields = {"prompt", "model", "media_urls", "aspect_ratio", "duration", "resolution",
              "webhook_url", "metadata"}
    error: ValidationError | None = None
    try:
        OFFLINE.prepare(
            prompt, model=model, media_urls=media if media is not None else (),
            aspect_ratio=ratio, duration=duration, resolution=resolution,
            webhook_url=webhook, metadata=metadata,
        )
    except ValidationError as exc:
        error = exc
    if error is not None:
        assert error.field in fields
        assert str(error).startswith(f"{error.field}: ")
