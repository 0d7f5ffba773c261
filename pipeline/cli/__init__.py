"""The ``certpipe`` command. Each command is one library call; ``main`` is the one place where
certpipe's errors become messages and exit codes (0 fine, 1 problems found, 2 usage/configuration)."""

from __future__ import annotations

import sys

from rich.console import Console

from pipeline.cli.app import app, current_lang
from pipeline.errors import CertpipeError
from pipeline.i18n import t

# Command groups register themselves on ``app`` when imported.
from pipeline.cli import standards as _standards  # noqa: F401  isort: skip
from pipeline.cli import inbox as _inbox  # noqa: F401  isort: skip
from pipeline.cli import status as _status  # noqa: F401  isort: skip
from pipeline.cli import templates as _templates  # noqa: F401  isort: skip
from pipeline.cli import workbooks as _workbooks  # noqa: F401  isort: skip


def main(argv: list[str] | None = None) -> None:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        app(args=argv, prog_name="certpipe")
    except CertpipeError as exc:
        lang = current_lang()
        err.print(f"[bold red]{t('cli.error', lang)}[/] ", end="")
        err.print(exc.render(lang), markup=False)
        for problem in getattr(exc, "problems", []):  # a definition's or a workbook's, each with its place
            err.print(f"  {problem.format(lang)}", markup=False)
        hint = exc.render_hint(lang)
        if hint:
            err.print(hint, markup=False)
        sys.exit(exc.exit_code)
