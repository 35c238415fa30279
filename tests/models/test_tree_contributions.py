"""The batch top factors (models/tree_contributions.py) are LightGBM's: the leaf tables give
``pred_contrib``'s values (to 1e-12) and ``pred_leaf``'s leaves on boosters with missing
values, zero-as-missing, categorical splits and deep trees; the ranked factors equal
``rank_contributions(pred_contrib)`` on every row; rows whose ranking is not settled by the
tables (near ties, a factor near zero, a leaf read differently) are answered by LightGBM."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from creditrisk.models.reasons import rank_contributions
from creditrisk.models.tree_contributions import (
    RANK_TOLERANCE,
    TreeContributions,
    _unsettled,
    batch_top_factors,
    top_factor_indices,
)

N_FEATURES = 8


def sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features with NaNs, exact zeros, an integer category column (0..5, some NaN and
    negative) and a label that depends on them."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, N_FEATURES))
    X[rng.random((n, N_FEATURES)) < 0.1] = np.nan
    X[rng.random((n, N_FEATURES)) < 0.1] = 0.0
    X[:, 0] = rng.integers(-1, 6, size=n).astype(np.float64)
    X[rng.random(n) < 0.05, 0] = np.nan
    X[:, 7] = 0.0  # never split on: its contribution is exactly 0
    signal = np.nan_to_num(X[:, 1]) - np.nan_to_num(X[:, 2]) * 0.5 + (X[:, 0] == 3) * 1.5
    y = (signal + rng.normal(size=n) > 0).astype(np.int64)
    return X, y


def booster(params: dict[str, Any], seed: int = 1) -> lgb.Booster:
    X, y = sample(3000, seed)
    data = lgb.Dataset(X, label=y, categorical_feature=[0], free_raw_data=False)
    base = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": seed,
            "min_data_per_group": 5, "cat_smooth": 1.0}
    return lgb.train({**base, **params}, data, num_boost_round=25)


BOOSTERS = {
    "nan-missing": {"num_leaves": 15},
    "zero-as-missing": {"num_leaves": 15, "zero_as_missing": True},
    "no-missing": {"num_leaves": 7, "use_missing": False},
    "deep": {"num_leaves": 31, "min_data_in_leaf": 5},
}


@pytest.mark.parametrize("name", sorted(BOOSTERS))
def test_leaf_tables_give_lightgbms_contributions_and_leaves(name: str) -> None:
    model = booster(BOOSTERS[name])
    X, _ = sample(2000, 99)
    tables = TreeContributions(model)
    leaves, approx = tables.leaves_and_contributions(X)
    exact = np.asarray(model.predict(X, pred_contrib=True))
    np.testing.assert_array_equal(leaves, model.predict(X, pred_leaf=True))
    np.testing.assert_allclose(approx, exact[:, :-1], rtol=0, atol=1e-12)
    assert np.all(approx[:, 7] == 0.0)


class Classifier:
    """A BoostedClassifier's face: ``booster`` and ``contributions``; counts LightGBM rows."""

    def __init__(self, model: lgb.Booster) -> None:
        self.booster = model
        self.exact_rows = 0

    def contributions(self, X: np.ndarray) -> np.ndarray:
        self.exact_rows += len(X)
        return np.asarray(self.booster.predict(X, pred_contrib=True))


@pytest.mark.parametrize("name", sorted(BOOSTERS))
def test_batch_top_factors_are_lightgbms_ranking_on_every_row(name: str) -> None:
    model = Classifier(booster(BOOSTERS[name]))
    X, _ = sample(2000, 7)
    order, is_reason = batch_top_factors(model, X, top_n=4)
    model.exact_rows = 0
    expected_order, expected_reason = rank_contributions(model.contributions(X), top_n=4)
    np.testing.assert_array_equal(is_reason, expected_reason)
    np.testing.assert_array_equal(np.where(is_reason, order, -1),
                                  np.where(expected_reason, expected_order, -1))


def test_rows_whose_leaves_are_read_differently_are_answered_by_lightgbm() -> None:
    """Negative control: tables with one threshold moved disagree with LightGBM on some
    rows; those rows are recomputed, so the answer is still LightGBM's ranking."""
    model = Classifier(booster(BOOSTERS["nan-missing"]))
    X, _ = sample(2000, 11)
    tables = TreeContributions(model.booster)
    first = tables.trees[0]
    root = first.splits[0]
    moved = replace(root, threshold=root.threshold + 0.5)
    tables.trees[0] = replace(first, splits=[moved, *first.splits[1:]])
    leaves, _ = tables.leaves_and_contributions(X)
    differs = (leaves != model.booster.predict(X, pred_leaf=True)).any(axis=1)
    assert differs.any()
    order, is_reason = top_factor_indices(tables, X, top_n=3, exact=model.contributions)
    assert model.exact_rows >= int(differs.sum())
    expected_order, expected_reason = rank_contributions(
        np.asarray(model.booster.predict(X, pred_contrib=True)), top_n=3)
    np.testing.assert_array_equal(np.where(is_reason, order, -1),
                                  np.where(expected_reason, expected_order, -1))


def test_near_ties_and_factors_near_zero_are_unsettled_clear_rankings_are_not() -> None:
    tol = RANK_TOLERANCE
    approx = np.array([
        [0.5, 0.3, -0.2, 0.1, 0.0],           # clear
        [0.5, 0.5 + tol / 2, 0.1, -0.1, 0.0],  # near tie among the top
        [0.5, 0.2, 0.2 - tol, 0.05, 0.0],      # 3rd and 4th within the tolerance
        [0.5, -0.3, tol / 10, -0.1, 0.0],      # a used factor that may be +, 0 or -
        [0.5, 0.4, 0.3, tol / 10, 0.0],        # same, but three positives lead: settled
    ])
    unused = np.array([False, False, False, False, True])
    order, _ = rank_contributions(np.hstack([approx, np.zeros((5, 1))]), top_n=3)
    redo = _unsettled(approx, order, unused, 3)
    assert redo.tolist() == [False, True, True, True, False]


def test_a_model_without_a_booster_ranks_its_own_contributions() -> None:
    class Scorecard:
        def contributions(self, X: np.ndarray) -> np.ndarray:
            return np.hstack([X, np.zeros((len(X), 1))])

    X = np.array([[0.1, -0.4, 0.3], [0.0, 0.0, -0.2]])
    order, is_reason = batch_top_factors(Scorecard(), X, top_n=2)
    assert order[0].tolist() == [2, 0]
    assert is_reason[1].tolist() == [True, False]
