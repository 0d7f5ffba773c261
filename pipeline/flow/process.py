"""Inputs end to end: intake → validate → score → render → publish → archive.

Order matters for "nothing lost, nothing twice": the input is copied into staging and hashed in one
read; the content is claimed in the ledger; outputs are built in staging and renamed into the
outbox; the outcome is committed to the ledger; only then does the original leave the inbox. A crash
at any point leaves the input in the inbox and no half-written folder where users look; the next run
clears the stale claim and processes it again (a re-published revision replaces itself).

A group of inputs (``process_many``: a chunk of ``run``'s inbox) takes each step together, so what
must be on disk before the next step — certificate numbers before anything carrying them is
published, the published folders before the ledger says so, the ledger before an original leaves the
inbox — costs one sync per group instead of one per input (group commit). Each input still succeeds
or fails alone: an error becomes its ``failed`` outcome and its original stays in the inbox."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from pipeline.config import Config
from pipeline.core.certificates import issue, number_request
from pipeline.core.scoring import score
from pipeline.core.text import clean
from pipeline.errors import CertpipeError, LedgerError
from pipeline.filenames import safe_name
from pipeline.flow.certs import Result, audit_type_of, auditors_of, plan_note
from pipeline.flow.faults import crashpoint
from pipeline.flow.guard import note_numbers
from pipeline.flow.intake_file import Changing, NotAFile, Taken, TooLarge, identify, release, take
from pipeline.flow.job import Job, Outcome, copy_file, no_space, rejected_folder, shown_name, unexpected
from pipeline.flow.ledger import Finished, InputRow, Ledger, Numbering
from pipeline.flow.publish import (
    archive_copy,
    fsync_dir,
    fsync_file,
    publish,
    published_revisions,
    seal,
    side_by_side,
    staging_dir,
    sync_quietly,
)
from pipeline.flow.records import id_problem, record_intake, records_say
from pipeline.flow.timelimit import TimeLimit, time_limit
from pipeline.i18n import Message, t
from pipeline.lock import file_lock
from pipeline.workspace import Workspace

# Rejections that say nothing against the file: the same content dropped again is processed again.
RETRYABLE_KEYS = ("pipe.time_limit", "val.unknown_standard", "val.audit_unknown", "pipe.same_audit_together",
                  "pipe.same_audit_in_batch")


def _readable_id(cell) -> str | None:
    """The audit id a rejected workbook names, when it is one (shown beside the rejection)."""
    from pipeline.core.ids import valid_audit_id

    value = getattr(cell, "value", None)
    text = str(value).strip() if isinstance(value, str | int) else ""
    return text if text and valid_audit_id(text) else None


def _printed(info) -> dict:
    """What a certificate prints of the organisation (``core.certify.PRINTED``), as the register keeps it."""
    return {"scope": clean(info.scope), "organisation": clean(info.org_name),
            "credit_code": clean(info.org_credit_code), "address": clean(info.org_address)}


def _json_lines(data: dict) -> str:
    """``data`` as JSON, a line per top-level key: readable, and written by the C encoder (an indented
    dump runs in Python, ~10× slower: ~1.5 ms of every audit)."""
    lines = [f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}" for key, value in data.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


class Processor:
    """Everything one process needs to handle inputs; built once per worker."""

    def __init__(self, workspace: Workspace, config: Config, *, lang: str = "zh", pdf: bool = False,
                 batch_after: int | None = None) -> None:
        self.ws = workspace
        # ``batch_after`` (``run``: the ledger's last input before it began): an input of an audit another
        # content of which came in since is not made a silent revision of it (``Ledger.number``)
        self.batch_after = batch_after
        self.config = config
        self.lang = lang
        self.pdf = pdf
        self.ledger = Ledger(workspace.ledger)
        self._renderer = None
        self._held: set[int] = set()  # ledger rows this process has claimed and not yet finished
        self._unreleased: list[int] = []  # claims it gave up but could not release (ledger locked)
        self._group_stage: Path | None = None  # the staging folder of the group in hand (_stage_for)

    @property
    def renderer(self):
        if self._renderer is None:
            from pipeline.flow.keys import load_signer
            from pipeline.word.render import Renderer

            self._renderer = Renderer(self.config, workspace_templates=self.ws.templates, signer=load_signer(self.ws))
        return self._renderer

    def close(self) -> None:
        self.ledger.close()

    def process(self, path: Path) -> Outcome:
        """One input. An error that is not the input's fault (disk full, ledger locked...) is raised;
        the original then stays in the inbox."""
        (job,) = self._run([path])
        if job.error is not None:
            raise job.error
        return job.outcome

    def process_many(self, paths: list[Path]) -> list[Outcome]:
        """A group of inputs, step by step together (see the module's doc); an error is its input's
        ``failed`` outcome."""
        return [self._failed(job) if job.error is not None else job.outcome for job in self._run(paths)]

    # ---- the steps ----------------------------------------------------------------------------
    def _run(self, paths: list[Path]) -> list[Job]:
        if self._unreleased:
            try:
                self.ledger.release(*self._unreleased)
                self._unreleased.clear()
            except LedgerError:  # still locked: this group's inputs meet the same error
                pass
        jobs = [Job(path, shown_name(path.name), time.perf_counter()) for path in paths]
        try:
            self._each(jobs, self._start)  # staged, hashed, claimed (or seen before)
            self._each(jobs, self._check)  # validated and scored, within the time limit
            self._together([job for job in jobs if job.audit is not None], self._number)  # one durable commit
            self._each(jobs, self._build)  # the documents, or the rejection with its marked copy
            if self.pdf:
                self._together([job for job in jobs if job.files], self._pdfs)  # one LibreOffice call
            self._together(jobs, self._seal)  # on disk, every input's files side by side
            self._each(jobs, self._publish)  # renamed into the outbox
            self._together(jobs, self._finish)  # folders synced, outcomes recorded: one durable commit
            self._archive([job for job in jobs if job.finished])  # originals leave the inbox
        finally:
            self._end(jobs)
        # content another worker had in hand: waited for now, holding no claim meanwhile
        return [self._run([job.path])[0] if job.again else job for job in jobs]

    def _each(self, jobs: list[Job], step: Callable[[Job], None]) -> None:
        for job in jobs:
            if job.live:
                try:
                    step(job)
                except Exception as exc:  # this input fails alone
                    job.error = self._plain(exc, job.name)

    def _together(self, jobs: list[Job], step: Callable[[list[Job]], None]) -> None:
        live = [job for job in jobs if job.live]
        if live:
            try:
                step(live)
            except Exception as exc:  # a step taken together fails together
                for job in live:
                    if job.live:
                        job.error = self._plain(exc, job.name)

    def _plain(self, exc: Exception, name: str) -> Exception:
        if no_space(exc):
            error = CertpipeError("pipe.no_space", {"name": name, "detail": exc})
            error.__cause__ = exc
            return error
        return exc

    def _start(self, job: Job) -> None:
        """Take the input (``flow/intake_file.py``: a regular file only, its size checked first, one
        copy and its hash, within the time limit) and claim its content, or say who has it."""
        job.stage = self._stage_for(job)
        limits = self.config.limits
        original = job.stage / job.name
        started = time.monotonic()
        try:
            with time_limit(limits.seconds_per_file):
                taken = take(job.path, original, max_bytes=int(limits.max_file_mb * 1024 * 1024))
            job.staged = original
        except FileNotFoundError:
            job.outcome = Outcome(job.name, "skipped", note=Message("pipe.vanished"))
            return
        except NotAFile as exc:
            job.outcome = Outcome(job.name, "ignored", note=Message("pipe.not_a_file",
                                                                   {"kind": Message(f"pipe.kind.{exc.kind}")}))
            return
        except Changing:
            job.outcome = Outcome(job.name, "waiting", note=Message("pipe.changing"))
            return
        except TooLarge as exc:  # refused unread: nothing is copied, the file is archived as it is
            taken = self._too_large(job, exc.size)
            if taken is None:
                return
        except TimeLimit as exc:  # not the file's fault (a slow share): it stays for the next pass
            raise CertpipeError("pipe.copy_time_limit", {"name": job.name,
                                                         "seconds": f"{limits.seconds_per_file:g}"}) from exc
        job.spent = time.monotonic() - started
        job.identity = taken.identity
        crashpoint("staged")
        row, previous = self._claim(taken.sha256, job.name, taken.size, taken.mtime, wait=not self._held)
        if row is None:
            if previous.status == "processing" and self._held:
                # in this group's hands, or another worker's while we hold claims (waiting could then
                # wait on a worker waiting on us): tried again once the group is over
                job.again = True
            else:
                job.sha = taken.sha256
                job.outcome = self._seen_before(job, taken, previous)
            return
        job.row, job.sha = row, taken.sha256
        self._held.add(row)
        crashpoint("claimed")

    def _stage_for(self, job: Job) -> Path:
        """Where ``job``'s input is copied: one staging folder for a group's inputs (their names are
        one folder's: distinct), a folder of its own for a name already there (two names shown
        alike). A folder made and removed per input was a tenth of the files a bulk run creates, and
        on ext4 each removal slows the next creations down for half a minute (a new inode is looked
        for past the recently deleted ones)."""
        if self._group_stage is None:
            self._group_stage = staging_dir(self.ws.outbox)
        if os.path.lexists(self._group_stage / job.name):
            return staging_dir(self.ws.outbox)
        return self._group_stage

    def _too_large(self, job: Job, size: int) -> Taken | None:
        from pipeline.excel.checks import Problem

        try:
            identity = identify(job.path)
        except FileNotFoundError:
            job.outcome = Outcome(job.name, "skipped", note=Message("pipe.vanished"))
            return None
        except NotAFile:
            job.outcome = Outcome(job.name, "waiting", note=Message("pipe.changing"))
            return None
        limit = self.config.limits.max_file_mb
        job.problems = [Problem("intake.too_large", {"size": f"{size / 1048576:.1f}", "limit": f"{limit:g}"})]
        # its content is not read: it is known by what it is (a new copy of it is a new input)
        sha = hashlib.sha256(f"unread\0{identity}".encode()).hexdigest()
        return Taken(sha, size, identity.mtime_ns / 1e9, identity)

    def _claim(self, sha: str, name: str, size: int, mtime: float, *,
               wait: bool) -> tuple[int | None, InputRow | None]:
        """Claim this content, or say who has it. With ``wait``, waits while another worker has it."""
        deadline = time.monotonic() + self.config.limits.seconds_per_file * 2
        while True:
            previous = self.ledger.find(sha)
            if previous is not None and previous.status == "rejected" and previous.retryable:
                self.ledger.retire(previous.id)
                previous = None
            if previous is None:
                row = self.ledger.claim(sha, name, size, mtime)
                if row is not None:
                    return row, None
                continue  # another worker claimed it a moment ago
            if (previous.status != "processing" or previous.id in self._held or not wait
                    or time.monotonic() > deadline):
                return None, previous
            time.sleep(0.05)  # the same content is in another worker's hands: wait for its outcome

    def _check(self, job: Job) -> None:
        from pipeline.excel.checks import Problem
        from pipeline.flow.check_file import validate_file

        if job.problems:  # refused as it was taken (too large)
            return
        limits = self.config.limits
        started = time.monotonic()
        try:
            with time_limit(max(limits.seconds_per_file - job.spent, 0.01)):
                checked = validate_file(job.staged, workspace_root=self.ws.root, max_file_mb=limits.max_file_mb,
                                        max_member_mb=limits.max_member_mb)
                job.problems = checked.problems
                job.audit_id = _readable_id(checked.audit_cell)
                if job.problems and job.audit_id:  # the records' word too, not in a later round
                    job.problems = job.problems + self._id_problems(job.audit_id, checked.audit_cell)
                if not job.problems and checked.audit is not None:
                    job.card = score(checked.standard, checked.audit.entries)
                    job.problems = self._against_the_records(checked, job.card)
                if not job.problems and checked.audit is not None:
                    job.audit, job.std, job.type_cell = checked.audit, checked.standard, checked.type_cell
                    job.end_cell, job.id_cell = checked.end_cell, checked.audit_cell
        except TimeLimit:
            job.problems = [Problem("pipe.time_limit", {"seconds": f"{limits.seconds_per_file:g}"})]
        job.spent += time.monotonic() - started

    def _id_problems(self, audit_id: str, cell) -> list:
        from pipeline.excel.checks import Problem

        why = id_problem(self.ledger.db, audit_id, accept_unknown=self.config.intake.accept_unknown_audits)
        return [] if why is None else [Problem(why.key, why.params, sheet=cell.sheet if cell else None,
                                               cell=cell.ref if cell else None, name="audit_id")]

    def _against_the_records(self, checked, card) -> list:
        """What the records say against processing it (``flow/records.py``): its audit id is another
        organisation's, unknown, or another's in other case."""
        from pipeline.excel.checks import Problem

        info = checked.audit.info
        _, why = records_say(self.ledger.db, info, accept_unknown=self.config.intake.accept_unknown_audits)
        if why is None:
            return []
        cell = checked.audit_cell
        return [Problem(why.key, why.params, sheet=cell.sheet if cell else None, cell=cell.ref if cell else None,
                        name="audit_id")]

    def _number(self, accepted: list[Job]) -> None:
        """Revisions and certificate numbers of the accepted inputs (their organisations and, for an
        external audit, the audit recorded first)."""
        from pipeline.excel.checks import Problem

        verdicts = record_intake(self.ledger, [(job.std, job.audit.info, False) for job in accepted],
                                 accept_unknown=self.config.intake.accept_unknown_audits)
        for job, why in zip(list(accepted), verdicts, strict=True):
            if why is not None:  # its audit id was just recorded for another organisation: a rejection
                job.problems = [Problem(why.key, why.params, name="audit_id")]
                job.audit = job.std = job.card = None
                accepted.remove(job)
        if self.batch_after is not None:  # a run: what is in the inbox together is one batch
            self._same_audit_together(accepted)
        if not accepted:
            return
        cfg, today = self.config.certificates, date.today()
        requests = []
        for job in accepted:
            on_disk = published_revisions(self.ws.outbox / safe_name(job.audit.info.audit_id))
            requests.append(Numbering(job.row, job.audit.info.audit_id, job.std.key,
                                      number_request(job.std, job.card, cfg, today),
                                      published=next((r for r, sha in on_disk.items() if sha == job.sha), None),
                                      highest=max(on_disk, default=0),
                                      ranks={lv.key: i for i, lv in enumerate(job.std.levels)},
                                      audit_type=job.audit.info.audit_type, printed=_printed(job.audit.info),
                                      audit_end=job.audit.info.audit_end))
        given = self.ledger.number(requests, review=self.config.decision.mode == "review", type_key=audit_type_of,
                                   batch_after=self.batch_after)
        note_numbers(self.ws, [certificate[0] for _, _, certificate in given if certificate is not None])
        for job, (revision, plan, certificate) in zip(list(accepted), given, strict=True):
            job.revision, job.plan = revision, plan
            if plan.action == "refuse":  # the records say no (a surveillance of no living certificate ...)
                cell = {"audit_end": job.end_cell, "audit_id": job.id_cell}.get(plan.field, job.type_cell)
                job.problems = [Problem(plan.why.key, plan.why.params, name=plan.field,
                                        sheet=cell.sheet if cell else None, cell=cell.ref if cell else None)]
                job.audit = job.std = job.card = job.plan = None
                accepted.remove(job)
            elif certificate is not None:
                job.certificate, job.details = issue(*certificate, job.audit, job.std, job.card, cfg)

    def _same_audit_together(self, accepted: list[Job]) -> None:
        """Two contents of one audit in one group: which is the final one is a person's choice, not
        the order they were read in — every one of them is refused, naming the others (each may be
        put back alone: the refusal is retried)."""
        from pipeline.excel.checks import Problem

        by_audit: dict[str, list[Job]] = {}
        for job in accepted:
            by_audit.setdefault(job.audit.info.audit_id.casefold(), []).append(job)
        for jobs in (group for group in by_audit.values() if len(group) > 1):
            for job in jobs:
                cell = job.id_cell
                others = "、".join(other.name for other in jobs if other is not job)  # (kept in the ledger as data)
                job.problems = [Problem("pipe.same_audit_together", {"audit_id": job.audit.info.audit_id,
                                                                      "others": others}, name="audit_id",
                                        sheet=cell.sheet if cell else None, cell=cell.ref if cell else None)]
                job.audit = job.std = job.card = None
                accepted.remove(job)

    def _build(self, job: Job) -> None:
        if job.audit is None:
            self._rejection(job)
            return
        seconds = self.config.limits.seconds_per_file
        try:
            with time_limit(max(seconds - job.spent, 0.01)):
                self._render(job)
        except TimeLimit as exc:  # not the input's fault: it stays in the inbox
            raise CertpipeError("pipe.render_time_limit", {"name": job.name, "seconds": f"{seconds:g}"}) from exc

    def _render(self, job: Job) -> None:
        """The documents, ``scorecard.json`` and ``.sha256`` in a folder of their own in staging;
        nothing is visible to users yet."""
        from pipeline.core.scorecard_json import scorecard_dict

        folder = job.folder = staging_dir(self.ws.outbox)  # beside, not inside, job.stage: see publish()
        waiting = job.plan is not None and job.plan.action == "wait"
        job.files = self.renderer.render(job.audit, job.std, job.card, folder, lang=self.lang,
                                         revision=job.revision, certificate=job.certificate, plan=job.plan,
                                         decision_note=t(f"render.awaiting_{job.plan.kind}"
                                                         + ("_change" if job.plan.changes else ""), self.lang)
                                         if waiting else "")
        if waiting and job.plan.kind == "revision":
            self._carry_certificate(job, folder)
        data = scorecard_dict(job.card, job.audit, job.std, lang=self.lang) | {"revision": job.revision}
        data["organisation"] = {"name": clean(job.audit.info.org_name),  # what a rebuilt ledger's register shows
                                "credit_code": clean(job.audit.info.org_credit_code)}
        if job.certificate is not None:
            data["certificate"] = job.certificate.to_json()
        if waiting or (job.plan is not None and job.plan.action == "maintain"):
            # what the result means for a certificate (its status since: the folder's status.json)
            data["decision"] = {"status": "pending" if waiting else "maintained", "kind": job.plan.kind,
                                "certificate": job.plan.number}
        if job.plan is not None and job.plan.changes:  # what the certificate prints that this result changes
            data.setdefault("decision", {"status": "reissued", "kind": "revision", "certificate": job.plan.number})
            data["decision"]["changes"] = [{"field": k, "before": b, "after": a} for k, b, a in job.plan.changes]
        (folder / "scorecard.json").write_text(_json_lines(data), encoding="utf-8")
        (folder / ".sha256").write_text(job.sha)  # the content it was made from (see _number)
        crashpoint("rendered")

    def _carry_certificate(self, job: Job, folder: Path) -> None:
        """A revision awaiting a decision leaves the certificate as issued: its documents are carried
        into the new revision's folder unchanged (the client still holds it)."""
        current = self.ws.outbox / safe_name(job.audit.info.audit_id)
        stem = safe_name(job.audit.info.audit_id)
        for name in (f"{stem}-certificate.docx", f"{stem}-certificate.pdf", "status.json"):
            if (current / name).is_file():
                copy_file(current / name, folder / name)

    def _rejection(self, job: Job) -> None:
        """A folder in staging with the original, ``problems.txt`` and a copy with the problems marked."""
        from pipeline.excel.annotate import annotate

        folder = job.folder = staging_dir(self.ws.outbox)
        if job.staged is not None:  # the staged copy stays: it is what the archive keeps
            copy_file(job.staged, folder / job.name)
        lines = [p.format(self.lang) + (f"\n    → {p.hint(self.lang)}" if p.hint(self.lang) else "")
                 for p in job.problems]
        (folder / "problems.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        if (job.staged is not None and Path(job.name).suffix.lower() in (".xlsx", ".xlsm")
                and any(p.cell for p in job.problems)
                and not any(p.key.startswith(("intake.", "pipe.")) for p in job.problems)):
            # a workbook refused as a file (too large a sheet, damaged) is not opened again to mark it
            stem = safe_name(Path(job.name).stem, "workbook")
            try:
                with time_limit(self.config.limits.seconds_per_file):
                    annotate(folder / job.name, job.problems, folder / f"{stem}-problems.xlsx", lang=self.lang)
            except (Exception, TimeLimit) as exc:  # not annotated; problems.txt says why
                (folder / "problems.txt").write_text(
                    "\n".join([*lines, f"(annotated copy not made: {type(exc).__name__} {exc})"]) + "\n",
                    encoding="utf-8")
        (folder / ".sha256").write_text(job.sha)

    def _pdfs(self, jobs: list[Job]) -> None:
        """Every document of the group in one LibreOffice call (start-up dominates a call: ~1 s,
        against ~0.15-0.26 s a document). Whoever got their PDFs goes on; only the others fail."""
        from pipeline.word.pdf import convert_to_pdf

        try:
            convert_to_pdf([f for job in jobs for f in job.files], instances=1)
        except Exception as exc:
            for job in jobs:
                if not all(f.with_suffix(".pdf").is_file() for f in job.files):
                    job.error = exc

    def _seal(self, jobs: list[Job]) -> None:
        """The group's folders and the copies they were made from on disk, the syncs side by side
        (``publish.side_by_side``); an input whose files cannot be written fails alone."""
        def sealing(job: Job) -> Callable[[], None]:
            also = [job.staged] if job.staged is not None else []
            return lambda: seal(job.folder, job.revision or 1, *also)

        for job, exc in zip(jobs, side_by_side([sealing(job) for job in jobs]), strict=True):
            if exc is None:
                job.sealed = True
            else:
                job.error = self._plain(exc, job.name)

    def _lock(self, dest: Path):
        """Workers publishing to one destination take turns (revisions of one audit, same-named rejections)."""
        return file_lock(self.ws.publish_lock(dest))

    def _publish(self, job: Job) -> None:
        if job.audit is not None:
            target = self.ws.outbox / safe_name(job.audit.info.audit_id)
            with self._lock(target):
                job.dest = publish(job.folder, target, revision=job.revision)
        else:
            with self._lock(self.ws.rejected):  # one at a time: the folder name chosen must stay free
                target = rejected_folder(self.ws.rejected, safe_name(Path(job.name).stem, "workbook"), job.sha)
                job.dest = publish(job.folder, target)
        crashpoint("published")

    def _finish(self, jobs: list[Job]) -> None:
        for folder in {job.dest.parent for job in jobs}:
            fsync_dir(folder)
        records, outcomes = [], []
        for job in jobs:
            shown = self.ws.shown(job.dest)
            if job.audit is not None:
                info = job.audit.info
                level = job.card.level.key if job.card.level else None
                number = job.certificate.number if job.certificate else None
                result = Result(job.row, info.audit_id, job.revision, level, job.details,
                                auditors_of(info.lead_auditor, info.auditors),
                                self.config.certificates.surveillance_months)
                # its note kept: what the result means for a certificate (the decision's changes, before → after)
                records.append(Finished(job.row, "done", shown, total=str(job.card.total), level=level,
                                        certificate_no=number, details=job.details, plan=job.plan, result=result,
                                        note=plan_note(job.plan)))
                outcomes.append(Outcome(job.name, "done", audit_id=info.audit_id, output=shown,
                                        total=str(job.card.total), level=level, revision=job.revision,
                                        certificate_no=number, standard=job.std.key, note=plan_note(job.plan)))
            else:
                retryable = any(p.key in RETRYABLE_KEYS for p in job.problems)
                records.append(Finished(job.row, "rejected", shown, problems=len(job.problems),
                                        first_problem=job.problems[0] if job.problems else None,
                                        retryable=retryable, audit_id=job.audit_id))
                outcomes.append(Outcome(job.name, "rejected", audit_id=job.audit_id, output=shown,
                                        problems=list(job.problems)))
        self.ledger.finish_many(records)
        crashpoint("finished")
        for job, outcome in zip(jobs, outcomes, strict=True):
            job.outcome, job.finished = outcome, True

    def _archive(self, jobs: list[Job]) -> None:
        """Move the originals of finished inputs out of the inbox: the copies they were processed from
        all put into the archive, the archive synced, then each original removed from the inbox if it
        is still the file taken (``intake_file.release``), and the inbox synced — one sync of each
        folder for the group; an original is never only in a folder whose entry is not on disk."""
        copies: list[tuple[Job, Path]] = []
        for job in jobs:
            try:
                copies.append((job, self._archive_copy(job)))
            except FileNotFoundError:  # (unread, too large) someone took it out of the inbox meanwhile
                job.outcome.note = Message("pipe.gone_before_archive")
            except Changing:  # (unread, too large) another file is there now: it stays for the next pass
                job.outcome.note = Message("pipe.replaced_meanwhile")
            except OSError as exc:
                job.error = self._cannot_archive(job.name, exc)
        try:
            for folder in {copy.parent for _, copy in copies}:
                fsync_dir(folder)
        except OSError as exc:  # the copies may not last: the originals stay, archived on a later run
            for job, copy in copies:
                copy.unlink(missing_ok=True)
                job.error = self._cannot_archive(job.name, exc)
            return
        moved = []
        for job, copy in copies:
            try:
                self._leave(job)
            except OSError as exc:  # a read-only inbox: published and recorded; archived on a later run
                copy.unlink(missing_ok=True)
                job.error = self._cannot_archive(job.name, exc)
                continue
            crashpoint("archived")
            moved.append((job.row, shown_name(self.ws.shown(copy))))
        if moved:
            sync_quietly(self.ws.inbox)
            try:
                self.ledger.archived(moved)
            except LedgerError as exc:  # moved, and the outcome recorded: only where it went is not
                for job, _ in copies:
                    if job.error is None:
                        job.error = exc

    def _archive_copy(self, job: Job) -> Path:
        """The copy that was processed, on disk, into the archive; a file refused unread (too large)
        straight from the inbox, never through a link and only if it is still the file refused."""
        if job.staged is None:
            return archive_copy(job.path, self.ws.archive, identity=job.identity)
        if not job.sealed:
            fsync_file(job.staged)  # (a hard link is the same file: its data must be on disk first)
        return archive_copy(job.staged, self.ws.archive)

    def _leave(self, job: Job) -> None:
        """The original out of the inbox, if it is still the file taken; a newer version stays."""
        try:
            if not release(job.path, job.identity, job.sha if job.staged is not None else None):
                job.outcome.note = Message("pipe.replaced_meanwhile")
        except FileNotFoundError:  # someone took it meanwhile: the archive keeps what was processed
            job.outcome.note = Message("pipe.gone_before_archive")

    def _cannot_archive(self, name: str, exc: OSError) -> CertpipeError:
        error = CertpipeError("pipe.cannot_archive", {"name": name, "detail": exc.strerror or exc})
        error.__cause__ = exc
        return error

    def _move_out(self, job: Job, outcome: Outcome, record: Callable[[Path], None]) -> Path:
        """One input out of the inbox on its own (seen before): its copy archived and synced,
        ``record(copy)`` in the ledger, only then the original released and the inbox synced."""
        try:
            copy = self._archive_copy(job)
            fsync_dir(copy.parent)
        except (FileNotFoundError, Changing):
            raise
        except OSError as exc:
            raise self._cannot_archive(job.name, exc) from exc
        record(copy)
        job.outcome = outcome
        try:
            self._leave(job)
        except OSError as exc:  # nothing changed in the inbox (read-only): it is archived again later
            raise self._cannot_archive(job.name, exc) from exc
        sync_quietly(self.ws.inbox)
        crashpoint("archived")
        return copy

    def _end(self, jobs: list[Job]) -> None:
        """Give up the claims of inputs not finished (they stay in the inbox) and clear staging."""
        unfinished = [job.row for job in jobs if job.row is not None and not job.finished]
        try:
            if unfinished:
                self.ledger.release(*unfinished)
        except LedgerError:  # released at the next group (a long watch would otherwise skip that content)
            self._unreleased += unfinished
        finally:
            for job in jobs:
                self._held.discard(job.row)
                for folder in (job.stage, job.folder):  # (a published folder is no longer there)
                    if folder is not None and folder != self._group_stage:
                        shutil.rmtree(folder, ignore_errors=True)
                if job.outcome is not None:
                    job.outcome.seconds = time.perf_counter() - job.started
            if self._group_stage is not None:
                shutil.rmtree(self._group_stage, ignore_errors=True)
                self._group_stage = None

    def _failed(self, job: Job) -> Outcome:
        exc = job.error
        note = exc.message if isinstance(exc, CertpipeError) else unexpected(exc)
        return Outcome(job.name, "failed", note=note, seconds=time.perf_counter() - job.started)

    def _seen_before(self, job: Job, taken: Taken, previous: InputRow) -> Outcome:
        name = job.name
        if previous.status == "processing":
            return Outcome(name, "skipped", note=Message("pipe.still_processing"))
        if previous.archived_to is None and previous.name == name:
            # the run that processed it stopped before moving it: finish that step only
            outcome = Outcome(name, previous.status, audit_id=previous.audit_id, output=previous.output,
                              note=Message("pipe.completed_interrupted"))
            try:
                self._move_out(job, outcome, lambda copy: self.ledger.archived(
                    [(previous.id, shown_name(self.ws.shown(copy)))]))
            except (FileNotFoundError, Changing):
                outcome.note = Message("pipe.gone_before_archive")
            return outcome
        outcome = Outcome(name, "duplicate", audit_id=previous.audit_id, output=previous.output,
                          note=Message("pipe.duplicate_of", {"name": previous.name,
                                                             "status": Message(f"status.{previous.status}")}))
        try:
            self._move_out(job, outcome, lambda copy: self.ledger.record_duplicate(
                taken.sha256, name, taken.size, taken.mtime, shown_name(self.ws.shown(copy)), previous))
        except (FileNotFoundError, Changing):
            return Outcome(name, "skipped", note=Message("pipe.vanished"))
        return outcome
