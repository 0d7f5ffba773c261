"""``certpipe new | validate | score``: generate scoring workbooks, check filled ones, score one."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from pipeline import api
from pipeline.cli.app import JsonOption, app, out, settings, use_lang
from pipeline.cli.tables import KEY, NUMBER, TEXT, Listing
from pipeline.core.audit import AUDIT_TYPES
from pipeline.core.numbers import plain
from pipeline.core.scorecard_json import scorecard_json
from pipeline.core.scoring import score as score_audit
from pipeline.errors import CertpipeError
from pipeline.i18n import t

if TYPE_CHECKING:
    from pipeline.api import Checked


def _lang(ctx: typer.Context, lang: str | None) -> str:
    if lang not in (None, "zh", "en"):
        raise typer.BadParameter("zh | en", param_hint="--lang")
    return use_lang(ctx, lang)


LangOption = Annotated[str | None, typer.Option("--lang", help="语言 zh|en（默认全局 --lang）/ language")]


def _num(value) -> str:
    return plain(value) if value is not None else "—"


AuditType = StrEnum("AuditType", {k: k for k in AUDIT_TYPES})


@app.command(short_help="生成空白评分表 / make blank scoring workbooks")
def new(
    ctx: typer.Context,
    key: Annotated[str | None, typer.Argument(help="标准键，如 gbt27922-2011 / standard key")] = None,
    org: Annotated[str | None, typer.Option("--org", help="受审核组织名称 / organisation")] = None,
    audit_id: Annotated[str | None, typer.Option("--audit-id", help="审核编号（默认自动分配）/ audit id")] = None,
    schedule: Annotated[Path | None, typer.Option("--schedule", exists=True, dir_okay=False,
                                                  help="审核计划 .xlsx/.csv，每行一份评分表 / schedule")] = None,
    output: Annotated[str | None, typer.Option(
        "-o", "--output", help="输出文件（单份，.xlsx）或目录（以 / 结尾，或计划）"
                               " / output file (.xlsx) or folder (ending in /, or a schedule's)")] = None,
    force: Annotated[bool, typer.Option("--force", help="覆盖已存在的文件 / overwrite")] = False,
    again: Annotated[bool, typer.Option("--again", help="计划中已生成过的审核也重新生成（新编号）/ "
                                                       "make planned audits generated before again (new ids)")] = False,
    audit_type: Annotated[AuditType | None, typer.Option("--type", help="审核类型 / audit type: initial | "
                                                         "surveillance | recert")] = None,
    certificate: Annotated[str | None, typer.Option("--certificate", help="监督或再认证审核所属的证书编号 / the "
                                                    "certificate a surveillance or recertification belongs to")] = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """生成空白评分表：单份（KEY --org）或按审核计划批量（--schedule）。

    Generate blank scoring workbooks: one (KEY --org) or one per schedule row (--schedule)."""
    s = settings(ctx)
    lang = _lang(ctx, lang)
    if schedule is not None:
        if key or org or audit_id:
            raise CertpipeError(key="wbcli.schedule_exclusive")
        raise typer.Exit(_from_schedule(s.workspace.root, schedule, Path(output) if output else None, force, again,
                                        lang, as_json))
    if not key or not (org or certificate):
        raise CertpipeError(key="wbcli.need_key_org")
    path, audit_id = api.new_workbook(key, org or "", audit_id=audit_id, output=_output(output), force=force, lang=lang,
                                      workspace=s.workspace, audit_type=audit_type.value if audit_type else "",
                                      certificate_no=certificate)
    std = api.load_standard(key, s.workspace)
    if as_json:
        print(json.dumps({"file": str(path), "audit_id": audit_id, "standard": std.key,
                          "provisional": std.provisional}, ensure_ascii=False, indent=2))
        return
    out.print(t("wbcli.created", lang, path=path, audit_id=audit_id, code=std.code))
    if std.provisional:
        out.print(f"[yellow]⚠ {t('wbcli.provisional', lang, key=std.key)}[/]")


def _output(given: str | None) -> Path | None:
    """``-o`` of one workbook: a folder when it exists or ends with a separator (``newdir/``: made
    now; it was written as a file named ``newdir``), else a file that must be a workbook's name."""
    if given is None:
        return None
    path = Path(given)
    if given.endswith(("/", os.sep)):
        path.mkdir(parents=True, exist_ok=True)
    elif not path.is_dir() and path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise CertpipeError(key="wbcli.output_suffix", params={"path": given})
    return path


def _from_schedule(root: Path, schedule: Path, output: Path | None, force: bool, again: bool, lang: str,
                   as_json: bool = False) -> int:
    if as_json:
        result = api.generate_schedule(schedule, output, force=force, again=again, lang=lang, workspace=root)
        rows = lambda items: [{"row": n, "text": m.render(lang)} for n, m in items]  # noqa: E731
        print(json.dumps({"folder": str(result.folder), "total": result.total, "made": [str(p) for p in result.made],
                          "existing": [{"row": n, "audit_id": a} for n, a in result.existing],
                          "notes": rows(result.notes), "failures": rows(result.failures)},
                         ensure_ascii=False, indent=2))
        return 1 if result.failures else 0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=out, transient=True) as bar:
        task = bar.add_task(t("wbcli.generating", lang), total=None)
        result = api.generate_schedule(schedule, output, force=force, again=again, lang=lang, workspace=root,
                                       on_start=lambda total: bar.update(task, total=total),
                                       on_row=lambda _row: bar.advance(task))
    out.print(t("wbcli.schedule_done", lang, made=len(result.made), total=result.total, folder=result.folder))
    for number, note in result.notes:
        out.print(f"  [cyan]i[/] {t('wbcli.row', lang, row=number)}: " + escape(note.render(lang)), highlight=False)
    for number, audit_id in result.existing:
        out.print(f"  [dim]=[/] {t('wbcli.row', lang, row=number)}: " + escape(t("sched.row_exists", lang,
                                                                                  audit_id=audit_id)), highlight=False)
    for number, message in result.failures:
        out.print(f"  [red]✗[/] {t('wbcli.row', lang, row=number)}: "
                  + escape(message.render(lang)), highlight=False)
    return 1 if result.failures else 0


