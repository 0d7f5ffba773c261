"""The typer application and what every command shares: the workspace, the language, output."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.columns import Columns
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from pipeline.config import Config, load_config
from pipeline.errors import CertpipeError, ConfigError
from pipeline.logs import set_language as set_log_language
from pipeline.workspace import Workspace

# Commands whose workspace is their DIR argument, not --workspace: they check that one themselves.
_OWN_WORKSPACE = {"init", "demo"}
# Commands that still run with a broken certpipe.toml, to report it.
_DIAGNOSTIC = {"status"}
# Commands that only read or change a workspace's records: in a folder that is no workspace they would
# answer as if its records were empty ("nothing due"), so they say it is none instead.
_RECORDS = {"ledger", "find", "due", "decisions", "decide", "certificates", "publish", "serve", "users", "keys"}


class _App(typer.Typer):
    """The typer app, plus: an error that ends a command is also written to the log file when the
    command logs (``run``, ``watch``, ``demo``), so nothing is said only to a console nobody watches;
    an unexpected one (a bug) with its traceback, which ``cli.main`` then shows only with ``-v``."""

    def __call__(self, *args, **kwargs):
        argv = kwargs.get("args")
        words = [str(a) for a in (sys.argv[1:] if argv is None else argv)]
        _CURRENT["help"] = "--help" in words
        _CURRENT.pop("lang", None)  # (a command before this one in the same process may have set it)
        for i, word in enumerate(words):  # the language of an error met before the options are read
            asked = word.partition("=")[2] if word.startswith("--lang=") else \
                words[i + 1] if word == "--lang" and i + 1 < len(words) else None
            if asked in ("zh", "en"):
                _CURRENT["lang"] = asked
        _CURRENT.pop("verbosity", None)  # read again from this command's options
        try:
            return super().__call__(*args, **kwargs)
        except CertpipeError as exc:
            from pipeline.logs import log_fatal

            log_fatal(exc, current_lang())
            raise
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            from pipeline.logs import log_crash

            log_crash()
            raise


ORDER = ("demo", "init", "new", "validate", "score", "migrate", "run", "watch", "status", "ledger", "find",
         "decisions", "decide", "certificates", "due", "standards", "templates", "keys", "verify", "publish", "serve",
         "users")


HELP_OPTION = "显示此帮助并退出 / show this help and exit"


def _joined(paragraph: str) -> str:
    """A docstring paragraph as one line, for the terminal to wrap: lines joined with a space, or
    with nothing between two Chinese characters (a space there reads as a gap)."""
    lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
    out = lines[0] if lines else ""
    for line in lines[1:]:
        cjk = ord(out[-1]) >= 0x2E80 and ord(line[0]) >= 0x2E80
        out += ("" if cjk else " ") + line
    return out


def tidy_help(app: typer.Typer) -> None:
    """Every command's help from its docstring, each paragraph one line: the terminal's width wraps
    it, not the line breaks of the source (the English paragraph broke mid-sentence at 80 columns)."""
    import inspect

    for info in app.registered_commands:
        if info.help is None and info.callback is not None and inspect.getdoc(info.callback):
            info.help = "\n\n".join(_joined(p) for p in inspect.getdoc(info.callback).split("\n\n"))
    for group in app.registered_groups:
        if group.typer_instance is not None:
            tidy_help(group.typer_instance)
    import typer.rich_utils

    typer.rich_utils.Table, typer.rich_utils.Columns = FoldedTable, FoldedHelp


# Help read in full at any width: typer lays out the options and the commands in rich tables, whose
# cells cut a word too wide for its room with "…". Chinese has no spaces to wrap at, so at 80 columns
# a help text's whole Chinese half is one such word (``certpipe new --help`` lost half its options'
# help). Folded instead, it goes on in the next line, between two characters, as Chinese wraps anyway.
class FoldedTable(Table):
    """typer's help table (options, commands), its columns folding what does not fit."""

    def add_column(self, *args, **kwargs) -> None:
        kwargs.setdefault("overflow", "fold")
        super().add_column(*args, **kwargs)

    def add_row(self, *renderables, **kwargs) -> None:
        while len(self.columns) < len(renderables):  # (rich would add them itself, cutting)
            self.add_column()
        super().add_row(*renderables, **kwargs)


class FoldedHelp(Columns):
    """An option's or argument's help as typer lays it out (rich ``Columns``: the help, its default,
    "required"), each text folding what does not fit (``FoldedTable``)."""

    def __init__(self, renderables=None, *args, **kwargs) -> None:
        super().__init__(renderables, *args, **kwargs)
        for item in self.renderables:
            if isinstance(item, Text):
                item.overflow = "fold"


def _bilingual_help_option(command, ctx) -> None:
    option = command.get_help_option(ctx)
    if option is not None:
        option.help = HELP_OPTION  # click's own text is English only


class Group(TyperGroup):
    """Commands listed in the order a newcomer meets them, not the order modules were imported; the
    ``--help`` option of every command and group described in Chinese and English."""

    def list_commands(self, ctx) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION
        return option

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            _bilingual_help_option(command, ctx)
        return command


