"""Snapshots equal build_features date by date; partitioning never changes a result."""

from __future__ import annotations

import pandas as pd
import pytest

from creditrisk.features.catalog import categorical_names, feature_names
from creditrisk.features.customer import build_features
from creditrisk.features.snapshots import SnapshotError, build_snapshots
from creditrisk.ledger.frame import Ledger, normalize_ledger
from tests.features.ledgers import random_tables

MONTH_ENDS = list(pd.date_range("2023-01-31", "2025-02-28", freq="ME"))


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return normalize_ledger(random_tables(7))


@pytest.fixture(scope="module")
def snapshots(ledger: Ledger) -> pd.DataFrame:
    return build_snapshots(ledger, as_of_dates=MONTH_ENDS[::-1])


def test_snapshot_rows_equal_build_features_at_each_date(
    ledger: Ledger, snapshots: pd.DataFrame
) -> None:
    """Every month-end slice of the snapshots is exactly build_features at that date."""
    assert list(snapshots.columns) == ["customer_id", "as_of", *feature_names("customer")]
    assert snapshots["as_of"].is_monotonic_increasing
    for as_of in MONTH_ENDS:
        part = snapshots[snapshots["as_of"] == as_of].drop(columns="as_of")
        expected = build_features(ledger, as_of=as_of)
        got = part.set_index("customer_id")
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_snapshots_have_customers_onboarded_by_each_date(
    ledger: Ledger, snapshots: pd.DataFrame
) -> None:
    onboarded = ledger.customers.set_index("customer_id")["onboarded_on"]
    joined = snapshots["customer_id"].map(onboarded)
    assert (joined <= snapshots["as_of"]).all()
    counts = snapshots.groupby("as_of").size()
    expected = pd.Series({d: int((onboarded <= d).sum()) for d in MONTH_ENDS})
    assert counts.to_dict() == {d: n for d, n in expected.items() if n > 0}


@pytest.mark.parametrize("partition_size", [1, 3, 16])
def test_partition_size_does_not_change_features(ledger: Ledger, partition_size: int) -> None:
    """Processing customers in partitions of any size gives the same frame."""
    as_of = pd.Timestamp("2024-05-31")
    whole = build_features(ledger, as_of=as_of)
    parts = build_features(ledger, as_of=as_of, partition_size=partition_size)
    pd.testing.assert_frame_equal(parts, whole, check_exact=True)


def test_partition_size_does_not_change_snapshots(ledger: Ledger, snapshots: pd.DataFrame) -> None:
    small = build_snapshots(ledger, as_of_dates=MONTH_ENDS, partition_size=7)
    pd.testing.assert_frame_equal(small, snapshots, check_exact=True)


def test_repeated_or_missing_dates_are_refused(ledger: Ledger) -> None:
    with pytest.raises(SnapshotError, match="2024-01-31"):
        build_snapshots(ledger, as_of_dates=[pd.Timestamp("2024-01-31")] * 2)
    with pytest.raises(SnapshotError, match="empty"):
        build_snapshots(ledger, as_of_dates=[])


def test_empty_ledger_and_customer_without_records_give_typed_frames() -> None:
    """No records at all still gives the catalog's columns, numeric ones as float64."""
    empty = normalize_ledger({})
    assert list(build_features(empty, as_of="2024-01-31").columns) == feature_names("customer")
    assert build_snapshots(empty, as_of_dates=["2024-01-31"]).empty
    lone = normalize_ledger(
        {"customers": pd.DataFrame({"customer_id": ["X"], "onboarded_on": ["2023-01-01"]})}
    )
    features = build_features(lone, as_of="2024-01-31")
    numeric = [n for n in feature_names("customer") if n not in categorical_names("customer")]
    assert (features[numeric].dtypes == "float64").all()
    assert features.loc["X", "invoiced_amount_365d"] == 0.0
