"""%%seedance in a fresh InteractiveShell: parsing, interpolation, re-runs, errors, budget."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from seedance_jupyter.emulator import Emulator
from seedance_jupyter.errors import AmbiguousSubmitError, BudgetExceededError, ValidationError
from seedance_jupyter.jobs.handle import Job
from seedance_jupyter.kernel.magics import SeedanceMagics, interpolate, parse_metadata


@pytest.fixture
def shell(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("SEEDANCE_BASE_URL", emulator.url)
    monkeypatch.setenv("SEEDANCE_API_KEY", emulator.api_key)
    monkeypatch.setenv("SEEDANCE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "seedance_jupyter")
    try:
        yield shell
    finally:
        shell.run_line_magic("unload_ext", "seedance_jupyter")
        InteractiveShell.clear_instance()


def magics(shell: InteractiveShell) -> SeedanceMagics:
    found = shell.magics_manager.registry["SeedanceMagics"]
    assert isinstance(found, SeedanceMagics)
    return found


def creates(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.method == "POST"
               and r.path.endswith("/generations"))


def test_interpolate_takes_variables_and_keeps_doubled_braces() -> None:
    assert interpolate("a {animal} in {{braces}}", {"animal": "fox"}) == "a fox in {braces}"


def test_interpolate_names_an_undefined_variable() -> None:
    with pytest.raises(UsageError, match=r"\{missing\}"):
        interpolate("a {missing}", {})


@pytest.mark.parametrize("template", ["a {0}", "a {x.__class__}", "a {x[0]}", "a {", "a }"])
def test_interpolate_refuses_anything_but_a_name(template: str) -> None:
    with pytest.raises(UsageError, match="prompt"):
        interpolate(template, {"x": "y"})


def test_metadata_must_be_a_json_object() -> None:
    assert parse_metadata('{"a": [1, 2]}') == {"a": [1, 2]}
    with pytest.raises(UsageError, match="metadata"):
        parse_metadata("[1]")
    with pytest.raises(UsageError, match="metadata"):
        parse_metadata("{oops")


def test_parse_cell_line_honours_quotes_and_repeated_media(shell: InteractiveShell) -> None:
    args = magics(shell)._parse_cell(
        "-m seedance-2.0-fast -d 6 -a 1:1 --media https://a.com/x.png "
        "--media 'https://a.com/y z.png' --metadata '{\"k\": \"v w\"}' --wait --new "
        "--no-download -o clip"
    )
    assert args.model == "seedance-2.0-fast" and args.duration == 6
    assert args.aspect_ratio == "1:1"
    assert args.media == ("https://a.com/x.png", "https://a.com/y z.png")
    assert args.metadata == {"k": "v w"}
    assert args.wait and args.new and not args.download and args.output == "clip"


def test_a_bad_flag_is_one_usage_error(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError):
        magics(shell)._parse_cell("--durration 5")


def test_cell_returns_the_job_and_stores_it_under_o(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    job = shell.run_cell_magic("seedance", "-d 4 -r 480p -o clip", "a paper boat")
    assert isinstance(job, Job)
    assert shell.user_ns["clip"] is job
    assert job.request is not None and job.request.prompt == "a paper boat"


def test_cell_body_interpolates_notebook_variables(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    shell.user_ns["colour"] = "crimson"
    shell.run_cell_magic("seedance", "-d 4 -r 480p", "a {colour} kite, {{not a var}}")
    body = next(r.body for r in emulator.requests if r.method == "POST")
    assert body["prompt"] == "a crimson kite, {not a var}"


def test_rerunning_an_identical_cell_reattaches_without_a_second_post(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    first = shell.run_cell_magic("seedance", "-d 4 -r 480p", "a paper boat")
    second = shell.run_cell_magic("seedance", "-d 4 -r 480p", "a  paper boat\n")
    assert second is first
    assert creates(emulator) == 1


def test_new_forces_a_second_paid_job(shell: InteractiveShell, emulator: Emulator) -> None:
    first = shell.run_cell_magic("seedance", "-d 4 -r 480p", "a paper boat")
    second = shell.run_cell_magic("seedance", "-d 4 -r 480p --new", "a paper boat")
    assert second is not first
    assert creates(emulator) == 2


def test_wait_returns_a_finished_job_with_its_video_on_disk(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    job = shell.run_cell_magic("seedance", "-d 4 -r 480p --wait", "a quick one")
    assert job.status == "succeeded"
    assert job.local_path is not None and (tmp_path / job.local_path).stat().st_size > 0


def test_no_download_keeps_only_the_url(shell: InteractiveShell) -> None:
    job = shell.run_cell_magic("seedance", "-d 4 -r 480p --wait --no-download", "url only")
    assert job.status == "succeeded" and job.output_url and job.local_path is None


def test_invalid_flags_value_is_refused_before_any_post(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    with pytest.raises(ValidationError, match="duration"):
        shell.run_cell_magic("seedance", "-m seedance-1.5-pro -d 7", "x")
    assert creates(emulator) == 0


def test_six_media_urls_are_refused_in_one_line_that_counts_them(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    urls = " ".join(f"https://cdn.example.com/frame{n}.png" for n in range(6))
    with pytest.raises(ValidationError) as caught:
        shell.run_cell_magic("seedance", f"--media {urls}", "a fox")
    [shown] = caught.value._render_traceback_()
    assert shown == (
        "ValidationError: media: you gave 6; give at most 5 references "
        "(images, videos and audio together)."
    )
    assert creates(emulator) == 0


def test_a_media_url_without_an_extension_is_refused_saying_why(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    with pytest.raises(ValidationError) as caught:
        shell.run_cell_magic("seedance", "--media https://cdn.example.com/photo?w=800", "a fox")
    [shown] = caught.value._render_traceback_()
    assert "\n" not in shown
    assert shown.startswith(
        "ValidationError: media_urls: 'https://cdn.example.com/photo?w=800' is not allowed; "
        "its path has no file extension, and the service tells an image, a video and an "
        "audio reference apart by it;"
    )
    assert creates(emulator) == 0


def test_budget_refuses_a_job_that_would_pass_it(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    magics(shell).budget_usd = 0.3
    shell.run_cell_magic("seedance", "-d 4 -r 480p", "first")  # $0.20
    with pytest.raises(BudgetExceededError, match="budget"):
        shell.run_cell_magic("seedance", "-d 4 -r 480p", "second")
    assert creates(emulator) == 1


def test_config_magic_changes_the_default_model(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    shell.run_line_magic("config", 'SeedanceMagics.default_model = "seedance-2.0-fast"')
    shell.run_cell_magic("seedance", "-d 4 -r 480p", "configured")
    body = next(r.body for r in emulator.requests if r.method == "POST")
    assert body["model"] == "seedance-2.0-fast"


def test_an_uncertain_submission_is_recorded_and_not_resent(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    emulator.inject("create", status=500)
    with pytest.raises(AmbiguousSubmitError):
        shell.run_cell_magic("seedance", "-d 4 -r 480p", "lost answer")
    with pytest.raises(AmbiguousSubmitError, match="--new"):
        shell.run_cell_magic("seedance", "-d 4 -r 480p", "lost answer")
    assert creates(emulator) == 1
    rows = magics(shell).session.ledger.unfinished()
    assert [r.status for r in rows] == ["submission_uncertain"]


def test_jobs_and_spend_tables_list_the_ledger(shell: InteractiveShell) -> None:
    shell.run_cell_magic("seedance", "-d 4 -r 480p --wait", "<b>bold</b> prompt")
    jobs = shell.run_line_magic("seedance", "jobs")
    assert "&lt;b&gt;bold&lt;/b&gt;" in jobs._repr_html_()
    assert "succeeded" in repr(jobs)
    spend = shell.run_line_magic("seedance", "spend")
    assert "seedance-2.0" in repr(spend)


def test_jobs_and_spend_are_the_users_own_unless_the_team_is_asked_for(
    shell: InteractiveShell,
) -> None:
    from seedance_jupyter.catalog import GenerationRequest
    from seedance_jupyter.jobs.ledger import Ledger

    shell.run_cell_magic("seedance", "-d 4 -r 480p --wait", "my own take")
    session = magics(shell).session
    with Ledger(session.ledger.url, user="colleague-ben") as ben:
        ben.claim(client_token="ben-1", backend=session.backend.key,
                  request=GenerationRequest("bens take", duration=5, resolution="720p"),
                  fingerprint="ben", estimated_usd=0.5)
    assert "bens take" not in repr(shell.run_line_magic("seedance", "jobs"))
    assert "bens take" in repr(shell.run_line_magic("seedance", "jobs --team"))
    assert "colleague-ben" not in repr(shell.run_line_magic("seedance", "spend"))
    assert "colleague-ben" in repr(shell.run_line_magic("seedance", "spend --team"))


def test_spend_counts_what_the_service_charged_at_credits_per_usd(
    shell: InteractiveShell,
) -> None:
    shell.run_line_magic("config", "SeedanceMagics.credits_per_usd = 20")
    shell.run_cell_magic("seedance", "-d 4 -r 480p", "charged, not estimated")
    spend = repr(shell.run_line_magic("seedance", "spend"))
    assert "$0.80" in spend  # the emulator charges 16 credits for this $0.20 job


def test_models_table_shows_prices(shell: InteractiveShell) -> None:
    table = shell.run_line_magic("seedance", "models")
    assert "720p $0.1/s" in repr(table)


def test_unknown_subcommand_lists_the_known_ones(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="models, jobs"):
        shell.run_line_magic("seedance", "dance")


def test_cancel_subcommand_cancels_a_running_job(shell: InteractiveShell) -> None:
    job = shell.run_cell_magic("seedance", "-d 15 -r 1080p", "a long one")
    cancelled = shell.run_line_magic("seedance", f"cancel {job.request_id}")
    assert cancelled.status == "cancelled"


def test_a_line_command_fills_in_a_notebook_variable(shell: InteractiveShell) -> None:
    job = shell.run_cell_magic("seedance", "-d 15 -r 1080p", "a long one")
    shell.user_ns["rid"] = job.request_id
    cancelled = shell.run_line_magic("seedance", "cancel {rid}")
    assert cancelled.request_id == job.request_id


def test_a_line_command_fills_in_an_expression_as_ipython_does(shell: InteractiveShell) -> None:
    job = shell.run_cell_magic("seedance", "-d 15 -r 1080p", "a long one")
    shell.user_ns["clip"] = job
    cancelled = shell.run_line_magic("seedance", "cancel {clip.request_id}")
    assert cancelled.request_id == job.request_id


def test_status_of_an_unknown_job_is_one_clear_error(shell: InteractiveShell) -> None:
    from seedance_jupyter.errors import NotFoundError

    with pytest.raises(NotFoundError):
        shell.run_line_magic("seedance", "status req_nope")


def test_a_finished_card_carries_a_poster_frame(shell: InteractiveShell) -> None:
    job = shell.run_cell_magic("seedance", "-d 4 -r 480p --wait", "a poster please")
    [card] = [c for c in magics(shell).session._cards if c.job is job]
    saved = card.saved_bundle()["text/html"]
    assert 'poster="data:image/jpeg;base64,' in saved
    assert job.local_path is not None and job.local_path in saved


def test_the_submitting_line_is_part_of_the_card_not_printed(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell_magic("seedance", "-d 4 -r 480p", "quietly")
    out = capsys.readouterr().out
    assert "Submitting" not in out
    assert out.startswith("Seedance job req_")
    assert "est. $0.20" in out.splitlines()[0]


def test_interrupting_a_wait_prints_one_line_and_the_job_goes_on(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(job: Job, timeout: float | None = None) -> Job:
        raise KeyboardInterrupt

    monkeypatch.setattr(magics(shell).session, "settle", interrupted)
    job = shell.run_cell_magic("seedance", "-d 15 -r 480p --wait", "a long wait")
    card, _prompt, line = capsys.readouterr().out.splitlines()
    assert card.startswith(f"Seedance job {job.request_id}")
    assert line.startswith(f"Stopped waiting; job {job.request_id} goes on")
    assert "est. $0.75" in line and f"%seedance cancel {job.request_id}" in line
    assert not job.done


def test_cancel_on_interrupt_cancels_the_job(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(job: Job, timeout: float | None = None) -> Job:
        raise KeyboardInterrupt

    monkeypatch.setattr(magics(shell).session, "settle", interrupted)
    job = shell.run_cell_magic(
        "seedance", "-d 15 -r 480p --wait --cancel-on-interrupt", "cancel me on ^C"
    )
    assert job.status == "cancelled"
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith(f"Stopped waiting and cancelled job {job.request_id}")


def test_cancelling_a_finished_job_answers_locally(
    shell: InteractiveShell, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    job = shell.run_cell_magic("seedance", "-d 4 -r 480p --wait", "already done")
    capsys.readouterr()
    assert shell.run_line_magic("seedance", f"cancel {job.request_id}") is None
    assert capsys.readouterr().out.strip() == (
        f"Job {job.request_id} is already succeeded; there is nothing to cancel."
    )
    assert not any(r.path.endswith("/cancel") for r in emulator.requests)


def test_help_gives_each_flag_its_default_and_allowed_values(shell: InteractiveShell) -> None:
    doc = " ".join(magics(shell).seedance.__doc__.split())
    assert "480p, 720p, 1080p. Default: SeedanceMagics.default_resolution (720p)" in doc
    assert "16:9, 9:16, 1:1. Default: SeedanceMagics.default_aspect_ratio (16:9)" in doc
    assert "Default: SeedanceMagics.default_duration (5)" in doc
    assert "--cancel-on-interrupt" in doc


def test_every_flags_help_renders_as_its_plain_text(shell: InteractiveShell) -> None:
    parser = magics(shell).seedance.parser
    doc = magics(shell).seedance.__doc__
    assert "option_strings" not in doc and "argparse" not in doc
    # argparse wraps lines, also at hyphens: compare without any whitespace.
    flat = "".join(doc.split())
    for action in parser._actions:
        if action.help:
            assert "".join(action.help.replace("%%", "%").split()) in flat, action.dest
    assert "(%seedancemodelsliststheliveones)" in flat


def test_jobs_table_shortens_prompts_links_files_and_gives_relative_ages(
    shell: InteractiveShell,
) -> None:
    prompt = "a very long prompt about a paper boat drifting down a rain gutter at dusk"
    job = shell.run_cell_magic("seedance", "-d 4 -r 480p --wait", prompt)
    out = shell.run_line_magic("seedance", "jobs")._repr_html_()
    assert f'title="{prompt}"' in out
    assert f'<a href="{job.local_path}"' in out
    assert re.search(r"<td title=\"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\">\d+ s ago</td>", out)


def test_jobs_table_does_not_link_a_video_that_is_gone(shell: InteractiveShell) -> None:
    job = shell.run_cell_magic("seedance", "-d 4 -r 480p --wait", "a kite over dunes, then deleted")
    assert job.local_path
    (magics(shell)._folder / job.local_path).unlink()
    out = shell.run_line_magic("seedance", "jobs")._repr_html_()
    assert f'<a href="{job.local_path}"' not in out
    assert f"{job.local_path} (not found)" in out


def test_jobs_table_gives_the_charge_the_service_reported(shell: InteractiveShell) -> None:
    job = shell.run_cell_magic("seedance", "-d 4 -r 480p --wait", "a kite, its charge listed")
    out = shell.run_line_magic("seedance", "jobs")._repr_html_()
    assert f"<td>{job.credits_charged} credits charged</td>" in out


def test_a_user_facing_error_has_no_internal_suffixes(shell: InteractiveShell) -> None:
    magics(shell).budget_usd = 0.1
    with pytest.raises(BudgetExceededError) as caught:
        shell.run_cell_magic("seedance", "-d 4 -r 720p", "too dear")
    [shown] = caught.value._render_traceback_()
    assert "[budget" not in shown and "(HTTP" not in shown
    assert shown.startswith("BudgetExceededError: Budget: this job costs about $0.40")


@pytest.mark.parametrize("name", ["not a name", "1st", "class", "a-b"])
def test_an_output_that_is_not_a_variable_name_is_refused_before_paying(
    shell: InteractiveShell, emulator: Emulator, name: str
) -> None:
    before = creates(emulator)
    with pytest.raises(UsageError, match="variable name"):
        shell.run_cell_magic("seedance", f"-o '{name}'", "a kite")
    assert creates(emulator) == before


def test_a_lone_surrogate_in_the_prompt_is_one_clear_error(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    before = creates(emulator)
    with pytest.raises(ValidationError, match="prompt"):
        shell.run_cell_magic("seedance", "", "a kite \ud83d")
    assert creates(emulator) == before


def test_load_says_when_a_submission_may_have_been_charged_without_an_answer(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from seedance_jupyter.catalog import GenerationRequest
    from seedance_jupyter.jobs.ledger import Ledger

    monkeypatch.setenv("SEEDANCE_BASE_URL", emulator.url)
    monkeypatch.setenv("SEEDANCE_API_KEY", emulator.api_key)
    monkeypatch.setenv("SEEDANCE_HOME", str(tmp_path / "home"))
    with Ledger(tmp_path / "home" / "ledger.sqlite3") as ledger:
        ledger.claim(client_token="sjt_crash", backend=emulator.url,
                     request=GenerationRequest("a kite"), fingerprint="f", estimated_usd=0.5,
                     reuse=False)
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "seedance_jupyter")
        assert "may have been charged" in capsys.readouterr().out
    finally:
        shell.run_line_magic("unload_ext", "seedance_jupyter")
        InteractiveShell.clear_instance()
