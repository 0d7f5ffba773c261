"""One input, end to end: intake → validate → score → render → publish → archive.

Order matters for "nothing lost, nothing twice": the input is copied into staging and hashed; the
content is claimed in the ledger; outputs are built in staging and renamed into the outbox; the
outcome is committed to the ledger; only then does the original leave the inbox. A crash at any
point leaves the input in the inbox and no half-written folder where users look; the next run
clears the stale claim and processes it again (a re-published revision replaces itself)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.config import Config
from pipeline.faults import crashpoint
from pipeline.ledger import Ledger
from pipeline.publish import archive_original, publish, safe_name, staging_dir
from pipeline.scoring import ScoreCard, score
from pipeline.standard import Standard
from pipeline.workspace import Workspace


@dataclass
class Outcome:
    name: str
    status: str  # done | rejected | duplicate | skipped
    audit_id: str | None = None
    output: str | None = None
    total: str | None = None
    level: str | None = None
    revision: int | None = None
    certificate_no: str | None = None
    problems: list[str] = field(default_factory=list)
    note: str | None = None
    seconds: float = 0.0


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def short_code(std: Standard) -> str:
    """``GB/T 27922-2011`` → ``GBT27922``: for certificate numbers."""
    letters = "".join(ch for ch in std.code.split("-")[0] if ch.isascii() and ch.isalnum())
    return letters or safe_name(std.key).upper()[:12]


def rejected_folder(parent: Path, name: str, sha: str) -> Path:
    """``_rejected/<stem>``, or ``<stem>-2``… when taken by other content; the folder of the same
    content is reused, so a run repeated after a crash does not leave a second copy."""
    candidate, n = parent / name, 2
    while candidate.exists():
        marker = candidate / ".sha256"
        if marker.is_file() and marker.read_text() == sha:
            break
        candidate, n = parent / f"{name}-{n}", n + 1
    return candidate


class Processor:
    """Everything one process needs to handle inputs; built once per worker."""

    def __init__(self, workspace: Workspace, config: Config, *, lang: str = "zh", pdf: bool = False) -> None:
        self.ws = workspace
        self.config = config
        self.lang = lang
        self.pdf = pdf
        self.ledger = Ledger(workspace.state / "ledger.sqlite")
        self._renderer = None

    @property
    def renderer(self):
        if self._renderer is None:
            from pipeline.render import Renderer

            self._renderer = Renderer(self.config, workspace_templates=self.ws.templates)
        return self._renderer

    def close(self) -> None:
        self.ledger.close()

    # ---------------------------------------------------------------------------------------
    def process(self, path: Path) -> Outcome:
        started = time.perf_counter()
        outcome = self._process(path)
        outcome.seconds = time.perf_counter() - started
        return outcome

    def _process(self, path: Path) -> Outcome:
        try:
            data = path.read_bytes()
            stat = path.stat()
        except FileNotFoundError:
            return Outcome(path.name, "skipped", note="vanished before it was read")
        sha = hashlib.sha256(data).hexdigest()
        previous = self.ledger.find(sha)
        if previous is None:
            row = self.ledger.claim(sha, path.name, len(data), stat.st_mtime)
            if row is None:
                previous = self.ledger.find(sha)
        if previous is not None:
            return self._seen_before(path, sha, len(data), stat.st_mtime, previous)
        if row is None:
            return Outcome(path.name, "skipped", note="claimed and released by another worker")
        crashpoint("claimed")

        stage = staging_dir(self.ws.outbox)
        try:
            original = stage / "original" / path.name
            original.parent.mkdir()
            original.write_bytes(data)
            crashpoint("staged")
            from pipeline.validate import validate_file

            limits = self.config.limits
            checked = validate_file(original, workspace_root=self.ws.root, lang=self.lang,
                                    max_file_mb=limits.max_file_mb, max_member_mb=limits.max_member_mb)
            if checked.problems or checked.audit is None:
                outcome = self._reject(row, path, stage, original, checked.problems, sha)
            else:
                outcome = self._accept(row, path, stage, checked.audit, checked.standard)
        except BaseException:
            self.ledger.release(row)  # the input stays in the inbox, to be tried again
            raise
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        crashpoint("finished")
        archived = archive_original(path, self.ws.archive)
        crashpoint("archived")
        self.ledger.archived(row, str(archived.relative_to(self.ws.root)))
        return outcome

    def _seen_before(self, path: Path, sha: str, size: int, mtime: float, previous) -> Outcome:
        deadline = time.monotonic() + self.config.limits.seconds_per_file * 2
        while previous is not None and previous.status == "processing":
            # the same content is in another worker's hands: wait for its outcome
            if time.monotonic() > deadline:
                return Outcome(path.name, "skipped", note="the same content is still being processed")
            time.sleep(0.05)
            previous = self.ledger.find(sha)
        if previous is None:  # the other worker gave up its claim: try again
            return self._process(path)
        if previous.archived_to is None and previous.name == path.name:
            # the run that processed it stopped before moving it: finish that step only
            archived = archive_original(path, self.ws.archive)
            self.ledger.archived(previous.id, str(archived.relative_to(self.ws.root)))
            return Outcome(path.name, previous.status, audit_id=previous.audit_id, output=previous.output,
                           note="completed an interrupted run")
        archived = archive_original(path, self.ws.archive)
        self.ledger.record_duplicate(sha, path.name, size, mtime, str(archived.relative_to(self.ws.root)),
                                     previous)
        return Outcome(path.name, "duplicate", audit_id=previous.audit_id, output=previous.output,
                       note=f"same content as {previous.name} ({previous.status})")

    def _reject(self, row: int, path: Path, stage: Path, original: Path, problems: list, sha: str) -> Outcome:
        from pipeline.annotate import annotate

        folder = stage / "rejected"
        folder.mkdir()
        os.rename(original, folder / path.name)
        lines = [str(p) + (f"\n    → {p.hint}" if getattr(p, "hint", "") else "") for p in problems]
        (folder / "problems.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        if path.suffix.lower() in (".xlsx", ".xlsm") and any(p.cell for p in problems):
            stem = Path(path.name).stem
            try:
                annotate(folder / path.name, problems, folder / f"{stem}-problems.xlsx", lang=self.lang)
            except Exception as exc:  # an unreadable workbook cannot be annotated; problems.txt says why
                (folder / "problems.txt").write_text(
                    "\n".join([*lines, f"(annotated copy not made: {exc})"]) + "\n", encoding="utf-8")
        (folder / ".sha256").write_text(sha)
        dest = rejected_folder(self.ws.rejected, safe_name(Path(path.name).stem, "workbook"), sha)
        publish(folder, dest)
        first = str(problems[0]) if problems else None
        self.ledger.finish(row, status="rejected", output=str(dest.relative_to(self.ws.root)),
                           problems=len(problems), first_problem=first)
        return Outcome(path.name, "rejected", output=str(dest.relative_to(self.ws.root)),
                       problems=[str(p) for p in problems])

    def _accept(self, row: int, path: Path, stage: Path, audit, std: Standard) -> Outcome:
        card = score(std, audit.entries)
        audit_id = audit.info.audit_id
        revision = self.ledger.assign(row, audit_id, std.key)
        certificate = None
        if card.level is not None:
            certificate = self._certificate(audit, std, card)
        folder = stage / "out"
        folder.mkdir()
        files = self.renderer.render(audit, std, card, folder, lang=self.lang, revision=revision,
                                     certificate=certificate)
        if self.pdf:
            from pipeline.pdf import convert_to_pdf

            convert_to_pdf(files, instances=1)
        from pipeline.scorecard_json import scorecard_dict

        data = scorecard_dict(card, audit, std) | {"revision": revision}
        if certificate is not None:
            data["certificate"] = {"number": certificate.number, "issue_date": certificate.issue_date.isoformat(),
                                   "expiry_date": certificate.expiry_date.isoformat()}
        (folder / "scorecard.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        crashpoint("rendered")
        dest = publish(folder, self.ws.outbox / safe_name(audit_id), revision=revision)
        crashpoint("published")
        level = card.level.label.get(self.lang) if card.level else None
        self.ledger.finish(row, status="done", output=str(dest.relative_to(self.ws.root)), total=str(card.total),
                           level=level, certificate_no=certificate.number if certificate else None)
        return Outcome(path.name, "done", audit_id=audit_id, output=str(dest.relative_to(self.ws.root)),
                       total=str(card.total), level=level, revision=revision,
                       certificate_no=certificate.number if certificate else None)

    def _certificate(self, audit, std: Standard, card: ScoreCard):
        from pipeline.render import CertificateInfo

        cfg = self.config.certificates
        number, issued = self.ledger.certificate_number(
            audit.info.audit_id, std.key, short_code(std), cfg.number_format, date.today().year, card.level.key)
        info = CertificateInfo(
            number=number, issue_date=issued,
            expiry_date=add_years(issued, cfg.validity_years) - _ONE_DAY,
            surveillance_due=add_months(issued, cfg.surveillance_months),
        )
        self.ledger.certificate_details(number, {
            "organisation": audit.info.org_name, "credit_code": audit.info.org_credit_code,
            "standard": f"{std.code}", "edition": std.edition, "level": std.describe_level(card.level, self.lang),
            "total": str(card.total), "issue_date": issued.isoformat(), "expiry_date": info.expiry_date.isoformat(),
            "surveillance_due": info.surveillance_due.isoformat(), "audit_id": audit.info.audit_id,
            "provisional": std.provisional,
        })
        return info


_ONE_DAY = date(2000, 1, 2) - date(2000, 1, 1)
