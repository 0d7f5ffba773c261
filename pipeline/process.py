"""One input, end to end: intake → validate → score → render → publish → archive.

Order matters for "nothing lost, nothing twice": the input is copied into staging and hashed; the
content is claimed in the ledger; outputs are built in staging and renamed into the outbox; the
outcome is committed to the ledger; only then does the original leave the inbox. A crash at any
point leaves the input in the inbox and no half-written folder where users look; the next run
clears the stale claim and processes it again (a re-published revision replaces itself)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.config import Config
from pipeline.errors import CertpipeError
from pipeline.faults import crashpoint
from pipeline.i18n import t
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


class TimeLimit(BaseException):
    """The per-file time limit (``limits.seconds_per_file``) ran out. A ``BaseException``, like
    ``KeyboardInterrupt``: the ``except Exception`` around library calls must not swallow it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``TimeLimit`` inside the block after ``seconds``. A real interrupt (SIGALRM) where it can
    be one: in a process's main thread, which is where ``run``'s workers and ``watch`` process files.
    Elsewhere (a test calling from a thread) the block runs without a limit. Python code is interrupted
    at once; a call into C (calamine) returns first, and what those calls get is bounded by the size
    limits."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        raise TimeLimit

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def shown_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (a name from another system) become U+FFFD, so
    the ledger, logs and folders can hold it."""
    return os.fsencode(name).decode("utf-8", "replace")


def _no_space(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


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
        name = shown_name(path.name)
        try:
            data = path.read_bytes()
            stat = path.stat()
        except FileNotFoundError:
            return Outcome(name, "skipped", note=t("pipe.vanished", self.lang))
        sha = hashlib.sha256(data).hexdigest()
        previous = self.ledger.find(sha)
        if previous is None:
            row = self.ledger.claim(sha, name, len(data), stat.st_mtime)
            if row is None:
                previous = self.ledger.find(sha)
        if previous is not None:
            return self._seen_before(path, sha, len(data), stat.st_mtime, previous)
        if row is None:
            return Outcome(name, "skipped", note="claimed and released by another worker")
        crashpoint("claimed")

        try:
            stage = staging_dir(self.ws.outbox)
            try:
                outcome = self._outcome(row, path, name, data, stage, sha)
            finally:
                shutil.rmtree(stage, ignore_errors=True)
        except BaseException as exc:
            self.ledger.release(row)  # the input stays in the inbox, to be tried again
            if isinstance(exc, OSError) and _no_space(exc):
                raise CertpipeError(t("pipe.no_space", self.lang, name=name, detail=exc)) from exc
            raise
        crashpoint("finished")
        try:
            archived = archive_original(path, self.ws.archive)
        except FileNotFoundError:  # someone took it out of the inbox meanwhile: its outcome stands
            outcome.note = t("pipe.gone_before_archive", self.lang)
            return outcome
        except OSError as exc:  # a read-only inbox: published and recorded; archived on a later run
            raise CertpipeError(t("pipe.cannot_archive", self.lang, name=name, detail=exc)) from exc
        crashpoint("archived")
        self.ledger.archived(row, shown_name(str(archived.relative_to(self.ws.root))))
        return outcome

    def _outcome(self, row: int, path: Path, name: str, data: bytes, stage: Path, sha: str) -> Outcome:
        """Check and render within the time limit, then publish (never interrupted)."""
        original = stage / "original" / name
        original.parent.mkdir()
        original.write_bytes(data)
        crashpoint("staged")
        from pipeline.validate import Problem, validate_file

        limits = self.config.limits
        rendered = None
        try:
            with time_limit(limits.seconds_per_file):
                checked = validate_file(original, workspace_root=self.ws.root, lang=self.lang,
                                        max_file_mb=limits.max_file_mb, max_member_mb=limits.max_member_mb)
                problems = checked.problems
                if not problems and checked.audit is not None:
                    try:
                        rendered = self._render(row, stage, checked.audit, checked.standard)
                    except TimeLimit as exc:  # not the input's fault: it stays in the inbox
                        raise CertpipeError(t("pipe.render_time_limit", self.lang, name=name,
                                              seconds=f"{limits.seconds_per_file:g}")) from exc
        except TimeLimit:
            problems = [Problem(t("pipe.time_limit", self.lang, seconds=f"{limits.seconds_per_file:g}"),
                                t("pipe.time_limit_hint", self.lang), key="pipe.time_limit")]
        if rendered is not None:
            return self._publish_done(row, name, *rendered)
        return self._reject(row, name, stage, original, problems, sha)
    def _seen_before(self, path: Path, sha: str, size: int, mtime: float, previous) -> Outcome:
        name = shown_name(path.name)
        deadline = time.monotonic() + self.config.limits.seconds_per_file * 2
        while previous is not None and previous.status == "processing":
            # the same content is in another worker's hands: wait for its outcome
            if time.monotonic() > deadline:
                return Outcome(name, "skipped", note="the same content is still being processed")
            time.sleep(0.05)
            previous = self.ledger.find(sha)
        if previous is None:  # the other worker gave up its claim: try again
            return self._process(path)
        if previous.archived_to is None and previous.name == name:
            # the run that processed it stopped before moving it: finish that step only
            archived = archive_original(path, self.ws.archive)
            self.ledger.archived(previous.id, shown_name(str(archived.relative_to(self.ws.root))))
            return Outcome(name, previous.status, audit_id=previous.audit_id, output=previous.output,
                           note="completed an interrupted run")
        archived = archive_original(path, self.ws.archive)
        self.ledger.record_duplicate(sha, name, size, mtime, shown_name(str(archived.relative_to(self.ws.root))),
                                     previous)
        return Outcome(name, "duplicate", audit_id=previous.audit_id, output=previous.output,
                       note=f"same content as {previous.name} ({previous.status})")

    def _reject(self, row: int, name: str, stage: Path, original: Path, problems: list, sha: str) -> Outcome:
        from pipeline.annotate import annotate

        folder = stage / "rejected"
        folder.mkdir()
        os.rename(original, folder / name)
        lines = [str(p) + (f"\n    → {p.hint}" if getattr(p, "hint", "") else "") for p in problems]
        (folder / "problems.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        if (Path(name).suffix.lower() in (".xlsx", ".xlsm") and any(p.cell for p in problems)
                and not any(p.key.startswith(("intake.", "pipe.")) for p in problems)):
            # a workbook refused as a file (too large a sheet, damaged) is not opened again to mark it
            stem = Path(name).stem
            try:
                with time_limit(self.config.limits.seconds_per_file):
                    annotate(folder / name, problems, folder / f"{safe_name(stem, 'workbook')}-problems.xlsx",
                             lang=self.lang)
            except (Exception, TimeLimit) as exc:  # not annotated; problems.txt says why
                (folder / "problems.txt").write_text(
                    "\n".join([*lines, f"(annotated copy not made: {type(exc).__name__} {exc})"]) + "\n",
                    encoding="utf-8")
        (folder / ".sha256").write_text(sha)
        dest = rejected_folder(self.ws.rejected, safe_name(Path(name).stem, "workbook"), sha)
        publish(folder, dest)
        first = str(problems[0]) if problems else None
        self.ledger.finish(row, status="rejected", output=str(dest.relative_to(self.ws.root)),
                           problems=len(problems), first_problem=first)
        return Outcome(name, "rejected", output=str(dest.relative_to(self.ws.root)),
                       problems=[str(p) for p in problems])

    def _render(self, row: int, stage: Path, audit, std: Standard) -> tuple:
        """Score and write the outputs into ``stage/out``; nothing is visible to users yet."""
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
        return folder, audit_id, card, revision, certificate

    def _publish_done(self, row: int, name: str, folder: Path, audit_id: str, card: ScoreCard, revision: int,
                      certificate) -> Outcome:
        dest = publish(folder, self.ws.outbox / safe_name(audit_id), revision=revision)
        crashpoint("published")
        level = card.level.label.get(self.lang) if card.level else None
        self.ledger.finish(row, status="done", output=str(dest.relative_to(self.ws.root)), total=str(card.total),
                           level=level, certificate_no=certificate.number if certificate else None)
        return Outcome(name, "done", audit_id=audit_id,
                       output=str(dest.relative_to(self.ws.root)), total=str(card.total), level=level,
                       revision=revision, certificate_no=certificate.number if certificate else None)

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
        from pipeline.render_context import clean

        self.ledger.certificate_details(number, {  # cleaned: the register cannot hold control characters
            "organisation": clean(audit.info.org_name), "credit_code": clean(audit.info.org_credit_code),
            "standard": f"{std.code}", "edition": std.edition, "level": std.describe_level(card.level, self.lang),
            "total": str(card.total), "issue_date": issued.isoformat(), "expiry_date": info.expiry_date.isoformat(),
            "surveillance_due": info.surveillance_due.isoformat(), "audit_id": audit.info.audit_id,
            "provisional": std.provisional,
        })
        return info


_ONE_DAY = date(2000, 1, 2) - date(2000, 1, 1)
