"""A docxtpl template prepared once and rendered many times.

``DocxTemplate(path).render(ctx)`` re-reads the .docx, re-patches its XML and re-compiles the Jinja
template on every call (docs/architecture.md, "Pitfalls"). Here a template is read once: every part that holds tags
(``word/document.xml``, headers, footers, footnotes) is patched with docxtpl's own ``patch_xml`` and
compiled once with the caller's environment (autoescape, ``StrictUndefined``); the other members stay
in memory. Rendering a document is then: render the compiled templates, apply docxtpl's listing
clean-up (newlines in values → line breaks) where a value needs it, swap the placeholder pictures, and
write the zip with the other members copied.

Pictures: a picture whose alternative text (``descr``) is ``certpipe:<name>`` is a placeholder; its
image bytes are replaced by ``images[name]`` (a PNG) and it keeps the size the template gives it. That
size is ``placeholders[name].size_emu`` so an image can be drawn at the right aspect ratio.

What docxtpl does that this does not: ``InlineImage``/``Subdoc``/``RichText`` objects in the context
(not used by certpipe's context; placeholders replace them), ``{%tc %}`` column loops (fix_tables) and
rendering of the core properties. ``pipeline.word.template_check`` renders every template once through
here and parses the result, so a template that needs those is caught there.
"""

from __future__ import annotations

import re
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import jinja2
from docxtpl import DocxTemplate

from pipeline.errors import TemplateError
from pipeline.i18n import Message
from pipeline.zipfiles import pack_member, zip_bytes

TEMPLATE_PART = re.compile(r"^word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml$")
TAG_START = re.compile(r"\{[{%#]")
_PARA = re.compile(r"<w:p([ >])")
_BREAKS = re.compile(r"(<w:t(?:\s[^>]*)?>)([^<]*[\n\t][^<]*)</w:t>")
_PLACEHOLDER = re.compile(
    r'<pic:cNvPr\b[^>]*\bdescr="certpipe:(?P<name>[\w-]+)"[^>]*>.*?<a:blip\b[^>]*\br:embed="(?P<rid>[^"]+)"'
    r'.*?<a:ext\b[^>]*\bcx="(?P<cx>\d+)"[^>]*\bcy="(?P<cy>\d+)"',
    re.DOTALL,
)
_REL = re.compile(r'<Relationship\b[^>]*>')
_ATTR = re.compile(r'(\w+)="([^"]*)"')

_PATCHER = DocxTemplate(None)  # only its XML helper patch_xml is used


def _breaks(m: re.Match) -> str:
    text = (m.group(2).replace("\n", '</w:t><w:br/><w:t xml:space="preserve">')
            .replace("\t", '</w:t><w:tab/><w:t xml:space="preserve">'))
    return f"{m.group(1)}{text}</w:t>"


def line_breaks(xml: str) -> str:
    """A newline or tab in a value becomes a Word line break or tab inside the same run (what
    docxtpl's ``resolve_listing`` does, restricted to the text elements that need it)."""
    root = xml.find("<w:")
    body = xml[root:]
    if "\n" not in body and "\t" not in body:
        return xml
    return xml[:root] + _BREAKS.sub(_breaks, body)


def patch(xml: str) -> str:
    """docxtpl's clean-up of Word XML, with one paragraph per line: line ``n + 1`` is paragraph
    ``n`` of the part as Word has it (also when a ``{%p %}`` paragraph is taken out), so an error's
    line names the paragraph. Cell properties are put back in schema order: docxtpl's ``cellbg``
    inserts ``w:shd`` first, and Word rejects a part whose ``w:tcPr`` children are out of order."""
    return _TCPR.sub(_order_tcpr, _PATCHER.patch_xml(_PARA.sub(r"\n<w:p\1", xml)))


