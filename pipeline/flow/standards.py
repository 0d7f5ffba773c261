"""The standards a workspace knows: the built-in definitions, overridden by key by the workspace's own
``standards/*.yaml``; each file read, checked and cached until it changes."""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.definition import DefinitionProblem, parse_definition
from pipeline.core.standard import Standard
from pipeline.errors import CertpipeError, DefinitionError, UnknownStandard
from pipeline.i18n import Message
from pipeline.resources import builtin_dir


def _read_problem(exc: OSError | UnicodeDecodeError) -> Message:
    """Why a definition file could not be read, in words (never the exception's own text)."""
    if isinstance(exc, UnicodeDecodeError):
        return Message("def.not_utf8")
    reason = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return Message("def.read_error", {"reason": reason})


def check_file(path: Path) -> list[DefinitionProblem]:
    """Every problem of one definition file (none: it can be used)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [DefinitionProblem(str(path), (), None, _read_problem(exc))]
    return parse_definition(text, str(path))[1]


def load_file(path: Path) -> Standard:
    """Load a definition that must be sound; raise ``DefinitionError`` with every problem otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        message = _read_problem(exc)
        raise DefinitionError(message.key, message.params) from exc
    model, problems = parse_definition(text, str(path))
    if problems or model is None:
        raise DefinitionError("std.invalid", {"path": path, "count": len(problems)}, problems)
    return model


def definition_paths(workspace: Path | None = None) -> dict[str, Path]:
    """Every definition file by key; a workspace's ``standards/`` overrides a built-in of the same key."""
    found: dict[str, Path] = {}
    dirs = [builtin_dir("standards")]
    if workspace is not None:
        dirs.append(workspace / "standards")
    for folder in dirs:
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                found[path.stem] = path
    return found


_CACHE: dict[tuple[Path, int], Standard] = {}


def load_standard(key: str, workspace: Path | None = None) -> Standard:
    paths = definition_paths(workspace)
    if key not in paths:
        raise UnknownStandard("std.unknown", {"key": key, "known": ", ".join(sorted(paths))})
    path = paths[key]
    stamp = (path, path.stat().st_mtime_ns)
    if stamp not in _CACHE:
        _CACHE[stamp] = load_file(path)
    return _CACHE[stamp]


def all_standards(workspace: Path | None = None) -> list[Standard]:
    return [load_standard(key, workspace) for key in definition_paths(workspace)]


def level_words(standard: str | None, level: str, lang: str = "zh", workspace: Path | None = None) -> str:
    """A level's key in words by its standard (``describe_level``); the key itself when the standard
    or the level is no longer known."""
    try:
        std = load_standard(standard, workspace) if standard else None
    except CertpipeError:
        std = None
    found = next((lv for lv in std.levels if lv.key == level), None) if std else None
    return std.describe_level(found, lang) if found else level


@dataclass(frozen=True)
class Override:
    """A workspace definition that replaces a built-in of the same key, and what it does to the
    workbooks sent out and not yet returned: ``outstanding`` of them, ``affected`` of which its
    scoring hash would reject (all, when the file cannot be loaded)."""

    key: str
    path: Path
    builtin: Path
    outstanding: int
    affected: int


def overrides(workspace: Path, outstanding: Callable[[str], list[tuple[str, str, str]]]) -> list[Override]:
    """Every workspace definition overriding a built-in, with the outstanding workbooks it affects:
    ``outstanding(key)`` lists them as (audit id, edition, hash) (``Ledger.outstanding_audits``)."""
    builtins = {path.stem: path for path in sorted(builtin_dir("standards").glob("*.yaml"))}
    found = []
    for key, path in definition_paths(workspace).items():
        if key not in builtins or path == builtins[key]:
            continue
        rows = outstanding(key)
        try:
            std = load_standard(key, workspace)
        except CertpipeError:
            affected = len(rows)
        else:
            affected = sum(1 for _, edition, fp in rows if not std.takes(edition, fp))
        found.append(Override(key, path, builtins[key], len(rows), affected))
    return found
