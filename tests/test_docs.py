"""The documentation keeps up with the program: every command and option of the typer app, every
certpipe.toml key with its environment variable, every guide in Chinese and English, every link
and picture present. A command or setting added without documentation fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from pipeline.cli import app
from pipeline.config import all_keys, env_var

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDES = ("auditor", "back-office", "scheme-manager")


def _commands(command=None, prefix=()) -> list[tuple[tuple[str, ...], object]]:
    command = command or typer.main.get_command(app)
    found = []
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if getattr(sub, "hidden", False):
            continue
        path = (*prefix, name)
        if getattr(sub, "commands", None):
            found += _commands(sub, path)
        else:
            found.append((path, sub))
    return found


COMMANDS = _commands()


def _text(lang: str) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((DOCS / lang).glob("*.md")))


def _readme_commands() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Commands", 1)[1].split("\n## ", 1)[0]


def test_commands_are_found():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"run", "watch", "status", "standards check", "templates check"} <= names


@pytest.mark.parametrize("path", [" ".join(p) for p, _ in COMMANDS])
def test_every_command_is_in_the_readme_and_in_both_languages(path):
    assert f"certpipe {path}" in _readme_commands(), f"`certpipe {path}` missing from README.md ## Commands"
    for lang in ("zh", "en"):
        assert f"certpipe {path}" in _text(lang), f"`certpipe {path}` missing from docs/{lang}/"


@pytest.mark.parametrize("path,command", [(" ".join(p), c) for p, c in COMMANDS])
def test_every_option_is_documented_in_both_languages(path, command):
    options = [opt for param in command.params for opt in param.opts if opt.startswith("--") and opt != "--help"]
    for lang in ("zh", "en"):
        text = _text(lang)
        missing = [opt for opt in options if not re.search(re.escape(opt) + r"(?![\w-])", text)]
        assert not missing, f"certpipe {path}: {missing} missing from docs/{lang}/"


def test_global_options_are_documented():
    root = typer.main.get_command(app)
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for param in root.params:
        long = [o for o in param.opts if o.startswith("--")]
        assert any(o in text for o in long), f"{long} missing from docs/configuration.md"
        if param.envvar:
            assert param.envvar in text, f"{param.envvar} missing from docs/configuration.md"


@pytest.mark.parametrize("key", all_keys())
def test_every_setting_and_its_variable_is_in_configuration_md(key):
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert f"`{key}`" in text, f"certpipe.toml key {key} missing from docs/configuration.md"
    assert f"`{env_var(key)}`" in text, f"{env_var(key)} missing from docs/configuration.md"


def test_every_guide_has_its_twin():
    for guide in GUIDES:
        for lang in ("zh", "en"):
            assert (DOCS / lang / f"{guide}.md").is_file(), f"docs/{lang}/{guide}.md"
    assert sorted(p.name for p in (DOCS / "zh").glob("*.md")) == sorted(p.name for p in (DOCS / "en").glob("*.md"))


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def test_links_and_pictures_point_at_files():
    used: set[Path] = set()
    for md in _markdown_files():
        for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", md.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            path = (md.parent / target).resolve()
            assert path.exists(), f"{md.relative_to(ROOT)} links to {target}, which does not exist"
            used.add(path)
    pictures = set((DOCS / "images").glob("*.png"))
    assert pictures, "docs/images is empty: run docs/make_images.py"
    unused = sorted(p.name for p in pictures - used)
    assert not unused, f"pictures no page shows: {unused}"


def test_pictures_stay_small():
    sizes = {p.name: p.stat().st_size for p in (DOCS / "images").glob("*.png")}
    assert sum(sizes.values()) < 600 * 1024, sizes
    assert all(size < 150 * 1024 for size in sizes.values()), sizes
