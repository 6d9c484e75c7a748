"""``%%seedance`` and ``%seedance``: parse into a typed object, then dispatch to a handler.

Importing this module is cheap (IPython and traitlets only): the client,
requests, the widgets and the emulator load when a command first needs them.
"""

from __future__ import annotations

import json
import keyword
import shlex
import string
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .. import messages
from ..paths import notebook_dir
from .config import SeedanceSettings

if TYPE_CHECKING:
    from ..jobs.handle import Job
    from .session import KernelSession
    from .tables import Table

__all__ = ["CellArgs", "SeedanceMagics", "interpolate", "load", "loaded_magics", "unload"]


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


@magics_class
class SeedanceMagics(Magics, SeedanceSettings):
    """The magics, which also carry the extension's settings (``%config SeedanceMagics``)."""

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._session: KernelSession | None = None
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
            "reconcile": self._reconcile,
            "spend": self._spend,
            "form": self._form,
        }

    @property
    def session(self) -> KernelSession:
        """The kernel's session, created (and the backend started) on first use."""
        if self._session is None:
            from .session import KernelSession

            self._session = KernelSession(self, folder=self._folder)
        return self._session

    # -- the magic -------------------------------------------------------------------
    @magic_arguments()
    @argument("-m", "--model", help="Model id (default: SeedanceMagics.default_model).")
    @argument("-d", "--duration", type=int, help="Seconds of video.")
    @argument("-a", "--aspect-ratio", dest="aspect_ratio", help="16:9, 9:16 or 1:1.")
    @argument("-r", "--resolution", help="480p, 720p or 1080p.")
    @argument("--media", nargs="+", action="extend", default=[], metavar="URL",
              help="Up to 5 reference image/video/audio URLs (image-to-video).")
    @argument("--webhook", help="URL that receives the final result.")
    @argument("--metadata", help="A JSON object stored with the request.")
    @argument("--wait", action="store_true",
              help="Block until the job is finished (for scripts and Run All).")
    @argument("--new", action="store_true",
              help="Submit a new paid job even if an identical one exists.")
    @argument("--no-download", dest="no_download", action="store_true",
              help="Keep only the output URL; do not download the video.")
    @argument("-o", "--output", metavar="NAME", help="Also store the job in variable NAME.")
    @line_cell_magic
    def seedance(self, line: str, cell: str | None = None) -> Any:
        """Generate a video with Seedance; the cell body is the prompt.

        A prompt over one or more lines; {name} takes a variable from the notebook,
        {{ and }} are literal braces. The cell returns at once with a live job card.

        Line form: %seedance models | jobs | status ID | cancel ID | show ID |
        resume | reconcile ID | spend | form
        """
        if cell is None:
            return self._dispatch_line(line)
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
            metadata=parse_metadata(ns.metadata), wait=ns.wait, new=ns.new,
            download=not ns.no_download, output=ns.output,
        )

    def _run_cell(self, args: CellArgs, cell: str) -> Job | None:
        prompt = interpolate(cell.strip(), self.shell.user_ns if self.shell else {})
        session = self.session
        request = session.prepare(
            prompt, model=args.model, duration=args.duration, aspect_ratio=args.aspect_ratio,
            resolution=args.resolution, media_urls=args.media, webhook_url=args.webhook,
            metadata=args.metadata,
        )
        submission = session.submit(
            request, force_new=args.new, download=args.download and self.download,
            announce=print,
        )
        job = submission.job
        self.show_card(job, submission.notice, live=not args.wait)
        if args.output and self.shell is not None:
            self.shell.user_ns[args.output] = job
        if args.wait:
            session.settle(job)
        return job

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
        from .tables import Table

        now = time.time()
        rows = [
            (r.request_id or f"({r.client_token})", r.prompt, r.status,
             f"${r.estimated_usd:.2f}", _age(now - r.created_at), r.local_path or "")
            for r in self.session.ledger.jobs(limit=50)
        ]
        return Table.of("Seedance jobs (newest first)",
                        ("request id", "prompt", "status", "cost", "age", "file"), rows)

    def _status(self, words: list[str]) -> Table:
        from .tables import Table

        job = self.session.get_job(self._one_id(words))
        if not job.done:
            job.refresh()
        error = f"{job.error.code}: {job.error.message}" if job.error else ""
        return Table.of(f"Seedance job {job.request_id}", ("status", "output", "error"),
                        [(job.status, job.local_path or job.output_url, error)])

    def _cancel(self, words: list[str]) -> Job:
        job = self.session.get_job(self._one_id(words))
        job.cancel()
        return job

    def _show(self, words: list[str]) -> Job:
        return self.session.get_job(self._one_id(words))

    def _resume(self, words: list[str]) -> None:
        jobs = self.session.resume()
        print(messages.RESUMED.format(count=len(jobs)) if jobs else messages.NOTHING_TO_RESUME)
        for job in jobs:
            self.show_card(job)

    def _reconcile(self, words: list[str]) -> Job:
        return self.session.reconcile(self._one_id(words))

    def _spend(self, words: list[str]) -> Table:
        from .tables import Table

        backend = self.session.backend
        rows = [
            (row.day, row.model, row.jobs, row.credits, f"${row.usd:.2f}",
             f"${row.uncertain_usd:.2f}" if row.uncertain_usd else "")
            for row in self.session.ledger.spend(backend=backend.key)
        ]
        return Table.of(f"Seedance spend by day and model ({backend.label})",
                        ("day", "model", "jobs", "credits", "usd", "uncertain"), rows)

    def _form(self, words: list[str]) -> Any:
        from .form import SeedanceForm

        return SeedanceForm(self.session)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


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
    unfinished, uncertain = _count_unfinished()
    if unfinished:
        print(messages.UNFINISHED_ON_LOAD.format(count=unfinished), file=sys.stdout)
    if uncertain:
        print(messages.UNCERTAIN_ON_LOAD.format(count=uncertain), file=sys.stdout)


def unload(ipython: Any) -> None:
    """Stop the session and forget the Job display, so nothing outlives the extension."""
    formatter = ipython.display_formatter.ipython_display_formatter
    formatter.pop("seedance_jupyter.jobs.handle.Job", None)
    magics = _extension.pop(id(ipython), None)
    if magics is not None:
        magics.close()


_extension: dict[int, SeedanceMagics] = {}


def loaded_magics(ipython: Any) -> SeedanceMagics | None:
    """The magics registered in ``ipython`` by ``%load_ext``, if any."""
    return _extension.get(id(ipython)) if ipython is not None else None


def _count_unfinished() -> tuple[int, int]:
    """Unfinished jobs with a request id, and submissions that may have been charged."""
    from ..jobs.backend import backend_key_from_env
    from ..jobs.ledger import Ledger

    ledger = Ledger()
    try:
        rows = ledger.unfinished(backend_key_from_env())
    finally:
        ledger.close()
    with_id = sum(1 for r in rows if r.request_id)
    return with_id, len(rows) - with_id
