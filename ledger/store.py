"""Writing the ledger into SQL: idempotent upserts, compared row by row against what is stored.

Works the same on SQLite and PostgreSQL: parameterised SQLAlchemy Core statements only,
executed in chunks (``executemany``). Each upsert reads the stored rows for the incoming keys,
inserts the new keys, updates only the rows whose values differ and leaves the rest alone,
so writing the same data twice changes nothing and reports it as unchanged. The caller owns
the transaction: an import writes all four tables in one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Select,
    Update,
    bindparam,
    func,
    insert,
    select,
    update,
)

from creditrisk.ledger.database import upgrade_database
from creditrisk.ledger.frame import DATE_DTYPE, ID_DTYPE, TABLE_COLUMNS, TABLE_KEYS, Ledger
from creditrisk.ledger.schema import LEDGER_TABLES
from creditrisk.ledger.validation import is_in

WRITE_CHUNK_ROWS = 5_000
"""Rows per executemany batch."""
LOOKUP_CHUNK_KEYS = 5_000
"""Keys per ``IN (...)`` lookup (SQLite allows 32,766 bound parameters)."""
FULL_SCAN_MIN_KEYS = 20_000
FULL_SCAN_MAX_RATIO = 4
"""Read the whole table instead when it holds at most 4 rows per key looked up."""

ChunkCallback = Callable[[int], None]
"""Called with the number of rows just written."""


@dataclass(frozen=True)
class TableCounts:
    """What an upsert did to one table: rows inserted, updated, and found unchanged."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: TableCounts) -> TableCounts:
        return TableCounts(
            inserted=self.inserted + other.inserted,
            updated=self.updated + other.updated,
            unchanged=self.unchanged + other.unchanged,
        )

    @property
    def written(self) -> int:
        return self.inserted + self.updated


def ensure_schema(engine: Engine) -> None:
    """Apply the Alembic migrations to the engine's database (no-op when up to date)."""
    upgrade_database(engine.url.render_as_string(hide_password=False))


def _coerce(values: pd.Series, kind: str) -> pd.Series:
    """One dtype per kind, so stored and incoming values compare equal when they are."""
    if kind in ("id", "str"):
        return values.astype(ID_DTYPE)
    if kind == "date":
        dates = pd.to_datetime(values)
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)
        return dates.dt.normalize().astype(DATE_DTYPE)
    if kind == "float":
        return pd.to_numeric(values).astype("float64")
    if kind == "bool":
        if pd.api.types.is_bool_dtype(values):
            return values.astype("boolean")
        numbers = pd.to_numeric(values, errors="coerce")  # SQLite stores 0/1
        return (numbers != 0).where(numbers.notna()).astype("boolean")
    raise AssertionError(kind)  # pragma: no cover - kinds are static


def _coerce_frame(frame: pd.DataFrame, table: str, columns: Sequence[str]) -> pd.DataFrame:
    kinds = TABLE_COLUMNS[table]
    frame = frame.reset_index(drop=True)
    return pd.DataFrame({c: _coerce(frame[c], kinds[c]) for c in columns}, index=frame.index)


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _fetch(conn: Connection, stmt: Select[Any], columns: list[str]) -> pd.DataFrame:
    """Rows as the driver returns them (SQLite: dates as ISO text, booleans as 0/1), to be
    converted column by column by :func:`_coerce_frame` instead of value by value."""
    result = conn.execute(stmt)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return pd.DataFrame(dict(zip(columns, values, strict=True)))


