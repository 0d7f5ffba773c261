"""Listings for the terminal: a key, a file name, an audit id or a certificate number is never split.

- In a terminal, a table whose key columns keep their full width (only free text such as a reason
  wraps); when even that does not fit the window (80 columns and long file names), each row is
  shown as ``column: value`` lines instead of cutting anything.
- Piped or redirected, plain text: no colours, no box drawing, one line per row, columns apart by
  two spaces, nothing wrapped or cut. (Programs should rather read ``--json``.)"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

KEY, TEXT, NUMBER = "key", "text", "number"
TEXT_MIN = 16  # the narrowest a wrapping column is let to become


@dataclass
class Listing:
    """A table of plain text cells (never markup): ``columns`` are (header, kind), kind one of
    ``KEY`` (never split), ``TEXT`` (may wrap), ``NUMBER`` (never split, right-aligned)."""

    title: str
    columns: list[tuple[str, str]]
    rows: list[tuple[list[str], list[str | None]]] = field(default_factory=list)

    def add_row(self, *cells: object, styles: dict[int, str] | None = None) -> None:
        """A row; ``styles`` colours some cells in a terminal (column index → rich style)."""
        texts = ["" if c is None else str(c) for c in cells]
        self.rows.append((texts, [(styles or {}).get(i) for i in range(len(texts))]))

    def print(self, console: Console) -> None:
        if not console.is_terminal:
            self._plain(console)
            return
        if self._narrowest() <= console.width:
            console.print(self._table())
        else:
            self._stacked(console)

    def _narrowest(self) -> int:
        """The narrowest the table can be with every key whole: key and number columns as wide as
        their widest cell, a text column wide enough for ``TEXT_MIN`` cells (or its widest, if less),
        and each column's padding and border."""
        total = 1
        for i, (header, kind) in enumerate(self.columns):
            widest = max([cell_len(header), *(cell_len(cells[i]) for cells, _ in self.rows)])
            total += (min(widest, TEXT_MIN) if kind == TEXT else widest) + 3
        return total

    def _table(self) -> Table:
        table = Table(title=self.title)
        for header, kind in self.columns:
            if kind == TEXT:
                table.add_column(header, overflow="fold")
            else:
                table.add_column(header, no_wrap=True, overflow="ignore",
                                 justify="right" if kind == NUMBER else "left")
        for cells, styles in self.rows:
            table.add_row(*(Text(c, style=s or "") for c, s in zip(cells, styles, strict=True)))
        return table

    def _plain(self, console: Console) -> None:
        widths = [max([cell_len(h), *(cell_len(r[0][i]) for r in self.rows)]) for i, (h, _) in enumerate(self.columns)]

        def line(cells: list[str]) -> str:
            padded = [c + " " * (w - cell_len(c)) for c, w in zip(cells, widths, strict=True)]
            return "  ".join(padded).rstrip()

        say = dict(markup=False, highlight=False, soft_wrap=True, crop=False)
        console.print(self.title, **say)
        console.print(line([h for h, _ in self.columns]), **say)
        for cells, _ in self.rows:
            console.print(line(cells), **say)

    def _stacked(self, console: Console) -> None:
        say = dict(markup=False, highlight=False, soft_wrap=True, crop=False)
        console.print(self.title, style="bold", **say)
        for cells, styles in self.rows:
            console.print("", **say)
            for (header, _), cell, style in zip(self.columns, cells, styles, strict=True):
                if cell:
                    console.print(Text.assemble(f"{header}: ", (cell, style or "")), highlight=False, soft_wrap=True,
                                  crop=False)
