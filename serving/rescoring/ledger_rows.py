"""A bucket's ledger rows, read straight through the database driver.

``pd.read_sql`` spent most of a bucket's reading time in SQLAlchemy's per-row result
processing; here each table is one plain ``SELECT`` of the ledger contract's columns
(:data:`creditrisk.ledger.frame.TABLE_COLUMNS`, nothing else), with a predicate the
``customer_id`` indexes serve:

* PostgreSQL: ``COPY (SELECT ... WHERE customer_id = ANY(%s::text[])) TO STDOUT`` in CSV, the
  ids bound as ONE array literal (:func:`text_array_literal`), the CSV parsed by Arrow into
  typed columns (ids and texts as Arrow strings, dates as ``datetime64[ns]``, amounts as
  float64, flags as bool): no Python object per value on either side of the wire;
* SQLite: ``customer_id IN (?, ...)`` in batches of :data:`ID_BATCH` bound ids (32,766
  parameters at most) on the DBAPI cursor, the tuples made into columns.

Either way the frames go through :func:`~creditrisk.ledger.frame.normalize_ledger`, the one
coercion to the ledger contract, so the rows rated are the same as any other reader's. Values
are always bound, never formatted into the SQL (table and column names are the schema's
constants).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any, Final

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Engine

from creditrisk.ledger.frame import TABLE_COLUMNS, Ledger, normalize_ledger
from creditrisk.ledger.schema import LEDGER_TABLES

ID_BATCH: Final = 10_000
"""Customer ids bound per SQLite query (SQLite allows 32,766 parameters)."""

PLANNER_SETTINGS: Final = (
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL enable_seqscan = off",
    "SET LOCAL jit = off",
)
"""Settings of the read's transaction: dates as ``YYYY-MM-DD``; no sequential scan (the
planner estimates ``= ANY`` of a bucket's 15,000 ids at a sixth of a 25M-row table and scans
all of it, 7.8 s, where the ``customer_id`` index reads the bucket's 400,000 rows in 1.4 s);
no JIT compilation (those inflated estimates trigger it, for nothing).
"""
_ARROW_TYPES: Final = {
    "id": pa.string(), "str": pa.string(), "date": pa.date32(), "float": pa.float64(),
    "int": pa.int64(), "bool": pa.bool_(),
}
"""Ledger contract kind -> the Arrow type PostgreSQL's CSV text of the column is parsed as."""


def _batches(values: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def table_columns(table: str) -> list[str]:
    """The contract's columns of ``table`` that the SQL table has, in contract order."""
    stored = LEDGER_TABLES[table].c
    return [c for c in TABLE_COLUMNS[table] if c in stored]


def text_array_literal(values: Sequence[str]) -> str:
    """PostgreSQL's text form of a ``text[]`` holding ``values``: every element double-quoted,
    backslash and double quote escaped with a backslash (so commas, braces, quotes and
    spaces in an id stay inside its element). Bound as one parameter and cast
    (``%s::text[]``): one value to send instead of a Python list adapted element by
    element."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def _frame(rows: list[tuple[Any, ...]], columns: list[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=False)


def _fetch(cursor: Any, statement: str, parameters: Any) -> list[tuple[Any, ...]]:
    cursor.execute(statement, parameters)
    return list(cursor.fetchall())


def _string_dtype(arrow_type: pa.DataType) -> pd.StringDtype | None:
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype("pyarrow")
    return None


def csv_table_frame(data: bytes, table: str, columns: list[str]) -> pd.DataFrame:
    """PostgreSQL ``COPY ... (FORMAT csv)`` output of ``columns`` of ``table`` as a frame in
    the contract's dtypes: an unquoted empty field is NULL, a quoted one (``""``) an empty
    text; booleans are ``t`` / ``f``."""
    kinds = TABLE_COLUMNS[table]
    types = {c: _ARROW_TYPES[kinds[c]] for c in columns}
    if not data:
        arrays = [pa.array([], type=types[c]) for c in columns]
        parsed = pa.Table.from_arrays(arrays, names=columns)
    else:
        parsed = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=columns, use_threads=False,
                                           block_size=1 << 26),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=types, strings_can_be_null=True,
                quoted_strings_can_be_null=False, true_values=["t"], false_values=["f"]),
        )
    for position, name in enumerate(parsed.column_names):
        if kinds[name] == "date":
            stamps = pc.cast(parsed.column(position), pa.timestamp("ns"))
            parsed = parsed.set_column(position, name, stamps)
    return parsed.to_pandas(types_mapper=_string_dtype)


def _copy_out(cursor: Any, statement: str, parameters: Any) -> bytes:
    buffer = io.BytesIO()
    with cursor.copy(statement, parameters) as copy:
        for block in copy:
            buffer.write(block)
    return buffer.getvalue()


def _read_postgres(raw: Any, ids: list[str]) -> dict[str, pd.DataFrame]:
    driver = raw.driver_connection
    literal = text_array_literal(ids)
    tables: dict[str, pd.DataFrame] = {}
    with driver.cursor() as cursor:
        for setting in PLANNER_SETTINGS:
            cursor.execute(setting)
        for table in TABLE_COLUMNS:
            columns = table_columns(table)
            select = (f"SELECT {', '.join(columns)} FROM {table} "  # noqa: S608 - schema names
                      "WHERE customer_id = ANY(%s::text[])")
            data = _copy_out(cursor, f"COPY ({select}) TO STDOUT WITH (FORMAT csv)", (literal,))
            tables[table] = csv_table_frame(data, table, columns)
    return tables


def _read_sqlite(raw: Any, ids: list[str]) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    cursor = raw.cursor()
    try:
        for table in TABLE_COLUMNS:
            columns = table_columns(table)
            select = f"SELECT {', '.join(columns)} FROM {table}"  # noqa: S608 - schema names
            rows: list[tuple[Any, ...]] = []
            for batch in _batches(ids, ID_BATCH):
                marks = ", ".join("?" for _ in batch)
                rows += _fetch(cursor, f"{select} WHERE customer_id IN ({marks})", tuple(batch))
            tables[table] = _frame(rows, columns)
    finally:
        cursor.close()
    return tables


def read_customers_ledger(engine: Engine, ids: Sequence[str]) -> Ledger:
    """The ledger rows of the customers ``ids`` (every table), normalised."""
    wanted = [str(i) for i in ids]
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            tables = _read_postgres(raw, wanted)
        else:
            tables = _read_sqlite(raw, wanted)
        raw.rollback()
    finally:
        raw.close()
    return normalize_ledger(tables)
