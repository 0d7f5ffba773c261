"""The replaceable process a driver's files are processed in: a hard time limit for ``watch``.

A native library stuck on a file (a call into C that never returns) cannot be interrupted; only the
process it runs in can be ended. So ``watch`` does not process files itself: a ``Worker`` keeps one
child process (started as ``run`` starts its workers, ``run.start_method()``: fork on Linux, spawn
elsewhere, the only way on Windows) and hands it one file at a time over a pipe. The child is
reused from file to file. It times its files like ``run``'s pool workers (``flow/timelimit.py``,
``end_overruns``) and ends itself when one is stuck ``grace`` seconds past its time limit. The
driver also waits no longer than a generous deadline (a library stuck while holding Python's lock
stops the child's watchdog too) and then ends the child itself. Either way the file fails alone
with the outcome ``run`` gives a file whose worker died (``batch.worker_died``), stays in the
inbox, and the next file gets a fresh child.

The child ignores Ctrl-C and SIGTERM (the driver decides when it stops: the file in hand is
finished first), and it ends when the driver closes the pipe, or dies: no child outlives its driver.
``run`` uses a process pool for the same reasons (``flow/run.py``), even for one worker; both
drivers take how processes start and how much grace an overrun gets from there."""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
from multiprocessing.connection import wait
from pathlib import Path

from pipeline.config import Config
from pipeline.errors import CertpipeError
from pipeline.flow import run
from pipeline.flow.job import Outcome, unexpected
from pipeline.flow.ledger import now
from pipeline.flow.setup import prepare
from pipeline.logs import log, log_format, worker_logging
from pipeline.workspace import Workspace

#: Seconds the driver gives a closing child to end by itself before it is ended.
CLOSE_WAIT = 10.0


class ChildError(Exception):
    """An error in the child that certpipe did not foresee (logged there; the file is tried again)."""


def _serve(conn, other, ws: Workspace, config: Config, lang: str, pdf: bool, grace: float,
           log_fmt: str | None = None) -> None:
    """The child: one file per message, until the pipe closes or ``None`` comes."""
    worker_logging(ws, log_fmt)  # (started by spawn: log where the driver does)
    if other is not None:
        other.close()  # (fork) the driver's end: when the driver dies, ``recv`` ends
    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):  # the driver stops it, after the file in hand
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    from pipeline.flow.process import Processor
    from pipeline.flow.timelimit import end_overruns

    end_overruns(grace)
    processor, failure = None, None
    try:
        processor = Processor(ws, config, lang=lang, pdf=pdf)
    except CertpipeError as exc:  # (the ledger locked, say): each file says so, and is tried again
        failure = ("refused", exc.message)
    except Exception as exc:
        log.exception("the worker could not start")
        failure = ("error", unexpected(exc))
    try:
        while True:
            try:
                path = conn.recv()
            except (EOFError, OSError):
                return
            if path is None:
                return
            if failure is not None:
                conn.send(failure)
                continue
            try:
                reply = ("done", processor.process(Path(path)))
            except CertpipeError as exc:  # not the file's fault: it stays in the inbox
                reply = ("refused", exc.message)
            except Exception as exc:
                log.exception("processing %s failed", path)
                reply = ("error", unexpected(exc))
            try:
                conn.send(reply)
            except (EOFError, OSError):
                return
    finally:
        if processor is not None:
            processor.close()


class Worker:
    """A child process that processes files for a driver, replaced when it dies or overruns.
    ``process(path)`` returns the file's outcome; raises ``CertpipeError`` (not the file's fault, as
    ``Processor.process``) or ``ChildError``. ``close()`` ends the child; a ``Worker`` is also a
    context manager. The child starts with the first file, or at ``start()``."""

    def __init__(self, ws: Workspace, config: Config, *, lang: str = "zh", pdf: bool = False,
                 grace: float | None = None) -> None:
        self.ws, self.config, self.lang, self.pdf = ws, config, lang, pdf
        self.grace = run.OVERRUN_GRACE if grace is None else grace
        self._ctx = multiprocessing.get_context(run.start_method())
        self._proc = None
        self._conn = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The child's process id, while there is one."""
        return self._proc.pid if self._proc is not None else None

    def deadline(self) -> float:
        """Seconds the driver waits for one file before it ends the child itself: every step's time
        limit (copying, checking, the claim's wait, rendering, the marked copy) and the grace, and as
        much again with PDFs (LibreOffice)."""
        limit = self.config.limits.seconds_per_file
        return (5 if self.pdf else 4) * limit + self.grace + 10

    def start(self) -> None:
        """Start the child now rather than with the first file (it loads while the driver gets ready)."""
        if self._proc is None:
            self._start()

    def _start(self) -> None:
        ours, theirs = self._ctx.Pipe()
        inherited = None if self._ctx.get_start_method() in ("spawn", "forkserver") else ours
        proc = self._ctx.Process(target=_serve, name="certpipe-worker", daemon=True,
                                 args=(theirs, inherited, self.ws, self.config, self.lang, self.pdf, self.grace,
                                       log_format()))
        proc.start()
        theirs.close()
        self._proc, self._conn = proc, ours

    def process(self, path: Path) -> Outcome:
        if self._proc is None:
            self._start()
        began = now()
        try:
            self._conn.send(str(path))
            ready = wait([self._conn, self._proc.sentinel], self.deadline())
            reply = self._conn.recv() if self._conn in ready else None
        except (EOFError, OSError):  # died before it answered
            reply = None
        except BaseException:  # a second Ctrl-C while it works: it goes with the driver
            self._end()
            raise
        if reply is None:
            overran = self._proc.is_alive()
            self._end()
            log.warning("the process handling %s %s; a new one takes the next file", path.name,
                        "overran its time limit and was ended" if overran else "died")
            finished = run.finished_meanwhile(self.ws, [path], began)
            if finished:
                return finished[0]
            prepare(self.ws)  # as ``run`` after a worker died: its claim and scratch folder are nobody's now
            return run.worker_died(path)
        kind, value = reply
        if kind == "refused":
            raise CertpipeError(value.key, value.params)
        if kind == "error":
            raise ChildError(value.render("en"))
        return value

    def _end(self) -> None:
        """End the child now (stuck, or the driver is going)."""
        proc, conn, self._proc, self._conn = self._proc, self._conn, None, None
        if proc is None:
            return
        with contextlib.suppress(Exception):
            conn.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)

    def close(self) -> None:
        """Ask the child to end (it has no file in hand between calls); end it if it does not."""
        proc, conn = self._proc, self._conn
        if proc is None:
            return
        with contextlib.suppress(Exception):
            conn.send(None)
        proc.join(CLOSE_WAIT)
        self._end()
