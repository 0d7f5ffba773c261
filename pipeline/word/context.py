"""The variables a report or certificate template sees. Plain strings, booleans and lists of dicts:
every number and date is already formatted in the document's language, so a clerk editing a template
needs no filters. Text from the audit is cleaned of characters Word cannot store.

Top-level variables (``{{ org.name }}``, ``{%tr for r in summary %}`` ...):

- ``lang``, ``report_number``, ``revision`` (int), ``revision_text`` ("" or "第 2 版"), ``report_date``
- ``issuer``: ``name address signatory verify_url``
- ``org``: ``name address credit_code scope``
- ``audit``: ``id type start end dates lead_auditor auditors``
- ``standard``: ``key code title edition max provisional status_note`` (``edition``: 版本未注明 when the
  source names none)
- ``provenance``: ``notes``, each ``kind what text``: the standard's values not given by its text
- ``summary``: rows per part and first-level indicator: ``code title max points rate bg kind``
- ``indicators``: every indicator: ``code title max points rate evidence bg na``
- ``exclusions``: not-applicable indicators: ``code title max``
- ``specials``: special deductions / bonus of the standard: ``label count points``
- ``weakest``: ``code title max points lost rate``
- ``parts``: ``title max score rate level``
- ``result``: ``total max subtotal level reached text reasons gaps``
- ``certification``: what the result means for a certificate, ``state text number``: ``state`` one of
  ``issued`` (a certificate goes with the report), ``awaiting_issue`` (a level reached, the certificate
  awaits the certification decision), ``awaiting_change`` (a surveillance or revision whose result
  differs from the certificate's level awaits the decision), ``maintained`` (a surveillance kept the
  certificate's level), ``approved_issue``, ``approved_change``, ``refused_issue``, ``refused_change``
  (the decision taken), ``none`` (no level reached), ``level_only`` (a level reached, no certificate
  concerned); ``text`` says it in a sentence; ``number`` the certificate concerned, or ""
- ``surveillance_due`` (the date, or what stands for it), ``certificate`` (``number issue_date
  expiry_date surveillance_due level``, or none on a report without certificate), ``specimen`` (bool:
  a provisional standard, or the issuer's required fields not filled in), ``specimen_text``,
  ``specimen_reason``
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pipeline.config import Config
from pipeline.core.audit import Audit
from pipeline.core.certify import Plan
from pipeline.core.numbers import plain
from pipeline.core.provenance import summary
from pipeline.core.scoring import IndicatorScore, ScoreCard
from pipeline.core.standard import Standard
from pipeline.core.text import clean
from pipeline.i18n import t

INDENT = {"zh": "\u3000", "en": "\u2003"}
BG_PART, BG_TOP, BG_PLAIN, BG_NA = "DCE3EF", "EEF2F8", "FFFFFF", "F3F3F3"


def fmt_num(value: Decimal | None) -> str:
    """``12.50`` → ``12.5``, ``100`` → ``100``: exact, no exponent."""
    return "" if value is None else plain(value)


def fmt_rate(value: Decimal | None, lang: str) -> str:
    return t("render.na", lang) if value is None else f"{fmt_num(value)}%"


def fmt_date(value: date | None, lang: str) -> str:
    return "" if value is None else t("render.date", lang, y=value.year, m=value.month, d=value.day)


def report_number(audit_id: str, revision: int = 1) -> str:
    """The report number: the audit id and the revision (``A-2025-001-R1``)."""
    return f"{audit_id}-R{revision}"


def _indicator_row(ind: IndicatorScore, std: Standard, audit: Audit, lang: str) -> dict:
    na = ind.points is None
    points = t("render.na", lang) if na else fmt_num(ind.points)
    if not na and ind.is_leaf and std.input.mode == "percent" and ind.entered is not None:
        points = t("render.points_percent", lang, points=points, percent=fmt_num(ind.entered))
    return {
        "code": ind.code,
        "title": INDENT[lang] * (ind.depth - 1) + clean(ind.title.get(lang)),
        "max": fmt_num(ind.max),
        "points": points,
        "rate": fmt_rate(ind.rate, lang),
        "evidence": clean(audit.notes.get(ind.code, "")) if ind.is_leaf else "",
        "bg": BG_NA if na else (BG_TOP if ind.depth == 1 else BG_PLAIN),
        "na": na,
    }


def chart_rows(card: ScoreCard, lang: str) -> list[tuple[str, Decimal]]:
    """(label, rate) of every applicable first-level indicator, in order: the chart's data."""
    return [(f"{i.code} {i.title.get(lang)}", i.rate) for i in card.indicators
            if i.depth == 1 and i.rate is not None]


