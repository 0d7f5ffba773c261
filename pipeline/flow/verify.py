"""``certpipe verify INPUT``: is this certificate genuine, unaltered and in force?

INPUT is a certificate number, a token, a verify link (``<base>/c/<number>#<token>``), a photo
(``.png``/``.jpg``), a ``.pdf`` or a ``.docx``. The QR code is found in the picture (zxing-cpp; a PDF's
pages rendered by ``pdftoppm``; a .docx's pictures from ``word/media``), its token's signature checked
against the workspace's trusted keys (``flow/keys.py``), what the document prints (organisation,
level, number, dates: ``pdftotext``, or the .docx's text by python-docx) compared with what is signed,
and the certificate's status looked up in the ledger.

Results (``Verdict.result``) and exit codes: ``genuine`` (and in force) 0; ``specimen`` (genuine, but a
specimen: the issuer's details were incomplete or the standard provisional — no certificate) 1;
``not_in_force`` (genuine
but suspended, withdrawn, cancelled, expired, superseded …: ``status`` says which) 1; ``tampered``
(``fields`` says which) 1; ``forged`` (the signature does not match) 1; ``unknown_key`` (signed by a
key this workspace never had) 1; ``unsigned`` (a QR code without a token) 1; ``not_found`` (a number,
or a genuine token, the ledger does not know) 1; ``unreadable`` (no QR code or token could be read) 2.
Everything read is hostile: sizes are bounded, and no library's error text reaches the user.
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
import zipfile
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.core.token import Claims, Token, TokenError, check, decode
from pipeline.errors import CertpipeError
from pipeline.workspace import Workspace

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_INPUT_BYTES = 50 * 1024 * 1024
MAX_PIXELS = 60_000_000
MAX_MEDIA = 40  # pictures of a .docx looked at
PDF_PAGES = 3
EXIT = {"genuine": 0, "unreadable": 2}


@dataclass
class Verdict:
    """What ``verify`` found. ``fields``: the printed fields that differ from the signed ones."""

    result: str
    source: str  # number | token | link | image | pdf | docx
    number: str | None = None
    status: str | None = None
    claims: Claims | None = None
    key_id: str | None = None
    fields: list[str] = field(default_factory=list)
    printed_checked: bool = False
    history: list[tuple[str, str, str, str]] = field(default_factory=list)
    details: dict = field(default_factory=dict)  # what the ledger shows of the certificate

    @property
    def exit_code(self) -> int:
        return EXIT.get(self.result, 1)

    def to_json(self) -> dict:
        return {"result": self.result, "source": self.source, "number": self.number, "status": self.status,
                "signed": self.claims.to_json() if self.claims else None, "key_id": self.key_id,
                "tampered_fields": self.fields, "printed_checked": self.printed_checked,
                "history": [{"when": w, "status": s, "by": b, "reason": r} for w, s, b, r in self.history],
                "exit_code": self.exit_code}


# ---- the ledger: status and history (one function each) ---------------------------------------
def certificate_status(ws: Workspace, number: str, *, ledger=None) -> str | None:
    """The certificate's status today (``core.lifecycle.STATUSES``, expiry applied); ``None`` for a
    number the ledger does not know. ``ledger``: an open ``Ledger`` to read instead of opening one
    (``publish`` asks for every certificate)."""
    from pipeline.flow.certs import certificate
    from pipeline.flow.ledger import Ledger

    if ledger is not None:
        held = certificate(ledger.db, number, today=date.today())
        return held.status if held else None
    if not number or not ws.ledger.exists():
        return None
    with Ledger(ws.ledger, readonly=True) as opened:
        return certificate_status(ws, number, ledger=opened)


def certificate_history(ws: Workspace, number: str, *, ledger=None,
                        public: bool = False) -> list[tuple[str, str, str, str]]:
    """The certificate's changes, oldest first: (when, status after, by, reason). ``public``: without
    who and why (people's names and reasons stay inside the body)."""
    from pipeline.flow.certs import events
    from pipeline.flow.ledger import Ledger

    if ledger is None:
        if not number or not ws.ledger.exists():
            return []
        with Ledger(ws.ledger, readonly=True) as opened:
            return certificate_history(ws, number, ledger=opened, public=public)
    return [(e.at, e.status, "" if public else e.by, "" if public else e.reason) for e in events(ledger.db, number)]


def _details(ws: Workspace, number: str) -> dict:
    import json

    from pipeline.flow.ledger import Ledger

    if not ws.ledger.exists():
        return {}
    with Ledger(ws.ledger, readonly=True) as ledger:
        row = ledger.db.execute("SELECT details FROM certificates WHERE number = ?", (number,)).fetchone()
    try:
        return json.loads(row[0]) if row else {}
    except ValueError:
        return {}


def in_force_status(status: str | None, expiry: date | None, today: date | None = None) -> str | None:
    """The status a reader is told: an issued certificate past its expiry date is ``expired``."""
    if status == "issued" and expiry is not None and expiry < (today or date.today()):
        return "expired"
    return status


# ---- reading the input ----------------------------------------------------------------------
def _qr_texts(images) -> list[str]:
    import zxingcpp

    texts = []
    for img in images:
        for found in zxingcpp.read_barcodes(img.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode):
            if found.valid and found.text:
                texts.append(found.text)
    return texts


def _open_image(data: bytes):
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    if img.width * img.height > MAX_PIXELS:
        raise ValueError("too many pixels")
    img.load()
    return img


def _image_texts(data: bytes) -> list[str]:
    """QR codes in a picture; a large photo is also tried at half and quarter size."""
    img = _open_image(data)
    texts = _qr_texts([img])
    while not texts and min(img.size) > 1200:
        img = img.reduce(2)
        texts = _qr_texts([img])
    return texts


def _pdf(path: Path) -> tuple[list[str], str]:
    with tempfile.TemporaryDirectory(prefix="certpipe-verify-") as tmp:
        subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", str(PDF_PAGES), "--", str(path),
                        str(Path(tmp) / "p")], check=True, capture_output=True, timeout=120)
        texts = []
        for page in sorted(Path(tmp).glob("p*.png")):
            texts += _image_texts(page.read_bytes())
    text = subprocess.run(["pdftotext", "-l", str(PDF_PAGES), "-enc", "UTF-8", "--", str(path), "-"],
                          check=True, capture_output=True, timeout=120).stdout.decode("utf-8", "replace")
    return texts, text


