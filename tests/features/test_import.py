"""Importing ERP exports: the IBM file, idempotent re-import, every rejection case with its
message and nothing written, skipping bad rows, SQLite = PostgreSQL, and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from creditrisk.cli import app
from creditrisk.ledger.database import make_engine, read_ledger
from creditrisk.ledger.frame import Ledger, normalize_ledger
from creditrisk.ledger.importer import ImportRejected, ImportResult, import_ledger
from creditrisk.ledger.mapping import LedgerMapping, load_mapping
from creditrisk.ledger.schema import LEDGER_TABLES
from creditrisk.ledger.store import count_rows, ensure_schema
from tests.features.test_store import small_ledger

EMPTY = {"customers": 0, "invoices": 0, "payments": 0, "credit_events": 0}

# A small ERP export with renamed columns and several formats: day-first dates, yyyymmdd
# numbers, epoch seconds, Y/N flags, a partial payment and an event to normalise.
EXPORT: dict[str, str] = {
    "customers.csv": (
        "Id,Name,Since,Land,Limit\n"
        "C1,Alpha GmbH,20230101.0,DE,1000\n"
        "C2,Beta SARL,20230315.0,FR,500\n"
    ),
    "invoices.csv": (
        "InvNo,Cust,InvDate,Due,Amount,Cur,Disp,Settled\n"
        "I1,C1,05.01.2024,04.02.2024,100.00,EUR,N,\n"
        "I2,C1,05.02.2024,06.03.2024,250.50,EUR,N,01.03.2024\n"
        "I3,C2,10.01.2024,09.02.2024,80.00,EUR,Y,\n"
        "I4,C3,01.03.2024,31.03.2024,40.00,EUR,N,\n"
    ),
    "payments.csv": (
        "PayId,Cust,Inv,PaidOn,Amt\nP1,C1,I1,1706140800,100.00\nP2,C2,I3,1707868800,30.00\n"
    ),
    "events.csv": "Cust,Date,Type,Inv\nC2,2024-02-20,Reminder,I3\n",
}

MAPPING = """
name: small-erp
tables:
  customers:
    file: customers.csv
    columns:
      customer_id: Id
      onboarded_on: {column: Since, format: yyyymmdd_number}
      country: Land
      credit_limit: Limit
  invoices:
    file: invoices.csv
    columns:
      invoice_id: InvNo
      customer_id: Cust
      issue_date: {column: InvDate, format: "%d.%m.%Y"}
      due_date: {column: Due, format: "%d.%m.%Y"}
      amount: Amount
      currency: Cur
      disputed: {column: Disp, values: {"Y": true, "N": false}}
      settled_date: {column: Settled, format: "%d.%m.%Y"}
  payments:
    file: payments.csv
    columns:
      payment_id: PayId
      customer_id: Cust
      invoice_id: Inv
      paid_on: {column: PaidOn, format: epoch_s}
      amount: Amt
  credit_events:
    file: events.csv
    columns:
      customer_id: Cust
      event_date: Date
      event_type: Type
      invoice_id: Inv
"""


def write_export(
    folder: Path,
    changes: Mapping[str, tuple[str, str]] | None = None,
    *,
    mapping_text: str = MAPPING,
) -> LedgerMapping:
    """Write the export (``changes``: file -> (old, new) text replacement) and its mapping."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in EXPORT.items():
        if changes and name in changes:
            old, new = changes[name]
            assert old in text, f"fixture edit {old!r} not found in {name}"
            text = text.replace(old, new)
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "mapping.yaml").write_text(mapping_text)
    return load_mapping(folder / "mapping.yaml")


def stored(engine: Engine) -> Ledger:
    """The tables as stored, each normalised on its own (settlement dates are not re-derived)."""
    with engine.connect() as conn:
        raw = {name: pd.read_sql(select(table), conn) for name, table in LEDGER_TABLES.items()}
    return Ledger(**{name: normalize_ledger({name: raw[name]}).tables()[name] for name in raw})


