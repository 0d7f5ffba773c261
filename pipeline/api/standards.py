"""Standards: a definition by key, every one, their files and checks, a level in words; edits that keep
field work (a workbook carried to a new definition, a definition exported to Excel and imported back,
two definitions compared) and the workspace's overrides of built-ins."""

from __future__ import annotations

from pathlib import Path

from pipeline.api.workspace import looked_at, open_workspace, root_of
from pipeline.core.definition import DefinitionProblem
from pipeline.core.standard import Standard
from pipeline.errors import CertpipeError
from pipeline.workspace import Workspace


def load_standard(key: str, workspace: Path | str | Workspace | None = None) -> Standard:
    """A standard by key: the workspace's ``standards/<key>.yaml``, else the built-in one."""
    from pipeline.flow.standards import load_standard as load

    return load(key, root_of(workspace))


def level_words(standard: str | None, level: str | None, lang: str = "zh",
                workspace: Path | str | Workspace | None = None) -> str:
    """A level's key in words (``★★★ 三星``, ``★★★ Three-star``) by its standard; what the ledger
    keeps when it cannot be put into words (a standard no longer known)."""
    if not level:
        return ""
    from pipeline.flow.standards import level_words as words

    return words(standard, level, lang, root_of(workspace))


def list_standards(workspace: Path | str | Workspace | None = None) -> list[Standard]:
    from pipeline.flow.standards import all_standards

    return all_standards(root_of(workspace))


def definition_files(workspace: Path | str | Workspace | None = None) -> dict[str, Path]:
    """Every definition file by key (the workspace's own override built-ins of the same key)."""
    from pipeline.flow.standards import definition_paths

    return definition_paths(root_of(workspace))


def check_definition(path: Path | str) -> list[DefinitionProblem]:
    """Every problem of one definition file, each with its YAML path and line (``p.format(lang)``)."""
    from pipeline.flow.standards import check_file

    return check_file(Path(path))


# --- provenance, edits that keep field work ---
def migrate_workbook(path: Path | str, output: Path | str | None = None, *, lang: str = "zh",
                     to: str | None = None, workspace: Path | str | Workspace | None = None):
    """Carry every entry of a workbook made from an earlier definition (cover, scores, notes,
    not-applicable marks, special counts) into a new workbook of the current definition, for the
    same audit; ``to`` names another standard (a new edition's key) instead of the workbook's own.
    ``output`` defaults to ``<name>-migrated.xlsx`` beside it and is never overwritten.
    Returns a ``Migrated`` (``path``, ``standard``, ``carried.counts``, ``carried.left``: what could
    not be carried, each with its old ``sheet!cell`` and why; ``carried.new_codes``: indicators to
    score)."""
    from pipeline.excel.intake import read_workbook
    from pipeline.excel.migrate_entries import Migrated, carry, write_migrated
    from pipeline.flow.standards import load_standard as load

    ws, config = open_workspace(workspace)
    source = Path(path)
    dest = Path(output) if output is not None else source.with_name(f"{source.stem}-migrated.xlsx")
    if dest.resolve() == source.resolve():
        raise CertpipeError("mig.same_file", {"path": source})
    if dest.exists():
        raise CertpipeError("mig.output_exists", {"path": dest})
    filled = read_workbook(source, max_file_mb=config.limits.max_file_mb, max_member_mb=config.limits.max_member_mb)
    key = filled.meta.get("standard_key", "")
    if not filled.has_meta or not key:
        raise CertpipeError("val.meta_missing")
    std = load(to or key, ws.root)
    carried = carry(filled, std, lang=lang)
    write_migrated(std, carried, dest, lang=lang)
    return Migrated(dest, std.key, carried)


def standard_overrides(workspace: Path | str | Workspace | None = None):
    """The workspace's definitions that override a built-in of the same key, each an ``Override``
    (``key``, ``path``, ``outstanding``: workbooks generated and not yet returned accepted, by the
    ledger; ``affected``: how many of them its scoring hash would reject)."""
    from pipeline.flow.ledger import Ledger
    from pipeline.flow.standards import overrides

    ws = looked_at(workspace)
    if not ws.ledger.exists():
        return overrides(ws.root, lambda key: [])
    with Ledger(ws.ledger, readonly=True) as ledger:
        return overrides(ws.root, ledger.outstanding_audits)


def export_standard(key: str, output: Path | str, *, lang: str = "zh", force: bool = False,
                    workspace: Path | str | Workspace | None = None) -> Path:
    """A standard definition as an Excel workbook for authoring (``certpipe standards export``): a
    sheet each for the fields, parts, indicators, levels, bands, rules, errata and provenance, with
    dropdowns and number checks. ``output`` is not overwritten unless ``force``."""
    from pipeline.excel.standard_book import write_book

    dest = Path(output)
    if dest.exists() and not force:
        raise CertpipeError("book.output_exists", {"path": dest})
    return write_book(load_standard(key, workspace), dest, lang=lang)


def import_standard(path: Path | str, output: Path | str | None = None, *, force: bool = False,
                    workspace: Path | str | Workspace | None = None):
    """A definition workbook (made by ``export_standard``, edited in Excel) checked by the same
    checker as a YAML file and, when it has no problem, written as ``standards/<key>.yaml`` of the
    workspace (or ``output``; not overwritten unless ``force``). Returns an ``Imported``: ``path``
    (None when nothing was written), ``key`` and ``problems`` (each with ``sheet``, ``cell`` and
    ``format(lang)``)."""
    from pipeline.excel.standard_book import Imported, check_book

    ws = looked_at(workspace)
    found = check_book(Path(path))
    if found.problems or found.text is None:
        return Imported(None, found.key, found.problems)
    dest = Path(output) if output is not None else ws.root / "standards" / f"{found.key}.yaml"
    if dest.exists() and not force:
        raise CertpipeError("book.output_exists", {"path": dest})
    from pipeline.atomic import write_bytes

    dest.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(dest, found.text.encode("utf-8"))
    return Imported(dest, found.key, [])


def diff_standards(a: str | Path, b: str | Path, *, workspace: Path | str | Workspace | None = None):
    """What changed from definition ``a`` to ``b`` (``certpipe standards diff``); each is a key or a
    definition file. Returns (standard a, standard b, changes): each change a ``Change`` with ``area``,
    ``where``, ``field``, ``kind``, ``old``, ``new`` and whether it touches ``scoring``."""
    from pipeline.core.standard_diff import diff
    from pipeline.flow.standards import load_file

    def one(ref: str | Path) -> Standard:
        path = Path(ref)
        return load_file(path) if path.suffix in (".yaml", ".yml") and path.is_file() else load_standard(
            str(ref), workspace)

    first, second = one(a), one(b)
    return first, second, diff(first, second)
