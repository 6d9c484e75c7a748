"""Create bodies checked against the emulator's contract: the schema, then the catalogue.

The schema (``contract.json``) checks names, types, counts and URL shapes; the
catalogue then checks what depends on the model (``seedance-1.5-pro`` takes 5 or
10 s only) and the reference media kinds. Every complaint starts with the API's
name of the field, e.g. ``duration: ...``, and is answered as HTTP 400
``invalid_request``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import pricing
from .contract import CREATE_SCHEMA, MEDIA_KINDS, media_kind
from .schema import SchemaError, validate

__all__ = ["CreateRequest", "InvalidRequest", "check_create"]


class InvalidRequest(ValueError):
    """The body breaks the contract; the message names the field."""


@dataclass(frozen=True)
class CreateRequest:
    """A valid create body, with the emulator's defaults filled in."""

    model: pricing.EmulatedModel
    prompt: str
    duration: int
    aspect_ratio: str
    resolution: str
    media_urls: tuple[str, ...]
    webhook_url: str | None
    metadata: dict[str, Any] | None


def check_create(body: Any) -> CreateRequest:
    """The request ``body`` asks for; :class:`InvalidRequest` naming the first bad field."""
    try:
        validate(body, CREATE_SCHEMA)
    except SchemaError as exc:
        raise InvalidRequest(str(exc)) from None
    model = pricing.find_model(body["model"])
    if model is None:
        choices = ", ".join(m.id for m in pricing.EMULATOR_MODELS)
        raise InvalidRequest(f"model: {body['model']!r} is not one of {choices}.")
    duration = body.get("duration", pricing.DEFAULT_DURATION)
    aspect_ratio = body.get("aspectRatio", pricing.DEFAULT_ASPECT_RATIO)
    resolution = body.get("resolution", pricing.DEFAULT_RESOLUTION)
    _check_choice("duration", duration, model.durations, model.id)
    _check_choice("aspectRatio", aspect_ratio, model.aspect_ratios, model.id)
    _check_choice("resolution", resolution, model.resolutions, model.id)
    media_urls = tuple(body.get("mediaUrls", ()))
    for index, url in enumerate(media_urls):
        if media_kind(url) is None:
            raise InvalidRequest(
                f"mediaUrls[{index}]: {url!r} is not a known media kind; the extensions are "
                f"{' '.join(MEDIA_KINDS)}."
            )
    return CreateRequest(
        model=model, prompt=body["prompt"], duration=duration, aspect_ratio=aspect_ratio,
        resolution=resolution, media_urls=media_urls, webhook_url=body.get("webhookUrl"),
        metadata=body.get("metadata"),
    )


def _check_choice(name: str, value: object, allowed: tuple[object, ...], model: str) -> None:
    if value not in allowed:
        choices = ", ".join(str(choice) for choice in allowed)
        raise InvalidRequest(f"{name}: {value!r} is not offered by {model}; choose {choices}.")
