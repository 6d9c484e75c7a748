"""Create bodies are checked against the emulator's own contract.json, never the client's."""

from __future__ import annotations

from typing import Any

import pytest

from seedance_jupyter.emulator import Emulator
from seedance_jupyter.emulator.contract import CREATE_SCHEMA
from seedance_jupyter.emulator.pricing import EMULATOR_MODELS
from seedance_jupyter.emulator.schema import SchemaError, check_schema, validate

from . import api
from .api import T2V

HTTPS_PNG = "https://example.com/a.png"


def refusal(emulator: Emulator, body: Any) -> str:
    """The message of the 400 ``invalid_request`` answer to ``body`` (no job made)."""
    answer = api.create(emulator, body)
    assert answer.status_code == 400
    envelope = answer.json()
    assert set(envelope) == {"success", "error"}
    assert envelope["success"] is False
    assert envelope["error"]["code"] == "invalid_request"
    assert emulator.list_jobs() == []
    message: str = envelope["error"]["message"]
    return message


def test_schema_enums_match_the_catalogue() -> None:
    properties = CREATE_SCHEMA["properties"]
    assert set(properties["aspectRatio"]["enum"]) == {
        ratio for model in EMULATOR_MODELS for ratio in model.aspect_ratios}
    assert set(properties["resolution"]["enum"]) == {
        res for model in EMULATOR_MODELS for res in model.resolutions}
    durations = {d for model in EMULATOR_MODELS for d in model.durations}
    assert (properties["duration"]["minimum"], properties["duration"]["maximum"]) == (
        min(durations), max(durations))


def test_a_schema_keyword_the_validator_does_not_know_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        check_schema({"type": "string", "format": "uri"})


def test_validator_names_the_path_of_a_nested_value() -> None:
    schema = {"type": "object",
              "properties": {"a": {"type": "array", "items": {"type": "integer"}}}}
    with pytest.raises(SchemaError, match=r"^a\[1\]: expected an integer, got a string\.$"):
        validate({"a": [1, "2"]}, schema)


@pytest.mark.parametrize("duration", [5, 10])
def test_seedance_1_5_pro_takes_5_or_10_seconds(emulator: Emulator, duration: int) -> None:
    answer = api.create(emulator, {**T2V, "model": "seedance-1.5-pro", "duration": duration})
    assert answer.status_code == 200


@pytest.mark.parametrize("duration", [4, 7, 15])
def test_seedance_1_5_pro_refuses_other_durations(emulator: Emulator, duration: int) -> None:
    body = {**T2V, "model": "seedance-1.5-pro", "duration": duration}
    assert refusal(emulator, body).startswith("duration: ")


@pytest.mark.parametrize(
    ("change", "start"),
    [
        ({"model": "seedance-3"}, "model: "),
        ({"prompt": "   "}, "prompt: "),
        ({"duration": 5.0}, "duration: expected an integer, got a number"),
        ({"duration": None}, "duration: expected an integer, got null"),
        ({"duration": True}, "duration: expected an integer, got a boolean"),
        ({"mediaUrls": []}, "mediaUrls: needs at least 1 items"),
        ({"mediaUrls": [HTTPS_PNG] * 6}, "mediaUrls: takes at most 5 items"),
        ({"mediaUrls": ["http://example.com/a.png"]}, "mediaUrls[0]: "),
        ({"mediaUrls": ["https://example.com/a.txt"]}, "mediaUrls[0]: "),
        ({"webhookUrl": "ftp://example.com/hook"}, "webhookUrl: "),
        ({"metadata": ["not", "an", "object"]}, "metadata: expected an object"),
        ({"media_urls": [HTTPS_PNG]}, "media_urls: unknown field"),
    ],
)
def test_a_body_off_the_contract_is_refused_naming_the_field(
    emulator: Emulator, change: dict[str, Any], start: str
) -> None:
    assert refusal(emulator, {**T2V, **change}).startswith(start)


def test_a_missing_prompt_is_refused(emulator: Emulator) -> None:
    assert refusal(emulator, {"model": "seedance-2.0"}) == "prompt: required."


def test_a_body_that_is_not_an_object_is_refused(emulator: Emulator) -> None:
    refusal(emulator, ["model", "prompt"])


def test_five_https_media_urls_of_known_kinds_are_accepted(emulator: Emulator) -> None:
    urls = [f"https://example.com/ref{n}{ext}" for n, ext in
            enumerate([".jpg", ".PNG", ".mp4", ".mov", ".wav"])]
    assert api.create(emulator, {**T2V, "mediaUrls": urls}).status_code == 200


def test_the_emulators_own_loopback_samples_are_accepted(emulator: Emulator) -> None:
    body = {**T2V, "mediaUrls": [emulator.sample_url("rings")]}
    assert api.create(emulator, body).status_code == 200
