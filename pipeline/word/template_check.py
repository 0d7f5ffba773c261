"""``certpipe templates check``: what is wrong with a Word template, in plain words, before a real
audit meets it.

For every part of a template that holds tags (body, headers, footers, footnotes):
- tags Word split across runs (a tag typed in pieces or with mixed formatting);
- tag syntax errors; unknown filters; variables the renderer does not provide;
- then a trial render with a sample audit of a built-in standard (every variable, also ``org.nmae``
  style field typos, with ``StrictUndefined``), and the result must be well-formed XML.
Each problem names the template, the part and the paragraph (number and visible text).
"""

from __future__ import annotations

import bisect
import re
import zipfile
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path, PurePosixPath

import jinja2
from jinja2 import meta, nodes
from lxml import etree

from pipeline.config import Config
from pipeline.core.audit import Audit, AuditInfo, Entries
from pipeline.core.certificates import CertificateInfo
from pipeline.core.scoring import score
from pipeline.core.standard import Standard
from pipeline.errors import TemplateError
from pipeline.i18n import Message, t
from pipeline.word.context import build_context
from pipeline.word.prepared import TAG_START, TEMPLATE_PART, PreparedDocx, line_text, paragraph_number, patch
from pipeline.word.render import make_env, template_dirs

_P = re.compile(r"<w:p[ >].*?</w:p>", re.DOTALL)
_P_START = re.compile(r"<w:p[ >]")
_T = re.compile(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>")
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
DEFAULT_STANDARD = "info-system-integration"  # two parts, bands: every variable has a value


@dataclass(frozen=True)
class TemplateProblem:
    template: str
    part: str
    paragraph: int | None
    text: str
    message: Message | str  # a Message, or Jinja's own words where certpipe has none better
    #: (table, row, column), each counted from 1 in the part, when the paragraph is in a table's cell
    cell: tuple[int, int, int] | None = None

    def message_text(self, lang: str = "zh") -> str:
        return self.message.render(lang) if isinstance(self.message, Message) else self.message

    def format(self, lang: str = "zh") -> str:
        part = t(f"check.part.{_PART_KIND.sub('', self.part)}", lang, n=_PART_KIND.search(self.part).group(0)) \
            if _PART_KIND.sub("", self.part) in _PART_KINDS else self.part
        if self.cell is not None:
            table, row, column = self.cell
            return t("check.where_cell", lang, template=self.template, part=part, table=table, row=row,
                     column=column, text=self.text, message=self.message)
        return t("check.where", lang, template=self.template, part=part, paragraph=self.paragraph or "?",
                 text=self.text, message=self.message)


_PART_KIND = re.compile(r"\d*$")
_PART_KINDS = ("document", "header", "footer", "footnotes", "endnotes")
_CELL_TOKEN = re.compile(r"<w:(tbl|tr|tc|p)[ >]|</w:(tbl|tr|tc)>")


def cells_of(xml: str) -> dict[int, tuple[int, int, int]]:
    """Paragraph number (the n-th ``<w:p>`` of the part) → (table, row, column) of the table cell
    holding it; tables are counted in the order they begin
    (a table in a cell counts too, and its own cells are what a paragraph in it names)."""
    source = patch(xml)
    where: dict[int, tuple[int, int, int]] = {}
    tables = paragraph = 0
    stack: list[list[int]] = []  # per open table: its number, the current row, the current column
    for m in _CELL_TOKEN.finditer(source):
        opening, closing = m.group(1), m.group(2)
        if opening == "tbl":
            tables += 1
            stack.append([tables, 0, 0])
        elif opening == "tr" and stack:
            stack[-1][1] += 1
            stack[-1][2] = 0
        elif opening == "tc" and stack:
            stack[-1][2] += 1
        elif opening == "p":
            paragraph += 1
            if stack and stack[-1][1] and stack[-1][2]:
                where[paragraph] = (stack[-1][0], stack[-1][1], stack[-1][2])
        elif closing == "tbl" and stack:
            stack.pop()
    return where



    def __str__(self) -> str:
        return self.format()


def sample_audit(std: Standard, *, org: str = "示例组织有限公司") -> Audit:
    """A complete audit of ``std`` with every field filled: for trial renders and benchmarks."""
    scores = {}
    for i, leaf in enumerate(std.leaves):
        if std.input.mode == "percent":
            scores[leaf.code] = Decimal((95, 85, 100, 90)[i % 4])
        else:
            scores[leaf.code] = leaf.max - (std.input.step if i % 3 == 0 else 0)
    na = frozenset([leaf.code for leaf in std.leaves if leaf.na_allowed][:1])
    entries = Entries(scores=scores, not_applicable=na,
                      deductions=1 if std.rules.special_deductions else 0,
                      bonus=1 if std.rules.special_bonus else 0)
    info = AuditInfo(audit_id=f"S-{std.key}", org_name=org, org_address="北京市海淀区中关村大街 1 号",
                     org_credit_code="91110108MA01ABCD2X", scope="信息系统集成服务", audit_type="初次认证",
                     audit_start=date(2025, 3, 1), audit_end=date(2025, 3, 3), lead_auditor="张三",
                     auditors="李四、王五")
    notes = {leaf.code: f"查阅 {leaf.code} 相关记录\n抽查 3 份" for leaf in std.leaves}
    return Audit(std.key, std.edition, info, entries, notes)


SAMPLE_CERTIFICATE = CertificateInfo("CP-2025-SAMPLE-00001", date(2025, 4, 1), date(2028, 3, 31), date(2026, 3, 31))


def sample_context(std: Standard, lang: str = "zh") -> dict:
    audit = sample_audit(std)
    card = score(std, audit.entries)
    return build_context(audit, std, card, Config(), lang=lang, revision=2, certificate=SAMPLE_CERTIFICATE,
                         report_date=date(2025, 4, 1))


def sample_for(path: Path, std: Standard, lang: str = "zh") -> dict:
    """The sample context of the template at ``path``: a notice's (``notice.<lang>.docx``) or a
    report's and certificate's."""
    if Path(path).name.startswith("notice."):
        from pipeline.word.notice import notice_context

        return notice_context(Config(), number=SAMPLE_CERTIFICATE.number, action="suspend", status="suspended",
                              when=date(2025, 6, 1), reason="未按期接受监督审核", until=date(2025, 12, 1),
                              organisation="示例服务有限公司", credit_code="91110000MA01ABCD2X",
                              standard=f"{std.code} {std.title.get(lang)}", level=std.levels[-1].label.get(lang),
                              event_id=1, lang=lang)
    return sample_context(std, lang)


def _split_tags(xml: str) -> list[tuple[int, str, str, int]]:
    """(paragraph number, its text, the tag, pieces) of every tag spread over several ``w:t``."""
    out = []
    starts = [m.start() for m in _P_START.finditer(xml)]
    for m in _P.finditer(xml):
        number = bisect.bisect_right(starts, m.start())
        para = m.group(0)
        pieces = _T.findall(para)
        text = "".join(pieces)
        if not TAG_START.search(text):
            continue
        bounds, pos = [], 0
        for piece in pieces:
            pos += len(piece)
            bounds.append(pos)
        for m in _TAG.finditer(text):
            cuts = sum(1 for b in bounds if m.start() < b < m.end())
            if cuts:
                out.append((number, text.strip()[:80], m.group(0), cuts + 1))
    return out


def _line_of(source: str, pattern: re.Pattern) -> int | None:
    for i, line in enumerate(source.splitlines(), start=1):
        if pattern.search(line):
            return i
    return None


def check_template(path: Path, std: Standard, lang: str = "zh") -> list[TemplateProblem]:
    """Every problem of one template, found by reading it and by rendering it once with a complete
    sample audit of ``std`` (the standard the template is for: ``DEFAULT_STANDARD`` when it serves
    every standard, which has two parts and bands, so every variable has a value)."""
    path = Path(path)
    name = path.name
    env = make_env()
    problems: list[TemplateProblem] = []
    try:
        with zipfile.ZipFile(path) as zf:
            parts = {n: zf.read(n).decode("utf-8") for n in zf.namelist() if TEMPLATE_PART.match(n)}
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        unreadable = Message("render.template_unreadable", {"template": path, "detail": exc})
        return [TemplateProblem(name, "", None, "", unreadable)]
    known = set(sample_for(path, std, lang)) | set(env.globals)
    static_ok = True
    for member, xml in parts.items():
        part = PurePosixPath(member).stem
        for number, text, tag, runs in _split_tags(xml):
            split = Message("check.split_tag", {"tag": tag, "runs": runs})
            problems.append(TemplateProblem(name, part, number, text, split))
        if not TAG_START.search(xml):
            continue
        source = patch(xml)
        try:
            tree = env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            static_ok = False
            problems.append(TemplateProblem(name, part, paragraph_number(source, exc.lineno),
                                            line_text(source, exc.lineno), _syntax(exc.message or "")))
            continue
        unknown_filters = [node for node in tree.find_all(nodes.Filter) if node.name not in env.filters]
        for node in unknown_filters:
            problems.append(TemplateProblem(name, part, paragraph_number(source, node.lineno),
                                            line_text(source, node.lineno),
                                            Message("check.unknown_filter", {"name": node.name})))
        if unknown_filters:
            static_ok = False
            continue  # the variable analysis compiles the template, which stops at the filter
        for var in sorted(meta.find_undeclared_variables(tree) - known):
            static_ok = False
            line = _line_of(source, re.compile(r"\{[{%][^}%]*\b" + re.escape(var) + r"\b"))
            problems.append(TemplateProblem(name, part, paragraph_number(source, line), line_text(source, line),
                                            Message("check.unknown_variable", {"name": var})))
    if static_ok:
        problems += _trial_render(path, env, lang, std)
    cells = {PurePosixPath(member).stem: cells_of(xml) for member, xml in parts.items()}
    return [replace(p, cell=cells.get(p.part, {}).get(p.paragraph)) if p.paragraph else p for p in problems]


def _syntax(message: str) -> Message:
    """Jinja's complaint about a tag, in the catalogue's words (the tag names it gives are kept)."""
    if message.startswith("Unexpected end of template"):
        block = re.search(r"innermost block that needs to be closed is '(\w+)'", message)
        name = block.group(1) if block else "for"
        return Message("check.syntax.unclosed", {"open": f"{{% {name} %}}", "close": f"{{% end{name} %}}"})
    unknown = re.match(r"Encountered unknown tag '(\w+)'", message)
    if unknown and unknown.group(1).startswith("end"):
        return Message("check.syntax.stray_end", {"tag": f"{{% {unknown.group(1)} %}}"})
    if unknown:
        return Message("check.syntax.unknown_tag", {"tag": unknown.group(1)})
    if message.startswith("Expected an expression"):
        return Message("check.syntax.empty")
    if message.startswith("unexpected char"):
        return Message("check.syntax.quote")
    return Message("check.syntax.other")


def _trial_render(path: Path, env: jinja2.Environment, lang: str, std: Standard) -> list[TemplateProblem]:
    name = path.name
    prepared = None
    try:
        prepared = PreparedDocx(path, env)
        rendered = prepared.render_parts(sample_for(path, std, lang))
    except TemplateError as exc:
        where = getattr(exc, "where", None)
        if where is None:
            return [TemplateProblem(name, "", None, "", exc.message)]
        part, paragraph, text, detail = where
        return [TemplateProblem(name, part, paragraph, text, detail)]
    out = []
    for member, placeholder in prepared.placeholders.items():
        if not placeholder.member.lower().endswith(".png"):
            not_png = Message("check.placeholder_not_png", {"name": member, "member": placeholder.member})
            out.append(TemplateProblem(name, "", None, "", not_png))
    for member, blob in rendered.items():
        try:
            etree.fromstring(blob)
        except etree.XMLSyntaxError as exc:
            part = PurePosixPath(member).stem
            out.append(TemplateProblem(name, part, None, "",
                                       Message("render.bad_xml", {"template": name, "part": part, "detail": exc})))
    return out


def default_templates(workspace: Path | None) -> list[tuple[Path, str | None]]:
    """Every template certpipe may use: (path, standard key of its folder or None)."""
    found: dict[Path, str | None] = {}
    for folder in template_dirs(None, workspace / "templates" if workspace else None):
        if folder.is_dir():
            for path in sorted(folder.glob("*.docx")):
                found[path] = None
            for path in sorted(folder.glob("*/*.docx")):
                found[path] = path.parent.name
    return [(p, k) for p, k in found.items() if not p.name.startswith(("~$", ".~"))]
