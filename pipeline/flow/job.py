"""An input on its way through ``process.Processor``: what is known of it after each step, and the
outcome reported for it; with the file-level helpers the steps share."""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.scoring import ScoreCard
from pipeline.excel.checks import Problem
from pipeline.flow.intake_file import Identity
from pipeline.i18n import Message


@dataclass(slots=True)  # a run keeps one per input for its summary: no __dict__ each
class Outcome:
    """What became of one input, as data: ``level`` is the level's key (words: ``standard``'s
    ``describe_level``), ``problems`` and ``note`` are rendered where they are shown."""

    name: str
    status: str  # done | rejected | duplicate | skipped | waiting | ignored | failed
    audit_id: str | None = None
    output: str | None = None
    total: str | None = None
    level: str | None = None
    revision: int | None = None
    certificate_no: str | None = None
    problems: list[Problem] = field(default_factory=list)
    note: Message | None = None
    seconds: float = 0.0
    standard: str | None = None

    def to_json(self, lang: str = "zh") -> dict:
        """Plain data: each problem as its key, parameters, place and words in ``lang``; the note too."""
        data = {name: getattr(self, name) for name in self.__slots__}
        data["problems"] = [p.to_json() | {"text": p.format(lang)} for p in self.problems]
        data["note"] = self.note.to_json() | {"text": self.note.render(lang)} if self.note is not None else None
        return data


@dataclass
class Job:
    """One input on its way through a group."""

    path: Path
    name: str
    started: float
    stage: Path | None = None
    staged: Path | None = None  # the copy taken from the inbox, processed and archived (None: too large)
    identity: Identity | None = None  # which inbox file was taken (released only if still the same)
    row: int | None = None  # the ledger row claimed for it
    sha: str = ""
    spent: float = 0.0  # seconds of its time limit used by checking
    problems: list[Problem] = field(default_factory=list)
    audit: object = None  # accepted: the audit, its standard and score card
    std: object = None
    card: ScoreCard | None = None
    revision: int = 0
    certificate: object = None
    details: dict | None = None
    plan: object = None  # core.certify.Plan: what the result means for certificates
    audit_id: str | None = None  # the audit id a rejected workbook names, when readable
    type_cell: object = None  # where the workbook's audit type is (a refusal by the records is marked there)
    end_cell: object = None  # where its end date is (a surveillance that ended before its certificate was issued)
    id_cell: object = None  # where its audit id is (another content of the same audit in the same batch)
    files: list[Path] = field(default_factory=list)  # documents written (PDFs are made of them)
    folder: Path | None = None  # what is published, made in staging
    dest: Path | None = None  # where it was published
    sealed: bool = False  # its folder and staged copy are on disk (publish.seal)
    finished: bool = False  # its outcome is in the ledger
    again: bool = False  # its content was in another worker's hands: tried again after the group
    outcome: Outcome | None = None
    error: BaseException | None = None

    @property
    def live(self) -> bool:
        return self.outcome is None and self.error is None and not self.again


def shown_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (a name from another system) become U+FFFD, so
    the ledger, logs and folders can hold it."""
    return os.fsencode(name).decode("utf-8", "replace")


def unexpected(exc: BaseException) -> Message:
    """An error certpipe did not foresee, as the note of a ``failed`` outcome."""
    return Message("err.unexpected", {"detail": f"{type(exc).__name__}: {exc}"})


def no_space(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def copy_file(src: Path, dest: Path) -> None:
    """``dest`` as a second name of ``src`` where the file system allows it, else a copy."""
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def rejected_folder(parent: Path, name: str, sha: str) -> Path:
    """``_rejected/<stem>``, or ``<stem>-2``… when taken by other content; the folder of the same
    content is reused, so a run repeated after a crash does not leave a second copy."""
    candidate, n = parent / name, 2
    while candidate.exists():
        marker = candidate / ".sha256"
        if marker.is_file() and marker.read_text() == sha:
            break
        candidate, n = parent / f"{name}-{n}", n + 1
    return candidate
