"""Importing ERP exports: the IBM file, every source format, idempotent re-import, skipping
bad rows into a reject file, SQLite = PostgreSQL, Parquet with the canonical mapping."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from creditrisk.ledger.database import make_engine, read_ledger
from creditrisk.ledger.frame import TABLE_KEYS
from creditrisk.ledger.importer import ImportRejected, import_ledger
from creditrisk.ledger.mapping import load_mapping
from creditrisk.ledger.store import count_rows
from tests.ledger.erp_export import EMPTY, EXPORT, MAPPING, run_import, stored, write_export
from tests.ledger.test_store import small_ledger

# ---------------------------------------------------------------- the IBM sample


def test_ibm_file_imports_with_zero_rejects(ibm_csv: Path, engine: Engine) -> None:
    """Done-when of issue 2: 100 customers, 2,466 invoices, nothing rejected."""
    result = import_ledger(
        load_mapping("ibm_accounts_receivable"), engine=engine, data_dir=ibm_csv.parent
    )
    assert result.n_rejected == 0
    assert result.report.ok
    assert result.counts["customers"].inserted == 100
    assert result.counts["invoices"].inserted == 2466
    assert count_rows(engine) == {
        "customers": 100,
        "invoices": 2466,
        "payments": 0,
        "credit_events": 0,
        "customer_attributes": 0,
    }
    ledger = read_ledger(engine)
    source = pd.read_csv(ibm_csv)
    assert int(ledger.invoices["disputed"].sum()) == int((source["Disputed"] == "Yes").sum())
    assert ledger.invoices["settled_date"].notna().all()
    first = ledger.invoices.set_index("invoice_id").loc["611365"]
    assert first["issue_date"] == pd.Timestamp("2013-01-02")
    assert first["due_date"] == pd.Timestamp("2013-02-01")
    assert first["settled_date"] == pd.Timestamp("2013-01-15")
    assert first["amount"] == pytest.approx(55.94)
    customer = ledger.customers.set_index("customer_id").loc["0379-NEVHP"]
    assert customer["country"] == "391"
    assert (
        customer["onboarded_on"]
        == source.loc[source["customerID"] == "0379-NEVHP", "InvoiceDate"].map(pd.Timestamp).min()
    )


def test_reimporting_the_ibm_file_changes_nothing(ibm_csv: Path, engine: Engine) -> None:
    mapping = load_mapping("ibm_accounts_receivable")
    import_ledger(mapping, engine=engine, data_dir=ibm_csv.parent)
    before = read_ledger(engine)
    again = import_ledger(mapping, engine=engine, data_dir=ibm_csv.parent)
    assert all(c.inserted == 0 and c.updated == 0 for c in again.counts.values()), again.counts
    assert again.counts["invoices"].unchanged == 2466
    pd.testing.assert_frame_equal(read_ledger(engine).invoices, before.invoices)


# ---------------------------------------------------------------- the small export


def test_small_export_imports_every_format(tmp_path: Path, engine: Engine) -> None:
    result = run_import(write_export(tmp_path), engine)
    assert result.report.ok
    assert count_rows(engine) == {
        "customers": 3,
        "invoices": 4,
        "payments": 2,
        "credit_events": 1,
        "customer_attributes": 0,
    }
    ledger = stored(engine)
    customers = ledger.customers.set_index("customer_id")
    assert customers.loc["C1", "onboarded_on"] == pd.Timestamp("2023-01-01")
    assert customers.loc["C2", "country"] == "FR"
    assert customers.loc["C3", "onboarded_on"] == pd.Timestamp("2024-03-01"), (
        "a customer seen only in invoices is onboarded at its first invoice"
    )
    invoices = ledger.invoices.set_index("invoice_id")
    assert invoices.loc["I1", "settled_date"] == pd.Timestamp("2024-01-25"), "from payment P1"
    assert invoices.loc["I2", "settled_date"] == pd.Timestamp("2024-03-01"), "from the file"
    assert pd.isna(invoices.loc["I3", "settled_date"]), "a partial payment does not settle"
    assert bool(invoices.loc["I3", "disputed"]) is True
    events = ledger.credit_events
    assert events["event_type"].tolist() == ["reminder"]
    assert events["event_id"].str.startswith("ev_").all()


def test_reimport_is_a_noop_and_a_changed_row_updates(tmp_path: Path, engine: Engine) -> None:
    mapping = write_export(tmp_path)
    run_import(mapping, engine)
    again = run_import(mapping, engine)
    assert all(c.inserted == 0 and c.updated == 0 for c in again.counts.values()), again.counts
    assert again.counts["credit_events"].unchanged == 1, "derived event ids are stable"

    changed = write_export(tmp_path / "v2", {"invoices.csv": ("250.50", "260.00")})
    result = run_import(changed, engine)
    assert (result.counts["invoices"].updated, result.counts["invoices"].unchanged) == (1, 3)
    assert result.counts["customers"].updated == 0
    amounts = stored(engine).invoices.set_index("invoice_id")["amount"]
    assert amounts["I2"] == 260.0


def test_later_invoice_only_export_keeps_customer_data(tmp_path: Path, engine: Engine) -> None:
    """An import without a customer file must not wipe stored attributes nor move
    onboarding dates forward."""
    run_import(write_export(tmp_path), engine)
    later = MAPPING.split("  payments:")[0].replace(
        "  customers:\n    file: customers.csv\n    columns:\n      customer_id: Id\n"
        "      onboarded_on: {column: Since, format: yyyymmdd_number}\n      country: Land\n"
        "      credit_limit: Limit\n",
        "",
    )
    invoices_only = write_export(
        tmp_path / "later",
        {"invoices.csv": ("I4,C3,01.03.2024,31.03.2024", "I4,C3,01.05.2024,31.05.2024")},
        mapping_text=later,
    )
    assert list(invoices_only.tables) == ["invoices"]
    result = run_import(invoices_only, engine)
    assert result.counts["customers"].updated == 0
    customers = stored(engine).customers.set_index("customer_id")
    assert customers.loc["C1", "country"] == "DE"
    assert customers.loc["C1", "credit_limit"] == 1000.0
    assert customers.loc["C3", "onboarded_on"] == pd.Timestamp("2024-03-01")


def test_payments_may_refer_to_invoices_already_stored(tmp_path: Path, engine: Engine) -> None:
    run_import(write_export(tmp_path), engine)
    only_payments = MAPPING[MAPPING.index("  payments:") : MAPPING.index("  credit_events:")]
    mapping = write_export(
        tmp_path / "pay",
        {"payments.csv": ("P2,C2,I3,1707868800,30.00", "P3,C2,I3,1707868800,50.00")},
        mapping_text="tables:\n" + only_payments,
    )
    result = run_import(mapping, engine)
    assert result.counts["payments"].inserted == 1
    assert count_rows(engine)["payments"] == 3


def test_credit_notes_need_allow_negative_amounts(tmp_path: Path, engine: Engine) -> None:
    edit = {
        "invoices.csv": ("I4,C3,01.03.2024,31.03.2024,40.00", "I4,C3,01.03.2024,31.03.2024,-40.00")
    }
    with pytest.raises(ImportRejected, match="1 problem in 1 row"):
        run_import(write_export(tmp_path / "a", edit), engine)
    allowed = MAPPING.replace(
        "    file: invoices.csv\n", "    file: invoices.csv\n    allow_negative_amounts: true\n"
    )
    result = run_import(write_export(tmp_path / "b", edit, mapping_text=allowed), engine)
    assert result.report.ok
    assert stored(engine).invoices.set_index("invoice_id").loc["I4", "amount"] == -40.0


# ---------------------------------------------------------------- skipping bad rows


def test_skip_bad_rows_writes_good_rows_and_a_reject_file(tmp_path: Path, engine: Engine) -> None:
    edits = {"invoices.csv": ("80.00,EUR,Y", "eighty,EUR,Y")}  # I3 bad -> P2 and event too
    mapping = write_export(tmp_path, edits)
    reject = tmp_path / "out" / "rejects.csv"
    result = run_import(mapping, engine, skip_bad_rows=True, reject_path=reject)
    assert result.rejected_rows == {"invoices": 1, "payments": 1, "credit_events": 1}
    assert count_rows(engine) == {
        "customers": 3,
        "invoices": 3,
        "payments": 1,
        "credit_events": 0,
        "customer_attributes": 0,
    }
    files = {p.name: p for p in result.reject_files}
    assert set(files) == {
        "rejects.invoices.csv",
        "rejects.payments.csv",
        "rejects.credit_events.csv",
    }
    invoices = pd.read_csv(files["rejects.invoices.csv"], dtype=str, keep_default_na=False)
    assert list(invoices.columns) == [
        *EXPORT["invoices.csv"].splitlines()[0].split(","),
        "reject_reason",
    ]
    assert invoices["Amount"].tolist() == ["eighty"]
    assert invoices["reject_reason"].tolist() == ["Amount: not a number (amount)"]
    payments = pd.read_csv(files["rejects.payments.csv"], dtype=str)
    assert payments["reject_reason"].iloc[0] == (
        "Inv: invoice is rejected in this import (invoices.csv line 4) (invoice_id)"
    )


def test_skip_bad_rows_does_not_skip_bad_files(tmp_path: Path, engine: Engine) -> None:
    mapping = write_export(tmp_path, {"payments.csv": ("Amt", "Amount")})
    with pytest.raises(ImportRejected, match="1 problem"):
        run_import(mapping, engine, skip_bad_rows=True, reject_path=tmp_path / "r.csv")
    assert count_rows(engine) == EMPTY
    assert not (tmp_path / "r.csv").exists()


# ---------------------------------------------------------------- SQLite and PostgreSQL


def test_import_is_idempotent_and_atomic_on_each_database(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    try:
        with pytest.raises(ImportRejected):
            run_import(
                write_export(tmp_path / "bad", {"payments.csv": ("C2,I3", "C2,I99")}), engine
            )
        assert count_rows(engine) == EMPTY
        mapping = write_export(tmp_path / "good")
        first = run_import(mapping, engine)
        assert first.counts["invoices"].inserted == 4
        again = run_import(mapping, engine)
        assert sum(c.inserted + c.updated for c in again.counts.values()) == 0
    finally:
        engine.dispose()


def _sorted_ledger(engine: Engine) -> dict[str, pd.DataFrame]:
    ledger = stored(engine)
    return {
        name: frame.sort_values(TABLE_KEYS[name], kind="stable").reset_index(drop=True)
        for name, frame in ledger.tables().items()
    }


def test_sqlite_and_postgresql_hold_identical_tables(
    sqlite_url: str, postgres_url: str, tmp_path: Path
) -> None:
    mapping = write_export(tmp_path)
    tables = []
    for url in (sqlite_url, postgres_url):
        engine = make_engine(url)
        try:
            run_import(mapping, engine)
            tables.append(_sorted_ledger(engine))
        finally:
            engine.dispose()
    for name in tables[0]:
        pd.testing.assert_frame_equal(tables[0][name], tables[1][name], obj=name)


# ---------------------------------------------------------------- Parquet, canonical mapping


def write_canonical(folder: Path) -> None:
    """The ledger contract as Parquet files, as the synthetic generator writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in small_ledger().tables().items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)


