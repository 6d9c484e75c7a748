"""How soon a finished job is seen, and how many status requests that costs.

Everything runs against emulators on loopback in this process, with the ledger
and downloads in a temporary directory: no network, no key.

Latency is measured from the server's side: a job is terminal on the emulator
at ``max(due_at, time its mp4 was written)`` (it only succeeds once rendered),
both on this machine's wall clock, and the client's moments are taken with the
same clock (``time.time()``) in job listeners.

Phase A, short jobs (5 s 720p at speed 1, ~6 s): submitted through a real
``KernelSession`` (ledger, poller, download), one every few seconds so the
emulator's two render threads keep up. Measured: completion -> the session sees
``succeeded`` -> ``job.local_path`` is set (the card shows the video).

Phase B, long jobs (480p at speed 0.08, durations 4..15 s: 37.5..106 s): a
learning phase first runs jobs of the same parameters through the session so
its ledger learns their runtime; then new jobs are submitted through the same
session (its adaptive poller uses the ledger's ``expected_runtime``) and the
very same request ids are also tracked by a fixed 1 s ``Poller`` and, as
diagnostics, by adaptive ``Poller``s (the session's default ``Schedule``) given
other expected runtimes: the exact server runtime, and what the learning jobs'
answers bound the runtime to (the last "still running" answer, or the midpoint
between it and the first terminal answer) instead of the moment the client saw
them finished, which is what the ledger stores.

Run: ``.venv/bin/python benchmarks/poll_latency.py`` (about 4-5 minutes).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

for _name in ("SEEDANCE_API_KEY", "SEEDANCE_BASE_URL"):
    os.environ.pop(_name, None)
_HOME = tempfile.TemporaryDirectory(prefix="seedance-bench-")
os.environ["SEEDANCE_HOME"] = _HOME.name

from tables import table  # noqa: E402

from seedance_jupyter.api.types import JobState  # noqa: E402
from seedance_jupyter.emulator import Emulator, Faults, start  # noqa: E402
from seedance_jupyter.jobs.backend import Backend  # noqa: E402
from seedance_jupyter.jobs.client import Client  # noqa: E402
from seedance_jupyter.jobs.handle import Job  # noqa: E402
from seedance_jupyter.jobs.ledger import Ledger  # noqa: E402
from seedance_jupyter.jobs.poller import Poller, Schedule  # noqa: E402
from seedance_jupyter.kernel.config import SeedanceSettings  # noqa: E402
from seedance_jupyter.kernel.session import KernelSession  # noqa: E402

MODEL = "seedance-2.0"
#: What the session's ledger said when each phase B job was submitted.
expected_at_submit: dict[str, float | None] = {}
FIXED_1S = Schedule(first_check=1, growth=1, growth_when_expected=1, max_interval=1, jitter=0)


class CountingClient(Client):
    """A client that counts status requests per request id (one per poller).

    It also keeps every answer as ``(sent, received, status)``, wall clock, so the
    benchmark can tell when a job was last seen running.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.status_requests: Counter[str] = Counter()
        self.answers: dict[str, list[tuple[float, float, str]]] = {}
        self._count_lock = threading.Lock()

    def fetch_state(self, request_id: str, *, retry: bool = True) -> JobState:
        with self._count_lock:
            self.status_requests[request_id] += 1
        sent = time.time()
        state = super().get(request_id, retry=retry)
        with self._count_lock:
            self.answers.setdefault(request_id, []).append((sent, time.time(), state.status))
        return state

    def completion_bounds(self, request_id: str) -> tuple[float, float]:
        """(last "still running" request sent, first terminal answer received): the job
        finished on the server in between."""
        answers = self.answers[request_id]
        running = [sent for sent, _, status in answers if status in ("queued", "processing")]
        terminal = [received for _, received, status in answers
                    if status not in ("queued", "processing")]
        return max(running), min(terminal)


@dataclass
class Watch:
    """Wall-clock moments one observer saw of one job."""

    seen_terminal: float | None = None
    local_path: float | None = None
    done: threading.Event = field(default_factory=threading.Event)
    needs_file: bool = True

    def listener(self, job: Job) -> None:
        now = time.time()
        if job.done and self.seen_terminal is None:
            self.seen_terminal = now
        if job.local_path is not None and self.local_path is None:
            self.local_path = now
        if self.seen_terminal is not None and (
            not self.needs_file or self.local_path is not None or job.status != "succeeded"
        ):
            self.done.set()


