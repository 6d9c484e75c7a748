"""Where media is published for the service: a bucket, the team gateway, the Jupyter
server, or loopback.

Each store turns :class:`~.refs.Media` into a URL the service can fetch for
``ttl`` seconds; each publishes one object per content hash (a re-run uploads
nothing). :func:`choose_store` picks one from the settings and the service.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from .. import messages
from ..paths import GATEWAY_URL_ENV, announced_server
from .refs import Media, refuse
from .shelf import Shelf

if TYPE_CHECKING:
    import requests

__all__ = [
    "GATEWAY_MEDIA_ROUTE",
    "MEDIA_ROUTE",
    "GatewayStore",
    "LoopbackStore",
    "MediaSettings",
    "MediaStore",
    "S3Store",
    "ServerStore",
    "StoreSettings",
    "choose_store",
]

#: The path, below a server's base URL, under which published media is served.
MEDIA_ROUTE = "seedance/media/"
#: The team gateway's media path below its URL: ``PUT``/``POST`` ``<sha>.<ext>`` with the
#: hub token to publish, ``GET <token>/<sha>.<ext>`` (no login) to read.
GATEWAY_MEDIA_ROUTE = "media/"


class MediaStore(Protocol):
    """Publishes media and says where (the ledger records ``where`` per reference)."""

    @property
    def where(self) -> str: ...

    def publish(self, media: Media) -> str:
        """A URL the service can GET ``media`` at (uploading it once per content hash)."""


class StoreSettings(Protocol):
    @property
    def media_store(self) -> str: ...

    @property
    def media_store_endpoint(self) -> str: ...

    @property
    def media_url_ttl(self) -> float: ...


class MediaSettings(StoreSettings, Protocol):
    """What publishing reads: the store, the URL lifetime and the size limits."""

    @property
    def media_max_image_mb(self) -> float: ...

    @property
    def media_max_video_mb(self) -> float: ...

    @property
    def media_max_audio_mb(self) -> float: ...


@dataclass
class S3Store:
    """An S3-compatible bucket (AWS, R2, MinIO, GCS interop): ``s3://bucket/prefix``.

    Credentials come from boto3's standard chain (``AWS_*`` variables, profiles).
    The key is the content's SHA-256 plus extension; a HEAD first, so each
    content is uploaded once, with its exact content type; the URL is a presigned GET.
    """

    uri: str
    endpoint: str | None
    ttl: float
    client: Any = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.uri)
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
        if self.client is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError:
                raise refuse(self.uri, messages.MEDIA_S3_MISSING.format(store=self.uri)) from None
            self.client = boto3.client(
                "s3", endpoint_url=self.endpoint or None,
                config=Config(signature_version="s3v4", retries={"mode": "standard"}),
            )

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def publish(self, media: Media) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        key = self.prefix + media.key
        try:
            if not self._exists(key):
                self.client.put_object(Bucket=self.bucket, Key=key, Body=media.data,
                                       ContentType=media.content_type)
            url: str = self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=int(self.ttl),
            )
        except (BotoCoreError, ClientError) as exc:
            raise refuse(media.name, messages.ALLOWED_MEDIA_STORE.format(
                store=self.where, detail=exc)) from None
        return url

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


@dataclass
class ServerStore:
    """The Jupyter server extension's route: ``public_url/seedance/media/<token>/<sha>.<ext>``."""

    base_url: str
    ttl: float
    shelf: Shelf

    @property
    def where(self) -> str:
        return self.base_url + MEDIA_ROUTE

    def publish(self, media: Media) -> str:
        return self.where + self.shelf.put(media, self.ttl)


