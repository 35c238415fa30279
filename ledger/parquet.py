"""The ledger as a folder of Parquet files, partitioned by customer bucket.

Layout of a ledger folder (what ``creditrisk ledger export --format parquet OUT/`` writes and
what Spark, or :func:`read_parquet_ledger`, reads)::

    OUT/ledger.json                         manifest: format, bucket count, rows per table
    OUT/customers/bucket=7/part-00000.parquet
    OUT/invoices/bucket=7/part-00000.parquet
    OUT/payments/...  OUT/credit_events/...

Each table keeps the ledger contract's columns (:data:`~creditrisk.ledger.frame.TABLE_COLUMNS`)
with dates as Parquet ``date32`` (every ledger date is a calendar day; Spark reads ``date32``
natively, nanosecond timestamps it does not), ids and texts as strings, amounts as doubles.
The ``bucket`` partition (Hive style, ``bucket=K``) is the customer's bucket, computed by the
caller's ``bucket_of`` (the serving layer owns the one definition,
``serving.rescoring.partitions.customer_bucket``; the ledger may not import it). Every row of
a customer, in every table, lands in the customer's bucket, so one bucket is a complete
sub-ledger.

The manifest carries an ``export_id`` (new on every export: a resumed run uses it to tell
that the ledger it started on is still the one it reads).

A folder is complete when its manifest exists: the writer fills a temporary sibling folder and
renames it into place only after the last file and the manifest are written, so a failed or
killed export leaves no folder that a reader would take for a ledger.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Collection
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from sqlalchemy import Engine, select

from creditrisk.ledger.errors import LedgerError
from creditrisk.ledger.frame import TABLE_COLUMNS, TABLE_KEYS, Ledger, normalize_ledger

MANIFEST_FILE: Final = "ledger.json"
FORMAT_NAME: Final = "creditrisk-ledger-parquet"
FORMAT_VERSION: Final = 1
BUCKET_COLUMN: Final = "bucket"
TABLE_COLUMN: Final = "ledger_table"
"""In a *stacked* ledger (the tables unioned by column name into one frame, as Spark groups
it by bucket), which table a row comes from."""

BucketOf = Callable[[pd.Series], pd.Series]
"""Customer ids -> bucket numbers (int, same index): the caller's one bucket definition."""

_ARROW_TYPES: Final[dict[str, pa.DataType]] = {
    "id": pa.string(),
    "str": pa.string(),
    "date": pa.date32(),
    "float": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
}


class ParquetLedgerError(LedgerError):
    """A ledger folder is missing, incomplete or not in this format; the message names it."""


def table_schema(table: str) -> pa.Schema:
    """The Parquet schema of one ledger table (without the ``bucket`` partition column)."""
    return pa.schema(
        [pa.field(column, _ARROW_TYPES[kind]) for column, kind in TABLE_COLUMNS[table].items()]
    )


def _arrow_table(frame: pd.DataFrame, table: str) -> pa.Table:
    columns: dict[str, Any] = {}
    for column, kind in TABLE_COLUMNS[table].items():
        values = frame[column]
        if kind == "date":
            columns[column] = pa.array(values.dt.date, type=pa.date32(), from_pandas=True)
        elif kind in ("id", "str"):
            columns[column] = pa.array(values.astype(object), type=pa.string(), from_pandas=True)
        else:
            columns[column] = pa.array(values, type=_ARROW_TYPES[kind], from_pandas=True)
    return pa.table(columns, schema=table_schema(table))


