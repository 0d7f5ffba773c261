"""The inbox: processed once (``run``) or watched (``watch``), and the demo workspace."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.api.workspace import open_workspace
from pipeline.errors import CertpipeError
from pipeline.workspace import Workspace

if TYPE_CHECKING:
    from pipeline.flow.demo import Demo
    from pipeline.flow.job import Outcome
    from pipeline.flow.run import BatchResult


def run_inbox(workspace: Path | str | Workspace | None = None, *, pdf: bool | None = None,
              workers: int | None = None, lang: str | None = None,
              on_start: Callable[[int], None] | None = None,
              on_done: Callable[[Outcome], None] | None = None) -> BatchResult:
    """Process everything in the inbox once (``certpipe run``); ``pdf``, ``workers`` and ``lang`` (of
    the documents) default to certpipe.toml. Returns every ``Outcome``."""
    from pipeline.flow.run import run_inbox as run

    ws, config = open_workspace(workspace)
    return run(ws, config, lang=lang or config.lang, pdf=config.run.pdf if pdf is None else pdf,
               workers=workers or config.run.workers, on_start=on_start, on_done=on_done)


def watch_inbox(workspace: Path | str | Workspace | None = None, *, stop: threading.Event,
                pdf: bool | None = None, settle: float | None = None, poll: bool | None = None,
                lang: str | None = None, on_ready: Callable[[], None] | None = None,
                on_outcome: Callable[[Outcome], None] | None = None,
                on_error: Callable[[Path, CertpipeError], None] | None = None) -> None:
    """Watch the inbox (``certpipe watch``) until ``stop`` is set: the backlog first, then each file
    once it has settled. Run it in a thread, or in the main thread inside ``stop_on_signals(stop)``."""
    from pipeline.flow.watch import watch_inbox as watch

    ws, config = open_workspace(workspace)
    watch(ws, config, stop, lang=lang or config.lang, pdf=pdf, settle=settle, poll=poll, on_ready=on_ready,
          on_outcome=on_outcome, on_error=on_error)


def stop_on_signals(stop: threading.Event):
    """A context manager: Ctrl-C and SIGTERM set ``stop`` (a second one interrupts at once)."""
    from pipeline.flow.watcher import stop_on_signals as on_signals

    return on_signals(stop)


def make_demo(directory: Path | str = "demo", *, lang: str = "zh", pdf: bool = False,
              on_samples: Callable[[Workspace, list[Path]], None] | None = None,
              on_start: Callable[[int], None] | None = None,
              on_done: Callable[[Outcome], None] | None = None) -> Demo:
    """``certpipe demo``: a workspace with filled sample audits of every built-in standard, processed.
    Returns a ``Demo`` (``workspace``, ``samples``, ``result``)."""
    from pipeline.flow.demo import make_demo as demo

    return demo(Path(directory), lang=lang, pdf=pdf, on_samples=on_samples, on_start=on_start, on_done=on_done)
