"""``%%seedance`` and ``%seedance``: parse into a typed object, then dispatch to a handler.

Importing this module is cheap (IPython and traitlets only): the client,
requests, the widgets and the emulator load when a command first needs them.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import keyword
import shlex
import string
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.utils.text import DollarFormatter

from .. import messages
from ..catalog import ASPECT_RATIOS, DOCUMENTED_MODELS, RESOLUTIONS
from ..errors import LedgerUnavailableError
from ..paths import notebook_dir
from .config import SeedanceSettings
from .frontend import detect, shows_widgets

if TYPE_CHECKING:
    from pathlib import Path

    from ..jobs.handle import Job
    from ..jobs.ledger import JobRecord
    from .session import KernelSession
    from .tables import Cell, Table

__all__ = [
    "CellArgs", "SeedanceMagics", "expand_line", "interpolate", "load", "loaded_magics",
    "media_values", "prompt_text", "unload",
]


@dataclass(frozen=True)
class CellArgs:
    """The flags of one ``%%seedance`` cell, typed."""

    model: str | None = None
    duration: int | None = None
    aspect_ratio: str | None = None
    resolution: str | None = None
    media: tuple[str, ...] = ()
    webhook: str | None = None
    metadata: Mapping[str, Any] | None = None
    wait: bool = False
    cancel_on_interrupt: bool = False
    new: bool = False
    download: bool = True
    output: str | None = None


class _PromptFormatter(string.Formatter):
    """``{name}`` takes a notebook variable; nothing else is evaluated."""

    def __init__(self, namespace: Mapping[str, Any]) -> None:
        self.namespace = namespace

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, str]:
        if not field_name.isidentifier():
            raise UsageError(messages.BAD_PLACEHOLDER.format(field=field_name))
        if field_name not in self.namespace:
            raise UsageError(messages.UNDEFINED_VARIABLE.format(name=field_name))
        return self.namespace[field_name], field_name


def interpolate(template: str, namespace: Mapping[str, Any]) -> str:
    """Fill ``{name}`` from ``namespace``; ``{{`` and ``}}`` are literal braces."""
    try:
        return _PromptFormatter(namespace).vformat(template, (), {})
    except UsageError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise UsageError(messages.BAD_PLACEHOLDER.format(field=str(exc))) from None


def expand_line(line: str, namespace: Mapping[str, Any]) -> str:
    """A line command with its ``{expr}`` and ``$name`` filled in as IPython fills them;
    left as typed when they do not evaluate (IPython's rule too)."""
    try:
        return str(DollarFormatter().vformat(line, args=[], kwargs=namespace))
    except Exception:
        return line


def media_values(tokens: Iterable[str], namespace: Mapping[str, Any]) -> list[object]:
    """``--media`` tokens: ``{name}`` alone is the variable itself (an image, an array,
    a job, or a list of them); any other text has its ``{name}`` filled in."""
    values: list[object] = []
    for token in tokens:
        name = token[1:-1] if token.startswith("{") and token.endswith("}") else None
        if name is not None and name.isidentifier():
            if name not in namespace:
                raise UsageError(messages.UNDEFINED_VARIABLE.format(name=name))
            value = namespace[name]
            values.extend(value if isinstance(value, (list, tuple)) else [value])
        else:
            values.append(interpolate(token, namespace))
    return values


def prompt_text(cell: str) -> str:
    """The cell body without its ``#`` comment lines: an inserted cell's placeholder
    is a comment, so running it as is sends an empty prompt, which is refused."""
    kept = (line for line in cell.splitlines() if not line.lstrip().startswith("#"))
    return "\n".join(kept).strip()


def parse_metadata(text: str | None) -> Mapping[str, Any] | None:
    """``--metadata`` as a JSON object; anything else is one clear line."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(
            messages.BAD_METADATA_JSON.format(value=repr(text)[:80], detail=exc)
        ) from None
    if not isinstance(value, dict):
        raise UsageError(
            messages.BAD_METADATA_JSON.format(value=repr(text)[:80], detail="not an object")
        )
    return value


_DEFAULTS = SeedanceSettings()
# argparse %-formats each help string (``%(default)s``): a literal percent sign is ``%%``.
_MODEL_HELP = (
    f"Model id: {', '.join(m.id for m in DOCUMENTED_MODELS)} (%%seedance models lists the "
    f"live ones). Default: SeedanceMagics.default_model ({_DEFAULTS.default_model})."
)
_DURATION_HELP = (
    "Seconds of video: 4-15 (seedance-1.5-pro: 5 or 10). "
    f"Default: SeedanceMagics.default_duration ({_DEFAULTS.default_duration})."
)
_RATIO_HELP = (
    f"Aspect ratio: {', '.join(ASPECT_RATIOS)}. "
    f"Default: SeedanceMagics.default_aspect_ratio ({_DEFAULTS.default_aspect_ratio})."
)
_RESOLUTION_HELP = (
    f"Resolution: {', '.join(RESOLUTIONS)}. "
    f"Default: SeedanceMagics.default_resolution ({_DEFAULTS.default_resolution})."
)


@magics_class
class SeedanceMagics(Magics, SeedanceSettings):
    """The magics, which also carry the extension's settings (``%config SeedanceMagics``)."""

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._session: KernelSession | None = None
        #: Why nothing can be submitted (the ledger cannot be written), if so.
        self.unusable: str | None = None
        # Read at load, before a %cd can move it: videos land beside the notebook.
        self._folder = notebook_dir()
        self._shown: dict[int, int] = {}
        self._line_handlers: dict[str, Callable[[list[str]], Any]] = {
            "models": self._models,
            "jobs": self._jobs,
            "status": self._status,
            "cancel": self._cancel,
            "show": self._show,
            "resume": self._resume,
            "wait": self._wait,
            "reconcile": self._reconcile,
            "spend": self._spend,
            "form": self._form,
        }

    @property
    def session(self) -> KernelSession:
        """The kernel's session, created (and the backend started) on first use; refused,
        in the one line ``%load_ext`` printed, while the ledger cannot be written."""
        if self.unusable is not None:
            raise UsageError(self.unusable)
        if self._session is None:
            from .session import KernelSession

            self._session = KernelSession(
                self, folder=self._folder, frontend=detect(self.shell)
            )
        return self._session

    # -- the magic -------------------------------------------------------------------
    @magic_arguments()
    @argument("-m", "--model", help=_MODEL_HELP)
    @argument("-d", "--duration", type=int, help=_DURATION_HELP)
    @argument("-a", "--aspect-ratio", dest="aspect_ratio", help=_RATIO_HELP)
    @argument("-r", "--resolution", help=_RESOLUTION_HELP)
    @argument("--media", nargs="+", action="extend", default=[], metavar="REF",
              help="Up to 5 references (image-to-video): https URLs, file paths relative "
              "to the notebook's folder, last-frame:REQUEST_ID, or {name} of a variable "
              "holding a path, PIL image, NumPy uint8 array, bytes or finished job. Local "
              "media is published through media_store (or the server's public_url). "
              "Default: none (text-to-video).")
    @argument("--webhook", help="URL that receives the final result. Default: none.")
    @argument("--metadata", help="A JSON object stored with the request. Default: none.")
    @argument("--wait", action="store_true",
              help="Block until the job is finished (for scripts and Run All). "
              "Interrupting stops the waiting, not the job. Default: off.")
    @argument("--cancel-on-interrupt", dest="cancel_on_interrupt", action="store_true",
              help="With --wait: interrupting the cell also cancels the job. Default: off.")
    @argument("--new", action="store_true",
              help="Submit a new paid job even if an identical one exists. Default: off "
              "(an identical cell re-attaches at no charge).")
    @argument("--no-download", dest="no_download", action="store_true",
              help="Keep only the output URL (it expires); do not download the video. "
              "Default: off (SeedanceMagics.download).")
    @argument("-o", "--output", metavar="NAME", help="Also store the job in variable NAME.")
    @no_var_expand  # {name} in --media is the object itself, not its str(): see media_values
    @line_cell_magic
    def seedance(self, line: str, cell: str | None = None) -> Any:
        """Generate a video with Seedance; the cell body is the prompt.

        A prompt over one or more lines; {name} takes a variable from the notebook,
        {{ and }} are literal braces, and lines starting with # are comments (not sent).
        The cell returns at once with a live job card.

        Line form: %seedance models | jobs | status ID | cancel ID | show ID |
        resume | wait [--timeout S] | reconcile ID | spend | form
        """
        if cell is None:
            # no_var_expand (above) is for the cell's --media objects; the line form
            # expands as IPython would have ({expr}, $name), in the notebook's namespace.
            return self._dispatch_line(expand_line(line, self.shell.user_ns if self.shell else {}))
        return self._run_cell(self._parse_cell(line), cell)

    def _parse_cell(self, line: str) -> CellArgs:
        try:
            tokens = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%%seedance: {exc}") from None
        ns = self.seedance.parser.parse_args(tokens)
        if ns.output is not None and (
            not ns.output.isidentifier() or keyword.iskeyword(ns.output)
        ):
            raise UsageError(messages.BAD_OUTPUT_NAME.format(name=ns.output))
        return CellArgs(
            model=ns.model, duration=ns.duration, aspect_ratio=ns.aspect_ratio,
            resolution=ns.resolution, media=tuple(ns.media), webhook=ns.webhook,
            metadata=parse_metadata(ns.metadata), wait=ns.wait,
            cancel_on_interrupt=ns.cancel_on_interrupt, new=ns.new,
            download=not ns.no_download, output=ns.output,
        )

    def _run_cell(self, args: CellArgs, cell: str) -> Job | None:
        namespace = self.shell.user_ns if self.shell else {}
        prompt = interpolate(prompt_text(cell), namespace)
        session = self.session
        request = session.prepare(
            prompt, model=args.model, duration=args.duration, aspect_ratio=args.aspect_ratio,
            resolution=args.resolution, media=media_values(args.media, namespace),
            webhook_url=args.webhook, metadata=args.metadata,
        )
        submission = session.submit(
            request, force_new=args.new, download=args.download and self.download,
        )
        job = submission.job
        self.show_card(job, submission.notice, live=not args.wait)
        if args.output and self.shell is not None:
            self.shell.user_ns[args.output] = job
        if args.wait:
            self._settle(job, cancel=args.cancel_on_interrupt)
        # A terminal would print a bare "Out[n]:" for the returned job; -o NAME keeps it.
        return None if session.frontend == "terminal" else job

    def _settle(self, job: Job, *, cancel: bool) -> None:
        """Wait for ``job``; an interrupt stops the waiting (one line says so), not the job."""
        try:
            self.session.settle(job)
        except KeyboardInterrupt:
            text = messages.WAIT_INTERRUPTED
            if cancel and job.can_cancel:
                job.cancel()
                text = messages.WAIT_INTERRUPTED_CANCELLED
            usd = self.session.estimated_usd(job) or 0.0
            print(text.format(request_id=job.request_id, status=job.status, usd=usd))

    # -- display -------------------------------------------------------------------
    def show_card(self, job: Job, notice: str | None = None, *, live: bool = True) -> None:
        """Show a card for ``job`` once per cell run (the displayhook then skips it)."""
        count = self.shell.execution_count if self.shell else 0
        if self._shown.get(id(job)) == count:
            return
        self._shown[id(job)] = count
        self.session.card_for(job, notice).show(live=live)

    # -- line commands -------------------------------------------------------------
    def _dispatch_line(self, line: str) -> Any:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%seedance: {exc}") from None
        if not words:
            raise UsageError(messages.UNKNOWN_SUBCOMMAND.format(name=""))
        handler = self._line_handlers.get(words[0])
        if handler is None:
            raise UsageError(messages.UNKNOWN_SUBCOMMAND.format(name=words[0]))
        return handler(words)

    @staticmethod
    def _one_id(words: list[str]) -> str:
        if len(words) != 2:
            raise UsageError(messages.MISSING_ID.format(name=words[0]))
        return words[1]

    def _models(self, words: list[str]) -> Table:
        from .tables import Table

        catalog = self.session.backend.client.models.catalog()
        rows = []
        for info in catalog.models.values():
            prices = ", ".join(f"{r} ${p:g}/s" for r, p in info.usd_per_second.items())
            durations = f"{min(info.durations)}-{max(info.durations)}" if len(
                info.durations) > 2 else " or ".join(map(str, info.durations))
            rows.append((info.id, info.best_for, durations, prices))
        title = "Seedance models" + ("" if catalog.live else " (documented; /models unreachable)")
        return Table.of(title, ("model", "best for", "seconds", "price"), rows)

    def _jobs(self, words: list[str]) -> Table:
        from ..jobs.summary import JobSummary
        from .markup import truncate
        from .tables import Cell, Table

        now = time.time()
        rows = []
        ledger = self.session.ledger
        for r in ledger.jobs(limit=50, user=None if words[1:] == ["--team"] else ledger.user):
            summary = JobSummary.from_record(
                r, credits_per_usd=self.session.settings.credits_per_usd)
            prompt = " ".join(r.prompt.split())
            created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created_at))
            rows.append((
                r.request_id or f"({r.client_token})",
                Cell(truncate(prompt, _JOBS_PROMPT_CHARS), title=prompt),
                summary.status_label, summary.charge_label,
                Cell(messages.AGO.format(age=_age(now - r.created_at)), title=created),
                _video_cell(r, self._folder),
            ))
        return Table.of("Seedance jobs (newest first)",
                        ("request id", "prompt", "status", "cost", "submitted", "file"), rows)

    def _status(self, words: list[str]) -> Table:
        from .tables import Table

        job = self.session.get_job(self._one_id(words))
        if not job.done:
            job.refresh()
        error = f"{job.error.code}: {job.error.message}" if job.error else ""
        return Table.of(f"Seedance job {job.request_id}", ("status", "output", "error"),
                        [(job.status, job.local_path or job.output_url, error)])

    def _cancel(self, words: list[str]) -> Job | None:
        job = self.session.get_job(self._one_id(words))
        if job.done:
            print(messages.CANCEL_ALREADY_FINAL.format(
                request_id=job.request_id, status=job.status))
            return None
        job.cancel()
        return job

    def _show(self, words: list[str]) -> Job:
        return self.session.get_job(self._one_id(words))

    def _resume(self, words: list[str]) -> None:
        jobs = self.session.resume()
        print(messages.RESUMED.format(count=len(jobs)) if jobs else messages.NOTHING_TO_RESUME)
        for job in jobs:
            self.show_card(job)

    def _wait(self, words: list[str]) -> None:
        """Block until every unfinished job of this kernel is over and downloaded."""
        timeout = _wait_timeout(words[1:])
        if self._session is None or not self._session.unfinished():
            print(messages.WAIT_NOTHING)
            return
        session = self._session
        for job in session.settle_all(timeout):
            print(_outcome(job, timeout, downloading=session.download_pending(job)))

    def _reconcile(self, words: list[str]) -> Job:
        return self.session.reconcile(self._one_id(words))

    def _spend(self, words: list[str]) -> Table:
        from .tables import Table

        backend, ledger = self.session.backend, self.session.ledger
        team = words[1:] == ["--team"]
        rows = [
            (row.day, row.user_name or ledger.user, row.model, row.jobs, row.credits,
             f"${row.usd:.2f}", f"${row.uncertain_usd:.2f}" if row.uncertain_usd else "")
            for row in ledger.spend(backend=backend.key, user=None if team else ledger.user,
                                    per_user=team,
                                    credits_per_usd=self.session.settings.credits_per_usd)
        ]
        return Table.of(f"Seedance spend by day and model ({backend.label})",
                        ("day", "user", "model", "jobs", "credits", "usd", "uncertain"), rows)

    def _form(self, words: list[str]) -> Any:
        if not shows_widgets(self.session.frontend):
            raise UsageError(messages.FORM_NEEDS_NOTEBOOK)
        from .form import SeedanceForm

        return SeedanceForm(self.session)

    def at_exit(self) -> None:
        """At exit (kernel shutdown, IPython quitting): say if paid jobs still run, and
        give up their leases, so the server's watcher finishes them at once instead of
        waiting for the leases to expire.

        The line goes to the cell's stream and, in a kernel, to the process's own
        stdout too (the server's log), since no front end may be listening any more.
        """
        if self._session is None:
            return
        count = sum(1 for job in self._session.unfinished() if not job.done)
        if count:
            line = messages.UNFINISHED_AT_EXIT.format(count=count)
            for stream in {id(s): s for s in (sys.stdout, sys.__stdout__) if s}.values():
                with contextlib.suppress(ValueError, OSError):  # a closed stream at exit
                    print(line, file=stream, flush=True)
        self.close()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


