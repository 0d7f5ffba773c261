"""The life of a certificate: its states and the changes between them, as one table (``CHANGES``)
that the ledger, the commands and the documentation all use. Pure.

A certificate is made by a certification decision (``approve``; ``auto`` mode decides at once) and
then lives: suspended and restored, withdrawn (撤销), cancelled at the holder's request (注销),
expired the day after its validity ends, superseded when its recertification is issued. Every change
is kept, append-only, with who, when and why (the ledger's ``certificate_events``).
docs/architecture.md, "The life of a certificate"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pipeline.errors import CertpipeError
from pipeline.i18n import Listing, Message

#: Every status a certificate (or a decision waiting to make one) can have: the same words in
#: ``--json``, the register, ``status.json`` and the console.
STATUSES = ("pending", "issued", "refused", "suspended", "withdrawn", "cancelled", "expired", "superseded")

#: {(status, action): the status after it}. Nothing else is allowed.
CHANGES: dict[tuple[str, str], str] = {
    ("pending", "approve"): "issued",
    ("pending", "refuse"): "refused",
    ("issued", "suspend"): "suspended",
    ("suspended", "restore"): "issued",
    ("suspended", "withdraw"): "withdrawn",
    ("issued", "withdraw"): "withdrawn",
    ("issued", "cancel"): "cancelled",
    ("suspended", "cancel"): "cancelled",
    ("issued", "expire"): "expired",
    ("suspended", "expire"): "expired",
    ("issued", "supersede"): "superseded",
    ("suspended", "supersede"): "superseded",
}

#: The actions people take with ``certpipe certificates``; the others are the system's.
MANUAL = ("suspend", "restore", "withdraw", "cancel")

#: The states in which a certificate is valid: its holder may use it.
IN_FORCE = frozenset({"issued"})

#: How long a suspension lasts when ``--until`` is not given (months).
SUSPENSION_MONTHS = 6


def allowed(status: str) -> list[str]:
    """The actions allowed from ``status``."""
    return [action for (state, action) in CHANGES if state == status]


def change(status: str, action: str, *, number: str = "") -> str:
    """The status after ``action``; an illegal change is a ``CertpipeError`` naming the allowed ones."""
    after = CHANGES.get((status, action))
    if after is None:
        possible = tuple(Message(f"cert.verb.{a}") for a in allowed(status) if a in MANUAL)
        params = {"number": number, "status": Message(f"cert.status.{status}"),
                  "action": Message(f"cert.verb.{action}")}
        if not possible:  # withdrawn, cancelled, expired, superseded: for good
            raise CertpipeError("life.final", params)
        raise CertpipeError("life.illegal", params | {"allowed": Listing(possible)})
    return after


def expired(expires_on: date | None, today: date) -> bool:
    """Whether a certificate valid up to and including ``expires_on`` has expired by ``today``."""
    return expires_on is not None and today > expires_on


@dataclass(frozen=True)
class Event:
    """One change of a certificate, as kept: when, what, the status after it, by whom and why."""

    number: str
    at: str
    action: str
    status: str
    by: str
    reason: str = ""
    level: str | None = None
    audit_id: str | None = None
    until: str | None = None

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}
