"""Metrics of probability forecasts: agree with scikit-learn and with hand computations,
survive single-class test sets, reject bad inputs with the bad value named."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy.stats import ks_2samp
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from creditrisk.training.evaluation import (
    EvaluationError,
    band_table,
    binary_metrics,
    bootstrap_auc_interval,
    calibration_table,
    compare_to_oracle,
    events_shortfall,
    expected_calibration_error,
    interval_metrics,
    ks_statistic,
    mae_baseline,
    not_enough_events,
    segment_metrics,
)
from creditrisk.training.plots import (
    calibration_figure,
    feature_importance_figure,
    gains_figure,
    roc_figure,
    score_distribution_figure,
)


@pytest.fixture
def forecast() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    p = rng.beta(1, 12, size=2_000)
    y = (rng.random(2_000) < p).astype(np.int64)
    return y, p


def test_binary_metrics_agree_with_sklearn(forecast: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = forecast
    m = binary_metrics(y, p)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["gini"] == pytest.approx(2 * roc_auc_score(y, p) - 1)
    assert m["pr_auc"] == pytest.approx(average_precision_score(y, p))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))
    assert m["log_loss"] == pytest.approx(log_loss(y, p))
    assert m["n"] == 2_000
    assert m["positive_rate"] == pytest.approx(y.mean())
    assert m["mean_predicted"] == pytest.approx(p.mean())


def test_ks_by_hand_on_four_rows() -> None:
    """Positives score {0.35, 0.8}, negatives {0.1, 0.4}: at threshold 0.8 TPR=0.5, FPR=0,
    at 0.35 TPR=1, FPR=0.5, so the largest gap is 0.5."""
    assert ks_statistic([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.5)
    assert ks_statistic([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.8]) == pytest.approx(1.0)


def test_ks_is_the_two_sample_statistic(forecast: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = forecast
    expected = ks_2samp(p[y == 1], p[y == 0]).statistic
    assert ks_statistic(y, p) == pytest.approx(expected)


def test_ece_on_a_constructed_example() -> None:
    """Two equal-frequency bins: {0.1, 0.1} with outcomes {0, 1} is off by |0.1 - 0.5| = 0.4,
    {0.3, 0.3} with {0, 0} by 0.3; each bin holds half the rows, so ECE = 0.35."""
    y = [0, 1, 0, 0]
    p = [0.1, 0.1, 0.3, 0.3]
    assert expected_calibration_error(y, p, bins=2) == pytest.approx(0.35)
    assert binary_metrics(y, p, ece_bins=2)["ece"] == pytest.approx(0.35)


def test_ece_is_zero_when_each_bin_is_calibrated() -> None:
    y = [0, 0, 0, 1, 1, 1, 0, 1]
    p = [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75]
    assert expected_calibration_error(y, p, bins=2) == pytest.approx(0.0)


def test_calibration_bins_hold_equal_numbers_of_rows(
    forecast: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p = forecast
    table = calibration_table(y, p, bins=10)
    assert table["n"].tolist() == [200] * 10
    assert table["mean_predicted"].is_monotonic_increasing
    assert (table["p_min"] <= table["p_max"]).all()


def test_single_class_gives_nan_ranking_metrics_without_crash() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = binary_metrics([0, 0, 0, 0], [0.1, 0.2, 0.3, 0.05])
    for key in ("roc_auc", "gini", "ks", "pr_auc"):
        assert math.isnan(m[key]), key
    assert m["brier"] == pytest.approx(np.mean(np.square([0.1, 0.2, 0.3, 0.05])))
    assert math.isfinite(m["log_loss"])
    assert math.isfinite(m["ece"])
    assert m["positive_rate"] == 0.0


def test_no_rows_gives_nan_metrics_and_zero_count() -> None:
    m = binary_metrics([], [])
    assert m["n"] == 0
    assert math.isnan(m["roc_auc"])
    assert math.isnan(m["brier"])


@pytest.mark.parametrize(
    ("y", "p", "message"),
    [
        ([0, 2, 1], [0.1, 0.2, 0.3], "row 1 is 2.0"),
        ([0, 1, 1], [0.1, 1.2, 0.3], "row 1 is 1.2"),
        ([0, 1, 1], [0.1, np.nan, 0.3], "row 1 is nan"),
        ([0, 1, 1], [0.1, 0.2], "has 2 rows but y_true has 3"),
    ],
)
def test_bad_inputs_are_rejected_naming_the_value(y: list, p: list, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        binary_metrics(y, p)


def test_band_table_observed_versus_predicted_in_master_scale_order() -> None:
    grades = pd.Categorical(
        ["B", "A", "B", "C", "A", "B"], categories=["A", "B", "C", "D"], ordered=True
    )
    y = [0, 0, 1, 1, 0, 0]
    p = [0.2, 0.05, 0.3, 0.6, 0.15, 0.1]
    table = band_table(y, p, grades)
    assert table["grade"].astype(str).tolist() == ["A", "B", "C"]  # empty grade D left out
    assert table["n"].tolist() == [2, 3, 1]
    assert table["events"].tolist() == [0, 1, 1]
    assert table["observed_rate"].tolist() == pytest.approx([0.0, 1 / 3, 1.0])
    assert table["mean_predicted"].tolist() == pytest.approx([0.1, 0.2, 0.6])
    assert table["predicted_events"].tolist() == pytest.approx([0.2, 0.6, 0.6])


def test_band_table_without_categories_sorts_by_predicted_risk() -> None:
    table = band_table([0, 1, 0, 1], [0.9, 0.8, 0.1, 0.2], ["high", "high", "low", "low"])
    assert table["grade"].tolist() == ["low", "high"]


def test_interval_metrics_by_hand() -> None:
    actual = [0, 10, -2, 30]
    q10 = [-1, 0, 0, 5]
    q50 = [1, 5, 1, 10]
    q90 = [3, 12, 4, 20]
    m = interval_metrics(actual, q10, q50, q90)
    assert m["mae_days"] == pytest.approx((1 + 5 + 3 + 20) / 4)
    assert m["coverage"] == pytest.approx(0.5)  # 0 in [-1,3], 10 in [0,12]; -2 and 30 outside
    assert m["mean_interval_width_days"] == pytest.approx((4 + 12 + 4 + 15) / 4)
    assert m["quantile_crossing_rate"] == 0.0
    assert m["n"] == 4


def test_mae_of_the_constant_baseline() -> None:
    assert mae_baseline([0, 10, -2, 30], 5.0) == pytest.approx((5 + 5 + 7 + 25) / 4)


def test_oracle_gaps_are_positive_when_the_model_is_worse(
    forecast: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p_true = forecast
    noisy = np.clip(p_true + np.random.default_rng(1).normal(0, 0.05, len(p_true)), 0, 1)
    out = compare_to_oracle(y, noisy, p_true)
    assert out["oracle_roc_auc"] == pytest.approx(roc_auc_score(y, p_true))
    assert out["roc_auc_gap"] == pytest.approx(out["oracle_roc_auc"] - out["model_roc_auc"])
    assert out["roc_auc_gap"] > 0
    assert out["brier_gap"] == pytest.approx(out["model_brier"] - out["oracle_brier"])
    assert out["brier_gap"] > 0
    same = compare_to_oracle(y, p_true, p_true)
    assert same["roc_auc_gap"] == 0
    assert same["ece_gap"] == 0


def test_segment_metrics_prefix_each_segment(forecast: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = forecast
    applicants = np.arange(len(y)) % 4 == 0
    out = segment_metrics(y, p, {"applicants": applicants, "existing": ~applicants})
    assert out["applicants_n"] == applicants.sum()
    assert out["existing_roc_auc"] == pytest.approx(roc_auc_score(y[~applicants], p[~applicants]))
    with pytest.raises(EvaluationError, match="boolean mask"):
        segment_metrics(y, p, {"applicants": applicants.astype(int)})


def test_plots_return_figures_with_one_curve_per_series(
    forecast: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p = forecast
    series = {"model": (y, p), "flat": (y, np.full(len(y), 0.07))}
    roc = roc_figure(series)
    assert isinstance(roc, Figure)
    assert len(roc.axes[0].lines) == 3  # the random diagonal + two series
    assert len(gains_figure(series).axes[0].lines) == 3
    calibration = calibration_figure(series, bins=10)
    assert len(calibration.axes) == 2  # reliability + row counts
    assert len(score_distribution_figure(y, p).axes[0].patches) > 0


def test_feature_importance_shows_the_top_25_largest_first() -> None:
    names = [f"feature_{i:02d}" for i in range(40)]
    gains = np.arange(40, dtype=float)
    figure = feature_importance_figure(names, gains)
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert len(labels) == 25
    assert labels[-1] == "feature_39"  # barh draws bottom-up: the largest gain is on top
    assert "feature_14" not in labels


def test_segment_with_too_few_events_reports_count_not_a_number() -> None:
    """A metric on fewer than 20 events is noise: only n and events are reported."""
    rng = np.random.default_rng(5)
    y = np.zeros(400)
    y[:19] = 1  # 19 events in the applicants segment
    y[200:260] = 1
    p = rng.uniform(0.01, 0.5, len(y))
    applicants = np.arange(len(y)) < 200
    out = segment_metrics(y, p, {"applicants": applicants, "existing": ~applicants})
    assert out["applicants_events"] == 19
    assert "applicants_roc_auc" not in out
    assert events_shortfall(out, "applicants_roc_auc") == 19
    assert not_enough_events(19) == "not enough events (19)"
    assert "existing_roc_auc" in out
    assert events_shortfall(out, "existing_roc_auc") is None


def test_bootstrap_interval_is_seeded_and_brackets_the_auc(
    forecast: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p = forecast
    low, high = bootstrap_auc_interval(y, p, resamples=200, seed=3)
    assert (low, high) == bootstrap_auc_interval(y, p, resamples=200, seed=3)
    auc = roc_auc_score(y, p)
    assert low < auc < high
    assert high - low < 0.2
    # the vectorised rank AUC equals sklearn's on one resample (ties averaged)
    tied = np.round(p, 1)
    one = bootstrap_auc_interval(y, tied, resamples=1, seed=0, level=0.0)
    index = np.random.default_rng(0).integers(0, len(y), size=(1, len(y)))[0]
    assert one[0] == pytest.approx(roc_auc_score(y[index], tied[index]))
