"""``certpipe run``: everything in the inbox once, in a process pool. A bad file never stops the batch."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import Config
from pipeline.errors import CertpipeError
from pipeline.flow.decisions import catch_up_quietly
from pipeline.flow.inbox import fingerprint, scan, unsettled
from pipeline.flow.job import Outcome, shown_name, unexpected
from pipeline.flow.ledger import Ledger, now
from pipeline.flow.process import Processor
from pipeline.flow.register import refresh_register
from pipeline.flow.setup import prepare
from pipeline.flow.timelimit import end_overruns
from pipeline.i18n import Message
from pipeline.lock import workspace_lock
from pipeline.logs import log, log_format, log_outcome, worker_logging
from pipeline.workspace import Workspace


@dataclass
class BatchResult:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    register_rows: int = 0
    register_error: Message | None = None  # why register.xlsx could not be written (it stays behind)
    issuer: list = field(default_factory=list)  # what [issuer] lacks for certificates a body can sign (Message)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


_WORKER: Processor | None = None


def _init_worker(ws: Workspace, config: Config, lang: str, pdf: bool, grace: float | None = None,
                 log_fmt: str | None = None, batch_after: int | None = None) -> None:
    """Make this process's ``Processor``. In a pool's worker (``grace`` given), a file stuck out of
    Python's reach ``grace`` seconds past its time limit ends the worker, which the pool replaces
    (``flow/timelimit.py``); one started by spawn logs where its driver does (``log_fmt``). A worker
    logs to the log file only, never the terminal, where its driver may be drawing a progress bar."""
    global _WORKER
    worker_logging(ws, log_fmt, console=False)
    if grace is not None:
        end_overruns(grace)
    _WORKER = Processor(ws, config, lang=lang, pdf=pdf, batch_after=batch_after)


#: Seconds a worker's file may run past its time limit before the worker is ended.
OVERRUN_GRACE = 5.0

#: The environment variable that chooses how worker processes start (``fork``, ``spawn``,
#: ``forkserver``): ``fork`` on Linux, where it is cheapest, and ``spawn`` elsewhere (Windows has no other).
START_METHOD_ENV = "CERTPIPE_START_METHOD"


def start_method() -> str:
    """How ``run`` starts its worker processes (see ``START_METHOD_ENV``)."""
    methods = multiprocessing.get_all_start_methods()
    asked = os.environ.get(START_METHOD_ENV, "").strip().lower()
    if asked in methods:
        return asked
    return "fork" if sys.platform.startswith("linux") and "fork" in methods else "spawn"


def _work(paths: list[str]) -> list[Outcome]:
    """A chunk of files in one worker (an error fails only its file; see Processor.process_many)."""
    return _WORKER.process_many([Path(p) for p in paths])


#: Files a worker takes at once: one sync per step for all of them (group commit) and, with --pdf, one
#: LibreOffice call (its start-up, ~1.2 s, is shared by all their documents: ~0.15-0.26 s each).
#: Larger groups sync and start less but report progress in bigger steps.
CHUNK, PDF_CHUNK = 8, 24


def _chunks(files: list[Path], workers: int, most: int) -> list[list[Path]]:
    """Chunks of at most ``most`` files, as even as they can be, in a multiple of ``workers`` so that
    no worker is left with the last chunk alone."""
    if not files:
        return []
    count = min(len(files), -(-len(files) // (workers * most)) * workers)
    size = -(-len(files) // count)
    return [files[i:i + size] for i in range(0, len(files), size)]


def _run_pool(ws: Workspace, config: Config, lang: str, pdf: bool, workers: int, files: list[Path],
              record: Callable[[Outcome], None], batch_after: int | None = None) -> list[Path]:
    """Process ``files`` in a pool of ``workers``; returns the files left unfinished when the pool broke.
    ``batch_after``: the ledger's last input before the run (two contents of one audit in one run)."""
    ctx = multiprocessing.get_context(start_method())
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(ws, config, lang, pdf, OVERRUN_GRACE, log_format(), batch_after)) as pool:
        futures = {pool.submit(_work, [str(p) for p in chunk]): chunk
                   for chunk in _chunks(files, workers, PDF_CHUNK if pdf else CHUNK)}
        done: set[Path] = set()
        try:
            for future in as_completed(futures):
                try:
                    outcomes = future.result()
                except BrokenProcessPool:
                    raise
                except Exception as exc:  # not the files' fault: they stay in the inbox
                    outcomes = [Outcome(shown_name(p.name), "failed", note=unexpected(exc))
                                for p in futures[future]]
                for outcome in outcomes:
                    record(outcome)
                done.update(futures[future])
        except BrokenProcessPool:
            return [p for p in files if p not in done]
    return []


