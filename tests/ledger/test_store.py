"""The SQL store: idempotent upserts with honest counts, on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine

from creditrisk.ledger.database import make_engine
from creditrisk.ledger.frame import Ledger, normalize_ledger
from creditrisk.ledger.store import (
    DatabaseKeys,
    TableCounts,
    count_rows,
    ensure_schema,
    stored_rows,
    upsert_table,
    write_ledger,
)

NASTY_ID = "O'Brien; DROP TABLE customers; --"


def small_ledger() -> Ledger:
    """Two customers (one with an id that would break string-built SQL), three invoices,
    one payment, one credit event. Payments are normalised on their own: settlement dates
    are given, not derived."""
    tables = normalize_ledger(
        {
            "customers": pd.DataFrame(
                {
                    "customer_id": ["C1", NASTY_ID],
                    "onboarded_on": ["2023-01-01", "2023-06-01"],
                    "country": ["DE", "FR"],
                    "credit_limit": [1000.0, None],
                }
            ),
            "invoices": pd.DataFrame(
                {
                    "invoice_id": ["I1", "I2", "I3"],
                    "customer_id": ["C1", "C1", NASTY_ID],
                    "issue_date": ["2024-01-05", "2024-02-05", "2024-01-10"],
                    "due_date": ["2024-02-04", "2024-03-06", "2024-02-09"],
                    "amount": [100.0, -20.0, 80.125],
                    "currency": ["EUR", "EUR", "EUR"],
                    "disputed": [False, False, True],
                    "settled_date": ["2024-01-25", None, None],
                }
            ),
            "credit_events": pd.DataFrame(
                {
                    "event_id": ["E1"],
                    "customer_id": [NASTY_ID],
                    "event_date": ["2024-02-20"],
                    "event_type": ["reminder"],
                    "invoice_id": ["I3"],
                }
            ),
        }
    )
    payments = pd.DataFrame(
        {
            "payment_id": ["P1"],
            "customer_id": ["C1"],
            "invoice_id": ["I1"],
            "paid_on": ["2024-01-25"],
            "amount": [100.0],
        }
    )
    paid = normalize_ledger({"payments": payments}).payments
    return Ledger(tables.customers, tables.invoices, paid, tables.credit_events)


@pytest.fixture
def engine(database_url: str) -> Engine:
    return make_engine(database_url)


def test_write_ledger_inserts_then_is_a_noop(engine: Engine) -> None:
    ledger = small_ledger()
    first = write_ledger(engine, ledger)
    assert first == {
        "customers": TableCounts(inserted=2),
        "invoices": TableCounts(inserted=3),
        "payments": TableCounts(inserted=1),
        "credit_events": TableCounts(inserted=1),
        "customer_attributes": TableCounts(),
    }
    second = write_ledger(engine, ledger)
    assert second == {
        "customers": TableCounts(unchanged=2),
        "invoices": TableCounts(unchanged=3),
        "payments": TableCounts(unchanged=1),
        "credit_events": TableCounts(unchanged=1),
        "customer_attributes": TableCounts(),
    }
    assert count_rows(engine) == {
        "customers": 2,
        "invoices": 3,
        "payments": 1,
        "credit_events": 1,
        "customer_attributes": 0,
    }
    engine.dispose()


def test_a_changed_row_is_updated_and_counted(engine: Engine) -> None:
    ledger = small_ledger()
    write_ledger(engine, ledger)
    invoices = ledger.invoices.copy()
    invoices.loc[invoices["invoice_id"] == "I2", "settled_date"] = pd.Timestamp("2024-03-01")
    customers = ledger.customers.copy()
    customers.loc[customers["customer_id"] == NASTY_ID, "credit_limit"] = 50.0
    counts = write_ledger(
        engine, Ledger(customers, invoices, ledger.payments, ledger.credit_events)
    )
    assert counts["invoices"] == TableCounts(updated=1, unchanged=2)
    assert counts["customers"] == TableCounts(updated=1, unchanged=1)
    with engine.connect() as conn:
        rows = stored_rows(conn, "invoices", ["I2"], ["settled_date"])
        limits = stored_rows(conn, "customers", [NASTY_ID], ["credit_limit"])
    assert rows["settled_date"].tolist() == [pd.Timestamp("2024-03-01")]
    assert limits["credit_limit"].tolist() == [50.0]
    engine.dispose()


def test_stored_values_round_trip_with_contract_dtypes(engine: Engine) -> None:
    ledger = small_ledger()
    write_ledger(engine, ledger)
    with engine.connect() as conn:
        invoices = stored_rows(conn, "invoices", ledger.invoices["invoice_id"])
    invoices = invoices.sort_values("invoice_id").reset_index(drop=True)
    assert str(invoices["issue_date"].dtype) == "datetime64[ns]"
    assert invoices["amount"].tolist() == [100.0, -20.0, 80.125]
    assert invoices["disputed"].tolist() == [False, False, True]
    assert invoices["customer_id"].tolist() == ["C1", "C1", NASTY_ID]
    engine.dispose()


def test_upsert_writes_only_the_given_columns(engine: Engine) -> None:
    """A partial upsert never wipes columns it was not given."""
    write_ledger(engine, small_ledger())
    update = pd.DataFrame(
        {"customer_id": ["C1", "C9"], "onboarded_on": pd.to_datetime(["2023-01-01", "2024-01-01"])}
    )
    with engine.begin() as conn:
        counts = upsert_table(conn, "customers", update, columns=["customer_id", "onboarded_on"])
    assert counts == TableCounts(inserted=1, unchanged=1)
    with engine.connect() as conn:
        c1 = stored_rows(conn, "customers", ["C1"])
    assert c1["country"].tolist() == ["DE"]
    assert c1["credit_limit"].tolist() == [1000.0]
    engine.dispose()


def test_keep_stored_when_null_keeps_a_known_value(engine: Engine) -> None:
    write_ledger(engine, small_ledger())
    unknown = pd.DataFrame({"invoice_id": ["I1"], "settled_date": pd.Series([pd.NaT])})
    with engine.begin() as conn:
        counts = upsert_table(
            conn,
            "invoices",
            unknown,
            columns=["settled_date"],
            keep_stored_when_null=["settled_date"],
        )
        kept = stored_rows(conn, "invoices", ["I1"], ["settled_date"])
    assert counts == TableCounts(unchanged=1)
    assert kept["settled_date"].tolist() == [pd.Timestamp("2024-01-25")]
    engine.dispose()


def _write_then_fail(engine: Engine, ledger: Ledger) -> None:
    with engine.begin() as conn:
        upsert_table(conn, "customers", ledger.customers)
        upsert_table(conn, "invoices", ledger.invoices)
        raise RuntimeError("stop")


def test_a_failed_transaction_writes_nothing(engine: Engine) -> None:
    ensure_schema(engine)
    with pytest.raises(RuntimeError, match="stop"):
        _write_then_fail(engine, small_ledger())
    assert count_rows(engine)["customers"] == 0
    engine.dispose()


def test_database_keys_report_what_is_stored(engine: Engine) -> None:
    write_ledger(engine, small_ledger())
    with engine.connect() as conn:
        keys = DatabaseKeys(conn)
        found = keys.existing("customers", pd.Series(["C1", "C404", NASTY_ID]))
        owners = keys.invoice_customers(pd.Series(["I3", "I404"]))
    assert sorted(found) == sorted(["C1", NASTY_ID])
    assert owners.to_dict() == {"I3": NASTY_ID}
    engine.dispose()
