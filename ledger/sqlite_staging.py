"""An import's writes on SQLite, with the database's one write lock held as briefly as possible.

SQLite has one writer per database file, and the service writes its decision log into the
ledger's database: every decision answered while an import holds the write lock waits for
it (docs/service.md "SQLite: one writer at a time"). An import therefore plans every table
first (:func:`creditrisk.ledger.store.plan_upsert`, reads only), then:

1. :func:`stage_writes` binds the planned rows into TEMP tables. TEMP is a database of its
   own, private to the connection, so filling it takes no lock on the ledger's file; this
   is where the per-row cost of binding Python values is paid.
2. :func:`apply_staged` writes each table with one ``INSERT ... SELECT`` or
   ``UPDATE ... FROM`` run inside SQLite: the only statements under the write lock.

Measured on a copy of the demo database (27,000 invoice rows, machine at load ~5):
``executemany`` of the rows into ``invoices`` 0.235 s, the same rows staged 0.138 s
(no lock) and copied by ``INSERT ... SELECT`` in 0.073 s under the lock.

The values are the ones the direct path binds (:func:`creditrisk.ledger.store.
apply_writes`): the TEMP columns have no declared type, so each value is kept as bound
and the ledger column's own type affinity applies when it is copied, as when it is bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from creditrisk.ledger.frame import TABLE_KEYS
from creditrisk.ledger.store import WRITE_CHUNK_ROWS, BoundStatement, ChunkCallback, TableWrites

__all__ = ["StagedStatement", "apply_staged", "stage_writes"]

UPDATE_PREFIX = "new_"
KEY_PARAMETER = "key_"
"""The bind parameter names :func:`creditrisk.ledger.store.plan_upsert` gives an update."""


def _quoted(name: str) -> str:
    """An identifier of the schema (table or column constant), quoted for SQLite."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class StagedStatement:
    """A planned statement whose rows are in a TEMP table: ``sql`` copies them in."""

    stage: str
    sql: str
    rows: int


def _copy_sql(statement: BoundStatement, stage: str) -> str:
    """The one statement that writes the staged rows into the ledger table."""
    table = _quoted(statement.table)
    staged = f"temp.{_quoted(stage)}"
    if statement.kind == "insert":
        columns = ", ".join(_quoted(name) for name in statement.names)
        return f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM {staged}"  # noqa: S608 - schema names only
    key = TABLE_KEYS[statement.table]
    assignments = ", ".join(
        f"{_quoted(name.removeprefix(UPDATE_PREFIX))} = s.{_quoted(name)}"
        for name in statement.names if name != KEY_PARAMETER
    )
    where = f"main.{table}.{_quoted(key)} = s.{_quoted(KEY_PARAMETER)}"
    return f"UPDATE main.{table} SET {assignments} FROM {staged} AS s WHERE {where}"  # noqa: S608 - schema names only


def stage_writes(
    conn: Connection,
    writes: TableWrites,
    *,
    label: str,
    chunk_rows: int = WRITE_CHUNK_ROWS,
    on_chunk: ChunkCallback | None = None,
) -> list[StagedStatement]:
    """Bind a planned upsert's rows into TEMP tables named after ``label`` (unique per
    import step); no lock on the ledger's database is taken."""
    staged: list[StagedStatement] = []
    for number, statement in enumerate(writes.statements):
        stage = f"_import_{label}_{number}"
        columns = ", ".join(_quoted(name) for name in statement.names)
        marks = ", ".join("?" for _ in statement.names)
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{_quoted(stage)}")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {_quoted(stage)} ({columns})")
        insert = f"INSERT INTO temp.{_quoted(stage)} ({columns}) VALUES ({marks})"  # noqa: S608 - values bound
        for start in range(0, len(statement.rows), chunk_rows):
            chunk = statement.rows[start : start + chunk_rows]
            conn.exec_driver_sql(insert, list(chunk))
            if on_chunk is not None:
                on_chunk(len(chunk))
        staged.append(StagedStatement(stage, _copy_sql(statement, stage), len(statement.rows)))
    return staged


def apply_staged(conn: Connection, staged: list[StagedStatement]) -> None:
    """Copy staged rows into the ledger (the write lock is taken by the first) and drop the
    TEMP tables."""
    for statement in staged:
        conn.exec_driver_sql(statement.sql)
    for statement in staged:
        conn.exec_driver_sql(f"DROP TABLE temp.{_quoted(statement.stage)}")
