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
- ``review`` mode: every new certificate and every level change waits for a decision."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Plan:
    """``action``: ``none`` (no level, nothing at stake), ``issue`` (a new certificate), ``reissue``
    (the audit's own certificate, same number, this revision's level), ``maintain`` (a surveillance
    confirmed the certificate), ``wait`` (a decision: ``kind`` says which), ``refuse`` (the workbook
    is rejected: ``why``). ``number``: the certificate concerned, where there is one; ``renews``: the
    certificate a recertification's new one supersedes."""

    action: str
    number: str | None = None
    kind: str | None = None
    why: Message | None = None
    renews: str | None = None

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
    if f.level == own.level and own.status == "issued":
        return Plan("reissue", own.number)
    if _rank(f, f.level) > _rank(f, own.level) and not f.review and own.status == "issued":
        return Plan("reissue", own.number)
    return Plan("wait", own.number, kind="revision")


def _surveillance(f: Facts) -> Plan:
    held = f.linked
    if held is None:
        key = "cert.surveillance_unknown" if f.linked_number else "cert.surveillance_without"
        return Plan("refuse", f.linked_number, why=Message(key, {"number": f.linked_number or ""}))
    if held.status not in LIVING:
        return Plan("refuse", held.number, why=Message("cert.surveillance_not_living", {
            "number": held.number, "status": Message(f"cert.status.{held.status}")}))
    if f.level is not None and f.level == held.level:
        return Plan("maintain", held.number)
    return Plan("wait", held.number, kind="surveillance")
