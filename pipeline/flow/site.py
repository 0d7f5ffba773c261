"""``certpipe publish DIR``: the public register as static files any web server or object store serves.

::

    DIR/index.html              search (client-side, over data/index.js), Chinese first, English switch
    DIR/c/<number>/index.html   one page per certificate: status and history, organisation, standard,
                                level, scope, dates; opened as c/<number>#<token> (the QR link) it checks the
                                token in the browser (assets/verify.js, WebCrypto Ed25519)
    DIR/c/<number>.json         the same public fields as data

A page's status is the ledger's on the day it was published; an issued certificate whose expiry date
has passed since is shown as expired by the page's script (assets/site.js), by the visitor's date. The
JSON files say what was published: publish daily (see docs/*/verification.md) to keep them current.
    DIR/keys.json               every trusted public key (data/keys.js: the same for the pages)
    DIR/assets/                 site.css, site.js, verify.js (shipped in pipeline/site_assets/)

Only public fields: no auditor, note or score. Nothing is fetched from anywhere else, so the register
works on an offline network. A file whose content did not change is not rewritten (a sync to an object
store sends only what changed); each file is replaced whole (a temporary file, then a rename). The
words are the catalogue's (``site.*``), both languages in every page.
"""

from __future__ import annotations

import functools
import html
import json
import os
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pipeline.config import Config
from pipeline.core.certificates import safe_number
from pipeline.core.token import printed_hash
from pipeline.errors import CertpipeError
from pipeline.i18n import t
from pipeline.workspace import Workspace

ASSETS = Path(__file__).resolve().parents[1] / "site_assets"
ASSET_FILES = ("site.css", "site.js", "verify.js")
LANGS = ("zh", "en")


@dataclass
class Published:
    dest: Path
    count: int  # certificates
    written: int  # files whose content changed
    seconds: float


def both(key: str, **params) -> str:
    """The catalogue's words in both languages, escaped, one shown at a time by the stylesheet."""
    return _both(key) if not params else _both_now(key, params)


@functools.lru_cache(maxsize=256)
def _both(key: str) -> str:
    return _both_now(key, {})


def _both_now(key: str, params: dict) -> str:
    return "".join(f'<span class="l-{lang}">{html.escape(t(key, lang, **params))}</span>' for lang in LANGS)


def both_words(words: dict[str, str]) -> str:
    return "".join(f'<span class="l-{lang}">{html.escape(words[lang])}</span>' for lang in LANGS)


