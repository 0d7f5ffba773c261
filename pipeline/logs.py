"""Logging for the drivers (``run``, ``watch``, ``demo``): every outcome and every error, with time,
file, audit id and reason, to stderr and to a rotating file ``logs/certpipe.log`` in the workspace.
``--log-format json`` writes one JSON object per line for log collectors.

One record is one line: whatever comes from outside (file names, audit ids, problem text) is made
one line of UTF-8 text (``one_line``), so a name cannot forge a line or break the file's encoding; a
traceback's lines are indented under their record. A log file that cannot be written (disk full,
read-only) costs the lines it loses and one warning on stderr, never a traceback.

Nothing writes under ``run``'s progress bar: its worker processes log to the file only
(``worker_logging(console=False)``), and while the bar is drawn the driver's own console lines are
printed above it, a file's outcome left to the summary that follows (``console_above``)."""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from pipeline.workspace import Workspace

log = logging.getLogger("pipeline")  # every module logger (pipeline.*) is below it
_FIELDS = ("file", "status", "audit_id", "total", "level", "revision", "certificate_no", "output", "reason")
_JSON_NAMES = {"level": "award"}
_LANG = {"lang": "zh"}  # of the warning that the log file cannot be written (set_language)

# control characters (C0, DEL, C1), line and paragraph separators, bidirectional overrides and
# surrogates (a file name that was not UTF-8, as os.fsdecode gives it)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape): shown as that byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def one_line(value: object) -> str:
    """``value`` as one line of printable UTF-8 text: control characters escaped (``\\n``, ``\\x1b``),
    surrogates as the byte they stand for (``\\xff``) or ``\\udxxx``."""
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception as exc:  # an object that cannot say what it is
        text = f"<{type(value).__name__}: {type(exc).__name__}>"
    return _UNSAFE.sub(_escape, text)


def _indented(text: str) -> str:
    """A traceback (many lines) under its record: each line indented, so no line of it can pass
    for a record of its own."""
    return "\n".join("    " + one_line(line) for line in text.rstrip("\n").split("\n"))