def stored_rows(
    conn: Connection,
    table: str,
    keys: pd.Series | pd.Index | Iterable[str],
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The stored rows of ``table`` whose key is in ``keys`` (bound parameters, chunked).

    When the keys cover a large part of the table, one scan of the table is cheaper than
    many ``IN (...)`` lookups; the rows are then filtered here.
    """
    sql_table = LEDGER_TABLES[table]
    key = TABLE_KEYS[table]
    wanted = list(columns) if columns is not None else list(TABLE_COLUMNS[table])
    if key not in wanted:
        wanted = [key, *wanted]
    values = keys if isinstance(keys, pd.Series | pd.Index) else list(keys)
    unique = pd.Series(pd.array(values, dtype=ID_DTYPE)).dropna().drop_duplicates()
    query = select(*(sql_table.c[c] for c in wanted))
    parts = []
    if len(unique) >= FULL_SCAN_MIN_KEYS:
        n_stored = conn.execute(select(func.count()).select_from(sql_table)).scalar_one()
        if n_stored <= FULL_SCAN_MAX_RATIO * len(unique):
            everything = _fetch(conn, query, wanted)
            parts.append(everything[is_in(everything[key], unique)])
    if not parts:
        for start in range(0, len(unique), LOOKUP_CHUNK_KEYS):
            chunk = unique.iloc[start : start + LOOKUP_CHUNK_KEYS].tolist()
            parts.append(_fetch(conn, query.where(sql_table.c[key].in_(chunk)), wanted))
    raw = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=wanted)
    return _coerce_frame(raw, table, wanted)


class DatabaseKeys:
    """Which ids the ledger database already holds (for the import's reference checks)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def existing(self, table: str, ids: pd.Series) -> pd.Index:
        rows = stored_rows(self._conn, table, ids, [TABLE_KEYS[table]])
        return pd.Index(rows[TABLE_KEYS[table]])

    def invoice_customers(self, invoice_ids: pd.Series) -> pd.Series:
        rows = stored_rows(self._conn, "invoices", invoice_ids, ["invoice_id", "customer_id"])
        return pd.Series(
            rows["customer_id"].to_numpy(), index=pd.Index(rows["invoice_id"]), dtype=ID_DTYPE
        )


def _driver_values(values: pd.Series, kind: str, dialect: str) -> np.ndarray:
    """A column as the DB driver takes it, converted vectorised: None for missing; on SQLite
    dates as 'YYYY-MM-DD' text and booleans as 0/1 (SQLAlchemy's own storage format there),
    elsewhere ``datetime.date`` and ``bool``."""
    missing = values.isna().to_numpy()
    if kind == "date" and dialect == "sqlite":
        out = values.dt.strftime("%Y-%m-%d").to_numpy(dtype=object, na_value=None)
    elif kind == "date":
        out = np.asarray(values.dt.date, dtype=object)
    elif kind == "float":
        out = values.astype("float64").to_numpy().astype(object)
    elif kind == "bool":
        flags = values.astype("boolean").fillna(False).to_numpy(dtype=bool)
        out = flags.astype(np.int64).astype(object) if dialect == "sqlite" else flags.astype(object)
    else:
        out = values.astype(ID_DTYPE).to_numpy(dtype=object, na_value=None)
    out = np.array(out, dtype=object, copy=True)
    out[missing] = None
    return out


@dataclass(frozen=True)
class BoundStatement:
    """One SQL statement compiled for the connection's dialect with its rows of driver
    parameters (never formatted into the SQL): what :func:`apply_writes` executes.
    ``names`` are the bind parameters in row order: for an insert the table's columns, for
    an update ``new_<column>`` and ``key_`` (the key of the row to change)."""

    sql: str
    rows: list[Any]
    table: str
    kind: Literal["insert", "update"]
    names: tuple[str, ...]


def _bind_rows(
    conn: Connection,
    stmt: Insert | Update,
    frame: pd.DataFrame,
    table: str,
    binds: dict[str, str],
) -> BoundStatement:
    """``stmt`` compiled once by SQLAlchemy and one parameter row per row of ``frame``;
    ``binds`` maps bind parameter names to frame columns."""
    kinds = TABLE_COLUMNS[table]
    compiled = stmt.compile(dialect=conn.dialect)
    arrays = {
        name: _driver_values(frame[column], kinds[column], conn.dialect.name)
        for name, column in binds.items()
    }
    rows: list[Any]
    names = list(compiled.positiontup or []) if compiled.positional else list(arrays)
    if compiled.positional:
        rows = list(zip(*(arrays[name] for name in names), strict=True))
    else:
        rows = [dict(zip(names, row, strict=True)) for row in zip(*arrays.values(), strict=True)]
    kind: Literal["insert", "update"] = "insert" if isinstance(stmt, Insert) else "update"
    return BoundStatement(str(compiled), rows, table, kind, tuple(names))


def _differs(new: pd.Series, old: pd.Series) -> np.ndarray:
    both_missing = new.isna().to_numpy() & old.isna().to_numpy()
    equal = new.eq(old).astype("boolean").fillna(False).to_numpy(dtype=bool)
    differs: np.ndarray = ~(equal | both_missing)
    return differs


@dataclass(frozen=True)
class TableWrites:
    """One table's upsert, planned: the statements to run and what they will do.

    Planning reads (the stored rows) and computes; applying only executes. An import plans
    every table before it writes any (:func:`creditrisk.ledger.importer.import_ledger`), so
    on SQLite, where the first write takes the database's one write lock until the commit,
    the lock is held for the executes alone and the service's decision-log inserts wait
    for that, not for the whole import."""

    table: str
    statements: tuple[BoundStatement, ...]
    counts: TableCounts


def plan_upsert(
    conn: Connection,
    table: str,
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    keep_stored_when_null: Sequence[str] = (),
) -> TableWrites:
    """The statements that insert new rows, update changed rows and leave equal rows alone.

    Only ``columns`` (default: the frame's ledger columns) are written and compared; other
    stored columns keep their values. In ``keep_stored_when_null`` a missing incoming value
    means "not known here" and keeps the stored value (e.g. a settlement date derived from
    payments that are not part of this import). Keys must be unique in ``frame``.
    """
    key = TABLE_KEYS[table]
    sql_table = LEDGER_TABLES[table]
    wanted = [c for c in (columns or frame.columns) if c in TABLE_COLUMNS[table] and c != key]
    new = _coerce_frame(frame, table, [key, *wanted])
    if new.empty:
        return TableWrites(table, (), TableCounts())
    stored = stored_rows(conn, table, new[key], wanted).set_index(key)
    is_stored = is_in(new[key], stored.index)
    inserts = new[~is_stored]
    present = new[is_stored].reset_index(drop=True)
    old = stored.reindex(pd.Index(present[key])).reset_index(drop=True)
    for column in keep_stored_when_null:
        if column in present:
            present[column] = present[column].where(present[column].notna(), old[column])
    changed = np.zeros(len(present), dtype=bool)
    for column in wanted:
        changed |= _differs(present[column], old[column])
    updates = present[changed]

    statements: list[BoundStatement] = []
    columns_written = [key, *wanted]
    if not inserts.empty:
        add = insert(sql_table).values({c: bindparam(c) for c in columns_written})
        statements.append(_bind_rows(conn, add, inserts, table, {c: c for c in columns_written}))
    if wanted and not updates.empty:
        change = (
            update(sql_table)
            .where(sql_table.c[key] == bindparam("key_"))
            .values({c: bindparam(f"new_{c}") for c in wanted})
        )
        binds = {"key_": key, **{f"new_{c}": c for c in wanted}}
        statements.append(_bind_rows(conn, change, updates, table, binds))
    counts = TableCounts(
        inserted=len(inserts), updated=len(updates), unchanged=len(present) - len(updates)
    )
    return TableWrites(table, tuple(statements), counts)


def apply_writes(
    conn: Connection,
    writes: TableWrites,
    *,
    chunk_rows: int = WRITE_CHUNK_ROWS,
    on_chunk: ChunkCallback | None = None,
) -> TableCounts:
    """Execute a planned upsert as chunked DBAPI ``executemany``; its counts."""
    for statement in writes.statements:
        for chunk in _chunks(statement.rows, chunk_rows):
            conn.exec_driver_sql(statement.sql, list(chunk))
            if on_chunk is not None:
                on_chunk(len(chunk))
    return writes.counts


def upsert_table(
    conn: Connection,
    table: str,
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    keep_stored_when_null: Sequence[str] = (),
    chunk_rows: int = WRITE_CHUNK_ROWS,
    on_chunk: ChunkCallback | None = None,
) -> TableCounts:
    """Insert new rows, update changed rows, leave equal rows alone; counts of each
    (:func:`plan_upsert`, then :func:`apply_writes`)."""
    writes = plan_upsert(
        conn, table, frame, columns=columns, keep_stored_when_null=keep_stored_when_null
    )
    return apply_writes(conn, writes, chunk_rows=chunk_rows, on_chunk=on_chunk)


def write_ledger(engine: Engine, ledger: Ledger) -> dict[str, TableCounts]:
    """Upsert a whole normalised ledger (all columns) in one transaction; counts per table.

    Applies the migrations first. Used by the synthetic demo and tests; imports from files
    go through :func:`creditrisk.ledger.importer.import_ledger`.
    """
    ensure_schema(engine)
    counts: dict[str, TableCounts] = {}
    with engine.begin() as conn:
        for table, frame in ledger.tables().items():
            counts[table] = upsert_table(conn, table, frame)
    return counts


def count_rows(engine: Engine) -> dict[str, int]:
    """Rows per ledger table (0 for tables not created yet is not handled: migrate first)."""
    with engine.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in LEDGER_TABLES.items()
        }
