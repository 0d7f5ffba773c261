"""``certpipe.toml``: every setting, validated before any file is touched.

Every unknown key and every wrong value is reported at once, each naming the key and where it came
from: the file, or the environment variable ``CERTPIPE_<SECTION>_<KEY>`` (e.g.
``CERTPIPE_WATCH_SETTLE_SECONDS=2``) that overrides it. docs/configuration.md lists every key."""

from __future__ import annotations

import difflib
import os
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from pipeline.config_syntax import syntax_error
from pipeline.errors import ConfigError

NUMBER_FIELDS = ("year", "standard", "seq", "level")
NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""What a certificate number may be: it is printed, logged, kept in the register and put into a link."""
NUMBER_SAMPLE = {"year": 2026, "standard": "GBT27922", "seq": 12345, "level": "three-star"}
"""The values a ``number_format`` is tried with at start."""
_NUMBER_TEXT = re.compile(r"[A-Za-z0-9._-]")  # the text between the fields, one character
_WIDTH_SPEC = re.compile(r"(0?[1-9][0-9]?)?d?")  # {seq:05d}, {seq:04}, {year:d}: a width, zero-padded or not


def _number_format_problem(value: str) -> tuple[str, dict] | None:
    """What is wrong with a certificate number format, as a catalogue key (after ``config.why.``)
    and its parameters; ``None`` when it is usable. Checked one piece at a time, the text between
    the fields first, then each field, then a number made from ``NUMBER_SAMPLE``."""
    try:
        pieces = list(string.Formatter().parse(value))
    except ValueError as exc:  # a lone "{" or "}", or "{" never closed
        return "number_format_text", {"text": "'}'" if str(exc).startswith("Single '}'") else "'{'"}
    names: set[str] = set()
    for text, name, spec, conversion in pieces:
        bad = "".join(dict.fromkeys(ch for ch in text if not _NUMBER_TEXT.fullmatch(ch)))
        if bad or ".." in text:
            return "number_format_text", {"text": repr(bad) if bad else "'..'"}
        if name is None:
            continue
        if name not in NUMBER_FIELDS:  # {yr}, {}, {0}, {standard.__class__}, {year[0]}
            return "number_format_field", {"field": repr(name)}
        if conversion is not None:
            return "number_format_conversion", {"field": name, "conversion": conversion}
        if spec and (name not in ("year", "seq") or not _WIDTH_SPEC.fullmatch(spec)):
            return "number_format_spec", {"field": name, "spec": spec}
        names.add(name)
    if "seq" not in names:
        return "number_format_seq", {}
    sample = value.format(**NUMBER_SAMPLE)
    if not NUMBER_PATTERN.fullmatch(sample):
        return "number_format_number", {"sample": repr(sample), "length": len(sample)}
    return None


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")



class Issuer(_Section):
    """The certification body printed on reports, certificates and notices. Until ``REQUIRED`` are
    filled in, certificates are specimens (a body cannot sign a certificate without its name,
    address, signatory and approval number)."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("name", "address", "signatory", "approval_no")

    name: str = ""
    name_en: str = ""
    address: str = ""
    address_en: str = ""
    signatory: str = ""
    approval_no: str = Field("", description="the body's approval number (认证机构批准号)")
    logo: str = Field("", description="a PNG or JPEG in the workspace, printed on certificates")
    seal: str = Field("", description="a PNG or JPEG of the body's seal, printed beside the signatory")
    verify_url: str = Field("", description="verify base: the QR code carries <verify_url>/c/<number>#<token>")

    def missing(self) -> list[str]:
        """The required fields still empty: while any is, certificates are specimens."""
        return [key for key in self.REQUIRED if not getattr(self, key).strip()]


