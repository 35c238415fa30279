"""Estimators: seeded and reproducible, monotone constraints respected, contributions add up
to the raw score, calibration keeps the ranking."""

from __future__ import annotations

import numpy as np

from creditrisk.models.calibration import fit_calibrator
from creditrisk.models.estimators import BoostedClassifier, QuantileRegressors
from creditrisk.models.scorecard import WoeScorecard
from creditrisk.models.spec import FeatureSpec

SPEC = FeatureSpec.from_features(
    ["late_share", "tenure", "noise", "sector"],
    ["Late share", "Tenure", "Noise", "Sector"],
    [1, -1, 0, 0],
    ["sector"],
)


def _data(seed: int = 0, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [rng.random(n), rng.random(n) * 10, rng.normal(size=n), rng.integers(0, 4, n)]
    ).astype(float)
    X[rng.random(n) < 0.1, 0] = np.nan
    logit = -2 + 3 * np.nan_to_num(X[:, 0], nan=0.5) - 0.2 * X[:, 1] + 0.3 * (X[:, 3] == 2)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return X, y


def test_same_data_and_seed_give_identical_predictions() -> None:
    X, y = _data()
    a = BoostedClassifier(SPEC, num_boost_round=80, seed=3).fit(X, y)
    b = BoostedClassifier(SPEC, num_boost_round=80, seed=3).fit(X, y)
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))


def test_monotone_constraint_holds_for_every_row() -> None:
    X, y = _data()
    model = BoostedClassifier(SPEC, num_boost_round=80).fit(X, y)
    low, high = X.copy(), X.copy()
    low[:, 0], high[:, 0] = 0.1, 0.9  # more late payments must never lower the risk
    assert np.all(model.predict_proba(high) >= model.predict_proba(low) - 1e-12)
    short, long = X.copy(), X.copy()
    short[:, 1], long[:, 1] = 1.0, 9.0  # longer tenure must never raise it
    assert np.all(model.predict_proba(long) <= model.predict_proba(short) + 1e-12)


def test_contributions_sum_to_the_raw_log_odds() -> None:
    X, y = _data()
    for model in (BoostedClassifier(SPEC, num_boost_round=50).fit(X, y),
                  WoeScorecard(SPEC).fit(X, y)):
        contrib = model.contributions(X[:50])
        assert contrib.shape == (50, len(SPEC.names) + 1)
        raw = 1 / (1 + np.exp(-contrib.sum(axis=1)))
        np.testing.assert_allclose(raw, model.predict_uncalibrated(X[:50]), rtol=1e-9)


def test_platt_calibration_keeps_the_ranking_and_fixes_the_level() -> None:
    rng = np.random.default_rng(1)
    p_true = rng.uniform(0.01, 0.2, 20_000)
    y = (rng.random(len(p_true)) < p_true).astype(int)
    raw = np.clip(p_true * 3, 0, 0.99)  # over-predicts three times
    cal = fit_calibrator(raw, y, "platt")
    out = cal.apply(raw)
    assert np.array_equal(np.argsort(out, kind="stable"), np.argsort(raw, kind="stable"))
    assert abs(out.mean() - y.mean()) < 0.005


def test_quantiles_are_ordered_and_cover_most_outcomes() -> None:
    X, _ = _data()
    rng = np.random.default_rng(2)
    days = 10 * np.nan_to_num(X[:, 0], nan=0.5) + rng.normal(0, 3, len(X))
    q = QuantileRegressors(SPEC, num_boost_round=100).fit(X, days).predict(X)
    assert np.all(np.diff(q, axis=1) >= 0)
    coverage = np.mean((days >= q[:, 0]) & (days <= q[:, 2]))
    assert 0.7 < coverage < 0.9
