"""The ``certpipe watch`` driver's watcher: file-system events on the inbox → "this file is complete,
process it now" calls.

Events only prompt a check; they are never trusted to say a file is finished (docs/architecture.md,
"Pitfalls"). A watchdog observer (``PollingObserver`` with ``poll=True``, for SMB/NFS shares) puts the
names it hears about into a pending set; the loop in ``run`` wakes every ~100 ms, stats the pending
names, and hands a file over when its fingerprint (size, mtime_ns, inode) has not changed for
``settle`` seconds and its zip reads. A full rescan of the inbox every ``rescan_interval`` seconds
(and whenever the observer has to be restarted) catches events that were lost.

Everything that calls ``handle`` runs in the caller's thread, one file at a time; the observer
thread only adds names to a set.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from pipeline.flow.inbox import (
    Fingerprint,
    fingerprint,
    is_candidate,
    name_counts,
    needs_zip_check,
    readable_zip,
)

log = logging.getLogger(__name__)

__all__ = ["InboxWatcher", "fingerprint", "is_candidate", "readable_zip", "stop_on_signals"]

#: Event kinds that can mean "this name has new content, or is gone". Opened / closed-without-write
#: are ignored: reading a file (our own ``readable_zip``, the processing step) produces them.
_PROMPTING_EVENTS = frozenset({"created", "modified", "moved", "closed", "deleted", "attrib"})

#: Longest sleep of the loop between checks.
MAX_TICK = 0.1
#: Seconds between attempts to restart an observer that failed or died.
OBSERVER_RETRY = 5.0


def _drop_shutdown_race(record: logging.LogRecord) -> bool:
    """watchdog logs an ERROR when its inotify emitter is stopped while reading an event, a harmless
    race on every Ctrl-C; keep it off the user's console."""
    return "called when the thread is inactive" not in record.getMessage()


logging.getLogger("watchdog.observers.inotify").addFilter(_drop_shutdown_race)


@dataclass
class _Track:
    fp: Fingerprint
    since: float  # clock() when this fingerprint was first seen


