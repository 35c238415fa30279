"""The ledger frame contract: dtypes settled once, customers inferred from invoices,
settlement derived from payments (partial payments leave the invoice open)."""

from __future__ import annotations

import pandas as pd
import pytest

from creditrisk.ledger.frame import LedgerError, normalize_ledger


def _invoices() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "invoice_id": ["a", "b", "c"],
            "customer_id": ["c1", "c2", "c2"],
            "issue_date": ["2020-01-01", "2020-02-01", "2020-02-05"],
            "due_date": ["2020-01-31", "2020-03-01", "2020-03-05"],
            "amount": [10.0, 20.0, 30.0],
        }
    )


def test_partial_payment_leaves_invoice_open_and_full_payment_settles_it() -> None:
    payments = pd.DataFrame(
        {
            "payment_id": ["p1", "p2", "p3"],
            "customer_id": ["c1", "c2", "c2"],
            "invoice_id": ["a", "b", "b"],
            "paid_on": ["2020-02-03", "2020-02-10", "2020-03-09"],
            "amount": [10.0, 5.0, 15.0],
        }
    )
    ledger = normalize_ledger({"invoices": _invoices(), "payments": payments})
    settled = ledger.invoices.set_index("invoice_id")["settled_date"]
    assert settled["a"] == pd.Timestamp("2020-02-03")
    assert settled["b"] == pd.Timestamp("2020-03-09")  # the second instalment completes it
    assert pd.isna(settled["c"])


def test_only_partial_payments_do_not_crash_and_leave_all_open() -> None:
    payments = pd.DataFrame(
        {"payment_id": ["p1"], "customer_id": ["c2"], "invoice_id": ["b"],
         "paid_on": ["2020-02-10"], "amount": [5.0]}
    )
    ledger = normalize_ledger({"invoices": _invoices(), "payments": payments})
    assert ledger.invoices["settled_date"].isna().all()


def test_prepayment_settles_on_the_issue_date_not_before() -> None:
    payments = pd.DataFrame(
        {"payment_id": ["p1"], "customer_id": ["c1"], "invoice_id": ["a"],
         "paid_on": ["2019-12-20"], "amount": [10.0]}
    )
    ledger = normalize_ledger({"invoices": _invoices(), "payments": payments})
    assert ledger.invoices.loc[0, "settled_date"] == pd.Timestamp("2020-01-01")


def test_customers_seen_only_in_invoices_are_created_with_first_invoice_date() -> None:
    ledger = normalize_ledger({"invoices": _invoices()})
    onboarded = ledger.customers.set_index("customer_id")["onboarded_on"]
    assert onboarded.to_dict() == {
        "c1": pd.Timestamp("2020-01-01"), "c2": pd.Timestamp("2020-02-01")
    }


def test_dtypes_are_normalised_once() -> None:
    ledger = normalize_ledger({"invoices": _invoices()})
    dtypes = ledger.invoices.dtypes.astype(str).to_dict()
    assert dtypes["issue_date"] == "datetime64[ns]"
    assert dtypes["invoice_id"] == "string"
    assert dtypes["amount"] == "float64"


def test_due_before_issue_is_named() -> None:
    bad = _invoices()
    bad.loc[1, "due_date"] = "2020-01-01"
    with pytest.raises(LedgerError, match=r"invoices\.due_date.*'b'"):
        normalize_ledger({"invoices": bad})
