"""One error hierarchy. Every error a user can cause carries a message; the CLI turns them into
text in one place (``cli.main``). Data problems inside a workbook are not errors: validation returns
them as ``Problem`` values."""

from __future__ import annotations

from collections.abc import Mapping

from pipeline.i18n import Message


class CertpipeError(Exception):
    """Base of every error certpipe raises on purpose. ``exit_code`` is what the CLI returns.

    An error is data: a catalogue ``key`` and its ``params`` (``message`` is them as a ``Message``),
    turned into words only where a person reads them (``render(lang)``; ``render_hint(lang)`` gives
    the catalogue's ``<key>.hint`` or ``<key>_hint`` when there is one). ``str(err)`` is the Chinese
    text, for logs and tracebacks."""

    exit_code = 2

    def __init__(self, key: str, params: Mapping[str, object] | None = None) -> None:
        self.key = key
        self.params = dict(params or {})
        super().__init__(key)

    @property
    def message(self) -> Message:
        return Message(self.key, self.params)

    def render(self, lang: str = "zh") -> str:
        return self.message.render(lang)

    def render_hint(self, lang: str = "zh") -> str | None:
        return self.message.hint(lang) or None

    def __str__(self) -> str:
        hint = self.render_hint("zh")
        return self.render("zh") + (f"\n{hint}" if hint else "")


class ConfigError(CertpipeError):
    """A workspace or ``certpipe.toml`` problem: wrong path, unknown key, wrong type."""


class DefinitionError(CertpipeError):
    """A standard definition cannot be loaded or is inconsistent. ``problems`` lists every finding."""

    def __init__(self, key: str, params: Mapping[str, object] | None = None, problems: list | None = None) -> None:
        super().__init__(key, params)
        self.problems = list(problems or [])


class UnknownStandard(CertpipeError):
    """A standard key that no definition in the workspace or the built-ins provides."""


class WorkbookError(CertpipeError):
    """A file that cannot be read as a scoring workbook at all (not a zip, encrypted, .xls, ...);
    ``sheet`` and ``cell`` where the trouble is, when it is in one place."""

    exit_code = 1

    def __init__(self, key: str, params: Mapping[str, object] | None = None, *, sheet: str | None = None,
                 cell: str | None = None) -> None:
        super().__init__(key, params)
        self.sheet, self.cell = sheet, cell


class TemplateError(CertpipeError):
    """A Word template that cannot be rendered (missing variable, broken tag)."""


class RenderError(CertpipeError):
    """Producing a document failed (LibreOffice missing, a font missing, a conversion failed)."""


class LedgerError(CertpipeError):
    """The ledger database is locked, corrupt or unwritable."""


class WorkspaceBusy(CertpipeError):
    """Another certpipe process holds the workspace."""


class InvalidWorkbook(CertpipeError):
    """A workbook with problems where a valid one is needed (``score_file``); ``problems`` lists them."""

    exit_code = 1

    def __init__(self, path, problems: list) -> None:
        super().__init__("err.invalid_workbook", {"path": path, "count": len(problems)})
        self.path = path
        self.problems = list(problems)


class AuditExists(CertpipeError):
    """A schedule's planned audit (organisation, standard, planned dates) was generated before."""

    exit_code = 0

    def __init__(self, audit_id: str) -> None:
        super().__init__("sched.row_exists", {"audit_id": audit_id})
        self.audit_id = audit_id
