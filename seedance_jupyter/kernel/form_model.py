"""The form's model: the request being drafted, as traits, and what follows from it.

The form's widgets only show and edit this draft (as ipywidgets' own models do),
so validation, the cost line and the request Submit sends are computed in one
place, from values rather than from widgets, and can be tested without any.
The rules stay the catalogue's: the draft asks the session to validate
(``prepare``), price (``estimate``) and check the budget, and only keeps the
choices (duration, aspect ratio, resolution) within what the chosen model offers.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from traitlets import Bunch, HasTraits, Instance, Int, List, Unicode, observe, validate
from typing_extensions import Unpack

from .. import messages
from ..catalog import (
    MAX_MEDIA_URLS,
    MEDIA_SURCHARGE,
    GenerationRequest,
    ModelInfo,
    RequestFields,
    check_metadata,
    check_webhook_url,
    invalid_field,
)
from ..errors import SeedanceError, ValidationError
from ..messages import (
    ALLOWED_PROMPT,
    FORM_API_KEY_MISSING,
    FORM_BUDGET_LEFT,
    FORM_COST,
    FORM_COST_MEDIA,
)

if TYPE_CHECKING:
    from ..jobs.service import JobService

__all__ = ["RequestDraft"]

#: ``prepare`` needs a prompt; this one only stands in while the default choices are checked.
_PROBE_PROMPT = "probe"
#: The fields a user edits; any change re-checks the draft.
_INPUTS = (
    "prompt", "model", "duration", "aspect_ratio", "resolution", "media_urls", "webhook_url",
    "metadata",
)


class RequestDraft(HasTraits):
    """A generation request as it is being typed, with its verdict and price.

    The inputs hold what was typed (text untrimmed, the JSON as text, every
    media row); ``request``, ``reason``, ``cost`` and ``cell`` are recomputed on
    each change. The keyword arguments preset the inputs as ``SeedanceForm``'s
    do: an explicit choice the catalogue refuses raises ``ValidationError``.
    """

    prompt = Unicode("", help="The prompt as typed.")
    model = Unicode("", help="The model's id.")
    duration = Int(0, help="Seconds; kept to one the model offers (else the nearest).")
    aspect_ratio = Unicode("", help="Kept to one the model offers (else its first).")
    resolution = Unicode("", help="Kept to one the model offers (else its first).")
    media_urls = List(Unicode(), maxlen=MAX_MEDIA_URLS, help="The reference rows as typed.")
    webhook_url = Unicode("", help="The webhook URL as typed.")
    metadata = Unicode("", help="The metadata as typed: JSON text.")

    request = Instance(
        GenerationRequest, allow_none=True, read_only=True,
        help="The validated request the inputs make, or None.",
    )
    reason = Unicode(
        None, allow_none=True, read_only=True,
        help="Why there is no request (first field in layout order first), or None.",
    )
    reason_field = Unicode(
        None, allow_none=True, read_only=True,
        help="The input the reason is about (a form shows it by that input), or None.",
    )
    clamped = Unicode(
        "", read_only=True,
        help="What a model change moved the duration to, and why; empty otherwise.",
    )
    cost = Unicode("", read_only=True, help="The cost line, with the budget left.")
    cell = Unicode("", read_only=True, help="The %%seedance cell making the same request.")

    def __init__(
        self,
        session: JobService,
        *,
        prompt: str = "",
        **presets: Unpack[RequestFields],
    ) -> None:
        super().__init__()
        self._session = session
        self.catalog = session.backend.client.models.catalog()
        unknown = sorted(set(presets) - set(RequestFields.__annotations__))
        if unknown:
            raise TypeError(messages.FORM_UNKNOWN_PRESET.format(
                names=", ".join(unknown), allowed=", ".join(RequestFields.__annotations__)))
        model, duration = presets.get("model"), presets.get("duration")
        aspect_ratio, resolution = presets.get("aspect_ratio"), presets.get("resolution")
        media_urls = tuple(presets.get("media_urls", ()))
        webhook_url, metadata = presets.get("webhook_url"), presets.get("metadata")
        if not isinstance(prompt, str):
            raise invalid_field("prompt", prompt, ALLOWED_PROMPT)
        if webhook_url is not None:
            check_webhook_url(webhook_url)
        settings = session.settings
        if model is not None:
            info = self.catalog.model(model)
        else:
            info = self.catalog.models.get(settings.default_model) or next(
                iter(self.catalog.models.values())
            )
        # The settings' defaults are only clamped: a configured duration that the
        # chosen model does not offer should not make the form unusable.
        chosen: dict[str, Any] = {
            "duration": duration if duration is not None else settings.default_duration,
            "aspect_ratio": aspect_ratio or settings.default_aspect_ratio,
            "resolution": resolution or settings.default_resolution,
        }
        chosen = {name: _allowed(info, name, value) for name, value in chosen.items()}
        explicit = {"duration": duration, "aspect_ratio": aspect_ratio, "resolution": resolution}
        too_many = len(media_urls) > MAX_MEDIA_URLS
        if too_many or any(value is not None for value in explicit.values()):
            # Only the choices and the URL count: a bad URL is shown at its row instead.
            session.prepare(
                _PROBE_PROMPT, model=info.id, media_urls=media_urls if too_many else (),
                **{name: explicit[name] if explicit[name] is not None else chosen[name]
                   for name in chosen},  # type: ignore[arg-type]
            )
        metadata_text = ""
        if metadata is not None:
            check_metadata(metadata)
            metadata_text = json.dumps(dict(metadata), ensure_ascii=False)
        with self.hold_trait_notifications():
            self.model = info.id
            self.duration = chosen["duration"]
            self.aspect_ratio = chosen["aspect_ratio"]
            self.resolution = chosen["resolution"]
            self.prompt = prompt
            self.media_urls = list(media_urls)
            self.webhook_url = webhook_url or ""
            self.metadata = metadata_text
        self.check()

    # -- the choices follow the model ------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        """The chosen model's entry in the catalogue."""
        return self.catalog.model(self.model)

    @validate("model")
    def _known_model(self, proposal: Bunch) -> str:
        return self.catalog.model(proposal["value"]).id

    @validate("duration", "aspect_ratio", "resolution")
    def _within_model(self, proposal: Bunch) -> Any:
        return _allowed(self.info, proposal["trait"].name, proposal["value"])

    @observe(*_INPUTS)
    def _input_changed(self, change: Bunch) -> None:
        if change["name"] == "model":
            # The new model's choices, all set before anyone hears of one of them.
            asked = self.duration
            with self.hold_trait_notifications():
                for name in ("duration", "aspect_ratio", "resolution"):
                    setattr(self, name, _allowed(self.info, name, getattr(self, name)))
            self.set_trait("clamped", "" if self.duration == asked else (
                messages.FORM_DURATION_CLAMPED.format(
                    asked=asked, model=self.model, duration=self.duration)))
        elif change["name"] == "duration":
            self.set_trait("clamped", "")
        self.check()

    # -- derived state ---------------------------------------------------------------
    @property
    def key_needed(self) -> bool:
        """The real service with no API key yet: nothing can be submitted."""
        backend = self._session.backend
        return not backend.client.has_api_key and not backend.is_emulator

    @property
    def urls(self) -> tuple[str, ...]:
        """The filled media rows, trimmed: the request's ``media_urls``."""
        return tuple(url for url in (row.strip() for row in self.media_urls) if url)

    def parsed_metadata(self) -> tuple[Mapping[str, Any] | None, str | None]:
        """The metadata JSON object, or the reason it is not one."""
        text = self.metadata.strip()
        if not text:
            return None, None
        try:
            value = json.loads(text)
        except ValueError as exc:
            return None, messages.BAD_METADATA_JSON.format(value=repr(text)[:80], detail=exc)
        try:
            check_metadata(value)
        except ValidationError as exc:
            return None, exc.message
        return value, None

    def check(self) -> None:
        """Recompute the request, reason, cost and cell.

        The inputs do this on each change; call it too when something no trait
        shows has changed: money spent, a key entered.
        """
        request, reason, field = self._validated()
        self.set_trait("request", request)
        self.set_trait("reason", reason)
        self.set_trait("reason_field", field)
        self.set_trait("cost", self._cost_line())
        self.set_trait("cell", self._magic_cell())

    def _validated(self) -> tuple[GenerationRequest | None, str | None, str | None]:
        """The request, or why not and which input that is about."""
        if self.key_needed:
            return None, FORM_API_KEY_MISSING, "api_key"
        metadata, metadata_error = self.parsed_metadata()
        try:
            request = self._session.prepare(
                self.prompt.strip(), model=self.model, duration=self.duration,
                aspect_ratio=self.aspect_ratio, resolution=self.resolution,
                media_urls=self.urls, webhook_url=self.webhook_url.strip() or None,
                metadata=metadata,
            )
        except ValidationError as exc:
            return None, exc.message, exc.field
        if metadata_error is not None:
            return None, metadata_error, "metadata"
        try:
            self._session.check_budget(self._session.estimate(request))
        except SeedanceError as exc:
            return None, exc.message, None
        return request, None, None

    def _cost_line(self) -> str:
        """``usdPerSecond[resolution] x duration``, priced by the session, plus budget left."""
        info = self.catalog.models.get(self.model)
        if info is None or self.resolution not in info.usd_per_second:
            return ""
        probe = GenerationRequest(
            prompt=self.prompt, model=info.id, duration=self.duration,
            resolution=self.resolution, media_urls=self.urls,
        )
        try:
            usd = self._session.estimate(probe)
        except ValidationError:
            return ""
        line = (FORM_COST_MEDIA if probe.media_urls else FORM_COST).format(
            rate=_price(info.usd_per_second[self.resolution]), duration=self.duration, usd=usd,
            surcharge=MEDIA_SURCHARGE,
        )
        budget = self._session.settings.budget_usd
        if budget is not None:
            left = max(0.0, budget - self._session.spent_usd)
            line += FORM_BUDGET_LEFT.format(left=left, budget=budget)
        return line

    def _magic_cell(self) -> str:
        """The ``%%seedance`` cell that makes the same request.

        Every flag is shell-quoted for the magic's ``shlex`` parser, and braces in
        the prompt are doubled because the magic reads ``{name}`` as a variable.
        """
        words = [
            "-m", self.model, "-d", str(self.duration), "-a", self.aspect_ratio,
            "-r", self.resolution,
        ]
        if self.urls:
            words += ["--media", *self.urls]
        webhook = self.webhook_url.strip()
        if webhook:
            words += ["--webhook", webhook]
        text = self.metadata.strip()
        if text:
            parsed, error = self.parsed_metadata()
            words += ["--metadata", text if error else json.dumps(parsed, ensure_ascii=False)]
        prompt = self.prompt.strip().replace("{", "{{").replace("}", "}}")
        return "%%seedance " + " ".join(shlex.quote(word) for word in words) + "\n" + prompt


def _allowed(info: ModelInfo, name: str, value: Any) -> Any:
    """``value`` if ``info`` offers it for choice ``name``, else the nearest it does."""
    if name == "duration":
        return _nearest(value, info.durations)
    return _kept(value, info.aspect_ratios if name == "aspect_ratio" else info.resolutions)


def _nearest(value: Any, allowed: Sequence[int]) -> int:
    """``value`` if allowed, else the closest allowed one (the shorter on a tie)."""
    if value in allowed:
        return int(value)
    target = value if isinstance(value, int) and not isinstance(value, bool) else 0
    return min(allowed, key=lambda choice: (abs(choice - target), choice))


def _kept(value: Any, allowed: Sequence[str]) -> str:
    return str(value) if value in allowed else allowed[0]


def _price(rate: float) -> str:
    """A per-second price with at least two decimals and no trailing noise."""
    text = f"{rate:.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"
