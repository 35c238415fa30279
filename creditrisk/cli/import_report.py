"""The import's problem report drawn for the terminal (the library only returns the data)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from creditrisk.ledger.validation import ImportReport


def report_table(report: ImportReport, *, limit: int = 20) -> Table:
    """The first ``limit`` problems as a rich table, titled with the totals."""
    shown = report.head(limit)
    more = report.count - len(shown)
    title = report.summary()
    caption = f"... and {more} more problem{'s' * (more != 1)}" if more > 0 else None
    table = Table(title=title, caption=caption, show_lines=False, header_style="bold")
    table.add_column("file", overflow="fold")
    table.add_column("row", justify="right", no_wrap=True)
    table.add_column("column", overflow="fold")
    table.add_column("value", overflow="fold")
    table.add_column("problem", overflow="fold")
    rows = shown["row_kind"] + " " + shown["row"].astype("string").fillna("")
    rows = rows.where(shown["row"].notna(), "whole file")
    for file, row, column, value, problem in zip(
        shown["file"], rows, shown["column"], shown["value"], shown["problem"], strict=True
    ):
        table.add_row(*(Text(str(cell)) for cell in (file, row, column, value, problem)))
    return table
