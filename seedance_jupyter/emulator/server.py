"""The emulator: routing, the four API endpoints, outputs, samples and background work.

It serves on the standard library's ``ThreadingHTTPServer`` with daemon threads
(see :mod:`.httpd`): no new dependency, and it runs on its own threads, so it
keeps answering while the Jupyter kernel's event loop is blocked by a ``--wait``
cell (a tornado server on the kernel's loop would starve). Videos render on a
small pool of worker threads, never on request threads, and a ticker thread
notices jobs reaching a terminal status so webhooks fire even when nobody polls.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..catalog import is_loopback_url, media_kind
from ..errors import ValidationError
from . import outputs, pricing
from .bodies import BadField, api_message, generation_request
from .faults import ROUTES, Decision, FaultPlan, Faults
from .httpd import Handler, HTTPServer, Reply, error_reply, json_reply
from .jobs import Account, Job, JobStore, key_hash
from .webhooks import DIRECT_OPENER, WebhookAttempt, WebhookSender

__all__ = ["DEFAULT_API_KEY", "Emulator", "RecordedRequest", "start"]

#: The key the emulator accepts when none is given. Public, not a secret.
DEFAULT_API_KEY = "sd2_emu_local"

_API = "/api/open/v1"
_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("GET", re.compile(rf"{_API}/models"), "models"),
    ("POST", re.compile(rf"{_API}/video/generations"), "create"),
    ("GET", re.compile(rf"{_API}/video/generations/([\w-]+)"), "status"),
    ("POST", re.compile(rf"{_API}/video/generations/([\w-]+)/cancel"), "cancel"),
    ("GET", re.compile(r"/outputs/([\w-]+)\.mp4"), "output"),
    ("GET", re.compile(r"/samples/([\w-]+)\.png"), "sample"),
)
_MAX_REFERENCE = 64 << 20
_TICK = 0.1
_RENDER_WORKERS = 2
_STATE_FILE = "emulator-state.json"
_MODELS_BODY = {"success": True, "data": [model.to_api() for model in pricing.EMULATOR_MODELS]}


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator received (never its Authorization header).

    ``status`` is what was answered, or None when the connection was dropped.
    """

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int | None
    time: float
    api_key_ok: bool


@dataclass(frozen=True)
class _Incoming:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: Any
    key: str | None
    account: Account | None
    now: float


