"""The import's problem report: source files as read, and one problem per row and column.

A problem names the file, the row as the user sees it (CSV: the line number, the header being
line 1; Parquet: the 1-based record number), the source column, the original value and what
is wrong, in words a credit analyst understands. A source row with any problem is
*rejected*. Drawing the report (a table on the terminal) is the CLI's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from creditrisk.ledger.frame import TABLE_COLUMNS
from creditrisk.ledger.mapping import SourceFormat

RowKind = Literal["line", "row"]

REPORT_COLUMNS = ["file", "row_kind", "row", "column", "value", "problem"]
_INTERNAL_COLUMNS = ["_source", "_pos"]


@dataclass(frozen=True)
class SourceFrame:
    """One source file as read: its original columns and values and their row numbers.

    ``raw`` keeps the values exactly as read (CSV cells are text) so that rejected rows can
    be written back unchanged; ``row_numbers`` are what the user sees (CSV line numbers with
    the header on line 1, or 1-based Parquet records).
    """

    table: str
    path: Path
    format: SourceFormat
    raw: pd.DataFrame
    row_numbers: np.ndarray
    delimiter: str = ","
    encoding: str = "utf-8"
    dropped: Mapping[str, int] = field(default_factory=dict)
    """Rows counted before validation: left out, by reason (``filtered_out``: the mapping's
    filters; ``not_routed``: a value its route does not map; ``exact_duplicates``:
    ``drop_duplicates``), and routed, per target (``routed_invoices``,
    ``routed_credit_notes``)."""

    @property
    def row_kind(self) -> RowKind:
        return "line" if self.format == "csv" else "row"

    @property
    def n_rows(self) -> int:
        return len(self.raw)


@dataclass(frozen=True)
class ImportReport:
    """All problems found in an import, one row each, in file and row order.

    Columns: ``file``, ``row_kind`` (``line`` for CSV, ``row`` for Parquet), ``row`` (empty
    for problems with the whole file), ``column``, ``value``, ``problem``.
    """

    problems: pd.DataFrame
    rejected_rows: Mapping[str, int] = field(default_factory=dict)
    rule_rows: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """Per source table, rows per mapping rule: ``filtered_out``, ``not_routed``,
    ``exact_duplicates``, ``routed_invoices`` / ``routed_credit_notes``,
    ``<rule>_rejected`` / ``<rule>_repaired`` / ``<rule>_flagged`` for the data-quality rules
    (``due_before_issue``, ``settled_before_issue``, ``zero_amount``)."""

    @property
    def count(self) -> int:
        return len(self.problems)

    @property
    def ok(self) -> bool:
        return bool(self.problems.empty)

    @property
    def has_file_problems(self) -> bool:
        """A whole file is unusable (missing, empty, wrong delimiter/encoding, missing column)."""
        return bool(self.problems["row"].isna().any())

    @property
    def n_rejected_rows(self) -> int:
        return int(sum(self.rejected_rows.values()))

    def head(self, n: int = 20) -> pd.DataFrame:
        """The first ``n`` problems, user columns only."""
        return self.problems[REPORT_COLUMNS].head(n).reset_index(drop=True)

    def summary(self) -> str:
        """One sentence: how many problems in how many rows and files."""
        files = self.problems["file"].nunique()
        rows = self.n_rejected_rows
        text = f"{self.count} problem{'s' * (self.count != 1)}"
        if rows:
            text += f" in {rows} row{'s' * (rows != 1)}"
        return text + f" of {files} file{'s' * (files != 1)}"

    def rules_summary(self) -> str:
        """One line per table with what the mapping's rules did (empty when nothing)."""
        lines = []
        for table, counts in self.rule_rows.items():
            shown = ", ".join(f"{rule} {n:,}" for rule, n in counts.items() if n)
            if shown:
                lines.append(f"{table}: {shown}")
        return "\n".join(lines)



