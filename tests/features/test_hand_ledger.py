"""A hand-built ledger whose features were worked out by hand (see ``hand_ledger.py``).

T = 2024-06-30. Dates inside the windows: last 90 days = 2024-04-02..06-30, the 90 days
before = 2024-01-03..04-01, last 365 days = 2023-07-02..2024-06-30.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from creditrisk.features.catalog import feature_names
from creditrisk.features.customer import build_features
from creditrisk.features.invoice import build_invoice_features
from creditrisk.ledger.database import make_engine, read_ledger
from creditrisk.ledger.frame import normalize_ledger
from creditrisk.ledger.store import write_ledger
from tests.features.hand_ledger import AS_OF, hand_ledger
from tests.features.ledgers import random_tables


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return build_features(hand_ledger(), as_of=AS_OF)


def check(row: pd.Series, expected: dict[str, float]) -> None:
    for name, value in expected.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(row[name]), name
        else:
            assert row[name] == pytest.approx(value, rel=1e-12), name


def test_rows_are_the_customers_onboarded_by_as_of(features: pd.DataFrame) -> None:
    """D is onboarded after T, so it is not a customer at T; columns follow the catalog."""
    assert list(features.index) == ["A", "B", "C"]
    assert list(features.columns) == feature_names("customer")


def test_customer_a(features: pd.DataFrame) -> None:
    """A: on-time, late and partially paid invoices, one settled only after T, a credit note,
    an unallocated payment, kept promises and a promise too recent to judge."""
    check(
        features.loc["A"],
        {
            # 2022-01-01 -> 2024-06-30: 365 + 365 + 181 days
            "days_since_onboarded": 911.0,
            # 2010-06-30 -> 2024-06-30: 14 * 365 + 4 leap days = 5114 days
            "company_age_years": 5114 / 365.25,
            # last invoice A5 on 06-10 (A8 on 07-05 is after T)
            "days_since_last_invoice": 20.0,
            # last payment: the unallocated 50 on 06-12 (P5 on 07-20 is after T)
            "days_since_last_payment": 18.0,
            # issued 04-02..06-30: A4 3000, A5 1500, A6 800 (credit note A7 not a sale)
            "invoice_count_90d": 3.0,
            "invoiced_amount_90d": 5300.0,
            # A1..A6: 1000 + 2000 + 500 + 3000 + 1500 + 800
            "invoice_count_365d": 6.0,
            "invoiced_amount_365d": 8800.0,
            # issued 06-01..06-30: A5 (06-10); 3 of the year's 6 in the last 90 days
            "invoice_count_30d": 1.0,
            "invoice_count_share_90d": 0.5,
            "credit_note_count_365d": 1.0,
            # open at T: A4 3000 - 1000 paid = 2000 (due 05-20, 41 dpd), A5 1500 (not due),
            # A6 800 (due 05-31, 30 dpd; settled 07-20, after T)
            "open_balance": 4300.0,
            "overdue_balance": 2800.0,
            "aging_current_amount": 1500.0,
            "aging_1_30_amount": 800.0,
            "aging_31_60_amount": 2000.0,
            "aging_61_90_amount": 0.0,
            "aging_over_90_amount": 0.0,
            "aging_current_share": 1500 / 4300,
            "aging_1_30_share": 800 / 4300,
            "aging_31_60_share": 2000 / 4300,
            "aging_61_90_share": 0.0,
            "aging_over_90_share": 0.0,
            "worst_days_past_due": 41.0,
            # open at T with a payment: A4 (1000 of 3000); A6's payment is dated after T
            "open_part_paid_invoice_count": 1.0,
            # settled in 365 days: A1 0 days beyond terms, A2 20, A3 30
            "settled_invoice_count_365d": 3.0,
            "late_share_365d": 2 / 3,
            "days_beyond_terms_mean_365d": 50 / 3,
            # (1000*0 + 2000*20 + 500*30) / (1000 + 2000 + 500)
            "days_beyond_terms_weighted_365d": 55_000 / 3500,
            # sorted 0, 20, 30: position 0.9 * 2 = 1.8 -> 20 + 0.8 * (30 - 20)
            "days_beyond_terms_p90_365d": 28.0,
            # last 90 days: A3 (05-14) 30; the 90 days before: A1 (02-09) 0, A2 (03-22) 20
            "days_beyond_terms_trend_90d": 30.0 - 10.0,
            # fell due 05-02..06-30: A4 (05-20, open, 41 days) and A6 (05-31, open at T, 30)
            "due_invoice_count_60d": 2.0,
            "unpaid_due_share_60d": 1.0,
            "payment_delay_due_60d": (41 + 30) / 2,
            # settled in 365 days: A1 0, A2 20, A3 30 days after due
            "payment_delay_mean_365d": 50 / 3,
            "payment_delay_shift_60d": (41 + 30) / 2 - 50 / 3,
            # nothing fell due 06-01..06-30 (A5 is due 07-10): no 30-day shift
            "payment_delay_shift_30d": float("nan"),
            # 4300 / 5300 * 90
            "dso_days": 4300 / 5300 * 90,
            "credit_utilisation": 4300 / 10_000,
            # dispute event 03-01 (the one on 07-02 is after T); A2 settled disputed
            "dispute_count_365d": 1.0,
            "dispute_count_90d": 0.0,  # 03-01 is before the 90 days (04-02..06-30)
            "disputed_settled_invoice_count_365d": 1.0,
            # A3 paid in two instalments; A4 has one payment so far
            "partially_paid_invoice_count_365d": 1.0,
            # reminders 06-05 (90 days), 03-01 (365 days), 2023-05-01 (too old)
            "reminder_count_90d": 1.0,
            "reminder_count_365d": 2.0,
            # promise 05-05 kept (paid 05-14), 06-01 kept (paid 06-10), 06-20 after T - 14
            "broken_promise_count_365d": 0.0,
            "credit_limit": 10_000.0,
            "payment_terms_days": 30.0,
        },
    )
    assert features.loc["A", "industry"] == "retail"
    assert features.loc["A", "country"] == "DE"


def test_recent_dues_count_paid_and_unpaid_invoices_as_known_at_t() -> None:
    """At 2024-05-31, A's invoices that fell due 04-02..05-31: A3 (04-14) paid 05-14, 30 days
    late; A4 (05-20) unpaid, 11 days so far; A6 falls due on T itself, 0 days late; A6's
    payment on 07-20 is not known yet, so it counts as unpaid."""
    row = build_features(hand_ledger(), as_of=pd.Timestamp("2024-05-31")).loc["A"]
    check(
        row,
        {
            "due_invoice_count_60d": 3.0,
            "unpaid_due_share_60d": 2 / 3,
            "payment_delay_due_60d": (30 + 11 + 0) / 3,
            # fell due 05-01..05-31: A4 (11 days so far) and A6 (0), against the 12-month mean
            # of A1 0, A2 20, A3 30
            "payment_delay_shift_30d": (11 + 0) / 2 - 50 / 3,
            # A4's first payment (06-10) is not known yet: no open invoice is part-paid
            "open_part_paid_invoice_count": 0.0,
        },
    )


def test_recent_disputes_and_part_paid_invoices_at_their_window_edges() -> None:
    """A's dispute on 03-01 is in the last 90 days at 05-29 (window 03-01..05-29) and out
    of them a day later; A3 (500, due 04-14) is open and part-paid from its first instalment
    (200 on 04-20) until its second settles it on 05-14."""
    ledger = hand_ledger()

    def at(day: str) -> pd.Series:
        return build_features(ledger, as_of=pd.Timestamp(day)).loc["A"]

    assert at("2024-05-29")["dispute_count_90d"] == 1.0
    assert at("2024-05-30")["dispute_count_90d"] == 0.0
    assert at("2024-04-19")["open_part_paid_invoice_count"] == 0.0
    assert at("2024-04-20")["open_part_paid_invoice_count"] == 1.0
    assert at("2024-05-13")["open_part_paid_invoice_count"] == 1.0
    assert at("2024-05-14")["open_part_paid_invoice_count"] == 0.0


def test_payment_delay_is_signed_where_days_beyond_terms_is_clipped() -> None:
    """A1 settled 5 days before its due date: days beyond terms counts it as 0, the payment
    delay as -5 (an early payer is told apart from one paying on the day)."""
    ledger = hand_ledger()
    invoices = ledger.invoices.copy()
    invoices.loc[invoices["invoice_id"] == "A1", "settled_date"] = pd.Timestamp("2024-02-04")
    early = normalize_ledger(
        {
            "invoices": invoices,
            "customers": ledger.customers,
            "payments": ledger.payments,
            "credit_events": ledger.credit_events,
        }
    )
    row = build_features(early, as_of=AS_OF).loc["A"]
    check(row, {"days_beyond_terms_mean_365d": 50 / 3, "payment_delay_mean_365d": 45 / 3})


def test_customer_b(features: pd.DataFrame) -> None:
    """B: a repeat late payer with an old 90+ invoice, no credit limit, a broken promise,
    and a disputed invoice still open (its dispute flag is not known yet)."""
    check(
        features.loc["B"],
        {
            "days_since_onboarded": 546.0,  # 2023-01-01 -> 2024-06-30
            "company_age_years": float("nan"),  # founding date unknown
            "days_since_last_invoice": 51.0,  # B5 on 05-10
            "days_since_last_payment": 37.0,  # 05-24
            # 90 days: B5 400, B6 700; 365 days: B2 1000, B3 2500, B4 600, B5 400, B6 700
            "invoice_count_90d": 2.0,
            "invoiced_amount_90d": 1100.0,
            "invoice_count_365d": 5.0,
            "invoiced_amount_365d": 5200.0,
            "invoice_count_30d": 0.0,  # nothing issued 06-01..06-30
            "invoice_count_share_90d": 2 / 5,
            # open: B3 2500 due 02-03 (148 dpd), B5 400 due 05-24 (37 dpd)
            "open_balance": 2900.0,
            "overdue_balance": 2900.0,
            "aging_current_amount": 0.0,
            "aging_31_60_amount": 400.0,
            "aging_over_90_amount": 2500.0,
            "aging_current_share": 0.0,
            "aging_31_60_share": 400 / 2900,
            "aging_over_90_share": 2500 / 2900,
            "worst_days_past_due": 148.0,
            "open_part_paid_invoice_count": 0.0,  # B3 and B5 have no payment
            # fell due 05-02..06-30: only B5 (05-24, open, 37 days); B6 fell due 04-24
            "due_invoice_count_60d": 1.0,
            "unpaid_due_share_60d": 1.0,
            "payment_delay_due_60d": 37.0,
            "payment_delay_mean_365d": 80 / 3,
            "payment_delay_shift_60d": 37.0 - 80 / 3,
            # settled in 365 days: B2 30 (01-14), B4 20 (04-04), B6 30 (05-24);
            # B1 settled 2023-06-13 is outside the window
            "settled_invoice_count_365d": 3.0,
            "late_share_365d": 1.0,
            "days_beyond_terms_mean_365d": 80 / 3,
            # (1000*30 + 600*20 + 700*30) / (1000 + 600 + 700)
            "days_beyond_terms_weighted_365d": 63_000 / 2300,
            "days_beyond_terms_p90_365d": 30.0,  # sorted 20, 30, 30 -> 30 + 0.8 * 0
            # last 90 days: B4 20, B6 30 -> 25; the 90 days before: B2 30
            "days_beyond_terms_trend_90d": 25.0 - 30.0,
            "dso_days": 2900 / 1100 * 90,
            "credit_utilisation": float("nan"),  # no credit limit
            "dispute_count_365d": 0.0,
            # B6 settled and disputed; B5 disputed but still open -> not known at T
            "disputed_settled_invoice_count_365d": 1.0,
            "partially_paid_invoice_count_365d": 0.0,
            "reminder_count_90d": 1.0,
            "reminder_count_365d": 1.0,
            # promise 02-10 with no payment 02-10..02-24; the 2023-05-20 one is too old
            "broken_promise_count_365d": 1.0,
        },
    )


def test_customer_without_history(features: pd.DataFrame) -> None:
    """C: onboarded 29 days ago, nothing invoiced: counts and amounts are 0, everything
    that would be a mean, share or ratio of nothing is NaN (utilisation of 0 is 0)."""
    nan = float("nan")
    check(
        features.loc["C"],
        {
            "days_since_onboarded": 29.0,
            "days_since_last_invoice": nan,
            "days_since_last_payment": nan,
            "invoice_count_365d": 0.0,
            "invoice_count_30d": 0.0,
            "invoice_count_share_90d": nan,
            "open_balance": 0.0,
            "open_part_paid_invoice_count": 0.0,
            "dispute_count_90d": 0.0,
            "aging_current_share": nan,
            "worst_days_past_due": 0.0,
            "settled_invoice_count_365d": 0.0,
            "late_share_365d": nan,
            "days_beyond_terms_mean_365d": nan,
            "days_beyond_terms_weighted_365d": nan,
            "days_beyond_terms_p90_365d": nan,
            "days_beyond_terms_trend_90d": nan,
            "dso_days": nan,
            "credit_utilisation": 0.0,
            "broken_promise_count_365d": 0.0,
        },
    )


def test_invoice_features_at_issue_by_hand() -> None:
    """A4, issued 2024-04-20 (a Saturday), seen with the history of 04-19 and before."""
    frame = build_invoice_features(hand_ledger()).set_index("invoice_id")
    check(
        frame.loc["A4"],
        {
            "customer_tenure_days": 840.0,  # 2022-01-01 -> 2024-04-20
            "prior_invoice_count": 3.0,  # A1, A2, A3
            "prior_invoice_count_90d": 2.0,  # issued 01-21..04-19: A2, A3
            "prior_settled_invoice_count": 2.0,  # A1 (0 days late), A2 (20); A3 settles 05-14
            "prior_late_share": 0.5,
            "prior_days_beyond_terms_mean": 10.0,
            "recent_days_beyond_terms_mean": 10.0,
            # A3 500 open (its first payment is on 04-20, the issue day itself), due 04-14
            "open_balance": 500.0,
            "overdue_balance": 500.0,
            "overdue_share": 1.0,
            "invoice_amount": 3000.0,
            "amount_vs_customer_mean": 3000 / ((1000 + 2000 + 500) / 3),
            "terms_days": 30.0,
            "issue_month": 4.0,
            "issue_weekday": 5.0,
            "issued_at_quarter_end": 0.0,
            "days_since_issue": 0.0,
            "days_to_due": 30.0,
        },
    )
    assert "A7" not in frame.index  # credit notes are not predicted


def test_open_invoice_features_as_of_by_hand() -> None:
    """At T the open invoices are A4, A5, A6 (settled after T), B3 and B5, each with the
    customer's history up to and including T."""
    frame = build_invoice_features(hand_ledger(), as_of=AS_OF).set_index("invoice_id")
    assert list(frame.index) == ["A4", "A5", "A6", "B3", "B5"]
    check(
        frame.loc["A6"],
        {
            "days_since_issue": 60.0,  # 05-01 -> 06-30
            "days_to_due": -30.0,  # due 05-31
            "open_balance": 4300.0,
            "overdue_balance": 2800.0,
            "prior_settled_invoice_count": 3.0,
            "prior_late_share": 2 / 3,
        },
    )
    check(frame.loc["B3"], {"prior_settled_invoice_count": 4.0, "days_to_due": -148.0})


@pytest.mark.parametrize("source", ["hand", "random"])
def test_features_are_identical_from_sqlite_and_postgresql(database_url: str, source: str) -> None:
    """The ledger written to the database and read back gives exactly the features of the
    ledger in memory (run once on SQLite, once on PostgreSQL)."""
    ledger = hand_ledger() if source == "hand" else normalize_ledger(random_tables(5))
    engine = make_engine(database_url)
    try:
        write_ledger(engine, ledger)
        stored = read_ledger(engine)
    finally:
        engine.dispose()
    for as_of in (AS_OF, pd.Timestamp("2024-01-31")):
        expected = build_features(ledger, as_of=as_of).sort_index()
        got = build_features(stored, as_of=as_of).sort_index()
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
