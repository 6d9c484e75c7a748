"""Downloads against a real loopback HTTP server whose misbehaviour each test chooses."""

from __future__ import annotations

import os
import re
import resource
import socket
import stat
import threading
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from seedance_jupyter.errors import DownloadError, OutputExpiredError
from seedance_jupyter.jobs.downloads import DownloadStopped, Stop, download, output_filename

from ..helpers import eventually
from ..slowfiles import SlowFile, SlowFileServer

MB = 1 << 20


@dataclass
class Route:
    """What the server answers for one path: ``data`` repeated ``repeat`` times."""

    data: bytes = b""
    repeat: int = 1
    status: int = 200
    ranges: bool = True
    content_length: bool = True
    truncate_after: int | None = None  # close after this many body bytes, once
    content_type: str = "application/octet-stream"

    @property
    def size(self) -> int:
        return len(self.data) * self.repeat

    def pieces(self, start: int) -> Iterator[bytes]:
        """The body from ``start``, in slices of ``data``, never all of it at once."""
        if not self.data:
            return
        block, offset = divmod(start, len(self.data))
        yield self.data[offset:]
        for _ in range(block + 1, self.repeat):
            yield self.data


@dataclass
class FileServer:
    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    authorization: list[str | None] = field(default_factory=list)

    def url(self, path: str, query: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}" + (f"?{query}" if query else "")


