"""Fit the default and late-payment models on out-of-time splits and evaluate them.

Pure computation (no MLflow): :mod:`training.pipeline` logs what these return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from creditrisk.features.catalog import dimension_names
from creditrisk.ledger.frame import Ledger
from creditrisk.models.estimators import BoostedClassifier, QuantileRegressors
from creditrisk.models.scorecard import WoeScorecard
from creditrisk.models.spec import FeatureSpec
from creditrisk.training.boosting_rounds import customer_folds, default_model_params, scaled_rounds
from creditrisk.training.boosting_rounds import (  # re-exported: open_invoices and tests use them
    early_stopping_rows as early_stopping_rows,
)
from creditrisk.training.boosting_rounds import refit_rounds as refit_rounds
from creditrisk.training.config import DefaultModelConfig, LateModelConfig
from creditrisk.training.datasets import SnapshotSet, attach_late_labels
from creditrisk.training.errors import TrainingError
from creditrisk.training.evaluation import (
    binary_metrics,
    compare_to_oracle,
    interval_metrics,
    mae_baseline,
    segment_metrics,
    with_prefix,
)
from creditrisk.training.expected_auc import expected_auc_gap
from creditrisk.training.split import (
    CALIBRATION,
    TEST,
    TRAIN,
    OutOfTimeSplit,
    plan_invoice_split,
    plan_snapshot_split,
)

BoostingProgress = Callable[[str, int], Callable[[Any], None]]
"""(what is fitted, boosting rounds) -> a LightGBM callback reporting each round."""


def _report(
    what: str, rounds: int, boosting: BoostingProgress | None
) -> list[Callable[[Any], None]]:
    """The progress callback for one fit (none without a ``boosting`` reporter)."""
    return [boosting(what, rounds)] if boosting is not None else []


class TrainingDataError(TrainingError, ValueError):
    """A split holds too few rows or a single class (names the split and counts)."""


def _require_classes(y: np.ndarray, split: str) -> None:
    if len(y) == 0 or len(np.unique(y)) < 2:
        raise TrainingDataError(
            f"{split} split has {len(y)} rows and {int(np.sum(y))} events: need both outcomes"
        )


@dataclass
class DefaultFit:
    spec: FeatureSpec
    model: BoostedClassifier | WoeScorecard
    baseline: WoeScorecard | None
    split: OutOfTimeSplit
    roles: np.ndarray
    metrics: dict[str, float]
    test: pd.DataFrame
    """Test rows: customer_id, as_of, y_true, score, baseline_score, oracle (if any), features."""
    row_counts: dict[str, int] = field(default_factory=dict)
    label_rates: dict[str, float] = field(default_factory=dict)


def customer_truth(oracle: pd.DataFrame) -> pd.DataFrame:
    """The generator's truth as customer_id (string), as_of (datetime64[ns]), oracle."""
    truth = oracle.rename(columns={"month_end": "as_of", "pd_12m": "oracle"})
    return truth[["customer_id", "as_of", "oracle"]].assign(
        customer_id=lambda d: d["customer_id"].astype("string"),
        as_of=lambda d: pd.to_datetime(d["as_of"]).astype("datetime64[ns]"),
    )


def oot_applicant_rows(frame: pd.DataFrame, roles: np.ndarray) -> np.ndarray:
    """Every out-of-time onboarding snapshot: the applicant rows of the whole holdout
    (calibration and test), all dated a label window or more after the training cut."""
    holdout = (roles == CALIBRATION) | (roles == TEST)
    return np.asarray(holdout & frame["is_applicant"].to_numpy(dtype=bool))


