"""Applicants judged out of time on every onboarding snapshot of the holdout, against the
oracle on the same rows, and on every onboarding snapshot after the training cut against
the oracle and the applicant yardstick; the final default model refits on every training
customer with the rounds early stopping chose."""

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
from creditrisk.training.applicant_evidence import (
    applicant_evidence,
    applicant_rows_after_cut,
    truth_on_rows,
)
from creditrisk.training.config import DefaultModelConfig
from creditrisk.training.datasets import build_snapshot_set
from creditrisk.training.evaluation import not_enough_events
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
    # the single early-stopping fold (round_folds < 2; the default chooses the rounds by
    # customer folds, training/boosting_rounds.py, and fits once on every training row)
    config = DefaultModelConfig(holdout_months=3, num_boost_round=40, round_folds=0)
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


def test_applicants_after_the_cut_are_every_onboarding_snapshot_dated_after_training() -> None:
    """The wider applicant evidence: every applicant row dated after the training cut (the
    label-window gap and the holdout), none on or before it, no existing customer's row."""
    rows = _snapshots()
    month_ends = rows.loc[rows["as_of"].dt.is_month_end, "as_of"]
    split = plan_snapshot_split(month_ends, horizon_days=HORIZON_DAYS, holdout_periods=6)
    chosen = applicant_rows_after_cut(rows, split.train_end)
    picked = rows[chosen]
    assert picked["is_applicant"].all()
    assert (picked["as_of"] > split.train_end).all()
    after = rows["is_applicant"] & (rows["as_of"] > split.train_end)
    assert chosen.sum() == after.sum()
    # about three times the holdout's onboardings: the gap year is in as well
    holdout = oot_applicant_rows(rows, split.assign(rows["as_of"], rows["customer_id"]))
    assert chosen.sum() > 2.5 * holdout.sum()
    assert (chosen | ~holdout).all()


def _applicant_truth(n: int, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Outcomes drawn from an oracle PD; the yardstick is that PD blurred (what an
    application shows); the last 30 rows have no yardstick (not an onboarding month-end)."""
    rng = np.random.default_rng(seed)
    oracle = rng.beta(0.6, 12.0, n)
    yardstick = np.clip(oracle * np.exp(rng.normal(0, 0.6, n)), 1e-4, 0.99)
    yardstick[-30:] = np.nan
    y = (rng.random(n) < oracle).astype(np.int8)
    return y, pd.DataFrame({"oracle": oracle, "yardstick": yardstick})


def test_applicant_evidence_compares_model_oracle_and_yardstick_on_the_same_rows() -> None:
    y, truth = _applicant_truth(3_000, seed=5)
    rng = np.random.default_rng(6)
    model = np.clip(truth["oracle"].to_numpy() * np.exp(rng.normal(0, 0.9, len(y))), 0, 1)
    out = applicant_evidence(y, model, truth, min_events=20, seed=0)
    assert out["n"] == len(y)
    assert out["events"] == y.sum() >= 100
    assert np.isclose(out["roc_auc"], roc_auc_score(y, model))
    assert out["roc_auc_low"] < out["roc_auc"] < out["roc_auc_high"]
    assert out["roc_auc_high"] - out["roc_auc_low"] < 0.15
    assert out["oracle_n"] == len(y)
    assert np.isclose(out["oracle_rows_model_roc_auc"], out["roc_auc"])
    assert np.isclose(out["oracle_roc_auc"], roc_auc_score(y, truth["oracle"]))
    assert np.isclose(out["oracle_gap"], out["oracle_roc_auc"] - out["roc_auc"])
    # the yardstick only where it exists (the onboarding snapshots), model and oracle there too
    same = slice(0, len(y) - 30)
    assert out["onboarding_n"] == len(y) - 30
    assert out["onboarding_events"] == y[same].sum()
    assert np.isclose(out["onboarding_model_roc_auc"], roc_auc_score(y[same], model[same]))
    assert np.isclose(out["onboarding_oracle_roc_auc"],
                      roc_auc_score(y[same], truth["oracle"][same]))
    assert np.isclose(out["yardstick_roc_auc"],
                      roc_auc_score(y[same], truth["yardstick"][same]))
    assert np.isclose(out["yardstick_gap"],
                      out["yardstick_roc_auc"] - out["onboarding_model_roc_auc"])
    assert out["oracle_gap"] > out["yardstick_gap"] > 0


def test_applicant_evidence_on_too_few_events_gives_only_the_counts() -> None:
    y, truth = _applicant_truth(300, seed=1)
    y[:] = 0
    y[:7] = 1
    out = applicant_evidence(y, truth["oracle"].to_numpy(), truth, min_events=20)
    assert out == {"n": 300.0, "events": 7.0, "oracle_n": 300.0, "oracle_events": 7.0,
                   "onboarding_n": 270.0, "onboarding_events": 7.0}
    assert applicant_evidence(y, truth["oracle"].to_numpy(), min_events=20) == {
        "n": 300.0, "events": 7.0}
    assert not_enough_events(out["events"]) == "not enough events (7)"


def test_truth_on_rows_takes_oracle_and_yardstick_by_customer_and_date() -> None:
    truth = pd.DataFrame({
        "customer_id": ["c1", "c1", "c2"],
        "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-01-31"]),
        "pd_12m": [0.1, 0.2, 0.3],
        "in_default": [False, False, False],
        "pd_12m_application": [0.15, np.nan, 0.25],
    })
    rows = pd.DataFrame({"customer_id": ["c2", "c1", "c3", "c1"],
                         "as_of": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-01-31",
                                                  "2024-01-31"])})
    out = truth_on_rows(rows, truth)
    assert out["oracle"].tolist()[:2] == [0.3, 0.2]
    assert out["oracle"].tolist()[3] == 0.1
    assert np.isnan(out["oracle"][2])
    assert out["yardstick"].isna().tolist() == [False, True, True, False]
    # a truth without the yardstick column (an older generator) gives NaN, not an error
    older = truth_on_rows(rows, truth.drop(columns="pd_12m_application"))
    assert older["yardstick"].isna().all()