class Emulator:
    """A local Seedance Open API, serving on ``host:port`` (0: any free port) once built.

    ``api_key`` None accepts the public key ``sd2_emu_local``. ``speed`` divides
    every job's duration (a 5 s 720p job takes about 6 s at 1.0). ``credits`` is
    the key's starting balance. ``state_dir`` keeps jobs and balances across
    restarts (outputs then default to ``state_dir/outputs``; without either, a
    temporary dir removed by :meth:`stop`). ``seed`` seeds the fault rates.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        webhook_secret: str | None = None,
        speed: float = 1.0,
        credits: int = 100_000,
        rate_limit_per_minute: int = 1200,
        default_webhook_url: str | None = None,
        faults: Faults | None = None,
        output_dir: str | os.PathLike[str] | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        output_url_ttl: float = 3600.0,
        seed: int = 0,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.api_key = api_key or DEFAULT_API_KEY
        self.speed = speed
        self.rate_limit_per_minute = rate_limit_per_minute
        self.output_url_ttl = output_url_ttl
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self._owns_output_dir = output_dir is None and self.state_dir is None
        if output_dir is not None:
            self.output_dir = Path(output_dir)
        elif self.state_dir is not None:
            self.output_dir = self.state_dir / "outputs"
        else:
            self.output_dir = Path(tempfile.mkdtemp(prefix="seedance-emulator-"))
        self.output_dir.mkdir(parents=True, exist_ok=True)
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        self._store = JobStore(self.state_dir / _STATE_FILE if self.state_dir else None)
        self._plan = FaultPlan(faults or Faults(), seed)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._webhooks: list[WebhookAttempt] = []
        self._stopping = threading.Event()
        self._sender = WebhookSender(self._record_webhook, self._stopping)
        self._catalog = pricing.emulator_catalog()
        self._render_queue: queue.Queue[str | None] = queue.Queue()
        self._store.add_account(self.api_key, credits, default_webhook_url, webhook_secret)
        try:
            self._httpd = self._bind(host, port)
        except OSError:
            if self._owns_output_dir:
                shutil.rmtree(self.output_dir, ignore_errors=True)
            raise
        address = f"[{host}]" if ":" in host else host
        self.url = f"http://{address}:{self._httpd.server_port}"
        self._store.save(port=self._httpd.server_port)
        self._threads = [
            threading.Thread(
                target=self._httpd.serve_forever, args=(_TICK,), name="seedance-emu-http"
            ),
            threading.Thread(target=self._tick_loop, name="seedance-emu-ticker"),
            *(
                threading.Thread(target=self._render_loop, name=f"seedance-emu-render-{n}")
                for n in range(_RENDER_WORKERS)
            ),
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()
        for job in self._store.all():
            rendered = self._output_path(job.request_id).exists()
            if job.rendered != rendered:
                self._store.update(job.request_id, rendered=rendered)
            if not rendered and job.error is None and job.cancelled_at is None:
                self._render_queue.put(job.request_id)

    # Public API -------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """The fault rates, read on every request; change its fields or replace it."""
        return self._plan.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._plan.faults = value

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a snapshot)."""
        with self._lock:
            return list(self._requests)

    @property
    def webhooks(self) -> list[WebhookAttempt]:
        """Every webhook delivery attempt so far, oldest first (a snapshot)."""
        with self._lock:
            return list(self._webhooks)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def add_key(
        self, key: str, *, credits: int = 100_000, webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        """Accept another key, with its own balance, jobs and webhook settings."""
        self._store.add_account(key, credits, webhook_url, webhook_secret)

    def credits(self, key: str | None = None) -> int:
        """The balance of ``key`` (default: :attr:`api_key`); KeyError for unknown keys."""
        account = self._store.account(key or self.api_key)
        if account is None:
            raise KeyError("unknown API key")
        return account.credits

    def inject(
        self, route: str, *, status: int | None = None, retry_after: float | None = None,
        drop: bool = False, times: int = 1,
    ) -> None:
        """Make the next ``times`` requests on ``route`` answer ``status`` or be dropped.

        ``route`` is one of ``models``, ``create``, ``status``, ``cancel``, ``output``.
        A status is answered before handling (nothing happens); a drop handles the
        request, then closes the connection unanswered. ``retry_after`` (seconds)
        is sent as ``Retry-After``.
        """
        self._plan.inject(route, status=status, retry_after=retry_after, drop=drop, times=times)

    def jobs(self, request_id: str) -> dict[str, Any]:
        """A snapshot of one job (any key's): status, schedule, credits...; KeyError if unknown."""
        job = self._store.get(request_id)
        if job is None:
            raise KeyError(request_id)
        return self._snapshot(job, time.time())

    def list_jobs(self) -> list[dict[str, Any]]:
        """Snapshots of every job, oldest first, e.g. to find one whose create answer was lost."""
        now = time.time()
        return [self._snapshot(job, now) for job in self._store.all()]

    def expire_outputs(self) -> None:
        """Make every output URL handed out so far answer 403, as expired storage links do."""
        self._store.rotate_signing_key()

    def sample_url(self, name: str = "sunset") -> str:
        """The URL of a sample image (``sunset``, ``checker`` or ``rings``) for image-to-video."""
        return f"{self.url}/samples/{name}.png"

    def stop(self) -> None:
        """Stop serving, rendering and retrying webhooks; remove a temporary output dir."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        for _ in range(_RENDER_WORKERS):
            self._render_queue.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        if self._owns_output_dir:
            shutil.rmtree(self.output_dir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Emulator {self.url}>"

    # Requests ---------------------------------------------------------------

    def handle(self, handler: Handler) -> None:
        """Answer one request: faults first, then the route; record it before answering."""
        now = time.time()
        parts = urlsplit(handler.path)
        raw = handler.read_body()
        key = _bearer(handler.headers.get("Authorization"))
        incoming = _Incoming(
            method=handler.command, path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=handler.headers, body=_parse_json(raw), key=key,
            account=self._store.account(key), now=now,
        )
        route, argument = _route(incoming.method, incoming.path)
        decision = self._plan.decide(route if route in ROUTES else None)
        if decision.latency > 0:
            time.sleep(decision.latency)
        if raw is None:
            reply = error_reply(400, "The request body is over 1 MiB or its length is unreadable.")
        elif decision.status is not None:
            reply = _injected(decision)
        else:
            try:
                reply = self._dispatch(incoming, route, argument)
            except Exception as exc:  # a bug here must still answer, as a real 500 would
                reply = error_reply(500, f"The emulator failed: {type(exc).__name__}: {exc}")
        self._record(RecordedRequest(
            incoming.method, incoming.path, incoming.query, incoming.body,
            None if decision.drop else reply.status, now, incoming.account is not None,
        ))
        if decision.drop:
            handler.close_connection = True
        else:
            handler.send_reply(reply)

    def _dispatch(self, incoming: _Incoming, route: str | None, argument: str) -> Reply:
        if route is None:
            return error_reply(404, f"Nothing at {incoming.method} {incoming.path}.")
        if route == "sample":
            return _sample(argument)
        if route == "output":
            return self._output(incoming, argument)
        account, key = incoming.account, incoming.key
        if account is None or key is None:
            if route == "models":
                return json_reply(200, _MODELS_BODY)
            return error_reply(401, "Invalid API key")
        wait = self._store.admit(account, incoming.now, self.rate_limit_per_minute)
        if wait is not None:
            return error_reply(
                429, f"Rate limit of {self.rate_limit_per_minute} requests per minute reached.",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        if route == "models":
            return json_reply(200, _MODELS_BODY)
        if route == "create":
            return self._create(incoming, account, key)
        job = self._store.get(argument)
        if job is None or job.key_hash != key_hash(key):
            return error_reply(404, f"No job {argument} under this API key.")
        if route == "status":
            return json_reply(200, self._status_body(job, incoming.now))
        before = self._store.cancel(job.request_id, incoming.now)
        if before not in ("queued", "processing"):
            return error_reply(
                400, f"Only queued or processing jobs can be cancelled; this one is {before}."
            )
        cancelled = {"success": True, "requestId": job.request_id, "status": "cancelled"}
        return json_reply(200, cancelled)

    def _create(self, incoming: _Incoming, account: Account, key: str) -> Reply:
        if not isinstance(incoming.body, dict):
            return error_reply(400, "The body must be a JSON object.")
        try:
            request = self._catalog.validate(
                generation_request(incoming.body), allow_loopback_http=True
            )
        except BadField as exc:
            return error_reply(400, str(exc))
        except ValidationError as exc:
            return error_reply(400, api_message(exc))
        duration = request.duration or pricing.DEFAULT_DURATION
        resolution = request.resolution or pricing.DEFAULT_RESOLUTION
        usd = self._catalog.estimate_cost(request.model, duration, resolution)
        fails = self._plan.job_fails()
        job = Job(
            request_id=f"req_{secrets.token_hex(12)}",
            key_hash=key_hash(key),
            model=request.model,
            prompt=request.prompt,
            duration=duration,
            aspect_ratio=request.aspect_ratio or pricing.DEFAULT_ASPECT_RATIO,
            resolution=resolution,
            media_urls=list(request.media_urls),
            webhook_url=request.webhook_url,
            metadata=dict(request.metadata) if request.metadata is not None else None,
            credits=pricing.credits_for(usd, with_media=bool(request.media_urls)),
            created_at=incoming.now,
            queued_seconds=pricing.queued_seconds(self.speed),
            processing_seconds=pricing.processing_seconds(duration, resolution, self.speed),
            error=_failure("The emulator failed this job on purpose (fail_rate).") if fails
            else None,
        )
        if not self._store.charge_and_add(account, job):
            return error_reply(
                402, f"This job costs {job.credits} credits; the balance is {account.credits}."
            )
        if job.error is None:
            self._render_queue.put(job.request_id)
        return json_reply(200, {
            "success": True, "requestId": job.request_id, "status": "queued",
            "creditsCharged": job.credits,
        })

    def _status_body(self, job: Job, now: float) -> dict[str, Any]:
        """The status answer, also the webhook body; a fresh signed URL on every call."""
        status = job.status(now)
        output = None
        if status == "succeeded":
            expires = math.ceil(now + self.output_url_ttl)
            path = outputs.signed_path(self._store.signing_key, job.request_id, expires)
            output = {"type": "video", "url": self.url + path}
        return {
            "success": True, "requestId": job.request_id, "status": status,
            "model": job.model, "prompt": job.prompt, "duration": job.duration,
            "aspectRatio": job.aspect_ratio, "resolution": job.resolution,
            "output": output, "error": job.error if status == "failed" else None,
            "metadata": job.metadata,
        }

    def _output(self, incoming: _Incoming, request_id: str) -> Reply:
        query = incoming.query
        if not outputs.verify(
            self._store.signing_key, request_id, query.get("expires"), query.get("sig"),
            incoming.now,
        ):
            return error_reply(403, "This output URL has expired or its signature is wrong; "
                               "get the job again for a fresh URL.")
        job = self._store.get(request_id)
        path = self._output_path(request_id)
        if job is None or job.status(incoming.now) != "succeeded" or not path.is_file():
            return error_reply(404, f"No output for {request_id}.")
        size = path.stat().st_size
        headers = {"Accept-Ranges": "bytes"}
        try:
            span = outputs.parse_range(incoming.headers.get("Range"), size)
        except outputs.RangeNotSatisfiable:
            return error_reply(416, f"Range not satisfiable for {size} bytes.",
                               headers={"Content-Range": f"bytes */{size}", **headers})
        if span is None:
            return Reply(200, content_type="video/mp4", headers=headers, file=path, length=size)
        start, end = span
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return Reply(206, content_type="video/mp4", headers=headers, file=path, start=start,
                     length=end - start + 1)

    # Background work -------------------------------------------------------

    def _tick_loop(self) -> None:
        while not self._stopping.wait(_TICK):
            now = time.time()
            for job in self._store.newly_terminal(now):
                account = self._store.account_of(job)
                url = job.webhook_url or (account.webhook_url if account else None)
                if url:
                    secret = account.webhook_secret if account else None
                    self._sender.send(job.request_id, url, self._status_body(job, now), secret)

    def _render_loop(self) -> None:
        while (request_id := self._render_queue.get()) is not None:
            self._render(request_id)

    def _render(self, request_id: str) -> None:
        """Render one job's mp4 (to a ``.part`` file, renamed when complete)."""
        job = self._store.get(request_id)
        if job is None or job.error is not None or job.cancelled_at is not None:
            return
        target = self._output_path(request_id)
        partial = target.with_name(target.name + ".part")

        def cancelled() -> bool:
            current = self._store.get(request_id)
            return self._stopping.is_set() or current is None or current.cancelled_at is not None

        try:
            from .render import RenderCancelled, frame_size, render_video
        except ImportError as exc:
            message = (
                f"Rendering needs PyAV and NumPy: pip install 'seedance-jupyter[emulator]' ({exc})."
            )
            self._store.update(request_id, error=_failure(message))
            return
        width, height = frame_size(job.resolution, job.aspect_ratio)
        try:
            render_video(
                partial, prompt=job.prompt, duration=job.duration, width=width, height=height,
                reference=_reference(job.media_urls), cancelled=cancelled,
            )
        except RenderCancelled:
            partial.unlink(missing_ok=True)
            return
        except Exception as exc:  # any failure must end the job, not leave it processing forever
            partial.unlink(missing_ok=True)
            message = f"The emulator could not render this video ({type(exc).__name__}: {exc})."
            self._store.update(request_id, error=_failure(message))
            return
        os.replace(partial, target)
        self._store.update(request_id, rendered=True)

    # Helpers ----------------------------------------------------------------

    def _bind(self, host: str, port: int) -> HTTPServer:
        """Bind ``port``; with port 0 and a state dir, try the port used last time first."""
        saved = self._store.saved_port
        if port or saved is None:
            return HTTPServer((host, port), self)
        try:
            return HTTPServer((host, saved), self)
        except OSError:
            return HTTPServer((host, 0), self)

    def _output_path(self, request_id: str) -> Path:
        return self.output_dir / f"{request_id}.mp4"

    def _snapshot(self, job: Job, now: float) -> dict[str, Any]:
        snapshot = asdict(job)
        del snapshot["key_hash"]
        snapshot.update(
            status=job.status(now), processing_at=job.processing_at, due_at=job.due_at,
            output_path=str(self._output_path(job.request_id)) if job.rendered else None,
        )
        return snapshot

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _record_webhook(self, attempt: WebhookAttempt) -> None:
        with self._lock:
            self._webhooks.append(attempt)


#: ``start(...)`` builds a running :class:`Emulator`: the documented way to get one.
start = Emulator


def _route(method: str, path: str) -> tuple[str | None, str]:
    """The route name and the id (or name) captured from the path."""
    method = "GET" if method == "HEAD" else method
    for route_method, pattern, name in _ROUTES:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            return name, match.group(1) if match.groups() else ""
    return None, ""


def _injected(decision: Decision) -> Reply:
    headers = {}
    if decision.retry_after is not None:
        headers["Retry-After"] = f"{decision.retry_after:g}"
    status = decision.status or 500
    return error_reply(status, f"Injected fault: HTTP {status}.", headers=headers)


def _sample(name: str) -> Reply:
    from .samples import SAMPLE_NAMES, sample_png

    if name not in SAMPLE_NAMES:
        return error_reply(404, f"No sample {name!r}; there are {', '.join(SAMPLE_NAMES)}.")
    return Reply(200, sample_png(name), content_type="image/png")


def _reference(urls: list[str]) -> bytes | str | None:
    """The first image or video reference: its bytes if on loopback, else its URL."""
    url = next((u for u in urls if media_kind(u) in ("image", "video")), None)
    if url is None or not is_loopback_url(url):
        return url
    try:
        with DIRECT_OPENER.open(url, timeout=10) as response:
            data: bytes = response.read(_MAX_REFERENCE + 1)
    except (OSError, ValueError):
        return url
    return url if len(data) > _MAX_REFERENCE else data


def _failure(message: str) -> dict[str, str]:
    return {"code": "generation_failed", "message": message}


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _parse_json(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
