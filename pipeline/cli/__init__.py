"""The ``certpipe`` command. Each command is one library call; ``main`` is the one place where
certpipe's errors become messages and exit codes: 0 all done, 1 problems found (a rejection, an
invalid workbook), 2 could not start (usage, configuration, a busy workspace, the ledger), 3 some
inputs failed for an outside reason and wait in the inbox (``run``, ``watch``), 70 an internal error
(a bug): one line on the console, the traceback in the log file (and on the console with ``-v``)."""

from __future__ import annotations

import gc
import os
import sys
import traceback

# numpy, which openpyxl imports when it is installed, starts a BLAS thread per core that spins now
# and then (~2 % of a bulk run's CPU on two cores); certpipe does no linear algebra.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from rich.console import Console

from pipeline.cli.app import app, current_lang, current_verbosity, tidy_help
from pipeline.cli.usage import install as install_usage_errors
from pipeline.errors import CertpipeError
from pipeline.i18n import t
from pipeline.logs import log_file, log_ignored, one_line

# Command groups register themselves on ``app`` when imported.
from pipeline.cli import standards as _standards  # noqa: F401  isort: skip
from pipeline.cli import inbox as _inbox  # noqa: F401  isort: skip
from pipeline.cli import records as _records  # noqa: F401  isort: skip
from pipeline.cli import find as _find  # noqa: F401  isort: skip
from pipeline.cli import status as _status  # noqa: F401  isort: skip
from pipeline.cli import templates as _templates  # noqa: F401  isort: skip
from pipeline.cli import workbooks as _workbooks  # noqa: F401  isort: skip
from pipeline.cli import certificates as _certificates  # noqa: F401  isort: skip
from pipeline.cli import keys as _keys  # noqa: F401  isort: skip
from pipeline.cli import verify as _verify  # noqa: F401  isort: skip
from pipeline.cli import publish as _publish  # noqa: F401  isort: skip
from pipeline.cli import migrate as _migrate  # noqa: F401  isort: skip
from pipeline.cli import serve as _serve  # noqa: F401  isort: skip
from pipeline.cli import users as _users  # noqa: F401  isort: skip

tidy_help(app)
install_usage_errors(current_lang)

EXIT_BUG = 70  # EX_SOFTWARE: an internal error


def main(argv: list[str] | None = None) -> None:
    """``certpipe ARGS``: the command, then ``sys.exit`` with its code."""
    previous, sys.unraisablehook = sys.unraisablehook, _unraisable
    try:
        code = _command(argv)
        if code:  # what a failure left half-done (a zip on a full disk) is cleaned up under the hook above
            gc.collect()
    finally:
        sys.unraisablehook = previous
    sys.exit(code)


def _command(argv: list[str] | None) -> int | str | None:
    """The command's exit code; its errors said (the exception is gone when this returns)."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        app(args=argv, prog_name="certpipe")
    except SystemExit as done:  # typer ends every command so
        return done.code
    except CertpipeError as exc:
        lang = current_lang()
        err.print(f"[bold red]{t('cli.error', lang)}[/] ", end="")
        err.print(exc.render(lang), markup=False)
        for problem in getattr(exc, "problems", []):  # a definition's or a workbook's, each with its place
            err.print(f"  {problem.format(lang)}", markup=False)
        hint = exc.render_hint(lang)
        if hint:
            err.print(hint, markup=False)
        return exc.exit_code
    except Exception as exc:  # a bug: the app wrote its traceback to the log file, when there is one
        _unexpected(err, exc, argv)
        return EXIT_BUG
    return 0


def _verbosity(argv: list[str] | None) -> int:
    verbosity = current_verbosity()
    if verbosity is None:  # it broke before the options were read
        args = sys.argv[1:] if argv is None else argv
        verbosity = sum(len(a) - 1 for a in args if a.startswith("-") and set(a[1:]) == {"v"})
        verbosity += args.count("--verbose")
    return verbosity


def _unraisable(unraisable) -> None:
    """An exception Python could not raise (a file closed by the garbage collector on a full disk):
    to the log file; on the console only with ``-v``."""
    if (current_verbosity() or 0) > 0:
        sys.__unraisablehook__(unraisable)
    else:
        log_ignored(unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback,
                    unraisable.err_msg, unraisable.object)


def _unexpected(err: Console, exc: Exception, argv: list[str] | None) -> None:
    """One line in the user's language; the traceback only with ``-v``."""
    if _verbosity(argv) > 0:
        err.print("".join(traceback.format_exception(exc)), markup=False, end="")
    lang = current_lang()
    error = f"{type(exc).__name__}: {one_line(exc)}"
    path = log_file()
    if path is not None:
        err.print(t("cli.crash_log", lang, error=error, log=path), markup=False)
    else:
        err.print(t("cli.crash_verbose", lang, error=error), markup=False)