def server_completion(emu: Emulator, request_id: str) -> tuple[float, bool]:
    """When the job became terminal on the emulator, and whether rendering decided it."""
    snap = emu.jobs(request_id)
    if snap["status"] != "succeeded" or not snap["output_path"]:
        raise RuntimeError(f"{request_id} is {snap['status']}, not succeeded")
    rendered_at = os.path.getmtime(snap["output_path"])
    due = float(snap["due_at"])
    return max(due, rendered_at), rendered_at > due


def true_runtime(emu: Emulator, request_id: str) -> float:
    snap = emu.jobs(request_id)
    return float(snap["due_at"]) - float(snap["created_at"])


def p95(values: Iterable[float]) -> float:
    """Nearest-rank 95th percentile."""
    data = sorted(values)
    return data[max(0, math.ceil(0.95 * len(data)) - 1)]


def session_for(emu: Emulator, home: Path, name: str) -> tuple[KernelSession, CountingClient]:
    client = CountingClient(api_key=emu.api_key, base_url=emu.url)
    settings = SeedanceSettings(download_dir=str(home / f"videos-{name}"))
    backend = Backend(client, emu.url, "emulator", True)
    session = KernelSession(settings, backend=backend, ledger=Ledger(home / f"{name}.sqlite3"))
    return session, client


def submit(
    session: KernelSession, prompt: str, duration: int, resolution: str
) -> tuple[Job, Watch]:
    request = session.prepare(prompt, model=MODEL, duration=duration, resolution=resolution)
    job = session.submit(request, force_new=True).job
    assert job is not None
    watch = Watch()
    job.on_change(watch.listener)
    watch.listener(job)
    return job, watch


