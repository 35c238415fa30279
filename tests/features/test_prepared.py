"""The once-built arrays: customer codes, day numbers, payment-to-invoice links."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import creditrisk.features.prepared as prepared_module
from creditrisk.features.customer import build_features
from creditrisk.features.prepared import NO_DAY, day_numbers, prepare_ledger
from creditrisk.ledger.frame import Ledger, LedgerError, normalize_ledger
from tests.features.hand_ledger import AS_OF, hand_ledger
from tests.features.ledgers import random_tables


def test_day_numbers_count_from_1900_and_missing_dates_come_last() -> None:
    days = day_numbers(
        pd.Series(pd.to_datetime(["1900-01-01", "1900-01-31", None, "2024-02-29"])),
        table="invoices",
        column="issue_date",
    )
    assert days.tolist() == [0, 30, NO_DAY, 45349]
    assert days.dtype == np.int32


def test_dates_before_1900_are_refused_with_the_value() -> None:
    with pytest.raises(LedgerError, match=r"invoices.issue_date: date .*1899-12-31"):
        day_numbers(
            pd.Series(pd.to_datetime(["1899-12-31"])), table="invoices", column="issue_date"
        )


def test_unknown_customer_is_named() -> None:
    ledger = hand_ledger()
    invoices = ledger.invoices.copy()
    invoices.loc[3, "customer_id"] = "ZZ"
    broken = Ledger(ledger.customers, invoices, ledger.payments, ledger.credit_events)
    with pytest.raises(LedgerError, match=r"invoices\.customer_id: 'ZZ' is not a known customer"):
        prepare_ledger(broken)


def test_records_are_sorted_by_customer_and_payments_point_at_their_invoice() -> None:
    """Whatever the ledger order, records end up grouped by customer (ledger order within
    a customer) and each allocated payment points at its own invoice."""
    ledger = normalize_ledger(random_tables(3, n_customers=15, n_invoices=200))
    prepared = prepare_ledger(ledger)
    assert np.all(np.diff(prepared.invoice_customer) >= 0)
    assert np.all(np.diff(prepared.payment_customer) >= 0)
    rows = prepared.invoice_row
    invoice_ids = ledger.invoices["invoice_id"].to_numpy()[rows]
    linked = prepared.payment_invoice >= 0
    payment_invoice_ids = (
        ledger.payments.set_index("payment_id")["invoice_id"].dropna().sort_index()
    )
    assert linked.sum() == len(payment_invoice_ids)
    assert set(invoice_ids[prepared.payment_invoice[linked]]) == set(payment_invoice_ids)
    for customer in range(prepared.n_customers):
        mine = rows[prepared.invoice_customer == customer]
        assert list(mine) == sorted(mine)


def test_payment_for_another_customers_invoice_counts_as_unallocated() -> None:
    """A's payment naming B's invoice B3 does not reduce B3's open amount."""
    ledger = hand_ledger()
    extra = pd.DataFrame(
        {
            "payment_id": pd.array(["PX"], dtype="string"),
            "customer_id": pd.array(["A"], dtype="string"),
            "invoice_id": pd.array(["B3"], dtype="string"),
            "paid_on": pd.to_datetime(["2024-06-01"]),
            "amount": [2500.0],
        }
    )
    payments = pd.concat([ledger.payments, extra], ignore_index=True)
    changed = Ledger(ledger.customers, ledger.invoices, payments, ledger.credit_events)
    before = build_features(ledger, as_of=AS_OF)
    after = build_features(changed, as_of=AS_OF)
    assert after.loc["B", "open_balance"] == before.loc["B", "open_balance"] == 2900.0
    assert after.loc["A", "days_since_last_payment"] == 18.0  # still the 06-12 payment


def test_matching_block_size_does_not_change_links(monkeypatch: pytest.MonkeyPatch) -> None:
    """Payments are matched to invoices block by block of customers; any block size gives
    the same links."""
    ledger = normalize_ledger(random_tables(5, n_customers=30, n_invoices=300))
    whole = prepare_ledger(ledger).payment_invoice
    monkeypatch.setattr(prepared_module, "MATCHING_CUSTOMERS", 4)
    assert np.array_equal(prepare_ledger(ledger).payment_invoice, whole)