def script_json(data) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class Writer:
    """Writes files under ``dest`` only when their content changed; counts them."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.written = 0

    def put(self, relative: str, data: str | bytes) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        path = self.dest / relative
        try:
            if path.stat().st_size == len(raw) and path.read_bytes() == raw:
                return
        except FileNotFoundError:
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass
        # one publisher per workspace at a time (publish.lock): the temporary file is named by the file and the
        # process, cheaper than tempfile's random names when a first publish makes 20,000 files
        tmp = path.with_name(f".~certpipe-{os.getpid()}-{path.name}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o644)
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.written += 1


def _head(title: str, up: str, scripts: list[str]) -> str:
    tags = "".join(f'<script src="{up}{s}"></script>' for s in scripts)
    return ('<!doctype html>\n<html lang="zh-CN" data-lang="zh"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer">'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'self'; "
            "style-src 'self'; img-src 'self'; connect-src 'none'; base-uri 'none'; form-action 'none'\">"
            f"<title>{html.escape(title)}</title>"
            f'<link rel="stylesheet" href="{up}assets/site.css">{tags}</head><body>')


def _header(issuer: dict[str, str], up: str) -> str:
    return (f'<header><h1><a href="{up}index.html">{both_words(issuer)}</a> · {both("site.title")}</h1>'
            f'<button class="lang" id="lang" type="button">{both("site.switch")}</button></header>')


def _status_words(status: str) -> dict[str, str]:
    return {lang: t(f"verify.status.{status}", lang) for lang in LANGS}


def _records(ws: Workspace, today: date, *, show_score: bool = False) -> list[dict]:
    """Every certificate's public fields, from the ledger (its total score too with ``show_score``):
    the certificates and all their changes read in two queries, not three per certificate."""
    from pipeline.flow.certs import certificate_rows, events
    from pipeline.flow.ledger import Ledger
    from pipeline.flow.standards import all_standards

    if not ws.ledger.exists():
        return []
    standards = {std.key: std for std in all_standards(ws.root)}
    with Ledger(ws.ledger, readonly=True) as ledger:
        held = {row.number: row for row in certificate_rows(ledger.db, today=today)}
        history: dict[str, list[dict]] = {}
        for e in events(ledger.db):  # oldest first; public: without who and why
            history.setdefault(e.number, []).append({"when": e.at, "status": e.status, "by": "", "reason": ""})
        return [_record(number, details, standards, today, held.get(number), history.get(number, [])) | (
                    {"total": str(details.get("total") or "")} if show_score else {})
                for number, details in ledger.certificates() if safe_number(number)]


def _record(number: str, details: dict, standards: dict, today: date, held, history: list[dict]) -> dict:
    """One certificate's public fields; ``held``: its ``certs.CertificateRow`` (status as of the day
    read), ``history``: its changes."""
    from pipeline.flow.verify import in_force_status

    std = standards.get(details.get("standard_key") or "")
    details = details | ({"level": held.level} if held and held.level else {})  # a decision may have changed it
    level = next((lv for lv in std.levels if lv.key == details.get("level")), None) if std else None
    try:
        expiry = date.fromisoformat(details.get("expiry_date") or "")
    except ValueError:
        expiry = None
    status = in_force_status(held.status if held else None, expiry, today) or "issued"
    return {
        "number": number, "organisation": details.get("organisation", ""),
        "credit_code": details.get("credit_code", ""),
        "standard": details.get("standard_key", ""),
        "standard_code": details.get("standard", ""),
        "scope": details.get("scope") or "",
        "standard_title": {lang: std.title.get(lang) if std else "" for lang in LANGS},
        "level": details.get("level", ""),
        "level_words": {lang: std.describe_level(level, lang) if level else details.get("level", "")
                        for lang in LANGS},
        "issue_date": details.get("issue_date", ""), "expiry_date": details.get("expiry_date", ""),
        "specimen": bool(details.get("provisional")),
        "status": status, "status_words": _status_words(status),
        "history": history,
    }


def _shown_time(stamp: str) -> str:
    """A change's time as a person reads it (``2026-11-29 14:10``, the time recorded where the change was
    made), as the console shows it; the JSON keeps the whole ISO stamp with its offset."""
    return (stamp or "")[:16].replace("T", " ")


def _certificate_page(rec: dict, issuer: dict[str, str]) -> str:
    up = "../../"
    fields = [("number", html.escape(rec["number"])), ("organisation", html.escape(rec["organisation"])),
              ("credit_code", html.escape(rec["credit_code"]) or "—"),
              ("standard", html.escape(rec["standard_code"]) + " " + both_words(rec["standard_title"])),
              ("level", both_words(rec["level_words"])),
              ("scope", html.escape(rec["scope"]) or "—"),
              *([("total", html.escape(rec["total"]))] if "total" in rec else []),
              ("issue_date", html.escape(rec["issue_date"])), ("expiry_date", html.escape(rec["expiry_date"])),
              ("status", f'<span class="status {"ok" if rec["status"] == "issued" else "bad"}" id="status" '
                         f'data-status="{html.escape(rec["status"])}" data-expiry="{html.escape(rec["expiry_date"])}">'
                         f'{both_words(rec["status_words"])}</span>{_expired_words()}')]
    rows = "".join(f"<dt>{both(f'site.field.{name}')}</dt><dd>{value}</dd>" for name, value in fields)
    checks = "".join(f'<div data-check="{r}" hidden>{both(f"site.check.{r}")}</div>'
                     for r in ("checking", "genuine", "specimen", "forged", "mismatch", "unknown_key", "unsupported",
                               "none"))
    if rec["history"]:
        history = ("<table class=\"history\"><tr>" + "".join(f"<th>{both(f'site.history.{c}')}</th>"
                                                             for c in ("when", "status", "reason")) + "</tr>"
                   + "".join(f"<tr><td>{html.escape(_shown_time(h['when']))}</td>"
                             f"<td>{both_words(_status_words(h['status']))}</td>"
                             f"<td>{html.escape(h['reason'])}</td></tr>" for h in rec["history"]) + "</table>")
    else:
        history = f'<p class="muted">{both("site.history_none")}</p>'
    signed = {k: rec[k] for k in ("number", "organisation", "credit_code", "standard", "level", "issue_date",
                                  "expiry_date")} | {"scope_hash": printed_hash(rec["scope"])}
    return (_head(f"{rec['number']} · {issuer['zh']}", up, ["assets/site.js", "data/keys.js", "assets/verify.js"])
            + _header(issuer, up)
            + f'<main><div id="check" class="check none" data-result="none">{checks}</div>'
            + f'<div class="card"><h2>{both("site.certificate")}</h2>'
            + (f'<p class="muted">{both("site.specimen")}</p>' if rec["specimen"] else "")
            + f'<dl class="fields">{rows}</dl></div>'
            + f'<div class="card"><h2>{both("site.history")}</h2>{history}</div></main>'
            + f'<script type="application/json" id="certificate-data">{script_json(signed)}</script>'
            + "</body></html>\n")


def _expired_words() -> str:
    """The words "expired", hidden: assets/site.js shows them in place of "in force" when the visitor's
    today is past the expiry date (a register published before the expiry still says "issued")."""
    return f'<span id="status-expired" hidden>{both("verify.status.expired")}</span>'


def _index_page(count: int, issuer: dict[str, str], when: str) -> str:
    return (_head(f"{issuer['zh']} · {t('site.title', 'zh')}", "", ["assets/site.js", "data/index.js"])
            + _header(issuer, "")
            + f'<main><div class="card"><p>{both("site.search_help")}</p>'
            + '<input type="search" id="search" autocomplete="off" '
            + f'placeholder="{html.escape(t("site.search", "zh") + " / " + t("site.search", "en"))}">'
            + f'<p class="muted" id="count" hidden>{both("site.no_match")}</p>'
            + f'<ul class="results" id="results"></ul>{_expired_words()}</div>'
            + f'<p class="muted">{both("site.count", count=count, when=when)} · '
            + f'<a href="keys.json">{both("site.keys")}</a></p></main></body></html>\n')


def check_destination(ws: Workspace, dest: Path) -> None:
    dest = dest.resolve()
    forbidden = [p.resolve() for p in (ws.inbox, ws.archive, ws.state)]
    if dest in (ws.root.resolve(), ws.outbox.resolve()) or any(dest == p or p in dest.parents for p in forbidden):
        raise CertpipeError("publish.inside", {"dir": dest})


def publish_site(ws: Workspace, config: Config, dest: Path, *, today: date | None = None) -> Published:
    """The public register written to ``dest`` from the ledger and the trusted keys."""
    from pipeline.flow.keys import trusted_keys
    from pipeline.lock import file_lock

    started = time.perf_counter()
    dest = Path(dest)
    check_destination(ws, dest)
    from pipeline.word.context import issuer_words

    issuer = {lang: issuer_words(config.issuer, lang)["name"] for lang in ("zh", "en")}
    try:
        with file_lock(ws.state / "locks" / "publish.lock"):
            dest.mkdir(parents=True, exist_ok=True)
            records = _records(ws, today or date.today(), show_score=config.publish.show_score)
            out = Writer(dest)
            for name in ASSET_FILES:
                out.put(f"assets/{name}", (ASSETS / name).read_bytes())
            keys = sorted(trusted_keys(ws).values(), key=lambda k: k.created)
            out.put("keys.json", json.dumps([k.to_json() for k in keys], indent=2) + "\n")
            out.put("data/keys.js", "window.CERTPIPE_KEYS = " + script_json({k.key_id: k.b64 for k in keys}) + ";\n")
            index = [{k: rec[k] for k in ("number", "organisation", "credit_code", "standard_code", "expiry_date",
                                          "status", "status_words")} | {"standard": rec["standard_code"],
                                                                        "level": rec["level_words"]}
                     for rec in records]
            out.put("data/index.js", "window.CERTPIPE_INDEX = " + script_json(index) + ";\n")
            for rec in records:
                out.put(f"c/{rec['number']}/index.html", _certificate_page(rec, issuer))
                out.put(f"c/{rec['number']}.json", json.dumps(rec, ensure_ascii=False, indent=2) + "\n")
            when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
            # the date changes every minute: the index is rewritten only when something else did
            if out.written or not (dest / "index.html").exists():
                out.put("index.html", _index_page(len(records), issuer, when))
    except OSError as exc:
        raise CertpipeError("publish.failed", {"dir": dest, "detail": exc.strerror or type(exc).__name__}) from exc
    return Published(dest, len(records), out.written, time.perf_counter() - started)


def publish_after_batch(ws: Workspace, config: Config, lang: str) -> Published | None:
    """``[publish] dir`` written after a batch of ``run`` or ``watch``; a failure is logged, never raised
    (the outcomes stand; the next batch writes it again)."""
    if not config.publish.dir:
        return None
    from pipeline.logs import log

    dest = Path(config.publish.dir)
    dest = dest if dest.is_absolute() else ws.root / dest
    try:
        return publish_site(ws, config, dest)
    except CertpipeError as exc:
        log.warning("%s", exc.render(lang))
        return None
