"""Crafted REST parameters answer 400 (or 404) in the contract's error envelope, never 500."""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tornado.httpclient import HTTPClientError

JOBS = ("seedance", "api", "jobs")


def cursor_of(raw: str) -> str:
    """A ``before`` cursor as this server encodes them, around any JSON text."""
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


CRAFTED = [
    ("before", "9" * 400),
    ("before", cursor_of(f"[{'9' * 400}, \"tok\"]")),
    ("before", cursor_of("[" * 5000 + "]" * 5000)),
    ("before", cursor_of("[" * 100 + "]" * 100)),
    ("before", cursor_of('[1e999, "tok"]')),
    ("before", cursor_of('[NaN, "tok"]')),
    ("before", cursor_of('[true, "tok"]')),
    ("before", cursor_of('[1.5, "\\ud800"]')),
    ("before", cursor_of('{"a": 1}')),
    ("before", "A" * 20_000),
    ("limit", "9" * 400),
    ("limit", "9" * 5000),
    ("limit", "-1"),
    ("limit", "1e3"),
    ("status", "," * 1000),
    ("status", "queued," + "x" * 10_000),
]


@pytest.mark.parametrize(("name", "value"), CRAFTED, ids=lambda v: str(v)[:24])
async def test_a_crafted_parameter_is_a_short_400_envelope(
    jp_fetch: Any, name: str, value: str
) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(*JOBS, params={name: value})
    assert caught.value.code == 400
    assert caught.value.response is not None
    error = json.loads(caught.value.response.body)["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(f"{name}: ")
    assert len(error["message"]) < 300


def answer(url: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def api_url(http_server_client: Any, jp_http_port: int, jp_base_url: str) -> str:
    """The jobs endpoint on the listening test server."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}seedance/api/jobs"


_numbers = st.one_of(st.integers(min_value=-(10**400), max_value=10**400),
                    st.floats(allow_nan=True, allow_infinity=True), st.booleans())
_json_values = st.recursive(
    st.one_of(st.none(), st.text(max_size=20), _numbers),
    lambda inner: st.lists(inner, max_size=3), max_leaves=20,
)
#: Cursors shaped like the real ones (a number and a token), any JSON, and deep nesting.
_cursors = st.one_of(
    st.tuples(_numbers, st.text(max_size=20)).map(lambda pair: json.dumps(list(pair))),
    _json_values.map(json.dumps),
    st.integers(900, 3000).map(lambda depth: "[" * depth + "]" * depth),
).map(cursor_of)
_params = st.dictionaries(
    st.sampled_from(["status", "notebook", "limit", "before"]),
    st.one_of(st.text(max_size=300), st.integers(-(10**400), 10**400).map(str), _cursors),
    max_size=4,
)


async def test_no_query_or_request_id_makes_the_server_fail(
    api_url: str, jp_serverapp: Any
) -> None:
    token = jp_serverapp.identity_provider.token

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(params=_params, request_id=st.text(min_size=1, max_size=200))
    def holds(params: dict[str, str], request_id: str) -> None:
        query = urllib.parse.urlencode(params, errors="surrogatepass")
        status, body = answer(f"{api_url}?{query}", token)
        assert status in (200, 400), body
        assert ("jobs" in body) if status == 200 else body["error"]["code"] == "invalid_request"
        quoted = urllib.parse.quote(request_id, safe="", errors="surrogatepass")
        status, body = answer(f"{api_url}/{quoted}", token)
        assert status in (400, 404), body
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}

    await asyncio.get_running_loop().run_in_executor(None, holds)
