"""From a job's completion to the client seeing it, and the status requests that costs.

Jobs of 30-120 s (median runtimes 30, 45, 60, 75, 90 and 120 s for durations 4, 6,
8, 10, 12 and 15 s at 480p), once with no runtime variance (CV 0) and once with
per-job runtimes drawn lognormal with a coefficient of variation of 0.35.

Time is compressed: the service runs ``--speed`` times faster than real (4 by
default), and every schedule is scaled by the same factor (``first_check``,
``poll_latency``, ``max_interval``...), so request counts are those of real time
and latencies are reported multiplied back by ``--speed``, in service seconds.

For each CV, a learning round submits ``--learn`` jobs per duration through a
real :class:`~seedance_jupyter.jobs.service.JobService` (ledger, poller), so the
ledger learns each kind's runtime window from its own rows. Then ``--measure``
new jobs per duration are submitted through the same service (default
``poll_latency`` 2 s), and the same request ids are also tracked, each with its
own ``Job``, by:

- fixed 1 s polling (the baseline of every ratio, same jobs, same run);
- the schedule before the window was widened while unsure and shaped by density
  (``PREVIOUS``: ``spread=0, core=1, late_patience=0.1``), at the same ``poll_latency``;
- the same adaptive schedule at other ``poll_latency`` values (the curve), with
  the runtime window the service's ledger gave the job.

No budget binds (``requests_per_minute`` is unlimited for every poller): this
measures the schedule, not the token bucket.

The service is, by default, a scripted loopback HTTP server of this benchmark's
own (``--service scripted``): it answers create and status, draws each job's
runtime lognormal around its kind's median, and knows the exact completion
moment. ``--service emulator`` uses the package's emulator instead (``runtime_cv``,
``queue_mean=0``, ``seed``), slowed so its 15 s job takes 120 s of service time; its
own medians grow linearly with duration (42-120 s here), and a job only succeeds once
its video is rendered, on two render threads.

Run: ``.venv/bin/python benchmarks/poll_latency.py`` (about 4 minutes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

for _name in ("SEEDANCE_API_KEY", "SEEDANCE_BASE_URL"):
    os.environ.pop(_name, None)
_HOME = tempfile.TemporaryDirectory(prefix="seedance-bench-")
os.environ["SEEDANCE_HOME"] = _HOME.name

from tables import table  # noqa: E402

from seedance_jupyter.api.types import JobState  # noqa: E402
from seedance_jupyter.catalog import DOCUMENTED_MODELS  # noqa: E402
from seedance_jupyter.jobs.backend import Backend  # noqa: E402
from seedance_jupyter.jobs.client import Client  # noqa: E402
from seedance_jupyter.jobs.handle import Job  # noqa: E402
from seedance_jupyter.jobs.ledger import Ledger, RuntimeWindow  # noqa: E402
from seedance_jupyter.jobs.poller import Poller, Schedule  # noqa: E402
from seedance_jupyter.jobs.service import JobService  # noqa: E402
from seedance_jupyter.kernel.config import SeedanceSettings  # noqa: E402

MODEL = "seedance-2.0"
KEY = "sd2_bench_local"
#: Median runtime in service seconds of each 480p duration.
MEDIANS = {4: 30.0, 6: 45.0, 8: 60.0, 10: 75.0, 12: 90.0, 15: 120.0}
UNLIMITED = 1_000_000.0
#: The emulator's median runtime of a 15 s 480p job at speed 1 (emulator/runtimes.py).
EMULATOR_15S = 1.0 + 0.5 * 15
FIXED_1S = Schedule(first_check=1.0, poll_latency=1.0, max_interval=1.0, patience=0.0,
                    approach=0.0, min_interval=1.0, jitter=0.0)
#: The adaptive schedule before it widened unsure windows and followed the finish density.
PREVIOUS = Schedule(spread=0.0, core=1.0, late_patience=0.1)
_TIMES = ("first_check", "poll_latency", "max_interval", "min_interval", "webhook_interval")


def scaled(schedule: Schedule, speed: float) -> Schedule:
    """The same schedule on a clock ``speed`` times faster."""
    return replace(schedule, **{f.name: getattr(schedule, f.name) / speed
                                for f in fields(schedule) if f.name in _TIMES})


# -- the services --------------------------------------------------------------------------
class ScriptedService:
    """Create and status on loopback; each job's runtime drawn lognormal (median, CV)."""

    def __init__(self, speed: float, cv: float, seed: int) -> None:
        self.speed, self.cv = speed, cv
        self._rng = random.Random(seed)
        self._jobs: dict[str, tuple[float, float]] = {}  # id -> (created, done at)
        self.status_requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                """Quiet."""

            def reply(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.endswith("/models"):
                    self.reply({"success": True,
                                "data": [m.to_api() for m in DOCUMENTED_MODELS]})
                else:
                    self.reply(service.status(self.path.rsplit("/", 1)[-1]))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.reply(service.create(json.loads(self.rfile.read(length))))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}/api/open/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        median = MEDIANS[int(body["duration"])]
        sigma = math.sqrt(math.log(1 + self.cv**2))
        runtime = median * math.exp(self._rng.gauss(0.0, sigma)) if self.cv else median
        now = time.time()
        with self._lock:
            request_id = f"req_{len(self._jobs):06x}{self._rng.getrandbits(24):06x}"
            self._jobs[request_id] = (now, now + runtime / self.speed)
        return {"success": True, "requestId": request_id, "status": "queued",
                "creditsCharged": 1}

    def status(self, request_id: str) -> dict[str, Any]:
        with self._lock:
            self.status_requests[request_id] += 1
            created, done = self._jobs[request_id]
        now = time.time()
        if now >= done:
            return {"success": True, "requestId": request_id, "status": "succeeded",
                    "output": {"type": "video", "url": f"https://example.com/{request_id}.mp4"}}
        status = "queued" if now < created + 0.5 / self.speed else "processing"
        return {"success": True, "requestId": request_id, "status": status}

    def completed_at(self, request_id: str) -> float:
        return self._jobs[request_id][1]

    def runtime(self, request_id: str) -> float:
        created, done = self._jobs[request_id]
        return (done - created) * self.speed

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class EmulatorService:
    """The package's emulator with the runtime variance of the emulator rework."""

    def __init__(self, speed: float, cv: float, seed: int) -> None:
        from seedance_jupyter.emulator import start

        self.speed = speed
        # The emulator's own medians are 1 + 0.5 s per video second at 480p (8.5 s for
        # 15 s): slowed so that a 15 s job takes 120 s of service time, as here.
        self._emu = start(api_key=KEY, speed=speed * EMULATOR_15S / MEDIANS[15],
                          rate_limit_per_minute=10_000_000,
                          runtime_cv=cv, queue_mean=0.0, seed=seed,
                          output_dir=Path(_HOME.name) / f"emu-{cv}")
        self.url = self._emu.url

    @property
    def status_requests(self) -> Counter[str]:
        return Counter(r.path.rsplit("/", 1)[-1] for r in self._emu.requests
                       if r.method == "GET" and "/video/generations/" in r.path)

    def completed_at(self, request_id: str) -> float:
        snap = self._emu.jobs(request_id)
        rendered = os.path.getmtime(snap["output_path"]) if snap.get("output_path") else 0.0
        return max(float(snap["due_at"]), rendered)

    def runtime(self, request_id: str) -> float:
        snap = self._emu.jobs(request_id)
        return (self.completed_at(request_id) - float(snap["created_at"])) * self.speed

    def stop(self) -> None:
        self._emu.stop()


