"""Models, their allowed values and prices; request validation and cost.

The live catalogue comes from ``GET /models``; :data:`DOCUMENTED_MODELS` is the
fallback when it cannot be reached. Validation lives here, not in the client, so
the magic and the form can check input as it is typed, before any network.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypedDict
from urllib.parse import urlsplit

from typing_extensions import Unpack

from . import messages
from .errors import MalformedResponseError, ValidationError

__all__ = [
    "ASPECT_RATIOS",
    "CREDITS_PER_USD",
    "DOCUMENTED_MODELS",
    "MAX_MEDIA_URLS",
    "MEDIA_EXTENSIONS",
    "MEDIA_SURCHARGE",
    "RESOLUTIONS",
    "Catalog",
    "GenerationRequest",
    "MediaKind",
    "ModelInfo",
    "RequestFields",
    "invalid_field",
    "is_loopback_url",
    "media_kind",
]

MediaKind = Literal["image", "video", "audio"]

ASPECT_RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1")
RESOLUTIONS: tuple[str, ...] = ("480p", "720p", "1080p")
MAX_MEDIA_URLS = 5
MEDIA_EXTENSIONS: Mapping[str, MediaKind] = {
    ".jpg": "image", ".jpeg": "image", ".png": "image", ".webp": "image",
    ".gif": "image", ".bmp": "image",
    ".mp4": "video", ".mov": "video", ".m4v": "video",
    ".mp3": "audio", ".wav": "audio",
}
_BEST_FOR = {
    "seedance-2.0": "highest quality, multimodal",
    "seedance-2.0-fast": "faster turnaround",
    "seedance-1.5-pro": "lower-cost fallback",
}


@dataclass(frozen=True)
class ModelInfo:
    """One model of the catalogue, as ``GET /models`` describes it."""

    id: str
    durations: tuple[int, ...]
    aspect_ratios: tuple[str, ...]
    resolutions: tuple[str, ...]
    usd_per_second: Mapping[str, float]
    type: str = "video_generation"
    mode: str = "image_to_video"

    @property
    def best_for(self) -> str:
        return _BEST_FOR.get(self.id, "")

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id, "type": self.type, "mode": self.mode,
            "durations": list(self.durations), "aspectRatios": list(self.aspect_ratios),
            "resolutions": list(self.resolutions), "usdPerSecond": dict(self.usd_per_second),
        }

    @classmethod
    def from_api(cls, entry: Any) -> ModelInfo:
        """Read one ``data[]`` entry; anything off raises :class:`MalformedResponseError`."""
        try:
            prices = entry["usdPerSecond"]
            info = cls(
                id=_typed(entry["id"], str),
                durations=tuple(_typed(d, int) for d in entry["durations"]),
                aspect_ratios=tuple(_typed(a, str) for a in entry["aspectRatios"]),
                resolutions=tuple(_typed(r, str) for r in entry["resolutions"]),
                usd_per_second={_typed(k, str): _price(v) for k, v in prices.items()},
                type=str(entry.get("type", "video_generation")),
                mode=str(entry.get("mode", "image_to_video")),
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            detail = f"model entry {_brief(entry)}: {type(exc).__name__} {exc}"
            raise MalformedResponseError(
                messages.MALFORMED_RESPONSE.format(detail=detail)
            ) from None
        return info


def _price(value: Any) -> float:
    """A price that can guard a budget: finite and above zero (NaN, 0 or -1 would not)."""
    price = float(_typed(value, (int, float)))
    if not math.isfinite(price) or price <= 0:
        raise ValueError(f"price {value!r} is not a positive number")
    return price


def _typed(value: Any, kind: type | tuple[type, ...]) -> Any:
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"unexpected {type(value).__name__}")
    return value


def _brief(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: How much more a job with reference media (image-to-video) is estimated to cost than
#: the same job from text alone. ``/models`` publishes one price per resolution; the
#: service's own examples charge 40 credits for a 5 s 720p text-to-video job and 64
#: for the same job with a reference image, so 64 / 40 = 1.6. An assumption from those
#: examples, not a published price: once the service answers, what it charged counts.
MEDIA_SURCHARGE = 1.6

#: Credits per USD of the published price, as the service's examples imply: 40 credits
#: for a 5 s 720p text-to-video job priced 0.10 USD/s x 5 s = 0.50 USD. The contract does
#: not state it; it is the default of the ``credits_per_usd`` setting, which spend and
#: budgets use to convert what a job was charged.
CREDITS_PER_USD = 80.0

_ALL_DURATIONS = tuple(range(4, 16))
_DOCUMENTED_PRICE = {"480p": 0.05, "720p": 0.1, "1080p": 0.2}

#: The catalogue as documented. Only seedance-2.0's price is published; the
#: others use it as an upper bound until the live ``/models`` answers.
DOCUMENTED_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("seedance-2.0", _ALL_DURATIONS, ASPECT_RATIOS, RESOLUTIONS, _DOCUMENTED_PRICE),
    ModelInfo("seedance-2.0-fast", _ALL_DURATIONS, ASPECT_RATIOS, RESOLUTIONS, _DOCUMENTED_PRICE),
    ModelInfo("seedance-1.5-pro", (5, 10), ASPECT_RATIOS, RESOLUTIONS, _DOCUMENTED_PRICE),
)


def media_kind(url: str) -> MediaKind | None:
    """The reference kind of a media URL, judged by its path's extension."""
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    return MEDIA_EXTENSIONS.get(path[dot:]) if dot >= 0 else None


