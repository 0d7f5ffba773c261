"""The typer application and what every command shares: the workspace, the language, output."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipeline.workspace import Workspace

app = typer.Typer(
    name="certpipe",
    help="服务认证审核：Excel 评分表 → Word 报告与证书。\n\n"
    "Service-certification audits scored in Excel, reported in Word.",
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
        str,
        typer.Option("--lang", "-L", envvar="CERTPIPE_LANG",
                     help="消息语言 zh|en / language of messages"),
    ] = "zh",
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True,
                                         help="更多日志输出（可重复）/ more log output (repeatable)")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="只输出错误 / only errors")] = False,
    log_format: Annotated[str, typer.Option("--log-format", envvar="CERTPIPE_LOG_FORMAT",
                                            help="日志格式 text|json / log format")] = "text",
) -> None:
    if lang not in ("zh", "en"):
        raise typer.BadParameter("zh | en", param_hint="--lang")
    if log_format not in ("text", "json"):
        raise typer.BadParameter("text | json", param_hint="--log-format")
    ctx.obj = Settings(workspace=Workspace((workspace or Path.cwd()).resolve()), lang=lang,
                       verbosity=-1 if quiet else verbose, log_format=log_format)
    _CURRENT["lang"] = lang


_CURRENT: dict[str, str] = {}


def current_lang() -> str:
    """The language the running command was given (for messages printed after it ended)."""
    return _CURRENT.get("lang") or _lang_default()


def settings(ctx: typer.Context) -> Settings:
    return ctx.find_root().obj


out = Console(highlight=False, soft_wrap=True)


def report_checks(results, lang: str) -> int:
    """Print ``✓ file`` or ``✗ file: N problems`` and each problem; returns how many files failed.
    ``results`` yields (path, [problem text])."""
    from pipeline.i18n import t

    failed = 0
    for path, problems in results:
        if problems:
            failed += 1
            out.print(f"[red]✗[/] {path}: {t('cli.problem_count', lang, count=len(problems))}")
            for problem in problems:
                out.print(f"  {problem}", markup=False)
        else:
            out.print(f"[green]✓[/] {path}: {t('cli.no_problems', lang)}")
    return failed