class ProblemLog:
    """Collects problems as small frames (one per check) and knows which rows are bad."""

    def __init__(self, sources: Mapping[str, SourceFrame]) -> None:
        self._sources = sources
        self._frames: list[pd.DataFrame] = []
        self.unusable: set[str] = set()
        """Sources with a problem in the whole file (unreadable, missing columns)."""
        self._bad: dict[str, np.ndarray] = {
            name: np.zeros(src.n_rows, dtype=bool) for name, src in sources.items()
        }
        self._rule_rows: dict[str, dict[str, int]] = {
            name: dict(src.dropped) for name, src in sources.items() if src.dropped
        }

    def count_rule(self, source: str, rule: str, n_rows: int) -> None:
        """Count rows a mapping rule acted on (``due_before_issue_repaired``, ...)."""
        if n_rows:
            counts = self._rule_rows.setdefault(source, {})
            counts[rule] = counts.get(rule, 0) + int(n_rows)

    def add_rows(
        self,
        source: str,
        mask: np.ndarray | pd.Series,
        column: str,
        problem: str | pd.Series,
        *,
        about: str | None = None,
        values: pd.Series | None = None,
    ) -> None:
        """Record ``problem`` for every row where ``mask`` holds.

        ``problem`` is one text or a Series of texts indexed by row position (it may hold
        only the masked rows); ``about`` names the ledger column, appended in parentheses;
        ``values`` default to the source column. Texts are built for the masked rows only.
        """
        mask_array = np.asarray(pd.Series(mask).fillna(False), dtype=bool)
        if not mask_array.any():
            return
        src = self._sources[source]
        positions = np.flatnonzero(mask_array)
        if values is None:
            values = (
                src.raw[column] if column in src.raw.columns else pd.Series("", index=src.raw.index)
            )
        shown = _display_text(values.iloc[positions]).to_numpy()
        if isinstance(problem, pd.Series):
            messages = problem.reindex(src.raw.index[positions]).astype(str).to_numpy(dtype=object)
        else:
            messages = np.full(len(positions), problem, dtype=object)
        if about is not None:
            messages = messages + f" ({about})"
        self._frames.append(
            pd.DataFrame(
                {
                    "file": src.path.name,
                    "row_kind": src.row_kind,
                    "row": pd.array(src.row_numbers[positions], dtype="Int64"),
                    "column": column,
                    "value": shown,
                    "problem": messages,
                    "_source": source,
                    "_pos": positions,
                }
            )
        )
        self._bad[source][positions] = True

    def add_file(
        self, source: str, path: Path, problem: str, *, column: str = "", value: str = ""
    ) -> None:
        """Record a problem with a whole file (no row); its rows cannot be checked."""
        self.unusable.add(source)
        self._frames.append(
            pd.DataFrame(
                {
                    "file": [path.name],
                    "row_kind": ["line"],
                    "row": pd.array([None], dtype="Int64"),
                    "column": [column],
                    "value": [value],
                    "problem": [problem],
                    "_source": [source],
                    "_pos": [-1],
                }
            )
        )

    def bad(self, source: str) -> np.ndarray:
        return self._bad[source]

    def report(self) -> ImportReport:
        if self._frames:
            problems = pd.concat(self._frames, ignore_index=True)
        else:
            problems = pd.DataFrame({c: [] for c in REPORT_COLUMNS + _INTERNAL_COLUMNS})
            problems["row"] = problems["row"].astype("Int64")
        order = {name: i for i, name in enumerate(TABLE_COLUMNS)}
        problems = problems.assign(_order=problems["_source"].map(order).astype("float64"))
        problems = problems.sort_values(
            ["_order", "row", "_pos"], kind="stable", na_position="first"
        )
        # a customer column read from the invoice file may repeat an invoice problem
        problems = problems.drop_duplicates(["_source", "_pos", "column", "problem"])
        rejected = {name: int(mask.sum()) for name, mask in self._bad.items() if mask.any()}
        return ImportReport(
            problems=problems.drop(columns="_order").reset_index(drop=True),
            rejected_rows=rejected,
            rule_rows={name: dict(counts) for name, counts in self._rule_rows.items()},
        )



def _display_text(values: pd.Series) -> pd.Series:
    """Values as the user sees them in the report (empty for missing)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        text = values.dt.strftime("%Y-%m-%d")
    else:
        text = values.astype("string")
    return text.fillna("").astype(object)

