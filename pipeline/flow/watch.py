"""``watch_inbox``: the driver that waits for files and hands each settled one to the same ``process``
step as ``run`` (``flow/watcher.py`` decides when a file is complete), in a child process that is
ended and replaced when a file holds it past its time limit (``flow/worker.py``). The backlog goes
first; the register is rewritten whenever the inbox falls idle. Runs until ``stop`` is set."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

from pipeline.config import Config
from pipeline.errors import CertpipeError
from pipeline.flow.decisions import catch_up_quietly
from pipeline.flow.job import Outcome
from pipeline.flow.ledger import Ledger
from pipeline.flow.register import refresh_register, register_behind
from pipeline.flow.setup import prepare
from pipeline.flow.watcher import InboxWatcher
from pipeline.flow.worker import Worker
from pipeline.lock import workspace_lock
from pipeline.logs import log, log_outcome
from pipeline.workspace import Workspace

#: Outcomes after which a file's content is settled (an entry that is no regular file is reported once,
#: until it changes); any other (``failed``, ``skipped``, ``waiting``) is tried again at the next
#: rescan, except a file whose process died under it (overran its time limit): that version is tried
#: again after ``ENDED_RETRY_SECONDS`` (at every rescan it would hold the next files up by the time
#: limit and more each time), or at once when it changes.
SETTLED = ("done", "rejected", "duplicate", "ignored")
ENDED_ITS_WORKER = "batch.worker_died"
ENDED_RETRY_SECONDS = 3600.0


def watch_inbox(ws: Workspace, config: Config, stop: threading.Event, *, lang: str = "zh",
                pdf: bool | None = None, settle: float | None = None, poll: bool | None = None,
                on_ready: Callable[[], None] | None = None,
                on_outcome: Callable[[Outcome], None] | None = None,
                on_error: Callable[[Path, CertpipeError], None] | None = None) -> None:
    """Watch ``ws.inbox`` until ``stop`` is set. ``pdf``, ``settle`` and ``poll`` default to
    certpipe.toml's ``[run]``/``[watch]``. ``on_ready()`` once the backlog is queued, ``on_outcome`` per
    processed file, ``on_error(path, error)`` when a file could not be finished for an outside reason
    (disk full, ledger busy): that file is tried again at the next rescan. Raises ``WorkspaceBusy``
    when another driver holds the workspace."""
    use_pdf = config.run.pdf if pdf is None else pdf
    if use_pdf:
        from pipeline.word.pdf import require_pdf_tools

        require_pdf_tools()
    with workspace_lock(ws, "watch"):
        prepare(ws)
        worker = Worker(ws, config, lang=lang, pdf=use_pdf)
        try:
            worker.start()  # before the driver opens the ledger: a forked child inherits no connection
            ledger = Ledger(ws.ledger)
        except BaseException:
            worker.close()
            raise

        def register() -> None:
            catch_up_quietly(ws, config, ledger, lang)
            try:
                refresh_register(ws, lang)
            except CertpipeError as exc:  # said, and written at the next idle moment
                log.warning("%s", exc.render(lang))
                if on_error:
                    on_error(ws.register, exc)
            if config.publish.dir:  # the public register: a failure is logged, written again next time
                from pipeline.flow.site import publish_after_batch

                publish_after_batch(ws, config, lang)

        def handle(path: Path) -> bool | float:
            try:
                outcome = worker.process(path)
            except CertpipeError as exc:
                log.warning("%s: %s", path.name, exc.render(lang))
                if on_error:
                    on_error(path, exc)
                return False
            log_outcome(outcome, lang)
            if on_outcome:
                on_outcome(outcome)
            if outcome.note is not None and outcome.note.key == ENDED_ITS_WORKER:
                return ENDED_RETRY_SECONDS
            return outcome.status in SETTLED

        try:
            if register_behind(ws, ledger):  # a watcher stopped before it was rewritten
                register()
            watcher = InboxWatcher(ws.inbox, handle,
                                   settle=config.watch.settle_seconds if settle is None else settle,
                                   poll=config.watch.poll if poll is None else poll)
            if on_ready:
                on_ready()
            watcher.run(stop, on_idle=register)
        finally:
            try:
                worker.close()  # no child outlives the watch
                with contextlib.suppress(CertpipeError):  # stopping: a claim still open is nobody's
                    ledger.clear_stale_claims()
            finally:
                ledger.close()