def _handler(state: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            requested = self.headers.get("Range")
            state.seen.append((path, requested))
            state.authorization.append(self.headers.get("Authorization"))
            route = state.routes.get(path)
            if route is None or route.status != 200:
                self.send_response(404 if route is None else route.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, status = 0, 200
            match = re.fullmatch(r"bytes=(\d+)-", requested or "")
            if match and route.ranges:
                start, status = int(match.group(1)), 206
                if start >= route.size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{route.size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            self.send_response(status)
            if route.ranges:
                self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{route.size - 1}/{route.size}")
            self.send_header("Content-Type", route.content_type)
            if route.content_length:
                self.send_header("Content-Length", str(route.size - start))
            self.end_headers()
            limit, route.truncate_after = route.truncate_after, None
            sent = 0
            for piece in route.pieces(start):
                if limit is not None and sent + len(piece) >= limit:
                    self.wfile.write(piece[: limit - sent])
                    self.close_connection = True
                    return
                self.wfile.write(piece)
                sent += len(piece)

    return Handler


@pytest.fixture
def server() -> Iterator[FileServer]:
    state = FileServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


#: An ISO media file starts with an ``ftyp`` box; the rest may be anything.
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
VIDEO = MP4_HEAD + os.urandom(300_000)


def test_full_download_equals_served_bytes_with_owner_only_mode(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/v.mp4"] = Route(VIDEO)
    saved = download(server.url("/v.mp4"), tmp_path / "v.mp4")
    assert saved == tmp_path / "v.mp4"
    assert saved.read_bytes() == VIDEO
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert not (tmp_path / "v.mp4.part").exists()


def test_session_api_key_is_not_sent_to_storage(server: FileServer, tmp_path: Path) -> None:
    server.routes["/v.mp4"] = Route(VIDEO)
    with requests.Session() as session:
        session.headers["Authorization"] = "Bearer sd2_live_secret"
        download(server.url("/v.mp4"), tmp_path / "v.mp4", session=session)
        assert session.headers["Authorization"] == "Bearer sd2_live_secret"
    assert server.authorization == [None]


def test_missing_destination_folders_are_created(server: FileServer, tmp_path: Path) -> None:
    server.routes["/v.mp4"] = Route(VIDEO)
    saved = download(server.url("/v.mp4"), tmp_path / "a" / "b" / "v.mp4")
    assert saved.read_bytes() == VIDEO


def test_body_without_content_length_is_saved_as_sent(server: FileServer, tmp_path: Path) -> None:
    server.routes["/v.mp4"] = Route(VIDEO, content_length=False)
    assert download(server.url("/v.mp4"), tmp_path / "v.mp4").read_bytes() == VIDEO


def test_truncated_body_raises_and_leaves_no_file_at_dest(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/v.mp4"] = Route(VIDEO, truncate_after=100_000)
    with pytest.raises(DownloadError) as caught:
        download(server.url("/v.mp4"), tmp_path / "v.mp4", chunk_size=8192)
    assert not isinstance(caught.value, OutputExpiredError)
    assert not (tmp_path / "v.mp4").exists()
    assert 0 < (tmp_path / "v.mp4.part").stat().st_size <= 100_000


def test_next_attempt_resumes_from_part_with_range_request(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/v.mp4"] = Route(VIDEO, truncate_after=100_000)
    with pytest.raises(DownloadError):
        download(server.url("/v.mp4"), tmp_path / "v.mp4", chunk_size=8192)
    kept = (tmp_path / "v.mp4.part").stat().st_size

    saved = download(server.url("/v.mp4"), tmp_path / "v.mp4", chunk_size=8192)

    assert server.seen[-1] == ("/v.mp4", f"bytes={kept}-")
    assert saved.read_bytes() == VIDEO
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert not (tmp_path / "v.mp4.part").exists()


def test_server_without_ranges_restarts_from_zero(server: FileServer, tmp_path: Path) -> None:
    server.routes["/v.mp4"] = Route(VIDEO, ranges=False, truncate_after=100_000)
    with pytest.raises(DownloadError):
        download(server.url("/v.mp4"), tmp_path / "v.mp4", chunk_size=8192)

    saved = download(server.url("/v.mp4"), tmp_path / "v.mp4")

    assert server.seen[-1][1] is not None
    assert saved.read_bytes() == VIDEO


def test_part_the_server_cannot_continue_is_discarded(server: FileServer, tmp_path: Path) -> None:
    server.routes["/v.mp4"] = Route(VIDEO)
    (tmp_path / "v.mp4.part").write_bytes(b"x" * (len(VIDEO) + 10))

    saved = download(server.url("/v.mp4"), tmp_path / "v.mp4")

    assert [r for _, r in server.seen] == [f"bytes={len(VIDEO) + 10}-", None]
    assert saved.read_bytes() == VIDEO


@pytest.mark.parametrize("status", [403, 404, 410])
def test_refused_output_url_raises_output_expired(
    server: FileServer, tmp_path: Path, status: int
) -> None:
    server.routes["/v.mp4"] = Route(VIDEO, status=status)
    with pytest.raises(OutputExpiredError) as caught:
        download(server.url("/v.mp4"), tmp_path / "v.mp4")
    assert caught.value.status == status
    assert not (tmp_path / "v.mp4").exists()


def test_server_error_raises_download_error_with_status(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/v.mp4"] = Route(VIDEO, status=500)
    with pytest.raises(DownloadError) as caught:
        download(server.url("/v.mp4"), tmp_path / "v.mp4")
    assert not isinstance(caught.value, OutputExpiredError)
    assert caught.value.status == 500
    assert not (tmp_path / "v.mp4").exists()


@pytest.mark.parametrize("status", [403, 500])
def test_error_message_hides_the_url_signature(
    server: FileServer, tmp_path: Path, status: int
) -> None:
    server.routes["/v.mp4"] = Route(VIDEO, status=status)
    url = server.url("/v.mp4", "X-Amz-Signature=s3cr3t")
    with pytest.raises(DownloadError) as caught:
        download(url, tmp_path / "v.mp4")
    assert "s3cr3t" not in str(caught.value)
    assert server.url("/v.mp4") in str(caught.value)


def test_connection_refused_raises_download_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError) as caught:
        download(f"http://127.0.0.1:{port}/v.mp4?sig=s3cr3t", tmp_path / "v.mp4")
    assert "s3cr3t" not in str(caught.value)
    assert not (tmp_path / "v.mp4").exists()


def test_write_failure_raises_download_error(server: FileServer, tmp_path: Path) -> None:
    server.routes["/v.mp4"] = Route(VIDEO)
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    with pytest.raises(DownloadError):
        download(server.url("/v.mp4"), blocker / "v.mp4")
    assert blocker.read_bytes() == b""


@pytest.mark.timeout(60)
def test_large_download_memory_does_not_grow_with_size(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/big.mp4"] = Route(MP4_HEAD + os.urandom(MB - len(MP4_HEAD)), repeat=200)
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        saved = download(server.url("/big.mp4"), tmp_path / "big.mp4")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before_kb) * 1024
    assert saved.stat().st_size == 200 * MB
    assert peak < 50 * MB
    assert rss_growth < 50 * MB


def test_a_plain_request_id_is_the_file_name() -> None:
    assert output_filename("req_1234567890") == "req_1234567890.mp4"


@pytest.mark.parametrize("request_id", ["../etc/pass wd", "a-b.c", "ünï", "req\u0000x"])
def test_an_unsafe_request_id_becomes_a_safe_name_with_a_hash(request_id: str) -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]+-[0-9a-f]{10}\.mp4", output_filename(request_id))


def test_ids_that_differ_only_in_unsafe_characters_get_different_files() -> None:
    assert output_filename("req/1") != output_filename("req:1")
    assert output_filename("req/1") != output_filename("req_1")


def test_an_empty_id_still_names_a_file() -> None:
    assert re.fullmatch(r"video-[0-9a-f]{10}\.mp4", output_filename(""))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>Access denied</body></html>", "text/html"),
        (b'{"error": "expired"}', "application/json"),
        (b"", "video/mp4"),
    ],
)
def test_an_answer_that_is_not_a_video_is_refused_and_nothing_is_kept(
    server: FileServer, tmp_path: Path, body: bytes, content_type: str
) -> None:
    server.routes["/v.mp4"] = Route(body, content_type=content_type)
    with pytest.raises(DownloadError, match="not a video"):
        download(server.url("/v.mp4"), tmp_path / "v.mp4")
    assert list(tmp_path.iterdir()) == []


def test_zeros_declared_as_mp4_are_refused_and_nothing_is_kept(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/v.mp4"] = Route(bytes(MB), repeat=256, content_type="video/mp4")
    with pytest.raises(DownloadError, match="not a video"):
        download(server.url("/v.mp4"), tmp_path / "v.mp4")
    assert list(tmp_path.iterdir()) == []


def test_a_declared_video_type_without_an_ftyp_box_is_refused(
    server: FileServer, tmp_path: Path
) -> None:
    body = b"\x00\x00\x00\x08free" + os.urandom(1000)
    server.routes["/v.mp4"] = Route(body, content_type="video/mp4")
    with pytest.raises(DownloadError, match="ftyp"):
        download(server.url("/v.mp4"), tmp_path / "v.mp4")
    assert list(tmp_path.iterdir()) == []


def test_a_webm_is_saved_whatever_type_it_declares(server: FileServer, tmp_path: Path) -> None:
    body = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + os.urandom(5000)
    server.routes["/v.webm"] = Route(body, content_type="application/octet-stream")
    assert download(server.url("/v.webm"), tmp_path / "v.webm").read_bytes() == body


def test_a_stopped_download_ends_while_the_body_is_still_coming_and_keeps_its_part(
    tmp_path: Path,
) -> None:
    storage = SlowFileServer()
    storage.files["/v.mp4"] = SlowFile(VIDEO, piece=4096, pause=0.2)  # about 15 s in all
    stop = Stop()
    dest = tmp_path / "v.mp4"
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            download(storage.url + "/v.mp4", dest, stop=stop)
        except DownloadError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert eventually(lambda: (tmp_path / "v.mp4.part").exists()
                          and (tmp_path / "v.mp4.part").stat().st_size > 0)
        stop.set()
        worker.join(timeout=5)
        assert not worker.is_alive()
        [served] = storage.served
        assert not served.complete
        assert isinstance(outcome[0], DownloadStopped)
        assert not dest.exists()
        assert 0 < (tmp_path / "v.mp4.part").stat().st_size < len(VIDEO)
    finally:
        stop.set()
        storage.close()


def test_a_body_over_the_cap_is_refused_and_its_part_removed(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/v.mp4"] = Route(VIDEO, content_length=False)
    with pytest.raises(DownloadError, match="cap"):
        download(server.url("/v.mp4"), tmp_path / "v.mp4", max_bytes=100_000)
    assert list(tmp_path.iterdir()) == []


def test_a_declared_length_over_the_cap_is_refused_before_reading(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/v.mp4"] = Route(VIDEO)
    with pytest.raises(DownloadError, match="cap"):
        download(server.url("/v.mp4"), tmp_path / "v.mp4", max_bytes=100_000)
    assert list(tmp_path.iterdir()) == []
