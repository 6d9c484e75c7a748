"""A request's reference media, from what the user holds to URLs the service can fetch.

Everything is loaded and checked first (kinds, sizes, at most five, URLs the
service could not fetch), so a refusal sends and uploads nothing; only then is
each medium published, once per content hash, through the chosen MediaStore.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .. import messages
from ..catalog import media_kind
from ..errors import SeedanceError
from ..media.frames import last_frame_png
from ..media.reach import check_reachable
from ..media.refs import JobMedia, Limits, Media, from_bytes, load_all, refuse
from ..media.stores import MediaSettings, MediaStore, choose_store
from ..media.thumbs import THUMB_MAX_SIDE, thumbs_folder
from .handle import Job

__all__ = ["References", "as_reference", "video_of"]


def as_reference(value: object) -> object:
    """A :class:`Job` stands for its video; anything else is loaded by :mod:`media.refs`."""
    return JobMedia(value.request_id) if isinstance(value, Job) else value


def video_of(job: Job, folder: Path, scratch: Path) -> Path:
    """The file of a succeeded job's video: its download, or a fresh one in ``scratch``."""
    from .downloads import download, output_filename

    if job.status != "succeeded":
        raise refuse(job.request_id, messages.ALLOWED_MEDIA_JOB_UNFINISHED.format(
            request_id=job.request_id, status=job.status))
    if job.local_path and (folder / job.local_path).is_file():
        return folder / job.local_path
    if not job.output_url:
        raise refuse(job.request_id, messages.ALLOWED_MEDIA_JOB_NO_VIDEO.format(
            request_id=job.request_id, detail="no output URL"))
    try:
        return download(job.output_url, scratch / output_filename(job.request_id))
    except SeedanceError as exc:
        raise refuse(job.request_id, messages.ALLOWED_MEDIA_JOB_NO_VIDEO.format(
            request_id=job.request_id, detail=exc.message)) from None


class References:
    """Loads, checks and publishes the media of one service's requests."""

    def __init__(
        self,
        settings: MediaSettings,
        *,
        service_on_loopback: bool,
        service_label: str,
        folder: Callable[[], Path],
        video: Callable[[str, Path], Path],
    ) -> None:
        """``video(request_id, scratch)``: the file of that job's video (see :func:`video_of`)."""
        self.settings = settings
        self.service_on_loopback = service_on_loopback
        self.service_label = service_label
        self.folder = folder
        self.video = video

    def resolve(
        self, values: Iterable[object]
    ) -> tuple[tuple[str, ...], tuple[dict[str, Any], ...]]:
        """The URLs to send and, per reference, what the ledger keeps (no bytes)."""
        limits = Limits(self.settings.media_max_image_mb, self.settings.media_max_video_mb,
                        self.settings.media_max_audio_mb)
        loaded: list[Media | str] = []
        with tempfile.TemporaryDirectory(prefix="seedance-media-") as scratch:
            for item in load_all([as_reference(v) for v in values], folder=self.folder(),
                                 limits=limits):
                if isinstance(item, JobMedia):
                    item = self._job_media(item, limits, Path(scratch))
                elif isinstance(item, str):
                    check_reachable(item, service_on_loopback=self.service_on_loopback)
                loaded.append(item)
        store: MediaStore | None = None
        urls: list[str] = []
        refs: list[dict[str, Any]] = []
        for item in loaded:
            if isinstance(item, str):
                urls.append(item)
                refs.append({"name": item, "kind": media_kind(item), "sha256": None,
                             "where": "url"})
                continue
            store = store or self._store(item)
            urls.append(store.publish(item))
            if item.kind == "image":
                _save_thumbnail(item)
            refs.append({"name": item.name, "kind": item.kind, "sha256": item.sha256,
                         "where": store.where})
        return tuple(urls), tuple(refs)

    def _job_media(self, ref: JobMedia, limits: Limits, scratch: Path) -> Media:
        path = self.video(ref.request_id, scratch)
        data = last_frame_png(path, ref.name) if ref.last_frame else path.read_bytes()
        return from_bytes(ref.name, data, limits)

    def _store(self, first: Media) -> MediaStore:
        store = choose_store(self.settings, service_on_loopback=self.service_on_loopback)
        if store is None:
            raise refuse(first.name, messages.ALLOWED_MEDIA_NO_STORE.format(
                service=self.service_label))
        return store


def _save_thumbnail(media: Media) -> None:
    """A small JPEG of an image reference for cards, by content hash (once; needs PyAV)."""
    from .poster import poster_data_uri

    target = thumbs_folder() / f"{media.sha256}.txt"
    if target.exists():
        return
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seedance-thumb-") as folder:
        source = Path(folder) / media.key
        source.write_bytes(media.data)
        uri = poster_data_uri(source, THUMB_MAX_SIDE)
    if uri is not None:
        target.write_text(uri, encoding="ascii")
