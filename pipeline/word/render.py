"""The Word report and certificate of an audit, from docxtpl templates.

``Renderer`` is prepared once per process: each template is read and compiled once (``word/prepared.py``),
one matplotlib Figure draws every chart (``charts``). The renderer does not care where the audit came
from: an ``Audit``, its ``Standard`` and ``ScoreCard`` in, .docx files out.

Templates are looked up by file name, first match wins:
``<workspace>/templates/<standard_key>/``, ``<built-in>/templates/<standard_key>/``,
``<workspace>/templates/``, ``<built-in>/templates/``; in each folder ``report.<lang>.docx`` then
``report.docx`` (same for ``certificate``). An English template that exists nowhere falls back to
the Chinese one. Every template is rendered with ``autoescape=True`` and ``StrictUndefined``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import jinja2

from pipeline.config import Config
from pipeline.core.audit import Audit
from pipeline.core.certificates import CertificateInfo
from pipeline.core.certify import Plan
from pipeline.core.scoring import ScoreCard
from pipeline.core.standard import Standard
from pipeline.errors import TemplateError
from pipeline.filenames import safe_name
from pipeline.resources import builtin_dir
from pipeline.user_cache import cache_dir
from pipeline.word.charts import RateChart
from pipeline.word.context import Decided, build_context, chart_rows
from pipeline.word.prepared import PreparedDocx
from pipeline.word.qr import qr_png, qr_text

__all__ = ["Renderer", "find_template", "make_env", "template_dirs"]

KINDS = ("report", "certificate", "notice")


def make_env() -> jinja2.Environment:
    """The Jinja environment of every template: escaping on (``R&D <北京>`` stays intact), and a
    missing variable is an error naming it instead of an empty string."""
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def template_dirs(std_key: str | None, workspace_templates: Path | None) -> list[Path]:
    builtin = builtin_dir("templates")
    dirs: list[Path] = []
    if std_key:
        if workspace_templates is not None:
            dirs.append(workspace_templates / std_key)
        dirs.append(builtin / std_key)
    if workspace_templates is not None:
        dirs.append(workspace_templates)
    dirs.append(builtin)
    return dirs


def find_template(kind: str, std_key: str | None, lang: str, workspace_templates: Path | None) -> Path:
    dirs = template_dirs(std_key, workspace_templates)
    langs = [lang] if lang == "zh" else [lang, "zh"]
    for code in langs:
        for folder in dirs:
            for name in (f"{kind}.{code}.docx", f"{kind}.docx"):
                if (folder / name).is_file():
                    return folder / name
    raise TemplateError("render.template_missing", {"name": f"{kind}.{lang}.docx",
                                                "searched": ", ".join(str(d) for d in dirs)})


#: A transparent 1×1 PNG: what a logo or seal placeholder shows when the body has none.
NOTHING_PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                            "0000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082")


def issuer_picture(root: Path | None, name: str) -> bytes:
    """The PNG of a picture ``[issuer]`` names (PNG or JPEG, relative to the workspace), else nothing.
    A missing or unreadable file prints nothing; ``issuer_problems`` says so before a run."""
    if not name.strip():
        return NOTHING_PNG
    path = Path(name) if Path(name).is_absolute() or root is None else root / name
    try:
        from io import BytesIO

        from PIL import Image

        with Image.open(path) as img:
            img.load()
            out = BytesIO()
            img.convert("RGBA").save(out, "PNG")
            return out.getvalue()
    except (OSError, ValueError):
        return NOTHING_PNG


def issuer_problems(root: Path, issuer) -> list:
    """What is missing for certificates a body can sign: required ``[issuer]`` fields (certificates
    are specimens meanwhile) and pictures that cannot be read."""
    from pipeline.i18n import Message

    found = []
    if issuer.missing():
        found.append(Message("issuer.missing", {"fields": ", ".join(f"issuer.{k}" for k in issuer.missing())}))
    for key in ("logo", "seal"):
        name = getattr(issuer, key)
        if name.strip() and issuer_picture(root, name) is NOTHING_PNG:
            found.append(Message("issuer.picture", {"key": f"issuer.{key}", "path": name}))
    return found


class Renderer:
    """Renders reports and certificates; build one per process and call ``render`` per audit."""

    def __init__(self, config: Config, *, workspace_templates: Path | None = None, signer=None) -> None:
        """``signer`` (``flow/keys.Signer``: ``key_id`` and ``sign(bytes)``) signs the certificates' QR
        tokens; without one they are unsigned."""
        self.config = config
        self.signer = signer
        self.workspace_templates = workspace_templates
        self.env = make_env()
        self.chart = RateChart(cache_dir())
        self._prepared: dict[Path, tuple[int, PreparedDocx]] = {}
        root = workspace_templates.parent if workspace_templates is not None else None
        self._pictures = {name: issuer_picture(root, getattr(config.issuer, name)) for name in ("logo", "seal")}

    def template(self, kind: str, std_key: str | None, lang: str) -> PreparedDocx:
        """The prepared template (compiled once; prepared again only when the file changes)."""
        path = find_template(kind, std_key, lang, self.workspace_templates)
        stamp = path.stat().st_mtime_ns
        cached = self._prepared.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, PreparedDocx(path, self.env))
            self._prepared[path] = cached
        return cached[1]

    def context(self, audit: Audit, std: Standard, card: ScoreCard, *, lang: str = "zh", revision: int = 1,
                certificate: CertificateInfo | None = None, report_date: date | None = None,
                decision_note: str = "", plan: Plan | None = None, decided: Decided | None = None) -> dict:
        return build_context(audit, std, card, self.config, lang=lang, revision=revision,
                             certificate=certificate, report_date=report_date, decision_note=decision_note,
                             plan=plan, decided=decided)

    def images(self, tpl: PreparedDocx, ctx: dict, card: ScoreCard, lang: str,
               certificate: CertificateInfo | None = None) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        if "chart" in tpl.placeholders:
            out["chart"] = self.chart.png(chart_rows(card, lang), tpl.placeholders["chart"].size_emu, lang)
        cert = ctx["certificate"]
        for name, png in self._pictures.items():  # the body's logo and seal, or nothing where none is set
            if name in tpl.placeholders:
                out[name] = png
        if "qr" in tpl.placeholders and cert is not None and certificate is not None and card.level is not None:
            out["qr"] = qr_png(qr_text(cert["number"], self.token(ctx, card, certificate),
                                       self.config.issuer.verify_url))
        return out

    def token(self, ctx: dict, card: ScoreCard, certificate: CertificateInfo) -> str:
        """The certificate's signed token (``core/token.py``): what the document prints, as printed
        (organisation and credit code cleaned the same way), the standard and level by their keys, the
        scope and approval number by their digests.
        Empty without a signer."""
        if self.signer is None:
            return ""
        from pipeline.core.token import Claims, encode, printed_hash

        claims = Claims(number=ctx["certificate"]["number"], organisation=ctx["org"]["name"],
                        credit_code=ctx["org"]["credit_code"], standard=ctx["standard"]["key"],
                        level=card.level.key, issue_date=certificate.issue_date,
                        expiry_date=certificate.expiry_date, specimen=ctx["specimen"],
                        scope_hash=printed_hash(ctx["org"]["scope"]),
                        approval_hash=printed_hash(ctx["issuer"]["approval_no"]))
        return encode(claims, self.signer.key_id, self.signer.sign)

    def render(self, audit: Audit, std: Standard, card: ScoreCard, out_dir: Path, *,
               lang: str = "zh", revision: int = 1, certificate: CertificateInfo | None = None,
               report_date: date | None = None, decision_note: str = "", plan: Plan | None = None,
               decided: Decided | None = None,
               documents: tuple[str, ...] = ("report", "certificate")) -> list[Path]:
        """Writes ``out_dir/<audit_id>-report.docx`` and, when ``certificate`` is given and a level
        was reached, ``out_dir/<audit_id>-certificate.docx`` (of them, those ``documents`` names).
        ``decision_note``: the report says it awaits a certification decision; ``plan`` and ``decided``:
        what the result means for certificates, and the decision taken since (``build_context``).
        Returns the paths written."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        if card.level is None:
            certificate = None
        ctx = self.context(audit, std, card, lang=lang, revision=revision, certificate=certificate,
                           report_date=report_date, decision_note=decision_note, plan=plan, decided=decided)
        stem = safe_name(audit.info.audit_id)  # the same name as the audit's outbox folder
        written = []
        if "report" in documents:
            report = self.template("report", std.key, lang)
            written.append(report.write(out_dir / f"{stem}-report.docx", ctx, self.images(report, ctx, card, lang)))
        if certificate is not None and "certificate" in documents:
            cert = self.template("certificate", std.key, lang)
            written.append(cert.write(out_dir / f"{stem}-certificate.docx", ctx,
                                      self.images(cert, ctx, card, lang, certificate)))
        return written
