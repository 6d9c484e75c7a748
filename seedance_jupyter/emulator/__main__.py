"""``python -m seedance_jupyter.emulator`` (or ``seedance-emulator``): serve until stopped.

Prints one line, ``Seedance emulator at http://HOST:PORT``, then serves until
SIGINT or SIGTERM, or (with ``--idle-exit``) until it has had no request and no
running job for that long. The API key is never printed. ``--port-file`` also writes
``{"pid", "port", "url"}`` there (0600, atomically) once the port is bound, and
removes it on a clean exit: how :mod:`.shared` finds a running emulator.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from .app import Emulator, start
from .faults import Faults
from .shared import LOCK_FILE, exclusive
from .state import write_private

__all__ = ["main"]

#: Most seconds between two idle checks.
_IDLE_CHECK = 1.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seedance-emulator", description="A local Seedance Open API that renders real mp4s."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", help="write {pid, port, url} here once serving")
    parser.add_argument("--api-key", help="the accepted key (default: sd2_emu_local)")
    parser.add_argument("--webhook-secret", help="signs webhooks (x-seedance-signature)")
    parser.add_argument("--webhook-url", help="default webhook URL of the key")
    parser.add_argument("--speed", type=float, default=1.0, help="job time divisor")
    parser.add_argument("--runtime-cv", type=float, default=0.3,
                        help="spread of processing times (coefficient of variation; 0: fixed)")
    parser.add_argument("--queue-mean", type=float, default=1.0,
                        help="mean extra queue seconds per job of the key in flight (0: none)")
    parser.add_argument("--seed", type=int, default=0, help="seeds runtimes and fault rates")
    parser.add_argument("--credits", type=int, default=100_000, help="starting balance")
    parser.add_argument("--rate-limit", type=int, default=1200, help="requests per minute")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of 500 answers")
    parser.add_argument("--drop-rate", type=float, default=0.0, help="share of dropped answers")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of failed jobs")
    parser.add_argument("--echo-metadata", action="store_true",
                        help="send job metadata back in status answers and webhooks")
    parser.add_argument("--state-dir", help="keep jobs and balances here across restarts")
    parser.add_argument("--output-dir", help="where the mp4s go")
    parser.add_argument("--idle-exit", type=float, default=0.0,
                        help="exit after this many seconds with no request and no running job "
                             "(0: never)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator in the foreground; returns the exit status."""
    args = _parser().parse_args(argv)
    faults = Faults(
        error_rate=args.error_rate, drop_rate=args.drop_rate, latency=args.latency,
        fail_rate=args.fail_rate,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    emulator = start(
        host=args.host, port=args.port, api_key=args.api_key, webhook_secret=args.webhook_secret,
        speed=args.speed, credits=args.credits, rate_limit_per_minute=args.rate_limit,
        default_webhook_url=args.webhook_url, faults=faults, output_dir=args.output_dir,
        state_dir=args.state_dir, seed=args.seed, runtime_cv=args.runtime_cv,
        queue_mean=args.queue_mean, echo_metadata=args.echo_metadata,
    )
    port_file = Path(args.port_file) if args.port_file else None
    try:
        if port_file is not None:
            _write_port_file(port_file, emulator.url)
        print(f"Seedance emulator at {emulator.url}", flush=True)
        _serve(emulator, stop, args.idle_exit, port_file)
    finally:
        emulator.stop()
        if port_file is not None:
            _remove_port_file(port_file)
    return 0


def _serve(emulator: Emulator, stop: threading.Event, idle_exit: float,
           port_file: Path | None) -> None:
    """Return on ``stop``, or once idle (no request, no running job) for ``idle_exit`` s."""
    busy_at, was_busy = time.time(), False
    while not stop.wait(min(_IDLE_CHECK, idle_exit / 4) if idle_exit > 0 else None):
        now = time.time()
        busy = emulator.busy(now)
        if busy or was_busy:  # idle from the first check that finds the last job over
            busy_at = now
        was_busy = busy
        if now - max(busy_at, emulator.last_request_at) >= idle_exit and _leave(
            emulator, idle_exit, port_file
        ):
            print(f"Idle for {idle_exit:g} s: the emulator exits.", flush=True)
            return


def _leave(emulator: Emulator, idle_exit: float, port_file: Path | None) -> bool:
    """Give up the port file unless a request just came; False if one did.

    Under the launchers' lock (:func:`.shared.ensure_running`): a process looking
    for this emulator either finds it answering (its probe is a request, so this
    says False) or finds it gone and starts another.
    """
    if port_file is None:
        return True
    with exclusive(port_file.with_name(LOCK_FILE)):
        if time.time() - emulator.last_request_at < idle_exit:
            return False
        _remove_port_file(port_file)
        return True


def _write_port_file(path: Path, url: str) -> None:
    port = int(url.rsplit(":", 1)[-1])
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    write_private(temp, json.dumps({"pid": os.getpid(), "port": port, "url": url}).encode())
    os.replace(temp, path)


def _remove_port_file(path: Path) -> None:
    """Remove the port file if it still names this process (a successor may own it now)."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
