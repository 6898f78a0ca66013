"""The shape of the house stays: every import between the packages goes down the layers, and no
set of modules imports itself round in a circle.

    anpr          the command, demo, launcher, simulator, fault suite, benchmarks (the top)
      ↓
    training      model training: imports lpr, monitor and anpr_core
      ↓
    lpr  monitor  indexer  search_api      the runtime: each imports only anpr_core
      ↓
    anpr_core     settings, plate grammar, journal, Elasticsearch layout (the ground)

Nothing imports tests. Imports are read with `ast` from the source, lazy ones inside functions
included (they are still dependencies), so the rule holds whatever runs first.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("anpr_core", "lpr", "monitor", "indexer", "search_api", "training", "anpr")
# Which other top-level packages each package may import.
MAY_IMPORT: Mapping[str, frozenset[str]] = {
    "anpr_core": frozenset(),
    "lpr": frozenset({"anpr_core"}),
    "monitor": frozenset({"anpr_core"}),
    "indexer": frozenset({"anpr_core"}),
    "search_api": frozenset({"anpr_core"}),
    "training": frozenset({"anpr_core", "lpr", "monitor"}),
    "anpr": frozenset({"anpr_core", "lpr", "monitor", "indexer", "search_api", "training"}),
}
NEVER_IMPORTED = frozenset({"tests"})


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module, dotted (resolved to a module of the tree where it is one)
    line: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules_of(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    return {
        module_name(path, root): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
        if "node_modules" not in path.parts
    }


def _resolve(name: str, modules: Mapping[str, Path]) -> str:
    """The longest prefix of `name` that is a module of the tree (or `name` itself)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return name


def imports_in(source: str, path: Path, modules: Mapping[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(source, _resolve(alias.name, modules), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the importing module's package
                base = source.split(".") if is_package else source.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                # `from pkg import submodule` depends on the submodule; `from mod import name` on mod.
                submodule = f"{module}.{alias.name}"
                target = submodule if submodule in modules else _resolve(module, modules)
                found.append(Import(source, target, node.lineno))
    return found


def import_graph(root: Path, packages: Iterable[str] = PACKAGES) -> list[Import]:
    modules = modules_of(root, packages)
    # One entry per (module, target, line): `from x import a, b` is one import of x.
    return list(
        dict.fromkeys(imp for name, path in modules.items() for imp in imports_in(name, path, modules))
    )


def layer_violations(imports: Iterable[Import]) -> list[Import]:
    bad = []
    for imp in imports:
        source_top, target_top = imp.source.split(".")[0], imp.target.split(".")[0]
        upward = target_top in MAY_IMPORT and target_top != source_top
        if target_top in NEVER_IMPORTED or (upward and target_top not in MAY_IMPORT.get(source_top, ())):
            bad.append(imp)
    return bad


def cycles(imports: Iterable[Import]) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), each a circle of imports; self-imports too."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.source, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# --- the project itself ---------------------------------------------------------------------


def test_every_import_between_packages_goes_down_the_layers() -> None:
    imports = import_graph(ROOT)
    assert len(imports) > 300, "the parser found too few imports to be reading the tree"
    assert layer_violations(imports) == []


def test_no_module_imports_itself_round_a_circle() -> None:
    assert cycles(import_graph(ROOT)) == []


# --- the checker catches what it is there to catch -------------------------------------------


def _tree(tmp_path: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    return tmp_path


@pytest.mark.parametrize(
    ("module", "text"),
    [
        ("anpr_core/cli.py", "from search_api.serve import run\n"),  # the ground reaching up
        ("lpr/bench.py", "def main():\n    from training.splits import real_crops\n"),  # lazy, still up
        ("indexer/replay.py", "import lpr.pipeline\n"),  # sideways between runtime packages
        ("training/report.py", "from anpr.harness import Api\n"),  # below the top
        ("search_api/fixtures.py", "from tests.conftest import SHARED_DATA\n"),  # tests
    ],
)
def test_an_import_up_the_layers_is_reported(tmp_path: Path, module: str, text: str) -> None:
    root = _tree(tmp_path, {module: text})
    (violation,) = layer_violations(import_graph(root))
    assert violation.source == module_name(root / module, root)


def test_imports_down_the_layers_are_allowed(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "anpr/cli.py": "import training.train\nfrom search_api import app\nfrom lpr.cli import main\n",
            "training/train.py": "from lpr.recognizer import charset\nfrom anpr_core.plates import parse\n",
            "lpr/cli.py": "from anpr_core.settings import Settings\nimport numpy\n",
        },
    )
    assert layer_violations(import_graph(root)) == []


def test_a_circle_of_imports_is_reported_even_through_a_lazy_import(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "lpr/recognizer/__init__.py": "def load():\n    from lpr.recognizer.engine import Engine\n",
            "lpr/recognizer/engine.py": "from lpr.recognizer import Reading\n",
            "anpr_core/render/dataset.py": "from . import sheet\n",
            "anpr_core/render/sheet.py": "from .dataset import plate_for_style\n",
            "anpr_core/render/__init__.py": "",
            "anpr_core/plates.py": "",
        },
    )
    assert cycles(import_graph(root)) == [
        ["anpr_core.render.dataset", "anpr_core.render.sheet"],
        ["lpr.recognizer", "lpr.recognizer.engine"],
    ]
