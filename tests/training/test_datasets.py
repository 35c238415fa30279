"""Training snapshots start at the ledger's first record: customers onboarded years before the
extract have no records before it, and rows dated earlier could only be labelled 0."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from creditrisk.synthetic import generate_ledger
from creditrisk.training.datasets import DatasetError, build_snapshot_set, ledger_start


def test_snapshots_start_at_the_first_record_not_the_first_onboarding() -> None:
    ledger = generate_ledger(
        n_customers=300, start=date(2021, 1, 1), end=date(2023, 12, 31), seed=11
    ).ledger
    assert ledger.customers["onboarded_on"].min() < pd.Timestamp("2020-01-01")
    first = ledger_start(ledger)
    assert first >= pd.Timestamp("2021-01-01")
    snapshots = build_snapshot_set(ledger, data_end=pd.Timestamp("2023-12-31"), horizon_days=365)
    assert snapshots.frame["as_of"].min() >= first
    assert snapshots.frame["as_of"].max() <= pd.Timestamp("2022-12-31")
    # an explicit first date still wins
    later = build_snapshot_set(
        ledger, data_end=pd.Timestamp("2023-12-31"), horizon_days=365, first_date=date(2022, 1, 1)
    )
    assert later.frame["as_of"].min() >= pd.Timestamp("2022-01-01")


def test_a_ledger_without_invoices_says_so() -> None:
    ledger = generate_ledger(
        n_customers=5, start=date(2021, 1, 1), end=date(2023, 12, 31), seed=11
    ).ledger
    empty = type(ledger)(
        customers=ledger.customers,
        invoices=ledger.invoices.iloc[:0],
        payments=ledger.payments.iloc[:0],
        credit_events=ledger.credit_events.iloc[:0],
    )
    with pytest.raises(DatasetError, match="no invoices"):
        ledger_start(empty)
