"""The districts' import rules (docs/architecture.md, "Districts and their rules"), read from the code.

- base modules (``pipeline/*.py``) import no district;
- ``core`` imports the base only; ``excel`` and ``word`` import core and the base;
- ``flow`` imports core, excel, word and the base; ``api`` imports those and flow;
- ``cli`` (and ``web``) import the base, core types and the API, never excel/word/flow directly (``cli``
  may start ``web``: ``certpipe serve``);
- no module imports a private name (``_x``) from another module; no import circle between modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"

ALLOWED = {
    "base": {"base"},
    "core": {"base", "core"},
    "excel": {"base", "core", "excel"},
    "word": {"base", "core", "word"},
    "flow": {"base", "core", "excel", "word", "flow"},
    "api": {"base", "core", "excel", "word", "flow", "api"},
    "cli": {"base", "core", "api", "cli", "web"},  # ``certpipe serve`` starts the console
    "web": {"base", "core", "api", "web"},
    "main": {"cli"},
    "package": {"api", "base"},
}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    rel = path.relative_to(package.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def district(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] in ("core", "excel", "word", "flow", "cli", "web"):
        return parts[1]
    if parts[1] == "api":
        return "api"
    if parts[1] == "__main__":
        return "main"
    return "base"


def imports(path: Path, package: Path = PACKAGE) -> list[tuple[str, list[str], int, bool]]:
    """(module imported, names taken, line, at module level) for every import of the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    here = module_name(path, package)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == package.name:
                    found.append((alias.name, [], node.lineno, id(node) in top))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - node.level + (path.name == "__init__.py")]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != package.name:
                continue
            names = [a.name for a in node.names]
            # ``from pipeline.word import pdf`` imports the module pipeline.word.pdf (``from pipeline
            # import api``, the package pipeline.api)
            modules = [f"{target}.{n}" for n in names if _is_module(package.parent / f"{target}.{n}".replace(".", "/"))]
            if modules:
                found += [(m, [], node.lineno, id(node) in top) for m in modules]
            else:
                found.append((target, names, node.lineno, id(node) in top))
    return found


def _is_module(path: Path) -> bool:
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def violations(package: Path = PACKAGE) -> list[str]:
    broken = []
    graph: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        here = module_name(path, package)
        graph.setdefault(here, set())
        for target, names, line, _ in imports(path, package):
            rel = f"{path.relative_to(package.parent)}:{line}"
            if district(target) not in ALLOWED[district(here)]:
                broken.append(f"{rel}: {district(here)} imports {target} ({district(target)})")
            for name in names:
                if name.startswith("_") and target != here:
                    broken.append(f"{rel}: private name {name} taken from {target}")
            if target != here and not target.startswith(here + "."):
                graph[here].add(target)
    broken += [f"circle: {' -> '.join(c)}" for c in circles(graph)]
    return broken


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_districts_keep_their_import_rules():
    assert violations() == []


@pytest.mark.parametrize(("source", "expected"), [
    ("pipeline/core/scoring.py", "from pipeline.word.render import Renderer\n"),
    ("pipeline/excel/build.py", "from pipeline.flow.ledger import Ledger\n"),
    ("pipeline/errors.py", "from pipeline.core.scoring import score\n"),
    ("pipeline/cli/extra.py", "from pipeline.flow.process import Processor\n"),
    ("pipeline/word/render.py", "from pipeline.excel.fast import _cell\n"),
    ("pipeline/api/records.py", "from pipeline.cli.app import app\n"),
    ("pipeline/api/records.py", "from pipeline.api.workspace import _helper\n"),
    ("pipeline/core/audit.py", "from pipeline import api\n"),
])
def test_a_broken_rule_is_found(tmp_path, source, expected):
    """The check itself: a copy of the package with one rule broken fails it."""
    import shutil

    copy = tmp_path / "pipeline"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / source
    target.write_text(expected + (target.read_text(encoding="utf-8") if target.exists() else ""), encoding="utf-8")
    found = violations(copy)
    assert any(source in v for v in found), found


def test_a_circle_is_found():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