app = _App(
    cls=Group,
    name="certpipe",
    help="服务认证审核：Excel 评分表 → Word 报告与证书。\n\n"
    "Service-certification audits scored in Excel, reported in Word.\n\n"
    "退出码：0 全部完成；1 发现问题（有退回）；2 无法开始（配置、工作区被占用、账本）；"
    "3 有文件因外部原因（磁盘、权限）失败，仍在收件箱；70 内部错误（缺陷），请连同日志报告。\n\n"
    "Exit codes: 0 all done; 1 problems found (some rejected); 2 could not start (configuration, busy "
    "workspace, ledger); 3 some failed for an outside reason (disk, permission) and still wait in the "
    "inbox; 70 an internal error (a bug): please report it with the log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@dataclass
class Settings:
    workspace: Workspace
    lang: str
    verbosity: int = 0
    log_format: str = "text"
    config: Config | None = None  # the workspace's certpipe.toml, validated before the command ran
    config_error: CertpipeError | None = None  # only for diagnostic commands (status)


def _lang_default() -> str:
    return os.environ.get("CERTPIPE_LANG", "zh")


@app.callback()
def _root(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option("--workspace", "-W", envvar="CERTPIPE_WORKSPACE", file_okay=False,
                     help="工作区目录（默认当前目录）/ workspace folder (default: current directory)"),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", "-L", envvar="CERTPIPE_LANG",
                     help="消息语言 zh|en（默认 certpipe.toml 的 lang）/ language of messages"),
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True,
                                         help="更多日志输出（可重复）/ more log output (repeatable)")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="只输出错误 / only errors")] = False,
    log_format: Annotated[str, typer.Option("--log-format", envvar="CERTPIPE_LOG_FORMAT",
                                            help="日志格式 text|json / log format")] = "text",
) -> None:
    if lang not in (None, "zh", "en"):
        raise typer.BadParameter("zh | en", param_hint="--lang")
    if log_format not in ("text", "json"):
        raise typer.BadParameter("text | json", param_hint="--log-format")
    ws = Workspace((workspace or Path.cwd()).resolve())
    _CURRENT["lang"] = lang or "zh"
    _CURRENT["verbosity"] = -1 if quiet else verbose
    config, error = _startup_config(ws, ctx.invoked_subcommand)
    lang = lang or (config.lang if config else "zh")
    if config is not None:
        ws = Workspace.configured(ws.root, config)
    ctx.obj = Settings(workspace=ws, lang=lang, verbosity=-1 if quiet else verbose, log_format=log_format,
                       config=config, config_error=error)
    _CURRENT["lang"] = lang
    _CURRENT["verbosity"] = ctx.obj.verbosity
    set_log_language(lang)


def _startup_config(ws: Workspace, command: str | None) -> tuple[Config | None, CertpipeError | None]:
    """certpipe.toml is validated before any command touches a file: an unknown key or a wrong value
    stops every command (exit 2) with each key named. ``--help`` and ``init``/``demo`` (which check
    their own folder) are not stopped; ``status`` reports the problem instead."""
    if command in _OWN_WORKSPACE or _CURRENT.get("help"):
        return None, None
    if not ws.root.is_dir():  # (a mistyped -W must not look like an empty, healthy workspace)
        raise ConfigError(key="run.no_workspace", params={"path": ws.root})
    if command in _RECORDS and not any(p.exists() for p in (ws.config_file, ws.state, ws.outbox)):
        raise ConfigError(key="run.not_a_workspace", params={"path": ws.root})
    try:
        return load_config(ws.config_file), None
    except CertpipeError as exc:
        if command in _DIAGNOSTIC:
            return None, exc
        raise


_CURRENT: dict[str, object] = {}


def current_lang() -> str:
    """The language the running command was given (for messages printed after it ended)."""
    return str(_CURRENT.get("lang") or _lang_default())


def current_verbosity() -> int | None:
    """``-v`` counted (``-1`` for ``-q``) of the running command; None before the options were read."""
    verbosity = _CURRENT.get("verbosity")
    return verbosity if isinstance(verbosity, int) else None


def settings(ctx: typer.Context) -> Settings:
    return ctx.find_root().obj


def use_lang(ctx: typer.Context, lang: str | None) -> str:
    """A command's own ``--lang`` (``new``, ``validate``, ``score``) over the global one: for what it
    prints, and for an error that ends it."""
    chosen = lang or settings(ctx).lang
    settings(ctx).lang = chosen
    _CURRENT["lang"] = chosen
    set_log_language(chosen)
    return chosen


out = Console(highlight=False, soft_wrap=True)


def report_checks(results, lang: str, as_json: bool = False) -> int:
    """Print ``✓ file`` or ``✗ file: N problems`` and each problem; returns how many files failed.
    ``results`` yields (path, [problem text]). ``as_json``: a list of ``{"file", "problems"}`` instead."""
    from pipeline.i18n import t

    if as_json:
        import json

        found = [{"file": str(path), "problems": list(problems)} for path, problems in results]
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return sum(1 for f in found if f["problems"])
    failed = 0
    for path, problems in results:
        if problems:
            failed += 1
            out.print(f"[red]✗[/] {escape(str(path))}: {t('cli.problem_count', lang, count=len(problems))}")
            for problem in problems:
                out.print(f"  {problem}", markup=False)
        else:
            out.print(f"[green]✓[/] {escape(str(path))}: {t('cli.no_problems', lang)}")
    return failed


#: ``--json`` for every listing command
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]
