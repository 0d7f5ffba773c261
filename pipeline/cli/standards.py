"""``certpipe standards list | show | check | export | import``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from pipeline import api
from pipeline.cli.app import Group, JsonOption, app, out, report_checks, settings
from pipeline.cli.tables import KEY, NUMBER, TEXT, Listing
from pipeline.core.numbers import plain
from pipeline.core.provenance import Loc, Resolver, Source, summary
from pipeline.core.standard import Indicator, Level, Standard
from pipeline.i18n import t

standards_app = typer.Typer(
    cls=Group, no_args_is_help=True,
    help="标准定义：列出、查看、检查、导出与导入 Excel / standard definitions: list, show, check, export, import",
)
app.add_typer(standards_app, name="standards")


def _levels_text(levels: tuple[Level, ...], lang: str) -> str:
    return " / ".join(f"{lv.label.get(lang)}≥{plain(lv.min)}" for lv in levels)


def _status_words(std: Standard, lang: str) -> str:
    return f"⚠ {t('cli.provisional', lang)}" if std.provisional else t("cli.official", lang)


def _status(std: Standard, lang: str) -> str:
    return f"[yellow]⚠ {t('cli.provisional', lang)}[/]" if std.provisional else t("cli.official", lang)


@standards_app.command("list", short_help="列出标准 / list standards")
def list_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """列出全部标准（内置与工作区）/ list every standard (built-in and workspace)."""
    s = settings(ctx)
    lang = s.lang
    stds = api.list_standards(s.workspace)
    if as_json:
        print(json.dumps([{"key": std.key, "code": std.code, "title": std.title.get(lang), "edition": std.edition,
                           "max": plain(std.max), "provisional": std.provisional,
                           "levels": [{"key": lv.key, "label": lv.label.get(lang), "min": plain(lv.min)}
                                      for lv in std.levels]} for std in stds], ensure_ascii=False, indent=2))
        return
    kinds = {"key": KEY, "code": KEY, "title": TEXT, "max": NUMBER, "levels": TEXT, "status": TEXT}
    table = Listing(t("cli.standards_title", lang), [(t(f"cli.col.{col}", lang), kind) for col, kind in kinds.items()])
    for std in stds:
        table.add_row(std.key, std.code, std.title.get(lang), plain(std.max), _levels_text(std.levels, lang),
                      _status_words(std, lang), styles={5: "yellow" if std.provisional else ""})
    table.print(out)


_MARK = {"inferred": "cyan", "placeholder": "yellow", "unstated": "dim"}


def _mark(src: Source, lang: str) -> str:
    """``[暂定]`` beside a value that is not given by the source (nothing for a given one)."""
    return f" [{_MARK[src.kind]}]\\[{src.label(lang)}][/]" if src.kind in _MARK else ""


def _add_indicator(node: Tree, ind: Indicator, loc: Loc, where: Resolver, lang: str) -> None:
    na = f" [dim]({t('cli.na_allowed', lang)})[/]" if ind.na_allowed else ""
    branch = node.add(f"[bold]{ind.code}[/] {ind.title.get(lang)}  [cyan]{plain(ind.max)}[/]"
                      f"{_mark(where.source((*loc, 'max')), lang)}{na}")
    for k, child in enumerate(ind.children):
        _add_indicator(branch, child, (*loc, "children", k), where, lang)


def _provenance(std: Standard, lang: str) -> None:
    """What is given, inferred or certpipe's placeholder, with the reasoning of each entry not given."""
    found = summary(std)
    if not found.stated:
        out.print(f"[dim]{t('prov.none_stated', lang)}[/]")
        return
    counts = ", ".join(f"{t(f'prov.kind.{kind}', lang)} {n}" for kind, n in found.counts.items())
    out.print(f"{t('prov.title', lang)}: {counts}")
    if found.notes:
        table = Table(show_lines=True)
        for col in ("kind", "what", "why"):
            table.add_column(t(f"prov.col.{col}", lang), overflow="fold")
        for src in found.notes:
            table.add_row(f"[{_MARK[src.kind]}]{src.label(lang)}[/]", src.origin.what_text(lang, src.pattern),
                          src.text(lang))
        out.print(table)


