"""Reports and certificates rendered for every built-in standard, reopened with python-docx."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import docx
import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from docxtpl import DocxTemplate
from PIL import Image

from pipeline.config import Config
from pipeline.core.audit import Audit, Entries
from pipeline.core.certificates import CertificateInfo
from pipeline.core.scoring import score
from pipeline.core.token import check, decode
from pipeline.errors import TemplateError
from pipeline.flow.keys import Signer, verifier
from pipeline.flow.standards import all_standards, load_standard
from pipeline.word.context import fmt_num, report_number
from pipeline.word.qr import split
from pipeline.word.render import Renderer, find_template, make_env
from pipeline.word.template_check import sample_audit
from tests.helpers.issuer import complete_issuer

HOSTILE = 'R&D <北京> "分公司" {{ x }} & Co.'
CERT = CertificateInfo("CP-2025-TEST-00042", date(2025, 4, 1), date(2028, 3, 31), date(2026, 3, 31))
_PRIVATE = Ed25519PrivateKey.generate()
SIGNER = Signer(_PRIVATE)
PUBLIC = _PRIVATE.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
STANDARDS = {std.key: std for std in all_standards()}
FIXTURES = Path(__file__).parent / "fixtures" / "templates"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(Config(issuer=complete_issuer(name="测试认证中心", verify_url="https://verify.example.cn/")),
                    signer=SIGNER)


def hostile_audit(std, **entries_changes) -> Audit:
    audit = sample_audit(std, org=HOSTILE)
    if entries_changes:
        audit = replace(audit, entries=replace(audit.entries, **entries_changes))
    return audit


def all_text(path: Path) -> str:
    """Every text of the document: paragraphs, table cells (nested too), headers and footers."""
    d = docx.Document(str(path))
    out = [p.text for p in d.paragraphs]

    def cells(tables):
        for table in tables:
            for row in table.rows:
                for cell in row.cells:
                    out.append(cell.text)
                    cells(cell.tables)

    cells(d.tables)
    for section in d.sections:
        for part in (section.header, section.footer):
            out += [p.text for p in part.paragraphs]
    with zipfile.ZipFile(path) as zf:  # VML watermark text lives in an attribute
        for name in zf.namelist():
            if name.startswith("word/header"):
                out += re.findall(r'string="([^"]*)"', zf.read(name).decode())
    return "\n".join(out)


def table_with_header(path: Path, *headers: str):
    """The table whose heading row is exactly ``headers``."""
    d = docx.Document(str(path))
    return next(t for t in d.tables if [c.text for c in t.rows[0].cells] == list(headers))


@pytest.mark.parametrize("key", sorted(STANDARDS))
def test_report_and_certificate_for_every_builtin_standard(renderer, tmp_path, key):
    std = STANDARDS[key]
    audit = hostile_audit(std)
    card = score(std, audit.entries)
    assert card.level is not None
    paths = renderer.render(audit, std, card, tmp_path, certificate=CERT)
    report, cert = paths
    assert report.name == f"S-{key}-report.docx" and cert.name == f"S-{key}-certificate.docx"

    text = all_text(report)
    assert HOSTILE in text  # escaped on the way in, intact on the way out
    assert "{{" not in text.replace(HOSTILE, "") and "{%" not in text
    assert f"{fmt_num(card.total)} / {fmt_num(std.max)}" in text
    assert std.describe_level(card.level) in text
    assert report_number(audit.info.audit_id, 1) in text
    assert "2026年3月31日" in text  # next surveillance
    assert ("暂定标准" in text) == std.provisional

    # every indicator is a row of the full table, in order, with its evidence
    table = table_with_header(report, "编号", "指标", "满分", "得分", "得分率")
    full = table_with_header(report, "编号", "指标", "满分", "得分", "得分率", "评价证据")
    rows = [r.cells[0].text for r in full.rows[1:]]
    assert rows == [i.code for i in card.indicators]
    leaf = std.leaves[1]
    row = full.rows[1 + [i.code for i in card.indicators].index(leaf.code)]
    assert row.cells[5].text == audit.notes[leaf.code]  # the newline survives as a line break
    # the summary: a row per part and per first-level indicator
    assert len(table.rows) - 1 == len(card.parts) + sum(1 for i in card.indicators if i.depth == 1)

    cert_text = all_text(cert)
    assert HOSTILE in cert_text and CERT.number in cert_text
    assert std.describe_level(card.level) in cert_text
    assert "2028年3月31日" in cert_text
    assert ("样本" in cert_text) == std.provisional  # a provisional standard never gives a clean certificate
    assert "{{" not in cert_text.replace(HOSTILE, "")


def test_english_twin(renderer, tmp_path):
    std = STANDARDS["gbt27922-2011"]
    audit = sample_audit(std)
    card = score(std, audit.entries)
    report, cert = renderer.render(audit, std, card, tmp_path, lang="en", certificate=CERT)
    text = all_text(report)
    assert "Service Certification Evaluation Report" in text
    assert std.describe_level(card.level, "en") in text and "2028-03-31" in all_text(cert)
    assert "SPECIMEN" in all_text(cert)
    assert "Provisional standard" in text


def test_revision_shows_on_the_report(renderer, tmp_path):
    std = STANDARDS["info-system-integration"]
    audit = sample_audit(std)
    card = score(std, audit.entries)
    (report,) = renderer.render(audit, std, card, tmp_path, revision=2)
    text = all_text(report)
    assert "第 2 版" in text
    assert report_number(audit.info.audit_id, 2) in text and report_number(audit.info.audit_id, 2).endswith("-R2")


def test_no_level_no_certificate_and_the_reason_is_given(renderer, tmp_path):
    std = STANDARDS["info-system-integration"]
    low = {leaf.code: Decimal(50) for leaf in std.leaves}
    audit = sample_audit(std)
    audit = replace(audit, entries=Entries(scores=low))
    card = score(std, audit.entries)
    assert card.level is None
    paths = renderer.render(audit, std, card, tmp_path, certificate=CERT)
    assert [p.name for p in paths] == [f"{audit.info.audit_id}-report.docx"]
    text = all_text(paths[0])
    assert "未达到评价等级" in text and "低于最低等级" in text
    assert "不颁发证书" in text


def test_not_applicable_and_special_deductions_are_reported(renderer, tmp_path):
    std = STANDARDS["gbt27922-2011"]
    na = frozenset(leaf.code for leaf in std.leaves if leaf.na_allowed)
    audit = sample_audit(std)
    audit = replace(audit, entries=replace(audit.entries, not_applicable=na, deductions=2, bonus=1))
    card = score(std, audit.entries)
    (report, _cert) = renderer.render(audit, std, card, tmp_path, certificate=CERT)
    exclusions = table_with_header(report, "编号", "指标", "满分")
    assert [r.cells[0].text for r in exclusions.rows[1:]] == sorted(na, key=list(std.indicators).index)
    specials = table_with_header(report, "项目", "项数", "分值")
    assert [[c.text for c in r.cells] for r in specials.rows[1:]] == [["专项扣分", "2", "-2"], ["专项加分", "1", "+1"]]


def test_east_asian_fonts_and_language(renderer, tmp_path):
    std = STANDARDS["qhxc013-2018"]
    audit = sample_audit(std)
    paths = renderer.render(audit, std, score(std, audit.entries), tmp_path, certificate=CERT)
    for path in paths:
        with zipfile.ZipFile(path) as zf:
            styles = zf.read("word/styles.xml").decode()
            fonts = zf.read("word/fontTable.xml").decode()
        assert 'w:eastAsia="Noto Serif CJK SC"' in styles and 'w:eastAsia="Noto Sans CJK SC"' in styles
        assert "eastAsiaTheme" not in styles and "asciiTheme" not in styles
        assert 'w:eastAsia="zh-CN"' in styles and 'w:eastAsia="en-US"' not in styles
        assert '<w:altName w:val="宋体"/>' in fonts
        section = docx.Document(str(path)).sections[0]
        assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)  # A4


def test_report_header_has_number_and_footer_page_fields(renderer, tmp_path):
    std = STANDARDS["qhxc002-2018"]
    audit = sample_audit(std)
    (report,) = renderer.render(audit, std, score(std, audit.entries), tmp_path)
    with zipfile.ZipFile(report) as zf:
        header = zf.read("word/header1.xml").decode()
        footer = zf.read("word/footer1.xml").decode()
    assert report_number(audit.info.audit_id) in header
    assert "PAGE" in footer and "NUMPAGES" in footer


def test_chart_and_qr_replace_the_placeholders_at_their_size(renderer, tmp_path):
    std = STANDARDS["info-system-integration"]
    audit = sample_audit(std)
    card = score(std, audit.entries)
    report, cert = renderer.render(audit, std, card, tmp_path, certificate=CERT)
    for path, name, template in ((report, "chart", "report"), (cert, "qr", "certificate")):
        holder = renderer.template(template, std.key, "zh").placeholders[name]
        with zipfile.ZipFile(path) as zf, zipfile.ZipFile(find_template(template, std.key, "zh", None)) as tz:
            image = zf.read(holder.member)
            assert image != tz.read(holder.member)
        img = Image.open(io.BytesIO(image))
        assert img.format == "PNG"
        assert abs(img.width / img.height - holder.size_emu[0] / holder.size_emu[1]) < 0.01


def test_certificate_qr_scans_to_the_certificate_data(renderer, tmp_path):
    std = STANDARDS["info-system-integration"]
    audit = hostile_audit(std)
    card = score(std, audit.entries)
    _report, cert = renderer.render(audit, std, card, tmp_path, certificate=CERT)
    holder = renderer.template("certificate", std.key, "zh").placeholders["qr"]
    with zipfile.ZipFile(cert) as zf:
        img = Image.open(io.BytesIO(zf.read(holder.member)))
    found = zxingcpp.read_barcode(img.convert("L"), try_invert=False)
    assert found is not None and found.format == zxingcpp.BarcodeFormat.QRCode
    number, token = split(found.text)
    assert found.text.startswith(f"https://verify.example.cn/c/{CERT.number}#")
    decoded = decode(token)
    assert number == decoded.claims.number == CERT.number
    assert decoded.claims.organisation == audit.info.org_name == HOSTILE
    assert (decoded.claims.standard, decoded.claims.level) == (std.key, card.level.key)
    assert (decoded.claims.issue_date, decoded.claims.expiry_date) == (CERT.issue_date, CERT.expiry_date)
    assert check(decoded, {SIGNER.key_id: verifier(PUBLIC)}) == "genuine"


def test_same_text_as_docxtpl_itself(renderer, tmp_path):
    """The prepared-once path renders what ``DocxTemplate(path).render(ctx)`` renders."""
    std = STANDARDS["gbt27922-2011"]
    audit = hostile_audit(std)
    card = score(std, audit.entries)
    report, cert = renderer.render(audit, std, card, tmp_path, certificate=CERT, report_date=date(2025, 4, 2))
    ctx = renderer.context(audit, std, card, certificate=CERT, report_date=date(2025, 4, 2))
    for ours, kind in ((report, "report"), (cert, "certificate")):
        tpl = DocxTemplate(find_template(kind, std.key, "zh", None))
        tpl.render(ctx, make_env(), autoescape=True)
        theirs = tmp_path / f"docxtpl-{kind}.docx"
        tpl.save(theirs)
        assert all_text(ours) == all_text(theirs)


def test_workspace_and_standard_templates_override_by_name(tmp_path):
    ws = tmp_path / "templates"
    (ws / "qhxc013-2018").mkdir(parents=True)
    shutil.copy(FIXTURES / "missing_variable.docx", ws / "qhxc013-2018" / "report.zh.docx")
    renderer = Renderer(Config(), workspace_templates=ws)
    assert find_template("report", "qhxc013-2018", "zh", ws) == ws / "qhxc013-2018" / "report.zh.docx"
    assert find_template("report", "qhxc002-2018", "zh", ws).parent.name == "templates"  # built-in
    std = STANDARDS["qhxc013-2018"]
    audit = sample_audit(std)
    with pytest.raises(TemplateError) as err:
        renderer.render(audit, std, score(std, audit.entries), tmp_path / "out")
    message = str(err.value)
    assert "org_contact" in message and "report.zh.docx" in message and "第 3 段" in message  # as Word counts


def test_field_typo_is_an_error_naming_the_field(tmp_path):
    ws = tmp_path / "templates"
    ws.mkdir()
    shutil.copy(FIXTURES / "field_typo.docx", ws / "report.zh.docx")
    std = STANDARDS["qhxc002-2018"]
    audit = sample_audit(std)
    with pytest.raises(TemplateError, match="nmae"):
        Renderer(Config(), workspace_templates=ws).render(audit, std, score(std, audit.entries), tmp_path)


def test_control_characters_do_not_break_the_document(renderer, tmp_path):
    std = load_standard("qhxc002-2018")
    audit = sample_audit(std, org="坏\x01字符\x0b公司\x1f")
    (report,) = renderer.render(audit, std, score(std, audit.entries), tmp_path)
    assert "坏字符\n公司" in all_text(report)


TCPR_ORDER = ["tcW", "gridSpan", "vMerge", "tcBorders", "shd", "vAlign"]


def test_word_strict_structure(renderer, tmp_path):
    """What Word (stricter than LibreOffice) rejects: cell properties out of schema order, a header
    or a table cell without a paragraph (the specimen header is empty for an official standard)."""
    std = STANDARDS["info-system-integration"]
    audit = sample_audit(std)
    for path in renderer.render(audit, std, score(std, audit.entries), tmp_path, certificate=CERT):
        with zipfile.ZipFile(path) as zf:
            parts = {n: zf.read(n).decode() for n in zf.namelist() if re.match(r"word/(document|header\d|footer\d)", n)}
        for name, xml in parts.items():
            for tcpr in re.findall(r"<w:tcPr>(.*?)</w:tcPr>", xml):
                kids = [k for k in re.findall(r"<w:(\w+)", tcpr) if k in TCPR_ORDER]
                assert kids == sorted(kids, key=TCPR_ORDER.index), (name, tcpr)
            assert "</w:tcPr></w:tc>" not in xml
            if "header" in name or "footer" in name:
                assert "<w:p" in xml.split(">", 2)[2], name


def test_a_certificate_is_a_specimen_until_the_issuer_is_complete_and_prints_its_approval_logo_and_seal(tmp_path):
    """Issue 20, part 2: no non-specimen certificate while name, address, signatory or approval number is
    unset; the English certificate says when the English name is not set; logo and seal are printed."""
    std = STANDARDS["info-system-integration"]  # official: only the issuer can make it a specimen
    audit = hostile_audit(std)
    card = score(std, audit.entries)
    cert = CertificateInfo("CP-2026-X-00001", date(2026, 3, 5), date(2029, 3, 4), date(2027, 3, 5))
    bare = Renderer(Config()).render(audit, std, card, tmp_path / "bare", certificate=cert)[1]
    text = all_text(bare)
    assert "样本" in text and "认证机构信息未填写完整" in text and "（批准号未设置）" in text
    english = Renderer(Config(issuer=complete_issuer())).render(audit, std, card, tmp_path / "en", lang="en",
                                                               certificate=cert)[1]
    assert "(English name not set)" in all_text(english) and "SPECIMEN" not in all_text(english)

    images = tmp_path / "ws" / "images"
    images.mkdir(parents=True)
    Image.new("RGB", (60, 30), (200, 0, 0)).save(images / "logo.jpg", "JPEG")
    Image.new("RGBA", (40, 40), (0, 0, 200, 255)).save(images / "seal.png")
    issuer = complete_issuer(logo="images/logo.jpg", seal="images/seal.png", verify_url="https://cert.example.cn")
    signed = Renderer(Config(issuer=issuer), workspace_templates=tmp_path / "ws" / "templates")
    made = signed.render(audit, std, card, tmp_path / "full", certificate=cert)[1]
    text = all_text(made)
    assert "样本" not in text and "CNCA-R-2026-001" in text and "王建国" in text and "https://cert.example.cn" in text
    with zipfile.ZipFile(made) as zf:
        colours = set()
        for name in zf.namelist():
            if name.startswith("word/media/"):
                img = Image.open(io.BytesIO(zf.read(name))).convert("RGB")
                colours.add(img.getpixel((img.width // 2, img.height // 2)))
    assert (200, 0, 0) in {tuple(min(255, max(0, c)) for c in col) for col in colours} or \
        any(abs(c[0] - 200) < 20 and c[1] < 30 and c[2] < 30 for c in colours)  # the JPEG logo, as PNG
    assert (0, 0, 200) in colours  # the seal


def test_status_names_what_the_issuer_lacks_and_a_picture_it_cannot_read(tmp_path, cli):
    import json

    ws_root = tmp_path / "ws"
    ws_root.mkdir()
    (ws_root / "certpipe.toml").write_text('[issuer]\nname = "某认证公司"\nlogo = "nope.png"\n', encoding="utf-8")
    _code, out, _ = cli("-W", ws_root, "status", "--json")
    found = json.loads(out)["issuer"]
    assert [f["key"] for f in found] == ["issuer.missing", "issuer.picture"]
    assert "issuer.approval_no" in found[0]["text"] and "nope.png" in found[1]["text"]


def test_a_report_blocked_by_special_deductions_names_no_points_to_a_level(renderer, tmp_path):
    """Five special deductions block every level of GB/T 27922: the report said 总分距下一等级「四星」
    还差 4 分 (or that the top level was reached) beside the reason no level was given."""
    std = STANDARDS["gbt27922-2011"]
    audit = hostile_audit(std)
    audit = replace(audit, entries=replace(audit.entries, deductions=5))
    card = score(std, audit.entries)
    assert card.level is None and card.blockers and card.next_level is not None
    (report,) = renderer.render(audit, std, card, tmp_path)
    text = all_text(report)
    assert "专项扣分 5 项" in text
    assert "还差" not in text and "已达到本标准的最高等级" not in text
