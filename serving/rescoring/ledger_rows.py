"""A bucket's ledger rows, read straight through the database driver's cursor.

``pd.read_sql`` spent most of a bucket's reading time in SQLAlchemy's per-row result
processing; here each table is one plain ``SELECT`` of the ledger contract's columns
(:data:`creditrisk.ledger.frame.TABLE_COLUMNS`, nothing else) on the DBAPI cursor, with a
predicate the ``customer_id`` indexes serve: ``customer_id = ANY(%s)`` (one array parameter) on
PostgreSQL, ``customer_id IN (?, ...)`` in batches of :data:`ID_BATCH` bound ids on SQLite
(32,766 parameters at most). The tuples become columns and go through
:func:`~creditrisk.ledger.frame.normalize_ledger`, the one coercion to the ledger contract, so
the rows rated are the same as any other reader's. Values are always bound, never formatted
into the SQL (table and column names are the schema's constants).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

import pandas as pd
from sqlalchemy import Engine

from creditrisk.ledger.frame import TABLE_COLUMNS, Ledger, normalize_ledger
from creditrisk.ledger.schema import LEDGER_TABLES

ID_BATCH: Final = 10_000
"""Customer ids bound per SQLite query (SQLite allows 32,766 parameters)."""


def _batches(values: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def table_columns(table: str) -> list[str]:
    """The contract's columns of ``table`` that the SQL table has, in contract order."""
    stored = LEDGER_TABLES[table].c
    return [c for c in TABLE_COLUMNS[table] if c in stored]


def _frame(rows: list[tuple[Any, ...]], columns: list[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=False)


def _fetch(cursor: Any, statement: str, parameters: Any) -> list[tuple[Any, ...]]:
    cursor.execute(statement, parameters)
    return list(cursor.fetchall())


def read_customers_ledger(engine: Engine, ids: Sequence[str]) -> Ledger:
    """The ledger rows of the customers ``ids`` (every table), normalised."""
    ids = [str(i) for i in ids]
    postgres = engine.dialect.name == "postgresql"
    tables: dict[str, pd.DataFrame] = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            for table in TABLE_COLUMNS:
                columns = table_columns(table)
                select = f"SELECT {', '.join(columns)} FROM {table}"  # noqa: S608 - schema names
                rows: list[tuple[Any, ...]] = []
                if postgres:
                    rows = _fetch(cursor, f"{select} WHERE customer_id = ANY(%s)", (ids,))
                else:
                    for batch in _batches(ids, ID_BATCH):
                        marks = ", ".join("?" for _ in batch)
                        rows += _fetch(cursor, f"{select} WHERE customer_id IN ({marks})",
                                       tuple(batch))
                tables[table] = _frame(rows, columns)
        finally:
            cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return normalize_ledger(tables)