def _field(value: object) -> object:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else one_line(value)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname.lower(),
                "message": one_line(record.getMessage())}
        # the outcome's level is "award": "level" is the record's severity, as log collectors expect
        data |= {_JSON_NAMES.get(k, k): _field(getattr(record, k)) for k in _FIELDS
                 if getattr(record, k, None) not in (None, "")}
        if record.exc_info:
            data["error"] = "\n".join(one_line(line) for line in self.formatException(record.exc_info).split("\n"))
        return json.dumps(data, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        record.message = one_line(record.getMessage())
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        extra = " ".join(f"{k}={one_line(getattr(record, k))}" for k in _FIELDS
                         if k != "file" and getattr(record, k, None) not in (None, ""))
        if extra:
            line += f" [{extra}]"
        if record.exc_info:
            line += "\n" + _indented(self.formatException(record.exc_info))
        if record.stack_info:
            line += "\n" + _indented(self.formatStack(record.stack_info))
        return line


class QuietFileHandler(logging.handlers.RotatingFileHandler):
    """The log file, where a failed write (disk full, read-only, folder gone) costs the line, not a
    traceback on stderr: failures are counted (``failures``), the first is said once on stderr in one
    line, and the file is opened afresh for the next record, so logging resumes when it can."""

    def __init__(self, path: Path, **kw) -> None:
        super().__init__(path, delay=True, encoding="utf-8", **kw)
        self.failures = 0
        self.failing = False  # the last record was lost
        try:
            self.stream = self._open()
        except OSError as exc:
            self._failed(exc)

    def emit(self, record: logging.LogRecord) -> None:
        failures = self.failures
        super().emit(record)  # handleError on failure
        if self.failures == failures:
            self.failing = False

    def handleError(self, record: logging.LogRecord) -> None:
        self._failed(sys.exc_info()[1])

    def _failed(self, exc: BaseException | None) -> None:
        self.failures += 1
        self.failing = True
        stream, self.stream = self.stream, None  # what it holds may never be written: dropped
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()
        if self.failures == 1:
            with contextlib.suppress(Exception):
                from pipeline.i18n import t

                detail = f"{type(exc).__name__}: {exc}" if exc is not None else "?"
                sys.stderr.write(one_line(t("log.cannot_write", _LANG["lang"], path=self.baseFilename,
                                            detail=detail)) + "\n")
                sys.stderr.flush()


def set_language(lang: str) -> None:
    """The language of what logging itself says (the log file cannot be written)."""
    _LANG["lang"] = lang


def log_file() -> Path | None:
    """The log file, when there is one and its last record was written."""
    for handler in log.handlers:
        if isinstance(handler, QuietFileHandler) and not handler.failing:
            return Path(handler.baseFilename)
    return None


def setup_logging(ws: Workspace, *, verbosity: int = 0, fmt: str = "text") -> Path:
    """Console (stderr) at WARNING, INFO with -v, DEBUG with -vv, ERROR with -q; the file at INFO
    (when it cannot be written, the console still logs: see ``QuietFileHandler``)."""
    folder = ws.logs
    with contextlib.suppress(OSError):  # the file handler says why it cannot write there
        folder.mkdir(parents=True, exist_ok=True)
    path = ws.log_file
    formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    for handler in list(log.handlers):
        log.removeHandler(handler)
        with contextlib.suppress(Exception):
            handler.close()
    file_handler = QuietFileHandler(path, maxBytes=5 * 2**20, backupCount=5)
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


def log_format() -> str | None:
    """How this process logs to its file (``text``, ``json``), or None when it does not: what a worker
    process started by spawn is told, to log the same way (``worker_logging``)."""
    for handler in log.handlers:
        if isinstance(handler, QuietFileHandler):
            return "json" if isinstance(handler.formatter, JsonFormatter) else "text"
    return None


class _AppendHandler(logging.Handler):
    """A worker's records appended to its driver's log file, the file opened and closed for each
    (a worker logs little): it never holds the file the driver rotates (Windows could not rename it)."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.INFO)
        self.path = path

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except Exception:  # the driver's handler says it when the file cannot be written
            pass


def worker_logging(ws: Workspace, fmt: str | None, *, console: bool = True) -> None:
    """In a worker process, log as the driver does: into the workspace's log file and, with
    ``console``, WARNING and above on the console. A worker started by spawn (Windows; nothing
    inherited) is told how by ``fmt`` (its driver's ``log_format``); a forked one has its driver's
    handlers already. Without ``console`` (``run``'s workers, under the driver's progress bar) the
    worker never writes to the terminal: an inherited console handler is taken away, and Python's
    warnings (a library's, such as openpyxl's on a workbook's Excel extensions) go to the log file
    instead of stderr."""
    if fmt is not None and not log.handlers:
        formatter = JsonFormatter() if fmt == "json" else TextFormatter()
        handlers: list[logging.Handler] = [_AppendHandler(ws.log_file)]
        if console:
            handlers.append(logging.StreamHandler())
            handlers[-1].setLevel(logging.WARNING)
        for handler in handlers:
            handler.setFormatter(formatter)
            log.addHandler(handler)
        log.setLevel(logging.DEBUG)
        log.propagate = False
    if console:
        return
    for handler in _consoles():
        log.removeHandler(handler)  # (not closed: in a forked worker it is the driver's stderr too)
    to_file = [h for h in log.handlers if _is_file(h)]
    if to_file:
        logging.captureWarnings(True)
        warned = logging.getLogger("py.warnings")
        for handler in list(warned.handlers):
            warned.removeHandler(handler)
        for handler in to_file:
            warned.addHandler(handler)
        warned.propagate = False


def _is_file(handler: logging.Handler) -> bool:
    return isinstance(handler, logging.FileHandler | _AppendHandler)


def _consoles() -> list[logging.Handler]:
    """This process's console handlers (a stream, not the log file)."""
    return [h for h in log.handlers if isinstance(h, logging.StreamHandler) and not _is_file(h)]


@contextlib.contextmanager
def console_above(say: Callable[[str], None]) -> Iterator[None]:
    """While a progress display owns the terminal (``certpipe run``'s bar): a console log line that
    would go to the terminal is given to ``say`` instead (which prints it above the display), so no
    line breaks through it; a file's outcome line is left out of the terminal, as the display's
    summary has a row for each. The log file has everything, as always. A console that is not a
    terminal (stderr to a file or a pipe) keeps every line."""
    held = []
    for handler in _consoles():
        stream = getattr(handler, "stream", None)
        try:
            terminal = bool(stream is not None and stream.isatty())
        except (OSError, ValueError):
            terminal = False
        if terminal:
            above = _Above(handler, say)
            handler.addFilter(above)
            held.append((handler, above))
    try:
        yield
    finally:
        for handler, above in held:
            handler.removeFilter(above)


class _Above(logging.Filter):
    """``console_above``'s filter: it prints the record through ``say`` itself, so the handler does not."""

    def __init__(self, handler: logging.Handler, say: Callable[[str], None]) -> None:
        super().__init__()
        self.handler, self.say = handler, say

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status", None) is None:  # an outcome (log_outcome) has a status: the summary says it
            with contextlib.suppress(Exception):
                self.say(self.handler.format(record))
        return False


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
    _to_files(logging.ERROR, text + (f" — {hint}" if hint else ""))


def log_crash() -> None:
    """An unexpected exception (a bug): its traceback goes to the log file (``cli.main`` says it in
    one line on the console, with the traceback only when asked for ``-v``)."""
    exc_info = sys.exc_info()
    what = f": {exc_info[0].__name__}: {one_line(exc_info[1])}" if exc_info[0] is not None else ""
    _to_files(logging.CRITICAL, f"certpipe stopped on an unexpected error{what}", exc_info=exc_info)


def log_ignored(exc_type, exc_value, exc_traceback, what: str | None, obj: object) -> None:
    """An exception Python could not raise (in a ``__del__``, say): to the log file only."""
    try:
        where = repr(obj) if obj is not None else ""
    except Exception:
        where = type(obj).__name__
    _to_files(logging.WARNING, f"{what or 'Exception ignored in'}: {where}",
              exc_info=(exc_type, exc_value, exc_traceback))
