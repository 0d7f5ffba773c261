"""``certpipe run | watch | ledger | init | demo``: the inbox pipeline's drivers."""

from __future__ import annotations

import json
import shutil
import threading
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.cli.app import app, out, settings
from pipeline.config import Config, load_config
from pipeline.errors import CertpipeError, ConfigError
from pipeline.i18n import t
from pipeline.flow.job import Outcome
from pipeline.flow.ledger import Ledger
from pipeline.logs import log, log_outcome, setup_logging
from pipeline.workspace import Workspace


class LedgerStatus(StrEnum):
    done = "done"
    rejected = "rejected"
    duplicate = "duplicate"
    processing = "processing"
    retried = "retried"


SUMMARY_ROWS = 50  # above this, the summary lists only what was not reported (certpipe ledger has all)
STATUS_STYLE = {"done": "green", "rejected": "red", "duplicate": "yellow", "skipped": "dim", "failed": "bold red"}


def _workspace(s) -> tuple[Workspace, Config]:
    """The workspace and its configuration (checked before the command started)."""
    if not s.workspace.root.is_dir():
        raise ConfigError(key="run.no_workspace", params={"path": s.workspace.root})
    return s.workspace, s.config or load_config(s.workspace.config_file)


def _summary(outcomes: list[Outcome], seconds: float, lang: str) -> None:
    table = Table(title=t("run.summary", lang, seconds=f"{seconds:.1f}"))
    for col in ("file", "status", "audit", "result", "output"):
        table.add_column(t(f"run.col.{col}", lang), overflow="fold")
    shown = outcomes if len(outcomes) <= SUMMARY_ROWS else [o for o in outcomes if o.status != "done"]
    for o in sorted(shown, key=lambda o: o.name):
        if o.status == "done":
            result = f"{o.total} {o.level or t('run.no_level', lang)}" + (f" r{o.revision}" if o.revision else "")
        elif o.status == "rejected":
            more = f" (+{len(o.problems) - 1})" if len(o.problems) > 1 else ""
            result = (o.problems[0] if o.problems else "") + more
        else:
            result = o.note or ""
        style = STATUS_STYLE.get(o.status, "")
        table.add_row(escape(o.name), f"[{style}]{t(f'status.{o.status}', lang)}[/]", escape(o.audit_id or ""),
                      escape(result), escape(o.output or ""))
    if shown:
        out.print(table)
    if len(shown) < len(outcomes):
        out.print(t("run.summary_cut", lang, count=len(outcomes) - len(shown)))
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in STATUS_STYLE}
    out.print(t("run.counts", lang, **counts))


def run_once(ws: Workspace, config: Config, *, lang: str, pdf: bool, workers: int) -> list[Outcome]:
    from pipeline.flow.run import run_inbox

    if pdf:
        from pipeline.word.pdf import require_pdf_tools

        require_pdf_tools()
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=out, transient=True)
    task = None
    with progress:
        def start(total: int) -> None:
            nonlocal task
            task = progress.add_task(t("run.progress", lang), total=total)

        def done(outcome: Outcome) -> None:
            log_outcome(outcome)
            progress.advance(task)

        result = run_inbox(ws, config, lang=lang, pdf=pdf, workers=workers, on_start=start, on_done=done)
    if result.outcomes:
        _summary(result.outcomes, result.seconds, lang)
    else:
        out.print(t("run.empty", lang, inbox=ws.inbox))
    return result.outcomes


@app.command(short_help="处理收件箱一次 / process the inbox once")
def run(
    ctx: typer.Context,
    pdf: Annotated[bool | None, typer.Option(
        "--pdf/--no-pdf", help="同时生成 PDF（需 LibreOffice）/ also make PDFs")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-j", min=1,
                                                help="并行进程数（默认：CPU 核数）/ worker processes")] = None,
) -> None:
    """处理收件箱中的全部评分表一次，退出码：0 全部通过，1 有退回，2 配置错误。

    Process everything in the inbox once; exit 0 all accepted, 1 any rejected, 2 configuration error."""
    s = settings(ctx)
    ws, config = _workspace(s)
    setup_logging(ws, verbosity=s.verbosity, fmt=s.log_format)
    outcomes = run_once(ws, config, lang=s.lang, pdf=config.run.pdf if pdf is None else pdf,
                        workers=workers or config.run.workers)
    bad = any(o.status in ("rejected", "failed") for o in outcomes)
    raise typer.Exit(1 if bad else 0)


