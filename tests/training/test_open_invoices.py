"""Invoices open at month-ends: the dataset (worked by hand), the censoring and horizon
rules, the conformal interval, the known-fact rules of the prediction, and a fit on a small
synthetic ledger that produces the out-of-time metrics."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from creditrisk.features.invoice import build_invoice_features
from creditrisk.ledger.frame import Ledger, normalize_ledger
from creditrisk.models.bundle import CreditRiskBundle
from creditrisk.models.open_invoice_model import days_until_payment
from creditrisk.models.policy import Policy
from creditrisk.synthetic.generator import generate_ledger
from creditrisk.training.config import OpenInvoiceModelConfig
from creditrisk.training.open_invoices import (
    OpenInvoiceFit,
    fit_interval_widening,
    fit_open_invoice_model,
    interval_coverage,
    open_invoice_rows,
    subsample_per_month_end,
)

T = pd.Timestamp("2024-01-31")


def small_ledger(w_settled: str | None = None) -> Ledger:
    """X late (settled 11 days after due), Y early, Z past due at T, W never settled (or on
    ``w_settled``), V settled before T (not open)."""
    return normalize_ledger(
        {
            "customers": pd.DataFrame({"customer_id": ["A"]}),
            "invoices": pd.DataFrame(
                {
                    "invoice_id": ["X", "Y", "Z", "W", "V"],
                    "customer_id": ["A"] * 5,
                    "issue_date": ["2024-01-10", "2024-01-20", "2023-12-01", "2024-01-25",
                                   "2024-01-05"],
                    "due_date": ["2024-02-09", "2024-02-19", "2023-12-31", "2024-02-24",
                                 "2024-02-04"],
                    "amount": [100.0, 200.0, 300.0, 400.0, 500.0],
                    "settled_date": ["2024-02-20", "2024-02-10", "2024-03-05", w_settled,
                                     "2024-01-20"],
                }
            ),
        }
    )


def test_rows_and_labels_worked_by_hand() -> None:
    """At 2024-01-31 (horizon 60, grace 0): X late, 20 days to payment; Y on time, 10 days;
    Z already past due (no late label: p_late 1 by rule), 34 days (2024 is a leap year); W
    never settled: censored at the horizon, late. V was settled before T: no row."""
    rows = open_invoice_rows(small_ledger(), as_of_dates=[T], horizon_days=60, grace_days=0)
    rows = rows.set_index("invoice_id")
    assert list(rows.index) == ["X", "Y", "Z", "W"]
    assert rows["past_due"].tolist() == [False, False, True, False]
    np.testing.assert_array_equal(rows["late"].to_numpy(), [1.0, 0.0, np.nan, 1.0])
    assert rows["days_to_settlement"].tolist() == [20, 10, 34, 60]
    assert rows["censored"].tolist() == [False, False, False, True]
    assert (rows["as_of"] == T).all()
    assert rows.loc["X", "days_to_due"] == 9


def test_grace_and_a_later_month_end() -> None:
    """With 15 days of grace X (11 days late) is not late. At 2024-02-29 X and Y are paid;
    W, due 02-24, is past due but not past due + grace, so it is still predicted (and late:
    never paid)."""
    rows = open_invoice_rows(small_ledger(), as_of_dates=[T, pd.Timestamp("2024-02-29")],
                             horizon_days=60, grace_days=15)
    jan = rows[rows["as_of"] == T].set_index("invoice_id")
    feb = rows[rows["as_of"] == pd.Timestamp("2024-02-29")].set_index("invoice_id")
    assert jan.loc["X", "late"] == 0
    assert list(feb.index) == ["Z", "W"]
    assert not feb.loc["W", "past_due"]  # due 02-24 + 15 days > 02-29
    assert feb.loc["W", "late"] == 1


def test_labels_look_no_further_than_the_horizon() -> None:
    """A row's labels use only what happened by T + horizon: W paid after the horizon is the
    same row as W never paid; a due date + grace beyond the horizon leaves late undefined."""
    never = open_invoice_rows(small_ledger(), as_of_dates=[T], horizon_days=60, grace_days=0)
    later = open_invoice_rows(small_ledger("2024-05-01"), as_of_dates=[T], horizon_days=60,
                              grace_days=0)
    pd.testing.assert_frame_equal(later, never)
    short = open_invoice_rows(small_ledger(), as_of_dates=[T], horizon_days=20, grace_days=0)
    w = short.set_index("invoice_id").loc["W"]
    assert np.isnan(w["late"])
    assert w["censored"]
    assert w["days_to_settlement"] == 20


def test_days_until_payment_are_ordered_after_t_and_within_the_horizon() -> None:
    """Crossed or non-positive raw quantiles still give 1 <= p10 <= p50 <= p90 <= horizon;
    a wider interval never narrows."""
    raw = np.array([[-5.0, 3.0, 2.0], [40.0, 10.0, 500.0], [0.2, 0.1, 0.3]])
    days = days_until_payment(raw, horizon_days=180, log_widening=0.0)
    assert (days >= 1).all()
    assert (days <= 180).all()
    assert (np.diff(days, axis=1) >= 0).all()
    assert days[1].tolist() == [10, 40, 180]
    wide = days_until_payment(raw, horizon_days=180, log_widening=0.5)
    assert (wide[:, 0] <= days[:, 0]).all()
    assert (wide[:, 2] >= days[:, 2]).all()


def test_interval_widening_is_the_smallest_that_reaches_the_target() -> None:
    rng = np.random.default_rng(3)
    days_true = rng.integers(1, 120, size=4000).astype(np.float64)
    raw = np.tile([20.0, 40.0, 60.0], (len(days_true), 1))
    widening = fit_interval_widening(raw, days_true, horizon_days=180, target=0.8)

    def coverage(w: float) -> float:
        return interval_coverage(days_until_payment(raw, horizon_days=180, log_widening=w),
                                 days_true)

    assert coverage(widening) >= 0.8
    assert coverage(widening - 0.01) < 0.8


def test_subsampling_caps_rows_per_month_end_and_is_seeded() -> None:
    frame = pd.DataFrame({"as_of": [T] * 50 + [pd.Timestamp("2024-02-29")] * 5})
    keep = subsample_per_month_end(frame, max_rows=10, seed=1)
    assert keep[:50].sum() == 10
    assert keep[50:].all()
    assert (keep == subsample_per_month_end(frame, max_rows=10, seed=1)).all()
    assert not (keep == subsample_per_month_end(frame, max_rows=10, seed=2)).all()


END = date(2025, 6, 30)


@pytest.fixture(scope="module")
def synthetic_ledger() -> Ledger:
    return generate_ledger(n_customers=1_500, start=date(2022, 1, 1), end=END, seed=5).ledger


@pytest.fixture(scope="module")
def fitted(synthetic_ledger: Ledger) -> OpenInvoiceFit:
    config = OpenInvoiceModelConfig(holdout_months=6, rows_per_month_end=1_500,
                                    num_boost_round=150, quantile_rounds=60)
    return fit_open_invoice_model(synthetic_ledger, data_end=pd.Timestamp(END), grace_days=0,
                                  config=config, seed=7)


def test_a_fit_on_a_small_synthetic_ledger_reports_out_of_time_metrics(
    fitted: OpenInvoiceFit,
) -> None:
    m = fitted.metrics
    for key in ("open_invoice_test_roc_auc", "open_invoice_test_ece",
                "open_invoice_test_coverage_p10_p90", "open_invoice_test_days_p50_mae"):
        assert np.isfinite(m[key]), key
    assert m["open_invoice_test_roc_auc"] > 0.75
    assert m["open_invoice_test_ece"] < 0.05
    assert 0.7 <= m["open_invoice_test_coverage_p10_p90"] <= 0.9
    # training month-ends end one horizon before the holdout
    assert fitted.split.train_end + pd.Timedelta(days=180) <= fitted.split.holdout_start
    assert fitted.test["as_of"].min() >= fitted.split.holdout_start


def test_predictions_keep_the_known_fact_rules(
    fitted: OpenInvoiceFit, synthetic_ledger: Ledger
) -> None:
    """Past due at T -> p_late 1; no payment date on or before T; p10 <= p50 <= p90; the
    bundle answers with the open-invoice model."""
    as_of = pd.Timestamp("2025-03-31")
    features = build_invoice_features(synthetic_ledger, as_of=as_of)
    out = fitted.model.predict(features, as_of=as_of)
    assert out.index.equals(features.index)
    past_due = (features["due_date"] < as_of).to_numpy()
    assert past_due.any()
    assert (~past_due).any()
    assert (out.loc[past_due, "p_late"] == 1.0).all()
    assert out.loc[~past_due, "p_late"].between(0, 1).all()
    assert out.loc[~past_due, "p_late"].lt(1).any()
    for q in ("p10", "p50", "p90"):
        assert (out[f"expected_payment_{q}"] > as_of).all(), q
    assert (out["expected_payment_p10"] <= out["expected_payment_p50"]).all()
    assert (out["expected_payment_p50"] <= out["expected_payment_p90"]).all()
    assert (out["days_late_p10"] <= out["days_late_p90"]).all()
    bundle = CreditRiskBundle(
        customer_spec=fitted.model.spec,  # unused parts: only the open-invoice path runs
        invoice_spec=fitted.model.spec,
        default_model=fitted.model.late_model,
        late_model=fitted.model.late_model,
        days_model=fitted.model.days_model,
        policy=Policy.default(),
        open_invoice_model=fitted.model,
    )
    pd.testing.assert_frame_equal(bundle.predict_open_invoices(features, as_of=as_of), out)
