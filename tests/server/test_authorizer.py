"""A custom Jupyter ``Authorizer`` that denies the Seedance resource is obeyed everywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from seedance_jupyter.server.handlers import AUTH_RESOURCE


class DenySeedance(Authorizer):
    """Allows every Jupyter resource but the Seedance endpoints'."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != AUTH_RESOURCE


@pytest.fixture
def jp_server_config(jp_server_config: Config) -> Config:
    jp_server_config.ServerApp.authorizer_class = DenySeedance
    return jp_server_config


async def test_the_authorizer_still_lets_the_user_reach_jupyter(jp_fetch: Any) -> None:
    response = await jp_fetch("api", "status")
    assert response.code == 200


async def test_the_events_stream_is_forbidden_to_a_user_denied_seedance(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("seedance", "api", "events", request_timeout=10)
    assert caught.value.code == 403
    assert caught.value.response is not None
    assert json.loads(caught.value.response.body)["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "jobs"), ("GET", "jobs/req_1"), ("POST", "jobs/req_1/cancel"), ("GET", "spend"),
     ("GET", "nothing/here")],
)
async def test_every_rest_endpoint_is_forbidden_to_a_user_denied_seedance(
    jp_fetch: Any, method: str, path: str
) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("seedance", "api", *path.split("/"), method=method,
                       body=b"" if method == "POST" else None)
    assert caught.value.code == 403