@app.command(short_help="持续监视收件箱 / watch the inbox")
def watch(
    ctx: typer.Context,
    poll: Annotated[bool | None, typer.Option(
        "--poll/--no-poll", help="轮询模式（网络共享目录）/ poll (network shares)")] = None,
    pdf: Annotated[bool | None, typer.Option("--pdf/--no-pdf", help="同时生成 PDF / also make PDFs")] = None,
    settle: Annotated[float | None, typer.Option("--settle", min=0, help="文件稳定等待秒数 / settle seconds")] = None,
) -> None:
    """持续监视收件箱：先处理积压文件，然后逐个处理新放入的评分表，Ctrl-C 或 SIGTERM 结束。

    Watch the inbox: process the backlog, then each workbook as it settles, until Ctrl-C / SIGTERM."""
    from pipeline.flow.run import prepare, refresh_register
    from pipeline.lock import workspace_lock
    from pipeline.flow.process import Processor
    from pipeline.flow.watcher import InboxWatcher, stop_on_signals

    s = settings(ctx)
    lang = s.lang
    ws, config = _workspace(s)
    use_pdf = config.run.pdf if pdf is None else pdf
    setup_logging(ws, verbosity=s.verbosity, fmt=s.log_format)
    if use_pdf:
        from pipeline.word.pdf import require_pdf_tools

        require_pdf_tools()
    with workspace_lock(ws, "watch"):
        prepare(ws)
        processor = Processor(ws, config, lang=lang, pdf=use_pdf)

        def handle(path: Path) -> bool:
            try:
                outcome = processor.process(path)
            except CertpipeError as exc:  # disk full, ledger busy...: said plainly, tried again later
                log.warning("%s: %s", path.name, exc.render(lang))
                out.print("[red]✗[/] " + escape(f"{path.name}: {exc.render(lang)}"), highlight=False)
                return False
            log_outcome(outcome)
            style = STATUS_STYLE.get(outcome.status, "")
            detail = outcome.problems[0] if outcome.problems else (outcome.level or outcome.note or "")
            out.print(f"[{style}]{t(f'status.{outcome.status}', lang)}[/] "
                      + escape(f"{outcome.name} {outcome.audit_id or ''} {outcome.total or ''} {detail}"),
                      highlight=False)
            return outcome.status in ("done", "rejected", "duplicate")

        out.print(t("watch.started", lang, inbox=ws.inbox))
        stop = threading.Event()
        try:
            with stop_on_signals(stop):
                InboxWatcher(ws.inbox, handle, settle=config.watch.settle_seconds if settle is None else settle,
                             poll=config.watch.poll if poll is None else poll).run(
                    stop, on_idle=lambda: refresh_register(ws, lang))
        except KeyboardInterrupt:  # a second Ctrl-C: stop at once; the file in hand is redone next time
            pass
        finally:
            processor.close()
        out.print(t("watch.stopped", lang))


@app.command(short_help="账本：每个输入的结果 / what happened to every input")
def ledger(
    ctx: typer.Context,
    status: Annotated[LedgerStatus | None, typer.Option(
        "--status", help="只列出此结果 / only this outcome: done | rejected | duplicate | processing")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """列出账本：每个输入文件的处理结果 / list what happened to every input."""
    s = settings(ctx)
    path = s.workspace.state / "ledger.sqlite"
    rows = []
    if path.exists():
        with Ledger(path) as ledger:
            rows = ledger.rows(status.value if status else None)
    if as_json:
        print(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=2))
        return
    table = Table(title=t("ledger.title", s.lang))
    for col in ("id", "file", "status", "audit", "revision", "result", "certificate", "time"):
        table.add_column(t(f"ledger.col.{col}", s.lang), overflow="fold")
    for r in rows:
        result = f"{r.total} {r.level or ''}" if r.status == "done" else (r.first_problem or r.note or "")
        table.add_row(str(r.id), escape(r.name), t(f"status.{r.status}", s.lang), escape(r.audit_id or ""),
                      str(r.revision or ""), escape(result), r.certificate_no or "", r.finished_at or r.received_at)
    out.print(table)


def init_workspace(root: Path) -> tuple[Workspace, Config]:
    """Make the workspace's folders and a commented certpipe.toml; an existing certpipe.toml is
    checked first, so a broken one stops before anything is made."""
    root = root.resolve()
    config = load_config(root / "certpipe.toml")
    ws = Workspace.configured(root, config)
    for folder in (ws.inbox, ws.outbox, ws.archive, ws.standards, ws.templates):
        folder.mkdir(parents=True, exist_ok=True)
    if not ws.config_file.exists():
        ws.config_file.write_text(files("pipeline").joinpath("certpipe.toml").read_text(encoding="utf-8"),
                                  encoding="utf-8")
    return ws, config


@app.command(short_help="创建空工作区 / make an empty workspace")
def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="新工作区目录 / folder of the new workspace")],
) -> None:
    """创建空工作区（含带注释的 certpipe.toml）/ make an empty workspace with a commented certpipe.toml."""
    s = settings(ctx)
    ws, _ = init_workspace(directory)
    out.print(t("init.done", s.lang, path=ws.root))


@app.command(short_help="演示：样例评分表全流程 / demo: sample audits end to end")
def demo(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="演示工作区目录 / demo workspace folder")] = Path("demo"),
    pdf: Annotated[bool, typer.Option("--pdf", help="同时生成 PDF / also make PDFs")] = False,
) -> None:
    """演示：创建工作区，为每个内置标准写入已填写的样例评分表并处理，然后说明去哪里看结果。

    Demo: a workspace with filled sample audits for every built-in standard, processed."""
    from pipeline.excel.samples import write_samples
    from pipeline.core.definition import all_standards

    s = settings(ctx)
    lang = s.lang
    ws, config = init_workspace(directory)
    setup_logging(ws, verbosity=s.verbosity, fmt=s.log_format)
    standards = all_standards(None, lang)
    scratch = ws.state / "demo-scratch"
    written = write_samples(standards, ws.inbox, scratch, lang=lang)
    shutil.rmtree(scratch, ignore_errors=True)
    out.print(t("demo.written", lang, count=len(written), inbox=ws.inbox))
    run_once(ws, config, lang=lang, pdf=pdf, workers=config.run.workers)
    out.print(t("demo.look", lang, outbox=ws.outbox, rejected=ws.rejected, register=ws.outbox / "register.xlsx",
                root=ws.root))
