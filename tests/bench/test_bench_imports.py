"""Every benchmark body imports: a bench runs rarely (minutes on a quiet machine), so a refactor
that renames what it imports would otherwise be found only by the next person to measure."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import anpr.bench

BENCH_MODULES = sorted(m.name for m in pkgutil.iter_modules(anpr.bench.__path__, "anpr.bench."))


def test_the_benchmark_package_is_not_empty() -> None:
    assert "anpr.bench.people_events" in BENCH_MODULES and len(BENCH_MODULES) >= 10


@pytest.mark.parametrize("module", BENCH_MODULES)
def test_benchmark_module_imports(module: str) -> None:
    importlib.import_module(module)


def _shim_targets() -> list[tuple[str, str, str]]:
    """(script, module, function) for each scripts/bench/* shim's `from anpr... import main`."""
    root = Path(__file__).resolve().parents[2] / "scripts" / "bench"
    shims = []
    for script in sorted(p for p in root.iterdir() if p.is_file()):
        found = re.search(r"^from (anpr\.[\w.]+) import (\w+)", script.read_text(), re.MULTILINE)
        if found:
            shims.append((script.name, found.group(1), found.group(2)))
    return shims


def test_every_bench_script_is_a_shim_we_can_follow() -> None:
    assert len(_shim_targets()) >= 10


@pytest.mark.parametrize(("script", "module", "function"), _shim_targets())
def test_bench_script_entry_point_exists(script: str, module: str, function: str) -> None:
    assert callable(getattr(importlib.import_module(module), function, None)), script
