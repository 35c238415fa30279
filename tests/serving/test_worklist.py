"""The collections worklist and the portfolio on a hand-worked ledger (as of 2025-06-30).

Customers and what a collector must see for each (worked out by hand below):

* **A**: invoice A1 (1,000, due 2025-05-31, 200 paid on 06-05) is 30 days past due with 800
  open; A2 (500, due 07-10) is due within 30 days; A3 (800, due 08-19) is not. Expected
  overdue in 30 days = 800 + p_late 0.25 x 500 = 925. Promises: 06-01 (paid 06-05: kept),
  06-26 (window open to 07-10, nothing paid: pending). Last reminder 06-25. Step: ``call``.
* **B**: B1 (2,000, due 07-15) soon due, disputed on 06-20; promise on 05-01 with no payment
  by 05-15: broken. Expected overdue = 0.25 x 2,000 = 500. Step: ``reminder``.
* **C**: C1 (300, due 2024-12-31) unpaid 181 days: in default (90+ days), own section,
  ``write_off_review``.
* **D**: paid everything: not on the worklist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from creditrisk.features.default_status import DefaultDefinition
from creditrisk.ledger.frame import Ledger, normalize_ledger
from creditrisk.models.policy import Policy
from creditrisk.serving.portfolio import (
    PortfolioCache,
    collections_worklist,
    is_run_book_key,
    run_book_key,
    score_portfolio,
    summarize_portfolio,
)
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.worklist import DunningStages, promise_status, worklist_records

AS_OF = date(2025, 6, 30)
P_LATE = 0.25
MODEL_PD = 0.02


@dataclass
class FixedBundle:
    """A bundle with known answers: every customer PD 2 %, every open invoice p_late 0.25
    and expected payment dates 5, 10 and 20 days after the as-of date."""

    policy: Policy = field(default_factory=Policy.default)
    default_definition: DefaultDefinition = field(default_factory=DefaultDefinition)
    metadata: dict[str, Any] = field(default_factory=dict)
    has_default_model: bool = True  # a late-only bundle has none (serving.rating checks it)

    def predict_pd_12m(self, features: pd.DataFrame) -> np.ndarray:
        return np.full(len(features), MODEL_PD)

    def predict_open_invoices(self, features: pd.DataFrame, *, as_of: date) -> pd.DataFrame:
        stamp = pd.Timestamp(as_of)
        n = len(features)
        return pd.DataFrame(
            {
                "p_late": np.full(n, P_LATE),
                **{
                    f"expected_payment_{q}": np.full(n, stamp + pd.Timedelta(days=d))
                    for q, d in (("p10", 5), ("p50", 10), ("p90", 20))
                },
            },
            index=features.index,
        )


def hand_worked_ledger() -> Ledger:
    customers = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "onboarded_on": ["2024-01-01"] * 4,
            "country": ["DE"] * 4,
            "industry": ["retail"] * 4,
            "founded_on": ["2000-01-01"] * 4,
            "credit_limit": [10_000.0] * 4,
            "payment_terms_days": [30.0] * 4,
            "external_score": [50.0] * 4,
            "annual_revenue": [1_000_000.0] * 4,
        }
    )
    invoices = pd.DataFrame(
        [
            ("A1", "A", "2025-05-01", "2025-05-31", 1_000.0, None),
            ("A2", "A", "2025-06-10", "2025-07-10", 500.0, None),
            ("A3", "A", "2025-06-20", "2025-08-19", 800.0, None),
            ("B1", "B", "2025-06-15", "2025-07-15", 2_000.0, None),
            ("C1", "C", "2024-12-01", "2024-12-31", 300.0, None),
            ("D1", "D", "2025-03-01", "2025-03-31", 400.0, "2025-04-10"),
        ],
        columns=["invoice_id", "customer_id", "issue_date", "due_date", "amount",
                 "settled_date"],
    )
    invoices["currency"] = "EUR"
    invoices["disputed"] = invoices["invoice_id"] == "B1"
    payments = pd.DataFrame(
        [("P1", "A", "A1", "2025-06-05", 200.0), ("P2", "D", "D1", "2025-04-10", 400.0)],
        columns=["payment_id", "customer_id", "invoice_id", "paid_on", "amount"],
    )
    events = pd.DataFrame(
        [
            ("E1", "A", "2025-06-01", "promise_to_pay", "A1"),
            ("E2", "A", "2025-06-07", "reminder", "A1"),
            ("E3", "A", "2025-06-25", "reminder", "A1"),
            ("E4", "A", "2025-06-26", "promise_to_pay", "A1"),
            ("E5", "B", "2025-05-01", "promise_to_pay", None),
            ("E6", "B", "2025-06-20", "dispute", "B1"),
            ("E7", "A", "2025-07-05", "dispute", "A2"),  # after as_of: unknown at T
        ],
        columns=["event_id", "customer_id", "event_date", "event_type", "invoice_id"],
    )
    return normalize_ledger(
        {"customers": customers, "invoices": invoices, "payments": payments,
         "credit_events": events}
    )


@pytest.fixture(scope="module")
def served() -> ServedBundle:
    return ServedBundle(
        bundle=FixedBundle(),  # type: ignore[arg-type]  # duck-typed: the methods used here
        model_name="fixed", model_version="1", source_uri="memory",
    )


@pytest.fixture(scope="module")
def rows(served: ServedBundle) -> dict[str, dict[str, Any]]:
    scores = score_portfolio(served, hand_worked_ledger(), as_of=AS_OF)
    worklist = collections_worklist(scores, stages=DunningStages())
    active = worklist_records(worklist.active)
    assert [r["customer_id"] for r in active] == ["A", "B"]  # by money at stake
    defaulted = worklist_records(worklist.in_default)
    assert [r["customer_id"] for r in defaulted] == ["C"]
    return {r["customer_id"]: r for r in (*active, *defaulted)}


def test_one_row_per_customer_with_overdue_and_soon_due_money(
    rows: dict[str, dict[str, Any]],
) -> None:
    a, b = rows["A"], rows["B"]
    assert (a["open_amount"], a["overdue_amount"], a["soon_due_amount"]) == (2_100.0, 800.0, 500.0)
    assert a["oldest_days_past_due"] == 30
    assert a["expected_overdue_30d"] == pytest.approx(800 + P_LATE * 500)
    assert (b["overdue_amount"], b["soon_due_amount"], b["oldest_days_past_due"]) == (0, 2_000, 0)
    assert b["expected_overdue_30d"] == pytest.approx(P_LATE * 2_000)
    assert "D" not in rows  # nothing open, nothing to do


def test_grade_pd_disputes_promises_and_reminders_as_known_at_t(
    rows: dict[str, dict[str, Any]],
) -> None:
    a, b = rows["A"], rows["B"]
    master_scale_grade = str(int(Policy.default().grade(np.array([MODEL_PD]))[0]))
    assert (a["grade"], a["pd_12m"], a["in_default"]) == (master_scale_grade, MODEL_PD, False)
    assert a["open_disputes"] == 0  # the dispute of 07-05 is after the as-of date
    assert b["open_disputes"] == 1
    assert (a["promises_365d"], a["promises_kept"], a["promises_pending"],
            a["promises_broken"]) == (2, 1, 1, 0)
    assert a["last_promise_date"] == date(2025, 6, 26)
    assert (b["promises_365d"], b["promises_broken"]) == (1, 1)
    assert a["last_reminder_date"] == date(2025, 6, 25)
    assert b["last_reminder_date"] is None


def test_next_step_follows_the_dunning_stage_and_default_has_its_own_section(
    rows: dict[str, dict[str, Any]],
) -> None:
    assert rows["A"]["next_step"] == "call"
    assert rows["B"]["next_step"] == "reminder"
    c = rows["C"]
    assert (c["in_default"], c["grade"], c["pd_12m"]) == (True, "D", 1.0)
    assert c["oldest_days_past_due"] == 181
    assert c["next_step"] == "write_off_review"


def test_no_expected_payment_date_on_or_before_the_as_of_date(
    rows: dict[str, dict[str, Any]],
) -> None:
    for row in rows.values():
        assert row["next_expected_payment"] > AS_OF


def test_dunning_thresholds_are_configuration() -> None:
    days = np.array([0, 14, 15, 30, 31, 60, 61, 180, 181, 1_000])
    assert list(DunningStages().next_step(days)) == [
        "reminder", "reminder", "call", "call", "hold_deliveries", "hold_deliveries",
        "hand_to_collections", "hand_to_collections", "write_off_review", "write_off_review",
    ]
    stricter = DunningStages(call_from_days=5, hold_deliveries_from_days=10,
                             collections_from_days=20, write_off_review_from_days=40)
    assert list(stricter.next_step(np.array([4, 5, 30, 40]))) == [
        "reminder", "call", "hand_to_collections", "write_off_review"
    ]
    with pytest.raises(ValueError, match="increasing"):
        DunningStages(call_from_days=40, hold_deliveries_from_days=30)


def test_a_promise_is_kept_only_by_a_payment_within_the_grace_window() -> None:
    ledger = hand_worked_ledger()
    promises = ledger.credit_events[ledger.credit_events["event_type"] == "promise_to_pay"]
    assert list(promise_status(ledger, promises, as_of=AS_OF)) == ["kept", "pending", "broken"]
    # Seen from the day before the payment, the first promise was still pending.
    early = promise_status(ledger, promises.iloc[:1], as_of=date(2025, 6, 4))
    assert list(early) == ["pending"]


def test_portfolio_counts_customers_in_default_at_pd_1_in_expected_loss_and_grade_mix(
    served: ServedBundle,
) -> None:
    """Expected loss >= LGD x exposure of the customers in default (issue 8.1)."""
    scores = score_portfolio(served, hand_worked_ledger(), as_of=AS_OF)
    summary = summarize_portfolio(scores, served)
    lgd = served.bundle.policy.limits.lgd
    assert summary.currency == "EUR"
    assert (summary.customers_in_default, summary.exposure_in_default) == (1, 300.0)
    assert summary.expected_loss == pytest.approx(
        round(MODEL_PD * lgd * (2_100 + 2_000) + 1.0 * lgd * 300, 2)
    )
    assert summary.expected_loss >= lgd * summary.exposure_in_default
    mix = {g.grade: g for g in summary.grade_mix}
    assert list(mix)[-1] == "D"
    assert (mix["D"].customer_count, mix["D"].exposure) == (1, 300.0)
    assert sum(g.customer_count for g in summary.grade_mix) == summary.customer_count == 4


def test_the_portfolio_cache_is_bounded_and_evicts_expired_entries() -> None:
    """cachetools.TTLCache underneath: old as-of dates do not pile up."""
    now = {"t": 0.0}
    cache: PortfolioCache[str] = PortfolioCache(
        ttl_seconds=60, max_entries=2, monotonic=lambda: now["t"]
    )
    for day in ("2025-06-28", "2025-06-29", "2025-06-30"):
        cache.get(("v1", day), lambda day=day: day)
    assert len(cache) == 2
    assert cache.get(("v1", "2025-06-28"), lambda: "recomputed") == "recomputed"
    now["t"] = 61.0
    assert len(cache) == 0


def test_a_complete_runs_book_lasts_while_a_live_book_expires() -> None:
    """A complete rescoring run's rows never change: its book is not recomputed every cache
    period in the serving process (each recomputation held the GIL for 0.2-0.8 s and showed
    as application latency in the soak), but the size bound still evicts it; a live
    as-of date's book expires as before."""
    now = {"t": 0.0}
    cache: PortfolioCache[str] = PortfolioCache(
        ttl_seconds=60, max_entries=2, monotonic=lambda: now["t"], lasting=is_run_book_key
    )
    run = run_book_key("r1", "3")
    cache.get(run, lambda: "run book")
    cache.get(("3", "2025-06-30"), lambda: "live book")
    now["t"] = 10_000.0
    assert cache.get(run, lambda: "recomputed") == "run book"
    assert cache.get(("3", "2025-06-30"), lambda: "recomputed") == "recomputed"
    assert run_book_key("r1", "4") != run  # another served model answers it anew
    for day in ("2025-07-01", "2025-07-02"):
        cache.get(("3", day), lambda day=day: day)
    assert len(cache) == 2
    assert cache.get(run, lambda: "evicted") == "evicted"


def test_the_grace_window_includes_its_last_day_and_not_the_next() -> None:
    """Kept by a payment on d + 14 (PROMISE_GRACE_DAYS); broken when the first payment after
    the promise comes on d + 15."""
    ledger = normalize_ledger(
        {
            "invoices": pd.DataFrame(
                {"invoice_id": ["X1"], "customer_id": ["X"], "issue_date": ["2025-01-01"],
                 "due_date": ["2025-01-31"], "amount": [900.0], "currency": ["EUR"]}
            ),
            "payments": pd.DataFrame(
                {"payment_id": ["P1", "P2"], "customer_id": ["X", "X"],
                 "invoice_id": ["X1", "X1"], "paid_on": ["2025-05-16", "2025-06-15"],
                 "amount": [100.0, 100.0]}
            ),
            "credit_events": pd.DataFrame(
                {"event_id": ["E1", "E2"], "customer_id": ["X", "X"],
                 "event_date": ["2025-05-01", "2025-06-01"],
                 "event_type": ["promise_to_pay", "promise_to_pay"], "invoice_id": [None, None]}
            ),
        }
    )
    promises = ledger.credit_events
    assert list(promise_status(ledger, promises, as_of=AS_OF)) == ["broken", "kept"]