_TCPR = re.compile(r"<w:tcPr>(.*?)</w:tcPr>", re.DOTALL)
_CHILD = re.compile(r"<w:(\w+)\b[^>]*?/>|<w:(\w+)\b[^>]*>.*?</w:\2>", re.DOTALL)
_TCPR_ORDER = {name: i for i, name in enumerate((
    "cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar", "textDirection",
    "tcFitText", "vAlign", "hideMark", "headers", "cellIns", "cellDel", "cellMerge", "tcPrChange"))}


def _order_tcpr(m: re.Match) -> str:
    children = [(c.group(1) or c.group(2), c.group(0)) for c in _CHILD.finditer(m.group(1))]
    if "".join(text for _, text in children) != m.group(1):
        return m.group(0)  # something this does not understand (a tag inside): leave it as it is
    ordered = sorted(children, key=lambda c: _TCPR_ORDER.get(c[0], len(_TCPR_ORDER)))
    return "<w:tcPr>" + "".join(text for _, text in ordered) + "</w:tcPr>"


_PARA_LINE = re.compile(r"<w:p[ >]")


def paragraph_number(source: str, lineno: int | None) -> int | None:
    """The paragraph that line ``lineno`` of a patched part starts (one paragraph a line), counted
    from 1 as Word shows them: the lines before the first paragraph (the XML declaration, on a line
    of its own in Word's files) do not count."""
    lines = source.splitlines()
    if not lineno or not 1 <= lineno <= len(lines) or not _PARA_LINE.match(lines[lineno - 1]):
        return None
    return sum(1 for line in lines[:lineno] if _PARA_LINE.match(line))


def line_text(source: str, lineno: int | None) -> str:
    """The visible text of a line of a patched part: what a clerk sees in that paragraph."""
    lines = source.splitlines()
    if not lineno or not 1 <= lineno <= len(lines):
        return ""
    text = re.sub(r"<[^>]+>", "", lines[lineno - 1])
    return text.strip()[:80]


@dataclass(frozen=True)
class Placeholder:
    name: str
    member: str  # the zip member holding the picture
    size_emu: tuple[int, int]


def _rels(data: bytes) -> dict[str, str]:
    out = {}
    for rel in _REL.findall(data.decode("utf-8")):
        attrs = dict(_ATTR.findall(rel))
        if "Id" in attrs and "Target" in attrs:
            out[attrs["Id"]] = attrs["Target"]
    return out


def _resolve(part: str, target: str) -> str:
    base = PurePosixPath(part).parent
    parts: list[str] = []
    for piece in (base / target).parts:
        if piece == "..":
            parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


