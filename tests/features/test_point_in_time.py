"""Point in time: adding any record dated after T never changes any customer feature at T.

Records include customer ratings (``customer_attributes``): a rating valid from a day after T
is one of the later records, so the customer's rating at T must be the one in force then.

The companion test proves the property test has teeth: with the as-of cut
(``features.point_in_time.known_at``) bypassed, it fails.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from creditrisk.features import point_in_time
from creditrisk.features.attributes import AttributeHistory
from creditrisk.features.customer import build_features
from creditrisk.features.invoice import build_invoice_features
from creditrisk.features.prepared import PreparedLedger
from creditrisk.features.snapshots import build_snapshots
from creditrisk.ledger.frame import normalize_ledger
from tests.features.strategies import HORIZON_DAYS, RawLedger, on, raw_ledgers, records_from

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    report_multiple_bugs=False,
)


@st.composite
def ledger_day_and_later_records(draw: st.DrawFn) -> tuple[RawLedger, int, RawLedger]:
    base = draw(raw_ledgers())
    as_of = draw(st.integers(0, HORIZON_DAYS + 20))
    return base, as_of, draw(records_from(base, as_of + 1))


def check_later_records_change_nothing(example: tuple[RawLedger, int, RawLedger]) -> None:
    """Appending customers, invoices, payments and credit events dated after T leaves every
    feature at T exactly as it was (same rows, same values, NaN where NaN)."""
    base, as_of, later = example
    before = build_features(normalize_ledger(base.tables()), as_of=on(as_of))
    after = build_features(normalize_ledger(base.plus(later).tables()), as_of=on(as_of))
    pd.testing.assert_frame_equal(after, before, check_exact=True)


@PROPERTY_SETTINGS
@given(ledger_day_and_later_records())
def test_records_after_as_of_never_change_features(
    example: tuple[RawLedger, int, RawLedger],
) -> None:
    """Records dated after T never change any customer feature at T."""
    check_later_records_change_nothing(example)


def test_property_test_fails_when_the_as_of_cut_is_removed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bypassing ``known_at`` (the only as-of filter) makes the same property check, on the
    same kind of examples, fail (no shrinking, no example database: a quick search)."""

    def everything_known(prepared: PreparedLedger, day: int) -> PreparedLedger:
        return prepared

    @settings(
        max_examples=200,
        deadline=None,
        phases=[Phase.generate],
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(ledger_day_and_later_records())
    def leaky_run(example: tuple[RawLedger, int, RawLedger]) -> None:
        check_later_records_change_nothing(example)

    monkeypatch.setattr(point_in_time, "known_at", everything_known)
    with pytest.raises(AssertionError):
        leaky_run()


def test_a_rating_is_read_as_valid_at_the_date() -> None:
    """The rating feature at T is the value with the latest valid-from day on or before T:
    a later change is not seen, an earlier one is (at issue: strictly before the issue)."""
    raw = RawLedger(
        customers=[{"customer_id": "C0", "onboarded_on": on(0)}],
        invoices=[
            {
                "invoice_id": "I0",
                "customer_id": "C0",
                "issue_date": on(20),
                "due_date": on(50),
                "amount": 100.0,
            },
        ],
        ratings=[
            {
                "attribute_id": "R0",
                "customer_id": "C0",
                "attribute": "rating",
                "valid_from": on(10),
                "value": "B",
            },
            {
                "attribute_id": "R1",
                "customer_id": "C0",
                "attribute": "rating",
                "valid_from": on(20),
                "value": "C",
            },
        ],
    )
    ledger = normalize_ledger(raw.tables())
    ratings = [
        build_features(ledger, as_of=on(day)).loc["C0", "customer_rating"]
        for day in (5, 10, 19, 20)
    ]
    assert ratings[0] is pd.NA
    assert ratings[1:] == ["B", "B", "C"]
    at_issue = build_invoice_features(ledger)
    assert at_issue.loc[0, "customer_rating"] == "B"  # the change on the issue day is not known


def test_property_test_fails_when_a_later_rating_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading the customer's latest rating whatever its valid-from day (today's rating
    mapped onto the past: the history neither cut at T nor searched up to T) makes the
    property check fail."""
    original = AttributeHistory.value_before

    def latest(self: AttributeHistory, customer: np.ndarray, until: np.ndarray) -> pd.Series:
        return original(self, customer, np.full(len(customer), 1 << 30, dtype=np.int64))

    @settings(
        max_examples=100,
        deadline=None,
        phases=[Phase.generate],
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(ledger_day_and_later_records())
    def leaky_run(example: tuple[RawLedger, int, RawLedger]) -> None:
        check_later_records_change_nothing(example)

    monkeypatch.setattr(AttributeHistory, "value_before", latest)
    monkeypatch.setattr(AttributeHistory, "known_at", lambda self, day: self)
    with pytest.raises(AssertionError):
        leaky_run()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledger_day_and_later_records())
def test_records_after_as_of_never_change_snapshots(
    example: tuple[RawLedger, int, RawLedger],
) -> None:
    """The snapshot form keeps the same promise for every snapshot date up to T."""
    base, as_of, later = example
    dates = [on(as_of - 120), on(as_of - 31), on(as_of)]
    before = build_snapshots(normalize_ledger(base.tables()), as_of_dates=dates)
    after = build_snapshots(normalize_ledger(base.plus(later).tables()), as_of_dates=dates)
    pd.testing.assert_frame_equal(after, before, check_exact=True)
