"""The emulator is an independent check of the client: it imports almost nothing of it."""

from __future__ import annotations

import ast
from pathlib import Path

import seedance_jupyter.emulator

PACKAGE = "seedance_jupyter"
#: All the emulator may use of the package: one status vocabulary, one backoff, one signature.
ALLOWED = {f"{PACKAGE}.status", f"{PACKAGE}.retry", f"{PACKAGE}.webhooks"}
EMULATOR = Path(seedance_jupyter.emulator.__file__).parent


def package_imports(path: Path) -> set[str]:
    """The modules of the package outside the emulator that ``path`` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names = [node.module or ""]
            elif node.level == 1:
                continue
            else:
                names = [".".join(filter(None, [PACKAGE, node.module]))]
                if node.module is None:
                    names = [f"{PACKAGE}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name.split(".")[0] == PACKAGE
                     and not name.startswith(f"{PACKAGE}.emulator"))
    return found


def test_the_emulator_imports_only_status_retry_and_webhooks_of_the_package() -> None:
    used = {module: package_imports(module) for module in sorted(EMULATOR.glob("*.py"))}
    assert used  # the walk found the modules
    outside = {path.name: names - ALLOWED for path, names in used.items() if names - ALLOWED}
    assert outside == {}


def test_the_import_check_sees_relative_imports_of_the_package(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from ..catalog import Catalog\nfrom .. import errors\nfrom . import x\n")
    assert package_imports(sample) == {f"{PACKAGE}.catalog", f"{PACKAGE}.errors"}