@standards_app.command("show", short_help="显示一个标准 / show a standard")
def show(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="标准键，如 gbt27922-2011 / standard key")],
) -> None:
    """显示一个标准：指标树与分值、评分档次、等级 / show a standard: indicator tree, bands, levels."""
    s = settings(ctx)
    lang = s.lang
    std = api.load_standard(key, s.workspace)
    out.print(f"[bold]{std.code}[/] {std.title.get(lang)}  ({t('cli.edition', lang)} {std.edition_label(lang)})")
    out.print(f"{t('cli.col.status', lang)}: {_status(std, lang)}")
    if std.provisional:
        out.print(f"  [yellow]{std.status.reason.get(lang)}[/]")
    mode = t(f"cli.mode.{std.input.mode}", lang)
    out.print(f"{t('cli.input', lang)}: {mode}, {t('cli.step', lang)} {plain(std.input.step)}")
    where = Resolver(std)
    tree = Tree(f"{t('cli.col.max', lang)} {plain(std.max)}{_mark(where.source(('max',)), lang)}")
    for i, part in enumerate(std.parts):
        levels = f"  [dim]{_levels_text(part.levels, lang)}[/]" if part.levels else ""
        branch = tree.add(f"[bold magenta]{part.title.get(lang)}[/]  [cyan]{plain(part.max)}[/]{levels}")
        for j, ind in enumerate(part.indicators):
            _add_indicator(branch, ind, ("parts", i, "indicators", j), where, lang)
    out.print(tree)
    if std.input.bands:
        bands = Table(title=t("cli.bands", lang), show_lines=True)
        bands.add_column(t("cli.band", lang), no_wrap=True)
        bands.add_column(t("cli.band_rule", lang))
        for i, band in enumerate(std.input.bands):
            src = where.source(("input", "bands", i, "description", lang))
            bands.add_row(band.label + _mark(src, lang), band.description.get(lang))
        out.print(bands)
    out.print(f"{t('cli.levels', lang)}: {_levels_text(std.levels, lang)}")
    rules = std.rules
    if rules.special_deductions:
        sd = rules.special_deductions
        out.print(t("cli.rule_deductions", lang, points=plain(sd.points),
                    blocks=sd.blocks_at if sd.blocks_at is not None else "—"))
    if rules.special_bonus:
        sb = rules.special_bonus
        out.print(t("cli.rule_bonus", lang, points=plain(sb.points), count=sb.max_count))
    for erratum in std.errata:
        said = escape(f"{t('cli.erratum', lang)} {erratum.where}: {erratum.says} → {erratum.reading}")
        out.print(f"[dim]{said}[/]")
    _provenance(std, lang)


@standards_app.command("check", short_help="检查标准定义 / check definitions")
def check(
    ctx: typer.Context,
    paths: Annotated[list[Path] | None, typer.Argument(
        help="定义文件（默认：全部内置与工作区定义）/ definition files (default: all)")] = None,
    as_json: JsonOption = False,
) -> None:
    """检查标准定义，一次列出全部问题（含 YAML 路径与行号），有问题时退出码 1。

    Check definitions and report every problem at once (YAML path and line); exit 1 on any."""
    s = settings(ctx)
    lang = s.lang
    files = list(paths) if paths else list(api.definition_files(s.workspace).values())
    failed = report_checks(((path, [p.format(lang) for p in api.check_definition(path)]) for path in files), lang,
                           as_json)
    checked = {Path(path).resolve() for path in files}
    for found in ([] if as_json else api.standard_overrides(s.workspace)):
        if found.path.resolve() in checked:  # a warning: the file is sound, but workbooks in the field may suffer
            said = t("std.override", lang, path=found.path, key=found.key, outstanding=found.outstanding,
                     affected=found.affected)
            out.print(f"[yellow]⚠ {escape(said)}[/]")
            out.print(f"  {escape(t('std.override.hint', lang))}")
    raise typer.Exit(1 if failed else 0)


