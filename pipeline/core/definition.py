"""Reading a definition from its text: YAML with exact decimals and line numbers, every problem
collected (pydantic's and the consistency checks'), each with its YAML path and line. Pure: text in;
finding definition files on disk is ``flow/standards.py``."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from pydantic import ValidationError

from pipeline.core.definition_messages import cascades, pydantic_message, yaml_message
from pipeline.core.standard import Standard
from pipeline.core.standard_check import check_standard, format_loc
from pipeline.i18n import Message

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class DefinitionProblem:
    """One finding in a definition file: where (YAML path and line) and what (a ``Message``)."""

    file: str
    loc: Loc
    line: int | None
    message: Message

    @property
    def path(self) -> str:
        return format_loc(self.loc)

    def text(self, lang: str = "zh") -> str:
        return self.message.render(lang)

    def hint(self, lang: str = "zh") -> str:
        return self.message.hint(lang)

    def format(self, lang: str = "zh") -> str:
        """``file:line: yaml.path: what — the fix`` in ``lang``."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        hint = self.hint(lang)
        path = f"{self.path}: " if self.path else ""
        return f"{where}: {path}{self.text(lang)}" + (f" — {hint}" if hint else "")

    def __str__(self) -> str:
        return self.format("zh")


class _DecimalLoader(yaml.SafeLoader):
    """Reads ``0.1`` as ``Decimal("0.1")``, never as a binary float."""


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same with libyaml when PyYAML has it (~20× the pure-Python parser: every built-in
    definition loads in ~12 ms instead of ~250). Its syntax errors are worded otherwise: a text it
    refuses is parsed again by ``_DecimalLoader``, whose messages ``yaml_message`` knows."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")  # YAML's .inf / .nan spellings
    if not value.is_finite():
        raise yaml.constructor.ConstructorError(None, None, f"not a finite number: {text}", node.start_mark)
    return value


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)
_FastLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def _compose(text: str, loader_class: type) -> tuple[yaml.Node | None, object]:
    """The document's nodes (they give the lines) and the data built from them: parsed once."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _lines(node: yaml.Node, loc: Loc = (), out: dict[Loc, int] | None = None,
           twice: list[tuple[Loc, int]] | None = None) -> dict[Loc, int]:
    """The line of every YAML path; a key written twice in one mapping (YAML keeps the last one
    silently) goes into ``twice``."""
    out = {} if out is None else out
    out[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if twice is not None and (*loc, key.value) in out:
                twice.append(((*loc, key.value), key.start_mark.line + 1))
            _lines(value, (*loc, key.value), out, twice)
            out[(*loc, key.value)] = key.start_mark.line + 1  # a key's line, not its value's
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*loc, i), out, twice)
    return out


def _line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    while loc not in lines and loc:
        loc = loc[:-1]
    return lines.get(loc)




def _drop(data: object, loc: Loc) -> None:
    for part in loc[:-1]:
        data = data[part]  # type: ignore[index]
    data.pop(loc[-1], None)  # type: ignore[union-attr]


def parse_definition(text: str, file: str) -> tuple[Standard | None, list[DefinitionProblem]]:
    """Parse and check one definition. Returns the model (when its structure is sound) and every
    problem found: unknown keys and wrong types from pydantic, then the consistency checks."""
    try:
        try:
            node, data = _compose(text, _FastLoader)
        except yaml.YAMLError:
            node, data = _compose(text, _DecimalLoader)
    except yaml.YAMLError as exc:
        line, message = yaml_message(exc)
        return None, [DefinitionProblem(file, (), line, message)]
    if not isinstance(data, dict):
        return None, [DefinitionProblem(file, (), 1, Message("def.not_mapping"))]
    twice: list[tuple[Loc, int]] = []
    lines = _lines(node, twice=twice) if node is not None else {}
    problems = [DefinitionProblem(file, loc, line, Message("def.key_twice", {"name": str(loc[-1])}))
                for loc, line in twice]
    model = None
    try:
        model = Standard.model_validate(data)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if not cascades(e)]
        problems += [
            DefinitionProblem(file, tuple(e["loc"]), _line_of(lines, tuple(e["loc"])), pydantic_message(e))
            for e in errors
        ]
        # Unknown keys do not stop the other checks: drop them and look again.
        if all(e["type"] == "extra_forbidden" for e in errors):
            trimmed = copy.deepcopy(data)
            for e in errors:
                _drop(trimmed, tuple(e["loc"]))
            model = Standard.model_validate(trimmed)
    if model is not None:
        problems += [
            DefinitionProblem(file, loc, _line_of(lines, loc), message) for loc, message in check_standard(model)
        ]
        stem = Path(file).stem
        if file.endswith((".yaml", ".yml")) and stem != model.key:
            problems.append(
                DefinitionProblem(file, ("key",), _line_of(lines, ("key",)),
                                  Message("def.file_key_mismatch", {"name": Path(file).name, "key": model.key}))
            )
    return model, problems


class _DecimalDumper(yaml.SafeDumper):
    """Writes ``Decimal("0.5")`` as the YAML number ``0.5``, exactly as read back by ``_DecimalLoader``."""


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    if value == value.to_integral_value():
        return dumper.represent_int(int(value))
    return dumper.represent_scalar("tag:yaml.org,2002:float", f"{value.normalize():f}")


_DecimalDumper.add_representer(Decimal, _represent_decimal)


def definition_text(data: dict, header: str = "") -> str:
    """Definition data (what ``parse_definition`` reads) as YAML text, numbers exact, Chinese as is."""
    body = yaml.dump(data, Dumper=_DecimalDumper, allow_unicode=True, sort_keys=False, width=120)
    return (f"# {header}\n" if header else "") + body