def run_import(mapping: LedgerMapping, engine: Engine, **kwargs: object) -> ImportResult:
    return import_ledger(mapping, engine=engine, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def engine(sqlite_url: str) -> Engine:
    return make_engine(sqlite_url)


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
    assert count_rows(engine) == {"customers": 3, "invoices": 4, "payments": 2, "credit_events": 1}
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


# ---------------------------------------------------------------- rejections

CP1252_CUSTOMERS = "Id,Name,Since,Land,Limit\nC1,Müller AG,20230101.0,DE,1000\n"

REJECTIONS: dict[str, tuple[dict[str, tuple[str, str]], str, str, str]] = {
    # case: (edits, file, row, expected words in the problem)
    "missing column": (
        {"invoices.csv": ("Amount", "Betrag")},
        "invoices.csv",
        "whole file",
        "column 'Amount' is missing from the file",
    ),
    "unparsable date": (
        {"invoices.csv": ("05.02.2024", "2024-02-05")},
        "invoices.csv",
        "line 3",
        "not a date in the format %d.%m.%Y (issue_date)",
    ),
    "non-numeric amount": (
        {"invoices.csv": ("250.50", "two fifty")},
        "invoices.csv",
        "line 3",
        "not a number (amount)",
    ),
    "negative invoice": (
        {"invoices.csv": ("80.00", "-80.00")},
        "invoices.csv",
        "line 4",
        "must be positive (for credit notes set allow_negative_amounts: true",
    ),
    "zero payment": (
        {"payments.csv": ("30.00", "0")},
        "payments.csv",
        "line 3",
        "a payment must be positive (amount)",
    ),
    "due before issue": (
        {"invoices.csv": ("01.03.2024,31.03.2024", "01.03.2024,01.02.2024")},
        "invoices.csv",
        "line 5",
        "due date is before the issue date 2024-03-01 (due_date)",
    ),
    "settled before issue": (
        {"invoices.csv": ("01.03.2024\n", "01.01.2024\n")},
        "invoices.csv",
        "line 3",
        "settled before the issue date 2024-02-05 (settled_date)",
    ),
    "duplicate id": (
        {"invoices.csv": ("I4,C3", "I3,C3")},
        "invoices.csv",
        "line 5",
        "duplicate id, first on line 4 (invoice_id)",
    ),
    "payment for unknown customer": (
        {"payments.csv": ("P2,C2", "P2,C9")},
        "payments.csv",
        "line 3",
        "unknown customer: neither in this import nor in the ledger (customer_id)",
    ),
    "payment for unknown invoice": (
        {"payments.csv": ("C2,I3", "C2,I99")},
        "payments.csv",
        "line 3",
        "unknown invoice: neither in this import nor in the ledger (invoice_id)",
    ),
    "payment of another customer's invoice": (
        {"payments.csv": ("P1,C1", "P1,C2")},
        "payments.csv",
        "line 2",
        "invoice belongs to customer C1, not to this row's customer",
    ),
    "event for unknown invoice": (
        {"events.csv": ("Reminder,I3", "Reminder,I77")},
        "events.csv",
        "line 2",
        "unknown invoice",
    ),
    "same event twice": (
        {"events.csv": ("Reminder,I3\n", "Reminder,I3\nC2,2024-02-20,reminder,I3\n")},
        "events.csv",
        "line 3",
        "same customer, date, type and invoice as line 2 (event_id)",
    ),
    "unknown event type": (
        {"events.csv": ("Reminder", "Party")},
        "events.csv",
        "line 2",
        "unknown event type (expected one of insolvency, write_off",
    ),
    "wrong delimiter": (
        {"invoices.csv": (EXPORT["invoices.csv"], EXPORT["invoices.csv"].replace(",", ";"))},
        "invoices.csv",
        "whole file",
        "delimiter looks wrong: expected ',' found ';'",
    ),
    "empty file": (
        {"payments.csv": (EXPORT["payments.csv"], "")},
        "payments.csv",
        "whole file",
        "the file is empty",
    ),
    "header only": (
        {
            "invoices.csv": (
                EXPORT["invoices.csv"],
                "InvNo,Cust,InvDate,Due,Amount,Cur,Disp,Settled\n",
            )
        },
        "invoices.csv",
        "whole file",
        "the file has no data rows",
    ),
    "ragged line": (
        {"payments.csv": ("P2,C2,I3,1707868800,30.00", "P2,C2,I3,1707868800,30,00")},
        "payments.csv",
        "whole file",
        "line 3 has 6 fields but the header has 5",
    ),
    "customer without any date": (
        {"customers.csv": ("FR,500\n", "FR,500\nC7,Gamma,,NL,5\n")},
        "customers.csv",
        "line 4",
        "no onboarding date and no invoice to take it from (onboarded_on)",
    ),
    "customer id too long": (
        {"customers.csv": ("C2,Beta", "C" + "2" * 70 + ",Beta")},
        "customers.csv",
        "line 3",
        "longer than 64 characters (customer_id)",
    ),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
def test_a_bad_file_is_rejected_whole_with_its_reason(
    case: str, tmp_path: Path, engine: Engine
) -> None:
    """Each failure names file, row and problem, and leaves the database empty."""
    edits, file, row, words = REJECTIONS[case]
    mapping = write_export(tmp_path, edits)
    with pytest.raises(ImportRejected) as caught:
        run_import(mapping, engine)
    problems = caught.value.report.problems
    shown = problems["row_kind"] + " " + problems["row"].astype("string")
    shown = shown.where(problems["row"].notna(), "whole file")
    hits = problems[problems["problem"].str.contains(words, regex=False)]
    assert not hits.empty, problems[["file", "row", "column", "problem"]].to_string()
    assert (hits["file"] == file).all()
    assert row in set(shown[hits.index])
    assert count_rows(engine) == EMPTY


def test_an_unusable_file_is_one_problem_not_a_cascade(tmp_path: Path, engine: Engine) -> None:
    """Payments are not called 'unknown invoice' because the invoice file could not be read."""
    text = EXPORT["invoices.csv"]
    mapping = write_export(tmp_path, {"invoices.csv": (text, text.replace(",", ";"))})
    with pytest.raises(ImportRejected) as caught:
        run_import(mapping, engine)
    assert caught.value.report.count == 1
    assert caught.value.report.has_file_problems


def test_undecodable_encoding_is_rejected_with_the_line(tmp_path: Path, engine: Engine) -> None:
    mapping = write_export(tmp_path)
    (tmp_path / "customers.csv").write_bytes(CP1252_CUSTOMERS.encode("cp1252"))
    with pytest.raises(ImportRejected) as caught:
        run_import(mapping, engine)
    problem = caught.value.report.problems["problem"].iloc[0]
    assert "cannot read the file as utf-8: byte fc on line 2 is not valid utf-8" in problem
    assert "set encoding: in the mapping" in problem
    assert count_rows(engine) == EMPTY
    fixed = MAPPING.replace(
        "    file: customers.csv\n", "    file: customers.csv\n    encoding: cp1252\n"
    )
    (tmp_path / "mapping.yaml").write_text(fixed)
    assert run_import(load_mapping(tmp_path / "mapping.yaml"), engine).report.ok


def test_nothing_is_written_when_an_earlier_table_was_fine(tmp_path: Path, engine: Engine) -> None:
    """One transaction: good customers and invoices are not written if a payment is bad."""
    run_import(write_export(tmp_path / "first"), engine)
    before = count_rows(engine)
    edits = {
        "customers.csv": (
            "C2,Beta SARL,20230315.0,FR,500\n",
            "C2,Beta SARL,20230315.0,FR,500\nC5,New,20240101,NL,10\n",
        ),
        "payments.csv": ("30.00", "-1"),
    }
    with pytest.raises(ImportRejected):
        run_import(write_export(tmp_path / "second", edits), engine)
    assert count_rows(engine) == before


# ---------------------------------------------------------------- skipping bad rows


def test_skip_bad_rows_writes_good_rows_and_a_reject_file(tmp_path: Path, engine: Engine) -> None:
    edits = {"invoices.csv": ("80.00,EUR,Y", "eighty,EUR,Y")}  # I3 bad -> P2 and event too
    mapping = write_export(tmp_path, edits)
    reject = tmp_path / "out" / "rejects.csv"
    result = run_import(mapping, engine, skip_bad_rows=True, reject_path=reject)
    assert result.rejected_rows == {"invoices": 1, "payments": 1, "credit_events": 1}
    assert count_rows(engine) == {"customers": 3, "invoices": 3, "payments": 1, "credit_events": 0}
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
    keys = {
        "customers": "customer_id",
        "invoices": "invoice_id",
        "payments": "payment_id",
        "credit_events": "event_id",
    }
    return {
        name: frame.sort_values(keys[name], kind="stable").reset_index(drop=True)
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


# ---------------------------------------------------------------- the command line

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["ledger", "import", *args], env={"COLUMNS": "250"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_cli_imports_and_prints_counts(tmp_path: Path, sqlite_url: str) -> None:
    write_export(tmp_path)
    code, output = invoke("--mapping", str(tmp_path / "mapping.yaml"), "--database-url", sqlite_url)
    assert code == 0, output
    assert "invoices" in output
    assert count_rows(make_engine(sqlite_url))["invoices"] == 4


def test_cli_rejection_exits_1_with_the_report(tmp_path: Path, sqlite_url: str) -> None:
    write_export(tmp_path, {"invoices.csv": ("05.02.2024", "5 Feb 2024")})
    code, output = invoke("--mapping", str(tmp_path / "mapping.yaml"), "--database-url", sqlite_url)
    assert code == 1
    assert "not a date in the format %d.%m.%Y (issue_date)" in output
    assert "5 Feb 2024" in output
    assert "nothing was written" in output
    assert count_rows(make_engine(sqlite_url)) == EMPTY


def test_cli_skip_bad_rows_exits_0_and_writes_rejects(tmp_path: Path, sqlite_url: str) -> None:
    write_export(tmp_path, {"invoices.csv": ("05.02.2024", "5 Feb 2024")})
    reject = tmp_path / "bad.csv"
    code, output = invoke(
        "--mapping",
        str(tmp_path / "mapping.yaml"),
        "--database-url",
        sqlite_url,
        "--skip-bad-rows",
        "--reject-file",
        str(reject),
    )
    assert code == 0, output
    assert "skipped 1 bad row" in output
    assert (tmp_path / "bad.invoices.csv").exists()


def test_cli_data_dir_and_file_override(tmp_path: Path, sqlite_url: str) -> None:
    write_export(tmp_path / "data")
    (tmp_path / "data" / "mapping.yaml").rename(tmp_path / "mapping.yaml")
    (tmp_path / "data" / "invoices.csv").rename(tmp_path / "other.csv")
    code, output = invoke(
        "-m",
        str(tmp_path / "mapping.yaml"),
        "--data-dir",
        str(tmp_path / "data"),
        "--file",
        f"invoices={tmp_path / 'other.csv'}",
        "--database-url",
        sqlite_url,
    )
    assert code == 0, output


def test_cli_bad_mapping_exits_2_without_traceback(tmp_path: Path, sqlite_url: str) -> None:
    (tmp_path / "m.yaml").write_text("tables:\n  invoice:\n    file: x.csv\n    columns: {}\n")
    code, output = invoke("--mapping", str(tmp_path / "m.yaml"), "--database-url", sqlite_url)
    assert code == 2
    assert "unknown ledger table 'invoice'" in output
    code, output = invoke("--mapping", "no-such-mapping", "--database-url", sqlite_url)
    assert code == 2
    assert "mapping file not found" in output
    code, output = invoke("--mapping", "canonical", "--file", "bills=x.csv")
    assert code == 2
    assert "expected TABLE=PATH" in output


def test_cli_shipped_ibm_mapping(ibm_csv: Path, sqlite_url: str) -> None:
    code, output = invoke(
        "--mapping",
        "ibm_accounts_receivable",
        "--data-dir",
        str(ibm_csv.parent),
        "--database-url",
        sqlite_url,
    )
    assert code == 0, output
    assert "2,466" in output


def test_schema_is_created_on_first_import(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    run_import(write_export(tmp_path), engine)
    ensure_schema(engine)  # idempotent
    assert count_rows(engine)["customers"] == 3


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
