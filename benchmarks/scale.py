"""1,000 jobs in flight in one real kernel, and how much a finished job adds to a saved notebook.

1. An emulator runs in this process (rate limit 1,000,000/min, so it never answers 429),
   then a real IPython kernel (jupyter_client) with SEEDANCE_BASE_URL/SEEDANCE_API_KEY/
   SEEDANCE_HOME pointing at it. In the kernel: ``%load_ext seedance_jupyter``,
   ``%config SeedanceMagics.requests_per_minute = 240``, the session is created, and
   then one cell submits 1,000 jobs through ``KernelSession.submit``, and cells of 20
   show a live card for each (``show_card``: a widget per job, as ``%%seedance`` cells
   do).

   Measured, each against a baseline taken in the same kernel, in the same run:

   * the widget comm messages the kernel sends (iopub ``comm_msg``) in that window,
     while no job changes status: each card's elapsed clock ticks in the browser;
   * the kernel process's CPU time (utime+stime of /proc/<pid>/stat) over a 60 s window
     right after the submitting cell returned, as % of one core, against a 60 s window
     with the extension loaded, the session created and 0 jobs;
   * the kernel's RSS (VmRSS) after the window, over its RSS right after ``%load_ext``
     (and over the session-created, 0-job RSS, which isolates the per-job cost);
   * the status requests the emulator received in the window, per minute (the budget
     is 240/min), plus the busiest 60 s sliding window of the whole run;
   * a trivial cell's latency (median of 30 ``pass``, client send -> idle status) with
     the 500 jobs in flight, against the same kernel idle before the submission; a
     second kernel R with the same setup and never a job runs its ``pass`` cells
     interleaved with L's, and the paired ratio (L/R with jobs) / (L/R before) cancels
     the machine's drift between the two moments.

   The jobs are slow (speed 0.005: 200 s queued, then processing until 600 s after
   creation, so no status changes during the measurement) and the emulator is started with
   ``Faults(fail_rate=1.0)`` so it renders no video. Rendering starts as soon as a
   job is created, not when it is due (about 1.4 s of CPU per 4 s 480p video here:
   500 of them would keep both render threads, so both cores of a 2-core machine,
   busy for about 6 minutes and corrupt every number above). Every job is cancelled
   at the end, before it could reach ``failed``.

2. Saved-notebook growth per finished job: nbclient executes a notebook with
   ``%load_ext`` and N=1, then N=5 ``%%seedance -d 4 -r 480p --wait`` cells against a
   fast emulator (speed 20, real videos), each saved with nbformat;
   growth per job = (bytes(N=5) - bytes(N=1)) / 4, with the share that is nbclient's
   saved widget state (``metadata.widgets``) shown apart.

No network and no key: everything is on loopback with a made-up key; SEEDANCE_HOME and
the working directories are temporary.

Run from the repository root: ``.venv/bin/python benchmarks/scale.py`` (about 3 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
import requests
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tables import table  # noqa: E402

from seedance_jupyter.emulator import Emulator, Faults, start  # noqa: E402
from tests.kernel_harness import Kernel  # noqa: E402

KEY = "sd2_live_benchmark_scale_0123456789"
API = "/api/open/v1"
TICKS = os.sysconf("SC_CLK_TCK")
BUDGET = 240


# -- helpers -----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # after "pid (comm)": state is fields[0]; utime/stime are stat fields 14/15
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_status(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)


def rss_mib(pid: int) -> float:
    return proc_status(pid, "VmRSS") / 1024


def ratio(value: float, base: float) -> str:
    return f"x{value / base:.2f}" if base > 0 else "n/a (baseline 0)"


def is_status(r: Any) -> bool:
    return (r.method == "GET" and r.path.startswith(f"{API}/video/generations/")
            and not r.path.endswith("/cancel"))


def busiest_window(times: list[float], span: float = 60.0) -> int:
    """Most requests in any ``span``-second sliding window."""
    times = sorted(times)
    best = lo = 0
    for hi, t in enumerate(times):
        while t - times[lo] >= span:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def check(kernel: Kernel, code: str, timeout: float = 60) -> str:
    ex = kernel.execute(code, timeout=timeout)
    if ex.reply.get("status") != "ok":
        raise SystemExit(f"cell failed: {code[:60]!r}: {ex.reply.get('ename')}: "
                         f"{ex.reply.get('evalue')}\n{ex.text()}")
    return ex.stdout()


def pass_latencies(kernels: dict[str, Kernel], count: int) -> dict[str, list[float]]:
    """Round trips of ``pass`` (execute sent -> reply and idle received), in ms, on each
    kernel, interleaved in random order so that both see the same machine."""
    for kernel in kernels.values():
        for _ in range(3):
            kernel.execute("pass")
    order = [name for name in kernels for _ in range(count)]
    random.shuffle(order)
    out: dict[str, list[float]] = {name: [] for name in kernels}
    for name in order:
        started = time.perf_counter()
        kernels[name].execute("pass")
        out[name].append((time.perf_counter() - started) * 1000)
        time.sleep(random.uniform(0.02, 0.08))
    return out


def answer_time(emu: Emulator, request_id: str, count: int = 20) -> float:
    """Median ms of one status GET from this process, through the package's Client."""
    from seedance_jupyter.jobs.client import Client

    client = Client(api_key=KEY, base_url=emu.url)
    client.generations.get(request_id, retry=False)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        client.generations.get(request_id, retry=False)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# -- part 1: 500 jobs in flight --------------------------------------------------------------
