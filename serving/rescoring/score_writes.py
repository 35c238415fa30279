"""A bucket's score rows into the ``scores`` table, in bulk.

* PostgreSQL: ``COPY scores FROM STDIN`` in CSV written by Arrow from the columns
  (:func:`score_csv`): no Python object per value. Texts are always quoted, so an empty text
  is ``""`` and a NULL the unquoted empty field (PostgreSQL's CSV default); floats in their
  shortest round-trip form; dates ``YYYY-MM-DD``; booleans ``true`` / ``false``.
* SQLite: ``executemany`` of plain Python tuples (:func:`driver_rows`).

Both take a frame conformed to :data:`~.columns.SCORE_COLUMNS` and store it as given.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection

from creditrisk.serving.rescoring.columns import SCORE_COLUMN_NAMES, SCORE_COLUMNS, ScoreColumn


class ScoreWriteError(RuntimeError):
    """The connection cannot bulk-write (no driver connection)."""


def _arrow_column(series: pd.Series, column: ScoreColumn) -> pa.Array:
    if column.kind == "date":
        days = series.to_numpy("datetime64[ns]").astype("datetime64[D]")
        return pa.array(days, type=pa.date32(), mask=np.isnat(days))
    if column.kind == "float":
        values = series.to_numpy(np.float64)
        return pa.array(values, type=pa.float64(), mask=np.isnan(values))
    if column.kind == "bool":
        return pa.array(series.to_numpy(bool), type=pa.bool_())
    if column.kind == "int":
        return pa.array(series.to_numpy(np.int64), type=pa.int64())
    return pa.array(series.astype(object).to_numpy(), type=pa.string(), from_pandas=True)


def score_csv(frame: pd.DataFrame) -> bytes:
    """The rows of a conformed scores frame as CSV for ``COPY ... (FORMAT csv)`` (column
    order of SCORE_COLUMNS, no header)."""
    table = pa.Table.from_arrays([_arrow_column(frame[c.name], c) for c in SCORE_COLUMNS],
                                 names=list(SCORE_COLUMN_NAMES))
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False,
                                                      quoting_style="needed"))
    return buffer.getvalue()


def copy_scores(conn: Connection, frame: pd.DataFrame) -> None:
    """``COPY scores FROM STDIN`` (CSV of :func:`score_csv`) on the connection's psycopg
    cursor, in the connection's transaction."""
    raw = conn.connection.driver_connection
    if raw is None:  # pragma: no cover - a live connection always has one
        raise ScoreWriteError("no driver connection for COPY")
    statement = f"COPY scores ({', '.join(SCORE_COLUMN_NAMES)}) FROM STDIN WITH (FORMAT csv)"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(score_csv(frame))


def driver_rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows of a conformed scores frame as tuples of plain Python values, column order."""
    columns = []
    for column in SCORE_COLUMNS:
        series = frame[column.name]
        if column.kind == "date":
            values = [None if pd.isna(v) else v for v in series.dt.strftime("%Y-%m-%d").tolist()]
        elif column.kind == "float":
            array = series.to_numpy(np.float64)
            values = [None if v != v else v for v in array.tolist()]
        elif column.kind == "bool":
            values = [bool(v) for v in series.to_numpy(bool).tolist()]
        elif column.kind == "int":
            values = series.to_numpy(np.int64).tolist()
        else:
            values = [None if v is pd.NA else str(v) for v in series.astype(object).tolist()]
        columns.append(values)
    return list(zip(*columns, strict=True))


def insert_scores(conn: Connection, frame: pd.DataFrame) -> None:
    """``executemany`` of :func:`driver_rows` on the connection's DBAPI cursor."""
    names = ", ".join(SCORE_COLUMN_NAMES)
    marks = ", ".join("?" for _ in SCORE_COLUMN_NAMES)
    raw = conn.connection.driver_connection
    if raw is None:  # pragma: no cover
        raise ScoreWriteError("no driver connection for executemany")
    cursor = raw.cursor()
    try:
        statement = f"INSERT INTO scores ({names}) VALUES ({marks})"  # noqa: S608 - names are the SCORE_COLUMNS constants, values are bound
        cursor.executemany(statement, driver_rows(frame))
    finally:
        cursor.close()