# -- observers -----------------------------------------------------------------------------
@dataclass
class Observer:
    """One poller and when it saw each job terminal (wall clock)."""

    name: str
    poller: Poller
    client: Client
    seen: dict[str, float] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    done: threading.Event = field(default_factory=threading.Event)
    expected: int = 0

    def follow(self, request_id: str, submitted_at: float) -> None:
        job = Job(self.client.generations, JobState(request_id=request_id, status="queued"))
        self.poller.track(job, submitted_at=submitted_at, on_done=self._done)

    def _done(self, job: Job) -> None:
        self.seen.setdefault(job.request_id, time.time())
        if len(self.seen) >= self.expected:
            self.done.set()


def observer(name: str, url: str, schedule: Schedule,
             windows: dict[str, RuntimeWindow | None]) -> Observer:
    client = Client(api_key=KEY, base_url=url)
    holder: list[Observer] = []

    def fetch(request_id: str) -> JobState:
        holder[0].requests[request_id] += 1
        return client.generations.get(request_id, retry=False)

    poller = Poller(fetch, requests_per_minute=UNLIMITED, schedule=schedule, seed=1,
                    runtime_window=lambda job: windows.get(job.request_id))
    holder.append(Observer(name, poller, client))
    return holder[0]


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    data = sorted(values)
    return data[max(0, math.ceil(0.95 * len(data)) - 1)]