def _docx(path: Path) -> tuple[list[str], str]:
    import docx
    from docx.oxml.ns import qn

    texts = []
    with zipfile.ZipFile(path) as zf:
        media = [i for i in zf.infolist() if i.filename.startswith("word/media/")
                 and i.filename.lower().endswith(IMAGE_SUFFIXES) and i.file_size < MAX_INPUT_BYTES][:MAX_MEDIA]
        for info in media:
            try:
                texts += _image_texts(zf.read(info))
            except (OSError, ValueError, SyntaxError):
                continue  # a picture that is not one: the others may hold the QR code
    document = docx.Document(str(path))
    lines = ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in document.element.body.iter(qn("w:p"))]
    return texts, "\n".join(lines)


def _read(text: str) -> tuple[str, list[str], str | None]:
    """(source, QR texts or the typed text, printed text or None)."""
    path = Path(text)
    suffix = path.suffix.lower()
    looks_like_file = suffix in (*IMAGE_SUFFIXES, ".pdf", ".docx")
    if looks_like_file and not path.exists():  # a path mistyped: said so, not "no QR code found"
        raise CertpipeError("verify.no_file", {"path": text})
    if looks_like_file or (len(text) < 4096 and path.is_file()):
        if not path.is_file() or not looks_like_file or path.stat().st_size > MAX_INPUT_BYTES:
            raise ValueError("not a readable file")
        if suffix in IMAGE_SUFFIXES:
            return "image", _image_texts(path.read_bytes()), None
        if suffix == ".pdf":
            return "pdf", *_pdf(path)
        return "docx", *_docx(path)
    text = text.strip()
    if "://" in text or "#" in text:
        return "link", [text], None
    try:
        decode(text)
    except TokenError:
        return "number", [text], None
    return "token", [text], None


