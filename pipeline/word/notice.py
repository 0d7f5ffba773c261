"""The notice to a certificate's holder when its status changes (suspended, restored, withdrawn,
cancelled): ``templates/notice.<lang>.docx``, editable like the report and the certificate (a
workspace's own ``templates/notice.<lang>.docx`` wins), checked by ``certpipe templates check``.

A notice is a specimen when the certificate it speaks of would be one: while the ``[issuer]``'s
required fields are not all filled in (``Issuer.missing``), or under a provisional standard. It then
says so (``specimen``, ``specimen_text``, ``specimen_reason``, as the certificate's context has them),
and an empty issuer field prints what is not set, never a blank (``word/context.issuer_words``)."""

from __future__ import annotations

from datetime import date

from pipeline.config import Config
from pipeline.core.text import clean
from pipeline.i18n import t
from pipeline.word.context import fmt_date, issuer_words


def notice_context(config: Config, *, number: str, action: str, status: str, when: date, reason: str,
                   until: date | None, organisation: str, credit_code: str, standard: str, level: str,
                   event_id: int, lang: str, provisional: bool = False) -> dict:
    """What a notice template sees, every value already in words (``level``: the level's words;
    ``provisional``: the certificate's standard is provisional)."""
    words = issuer_words(config.issuer, lang)
    specimen = provisional or bool(config.issuer.missing())
    return {
        "lang": lang,
        "issuer": {"name": words["name"], "address": words["address"], "signatory": words["signatory"]},
        "specimen": specimen,
        "specimen_text": t("render.specimen", lang),
        "specimen_reason": t("render.notice_specimen_provisional" if provisional else "render.notice_specimen_issuer",
                             lang),
        "org": {"name": clean(organisation), "credit_code": clean(credit_code)},
        "certificate": {"number": clean(number), "standard": clean(standard), "level": clean(level)},
        "notice": {"action": t(f"cert.action.{action}", lang), "status": t(f"cert.status.{status}", lang),
                   "date": fmt_date(when, lang), "until": fmt_date(until, lang) if until else "",
                   "reason": clean(reason), "reference": f"{clean(number)}-N{event_id}"},
    }

