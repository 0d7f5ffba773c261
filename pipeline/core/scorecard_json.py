"""The ScoreCard as plain data (``scorecard.json``, docs/architecture.md "Outputs"): ``audit_id``, ``standard``,
``edition``, ``total``, ``max``, ``level`` {``key``, ``label``}, ``parts``, ``indicators`` with
``code``, ``max``, ``score``; with the standard, ``provenance`` (the edition as printed, how many
values are given, inferred or placeholders, and each entry not given with its reasoning). Numbers are
JSON numbers written exactly as the Decimal reads."""

from __future__ import annotations

import json
from decimal import Decimal

from pipeline.core.audit import Audit
from pipeline.core.provenance import summary
from pipeline.core.scoring import ScoreCard
from pipeline.core.standard import Level, Standard


def _num(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)  # ≤ 15 digits: exact text


def _level(level: Level | None, lang: str) -> dict | None:
    if level is None:
        return None
    return {"key": level.key, "label": level.label.get(lang), "stars": level.stars}


def scorecard_dict(card: ScoreCard, audit: Audit | None = None, std: Standard | None = None, *,
                   audit_id: str = "", lang: str = "zh") -> dict:
    """``audit`` (or ``audit_id``) names the audit; ``std``, when given, adds the standard's title."""
    data = {
        "audit_id": audit.info.audit_id if audit is not None else audit_id,
        "standard": card.standard_key,
        "standard_code": card.standard_code,
        "edition": card.edition,
        "provisional": card.provisional,
        "total": _num(card.total),
        "max": _num(card.max),
        "level": _level(card.level, lang),
        "blockers": [b.message(lang) for b in card.blockers],
        "next_level": _level(card.next_level, lang),
        "short_of_next": _num(card.short_of_next),
        "subtotal": _num(card.subtotal),
        "special_deductions": {"count": card.deductions, "points": _num(card.deduction_points)},
        "special_bonus": {"count": card.bonus, "points": _num(card.bonus_points)},
        "parts": [
            {"key": p.key, "title": p.title.get(lang), "max": _num(p.max), "score": _num(p.score),
             "earned": _num(p.earned), "applicable_max": _num(p.applicable_max), "renormalised": p.renormalised,
             "rate": _num(p.rate), "level": _level(p.level, lang)}
            for p in card.parts
        ],
        "indicators": [
            {"code": i.code, "title": i.title.get(lang), "part": i.part_key, "depth": i.depth, "leaf": i.is_leaf,
             "max": _num(i.max), "entered": _num(i.entered), "score": _num(i.points),
             "applicable": i.applicable, "rate": _num(i.rate)}
            for i in card.indicators
        ],
    }
    if std is not None:
        data["standard_title"] = std.title.get(lang)
        data["provenance"] = {"edition": std.edition_label(lang)} | summary(std).to_json(lang)
    return data


def scorecard_json(card: ScoreCard, *, audit_id: str = "", lang: str = "zh") -> str:
    return json.dumps(scorecard_dict(card, audit_id=audit_id, lang=lang), ensure_ascii=False, indent=2)
