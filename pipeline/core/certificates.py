"""A certificate's number and dates: the number from the ledger (allocated once per audit, never
reused), the dates from the first issue and ``[certificates]`` in certpipe.toml. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from pipeline.config import Certificates
from pipeline.core.audit import Audit
from pipeline.core.ids import short_code
from pipeline.core.scoring import ScoreCard
from pipeline.core.standard import Standard
from pipeline.core.text import clean


@dataclass(frozen=True)
class CertificateInfo:
    """A certificate as the documents print it: its number and dates."""

    number: str
    issue_date: date
    expiry_date: date
    surveillance_due: date

    def to_json(self) -> dict:
        """``scorecard.json``'s ``certificate``: the certificate an audit's result issued, in force."""
        return {"number": self.number, "issue_date": self.issue_date.isoformat(),
                "expiry_date": self.expiry_date.isoformat(), "surveillance_due": self.surveillance_due.isoformat(),
                "status": "issued"}


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def number_request(std: Standard, card: ScoreCard, cfg: Certificates, today: date) -> tuple[str, str, int, str] | None:
    """What the ledger needs to allocate the audit's certificate number (``Numbering.certificate``);
    ``None`` when no level was reached."""
    if card.level is None:
        return None
    return short_code(std), cfg.number_format, today.year, card.level.key


def issue(number: str, issued: date, audit: Audit, std: Standard, card: ScoreCard,
          cfg: Certificates) -> tuple[CertificateInfo, dict]:
    """The audit's certificate (its number and first issue date from the ledger, kept across
    revisions) and what the register will show of it (``Finished.details``: data, the level by its
    key, put into words when the register is written)."""
    info = CertificateInfo(
        number=number, issue_date=issued,
        expiry_date=add_years(issued, cfg.validity_years) - timedelta(days=1),
        surveillance_due=add_months(issued, cfg.surveillance_months),
    )
    return info, {  # cleaned: the register cannot hold control characters
        "organisation": clean(audit.info.org_name), "credit_code": clean(audit.info.org_credit_code),
        "standard": std.code, "standard_key": std.key, "edition": std.edition, "level": card.level.key,
        "total": str(card.total), "issue_date": issued.isoformat(), "expiry_date": info.expiry_date.isoformat(),
        "surveillance_due": info.surveillance_due.isoformat(), "audit_id": audit.info.audit_id,
        "provisional": std.provisional, "scope": clean(audit.info.scope), "audit_type": clean(audit.info.audit_type),
    }


def safe_number(number: str) -> bool:
    """Whether ``number`` may be issued as a certificate number: ASCII letters, digits, ``.``, ``_``
    and ``-``, a letter or digit first, at most 64 characters (``NUMBER_PATTERN``, the rule
    ``[certificates] number_format`` is checked against at start)."""
    from pipeline.config import NUMBER_PATTERN

    return isinstance(number, str) and NUMBER_PATTERN.fullmatch(number) is not None
