"""A small ledger built by hand, whose features are worked out by hand in the tests.

As-of date ``T = 2024-06-30``. Useful day arithmetic: ``T - 14 = 2024-06-16``,
``T - 90 = 2024-04-01`` (so "last 90 days" is 2024-04-02 .. 06-30), ``T - 180 = 2024-01-02``,
``T - 365 = 2023-07-01`` (so "last 365 days" is 2023-07-02 .. 2024-06-30).

Customers: A (limit 10,000, terms 30), B (no limit, terms 14, no founding date), C (onboarded
2024-06-01, no history yet), D (onboarded after T: not a customer at T).
"""

from __future__ import annotations

import pandas as pd

from creditrisk.ledger.frame import Ledger, normalize_ledger

AS_OF = pd.Timestamp("2024-06-30")

NaT = None


def hand_ledger() -> Ledger:
    customers = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "onboarded_on": ["2022-01-01", "2023-01-01", "2024-06-01", "2024-07-10"],
            "country": ["DE", "FR", "DE", "NL"],
            "industry": ["retail", "construction", "it_services", "retail"],
            "founded_on": ["2010-06-30", NaT, "2020-01-01", "2024-01-01"],
            "credit_limit": [10_000.0, None, 5_000.0, 1_000.0],
            "payment_terms_days": [30.0, 14.0, 30.0, 30.0],
            "external_score": [60.0, 40.0, 55.0, 50.0],
            "annual_revenue": [1e6, 5e6, 2e5, 1e5],
        }
    )
    # fmt: off
    invoices = pd.DataFrame(
        [
            # id, customer, issue, due, amount, disputed, settled
            ("A1", "A", "2024-01-10", "2024-02-09", 1000.0, False, "2024-02-09"),  # on time
            ("A2", "A", "2024-02-01", "2024-03-02", 2000.0, True, "2024-03-22"),   # 20 late
            ("A3", "A", "2024-03-15", "2024-04-14", 500.0, False, "2024-05-14"),   # 30 late, 2 pays
            ("A4", "A", "2024-04-20", "2024-05-20", 3000.0, False, NaT),  # open, 1000 paid
            ("A5", "A", "2024-06-10", "2024-07-10", 1500.0, False, NaT),  # open, not due
            ("A6", "A", "2024-05-01", "2024-05-31", 800.0, False, "2024-07-20"),  # settled after T
            ("A7", "A", "2024-05-05", "2024-05-05", -100.0, False, NaT),  # credit note
            ("A8", "A", "2024-07-05", "2024-08-04", 999.0, False, NaT),   # issued after T
            ("B1", "B", "2023-03-01", "2023-03-15", 4000.0, False, "2023-06-13"),  # 90 late, old
            ("B2", "B", "2023-12-01", "2023-12-15", 1000.0, False, "2024-01-14"),  # 30 late
            ("B3", "B", "2024-01-20", "2024-02-03", 2500.0, False, NaT),  # open, 148 dpd
            ("B4", "B", "2024-03-01", "2024-03-15", 600.0, False, "2024-04-04"),   # 20 late
            ("B5", "B", "2024-05-10", "2024-05-24", 400.0, True, NaT),    # open, disputed
            ("B6", "B", "2024-04-10", "2024-04-24", 700.0, True, "2024-05-24"),    # 30 late
        ],
        columns=["invoice_id", "customer_id", "issue_date", "due_date", "amount", "disputed",
                 "settled_date"],
    )
    payments = pd.DataFrame(
        [
            ("P1", "A", "A3", "2024-04-20", 200.0),
            ("P2", "A", "A3", "2024-05-14", 300.0),
            ("P3", "A", "A4", "2024-06-10", 1000.0),
            ("P4", "A", None, "2024-06-12", 50.0),   # unallocated
            ("P5", "A", "A6", "2024-07-20", 800.0),  # after T
            ("P6", "B", "B1", "2023-06-13", 4000.0),
            ("P7", "B", "B2", "2024-01-14", 1000.0),
            ("P8", "B", "B4", "2024-04-04", 600.0),
            ("P9", "B", "B6", "2024-05-24", 700.0),
        ],
        columns=["payment_id", "customer_id", "invoice_id", "paid_on", "amount"],
    )
    events = pd.DataFrame(
        [
            ("E1", "A", "2024-06-05", "reminder"),
            ("E2", "A", "2024-03-01", "reminder"),
            ("E3", "A", "2023-05-01", "reminder"),        # older than 365 days
            ("E4", "A", "2024-03-01", "dispute"),
            ("E5", "A", "2024-07-02", "dispute"),         # after T
            ("E6", "A", "2024-05-05", "promise_to_pay"),  # kept: paid 05-14
            ("E7", "A", "2024-06-01", "promise_to_pay"),  # kept: paid 06-10
            ("E8", "A", "2024-06-20", "promise_to_pay"),  # too recent to judge
            ("E9", "B", "2024-02-10", "promise_to_pay"),  # broken: nothing 02-10..02-24
            ("E10", "B", "2023-05-20", "promise_to_pay"),  # broken but older than 365 days
            ("E11", "B", "2024-06-25", "reminder"),
        ],
        columns=["event_id", "customer_id", "event_date", "event_type"],
    )
    # fmt: on
    return normalize_ledger(
        {
            "customers": customers,
            "invoices": invoices,
            "payments": payments,
            "credit_events": events,
        }
    )
