"""``certpipe verify INPUT``: is this certificate genuine, unaltered and in force?

INPUT is a certificate number, a token, a verify link (``<base>/c/<number>#<token>``), a photo
(``.png``/``.jpg``), a ``.pdf`` or a ``.docx``. The QR code is found in the picture (zxing-cpp; a PDF's
pages rendered by ``pdftoppm``; a .docx's pictures from ``word/media``), its token's signature checked
against the workspace's trusted keys (``flow/keys.py``), what the document prints (number,
organisation, credit code, standard, level, dates, and — a version 2 token signs their digests — scope
and approval number: ``pdftotext``, or the .docx's text by python-docx) compared with what is signed,
the certificate's status looked up in the ledger, and what is signed compared with what the ledger
holds now (a decision may have changed the level since the document was made).

Results (``Verdict.result``) and exit codes: ``genuine`` (and in force) 0; ``specimen`` (genuine, but a
specimen: the issuer's details were incomplete or the standard provisional — no certificate) 1;
``not_in_force`` (genuine
but suspended, withdrawn, cancelled, expired, superseded …: ``status`` says which) 1; ``outdated``
(genuine and in force, but the ledger's details differ from the signed ones: an old document, ``changed``
says which) 1; ``tampered``
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

from pipeline.core.token import Claims, Token, TokenError, check, decode, normalise, printed_hash
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
    """What ``verify`` found. ``fields``: the printed fields that differ from the signed ones;
    ``unchecked``: printed fields the token does not sign (a version 1 token: scope, approval number);
    ``changed``: the signed fields the ledger now holds otherwise, ``current`` their values there."""

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
    unchecked: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    current: dict = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT.get(self.result, 1)

    def to_json(self) -> dict:
        return {"result": self.result, "source": self.source, "number": self.number, "status": self.status,
                "signed": self.claims.to_json() if self.claims else None, "key_id": self.key_id,
                "tampered_fields": self.fields, "printed_checked": self.printed_checked,
                "unchecked_fields": self.unchecked, "changed_fields": self.changed, "current": self.current,
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


def _is_file(path: Path) -> bool:
    """Whether ``path`` names a file; ``False`` for what cannot be a path (a token longer than a file
    name may be: the system says so with an error)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _read(text: str) -> tuple[str, list[str], str | None]:
    """(source, QR texts or the typed text, printed text or None)."""
    path = Path(text)
    suffix = path.suffix.lower()
    looks_like_file = suffix in (*IMAGE_SUFFIXES, ".pdf", ".docx")
    if looks_like_file and not path.exists():  # a path mistyped: said so, not "no QR code found"
        raise CertpipeError("verify.no_file", {"path": text})
    if looks_like_file or (len(text) < 4096 and _is_file(path)):
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
MAX_WINDOW_LINES = 8  # a scope wraps over at most this many lines of a page's text


def _squash(text: str) -> str:
    return normalise(text)


def printed_texts(printed: str) -> set[str]:
    """The whole texts of a page a digest may be of: each line (a .docx's paragraph), runs of lines (a
    text that wraps), a line's parts around a label's colon or a wide gap, its words and the runs of
    words that begin or end it. Never any stretch of text: a scope is often words of the standard's
    title, which must not stand for it."""
    lines = [line for line in (ln.strip() for ln in printed.splitlines()) if line]
    out = set()
    for i, line in enumerate(lines):
        for n in range(1, MAX_WINDOW_LINES + 1):
            out.add(normalise("".join(lines[i:i + n])))
        out.update(normalise(part) for part in re.split(r"[：:]|\s{2,}", line))
        words = line.split()
        out.update(normalise(" ".join(words[k:])) for k in range(len(words)))
        out.update(normalise(" ".join(words[:k])) for k in range(1, len(words)))
    out.discard("")
    return out


def _standard_shown(key: str, ws: Workspace, page: str) -> bool | None:
    """Whether the page prints the standard signed by its key: its code, and its title in either
    language; ``None`` when the workspace does not know the standard (then it cannot be checked)."""
    from pipeline.flow.standards import load_standard

    try:
        std = load_standard(key, ws.root)
    except CertpipeError:
        return None
    titles = [_squash(t) for t in (std.title.zh, std.title.en) if _squash(t)]
    return (not _squash(std.code) or _squash(std.code) in page) and (not titles or any(t in page for t in titles))


