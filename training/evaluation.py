"""How good a model's probabilities are: discrimination, calibration, per-grade default rates,
days-late errors, and the gap to the generator's true probabilities (the oracle).

Pure functions: numpy arrays in, plain dicts of floats or small DataFrames out. Nothing here
knows about MLflow or about how a model was fitted, so the same code scores a training run,
a comparison between runs, and the promotion gate.

Conventions
- ``y_true`` is the observed outcome, 1 = the event happened (default, invoice paid late),
  0 = it did not. ``p`` is the predicted probability of the event, in [0, 1].
- Expected calibration error (ECE) uses *equal-frequency* bins: rows are sorted by ``p``
  (stable sort) and cut into ``bins`` groups of (nearly) equal size, so that the few risky
  rows of a low-default portfolio are not all lumped into one equal-width bin. ECE is the
  row-weighted mean over bins of ``|mean predicted - observed rate|``. Default 10 bins.
- Metrics that rank positives against negatives (ROC AUC, Gini, KS, PR AUC) are undefined
  when the outcome has a single class; they come back as NaN instead of raising.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
    roc_curve,
)

from creditrisk.training.errors import TrainingError

DEFAULT_ECE_BINS = 10
MIN_EVENTS = 20
"""A metric on fewer events than this is noise: reported as "not enough events (n)"."""
BOOTSTRAP_RESAMPLES = 200

# Metric name -> True when a higher value is better. Used for gaps (positive = model worse).
HIGHER_IS_BETTER: dict[str, bool] = {
    "roc_auc": True,
    "gini": True,
    "ks": True,
    "pr_auc": True,
    "brier": False,
    "log_loss": False,
    "ece": False,
}

FloatArray = npt.NDArray[np.float64]


class EvaluationError(TrainingError, ValueError):
    """Inputs that cannot be evaluated (bad labels, probabilities out of range, length mismatch)."""


def outcome_array(y_true: Any, *, name: str = "y_true") -> FloatArray:
    """Observed outcomes as a float 0/1 array; raises on anything but 0, 1 (or booleans)."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise EvaluationError(f"{name} must be 0 or 1; row {first} is {float(y[first])}")
    return y


def probability_array(p: Any, *, name: str = "p", length: int | None = None) -> FloatArray:
    """Predicted probabilities as a float array; raises on NaN or values outside [0, 1]."""
    values = np.asarray(p, dtype=np.float64).ravel()
    bad = ~((values >= 0.0) & (values <= 1.0))  # also catches NaN
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise EvaluationError(
            f"{name} must be a probability in [0, 1]; row {first} is {float(values[first])}"
        )
    if length is not None and len(values) != length:
        raise EvaluationError(f"{name} has {len(values)} rows but y_true has {length}")
    return values


def _finite_array(values: Any, *, name: str, length: int | None = None) -> FloatArray:
    array = np.asarray(values, dtype=np.float64).ravel()
    bad = ~np.isfinite(array)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise EvaluationError(f"{name} must be finite; row {first} is {float(array[first])}")
    if length is not None and len(array) != length:
        raise EvaluationError(f"{name} has {len(array)} rows but the first input has {length}")
    return array