class Certificates(_Section):
    number_format: str = Field(
        "CP-{year}-{standard}-{seq:05d}",
        description="fields: year, standard (short code), seq (counter per year), level",
    )
    validity_years: int = Field(3, ge=1, le=10)
    surveillance_months: int = Field(12, ge=1, le=36)

    @field_validator("number_format")
    @classmethod
    def _format_fields(cls, value: str) -> str:
        """A format that names an unknown field, lacks ``{seq}`` or makes numbers that cannot name a
        file would fail (or repeat numbers, or write where it should not) only when the first
        certificate is issued; refuse it at start instead."""
        found = _number_format_problem(value)
        if found:
            why, params = found
            raise PydanticCustomError("number_format", "unusable certificate number format",
                                      {"why": why, **params})
        return value


class Limits(_Section):
    max_file_mb: float = Field(20, gt=0, le=1024)
    max_member_mb: float = Field(50, gt=0, le=1024, description="largest inflated member of the workbook zip")
    seconds_per_file: float = Field(60, gt=0, le=3600, description="at most an hour")


class Watch(_Section):
    settle_seconds: float = Field(1.0, ge=0, le=3600)
    poll: bool = False


class Run(_Section):
    workers: int = Field(0, ge=0, le=64, description="0 = one per core")
    pdf: bool = False


class Decision(_Section):
    """``auto``: a result that reaches a level issues its certificate at once (recorded as an
    automatic decision). ``review``: the report is published at once and the certificate waits for
    ``certpipe decide``. Level changes that lower a certificate wait in both modes."""

    mode: Literal["auto", "review"] = "auto"
    #: months from issue (or the last surveillance) to the next surveillance audit is ``[certificates]``;
    #: how far ahead ``certpipe due`` looks by default:
    due_within_days: int = Field(60, ge=1, le=3650)


class Intake(_Section):
    accept_unknown_audits: bool = Field(False, description="process workbooks this workspace did not generate")


class Serve(_Section):
    trust_proxy: bool = Field(False, description="believe X-Forwarded-Proto / X-Forwarded-For of a reverse proxy")
    session_hours: float = Field(12, gt=0, le=720, description="a console login lasts this long")


class Paths(_Section):
    """Where the working folders are: relative to the workspace, or absolute (an inbox on a network
    share, say). The ledger and certpipe's own files stay in the workspace."""

    inbox: str = Field("inbox", min_length=1)
    outbox: str = Field("outbox", min_length=1)
    archive: str = Field("archive", min_length=1)


class Publish(_Section):
    """The public register (``certpipe publish``): when ``dir`` is set, ``run`` and ``watch`` write it
    there after every batch."""

    dir: str = Field("", description="folder of the public register, relative to the workspace or absolute")
    show_score: bool = Field(False, description="also publish each certificate's total score")


class Config(_Section):
    lang: Literal["zh", "en"] = "zh"
    paths: Paths = Paths()
    issuer: Issuer = Issuer()
    certificates: Certificates = Certificates()
    limits: Limits = Limits()
    watch: Watch = Watch()
    run: Run = Run()
    intake: Intake = Intake()
    decision: Decision = Decision()
    publish: Publish = Publish()
    serve: Serve = Serve()


def sections() -> dict[str, type[BaseModel] | None]:
    """Top-level keys of certpipe.toml: a section model, or None for a plain key."""
    out: dict[str, type[BaseModel] | None] = {}
    for name, field in Config.model_fields.items():
        annotation = field.annotation
        out[name] = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return out


def all_keys() -> list[str]:
    """Every setting as ``section.key`` (or ``key`` at the top level), in declaration order."""
    keys: list[str] = []
    for name, model in sections().items():
        keys += [f"{name}.{sub}" for sub in model.model_fields] if model else [name]
    return keys


def env_var(key: str) -> str:
    """``run.workers`` → ``CERTPIPE_RUN_WORKERS``."""
    return "CERTPIPE_" + key.replace(".", "_").upper()


def _annotation(key: str):
    section, _, name = key.rpartition(".")
    model = sections()[section] if section else Config
    return model.model_fields[name].annotation


