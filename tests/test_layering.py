"""The import layering of docs/ARCHITECTURE.md: util/ is the ground floor, and no two packages import each other."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name != "tests")
# The layers of docs/ARCHITECTURE.md, bottom first: a package imports only packages of its own layer or below.
LAYERS = [{"util"}, {"data"}, {"models"}, {"synthetic"}, {"data_preprocessing"}, {"options"}, {"anonymizer"},
          {"evaluation", "training"}]
# The one import made inside a function to point upwards: models.load_model resolves a run's options with the
# options layer, which itself sits on the model registry (models/loading.py says why).
DEFERRED_UPWARD = {("models", "options")}


def imported_packages(path: Path, module_level_only: bool) -> set[str]:
    """Top-level project packages that the file imports (at module level only, or anywhere in it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


def package_graph(module_level_only: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            graph[package] |= imported_packages(path, module_level_only) - {package}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the packages, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*path[path.index(target):], target] if target in path else [node, target]
            if target not in state and (found := visit(target, [*path, target])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_the_project_packages_are_found():
    assert {"util", "data", "models", "options", "training", "evaluation", "anonymizer"} <= set(PACKAGES)


def test_every_package_has_a_layer_and_imports_only_its_layer_or_below():
    layer_of = {package: level for level, packages in enumerate(LAYERS) for package in packages}
    assert set(PACKAGES) == set(layer_of)
    upward = sorted((source, target) for source, targets in package_graph(module_level_only=False).items()
                    for target in targets if layer_of[target] > layer_of[source])
    assert upward == sorted(DEFERRED_UPWARD)


def test_util_imports_no_other_project_package_anywhere():
    offenders = {str(path.relative_to(ROOT)): sorted(imported_packages(path, module_level_only=False) - {"util"})
                 for path in (ROOT / "util").rglob("*.py")}
    assert {path: found for path, found in offenders.items() if found} == {}


def test_no_package_level_import_cycle():
    assert cycle(package_graph(module_level_only=True)) is None
    everywhere = package_graph(module_level_only=False)
    for source, target in DEFERRED_UPWARD:
        everywhere[source].discard(target)
    assert cycle(everywhere) is None


def test_the_cycle_finder_finds_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}}) is None
