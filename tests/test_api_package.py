"""The public API as a package (``pipeline/api/``, a module per area): every name of ``__all__``
handed out by the package and by ``pipeline``, every public function of an area in ``__all__``, every
``api.<name>`` the CLI and the console use there, and ``import pipeline.api`` still cheap."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import types
from pathlib import Path

import pipeline
from pipeline import api

API_DIR = Path(api.__file__).resolve().parent
PACKAGE = API_DIR.parent
#: Shared by the API's modules (how a ``workspace`` argument is taken), not part of the API.
HELPERS = {"looked_at", "root_of"}


def _areas() -> list[types.ModuleType]:
    return [importlib.import_module(f"pipeline.api.{p.stem}") for p in sorted(API_DIR.glob("*.py"))
            if p.stem != "__init__"]


def test_every_name_of_all_is_handed_out_by_the_package_and_by_pipeline():
    assert len(api.__all__) == len(set(api.__all__))
    for name in api.__all__:
        value = getattr(api, name)
        assert not isinstance(value, types.ModuleType), name
        namespace: dict = {}
        exec(f"from pipeline.api import {name}", namespace)
        assert namespace[name] is value, name
        assert getattr(pipeline, name) is value, name


def test_no_module_of_the_api_is_named_like_one_of_its_names():
    """``pipeline/api/decisions.py`` would make ``api.decisions`` the module or the function, by what was
    imported last."""
    assert not {p.stem for p in API_DIR.glob("*.py")} & set(api.__all__)


def test_every_public_function_and_class_of_an_area_is_in_all():
    areas = _areas()
    assert len(areas) > 5
    for module in areas:
        for name, value in vars(module).items():
            if name.startswith("_") or name in HELPERS or getattr(value, "__module__", None) != module.__name__:
                continue
            assert name in api.__all__, f"{module.__name__}.{name} is not in api.__all__"
            assert getattr(api, name) is value, name


def test_every_api_name_the_cli_and_the_console_use_is_there():
    used: dict[str, str] = {}
    for path in sorted([*PACKAGE.glob("cli/*.py"), *PACKAGE.glob("web/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "api":
                used.setdefault(node.attr, f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert len(used) > 40
    missing = {name: where for name, where in used.items() if not hasattr(api, name)}
    assert not missing


def test_importing_the_api_loads_no_district_beyond_the_core():
    code = "import sys, pipeline.api; print('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=PACKAGE.parent).stdout.split()
    assert "pipeline.api.lifecycle" in loaded
    districts = {("pipeline", d) for d in ("excel", "word", "flow", "cli", "web")}
    heavy = [m for m in loaded if tuple(m.split(".")[:2]) in districts
             or m.split(".")[0] in ("openpyxl", "docx", "docxtpl", "lxml", "PIL", "matplotlib", "typer", "sqlite3")]
    assert heavy == []