SUBMIT = """\
import time as _time
_t0 = _time.perf_counter()
_jobs = []
for _i in range({jobs}):
    _jobs.append(_s.submit(_s.prepare(f"job {{_i}}", duration=4, resolution="480p"),
                           force_new=True).job)
print(round(_time.perf_counter() - _t0, 3))
"""
#: Cards go out in cells of CARDS_PER_CELL: each sends about 20 widget models and two
#: displays, and more than ~1,000 iopub messages per cell overflow ZMQ's default
#: high-water mark while the harness waits for the shell reply (the idle is lost).
CARDS = """\
for _job in _jobs[{start}:{end}]:
    _m.show_card(_job)
"""
CARDS_PER_CELL = 20


SETUP = f"""\
%load_ext seedance_jupyter
%config SeedanceMagics.requests_per_minute = {BUDGET}
"""
SESSION = """\
import seedance_jupyter
_s = seedance_jupyter.current_session()
_m = get_ipython().magics_manager.registry['SeedanceMagics']
_s.prepare('warm up', duration=4, resolution='480p')
print(_s.poller.budget.configured * 60, _s.poller.budget.capacity)
"""


def scale(tmp: Path, jobs: int, window: float, pings: int) -> dict[str, Any]:
    emu = start(api_key=KEY, speed=0.005, output_dir=tmp / "emu-scale",
                rate_limit_per_minute=1_000_000, faults=Faults(fail_rate=1.0))
    env = {"SEEDANCE_BASE_URL": emu.url, "SEEDANCE_API_KEY": KEY,
           "IPYTHONDIR": str(tmp / "ipython")}
    for name in ("work-scale", "work-ref"):
        (tmp / name).mkdir()
    kernel = Kernel(tmp / "work-scale", {**env, "SEEDANCE_HOME": str(tmp / "home-scale")})
    # R: the same setup, never a job; only a reference for the latency of `pass`
    ref = Kernel(tmp / "work-ref", {**env, "SEEDANCE_HOME": str(tmp / "home-ref")})
    both = {"L": kernel, "R": ref}
    r: dict[str, Any] = {"jobs": jobs, "window": window}
    try:
        pid = int(check(kernel, "import os; print(os.getpid())").strip())
        r["rss_bare"] = rss_mib(pid)
        check(kernel, "%load_ext seedance_jupyter")
        time.sleep(1)
        r["rss_loaded"] = rss_mib(pid)
        check(kernel, f"%config SeedanceMagics.requests_per_minute = {BUDGET}")
        budget = check(kernel, SESSION)
        r["budget_in_kernel"], r["bucket_capacity"] = map(float, budget.split())
        check(ref, SETUP)
        check(ref, SESSION)
        time.sleep(1)
        r["rss_session"] = rss_mib(pid)
        r["threads_idle"] = proc_status(pid, "Threads")

        r["lat_idle"] = pass_latencies(both, pings)
        print(f"baseline: {window:.0f} s window with 0 jobs...", flush=True)
        c0, w0 = cpu_seconds(pid), time.monotonic()
        time.sleep(window)
        r["cpu_idle"] = 100 * (cpu_seconds(pid) - c0) / (time.monotonic() - w0)

        emu.clear_requests()
        print(f"submitting {jobs} jobs...", flush=True)
        started = time.time()
        out = check(kernel, SUBMIT.format(jobs=jobs), timeout=600).split()
        r["submit_s_kernel"] = float(out[0])
        r["submit_s"] = time.time() - started
        print(f"showing {jobs} live cards...", flush=True)
        started = time.time()
        for first in range(0, jobs, CARDS_PER_CELL):
            check(kernel, CARDS.format(start=first, end=first + CARDS_PER_CELL), timeout=120)
        r["cards_s"] = time.time() - started
        print(f"loaded: {window:.0f} s window with {jobs} jobs in flight...", flush=True)
        kernel.drain(2)  # the cards' displays and widget models, sent by the cell
        seen_before = len(kernel.iopub)
        t0, c0, w0 = time.time(), cpu_seconds(pid), time.monotonic()
        kernel.drain(window)  # records iopub while it waits
        r["cpu_loaded"] = 100 * (cpu_seconds(pid) - c0) / (time.monotonic() - w0)
        traffic = kernel.iopub[seen_before:]
        r["comm_msgs"] = sum(1 for m in traffic if m["msg_type"] == "comm_msg")
        r["iopub_msgs"] = len(traffic)
        t1 = time.time()
        r["rss_jobs"] = rss_mib(pid)
        r["threads_jobs"] = proc_status(pid, "Threads")

        r["lat_jobs"] = pass_latencies(both, pings)
        r["still_tracked"] = int(check(kernel, "print(_s.poller.active)").strip())
        seen = emu.requests  # everything up to here came from the kernel L
        status = [q for q in seen if is_status(q)]
        in_window = [q for q in status if t0 <= q.time < t1]
        r["status_window"] = len(in_window)
        r["status_per_min"] = len(in_window) * 60 / (t1 - t0)
        r["jobs_polled"] = len({q.path for q in in_window})
        r["status_429"] = sum(1 for q in status if q.status == 429)
        r["creates"] = sum(1 for q in seen
                           if q.method == "POST" and q.path.endswith("/generations"))
        r["status_total"] = len(status)
        r["status_span"] = status[-1].time - status[0].time if status else 0.0
        r["busiest_60s"] = busiest_window([q.time for q in status])
        r["states_at_end"] = ",".join(sorted({j["status"] for j in emu.list_jobs()}))
        r["answer_ms"] = answer_time(emu, status[0].path.rsplit("/", 1)[1])
    finally:
        kernel.shutdown()
        ref.shutdown()
        cancelled = 0
        with requests.Session() as http:
            for job in emu.list_jobs():
                if job["status"] in ("queued", "processing"):
                    resp = http.post(f"{emu.url}{API}/video/generations/{job['request_id']}/cancel",
                                     headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
                    cancelled += resp.status_code == 200
        r["cancelled"] = cancelled
        emu.stop()
    return r


def report_scale(r: dict[str, Any]) -> None:
    n = r["jobs"]
    med = {k: {n: statistics.median(v) for n, v in r[k].items()} for k in ("lat_idle", "lat_jobs")}
    p90 = {k: {n: statistics.quantiles(v, n=10)[-1] for n, v in r[k].items()}
           for k in ("lat_idle", "lat_jobs")}
    li, lj = med["lat_idle"]["L"], med["lat_jobs"]["L"]
    qi, qj = p90["lat_idle"]["L"], p90["lat_jobs"]["L"]
    ri, rj = med["lat_idle"]["R"], med["lat_jobs"]["R"]
    paired = (lj / rj) / (li / ri)
    print(f"\n## {n} jobs in flight in one kernel (budget {BUDGET} status requests/min)\n")
    print(f"submitting {n} jobs: {r['submit_s']:.1f} s "
          f"({r['submit_s_kernel']:.1f} s in the cell, {1000 * r['submit_s_kernel'] / n:.1f} ms "
          f"per job); showing their live cards: {r['cards_s']:.1f} s; "
          f"{r['creates']} creates received; budget read back in the kernel: "
          f"{r['budget_in_kernel']:g}/min, token bucket capacity {r['bucket_capacity']:g}; "
          f"one status answer of the emulator, from this process: {r['answer_ms']:.1f} ms "
          f"(median of 20)\n")
    print(table(
        ["measure", "0 jobs (same-run baseline)", f"{n} jobs in flight", "ratio"],
        [
            [f"widget comm messages sent per second ({r['window']:.0f} s window, "
             f"{r['iopub_msgs']} iopub messages in all)", "",
             f"{r['comm_msgs'] / r['window']:.2f}", ""],
            [f"kernel CPU, % of one core ({r['window']:.0f} s window)",
             f"{r['cpu_idle']:.2f} %", f"{r['cpu_loaded']:.2f} %",
             ratio(r["cpu_loaded"], r["cpu_idle"])],
            [f"`pass` latency, median of {len(r['lat_jobs']['L'])} (ms)", f"{li:.2f}",
             f"{lj:.2f}", ratio(lj, li)],
            ["`pass` latency, p90 (ms)", f"{qi:.2f}", f"{qj:.2f}", ratio(qj, qi)],
            ["reference kernel R (never a job): `pass` median (ms)", f"{ri:.2f}", f"{rj:.2f}",
             ratio(rj, ri)],
            ["`pass` median, paired: (L/R with jobs) / (L/R before)", "", "",
             f"x{paired:.2f}"],
            ["kernel CPU ms per status request sent in the window", "",
             f"{10 * r['cpu_loaded'] * r['window'] / max(r['status_window'], 1):.1f}", ""],
            ["kernel threads", r["threads_idle"], r["threads_jobs"], ""],
        ]))
    print()
    print(table(
        ["kernel RSS (VmRSS)", "MiB", "over `%load_ext`", "per job"],
        [
            ["before `%load_ext`", f"{r['rss_bare']:.1f}", "", ""],
            ["after `%load_ext` (baseline)", f"{r['rss_loaded']:.1f}", "+0.0 MiB", ""],
            ["session created, 0 jobs", f"{r['rss_session']:.1f}",
             f"+{r['rss_session'] - r['rss_loaded']:.1f} MiB", ""],
            [f"{n} jobs in flight (end of window)", f"{r['rss_jobs']:.1f}",
             f"+{r['rss_jobs'] - r['rss_loaded']:.1f} MiB",
             f"{1024 * (r['rss_jobs'] - r['rss_session']) / n:.1f} KiB over 0 jobs"],
        ]))
    print()
    verdict = "within" if r["status_per_min"] <= BUDGET else "OVER"
    busiest = "within" if r["busiest_60s"] <= BUDGET else "OVER"
    print(table(
        ["status requests (emulator's record)", "value", f"vs budget {BUDGET}/min"],
        [
            [f"in the {r['window']:.0f} s window, per minute", f"{r['status_per_min']:.1f}",
             f"{verdict} ({r['status_per_min'] / BUDGET:.3f} of budget)"],
            ["distinct jobs polled in the window", f"{r['jobs_polled']} of {n}", ""],
            ["busiest 60 s sliding window, whole run", r["busiest_60s"],
             f"{busiest} ({r['busiest_60s'] / BUDGET:.3f} of budget)"],
            ["all status requests, first to last",
             f"{r['status_total']} in {r['status_span']:.1f} s",
             f"{60 * r['status_total'] / max(r['status_span'], 1e-9):.1f}/min"],
            ["answered 429", r["status_429"], ""],
        ]))
    print(f"\njobs still tracked at the end: {r['still_tracked']}; emulator statuses at the end: "
          f"{r['states_at_end']}; cancelled afterwards: {r['cancelled']}")


# -- part 2: notebook growth -----------------------------------------------------------------
def notebook_bytes(tmp: Path, emu: Emulator, cells: int) -> dict[str, Any]:
    work, home = tmp / f"nb{cells}", tmp / f"home-nb{cells}"
    work.mkdir()
    os.environ.update({"SEEDANCE_BASE_URL": emu.url, "SEEDANCE_API_KEY": KEY,
                       "SEEDANCE_HOME": str(home), "IPYTHONDIR": str(tmp / "ipython")})
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%load_ext seedance_jupyter")] + [
        nbformat.v4.new_code_cell(f"%%seedance -d 4 -r 480p --wait\nfinished clip number {i}")
        for i in range(1, cells + 1)
    ]
    started = time.monotonic()
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(work)}}).execute()
    seconds = time.monotonic() - started
    path = work / "saved.ipynb"
    nbformat.write(nb, path)
    widgets = nb.metadata.pop("widgets", None)
    models = len(widgets["application/vnd.jupyter.widget-state+json"]["state"]) if widgets else 0
    bare = work / "no-widget-state.ipynb"
    nbformat.write(nb, bare)
    html = [len(o.get("data", {}).get("text/html", "")) for c in nb.cells[1:] for o in c.outputs]
    videos = list((work / "seedance_outputs").glob("*.mp4"))
    return {
        "bytes": path.stat().st_size, "no_widgets": bare.stat().st_size,
        "has_widget_state": widgets is not None, "models": models, "seconds": seconds,
        "largest_output": max((len(json.dumps(o)) for c in nb.cells for o in c.outputs),
                              default=0),
        "html_per_cell": max(html, default=0), "videos": len(videos),
        "embedded": any("base64" in json.dumps(c.outputs) for c in nb.cells),
    }


