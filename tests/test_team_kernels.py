"""Real kernels on one PostgreSQL ledger: three "hosts" (own SEEDANCE_HOMEs) that race,
and a database that goes away in the middle of a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seedance_jupyter.emulator import Emulator, start
from seedance_jupyter.jobs.ledger import Ledger

from .helpers import eventually
from .kernel_harness import Execution, Kernel
from .postgres import PostgresServer

pytestmark = pytest.mark.kernel
KEY = "sd2_live_team_test_key_0123456789"
LOAD = "%load_ext seedance_jupyter"
#: A 4 s 480p job costs $0.20: a $0.50 daily budget fits exactly two.
CELL = "%%seedance -d 4 -r 480p\n{prompt}"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Emulator]:
    emu = start(api_key=KEY, speed=20.0, output_dir=tmp_path / "emulator")
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def kernels(
    service: Emulator, postgres_url: str, tmp_path: Path
) -> Iterator[list[Kernel]]:
    """Three kernels in one notebook folder, each with a home of its own (as on three
    JupyterHub pods), sharing one PostgreSQL ledger as one user."""
    started: list[Kernel] = []
    try:
        for n in range(3):
            started.append(Kernel(tmp_path, {
                "SEEDANCE_BASE_URL": service.url, "SEEDANCE_API_KEY": KEY,
                "SEEDANCE_HOME": str(tmp_path / f"home{n}"), "SEEDANCE_DB_URL": postgres_url,
                "JUPYTERHUB_USER": "ana",
            }))
        yield started
    finally:
        for kernel in started:
            kernel.shutdown()


def creates(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests
               if r.method == "POST" and r.path.endswith("/generations"))


def all_at_once(kernels: list[Kernel], cells: list[str]) -> list[Execution]:
    """Send one cell to each kernel before waiting for any reply."""
    ids = [k.client.execute(cell) for k, cell in zip(kernels, cells, strict=True)]
    results = []
    for kernel, msg_id in zip(kernels, ids, strict=True):
        reply = kernel.client.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kernel.client.get_shell_msg(timeout=60)
        results.append(Execution(msg_id, reply["content"]))
    return results


def test_three_kernels_on_one_postgres_ledger_pay_once_for_an_identical_cell(
    kernels: list[Kernel], service: Emulator
) -> None:
    for kernel in kernels:
        kernel.execute(LOAD)
    replies = all_at_once(kernels, [CELL.format(prompt="one shared take")] * 3)
    assert [r.reply["status"] for r in replies] == ["ok"] * 3
    assert creates(service) == 1


def test_three_kernels_pay_exactly_what_fits_the_daily_budget(
    kernels: list[Kernel], service: Emulator, postgres_url: str
) -> None:
    for kernel in kernels:
        kernel.execute(LOAD)
        kernel.execute("%config SeedanceMagics.daily_budget_usd = 0.5")
    replies = all_at_once(kernels, [CELL.format(prompt=f"take {n}") for n in range(3)])
    refused = [r for r in replies if r.reply["status"] == "error"]
    assert len(refused) == 1 and refused[0].reply["ename"] == "BudgetExceededError"
    assert creates(service) == 2
    with Ledger(postgres_url) as ledger:
        assert sorted(r.user_name or "" for r in ledger.jobs()) == ["ana", "ana"]


@pytest.fixture
def kernel(service: Emulator, postgres_url: str, tmp_path: Path) -> Iterator[Kernel]:
    k = Kernel(tmp_path, {"SEEDANCE_BASE_URL": service.url, "SEEDANCE_API_KEY": KEY,
                          "SEEDANCE_HOME": str(tmp_path / "home"),
                          "SEEDANCE_DB_URL": postgres_url.replace("postgres@", "postgres:s3cret@")})
    try:
        yield k
    finally:
        k.shutdown()


def test_a_database_stopped_mid_session_costs_nothing_and_comes_back(
    kernel: Kernel, service: Emulator, postgres_server: PostgresServer
) -> None:
    kernel.execute(LOAD)
    assert kernel.execute(CELL.format(prompt="before")).reply["status"] == "ok"
    postgres_server.stop()
    try:
        during = kernel.execute(CELL.format(prompt="while it is down"))
    finally:
        postgres_server.start()
    assert during.reply["ename"] == "LedgerUnavailableError"
    line = during.text()
    assert "unreachable" in line and "s3cret" not in line and "127.0.0.1" in line
    assert creates(service) == 1, "nothing was sent while the ledger was down"
    after = kernel.execute(CELL.format(prompt="after"))
    assert after.reply["status"] == "ok"
    assert eventually(lambda: creates(service) == 2, timeout=30)


def test_loading_with_the_database_down_says_so_in_one_line_and_sends_nothing(
    kernel: Kernel, service: Emulator, postgres_server: PostgresServer
) -> None:
    postgres_server.stop()
    try:
        loaded = kernel.execute(LOAD)
        refused = kernel.execute(CELL.format(prompt="a kite"))
    finally:
        postgres_server.start()
    said = loaded.stdout().strip().splitlines()
    assert len(said) == 1 and "unreachable" in said[0] and "s3cret" not in said[0]
    assert refused.reply["ename"] == "LedgerUnavailableError"
    assert creates(service) == 0
