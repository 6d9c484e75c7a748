"""What the extension costs a kernel: a cell's time with 100 jobs in flight, and load time.

1. A real IPython kernel (jupyter_client) runs ``pass`` cells with no job, then
   while 100 jobs submitted through ``%%seedance`` are in flight (each with its
   live card; the kernel's poller and the cards' once-a-second tick run on the
   kernel's loop), then again with no job after they were cancelled. The
   emulator runs in this process, slow (speed 0.01: a 15 s 480p job stays in
   flight for 850 s) and with ``fail_rate=1`` so it renders no video: the jobs
   end ``failed`` long after the benchmark, and no render thread competes for
   the CPU with the kernel.
2. Fresh subprocesses, interleaved: ``%load_ext seedance_jupyter`` in a new
   InteractiveShell against importing ipywidgets in one, and ``import
   seedance_jupyter`` against ``import ipywidgets``; then which heavy modules
   ``import seedance_jupyter`` and ``%load_ext`` pull in.

No network and no key: the kernel talks to the emulator on loopback with the
emulator's public key; SEEDANCE_HOME and IPYTHONDIR are temporary directories.

Run: ``.venv/bin/python benchmarks/kernel_load.py`` (about 2 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager
from tables import table

from seedance_jupyter.emulator import Emulator, Faults, start
from seedance_jupyter.jobs.client import Client

SHELL = ("from IPython.core.interactiveshell import InteractiveShell; "
         "s = InteractiveShell.instance()")
COMMANDS = {
    "python -c pass": "pass",
    "InteractiveShell": SHELL,
    "InteractiveShell + %load_ext seedance_jupyter":
        SHELL + "; s.run_line_magic('load_ext', 'seedance_jupyter')",
    "InteractiveShell + import ipywidgets": SHELL + "; import ipywidgets",
    "import seedance_jupyter": "import seedance_jupyter",
    "import ipywidgets": "import ipywidgets",
}
HEAVY = ["requests", "ipywidgets", "av", "numpy", "seedance_jupyter.emulator",
         "seedance_jupyter.api.transport", "seedance_jupyter.kernel.card"]


def p90(values: list[float]) -> float:
    data = sorted(values)
    return data[max(0, -(-9 * len(data) // 10) - 1)]


# -- the kernel ------------------------------------------------------------------------------
@dataclass
class Timing:
    round_trip: float  # client: execute sent -> status idle received
    kernel: float  # kernel: status busy -> status idle (message header dates)


class Kernel:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(cwd), env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.comm_msgs = 0

    def _count(self, msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "comm_msg":
            self.comm_msgs += 1

    def drain(self) -> None:
        """Read whatever iopub traffic is waiting, so it is not parsed inside a timing."""
        while True:
            try:
                self._count(self.client.get_iopub_msg(timeout=0))
            except queue.Empty:
                return

    def run(self, code: str, timeout: float = 60) -> tuple[Timing, dict[str, Any], list[Any]]:
        self.drain()
        started = time.perf_counter()
        msg_id = self.client.execute(code)
        busy = idle = None
        outputs = []
        deadline = time.monotonic() + timeout
        while idle is None:
            msg = self.client.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
            self._count(msg)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status":
                state = msg["content"]["execution_state"]
                if state == "busy":
                    busy = msg["header"]["date"]
                elif state == "idle":
                    idle = msg["header"]["date"]
            else:
                outputs.append(msg)
        round_trip = time.perf_counter() - started
        reply = self.client.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.client.get_shell_msg(timeout=timeout)
        kernel = (idle - busy).total_seconds() if busy is not None else float("nan")
        return Timing(round_trip, kernel), reply["content"], outputs

    def check(self, code: str) -> str:
        _, reply, outputs = self.run(code)
        if reply["status"] != "ok":
            raise SystemExit(f"cell failed: {code!r}: {reply.get('ename')}: {reply.get('evalue')}")
        return "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def time_pass(kernels: list[Kernel], runs: int, rng: random.Random) -> list[list[Timing]]:
    """``runs`` executions of ``pass`` on each kernel, interleaved in random order and
    spread over several seconds (so over several of the cards' ticks)."""
    timings: list[list[Timing]] = [[] for _ in kernels]
    for _ in range(runs):
        order = list(range(len(kernels)))
        rng.shuffle(order)
        for index in order:
            time.sleep(rng.uniform(0.05, 0.25))
            timing, reply, _ = kernels[index].run("pass")
            assert reply["status"] == "ok"
            timings[index].append(timing)
    return timings


def in_flight(emu: Emulator) -> int:
    return sum(job["status"] in ("queued", "processing") for job in emu.list_jobs())


def status_requests(emu: Emulator, since: float, until: float) -> int:
    return sum(1 for r in emu.requests
               if r.method == "GET" and "/video/generations/" in r.path and since <= r.time < until)


POLLER_ACTIVE = ("print(get_ipython().magics_manager.registry['SeedanceMagics']"
                 ".session.poller.active)")


def kernel_benchmark(home: Path, jobs: int, runs: int) -> dict[str, Any]:
    """Kernel L gets the jobs; kernel R (reference) never has any. Both have the extension
    loaded and run the same interleaved ``pass`` cells before, during and after."""
    emu = start(speed=0.01, faults=Faults(fail_rate=1.0), output_dir=home / "emulator")
    kernels = []
    for name in ("loaded", "reference"):
        env = {**os.environ, "SEEDANCE_HOME": str(home / f"seedance-{name}"),
               "SEEDANCE_BASE_URL": emu.url, "SEEDANCE_API_KEY": emu.api_key,
               "IPYTHONDIR": str(home / f"ipython-{name}")}
        workdir = home / f"notebook-{name}"
        workdir.mkdir()
        kernels.append(Kernel(workdir, env))
    loaded = kernels[0]
    rng = random.Random(0)
    result: dict[str, Any] = {}
    try:
        for kernel in kernels:
            kernel.check("%load_ext seedance_jupyter")
            kernel.check("%seedance models")  # both kernels have started their session
        time_pass(kernels, 5, rng)  # warm-up
        result["before"] = time_pass(kernels, runs, rng)

        submit_times = []
        for index in range(jobs):
            timing, reply, _ = loaded.run(
                f"%%seedance -d 15 -r 480p --new\nbenchmark job {index}: a lighthouse in fog"
            )
            if reply["status"] != "ok":
                raise SystemExit(f"submission {index} failed: {reply.get('evalue')}")
            submit_times.append(timing.round_trip)
        result["submit"] = submit_times
        result["kernel_active"] = int(loaded.check(POLLER_ACTIVE))
        result["emu_in_flight"] = in_flight(emu)
        time.sleep(3)  # let the schedule and the cards' tick reach their steady pace
        comms_before = loaded.comm_msgs
        began = time.time()
        result["during"] = time_pass(kernels, runs, rng)
        ended = time.time()
        loaded.drain()
        result["window"] = ended - began
        result["status_rps"] = status_requests(emu, began, ended) / (ended - began)
        result["comm_ps"] = (loaded.comm_msgs - comms_before) / (ended - began)
        result["emu_in_flight_after"] = in_flight(emu)
        result["kernel_active_after"] = int(loaded.check(POLLER_ACTIVE))

        client = Client(api_key=emu.api_key, base_url=emu.url)
        for job in emu.list_jobs():
            if job["status"] in ("queued", "processing"):
                client.cancel(job["request_id"])
        deadline = time.monotonic() + 120
        while int(loaded.check(POLLER_ACTIVE)) and time.monotonic() < deadline:
            time.sleep(2)
        result["kernel_active_end"] = int(loaded.check(POLLER_ACTIVE))
        time.sleep(2)
        result["after"] = time_pass(kernels, runs, rng)
    finally:
        for kernel in kernels:
            kernel.shutdown()
        emu.stop()
    return result


def median_ms(timings: list[Timing], attr: str) -> float:
    return statistics.median(getattr(t, attr) for t in timings) * 1000


def report_kernel(result: dict[str, Any], jobs: int) -> None:
    print(f"\n## A trivial cell (`pass`) in a real kernel, with and without {jobs} jobs "
          "in flight\n")
    print(f"jobs in flight during the loaded runs: {result['emu_in_flight']} on the emulator, "
          f"{result['kernel_active']} tracked by kernel L's poller at the start, "
          f"{result['emu_in_flight_after']} / {result['kernel_active_after']} at the end; "
          f"{result['kernel_active_end']} once cancelled")
    print(f"load on kernel L meanwhile: {result['status_rps']:.1f} status requests/s, "
          f"{result['comm_ps']:.0f} widget comm messages/s (card ticks) over "
          f"{result['window']:.1f} s")
    print(f"submitting {jobs} cells: median {statistics.median(result['submit']) * 1000:.0f} ms "
          f"each (the first: {result['submit'][0] * 1000:.0f} ms)\n")
    rows = []
    for key, label in (("before", "before: no job"), ("during", f"during: L has {jobs} jobs"),
                       ("after", "after: jobs cancelled")):
        l_runs, r_runs = result[key]
        rows.append([
            label, len(l_runs), f"{median_ms(l_runs, 'round_trip'):.2f}",
            f"{p90([t.round_trip * 1000 for t in l_runs]):.2f}",
            f"{median_ms(r_runs, 'round_trip'):.2f}",
            f"{p90([t.round_trip * 1000 for t in r_runs]):.2f}",
            f"{median_ms(l_runs, 'round_trip') / median_ms(r_runs, 'round_trip'):.2f}",
            f"{median_ms(l_runs, 'kernel'):.2f}", f"{median_ms(r_runs, 'kernel'):.2f}",
        ])
    print("L: the kernel that gets the jobs; R: a kernel with the extension loaded and no job,")
    print("its `pass` cells interleaved with L's. Round trip: execute sent -> status idle")
    print("received; kernel: busy -> idle message timestamps.\n")
    print(table(["state", "runs", "L round trip median ms", "L p90 ms", "R median ms",
                 "R p90 ms", "L/R", "L kernel median ms", "R kernel median ms"], rows))

    def med(key: str, which: int, attr: str = "round_trip") -> float:
        return median_ms(result[key][which], attr)

    idle_l = median_ms(result["before"][0] + result["after"][0], "round_trip")
    same_kernel = med("during", 0) / idle_l
    idle_pair = statistics.mean([med("before", 0) / med("before", 1),
                                 med("after", 0) / med("after", 1)])
    paired = (med("during", 0) / med("during", 1)) / idle_pair
    kernel_side = med("during", 0, "kernel") / median_ms(
        result["before"][0] + result["after"][0], "kernel")
    print(f"\nratios (medians): same kernel, during / (before + after pooled): round trip "
          f"{same_kernel:.2f}x, kernel busy->idle {kernel_side:.2f}x; paired, (L/R during) / "
          f"(L/R before and after): {paired:.2f}x")
    print(f"target (within 1.1x of idle), paired round trip (the drift-free estimate): "
          f"{'MET' if paired <= 1.1 else 'MISSED'}; same kernel only: "
          f"{'MET' if same_kernel <= 1.1 else 'MISSED'} (before/after drift of this kernel: "
          f"{med('after', 0) / med('before', 0):.2f}x, of R: "
          f"{med('after', 1) / med('before', 1):.2f}x)")


# -- fresh subprocesses ----------------------------------------------------------------------
def subprocess_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SEEDANCE_API_KEY", "SEEDANCE_BASE_URL")}
    env.update(SEEDANCE_HOME=str(home / "seedance-sub"), IPYTHONDIR=str(home / "ipython-sub"))
    return env


def import_benchmark(home: Path, runs: int) -> dict[str, Any]:
    env = subprocess_env(home)
    python = sys.executable
    walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
    inner: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for round_ in range(runs + 1):  # round 0 warms the file cache and IPYTHONDIR, not counted
        for name, code in COMMANDS.items():
            started = time.perf_counter()
            subprocess.run([python, "-c", code], env=env, check=True, capture_output=True)
            wall = time.perf_counter() - started
            timed = ("import time as _t; _t0 = _t.perf_counter(); " + code
                     + "; print(_t.perf_counter() - _t0)")
            out = subprocess.run([python, "-c", timed], env=env, check=True,
                                 capture_output=True, text=True).stdout
            if round_:
                walls[name].append(wall)
                inner[name].append(float(out.strip().splitlines()[-1]))
    check = ("import sys, json; {stmt}; print(json.dumps({{m: m in sys.modules for m in {mods}}}))")
    modules = {}
    for label, stmt in (("import seedance_jupyter", "import seedance_jupyter"),
                        ("%load_ext seedance_jupyter", COMMANDS[
                            "InteractiveShell + %load_ext seedance_jupyter"])):
        out = subprocess.run([python, "-c", check.format(stmt=stmt, mods=HEAVY)], env=env,
                             check=True, capture_output=True, text=True).stdout
        modules[label] = json.loads(out.strip().splitlines()[-1])
    return {"walls": walls, "inner": inner, "modules": modules}


def report_imports(result: dict[str, Any], runs: int) -> None:
    walls, inner = result["walls"], result["inner"]
    print(f"\n## Load time in fresh subprocesses (median of {runs} interleaved runs each)\n")
    rows = [[name, f"{statistics.median(walls[name]) * 1000:.0f}",
             f"{statistics.median(inner[name]) * 1000:.0f}"] for name in COMMANDS]
    print(table(["python -c ...", "process wall ms", "statement only ms"], rows))

    def ratio(data: dict[str, list[float]], a: str, b: str) -> float:
        return statistics.median(data[a]) / statistics.median(data[b])

    ext = "InteractiveShell + %load_ext seedance_jupyter"
    wid = "InteractiveShell + import ipywidgets"
    r_wall, r_inner = ratio(walls, ext, wid), ratio(inner, ext, wid)
    print(f"\n%load_ext / import ipywidgets (both in a new InteractiveShell): "
          f"{r_wall:.2f}x process wall, {r_inner:.2f}x statement only")
    print(f"target (under 1.0x): {'MET' if r_wall < 1.0 else 'MISSED'}")
    print(f"import seedance_jupyter / import ipywidgets: "
          f"{ratio(walls, 'import seedance_jupyter', 'import ipywidgets'):.2f}x process wall, "
          f"{ratio(inner, 'import seedance_jupyter', 'import ipywidgets'):.2f}x statement only")
    print("\nModules in sys.modules afterwards:\n")
    mods = result["modules"]
    print(table(["after", *HEAVY], [[label, *("yes" if mods[label][m] else "no" for m in HEAVY)]
                                    for label in mods]))
    light = not any(mods["import seedance_jupyter"][m]
                    for m in ("requests", "ipywidgets", "av", "numpy", "seedance_jupyter.emulator"))
    print(f"\n`import seedance_jupyter` imports none of requests, ipywidgets, av, numpy, the "
          f"emulator: {'CONFIRMED' if light else 'NO'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--runs", type=int, default=60, help="pass cells per kernel and state")
    parser.add_argument("--import-runs", type=int, default=15,
                        help="runs per command (interleaved); 7 proved too few on a busy machine")
    parser.add_argument("--imports-only", action="store_true",
                        help="only part 2 (load time), not the 100-job kernel")
    args = parser.parse_args()
    print(f"# kernel_load: {time.strftime('%Y-%m-%d %H:%M')}, Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="seedance-bench-") as tmp:
        home = Path(tmp)
        if not args.imports_only:
            report_kernel(kernel_benchmark(home, args.jobs, args.runs), args.jobs)
        report_imports(import_benchmark(home, args.import_runs), args.import_runs)
    print(f"\n(total {time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
