"""Small result tables that a notebook shows as HTML and can paste into its text as Markdown.

A :class:`Table` is a header and rows of already formatted cells (strings); the functions that compute a
chapter's tables (:mod:`primekit.inference.summaries`, :mod:`primekit.energy.tables`,
:mod:`primekit.experiments.noise_verdicts`) format their numbers, so a test can check the cells. A cell in
backticks (```conv0```) is code: ``<code>`` in HTML, unchanged in Markdown. A notebook cell that ends with a
table shows it (``_repr_html_``); ``glue(name, table)`` stores its Markdown too, for ``{glue:md}``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Sequence

from primekit.checks import check_integer, check_number


def percent(fraction: float, digits: int = 1) -> str:
    """``0.9634`` -> ``"96.3 %"`` (a fraction shown in percent with ``digits`` decimals)."""
    fraction = check_number("fraction", fraction)
    digits = check_integer("digits", digits, 0)
    return f"{100 * fraction:.{digits}f} %"


def mean_spread(mean: float, spread: float) -> str:
    """An accuracy and its spread over chips, in percent: ``(0.9634, 0.012)`` -> ``"96.3 % ± 1.2"``."""
    return f"{percent(mean)} ± {100 * spread:.1f}"


#: A cell of more than this many characters, mostly letters, is prose: it may wrap (numbers never do).
PROSE_CHARS = 24
_PROSE_CLASS = ' class="prose"'


def _is_prose(cell: str) -> bool:
    letters = sum(c.isalpha() for c in cell)
    return len(cell) > PROSE_CHARS and letters > len(cell) / 2


def _html_cell(cell: str) -> str:
    if len(cell) >= 2 and cell.startswith("`") and cell.endswith("`"):
        return f"<code>{html.escape(cell[1:-1])}</code>"
    return html.escape(cell)


@dataclass(frozen=True)
class Table:
    """A header and rows of formatted cells; every row has as many cells as the header."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "header", tuple(str(h) for h in self.header))
        object.__setattr__(self, "rows", tuple(tuple(str(c) for c in row) for row in self.rows))
        if not self.header:
            raise ValueError("header is empty; a table needs at least one column")
        for number, row in enumerate(self.rows):
            if len(row) != len(self.header):
                raise ValueError(f"row {number} has {len(row)} cells {row!r}; the header has {len(self.header)}")

    @classmethod
    def of(cls, header: Sequence[str], rows: Sequence[Sequence[object]]) -> "Table":
        """A table from any sequences (cells are turned into strings with ``str``)."""
        return cls(tuple(header), tuple(tuple(row) for row in rows))

    def column(self, name: str) -> tuple[str, ...]:
        """The cells of the column headed ``name``."""
        if name not in self.header:
            raise ValueError(f"name={name!r} is not a column; the columns are {self.header}")
        i = self.header.index(name)
        return tuple(row[i] for row in self.rows)

    def markdown(self) -> str:
        """A pipe table (MyST / GitHub Markdown); ``|`` inside a cell is escaped."""
        def line(cells):
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
        return "\n".join([line(self.header), "|" + "---|" * len(self.header)] + [line(r) for r in self.rows])

    def html(self) -> str:
        """An HTML table (cells escaped; backticked cells as ``<code>``)."""
        def cells(row, tag):
            return "".join(f"<{tag}{_PROSE_CLASS if _is_prose(c) else ''}>{_html_cell(c)}</{tag}>" for c in row)
        body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in self.rows)
        # the class lets the book's stylesheet keep numbers on one line and scroll a table too wide for the column
        return (f'<div class="primekit-table"><table><thead><tr>{cells(self.header, "th")}</tr></thead>'
                f"<tbody>{body}</tbody></table></div>")

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_markdown_(self) -> str:
        return self.markdown()
