"""Every command's ``--help`` reads in full at 80 columns, in either language: rich's help tables cut a
word too wide for its room with "…", and a help text's Chinese half is one such word (it has no
spaces), so ``certpipe new --help`` lost half of what its options do."""

from __future__ import annotations

import re

import click
import pytest
import typer
from rich.cells import cell_len

from pipeline.cli import app

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _commands() -> list[tuple[list[str], click.Command]]:
    found = []

    def walk(command: click.Command, path: list[str]) -> None:
        found.append((path, command))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


COMMANDS = _commands()


def _source_text(command: click.Command) -> str:
    """Every text of the command's help as written: its own, its parameters', its subcommands'."""
    texts = [command.help or "", command.short_help or ""]
    texts += [getattr(p, "help", None) or "" for p in command.params]
    for sub in getattr(command, "commands", {}).values():
        texts += [sub.help or "", sub.short_help or ""]
    return "\n".join(texts)


def test_every_command_is_checked():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "run", "new", "find", "users", "users add", "certificates suspend", "standards diff"} <= names
    assert len(names) > 30


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) or "certpipe" for p, _ in COMMANDS])
def test_every_help_is_whole_at_80_columns(cli, monkeypatch, lang, path, command):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = cli("--lang", lang, *path, "--help")
    assert code == 0, err
    text = ANSI.sub("", out)
    widths = [cell_len(line) for line in text.splitlines()]
    assert max(widths) == 80 and any(line.startswith("╭") for line in text.splitlines())  # laid out at 80
    assert text.count("…") <= _source_text(command).count("…"), text
    # the words of each option's help are all there (a cut one lost its end)
    for param in command.params:
        if getattr(param, "help", None) and param.name != "help":
            last = re.findall(r"[A-Za-z]{3,}", param.help)
            if last:
                assert last[-1] in text, (param.name, text)
