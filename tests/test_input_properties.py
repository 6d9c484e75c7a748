"""Every input surface, fed random values: only clear errors, never a traceback from inside."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError

from seedance_jupyter.catalog import Catalog
from seedance_jupyter.errors import SeedanceError
from seedance_jupyter.jobs.backend import Backend
from seedance_jupyter.jobs.client import Client
from seedance_jupyter.jobs.ledger import Ledger
from seedance_jupyter.kernel.config import SeedanceSettings
from seedance_jupyter.kernel.form import SeedanceForm
from seedance_jupyter.kernel.magics import SeedanceMagics, interpolate, parse_metadata
from seedance_jupyter.kernel.markup import esc
from seedance_jupyter.kernel.session import KernelSession
from seedance_jupyter.messages import FORM_SUBMIT_TOOLTIP

CLEAR = (UsageError, SeedanceError)
PARSER = SeedanceMagics(shell=None)
flag_words = st.sampled_from(
    ["-m", "-d", "-a", "-r", "--media", "--webhook", "--metadata", "--wait", "--new",
     "--no-download", "-o", "seedance-2.0", "16:9", "720p", "5", "'", '"', "{", "}",
     "https://a.com/x.png", "--", "-x", "{\"k\": 1}", "\\"]
)


def raised(action: Callable[[], object]) -> BaseException | None:
    """The exception ``action`` raised, if any (an unexpected one fails the test there)."""
    try:
        action()
    except CLEAR as exc:
        return exc
    return None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(flag_words, max_size=8).map(" ".join)))
def test_the_magic_line_gives_a_typed_object_or_one_usage_error(line: str) -> None:
    raised(lambda: PARSER._parse_cell(line))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab {}!:.[]0x_"), max_size=40))
def test_prompt_interpolation_gives_text_or_one_usage_error(template: str) -> None:
    error = raised(lambda: interpolate(template, {"x": "fox", "ab": 3}))
    assert error is None or (isinstance(error, UsageError) and str(error).startswith("prompt"))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.sampled_from(["{}", "[]", "null", "1", '{"a": NaN}'])))
def test_metadata_json_gives_an_object_or_one_usage_error(text: str) -> None:
    error = raised(lambda: parse_metadata(text))
    assert error is None or (isinstance(error, UsageError) and str(error).startswith("metadata"))


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeedanceForm]:
    """A form on a session whose service is unreachable: typing must never need it."""
    tmp = tmp_path_factory.mktemp("form")
    client = Client(api_key="k", base_url="http://127.0.0.1:9", max_retries=0)
    client._catalog = Catalog.documented()
    session = KernelSession(
        SeedanceSettings(download_dir=str(tmp / "videos")),
        backend=Backend(client, "http://127.0.0.1:9", "emulator", True),
        ledger=Ledger(tmp / "ledger.sqlite3"),
    )
    try:
        yield SeedanceForm(session)
    finally:
        session.close()


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prompt=st.text(max_size=40), media=st.text(max_size=40), webhook=st.text(max_size=30),
       metadata=st.text(max_size=30))
def test_form_fields_take_any_text_and_explain_what_is_wrong(
    form: SeedanceForm, prompt: str, media: str, webhook: str, metadata: str
) -> None:
    form.prompt.value = prompt
    form.media[0].value = media
    form.webhook_url.value = webhook
    form.metadata.value = metadata
    reason = form.draft.reason
    assert form.submit_button.disabled == (reason is not None)
    assert form.submit_button.tooltip == (reason or FORM_SUBMIT_TOOLTIP)
    # Shown once: beside Submit only for a field without a line of its own.
    assert not form.reason_line.value or esc(reason or "") in form.reason_line.value


def any_value() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.integers(), st.text(max_size=10), st.booleans())


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prompt=any_value(), duration=any_value(), model=any_value())
def test_form_defaults_are_checked_with_one_clear_error(
    form: SeedanceForm, prompt: Any, duration: Any, model: Any
) -> None:
    raised(lambda: SeedanceForm(form._session, prompt=prompt, duration=duration, model=model))