@standards_app.command("export", short_help="把标准导出为 Excel / a standard as an Excel workbook")
def export(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="标准键 / standard key")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Excel 文件 / the workbook to write")],
    force: Annotated[bool, typer.Option("--force", help="覆盖已存在的文件 / overwrite")] = False,
) -> None:
    """把标准定义导出为 Excel 工作簿，供在 Excel 中编写：标准、部分、指标、等级、评分档次、规则、勘误、来源各一张表，
    带下拉列表与数值检查。

    Export a definition as an Excel workbook to author in Excel: a sheet each for the standard, parts,
    indicators, levels, bands, rules, errata and provenance, with dropdowns and number checks."""
    s = settings(ctx)
    path = api.export_standard(key, output, lang=s.lang, force=force, workspace=s.workspace)
    out.print(t("bookcli.exported", s.lang, key=key, path=escape(str(path))))


@standards_app.command("import", short_help="从 Excel 导入标准 / a standard from an Excel workbook")
def import_(
    ctx: typer.Context,
    book: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Excel 文件 / the workbook")],
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="写出的定义（默认：工作区 standards/<键>.yaml）/ "
                               "the definition to write (default standards/<key>.yaml)")] = None,
    force: Annotated[bool, typer.Option("--force", help="覆盖已存在的文件 / overwrite")] = False,
) -> None:
    """读取在 Excel 中编写的标准定义，按与 YAML 相同的规则检查，问题按「工作表!单元格」列出（退出码 1）；
    没有问题时写出 YAML 定义。

    Read a definition authored in Excel, check it as a YAML file is checked, list problems by
    sheet!cell (exit 1); with none, write the YAML definition."""
    s = settings(ctx)
    lang = s.lang
    done = api.import_standard(book, output, force=force, workspace=s.workspace)
    if done.problems:
        out.print(f"[red]✗[/] {escape(t('book.invalid', lang, path=book, count=len(done.problems)))}")
        for problem in done.problems:
            out.print(f"  {problem.format(lang)}", markup=False)
        raise typer.Exit(1)
    out.print(t("bookcli.imported", lang, key=done.key, path=escape(str(done.path))))
    for found in api.standard_overrides(s.workspace):
        if done.path is not None and found.path.resolve() == done.path.resolve():
            said = t("std.override", lang, path=found.path, key=found.key, outstanding=found.outstanding,
                     affected=found.affected)
            out.print(f"[yellow]⚠ {escape(said)}[/]")


@standards_app.command("diff", short_help="比较两个标准定义 / what changed between two definitions")
def diff(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="旧定义：标准键或 YAML 文件 / the old definition: a key or a file")],
    b: Annotated[str, typer.Argument(help="新定义：标准键或 YAML 文件 / the new definition: a key or a file")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出 / print JSON")] = False,
) -> None:
    """列出两个定义（如同一标准的两个版本）之间的变化：指标、分值、等级、档次、规则与文字，并指出哪些影响计分。

    List what changed between two definitions (two editions of a standard, say): indicators, points,
    levels, bands, rules and texts, and which changes touch scoring."""
    s = settings(ctx)
    lang = s.lang
    first, second, changes = api.diff_standards(a, b, workspace=s.workspace)
    scoring = sum(1 for c in changes if c.scoring)
    same = first.key == second.key and first.fingerprint() == second.fingerprint()
    if as_json:
        out.print_json(json.dumps({"a": first.key, "b": second.key, "a_edition": first.edition,
                                   "b_edition": second.edition, "workbooks_carry_over": same,
                                   "changes": [c.to_json() for c in changes]}, ensure_ascii=False))
        return
    out.print(escape(t("diff.title", lang, a=f"{first.code} ({first.edition_label(lang)})",
                       b=f"{second.code} ({second.edition_label(lang)})")))
    if changes:
        table = Table(show_lines=False)
        for col in ("area", "where", "field", "kind", "old", "new", "scoring"):
            table.add_column(t(f"diff.col.{col}", lang), overflow="fold")
        for c in changes:
            table.add_row(t(f"diff.area.{c.area}", lang), escape(c.where), c.field, t(f"diff.kind.{c.kind}", lang),
                          escape(c.old), escape(c.new), "[yellow]●[/]" if c.scoring else "")
        out.print(table)
    key = "diff.none" if not changes else ("diff.text_only" if same else "diff.scoring")
    out.print(t(key, lang, count=len(changes), scoring=scoring, a=first.key, b=second.key))