def _env_value(key: str, text: str):
    """A variable's text read as the TOML value it stands for (``2``, ``1.5``, ``true``); text
    settings take it as it is. What is not a TOML value stays text and is refused as a wrong type."""
    if _annotation(key) is str:
        return text
    try:
        return tomllib.loads(f"v = {text.strip().lower() if text.strip().lower() in ('true', 'false') else text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _env_overrides(environ: dict[str, str]) -> tuple[dict, dict[str, str]]:
    out: dict = {}
    used: dict[str, str] = {}
    for key in all_keys():
        value = environ.get(env_var(key))
        if value is None:
            continue
        used[key] = env_var(key)
        section, _, sub = key.rpartition(".")
        (out.setdefault(section, {}) if section else out)[sub] = _env_value(key, value)
    return out, used


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        merged[key] = _merge(current if isinstance(current, dict) else {}, value) if isinstance(value, dict) else value
    return merged


@dataclass(frozen=True)
class ConfigProblem:
    key: str
    kind: str  # catalogue key after "config.why."
    params: dict
    env: str | None = None  # the environment variable the value came from

    def render(self, lang: str, path: Path) -> str:
        from pipeline.i18n import t

        where = t("config.where_env", lang, var=self.env, key=self.key) if self.env else \
            t("config.where_file", lang, path=path, key=self.key)
        return t("config.line", lang, where=where, why=t("config.why." + self.kind, lang, **self.params))


class ConfigInvalid(ConfigError):
    """certpipe.toml (or a CERTPIPE_* variable) has unknown keys or wrong values: every one is listed."""

    def __init__(self, path: Path, problems: list[ConfigProblem]) -> None:
        self.path, self.items = path, problems
        super().__init__(key="config.invalid", params={"path": path, "count": len(problems)})

    def render(self, lang: str) -> str:
        from pipeline.i18n import t

        lines = [t("config.invalid", lang, path=self.path, count=len(self.items))]
        return "\n".join(lines + ["  " + p.render(lang, self.path) for p in self.items])

    def render_hint(self, lang: str) -> str | None:
        from pipeline.i18n import t

        return t("config.invalid_hint", lang)


_KINDS = {  # pydantic error type → (catalogue key, context field for {limit})
    "int_parsing": ("int", None), "int_type": ("int", None), "int_from_float": ("int", None),
    "float_parsing": ("number", None), "float_type": ("number", None),
    "bool_parsing": ("bool", None), "bool_type": ("bool", None), "string_type": ("text", None),
    "greater_than": ("gt", "gt"), "greater_than_equal": ("ge", "ge"), "less_than_equal": ("le", "le"),
    "less_than": ("lt", "lt"), "model_type": ("table", None), "model_attributes_type": ("table", None),
}


def field_type(section: str, key: str) -> type | None:
    """The Python type of the setting ``section.key`` (``bool``, ``int``, ``float``, ``str``), if known."""
    model = sections().get(section) if section else Config
    field = model.model_fields.get(key) if model is not None else None
    annotation = getattr(field, "annotation", None)
    return annotation if annotation in (bool, int, float, str) else None


def _problem(error: dict, env_used: dict[str, str]) -> ConfigProblem:
    key = ".".join(str(p) for p in error["loc"])
    env = env_used.get(key)
    kind = error["type"]
    value = error.get("input")
    shown = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    if kind == "extra_forbidden":
        section, _, name = key.rpartition(".")
        model = sections().get(section) if section else Config
        known = list(model.model_fields) if model else []
        close = difflib.get_close_matches(name, known, n=1)
        return ConfigProblem(key, "unknown_close" if close else "unknown",
                             {"close": f"{section}.{close[0]}" if section and close else (close[0] if close else ""),
                              "known": ", ".join(known)}, env)
    if kind == "literal_error":
        section, _, name = key.partition(".")
        model = sections().get(section) if name else None
        field = model.model_fields.get(name) if model else Config.model_fields.get(key)
        choices = " | ".join(f'"{c}"' for c in get_args(field.annotation)) if field else \
            str(error["ctx"]["expected"]).replace(" or ", " | ")
        return ConfigProblem(key, "choice", {"value": shown, "choices": choices}, env)
    if kind == "number_format":
        params = dict(error["ctx"])
        why = params.pop("why")
        return ConfigProblem(key, why, {"value": shown, "fields": ", ".join(NUMBER_FIELDS), **params}, env)
    if kind in _KINDS:
        name, limit = _KINDS[kind]
        params = {"value": shown, "key": key}
        if limit:
            bound = error["ctx"][limit]
            params["limit"] = f"{bound:g}" if isinstance(bound, float) else bound
        return ConfigProblem(key, name, params, env)
    if kind == "string_too_short":
        return ConfigProblem(key, "empty", {"value": shown}, env)
    return ConfigProblem(key, "other", {"value": shown}, env)  # never the validator's own words


_FOLDERS = ("inbox", "outbox", "archive")


def _folder(root: str, value: str) -> str:
    """A folder as the file system will see it: relative to the workspace, links followed as far as
    they exist, case folded where names ignore case. The folder need not exist yet."""
    return os.path.normcase(os.path.realpath(os.path.join(root, value)))


def _within(inner: str, outer: str) -> bool:
    try:
        return os.path.commonpath([inner, outer]) == outer
    except ValueError:  # different drives
        return False


def _folder_problems(data: dict, root: Path, env_used: dict[str, str]) -> list[ConfigProblem]:
    """The inbox, the outbox and the archive must be three folders apart: a file the inbox shares
    with the outbox (the register, say) would be taken again and again, and an archive inside the
    inbox would be read back. None of them may lie in certpipe's own folder (``.certpipe``). Each
    clash is reported once, against the key the file or a variable set (the later one if both)."""
    try:
        paths = Paths.model_validate(data.get("paths", {}), strict=True)
    except ValidationError:
        return []  # already reported, key by key
    base = os.path.realpath(root)
    given = set(data.get("paths", {}))
    where = {name: _folder(base, getattr(paths, name)) for name in _FOLDERS}
    problems: dict[str, ConfigProblem] = {}

    def add(name: str, why: str, params: dict) -> None:
        key = f"paths.{name}"
        if key not in problems:
            problems[key] = ConfigProblem(key, why, {"value": repr(getattr(paths, name)), **params},
                                          env_used.get(key))

    state = _folder(base, ".certpipe")
    for name in _FOLDERS:
        if _within(where[name], state):
            add(name, "paths_state", {"folder": state})
    for i, first in enumerate(_FOLDERS):
        for second in _FOLDERS[i + 1:]:
            name, other = (first, second) if first in given and second not in given else (second, first)
            if where[name] == where[other]:
                add(name, "paths_same", {"other": f"paths.{other}", "folder": where[other]})
            elif _within(where[name], where[other]):
                add(name, "paths_inside", {"other": f"paths.{other}", "folder": where[other]})
            elif _within(where[other], where[name]):
                add(name, "paths_contains", {"other": f"paths.{other}", "folder": where[other]})
    return list(problems.values())


def load_config(path: Path, environ: dict[str, str] | None = None) -> Config:
    """The workspace's settings: defaults, then ``path`` (if it exists), then ``CERTPIPE_*`` variables.
    ``[paths]`` are relative to the folder that holds ``path`` (the workspace).
    Raises ``ConfigInvalid`` listing every problem, or ``ConfigError`` when the file is not TOML."""
    data: dict = {}
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(key="config.toml.encoding", params={"path": path}) from exc
        except OSError as exc:
            raise ConfigError(key="err.config_syntax", params={"path": path, "detail": exc.strerror or exc}) from exc
        try:
            data = tomllib.loads(text.removeprefix("\ufeff"))  # Notepad may save UTF-8 with a BOM
        except tomllib.TOMLDecodeError as exc:
            raise syntax_error(path, text, exc, field_type) from exc
    overrides, env_used = _env_overrides(dict(os.environ if environ is None else environ))
    data = _merge(data, overrides)
    folders = _folder_problems(data, path.parent, env_used)
    try:
        # strict: "yes" is not true, true is not 1 MB, "3" in quotes is not a number
        config = Config.model_validate(data, strict=True)
    except ValidationError as exc:
        raise ConfigInvalid(path, [_problem(e, env_used) for e in exc.errors()] + folders) from exc
    if folders:
        raise ConfigInvalid(path, folders)
    return config
