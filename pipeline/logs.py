"""Logging for the drivers (``run``, ``watch``, ``demo``): every outcome and every error, with time,
file, audit id and reason, to stderr and to a rotating file ``logs/certpipe.log`` in the workspace.
``--log-format json`` writes one JSON object per line for log collectors."""

from __future__ import annotations

import json
import logging
import logging.handlers
from pathlib import Path

from pipeline.workspace import Workspace

log = logging.getLogger("pipeline")  # every module logger (pipeline.*) is below it
_FIELDS = ("file", "status", "audit_id", "total", "level", "revision", "certificate_no", "output", "reason")
_JSON_NAMES = {"level": "award"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname.lower(),
                "message": record.getMessage()}
        # the outcome's level is "award": "level" is the record's severity, as log collectors expect
        data |= {_JSON_NAMES.get(k, k): getattr(record, k) for k in _FIELDS
                 if getattr(record, k, None) not in (None, "")}
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={getattr(record, k)}" for k in _FIELDS
                         if k != "file" and getattr(record, k, None) not in (None, ""))
        return super().format(record) + (f" [{extra}]" if extra else "")


def setup_logging(ws: Workspace, *, verbosity: int = 0, fmt: str = "text") -> Path:
    """Console (stderr) at WARNING, INFO with -v, DEBUG with -vv, ERROR with -q; the file at INFO."""
    folder = ws.logs
    folder.mkdir(parents=True, exist_ok=True)
    path = ws.log_file
    formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=5 * 2**20, backupCount=5, encoding="utf-8")
    file_handler.setFormatter(formatter)
    file_handler.setLevel(logging.INFO)
    console = logging.StreamHandler()
    console.setFormatter(formatter)
    console.setLevel({-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG))
    log.addHandler(file_handler)
    log.addHandler(console)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    return path


def log_outcome(outcome, lang: str = "zh") -> None:
    """One line per input: accepted at INFO, everything else at WARNING; the reason in ``lang``."""
    reason = (outcome.problems[0].format(lang) if outcome.problems
              else outcome.note.render(lang) if outcome.note else "")
    fields = {"file": outcome.name, "status": outcome.status, "audit_id": outcome.audit_id,
              "total": outcome.total, "level": outcome.level, "revision": outcome.revision,
              "certificate_no": outcome.certificate_no, "output": outcome.output, "reason": reason}
    level = logging.INFO if outcome.status in ("done", "duplicate") else logging.WARNING
    log.log(level, "%s %s %s", outcome.status, outcome.name, reason, extra=fields)


def _to_files(level: int, message: str, *, exc_info=None) -> None:
    """Write to the log file only: the console already shows the error (``cli.main`` prints it)."""
    handlers = [h for h in log.handlers if isinstance(h, logging.FileHandler)]
    if not handlers:  # this command does not log (validate, score, ...): nothing to add
        return
    record = log.makeRecord(log.name, level, __file__, 0, message, (), exc_info)
    for handler in handlers:
        if record.levelno >= handler.level:
            handler.handle(record)


def log_fatal(exc: Exception, lang: str) -> None:
    """A certpipe error that ended the command (ledger unwritable, workspace busy, ...)."""
    render = getattr(exc, "render", None)
    text = render(lang) if render else str(exc)
    hint = getattr(exc, "render_hint", lambda _lang: None)(lang)
    _to_files(logging.ERROR, text + (f"\n{hint}" if hint else ""))


def log_crash() -> None:
    """An unexpected exception (a bug): its traceback goes to the log file as well as the console."""
    import sys

    _to_files(logging.CRITICAL, "certpipe stopped on an unexpected error", exc_info=sys.exc_info())
