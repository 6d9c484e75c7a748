"""The form's model alone: set traits, read the request, the reason and the cost (no widgets)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from traitlets import TraitError

from seedance_jupyter.catalog import Catalog
from seedance_jupyter.errors import ValidationError
from seedance_jupyter.jobs.backend import Backend
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.jobs.service import JobService
from seedance_jupyter.kernel.form_model import RequestDraft
from seedance_jupyter.messages import FORM_API_KEY_MISSING

from .helpers import Settings

PNG = "https://example.com/fox.png"
MP3 = "https://example.com/theme.mp3"
TIMES = "\N{MULTIPLICATION SIGN}"
MakeService = Callable[..., JobService]


@pytest.fixture
def service_for(tmp_path: Path) -> Iterator[MakeService]:
    """Make services with the documented catalogue whose API is never reached; all closed."""
    made: list[JobService] = []

    def make(*, api_key: str = "k", **settings: Any) -> JobService:
        client = Client(api_key=api_key, base_url="https://service.example", max_retries=0)
        client.models._catalog = Catalog.documented()
        backend = Backend(client, "https://service.example", "fake", False)
        made.append(JobService(
            Settings(**settings), backend=backend,
            ledger=Ledger(tmp_path / f"ledger{len(made)}.sqlite3"),
        ))
        return made[-1]

    yield make
    for svc in made:
        svc.close()


@pytest.fixture
def service(service_for: MakeService) -> JobService:
    return service_for()


@pytest.fixture
def draft(service: JobService) -> RequestDraft:
    return RequestDraft(service)


# -- presets ---------------------------------------------------------------------
def test_without_presets_the_settings_defaults_are_used(service_for: MakeService) -> None:
    svc = service_for(default_model="seedance-2.0-fast", default_duration=6,
                      default_resolution="480p", default_aspect_ratio="1:1")

    draft = RequestDraft(svc)

    assert (draft.model, draft.duration, draft.resolution, draft.aspect_ratio) == (
        "seedance-2.0-fast", 6, "480p", "1:1"
    )


def test_a_default_duration_the_model_lacks_is_clamped_not_raised(service_for: MakeService) -> None:
    svc = service_for(default_model="seedance-1.5-pro", default_duration=7)

    assert RequestDraft(svc).duration == 5


def test_an_explicit_preset_the_model_refuses_raises_naming_the_field(
    service: JobService,
) -> None:
    with pytest.raises(ValidationError) as caught:
        RequestDraft(service, model="seedance-1.5-pro", duration=7)

    assert caught.value.field == "duration"


def test_an_unknown_preset_raises_naming_it_and_the_allowed_ones(service: JobService) -> None:
    with pytest.raises(TypeError, match=r"durration\. Allowed: prompt, model, .*metadata"):
        RequestDraft(service, durration=5)  # type: ignore[call-arg]


def test_more_than_five_preset_urls_raise_naming_media_urls(service: JobService) -> None:
    with pytest.raises(ValidationError) as caught:
        RequestDraft(service, media_urls=[PNG] * 6)

    assert caught.value.field == "media_urls"


def test_preset_metadata_is_kept_as_json_text(service: JobService) -> None:
    assert RequestDraft(service, metadata={"k": "é"}).metadata == '{"k": "é"}'


# -- choices follow the model ----------------------------------------------------
def test_an_unknown_model_is_refused_naming_the_model(draft: RequestDraft) -> None:
    with pytest.raises(ValidationError) as caught:
        draft.model = "seedance-9"

    assert caught.value.field == "model"
    assert draft.model == "seedance-2.0"


def test_a_duration_the_model_lacks_becomes_the_nearest_allowed(draft: RequestDraft) -> None:
    draft.model = "seedance-1.5-pro"

    draft.duration = 8

    assert draft.duration == 10


def test_switching_model_moves_the_duration_to_the_nearest_it_offers(
    draft: RequestDraft,
) -> None:
    draft.duration = 7

    draft.model = "seedance-1.5-pro"

    assert draft.duration == 5


def test_switching_model_keeps_the_choices_it_still_offers(draft: RequestDraft) -> None:
    draft.duration = 10
    draft.aspect_ratio = "1:1"
    draft.resolution = "1080p"

    draft.model = "seedance-1.5-pro"

    assert (draft.duration, draft.aspect_ratio, draft.resolution) == (10, "1:1", "1080p")


def test_more_than_five_media_rows_are_refused(draft: RequestDraft) -> None:
    with pytest.raises(TraitError):
        draft.media_urls = [PNG] * 6


# -- request and reason ----------------------------------------------------------
def test_the_request_is_made_from_the_trimmed_values(draft: RequestDraft) -> None:
    draft.prompt = "  a red fox  "
    draft.media_urls = [PNG, "", f" {MP3} "]
    draft.webhook_url = " https://example.com/hook "
    draft.metadata = '{"take": 2}'

    request = draft.request

    assert request is not None
    assert (request.prompt, request.media_urls) == ("a red fox", (PNG, MP3))
    assert (request.webhook_url, request.metadata) == ("https://example.com/hook", {"take": 2})
    assert draft.reason is None


def test_an_empty_prompt_is_the_reason_and_there_is_no_request(draft: RequestDraft) -> None:
    assert draft.request is None
    assert draft.reason is not None
    assert draft.reason.startswith("prompt:")


def test_the_first_bad_field_in_layout_order_is_the_reason(draft: RequestDraft) -> None:
    draft.metadata = "{"
    draft.media_urls = ["nope"]
    draft.prompt = "a paper boat"
    assert draft.reason is not None
    assert draft.reason.startswith("media_urls:")

    draft.media_urls = []

    assert draft.reason.startswith("metadata:")


def test_metadata_that_is_not_an_object_is_the_reason(draft: RequestDraft) -> None:
    draft.prompt = "a paper boat"

    draft.metadata = "[1, 2]"

    assert draft.reason is not None
    assert draft.reason.startswith("metadata:")


def test_a_job_over_budget_is_the_reason(service_for: MakeService) -> None:
    draft = RequestDraft(service_for(budget_usd=0.3), prompt="a lighthouse")

    assert draft.request is None
    assert draft.reason is not None
    assert "budget" in draft.reason.lower()


def test_without_a_key_the_key_is_the_reason_until_one_is_set(service_for: MakeService) -> None:
    svc = service_for(api_key="")
    draft = RequestDraft(svc, prompt="a lighthouse")
    assert draft.reason == FORM_API_KEY_MISSING

    svc.backend.client.set_api_key("sd2_key")
    draft.check()

    assert draft.reason is None


# -- cost ------------------------------------------------------------------------
def test_the_cost_is_price_per_second_times_duration(draft: RequestDraft) -> None:
    draft.duration = 12
    draft.resolution = "1080p"

    assert draft.cost == f"Estimated cost: $0.20/s {TIMES} 12 s = $2.40"


def test_the_cost_of_a_job_with_reference_media_carries_the_surcharge(
    draft: RequestDraft,
) -> None:
    draft.media_urls = [PNG]

    assert draft.cost == (
        f"Estimated cost: $0.10/s {TIMES} 5 s {TIMES} 1.6 (reference media) = $0.80"
    )


def test_each_change_of_the_cost_is_observable(draft: RequestDraft) -> None:
    seen: list[str] = []
    draft.observe(lambda change: seen.append(change["new"]), "cost")

    draft.resolution = "480p"

    assert seen == [f"Estimated cost: $0.05/s {TIMES} 5 s = $0.25"]


def test_the_cost_shows_the_budget_left_after_a_check(service_for: MakeService) -> None:
    svc = service_for(budget_usd=2.0)
    draft = RequestDraft(svc)
    assert draft.cost.endswith("budget left: $2.00 of $2.00")

    svc.budget.spent_usd += 0.5
    draft.check()

    assert draft.cost.endswith("budget left: $1.50 of $2.00")


# -- the %%seedance cell ---------------------------------------------------------
def test_the_cell_has_every_choice_and_doubles_the_prompt_braces(draft: RequestDraft) -> None:
    draft.prompt = "a {red} fox"
    draft.media_urls = [PNG]
    draft.metadata = '{ "k" : 1 }'

    assert draft.cell == (
        "%%seedance -m seedance-2.0 -d 5 -a 16:9 -r 720p --media " + PNG
        + " --metadata '{\"k\": 1}'\na {{red}} fox"
    )