def finished_meanwhile(ws: Workspace, paths: list[Path], since: str) -> list[Outcome]:
    """Outcomes of ``paths`` that left the inbox since ``since`` (a ledger time), as the ledger recorded
    them: what a worker finished before it died without saying so."""
    gone = {shown_name(p.name) for p in paths if not p.exists()}
    with Ledger(ws.ledger) as ledger:
        rows = {r.name: r for r in ledger.finished_since(since) if r.name in gone}  # the newest of a name
    return [Outcome(r.name, r.status, audit_id=r.audit_id, output=r.output, total=r.total, level=r.level,
                    revision=r.revision, certificate_no=r.certificate_no, standard=r.standard,
                    problems=[r.first_problem] if r.first_problem else [], note=Message("batch.finished_before_stop"))
            for r in rows.values()]


_finished_meanwhile = finished_meanwhile  # the name it had before


def worker_died(path: Path) -> Outcome:
    """The outcome of a file whose worker process died under it: it failed and stays in the inbox."""
    return Outcome(shown_name(path.name), "failed", note=Message("batch.worker_died"))


def _settled(files: list[Path], settle: float, record: Callable[[Outcome], None]) -> list[Path]:
    """``files`` without those still being written: a file changed within ``settle`` seconds is
    waited for (once, at most ``settle`` seconds) and, if it changed meanwhile, left for the next
    pass as ``waiting``."""
    young = unsettled(files, settle)
    if not young:
        return files
    newest = max(fp[1] for fp in young.values()) / 1e9
    time.sleep(min(settle, max(0.0, newest + settle - time.time())))
    now = {path: fingerprint(path, follow=False) for path in young}
    changed = {path for path, fp in young.items() if now[path] != fp}
    for path in sorted(p for p in changed if now[p] is not None):  # (one that left is no one's business)
        record(Outcome(shown_name(path.name), "waiting", note=Message("pipe.unsettled", {"seconds": f"{settle:g}"})))
    return [path for path in files if path not in changed]


def run_inbox(ws: Workspace, config: Config, *, lang: str = "zh", pdf: bool = False, workers: int = 0,
              settle: float | None = None, on_start: Callable[[int], None] | None = None,
              on_done: Callable[[Outcome], None] | None = None) -> BatchResult:
    """Everything in the inbox once, in a pool of ``workers`` processes (0: one per CPU), then the
    register. The settle rule of ``watch`` holds: a file changed within ``settle`` seconds
    (``[watch] settle_seconds``) is waited for once, up to that time, and left for the next pass
    (``waiting``) if it changed meanwhile; an entry that is not a regular file is reported
    (``ignored``) and left alone. ``on_start(count)`` and ``on_done(outcome)`` report progress;
    every outcome is logged. Raises ``WorkspaceBusy`` when another driver holds the workspace,
    ``RenderError`` when ``pdf`` is asked and LibreOffice or a CJK font is missing."""
    if pdf:
        from pipeline.word.pdf import require_pdf_tools

        require_pdf_tools()
    started = time.perf_counter()
    result = BatchResult()
    from pipeline.word.render import issuer_problems

    result.issuer = issuer_problems(ws.root, config.issuer)
    with workspace_lock(ws, "run"):
        prepare(ws)
        files, others = scan(ws)
        if on_start:
            on_start(len(files) + len(others))

        def record(outcome: Outcome) -> None:
            result.outcomes.append(outcome)
            log_outcome(outcome, lang)
            if on_done:
                on_done(outcome)

        for path, kind in others:
            record(Outcome(shown_name(path.name), "ignored",
                           note=Message("pipe.not_a_file", {"kind": Message(f"pipe.kind.{kind}")})))
        files = _settled(files, config.watch.settle_seconds if settle is None else settle, record)
        workers = min(workers or os.cpu_count() or 1, max(1, len(files)))

        # even one worker is a process of its own: a file stuck out of Python's reach ends it, not the run
        began = now()
        with Ledger(ws.ledger) as ledger:
            batch_after = ledger.last_input()
        left = _run_pool(ws, config, lang, pdf, workers, files, record, batch_after)
        if left:
            # a worker died (killed, or a native library aborted) and the pool stopped the others:
            # what they finished before is reported from the ledger; no worker is alive now, so
            # their claims and scratch folders can go; each unfinished file then runs alone, so
            # one that kills its worker again only fails itself and stays in the inbox
            finished = finished_meanwhile(ws, left, began)
            for outcome in finished:
                record(outcome)
            prepare(ws)
            reported = {o.name for o in finished}
            for path in (p for p in left if shown_name(p.name) not in reported):
                if _run_pool(ws, config, lang, pdf, 1, [path], record, batch_after):
                    record(worker_died(path))
                    prepare(ws)
        with Ledger(ws.ledger) as ledger:  # no worker is left: a claim still open is nobody's
            ledger.clear_stale_claims()
            catch_up_quietly(ws, config, ledger, lang)
        try:
            result.register_rows = refresh_register(ws, lang)
        except CertpipeError as exc:  # the outcomes stand; the next run or watch writes it
            log.warning("%s", exc.render(lang))
            result.register_error = exc.message
        if config.publish.dir:  # the public register: a failure is logged, the outcomes stand
            from pipeline.flow.site import publish_after_batch

            publish_after_batch(ws, config, lang)
    result.seconds = time.perf_counter() - started
    return result