def _result(std: Standard, card: ScoreCard, lang: str) -> dict:
    level = std.describe_level(card.level, lang) if card.level else ""
    reasons = [b.message(lang) for b in card.blockers]
    if card.level is None and not card.blockers:
        lowest = min(std.levels, key=lambda lv: lv.min)
        reasons.append(t("render.below_lowest", lang, total=fmt_num(card.total),
                         level=std.describe_level(lowest, lang), min=fmt_num(lowest.min)))
    gaps = []
    if card.blockers:  # no points reach a level until the blocker goes (``reasons`` says it)
        pass
    elif card.next_level is not None:
        gaps.append(t("render.gap_next", lang, level=std.describe_level(card.next_level, lang),
                      min=fmt_num(card.next_level.min), points=fmt_num(card.short_of_next)))
    else:
        gaps.append(t("render.gap_top", lang))
    for part in card.parts:
        if part.next_level is not None and not card.blockers:
            gaps.append(t("render.part_gap", lang, part=part.title.get(lang), score=fmt_num(part.score),
                          level=part.next_level.label.get(lang), min=fmt_num(part.next_level.min),
                          points=fmt_num(part.short_of_next)))
    return {
        "total": fmt_num(card.total), "max": fmt_num(card.max), "subtotal": fmt_num(card.subtotal),
        "level": level, "reached": card.level is not None,
        "text": t("render.level_reached", lang, level=level) if level else t("render.no_level", lang),
        "reasons": reasons, "gaps": gaps,
    }


@dataclass(frozen=True)
class Decided:
    """The certification decision taken on the audit's result: approved or refused, on a day."""

    approved: bool
    on: date


def certification(std: Standard, card: ScoreCard, cert: dict | None, plan: Plan | None,
                  decided: Decided | None, lang: str) -> dict:
    """``certification`` and ``surveillance_due``: what the result means for a certificate, as it
    stands when the report is written (``plan``: what the result meant when it was recorded;
    ``decided``: the decision taken since, on a result that awaited one)."""
    level = std.describe_level(card.level, lang) if card.level else ""
    waiting = plan is not None and plan.action == "wait"
    number = cert["number"] if cert else clean((plan.number if plan is not None else None) or "")
    if decided is not None and waiting:
        verdict = "approved" if decided.approved else "refused"
        state = f"{verdict}_issue" if plan.kind == "issue" else f"{verdict}_change"
    elif cert:
        state = "issued"
    elif waiting:
        state = "awaiting_issue" if plan.kind == "issue" else "awaiting_change"
    elif plan is not None and plan.action == "maintain":
        state = "maintained"
    else:
        state = "level_only" if level else "none"
    words = {"level": level, "number": number, "on": fmt_date(decided.on, lang) if decided else "",
             "result": level or t("render.no_level", lang),
             "issued": cert["issue_date"] if cert else "", "expires": cert["expiry_date"] if cert else ""}
    # approved, its certificate not given: the decision alone
    text = t(f"render.cert.{state}" + ("_only" if state == "approved_issue" and not cert else ""), lang, **words)
    if cert:
        due = cert["surveillance_due"]
    elif state == "awaiting_issue":
        due = t("render.surv.after_issue", lang)
    elif number:
        due = t("render.surv.of_certificate", lang, number=number)
    elif state == "none":
        due = t("render.no_certificate", lang)
    else:
        due = t("render.surv.no_certificate", lang)
    return {"state": state, "text": text, "number": number, "surveillance_due": due}


def issuer_words(issuer, lang: str) -> dict:
    """The certification body as a document in ``lang`` prints it: the English name and address in
    English documents (saying so where they are not set), a visible mark where a field is empty."""
    def shown(value: str, key: str) -> str:
        return clean(value) if value.strip() else t(f"render.issuer_unset.{key}", lang)

    if lang == "en":
        name = clean(issuer.name_en) if issuer.name_en.strip() else t("render.issuer_no_english", lang,
                                                                       name=shown(issuer.name, "name"))
        address = clean(issuer.address_en) if issuer.address_en.strip() else shown(issuer.address, "address")
    else:
        name, address = shown(issuer.name, "name"), shown(issuer.address, "address")
    return {"name": name, "address": address, "signatory": shown(issuer.signatory, "signatory"),
            "approval_no": shown(issuer.approval_no, "approval_no"), "verify_url": clean(issuer.verify_url)}
def _provenance(std: Standard, lang: str) -> dict:
    """``provenance``: the entries of the definition that are not given by the standard's text."""
    notes = summary(std).to_json(lang)["notes"]
    return {"notes": [{"kind": clean(n["label"]), "what": clean(n["what"]), "text": clean(n["text"])} for n in notes]}


