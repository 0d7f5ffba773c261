"""One input, end to end: intake → validate → score → render → publish → archive.

Order matters for "nothing lost, nothing twice": the input is copied into staging and hashed in one
read; the content is claimed in the ledger; outputs are built in staging and renamed into the
outbox; the outcome is committed to the ledger; only then does the original leave the inbox. A crash
at any point leaves the input in the inbox and no half-written folder where users look; the next run
clears the stale claim and processes it again (a re-published revision replaces itself)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import Config
from pipeline.errors import CertpipeError
from pipeline.faults import crashpoint
from pipeline.i18n import t
from pipeline.ledger import RETRYABLE, InputRow, Ledger
from pipeline.lock import file_lock
from pipeline.publish import archive_original, publish, safe_name, staging_dir
from pipeline.scoring import ScoreCard, score
from pipeline.standard import Standard
from pipeline.timelimit import TimeLimit, time_limit
from pipeline.workspace import Workspace

# Rejections that say nothing against the file: the same content dropped again is processed again.
RETRYABLE_KEYS = ("pipe.time_limit", "val.unknown_standard")


@dataclass
class Outcome:
    name: str
    status: str  # done | rejected | duplicate | skipped (and failed, set by the batch driver)
    audit_id: str | None = None
    output: str | None = None
    total: str | None = None
    level: str | None = None
    revision: int | None = None
    certificate_no: str | None = None
    problems: list[str] = field(default_factory=list)
    note: str | None = None
    seconds: float = 0.0


def shown_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (a name from another system) become U+FFFD, so
    the ledger, logs and folders can hold it."""
    return os.fsencode(name).decode("utf-8", "replace")


