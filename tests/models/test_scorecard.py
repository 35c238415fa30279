"""The WoE scorecard: monotone in each declared direction, missing values in their own bin,
plain-array bins equal to optbinning's own transform, exact additive contributions."""

from __future__ import annotations

import numpy as np
import pytest
from optbinning import OptimalBinning

from creditrisk.models.scorecard import WoeScorecard, fit_bins
from creditrisk.models.spec import FeatureSpec

SPEC = FeatureSpec.from_features(
    ["riskier_when_high", "safer_when_high", "noise", "sector"],
    ["a", "b", "c", "d"],
    [1, -1, 0, 0],
    ["sector"],
)


def _data(n: int = 6_000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    noise = rng.normal(size=n)
    sector = rng.integers(0, 4, size=n).astype(np.float64)
    logit = -2.5 + 0.9 * x1 - 0.7 * x2 + 0.3 * (sector == 2)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    x2[rng.random(n) < 0.2] = np.nan  # a fifth missing: their own bin
    return np.column_stack([x1, x2, noise, sector]), y


@pytest.fixture(scope="module")
def fitted() -> tuple[WoeScorecard, np.ndarray, np.ndarray]:
    X, y = _data()
    return WoeScorecard(SPEC).fit(X, y), X, y


def test_bins_as_plain_arrays_equal_optbinning_transform() -> None:
    X, y = _data()
    for j, trend in ((0, "ascending"), (1, "descending")):
        bins = fit_bins("x", X[:, j], y, direction=1 if j == 0 else -1, categorical=False)
        reference = OptimalBinning(name="x", monotonic_trend=trend, max_n_bins=8,
                                   min_bin_size=0.02, solver="cp", time_limit=10).fit(X[:, j], y)
        expected = reference.transform(X[:, j], metric="woe", metric_missing="empirical")
        np.testing.assert_allclose(bins.transform(X[:, j]), expected, atol=1e-12)


def test_pd_moves_with_each_declared_direction_and_never_against_it(fitted) -> None:  # type: ignore[no-untyped-def]
    model, X, _ = fitted
    grid = np.linspace(-3, 3, 61)
    base = np.tile(X[:1], (len(grid), 1))
    base[:, 1] = 0.0
    rising = base.copy()
    rising[:, 0] = grid
    p_up = model.predict_proba(rising)
    assert np.all(np.diff(p_up) >= -1e-12), "riskier_when_high must never lower the PD"
    assert p_up[-1] > p_up[0]
    falling = base.copy()
    falling[:, 1] = grid
    p_down = model.predict_proba(falling)
    assert np.all(np.diff(p_down) <= 1e-12), "safer_when_high must never raise the PD"
    assert p_down[-1] < p_down[0]


def test_missing_value_gets_its_own_bin_and_unseen_category_is_missing(fitted) -> None:  # type: ignore[no-untyped-def]
    model, X, y = fitted
    safer_bins = model.bins[1]
    missing_rate = y[np.isnan(X[:, 1])].mean()
    assert safer_bins.missing_woe != 0.0
    assert np.log((1 - missing_rate) / missing_rate) - np.log((1 - y.mean()) / y.mean()) == (
        pytest.approx(safer_bins.missing_woe, abs=1e-6)
    )
    sector = model.bins[3]
    assert sector.transform(np.array([np.nan]))[0] == sector.transform(np.array([99.0]))[0]


def test_contributions_are_exact_log_odds_per_feature(fitted) -> None:  # type: ignore[no-untyped-def]
    model, X, _ = fitted
    contributions = model.contributions(X[:200])
    p = model.predict_uncalibrated(X[:200])
    np.testing.assert_allclose(contributions.sum(axis=1), np.log(p / (1 - p)), atol=1e-9)
    assert contributions.shape == (200, len(SPEC.names) + 1)
    unused = [j for j in range(len(SPEC.names)) if j not in model.selected]
    assert np.all(contributions[:, unused] == 0.0)


def test_every_coefficient_keeps_the_safer_is_higher_woe_sign(fitted) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = fitted
    assert model.coef
    assert all(c <= 0 for c in model.coef)
    assert {0, 1} <= set(model.selected)
    assert model.importance_gain()["riskier_when_high"] > 0


def test_a_feature_missing_in_every_training_row_has_no_bins_and_no_weight() -> None:
    """A ledger without the optional data behind a feature (every value missing) still
    fits a scorecard: the feature gets WoE 0 and IV 0 instead of optbinning's zero-sample
    error."""
    x = np.full(50, np.nan)
    y = np.array([0, 1] * 25, dtype=np.int8)
    for categorical in (False, True):
        bins = fit_bins("customer_rating", x, y, direction=1, categorical=categorical)
        assert bins.iv == 0.0
        assert np.all(bins.transform(np.array([np.nan, 3.0])) == 0.0)