class ParquetLedgerWriter:
    """Writes ledgers (whole, or partition after partition) into one bucketed folder.

    A context manager: on a clean exit the manifest is written and the folder renamed into
    place; on an exception the temporary folder is removed and nothing appears at ``out_dir``.
    ``out_dir`` must not exist yet unless ``overwrite`` (then it is replaced, at the end).
    """

    def __init__(
        self, out_dir: Path, *, buckets: int, bucket_of: BucketOf, overwrite: bool = False
    ) -> None:
        if buckets < 1:
            raise ValueError(f"buckets must be at least 1, got {buckets}")
        if out_dir.exists() and not overwrite:
            raise ParquetLedgerError(f"{out_dir} already exists (--overwrite replaces it)")
        self.out_dir = out_dir
        self.buckets = buckets
        self._bucket_of = bucket_of
        self._overwrite = overwrite
        self._staging = out_dir.parent / f".{out_dir.name}.partial-{uuid.uuid4().hex[:8]}"
        self._rows = dict.fromkeys(TABLE_COLUMNS, 0)
        self._parts = 0

    @property
    def rows(self) -> dict[str, int]:
        """Rows written so far per table."""
        return dict(self._rows)

    def write(self, ledger: Ledger) -> None:
        """Append ``ledger``'s rows (its customers must not be in an earlier call's ledger)."""
        for table, frame in ledger.tables().items():
            self.write_table(table, frame)

    def write_table(self, table: str, frame: pd.DataFrame) -> None:
        """Append rows of one table (the contract's columns and dtypes, e.g. a table of
        :func:`~creditrisk.ledger.frame.normalize_ledger`): a large ledger streams in
        batches, table by table, since a row's bucket depends on its customer id only."""
        if not self._staging.exists():
            self._staging.mkdir(parents=True)
        self._parts += 1
        if frame.empty:
            return
        missing = frame["customer_id"].isna().to_numpy()
        if missing.any():
            raise LedgerError(f"{table}: row {int(missing.argmax())} has no customer_id")
        bucket = self._bucket_of(frame["customer_id"].astype(str)).to_numpy("int64")
        if bucket.min() < 0 or bucket.max() >= self.buckets:
            raise ValueError(f"bucket_of gave a bucket outside 0..{self.buckets - 1}")
        data = _arrow_table(frame, table).append_column(BUCKET_COLUMN, pa.array(bucket))
        pq.write_to_dataset(
            data,
            root_path=str(self._staging / table),
            partition_cols=[BUCKET_COLUMN],
            basename_template=f"part-{self._parts:05d}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
            compression="zstd",
        )
        self._rows[table] += len(frame)

    def commit(self) -> Path:
        """Write the manifest and move the folder into place; returns ``out_dir``.

        Every table gets its folder, empty or not (a reader given a schema finds no rows
        rather than a missing path)."""
        self._staging.mkdir(parents=True, exist_ok=True)
        for table in TABLE_COLUMNS:
            (self._staging / table).mkdir(exist_ok=True)
        manifest = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "buckets": self.buckets,
            "bucket_column": BUCKET_COLUMN,
            "rows": self._rows,
            "export_id": uuid.uuid4().hex,
        }
        (self._staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        if self.out_dir.exists():
            if not self._overwrite:
                raise ParquetLedgerError(f"{self.out_dir} appeared while exporting")
            shutil.rmtree(self.out_dir)
        os.replace(self._staging, self.out_dir)
        return self.out_dir

    def abort(self) -> None:
        """Remove the temporary folder (nothing was published)."""
        shutil.rmtree(self._staging, ignore_errors=True)

    def __enter__(self) -> ParquetLedgerWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.abort()
                raise
        else:
            self.abort()


def export_parquet_ledger(
    ledger: Ledger, out_dir: Path, *, buckets: int, bucket_of: BucketOf, overwrite: bool = False
) -> dict[str, int]:
    """Write ``ledger`` as a bucketed Parquet folder; rows written per table."""
    with ParquetLedgerWriter(
        out_dir, buckets=buckets, bucket_of=bucket_of, overwrite=overwrite
    ) as writer:
        writer.write(ledger)
    return writer.rows


def export_database_ledger(
    engine: Engine,
    out_dir: Path,
    *,
    buckets: int,
    bucket_of: BucketOf,
    overwrite: bool = False,
    chunk_customers: int = 20_000,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Export the ledger database behind ``engine`` chunk by chunk of customers (memory
    bounded by one chunk); ``progress(customers_done, customers_total)`` after each chunk."""
    from creditrisk.ledger.database import read_ledger
    from creditrisk.ledger.schema import LEDGER_TABLES

    customers = LEDGER_TABLES["customers"]
    with engine.connect() as conn:
        ids = [str(i) for i in conn.execute(select(customers.c.customer_id)).scalars()]
    with ParquetLedgerWriter(
        out_dir, buckets=buckets, bucket_of=bucket_of, overwrite=overwrite
    ) as writer:
        for start in range(0, len(ids), chunk_customers):
            chunk = ids[start : start + chunk_customers]
            writer.write(read_ledger(engine, customer_ids=chunk))
            if progress is not None:
                progress(start + len(chunk), len(ids))
    return writer.rows


def read_manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest; :class:`ParquetLedgerError` when it is not a ledger folder."""
    path = folder / MANIFEST_FILE
    if not folder.is_dir():
        raise ParquetLedgerError(f"{folder}: no such ledger folder")
    if not path.is_file():
        raise ParquetLedgerError(
            f"{folder}: no {MANIFEST_FILE}, so not a complete ledger export "
            "(write one with `creditrisk ledger export --format parquet`)"
        )
    try:
        text = path.read_text()
    except OSError as exc:
        raise ParquetLedgerError(f"{path}: unreadable manifest: {exc}") from exc
    return parse_manifest(text, where=str(path))


def parse_manifest(text: str, *, where: str) -> dict[str, Any]:
    """A manifest's content, checked (format, version, bucket count); ``where`` names it in
    errors (a local path, or an object-storage URL that Spark read)."""
    path = where
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        raise ParquetLedgerError(f"{path}: unreadable manifest: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ParquetLedgerError(f"{path}: not a {FORMAT_NAME} manifest")
    if manifest.get("version") != FORMAT_VERSION:
        raise ParquetLedgerError(
            f"{path}: format version {manifest.get('version')!r}, this reader reads "
            f"{FORMAT_VERSION}"
        )
    buckets = manifest.get("buckets")
    if not isinstance(buckets, int) or buckets < 1:
        raise ParquetLedgerError(f"{path}: buckets must be a positive integer, got {buckets!r}")
    return manifest


def manifest_buckets(folder: Path) -> int:
    """How many customer buckets the folder's ledger is partitioned into."""
    return int(read_manifest(folder)["buckets"])


def is_parquet_ledger(location: str | Path) -> bool:
    """True when ``location`` is a folder holding a ledger manifest."""
    return (Path(location) / MANIFEST_FILE).is_file()


def _read_table(folder: Path, table: str, buckets: Collection[int] | None) -> pd.DataFrame:
    root = folder / table
    schema = table_schema(table)
    if not root.is_dir() or not any(root.rglob("*.parquet")):
        return schema.empty_table().to_pandas()
    partitioning = ds.partitioning(pa.schema([(BUCKET_COLUMN, pa.int64())]), flavor="hive")
    try:
        dataset = ds.dataset(str(root), format="parquet", partitioning=partitioning)
        wanted = None if buckets is None else ds.field(BUCKET_COLUMN).isin(sorted(buckets))
        data = dataset.to_table(columns=list(schema.names), filter=wanted)
    except (OSError, pa.ArrowException) as exc:
        raise ParquetLedgerError(f"{root}: cannot read the {table} table: {exc}") from exc
    return data.to_pandas(date_as_object=False)


def read_parquet_ledger(folder: Path, *, buckets: Collection[int] | None = None) -> Ledger:
    """The ledger in ``folder`` (only the given ``buckets`` when set), normalised like a
    database read (:func:`~creditrisk.ledger.frame.normalize_ledger`)."""
    manifest = read_manifest(folder)
    if buckets is not None:
        outside = sorted(b for b in buckets if not 0 <= b < manifest["buckets"])
        if outside:
            raise ParquetLedgerError(
                f"{folder}: bucket {outside[0]} outside 0..{manifest['buckets'] - 1}"
            )
    tables = {table: _read_table(folder, table, buckets) for table in TABLE_COLUMNS}
    return normalize_ledger(tables)


def read_ledger_at(location: str | Path) -> Ledger:
    """The ledger at ``location``: a Parquet ledger folder or a SQLAlchemy database URL.

    What a ``--ledger`` option hands over; anything else is a :class:`ParquetLedgerError`
    naming the location and the two accepted forms.
    """
    from creditrisk.ledger.database import make_engine, read_ledger

    text = str(location)
    if is_parquet_ledger(text):
        return read_parquet_ledger(Path(text))
    if "://" in text:
        engine = make_engine(text)
        try:
            return read_ledger(engine)
        finally:
            engine.dispose()
    if Path(text).is_dir():
        read_manifest(Path(text))  # raises with what is missing
    raise ParquetLedgerError(
        f"{text}: neither a Parquet ledger folder (with {MANIFEST_FILE}) nor a database URL "
        "such as sqlite:///creditrisk.db"
    )


def unstack_ledger(stacked: pd.DataFrame) -> Ledger:
    """A stacked ledger frame (:data:`TABLE_COLUMN` says each row's table; a table's columns
    are the contract's, others null) split back into a normalised ledger, every table in key
    order: a Spark group arrives in no particular row order, and nothing may depend on one."""
    tables: dict[str, pd.DataFrame] = {}
    for table, columns in TABLE_COLUMNS.items():
        rows = stacked.loc[(stacked[TABLE_COLUMN] == table).to_numpy(), list(columns)]
        tables[table] = rows.sort_values(TABLE_KEYS[table], kind="stable").reset_index(
            drop=True
        )
    return normalize_ledger(tables)