class PreparedDocx:
    """One template, read and compiled once. ``render`` is safe to call many times."""

    def __init__(self, path: Path, env: jinja2.Environment) -> None:
        self.path = Path(path)
        self.name = self.path.name
        try:
            with zipfile.ZipFile(self.path) as zf:
                self.members = [(info, zf.read(info.filename)) for info in zf.infolist()]
        except (OSError, zipfile.BadZipFile) as exc:
            raise TemplateError("render.template_unreadable", {"template": self.path, "detail": exc}) from exc
        data = {info.filename: blob for info, blob in self.members}
        self.sources: dict[str, str] = {}
        self.templates: dict[str, jinja2.Template] = {}
        self.placeholders: dict[str, Placeholder] = {}
        for member, blob in data.items():
            if not TEMPLATE_PART.match(member):
                continue
            xml = blob.decode("utf-8")
            self._find_placeholders(member, xml, data)
            if TAG_START.search(xml):
                source = patch(xml)
                self.sources[member] = source
                self.templates[member] = self._compile(env, member, source)
        dynamic = set(self.templates) | {p.member for p in self.placeholders.values()}
        self.packed = {info.filename: pack_member(info, blob, 6) for info, blob in self.members
                       if info.filename not in dynamic}

    def _find_placeholders(self, member: str, xml: str, data: dict[str, bytes]) -> None:
        rels_name = _resolve(member, f"_rels/{PurePosixPath(member).name}.rels")
        rels = _rels(data[rels_name]) if rels_name in data else {}
        for m in _PLACEHOLDER.finditer(xml):
            target = rels.get(m["rid"])
            if target:
                self.placeholders[m["name"]] = Placeholder(
                    m["name"], _resolve(member, target), (int(m["cx"]), int(m["cy"])))

    def _compile(self, env: jinja2.Environment, member: str, source: str) -> jinja2.Template:
        try:
            return env.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise self.error(member, exc.lineno, exc.message or str(exc)) from exc

    def error(self, member: str, lineno: int | None, detail: Message | str) -> TemplateError:
        """A ``TemplateError`` naming the template, part and paragraph; ``where`` keeps them apart."""
        part = PurePosixPath(member).stem
        text = line_text(self.sources.get(member, ""), lineno) if lineno else ""
        paragraph = paragraph_number(self.sources.get(member, ""), lineno)
        exc = TemplateError("render.template_error", {"template": self.name, "part": part,
                                                     "paragraph": paragraph or "?", "text": text, "detail": detail})
        exc.where = (part, paragraph, text, detail)
        return exc

    # ---- rendering -----------------------------------------------------------------------
    def render_parts(self, context: dict) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for member, template in self.templates.items():
            try:
                xml = template.render(context)
            except jinja2.TemplateError as exc:
                lineno = getattr(exc, "lineno", None) or _template_line(exc)
                raise self.error(member, lineno, _explain(exc)) from exc
            xml = xml.replace("\n<", "<")  # the line per paragraph (a value's own newlines stay)
            xml = _keep_a_paragraph(xml)
            xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
            out[member] = line_breaks(xml).encode("utf-8")
        return out

    def render(self, context: dict, images: dict[str, bytes] | None = None) -> bytes:
        """The rendered document as the bytes of a .docx."""
        replaced = self.render_parts(context)
        for name, blob in (images or {}).items():
            holder = self.placeholders.get(name)
            if holder is not None:
                replaced[holder.member] = blob
        members = []
        for info, blob in self.members:
            packed = self.packed.get(info.filename)
            if packed is None or info.filename in replaced:
                packed = pack_member(info, replaced.get(info.filename, blob), 1)
            members.append(packed)
        return zip_bytes(members)

    def write(self, target: Path, context: dict, images: dict[str, bytes] | None = None) -> Path:
        """Render to ``target``, a file in a folder users do not see yet (staging): the folder is
        synced and renamed into place when it is published."""
        target.write_bytes(self.render(context, images))
        return target


def _keep_a_paragraph(xml: str) -> str:
    """A table cell, header or footer must hold a paragraph (Word calls the file corrupt otherwise);
    a ``{%p if %}`` that left one empty gets an empty paragraph."""
    xml = xml.replace("</w:tcPr></w:tc>", "</w:tcPr><w:p/></w:tc>")
    for end in ("</w:hdr>", "</w:ftr>"):
        if xml.endswith(end) and "<w:p" not in xml[xml.find("<w:", xml.find("<w:") + 1):]:
            xml = xml[: -len(end)] + "<w:p/>" + end
    return xml


def _template_line(exc: BaseException) -> int | None:
    """The template line of a runtime error (jinja rewrites tracebacks to point at it)."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == "<template>":
            line = frame.lineno
    return line


def _explain(exc: jinja2.TemplateError) -> Message | str:
    """What Jinja says, as a message where certpipe can say it better (its own text otherwise)."""
    if isinstance(exc, jinja2.UndefinedError):
        m = re.match(r"'([^']+)' is undefined", exc.message or "")
        if m:
            return Message("render.undefined", {"name": m.group(1)})
        m = re.match(r"'(?:[^']+)' has no attribute '([^']+)'", exc.message or "")
        if m:
            return Message("render.no_attribute", {"name": m.group(1)})
    return exc.message or str(exc)