@dataclass
class Result:
    name: str
    latencies: list[float]
    requests: list[int]

    @property
    def total(self) -> int:
        return sum(self.requests)


def row(result: Result, fixed: Result) -> list[object]:
    lat = result.latencies
    return [result.name, len(lat), f"{statistics.median(lat):.2f}", f"{p95(lat):.2f}",
            f"{max(lat):.2f}", f"{statistics.mean(result.requests):.1f}",
            f"{p95(lat) / p95(fixed.latencies):.2f}", f"{result.total / fixed.total:.3f}"]


HEADER = ["poller", "jobs", "median s", "p95 s", "max s", "requests/job",
          "p95 / fixed 1 s", "requests / fixed 1 s"]


# -- one CV ----------------------------------------------------------------------------------
def run_cv(args: argparse.Namespace, cv: float, curve: list[float]) -> dict[str, Result]:
    speed = args.speed
    make = ScriptedService if args.service == "scripted" else EmulatorService
    service = make(speed, cv, args.seed)
    home = Path(_HOME.name) / f"cv-{cv}"
    settings = SeedanceSettings(
        download=False, download_dir=str(home / "videos"), requests_per_minute=UNLIMITED,
        first_poll_delay=1.0 / speed, max_poll_interval=15.0 / speed,
        poll_latency=args.poll_latency / speed,
    )
    client = Client(api_key=KEY, base_url=service.url)
    jobs = JobService(settings, backend=Backend(client, "bench", "bench", False),
                      ledger=Ledger(home / "ledger.sqlite3"))
    # The settings carry the time-valued fields; the rest of the schedule is scaled too.
    jobs.poller._schedule = scaled(Schedule(poll_latency=args.poll_latency), speed)
    seen: dict[str, float] = {}

    def submit(prompt: str, duration: int) -> Job:
        request = jobs.prepare(prompt, model=MODEL, duration=duration, resolution="480p")
        job = jobs.submit(request, force_new=True, download=False).job
        job.on_change(lambda j: seen.setdefault(j.request_id, time.time()) if j.done else None)
        return job

    try:
        began = time.monotonic()
        learning = [submit(f"learn {d} s #{i}", d) for i in range(args.learn) for d in MEDIANS]
        for job in learning:
            job.wait(1000 / speed)
        time.sleep(0.2)
        learnt = {d: jobs.ledger.runtime_window(backend="bench", model=MODEL, resolution="480p",
                                                duration=d, media=False) for d in MEDIANS}
        print(f"\n### CV {cv}: learnt windows (service s), after {args.learn} jobs per kind"
              f" in {time.monotonic() - began:.0f} s real\n")
        print(table(["duration", "median runtime s", "window low s", "window high s"], [
            [d, f"{MEDIANS[d]:.0f}",
             f"{w.low * speed:.1f}" if w else "-", f"{w.high * speed:.1f}" if w else "-"]
            for d, w in learnt.items()]))

        windows: dict[str, RuntimeWindow | None] = {}
        observers = [observer("fixed 1 s polling", service.url, scaled(FIXED_1S, speed),
                              windows),
                     observer(f"previous adaptive, poll_latency {args.poll_latency:g} s",
                              service.url, scaled(replace(PREVIOUS, poll_latency=args.poll_latency),
                                                  speed), windows)]
        observers += [observer(f"adaptive, poll_latency {x:g} s", service.url,
                               scaled(Schedule(poll_latency=x), speed), windows)
                      for x in curve if x != args.poll_latency]
        measured: list[Job] = []
        for index in range(args.measure):
            for duration in MEDIANS:
                job = submit(f"measure {duration} s #{index}", duration)
                windows[job.request_id] = learnt[duration]
                now = time.monotonic()
                for obs in observers:
                    obs.follow(job.request_id, now)
                measured.append(job)
        for obs in observers:
            obs.expected = len(measured)
        for job in measured:
            job.wait(1000 / speed)
        for obs in observers:
            obs.done.wait(60)
        time.sleep(0.2)
        ids = [job.request_id for job in measured]
        done = {rid: service.completed_at(rid) for rid in ids}
        counted = service.status_requests
        results = {}
        others = Counter[str]()
        for obs in observers:
            others.update(obs.requests)
            results[obs.name] = Result(obs.name, [(obs.seen[r] - done[r]) * speed for r in ids],
                                       [obs.requests[r] for r in ids])
            obs.poller.stop()
        session = f"adaptive, poll_latency {args.poll_latency:g} s (JobService, ledger)"
        results[session] = Result(session, [(seen[r] - done[r]) * speed for r in ids],
                                  [counted[r] - others[r] for r in ids])
        runtimes = [service.runtime(r) for r in ids]
        print(f"\nmeasured {len(ids)} jobs, runtimes {min(runtimes):.0f}-{max(runtimes):.0f} s "
              f"(CV of the draws {statistics.pstdev(runtimes) / statistics.mean(runtimes):.2f}"
              f" over kinds of different medians), {time.monotonic() - began:.0f} s real")
        return results
    finally:
        jobs.close()
        service.stop()