def _check(ctx: typer.Context, path: Path, lang: str) -> Checked:
    return api.validate_file(path, workspace=settings(ctx).workspace)


def _print_problems(checked: Checked, lang: str) -> None:
    for problem in checked.problems:
        out.print(f"  {problem.format(lang)}", markup=False, highlight=False)
        hint = problem.hint(lang)
        if hint:
            out.print(f"    → {hint}", markup=False, highlight=False, style="dim")


@app.command(short_help="检查评分表 / check completed workbooks")
def validate(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="填写好的评分表 / filled workbooks")],
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """检查评分表，一次列出全部问题（工作表!单元格: 问题）；全部有效退出码 0，否则 1。

    Check workbooks and print every problem as sheet!cell: message; exit 0 when all are valid, 1 otherwise."""
    lang = _lang(ctx, lang)
    if as_json:
        found = []
        for path in files:
            checked = _check(ctx, path, lang)
            found.append({"file": str(path), "ok": checked.ok,
                          "problems": [p.to_json() | {"text": p.format(lang), "hint": p.hint(lang) or None}
                                       for p in checked.problems]})
        print(json.dumps(found, ensure_ascii=False, indent=2, default=str))
        raise typer.Exit(0 if all(f["ok"] for f in found) else 1)
    failed = 0
    for path in files:
        checked = _check(ctx, path, lang)
        if checked.ok:
            out.print(f"[green]✓[/] {escape(str(path))}", highlight=False)
        else:
            failed += 1
            out.print(f"[red]✗[/] {escape(str(path))}: {t('wbcli.problem_count', lang, count=len(checked.problems))}",
                      highlight=False)
            _print_problems(checked, lang)
    raise typer.Exit(1 if failed else 0)


@app.command(short_help="计算得分与等级 / score one workbook")
def score(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="填写好的评分表 / a filled workbook")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
    lang: LangOption = None,
) -> None:
    """计算一份评分表的得分与等级（表格或 JSON）；评分表有问题时列出问题并退出码 1。

    Score one workbook (a table, or JSON); a workbook with problems prints them and exits 1."""
    lang = _lang(ctx, lang)
    checked = _check(ctx, file, lang)
    if not checked.ok or checked.audit is None or checked.standard is None:
        out.print(f"[red]✗[/] {escape(str(file))}: {t('wbcli.problem_count', lang, count=len(checked.problems))}",
                  highlight=False)
        _print_problems(checked, lang)
        raise typer.Exit(1)
    std, audit = checked.standard, checked.audit
    card = score_audit(std, audit.entries)
    if as_json:
        print(scorecard_json(card, audit_id=audit.info.audit_id, lang=lang))
        return
    kinds = {"code": KEY, "indicator": TEXT, "max": NUMBER, "entered": NUMBER, "points": NUMBER, "rate": NUMBER}
    table = Listing(f"{audit.info.audit_id} · {audit.info.org_name} · {std.code}",
                    [(t(f"wbcli.col.{col}", lang), kind) for col, kind in kinds.items()])
    for ind in card.indicators:
        style = "bold" if not ind.is_leaf else ("dim" if not ind.applicable else None)
        entered = _num(ind.entered) + ("%" if std.input.mode == "percent" and ind.entered is not None else "")
        table.add_row(ind.code, "  " * (ind.depth - 1) + ind.title.get(lang), _num(ind.max),
                      entered if ind.is_leaf else "", _num(ind.points) if ind.applicable else t("wbcli.na", lang),
                      f"{_num(ind.rate)}%" if ind.rate is not None else "", styles=dict.fromkeys(range(6), style))
    table.print(out)
    for part, spec in zip(card.parts, std.parts, strict=True):
        suffix = f" ({t('wbcli.renormalised', lang)})" if part.renormalised else ""
        level = ""
        if spec.levels:
            level = " — " + (std.describe_level(part.level, lang) if part.level else t("wb.no_level", lang))
        out.print(f"{part.title.get(lang)}: {_num(part.score)} / {_num(part.max)}{suffix}{level}")
    if card.deductions or card.bonus:
        out.print(t("wbcli.special", lang, deductions=card.deductions, bonus=card.bonus))
    level = std.describe_level(card.level, lang) if card.level else t("wb.no_level", lang)
    out.print(f"[bold]{t('wbcli.total', lang)}: {_num(card.total)} / {_num(card.max)} — {level}[/]")
    for blocker in card.blockers:
        out.print(f"[yellow]{blocker.message(lang)}[/]")
    # blocked (too many special deductions, say): no points reach a level until the blocker goes
    if card.next_level is not None and card.short_of_next is not None and not card.blockers:
        out.print(t("wbcli.next", lang, level=std.describe_level(card.next_level, lang), gap=_num(card.short_of_next)))
    if std.provisional:
        out.print(f"[yellow]⚠ {t('wbcli.provisional', lang, key=std.key)}[/]")
