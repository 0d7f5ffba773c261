"""``certpipe standards list | show | check``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.tree import Tree

from pipeline import api
from pipeline.cli.app import Group, JsonOption, app, out, report_checks, settings
from pipeline.cli.tables import KEY, NUMBER, TEXT, Listing
from pipeline.core.numbers import plain
from pipeline.core.standard import Indicator, Level, Standard
from pipeline.i18n import t

standards_app = typer.Typer(
    cls=Group, help="标准定义：列出、查看、检查 / standard definitions: list, show, check", no_args_is_help=True
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


def _add_indicator(node: Tree, ind: Indicator, lang: str) -> None:
    na = f" [dim]({t('cli.na_allowed', lang)})[/]" if ind.na_allowed else ""
    branch = node.add(f"[bold]{ind.code}[/] {ind.title.get(lang)}  [cyan]{plain(ind.max)}[/]{na}")
    for child in ind.children:
        _add_indicator(branch, child, lang)


@standards_app.command("show", short_help="显示一个标准 / show a standard")
def show(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="标准键，如 gbt27922-2011 / standard key")],
) -> None:
    """显示一个标准：指标树与分值、评分档次、等级 / show a standard: indicator tree, bands, levels."""
    s = settings(ctx)
    lang = s.lang
    std = api.load_standard(key, s.workspace)
    out.print(f"[bold]{std.code}[/] {std.title.get(lang)}  ({t('cli.edition', lang)} {std.edition})")
    out.print(f"{t('cli.col.status', lang)}: {_status(std, lang)}")
    if std.provisional:
        out.print(f"  [yellow]{std.status.reason.get(lang)}[/]")
    mode = t(f"cli.mode.{std.input.mode}", lang)
    out.print(f"{t('cli.input', lang)}: {mode}, {t('cli.step', lang)} {plain(std.input.step)}")
    tree = Tree(f"{t('cli.col.max', lang)} {plain(std.max)}")
    for part in std.parts:
        levels = f"  [dim]{_levels_text(part.levels, lang)}[/]" if part.levels else ""
        branch = tree.add(f"[bold magenta]{part.title.get(lang)}[/]  [cyan]{plain(part.max)}[/]{levels}")
        for ind in part.indicators:
            _add_indicator(branch, ind, lang)
    out.print(tree)
    if std.input.bands:
        bands = Table(title=t("cli.bands", lang), show_lines=True)
        bands.add_column(t("cli.band", lang), no_wrap=True)
        bands.add_column(t("cli.band_rule", lang))
        for band in std.input.bands:
            bands.add_row(band.label, band.description.get(lang))
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
        out.print(f"[dim]{t('cli.erratum', lang)} {erratum.where}: {erratum.says} → {erratum.reading}[/]")


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
    raise typer.Exit(1 if failed else 0)
