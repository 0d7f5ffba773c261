"""Builds the built-in Word templates: ``report.{zh,en}.docx`` and ``certificate.{zh,en}.docx``.

Run ``python templates/_make_templates.py`` after changing it; the .docx files are committed. They
are ordinary documents a clerk edits in Word: real styles (正文, 标题 1/2, 标题, 表格文字), tables,
a header with the report number and a footer with PAGE / NUMPAGES fields. The docxtpl tags are the
``{{ ... }}`` and ``{% ... %}`` texts; the variables are documented in ``pipeline/word/context.py``.
Pictures whose alternative text (description) is ``certpipe:chart`` or ``certpipe:qr`` are replaced
at render time, keeping the size the template gives them.

Fonts (docs/architecture.md, "Pitfalls"): the East Asian font is named explicitly (Noto Serif CJK SC /
Noto Sans CJK SC, installed with fonts-noto-cjk; the font table names 宋体 / 黑体 as their
alternatives for Word on Windows), the theme font attributes python-docx's default styles carry are
removed, and the East Asian language is zh-CN.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SERIF_CJK, SANS_CJK = "Noto Serif CJK SC", "Noto Sans CJK SC"
SERIF_LATIN, SANS_LATIN = "Times New Roman", "Arial"
DARK = RGBColor(0x1F, 0x2A, 0x44)
RED = RGBColor(0xC0, 0x00, 0x00)

# ---------------------------------------------------------------------------------------------
# Words of the templates (the documents' own text; data comes from the context).
W = {
    "zh": {
        "report_title": "服务认证评价报告", "report_no": "报告编号", "org": "受评价组织",
        "standard": "评价标准", "edition": "标准版本", "audit_dates": "评价日期", "audit_type": "评价类型",
        "report_date": "报告日期", "issuer": "认证机构", "provisional": "暂定标准",
        "s1": "1  受评价组织与评价信息", "org_name": "组织名称", "address": "地址",
        "credit_code": "统一社会信用代码", "scope": "服务范围", "lead": "审核组长", "auditors": "审核组成员",
        "audit_id": "评价编号",
        "s2": "2  评价依据、范围与删减", "basis": "评价依据：", "scope_p": "评价范围：",
        "exclusions": "删减（不适用）指标：", "none": "无。",
        "s3": "3  得分汇总", "code": "编号", "indicator": "指标", "max": "满分", "points": "得分",
        "rate": "得分率", "evidence": "评价证据", "lost": "失分", "part": "部分", "level": "等级",
        "chart_caption": "图 1  各一级指标得分率",
        "s4": "4  指标评分明细",
        "s5": "5  专项扣分与专项加分", "special_none": "本标准未设专项扣分与专项加分。",
        "count": "项数", "special_points": "分值", "item": "项目",
        "s6": "6  薄弱指标与等级差距", "weak_intro": "失分最多的指标：", "weak_none": "各指标均得满分。",
        "s7": "7  评价结论", "total": "总分", "subtotal": "指标得分合计", "result": "评价结论",
        "s9": "9  签署", "role": "角色", "name": "姓名", "signature": "签名", "date": "日期",
        "prov_title": "附录  评价标准的来源说明", "prov_intro": "评价标准中以下内容并非标准原文给定（推断或暂定）：",
        "prov_kind": "来源", "prov_what": "内容", "prov_why": "出处、理由或说明",
        "reviewer": "技术复核", "approver": "批准",
        "s8": "8  认证与监督审核", "next_surv": "下次监督审核日期：",
        "page": ("第 ", " 页 / 共 ", " 页"),
        "cert_title": "服务认证证书", "cert_no": "证书编号：", "hereby": "兹证明",
        "complies": "的服务符合下列标准的要求，经评价，达到以下等级：",
        "cert_scope": "认证范围", "cert_standard": "认证依据", "cert_level": "认证等级",
        "issue_date": "发证日期", "expiry": "有效期至", "org_address": "组织地址",
        "surv_note": ("本证书有效期内，获证组织须每年接受监督审核，首次监督审核应于 ",
                      " 前完成；监督审核通过后本证书持续有效。扫描二维码可核验证书信息。"),
        "signatory": "授权签字人：", "approval_no": "认证机构批准号",
        "cert_footer": "证书编号 ",
    },
    "en": {
        "report_title": "Service Certification Evaluation Report", "report_no": "Report number",
        "org": "Organisation", "standard": "Standard", "edition": "Edition", "audit_dates": "Audit dates",
        "audit_type": "Audit type", "report_date": "Report date", "issuer": "Certification body",
        "provisional": "Provisional standard",
        "s1": "1  Organisation and audit", "org_name": "Organisation", "address": "Address",
        "credit_code": "Unified social credit code", "scope": "Scope of service", "lead": "Lead auditor",
        "auditors": "Audit team", "audit_id": "Audit ID",
        "s2": "2  Basis, scope and exclusions", "basis": "Basis: ", "scope_p": "Scope: ",
        "exclusions": "Excluded (not applicable) indicators:", "none": "None.",
        "s3": "3  Summary of scores", "code": "Code", "indicator": "Indicator", "max": "Max",
        "points": "Points", "rate": "Rate", "evidence": "Evidence", "lost": "Lost", "part": "Part",
        "level": "Level", "chart_caption": "Figure 1  Rate per first-level indicator",
        "s4": "4  Scores per indicator",
        "s5": "5  Special deductions and bonus", "special_none": "This standard has no special deductions or bonus.",
        "count": "Count", "special_points": "Points", "item": "Item",
        "s6": "6  Weakest indicators and the gap to the next level", "weak_intro": "Indicators that lost most:",
        "weak_none": "Every indicator earned its maximum.",
        "s7": "7  Result", "total": "Total", "subtotal": "Sum of indicator scores", "result": "Result",
        "s9": "9  Sign-off", "role": "Role", "name": "Name", "signature": "Signature", "date": "Date",
        "prov_title": "Appendix  Provenance of the standard",
        "prov_intro": "These parts of the standard applied are not given by its text (inferred or placeholders):",
        "prov_kind": "Kind", "prov_what": "What", "prov_why": "Reference, reasoning or note",
        "reviewer": "Technical review", "approver": "Approval",
        "s8": "8  Certificate and surveillance", "next_surv": "Next surveillance audit due: ",
        "page": ("Page ", " of ", ""),
        "cert_title": "Service Certification Certificate", "cert_no": "Certificate No. ",
        "hereby": "This is to certify that",
        "complies": "provides services that comply with the standard below and reached the level:",
        "cert_scope": "Scope", "cert_standard": "Standard", "cert_level": "Level", "issue_date": "Issued",
        "expiry": "Valid until", "org_address": "Address",
        "surv_note": ("The certified organisation is audited every year while this certificate is valid; "
                      "the first surveillance audit is due by ", ". Scan the QR code to verify this certificate."),
        "signatory": "Authorised signatory: ", "approval_no": "Approval No. of the body",
        "cert_footer": "Certificate No. ",
    },
}


# ---------------------------------------------------------------------------------------------
# Styles and fonts
def _fonts(rpr, latin: str, east: str) -> None:
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in list(rfonts.attrib):
        if attr.endswith("Theme"):
            del rfonts.attrib[attr]
    for name, value in (("ascii", latin), ("hAnsi", latin), ("cs", latin), ("eastAsia", east)):
        rfonts.set(qn(f"w:{name}"), value)


def _style(doc, name, *, size, bold=False, sans=False, color=None, align=None, before=0, after=4,
           base=None, kind=WD_STYLE_TYPE.PARAGRAPH):
    styles = doc.styles
    try:
        st = styles[name]
    except KeyError:
        st = styles.add_style(name, kind)
        if base:
            st.base_style = styles[base]
    st.font.size = Pt(size)
    st.font.bold = bold
    st.font.italic = False
    st.font.color.rgb = color or RGBColor(0, 0, 0)
    _fonts(st.element.get_or_add_rPr(), SANS_LATIN if sans else SERIF_LATIN, SANS_CJK if sans else SERIF_CJK)
    pf = st.paragraph_format
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    if align is not None:
        pf.alignment = align
    ppr = st.element.get_or_add_pPr()
    for bdr in ppr.findall(qn("w:pBdr")):
        ppr.remove(bdr)
    return st


def _setup(doc, lang: str) -> None:
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.2)
    sec.top_margin, sec.bottom_margin = Cm(2.4), Cm(2.2)
    sec.header_distance = sec.footer_distance = Cm(1.2)
    styles_el = doc.styles.element
    for el in styles_el.iter(qn("w:rFonts"), qn("w:color")):  # pitfall 2: theme attributes win over named ones
        for attr in list(el.attrib):
            if attr.endswith(("Theme", "themeColor", "themeShade", "themeTint")):
                del el.attrib[attr]
    defaults = styles_el.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(defaults, SERIF_LATIN, SERIF_CJK)
    for lang_el in defaults.findall(qn("w:lang")):
        defaults.remove(lang_el)
    lang_el = OxmlElement("w:lang")
    lang_el.set(qn("w:val"), "zh-CN" if lang == "zh" else "en-GB")
    lang_el.set(qn("w:eastAsia"), "zh-CN")
    lang_el.set(qn("w:bidi"), "ar-SA")
    defaults.append(lang_el)
    normal = _style(doc, "Normal", size=10.5, after=4)
    normal.paragraph_format.line_spacing = 1.25
    _style(doc, "Title", size=24, bold=True, sans=True, color=DARK, align=WD_ALIGN_PARAGRAPH.CENTER,
           before=12, after=12)
    _style(doc, "Subtitle", size=14, sans=True, color=DARK, align=WD_ALIGN_PARAGRAPH.CENTER, after=6)
    h1 = _style(doc, "Heading 1", size=14, bold=True, sans=True, color=DARK, before=14, after=6)
    h1.paragraph_format.keep_with_next = True
    h2 = _style(doc, "Heading 2", size=12, bold=True, sans=True, color=DARK, before=10, after=4)
    h2.paragraph_format.keep_with_next = True
    _style(doc, "Caption", size=9, align=WD_ALIGN_PARAGRAPH.CENTER, before=2, after=8)
    _style(doc, "Header", size=9, after=0)
    _style(doc, "Footer", size=9, after=0, align=WD_ALIGN_PARAGRAPH.CENTER)
    tt = _style(doc, "Table Text", size=9, after=0, base="Normal")
    tt.paragraph_format.line_spacing = 1.1
    _style(doc, "Table Heading", size=9, bold=True, sans=True, after=0, base="Normal",
           align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(doc, "Notice", size=10.5, bold=True, color=RED, base="Normal", before=6, after=6)
    _style(doc, "Cover Field", size=12, after=6, base="Normal")
    cp = doc.core_properties
    cp.author = cp.last_modified_by = "certpipe"
    cp.title = W[lang]["report_title"]
    cp.comments = "certpipe built-in template (docxtpl)"
    cp.language = "zh-CN" if lang == "zh" else "en-GB"


# ---------------------------------------------------------------------------------------------
# Building blocks
def _para(doc_or_cell, text="", style=None, align=None, bold=None, size=None, color=None):
    p = doc_or_cell.add_paragraph(style=style)
    if text:
        run = p.add_run(text)
        run.bold = bold
        if size:
            run.font.size = Pt(size)
        if color is not None:
            run.font.color.rgb = color
    if align is not None:
        p.alignment = align
    return p


def _field(paragraph, instr: str) -> None:
    def run_with(el):
        r = paragraph.add_run()
        r._r.append(el)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    it = OxmlElement("w:instrText")
    it.set(qn("xml:space"), "preserve")
    it.text = f" {instr} \\* MERGEFORMAT "
    run_with(it)
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    run_with(sep)
    paragraph.add_run("1")
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def _shade(cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _set_cell(cell, text, style="Table Text", align=None, bold=None):
    p = cell.paragraphs[0]
    p.style = cell.part.document.styles[style]
    if text:
        run = p.add_run(text)
        run.bold = bold
    if align is not None:
        p.alignment = align
    return p


def _widths(table, widths_cm) -> None:
    table.autofit = False
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_cm, strict=True):
        col.set(qn("w:w"), str(int(w * 567)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths_cm, strict=False):
            cell.width = Cm(w)


def _table(doc, headers, widths, *, header_fill="DCE3EF"):
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        _set_cell(cell, text, style="Table Heading")
        _shade(cell, header_fill)
    trpr = table.rows[0]._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:tblHeader"))  # repeat the heading row on every page
    _widths(table, widths)
    return table


def _loop_table(doc, headers, widths, loop: str, cells, aligns, *, shaded=True):
    """A table whose data row repeats: ``{%tr for ... %}`` / the row / ``{%tr endfor %}``."""
    table = _table(doc, headers, widths)
    start, row, end = table.add_row(), table.add_row(), table.add_row()
    _set_cell(start.cells[0], f"{{%tr for {loop} %}}")
    _set_cell(end.cells[0], "{%tr endfor %}")
    for cell, text, align in zip(row.cells, cells, aligns, strict=True):
        p = _set_cell(cell, "", align=align)
        if shaded:
            p.add_run("{% cellbg r.bg %}")
        p.add_run(text)
    _widths(table, widths)
    return table


def _kv_table(doc, rows, widths=(4.2, 12.4), borders=True, style="Table Text", height=None):
    table = doc.add_table(rows=0, cols=2)
    if borders:
        table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for label, value in rows:
        row = table.add_row()
        cells = row.cells
        _set_cell(cells[0], label, style=style, bold=True)
        if borders:
            _shade(cells[0], "F2F4F8")
        _set_cell(cells[1], value, style=style)
        if height:
            row.height = Cm(height)
    _widths(table, widths)
    return table


def _placeholder_png(width: int, height: int, text_lines: int = 0) -> io.BytesIO:
    img = Image.new("RGB", (width, height), (236, 239, 244))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, width - 1, height - 1], outline=(160, 168, 184), width=3)
    draw.line([0, 0, width, height], fill=(200, 205, 215), width=2)
    draw.line([0, height, width, 0], fill=(200, 205, 215), width=2)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    buf.seek(0)
    return buf


def _picture(paragraph, png, width_cm, height_cm, name: str) -> None:
    run = paragraph.add_run()
    run.add_picture(png, width=Cm(width_cm), height=Cm(height_cm))
    for el in run._r.iter(qn("wp:docPr"), qn("pic:cNvPr")):
        el.set("descr", f"certpipe:{name}")  # the renderer finds the picture by this alt text
        el.set("name", name)


def _header_footer(doc, w, header_text: str, page_numbers: bool = True) -> None:
    sec = doc.sections[0]
    hp = sec.header.paragraphs[0]
    hp.text = header_text
    bdr = parse_xml(f'<w:pBdr {nsdecls("w")}><w:bottom w:val="single" w:sz="4" w:space="1" '
                    'w:color="8090A8"/></w:pBdr>')
    hp._p.get_or_add_pPr().append(bdr)  # before w:jc, as the schema orders them
    hp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    fp = sec.footer.paragraphs[0]
    if page_numbers:
        before, middle, after = w["page"]
        fp.add_run(before)
        _field(fp, "PAGE")
        fp.add_run(middle)
        _field(fp, "NUMPAGES")
        fp.add_run(after)


# ---------------------------------------------------------------------------------------------
def build_report(lang: str) -> Document:
    w = W[lang]
    doc = Document()
    _setup(doc, lang)
    sec = doc.sections[0]
    sec.different_first_page_header_footer = True  # the cover carries no header
    _header_footer(doc, w, f"{{{{ issuer.name }}}}    {w['report_no']}：{{{{ report_number }}}}"
                   if lang == "zh" else f"{{{{ issuer.name }}}}    {w['report_no']}: {{{{ report_number }}}}")
    center = WD_ALIGN_PARAGRAPH.CENTER
    right = WD_ALIGN_PARAGRAPH.RIGHT

    # Cover
    _para(doc, "{{ issuer.name }}", "Subtitle").paragraph_format.space_before = Pt(36)
    _para(doc, w["report_title"], "Title").paragraph_format.space_before = Pt(60)
    _para(doc, "{{ standard.code }} {{ standard.title }}", "Subtitle")
    _para(doc, "{{ revision_text }}", "Subtitle")
    _para(doc, "{%p if standard.provisional %}")
    p = _para(doc, "", "Notice", align=center)
    p.add_run(f"⚠ {w['provisional']}：" if lang == "zh" else f"⚠ {w['provisional']}: ")
    p.add_run("{{ standard.status_note }}")
    _para(doc, "{%p endif %}")
    _para(doc, "{%p if decision_note %}")
    _para(doc, "{{ decision_note }}", "Notice", align=center)
    _para(doc, "{%p endif %}")
    _para(doc).paragraph_format.space_before = Pt(60)
    _kv_table(doc, [
        (w["org"], "{{ org.name }}"),
        (w["standard"], "{{ standard.code }}《{{ standard.title }}》" if lang == "zh"
         else "{{ standard.code }} {{ standard.title }}"),
        (w["edition"], "{{ standard.edition }}"),
        (w["audit_dates"], "{{ audit.dates }}"),
        (w["report_no"], "{{ report_number }}"),
        (w["report_date"], "{{ report_date }}"),
    ], widths=(4.0, 11.0), style="Cover Field", height=0.9)
    doc.add_page_break()

    # 1 organisation and audit
    doc.add_heading(w["s1"], level=1)
    _kv_table(doc, [
        (w["org_name"], "{{ org.name }}"), (w["address"], "{{ org.address }}"),
        (w["credit_code"], "{{ org.credit_code }}"), (w["scope"], "{{ org.scope }}"),
        (w["audit_id"], "{{ audit.id }}"), (w["audit_type"], "{{ audit.type }}"),
        (w["audit_dates"], "{{ audit.dates }}"), (w["lead"], "{{ audit.lead_auditor }}"),
        (w["auditors"], "{{ audit.auditors }}"),
    ])

    # 2 basis, scope, exclusions
    doc.add_heading(w["s2"], level=1)
    p = _para(doc, w["basis"])
    p.add_run("{{ standard.code }}《{{ standard.title }}》（{{ standard.edition }}）" if lang == "zh"
              else "{{ standard.code }} {{ standard.title }} ({{ standard.edition }})")
    _para(doc, "{%p if standard.provisional %}")
    _para(doc, "{{ standard.status_note }}", "Notice")
    _para(doc, "{%p endif %}")
    _para(doc, w["scope_p"]).add_run("{{ org.scope }}")
    _para(doc, w["exclusions"])
    _para(doc, "{%p if exclusions %}")
    _loop_table(doc, [w["code"], w["indicator"], w["max"]], (2.5, 11.1, 3.0), "r in exclusions",
                ["{{ r.code }}", "{{ r.title }}", "{{ r.max }}"], [None, None, center], shaded=False)
    _para(doc, "{%p else %}")
    _para(doc, w["none"])
    _para(doc, "{%p endif %}")

    # 3 summary + chart
    doc.add_heading(w["s3"], level=1)
    _loop_table(doc, [w["code"], w["indicator"], w["max"], w["points"], w["rate"]], (2.2, 8.6, 1.9, 1.9, 2.0),
                "r in summary", ["{{ r.code }}", "{{ r.title }}", "{{ r.max }}", "{{ r.points }}", "{{ r.rate }}"],
                [None, None, right, right, right])
    p = _para(doc, align=center)
    p.paragraph_format.space_before = Pt(10)
    p.paragraph_format.keep_with_next = True
    _picture(p, _placeholder_png(1600, 1000), 16.0, 10.0, "chart")
    _para(doc, w["chart_caption"], "Caption")

    # 4 every indicator
    doc.add_heading(w["s4"], level=1)
    _loop_table(doc, [w["code"], w["indicator"], w["max"], w["points"], w["rate"], w["evidence"]],
                (1.5, 4.3, 1.2, 2.6, 1.6, 5.4), "r in indicators",
                ["{{ r.code }}", "{{ r.title }}", "{{ r.max }}", "{{ r.points }}", "{{ r.rate }}", "{{ r.evidence }}"],
                [None, None, right, right, right, None])

    # 5 special deductions and bonus
    doc.add_heading(w["s5"], level=1)
    _para(doc, "{%p if specials %}")
    _loop_table(doc, [w["item"], w["count"], w["special_points"]], (8.6, 4.0, 4.0), "r in specials",
                ["{{ r.label }}", "{{ r.count }}", "{{ r.points }}"], [None, right, right], shaded=False)
    _para(doc, "{%p else %}")
    _para(doc, w["special_none"])
    _para(doc, "{%p endif %}")

    # 6 weakest + gap
    doc.add_heading(w["s6"], level=1)
    _para(doc, "{%p if weakest %}")
    _para(doc, w["weak_intro"])
    _loop_table(doc, [w["code"], w["indicator"], w["max"], w["points"], w["lost"], w["rate"]],
                (1.9, 7.3, 1.8, 1.8, 1.8, 2.0), "r in weakest",
                ["{{ r.code }}", "{{ r.title }}", "{{ r.max }}", "{{ r.points }}", "{{ r.lost }}", "{{ r.rate }}"],
                [None, None, right, right, right, right], shaded=False)
    _para(doc, "{%p else %}")
    _para(doc, w["weak_none"])
    _para(doc, "{%p endif %}")
    _para(doc, "{%p for line in result.gaps %}")
    _para(doc, "{{ line }}").paragraph_format.space_before = Pt(6)
    _para(doc, "{%p endfor %}")

    # 7 result
    doc.add_heading(w["s7"], level=1)
    _loop_table(doc, [w["part"], w["max"], w["points"], w["rate"], w["level"]], (7.0, 2.2, 2.2, 2.2, 3.0),
                "r in parts", ["{{ r.title }}", "{{ r.max }}", "{{ r.score }}", "{{ r.rate }}", "{{ r.level }}"],
                [None, right, right, right, center], shaded=False)
    _para(doc)
    _kv_table(doc, [
        (w["subtotal"], "{{ result.subtotal }}"),
        (w["total"], "{{ result.total }} / {{ result.max }}"),
        (w["result"], "{{ result.text }}"),
    ])
    _para(doc, "{%p for line in result.reasons %}")
    _para(doc, "{{ line }}", "Notice")
    _para(doc, "{%p endfor %}")

    # 8 surveillance
    doc.add_heading(w["s8"], level=1)
    _para(doc, "{{ certification.text }}")
    _para(doc, w["next_surv"]).add_run("{{ surveillance_due }}")
    # 9 sign-off
    doc.add_heading(w["s9"], level=1)
    sign = _table(doc, [w["role"], w["name"], w["signature"], w["date"]], (3.6, 4.4, 4.6, 4.0))
    for role, name in ((w["lead"], "{{ audit.lead_auditor }}"), (w["reviewer"], ""), (w["approver"], "")):
        cells = sign.add_row().cells
        _set_cell(cells[0], role)
        _set_cell(cells[1], name)
        sign.rows[-1].height = Cm(1.1)
    _widths(sign, (3.6, 4.4, 4.6, 4.0))

    # appendix: where the standard's values come from, when some are not given by its text
    _para(doc, "{%p if provenance.notes %}")
    doc.add_heading(w["prov_title"], level=1)
    _para(doc, w["prov_intro"])
    _loop_table(doc, [w["prov_kind"], w["prov_what"], w["prov_why"]], (2.0, 4.6, 10.0), "r in provenance.notes",
                ["{{ r.kind }}", "{{ r.what }}", "{{ r.text }}"], [None, None, None], shaded=False)
    _para(doc, "{%p endif %}")

    return doc


def _page_border(doc) -> None:
    sectpr = doc.sections[0]._sectPr
    sides = "".join(f'<w:{s} w:val="double" w:sz="18" w:space="20" w:color="8B6B2E"/>'
                    for s in ("top", "left", "bottom", "right"))
    border = parse_xml(f'<w:pgBorders {nsdecls("w")} w:offsetFrom="page">{sides}</w:pgBorders>')
    sectpr.find(qn("w:pgMar")).addnext(border)


_WATERMARK = (
    '<w:r {ns}><w:rPr><w:noProof/></w:rPr><w:pict>'
    '<v:shapetype id="_x0000_t136" coordsize="21600,21600" o:spt="136" adj="10800" '
    'path="m@7,l@8,m@5,21600l@6,21600e"><v:formulas><v:f eqn="sum #0 0 10800"/><v:f eqn="prod #0 2 1"/>'
    '<v:f eqn="sum 21600 0 @1"/><v:f eqn="sum 0 0 @2"/><v:f eqn="sum 21600 0 @3"/><v:f eqn="if @0 @3 0"/>'
    '<v:f eqn="if @0 21600 @1"/><v:f eqn="if @0 0 @2"/><v:f eqn="if @0 @4 21600"/><v:f eqn="mid @5 @6"/>'
    '<v:f eqn="mid @8 @5"/><v:f eqn="mid @7 @8"/><v:f eqn="mid @6 @7"/><v:f eqn="sum @6 0 @5"/></v:formulas>'
    '<v:path textpathok="t" o:connecttype="custom" o:connectlocs="@9,0;@10,10800;@11,21600;@12,10800" '
    'o:connectangles="270,180,90,0"/><v:textpath on="t" fitshape="t"/><v:handles>'
    '<v:h position="#0,bottomRight" xrange="6629,14971"/></v:handles><o:lock v:ext="edit" text="t" '
    'shapetype="t"/></v:shapetype>'
    '<v:shape id="PowerPlusWaterMarkObject1" o:spid="_x0000_s2049" type="#_x0000_t136" '
    'style="position:absolute;margin-left:0;margin-top:0;width:440pt;height:140pt;rotation:315;'
    'z-index:-251657216;mso-position-horizontal:center;mso-position-horizontal-relative:margin;'
    'mso-position-vertical:center;mso-position-vertical-relative:margin" o:allowincell="f" '
    'fillcolor="#e08080" stroked="f"><v:fill opacity=".45"/>'
    '<v:textpath style="font-family:&quot;{font}&quot;;font-size:1pt" string="{{{{ specimen_text }}}}"/>'
    '</v:shape></w:pict></w:r>'
)


def build_certificate(lang: str) -> Document:
    w = W[lang]
    doc = Document()
    _setup(doc, lang)
    doc.core_properties.title = w["cert_title"]
    sec = doc.sections[0]
    sec.top_margin, sec.bottom_margin = Cm(1.8), Cm(1.5)
    sec.left_margin = sec.right_margin = Cm(2.6)
    _page_border(doc)
    center = WD_ALIGN_PARAGRAPH.CENTER
    # Header: the specimen watermark (Word's own watermark shape), only for a provisional standard.
    header = sec.header
    header.paragraphs[0].text = "{%p if specimen %}"
    wm = header.add_paragraph(style="Header")
    ns = nsdecls("w") + ' xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
    wm._p.append(parse_xml(_WATERMARK.format(ns=ns, font=SANS_CJK)))
    header.add_paragraph("{%p endif %}")
    fp = sec.footer.paragraphs[0]
    fp.add_run(w["cert_footer"] + "{{ certificate.number }}")

    logo = _para(doc, "", align=center)
    _picture(logo, _placeholder_png(240, 120), 2.0, 1.0, "logo")  # the body's logo ([issuer] logo), or nothing
    _para(doc, "{{ issuer.name }}", "Subtitle").paragraph_format.space_before = Pt(2)
    _para(doc, w["cert_title"], "Title").paragraph_format.space_before = Pt(8)
    p = _para(doc, "", "Subtitle")
    p.add_run(w["cert_no"] + "{{ certificate.number }}").font.size = Pt(12)
    _para(doc, "{%p if specimen %}")
    _para(doc, "{{ specimen_reason }}", "Notice", align=center).runs[0].font.size = Pt(14)
    _para(doc, "{%p endif %}")
    _para(doc, w["hereby"], align=center, size=12).paragraph_format.space_before = Pt(14)
    _para(doc, "{{ org.name }}", align=center, bold=True, size=20, color=DARK).paragraph_format.space_before = Pt(6)
    _para(doc, w["complies"], align=center, size=12).paragraph_format.space_before = Pt(6)
    p = _para(doc, "{{ certificate.level }}", align=center, bold=True, size=28, color=RGBColor(0xB0, 0x7D, 0x12))
    p.paragraph_format.space_before, p.paragraph_format.space_after = Pt(10), Pt(14)
    _kv_table(doc, [
        (w["org_address"], "{{ org.address }}"),
        (w["credit_code"], "{{ org.credit_code }}"),
        (w["cert_scope"], "{{ org.scope }}"),
        (w["cert_standard"], "{{ standard.code }}《{{ standard.title }}》（{{ standard.edition }}）" if lang == "zh"
         else "{{ standard.code }} {{ standard.title }} ({{ standard.edition }})"),
        (w["cert_level"], "{{ certificate.level }}"),
        (w["issue_date"], "{{ certificate.issue_date }}"),
        (w["expiry"], "{{ certificate.expiry_date }}"),
        (w["approval_no"], "{{ issuer.approval_no }}"),
    ], widths=(4.2, 11.6), style="Normal", height=0.62)
    before, after = w["surv_note"]
    p = _para(doc, before)
    p.add_run("{{ certificate.surveillance_due }}")
    p.add_run(after)
    p.paragraph_format.space_before, p.paragraph_format.space_after = Pt(10), Pt(12)
    # Signature block: QR code on the left, the issuer on the right.
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right_cell = table.rows[0].cells
    _picture(left.paragraphs[0], _placeholder_png(400, 400), 3.8, 3.8, "qr")
    _set_cell(right_cell, "{{ issuer.name }}", bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(right_cell, "{{ issuer.address }}", "Table Text", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(right_cell, w["signatory"] + "{{ issuer.signatory }}", "Table Text",
          align=WD_ALIGN_PARAGRAPH.RIGHT).paragraph_format.space_before = Pt(4)
    seal = _para(right_cell, "", "Table Text", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _picture(seal, _placeholder_png(300, 300), 1.6, 1.6, "seal")  # the body's seal ([issuer] seal), or nothing
    _para(right_cell, "{{ certificate.issue_date }}", "Table Text", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _widths(table, (4.2, 11.6))
    _para(doc, "{%p if verify_line %}")
    _para(doc, "{{ verify_line }}", "Table Text", align=center, size=9)
    _para(doc, "{%p endif %}")
    return doc


NOTICE_WORDS = {
    "zh": {"title": "认证证书状态变更通知书", "to": "致：", "body": "贵组织持有的服务认证证书（编号 ",
           "body2": "）现已", "effective": "。生效日期：", "until": "暂停期限至：", "reason": "原因：",
           "cert": "证书", "org": "获证组织", "credit_code": "统一社会信用代码", "standard": "认证依据",
           "level": "认证等级", "status": "现在状态", "what": "暂停期间不得使用证书及认证标志；撤销或注销后应停止使用并交回证书。",
           "verify": "证书状态可在认证机构的证书查询处核实。", "signatory": "授权签字人："},
    "en": {"title": "Notice of change of certificate status", "to": "To: ", "body": "Your service certificate (No. ",
           "body2": ") has been ", "effective": ". Effective: ", "until": "Suspended until: ", "reason": "Reason: ",
           "cert": "Certificate", "org": "Certified organisation", "credit_code": "Unified social credit code",
           "standard": "Standard", "level": "Level", "status": "Status now",
           "what": "While suspended, neither the certificate nor the certification mark may be used; after "
                   "withdrawal or cancellation, stop using them and return the certificate.",
           "verify": "The certificate's status can be verified with the certification body.",
           "signatory": "Authorised signatory: "},
}


def build_notice(lang: str) -> Document:
    """The notice to a certificate's holder of a suspension, restoration, withdrawal or cancellation."""
    w = NOTICE_WORDS[lang]
    doc = Document()
    _setup(doc, lang)
    doc.core_properties.title = w["title"]
    sec = doc.sections[0]
    sec.top_margin, sec.bottom_margin = Cm(2.5), Cm(2.0)
    sec.left_margin = sec.right_margin = Cm(2.6)
    # A notice of a body whose details are incomplete (or of a provisional standard's certificate)
    # is a specimen, as the certificate would be: the watermark and a line saying why.
    header = sec.header
    header.paragraphs[0].text = "{%p if specimen %}"
    wm = header.add_paragraph(style="Header")
    ns = nsdecls("w") + ' xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
    wm._p.append(parse_xml(_WATERMARK.format(ns=ns, font=SANS_CJK)))
    header.add_paragraph("{%p endif %}")
    _para(doc, "{{ issuer.name }}", "Subtitle")
    _para(doc, w["title"], "Title")
    _para(doc, "{%p if specimen %}")
    _para(doc, "{{ specimen_reason }}", "Notice", align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, "{%p endif %}")
    _para(doc, "{{ notice.reference }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, w["to"] + "{{ org.name }}").paragraph_format.space_before = Pt(12)
    p = _para(doc, w["body"])
    p.add_run("{{ certificate.number }}")
    p.add_run(w["body2"])
    p.add_run("{{ notice.action }}").bold = True
    p.add_run(w["effective"] + "{{ notice.date }}")
    _para(doc, "{%p if notice.until %}")
    _para(doc, w["until"] + "{{ notice.until }}")
    _para(doc, "{%p endif %}")
    _para(doc, w["reason"] + "{{ notice.reason }}")
    _kv_table(doc, [
        (w["cert"], "{{ certificate.number }}"),
        (w["org"], "{{ org.name }}"),
        (w["credit_code"], "{{ org.credit_code }}"),
        (w["standard"], "{{ certificate.standard }}"),
        (w["level"], "{{ certificate.level }}"),
        (w["status"], "{{ notice.status }}"),
    ])
    _para(doc, w["what"]).paragraph_format.space_before = Pt(12)
    _para(doc, w["verify"])
    _para(doc, "{{ issuer.name }}", align=WD_ALIGN_PARAGRAPH.RIGHT).paragraph_format.space_before = Pt(24)
    _para(doc, w["signatory"] + "{{ issuer.signatory }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, "{{ notice.date }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    return doc


# ---------------------------------------------------------------------------------------------
# Font table: the CJK fonts named, with 宋体/黑体 as Word's alternatives where Noto is absent.
_FONT_ENTRY = ('<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
               '<w:family w:val="{family}"/><w:pitch w:val="variable"/></w:font>')


def _used_styles_only(styles: bytes, parts: list[bytes]) -> bytes:
    """``styles.xml`` with only the styles the document uses (and those they are based on, linked to
    or followed by, and the defaults). python-docx's stock 340 KB of styles and latent styles made
    LibreOffice take ~35 % longer per PDF; Word adds a built-in style again when a user picks it."""
    from lxml import etree

    used = {m.decode() for part in parts
            for m in re.findall(rb'<w:(?:pStyle|rStyle|tblStyle|numStyleLink|styleLink) w:val="([^"]+)"', part)}
    root = etree.fromstring(styles)
    all_styles = {s.get(qn("w:styleId")): s for s in root.iter(qn("w:style"))}
    keep = used | {sid for sid, s in all_styles.items() if s.get(qn("w:default")) == "1"}
    todo = list(keep)
    while todo:
        style = all_styles.get(todo.pop())
        for tag in ("w:basedOn", "w:link", "w:next"):
            ref = style.find(qn(tag)) if style is not None else None
            if ref is not None and ref.get(qn("w:val")) not in keep:
                keep.add(ref.get(qn("w:val")))
                todo.append(ref.get(qn("w:val")))
    for sid, style in all_styles.items():
        if sid not in keep:
            root.remove(style)
    for latent in root.findall(qn("w:latentStyles")):
        root.remove(latent)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _finish(doc, path: Path) -> None:
    buf = io.BytesIO()
    doc.save(buf)
    src = zipfile.ZipFile(buf)
    out = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
    parts = [src.read(n) for n in src.namelist() if n.startswith("word/") and n.endswith(".xml") and "styles" not in n]
    for item in src.infolist():
        if item.filename in ("docProps/thumbnail.jpeg", "word/stylesWithEffects.xml"):
            continue  # python-docx's stock thumbnail; Word 2010's copy of the styles (never read when absent)
        data = src.read(item.filename)
        if item.filename == "word/styles.xml":
            data = _used_styles_only(data, parts)
        elif item.filename == "word/fontTable.xml":
            entries = (_FONT_ENTRY.format(name=SERIF_CJK, alt="宋体", family="roman")
                       + _FONT_ENTRY.format(name=SANS_CJK, alt="黑体", family="swiss"))
            data = data.decode().replace("</w:fonts>", entries + "</w:fonts>").encode()
        elif item.filename == "_rels/.rels":
            data = re.sub(rb'<Relationship [^>]*thumbnail[^>]*/>', b"", data)
        elif item.filename == "word/_rels/document.xml.rels":
            data = re.sub(rb'<Relationship [^>]*stylesWithEffects[^>]*/>', b"", data)
        elif item.filename == "[Content_Types].xml":
            data = re.sub(rb'<Default Extension="jpeg"[^>]*/>', b"", data)
            data = re.sub(rb'<Override [^>]*stylesWithEffects[^>]*/>', b"", data)
        out.writestr(item, data)
    out.close()


def main() -> None:
    for lang in ("zh", "en"):
        _finish(build_report(lang), HERE / f"report.{lang}.docx")
        _finish(build_certificate(lang), HERE / f"certificate.{lang}.docx")
        _finish(build_notice(lang), HERE / f"notice.{lang}.docx")
        print(f"wrote report.{lang}.docx, certificate.{lang}.docx, notice.{lang}.docx")


if __name__ == "__main__":
    main()
