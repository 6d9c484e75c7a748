"""The poller's schedule alone, on a simulated clock: latency and requests over many seeds.

``poll_latency.py`` measures the real poller against a loopback server, but on a
loaded 2-core machine its time compression (speed 4) turns scheduling delays into
seconds of noise (fixed 1 s polling then shows p95 1.6 s instead of 1.0 s). This
script runs :meth:`Schedule.delay` itself, with no HTTP and no clock, so the
numbers are the schedule's own and the same on any machine.

For each seed and each kind (median runtimes 30-120 s, as ``poll_latency.py``),
``--learn`` jobs with lognormal runtimes (``--cv``) are polled without history; each
one's bracket (last check still running, first check done) goes to
:meth:`RuntimeWindow.of`, as the ledger does. Then ``--measure`` new jobs per kind
are polled with that window by each schedule, and by fixed 1 s polling (the
baseline of the requests ratio). A job's latency is its first check at or after its
finish, minus the finish. Seeds are independent runs: the spread of their p95 is
what one run of ``poll_latency.py`` can show.

Run: ``.venv/bin/python benchmarks/poll_schedule.py`` (a few seconds).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from dataclasses import dataclass, field, replace

from tables import table

from seedance_jupyter.jobs.ledger import RuntimeWindow
from seedance_jupyter.jobs.poller import Schedule

MEDIANS = (30.0, 45.0, 60.0, 75.0, 90.0, 120.0)
#: The schedule before unsure windows were widened and checks followed the finish density.
PREVIOUS = Schedule(spread=0.0, core=1.0, late_patience=0.1)


def runtime(rng: random.Random, median: float, cv: float) -> float:
    sigma = math.sqrt(math.log(1 + cv * cv))
    return median * math.exp(rng.gauss(0.0, sigma))


def poll(schedule: Schedule, window: RuntimeWindow | None, finish: float,
         rng: random.Random) -> tuple[float, float, int]:
    """(last check before ``finish``, first check at or after it, checks made)."""
    age, before, checks = 0.0, 0.0, 0
    while age < finish:
        before = age
        age += schedule.delay(checks=checks, age=age, window=window, rng=rng)
        checks += 1
    return before, age, checks


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile, as ``poll_latency.py``."""
    data = sorted(values)
    return data[max(0, math.ceil(0.95 * len(data)) - 1)]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    seed_p95: list[float] = field(default_factory=list)


def run_seed(seed: int, args: argparse.Namespace, schedules: dict[str, Schedule],
             tallies: dict[str, Tally], fixed: Tally) -> None:
    rng = random.Random(seed)
    seed_latencies: dict[str, list[float]] = {name: [] for name in schedules}
    for median in MEDIANS:
        brackets = []
        for _ in range(args.learn):
            before, seen, _ = poll(schedules["learning"], None, runtime(rng, median, args.cv),
                                   rng)
            brackets.append((before, seen))
        window = RuntimeWindow.of(brackets)
        for _ in range(args.measure):
            finish = runtime(rng, median, args.cv)
            fixed.requests += math.ceil(finish)
            fixed.latencies.append(math.ceil(finish) - finish)
            for name, schedule in schedules.items():
                _, seen, checks = poll(schedule, window, finish, random.Random(rng.random()))
                tallies[name].latencies.append(seen - finish)
                tallies[name].requests += checks
                seed_latencies[name].append(seen - finish)
    for name, latencies in seed_latencies.items():
        tallies[name].seed_p95.append(p95(latencies))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--learn", type=int, default=10, help="learning jobs per kind")
    parser.add_argument("--measure", type=int, default=6, help="measured jobs per kind")
    parser.add_argument("--cv", type=float, default=0.35)
    parser.add_argument("--poll-latency", type=float, default=2.0)
    args = parser.parse_args()
    now = Schedule(poll_latency=args.poll_latency)
    schedules = {"learning": now, "adaptive (now)": now,
                 "previous adaptive": replace(PREVIOUS, poll_latency=args.poll_latency)}
    tallies = {name: Tally() for name in schedules}
    fixed = Tally()
    for seed in range(args.seeds):
        run_seed(seed, args, schedules, tallies, fixed)
    print(f"# poll_schedule: CV {args.cv:g}, {args.seeds} seeds x {len(MEDIANS)} kinds x "
          f"{args.measure} jobs, windows from {args.learn} jobs per kind, poll_latency "
          f"{args.poll_latency:g} s\n")
    rows = []
    for name, tally in tallies.items():
        if name == "learning":
            continue
        spread = sorted(tally.seed_p95)
        rows.append([name, f"{p95(tally.latencies):.2f}", f"{max(tally.latencies):.2f}",
                     f"{statistics.median(spread):.2f}", f"{spread[int(0.9 * len(spread))]:.2f}",
                     f"{spread[-1]:.2f}", f"{tally.requests / len(tally.latencies):.1f}",
                     f"{tally.requests / fixed.requests:.3f}"])
    rows.append(["fixed 1 s polling", f"{p95(fixed.latencies):.2f}", f"{max(fixed.latencies):.2f}",
                 "-", "-", "-", f"{fixed.requests / len(fixed.latencies):.1f}", "1.000"])
    print(table(["schedule", "p95 s (all)", "max s", "p95 per seed: median", "90th", "worst",
                 "requests/job", "requests / fixed 1 s"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