@dataclass
class GatewayStore:
    """The team gateway (``SEEDANCE_GATEWAY_URL``): it serves the media to the service.

    ``POST <gateway>media/<sha>.<ext>`` (no body) asks for a new URL of content the
    gateway already holds (404: it does not); only then is the content ``PUT`` there.
    Both carry the hub token, which goes to the gateway's URL only (no redirects).
    """

    gateway_url: str
    token: str
    timeout: float = 120.0

    @property
    def where(self) -> str:
        return self.gateway_url + GATEWAY_MEDIA_ROUTE

    def publish(self, media: Media) -> str:
        answer = self._send("POST", media, None)
        if answer.status_code == 404:
            answer = self._send("PUT", media, media.data)
        try:
            body = answer.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        url = body.get("url") if answer.status_code == 200 else None
        if not isinstance(url, str):
            error = body.get("error")
            detail = error.get("message") if isinstance(error, dict) else None
            raise refuse(media.name, messages.ALLOWED_MEDIA_STORE.format(
                store=self.where, detail=detail or f"HTTP {answer.status_code}"))
        return url

    def _send(self, method: str, media: Media, data: bytes | None) -> requests.Response:
        # Imported here: loading the extension needs no HTTP client (see tests/test_load.py).
        import requests

        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": media.content_type}
        try:
            return requests.request(method, self.where + media.key, data=data, headers=headers,
                                    timeout=(10.0, self.timeout), allow_redirects=False)
        except requests.RequestException as exc:
            raise refuse(media.name, messages.ALLOWED_MEDIA_STORE.format(
                store=self.where, detail=type(exc).__name__)) from None


class LoopbackStore:
    """For a service on this machine (the emulator): served by this process on 127.0.0.1."""

    _server: ThreadingHTTPServer | None = None
    _lock = threading.Lock()

    def __init__(self, ttl: float, shelf: Shelf) -> None:
        self.ttl = ttl
        self.shelf = shelf

    @property
    def where(self) -> str:
        return "loopback"

    def publish(self, media: Media) -> str:
        port = self._serve(self.shelf)
        return f"http://127.0.0.1:{port}/{MEDIA_ROUTE}{self.shelf.put(media, self.ttl)}"

    @classmethod
    def _serve(cls, shelf: Shelf) -> int:
        with cls._lock:
            server = cls._server
            if server is None or getattr(server, "shelf_root", None) != shelf.root:
                if server is not None:
                    server.shutdown()
                    server.server_close()
                server = ThreadingHTTPServer(("127.0.0.1", 0), _shelf_handler(shelf))
                server.daemon_threads = True
                server.shelf_root = shelf.root  # type: ignore[attr-defined]
                threading.Thread(target=server.serve_forever, name="seedance-media",
                                 daemon=True).start()
                cls._server = server
            return int(server.server_address[1])


def _shelf_handler(shelf: Shelf) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Quiet."""

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, *, body: bool) -> None:
            path = urlsplit(self.path).path
            token, _, name = path.removeprefix("/" + MEDIA_ROUTE).partition("/")
            grant = shelf.lookup(token, name) if path.startswith("/" + MEDIA_ROUTE) else None
            if grant is None:
                self.send_error(404)
                return
            data = grant.path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", grant.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

    return Handler


def choose_store(
    settings: StoreSettings, *, service_on_loopback: bool, shelf: Shelf | None = None
) -> MediaStore | None:
    """The bucket when ``media_store`` is set; else the team gateway when kernels use
    one; else loopback for a service on this machine; else the Jupyter server's route
    when a server announced a ``public_url``."""
    shelf = shelf or Shelf()
    if settings.media_store:
        if not settings.media_store.startswith("s3://") or not urlsplit(
                settings.media_store).netloc:
            raise refuse(settings.media_store, messages.ALLOWED_MEDIA_STORE_URI)
        return S3Store(settings.media_store, settings.media_store_endpoint or None,
                       settings.media_url_ttl)
    gateway = os.environ.get(GATEWAY_URL_ENV)
    if gateway:
        return GatewayStore(gateway.rstrip("/") + "/", os.environ.get("JUPYTERHUB_API_TOKEN", ""))
    if service_on_loopback:
        return LoopbackStore(settings.media_url_ttl, shelf)
    announced = announced_server()
    if announced is not None:
        return ServerStore(announced, settings.media_url_ttl, shelf)
    return None