def test_canonical_parquet_round_trip(tmp_path: Path, engine: Engine) -> None:
    write_canonical(tmp_path)
    result = import_ledger(load_mapping("canonical"), engine=engine, data_dir=tmp_path)
    assert result.report.ok
    expected = small_ledger()
    got = stored(engine)
    for name, frame in expected.tables().items():
        key = frame.columns[0]
        pd.testing.assert_frame_equal(
            got.tables()[name].sort_values(key).reset_index(drop=True),
            frame.sort_values(key).reset_index(drop=True),
            obj=name,
        )
    again = import_ledger(load_mapping("canonical"), engine=engine, data_dir=tmp_path)
    assert sum(c.written for c in again.counts.values()) == 0


def test_parquet_problems_name_the_record(tmp_path: Path, engine: Engine) -> None:
    write_canonical(tmp_path)
    payments = pd.read_parquet(tmp_path / "payments.parquet")
    payments.loc[0, "amount"] = -5.0
    payments.to_parquet(tmp_path / "payments.parquet", index=False)
    with pytest.raises(ImportRejected) as caught:
        import_ledger(load_mapping("canonical"), engine=engine, data_dir=tmp_path)
    problem = caught.value.report.head(1).iloc[0]
    assert (problem["file"], problem["row_kind"], problem["row"]) == ("payments.parquet", "row", 1)
    assert problem["value"] == "-5.0"
    assert count_rows(engine) == EMPTY