_JOBS_PROMPT_CHARS = 40


def _video_cell(record: JobRecord, folder: Path) -> Cell:
    """A job's video, linked relative to this notebook only when the file is there
    (a job's path is relative to the folder its own kernel ran in)."""
    from ..paths import folder_of
    from .tables import Cell
    from .video import relative_src

    if not record.local_path:
        return Cell("")
    origin = folder_of(record.notebook) if record.notebook else folder
    video = origin / record.local_path
    if not video.is_file():
        return Cell(messages.JOBS_VIDEO_MISSING.format(path=record.local_path), title=str(video))
    try:
        shown = video.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return Cell(str(video))
    return Cell(shown, href=relative_src(shown))


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def _wait_timeout(words: list[str]) -> float | None:
    if not words:
        return None
    if len(words) == 2 and words[0] == "--timeout":
        try:
            timeout = float(words[1])
        except ValueError:
            pass
        else:
            if timeout >= 0:
                return timeout
    raise UsageError(messages.WAIT_USAGE)


def _outcome(job: Job, timeout: float | None, *, downloading: bool) -> str:
    """One line saying how a waited-for job ended (or that it has not yet)."""
    if not job.done:
        return messages.WAIT_STILL.format(
            request_id=job.request_id, status=job.status, timeout=timeout or 0
        )
    if job.status != "succeeded":
        error = f" ({job.error.code}: {job.error.message})" if job.error else ""
        return messages.WAIT_ENDED.format(
            request_id=job.request_id, status=job.status, error=error
        )
    if job.local_path:
        return messages.WAIT_SAVED.format(request_id=job.request_id, path=job.local_path)
    if downloading:
        return messages.WAIT_DOWNLOADING.format(request_id=job.request_id, timeout=timeout or 0)
    return messages.WAIT_SUCCEEDED.format(request_id=job.request_id, url=job.output_url)