def printed_differences(claims: Claims, printed: str, ws: Workspace) -> list[str]:
    """The signed fields that the printed text does not show in either language (the scope and
    approval number by their digests: a whole text of the page, ``printed_texts``, must have it)."""
    from pipeline.flow.standards import level_words
    from pipeline.word.context import fmt_date

    page = _squash(printed)
    wanted = {
        "number": [claims.number],
        "organisation": [claims.organisation],
        "credit_code": [claims.credit_code] if claims.credit_code.strip() else [],
        "level": [level_words(claims.standard, claims.level, lang, ws.root) for lang in ("zh", "en")],
        "issue_date": [fmt_date(claims.issue_date, lang) for lang in ("zh", "en")],
        "expiry_date": [fmt_date(claims.expiry_date, lang) for lang in ("zh", "en")],
    }
    differ = [name for name, forms in wanted.items()
              if forms and not any(_squash(f) and _squash(f) in page for f in forms)]
    if _standard_shown(claims.standard, ws, page) is False:
        differ.insert(3, "standard")
    texts: set[str] | None = None
    for name, digest in (("scope", claims.scope_hash), ("approval_no", claims.approval_hash)):
        if digest:
            texts = printed_texts(printed) if texts is None else texts
            if not any(printed_hash(text) == digest for text in texts):
                differ.append(name)
    return differ


def unsigned_printed(claims: Claims) -> list[str]:
    """The printed fields a token does not sign (a version 1 token: the scope and approval number)."""
    return [name for name, digest in (("scope", claims.scope_hash), ("approval_no", claims.approval_hash))
            if digest is None]


def ledger_differences(claims: Claims, held) -> tuple[list[str], dict]:
    """The signed fields the ledger's certificate (``certs.CertificateRow``) now holds otherwise, and
    their values there: a decision changed the level, a revision the organisation or scope …"""
    details = held.details or {}
    now = {"organisation": details.get("organisation"), "credit_code": details.get("credit_code"),
           "standard": details.get("standard_key"), "level": held.level or details.get("level"),
           "issue_date": held.issued_on or details.get("issue_date"),
           "expiry_date": held.expires_on or details.get("expiry_date")}
    signed = claims.to_json()
    changed = [name for name, value in now.items()
               if value is not None and normalise(str(value)) != normalise(str(signed[name]))]
    scope = details.get("scope")
    if claims.scope_hash is not None and scope is not None and printed_hash(str(scope)) != claims.scope_hash:
        changed.append("scope")
    now["scope"] = scope
    return changed, {name: str(now[name]) for name in changed}


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
    held = _held(ws, claims.number)
    if printed is not None:
        verdict.printed_checked = True
        verdict.unchecked = unsigned_printed(claims)
        verdict.fields += [f for f in printed_differences(claims, printed, ws) if f not in verdict.fields]
        scope = str((held.details or {}).get("scope") or "") if held else ""
        if "scope" in verdict.unchecked and scope:  # an older token: the page against the ledger's scope
            verdict.unchecked.remove("scope")
            if printed_hash(scope) not in {printed_hash(text) for text in printed_texts(printed)}:
                verdict.fields.append("scope")
    if verdict.fields:
        verdict.result = "tampered"
        return verdict
    verdict.status = in_force_status(certificate_status(ws, claims.number), claims.expiry_date, today)
    verdict.history = certificate_history(ws, claims.number)
    if held is not None:
        verdict.details = held.details or {}
        verdict.changed, verdict.current = ledger_differences(claims, held)
    if verdict.status is None:
        verdict.result = "not_found"
    elif verdict.status != "issued":
        verdict.result = "not_in_force"
    elif verdict.changed:
        verdict.result = "outdated"
    elif claims.specimen:
        verdict.result = "specimen"
    return verdict


def _held(ws: Workspace, number: str):
    """The ledger's certificate ``number`` (``certs.CertificateRow``), or ``None``."""
    from pipeline.flow.certs import certificate
    from pipeline.flow.ledger import Ledger

    if not number or not ws.ledger.exists():
        return None
    with Ledger(ws.ledger, readonly=True) as ledger:
        return certificate(ledger.db, number)


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