# ---- comparing what is printed --------------------------------------------------------------
def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def printed_differences(claims: Claims, printed: str, ws: Workspace) -> list[str]:
    """The signed fields that the printed text does not show in either language."""
    from pipeline.flow.standards import level_words
    from pipeline.word.context import fmt_date

    page = _squash(printed)
    wanted = {
        "number": [claims.number],
        "organisation": [claims.organisation],
        "level": [level_words(claims.standard, claims.level, lang, ws.root) for lang in ("zh", "en")],
        "issue_date": [fmt_date(claims.issue_date, lang) for lang in ("zh", "en")],
        "expiry_date": [fmt_date(claims.expiry_date, lang) for lang in ("zh", "en")],
    }
    return [name for name, forms in wanted.items() if not any(_squash(f) and _squash(f) in page for f in forms)]


# ---- the verdict ------------------------------------------------------------------------------
def verify(text: str, ws: Workspace, *, today: date | None = None) -> Verdict:
    """The verdict on ``text`` (see the module's docstring)."""
    from pipeline.flow.keys import verifiers
    from pipeline.word.qr import split

    try:
        source, found, printed = _read(text)
    except (OSError, ValueError, SyntaxError, zipfile.BadZipFile, KeyError, subprocess.SubprocessError):
        return Verdict("unreadable", _source_of(text))
    except Exception as exc:  # a library's own error on a hostile file (python-docx, PIL): unreadable
        if type(exc).__module__.split(".")[0] in ("docx", "PIL", "lxml", "zxingcpp"):
            return Verdict("unreadable", _source_of(text))
        raise
    if source == "number":
        number = found[0]
        return _by_number(ws, number, "number", today)
    token: Token | None = None
    number = None
    for candidate in found:
        num, tok = split(candidate)
        if tok:
            try:
                token = decode(tok)
            except TokenError:
                continue
            number = num
            break
        number = number or num
    if token is None:
        if number and source != "token":
            verdict = _by_number(ws, number, source, today)
            if verdict.result != "not_found":
                verdict.result = "unsigned"
            return verdict
        return Verdict("unreadable", source)
    claims = token.claims
    verdict = Verdict("genuine", source, number=claims.number, claims=claims, key_id=token.key_id)
    signature = check(token, verifiers(ws))
    if signature != "genuine":
        verdict.result = signature
        return verdict
    if number is not None and number != claims.number:
        verdict.fields.append("number")
    if printed is not None:
        verdict.printed_checked = True
        verdict.fields += [f for f in printed_differences(claims, printed, ws) if f not in verdict.fields]
    if verdict.fields:
        verdict.result = "tampered"
        return verdict
    verdict.status = in_force_status(certificate_status(ws, claims.number), claims.expiry_date, today)
    verdict.history = certificate_history(ws, claims.number)
    if verdict.status is None:
        verdict.result = "not_found"
    elif verdict.status != "issued":
        verdict.result = "not_in_force"
    elif claims.specimen:
        verdict.result = "specimen"
    return verdict


def _by_number(ws: Workspace, number: str, source: str, today: date | None) -> Verdict:
    details = _details(ws, number)
    expiry = None
    with suppress(TypeError, ValueError):
        expiry = date.fromisoformat(details.get("expiry_date", ""))
    status = in_force_status(certificate_status(ws, number), expiry, today)
    result = "not_found" if status is None else ("genuine" if status == "issued" else "not_in_force")
    return Verdict(result, source, number=number, status=status, details=details,
                   history=certificate_history(ws, number))


def _source_of(text: str) -> str:
    suffix = Path(text).suffix.lower()
    return {".pdf": "pdf", ".docx": "docx"}.get(suffix, "image" if suffix in IMAGE_SUFFIXES else "token")