def is_loopback_url(url: str) -> bool:
    """True for URLs whose host is this machine (the emulator's own media)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RequestFields(TypedDict, total=False):
    """The optional fields of a create request, as keyword arguments (one signature)."""

    model: str
    media_urls: Iterable[str]
    aspect_ratio: str | None
    duration: int | None
    resolution: str | None
    webhook_url: str | None
    metadata: Mapping[str, Any] | None


@dataclass(frozen=True)
class GenerationRequest:
    """A create request, validated and ready to price, record and send."""

    prompt: str
    model: str = "seedance-2.0"
    media_urls: tuple[str, ...] = ()
    aspect_ratio: str | None = None
    duration: int | None = None
    resolution: str | None = None
    webhook_url: str | None = None
    metadata: Mapping[str, Any] | None = field(default=None, hash=False)
    #: Per reference, what the ledger keeps about it: ``name``, ``kind``, ``sha256``
    #: (None for a URL the user gave) and ``where`` it was published. Never sent.
    media_refs: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)

    def to_body(self) -> dict[str, Any]:
        """The JSON body of ``POST /video/generations`` (absent fields left out)."""
        body: dict[str, Any] = {"model": self.model, "prompt": self.prompt}
        if self.media_urls:
            body["mediaUrls"] = list(self.media_urls)
        optional = {
            "aspectRatio": self.aspect_ratio, "duration": self.duration,
            "resolution": self.resolution, "webhookUrl": self.webhook_url,
            "metadata": dict(self.metadata) if self.metadata is not None else None,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return body

    @classmethod
    def of(cls, prompt: str, **fields: Unpack[RequestFields]) -> GenerationRequest:
        """A request from loose values (any iterable of URLs); validate it before use."""
        urls: Any = fields.get("media_urls", ())
        if not isinstance(urls, (str, bytes)) and isinstance(urls, Iterable):
            urls = tuple(urls)
        return cls(
            prompt=prompt, model=fields.get("model", "seedance-2.0"), media_urls=urls,
            aspect_ratio=fields.get("aspect_ratio"), duration=fields.get("duration"),
            resolution=fields.get("resolution"), webhook_url=fields.get("webhook_url"),
            metadata=fields.get("metadata"),
        )

    def with_metadata(self, extra: Mapping[str, Any]) -> GenerationRequest:
        return replace(self, metadata={**(self.metadata or {}), **extra})

    def fingerprint(self, ignore_metadata_keys: Iterable[str] = ()) -> str:
        """A stable hash of the normalised request, for re-run detection.

        Published media counts by its content hash, not its URL: a presigned URL
        differs on every publish, and the same URL may serve changed bytes.
        """
        body = self.to_body()
        body["prompt"] = " ".join(self.prompt.split())
        if self.media_refs:
            body["mediaUrls"] = [
                f"sha256:{ref['sha256']}" if ref.get("sha256") else url
                for url, ref in zip(self.media_urls, self.media_refs, strict=True)
            ]
        if "metadata" in body:
            skip = set(ignore_metadata_keys)
            body["metadata"] = {k: v for k, v in body["metadata"].items() if k not in skip}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


class Catalog:
    """The models the service offers; validates requests and prices them."""

    def __init__(self, models: Sequence[ModelInfo], *, live: bool) -> None:
        self.models: dict[str, ModelInfo] = {m.id: m for m in models}
        self.live = live

    @classmethod
    def documented(cls) -> Catalog:
        return cls(DOCUMENTED_MODELS, live=False)

    def model(self, model_id: object) -> ModelInfo:
        info = self.models.get(model_id) if isinstance(model_id, str) else None
        if info is None:
            raise invalid_field("model", model_id, messages.ALLOWED_MODEL.format(
                choices=", ".join(self.models)))
        return info

    def estimate_cost(
        self, model: str, duration: int, resolution: str, *, with_media: bool = False
    ) -> float:
        """USD for one job: ``usdPerSecond[resolution] * duration``, times
        :data:`MEDIA_SURCHARGE` when it has reference media (image-to-video)."""
        info = self.model(model)
        self._check_duration(info, duration)
        self._check_choice("resolution", resolution, info.usd_per_second)
        surcharge = MEDIA_SURCHARGE if with_media else 1.0
        return round(info.usd_per_second[resolution] * duration * surcharge, 6)

    def validate(
        self, request: GenerationRequest, *, allow_loopback_http: bool = False
    ) -> GenerationRequest:
        """Raise :class:`ValidationError` naming the first bad field, else return the request."""
        if not isinstance(request.prompt, str) or not request.prompt.strip():
            raise invalid_field("prompt", request.prompt, messages.ALLOWED_PROMPT)
        try:
            request.prompt.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid_field(
                "prompt", request.prompt, messages.ALLOWED_PROMPT_TEXT
            ) from None
        info = self.model(request.model)
        if request.duration is not None:
            self._check_duration(info, request.duration)
        if request.aspect_ratio is not None:
            self._check_choice("aspect_ratio", request.aspect_ratio, info.aspect_ratios)
        if request.resolution is not None:
            self._check_choice("resolution", request.resolution, info.resolutions)
        check_media_urls(request.media_urls, allow_loopback_http=allow_loopback_http)
        if request.webhook_url is not None:
            check_webhook_url(request.webhook_url)
        if request.metadata is not None:
            check_metadata(request.metadata)
        return request

    @staticmethod
    def _check_duration(info: ModelInfo, duration: object) -> None:
        if isinstance(duration, bool) or not isinstance(duration, int) or (
            duration not in info.durations
        ):
            raise invalid_field("duration", duration, messages.ALLOWED_DURATION.format(
                model=info.id, choices=_ranges(info.durations)))

    @staticmethod
    def _check_choice(name: str, value: object, allowed: Iterable[str]) -> None:
        choices = tuple(allowed)
        if not isinstance(value, str) or value not in choices:
            allowed_text = messages.ALLOWED_CHOICE.format(choices=", ".join(choices))
            raise invalid_field(name, value, allowed_text)


def check_media_urls(urls: object, *, allow_loopback_http: bool = False) -> None:
    """Check the ``media_urls`` list: 0 (text-to-video) or 1-5 known-kind URLs."""
    if isinstance(urls, str) or not isinstance(urls, Sequence):
        raise invalid_field("media_urls", urls, messages.ALLOWED_MEDIA_COUNT.format(
            maximum=MAX_MEDIA_URLS))
    if len(urls) > MAX_MEDIA_URLS:
        allowed = messages.ALLOWED_MEDIA_COUNT.format(maximum=MAX_MEDIA_URLS)
        raise ValidationError("media_urls", list(urls), allowed, messages.TOO_MANY_MEDIA.format(
            count=len(urls), allowed=allowed))
    for url in urls:
        check_media_url(url, allow_loopback_http=allow_loopback_http)


def check_media_url(url: object, *, allow_loopback_http: bool = False) -> MediaKind:
    """Check one reference URL and return its kind."""
    template = (
        messages.ALLOWED_MEDIA_URL_LOOPBACK if allow_loopback_http else messages.ALLOWED_MEDIA_URL
    )
    allowed = template.format(extensions=" ".join(MEDIA_EXTENSIONS))
    if not isinstance(url, str) or not _is_clean_url(url):
        raise invalid_field("media_urls", url, allowed)
    parts = urlsplit(url)
    scheme_ok = parts.scheme == "https" or (
        allow_loopback_http and parts.scheme == "http" and is_loopback_url(url)
    )
    kind = media_kind(url)
    if not scheme_ok or not parts.hostname:
        raise invalid_field("media_urls", url, allowed)
    if kind is None:
        # The service tells a reference's kind by its path's extension (the contract),
        # so a CDN address without one is refused there too, whatever it serves.
        if "." not in parts.path.rsplit("/", 1)[-1]:
            allowed = messages.MEDIA_NO_EXTENSION.format(extensions=" ".join(MEDIA_EXTENSIONS))
        raise invalid_field("media_urls", url, allowed)
    return kind


def check_webhook_url(url: object) -> None:
    if not isinstance(url, str) or not _is_clean_url(url):
        raise invalid_field("webhook_url", url, messages.ALLOWED_WEBHOOK)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid_field("webhook_url", url, messages.ALLOWED_WEBHOOK)


def check_metadata(metadata: object) -> None:
    """Metadata must be a JSON object that survives a round trip unchanged."""
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
        raise invalid_field("metadata", metadata, messages.ALLOWED_METADATA)
    try:
        json.dumps(metadata, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        raise invalid_field("metadata", metadata, messages.ALLOWED_METADATA) from None


def _is_clean_url(url: str) -> bool:
    try:
        urlsplit(url).port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return bool(url) and not any(ch.isspace() or ord(ch) < 32 for ch in url)


def _ranges(values: Sequence[int]) -> str:
    ordered = sorted(values)
    contiguous = ordered == list(range(ordered[0], ordered[-1] + 1)) if ordered else False
    if contiguous and len(ordered) > 2:
        return f"any whole number from {ordered[0]} to {ordered[-1]}"
    return " or ".join(str(v) for v in ordered)


def invalid_field(name: str, value: object, allowed: str) -> ValidationError:
    """The one error for a bad field: it names the field, the value and what is allowed."""
    message = messages.INVALID_FIELD.format(field=name, value=_brief(value), allowed=allowed)
    return ValidationError(name, value, allowed, message)
