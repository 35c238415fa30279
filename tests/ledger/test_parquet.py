"""The bucketed Parquet ledger folder: a round trip equals the ledger, a bucket is a complete
sub-ledger, a failed export publishes nothing, and the reader names what is wrong."""

from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from creditrisk.cli import app
from creditrisk.ledger.database import make_engine, read_ledger, upgrade_database
from creditrisk.ledger.frame import TABLE_KEYS, Ledger
from creditrisk.ledger.parquet import (
    MANIFEST_FILE,
    ParquetLedgerError,
    export_parquet_ledger,
    manifest_buckets,
    read_ledger_at,
    read_parquet_ledger,
)
from creditrisk.ledger.store import write_ledger
from creditrisk.serving.rescoring.partitions import customer_bucket, restrict_ledger
from creditrisk.synthetic import generate_ledger

BUCKETS = 4


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return generate_ledger(
        n_customers=120, start=date(2024, 1, 1), end=date(2025, 6, 30), seed=5
    ).ledger


def by_key(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(TABLE_KEYS[table], kind="stable").reset_index(drop=True)


def assert_same_ledger(left: Ledger, right: Ledger) -> None:
    for table, frame in left.tables().items():
        pd.testing.assert_frame_equal(by_key(table, frame), by_key(table, right.tables()[table]))


def export(ledger: Ledger, out: Path) -> dict[str, int]:
    return export_parquet_ledger(
        ledger, out, buckets=BUCKETS, bucket_of=partial(customer_bucket, buckets=BUCKETS)
    )


def test_round_trip_gives_back_the_ledger(ledger: Ledger, tmp_path: Path) -> None:
    rows = export(ledger, tmp_path / "lake")
    assert rows == {table: len(frame) for table, frame in ledger.tables().items()}
    assert manifest_buckets(tmp_path / "lake") == BUCKETS
    assert_same_ledger(read_parquet_ledger(tmp_path / "lake"), ledger)
    assert not list(tmp_path.glob(".lake.partial-*"))


def test_a_bucket_holds_every_row_of_its_customers(ledger: Ledger, tmp_path: Path) -> None:
    export(ledger, tmp_path / "lake")
    seen = 0
    for bucket in range(BUCKETS):
        part = read_parquet_ledger(tmp_path / "lake", buckets=[bucket])
        ids = part.customers["customer_id"]
        assert (customer_bucket(ids, BUCKETS) == bucket).all()
        assert_same_ledger(part, restrict_ledger(ledger, ids))
        seen += len(ids)
    assert seen == len(ledger.customers)
    invoice_dirs = {p.name for p in (tmp_path / "lake" / "invoices").iterdir()}
    assert invoice_dirs <= {f"bucket={b}" for b in range(BUCKETS)}


def test_a_failed_export_publishes_nothing(ledger: Ledger, tmp_path: Path) -> None:
    def broken(ids: pd.Series) -> pd.Series:
        return customer_bucket(ids, BUCKETS) + BUCKETS  # outside 0..BUCKETS-1

    with pytest.raises(ValueError, match=r"outside 0\.\.3"):
        export_parquet_ledger(ledger, tmp_path / "lake", buckets=BUCKETS, bucket_of=broken)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_not_overwritten_unless_asked(
    ledger: Ledger, tmp_path: Path
) -> None:
    export(ledger, tmp_path / "lake")
    with pytest.raises(ParquetLedgerError, match="already exists"):
        export(ledger, tmp_path / "lake")
    smaller = restrict_ledger(ledger, ledger.customers["customer_id"].iloc[:10])
    export_parquet_ledger(
        smaller, tmp_path / "lake", buckets=BUCKETS,
        bucket_of=partial(customer_bucket, buckets=BUCKETS), overwrite=True,
    )
    assert len(read_parquet_ledger(tmp_path / "lake").customers) == 10


def test_reader_names_what_is_wrong(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(ParquetLedgerError, match="no such ledger folder"):
        read_parquet_ledger(tmp_path / "missing")
    (tmp_path / "half").mkdir()
    with pytest.raises(ParquetLedgerError, match=f"no {MANIFEST_FILE}"):
        read_ledger_at(tmp_path / "half")
    with pytest.raises(ParquetLedgerError, match="neither a Parquet ledger folder"):
        read_ledger_at("creditrisk.db")
    export(ledger, tmp_path / "lake")
    with pytest.raises(ParquetLedgerError, match=r"bucket 9 outside 0\.\.3"):
        read_parquet_ledger(tmp_path / "lake", buckets=[9])
    (tmp_path / "lake" / MANIFEST_FILE).write_text('{"format": "other"}')
    with pytest.raises(ParquetLedgerError, match="not a creditrisk-ledger-parquet manifest"):
        read_parquet_ledger(tmp_path / "lake")


def test_cli_exports_the_database_and_both_locations_read_alike(
    ledger: Ledger, tmp_path: Path, sqlite_url: str
) -> None:
    upgrade_database(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        write_ledger(engine, ledger)
        stored = read_ledger(engine)
    finally:
        engine.dispose()
    out = tmp_path / "lake"
    result = CliRunner().invoke(
        app, ["ledger", "export", "--format", "parquet", str(out), "--buckets", "3",
              "--database-url", sqlite_url],
    )
    assert result.exit_code == 0, result.output
    assert manifest_buckets(out) == 3
    assert_same_ledger(read_ledger_at(out), stored)
    assert_same_ledger(read_ledger_at(sqlite_url), stored)
    again = CliRunner().invoke(
        app, ["ledger", "export", str(out), "--database-url", sqlite_url],
        env={"COLUMNS": "300"},
    )
    assert again.exit_code == 1
    assert "already exists (--overwrite replaces it)" in again.output
    assert "Traceback" not in again.output