def applicant_holdout_metrics(
    rows: pd.DataFrame,
    y_rows: np.ndarray,
    score_rows: np.ndarray,
    *,
    oracle: pd.DataFrame | None,
    min_events: int,
    seed: int,
) -> dict[str, float]:
    """Applicants judged on every out-of-time onboarding snapshot (``rows``, chosen by
    :func:`oot_applicant_rows`, with their outcomes and the model's PD).

    The test half alone holds a few defaults; the calibration half adds as many. Only ranking
    is measured here (ROC AUC, with its bootstrap interval and, given the generator's truth,
    the oracle's AUC on the same rows): the calibrator fitted on the calibration half is an
    increasing map, so it leaves every row's rank, and the AUC, as the trained model made it.
    Keys ``default_oot_applicants_*`` (n, events, roc_auc[_low/_high], model_roc_auc,
    oracle_roc_auc, roc_auc_gap).
    """
    out = with_prefix(
        segment_metrics(y_rows, score_rows, {"oot_applicants": np.ones(len(y_rows), bool)},
                        min_events=min_events, seed=seed),
        "default",
    )
    if oracle is None or len(np.unique(y_rows)) < 2:
        return out
    keys = rows[["customer_id", "as_of"]].assign(
        customer_id=lambda d: d["customer_id"].astype("string"),
        as_of=lambda d: pd.to_datetime(d["as_of"]).astype("datetime64[ns]"),
    )
    truth = keys.merge(customer_truth(oracle), on=["customer_id", "as_of"], how="left")
    has = truth["oracle"].notna().to_numpy()
    if len(np.unique(y_rows[has])) == 2:
        compared = compare_to_oracle(y_rows[has], score_rows[has],
                                     truth.loc[has, "oracle"].to_numpy())
        out |= with_prefix(compared, "default_oot_applicants")
    return out


def fit_default_model(
    snapshots: SnapshotSet,
    *,
    config: DefaultModelConfig,
    model_kind: str,
    seed: int,
    oracle: pd.DataFrame | None = None,
    boosting: BoostingProgress | None = None,
) -> DefaultFit:
    """Train on old months, early-stop on the latest training months, calibrate and test on
    the holdout (a label window later). ``oracle``: customer_id, as_of, pd_12m (truth).
    ``boosting``: (what, rounds) -> a LightGBM callback reporting each round (progress)."""
    frame = snapshots.frame
    month_end_dates = frame.loc[frame["as_of"].dt.is_month_end, "as_of"]
    split = plan_snapshot_split(
        month_end_dates, horizon_days=snapshots.horizon_days,
        holdout_periods=config.holdout_months,
    )
    roles = split.assign(frame["as_of"], frame["customer_id"])
    spec = FeatureSpec.from_catalog("customer").with_levels_from(frame[roles == TRAIN])
    X = spec.encode(frame)
    y = frame["default_12m"].to_numpy(dtype=np.int8)
    train = roles == TRAIN
    folds = customer_folds(frame, train, train_end=split.train_end,
                           valid_months=config.valid_months, folds=config.round_folds)
    in_valid, fit_rows = (None, train) if folds else early_stopping_rows(
        frame, train, train_end=split.train_end, valid_months=config.valid_months,
        valid_customer_share=config.valid_customer_share,
    )
    for name, mask in ((TRAIN, fit_rows), (CALIBRATION, roles == CALIBRATION),
                       (TEST, roles == TEST)):
        _require_classes(y[mask], name)

    def make_lightgbm(rows: float, rounds: int = config.num_boost_round) -> BoostedClassifier:
        return BoostedClassifier(spec, params=default_model_params(config, fit_rows=rows),
                                 num_boost_round=rounds, seed=seed)

    baseline = WoeScorecard(spec, C=config.scorecard_c, min_iv=config.scorecard_min_iv,
                            seed=seed).fit(X[train], y[train])
    baseline.calibrate(X[roles == CALIBRATION], y[roles == CALIBRATION], config.calibration)
    model: BoostedClassifier | WoeScorecard
    if model_kind == "scorecard":
        model = baseline
    elif folds:
        fold_rows = float(np.mean([f.sum() for f, _ in folds]))
        chosen = make_lightgbm(fold_rows).cross_validate_rounds(
            X[train], y[train], [(np.flatnonzero(f[train]), np.flatnonzero(v[train]))
                                 for f, v in folds],
            callbacks=_report("default model (rounds by customer folds)",
                              config.num_boost_round, boosting),
        )
        rounds = scaled_rounds(chosen, fitted_rows=fold_rows, all_rows=int(train.sum()))
        booster = make_lightgbm(int(train.sum()), rounds)
        booster.fit(X[train], y[train], callbacks=_report("default model", rounds, boosting))
        booster.calibrate(X[roles == CALIBRATION], y[roles == CALIBRATION], config.calibration)
        model = booster
    else:
        booster = make_lightgbm(int(fit_rows.sum()))
        booster.fit(
            X[fit_rows], y[fit_rows],
            X_valid=X[in_valid] if in_valid is not None else None,
            y_valid=y[in_valid] if in_valid is not None else None,
            callbacks=_report("default model (early stopping)", config.num_boost_round,
                              boosting),
        )
        if config.refit_all_training and in_valid is not None:
            rounds = refit_rounds(booster, fitted_rows=int(fit_rows.sum()),
                                  all_rows=int(train.sum()))
            booster = make_lightgbm(int(train.sum()), rounds)
            booster.fit(X[train], y[train],
                        callbacks=_report("default model (refit)", rounds, boosting))
        booster.calibrate(X[roles == CALIBRATION], y[roles == CALIBRATION], config.calibration)
        model = booster

    test_mask = roles == TEST
    test = frame.loc[test_mask].reset_index(drop=True)
    score = model.predict_proba(X[test_mask])
    base_score = baseline.predict_proba(X[test_mask])
    y_test = y[test_mask]
    metrics = with_prefix(binary_metrics(y_test, score), "default_test")
    metrics |= with_prefix(binary_metrics(y_test, base_score), "default_test_scorecard")
    applicants = test["is_applicant"].to_numpy(dtype=bool)
    segments = {"applicants": applicants, "existing": ~applicants}
    metrics |= with_prefix(
        segment_metrics(y_test, score, segments, min_events=config.min_segment_events,
                        seed=seed),
        "default_test",
    )
    metrics |= with_prefix(
        segment_metrics(y_test, base_score, segments, min_events=config.min_segment_events,
                        seed=seed),
        "default_test_scorecard",
    )
    evaluation = pd.DataFrame(
        {
            "row_id": np.arange(len(test)),
            "customer_id": test["customer_id"].astype("string").to_numpy(),
            "as_of": test["as_of"].to_numpy(),
            "y_true": y_test,
            "score": score,
            "baseline_score": base_score,
            "is_applicant": applicants,
        }
    )
    if oracle is not None:
        evaluation = evaluation.merge(customer_truth(oracle), on=["customer_id", "as_of"],
                                      how="left")
        has = evaluation["oracle"].notna().to_numpy()
        if has.any():
            oracle_metrics = compare_to_oracle(
                y_test[has], score[has], evaluation.loc[has, "oracle"].to_numpy()
            )
            metrics |= with_prefix(oracle_metrics, "default_test")
            metrics |= with_prefix(
                expected_auc_gap(score[has], evaluation.loc[has, "oracle"].to_numpy()),
                "default_test",
            )
    oot = oot_applicant_rows(frame, roles)
    metrics |= applicant_holdout_metrics(frame.loc[oot], y[oot], model.predict_proba(X[oot]),
                                         oracle=oracle, min_events=config.min_segment_events,
                                         seed=seed)
    for name in spec.names:
        evaluation[name] = test[name].to_numpy()
    counts = {r: int((roles == r).sum()) for r in (TRAIN, CALIBRATION, TEST)}
    rates = {r: float(y[roles == r].mean()) for r in (TRAIN, CALIBRATION, TEST)}
    return DefaultFit(spec, model, baseline if model_kind != "scorecard" else None, split,
                      roles, metrics, evaluation, counts, rates)


