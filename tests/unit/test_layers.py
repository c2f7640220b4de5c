"""The layering of DESIGN.md, checked in fresh interpreters: importing a package loads
no package above it, and nothing below the TUI drags in Textual."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

LAYERS = ["inventory", "collectors", "tickets", "runbooks", "targets", "tui", "ixops"]
# The simulated lab: beside the collectors, importing only inventory; only ixops imports it.
LAB = "ixlab"


@pytest.mark.parametrize("index", range(len(LAYERS) - 1), ids=LAYERS[:-1])
def test_package_imports_nothing_above_it(index: int) -> None:
    package = LAYERS[index]
    above = [*LAYERS[index + 1 :], LAB]
    code = _imports_code(package, above)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded_above, loaded_textual = eval(out.stdout.strip())  # noqa: S307 - our own repr
    assert loaded_above == [], f"{package} imports higher layers: {loaded_above}"
    if package != "tui":
        assert not loaded_textual, f"{package} drags in Textual"


def test_the_lab_imports_only_inventory() -> None:
    others = [layer for layer in LAYERS if layer != "inventory"]
    out = subprocess.run(
        [sys.executable, "-c", _imports_code(LAB, others)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded, loaded_textual = eval(out.stdout.strip())  # noqa: S307 - our own repr
    assert loaded == [], f"the lab imports {loaded}"
    assert not loaded_textual


def _imports_code(package: str, forbidden: list[str]) -> str:
    return (
        "import importlib, pkgutil, sys\n"
        f"pkg = importlib.import_module({package!r})\n"
        "for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    importlib.import_module(mod.name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r})\n"
        "textual = 'textual' in sys.modules\n"
        "print(repr((bad, textual)))\n"
    )


def test_the_no_sql_contract_covers_every_cli_module() -> None:
    """A new ixops/cli_*.py must join the import contract that keeps SQL out of the CLI."""
    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (no_sql,) = [
        c for c in contracts if c["type"] == "forbidden" and "sqlmodel" in c["forbidden_modules"]
    ]
    modules = sorted(f"ixops.{p.stem}" for p in (root / "ixops").glob("cli_*.py"))
    assert sorted(no_sql["source_modules"]) == modules