def test_optional_canonical_tables_may_be_absent(tmp_path: Path, engine: Engine) -> None:
    write_canonical(tmp_path)
    for name in ("customers", "payments", "credit_events"):
        (tmp_path / f"{name}.parquet").unlink()
    result = import_ledger(load_mapping("canonical"), engine=engine, data_dir=tmp_path)
    assert result.counts["invoices"].inserted == 3
    assert count_rows(engine)["customers"] == 2, "customers inferred from the invoices"


# ---------------------------------------------------------------- SQLite's one write lock


def _write_lock_free(path: Path) -> bool:
    """Whether another connection could take the SQLite database's write lock right now."""
    import sqlite3

    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        return False
    finally:
        probe.close()


def test_import_holds_the_sqlite_write_lock_for_its_writes_only(tmp_path: Path) -> None:
    """Every table is compared with the stored rows and its rows bound into TEMP tables
    before the first row is written, so the database's one write lock (the service's
    decision-log inserts wait for it) is free while the import reads, compares and stages,
    and held from the first copy into the ledger to the commit. The probe's own negative
    control: it finds the lock held once writing has begun."""
    path = tmp_path / "ledger.db"
    engine = make_engine(f"sqlite:///{path}")
    mapping = write_export(tmp_path / "export")
    seen: list[tuple[str, str, bool]] = []

    def progress(table: str, stage: str, done: int, total: int) -> None:
        if stage in ("compare", "stage", "write"):
            seen.append((table, stage, _write_lock_free(path)))

    import_ledger(mapping, engine=engine, progress=progress)
    compares = [free for _, stage, free in seen if stage == "compare"]
    staged = [free for _, stage, free in seen if stage == "stage"]
    writes = [free for _, stage, free in seen if stage == "write"]
    assert len(compares) >= 3, seen
    assert all(compares), seen
    assert len(staged) >= 3, seen
    assert all(staged), seen  # TEMP tables: no lock on the ledger
    assert writes, seen
    assert not any(writes), seen  # the probe sees a held lock
    first_write = next(i for i, (_, stage, _) in enumerate(seen) if stage == "write")
    assert all(stage == "write" for _, stage, _ in seen[first_write:]), seen
    assert _write_lock_free(path)  # committed
