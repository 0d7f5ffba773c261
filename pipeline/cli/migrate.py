"""``certpipe migrate OLD.xlsx [-o NEW.xlsx]``: carry an auditor's entries into a workbook of the
current definition, and list what could not be carried."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline import api
from pipeline.cli.app import app, out, settings
from pipeline.i18n import t


@app.command(short_help="把评分表转到当前定义 / carry a workbook's entries into the current definition")
def migrate(
    ctx: typer.Context,
    old: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="按旧定义生成并已填写的评分表 / "
                                        "a filled workbook of an earlier definition")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="新评分表（默认：<原名>-migrated.xlsx）/ "
                                                "the new workbook (default <name>-migrated.xlsx)")] = None,
    to: Annotated[str | None, typer.Option("--to", help="转到另一个标准（如新版本的键）/ "
                                           "another standard to carry it into (a new edition's key)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出 / print JSON")] = False,
) -> None:
    """把按旧定义生成的评分表中的全部填写内容（封面、得分、证据/说明、不适用、专项扣分/加分）转入按当前定义
    （或 --to 指定的标准，如新版本）生成的新评分表，并列出无法转入的内容；有无法转入的内容时退出码为 1。

    Carry every entry of a workbook of an earlier definition (cover, scores, notes, not-applicable
    marks, special counts) into a new workbook of the current definition (or of --to KEY, a new
    edition), listing what could not be carried; exit 1 when something could not."""
    s = settings(ctx)
    lang = s.lang
    done = api.migrate_workbook(old, output, lang=lang, to=to, workspace=s.workspace)
    carried = done.carried
    if as_json:
        out.print_json(json.dumps({"path": str(done.path), "standard": done.standard, "audit_id": carried.audit_id,
                                   "carried": carried.counts, "left": [x.to_json(lang) for x in carried.left],
                                   "new_indicators": carried.new_codes}, ensure_ascii=False))
    else:
        counts = carried.counts
        out.print(t("migcli.done", lang, path=escape(str(done.path)), audit_id=escape(carried.audit_id),
                    scores=counts["scores"], notes=counts["notes"], na=counts["not_applicable"],
                    cover=counts["cover"], special=counts["special"]))
        if carried.left:
            out.print(f"[yellow]{t('migcli.left', lang, count=len(carried.left))}[/]")
            for item in carried.left:
                hint = item.message.hint(lang)
                out.print(f"  {escape(item.format(lang))}" + (f" — {escape(hint)}" if hint else ""))
        if carried.new_codes:
            out.print(t("migcli.new_codes", lang, codes=", ".join(carried.new_codes)))
    raise typer.Exit(1 if carried.left else 0)