def _no_space(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


def stage_copy(src: Path, dest: Path) -> tuple[str, int, float]:
    """Copy ``src`` to ``dest`` in chunks, hashing what is copied: one read, bounded memory, and the
    hash is of exactly the bytes that will be processed. Returns (sha256, size, mtime)."""
    digest = hashlib.sha256()
    size = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        mtime = os.fstat(fin.fileno()).st_mtime
        while chunk := fin.read(1 << 20):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size, mtime


def _failed(path: Path, exc: BaseException, lang: str = "zh") -> Outcome:
    note = exc.render(lang) if isinstance(exc, CertpipeError) else f"{type(exc).__name__}: {exc}"
    return Outcome(shown_name(path.name), "failed", note=note)


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
        self._held: set[int] = set()  # claims this process holds while a chunk waits for its PDFs

    @property
    def renderer(self):
        if self._renderer is None:
            from pipeline.render import Renderer

            self._renderer = Renderer(self.config, workspace_templates=self.ws.templates)
        return self._renderer

    def close(self) -> None:
        self.ledger.close()

    def _lock(self, dest: Path):
        """Workers publishing to one destination take turns (revisions of one audit, same-named rejections)."""
        return file_lock(self.ws.state / "locks" / f"{dest.parent.name}.{dest.name}.lock")

    # ---------------------------------------------------------------------------------------
    def process(self, path: Path) -> Outcome:
        started = time.perf_counter()
        stage = staging_dir(self.ws.outbox)
        try:
            outcome = self._process(path, stage)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        outcome.seconds = time.perf_counter() - started
        return outcome

    def process_many(self, paths: list[Path]) -> list[Outcome]:
        """Several inputs; with PDFs on, all their documents are converted in one LibreOffice call
        (start-up dominates a call: ~1 s, against ~0.25 s a document). Each input still succeeds or
        fails alone (an error becomes its ``failed`` outcome, the input stays in the inbox), and
        nothing is published before its PDFs exist."""
        if not self.pdf or len(paths) < 2:
            return [self._guarded(p, self.process) for p in paths]
        started = {i: time.perf_counter() for i in range(len(paths))}
        outcomes: dict[int, Outcome] = {}
        waiting: dict[int, tuple[Path, int, tuple]] = {}  # rendered, not yet published: stage, row, rendering
        try:
            for i, path in enumerate(paths):
                result = self._guarded(path, self._prepare)
                if isinstance(result, Outcome):
                    outcomes[i] = result
                else:
                    waiting[i] = result
                    self._held.add(result[1])
            if waiting:
                from pipeline.pdf import convert_to_pdf

                try:
                    convert_to_pdf([f for *_, rendered in waiting.values() for f in rendered[-1]], instances=1,
                                   lang=self.lang)
                except Exception as exc:  # publish whoever got their PDFs; only the others fail
                    for i, (_stage, _row, rendered) in waiting.items():
                        if not all(f.with_suffix(".pdf").is_file() for f in rendered[-1]):
                            outcomes[i] = _failed(paths[i], exc, self.lang)
            for i, (_stage, row, rendered) in waiting.items():
                if i not in outcomes:
                    outcomes[i] = self._guarded(paths[i], lambda p, r=row, rd=rendered: self._archive(
                        p, r, self._publish_done(r, shown_name(p.name), *rd[:-1])))
        finally:
            for i, (stage, row, _rendered) in waiting.items():
                self._held.discard(row)
                if outcomes.get(i) is None or outcomes[i].status == "failed":
                    self.ledger.release(row)  # unpublished: the input stays in the inbox
                shutil.rmtree(stage, ignore_errors=True)
        for i, outcome in outcomes.items():
            outcome.seconds = time.perf_counter() - started[i]
        return [outcomes[i] for i in range(len(paths))]

    def _prepare(self, path: Path):
        """An input checked and rendered into its own staging folder but not published: an Outcome
        when that is already the end (rejected, duplicate...), else (stage, row, rendering)."""
        stage = staging_dir(self.ws.outbox)
        try:
            result = self._process(path, stage, publish_later=True)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        if isinstance(result, Outcome):
            shutil.rmtree(stage, ignore_errors=True)
            return result
        return (stage, *result)

    def _guarded(self, path: Path, step):
        try:
            return step(path)
        except Exception as exc:  # reported as a failed outcome; the input stays in the inbox
            return _failed(path, exc, self.lang)

    def _process(self, path: Path, stage: Path, *, publish_later: bool = False):
        """The outcome, or with ``publish_later`` for an accepted input (row, rendered) for the caller
        to convert and publish."""
        name = shown_name(path.name)
        original = stage / "original" / name
        try:
            sha, size, mtime = stage_copy(path, original)
        except FileNotFoundError:
            return Outcome(name, "skipped", note=t("pipe.vanished", self.lang))
        except OSError as exc:
            if _no_space(exc):
                raise CertpipeError(t("pipe.no_space", self.lang, name=name, detail=exc)) from exc
            raise
        row, previous = self._claim(sha, name, size, mtime)
        if row is None:
            return self._seen_before(path, name, sha, size, mtime, previous)
        crashpoint("claimed")
        crashpoint("staged")
        try:
            outcome = self._outcome(row, name, stage, original, sha, publish_later=publish_later)
            if not isinstance(outcome, Outcome):
                return row, outcome
        except BaseException as exc:
            self.ledger.release(row)  # the input stays in the inbox, to be tried again
            if isinstance(exc, OSError) and _no_space(exc):
                raise CertpipeError(t("pipe.no_space", self.lang, name=name, detail=exc)) from exc
            raise
        crashpoint("finished")
        return self._archive(path, row, outcome)

    def _claim(self, sha: str, name: str, size: int, mtime: float) -> tuple[int | None, InputRow | None]:
        """Claim this content, or say who has it. Waits while another worker has the same content."""
        deadline = time.monotonic() + self.config.limits.seconds_per_file * 2
        while True:
            previous = self.ledger.find(sha)
            if previous is not None and previous.status == "rejected" and previous.note == RETRYABLE:
                self.ledger.retire(previous.id)
                previous = None
            if previous is None:
                row = self.ledger.claim(sha, name, size, mtime)
                if row is not None:
                    return row, None
                continue  # another worker claimed it a moment ago
            if previous.status != "processing" or previous.id in self._held or time.monotonic() > deadline:
                return None, previous  # (the same content twice in one chunk: the second waits for a later run)
            time.sleep(0.05)  # the same content is in another worker's hands: wait for its outcome

    def _archive(self, path: Path, row: int, outcome: Outcome) -> Outcome:
        name = outcome.name
        try:
            archived = archive_original(path, self.ws.archive)
        except FileNotFoundError:  # someone took it out of the inbox meanwhile: its outcome stands
            outcome.note = t("pipe.gone_before_archive", self.lang)
            return outcome
        except OSError as exc:  # a read-only inbox: published and recorded; archived on a later run
            raise CertpipeError(t("pipe.cannot_archive", self.lang, name=name, detail=exc)) from exc
        crashpoint("archived")
        self.ledger.archived(row, shown_name(self.ws.shown(archived)))
        return outcome

    def _seen_before(self, path: Path, name: str, sha: str, size: int, mtime: float,
                     previous: InputRow) -> Outcome:
        if previous.status == "processing":
            return Outcome(name, "skipped", note=t("pipe.still_processing", self.lang))
        if previous.archived_to is None and previous.name == name:
            # the run that processed it stopped before moving it: finish that step only
            outcome = Outcome(name, previous.status, audit_id=previous.audit_id, output=previous.output,
                              note=t("pipe.completed_interrupted", self.lang))
            return self._archive(path, previous.id, outcome)
        try:
            archived = archive_original(path, self.ws.archive)
        except FileNotFoundError:
            return Outcome(name, "skipped", note=t("pipe.vanished", self.lang))
        except OSError as exc:
            raise CertpipeError(t("pipe.cannot_archive", self.lang, name=name, detail=exc)) from exc
        self.ledger.record_duplicate(sha, name, size, mtime, shown_name(self.ws.shown(archived)), previous)
        return Outcome(name, "duplicate", audit_id=previous.audit_id, output=previous.output,
                       note=t("pipe.duplicate_of", self.lang, name=previous.name,
                              status=t(f"status.{previous.status}", self.lang)))

    def _outcome(self, row: int, name: str, stage: Path, original: Path, sha: str, *, publish_later: bool = False):
        """Check and render within the time limit, then publish (never interrupted); with
        ``publish_later`` an accepted input's rendering is returned unpublished, without PDFs."""
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
                        rendered = self._render(row, stage, checked.audit, checked.standard,
                                                pdf=self.pdf and not publish_later)
                    except TimeLimit as exc:  # not the input's fault: it stays in the inbox
                        raise CertpipeError(t("pipe.render_time_limit", self.lang, name=name,
                                              seconds=f"{limits.seconds_per_file:g}")) from exc
        except TimeLimit:
            problems = [Problem(t("pipe.time_limit", self.lang, seconds=f"{limits.seconds_per_file:g}"),
                                t("pipe.time_limit_hint", self.lang), key="pipe.time_limit")]
        if rendered is not None:
            return rendered if publish_later else self._publish_done(row, name, *rendered[:-1])
        return self._reject(row, name, stage, original, problems, sha)

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
        stem = safe_name(Path(name).stem, "workbook")
        with self._lock(self.ws.rejected):  # one at a time: the folder name chosen must stay free
            dest = publish(folder, rejected_folder(self.ws.rejected, stem, sha))
        shown = self.ws.shown(dest)
        retryable = any(getattr(p, "key", "") in RETRYABLE_KEYS for p in problems)
        self.ledger.finish(row, status="rejected", output=shown, problems=len(problems),
                           first_problem=str(problems[0]) if problems else None,
                           note=RETRYABLE if retryable else None)
        return Outcome(name, "rejected", output=shown, problems=[str(p) for p in problems])

    def _render(self, row: int, stage: Path, audit, std: Standard, *, pdf: bool) -> tuple:
        """Score and write the outputs into ``stage/out``; nothing is visible to users yet. Returns
        what ``_publish_done`` needs, and the documents written (for PDFs made later)."""
        from pipeline.certificates import issue
        from pipeline.scorecard_json import scorecard_dict

        card = score(std, audit.entries)
        audit_id = audit.info.audit_id
        revision = self.ledger.assign(row, audit_id, std.key)
        certificate, details = None, None
        if card.level is not None:
            certificate, details = issue(self.ledger, audit, std, card, self.config.certificates, self.lang)
        folder = stage / "out"
        folder.mkdir()
        files = self.renderer.render(audit, std, card, folder, lang=self.lang, revision=revision,
                                     certificate=certificate)
        if pdf:
            from pipeline.pdf import convert_to_pdf

            convert_to_pdf(files, instances=1, lang=self.lang)
        data = scorecard_dict(card, audit, std, lang=self.lang) | {"revision": revision}
        if certificate is not None:
            data["certificate"] = {"number": certificate.number, "issue_date": certificate.issue_date.isoformat(),
                                   "expiry_date": certificate.expiry_date.isoformat()}
        (folder / "scorecard.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        crashpoint("rendered")
        return folder, audit_id, card, revision, certificate, details, files

    def _publish_done(self, row: int, name: str, folder: Path, audit_id: str, card: ScoreCard, revision: int,
                      certificate, details: dict | None) -> Outcome:
        target = self.ws.outbox / safe_name(audit_id)
        with self._lock(target):
            dest = publish(folder, target, revision=revision)
            if details is not None and revision >= self.ledger.newest_revision(audit_id):
                self.ledger.certificate_details(certificate.number, details)  # what the register shows
        crashpoint("published")
        level = card.level.label.get(self.lang) if card.level else None
        number = certificate.number if certificate else None
        shown = self.ws.shown(dest)
        self.ledger.finish(row, status="done", output=shown, total=str(card.total), level=level,
                           certificate_no=number)
        return Outcome(name, "done", audit_id=audit_id, output=shown, total=str(card.total), level=level,
                       revision=revision, certificate_no=number)