def build_context(audit: Audit, std: Standard, card: ScoreCard, config: Config, *, lang: str = "zh",
                  revision: int = 1, certificate=None, report_date: date | None = None,
                  decision_note: str = "", plan: Plan | None = None, decided: Decided | None = None) -> dict:
    """The template's variables. ``decision_note``: what the report says of a certification decision
    it awaits ("" when none); ``plan``: what the result meant for certificates when it was recorded
    (``core/certify.py``); ``decided``: the decision taken since on a result that awaited one."""
    info = audit.info
    issuer = config.issuer
    summary = []
    for part in card.parts:
        summary.append({"code": "", "title": clean(part.title.get(lang)), "max": fmt_num(part.max),
                        "points": fmt_num(part.score), "rate": fmt_rate(part.rate, lang),
                        "bg": BG_PART, "kind": "part"})
        for ind in card.indicators:
            if ind.part_key == part.key and ind.depth == 1:
                row = _indicator_row(ind, std, audit, lang)
                summary.append({**row, "title": clean(ind.title.get(lang)),
                                "points": t("render.na", lang) if row["na"] else fmt_num(ind.points),
                                "bg": BG_NA if row["na"] else BG_PLAIN, "kind": "indicator"})
    specials = []
    rules = std.rules
    if rules.special_deductions:
        specials.append({"label": rules.special_deductions.label.get(lang), "count": str(card.deductions),
                         "points": f"-{fmt_num(card.deduction_points)}" if card.deductions else "0"})
    if rules.special_bonus:
        specials.append({"label": rules.special_bonus.label.get(lang), "count": str(card.bonus),
                         "points": f"+{fmt_num(card.bonus_points)}" if card.bonus else "0"})
    cert = None
    if certificate is not None and card.level is not None:
        cert = {
            "number": clean(certificate.number),
            "issue_date": fmt_date(certificate.issue_date, lang),
            "expiry_date": fmt_date(certificate.expiry_date, lang),
            "surveillance_due": fmt_date(certificate.surveillance_due, lang),
            "level": std.describe_level(card.level, lang),
        }
    start, end = fmt_date(info.audit_start, lang), fmt_date(info.audit_end, lang)
    standing = certification(std, card, cert, plan, decided, lang)
    return {
        "lang": lang,
        "report_number": clean(report_number(info.audit_id, revision)),
        "revision": revision,
        "revision_text": t("render.revision", lang, n=revision) if revision > 1 else "",
        "report_date": fmt_date(report_date or date.today(), lang),
        "issuer": issuer_words(issuer, lang),
        "org": {"name": clean(info.org_name), "address": clean(info.org_address),
                "credit_code": clean(info.org_credit_code), "scope": clean(info.scope)},
        "audit": {"id": clean(info.audit_id), "type": clean(info.audit_type), "start": start, "end": end,
                  "dates": t("render.date_range", lang, start=start, end=end) if start and end and start != end
                  else (start or end),
                  "lead_auditor": clean(info.lead_auditor), "auditors": clean(info.auditors)},
        "standard": {"key": std.key, "code": clean(std.code), "title": clean(std.title.get(lang)),
                     "edition": clean(std.edition_label(lang)), "max": fmt_num(std.max),
                     "provisional": std.provisional,
                     "status_note": t("render.provisional_note", lang, reason=std.status.reason.get(lang))
                     if std.provisional else ""},
        "summary": summary,
        "provenance": _provenance(std, lang),
        "indicators": [_indicator_row(i, std, audit, lang) for i in card.indicators],
        "exclusions": [{"code": i.code, "title": clean(i.title.get(lang)), "max": fmt_num(i.max)}
                       for i in card.not_applicable],
        "specials": specials,
        "weakest": [{"code": i.code, "title": clean(i.title.get(lang)), "max": fmt_num(i.max),
                     "points": fmt_num(i.points), "lost": fmt_num(i.lost), "rate": fmt_rate(i.rate, lang)}
                    for i in card.weakest],
        "parts": [{"title": clean(p.title.get(lang)), "max": fmt_num(p.max), "score": fmt_num(p.score),
                   "rate": fmt_rate(p.rate, lang),
                   "level": std.describe_level(p.level, lang) if p.level
                   else (t("render.no_level", lang) if any(sp.key == p.key and sp.levels for sp in std.parts)
                         else "—")}
                  for p in card.parts],
        "result": _result(std, card, lang),
        "certification": {k: standing[k] for k in ("state", "text", "number")},
        "surveillance_due": standing["surveillance_due"],
        "certificate": cert,
        "specimen": bool(cert) and (std.provisional or bool(issuer.missing())),
        "specimen_text": t("render.specimen", lang),
        "verify_line": t("render.verify_line", lang, url=clean(issuer.verify_url)) if issuer.verify_url else "",
        "specimen_reason": t("render.specimen_provisional", lang) if std.provisional
        else t("render.specimen_issuer", lang),
        "decision_note": clean(decision_note),
    }