def equal_frequency_bin(p: FloatArray, bins: int) -> npt.NDArray[np.int64]:
    """Bin index 0..bins-1 of each row: rows sorted by ``p`` (stable) cut into equal-size groups."""
    if bins < 1:
        raise EvaluationError(f"bins must be at least 1, got {bins}")
    n = len(p)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(p, kind="stable")] = np.arange(n)
    return np.minimum(rank * bins // max(n, 1), bins - 1).astype(np.int64)


def calibration_table(y_true: Any, p: Any, bins: int = DEFAULT_ECE_BINS) -> pd.DataFrame:
    """Reliability table: per equal-frequency bin of predicted probability, the number of rows,
    the probability range, the mean predicted probability and the observed event rate.

    Columns: bin, n, p_min, p_max, mean_predicted, observed_rate, abs_gap. Empty bins (fewer
    rows than bins) are dropped.
    """
    y = outcome_array(y_true)
    prob = probability_array(p, length=len(y))
    bin_index = equal_frequency_bin(prob, bins)
    return _bin_table(bin_index, y, prob)


def _bin_table(bin_index: np.ndarray, y: np.ndarray, prob: np.ndarray) -> pd.DataFrame:
    """Calibration table of non-empty bins: n, p range, mean predicted, observed, gap."""
    frame = pd.DataFrame({"bin": bin_index, "y": y, "p": prob})
    table = frame.groupby("bin", sort=True).agg(
        n=("y", "size"),
        p_min=("p", "min"),
        p_max=("p", "max"),
        mean_predicted=("p", "mean"),
        observed_rate=("y", "mean"),
    )
    table["abs_gap"] = (table["mean_predicted"] - table["observed_rate"]).abs()
    return table.reset_index()


TAIL_PD_FLOOR = 1e-4
"""Probabilities below one in ten thousand share the first calibration range: no master
scale grades finer than that, and bins spent there would leave the tail unresolved."""


def tail_resolving_edges(p: Any, bins: int = DEFAULT_ECE_BINS) -> FloatArray:
    """Bin edges for a reliability diagram that resolves the tail: ``bins`` ranges equally
    wide on the log-odds scale between the 1st percentile (at least :data:`TAIL_PD_FLOOR`) and
    the largest predicted probability (the first range reaches down to the smallest).
    Equal-frequency bins put every rare high PD (the worst grades) into one last bin; these
    give the tail its own points, each with however few rows it has."""
    prob = probability_array(p)
    if bins < 1:
        raise EvaluationError(f"bins must be at least 1, got {bins}")
    if len(prob) == 0:
        return np.array([0.0, 1.0])
    eps = 1e-6
    low = max(float(np.quantile(prob, 0.01)), TAIL_PD_FLOOR)
    low, high = np.clip([low, prob.max()], eps, 1 - eps)
    if high <= low:
        return np.array([float(prob.min()), float(prob.max())])
    logit = np.linspace(np.log(low / (1 - low)), np.log(high / (1 - high)), bins + 1)
    edges = 1.0 / (1.0 + np.exp(-logit))
    edges[0], edges[-1] = float(prob.min()), float(prob.max())
    return np.asarray(edges, dtype=np.float64)


def calibration_table_by_edges(y_true: Any, p: Any, edges: Any) -> pd.DataFrame:
    """Reliability table over fixed probability ranges (``edges``, ascending; the last range
    includes its upper edge), for example :func:`tail_resolving_edges` or the master scale's
    PD edges. Same columns as :func:`calibration_table`; empty ranges are dropped."""
    y = outcome_array(y_true)
    prob = probability_array(p, length=len(y))
    bounds = np.asarray(edges, dtype=np.float64)
    if bounds.ndim != 1 or len(bounds) < 2 or np.any(np.diff(bounds) < 0):
        raise EvaluationError("edges must be at least two ascending probabilities")
    bin_index = np.clip(np.searchsorted(bounds, prob, side="right") - 1, 0, len(bounds) - 2)
    return _bin_table(bin_index, y, prob)


def expected_calibration_error(y_true: Any, p: Any, bins: int = DEFAULT_ECE_BINS) -> float:
    """Row-weighted mean |mean predicted - observed rate| over equal-frequency bins."""
    table = calibration_table(y_true, p, bins)
    total = float(table["n"].sum())
    if total == 0:
        return float("nan")
    return float((table["n"] * table["abs_gap"]).sum() / total)


def ks_statistic(y_true: Any, score: Any) -> float:
    """Kolmogorov-Smirnov: the largest distance between the score distributions of events and
    non-events, i.e. max |TPR - FPR| over all thresholds. NaN when y has a single class."""
    y = outcome_array(y_true)
    s = _finite_array(score, name="score", length=len(y))
    if len(np.unique(y)) < 2:
        return float("nan")
    fpr, tpr, _ = roc_curve(y, s)
    return float(np.max(np.abs(tpr - fpr)))


def binary_metrics(y_true: Any, p: Any, *, ece_bins: int = DEFAULT_ECE_BINS) -> dict[str, float]:
    """All metrics of a probability forecast of a yes/no outcome.

    Keys: roc_auc, gini (2*AUC-1), ks, pr_auc (average precision), brier, log_loss, ece
    (equal-frequency bins, ``ece_bins``), n, positive_rate, mean_predicted. With a single
    outcome class the ranking metrics are NaN; with no rows everything but n is NaN.
    """
    y = outcome_array(y_true)
    prob = probability_array(p, length=len(y))
    n = len(y)
    nan = float("nan")
    if n == 0:
        return dict.fromkeys(HIGHER_IS_BETTER, nan) | {
            "n": 0.0,
            "positive_rate": nan,
            "mean_predicted": nan,
        }
    two_classes = len(np.unique(y)) == 2
    roc_auc = float(roc_auc_score(y, prob)) if two_classes else nan
    return {
        "roc_auc": roc_auc,
        "gini": 2.0 * roc_auc - 1.0,
        "ks": ks_statistic(y, prob),
        "pr_auc": float(average_precision_score(y, prob)) if two_classes else nan,
        "brier": float(brier_score_loss(y, prob, pos_label=1)),
        "log_loss": float(log_loss(y, prob, labels=[0.0, 1.0])),
        "ece": expected_calibration_error(y, prob, ece_bins),
        "n": float(n),
        "positive_rate": float(y.mean()),
        "mean_predicted": float(prob.mean()),
    }


def band_table(y_true: Any, p: Any, grades: Any) -> pd.DataFrame:
    """Observed versus predicted default rate per risk band (grade).

    Columns: grade, n, events, observed_rate, mean_predicted, predicted_events. Rows follow the
    categorical order when ``grades`` is categorical (the master scale), else ascending mean
    predicted probability. Grades with no rows are left out.
    """
    y = outcome_array(y_true)
    prob = probability_array(p, length=len(y))
    grade = pd.Series(grades).reset_index(drop=True)
    if len(grade) != len(y):
        raise EvaluationError(f"grades has {len(grade)} rows but y_true has {len(y)}")
    frame = pd.DataFrame({"grade": grade, "y": y, "p": prob})
    table = frame.groupby("grade", sort=True, observed=True).agg(
        n=("y", "size"),
        events=("y", "sum"),
        observed_rate=("y", "mean"),
        mean_predicted=("p", "mean"),
    )
    table["predicted_events"] = frame.groupby("grade", sort=True, observed=True)["p"].sum()
    if not isinstance(grade.dtype, pd.CategoricalDtype):
        table = table.sort_values("mean_predicted", kind="stable")
    return table.reset_index()


def interval_metrics(days_true: Any, q10: Any, q50: Any, q90: Any) -> dict[str, float]:
    """Quality of the payment-date forecast in days late.

    Keys: mae_days (|actual - p50|), coverage (share of actual days in [p10, p90]; 0.8 is the
    nominal value), mean_interval_width_days (p90 - p10), quantile_crossing_rate (share of rows
    where p10 > p50 or p50 > p90), n.
    """
    actual = _finite_array(days_true, name="days_true")
    n = len(actual)
    low = _finite_array(q10, name="q10", length=n)
    mid = _finite_array(q50, name="q50", length=n)
    high = _finite_array(q90, name="q90", length=n)
    if n == 0:
        nan = float("nan")
        return {
            "mae_days": nan,
            "coverage": nan,
            "mean_interval_width_days": nan,
            "quantile_crossing_rate": nan,
            "n": 0.0,
        }
    return {
        "mae_days": float(np.mean(np.abs(actual - mid))),
        "coverage": float(np.mean((actual >= low) & (actual <= high))),
        "mean_interval_width_days": float(np.mean(high - low)),
        "quantile_crossing_rate": float(np.mean((low > mid) | (mid > high))),
        "n": float(n),
    }


def mae_baseline(days_true: Any, baseline_value: float) -> float:
    """MAE in days of the naive forecast that predicts the same value (e.g. the mean delay of
    the training set) for every invoice: the bar the days-late model must beat."""
    actual = _finite_array(days_true, name="days_true")
    if len(actual) == 0:
        return float("nan")
    return float(np.mean(np.abs(actual - float(baseline_value))))


def compare_to_oracle(
    y_true: Any, p_model: Any, p_oracle: Any, *, ece_bins: int = DEFAULT_ECE_BINS
) -> dict[str, float]:
    """Metrics of the model and of the oracle (the generator's true probabilities) on the same
    rows, and the gap for each metric, signed so that a positive gap means the model is worse:
    ``roc_auc_gap = oracle roc_auc - model roc_auc``, ``ece_gap = model ece - oracle ece``.

    Keys: model_<metric>, oracle_<metric>, <metric>_gap for the metrics of binary_metrics.
    """
    model = binary_metrics(y_true, p_model, ece_bins=ece_bins)
    oracle = binary_metrics(y_true, p_oracle, ece_bins=ece_bins)
    out = with_prefix(model, "model") | with_prefix(oracle, "oracle")
    for metric, higher_is_better in HIGHER_IS_BETTER.items():
        gap = oracle[metric] - model[metric] if higher_is_better else model[metric] - oracle[metric]
        out[f"{metric}_gap"] = float(gap)
    return out


def bootstrap_auc_interval(
    y_true: Any,
    p: Any,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ROC AUC (seeded). A resample is a vector of draw
    counts per row; its AUC is the Mann-Whitney statistic with ties counted half, read off
    the scores' sorted distinct values once (O(n) per resample, no re-ranking: the same
    value as ranking the resampled rows, as roc_auc_score counts them). Resamples that draw
    a single class are skipped; NaN when the outcome has a single class."""
    y = outcome_array(y_true)
    prob = probability_array(p, length=len(y))
    if len(np.unique(y)) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(y), size=(resamples, len(y)))
    _, level_of_row = np.unique(prob, return_inverse=True)
    levels = int(level_of_row.max()) + 1
    positive = y.astype(np.float64)
    auc = np.full(resamples, np.nan)
    for r in range(resamples):
        drawn = np.bincount(index[r], minlength=len(y)).astype(np.float64)
        pos = np.bincount(level_of_row, weights=drawn * positive, minlength=levels)
        neg = np.bincount(level_of_row, weights=drawn * (1.0 - positive), minlength=levels)
        positives, negatives = pos.sum(), neg.sum()
        if positives > 0 and negatives > 0:
            below = np.cumsum(neg) - neg  # negatives scored strictly lower
            auc[r] = float(np.dot(pos, below + 0.5 * neg)) / (positives * negatives)
    valid = ~np.isnan(auc)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(auc[valid], [tail, 1.0 - tail])
    return float(low), float(high)


def not_enough_events(events: float) -> str:
    """How a metric on too few events is shown instead of a number."""
    return f"not enough events ({int(events)})"


def segment_metrics(
    y_true: Any,
    p: Any,
    segments: Mapping[str, Any],
    *,
    ece_bins: int = DEFAULT_ECE_BINS,
    min_events: int = MIN_EVENTS,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> dict[str, float]:
    """binary_metrics per segment, keys prefixed with the segment name, with the ROC AUC's
    bootstrap 95 % interval (``<segment>_roc_auc_low`` / ``_high``).

    ``segments`` maps a name to a boolean mask over the rows, for example
    ``{"applicants": no_history, "existing": ~no_history}`` gives applicants_roc_auc,
    existing_roc_auc, ... Every segment reports ``<segment>_n`` and ``<segment>_events``; a
    segment with fewer than ``min_events`` events reports nothing else (a metric on a
    handful of events is noise: shown as :func:`not_enough_events`).
    """
    y = outcome_array(y_true)
    prob = probability_array(p, length=len(y))
    out: dict[str, float] = {}
    for name, mask in segments.items():
        selected = np.asarray(mask)
        if selected.dtype != np.bool_ or selected.shape != y.shape:
            raise EvaluationError(
                f"segment {name!r} must be a boolean mask of {len(y)} rows, "
                f"got dtype {selected.dtype} shape {selected.shape}"
            )
        events = float(y[selected].sum())
        out[f"{name}_n"] = float(selected.sum())
        out[f"{name}_events"] = events
        if events < min_events:
            continue
        metrics = binary_metrics(y[selected], prob[selected], ece_bins=ece_bins)
        low, high = bootstrap_auc_interval(y[selected], prob[selected], resamples=resamples,
                                           seed=seed)
        out |= with_prefix(metrics | {"roc_auc_low": low, "roc_auc_high": high}, name)
    return out


def events_shortfall(metrics: Mapping[str, float], name: str) -> float | None:
    """The event count when metric ``name`` was left out for too few events, else None.

    ``name`` is a segment metric such as ``default_test_applicants_roc_auc``; the segment's
    ``..._events`` count is logged even when its metrics are not.
    """
    if name in metrics:
        return None
    for key, value in metrics.items():
        if key.endswith("_events") and name.startswith(key[: -len("events")]):
            return float(value)
    return None


def with_prefix(metrics: Mapping[str, float], prefix: str) -> dict[str, float]:
    """``{"roc_auc": x}`` -> ``{"<prefix>_roc_auc": x}``; an empty prefix keeps the keys."""
    if not prefix:
        return dict(metrics)
    return {f"{prefix}_{key}": value for key, value in metrics.items()}