@dataclass
class LateFit:
    spec: FeatureSpec
    model: BoostedClassifier
    days_model: QuantileRegressors
    split: OutOfTimeSplit
    metrics: dict[str, float]
    test: pd.DataFrame
    row_counts: dict[str, int] = field(default_factory=dict)
    label_rates: dict[str, float] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)


def fit_late_model(
    ledger: Ledger,
    invoice_features: pd.DataFrame,
    *,
    data_end: pd.Timestamp,
    config: LateModelConfig,
    seed: int,
    oracle: pd.DataFrame | None = None,
    boosting: BoostingProgress | None = None,
) -> LateFit:
    """Train on invoices issued before the cut (labels censored at the cut), calibrate and
    test on later invoices, split by customer. ``oracle``: invoice_id, p_late (truth)."""
    split = plan_invoice_split(invoice_features["issue_date"], data_end=data_end,
                               holdout_share=config.holdout_share)
    roles = split.assign(invoice_features["issue_date"], invoice_features["customer_id"])
    train = attach_late_labels(invoice_features[roles == TRAIN], ledger,
                               cutoff=split.train_end, grace_days=config.grace_days)
    holdout = attach_late_labels(invoice_features[roles != TRAIN], ledger,
                                 cutoff=data_end, grace_days=config.grace_days)
    holdout_roles = split.assign(holdout["issue_date"], holdout["customer_id"])
    calib = holdout[holdout_roles == CALIBRATION].reset_index(drop=True)
    test = holdout[holdout_roles == TEST].reset_index(drop=True)
    for name, part in ((TRAIN, train), (CALIBRATION, calib), (TEST, test)):
        _require_classes(part["late"].to_numpy(), f"late-payment {name}")

    spec = FeatureSpec.from_catalog("invoice", dimensions=dimension_names(train.columns))
    spec = spec.with_levels_from(train)
    X_train = spec.encode(train)
    y_train = train["late"].to_numpy()
    # early stopping on the latest 15 % of the training invoices (time-ordered)
    order = np.argsort(train["issue_date"].to_numpy(), kind="stable")
    n_valid = max(1, int(0.15 * len(order)))
    fit_idx, valid_idx = order[:-n_valid], order[-n_valid:]
    model = BoostedClassifier(spec, params=dict(config.lgbm_params),
                              num_boost_round=config.num_boost_round, seed=seed)
    model.fit(X_train[fit_idx], y_train[fit_idx], X_valid=X_train[valid_idx],
              y_valid=y_train[valid_idx],
              callbacks=_report("late-payment model", config.num_boost_round, boosting))
    model.calibrate(spec.encode(calib), calib["late"].to_numpy(), config.calibration)

    settled = train["days_beyond_terms"].notna().to_numpy()
    # 150 rounds at learning rate 0.2: the pinball loss of 300 rounds at 0.08 (config)
    days_model = QuantileRegressors(
        spec, params={**config.lgbm_params, "learning_rate": config.quantile_learning_rate},
        num_boost_round=config.quantile_rounds, seed=seed)
    days_model.fit(X_train[settled], train.loc[settled, "days_beyond_terms"].to_numpy(),
                   callbacks=_report("days-late quantiles (p10, p50, p90)",
                                     config.quantile_rounds * len(days_model.alphas), boosting))

    X_test = spec.encode(test)
    y_test = test["late"].to_numpy()
    score = model.predict_proba(X_test)
    metrics = with_prefix(binary_metrics(y_test, score), "late_test")
    prior = test["prior_late_share"].to_numpy(dtype=np.float64)
    naive = np.where(np.isnan(prior), float(np.mean(y_train)), prior)
    metrics["late_test_naive_prior_share_roc_auc"] = binary_metrics(y_test, naive)["roc_auc"]

    q = days_model.predict(X_test)
    known_days = test["days_beyond_terms"].notna().to_numpy()
    days_true = test.loc[known_days, "days_beyond_terms"].to_numpy()
    qk = q[known_days]
    metrics |= with_prefix(interval_metrics(days_true, qk[:, 0], qk[:, 1], qk[:, 2]),
                           "late_test_days")
    days_late_true = np.maximum(days_true, 0)
    days_late_pred = np.maximum(qk[:, 1], 0)
    train_days = train.loc[settled, "days_beyond_terms"].to_numpy()
    metrics["late_test_days_late_mae"] = float(np.mean(np.abs(days_late_pred - days_late_true)))
    metrics["late_test_days_late_mae_mean_baseline"] = mae_baseline(
        days_late_true, float(np.mean(np.maximum(train_days, 0)))
    )
    evaluation = pd.DataFrame(
        {
            "row_id": np.arange(len(test)),
            "invoice_id": test["invoice_id"].astype("string").to_numpy(),
            "customer_id": test["customer_id"].astype("string").to_numpy(),
            "as_of": test["issue_date"].to_numpy(),
            "y_true": y_test,
            "score": score,
            "naive_prior_share": naive,
            "days_beyond_terms": test["days_beyond_terms"].to_numpy(),
            "days_p10": q[:, 0],
            "days_p50": q[:, 1],
            "days_p90": q[:, 2],
        }
    )
    if oracle is not None:
        truth = oracle[["invoice_id", "p_late"]].rename(columns={"p_late": "oracle"})
        truth = truth.assign(invoice_id=truth["invoice_id"].astype("string"))
        evaluation = evaluation.merge(truth, on="invoice_id", how="left")
        has = evaluation["oracle"].notna().to_numpy()
        if has.any():
            metrics |= with_prefix(
                compare_to_oracle(y_test[has], score[has],
                                  evaluation.loc[has, "oracle"].to_numpy()),
                "late_test",
            )
    counts = {TRAIN: len(train), CALIBRATION: len(calib), TEST: len(test)}
    rates = {TRAIN: float(y_train.mean()), CALIBRATION: float(calib["late"].mean()),
             TEST: float(y_test.mean())}
    return LateFit(spec, model, days_model, split, metrics, evaluation, counts, rates)