def load(ipython: Any) -> None:
    """Register the magics, the Job display, and say if earlier jobs are unfinished."""
    magics = SeedanceMagics(shell=ipython, parent=ipython)
    ipython.register_magics(magics)
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)
    ipython.display_formatter.ipython_display_formatter.for_type_by_name(
        "seedance_jupyter.jobs.handle", "Job", magics.show_card
    )
    _extension[id(ipython)] = magics
    atexit.register(magics.at_exit)
    try:
        notices = _ledger_notices(magics.db_url)
    except LedgerUnavailableError as exc:
        magics.unusable = exc.message
        print(exc.message, file=sys.stdout)
        return
    for notice in notices:
        print(notice, file=sys.stdout)


def unload(ipython: Any) -> None:
    """Stop the session and forget the Job display, so nothing outlives the extension."""
    formatter = ipython.display_formatter.ipython_display_formatter
    formatter.pop("seedance_jupyter.jobs.handle.Job", None)
    magics = _extension.pop(id(ipython), None)
    if magics is not None:
        atexit.unregister(magics.at_exit)
        magics.close()


_extension: dict[int, SeedanceMagics] = {}


def loaded_magics(ipython: Any) -> SeedanceMagics | None:
    """The magics registered in ``ipython`` by ``%load_ext``, if any."""
    return _extension.get(id(ipython)) if ipython is not None else None


