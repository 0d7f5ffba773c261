"""What an accepted audit's result means for certificates: issue one, revise the audit's own,
confirm the one a surveillance audit belongs to, wait for a certification decision, or refuse the
workbook. Pure: the ledger gives the facts (``Facts``) inside the transaction that acts on the answer.

The rules (docs/architecture.md, "The life of a certificate"):

- an initial audit (or one whose type is not given) that reaches a level gets a new certificate; a
  recertification too, and the certificate it renews becomes superseded when the new one is issued;
- a new revision of an audit that has a certificate keeps its number and first issue date; one that
  would lower the level or reach none waits for a decision (in both modes), the certificate as issued
  until then;
- a surveillance audit confirms the certificate it belongs to: the same level → maintained (no new
  number, no new validity, the next surveillance moved); another level or none → a decision;
- ``review`` mode: every new certificate and every level change waits for a decision;
- what a certificate prints of the organisation — its scope, name, credit code, address — changed by
  a later audit of it (``Facts.changes``): a revision waits for a decision in ``review`` mode and is
  re-issued in ``auto`` mode, the change said in its outcome and its history (auto mode trusts a
  result as it trusts a first issue); a surveillance waits in both modes, as for a level change (a
  surveillance confirms the certificate as issued and cannot change it by itself);
- a surveillance that ended before its certificate was issued is refused (it cannot have watched it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pipeline.i18n import Message


@dataclass(frozen=True)
class Held:
    """A certificate as the ledger holds it now."""

    number: str
    level: str | None
    status: str
    issued_on: str  # ISO date


@dataclass(frozen=True)
class Facts:
    """What the ledger knows that decides the plan."""

    audit_type: str  # a key of ``core.audit.AUDIT_TYPES``, or "" when not known
    level: str | None  # the level this result reached (its key)
    ranks: dict[str, int]  # level key → rank, higher is better
    own: Held | None  # the certificate this audit issued before (a revision)
    linked: Held | None  # the certificate a surveillance or recertification belongs to
    linked_number: str | None  # the number the audit names, even when the ledger does not know it
    review: bool  # ``[decision] mode = "review"``
    changes: tuple[tuple[str, str, str], ...] = ()  # what the certificate prints that this result changes
    audit_end: date | None = None  # the day the audit ended


@dataclass(frozen=True)
class Plan:
    """``action``: ``none`` (no level, nothing at stake), ``issue`` (a new certificate), ``reissue``
    (the audit's own certificate, same number, this revision's level), ``maintain`` (a surveillance
    confirmed the certificate), ``wait`` (a decision: ``kind`` says which), ``refuse`` (the workbook
    is rejected: ``why``). ``number``: the certificate concerned, where there is one; ``renews``: the
    certificate a recertification's new one supersedes; ``changes``: what the certificate prints that
    this result changes, (field, before, after)."""

    action: str
    number: str | None = None
    kind: str | None = None
    why: Message | None = None
    renews: str | None = None
    changes: tuple[tuple[str, str, str], ...] = ()
    field: str = "audit_type"  # the cover's field a refusal is marked on

    @property
    def certificate_now(self) -> bool:
        """Whether a certificate document is made now."""
        return self.action in ("issue", "reissue")


LIVING = ("issued", "suspended")


def plan(f: Facts) -> Plan:
    if f.audit_type == "surveillance":
        return _surveillance(f)
    if f.own is not None:
        return _revision(f)
    renews = f.linked.number if f.audit_type == "recert" and f.linked is not None else None
    if f.level is None:
        return Plan("none")
    return Plan("wait", kind="issue", renews=renews) if f.review else Plan("issue", renews=renews)


def _rank(f: Facts, level: str | None) -> int:
    return f.ranks.get(level, -1) if level is not None else -1


def _revision(f: Facts) -> Plan:
    own = f.own
    if own.status not in LIVING:
        return Plan("refuse", own.number, why=Message("cert.revision_not_living", {
            "number": own.number, "status": Message(f"cert.status.{own.status}")}))
    if f.changes and f.review:
        return Plan("wait", own.number, kind="revision", changes=f.changes)
    if f.level == own.level and own.status == "issued":
        return Plan("reissue", own.number, changes=f.changes)
    if _rank(f, f.level) > _rank(f, own.level) and not f.review and own.status == "issued":
        return Plan("reissue", own.number, changes=f.changes)
    return Plan("wait", own.number, kind="revision", changes=f.changes)


def _surveillance(f: Facts) -> Plan:
    held = f.linked
    if held is None:
        key = "cert.surveillance_unknown" if f.linked_number else "cert.surveillance_without"
        return Plan("refuse", f.linked_number, why=Message(key, {"number": f.linked_number or ""}))
    if held.status not in LIVING:
        return Plan("refuse", held.number, why=Message("cert.surveillance_not_living", {
            "number": held.number, "status": Message(f"cert.status.{held.status}")}))
    if f.audit_end is not None and held.issued_on and f.audit_end < date.fromisoformat(held.issued_on[:10]):
        return Plan("refuse", held.number, field="audit_end", why=Message("cert.surveillance_before_issue", {
            "number": held.number, "end": f.audit_end.isoformat(), "issued": held.issued_on[:10]}))
    if f.level is not None and f.level == held.level and not f.changes:
        return Plan("maintain", held.number)
    return Plan("wait", held.number, kind="surveillance", changes=f.changes)


#: What a certificate prints of the organisation, as the register keeps it (``Finished.details``).
PRINTED = ("scope", "organisation", "credit_code", "address")


def printed_changes(held: dict, result: dict) -> tuple[tuple[str, str, str], ...]:
    """The fields of ``PRINTED`` that ``result`` changes from the certificate's ``held`` details:
    (field, before, after). Compared as people read them: full-width forms folded, spaces collapsed,
    case ignored (a credit code in lower case is the same code); a field the certificate does not
    keep is not compared."""
    import unicodedata

    def plain(value) -> str:
        return " ".join(unicodedata.normalize("NFKC", str(value or "")).split()).casefold()

    return tuple((key, str(held.get(key) or ""), str(result.get(key) or "")) for key in PRINTED
                 if key in held and key in result and plain(held[key]) != plain(result[key]))
