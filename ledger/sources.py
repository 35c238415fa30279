"""Reading the mapped source files as they are (CSV or Parquet), with the row numbers the
user sees; a problem with a whole file (missing, empty, wrong delimiter or encoding) is
collected as a file problem, not raised."""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from creditrisk.ledger.mapping import LedgerMapping, TableMapping, as_text
from creditrisk.ledger.validation import SourceFrame

DELIMITER_CANDIDATES = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'", " ": "space"}

FileProblem = tuple[str, Path, str, str, str]
"""(table, path, column, value, problem) for a problem with a whole file."""


class ImportProgress(Protocol):
    """Told how far the import is: ``stage`` is read, validate, compare (with the stored rows),
    stage (SQLite: rows bound into the import's TEMP tables) or write, per ledger table."""

    def __call__(self, table: str, stage: str, done: int, total: int) -> None: ...


def no_progress(table: str, stage: str, done: int, total: int) -> None:
    return None


def _delimiter_name(delimiter: str) -> str:
    return DELIMITER_NAMES.get(delimiter, repr(delimiter))


def _undecodable(path: Path, encoding: str) -> tuple[int, bytes] | None:
    """(line, bytes) of the first byte sequence ``encoding`` cannot decode, if any."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                start = max(0, min(exc.start, len(chunk)))
                return line + chunk[:start].count(b"\n"), exc.object[exc.start : exc.end]
            line += chunk.count(b"\n")
    return None


def _encoding_problem(path: Path, encoding: str) -> str:
    where = _undecodable(path, encoding)
    detail = ""
    if where is not None:
        line, bad = where
        detail = f": byte {bad.hex(' ', 1)} on line {line} is not valid {encoding}"
    return (
        f"cannot read the file as {encoding}{detail}; set encoding: in the mapping "
        f"(for example cp1252 or latin-1)"
    )


def _parser_problem(message: str, delimiter: str) -> str:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if found:
        expected, line, saw = found.groups()
        return (
            f"line {line} has {saw} fields but the header has {expected}: check the delimiter "
            f"({_delimiter_name(delimiter)}) and quoting"
        )
    return f"not a readable CSV file: {message.strip()}"


def _read_csv(path: Path, mapping: TableMapping) -> pd.DataFrame:
    encoding = mapping.encoding
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig"  # tolerate a byte-order mark
    return pd.read_csv(
        path,
        sep=mapping.delimiter,
        encoding=encoding,
        dtype=str,
        keep_default_na=False,
        na_values=list(mapping.na_values),
        skip_blank_lines=False,
    )


def _wrong_delimiter(raw: pd.DataFrame, expected: str) -> str | None:
    """When the whole header was read as one column, the delimiter the file really uses."""
    if len(raw.columns) != 1:
        return None
    header = str(raw.columns[0])
    counts = {d: header.count(d) for d in DELIMITER_CANDIDATES if d != expected}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else None


def _mapped_source_columns(mapping: LedgerMapping, source_table: str) -> set[str]:
    columns: set[str] = set()
    for table, table_mapping in mapping.tables.items():
        reads = table if table_mapping.from_ is None else "invoices"
        if reads == source_table:
            columns |= table_mapping.source_columns()
    return columns


def _select_rows(
    mapping: TableMapping, raw: pd.DataFrame, row_numbers: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, dict[str, int], list[str]]:
    """The rows the mapping keeps: its filters (every one must hold), its route (rows whose
    value it does not route are left out), then exact duplicates dropped
    (``drop_duplicates``: the first of identical rows stays). Returns the rows, their
    numbers, row counts per reason (left out, and routed per target) and the filter or
    route columns missing from the file."""
    dropped: dict[str, int] = {}
    chooses = {f.column for f in mapping.filters}
    if mapping.route is not None:
        chooses.add(mapping.route.column)
    missing = sorted(chooses - set(raw.columns))
    if missing:
        return raw, row_numbers, dropped, missing
    keep = np.ones(len(raw), dtype=bool)
    for row_filter in mapping.filters:
        keep &= row_filter.keeps(as_text(raw[row_filter.column])).to_numpy(dtype=bool)
    if mapping.filters:
        dropped["filtered_out"] = int((~keep).sum())
    target = None
    if mapping.route is not None:
        target = as_text(raw[mapping.route.column]).astype(object).map(mapping.route.values)
        routed = target.notna().to_numpy()
        dropped["not_routed"] = int((keep & ~routed).sum())
        keep &= routed
    if mapping.drop_duplicates:
        duplicate = raw.duplicated(keep="first").to_numpy() & keep
        dropped["exact_duplicates"] = int(duplicate.sum())
        keep &= ~duplicate
    if target is not None:  # rows per route, as they go to validation
        for name in ("invoice", "credit_note"):
            dropped[f"routed_{name}s"] = int((keep & (target == name).to_numpy()).sum())
    if not keep.all():
        raw = raw[keep].reset_index(drop=True)
        row_numbers = row_numbers[keep]
    return raw, row_numbers, dropped, []


def read_source(
    mapping: LedgerMapping, table: str, path: Path
) -> tuple[SourceFrame | None, list[FileProblem]]:
    """Read one mapped file as it is; a problem with the whole file returns no frame.

    An optional table whose file is missing or has no data rows returns neither.
    """
    table_mapping = mapping.tables[table]
    fmt = mapping.source_format(table, path)

    def problem(text: str, column: str = "", value: str = "") -> list[FileProblem]:
        return [(table, path, column, value, text)]

    if not path.is_file():
        return None, [] if table_mapping.optional else problem(f"file not found: {path}")
    if path.stat().st_size == 0:
        return None, problem("the file is empty")
    try:
        raw = _read_csv(path, table_mapping) if fmt == "csv" else pd.read_parquet(path)
    except UnicodeDecodeError:
        return None, problem(_encoding_problem(path, table_mapping.encoding))
    except pd.errors.EmptyDataError:
        return None, problem("the file is empty")
    except pd.errors.ParserError as exc:
        return None, problem(_parser_problem(str(exc), table_mapping.delimiter))
    except (OSError, ValueError) as exc:
        return None, problem(f"not a readable {fmt} file: {exc}")
    raw.columns = pd.Index([str(c).strip() for c in raw.columns])
    first_row = 2 if fmt == "csv" else 1  # CSV: line numbers, the header is line 1
    row_numbers = np.arange(first_row, first_row + len(raw), dtype=np.int64)
    if fmt == "csv":
        mapped = _mapped_source_columns(mapping, table)
        found = _wrong_delimiter(raw, table_mapping.delimiter)
        if found is not None and not mapped <= set(raw.columns):
            message = (
                f"delimiter looks wrong: expected {_delimiter_name(table_mapping.delimiter)} "
                f"found {_delimiter_name(found)}"
            )
            return None, problem(message, value=str(raw.columns[0])[:80])
        blank = raw.isna().all(axis=1).to_numpy()
        if blank.any():  # blank lines: dropped, line numbers kept
            raw = raw[~blank].reset_index(drop=True)
            row_numbers = row_numbers[~blank]
    raw, row_numbers, dropped, missing = _select_rows(table_mapping, raw, row_numbers)
    if missing:
        return None, [
            (table, path, column, "", f"column {column!r} is missing from the file "
             f"(the mapping's filters or route on {table} need it)")
            for column in missing
        ]
    if raw.empty:
        if table_mapping.optional:
            return None, []
        if dropped.get("filtered_out"):
            return None, problem("the mapping's filters leave no rows of the file")
        return None, problem("the file has no data rows")
    source = SourceFrame(
        table=table,
        path=path,
        format=fmt,
        raw=raw.reset_index(drop=True),
        row_numbers=row_numbers,
        delimiter=table_mapping.delimiter,
        encoding=table_mapping.encoding,
        dropped=dropped,
    )
    return source, []


def read_sources(
    mapping: LedgerMapping, *, data_dir: Path | None = None, progress: ImportProgress | None = None
) -> tuple[dict[str, SourceFrame], list[FileProblem]]:
    """Read every file of the mapping; file problems are collected, not raised."""
    progress = progress or no_progress
    sources: dict[str, SourceFrame] = {}
    problems: list[FileProblem] = []
    for table in mapping.source_tables():
        path = mapping.source_path(table, data_dir)
        progress(table, "read", 0, 1)
        source, found = read_source(mapping, table, path)
        problems.extend(found)
        if source is not None:
            sources[table] = source
            progress(table, "read", source.n_rows, source.n_rows)
    if not sources and not problems:
        first = mapping.source_tables()[0]
        problems.append(
            (first, mapping.source_path(first, data_dir), "", "", "none of the mapped files exist")
        )
    return sources, problems
