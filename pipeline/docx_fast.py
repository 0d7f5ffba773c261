"""A docxtpl template prepared once and rendered many times.

``DocxTemplate(path).render(ctx)`` re-reads the .docx, re-patches its XML and re-compiles the Jinja
template on every call (MEASUREMENTS.md). Here a template is read once: every part that holds tags
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
rendering of the core properties. ``pipeline.template_check`` renders every template once through
here and parses the result, so a template that needs those is caught there.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import jinja2
from docxtpl import DocxTemplate

from pipeline.errors import TemplateError
from pipeline.i18n import t

TEMPLATE_PART = re.compile(r"^word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml$")
TAG_START = re.compile(r"\{[{%#]")
_PARA = re.compile(r"<w:p([ >])")
_PARA_BACK = re.compile(r"\n<w:p([ >])")
_LISTING_CHARS = ("\n", "\t", "\a", "\f")
_PLACEHOLDER = re.compile(
    r'<pic:cNvPr\b[^>]*\bdescr="certpipe:(?P<name>[\w-]+)"[^>]*>.*?<a:blip\b[^>]*\br:embed="(?P<rid>[^"]+)"'
    r'.*?<a:ext\b[^>]*\bcx="(?P<cx>\d+)"[^>]*\bcy="(?P<cy>\d+)"',
    re.DOTALL,
)
_REL = re.compile(r'<Relationship\b[^>]*>')
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_STORED = (".png", ".jpg", ".jpeg", ".gif", ".emf", ".wmf")

_PATCHER = DocxTemplate(None)  # only its XML helpers (patch_xml, resolve_listing) are used


def patch(xml: str) -> str:
    """docxtpl's clean-up of Word XML, then one paragraph per line (error lines name a paragraph)."""
    return _PARA.sub(r"\n<w:p\1", _PATCHER.patch_xml(xml))


def line_text(source: str, lineno: int) -> str:
    """The visible text of a line of a patched part: what a clerk sees in that paragraph."""
    lines = source.splitlines()
    if not 1 <= lineno <= len(lines):
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

    def __init__(self, path: Path, env: jinja2.Environment, *, lang: str = "zh") -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.lang = lang
        try:
            with zipfile.ZipFile(self.path) as zf:
                self.members = [(info, zf.read(info.filename)) for info in zf.infolist()]
        except (OSError, zipfile.BadZipFile) as exc:
            raise TemplateError(t("render.template_unreadable", lang, template=self.path, detail=exc)) from exc
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
            raise TemplateError(self.describe(member, exc.lineno, exc.message or str(exc))) from exc

    def describe(self, member: str, lineno: int | None, detail: str) -> str:
        where = PurePosixPath(member).stem
        text = line_text(self.sources.get(member, ""), lineno) if lineno else ""
        return t("render.template_error", self.lang, template=self.name, part=where,
                 paragraph=lineno or "?", text=text, detail=detail)

    # ---- rendering -----------------------------------------------------------------------
    def render_parts(self, context: dict) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for member, template in self.templates.items():
            try:
                xml = template.render(context)
            except jinja2.TemplateError as exc:
                lineno = getattr(exc, "lineno", None) or _template_line(exc)
                raise TemplateError(self.describe(member, lineno, _explain(exc, self.lang))) from exc
            xml = _PARA_BACK.sub(r"<w:p\1", xml)
            xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
            root = xml.find("<w:", 0)
            if any(ch in xml[root:] for ch in _LISTING_CHARS):
                xml = _PATCHER.resolve_listing(xml)
            out[member] = xml.encode("utf-8")
        return out

    def render(self, context: dict, images: dict[str, bytes] | None = None) -> bytes:
        """The rendered document as the bytes of a .docx."""
        replaced = self.render_parts(context)
        for name, blob in (images or {}).items():
            holder = self.placeholders.get(name)
            if holder is not None:
                replaced[holder.member] = blob
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for info, blob in self.members:
                zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                zi.external_attr = info.external_attr
                stored = info.filename.lower().endswith(_STORED)
                zi.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                zf.writestr(zi, replaced.get(info.filename, blob), compresslevel=None if stored else 1)
        return buf.getvalue()

    def write(self, target: Path, context: dict, images: dict[str, bytes] | None = None) -> Path:
        """Render to ``target`` through a temporary file in the same folder (never half-written)."""
        blob = self.render(context, images)
        target = Path(target)
        fd, tmp = tempfile.mkstemp(prefix=".~", suffix=".docx", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target


def _template_line(exc: BaseException) -> int | None:
    """The template line of a runtime error (jinja rewrites tracebacks to point at it)."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == "<template>":
            line = frame.lineno
    return line


def _explain(exc: jinja2.TemplateError, lang: str) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        m = re.match(r"'([^']+)' is undefined", exc.message or "")
        if m:
            return t("render.undefined", lang, name=m.group(1))
        m = re.match(r"'(?:[^']+)' has no attribute '([^']+)'", exc.message or "")
        if m:
            return t("render.no_attribute", lang, name=m.group(1))
    return exc.message or str(exc)
