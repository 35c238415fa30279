"""Payment delays worked out by hand (``features.payment_delays``, the overdue invoice count
and the 30-day reminders): a tiny ledger of one customer E, and the customers of
``hand_ledger.py``.

T = 2024-06-30. Windows: settled in the last 365 days = 2023-07-02..06-30, the last 90 days
= 2024-04-02..06-30; fell due in the last 30 days = 2024-06-01..06-30, the last 60 days =
05-02..06-30; the slow window (due in ``(T - 40, T - 10]``) = 05-22..06-20; the last due
delay reads invoices due on or before ``T - 7`` = 06-23.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from creditrisk.features.customer import build_features
from creditrisk.features.grouped import quantile_by
from creditrisk.ledger.frame import normalize_ledger
from tests.features.hand_ledger import AS_OF, hand_ledger

# id, due date, amount, settled date (None: not settled); issued 30 days before the due date
E_INVOICES = [
    ("E1", "2024-01-10", 100.0, "2024-01-05"),  # paid 5 days early: -5
    ("E2", "2024-02-10", 100.0, "2024-02-10"),  # on the day: 0
    ("E3", "2024-04-15", 100.0, "2024-04-25"),  # 10 late, settled in the last 90 days
    ("E4", "2024-05-25", 100.0, "2024-06-04"),  # 10 late: within 10 days, not slow
    ("E5", "2024-06-05", 100.0, "2024-06-16"),  # 11 late: slow
    ("E6", "2024-06-15", 100.0, None),          # open, 15 days past due (not over 15)
    ("E7", "2024-06-15", 100.0, "2024-06-12"),  # paid 3 days early; same due date as E6
    ("E8", "2024-06-28", 100.0, None),          # open, 2 days past due (due within 7 days)
    ("E9", "2024-06-10", -50.0, None),          # a credit note: never a receivable
    ("E10", "2024-07-15", 100.0, None),         # open, not due yet
    ("E11", "2024-06-10", 100.0, None),         # open, 20 days past due
    ("E12", "2024-06-14", 100.0, "2024-07-05"),  # settled after T: open at T, 16 days
]
E_REMINDERS = ["2024-05-31", "2024-06-01", "2024-06-30", "2024-04-15"]


def e_ledger() -> pd.DataFrame:
    customers = pd.DataFrame({
        "customer_id": ["E"], "onboarded_on": ["2023-01-01"], "country": ["DE"],
        "industry": ["retail"], "founded_on": ["2000-01-01"], "credit_limit": [10_000.0],
        "payment_terms_days": [30.0], "external_score": [50.0], "annual_revenue": [1e6],
    })
    due = pd.to_datetime([d for _, d, _, _ in E_INVOICES])
    invoices = pd.DataFrame({
        "invoice_id": [i for i, _, _, _ in E_INVOICES],
        "customer_id": "E",
        "issue_date": due - pd.Timedelta(days=30),
        "due_date": due,
        "amount": [a for _, _, a, _ in E_INVOICES],
        "disputed": False,
        "settled_date": pd.to_datetime([s for _, _, _, s in E_INVOICES]),
    })
    events = pd.DataFrame({
        "event_id": [f"R{i}" for i in range(len(E_REMINDERS))], "customer_id": "E",
        "event_date": E_REMINDERS, "event_type": "reminder",
    })
    ledger = normalize_ledger({"customers": customers, "invoices": invoices,
                               "credit_events": events})
    return build_features(ledger, as_of=AS_OF)


def check(row: pd.Series, expected: dict[str, float]) -> None:
    for name, value in expected.items():
        if math.isnan(value):
            assert math.isnan(row[name]), name
        else:
            assert row[name] == pytest.approx(value, rel=1e-12), name


def test_payment_delays_of_a_hand_worked_customer() -> None:
    """Rule: signed delays of settled invoices (credit notes and invoices settled after T left
    out), censored delays of invoices due by T, slow = not settled within 10 days of the
    due date, the latest invoice due by T - 7 (ties averaged), overdue = more than 15 days."""
    check(
        e_ledger().loc["E"],
        {
            # settled in 365 days: E1 -5, E2 0, E3 10, E4 10, E5 11, E7 -3 (E12 after T)
            "payment_delay_mean_365d": 23 / 6,
            # sorted -5, -3, 0, 10, 10, 11: position 2.5 -> 0 + 0.5 * 10
            "payment_delay_median_365d": 5.0,
            # position 1.25 -> -3 + 0.25 * (0 - -3)
            "payment_delay_q25_365d": -2.25,
            # settled 04-02..06-30: E3 10, E4 10, E5 11, E7 -3
            "payment_delay_mean_90d": 28 / 4,
            # due 06-01..06-30: E5 11, E6 15 (open), E7 -3, E8 2 (open), E11 20 (open),
            # E12 16 (open at T); not the credit note E9 nor E10 (due after T)
            "due_invoice_count_30d": 6.0,
            "unpaid_due_share_30d": 4 / 6,
            "payment_delay_due_30d": (11 + 15 - 3 + 2 + 20 + 16) / 6,
            # plus E4 (due 05-25) 10
            "due_invoice_count_60d": 7.0,
            "unpaid_due_share_60d": 4 / 7,
            "payment_delay_due_60d": 71 / 7,
            "payment_delay_shift_60d": 71 / 7 - 23 / 6,
            # due 05-22..06-20: E4 (paid on due + 10), E5 slow, E6 slow, E7, E11 slow, E12 slow
            "slow_share_due_10_40d": 4 / 6,
            # latest due by 06-23: 06-15, E6 (15 so far) and E7 (-3)
            "last_due_delay": (15 - 3) / 2,
            # open: E6 15 days (not over 15), E8 2, E10 not due, E11 20, E12 16
            "overdue_over_15_invoice_count": 2.0,
            "worst_days_past_due": 20.0,
            # reminders 06-01 and 06-30 (05-31 is T - 30, outside); all four in 90 days
            "reminder_count_30d": 2.0,
            "reminder_count_90d": 4.0,
        },
    )


@pytest.mark.parametrize(
    ("customer", "expected"),
    [
        # A settled in 365 days: A1 0, A2 20, A3 30; A3 in the last 90 days; nothing fell due
        # 06-01..06-30 (A6 on 05-31 is T - 30); A6 due 05-31, settled 07-20 after T: slow,
        # and the latest due by 06-23 (open, 30 days); open over 15 days: A4 41, A6 30;
        # reminder 06-05
        ("A", {"payment_delay_median_365d": 20.0, "payment_delay_q25_365d": 10.0,
               "payment_delay_mean_90d": 30.0, "due_invoice_count_30d": 0.0,
               "unpaid_due_share_30d": math.nan, "payment_delay_due_30d": math.nan,
               "slow_share_due_10_40d": 1.0, "last_due_delay": 30.0,
               "overdue_over_15_invoice_count": 2.0, "reminder_count_30d": 1.0}),
        # B settled in 365 days: B2 30, B4 20, B6 30 (B1 in 2023-06); in 90 days B4 20, B6 30;
        # B5 due 05-24, open: slow and the latest due (37 days); open over 15: B3, B5
        ("B", {"payment_delay_median_365d": 30.0, "payment_delay_q25_365d": 25.0,
               "payment_delay_mean_90d": 25.0, "due_invoice_count_30d": 0.0,
               "slow_share_due_10_40d": 1.0, "last_due_delay": 37.0,
               "overdue_over_15_invoice_count": 2.0, "reminder_count_30d": 1.0}),
        # C: onboarded 06-01 without invoices: undefined, counts 0
        ("C", {"payment_delay_median_365d": math.nan, "payment_delay_q25_365d": math.nan,
               "payment_delay_mean_90d": math.nan, "due_invoice_count_30d": 0.0,
               "slow_share_due_10_40d": math.nan, "last_due_delay": math.nan,
               "overdue_over_15_invoice_count": 0.0, "reminder_count_30d": 0.0}),
    ],
)
def test_payment_delays_of_the_hand_ledger(customer: str, expected: dict[str, float]) -> None:
    """Rule: the same definitions on the shared hand-worked ledger."""
    check(build_features(hand_ledger(), as_of=AS_OF).loc[customer], expected)


def test_quantiles_of_signed_days_equal_numpy() -> None:
    """Rule: per-customer quantiles of negative and positive days (payments before and after
    the due date) are numpy's linear quantiles, whatever the other customers' values."""
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 40, 600)
    values = rng.integers(-400, 900, 600)
    values[codes == 3] += 100_000  # a far-off customer does not move the others
    for q in (0.25, 0.5, 0.9):
        got = quantile_by(codes, values, 41, q)
        for code in range(41):
            mine = values[codes == code]
            if len(mine) == 0:
                assert math.isnan(got[code])
            else:
                assert got[code] == pytest.approx(np.quantile(mine, q), rel=1e-12)
