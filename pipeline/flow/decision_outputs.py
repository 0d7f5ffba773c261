"""What a certification decision changes in the outbox folder of the audit decided: its report says
the decision instead of "awaiting decision", ``scorecard.json`` says it too (approved: the certificate;
refused: no certificate), and, where the folder holds PDF twins (a run with ``--pdf``), the new
report and the certificate the decision issued get theirs (without LibreOffice, the report's old PDF,
which would say the decision is awaited, is removed and the failure logged).

Everything is made in staging and renamed into the folder under its publishing lock, as a run
publishes (``flow/publish.py``); ``scorecard.json`` is replaced atomically. The folder is left alone
when it no longer shows the revision decided (a newer revision was published meanwhile)."""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import date
from pathlib import Path

from pipeline.atomic import write_bytes
from pipeline.config import Config
from pipeline.core.certificates import CertificateInfo
from pipeline.core.certify import Plan
from pipeline.errors import CertpipeError
from pipeline.filenames import safe_name
from pipeline.flow import certs
from pipeline.flow.ledger import Ledger
from pipeline.flow.publish import fsync_dir, fsync_file, staging_dir
from pipeline.lock import file_lock
from pipeline.word.context import Decided
from pipeline.workspace import Workspace

log = logging.getLogger("certpipe")

_ROW_SQL = ("SELECT d.audit_id, d.kind, d.number, d.status, d.decided_by, d.decided_at, i.revision, i.archived_to, "
            "i.finished_at FROM decisions d LEFT JOIN inputs i ON i.id = d.input_id WHERE d.id = ?")


def publish_decision(ws: Workspace, config: Config, ledger: Ledger, decision_id: int) -> bool:
    """The decision ``decision_id`` (approved or refused) said by the report and ``scorecard.json`` of
    its audit's outbox folder. Returns whether the folder was updated. What cannot be made (the
    archived workbook gone) is logged: the decision stands in the
    ledger whatever its documents say."""
    try:
        return _publish(ws, config, ledger, decision_id)
    except (CertpipeError, OSError) as exc:
        why = exc.render(config.lang) if isinstance(exc, CertpipeError) else f"{type(exc).__name__}: {exc}"
        log.warning("decision %s: the report was not updated: %s", decision_id, why)
        return False


def _publish(ws: Workspace, config: Config, ledger: Ledger, decision_id: int) -> bool:
    row = ledger.db.execute(_ROW_SQL, (decision_id,)).fetchone()
    if row is None or row[3] not in ("approved", "refused"):
        return False
    audit_id, kind, number, status, by, decided_at, revision, archived_to, finished_at = row
    folder = ws.outbox / safe_name(audit_id)
    card_path = folder / "scorecard.json"
    data = _read(card_path)
    if data is None or data.get("revision") != revision:
        return False
    approved = status == "approved"
    held = certs.certificate(ledger.db, number) if approved and number else None
    info = None
    if held is not None and held.issued_on and held.expires_on:
        info = CertificateInfo(number=number, issue_date=date.fromisoformat(held.issued_on),
                               expiry_date=date.fromisoformat(held.expires_on),
                               surveillance_due=date.fromisoformat(held.surveillance_due or held.expires_on))
    audit, std, card = _result(ws, config, archived_to, audit_id)
    lang = next((code for code in ("zh", "en") if data.get("standard_title") == std.title.get(code)), config.lang)
    stem = safe_name(audit_id)
    stage = staging_dir(ws.outbox)
    try:
        from pipeline.word.render import Renderer

        renderer = Renderer(config, workspace_templates=ws.templates)
        files = renderer.render(audit, std, card, stage, lang=lang, revision=revision or 1, certificate=info,
                                report_date=_day(finished_at), plan=Plan("wait", number, kind=kind),
                                decided=Decided(approved, _day(decided_at) or date.today()), documents=("report",))
        certificate, old_pdf = folder / f"{stem}-certificate.docx", folder / f"{stem}-report.pdf"
        pdf_failed = False
        if old_pdf.is_file():  # the run made PDF twins: so does the decision
            if approved and certificate.is_file() and _stale(certificate, folder / f"{stem}-certificate.pdf"):
                files.append(shutil.copy2(certificate, stage / certificate.name))
            try:
                from pipeline.word.pdf import convert_to_pdf

                files += convert_to_pdf(files, instances=1)
            except (CertpipeError, OSError) as exc:  # the documents say the decision all the same
                why = exc.render(config.lang) if isinstance(exc, CertpipeError) else f"{type(exc).__name__}: {exc}"
                log.warning("decision %s: no PDF: %s", decision_id, why)
                pdf_failed = True
        data["decision"] = {"status": status, "kind": kind, "certificate": number,
                            "decided_by": by, "decided_at": decided_at}
        if approved and info is not None and kind == "issue":
            data["certificate"] = info.to_json()
        elif kind == "issue":
            data["certificate"] = None
        with file_lock(ws.publish_lock(folder)):
            now = _read(card_path)
            if now is None or now.get("revision") != revision:  # a newer one came meanwhile
                return False
            for f in files:
                if f.suffix == ".docx" and f.name.endswith("-certificate.docx"):
                    continue  # the certificate's copy only made its PDF: the document stays as it is
                fsync_file(f)
                os.replace(f, folder / f.name)
            if pdf_failed:  # the run's PDF would still say the decision is awaited
                old_pdf.unlink(missing_ok=True)
            write_bytes(card_path, json.dumps(data, ensure_ascii=False, indent=2).encode())
            fsync_dir(folder)
        return True
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _day(stamp: str | None) -> date | None:
    try:
        return date.fromisoformat(stamp[:10]) if stamp else None
    except ValueError:
        return None


def _stale(document: Path, pdf: Path) -> bool:
    """Whether ``pdf`` is missing or older than the ``document`` it is the twin of."""
    return not pdf.is_file() or pdf.stat().st_mtime_ns < document.stat().st_mtime_ns


def _result(ws: Workspace, config: Config, archived_to: str | None, audit_id: str):
    """The audit, its standard and score card, read again from the archived workbook decided."""
    from pipeline.core.scoring import score
    from pipeline.flow.check_file import validate_file

    path = Path(archived_to) if archived_to else None
    if path is not None and not path.is_absolute():
        path = ws.root / path
    if path is None or not path.is_file():
        raise CertpipeError("decide.not_archived", {"audit_id": audit_id})
    checked = validate_file(path, workspace_root=ws.root, max_file_mb=config.limits.max_file_mb,
                            max_member_mb=config.limits.max_member_mb)
    if checked.audit is None or checked.standard is None:
        raise CertpipeError("decide.unreadable", {"audit_id": audit_id, "path": ws.shown(path)})
    return checked.audit, checked.standard, score(checked.standard, checked.audit.entries)
