"""``certpipe templates check [PATH...]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline import api
from pipeline.cli.app import Group, JsonOption, app, out, report_checks, settings
from pipeline.i18n import t

templates_app = typer.Typer(cls=Group, help="Word 模板：检查 / Word templates: check", no_args_is_help=True)
app.add_typer(templates_app, name="templates")


@templates_app.command("check", short_help="检查 Word 模板 / check Word templates")
def check(
    ctx: typer.Context,
    paths: Annotated[list[Path] | None, typer.Argument(
        help="模板文件（默认：全部内置与工作区模板）/ template files (default: all)")] = None,
    as_json: JsonOption = False,
) -> None:
    """检查 Word 模板：未定义的变量、被 Word 拆开的标签、未知过滤器，逐条指出模板与段落；有问题时退出码 1。

    Check Word templates: undeclared variables, tags Word split across runs, unknown filters, each
    with the template and paragraph; exit 1 on any."""
    s = settings(ctx)
    lang = s.lang
    root = s.workspace.root
    items = [(p, None) for p in paths] if paths else api.template_files(root)
    if not items:
        out.print(t("check.none_found", lang))
        raise typer.Exit(1)
    found = ((path, [p.format(lang) for p in api.check_template(path, lang, std_key=key, workspace=root)])
             for path, key in items)
    failed = report_checks(found, lang, as_json)
    raise typer.Exit(1 if failed else 0)