def wait_all(watches: Iterable[Watch], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    for watch in watches:
        if not watch.done.wait(max(0.0, deadline - time.monotonic())):
            raise SystemExit(f"timed out waiting for {what}")


def stats_row(name: str, latencies: list[float], requests: list[int]) -> list[object]:
    return [
        name, len(latencies), f"{statistics.median(latencies):.2f}", f"{p95(latencies):.2f}",
        f"{max(latencies):.2f}", f"{statistics.mean(requests):.1f}", max(requests),
    ]


STATS_HEADER = ["observer", "jobs", "median s", "p95 s", "max s", "requests/job", "max req"]


# -- phase A ---------------------------------------------------------------------------------
def phase_a(home: Path, jobs: int, gap: float) -> dict[str, object]:
    emu = start(speed=1.0, rate_limit_per_minute=100_000, output_dir=home / "emu-a")
    session, client = session_for(emu, home, "a")
    tracked: list[tuple[Job, Watch, float | None]] = []
    try:
        # One job outside the session first, so PyAV/NumPy are loaded before timing starts.
        warmup = client.submit("warm-up", model=MODEL, duration=5, resolution="720p")
        warmup.wait(60)
        for index in range(jobs):
            known = session.ledger.expected_runtime(
                backend=session.backend.key, model=MODEL, resolution="720p", duration=5
            )
            job, watch = submit(session, f"short job {index}: a paper boat in the rain", 5, "720p")
            tracked.append((job, watch, known))
            if index < jobs - 1:
                time.sleep(gap)
        wait_all((w for _, w, _ in tracked), 120, "phase A jobs")
        time.sleep(0.5)
        rows = []
        emu_requests = Counter(
            r.path.rsplit("/", 1)[-1] for r in emu.requests
            if r.method == "GET" and "/video/generations/" in r.path
        )
        for job, watch, known in tracked:
            done_at, render_bound = server_completion(emu, job.request_id)
            assert watch.seen_terminal is not None and watch.local_path is not None
            rows.append({
                "runtime": done_at - float(emu.jobs(job.request_id)["created_at"]),
                "seen": watch.seen_terminal - done_at,
                "video": watch.local_path - done_at,
                "requests": client.status_requests[job.request_id],
                "emu_requests": emu_requests[job.request_id],
                "render_bound": render_bound,
                "known": known,
            })
    finally:
        session.close()
        emu.stop()
    return {"rows": rows}


def report_a(result: dict[str, object]) -> None:
    rows = result["rows"]
    assert isinstance(rows, list)
    print("\n## Phase A: short jobs (5 s 720p, speed 1) through KernelSession, with download\n")
    header = ["jobs", "n", "median s", "p95 s", "max s", "requests/job", "max req"]
    groups = [
        ("all", rows),
        ("no ledger history yet", [r for r in rows if r["known"] is None]),
        ("runtime known from ledger", [r for r in rows if r["known"] is not None]),
        ("finished on time (6.0 s)", [r for r in rows if not r["render_bound"]]),
        ("render-bound (late) on the emulator", [r for r in rows if r["render_bound"]]),
    ]
    out = []
    for label, subset in groups:
        if not subset:
            continue
        out.append(stats_row(label, [r["video"] for r in subset],
                             [r["requests"] for r in subset]))
    print("Completion on the server -> job.local_path set (video on disk):\n")
    print(table(header, out))
    seen = [r["seen"] for r in rows]
    download = [r["video"] - r["seen"] for r in rows]
    print(f"\nof which: completion -> status seen: median {statistics.median(seen):.2f} s, "
          f"p95 {p95(seen):.2f} s; seen -> file on disk: median "
          f"{statistics.median(download):.2f} s, p95 {p95(download):.2f} s")
    runtimes = [r["runtime"] for r in rows]
    print(f"server runtime (creation -> terminal): median {statistics.median(runtimes):.1f} s, "
          f"max {max(runtimes):.1f} s (nominal 6.0 s); render-bound jobs (mp4 written after "
          f"the due time, so later than nominal): {sum(r['render_bound'] for r in rows)} "
          f"of {len(rows)}")
    print("status requests counted by the client == emulator log: "
          f"{all(r['requests'] == r['emu_requests'] for r in rows)}")
    video = [r["video"] for r in rows]
    requests = [r["requests"] for r in rows]
    met = p95(video) <= 3.0 and max(requests) <= 8
    print(f"target (video within 3 s of completion, <= 8 status requests per job): "
          f"p95 {p95(video):.2f} s, max {max(requests)} requests -> "
          f"{'MET' if met else 'MISSED'}")


# -- phase B ---------------------------------------------------------------------------------
@dataclass
class Observer:
    name: str
    client: CountingClient
    watches: dict[str, Watch] = field(default_factory=dict)
    poller: Poller | None = None


def tracker(
    name: str, emu: Emulator, schedule: Schedule, *, per_minute: float,
    expected: Callable[[Job], float | None] | None = None,
) -> Observer:
    client = CountingClient(api_key=emu.api_key, base_url=emu.url)
    observer = Observer(name, client)
    observer.poller = Poller(
        lambda request_id: client.generations.get(request_id, retry=False),
        requests_per_minute=per_minute, schedule=schedule, expected_runtime=expected,
        workers=8,
    )
    return observer


def follow(observer: Observer, emu: Emulator, request_id: str) -> None:
    """Track ``request_id`` with this observer's own Job, from the server's creation time."""
    assert observer.poller is not None
    job = Job(observer.client, JobState(request_id=request_id, status="queued"))
    watch = Watch(needs_file=False)
    job.on_change(watch.listener)
    observer.watches[request_id] = watch
    age = time.time() - float(emu.jobs(request_id)["created_at"])
    observer.poller.track(job, submitted_at=time.monotonic() - age)


def phase_b_learn(session: KernelSession, durations: list[int], per_duration: int
                  ) -> list[tuple[Job, Watch]]:
    jobs = []
    for duration in durations:
        for index in range(per_duration):
            jobs.append(submit(session, f"learning {duration}s #{index}: kites over dunes",
                               duration, "480p"))
    return jobs


def wait_rendered(emu: Emulator, request_ids: list[str], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if all(emu.jobs(rid)["rendered"] for rid in request_ids):
            break
        time.sleep(0.5)
    return time.monotonic() - started


def report_learning(emu: Emulator, session: KernelSession, client: CountingClient,
                    learned: list[tuple[Job, Watch]], durations: list[int]) -> None:
    print("\n## Phase B, learning: long jobs with no ledger history (adaptive, session)\n")
    seen = []
    requests = []
    for job, watch in learned:
        done_at, _ = server_completion(emu, job.request_id)
        assert watch.seen_terminal is not None
        seen.append(watch.seen_terminal - done_at)
        requests.append(client.status_requests[job.request_id])
    print(table(STATS_HEADER, [stats_row("session, no history", seen, requests)]))
    print("\nWhat the ledger learnt (expected_runtime = median of finished_at - submitted_at):\n")
    rows = []
    for duration in durations:
        learnt = session.ledger.expected_runtime(
            backend=session.backend.key, model=MODEL, resolution="480p", duration=duration
        )
        actual = statistics.median(
            true_runtime(emu, job.request_id) for job, _ in learned
            if job.request is not None and job.request.duration == duration
        )
        assert learnt is not None
        lower, middle, latest = learnt_bounds(emu, client, learned, duration)
        rows.append([f"{duration} s 480p", f"{actual:.1f}", f"{learnt:.1f}",
                     f"{learnt - actual:+.1f}", f"{lower:.1f}", f"{middle:.1f}",
                     f"{latest:.1f}"])
    print(table(["job", "server runtime s", "ledger expected s", "ledger - server s",
                 "median last-running s", "median midpoint s", "intersection start s"], rows))
    print("\n(last-running: age at the last answer that said queued/processing; midpoint: "
          "between it and the first terminal answer; intersection start: the latest "
          "last-running age among alike jobs, if it is before every job's first terminal "
          "answer, else the median midpoint)")


def learnt_bounds(emu: Emulator, client: CountingClient, learned: list[tuple[Job, Watch]],
                  duration: int) -> tuple[float, float, float]:
    """What a ledger could learn from the same learning jobs instead of the moment the
    client saw them finished (ages from creation): the median age at the last "still
    running" answer; the median midpoint between it and the first terminal answer; and
    the start of the intersection of all alike jobs' [last running, first terminal]
    intervals (the median midpoint when they do not intersect)."""
    lower, middle, upper = [], [], []
    for job, _ in learned:
        if job.request is None or job.request.duration != duration:
            continue
        created = float(emu.jobs(job.request_id)["created_at"])
        last_running, first_terminal = client.completion_bounds(job.request_id)
        lower.append(last_running - created)
        middle.append((last_running + first_terminal) / 2 - created)
        upper.append(first_terminal - created)
    latest = max(lower) if max(lower) < min(upper) else statistics.median(middle)
    return statistics.median(lower), statistics.median(middle), latest


def report_b(emu: Emulator, measured: list[tuple[Job, Watch]], session_client: CountingClient,
             observers: list[Observer]) -> None:
    print("\n## Phase B, measured: the same long jobs seen by several pollers side by side\n")
    done = {job.request_id: server_completion(emu, job.request_id)[0] for job, _ in measured}
    session_seen = [w.seen_terminal - done[j.request_id] for j, w in measured]  # type: ignore[operator]
    session_video = [w.local_path - done[j.request_id] for j, w in measured]  # type: ignore[operator]
    session_req = [session_client.status_requests[j.request_id] for j, _ in measured]
    rows = [
        stats_row("adaptive, KernelSession (ledger-learnt runtime)", session_seen, session_req),
        stats_row("  same, until the video is on disk", session_video, session_req),
    ]
    per_observer: dict[str, tuple[list[float], list[int]]] = {}
    for observer in observers:
        lat = [observer.watches[rid].seen_terminal - at for rid, at in done.items()]  # type: ignore[operator]
        req = [observer.client.status_requests[rid] for rid in done]
        per_observer[observer.name] = (lat, req)
        rows.append(stats_row(observer.name, lat, req))
    print(table(STATS_HEADER, rows))
    fixed_lat, fixed_req = per_observer["fixed 1 s polling"]
    total_fixed = sum(fixed_req)
    print(f"\nrequests, adaptive session / fixed 1 s: {sum(session_req)} / {total_fixed} = "
          f"{sum(session_req) / total_fixed:.3f}")
    oracle_lat, oracle_req = per_observer["adaptive, exact runtime (diagnostic)"]
    print(f"requests, adaptive with exact runtime / fixed 1 s: {sum(oracle_req)} / {total_fixed}"
          f" = {sum(oracle_req) / total_fixed:.3f}")
    print(f"p95 latency, adaptive session / fixed 1 s: {p95(session_seen):.2f} / "
          f"{p95(fixed_lat):.2f} s")
    met = p95(session_seen) <= 1.5 and sum(session_req) <= total_fixed / 4
    print(f"target (p95 <= 1.5 s with <= 1/4 of the fixed 1 s requests), session: "
          f"p95 {p95(session_seen):.2f} s, ratio {sum(session_req) / total_fixed:.3f} -> "
          f"{'MET' if met else 'MISSED'}")
    met_oracle = p95(oracle_lat) <= 1.5 and sum(oracle_req) <= total_fixed / 4
    print(f"same target for the schedule given the exact runtime: p95 {p95(oracle_lat):.2f} s, "
          f"ratio {sum(oracle_req) / total_fixed:.3f} -> {'MET' if met_oracle else 'MISSED'}")
    for name, (lat, req) in per_observer.items():
        if name.startswith("proposed"):
            ok = p95(lat) <= 1.5 and sum(req) <= total_fixed / 4
            print(f"same target, {name}: p95 {p95(lat):.2f} s, ratio "
                  f"{sum(req) / total_fixed:.3f} -> {'MET' if ok else 'MISSED'}")
    print("\nper job (server runtime, ledger expected, latency s / requests):\n")
    ledger_rows = []
    for job, watch in measured:
        rid = job.request_id
        request = job.request
        assert request is not None and watch.seen_terminal is not None
        ledger_rows.append([
            f"{request.duration} s", f"{true_runtime(emu, rid):.1f}",
            f"{expected_at_submit[rid]:.1f}" if expected_at_submit.get(rid) else "-",
            f"{watch.seen_terminal - done[rid]:.2f} / {session_client.status_requests[rid]}",
            *(f"{o.watches[rid].seen_terminal - done[rid]:.2f} / "  # type: ignore[operator]
              f"{o.client.status_requests[rid]}" for o in observers),
        ])
    print(table(["job", "server s", "expected s", "session", *(o.name for o in observers)],
                ledger_rows))



def phase_b_measure(emu: Emulator, session: KernelSession, durations: list[int],
                    per_duration: int, observers: list[Observer]) -> list[tuple[Job, Watch]]:
    measured = []
    for duration in durations:
        for index in range(per_duration):
            known = session.ledger.expected_runtime(
                backend=session.backend.key, model=MODEL, resolution="480p", duration=duration
            )
            job, watch = submit(session, f"measured {duration}s #{index}: kites over dunes",
                                duration, "480p")
            expected_at_submit[job.request_id] = known
            for observer in observers:
                follow(observer, emu, job.request_id)
            measured.append((job, watch))
    return measured


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--short-jobs", type=int, default=14)
    parser.add_argument("--short-gap", type=float, default=5.0,
                        help="seconds between short-job submissions")
    parser.add_argument("--speed", type=float, default=0.08, help="emulator speed, phase B")
    parser.add_argument("--durations", default="4,6,8,10,12,15")
    parser.add_argument("--learn-per-duration", type=int, default=3)
    parser.add_argument("--measure-per-duration", type=int, default=4)
    args = parser.parse_args()
    durations = [int(d) for d in args.durations.split(",")]
    home = Path(_HOME.name)
    began = time.monotonic()
    print(f"# poll_latency: {time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()},"
          f" {os.cpu_count()} CPUs, load average {load()}")

    emu_b = start(speed=args.speed, rate_limit_per_minute=100_000, output_dir=home / "emu-b",
                  faults=Faults())
    session_b, client_b = session_for(emu_b, home, "b")
    try:
        # Learning jobs go first; phase A runs once their videos are rendered, so the
        # two emulators' render threads do not fight over the two cores.
        learned = phase_b_learn(session_b, durations, args.learn_per_duration)
        rendered_in = wait_rendered(emu_b, [j.request_id for j, _ in learned], 120)
        print(f"(phase B learning: {len(learned)} jobs submitted, rendered in {rendered_in:.0f} s;"
              " running phase A meanwhile)")
        result_a = phase_a(home, args.short_jobs, args.short_gap)
        report_a(result_a)
        print(f"(load average after phase A: {load()})")
        wait_all((w for _, w in learned), 400, "phase B learning jobs")
        time.sleep(0.5)
        report_learning(emu_b, session_b, client_b, learned, durations)

        bounds = {d: learnt_bounds(emu_b, client_b, learned, d) for d in durations}
        lower = {d: b[0] for d, b in bounds.items()}
        middle = {d: b[1] for d, b in bounds.items()}
        latest = {d: b[2] for d, b in bounds.items()}

        def by_duration(values: dict[int, float]) -> Callable[[Job], float | None]:
            return lambda job: values[int(emu_b.jobs(job.request_id)["duration"])]

        observers = [
            tracker("fixed 1 s polling", emu_b, FIXED_1S, per_minute=1_000_000),
            tracker("adaptive, exact runtime (diagnostic)", emu_b, Schedule(), per_minute=240,
                    expected=lambda job: true_runtime(emu_b, job.request_id)),
            tracker("proposed: median last-running", emu_b, Schedule(), per_minute=240,
                    expected=by_duration(lower)),
            tracker("proposed: median midpoint", emu_b, Schedule(), per_minute=240,
                    expected=by_duration(middle)),
            tracker("proposed: intersection start", emu_b, Schedule(), per_minute=240,
                    expected=by_duration(latest)),
        ]
        measured = phase_b_measure(emu_b, session_b, durations, args.measure_per_duration,
                                   observers)
        wait_all((w for _, w in measured), 400, "phase B measured jobs (session)")
        for observer in observers:
            wait_all(observer.watches.values(), 60, f"phase B measured jobs ({observer.name})")
        time.sleep(0.5)
        report_b(emu_b, measured, client_b, observers)
        print(f"(load average after phase B: {load()})")
        for observer in observers:
            assert observer.poller is not None
            observer.poller.stop()
    finally:
        session_b.close()
        emu_b.stop()
    print(f"\n(total {time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
