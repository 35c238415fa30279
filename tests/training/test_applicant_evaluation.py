"""Applicants judged out of time on every onboarding snapshot of the holdout, against the
oracle on the same rows; the final default model refits on every training customer with the
rounds early stopping chose."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from creditrisk.models.estimators import BoostedClassifier
from creditrisk.synthetic.generator import generate_ledger
from creditrisk.training.config import DefaultModelConfig
from creditrisk.training.datasets import build_snapshot_set
from creditrisk.training.fitting import (
    applicant_holdout_metrics,
    fit_default_model,
    oot_applicant_rows,
    refit_rounds,
)
from creditrisk.training.split import CALIBRATION, TEST, TRAIN, plan_snapshot_split

HORIZON_DAYS = 365


def _snapshots() -> pd.DataFrame:
    """Monthly rows of 40 existing customers, plus one onboarding snapshot (mid-month, no
    history) of a new customer every 10 days over 2021-2024."""
    month_ends = pd.date_range("2021-01-31", "2024-12-31", freq="ME")
    existing = pd.DataFrame(
        [(f"e{i}", d, False) for d in month_ends for i in range(40)],
        columns=["customer_id", "as_of", "is_applicant"],
    )
    onboarding_days = pd.date_range("2021-01-05", "2024-12-25", freq="10D")
    applicants = pd.DataFrame(
        {
            "customer_id": [f"a{i}" for i in range(len(onboarding_days))],
            "as_of": onboarding_days,
            "is_applicant": True,
        }
    )
    return pd.concat([existing, applicants], ignore_index=True)


def test_out_of_time_applicants_are_every_holdout_onboarding_snapshot_a_label_window_on() -> None:
    rows = _snapshots()
    month_ends = rows.loc[rows["as_of"].dt.is_month_end, "as_of"]
    split = plan_snapshot_split(month_ends, horizon_days=HORIZON_DAYS, holdout_periods=6)
    roles = split.assign(rows["as_of"], rows["customer_id"])
    chosen = oot_applicant_rows(rows, roles)
    picked = rows[chosen]
    assert picked["is_applicant"].all()
    # the out-of-time gap holds: no applicant row before the training cut + a label window
    assert picked["as_of"].min() >= split.train_end + pd.Timedelta(days=HORIZON_DAYS)
    assert not np.isin(roles[chosen], [TRAIN]).any()
    # both halves of the holdout count, and every holdout applicant is in
    assert set(roles[chosen]) == {CALIBRATION, TEST}
    in_holdout = np.isin(roles, [CALIBRATION, TEST]) & rows["is_applicant"].to_numpy()
    assert chosen.sum() == in_holdout.sum() > 0
    # negative control: applicants onboarded during training or the gap are left out
    early = rows["is_applicant"] & (rows["as_of"] < split.holdout_start)
    assert early.any()
    assert not chosen[early.to_numpy()].any()


def test_applicant_auc_and_oracle_auc_are_measured_on_the_same_rows() -> None:
    rng = np.random.default_rng(3)
    n = 400
    days = pd.Timestamp("2024-07-31") + pd.to_timedelta(rng.integers(0, 150, n), unit="D")
    rows = pd.DataFrame({"customer_id": [f"a{i}" for i in range(n)], "as_of": days})
    truth_pd = rng.uniform(0.01, 0.3, n)
    y = (rng.random(n) < truth_pd).astype(np.int8)
    score = np.clip(truth_pd + rng.normal(0, 0.1, n), 0.001, 0.999)
    # the generator knows the truth for all but the last 50 rows
    oracle = pd.DataFrame(
        {"customer_id": rows["customer_id"][:-50], "month_end": rows["as_of"][:-50],
         "pd_12m": truth_pd[:-50]}
    )
    out = applicant_holdout_metrics(rows, y, score, oracle=oracle, min_events=20, seed=0)
    assert out["default_oot_applicants_n"] == n
    assert out["default_oot_applicants_events"] == y.sum()
    assert np.isclose(out["default_oot_applicants_roc_auc"], roc_auc_score(y, score))
    known = slice(0, n - 50)
    assert np.isclose(out["default_oot_applicants_model_roc_auc"],
                      roc_auc_score(y[known], score[known]))
    assert np.isclose(out["default_oot_applicants_oracle_roc_auc"],
                      roc_auc_score(y[known], truth_pd[known]))
    assert np.isclose(
        out["default_oot_applicants_roc_auc_gap"],
        out["default_oot_applicants_oracle_roc_auc"] - out["default_oot_applicants_model_roc_auc"],
    )


def test_applicant_auc_on_too_few_events_is_not_a_number_but_the_oracle_pair_still_is() -> None:
    rows = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                         "as_of": pd.to_datetime(["2024-08-31"] * 4)})
    y = np.array([0, 1, 0, 0], dtype=np.int8)
    score = np.array([0.1, 0.4, 0.2, 0.05])
    out = applicant_holdout_metrics(rows, y, score, oracle=None, min_events=20, seed=0)
    assert out["default_oot_applicants_events"] == 1
    assert "default_oot_applicants_roc_auc" not in out
    assert "default_oot_applicants_oracle_roc_auc" not in out


def test_final_fit_uses_the_early_stopped_rounds_scaled_to_all_training_rows() -> None:
    stopped = SimpleNamespace(booster=SimpleNamespace(best_iteration=40,
                                                      current_iteration=lambda: 70))
    # 800 rows fitted with early stopping, 1,000 training rows in the final fit
    assert refit_rounds(stopped, fitted_rows=800, all_rows=1000) == 50  # type: ignore[arg-type]  # a stand-in with the two booster attributes used
    # without a best iteration (early stopping never fired) the trees grown count
    never = SimpleNamespace(booster=SimpleNamespace(best_iteration=0,
                                                    current_iteration=lambda: 70))
    assert refit_rounds(never, fitted_rows=1000, all_rows=1000) == 70  # type: ignore[arg-type]  # a stand-in with the two booster attributes used


def test_the_final_default_model_is_fitted_on_every_training_customer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Early stopping fits without its held-out customers; the model kept is refitted on all
    training rows with the (scaled) rounds early stopping chose. Negative control: with
    ``refit_all_training=False`` the early-stopped fit is the model."""
    ledger = generate_ledger(n_customers=800, start=date(2022, 1, 1), end=date(2025, 6, 30),
                             seed=4).ledger
    snapshots = build_snapshot_set(ledger, data_end=pd.Timestamp("2025-06-30"),
                                   horizon_days=HORIZON_DAYS)
    fits: list[tuple[int, int, bool]] = []
    original = BoostedClassifier.fit

    def recording_fit(self: BoostedClassifier, X: np.ndarray, y: np.ndarray,
                      **kwargs: Any) -> BoostedClassifier:
        fits.append((len(X), self.num_boost_round, kwargs.get("X_valid") is not None))
        return original(self, X, y, **kwargs)

    monkeypatch.setattr(BoostedClassifier, "fit", recording_fit)
    config = DefaultModelConfig(holdout_months=3, num_boost_round=40)
    fit = fit_default_model(snapshots, config=config, model_kind="lightgbm", seed=1)
    n_train = int((fit.roles == TRAIN).sum())
    (stopped_rows, _, stopped_valid), (final_rows, final_rounds, final_valid) = fits
    assert stopped_valid
    assert stopped_rows < n_train
    assert not final_valid
    assert final_rows == n_train
    assert isinstance(fit.model, BoostedClassifier)
    assert fit.model.num_boost_round == final_rounds
    assert fit.model.booster is not None
    assert fit.model.booster.current_iteration() == final_rounds

    fits.clear()
    fit_default_model(snapshots, config=config.model_copy(update={"refit_all_training": False}),
                      model_kind="lightgbm", seed=1)
    assert len(fits) == 1
    assert fits[0][0] < n_train
