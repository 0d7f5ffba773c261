"""``certpipe demo``: a new workspace, filled sample audits of every built-in standard in its inbox
(``excel/samples.py``), processed once by ``run_inbox``."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.excel.samples import samples, write_samples
from pipeline.flow.job import Outcome
from pipeline.flow.records import allocator
from pipeline.flow.run import BatchResult, run_inbox
from pipeline.flow.setup import init_workspace
from pipeline.flow.standards import all_standards
from pipeline.workspace import Workspace


@dataclass
class Demo:
    workspace: Workspace
    samples: list[Path]
    result: BatchResult


def make_demo(directory: Path, *, lang: str = "zh", pdf: bool = False,
              on_samples: Callable[[Workspace, list[Path]], None] | None = None,
              on_start: Callable[[int], None] | None = None,
              on_done: Callable[[Outcome], None] | None = None) -> Demo:
    """Make (or reuse) the workspace ``directory``, write the samples into its inbox, process them."""
    ws, config = init_workspace(directory)  # (with a signing key: certpipe verify reads the demo's QR codes)
    scratch = ws.scratch / "demo"
    standards = all_standards()
    by_key = {std.key: std for std in standards}
    with allocator(ws) as allocate:  # the samples' audits, recorded as if generated here
        for sample in samples(standards):
            allocate(by_key[sample.audit.standard_key], sample.audit.info)
    written = write_samples(standards, ws.inbox, scratch, lang=lang)
    shutil.rmtree(scratch, ignore_errors=True)
    if on_samples:
        on_samples(ws, written)
    result = run_inbox(ws, config, lang=lang, pdf=pdf, workers=config.run.workers, settle=0, on_start=on_start,
                       on_done=on_done)
    return Demo(ws, written, result)
