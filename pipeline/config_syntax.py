"""A ``certpipe.toml`` that is not valid TOML, said as a person can act on it: which line, what is wrong
there and the line as it should be (``signatory = 王建国`` → text needs quotes: ``signatory =
"王建国"``), never the parser's own words."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.i18n import Message

_AT = re.compile(r"^(?P<what>.*?) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$", re.S)
#: The parser's complaint (its start) → what is wrong, in the catalogue (``config.toml.why.<kind>``).
_WHY = (
    ("Invalid value", "value"), ("Unescaped '\\'", "backslash"), ("Unterminated string", "unclosed_string"),
    ("Found invalid character", "unclosed_string"), ("Unclosed array", "unclosed"),
    ("Unclosed inline table", "unclosed"), ("Expected ']'", "unclosed_section"), ("Cannot overwrite", "twice"),
    ("Cannot declare", "twice"), ("Expected '=' after a key", "equals"), ("Invalid statement", "statement"),
    ("Expected newline or end of document", "trailing"), ("Illegal character", "character"),
    ("Invalid initial character for a key part", "key"), ("Invalid date", "date"),
)
_KEY_VALUE = re.compile(r"^\s*(?P<key>[A-Za-z0-9_-]+)\s*=\s*(?P<value>.*?)\s*$")
_SECTION = re.compile(r"^\s*\[\s*(?P<name>[A-Za-z0-9_.-]+)\s*\]\s*(?:#.*)?$")
_BOOLS = {"true": "true", "yes": "true", "on": "true", "是": "true", "false": "false", "no": "false",
          "off": "false", "否": "false"}
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def syntax_error(path: Path, text: str, exc: tomllib.TOMLDecodeError,
                 field_type: Callable[[str, str], type | None] = lambda section, key: None) -> ConfigError:
    """The ``ConfigError`` for ``exc``, raised by ``tomllib.loads(text)`` on the file ``path``;
    ``field_type(section, key)`` tells what a setting holds (``bool``, ``int``, ``float``, ``str``)."""
    found = _AT.match(str(exc))
    complaint = found.group("what") if found else ""
    kind = next((k for start, k in _WHY if complaint.startswith(start)), "other")
    lines = text.splitlines()
    if found and found.group("line"):
        number, column = int(found.group("line")), int(found.group("column"))
    else:  # "at end of document": the first line from which the text no longer reads
        number, column = _first_bad_line(lines), None
    line = lines[number - 1] if 0 < number <= len(lines) else ""
    params = {"path": path, "line": number, "text": line.strip()[:200], "why": Message(f"config.toml.why.{kind}"),
              "fix": _fix(kind, line, _section(lines, number), field_type)}
    if column is not None:
        return ConfigError(key="config.toml.syntax", params={**params, "column": column})
    return ConfigError(key="config.toml.syntax_line", params=params)


def _first_bad_line(lines: list[str]) -> int:
    for end in range(1, len(lines) + 1):
        try:
            tomllib.loads("\n".join(lines[:end]))
        except tomllib.TOMLDecodeError:
            return end
    return len(lines)


def _section(lines: list[str], number: int) -> str:
    for line in reversed(lines[:max(number - 1, 0)]):
        found = _SECTION.match(line)
        if found:
            return found.group("name")
    return ""


def _fix(kind: str, line: str, section: str, field_type: Callable[[str, str], type | None]) -> Message:
    """The line as it should be, when it can be told; else what the rule is."""
    if kind in ("twice",):
        return Message("config.toml.fix.once")
    if kind in ("unclosed", "unclosed_section"):
        return Message("config.toml.fix.close")
    if kind in ("equals", "statement", "key"):
        return Message("config.toml.fix.key_value")
    found = _KEY_VALUE.match(line)
    if not found:
        return Message("config.toml.fix.general")
    key, value = found.group("key"), found.group("value")
    field = field_type(section, key)
    bare = value[1:] if value[:1] in "\"'" else value
    bare = bare[:-1] if bare[-1:] in "\"'" and bare[-1:] == value[:1] else bare
    if field is bool or (field is None and bare.lower() in _BOOLS):
        if bare.lower() in _BOOLS:
            return Message("config.toml.fix.bool", {"line": f"{key} = {_BOOLS[bare.lower()]}"})
        return Message("config.toml.fix.general")
    if field in (int, float):
        if _DECIMAL_COMMA.match(bare):
            return Message("config.toml.fix.number", {"line": f"{key} = {bare.replace(',', '.')}"})
        return Message("config.toml.fix.general")
    if "\\" in bare and "'" not in bare and "\n" not in bare:
        return Message("config.toml.fix.path", {"line": f"{key} = '{bare}'"})
    if kind in ("value", "trailing", "unclosed_string", "backslash", "character"):
        quoted = bare.replace("\\", "\\\\").replace('"', '\\"')
        quoted = "".join(ch for ch in quoted if ch >= " " or ch == "\t")
        return Message("config.toml.fix.quote", {"line": f'{key} = "{quoted}"'})
    return Message("config.toml.fix.general")
