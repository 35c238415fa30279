"""One customer's path equals the whole-book path: the rows of one customer, normalised by
``ledger.customer_rows`` and turned into features by ``features.one_customer``, give every
customer feature, the default status, every open-invoice feature and the paid amounts that
the whole-book path (``normalize_ledger`` -> ``build_features`` / ``customers_in_default`` /
``build_invoice_features``, ``serving.open_invoices.amounts_paid``) gives that customer, for
every customer of random ledgers at random dates.

The negative control shows the check has teeth: with the settled dates of the one-customer
rows left underived, the same check fails.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from creditrisk.features import one_customer, point_in_time
from creditrisk.features.customer import build_features
from creditrisk.features.default_status import (
    DefaultDefinition,
    customers_in_default,
    in_default_at,
)
from creditrisk.features.invoice import build_invoice_features
from creditrisk.ledger import customer_rows as customer_rows_module
from creditrisk.ledger.customer_rows import CustomerRows, customer_rows
from creditrisk.ledger.frame import Ledger, normalize_ledger
from creditrisk.serving.open_invoices import amounts_paid
from creditrisk.serving.rating import open_invoice_payments
from tests.features.ledgers import random_tables
from tests.features.strategies import HORIZON_DAYS, RawLedger, on, raw_ledgers

DEFINITIONS = (DefaultDefinition(), DefaultDefinition(days_past_due=30),
               DefaultDefinition(days_past_due=1, event_types=("insolvency",)))


def _value(value: Any) -> Any:
    """A raw cell as a database driver hands it over: None for anything missing."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    return value


def rows_of(tables: dict[str, pd.DataFrame], customer_id: str) -> CustomerRows:
    """The customer's raw rows of every table (ledger order), normalised one-customer."""
    raw = {}
    for table, frame in tables.items():
        mine = frame[frame["customer_id"] == customer_id]
        raw[table] = [{k: _value(v) for k, v in row.items()}
                      for row in mine.to_dict(orient="records")]
    return customer_rows(customer_id, raw)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b) and type(a) is type(b)


def _cell(value: Any) -> Any:
    """A frame cell in the one-customer path's form (float, text or None)."""
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return float(value)


@dataclass(frozen=True)
class WholeBook:
    """The whole-book answers at one date, computed once for all its customers."""

    ledger: Ledger
    as_of: pd.Timestamp
    features: pd.DataFrame
    invoices: pd.DataFrame
    paid: pd.Series

    @classmethod
    def at(cls, ledger: Ledger, as_of: pd.Timestamp) -> WholeBook:
        return cls(ledger, as_of, build_features(ledger, as_of=as_of),
                   build_invoice_features(ledger, as_of=as_of), amounts_paid(ledger, as_of=as_of))


def check_customer(book: WholeBook, tables: dict[str, pd.DataFrame], customer_id: str) -> None:
    """Every answer of the one-customer path for ``customer_id`` equals the whole book's."""
    ledger, as_of, whole = book.ledger, book.as_of, book.features
    day = point_in_time.as_of_day(as_of)
    rows = rows_of(tables, customer_id)
    prepared = one_customer.prepare_customer(rows)
    mine = one_customer.customer_features(rows, prepared, day)
    if customer_id not in whole.index:
        assert not mine.onboarded
        return
    assert mine.onboarded
    expected = {name: _cell(v) for name, v in whole.loc[customer_id].items()}
    assert list(mine.values) == list(expected)
    differ = {n: (mine.values[n], expected[n]) for n in expected
              if not _same(mine.values[n], expected[n])}
    assert not differ, differ

    for definition in DEFINITIONS:
        keys = pd.DataFrame({"customer_id": [customer_id], "as_of": [as_of]})
        merged = bool(in_default_at(ledger, keys, definition=definition)[0])
        by_columns = bool(customers_in_default(ledger, pd.Index([customer_id]), as_of=as_of,
                                               definition=definition).iloc[0])
        assert one_customer.in_default(rows, as_of.date(), definition) == merged == by_columns

    invoices = book.invoices[book.invoices["customer_id"] == customer_id]
    columns = one_customer.open_invoice_features(rows, prepared, day)
    assert sorted(columns) == sorted(invoices.columns)
    for name in invoices.columns:
        got = [_cell(v) for v in columns[name]]
        want = [_cell(v) for v in invoices[name]]
        assert all(_same(g, w) for g, w in zip(got, want, strict=True)), (name, got, want)

    paid = book.paid
    ids = list(columns["invoice_id"])
    want_paid = [float(paid.get(i, 0.0)) for i in ids]
    assert open_invoice_payments(rows, ids, as_of.date()).tolist() == want_paid


def check_every_customer(raw: RawLedger, as_of_day: int) -> None:
    tables = raw.tables()
    ledger = normalize_ledger(tables)
    book = WholeBook.at(ledger, on(as_of_day))
    for customer_id in ledger.customers["customer_id"]:
        check_customer(book, tables, str(customer_id))


@st.composite
def ledger_and_day(draw: st.DrawFn) -> tuple[RawLedger, int]:
    return draw(raw_ledgers()), draw(st.integers(0, HORIZON_DAYS + 120))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledger_and_day())