def report(cv: float, results: dict[str, Result], targets: tuple[float, float, float],
           poll_latency: float) -> None:
    fixed = results["fixed 1 s polling"]
    session = next(r for name, r in results.items() if "JobService" in name)
    print(f"\n### CV {cv}: the same jobs, seen by each poller (latency in service seconds)\n")
    previous = [r for name, r in results.items() if name.startswith("previous")]
    curve = sorted((r for r in results.values()
                    if r is not session and r is not fixed and r not in previous),
                   key=lambda r: float(r.name.rsplit(" ", 2)[-2]))
    order = [session, fixed, *previous, *curve]
    print(table(HEADER, [row(r, fixed) for r in order]))
    p95_max, max_max, ratio_max = targets
    ratio = session.total / fixed.total
    met = p95(session.latencies) <= p95_max and max(session.latencies) <= max_max and (
        ratio <= ratio_max)
    print(f"\ntarget at poll_latency {poll_latency:g} s: p95 <= {p95_max:g} s, "
          f"max <= {max_max:g} s, requests <= {ratio_max:g}x fixed 1 s; measured p95 "
          f"{p95(session.latencies):.2f} s, max {max(session.latencies):.2f} s, "
          f"{ratio:.3f}x -> {'MET' if met else 'MISSED'}")
    print("physical limit: 1 request per job, 0 s latency; the session used "
          f"{statistics.mean(session.requests):.1f} requests per job "
          f"({statistics.mean(session.requests) - 1:.1f} more than the limit), fixed 1 s "
          f"{statistics.mean(fixed.requests):.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--service", choices=("scripted", "emulator"), default="scripted")
    parser.add_argument("--speed", type=float, default=4.0,
                        help="service time runs this many times faster than real")
    parser.add_argument("--learn", type=int, default=10, help="learning jobs per duration")
    parser.add_argument("--measure", type=int, default=6, help="measured jobs per duration")
    parser.add_argument("--poll-latency", type=float, default=2.0,
                        help="the JobService's poll_latency (service seconds)")
    parser.add_argument("--curve", default="0.5,1,2,3,4",
                        help="poll_latency values tracked side by side on the same jobs")
    parser.add_argument("--cvs", default="0,0.35")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    curve = [float(x) for x in args.curve.split(",")]
    began = time.monotonic()
    print(f"# poll_latency: {time.strftime('%Y-%m-%d %H:%M')}, Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, service {args.service}, "
          f"speed {args.speed:g}")
    targets = {0.0: (1.0, 4.0, 0.25), 0.35: (2.0, 4.0, 0.4)}
    for cv in (float(x) for x in args.cvs.split(",")):
        results = run_cv(args, cv, curve)
        report(cv, results, targets.get(cv, (2.0, 4.0, 0.4)), args.poll_latency)
    print(f"\n(total {time.monotonic() - began:.0f} s, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
