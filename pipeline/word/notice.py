"""The notice to a certificate's holder when its status changes (suspended, restored, withdrawn,
cancelled): ``templates/notice.<lang>.docx``, editable like the report and the certificate (a
workspace's own ``templates/notice.<lang>.docx`` wins), checked by ``certpipe templates check``."""

from __future__ import annotations

from datetime import date

from pipeline.config import Config
from pipeline.core.text import clean
from pipeline.i18n import t
from pipeline.word.context import fmt_date


def notice_context(config: Config, *, number: str, action: str, status: str, when: date, reason: str,
                   until: date | None, organisation: str, credit_code: str, standard: str, level: str,
                   event_id: int, lang: str) -> dict:
    """What a notice template sees, every value already in words (``level``: the level's words)."""
    issuer = config.issuer
    return {
        "lang": lang,
        "issuer": {"name": clean(issuer.name_en if lang == "en" and issuer.name_en else issuer.name),
                   "address": clean(issuer.address), "signatory": clean(issuer.signatory)},
        "org": {"name": clean(organisation), "credit_code": clean(credit_code)},
        "certificate": {"number": clean(number), "standard": clean(standard), "level": clean(level)},
        "notice": {"action": t(f"cert.action.{action}", lang), "status": t(f"cert.status.{status}", lang),
                   "date": fmt_date(when, lang), "until": fmt_date(until, lang) if until else "",
                   "reason": clean(reason), "reference": f"{clean(number)}-N{event_id}"},
    }

