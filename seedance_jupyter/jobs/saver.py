"""Saving finished videos: one download per job, in a pool of its own, retried.

Downloads outlive the output URL's expiry only once they are on disk, so every
succeeded job is fetched (unless the cell said ``--no-download``) by whichever
process holds its lease; an expired URL is fetched again, a failed body retried.
A video that could not be saved stays unfinished work: the ledger says why (the
card and the panel show it), and ``%seedance resume`` or the server's watcher
try again. Closing stops every download within a fraction of a second; a whole
file is recorded first, a cut one keeps its ``.part`` for a ranged resume.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .. import messages
from ..errors import DownloadError, OutputExpiredError, SeedanceError
from ..retry import Backoff
from .downloads import DownloadStopped, Stop, discard_part, download, output_filename
from .handle import Job
from .leases import Leases
from .ledger import LEDGER_ERRORS, JobRecord, Ledger
from .settings import ServiceSettings

__all__ = ["Saver"]

_DOWNLOAD_ATTEMPTS = 3
_DOWNLOAD_BACKOFF = Backoff(base=0.5, cap=4.0)
#: How long closing waits for stopped downloads to finish recording what is whole.
_CLOSE_WAIT_S = 2.0
#: Seconds between two renewals of a job's lease while its video downloads.
_RENEW_EVERY_S = 5.0


class Saver:
    """Downloads the videos of one backend's jobs into the folders their notebooks ran in."""

    def __init__(
        self,
        settings: ServiceSettings,
        ledger: Ledger,
        backend: str,
        *,
        folder_of: Callable[[str], Path],
        notice: Callable[[Job, str], None],
        leases: Leases | None,
    ) -> None:
        """``folder_of(request_id)``: the folder a job's relative paths start from."""
        self.settings = settings
        self.ledger = ledger
        self.backend = backend
        self.folder_of = folder_of
        self.notice = notice
        self.leases = leases
        self._downloads: dict[str, concurrent.futures.Future[None]] = {}
        self._skipped: set[str] = set()
        self._lock = threading.Lock()
        self._stop = Stop()
        # Its own threads: slow downloads never delay a Cancel, nor a ledger retry.
        self._fetches = _DaemonPool(2, "seedance-download")

    def skip(self, request_id: str) -> None:
        """Never download this job's video (``--no-download``), here or in another process."""
        self._skipped.add(request_id)
        with contextlib.suppress(*LEDGER_ERRORS):  # a locked ledger: this process skips it
            self.ledger.record_no_download(request_id, backend=self.backend)

    def saved(self, record: JobRecord | None) -> bool:
        """True when the row names a downloaded file that is still there."""
        if record is None or not record.local_path or record.request_id is None:
            return False
        return (self.folder_of(record.request_id) / record.local_path).exists()

    def pending(self, job: Job) -> bool:
        """True while a finished job's video is still to be downloaded."""
        if job.status != "succeeded" or job.local_path or not job.output_url:
            return False
        if job.request_id in self._skipped or not self.settings.download:
            return False
        with self._lock:
            future = self._downloads.get(job.request_id)
        return future is None or not future.done()

    def on_done(self, job: Job) -> None:
        """A job finished: download it under its lease, then give the lease up."""
        if self.leases is not None and not self.leases.take(job):
            return  # whoever holds the lease downloads it
        future = self.ensure(job)
        if self.leases is None:
            return
        leases = self.leases
        if future is None:
            leases.release(job)
        else:
            future.add_done_callback(lambda _done: leases.release(job))

    def ensure(self, job: Job) -> concurrent.futures.Future[None] | None:
        """The job's download, started if none runs and its video is not saved yet;
        None when there is none to do (or this saver is closed)."""
        if job.status != "succeeded" or not job.output_url:
            return None
        if job.request_id in self._skipped or not self.settings.download:
            return None
        with self._lock:
            future = self._downloads.get(job.request_id)
            if future is None or (future.done() and job.local_path is None):
                if self._stop.is_set():
                    return None
                future = self._fetches.submit(lambda: self._download(job))
                self._downloads[job.request_id] = future
        return future

    def close(self) -> None:
        """Stop every download now: those not started are dropped, running ones are cut
        (their ``.part`` kept for a resume), and a file already whole is recorded
        before this returns, so the ledger names what is on disk."""
        self._stop.set()
        with self._lock:
            futures = list(self._downloads.values())
        running = [future for future in futures if not future.cancel() and not future.done()]
        concurrent.futures.wait(running, timeout=_CLOSE_WAIT_S)

    def _download(self, job: Job) -> None:
        from .poster import poster_data_uri

        folder = self.folder_of(job.request_id)
        if job.local_path and (folder / job.local_path).exists():
            return
        record = self.ledger.get(job.request_id, backend=self.backend)
        if record is not None and self.saved(record):
            job.local_path = record.local_path  # another process downloaded it
            job.notify()
            return
        if record is not None and record.no_download:
            return
        dest = folder / self.settings.download_dir / output_filename(job.request_id)
        try:
            path = self._fetch(job, dest)
        except DownloadStopped:
            return  # closing: the .part stays, and the next process resumes it
        except SeedanceError as exc:
            self._give_up(job, dest, exc)
            return
        if path is None:
            return
        job.local_path = _display_path(path, folder)
        job.poster_data_uri = poster_data_uri(path)
        self.ledger.record_download(
            job.request_id, job.local_path, backend=self.backend,
            releasing=None if self.leases is None else self.leases.owner,
        )
        job.notify()

    def _fetch(self, job: Job, dest: Path) -> Path | None:
        """The saved file, after up to three tries (an expired URL fetched afresh)."""
        renew = self._renewal(job)
        for attempt in range(_DOWNLOAD_ATTEMPTS):
            url = job.output_url
            if url is None:
                return None
            try:
                return download(url, dest, stop=self._stop, progress=renew)
            except DownloadStopped:
                raise
            except OutputExpiredError as exc:
                failure: DownloadError = exc
                try:
                    job.refresh()
                except SeedanceError as refresh_failure:
                    raise _Unrefreshable(refresh_failure.message) from None
            except DownloadError as exc:
                failure = exc
                if self._stop.wait(_DOWNLOAD_BACKOFF.delay(attempt, jitter=False)):
                    raise DownloadStopped(exc.message) from None
        raise failure

    def _give_up(self, job: Job, dest: Path, failure: SeedanceError) -> None:
        """Say why the video was not saved (card, ledger, panel); the job stays to be saved."""
        discard_part(dest)
        if isinstance(failure, _Unrefreshable):
            text = messages.OUTPUT_NOT_REFRESHED.format(detail=failure.message)
        else:
            text = messages.DOWNLOAD_FAILED.format(detail=failure.message)
        with contextlib.suppress(*LEDGER_ERRORS):
            self.ledger.record_save_failed(
                job.request_id, text, backend=self.backend,
                releasing=None if self.leases is None else self.leases.owner,
            )
        self.notice(job, text)

    def _renewal(self, job: Job) -> Callable[[], None] | None:
        """Keeps the job's lease while its video downloads, so no other process starts
        the same download meanwhile (at most every few seconds)."""
        leases = self.leases
        if leases is None:
            return None
        last = time.monotonic()

        def renew() -> None:
            nonlocal last
            if time.monotonic() - last >= _RENEW_EVERY_S:
                last = time.monotonic()
                with contextlib.suppress(*LEDGER_ERRORS):
                    leases.take(job)

        return renew


class _DaemonPool:
    """At most ``size`` calls at a time, each on a daemon thread of its own.

    Not a ``ThreadPoolExecutor``: the interpreter joins those at exit, so one
    download stuck waiting for a slow storage's answer (before :class:`Stop` can
    cut it) would keep a stopping server or kernel alive for its whole timeout.
    """

    def __init__(self, size: int, name: str) -> None:
        self._slots = threading.Semaphore(size)
        self._name = name

    def submit(self, call: Callable[[], None]) -> concurrent.futures.Future[None]:
        future: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            with self._slots:
                if not future.set_running_or_notify_cancel():
                    return  # cancelled while waiting for a slot
                try:
                    call()
                except BaseException as exc:  # handed to whoever waits on the future
                    future.set_exception(exc)
                else:
                    future.set_result(None)

        threading.Thread(target=run, name=self._name, daemon=True).start()
        return future


class _Unrefreshable(SeedanceError):
    """The output URL expired and the service did not give a fresh one."""


def _display_path(path: Path, folder: Path) -> str:
    """Relative to the notebook's folder when inside it, so the saved notebook plays it."""
    try:
        return str(path.resolve().relative_to(folder.resolve()))
    except ValueError:
        return str(path.resolve())
