"""Plain words for what the YAML reader and pydantic find wrong in a definition: every finding becomes
a catalogue message (what is wrong, with the value as written) with a hint (the fix); no parser or
library text ever reaches a person. Pure."""

from __future__ import annotations

import yaml

from pipeline.i18n import Message

#: the longest value quoted back in a message (a whole mapping pasted in the wrong place is cut).
MAX_QUOTED = 40

# pydantic error type → catalogue key (the message names the value and the field; its hint the fix)
_BY_TYPE = {
    "extra_forbidden": "def.unknown_key",
    "missing": "def.missing_key",
    "decimal_parsing": "def.not_number",
    "decimal_type": "def.not_number",
    "finite_number": "def.not_finite",
    "int_parsing": "def.not_integer",
    "int_type": "def.not_integer",
    "int_from_float": "def.not_integer",
    "bool_parsing": "def.not_boolean",
    "bool_type": "def.not_boolean",
    "string_type": "def.not_text",
    "model_type": "def.not_mapping_value",
    "model_attributes_type": "def.not_mapping_value",
    "dict_type": "def.not_mapping_value",
    "tuple_type": "def.not_list",
    "list_type": "def.not_list",
    "literal_error": "def.not_one_of",
    "greater_than_equal": "def.too_small",
    "greater_than": "def.too_small",
    "less_than_equal": "def.too_large",
    "less_than": "def.too_large",
    "string_too_short": "def.empty_text",
    "too_short": "def.empty_list",
    "string_too_long": "def.text_too_long",
    "too_long": "def.text_too_long",
}


def quoted(value: object) -> str:
    """A value as the author wrote it, short enough for one line."""
    if isinstance(value, dict):
        text = "{…}"
    elif isinstance(value, (list, tuple)):
        text = "[…]"
    elif value is None:
        text = "（空）"
    else:
        text = str(value).replace("\n", " ")
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "…"


def pydantic_message(err: dict) -> Message:
    """One pydantic error as a message: its kind, the field's name, the value written, any limit."""
    kind = err["type"]
    loc = err.get("loc") or ()
    name = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
    ctx = err.get("ctx") or {}
    params: dict[str, object] = {"name": name, "value": quoted(err.get("input"))}
    key = _BY_TYPE.get(kind, "def.bad_value")
    if kind == "string_pattern_mismatch":
        key = "def.bad_code" if name == "code" else "def.bad_key"
    elif kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        params["choices"] = " / ".join(c.strip(" '") for c in expected.split(","))
    elif key in ("def.too_small", "def.too_large"):
        params["limit"] = str(next((ctx[k] for k in ("ge", "gt", "le", "lt") if k in ctx), ""))
    elif key == "def.text_too_long":
        params["limit"] = str(ctx.get("max_length", ""))
    return Message(key, params)


def cascades(err: dict) -> bool:
    """pydantic adds "a list of at least one item" to a non-empty list whose item failed: not a
    finding of its own."""
    return err["type"] == "too_short" and isinstance(err.get("input"), (list, tuple)) and len(err["input"]) > 0


# PyYAML's problem text → what it means to someone editing the file (first match wins)
_YAML_PROBLEMS = (
    ("scanning a quoted scalar", "def.yaml_quote"),
    ("found character '\\t'", "def.yaml_tab"),
    ("but found '<scalar>'", "def.yaml_stray_text"),
    ("expected <block end>", "def.yaml_indent"),
    ("did not find expected key", "def.yaml_indent"),
    ("did not find expected '-' indicator", "def.yaml_indent"),
    ("expected <block mapping start>", "def.yaml_indent"),
    ("mapping values are not allowed", "def.yaml_colon"),
    ("could not find expected ':'", "def.yaml_missing_colon"),
    ("found unexpected end of stream", "def.yaml_quote"),
    ("expected ',' or ']'", "def.yaml_bracket"),
    ("expected ',' or '}'", "def.yaml_bracket"),
    ("did not find expected node content", "def.yaml_bracket"),
    ("not a finite number", "def.not_finite"),
    ("found undefined alias", "def.yaml_alias"),
)


def yaml_message(exc: yaml.YAMLError) -> tuple[int | None, Message]:
    """The line and the plain message of a YAML syntax error."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark else None
    problem = f"{getattr(exc, 'problem', '') or ''} {getattr(exc, 'context', '') or ''}"
    key = next((k for text, k in _YAML_PROBLEMS if text in problem), "def.yaml_syntax")
    value = ""
    if key == "def.not_finite":
        value = str(getattr(exc, "problem", "")).rpartition(": ")[2]
    return line, Message(key, {"line": line or "?", "value": quoted(value)})