def growth(tmp: Path) -> dict[int, dict[str, Any]]:
    emu = start(api_key=KEY, speed=20.0, output_dir=tmp / "emu-nb")
    saved = {k: os.environ.get(k) for k in
             ("SEEDANCE_BASE_URL", "SEEDANCE_API_KEY", "SEEDANCE_HOME", "IPYTHONDIR")}
    try:
        return {n: notebook_bytes(tmp, emu, n) for n in (1, 5)}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        emu.stop()


def report_growth(g: dict[int, dict[str, Any]]) -> None:
    one, five = g[1], g[5]
    per_job = (five["bytes"] - one["bytes"]) / 4
    per_job_bare = (five["no_widgets"] - one["no_widgets"]) / 4
    print("\n## Saved notebook growth per finished job (nbclient + nbformat.write)\n")
    print(table(
        ["notebook", "bytes", "bytes without metadata.widgets", "videos on disk",
         "run time (s)"],
        [[f"%load_ext + {n} finished cell(s)", g[n]["bytes"], g[n]["no_widgets"],
          g[n]["videos"], f"{g[n]['seconds']:.1f}"] for n in (1, 5)]
        + [["growth per job: (N=5 - N=1) / 4", f"{per_job:.0f}", f"{per_job_bare:.0f}", "", ""]]))
    print(f"\nlargest single output: {five['largest_output']} bytes; text/html per card: "
          f"{five['html_per_cell']} bytes; video bytes embedded in the notebook: "
          f"{'yes' if five['embedded'] else 'no'} (the card links the downloaded file); "
          f"nbclient saved widget state: {'yes' if five['has_widget_state'] else 'no'}, "
          f"{(five['models'] - one['models']) / 4:g} widget models per finished card "
          f"({five['models']} for N=5, {one['models']} for N=1)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--pings", type=int, default=30)
    parser.add_argument("--skip-notebook", action="store_true")
    args = parser.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="seedance-scale-") as name:
        tmp = Path(name)
        report_scale(scale(tmp, args.jobs, args.window, args.pings))
        if not args.skip_notebook:
            report_growth(growth(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