class _Prompt(FileSystemEventHandler):
    """Runs in the observer's thread: turns events into pending names, nothing else."""

    def __init__(self, watcher: InboxWatcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in _PROMPTING_EVENTS:
            return
        self._watcher._prompt(event.src_path)
        dest = getattr(event, "dest_path", "")
        if dest:
            self._watcher._prompt(dest)


def _special(path: Path) -> Fingerprint | None:
    """An entry named like a workbook that is no regular file (a link to nothing, a pipe, a folder):
    handed over once, to be reported and left alone (``-1`` marks it: it is never opened here)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (-1, st.st_mtime_ns, st.st_ino)


class InboxWatcher:
    """Hands each complete file in ``inbox`` to ``handle`` exactly once per content version.
    ``handle`` returns False (or raises) when it could not finish a file for a reason outside the
    file; the file is then tried again at the next rescan. It returns a number of seconds for a
    version to be tried again that long afterwards, unchanged (a file that ended the process handling
    it: whatever held it, a slow share say, may be gone by then).

    ``settle``: seconds a file's fingerprint must stay unchanged. ``grace``: extra seconds a settled
    file may stay unreadable as a zip before it is handed over anyway, so the processing step rejects
    it with a reason (default ``3 * settle``). ``poll``: use watchdog's PollingObserver (network
    shares) checking every ``poll_interval`` seconds. ``rescan_interval``: seconds between full
    rescans of the inbox. ``clock``: monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        inbox: Path,
        handle: Callable[[Path], object],
        *,
        settle: float = 1.0,
        poll: bool = False,
        poll_interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        grace: float | None = None,
        rescan_interval: float = 30.0,
    ) -> None:
        if settle < 0 or poll_interval <= 0 or rescan_interval <= 0:
            raise ValueError("settle must be >= 0, poll_interval and rescan_interval > 0")
        self.inbox = Path(inbox).absolute()
        self.handle = handle
        self.settle = float(settle)
        self.grace = 3 * self.settle if grace is None else float(grace)
        self.poll = poll
        self.poll_interval = float(poll_interval)
        self.rescan_interval = float(rescan_interval)
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: set[str] = set()  # names prompted by events or rescans (any thread)
        self._tracked: dict[str, _Track] = {}  # names being watched until settled (loop thread only)
        self._done: dict[str, Fingerprint] = {}  # name → fingerprint it had when handed over
        self._again: dict[str, float] = {}  # name → when its version handed over is tried again
        self._observer = None
        self._next_rescan = 0.0
        self._next_observer_try = 0.0
        self._watched: tuple[int, int] | None = None  # (st_dev, st_ino) of the directory watched

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, stop: threading.Event, on_idle: Callable[[], object] | None = None) -> None:
        """Process the backlog (every candidate already in the inbox) first, then watch until ``stop``
        is set. ``handle`` is called from this thread only, one file at a time; when ``stop`` is set
        during a call, ``run`` returns after it. Exceptions from ``handle`` are logged and the
        watcher carries on. ``on_idle`` is called after a pass that handed files over once nothing is
        pending (to refresh what summarises a burst of files, like the register). Raises
        FileNotFoundError when the inbox is not a directory."""
        if not self.inbox.is_dir():
            raise FileNotFoundError(f"inbox is not a directory: {self.inbox}")
        tick = min(MAX_TICK, max(0.01, self.settle / 4))
        self._ensure_observer()  # before the backlog scan, so nothing created in between is missed
        self.rescan()
        owed = False
        try:
            while not stop.is_set():
                self._ensure_observer()
                if self.clock() >= self._next_rescan:
                    self.rescan()
                owed = self.check(stop) > 0 or owed
                if owed and on_idle is not None and self.idle():
                    owed = False
                    on_idle()
                stop.wait(tick)
            if owed and on_idle is not None:
                on_idle()
        finally:
            self._stop_observer()

    def rescan(self) -> None:
        """Put every candidate in the inbox into the pending set and forget what has left it."""
        self._next_rescan = self.clock() + self.rescan_interval
        try:
            with os.scandir(self.inbox) as entries:
                names = {e.name for e in entries if name_counts(e.name)}
        except OSError as exc:
            log.warning("cannot list the inbox %s: %s", self.inbox, exc)
            return
        for gone in set(self._done) - names:
            del self._done[gone]
        now = self.clock()
        for name, when in list(self._again.items()):
            if when <= now or name not in self._done:
                del self._again[name]
                self._done.pop(name, None)
        with self._lock:
            self._pending |= names

    def check(self, stop: threading.Event | None = None) -> int:
        """One pass: take the pending names, re-check every tracked file, hand over the complete ones
        (in name order). Returns how many were handed over. Stops handing over once ``stop`` is set."""
        with self._lock:
            fresh, self._pending = self._pending, set()
        for name in fresh:
            self._tracked.setdefault(name, _Track(fp=(-1, -1, -1), since=self.clock()))
        handed = 0
        for name in sorted(self._tracked):
            if stop is not None and stop.is_set():
                break
            if self._ready(name):
                self._hand_over(name)
                handed += 1
        return handed

    def idle(self) -> bool:
        """True when no file is pending or waiting to settle (for tests and status lines)."""
        with self._lock:
            return not self._pending and not self._tracked

    def _ready(self, name: str) -> bool:
        """Update ``name``'s tracking; True when it should be handed over now."""
        path = self.inbox / name
        fp = fingerprint(path, follow=False) or _special(path)
        now = self.clock()
        if fp is None:  # gone
            self._tracked.pop(name, None)
            self._done.pop(name, None)
            return False
        if self._done.get(name) == fp:  # this version was handed over already
            self._tracked.pop(name, None)
            return False
        track = self._tracked[name]
        if track.fp != fp:
            track.fp, track.since = fp, now
            return False
        waited = now - track.since
        if waited < self.settle:
            return False
        if fp[0] < 0 or not needs_zip_check(path) or readable_zip(path):  # (no zip to wait for in a pipe)
            return True
        if waited >= self.settle + self.grace:
            log.info("%s is still unreadable after %.1f s; handing it over to be rejected", path, waited)
            return True
        return False

    def _hand_over(self, name: str) -> None:
        path = self.inbox / name
        fp = self._tracked.pop(name).fp
        self._done[name] = fp
        log.info("handing over %s", path)
        finished = False
        try:
            said = self.handle(path)
            finished = said is not False
            if isinstance(said, (int, float)) and not isinstance(said, bool):
                self._again[name] = self.clock() + said
        except Exception:
            log.exception("processing %s failed; the watcher carries on", path)
        after = fingerprint(path, follow=False) or _special(path)
        if after is None or not finished:
            # gone, or not finished for a reason outside the file (ledger busy, disk full, ...):
            # forget it, so the next rescan (rescan_interval) hands it over again
            self._done.pop(name, None)
        elif after != fp:  # changed while being processed: a new version, watch it again
            with self._lock:
                self._pending.add(name)

    # -- events -----------------------------------------------------------------------------------

    def _prompt(self, raw_path: str | bytes) -> None:
        """Observer thread: note a name directly inside the inbox that may count."""
        path = os.fsdecode(raw_path)
        name = os.path.basename(path)
        if not name_counts(name) or Path(os.path.dirname(path)).absolute() != self.inbox:
            return
        with self._lock:
            self._pending.add(name)

    def _inbox_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.inbox)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def _observer_healthy(self) -> bool:
        """Alive, and still watching the directory that is at the inbox's path: an inotify watch
        follows a renamed directory, and a deleted one ends its emitter."""
        obs = self._observer
        if obs is None or not obs.is_alive() or not all(e.is_alive() for e in list(obs.emitters)):
            return False
        return self._inbox_identity() == self._watched

    def _ensure_observer(self) -> None:
        """Start the observer, or restart it after it died (inbox deleted or unmounted). When the
        native one cannot start, polling is used; when neither can, the start is retried every
        OBSERVER_RETRY seconds and the periodic rescan still works. Any (re)start triggers a rescan."""
        if self._observer_healthy() or self.clock() < self._next_observer_try:
            return
        if self._observer is not None:
            log.warning("the watch on %s stopped; restarting it", self.inbox)
            self._stop_observer()
        self._next_observer_try = self.clock() + OBSERVER_RETRY  # at most one attempt per interval
        kinds = ["polling"] if self.poll else ["native", "polling"]
        for kind in kinds:
            observer = self._start(kind)
            if observer is not None:
                self._observer = observer
                self._next_rescan = self.clock()  # events may have been lost while there was no watch
                return
        log.warning("cannot watch %s; relying on rescans, retrying in %.0f s", self.inbox, OBSERVER_RETRY)

    def _start(self, kind: str):
        """Start an observer (inotify et al. or polling); None when it cannot start (too many inotify
        watches or instances, inbox gone). A native failure falls back to polling."""
        observer = PollingObserver(timeout=self.poll_interval) if kind == "polling" else Observer()
        self._watched = self._inbox_identity()
        try:
            observer.schedule(_Prompt(self), str(self.inbox), recursive=False)
            observer.start()
        except OSError as exc:
            log.warning("cannot start the %s watch on %s: %s", kind, self.inbox, exc)
            with contextlib.suppress(Exception):
                observer.stop()
            return None
        return observer

    def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        if observer is None:
            return
        with contextlib.suppress(Exception):
            observer.stop()
            if observer.is_alive():
                observer.join(timeout=max(2.0, 2 * self.poll_interval))


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """While inside, SIGINT (Ctrl-C), SIGTERM and, on Windows, SIGBREAK set ``stop`` instead of
    interrupting, so the file in hand is finished; a second signal raises KeyboardInterrupt for an
    impatient user. Must be used in the main thread. Restores the previous handlers on exit."""
    signals = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGBREAK"):  # Windows: Ctrl-Break, and what a service manager may send
        signals.append(signal.SIGBREAK)

    def on_signal(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        log.info("signal %s: finishing the file in hand, then stopping", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in signals}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