def _ledger_notices(db_url: str) -> list[str]:
    """What to say at load about the ledger: a corrupt file moved aside, a database
    server that cannot be reached (the magics then send nothing until it is back) or an
    unsafe file system; this user's unfinished jobs (succeeded ones whose video is not
    saved count), and submissions that may have been charged."""
    from ..jobs.backend import backend_key_from_env
    from ..jobs.ledger import Ledger

    ledger = Ledger(db_url or None)
    try:
        if ledger.unavailable is not None:
            return [ledger.unavailable]
        notices = [messages.LEDGER_MOVED_ASIDE.format(path=ledger.path, aside=ledger.moved_aside)
                   ] if ledger.moved_aside is not None else []
        if ledger.warning is not None:
            notices.append(ledger.warning)
        key = backend_key_from_env()
        rows = ledger.unfinished(key, user=ledger.user)
        unsaved = sum(1 for r in ledger.unsaved(key) if r.user_name == ledger.user)
    finally:
        ledger.close()
    with_id = sum(1 for r in rows if r.request_id)
    if with_id + unsaved:
        notices.append(messages.UNFINISHED_ON_LOAD.format(count=with_id + unsaved))
    if len(rows) > with_id:
        notices.append(messages.UNCERTAIN_ON_LOAD.format(count=len(rows) - with_id))
    return notices
