"""One error hierarchy. Every error a user can cause carries a message; the CLI turns them into
text in one place (``cli.main``). Data problems inside a workbook are not errors: validation returns
them as ``Problem`` values."""

from __future__ import annotations


class CertpipeError(Exception):
    """Base of every error certpipe raises on purpose. ``exit_code`` is what the CLI returns.

    Raise it with text already in the user's language, or with a catalogue ``key`` (and ``params``)
    that the CLI renders in the language the user chose."""

    exit_code = 2

    def __init__(self, message: str = "", *, hint: str | None = None, key: str | None = None,
                 params: dict | None = None) -> None:
        self.key = key
        self.params = dict(params or {})
        self.message = message or (self.render("zh") if key else "")
        self.hint = hint
        super().__init__(self.message)

    def render(self, lang: str) -> str:
        if self.key is None:
            return self.message
        from pipeline.i18n import t

        return t(self.key, lang, **self.params)

    def render_hint(self, lang: str) -> str | None:
        if self.key is None:
            return self.hint
        from pipeline.i18n import catalogue, t

        hint_key = f"{self.key}.hint"
        return t(hint_key, lang, **self.params) if hint_key in catalogue() else self.hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class ConfigError(CertpipeError):
    """A workspace or ``certpipe.toml`` problem: wrong path, unknown key, wrong type."""


class DefinitionError(CertpipeError):
    """A standard definition cannot be loaded or is inconsistent. ``problems`` lists every finding."""

    def __init__(self, message: str, problems: list | None = None, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = list(problems or [])


class UnknownStandard(CertpipeError):
    """A standard key that no definition in the workspace or the built-ins provides."""


class WorkbookError(CertpipeError):
    """A file that cannot be read as a scoring workbook at all (not a zip, encrypted, .xls, ...)."""

    exit_code = 1


class TemplateError(CertpipeError):
    """A Word template that cannot be rendered (missing variable, broken tag)."""


class RenderError(CertpipeError):
    """Producing a document failed (LibreOffice missing, a font missing, a conversion failed)."""


class LedgerError(CertpipeError):
    """The ledger database is locked, corrupt or unwritable."""


class WorkspaceBusy(CertpipeError):
    """Another certpipe process holds the workspace."""