def test_one_customer_path_equals_the_whole_book_on_random_ledgers(
    example: tuple[RawLedger, int],
) -> None:
    """Rule: features, default status, open-invoice features and paid amounts of each
    customer from its own rows equal the whole-book path's, at any date."""
    check_every_customer(*example)


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_one_customer_path_equals_the_whole_book_on_a_messy_seeded_ledger(seed: int) -> None:
    """Rule: the same on a larger messy ledger (instalments, credit notes, explicit settled
    dates, unallocated payments), every customer, several dates."""
    tables = random_tables(seed, n_customers=25, n_invoices=400)
    ledger = normalize_ledger(tables)
    for as_of in ("2023-03-31", "2023-12-31", "2024-09-15"):
        book = WholeBook.at(ledger, pd.Timestamp(as_of))
        for customer_id in ledger.customers["customer_id"]:
            check_customer(book, tables, str(customer_id))


def test_a_customer_known_only_from_invoices_is_onboarded_on_its_first_invoice() -> None:
    """Rule (normalize_ledger): no customer row -> onboarded on its first invoice date."""
    raw = {"invoices": [
        {"invoice_id": "I1", "customer_id": "X", "issue_date": on(30), "due_date": on(40),
         "amount": 10.0, "disputed": False, "settled_date": None},
        {"invoice_id": "I0", "customer_id": "X", "issue_date": on(10), "due_date": on(20),
         "amount": 10.0, "disputed": False, "settled_date": None},
    ]}
    rows = customer_rows("X", raw)
    assert rows.customer is not None
    assert rows.customer["onboarded_on"] == on(10).date()
    assert customer_rows("Y", {}).customer is None


def test_the_check_fails_when_settled_dates_are_not_derived(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Negative control: one-customer rows without the settled dates derived from payments
    make the same check fail on the same kind of examples."""

    @settings(max_examples=300, deadline=None, phases=[Phase.generate], database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(ledger_and_day())
    def broken_run(example: tuple[RawLedger, int]) -> None:
        check_every_customer(*example)

    monkeypatch.setattr(customer_rows_module, "_derive_settled_dates", lambda *_: None)
    with pytest.raises(AssertionError):
        broken_run()


def test_day_numbers_match_the_prepared_ledgers() -> None:
    """Rule: a date's day number is the one ``features.prepared.day_numbers`` gives."""
    from creditrisk.features.prepared import day_numbers

    dates = pd.Series(pd.to_datetime(["1900-01-01", "2023-05-17", "2099-12-31"]))
    expected = day_numbers(dates, table="t", column="c").tolist()
    got = [one_customer.day_number(d.date(), table="t", column="c") for d in dates]
    assert got == expected
    assert np.int32(one_customer.day_number(None, table="t", column="c")) == np.int32(
        day_numbers(pd.Series([pd.NaT]), table="t", column="c")[0])


def test_the_numpy_calendar_is_pandas_calendar_on_every_day() -> None:
    """Rule: month, day, days in month and weekday of the invoice features (numpy) are
    pandas' DatetimeIndex fields, for every day from 1900 to 2255."""
    from creditrisk.features.invoice import calendar_of
    from creditrisk.features.prepared import dates_of

    days = np.arange(0, 130_000, dtype=np.int32)
    month, day, days_in_month, weekday = calendar_of(days)
    index = pd.DatetimeIndex(dates_of(days))
    assert np.array_equal(month, index.month.to_numpy())
    assert np.array_equal(day, index.day.to_numpy())
    assert np.array_equal(days_in_month, index.days_in_month.to_numpy())
    assert np.array_equal(weekday, index.day_of_week.to_numpy())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_ledgers())
def test_one_customer_rows_normalise_as_normalize_ledger(raw: RawLedger) -> None:
    """Rule: the one-customer normalisation gives each customer the onboarding date and every
    invoice the settled date (given, or derived from allocated payments) that
    ``normalize_ledger`` gives them in the whole ledger."""
    tables = raw.tables()
    ledger = normalize_ledger(tables)
    invoices = ledger.invoices
    for customer_id, onboarded in zip(ledger.customers["customer_id"],
                                      ledger.customers["onboarded_on"], strict=True):
        rows = rows_of(tables, str(customer_id))
        assert rows.customer is not None
        assert rows.customer["onboarded_on"] == _cell(onboarded)
        mine = invoices[invoices["customer_id"] == customer_id]
        assert [(i["invoice_id"], i["settled_date"]) for i in rows.invoices] == [
            (str(i), _cell(d)) for i, d in zip(mine["invoice_id"], mine["settled_date"],
                                               strict=True)]


@pytest.mark.parametrize(
    ("table", "row", "message"),
    [
        ("invoices", {"invoice_id": "I0", "customer_id": "C0", "issue_date": on(10),
                      "due_date": on(5), "amount": 1.0, "disputed": False,
                      "settled_date": None}, "invoices.due_date: before issue_date"),
        ("credit_events", {"event_id": "E0", "customer_id": "C0", "event_date": on(3),
                           "event_type": "lawsuit"}, "credit_events.event_type: unknown"),
    ],
)
def test_contract_errors_are_the_ones_normalize_ledger_raises(
    table: str, row: dict[str, Any], message: str
) -> None:
    """Rule: rows breaking the contract are refused with normalize_ledger's message."""
    from creditrisk.ledger.errors import LedgerContractError

    customer = {"customer_id": "C0", "onboarded_on": on(0)}
    tables = RawLedger(customers=[customer]).tables()
    tables[table] = pd.DataFrame([row])
    with pytest.raises(LedgerContractError, match=message) as whole:
        normalize_ledger(tables)
    with pytest.raises(LedgerContractError, match=message) as one:
        customer_rows("C0", {"customers": [customer], table: [row]})
    assert str(one.value) == str(whole.value)
