"""Data put into words for the terminal: level keys by their standard, an outcome's reason."""

from __future__ import annotations

from pipeline import api
from pipeline.workspace import Workspace


class LevelWords:
    """Level keys in words (``three-star`` → ``★★★ 三星``), each standard looked up once."""

    def __init__(self, ws: Workspace, lang: str) -> None:
        self.ws, self.lang, self.seen = ws, lang, {}

    def __call__(self, standard: str | None, level: str | None) -> str:
        if (standard, level) not in self.seen:
            self.seen[(standard, level)] = api.level_words(standard, level, self.lang, self.ws)
        return self.seen[(standard, level)]


def reason(problems: list, note, lang: str) -> str:
    """The first problem (and how many more), else the note: in words."""
    if problems:
        more = f" (+{len(problems) - 1})" if len(problems) > 1 else ""
        return problems[0].format(lang) + more
    return note.render(lang) if note is not None else ""
